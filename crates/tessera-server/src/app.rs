//! The app builder: state, router, background maintenance and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tessera_core::clock::{Clock, SystemClock};
use tessera_core::keys::key_ring::{
    KeyRing, KeyRingHandle, KeyRingIdTokenIssuer, KeyRingIssuer, activate_due_keys, ensure_signing_keys,
    retire_unconfigured_keys, rotate_due_keys,
};
use tessera_core::keys::master_key::MasterKey;
use tessera_core::model::access_token::TokenPolicy;
use tessera_core::model::revocation::RETENTION_LEEWAY;
use tessera_core::random::SystemRandom;
use tessera_jose::Algorithm;
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::RequestBodyDeadlineLayer;

use crate::audit_queue::{AuditQueue, AuditWriter};
use crate::client_cache::ClientCache;
use crate::config::Config;
use crate::password_pool::BlockingPasswordCheck;
use crate::rate_limit::LoginLimits;
use crate::routes::{auth, authorize, interaction, logout, oauth, ops, well_known};
use crate::startup::{StartError, bootstrap, key_algorithms, load_master_key, max_access_ttl};
use crate::state::{AppState, Shared};
use crate::storage::open_app_store;
use crate::tls::TlsCertificate;

/// How often keys are rotated/activated/reloaded and the clients' lifetimes re-read.
pub const MAINTENANCE_EVERY: Duration = Duration::from_secs(30);
/// How often expired rows are purged.
const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// The largest request body accepted anywhere.
const MAX_BODY: usize = 64 * 1024;

/// A server that is bound and bootstrapped, not yet serving.
pub struct Prepared {
    state: AppState,
    listener: TcpListener,
    audit_writer: AuditWriter,
    master: Arc<MasterKey>,
    tls: Option<Arc<TlsCertificate>>,
    started: Instant,
}

/// The one Prometheus recorder of the process (several servers may run in one test binary).
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder is installed; metrics then go there.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Opens storage, loads or creates the master key and signing keys, and binds the socket, on
/// the system clock.
pub async fn prepare(config: Config, master_key_env: Option<&str>) -> Result<Prepared, StartError> {
    prepare_with_clock(config, master_key_env, Arc::new(SystemClock)).await
}

/// [`prepare`] on the given clock, which every request and background task then reads: tests
/// drive expiry with a [`TestClock`](tessera_core::clock::TestClock) instead of sleeping.
pub async fn prepare_with_clock(
    config: Config,
    master_key_env: Option<&str>,
    clock: Arc<dyn Clock>,
) -> Result<Prepared, StartError> {
    let started = Instant::now();
    // Before anything is created: a half-configured TLS must not start a plain-HTTP server.
    let tls = TlsCertificate::from_config(&config.tls).map_err(|e| StartError::Config(e.to_string()))?;
    let random = SystemRandom::new();
    let now = clock.now();
    let store = open_app_store(&config).await?;
    let master = Arc::new(load_master_key(&config, master_key_env, &random)?);
    bootstrap(&*store, &master, &random, &config, now).await?;

    let issuer = config.issuer();
    let access_alg = config
        .tokens
        .signing_alg
        .parse::<Algorithm>()
        .map_err(|e| StartError::Config(format!("tokens.signing_alg: {e}")))?;
    let ring = KeyRingHandle::new(KeyRing::load(&*store, &master, &issuer, access_alg, now).await?);
    let seconds = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    let policy = TokenPolicy {
        issuer: issuer.clone(),
        access_ttl: seconds(config.tokens.access_ttl),
        refresh_ttl: seconds(config.tokens.refresh_ttl).max(1),
        refresh_reuse_interval: seconds(config.tokens.refresh_reuse_interval),
    };
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| StartError::io(format!("cannot listen on {}", config.listen), e))?;
    // Once bound (a start that fails changes nothing), the lifetime this server issues with goes
    // into the database, where every process reads how long revocations and keys are kept.
    store.record_access_ttl(policy.access_ttl, now).await?;
    let (audit, audit_writer) = AuditQueue::start(Arc::clone(&store), master.audit_username_key()?);
    let limits = LoginLimits::new(&config.rate_limit);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let id_token_alg = config
        .tokens
        .id_token_alg
        .parse::<Algorithm>()
        .map_err(|e| StartError::Config(format!("tokens.id_token_alg: {e}")))?;
    let pages = crate::pages::Pages::load(config.pages.templates.as_deref())?;
    let cors = crate::cors::CorsOrigins::new(&config.cors.allowed_origins);
    cors.set_clients(&store.list_clients().await?);
    let shared = Shared {
        issuer,
        token_issuer: KeyRingIssuer::new(ring.clone(), access_alg),
        id_token_issuer: KeyRingIdTokenIssuer::new(ring.clone(), id_token_alg),
        pages,
        interactions: Default::default(),
        cors,
        ring,
        access_alg,
        pepper: master.client_secret_pepper()?,
        random,
        clock,
        audit,
        issuance_tally: crate::issuance_tally::IssuanceTally::default(),
        passwords: BlockingPasswordCheck::new(cores, config.http.password_queue),
        https: tls.is_some(),
        limits,
        metrics: metrics_handle(),
        max_access_ttl: AtomicI64::new(max_access_ttl(&*store, &config, now).await?.max(policy.access_ttl)),
        policy,
        clients: ClientCache::new(Arc::clone(&store)),
        store,
        config,
    };
    Ok(Prepared { state: AppState(Arc::new(shared)), listener, audit_writer, master, tls, started })
}

impl Prepared {
    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, StartError> {
        self.listener.local_addr().map_err(|e| StartError::io("cannot read the bound address".into(), e))
    }

    /// The state, for tests that drive flows directly.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The native-TLS certificate, when `tls.*` is configured: [`TlsCertificate::reload`]
    /// is what SIGHUP does.
    pub fn tls(&self) -> Option<Arc<TlsCertificate>> {
        self.tls.clone()
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish (within
    /// `http.shutdown_grace`), stops the background work and writes the queued audit events.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), StartError> {
        let Prepared { state, listener, audit_writer, master, tls, started } = self;
        let address = listener.local_addr().ok();
        let acceptor = match &tls {
            Some(certificate) => Some(certificate.acceptor().map_err(|e| StartError::Config(e.to_string()))?),
            None => None,
        };
        let reloads = tls.map(reload_on_hangup);
        tracing::info!(address = ?address, issuer = %state.issuer, tls = acceptor.is_some(), ready_ms = started.elapsed().as_millis() as u64, "tessera is ready");
        let maintenance = tokio::spawn(maintain(state.clone(), master));
        let tally = tokio::spawn(flush_issuance_tally(state.clone()));
        let app = router(state.clone());
        crate::listener::serve(listener, app, &state.config.http, acceptor, shutdown).await;
        if let Some(reloads) = reloads {
            reloads.abort();
        }
        maintenance.abort();
        let _ = maintenance.await;
        tally.abort();
        let _ = tally.await;
        // The last counts, before the audit queue drains.
        state.issuance_tally.flush(&state.audit);
        drop(state);
        audit_writer.finish(Duration::from_secs(10)).await;
        tracing::info!("tessera stopped");
        Ok(())
    }
}

/// Reloads the certificate on every SIGHUP; a failed reload keeps the old one. The handler
/// is installed before this returns, so a SIGHUP sent once the server says it is ready
/// reloads rather than ends the process (the signal's default).
fn reload_on_hangup(certificate: Arc<TlsCertificate>) -> tokio::task::JoinHandle<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let hangups = signal(SignalKind::hangup());
        tokio::spawn(async move {
            let Ok(mut hangups) = hangups else {
                tracing::warn!("cannot listen for SIGHUP: the TLS certificate will not be reloaded");
                return;
            };
            while hangups.recv().await.is_some() {
                match certificate.reload() {
                    Ok(()) => tracing::info!("TLS certificate reloaded"),
                    Err(error) => tracing::error!(%error, "TLS certificate reload failed; keeping the one in use"),
                }
            }
        })
    }
    #[cfg(not(unix))]
    {
        drop(certificate);
        tokio::spawn(async {})
    }
}

/// Every route, with the security headers and limits that apply to all.
pub fn router(state: AppState) -> Router {
    let nosniff =
        SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    let referrer = SetResponseHeaderLayer::if_not_present(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    );
    let mut app = Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/logout", post(auth::logout))
        .route("/oauth/authorize", get(authorize::authorize).post(authorize::authorize))
        .route("/interaction/{id}", get(interaction::show))
        .route("/interaction/{id}/login", post(interaction::login))
        .route("/interaction/{id}/consent", post(interaction::consent))
        .route("/oauth/logout", get(logout::logout).post(logout::logout))
        .route("/assets/tessera.css", get(crate::pages::stylesheet))
        .route("/assets/form_post.js", get(crate::pages::form_post_script))
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/revoke", post(oauth::revoke))
        .route("/oauth/introspect", post(oauth::introspect))
        .route("/oauth/userinfo", get(oauth::userinfo).post(oauth::userinfo))
        .route("/api/userinfo", get(oauth::userinfo).post(oauth::userinfo))
        .route("/.well-known/openid-configuration", get(well_known::openid_configuration))
        .route("/.well-known/oauth-authorization-server", get(well_known::oauth_authorization_server))
        .route("/.well-known/jwks.json", get(well_known::jwks))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .layer(middleware::from_fn(track))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        // A hard deadline on the whole body from the end of the head: a trickle of one byte
        // a second holds a task and a buffer no longer than this.
        .layer(RequestBodyDeadlineLayer::new(state.config.http.body_read_timeout))
        .layer(nosniff)
        .layer(referrer);
    if state.https {
        // RFC 6797 §7.1: sent over secure transport only, which every response here is.
        app = app.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ));
    }
    app = app.layer(crate::cors::layer(state.cors.clone()));
    app.with_state(state)
}

/// Request count and latency per route and status.
async fn track(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_owned();
    let method = request.method().as_str().to_owned();
    let start = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!("tessera_http_request_duration_seconds", "route" => route, "method" => method, "status" => status)
        .record(start.elapsed().as_secs_f64());
    response
}

/// Turns the client-credentials counters into audit events every few seconds.
async fn flush_issuance_tally(state: AppState) {
    loop {
        tokio::time::sleep(crate::issuance_tally::FLUSH_EVERY).await;
        state.issuance_tally.flush(&state.audit);
    }
}

/// Background work: key rotation and activation on every node (the store lets one win),
/// key-ring reloads (so a `tessera keys rotate` reaches a running server), and purges.
async fn maintain(state: AppState, master: Arc<MasterKey>) {
    let mut last_purge = Instant::now();
    loop {
        tokio::time::sleep(MAINTENANCE_EVERY).await;
        if let Err(error) = maintain_once(&state, &master, last_purge.elapsed() >= PURGE_EVERY).await {
            tracing::warn!(%error, "maintenance failed; retrying later");
        } else if last_purge.elapsed() >= PURGE_EVERY {
            last_purge = Instant::now();
        }
    }
}

/// One round of maintenance.
pub async fn maintain_once(state: &AppState, master: &MasterKey, purge: bool) -> Result<(), StartError> {
    let now = state.now();
    let config = &state.config;
    let store = &*state.store;
    // Clients registered or removed by another process: their CORS origins and ID-token keys.
    let clients = store.list_clients().await?;
    state.cors.set_clients(&clients);
    let algs = key_algorithms(config, &clients)?;
    ensure_signing_keys(store, master, &state.random, &algs, now).await?;
    // Never below what this server issues with, whatever another process recorded since.
    let max_ttl = max_access_ttl(store, config, now).await?.max(state.policy.access_ttl);
    state.max_access_ttl.store(max_ttl, Ordering::Relaxed);
    // A changed `tokens.signing_alg`: the old algorithm's keys stop signing, keep verifying.
    retire_unconfigured_keys(store, &state.audit, &algs, max_ttl + RETENTION_LEEWAY, now).await?;
    let seconds = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    rotate_due_keys(
        store,
        master,
        &state.random,
        &state.audit,
        seconds(config.keys.rotate_every),
        seconds(config.keys.prepublish),
        now,
    )
    .await?;
    // Retired keys stay published until every token they signed has expired, plus the leeway
    // any verifier may allow.
    activate_due_keys(store, &state.audit, max_ttl + RETENTION_LEEWAY, now).await?;
    state.ring.replace(KeyRing::load(store, master, &state.issuer, state.access_alg, now).await?);
    if purge {
        store.purge_expired_grants(now).await?;
        // Kept a day past expiry, so that a replayed authorization code is still recognised
        // (and its grant revoked) long after the code itself died.
        store.purge_expired_artifacts(now.minus(86_400)).await?;
        store.purge_expired_revocations(now).await?;
        store.purge_retired_signing_keys(now).await?;
    }
    Ok(())
}
