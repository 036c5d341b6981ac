//! OAuth clients (RFC 6749 §2): who may ask for tokens, how they authenticate, and what they
//! may ask for.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::identifier::string_identifier;
use crate::secrets::client_secret::ClientSecretHash;

string_identifier!(
    /// The `client_id` (RFC 6749 §2.2), chosen by the administrator.
    ClientId
);

/// Grant types a client may be allowed to use (RFC 6749 §4, RFC 8693).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GrantType {
    /// `authorization_code` (RFC 6749 §4.1)
    #[serde(rename = "authorization_code")]
    AuthorizationCode,
    /// `refresh_token` (RFC 6749 §6)
    #[serde(rename = "refresh_token")]
    RefreshToken,
    /// `client_credentials` (RFC 6749 §4.4)
    #[serde(rename = "client_credentials")]
    ClientCredentials,
    /// `password`: only Tessera's first-party `/auth/login`, never offered on `/oauth/token`.
    #[serde(rename = "password")]
    Password,
    /// `urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693)
    #[serde(rename = "urn:ietf:params:oauth:grant-type:token-exchange")]
    TokenExchange,
}

impl GrantType {
    /// Every grant type, in a stable order.
    pub const ALL: [GrantType; 5] = [
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::ClientCredentials,
        GrantType::Password,
        GrantType::TokenExchange,
    ];

    /// The registered name.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::Password => "password",
            GrantType::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
        }
    }
}

impl FromStr for GrantType {
    type Err = CoreError;

    fn from_str(name: &str) -> Result<GrantType, CoreError> {
        GrantType::ALL
            .into_iter()
            .find(|grant| grant.as_str() == name)
            .ok_or(CoreError::InvalidRequest { field: "grant_type", reason: "unknown grant type" })
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a client authenticates (RFC 6749 §2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientKind {
    /// Holds a secret; stored only as its keyed hash.
    Confidential {
        /// HMAC-SHA256 of the secret under the server's pepper.
        secret_hash: ClientSecretHash,
    },
    /// Cannot keep a secret (mobile, browser apps): authenticates with `none` and must use PKCE.
    Public,
}

/// A registered client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    /// The `client_id`.
    pub client_id: ClientId,
    /// Confidential or public.
    pub kind: ClientKind,
    /// Redirect URIs, matched exactly (RFC 9700 §2.1).
    pub redirect_uris: Vec<String>,
    /// Grant types the client may use.
    pub grant_types: Vec<GrantType>,
    /// Scopes the client may ask for.
    pub scopes: Vec<String>,
    /// Audiences (`aud`) of the client's access tokens.
    pub audiences: Vec<String>,
    /// Access-token lifetime in seconds, overriding the server default.
    pub access_ttl: Option<i64>,
    /// Grant (refresh) lifetime in seconds, overriding the server default.
    pub refresh_ttl: Option<i64>,
    /// How the client takes part in the browser flows (OpenID Connect).
    pub browser: BrowserSettings,
    /// When the client was registered.
    pub created_at: Timestamp,
}

/// A client's settings for the browser flows: the authorization endpoint, ID tokens, logout
/// and CORS. Stored as one document, so that a new setting needs no new column.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrowserSettings {
    /// The name shown on the consent page (the `client_id` when absent).
    pub name: Option<String>,
    /// Where RP-initiated logout may send the browser back, matched exactly.
    pub post_logout_redirect_uris: Vec<String>,
    /// A client of the same party as the server: no consent page.
    pub first_party: bool,
    /// PKCE required even though the client is confidential (public clients always need it).
    pub require_pkce: bool,
    /// `id_token_signed_response_alg` (OIDC Registration §2); the server's default when absent.
    pub id_token_alg: Option<String>,
    /// Browser origins allowed to call the token, userinfo, revocation, JWKS and discovery
    /// endpoints (CORS).
    pub allowed_origins: Vec<String>,
}

impl Client {
    /// Whether the client is confidential.
    pub fn is_confidential(&self) -> bool {
        matches!(self.kind, ClientKind::Confidential { .. })
    }

    /// The name to show a person.
    pub fn display_name(&self) -> &str {
        self.browser.name.as_deref().unwrap_or(self.client_id.as_str())
    }

    /// Whether the authorization code flow must carry PKCE (RFC 7636; RFC 9700 §2.1.1).
    pub fn requires_pkce(&self) -> bool {
        !self.is_confidential() || self.browser.require_pkce
    }

    /// Whether `presented` is one of the client's redirect URIs: simple string comparison
    /// (RFC 9700 §2.1; OIDC Core §3.1.2.1), except that a public (native) client's loopback
    /// redirect may name any port (RFC 8252 §7.3), since a native app binds whichever port is
    /// free. A confidential client is a server with a fixed address: exact match only.
    pub fn redirect_uri_allowed(&self, presented: &str) -> bool {
        self.redirect_uris.iter().any(|registered| {
            registered == presented
                || !self.is_confidential()
                    && matches!(
                        (without_loopback_port(registered), without_loopback_port(presented)),
                        (Some(a), Some(b)) if a == b
                    )
        })
    }

    /// Whether `presented` is one of the client's post-logout redirect URIs (exact match).
    pub fn post_logout_redirect_uri_allowed(&self, presented: &str) -> bool {
        self.browser.post_logout_redirect_uris.iter().any(|registered| registered == presented)
    }

    /// Fails with `unauthorized_client` unless the client may use `grant`.
    pub fn require_grant(&self, grant: GrantType) -> Result<(), CoreError> {
        if self.grant_types.contains(&grant) {
            Ok(())
        } else {
            Err(CoreError::UnauthorizedClient { grant_type: grant.as_str().to_owned() })
        }
    }

    /// The scopes granted for a request (RFC 6749 §3.3): all of the client's scopes when none
    /// are asked for, otherwise exactly those asked for, each of which must be allowed.
    pub fn grant_scopes(&self, requested: Option<&str>) -> Result<Vec<String>, CoreError> {
        let Some(requested) = requested.filter(|s| !s.trim().is_empty()) else {
            return Ok(self.scopes.clone());
        };
        let mut granted: Vec<String> = Vec::new();
        for scope in requested.split(' ').filter(|s| !s.is_empty()) {
            if !self.scopes.iter().any(|allowed| allowed == scope) {
                return Err(CoreError::InvalidScope { scope: scope.to_owned() });
            }
            if !granted.iter().any(|s| s == scope) {
                granted.push(scope.to_owned());
            }
        }
        Ok(granted)
    }
}

/// A loopback redirect URI (`http://127.0.0.1` or `http://[::1]`) with its port taken out, as
/// `(host, rest)`; `None` for any other URI, which must then match exactly. `localhost` is not
/// loopback here (RFC 8252 §8.3: it may resolve elsewhere).
fn without_loopback_port(uri: &str) -> Option<(&str, &str)> {
    let after_scheme = uri.strip_prefix("http://")?;
    let (host, rest) =
        ["127.0.0.1", "[::1]"].into_iter().find_map(|host| after_scheme.strip_prefix(host).map(|rest| (host, rest)))?;
    let rest = match rest.strip_prefix(':') {
        Some(port_and_path) => {
            let digits = port_and_path.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 || digits > 5 {
                return None;
            }
            &port_and_path[digits..]
        }
        None => rest,
    };
    // What follows the authority must be a path: "127.0.0.1.evil.example" is not loopback.
    rest.starts_with('/').then_some((host, rest))
}

/// Storage of clients.
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Registers a client. [`CoreError::Conflict`] if the `client_id` is taken.
    async fn create_client(&self, client: &Client) -> Result<(), CoreError>;

    /// The client with this `client_id`.
    async fn client(&self, client_id: &ClientId) -> Result<Option<Client>, CoreError>;

    /// All clients, ordered by `client_id`.
    async fn list_clients(&self) -> Result<Vec<Client>, CoreError>;

    /// Replaces a client's settings (redirect URIs, grant types, scopes, audiences, lifetimes,
    /// browser settings) with those of `client`; its kind, secret and registration time stay.
    /// `false` if there is no such client.
    async fn update_client(&self, client: &Client) -> Result<bool, CoreError>;

    /// Removes a client and, atomically with it, every grant issued to it, so that no
    /// refresh token outlives its client. `false` if there was no such client.
    async fn remove_client(&self, client_id: &ClientId) -> Result<bool, CoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(scopes: &[&str]) -> Client {
        Client {
            client_id: ClientId::new("app"),
            kind: ClientKind::Public,
            redirect_uris: vec![],
            grant_types: vec![GrantType::RefreshToken],
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            audiences: vec![],
            access_ttl: None,
            refresh_ttl: None,
            browser: BrowserSettings::default(),
            created_at: Timestamp::from_unix(0),
        }
    }

    #[test]
    fn redirect_uris_match_exactly_except_a_loopback_port() {
        let mut app = client(&[]);
        app.redirect_uris =
            vec!["https://app.example/cb".into(), "http://127.0.0.1/cb".into(), "com.example.app:/oauth".into()];
        assert!(app.redirect_uri_allowed("https://app.example/cb"));
        assert!(app.redirect_uri_allowed("com.example.app:/oauth"));
        assert!(app.redirect_uri_allowed("http://127.0.0.1:51234/cb"));
        assert!(app.redirect_uri_allowed("http://127.0.0.1/cb"));
        for wrong in [
            "https://app.example/cb/",
            "https://app.example/cb?x=1",
            "https://app.example/cb#f",
            "https://app.example.evil/cb",
            "https://user@app.example/cb",
            "http://app.example/cb",
            "https://app.example:443/cb",
            "https://APP.example/cb",
            "https://app.example/%2e%2e/cb",
            "http://127.0.0.1:51234/cb2",
            "http://127.0.0.1.evil.example/cb",
            "http://127.0.0.1:/cb",
            "http://127.0.0.1:123456/cb",
            "http://[::1]:5000/cb",
            "http://localhost:5000/cb",
            "com.example.app:/oauth2",
        ] {
            assert!(!app.redirect_uri_allowed(wrong), "{wrong} must not match");
        }
        app.kind = ClientKind::Confidential {
            secret_hash: crate::secrets::client_secret::ClientSecretHash::from_bytes(&[1; 32]).unwrap(),
        };
        assert!(app.redirect_uri_allowed("http://127.0.0.1/cb"));
        assert!(!app.redirect_uri_allowed("http://127.0.0.1:51234/cb"), "a confidential client: exact only");
    }

    #[test]
    fn grant_type_names_round_trip() {
        for grant in GrantType::ALL {
            assert_eq!(grant.as_str().parse::<GrantType>().unwrap(), grant);
            let json = serde_json::to_string(&grant).unwrap();
            assert_eq!(json, format!("\"{}\"", grant.as_str()));
        }
        assert!("implicit".parse::<GrantType>().is_err());
    }

    #[test]
    fn scopes_are_granted_only_when_allowed() {
        let app = client(&["openid", "profile", "orders:read"]);
        assert_eq!(app.grant_scopes(None).unwrap().len(), 3);
        assert_eq!(app.grant_scopes(Some("openid openid profile")).unwrap(), vec!["openid", "profile"]);
        let error = app.grant_scopes(Some("openid admin")).unwrap_err();
        assert!(matches!(error, CoreError::InvalidScope { scope } if scope == "admin"));
    }

    #[test]
    fn grant_must_be_registered() {
        let app = client(&[]);
        assert!(app.require_grant(GrantType::RefreshToken).is_ok());
        assert!(matches!(app.require_grant(GrantType::ClientCredentials), Err(CoreError::UnauthorizedClient { .. })));
    }
}
