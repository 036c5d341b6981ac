//! What every handler shares.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use tessera_core::clock::{Clock, Timestamp};
use tessera_core::flows::issuance::Issuance;
use tessera_core::keys::key_ring::{KeyRingHandle, KeyRingIdTokenIssuer, KeyRingIssuer};
use tessera_core::model::access_token::TokenPolicy;
use tessera_core::random::SystemRandom;
use tessera_core::secrets::client_secret::SecretPepper;
use tessera_jose::Algorithm;

use crate::audit_queue::AuditQueue;
use crate::client_cache::ClientCache;
use crate::config::Config;
use crate::password_pool::BlockingPasswordCheck;
use crate::rate_limit::LoginLimits;

/// The storage backend in use, behind every port: SQLite today, PostgreSQL later, chosen by
/// `database.url` at start without the routes knowing.
pub type AppStore = dyn tessera_core::store::Store;

/// Shared state of the server; cloning is cheap.
#[derive(Clone)]
pub struct AppState(pub Arc<Shared>);

/// The shared parts.
pub struct Shared {
    /// The configuration in force.
    pub config: Config,
    /// The issuer (`iss`).
    pub issuer: String,
    /// Storage.
    pub store: Arc<AppStore>,
    /// Client records for client authentication, read through a short-lived cache: a client
    /// removed by another process stops authenticating within
    /// [`CLIENT_CACHE_TTL`](crate::client_cache::CLIENT_CACHE_TTL).
    pub clients: ClientCache<AppStore>,
    /// Signing and verification keys.
    pub ring: KeyRingHandle,
    /// Signs access tokens with the active key.
    pub token_issuer: KeyRingIssuer,
    /// Signs ID tokens.
    pub id_token_issuer: KeyRingIdTokenIssuer,
    /// The HTML pages.
    pub pages: crate::pages::Pages,
    /// Pending interactions, read through to the store.
    pub interactions: crate::interaction_cache::InteractionCache,
    /// The origins CORS lets in: configured, and registered by clients.
    pub cors: crate::cors::CorsOrigins,
    /// Access-token algorithm.
    pub access_alg: Algorithm,
    /// Issuer and default lifetimes.
    pub policy: TokenPolicy,
    /// Keys client-secret hashes.
    pub pepper: SecretPepper,
    /// Randomness.
    pub random: SystemRandom,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Audit events, batched off the request path.
    pub audit: AuditQueue,
    /// Client-credentials issuance, counted and audited in aggregate.
    pub issuance_tally: crate::issuance_tally::IssuanceTally,
    /// Argon2id on the blocking pool.
    pub passwords: BlockingPasswordCheck,
    /// Login rate limits.
    pub limits: LoginLimits,
    /// Whether requests arrive over native TLS (HSTS is sent; cookies, when they come, are
    /// `Secure`).
    pub https: bool,
    /// The Prometheus registry.
    pub metrics: PrometheusHandle,
    /// The longest access-token lifetime that may be in circulation (the server's recorded
    /// lifetime or any client's own, read from the database): how long `sid`/`sub`
    /// revocations and retired keys must be kept. Refreshed by maintenance.
    pub max_access_ttl: std::sync::atomic::AtomicI64,
}

impl Shared {
    /// Whether cookies are `Secure`: over native TLS, and behind a TLS-terminating proxy, which
    /// an `https://` issuer says (the browser reaches the server by HTTPS either way).
    pub fn secure_cookies(&self) -> bool {
        self.https || self.issuer.starts_with("https://")
    }

    /// The longest access-token lifetime now in force, seconds.
    pub fn max_access_ttl(&self) -> i64 {
        self.max_access_ttl.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl AppState {
    /// The current time.
    pub fn now(&self) -> Timestamp {
        self.0.clock.now()
    }

    /// The services a token-issuing flow needs.
    pub fn issuance(&self) -> Issuance<'_> {
        let shared = &*self.0;
        Issuance {
            audit: &shared.audit,
            random: &shared.random,
            issuer: &shared.token_issuer,
            policy: &shared.policy,
            id_tokens: &shared.id_token_issuer,
        }
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}
