//! JWS compact serialization (RFC 7515 §3.1, §5.2): split, decode, verify.

use serde_json::{Map, Value};

use crate::algorithm::Algorithm;
use crate::base64url;
use crate::error::{Error, Part};
use crate::header::{FORBIDDEN, Header, HeaderFields};
use crate::json;
use crate::key_set::KeySet;

/// The default limit on a token's size: 16 KiB.
pub const DEFAULT_MAX_TOKEN_SIZE: usize = 16 * 1024;
/// Without a `kid`, at most this many compatible keys are tried.
pub const DEFAULT_MAX_KEY_ATTEMPTS: usize = 3;

/// Room on the stack for a decoded header; a longer one is decoded on the heap.
const HEADER_STACK: usize = 512;
/// Room on the stack for a decoded signature: up to RSA-4096 (512 bytes, whose encoding's
/// conservative bound is 513); RSA-8192 signatures go on the heap.
const SIGNATURE_STACK: usize = 516;

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
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(match token.split('.').count() {
            5 => Error::Malformed("encrypted tokens (JWE) are not accepted"),
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

/// Verifies compact JWS against an algorithm allowlist and a key set. It checks the
/// header and the signature only; [`crate::Validator`] adds the JWT rules.
#[derive(Debug, Clone)]
pub struct JwsVerifier {
    algorithms: Vec<Algorithm>,
    keys: KeySet,
    max_token_size: usize,
    max_depth: usize,
    max_key_attempts: usize,
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
        self
    }

    /// Sets how many compatible keys are tried for a token without `kid` (at least one).
    pub fn with_max_key_attempts(mut self, attempts: usize) -> JwsVerifier {
        self.max_key_attempts = attempts.max(1);
        self
    }

    /// The same policy with another key set (after a JWKS refresh, say).
    pub fn with_keys(&self, keys: KeySet) -> JwsVerifier {
        JwsVerifier { keys, ..self.clone() }
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
        if token.len() > self.max_token_size {
            return Err(Error::TokenTooLarge { size: token.len(), limit: self.max_token_size });
        }
        let segments = split(token)?;
        // Headers are short: decoded on the stack and scanned in place, only the checked
        // parameters are copied out.
        let (mut stack, mut heap) = ([0u8; HEADER_STACK], Vec::new());
        let header_json =
            base64url::decode_with(segments.header, &mut stack, &mut heap).ok_or(Error::InvalidBase64(Part::Header))?;
        let (fields, _) = json::scan_object(header_json, Part::Header, self.max_depth, HeaderFields::default)?;
        let header = Header::check(&fields)?;
        if !self.algorithms.contains(&header.alg) {
            return Err(Error::AlgorithmNotAllowed(header.alg));
        }
        // Checked after the header, so that an unsigned `alg: none` token is named as such.
        if segments.signature.is_empty() {
            return Err(Error::Malformed("the signature is empty"));
        }
        let payload = decode(segments.payload, Part::Payload)?;
        let (mut stack, mut heap) = ([0u8; SIGNATURE_STACK], Vec::new());
        let signature = base64url::decode_with(segments.signature, &mut stack, &mut heap)
            .ok_or(Error::InvalidBase64(Part::Signature))?;
        let key = self.keys.verify(
            header.kid.as_deref(),
            header.alg,
            segments.signing_input.as_bytes(),
            signature,
            self.max_key_attempts,
        )?;
        let key_id = key.kid().map(str::to_owned);
        Ok(VerifiedJws { header, payload, key_id })
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
