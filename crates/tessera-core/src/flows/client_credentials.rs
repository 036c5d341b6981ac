//! The `client_credentials` grant (RFC 6749 §4.4): a confidential client, already
//! authenticated, gets a token about itself. No storage and no grant: this is the hot path of
//! service-to-service calls, and such a token is revoked alone, by its `jti`.

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::flows::issuance::{Issuance, IssuedTokens};
use crate::model::client::{Client, GrantType};

/// Issues a client its own access token.
pub fn client_credentials(
    services: &Issuance<'_>,
    client: &Client,
    scope: Option<&str>,
    now: Timestamp,
) -> Result<IssuedTokens, CoreError> {
    // RFC 6749 §4.4: only a confidential client can prove who it is.
    if !client.is_confidential() {
        return Err(CoreError::UnauthorizedClient { grant_type: GrantType::ClientCredentials.as_str().to_owned() });
    }
    client.require_grant(GrantType::ClientCredentials)?;
    let scopes = client.grant_scopes(scope)?;
    let access_token = services.client_access_token(client, &scopes, now)?;
    Ok(IssuedTokens { access_token, refresh_token: None, scopes, sid: None, id_token: None })
}
