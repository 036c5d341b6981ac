//! The life of signing keys over the [`SigningKeyStore`] port, and the [`KeyRing`]: the keys
//! a running server signs and verifies with, decrypted once and shared.
//!
//! At first start one key per algorithm is created active. Afterwards a rotation creates a
//! `next` key that is published in the JWKS for `prepublish` seconds before it may sign, so
//! every verifier's cache holds it first; activating it retires the old key, which stays
//! published until every token it signed has expired (SPEC §4).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde_json::json;
use tessera_jose::{Algorithm, Jwk, Jwks, KeySet, Validator, VerifyingKey};

use crate::access_token::{AccessTokenClaims, AccessTokenIssuer, IssuedAccessToken};
use crate::audit::{AuditEvent, AuditKind, AuditSink};
use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::master_key::MasterKey;
use crate::random::Random;
use crate::signing_key::{ActivateOutcome, KeyState, Kid, SigningKey, SigningKeyStore};

fn signing_error(error: tessera_jose::Error) -> CoreError {
    CoreError::Signing(error.to_string())
}

/// Generates a key for `alg`, seals it under the master key and stores it in `state`.
pub async fn create_signing_key(
    store: &dyn SigningKeyStore,
    master: &MasterKey,
    random: &dyn Random,
    alg: Algorithm,
    state: KeyState,
    not_before: Timestamp,
    now: Timestamp,
) -> Result<SigningKey, CoreError> {
    if alg.is_symmetric() {
        return Err(CoreError::InvalidRequest { field: "alg", reason: "server signing keys must be asymmetric" });
    }
    let key = tessera_jose::SigningKey::generate(alg).map_err(signing_error)?;
    let private = serde_json::to_vec(&key.to_private_jwk()).map_err(|e| CoreError::Signing(e.to_string()))?;
    let public = key.public_jwk().map_err(signing_error)?;
    let record = SigningKey {
        kid: Kid::new(key.kid()),
        alg: alg.name().to_owned(),
        private_key: master.seal(key.kid(), &private, random)?,
        public_jwk: serde_json::to_string(&public).map_err(|e| CoreError::Signing(e.to_string()))?,
        state,
        not_before,
        retire_after: None,
        created_at: now,
    };
    store.insert_signing_key(&record).await?;
    Ok(record)
}

/// Makes sure every algorithm in `algs` has an active key, creating one active at once where
/// there is none (first start, or an algorithm newly configured). Returns the kids created.
pub async fn ensure_signing_keys(
    store: &dyn SigningKeyStore,
    master: &MasterKey,
    random: &dyn Random,
    algs: &[Algorithm],
    now: Timestamp,
) -> Result<Vec<Kid>, CoreError> {
    let mut created = Vec::new();
    for alg in algs {
        if store.active_signing_key(alg.name()).await?.is_some() {
            continue;
        }
        match create_signing_key(store, master, random, *alg, KeyState::Active, now, now).await {
            Ok(key) => created.push(key.kid),
            // Another node (or process) created it first: one active key per alg is enough.
            Err(CoreError::Conflict { .. }) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(created)
}

/// Starts a rotation of `alg`: a `next` key, published now and signing from `now + prepublish`.
/// With `prepublish` 0 the key may be activated at once (caches may not know it yet).
pub async fn rotate_signing_key(
    store: &dyn SigningKeyStore,
    master: &MasterKey,
    random: &dyn Random,
    audit: &dyn AuditSink,
    alg: Algorithm,
    prepublish: i64,
    now: Timestamp,
) -> Result<SigningKey, CoreError> {
    let key = create_signing_key(store, master, random, alg, KeyState::Next, now.plus(prepublish), now).await?;
    audit.record(AuditEvent::new(AuditKind::SigningKeyRotated, now).details(
        json!({ "kid": key.kid.as_str(), "alg": alg.name(), "state": "next", "not_before": key.not_before.unix() }),
    ));
    Ok(key)
}

/// Activates every `next` key whose time has come; the key it replaces stays published for
/// `retention` seconds (the longest lifetime of a token it may have signed). Safe to run on
/// several nodes at once: the store lets only one activation of a key succeed.
pub async fn activate_due_keys(
    store: &dyn SigningKeyStore,
    audit: &dyn AuditSink,
    retention: i64,
    now: Timestamp,
) -> Result<Vec<Kid>, CoreError> {
    let mut activated = Vec::new();
    for key in store.signing_keys().await? {
        if key.state != KeyState::Next || key.not_before > now {
            continue;
        }
        if let ActivateOutcome::Activated { retired } =
            store.activate_signing_key(&key.kid, now.plus(retention), now).await?
        {
            audit.record(AuditEvent::new(AuditKind::SigningKeyRotated, now).details(json!({
                "kid": key.kid.as_str(), "alg": key.alg, "state": "active",
                "retired": retired.as_ref().map(Kid::as_str), "retire_after": now.plus(retention).unix(),
            })));
            activated.push(key.kid);
        }
    }
    Ok(activated)
}

/// Starts a rotation for each algorithm whose active key is older than `rotate_every` and
/// that has no `next` key yet. `rotate_every` 0 turns automatic rotation off.
pub async fn rotate_due_keys(
    store: &dyn SigningKeyStore,
    master: &MasterKey,
    random: &dyn Random,
    audit: &dyn AuditSink,
    rotate_every: i64,
    prepublish: i64,
    now: Timestamp,
) -> Result<Vec<Kid>, CoreError> {
    if rotate_every <= 0 {
        return Ok(Vec::new());
    }
    let keys = store.signing_keys().await?;
    let mut started = Vec::new();
    for active in keys.iter().filter(|k| k.state == KeyState::Active) {
        let pending = keys.iter().any(|k| k.state == KeyState::Next && k.alg == active.alg);
        if pending || active.created_at.plus(rotate_every) > now {
            continue;
        }
        let alg = active
            .alg
            .parse::<Algorithm>()
            .map_err(|_| CoreError::CorruptData(format!("stored alg {}", active.alg)))?;
        started.push(rotate_signing_key(store, master, random, audit, alg, prepublish, now).await?.kid);
    }
    Ok(started)
}

/// The keys a server uses at one moment: a signer per algorithm (the active keys, decrypted),
/// the published JWKS, and a validator for its own access tokens.
#[derive(Debug)]
pub struct KeyRing {
    signers: HashMap<Algorithm, tessera_jose::SigningKey>,
    published: KeySet,
    jwks_json: String,
    access_validator: Validator,
}

impl KeyRing {
    /// Loads the keys from storage: decrypts the active ones, publishes next, active and
    /// not yet expired retired ones.
    pub async fn load(
        store: &dyn SigningKeyStore,
        master: &MasterKey,
        issuer: &str,
        access_alg: Algorithm,
        now: Timestamp,
    ) -> Result<KeyRing, CoreError> {
        let records = store.signing_keys().await?;
        let mut signers = HashMap::new();
        let mut public = Vec::new();
        for record in records.iter().filter(|k| k.is_published(now)) {
            let jwk = Jwk::from_json(record.public_jwk.as_bytes()).map_err(|e| corrupt(&record.kid, e))?;
            public.push(VerifyingKey::from_jwk(&jwk).map_err(|e| corrupt(&record.kid, e))?);
            if record.state == KeyState::Active {
                let private = master.open(record.kid.as_str(), &record.private_key)?;
                let jwk = Jwk::from_json(&private).map_err(|e| corrupt(&record.kid, e))?;
                let key = tessera_jose::SigningKey::from_jwk(&jwk, None).map_err(|e| corrupt(&record.kid, e))?;
                signers.insert(key.algorithm(), key);
            }
        }
        let published = KeySet::new(public).map_err(signing_error)?;
        let jwks_json = Jwks { keys: published.to_public_jwks().keys }.to_json();
        let access_validator = Validator::builder(published.clone())
            .algorithm(access_alg)
            .typ("at+jwt")
            .issuer(issuer)
            .accept_any_audience()
            .require_claim("jti")
            .require_claim("sub")
            .build()
            .map_err(signing_error)?;
        Ok(KeyRing { signers, published, jwks_json, access_validator })
    }

    /// The active key for `alg`.
    pub fn signer(&self, alg: Algorithm) -> Result<&tessera_jose::SigningKey, CoreError> {
        self.signers.get(&alg).ok_or_else(|| CoreError::Signing(format!("no active {alg} key")))
    }

    /// The published keys.
    pub fn published(&self) -> &KeySet {
        &self.published
    }

    /// The JWKS document, serialized once per load.
    pub fn jwks_json(&self) -> &str {
        &self.jwks_json
    }

    /// Validates this server's access tokens: signature, `typ: at+jwt`, `iss`, `exp`; any
    /// audience (introspection and userinfo answer for every resource server).
    pub fn access_validator(&self) -> &Validator {
        &self.access_validator
    }
}

fn corrupt(kid: &Kid, error: tessera_jose::Error) -> CoreError {
    CoreError::CorruptData(format!("signing key {kid}: {error}"))
}

/// The current key ring, replaced whole after a rotation; readers never wait on a reload.
#[derive(Debug, Clone)]
pub struct KeyRingHandle(Arc<RwLock<Arc<KeyRing>>>);

impl KeyRingHandle {
    /// Wraps a loaded ring.
    pub fn new(ring: KeyRing) -> KeyRingHandle {
        KeyRingHandle(Arc::new(RwLock::new(Arc::new(ring))))
    }

    /// The ring in force now.
    pub fn current(&self) -> Arc<KeyRing> {
        match self.0.read() {
            Ok(ring) => Arc::clone(&ring),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Puts a freshly loaded ring in force.
    pub fn replace(&self, ring: KeyRing) {
        match self.0.write() {
            Ok(mut current) => *current = Arc::new(ring),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(ring),
        }
    }
}

/// Signs access tokens with the ring's active key for one algorithm.
#[derive(Debug, Clone)]
pub struct KeyRingIssuer {
    ring: KeyRingHandle,
    alg: Algorithm,
}

impl KeyRingIssuer {
    /// An issuer for `alg` over `ring`.
    pub fn new(ring: KeyRingHandle, alg: Algorithm) -> KeyRingIssuer {
        KeyRingIssuer { ring, alg }
    }
}

impl AccessTokenIssuer for KeyRingIssuer {
    fn issue_access_token(&self, claims: &AccessTokenClaims) -> Result<IssuedAccessToken, CoreError> {
        let ring = self.ring.current();
        let token = ring.signer(self.alg)?.sign_jwt(Some("at+jwt"), claims).map_err(signing_error)?;
        Ok(IssuedAccessToken { token, expires_in: claims.exp - claims.iat })
    }
}

/// The private key of a stored record, for tests and export tools.
pub fn decrypt_signing_key(master: &MasterKey, record: &SigningKey) -> Result<tessera_jose::SigningKey, CoreError> {
    let private = master.open(record.kid.as_str(), &record.private_key)?;
    let jwk = Jwk::from_json(&private).map_err(|e| corrupt(&record.kid, e))?;
    tessera_jose::SigningKey::from_jwk(&jwk, None).map_err(|e| corrupt(&record.kid, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::MemoryAuditSink;
    use crate::memory::MemoryStore;
    use crate::random::TestRandom;

    const ISSUER: &str = "https://id.example";

    #[tokio::test]
    async fn first_start_rotation_prepublication_and_retention() {
        let store = MemoryStore::default();
        let random = TestRandom::new(3);
        let audit = MemoryAuditSink::default();
        let master = MasterKey::generate(&random).unwrap();
        let t0 = Timestamp::from_unix(1_750_000_000);

        let created =
            ensure_signing_keys(&store, &master, &random, &[Algorithm::ES256, Algorithm::RS256], t0).await.unwrap();
        assert_eq!(created.len(), 2);
        assert!(
            ensure_signing_keys(&store, &master, &random, &[Algorithm::ES256], t0).await.unwrap().is_empty(),
            "idempotent"
        );
        let ring = KeyRing::load(&store, &master, ISSUER, Algorithm::ES256, t0).await.unwrap();
        let first_kid = ring.signer(Algorithm::ES256).unwrap().kid().to_owned();
        assert!(!ring.jwks_json().contains("\"d\""), "no private member published");

        // Rotation: the next key is published at once but does not sign before not_before.
        let next = rotate_signing_key(&store, &master, &random, &audit, Algorithm::ES256, 3600, t0).await.unwrap();
        let ring = KeyRing::load(&store, &master, ISSUER, Algorithm::ES256, t0).await.unwrap();
        assert!(ring.published().get(next.kid.as_str()).is_some());
        assert_eq!(ring.signer(Algorithm::ES256).unwrap().kid(), first_kid);
        assert!(activate_due_keys(&store, &audit, 900, t0.plus(3599)).await.unwrap().is_empty());

        let t1 = t0.plus(3600);
        assert_eq!(activate_due_keys(&store, &audit, 900, t1).await.unwrap(), std::slice::from_ref(&next.kid));
        let ring = KeyRing::load(&store, &master, ISSUER, Algorithm::ES256, t1).await.unwrap();
        assert_eq!(ring.signer(Algorithm::ES256).unwrap().kid(), next.kid.as_str());
        // The retired key still verifies what it signed, until the retention has passed.
        assert!(ring.published().get(&first_kid).is_some());
        let later = KeyRing::load(&store, &master, ISSUER, Algorithm::ES256, t1.plus(900)).await.unwrap();
        assert!(later.published().get(&first_kid).is_none());
        assert_eq!(audit.events().len(), 2);
    }

    #[tokio::test]
    async fn issued_tokens_validate_and_a_wrong_master_key_fails_loudly() {
        let store = MemoryStore::default();
        let random = TestRandom::new(4);
        let master = MasterKey::generate(&random).unwrap();
        let now = Timestamp::from_unix(1_750_000_000);
        ensure_signing_keys(&store, &master, &random, &[Algorithm::EdDSA], now).await.unwrap();
        let handle = KeyRingHandle::new(KeyRing::load(&store, &master, ISSUER, Algorithm::EdDSA, now).await.unwrap());
        let issuer = KeyRingIssuer::new(handle.clone(), Algorithm::EdDSA);
        let claims = AccessTokenClaims {
            iss: ISSUER.into(),
            sub: "u1".into(),
            aud: vec!["api".into()],
            exp: now.plus(900).unix(),
            iat: now.unix(),
            jti: "j1".into(),
            client_id: crate::client::ClientId::new("web"),
            scope: Some("read".into()),
            sid: None,
            auth_time: None,
            acr: None,
            amr: None,
        };
        let issued = issuer.issue_access_token(&claims).unwrap();
        assert_eq!(issued.expires_in, 900);
        let valid =
            handle.current().access_validator().validate::<serde_json::Value>(&issued.token, now.unix()).unwrap();
        assert_eq!(valid.claims["client_id"], "web");
        let other = MasterKey::generate(&random).unwrap();
        assert!(matches!(
            KeyRing::load(&store, &other, ISSUER, Algorithm::EdDSA, now).await,
            Err(CoreError::CorruptData(_))
        ));
    }
}
