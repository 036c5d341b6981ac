//! Clients in SQLite.

use async_trait::async_trait;
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;
use tessera_core::CoreError;
use tessera_core::clock::Timestamp;
use tessera_core::model::client::{Client, ClientId, ClientKind, ClientStore};
use tessera_core::secrets::client_secret::ClientSecretHash;

use super::{SqliteStore, decode_list, encode_list, storage_error, write_error};

const COLUMNS: &str = "client_id, secret_hash, redirect_uris, grant_types, scopes, audiences, \
                       access_ttl, refresh_ttl, browser, created_at";

fn client_from_row(row: &SqliteRow) -> Result<Client, CoreError> {
    let text = |name: &str| row.try_get::<String, _>(name).map_err(storage_error);
    let kind = match row.try_get::<Option<Vec<u8>>, _>("secret_hash").map_err(storage_error)? {
        Some(bytes) => ClientKind::Confidential { secret_hash: ClientSecretHash::from_bytes(&bytes)? },
        None => ClientKind::Public,
    };
    Ok(Client {
        client_id: ClientId::new(text("client_id")?),
        kind,
        redirect_uris: decode_list(&text("redirect_uris")?)?,
        grant_types: decode_list(&text("grant_types")?)?,
        scopes: decode_list(&text("scopes")?)?,
        audiences: decode_list(&text("audiences")?)?,
        access_ttl: row.try_get("access_ttl").map_err(storage_error)?,
        refresh_ttl: row.try_get("refresh_ttl").map_err(storage_error)?,
        browser: serde_json::from_str(&text("browser")?)
            .map_err(|e| CoreError::CorruptData(format!("client browser settings: {e}")))?,
        created_at: Timestamp::from_unix(row.try_get("created_at").map_err(storage_error)?),
    })
}

#[async_trait]
impl ClientStore for SqliteStore {
    async fn create_client(&self, client: &Client) -> Result<(), CoreError> {
        let secret_hash = match &client.kind {
            ClientKind::Confidential { secret_hash } => Some(secret_hash.as_bytes().to_vec()),
            ClientKind::Public => None,
        };
        sqlx::query(
            "INSERT INTO clients (client_id, secret_hash, redirect_uris, grant_types, scopes,
                                  audiences, access_ttl, refresh_ttl, browser, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(client.client_id.as_str())
        .bind(secret_hash)
        .bind(encode_list(&client.redirect_uris)?)
        .bind(encode_list(&client.grant_types)?)
        .bind(encode_list(&client.scopes)?)
        .bind(encode_list(&client.audiences)?)
        .bind(client.access_ttl)
        .bind(client.refresh_ttl)
        .bind(serde_json::to_string(&client.browser).map_err(|e| CoreError::CorruptData(e.to_string()))?)
        .bind(client.created_at.unix())
        .execute(&self.pool)
        .await
        .map_err(write_error("client", "client"))?;
        Ok(())
    }

    async fn client(&self, client_id: &ClientId) -> Result<Option<Client>, CoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM clients WHERE client_id = ?"));
        let row = sqlx::query(sql).bind(client_id.as_str()).fetch_optional(&self.pool).await.map_err(storage_error)?;
        row.as_ref().map(client_from_row).transpose()
    }

    async fn list_clients(&self) -> Result<Vec<Client>, CoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM clients ORDER BY client_id"));
        let rows = sqlx::query(sql).fetch_all(&self.pool).await.map_err(storage_error)?;
        rows.iter().map(client_from_row).collect()
    }

    async fn update_client(&self, client: &Client) -> Result<bool, CoreError> {
        let result = sqlx::query(
            "UPDATE clients SET redirect_uris = ?, grant_types = ?, scopes = ?, audiences = ?, access_ttl = ?,
                                refresh_ttl = ?, browser = ?
             WHERE client_id = ?",
        )
        .bind(encode_list(&client.redirect_uris)?)
        .bind(encode_list(&client.grant_types)?)
        .bind(encode_list(&client.scopes)?)
        .bind(encode_list(&client.audiences)?)
        .bind(client.access_ttl)
        .bind(client.refresh_ttl)
        .bind(serde_json::to_string(&client.browser).map_err(|e| CoreError::CorruptData(e.to_string()))?)
        .bind(client.client_id.as_str())
        .execute(&self.pool)
        .await
        .map_err(storage_error)?;
        Ok(result.rows_affected() == 1)
    }

    async fn remove_client(&self, client_id: &ClientId) -> Result<bool, CoreError> {
        // The foreign keys cascade: the client's grants and tokens go with it in this
        // one statement, and its sessions lose their client reference.
        let result = sqlx::query("DELETE FROM clients WHERE client_id = ?")
            .bind(client_id.as_str())
            .execute(&self.pool)
            .await
            .map_err(storage_error)?;
        Ok(result.rows_affected() == 1)
    }
}
