//! Consent: the scopes a user has allowed a client, remembered so that the consent page asks
//! once per client and again only for scopes not allowed before (OIDC Core §3.1.2.4).

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::model::account::UserId;
use crate::model::client::ClientId;

/// Storage of consents.
#[async_trait]
pub trait ConsentStore: Send + Sync {
    /// The scopes `user_id` has allowed `client_id`, empty if none.
    async fn consented_scopes(&self, user_id: &UserId, client_id: &ClientId) -> Result<Vec<String>, CoreError>;

    /// Adds `scopes` to what `user_id` has allowed `client_id` (a union with the earlier ones).
    /// The user and client must exist; removing either removes the consent.
    async fn record_consent(
        &self,
        user_id: &UserId,
        client_id: &ClientId,
        scopes: &[String],
        now: Timestamp,
    ) -> Result<(), CoreError>;
}
