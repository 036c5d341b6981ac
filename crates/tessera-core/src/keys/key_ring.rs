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

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::keys::master_key::MasterKey;
use crate::keys::signing_key::{ActivateOutcome, KeyState, Kid, RevokeOutcome, SigningKey, SigningKeyStore};
use crate::model::access_token::{AccessTokenClaims, AccessTokenIssuer, IssuedAccessToken};
use crate::model::audit::{AuditEvent, AuditKind, AuditSink};
use crate::model::client::Client;
use crate::model::id_token::{IdTokenClaims, IdTokenIssuer};
use crate::random::Random;

fn signing_error(error: tessera_jose::Error) -> CoreError {
    CoreError::Signing(error.to_string())
}

/// Generates a key for `alg` and seals it under the master key, without storing it.
fn new_signing_key(
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
    Ok(SigningKey {
        kid: Kid::new(key.kid()),
        alg: alg.name().to_owned(),
        private_key: master.seal(key.kid(), &private, random)?,
        public_jwk: serde_json::to_string(&public).map_err(|e| CoreError::Signing(e.to_string()))?,
        state,
        not_before,
        retire_after: None,
        created_at: now,
    })
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
    let record = new_signing_key(master, random, alg, state, not_before, now)?;
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
/// With `prepublish` 0 the key may be activated at once (caches may not know it yet). This adds
/// a key even when one is pending (`tessera keys rotate --now`); [`start_rotation`] does not.
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
    audit_rotation(audit, &key, now);
    Ok(key)
}

/// Starts a rotation of `alg` unless one is pending, with the store deciding in one
/// transaction: however many processes share the database, one next key is created. `None`
/// if a `next` key of `alg` exists already.
pub async fn start_rotation(
    store: &dyn SigningKeyStore,
    master: &MasterKey,
    random: &dyn Random,
    audit: &dyn AuditSink,
    alg: Algorithm,
    prepublish: i64,
    now: Timestamp,
) -> Result<Option<SigningKey>, CoreError> {
    let key = new_signing_key(master, random, alg, KeyState::Next, now.plus(prepublish), now)?;
    if !store.insert_next_signing_key(&key).await? {
        return Ok(None);
    }
    audit_rotation(audit, &key, now);
    Ok(Some(key))
}

fn audit_rotation(audit: &dyn AuditSink, key: &SigningKey, now: Timestamp) {
    audit.record(AuditEvent::new(AuditKind::SigningKeyRotated, now).details(
        json!({ "kid": key.kid.as_str(), "alg": key.alg, "state": "next", "not_before": key.not_before.unix() }),
    ));
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
/// that has no `next` key yet; several processes doing so at once create one key (see
/// [`start_rotation`]). `rotate_every` 0 turns automatic rotation off.
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
        if let Some(key) = start_rotation(store, master, random, audit, alg, prepublish, now).await? {
            started.push(key.kid);
        }
    }
    Ok(started)
}

/// What [`revoke_signing_key`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRevocation {
    /// The revoked key's algorithm.
    pub alg: String,
    /// The key that signs for `alg` in its place, when the revoked key was the active one.
    pub activated: Option<Kid>,
    /// Whether `activated` was created for the purpose (no key was waiting as `next`).
    pub created: bool,
}

/// Withdraws a compromised key at once: out of the JWKS, never signing again, so nothing it
/// signed verifies. If it was the active key, the pending `next` key takes over at once, or a
/// new key created here when none is pending. [`CoreError::NotFound`] for an unknown `kid`,
/// [`CoreError::Conflict`] for a key revoked before.
pub async fn revoke_signing_key(
    store: &dyn SigningKeyStore,
    master: &MasterKey,
    random: &dyn Random,
    audit: &dyn AuditSink,
    kid: &Kid,
    now: Timestamp,
) -> Result<KeyRevocation, CoreError> {
    let record = store
        .signing_keys()
        .await?
        .into_iter()
        .find(|key| &key.kid == kid)
        .ok_or(CoreError::NotFound { what: "signing key" })?;
    let alg =
        record.alg.parse::<Algorithm>().map_err(|_| CoreError::CorruptData(format!("stored alg {}", record.alg)))?;
    let mut created = false;
    // Two rounds at most: if no next key waits, create one (or find another process's) and retry.
    for _ in 0..2 {
        match store.revoke_signing_key(kid, now).await? {
            RevokeOutcome::Revoked { activated } => {
                audit.record(AuditEvent::new(AuditKind::SigningKeyRevoked, now).details(json!({
                    "kid": kid.as_str(), "alg": record.alg, "previous_state": record.state.as_str(),
                    "activated": activated.as_ref().map(Kid::as_str),
                })));
                let created = created && activated.is_some();
                return Ok(KeyRevocation { alg: record.alg, activated, created });
            }
            RevokeOutcome::NeedsSuccessor => {
                let successor = new_signing_key(master, random, alg, KeyState::Next, now, now)?;
                created = store.insert_next_signing_key(&successor).await?;
            }
            RevokeOutcome::AlreadyRevoked => return Err(CoreError::Conflict { what: "revoked signing key" }),
            RevokeOutcome::Unknown => return Err(CoreError::NotFound { what: "signing key" }),
        }
    }
    Err(CoreError::Conflict { what: "signing key revocation in progress" })
}

/// Retires the active and next keys of algorithms the configuration no longer signs with
/// (`tokens.signing_alg` changed): they stop signing and stay published for `retention`
/// seconds, so the tokens they signed keep verifying until they expire.
pub async fn retire_unconfigured_keys(
    store: &dyn SigningKeyStore,
    audit: &dyn AuditSink,
    configured: &[Algorithm],
    retention: i64,
    now: Timestamp,
) -> Result<Vec<Kid>, CoreError> {
    let mut retired = Vec::new();
    for key in store.signing_keys().await? {
        let in_use = configured.iter().any(|alg| alg.name() == key.alg);
        if in_use || !matches!(key.state, KeyState::Active | KeyState::Next) {
            continue;
        }
        if store.retire_signing_key(&key.kid, now.plus(retention)).await? {
            audit.record(AuditEvent::new(AuditKind::SigningKeyRotated, now).details(json!({
                "kid": key.kid.as_str(), "alg": key.alg, "state": "retired",
                "reason": "algorithm no longer configured", "retire_after": now.plus(retention).unix(),
            })));
            retired.push(key.kid);
        }
    }
    Ok(retired)
}

/// The keys a server uses at one moment: a signer per algorithm (the active keys, decrypted),
/// the published JWKS, and a validator for its own access tokens.
#[derive(Debug)]
pub struct KeyRing {
    signers: HashMap<Algorithm, tessera_jose::SigningKey>,
    published: KeySet,
    jwks_json: String,
    access_validator: Validator,
    id_token_hint_validator: Validator,
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
        let mut algorithms = vec![access_alg];
        for record in records.iter().filter(|k| k.is_published(now)) {
            let jwk = Jwk::from_json(record.public_jwk.as_bytes()).map_err(|e| corrupt(&record.kid, e))?;
            public.push(VerifyingKey::from_jwk(&jwk).map_err(|e| corrupt(&record.kid, e))?);
            if let Ok(alg) = record.alg.parse::<Algorithm>() {
                algorithms.push(alg);
            }
            if record.state == KeyState::Active {
                let private = master.open(record.kid.as_str(), &record.private_key)?;
                let jwk = Jwk::from_json(&private).map_err(|e| corrupt(&record.kid, e))?;
                let key = tessera_jose::SigningKey::from_jwk(&jwk, None).map_err(|e| corrupt(&record.kid, e))?;
                signers.insert(key.algorithm(), key);
            }
        }
        let published = KeySet::new(public).map_err(signing_error)?;
        let jwks_json = Jwks { keys: published.to_public_jwks().keys }.to_json();
        // Every algorithm of a published key, not only today's: after `tokens.signing_alg`
        // changes, the retired key keeps verifying the tokens it signed. Only this server's own
        // keys are in the set, each verifies only its own algorithm (RFC 8725 §3.1), and `typ`
        // keeps ID tokens out.
        algorithms.sort();
        algorithms.dedup();
        let access_validator = Validator::builder(published.clone())
            .algorithms(algorithms.clone())
            .typ("at+jwt")
            .issuer(issuer)
            .accept_any_audience()
            .require_claim("jti")
            .require_claim("sub")
            .build()
            .map_err(signing_error)?;
        // OIDC Core §3.1.2.1 and RP-Initiated Logout §2: an id_token_hint may have expired; it
        // only names whom the client believes is logged in, so a week of grace is harmless.
        let id_token_hint_validator = Validator::builder(published.clone())
            .algorithms(algorithms)
            .typ_jwt_or_absent()
            .issuer(issuer)
            .accept_any_audience()
            .leeway(std::time::Duration::from_secs(ID_TOKEN_HINT_GRACE))
            .require_claim("sub")
            .build()
            .map_err(signing_error)?;
        Ok(KeyRing { signers, published, jwks_json, access_validator, id_token_hint_validator })
    }

    /// The active key for `alg`.
    pub fn signer(&self, alg: Algorithm) -> Result<&tessera_jose::SigningKey, CoreError> {
        self.signers.get(&alg).ok_or_else(|| CoreError::Signing(format!("no active {alg} key")))
    }

    /// The algorithms with an active key, sorted: what this server can sign with now.
    pub fn signing_algorithms(&self) -> Vec<Algorithm> {
        let mut algs: Vec<Algorithm> = self.signers.keys().copied().collect();
        algs.sort();
        algs
    }

    /// The published keys.
    pub fn published(&self) -> &KeySet {
        &self.published
    }

    /// The JWKS document, serialized once per load.
    pub fn jwks_json(&self) -> &str {
        &self.jwks_json
    }

    /// The claims of an `id_token_hint` this server signed (expired up to
    /// [`ID_TOKEN_HINT_GRACE`] ago); `None` for anything else.
    pub fn id_token_hint(&self, token: &str, now: Timestamp) -> Option<serde_json::Value> {
        self.id_token_hint_validator.validate::<serde_json::Value>(token, now.unix()).ok().map(|valid| valid.claims)
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

/// How long after its `exp` an ID token is still accepted as an `id_token_hint`, seconds.
pub const ID_TOKEN_HINT_GRACE: u64 = 7 * 86_400;

/// Signs ID tokens with the ring's active keys: the client's registered algorithm, or the
/// server's default (`tokens.id_token_alg`).
#[derive(Debug, Clone)]
pub struct KeyRingIdTokenIssuer {
    ring: KeyRingHandle,
    default_alg: Algorithm,
}

impl KeyRingIdTokenIssuer {
    /// An issuer over `ring` defaulting to `default_alg`.
    pub fn new(ring: KeyRingHandle, default_alg: Algorithm) -> KeyRingIdTokenIssuer {
        KeyRingIdTokenIssuer { ring, default_alg }
    }
}

impl IdTokenIssuer for KeyRingIdTokenIssuer {
    fn id_token_alg(&self, client: &Client) -> Result<Algorithm, CoreError> {
        match &client.browser.id_token_alg {
            None => Ok(self.default_alg),
            Some(name) => name
                .parse::<Algorithm>()
                .map_err(|_| CoreError::CorruptData(format!("client {}: id_token_alg {name}", client.client_id))),
        }
    }

    fn sign_id_token(&self, alg: Algorithm, claims: &IdTokenClaims) -> Result<String, CoreError> {
        // OIDC Core §2 does not name a typ; "JWT" is what every relying party accepts.
        self.ring.current().signer(alg)?.sign_jwt(Some("JWT"), claims).map_err(signing_error)
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
    use crate::memory::MemoryStore;
    use crate::model::audit::MemoryAuditSink;
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
    async fn id_tokens_use_the_clients_algorithm_or_the_default() {
        let store = MemoryStore::default();
        let random = TestRandom::new(5);
        let master = MasterKey::generate(&random).unwrap();
        let now = Timestamp::from_unix(1_750_000_000);
        let algs = [Algorithm::ES256, Algorithm::RS256, Algorithm::ES384];
        ensure_signing_keys(&store, &master, &random, &algs, now).await.unwrap();
        let handle = KeyRingHandle::new(KeyRing::load(&store, &master, ISSUER, Algorithm::ES256, now).await.unwrap());
        let issuer = KeyRingIdTokenIssuer::new(handle.clone(), Algorithm::RS256);
        let mut client = crate::model::client::Client {
            client_id: crate::model::client::ClientId::new("web"),
            kind: crate::model::client::ClientKind::Public,
            redirect_uris: vec![],
            grant_types: vec![],
            scopes: vec![],
            audiences: vec![],
            access_ttl: None,
            refresh_ttl: None,
            browser: Default::default(),
            created_at: now,
        };
        assert_eq!(issuer.id_token_alg(&client).unwrap(), Algorithm::RS256);
        client.browser.id_token_alg = Some("ES384".into());
        let alg = issuer.id_token_alg(&client).unwrap();
        assert_eq!(alg, Algorithm::ES384);
        let claims = IdTokenClaims {
            iss: ISSUER.into(),
            sub: "u".into(),
            aud: "web".into(),
            exp: now.plus(60).unix(),
            iat: now.unix(),
            auth_time: now.unix(),
            nonce: None,
            acr: None,
            amr: None,
            sid: "s".into(),
            at_hash: None,
            user: Default::default(),
        };
        let token = issuer.sign_id_token(alg, &claims).unwrap();
        let header = token.split('.').next().unwrap();
        let header: serde_json::Value =
            serde_json::from_slice(&tessera_jose::base64url::decode(header).unwrap()).unwrap();
        assert_eq!((header["alg"].as_str(), header["typ"].as_str()), (Some("ES384"), Some("JWT")));
        // An ID token is no access token: the access validator refuses it (typ).
        assert!(handle.current().access_validator().validate::<serde_json::Value>(&token, now.unix()).is_err());
        assert_eq!(
            handle.current().id_token_hint(&token, now.plus(3600)).unwrap()["sub"],
            "u",
            "expired hints still name"
        );
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
            client_id: crate::model::client::ClientId::new("web"),
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
