//! Consents in SQLite: one row per user and client, its scopes a JSON list grown by union.

use async_trait::async_trait;
use tessera_core::CoreError;
use tessera_core::clock::Timestamp;
use tessera_core::model::account::UserId;
use tessera_core::model::client::ClientId;
use tessera_core::model::consent::ConsentStore;

use super::{SqliteStore, decode_list, encode_list, storage_error, write_error};

#[async_trait]
impl ConsentStore for SqliteStore {
    async fn consented_scopes(&self, user_id: &UserId, client_id: &ClientId) -> Result<Vec<String>, CoreError> {
        let scopes: Option<String> =
            sqlx::query_scalar("SELECT scopes FROM consents WHERE user_id = ? AND client_id = ?")
                .bind(user_id.as_str())
                .bind(client_id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(storage_error)?;
        scopes.map_or(Ok(Vec::new()), |scopes| decode_list(&scopes))
    }

    async fn record_consent(
        &self,
        user_id: &UserId,
        client_id: &ClientId,
        scopes: &[String],
        now: Timestamp,
    ) -> Result<(), CoreError> {
        let (user_id, client_id, scopes) = (user_id.clone(), client_id.clone(), scopes.to_vec());
        self.write(move |connection| {
            Box::pin(async move {
                // Read and write in the writer's transaction: two tabs consenting at once both count.
                let earlier: Option<String> =
                    sqlx::query_scalar("SELECT scopes FROM consents WHERE user_id = ? AND client_id = ?")
                        .bind(user_id.as_str())
                        .bind(client_id.as_str())
                        .fetch_optional(&mut *connection)
                        .await
                        .map_err(storage_error)?;
                let mut all: Vec<String> = earlier.map_or(Ok(Vec::new()), |s| decode_list(&s))?;
                for scope in scopes {
                    if !all.contains(&scope) {
                        all.push(scope);
                    }
                }
                sqlx::query(
                    "INSERT INTO consents (user_id, client_id, scopes, granted_at) VALUES (?, ?, ?, ?)
                     ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at",
                )
                .bind(user_id.as_str())
                .bind(client_id.as_str())
                .bind(encode_list(&all)?)
                .bind(now.unix())
                .execute(&mut *connection)
                .await
                .map_err(write_error("consent", "account or client"))?;
                Ok(())
            })
        })
        .await
    }
}
