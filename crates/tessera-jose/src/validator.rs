//! The JWT validator: built once from explicit decisions, then used for every token.
//!
//! Unlike validators with public switches (`validate_exp = false`), every relaxation here
//! is a named builder call, and `build` refuses to guess a decision it was not given:
//! the algorithms, the token type, the issuer and the audience.

use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::algorithm::Algorithm;
use crate::base64url;
use crate::claims::{self, ClaimFields};
use crate::claims_pass;
use crate::error::{Error, Part};
use crate::header::Header;
use crate::json;
use crate::jws::{JwsVerifier, PAYLOAD_STACK};
use crate::key_set::KeySet;

/// The default clock skew allowed on `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);

/// Which `typ` header a token must carry (RFC 8725 §3.11).
#[derive(Debug, Clone, PartialEq, Eq)]
enum TypRule {
    /// Exactly this media type, required.
    Exact(String),
    /// `JWT`, or no `typ` at all (plain JWTs such as OpenID Connect ID tokens).
    JwtOrAbsent,
    /// No check: explicitly chosen.
    Any,
}

/// A validated token: its header and its claims, of the caller's type.
#[derive(Debug, Clone)]
pub struct Validated<T> {
    /// The checked header.
    pub header: Header,
    /// The claims.
    pub claims: T,
    /// The `kid` of the key that verified the signature.
    pub key_id: Option<String>,
}

/// Validates JWTs: signature (through [`JwsVerifier`]), `typ`, then the registered claims.
///
/// Clones share the [`JwsVerifier`]'s cache of checked headers; [`Self::with_keys`] starts
/// a new one.
#[derive(Debug, Clone)]
pub struct Validator {
    jws: JwsVerifier,
    typ: TypRule,
    issuers: Option<Vec<String>>,
    audiences: Option<Vec<String>>,
    leeway: i64,
    require_exp: bool,
    max_age: Option<i64>,
    required_claims: Vec<String>,
}

/// Builds a [`Validator`]; see [`Validator::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ValidatorBuilder {
    keys: KeySet,
    algorithms: Vec<Algorithm>,
    typ: Option<TypRule>,
    issuers: Option<Vec<String>>,
    audiences: Option<Vec<String>>,
    leeway: Duration,
    require_exp: bool,
    max_age: Option<Duration>,
    required_claims: Vec<String>,
    max_token_size: Option<usize>,
    max_depth: Option<usize>,
    max_key_attempts: Option<usize>,
}

impl Validator {
    /// Starts a validator over `keys`. Before `build`, name the algorithms, the token type
    /// (`typ`, `typ_jwt_or_absent` or `accept_any_typ`), the issuers (`issuer` or
    /// `accept_any_issuer`) and the audiences (`audience` or `accept_any_audience`).
    pub fn builder(keys: KeySet) -> ValidatorBuilder {
        ValidatorBuilder {
            keys,
            algorithms: Vec::new(),
            typ: None,
            issuers: None,
            audiences: None,
            leeway: DEFAULT_LEEWAY,
            require_exp: true,
            max_age: None,
            required_claims: Vec::new(),
            max_token_size: None,
            max_depth: None,
            max_key_attempts: None,
        }
    }

    /// The same rules with another key set (after a JWKS refresh, say).
    pub fn with_keys(&self, keys: KeySet) -> Validator {
        Validator { jws: self.jws.with_keys(keys), ..self.clone() }
    }

    /// The signature layer.
    pub fn jws(&self) -> &JwsVerifier {
        &self.jws
    }

    /// Validates `token` at `now` (seconds since the epoch) and returns its claims as `T`.
    pub fn validate<T: DeserializeOwned>(&self, token: &str, now: i64) -> Result<Validated<T>, Error> {
        // The payload is decoded on the stack when it fits: claims are copied into `T` anyway.
        let (mut stack, mut heap) = (base64url::stack::<PAYLOAD_STACK>(), Vec::new());
        let verified = self.jws.check(token, &mut stack, &mut heap)?;
        self.check_typ(&verified.header)?;
        // Usually one pass: `T` is built while the strict rules are checked and the
        // registered claims captured. Whatever that pass does not vouch for (any error
        // included) goes through the two passes below, which decide every rejection.
        let mut fields = ClaimFields::new(&self.required_claims);
        if let Some(claims) = claims_pass::deserialize::<T, _>(verified.payload, self.jws.max_depth(), &mut fields) {
            self.check_claims(&fields, now)?;
            return Ok(Validated {
                header: verified.header.into_owned(),
                claims,
                key_id: verified.key_id.map(str::to_owned),
            });
        }
        // One strict pass that keeps only the registered claims (borrowed), then one pass
        // straight into `T`: no intermediate `Map` of every claim.
        let (fields, text) = json::scan_object(verified.payload, Part::Payload, self.jws.max_depth(), || {
            ClaimFields::new(&self.required_claims)
        })?;
        self.check_claims(&fields, now)?;
        let claims = serde_json::from_str(text).map_err(|e| Error::ClaimsShape(e.to_string()))?;
        Ok(Validated { header: verified.header.into_owned(), claims, key_id: verified.key_id.map(str::to_owned) })
    }

    fn check_typ(&self, header: &Header) -> Result<(), Error> {
        let ok = match &self.typ {
            TypRule::Exact(expected) => header.typ_is(expected),
            TypRule::JwtOrAbsent => header.typ.is_none() || header.typ_is("JWT"),
            TypRule::Any => true,
        };
        if ok {
            return Ok(());
        }
        let expected = match &self.typ {
            TypRule::Exact(expected) => expected.clone(),
            _ => "JWT".into(),
        };
        Err(Error::WrongType { expected, found: header.typ.as_ref().map(|t| t.chars().take(64).collect()) })
    }

    /// RFC 7519 §4.1, in the RFC's order.
    fn check_claims(&self, claims: &ClaimFields<'_, '_>, now: i64) -> Result<(), Error> {
        // §4.1.1 iss
        let iss = claims::string_claim(claims.iss.as_ref(), "iss")?;
        if let Some(issuers) = &self.issuers {
            let iss = iss.ok_or_else(|| Error::MissingClaim("iss".into()))?;
            if !issuers.iter().any(|allowed| allowed == iss) {
                return Err(Error::InvalidIssuer);
            }
        }
        // §4.1.2 sub
        claims::string_claim(claims.sub.as_ref(), "sub")?;
        // §4.1.3 aud
        let aud = claims::audiences(claims.aud.as_ref())?;
        if let Some(accepted) = &self.audiences {
            let aud = aud.ok_or_else(|| Error::MissingClaim("aud".into()))?;
            if !aud.any_in(accepted) {
                return Err(Error::InvalidAudience);
            }
        }
        // §4.1.4 exp: expired once now >= exp, allowing the leeway.
        match claims::numeric_date(claims.exp.as_ref(), "exp")? {
            Some(exp) if now >= exp.saturating_add(self.leeway) => return Err(Error::Expired),
            None if self.require_exp => return Err(Error::MissingClaim("exp".into())),
            _ => {}
        }
        // §4.1.5 nbf
        if let Some(nbf) = claims::numeric_date(claims.nbf.as_ref(), "nbf")?
            && now.saturating_add(self.leeway) < nbf
        {
            return Err(Error::NotYetValid);
        }
        // §4.1.6 iat
        match claims::numeric_date(claims.iat.as_ref(), "iat")? {
            Some(iat) if iat > now.saturating_add(self.leeway) => return Err(Error::IssuedInFuture),
            Some(iat) if self.max_age.is_some_and(|age| now > iat.saturating_add(age).saturating_add(self.leeway)) => {
                return Err(Error::TooOld);
            }
            None if self.max_age.is_some() => return Err(Error::MissingClaim("iat".into())),
            _ => {}
        }
        // §4.1.7 jti
        claims::string_claim(claims.jti.as_ref(), "jti")?;
        if let Some((name, _)) = self.required_claims.iter().zip(&claims.present).find(|(_, present)| !**present) {
            return Err(Error::MissingClaim(name.clone()));
        }
        Ok(())
    }
}

impl ValidatorBuilder {
    /// Allows these algorithms (adds to the list).
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms.extend(algorithms);
        self
    }

    /// Allows one algorithm (adds to the list).
    pub fn algorithm(self, algorithm: Algorithm) -> Self {
        self.algorithms([algorithm])
    }

    /// Requires `typ` to be this media type (for example `at+jwt`, RFC 9068).
    pub fn typ(mut self, typ: impl Into<String>) -> Self {
        self.typ = Some(TypRule::Exact(typ.into()));
        self
    }

    /// Accepts `typ: JWT` or no `typ`, as plain JWTs such as ID tokens carry.
    pub fn typ_jwt_or_absent(mut self) -> Self {
        self.typ = Some(TypRule::JwtOrAbsent);
        self
    }

    /// Does not check `typ` at all. Tokens of another kind (a refresh or MFA token signed
    /// by the same key) may then pass as this kind.
    pub fn accept_any_typ(mut self) -> Self {
        self.typ = Some(TypRule::Any);
        self
    }

    /// Accepts tokens from this issuer (adds to the list); `iss` becomes required.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuers.get_or_insert_with(Vec::new).push(issuer.into());
        self
    }

    /// Does not check `iss`.
    pub fn accept_any_issuer(mut self) -> Self {
        self.issuers = Some(Vec::new());
        self
    }

    /// Accepts tokens meant for this audience (adds to the list); `aud` becomes required.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.get_or_insert_with(Vec::new).push(audience.into());
        self
    }

    /// Does not check `aud`.
    pub fn accept_any_audience(mut self) -> Self {
        self.audiences = Some(Vec::new());
        self
    }

    /// The clock skew allowed on `exp`, `nbf` and `iat` (default 60 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Accepts tokens without `exp` (they still expire if they carry one).
    pub fn allow_missing_exp(mut self) -> Self {
        self.require_exp = false;
        self
    }

    /// Refuses tokens issued (`iat`) longer ago than `age`; `iat` becomes required.
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = Some(age);
        self
    }

    /// Requires a claim to be present and not null.
    pub fn require_claim(mut self, name: impl Into<String>) -> Self {
        self.required_claims.push(name.into());
        self
    }

    /// The largest token accepted, in bytes (default 16 KiB).
    pub fn max_token_size(mut self, bytes: usize) -> Self {
        self.max_token_size = Some(bytes);
        self
    }

    /// The deepest JSON nesting accepted (default 16).
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = Some(depth);
        self
    }

    /// How many compatible keys to try for a token without `kid` (default 3).
    pub fn max_key_attempts(mut self, attempts: usize) -> Self {
        self.max_key_attempts = Some(attempts);
        self
    }

    /// Builds the validator, or says which decision is missing.
    pub fn build(self) -> Result<Validator, Error> {
        let typ =
            self.typ.ok_or(Error::Config("choose the token type: typ(..), typ_jwt_or_absent() or accept_any_typ()"))?;
        let issuers = self.issuers.ok_or(Error::Config("choose the issuers: issuer(..) or accept_any_issuer()"))?;
        let audiences =
            self.audiences.ok_or(Error::Config("choose the audiences: audience(..) or accept_any_audience()"))?;
        let seconds = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        let mut jws = JwsVerifier::new(self.algorithms, self.keys)?;
        if let Some(size) = self.max_token_size {
            jws = jws.with_max_token_size(size);
        }
        if let Some(depth) = self.max_depth {
            jws = jws.with_max_depth(depth);
        }
        if let Some(attempts) = self.max_key_attempts {
            jws = jws.with_max_key_attempts(attempts);
        }
        Ok(Validator {
            jws,
            typ,
            issuers: Some(issuers).filter(|list| !list.is_empty()),
            audiences: Some(audiences).filter(|list| !list.is_empty()),
            leeway: seconds(self.leeway),
            require_exp: self.require_exp,
            max_age: self.max_age.map(seconds),
            required_claims: self.required_claims,
        })
    }
}
