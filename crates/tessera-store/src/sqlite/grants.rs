//! Grants in SQLite. Revoking one is one transaction: the grant is marked, and each access
//! token it recorded that could still validate gets a `jti` revocation.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row as _, SqliteConnection};
use tessera_core::CoreError;
use tessera_core::clock::Timestamp;
use tessera_core::model::account::UserId;
use tessera_core::model::client::ClientId;
use tessera_core::model::grant::{AccessTokenRecord, Grant, GrantId, GrantStore};
use tessera_core::model::refresh::RefreshTokenHash;
use tessera_core::model::revocation::RETENTION_LEEWAY;
use tessera_core::model::session::SessionId;

use super::{SqliteStore, decode_list, encode_list, storage_error, write_error};

/// Grant columns, prefixed for the joins in this adapter.
pub(super) const GRANT_COLUMNS: &str = "g.id, g.client_id, g.user_id, g.sid, g.scopes, g.claims, g.created_at, \
                                        g.expires_at, g.revoked_at";

pub(super) fn grant_from_row(row: &SqliteRow) -> Result<Grant, CoreError> {
    let text = |name: &str| row.try_get::<String, _>(name).map_err(storage_error);
    let time = |name: &str| row.try_get::<i64, _>(name).map(Timestamp::from_unix).map_err(storage_error);
    Ok(Grant {
        id: GrantId::new(text("id")?),
        client_id: ClientId::new(text("client_id")?),
        user_id: UserId::new(text("user_id")?),
        sid: SessionId::new(text("sid")?),
        scopes: decode_list(&text("scopes")?)?,
        claims: serde_json::from_str(&text("claims")?)
            .map_err(|e| CoreError::CorruptData(format!("grant claims: {e}")))?,
        created_at: time("created_at")?,
        expires_at: time("expires_at")?,
        revoked_at: row.try_get::<Option<i64>, _>("revoked_at").map_err(storage_error)?.map(Timestamp::from_unix),
    })
}

/// Records an access token under its grant, inside the caller's transaction.
pub(super) async fn record_access_token(
    connection: &mut SqliteConnection,
    grant_id: &GrantId,
    token: &AccessTokenRecord,
) -> Result<(), CoreError> {
    sqlx::query("INSERT INTO grant_access_tokens (jti, grant_id, expires_at) VALUES (?, ?, ?)")
        .bind(&token.jti)
        .bind(grant_id.as_str())
        .bind(token.expires_at.unix())
        .execute(&mut *connection)
        .await
        .map_err(write_error("access token", "grant"))?;
    Ok(())
}

/// Revokes a grant and its live access tokens inside the caller's transaction; `false` if the
/// grant does not exist. A grant already revoked gains nothing: its tokens were revoked then.
pub(super) async fn revoke_grant_in(
    connection: &mut SqliteConnection,
    id: &GrantId,
    now: Timestamp,
) -> Result<bool, CoreError> {
    let newly: Option<String> =
        sqlx::query_scalar("UPDATE grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING id")
            .bind(now.unix())
            .bind(id.as_str())
            .fetch_optional(&mut *connection)
            .await
            .map_err(storage_error)?;
    if newly.is_none() {
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM grants WHERE id = ?")
            .bind(id.as_str())
            .fetch_optional(&mut *connection)
            .await
            .map_err(storage_error)?;
        return Ok(exists.is_some());
    }
    // Kept until no verifier's leeway can accept the token (revocation::retain_until).
    sqlx::query(
        "INSERT INTO revocations (kind, value, revoked_at, expires_at)
         SELECT 'jti', jti, ?, expires_at + ? FROM grant_access_tokens
         WHERE grant_id = ? AND expires_at + ? > ?
         ORDER BY expires_at, jti",
    )
    .bind(now.unix())
    .bind(RETENTION_LEEWAY)
    .bind(id.as_str())
    .bind(RETENTION_LEEWAY)
    .bind(now.unix())
    .execute(&mut *connection)
    .await
    .map_err(storage_error)?;
    Ok(true)
}

/// Stores a grant with its first refresh token and access token, inside the caller's transaction.
pub(super) async fn insert_grant_in(
    connection: &mut SqliteConnection,
    grant: &Grant,
    first_refresh: Option<&RefreshTokenHash>,
    access_token: &AccessTokenRecord,
) -> Result<(), CoreError> {
    sqlx::query(
        "INSERT INTO grants (id, client_id, user_id, sid, scopes, claims, created_at, expires_at, revoked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(grant.id.as_str())
    .bind(grant.client_id.as_str())
    .bind(grant.user_id.as_str())
    .bind(grant.sid.as_str())
    .bind(encode_list(&grant.scopes)?)
    .bind(serde_json::to_string(&grant.claims).map_err(|e| CoreError::CorruptData(e.to_string()))?)
    .bind(grant.created_at.unix())
    .bind(grant.expires_at.unix())
    .bind(grant.revoked_at.map(Timestamp::unix))
    .execute(&mut *connection)
    .await
    .map_err(write_error("grant", "client, account or session"))?;
    if let Some(first) = first_refresh {
        sqlx::query("INSERT INTO refresh_tokens (hash, grant_id, issued_at) VALUES (?, ?, ?)")
            .bind(first.as_bytes().as_slice())
            .bind(grant.id.as_str())
            .bind(grant.created_at.unix())
            .execute(&mut *connection)
            .await
            .map_err(write_error("grant", "grant"))?;
    }
    record_access_token(connection, &grant.id, access_token).await
}

#[async_trait]
impl GrantStore for SqliteStore {
    async fn create_grant(
        &self,
        grant: &Grant,
        first_refresh: Option<&RefreshTokenHash>,
        access_token: &AccessTokenRecord,
    ) -> Result<(), CoreError> {
        let (grant, first_refresh, access_token) = (grant.clone(), first_refresh.copied(), access_token.clone());
        self.write(move |connection| {
            Box::pin(async move { insert_grant_in(connection, &grant, first_refresh.as_ref(), &access_token).await })
        })
        .await
    }

    async fn grant(&self, id: &GrantId) -> Result<Option<Grant>, CoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {GRANT_COLUMNS} FROM grants g WHERE g.id = ?"));
        let row = sqlx::query(sql).bind(id.as_str()).fetch_optional(&self.pool).await.map_err(storage_error)?;
        row.as_ref().map(grant_from_row).transpose()
    }

    async fn grant_of_access_token(&self, jti: &str) -> Result<Option<Grant>, CoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {GRANT_COLUMNS} FROM grant_access_tokens a JOIN grants g ON g.id = a.grant_id WHERE a.jti = ?"
        ));
        let row = sqlx::query(sql).bind(jti).fetch_optional(&self.pool).await.map_err(storage_error)?;
        row.as_ref().map(grant_from_row).transpose()
    }

    async fn revoke_grant(&self, id: &GrantId, now: Timestamp) -> Result<bool, CoreError> {
        let id = id.clone();
        self.write(move |connection| Box::pin(async move { revoke_grant_in(connection, &id, now).await })).await
    }

    async fn purge_expired_grants(&self, now: Timestamp) -> Result<u64, CoreError> {
        // Their refresh tokens and access records go by ON DELETE CASCADE, chunk by chunk.
        let grants = self.purge_in_chunks("grants", "expires_at <= ?", now.unix()).await?;
        self.purge_in_chunks("grant_access_tokens", "expires_at <= ?", now.unix().saturating_sub(RETENTION_LEEWAY))
            .await?;
        Ok(grants)
    }
}
