//! Operations: liveness, readiness and Prometheus metrics.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// `GET /healthz`: the process answers.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the database answers and an access-token key is loaded.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let database = state.store.active_signing_key(state.access_alg.name()).await;
    let signer = state.ring.current().signer(state.access_alg).is_ok();
    match (database, signer) {
        (Ok(Some(_)), true) => (StatusCode::OK, "ready").into_response(),
        (Err(error), _) => {
            tracing::warn!(%error, "not ready: database");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
        _ => (StatusCode::SERVICE_UNAVAILABLE, "no signing key").into_response(),
    }
}

/// `GET /metrics` in the Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}
