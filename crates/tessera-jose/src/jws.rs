//! JWS compact serialization (RFC 7515 §3.1, §5.2): split, decode, verify.

use std::borrow::Cow;
use std::mem::MaybeUninit;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::algorithm::Algorithm;
use crate::base64url;
use crate::error::{Error, Part};
use crate::header::{FORBIDDEN, Header, HeaderFields};
use crate::header_cache::HeaderCache;
use crate::json;
use crate::key_set::KeySet;

/// The default limit on a token's size: 16 KiB.
pub const DEFAULT_MAX_TOKEN_SIZE: usize = 16 * 1024;
/// Without a `kid`, at most this many compatible keys are tried.
pub const DEFAULT_MAX_KEY_ATTEMPTS: usize = 3;

/// Room on the stack for a decoded header; a longer one is decoded on the heap.
const HEADER_STACK: usize = 512;
/// Room on the stack for a decoded signature: up to RSA-4096 (512 bytes); RSA-8192
/// signatures go on the heap.
const SIGNATURE_STACK: usize = 512;
/// Room on the stack for a decoded payload, as [`crate::Validator`] decodes it: an access
/// token's claims are a few hundred bytes.
pub(crate) const PAYLOAD_STACK: usize = 1024;

/// The three segments of a compact JWS, still encoded.
struct Segments<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
    /// `header.payload`, the bytes the signature covers (RFC 7515 §5.1 step 8).
    signing_input: &'a str,
}

fn split(token: &str) -> Result<Segments<'_>, Error> {
    if token.is_empty() {
        return Err(Error::Malformed("empty token"));
    }
    if token.starts_with('{') {
        return Err(Error::Malformed("JSON serialization is not accepted, only compact"));
    }
    // memchr scans for the dots a word or a vector at a time; the third search proves there
    // is no fourth part.
    let bytes = token.as_bytes();
    let dots = memchr::memchr(b'.', bytes).and_then(|first| {
        let second = first + 1 + memchr::memchr(b'.', bytes.get(first + 1..)?)?;
        memchr::memchr(b'.', bytes.get(second + 1..)?).is_none().then_some((first, second))
    });
    let parts = dots.and_then(|(first, second)| {
        Some((token.get(..first)?, token.get(first + 1..second)?, token.get(second + 1..)?))
    });
    let Some((header, payload, signature)) = parts else {
        return Err(match memchr::memchr_iter(b'.', bytes).count() {
            4 => Error::Malformed("encrypted tokens (JWE) are not accepted"),
            _ => Error::Malformed("a compact JWS has exactly three dot-separated parts"),
        });
    };
    if header.is_empty() {
        return Err(Error::Malformed("the header is empty"));
    }
    let signing_input = &token[..header.len() + 1 + payload.len()];
    Ok(Segments { header, payload, signature, signing_input })
}

fn decode(segment: &str, part: Part) -> Result<Vec<u8>, Error> {
    base64url::decode(segment).ok_or(Error::InvalidBase64(part))
}

/// A JWS whose signature has been verified.
#[derive(Debug, Clone)]
pub struct VerifiedJws {
    /// The checked header.
    pub header: Header,
    /// The payload bytes.
    pub payload: Vec<u8>,
    /// The `kid` of the key that verified it.
    pub key_id: Option<String>,
}

/// A token whose signature verified, with its parts borrowed where that saves a copy.
pub(crate) struct Checked<'v, 'b> {
    pub(crate) header: Cow<'v, Header>,
    pub(crate) payload: &'b [u8],
    pub(crate) key_id: Option<&'v str>,
}

/// Verifies compact JWS against an algorithm allowlist and a key set. It checks the
/// header and the signature only; [`crate::Validator`] adds the JWT rules.
///
/// It keeps a few checked headers of tokens that verified (see `header_cache.rs`), keyed by
/// the exact header segment, so that the tokens of one issuer skip decoding and re-checking
/// the same header; signatures are always checked. Clones share that cache (it depends only
/// on the allowlist and the depth limit, which clones share); [`Self::with_keys`] and
/// [`Self::with_max_depth`] start a new one.
#[derive(Debug, Clone)]
pub struct JwsVerifier {
    algorithms: Vec<Algorithm>,
    keys: KeySet,
    max_token_size: usize,
    max_depth: usize,
    max_key_attempts: usize,
    headers: Arc<HeaderCache>,
}

impl JwsVerifier {
    /// A verifier that accepts exactly `algorithms` (at least one) with `keys`.
    pub fn new(algorithms: impl IntoIterator<Item = Algorithm>, keys: KeySet) -> Result<JwsVerifier, Error> {
        let mut algorithms: Vec<Algorithm> = algorithms.into_iter().collect();
        algorithms.sort();
        algorithms.dedup();
        if algorithms.is_empty() {
            return Err(Error::Config("the algorithm allowlist is empty"));
        }
        Ok(JwsVerifier {
            algorithms,
            keys,
            max_token_size: DEFAULT_MAX_TOKEN_SIZE,
            max_depth: json::DEFAULT_MAX_DEPTH,
            max_key_attempts: DEFAULT_MAX_KEY_ATTEMPTS,
            headers: Arc::default(),
        })
    }

    /// Sets the largest token accepted, in bytes.
    pub fn with_max_token_size(mut self, bytes: usize) -> JwsVerifier {
        self.max_token_size = bytes;
        self
    }

    /// Sets the deepest JSON nesting accepted in header and payload.
    pub fn with_max_depth(mut self, depth: usize) -> JwsVerifier {
        self.max_depth = depth;
        // The cached headers passed the old limit, not necessarily this one.
        self.headers = Arc::default();
        self
    }

    /// Sets how many compatible keys are tried for a token without `kid` (at least one).
    pub fn with_max_key_attempts(mut self, attempts: usize) -> JwsVerifier {
        self.max_key_attempts = attempts.max(1);
        self
    }

    /// The same policy with another key set (after a JWKS refresh, say).
    pub fn with_keys(&self, keys: KeySet) -> JwsVerifier {
        // A new key set brings new headers (`kid`s), and lets retired ones drop out.
        JwsVerifier { keys, headers: Arc::default(), ..self.clone() }
    }

    /// The key set.
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// The allowed algorithms.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.algorithms
    }

    pub(crate) fn max_depth(&self) -> usize {
        self.max_depth
    }

    /// Verifies a compact JWS: size, structure, canonical base64url, a strict header,
    /// the allowlist, then the signature with a key the set allows.
    pub fn verify(&self, token: &str) -> Result<VerifiedJws, Error> {
        let (mut stack, mut heap) = (base64url::stack::<0>(), Vec::new());
        let checked = self.check(token, &mut stack, &mut heap)?;
        let (header, key_id) = (checked.header.into_owned(), checked.key_id.map(str::to_owned));
        // The payload was decoded into `heap` (the stack has no room), so it is moved out.
        Ok(VerifiedJws { header, payload: heap, key_id })
    }

    /// [`Self::verify`], with the payload decoded into `stack` when it fits there (else into
    /// `heap`), and the header and key id borrowed: the validator copies only what it returns.
    pub(crate) fn check<'v, 'b>(
        &'v self,
        token: &str,
        stack: &'b mut [MaybeUninit<u8>],
        heap: &'b mut Vec<u8>,
    ) -> Result<Checked<'v, 'b>, Error> {
        if token.len() > self.max_token_size {
            return Err(Error::TokenTooLarge { size: token.len(), limit: self.max_token_size });
        }
        let segments = split(token)?;
        let (header, cached) = match self.headers.get(segments.header) {
            Some(header) => (Cow::Borrowed(header), true),
            None => (Cow::Owned(self.check_header(segments.header)?), false),
        };
        // Checked after the header, so that an unsigned `alg: none` token is named as such.
        if segments.signature.is_empty() {
            return Err(Error::Malformed("the signature is empty"));
        }
        let payload =
            base64url::decode_with(segments.payload, stack, heap).ok_or(Error::InvalidBase64(Part::Payload))?;
        let (mut stack, mut heap) = (base64url::stack::<SIGNATURE_STACK>(), Vec::new());
        let signature = base64url::decode_with(segments.signature, &mut stack, &mut heap)
            .ok_or(Error::InvalidBase64(Part::Signature))?;
        let key = self.keys.verify(
            header.kid.as_deref(),
            header.alg,
            segments.signing_input.as_bytes(),
            signature,
            self.max_key_attempts,
        )?;
        if !cached {
            self.headers.insert(segments.header, &header);
        }
        Ok(Checked { header, payload, key_id: key.kid() })
    }

    /// Decodes and checks a header segment: strict JSON, the header rules, the allowlist.
    fn check_header(&self, segment: &str) -> Result<Header, Error> {
        // Headers are short: decoded on the stack and scanned in place, only the checked
        // parameters are copied out.
        let (mut stack, mut heap) = (base64url::stack::<HEADER_STACK>(), Vec::new());
        let header_json =
            base64url::decode_with(segment, &mut stack, &mut heap).ok_or(Error::InvalidBase64(Part::Header))?;
        let (fields, _) = json::scan_object(header_json, Part::Header, self.max_depth, HeaderFields::default)?;
        let header = Header::check(&fields)?;
        if !self.algorithms.contains(&header.alg) {
            return Err(Error::AlgorithmNotAllowed(header.alg));
        }
        Ok(header)
    }
}

/// A token taken apart WITHOUT any verification, for display (`tessera token decode`).
#[derive(Debug, Clone)]
pub struct Unverified {
    /// The header members.
    pub header: Map<String, Value>,
    /// The payload bytes.
    pub payload: Vec<u8>,
    /// The signature length in bytes.
    pub signature_len: usize,
}

impl Unverified {
    /// Header parameters that a careless verifier could be tricked by: `alg: none`,
    /// key-carrying headers, `crit`, `b64`.
    pub fn risky_headers(&self) -> Vec<String> {
        let mut risky = Vec::new();
        if let Some(alg) = self.header.get("alg").and_then(Value::as_str)
            && alg.eq_ignore_ascii_case("none")
        {
            risky.push(format!("alg {alg:?}: an unsigned token"));
        }
        for name in FORBIDDEN {
            if self.header.contains_key(name) {
                risky.push(format!("{name}: a key chosen by the sender"));
            }
        }
        for (name, note) in [("crit", "extensions the verifier must understand"), ("b64", "an unencoded payload")] {
            if self.header.contains_key(name) {
                risky.push(format!("{name}: {note}"));
            }
        }
        risky
    }
}

/// Splits and decodes a compact JWS without checking the signature or the header's
/// meaning. Structure, base64url and JSON are still strict.
pub fn decode_unverified(token: &str) -> Result<Unverified, Error> {
    let segments = split(token.trim())?;
    let header = json::parse_object(&decode(segments.header, Part::Header)?, Part::Header, json::DEFAULT_MAX_DEPTH)?;
    Ok(Unverified {
        header,
        payload: decode(segments.payload, Part::Payload)?,
        signature_len: decode(segments.signature, Part::Signature)?.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing_key::SigningKey;

    fn cached(verifier: &JwsVerifier) -> String {
        format!("{:?}", verifier.headers)
    }

    #[test]
    fn the_header_cache_never_skips_the_signature() {
        let key = SigningKey::generate(Algorithm::HS256).unwrap();
        let keys = KeySet::new(vec![key.verifying_key().clone()]).unwrap();
        let verifier = JwsVerifier::new([Algorithm::HS256], keys.clone()).unwrap();
        let token = key.sign_jwt(Some("at+jwt"), &serde_json::json!({"sub": "a"})).unwrap();

        // A forged signature under a header never seen: refused, and nothing is cached.
        let forged = format!("{}AAAA", &token[..token.len() - 4]);
        assert_eq!(verifier.verify(&forged).unwrap_err(), Error::InvalidSignature);
        assert_eq!(cached(&verifier), "HeaderCache(0/8)");

        let first = verifier.verify(&token).unwrap();
        assert_eq!(cached(&verifier), "HeaderCache(1/8)");
        // The same header again: taken from the cache, with the same result.
        let second = verifier.verify(&token).unwrap();
        assert_eq!((first.header, first.payload, first.key_id), (second.header, second.payload, second.key_id));
        // The cached header does not vouch for the signature.
        assert_eq!(verifier.verify(&forged).unwrap_err(), Error::InvalidSignature);
        let (head, rest) = token.split_once('.').unwrap();
        let other_payload = format!("{head}.{}.{}", base64url::encode(b"{}"), rest.split_once('.').unwrap().1);
        assert_eq!(verifier.verify(&other_payload).unwrap_err(), Error::InvalidSignature);

        // Clones share it; a new key set or depth limit starts afresh.
        assert_eq!(cached(&verifier.clone()), "HeaderCache(1/8)");
        assert_eq!(cached(&verifier.with_keys(keys)), "HeaderCache(0/8)");
        let shallow = verifier.clone().with_max_depth(0);
        assert_eq!(cached(&shallow), "HeaderCache(0/8)");
        assert_eq!(shallow.verify(&token).unwrap_err(), Error::NestingTooDeep(Part::Header));
    }
}
