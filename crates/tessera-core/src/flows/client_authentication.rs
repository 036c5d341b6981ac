//! Client authentication at the token endpoint (RFC 6749 §2.3) and client registration.

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::model::client::{BrowserSettings, Client, ClientId, ClientKind, ClientStore, GrantType};
use crate::random::Random;
use crate::secrets::client_secret::{ClientSecret, ClientSecretHash, SecretPepper};

/// A hash that no secret matches, checked for unknown clients so that an unknown `client_id`
/// costs the same time as a wrong secret.
const UNKNOWN_CLIENT_HASH: [u8; 32] = [0u8; 32];

/// Authenticates a client from its `client_id` and the secret it presented, if any.
///
/// Confidential clients must present their secret (`client_secret_basic` or `_post`); public
/// clients must present none (`none`, RFC 7591 §2). Every failure is the same
/// `invalid_client` to the caller; the private detail says which for the audit log.
pub async fn authenticate_client(
    clients: &dyn ClientStore,
    pepper: &SecretPepper,
    client_id: &ClientId,
    secret: Option<&ClientSecret>,
) -> Result<Client, CoreError> {
    let Some(client) = clients.client(client_id).await? else {
        if let Some(secret) = secret {
            let decoy = ClientSecretHash::from_bytes(&UNKNOWN_CLIENT_HASH)?;
            let _ = pepper.verify(secret, &decoy);
        }
        return Err(CoreError::InvalidClient { detail: "unknown client_id" });
    };
    match (&client.kind, secret) {
        (ClientKind::Confidential { secret_hash }, Some(secret)) => {
            if pepper.verify(secret, secret_hash) {
                Ok(client)
            } else {
                Err(CoreError::InvalidClient { detail: "wrong client secret" })
            }
        }
        (ClientKind::Confidential { .. }, None) => {
            Err(CoreError::InvalidClient { detail: "confidential client presented no secret" })
        }
        (ClientKind::Public, None) => Ok(client),
        (ClientKind::Public, Some(_)) => Err(CoreError::InvalidClient { detail: "public client presented a secret" }),
    }
}

/// What an administrator asks for when registering a client.
#[derive(Clone, Debug, Default)]
pub struct NewClient {
    /// The `client_id`.
    pub client_id: String,
    /// Whether a secret is generated for it.
    pub confidential: bool,
    /// Exact redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Allowed grant types.
    pub grant_types: Vec<GrantType>,
    /// Allowed scopes.
    pub scopes: Vec<String>,
    /// Access-token audiences.
    pub audiences: Vec<String>,
    /// Access-token lifetime override, seconds.
    pub access_ttl: Option<i64>,
    /// Grant (refresh) lifetime override, seconds.
    pub refresh_ttl: Option<i64>,
    /// Settings for the browser flows.
    pub browser: BrowserSettings,
}

/// The longest `client_id` accepted.
pub const MAX_CLIENT_ID_LEN: usize = 128;

/// Registers a client. A confidential client gets a generated secret, returned here once and
/// stored only as its keyed hash.
pub async fn register_client(
    clients: &dyn ClientStore,
    random: &dyn Random,
    pepper: &SecretPepper,
    request: NewClient,
    now: Timestamp,
) -> Result<(Client, Option<ClientSecret>), CoreError> {
    validate_client_id(&request.client_id)?;
    for ttl in [request.access_ttl, request.refresh_ttl].into_iter().flatten() {
        if ttl <= 0 {
            return Err(CoreError::InvalidRequest { field: "ttl", reason: "must be a positive number of seconds" });
        }
    }
    if request.scopes.iter().any(|s| s.is_empty() || s.contains(' ')) {
        return Err(CoreError::InvalidRequest { field: "scope", reason: "each scope is one non-empty word" });
    }
    validate_browser_settings(&request.browser)?;
    let (kind, secret) = if request.confidential {
        let secret = ClientSecret::generate(random)?;
        let secret_hash = pepper.hash(&secret);
        (ClientKind::Confidential { secret_hash }, Some(secret))
    } else {
        (ClientKind::Public, None)
    };
    let client = Client {
        client_id: ClientId::new(request.client_id),
        kind,
        redirect_uris: request.redirect_uris,
        grant_types: request.grant_types,
        scopes: request.scopes,
        audiences: request.audiences,
        access_ttl: request.access_ttl,
        refresh_ttl: request.refresh_ttl,
        browser: request.browser,
        created_at: now,
    };
    clients.create_client(&client).await?;
    Ok((client, secret))
}

/// The browser settings a client may be registered with: an ID-token algorithm the server can
/// sign with (never `none` or a shared-secret one), post-logout redirect URIs without a
/// fragment (RFC 6749 §3.1.2), and CORS origins that are bare origins.
pub fn validate_browser_settings(browser: &BrowserSettings) -> Result<(), CoreError> {
    if let Some(alg) = &browser.id_token_alg {
        match alg.parse::<tessera_jose::Algorithm>() {
            Ok(alg) if !alg.is_symmetric() => {}
            _ => {
                return Err(CoreError::InvalidRequest {
                    field: "id_token_alg",
                    reason: "must be an asymmetric JWS algorithm such as RS256, ES256 or EdDSA",
                });
            }
        }
    }
    if browser.post_logout_redirect_uris.iter().any(|uri| uri.is_empty() || uri.contains('#') || !uri.contains(':')) {
        return Err(CoreError::InvalidRequest {
            field: "post_logout_redirect_uri",
            reason: "must be an absolute URI without a fragment",
        });
    }
    for origin in &browser.allowed_origins {
        let bare = origin
            .split_once("://")
            .is_some_and(|(scheme, rest)| !scheme.is_empty() && !rest.is_empty() && !rest.contains('/'));
        if !bare {
            return Err(CoreError::InvalidRequest {
                field: "allowed_origin",
                reason: "must be an origin such as https://app.example, without a path",
            });
        }
    }
    Ok(())
}

/// RFC 6749 §A.1: `client-id = *VSCHAR`; Tessera also refuses empty and very long ids and the
/// characters that would need escaping in a Basic credential (`:`).
fn validate_client_id(client_id: &str) -> Result<(), CoreError> {
    let printable = client_id.chars().all(|c| c.is_ascii_graphic() && c != ':');
    if client_id.is_empty() || client_id.len() > MAX_CLIENT_ID_LEN || !printable {
        return Err(CoreError::InvalidRequest {
            field: "client_id",
            reason: "must be 1 to 128 printable ASCII characters without ':'",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryStore;
    use crate::random::TestRandom;

    fn pepper() -> SecretPepper {
        SecretPepper::new(&[3u8; 32]).unwrap()
    }

    async fn registered(store: &MemoryStore, confidential: bool) -> Option<ClientSecret> {
        let request = NewClient {
            client_id: "svc".into(),
            confidential,
            grant_types: vec![GrantType::ClientCredentials],
            ..NewClient::default()
        };
        let (_, secret) =
            register_client(store, &TestRandom::new(1), &pepper(), request, Timestamp::from_unix(0)).await.unwrap();
        secret
    }

    #[tokio::test]
    async fn confidential_client_needs_its_secret() {
        let store = MemoryStore::default();
        let secret = registered(&store, true).await.unwrap();
        let id = ClientId::new("svc");
        assert!(authenticate_client(&store, &pepper(), &id, Some(&secret)).await.is_ok());
        for presented in [None, Some(ClientSecret::new("wrong"))] {
            let error = authenticate_client(&store, &pepper(), &id, presented.as_ref()).await.unwrap_err();
            assert!(matches!(error, CoreError::InvalidClient { .. }));
        }
        let unknown = authenticate_client(&store, &pepper(), &ClientId::new("nope"), Some(&secret)).await;
        assert!(matches!(unknown, Err(CoreError::InvalidClient { .. })));
    }

    #[tokio::test]
    async fn public_client_must_not_present_a_secret() {
        let store = MemoryStore::default();
        assert!(registered(&store, false).await.is_none());
        let id = ClientId::new("svc");
        assert!(authenticate_client(&store, &pepper(), &id, None).await.is_ok());
        let error = authenticate_client(&store, &pepper(), &id, Some(&ClientSecret::new("x"))).await;
        assert!(matches!(error, Err(CoreError::InvalidClient { .. })));
    }

    #[tokio::test]
    async fn bad_client_ids_are_refused_before_storage() {
        let store = MemoryStore::default();
        for bad in ["", "a:b", "has space", &"x".repeat(129)] {
            let request = NewClient { client_id: bad.into(), ..NewClient::default() };
            let result =
                register_client(&store, &TestRandom::new(1), &pepper(), request, Timestamp::from_unix(0)).await;
            assert!(matches!(result, Err(CoreError::InvalidRequest { field: "client_id", .. })), "{bad}");
        }
    }
}
