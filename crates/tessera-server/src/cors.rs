//! CORS for browser callers on other origins (use case 9): an exact allowlist, never a
//! wildcard, never with credentials (the login cookie is not for other sites' scripts).
//!
//! Two sources: `cors.allowed_origins` (every endpoint), and the origins clients registered
//! with `--allowed-origin`, which only open the endpoints a browser application needs: token,
//! userinfo, revocation, JWKS and discovery. The clients' origins are re-read with the other
//! client settings at each maintenance round, so a new registration reaches a running server.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, header};
use tessera_core::model::client::Client;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The paths a client's registered origin may call.
const CLIENT_ORIGIN_PATHS: [&str; 5] =
    ["/oauth/token", "/oauth/userinfo", "/api/userinfo", "/oauth/revoke", "/.well-known/"];

/// The origins in force.
#[derive(Debug, Clone, Default)]
pub struct CorsOrigins {
    configured: Arc<HashSet<String>>,
    registered: Arc<RwLock<HashSet<String>>>,
}

impl CorsOrigins {
    /// Origins from the configuration; clients' are added by [`CorsOrigins::set_clients`].
    pub fn new(configured: &[String]) -> CorsOrigins {
        CorsOrigins { configured: Arc::new(configured.iter().cloned().collect()), registered: Arc::default() }
    }

    /// Replaces the clients' origins with those of `clients`.
    pub fn set_clients(&self, clients: &[Client]) {
        let origins: HashSet<String> =
            clients.iter().flat_map(|client| client.browser.allowed_origins.iter().cloned()).collect();
        match self.registered.write() {
            Ok(mut registered) => *registered = origins,
            Err(poisoned) => *poisoned.into_inner() = origins,
        }
    }

    /// Whether a request from `origin` to `path` may be answered to the calling script.
    pub fn allows(&self, origin: &str, path: &str) -> bool {
        if self.configured.contains(origin) {
            return true;
        }
        let registered = match self.registered.read() {
            Ok(registered) => registered.contains(origin),
            Err(poisoned) => poisoned.into_inner().contains(origin),
        };
        registered
            && CLIENT_ORIGIN_PATHS
                .iter()
                .any(|allowed| if allowed.ends_with('/') { path.starts_with(allowed) } else { path == *allowed })
    }
}

/// The CORS layer over `origins`.
pub fn layer(origins: CorsOrigins) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, parts: &Parts| {
            origin.to_str().is_ok_and(|origin| origins.allows(origin, parts.uri.path()))
        }))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_origins_open_everything_and_client_origins_the_browser_endpoints() {
        let origins = CorsOrigins::new(&["https://admin.example".into()]);
        assert!(origins.allows("https://admin.example", "/auth/login"));
        assert!(!origins.allows("https://spa.example", "/oauth/token"));
        let client = Client {
            client_id: tessera_core::model::client::ClientId::new("spa"),
            kind: tessera_core::model::client::ClientKind::Public,
            redirect_uris: Vec::new(),
            grant_types: Vec::new(),
            scopes: Vec::new(),
            audiences: Vec::new(),
            access_ttl: None,
            refresh_ttl: None,
            browser: tessera_core::model::client::BrowserSettings {
                allowed_origins: vec!["https://spa.example".into()],
                ..Default::default()
            },
            created_at: tessera_core::clock::Timestamp::from_unix(0),
        };
        origins.set_clients(&[client]);
        for path in ["/oauth/token", "/oauth/userinfo", "/oauth/revoke", "/.well-known/jwks.json"] {
            assert!(origins.allows("https://spa.example", path), "{path}");
        }
        for path in ["/auth/login", "/oauth/introspect", "/oauth/token/x", "/metrics"] {
            assert!(!origins.allows("https://spa.example", path), "{path}");
        }
        origins.set_clients(&[]);
        assert!(!origins.allows("https://spa.example", "/oauth/token"), "a removed client's origin goes");
    }
}
