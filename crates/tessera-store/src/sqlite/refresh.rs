//! Refresh tokens in SQLite. Rotation is one `BEGIN IMMEDIATE` transaction: the lock is held
//! from the lookup to the commit, so the decision and its writes are one step.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row as _, SqliteConnection};
use tessera_core::CoreError;
use tessera_core::clock::Timestamp;
use tessera_core::model::client::ClientId;
use tessera_core::model::grant::{Grant, GrantId};
use tessera_core::model::refresh::{
    RefreshContext, RefreshStore, RefreshTokenHash, RefreshTokenRecord, RotateOutcome, Rotation,
};

use super::grants::{GRANT_COLUMNS, grant_from_row, record_access_token, revoke_grant_in};
use super::sessions::session_from_prefixed_row;
use super::{SqliteStore, storage_error, write_error};

fn token_from_row(row: &SqliteRow) -> Result<RefreshTokenRecord, CoreError> {
    let hash: Vec<u8> = row.try_get("hash").map_err(storage_error)?;
    Ok(RefreshTokenRecord {
        hash: RefreshTokenHash::from_bytes(&hash)?,
        grant_id: GrantId::new(row.try_get::<String, _>("grant_id").map_err(storage_error)?),
        issued_at: Timestamp::from_unix(row.try_get("issued_at").map_err(storage_error)?),
        used_at: row.try_get::<Option<i64>, _>("used_at").map_err(storage_error)?.map(Timestamp::from_unix),
    })
}

#[async_trait]
impl RefreshStore for SqliteStore {
    async fn rotate_refresh_token(&self, rotation: Rotation<'_>, now: Timestamp) -> Result<RotateOutcome, CoreError> {
        let (presented, replacement) = (*rotation.presented, *rotation.replacement);
        let (client_id, access_token) = (rotation.client_id.clone(), rotation.access_token.clone());
        let reuse_interval = rotation.reuse_interval;
        self.write(move |connection| {
            Box::pin(async move {
                let rotation = Rotation {
                    presented: &presented,
                    replacement: &replacement,
                    client_id: &client_id,
                    access_token: &access_token,
                    reuse_interval,
                };
                rotate_in(connection, rotation, now).await
            })
        })
        .await
    }

    async fn refresh_token(&self, hash: &RefreshTokenHash) -> Result<Option<(Grant, RefreshTokenRecord)>, CoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {GRANT_COLUMNS}, t.hash, t.grant_id, t.issued_at, t.used_at
             FROM refresh_tokens t JOIN grants g ON g.id = t.grant_id
             WHERE t.hash = ?"
        ));
        let row = sqlx::query(sql)
            .bind(hash.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(storage_error)?;
        row.map(|row| Ok((grant_from_row(&row)?, token_from_row(&row)?))).transpose()
    }

    async fn refresh_context(&self, hash: &RefreshTokenHash) -> Result<Option<RefreshContext>, CoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {GRANT_COLUMNS}, t.hash, t.grant_id, t.issued_at, t.used_at,
                    s.sid AS s_sid, s.kind AS s_kind, s.user_id AS s_user_id, s.client_id AS s_client_id,
                    s.auth_time AS s_auth_time, s.acr AS s_acr, s.amr AS s_amr,
                    s.created_at AS s_created_at, s.expires_at AS s_expires_at, s.revoked_at AS s_revoked_at,
                    a.disabled AS account_disabled
             FROM refresh_tokens t JOIN grants g ON g.id = t.grant_id
             LEFT JOIN sessions s ON s.sid = g.sid
             LEFT JOIN accounts a ON a.id = g.user_id
             WHERE t.hash = ?"
        ));
        let row = sqlx::query(sql)
            .bind(hash.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(storage_error)?;
        let Some(row) = row else { return Ok(None) };
        let has_session = row.try_get::<Option<String>, _>("s_sid").map_err(storage_error)?.is_some();
        let disabled: Option<bool> = row.try_get("account_disabled").map_err(storage_error)?;
        Ok(Some(RefreshContext {
            grant: grant_from_row(&row)?,
            token: token_from_row(&row)?,
            session: if has_session { Some(session_from_prefixed_row(&row, "s_")?) } else { None },
            account_active: disabled == Some(false),
        }))
    }

    async fn revoke_refresh_token(
        &self,
        hash: &RefreshTokenHash,
        client_id: &ClientId,
        now: Timestamp,
    ) -> Result<Option<GrantId>, CoreError> {
        let (hash, client_id) = (*hash, client_id.clone());
        self.write(move |connection| {
            Box::pin(async move {
                let grant: Option<String> = sqlx::query_scalar(
                    "SELECT g.id FROM refresh_tokens t JOIN grants g ON g.id = t.grant_id
                     WHERE t.hash = ? AND g.client_id = ?",
                )
                .bind(hash.as_bytes().as_slice())
                .bind(client_id.as_str())
                .fetch_optional(&mut *connection)
                .await
                .map_err(storage_error)?;
                let Some(grant) = grant.map(GrantId::new) else {
                    return Ok(None);
                };
                revoke_grant_in(connection, &grant, now).await?;
                Ok(Some(grant))
            })
        })
        .await
    }
}

/// The rotation itself, on the writer's connection inside the batch's transaction: the lookup
/// and every write of the decision are one step.
async fn rotate_in(
    connection: &mut SqliteConnection,
    rotation: Rotation<'_>,
    now: Timestamp,
) -> Result<RotateOutcome, CoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {GRANT_COLUMNS}, t.used_at, t.retried_at
             FROM refresh_tokens t JOIN grants g ON g.id = t.grant_id
             WHERE t.hash = ?"
    ));
    let row = sqlx::query(sql)
        .bind(rotation.presented.as_bytes().as_slice())
        .fetch_optional(&mut *connection)
        .await
        .map_err(storage_error)?;
    // An early return has written nothing.
    let Some(row) = row else {
        return Ok(RotateOutcome::Unknown);
    };
    let grant: Grant = grant_from_row(&row)?;
    let used_at: Option<i64> = row.try_get("used_at").map_err(storage_error)?;
    let retried = row.try_get::<Option<i64>, _>("retried_at").map_err(storage_error)?.is_some();
    if &grant.client_id != rotation.client_id {
        return Ok(RotateOutcome::ClientMismatch);
    }
    let retry = match used_at {
        // A benign retry within tokens.refresh_reuse_interval (docs/SECURITY.md).
        Some(used_at) if rotation.is_retry(&grant, Timestamp::from_unix(used_at), retried, now) => true,
        Some(_) => {
            // RFC 9700 §4.14.2: reuse of a rotated token revokes the whole grant, with its
            // access tokens, committed before the caller hears about it.
            revoke_grant_in(connection, &grant.id, now).await?;
            return Ok(RotateOutcome::Reused { grant_id: grant.id });
        }
        None => false,
    };
    if grant.revoked_at.is_some() {
        return Ok(RotateOutcome::Revoked { grant_id: grant.id });
    }
    if now >= grant.expires_at {
        return Ok(RotateOutcome::Expired);
    }
    // A retry marks the presented token retried (one retry per token); a rotation marks it used.
    let mark = if retry {
        "UPDATE refresh_tokens SET retried_at = ? WHERE hash = ? AND retried_at IS NULL"
    } else {
        "UPDATE refresh_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL"
    };
    sqlx::query(mark)
        .bind(now.unix())
        .bind(rotation.presented.as_bytes().as_slice())
        .execute(&mut *connection)
        .await
        .map_err(storage_error)?;
    sqlx::query("INSERT INTO refresh_tokens (hash, grant_id, issued_at) VALUES (?, ?, ?)")
        .bind(rotation.replacement.as_bytes().as_slice())
        .bind(grant.id.as_str())
        .bind(now.unix())
        .execute(&mut *connection)
        .await
        .map_err(write_error("refresh token", "grant"))?;
    record_access_token(connection, &grant.id, rotation.access_token).await?;
    Ok(if retry { RotateOutcome::Retried { grant } } else { RotateOutcome::Rotated { grant } })
}
