//! Sessions in SQLite.

use async_trait::async_trait;
use sqlx::Row as _;
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteRow;
use tessera_core::CoreError;
use tessera_core::clock::Timestamp;
use tessera_core::model::account::UserId;
use tessera_core::model::client::ClientId;
use tessera_core::model::grant::GrantId;
use tessera_core::model::session::{
    BrowserSession, Reauthentication, Session, SessionCookieHash, SessionId, SessionStore,
};

use super::grants::revoke_grant_in;
use super::{SqliteStore, decode_list, encode_list, storage_error, write_error};

const COLUMNS: &str = "sid, kind, user_id, client_id, auth_time, acr, amr, created_at, expires_at, revoked_at";

fn session_from_row(row: &SqliteRow) -> Result<Session, CoreError> {
    session_from_prefixed_row(row, "")
}

/// A session from columns named `{prefix}sid`, `{prefix}kind`, …, as a join aliases them.
pub(super) fn session_from_prefixed_row(row: &SqliteRow, prefix: &str) -> Result<Session, CoreError> {
    let name = |column: &str| format!("{prefix}{column}");
    let text = |column: &str| row.try_get::<String, _>(name(column).as_str()).map_err(storage_error);
    let time =
        |column: &str| row.try_get::<i64, _>(name(column).as_str()).map(Timestamp::from_unix).map_err(storage_error);
    let optional = |column: &str| row.try_get::<Option<String>, _>(name(column).as_str()).map_err(storage_error);
    Ok(Session {
        sid: SessionId::new(text("sid")?),
        kind: text("kind")?.parse()?,
        user_id: UserId::new(text("user_id")?),
        client_id: optional("client_id")?.map(ClientId::new),
        auth_time: time("auth_time")?,
        acr: optional("acr")?,
        amr: decode_list(&text("amr")?)?,
        created_at: time("created_at")?,
        expires_at: time("expires_at")?,
        revoked_at: row
            .try_get::<Option<i64>, _>(name("revoked_at").as_str())
            .map_err(storage_error)?
            .map(Timestamp::from_unix),
    })
}

/// Revokes each grant with its access tokens (`revoke_grant_in`), in the caller's transaction:
/// ending a session reaches by `jti` every token its grants recorded, whatever `iat` a refresh
/// racing the logout gave its token.
async fn revoke_grants_in(
    connection: &mut SqliteConnection,
    grants: Vec<String>,
    now: Timestamp,
) -> Result<(), CoreError> {
    for grant in grants {
        revoke_grant_in(connection, &GrantId::new(grant), now).await?;
    }
    Ok(())
}

/// Inserts a session, a browser one when `cookie` is given, inside the caller's transaction.
async fn insert_session(
    connection: &mut SqliteConnection,
    session: &Session,
    cookie: Option<&SessionCookieHash>,
) -> Result<(), CoreError> {
    sqlx::query(
        "INSERT INTO sessions (sid, kind, user_id, client_id, auth_time, acr, amr,
                               created_at, expires_at, revoked_at, cookie_hash, last_seen_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(session.sid.as_str())
    .bind(session.kind.as_str())
    .bind(session.user_id.as_str())
    .bind(session.client_id.as_ref().map(ClientId::as_str))
    .bind(session.auth_time.unix())
    .bind(session.acr.as_deref())
    .bind(encode_list(&session.amr)?)
    .bind(session.created_at.unix())
    .bind(session.expires_at.unix())
    .bind(session.revoked_at.map(Timestamp::unix))
    .bind(cookie.map(|hash| hash.0.to_vec()))
    .bind(cookie.map(|_| session.created_at.unix()))
    .execute(&mut *connection)
    .await
    .map_err(write_error("session", "account or client"))?;
    Ok(())
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(&self, session: &Session) -> Result<(), CoreError> {
        let session = session.clone();
        self.write(move |connection| Box::pin(async move { insert_session(connection, &session, None).await })).await
    }

    async fn session(&self, sid: &SessionId) -> Result<Option<Session>, CoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM sessions WHERE sid = ?"));
        let row = sqlx::query(sql).bind(sid.as_str()).fetch_optional(&self.pool).await.map_err(storage_error)?;
        row.as_ref().map(session_from_row).transpose()
    }

    async fn active_sessions(&self, user_id: &UserId, now: Timestamp) -> Result<Vec<Session>, CoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM sessions
             WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?
             ORDER BY created_at DESC, sid"
        ));
        let rows = sqlx::query(sql)
            .bind(user_id.as_str())
            .bind(now.unix())
            .fetch_all(&self.pool)
            .await
            .map_err(storage_error)?;
        rows.iter().map(session_from_row).collect()
    }

    async fn create_browser_session(&self, session: &Session, cookie: &SessionCookieHash) -> Result<(), CoreError> {
        let (session, cookie) = (session.clone(), *cookie);
        self.write(move |connection| Box::pin(async move { insert_session(connection, &session, Some(&cookie)).await }))
            .await
    }

    async fn browser_session(&self, cookie: &SessionCookieHash) -> Result<Option<BrowserSession>, CoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS}, last_seen_at FROM sessions WHERE cookie_hash = ?"));
        let row = sqlx::query(sql).bind(cookie.0.as_slice()).fetch_optional(&self.pool).await.map_err(storage_error)?;
        let Some(row) = row else { return Ok(None) };
        let session = session_from_row(&row)?;
        let last_seen_at = row
            .try_get::<Option<i64>, _>("last_seen_at")
            .map_err(storage_error)?
            .map_or(session.created_at, Timestamp::from_unix);
        Ok(Some(BrowserSession { session, last_seen_at }))
    }

    async fn touch_browser_session(&self, sid: &SessionId, now: Timestamp) -> Result<(), CoreError> {
        let sid = sid.clone();
        self.write(move |connection| {
            Box::pin(async move {
                sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE sid = ? AND last_seen_at < ?")
                    .bind(now.unix())
                    .bind(sid.as_str())
                    .bind(now.unix())
                    .execute(&mut *connection)
                    .await
                    .map_err(storage_error)?;
                Ok(())
            })
        })
        .await
    }

    async fn reauthenticate_session(&self, update: Reauthentication<'_>, now: Timestamp) -> Result<bool, CoreError> {
        let (sid, cookie, auth_time) = (update.sid.clone(), *update.cookie, update.auth_time);
        let (acr, amr) = (update.acr.map(str::to_owned), encode_list(update.amr)?);
        self.write(move |connection| {
            Box::pin(async move {
                let updated = sqlx::query(
                    "UPDATE sessions SET cookie_hash = ?, auth_time = ?, acr = ?, amr = ?, last_seen_at = ?
                     WHERE sid = ? AND revoked_at IS NULL AND expires_at > ?",
                )
                .bind(cookie.0.as_slice())
                .bind(auth_time.unix())
                .bind(acr)
                .bind(amr)
                .bind(now.unix())
                .bind(sid.as_str())
                .bind(now.unix())
                .execute(&mut *connection)
                .await
                .map_err(write_error("session", "session"))?;
                Ok(updated.rows_affected() == 1)
            })
        })
        .await
    }

    async fn revoke_session(&self, sid: &SessionId, now: Timestamp) -> Result<bool, CoreError> {
        let sid = sid.clone();
        self.write(move |connection| {
            Box::pin(async move {
                let found = sqlx::query("UPDATE sessions SET revoked_at = COALESCE(revoked_at, ?) WHERE sid = ?")
                    .bind(now.unix())
                    .bind(sid.as_str())
                    .execute(&mut *connection)
                    .await
                    .map_err(storage_error)?
                    .rows_affected()
                    == 1;
                let grants: Vec<String> =
                    sqlx::query_scalar("SELECT id FROM grants WHERE sid = ? AND revoked_at IS NULL")
                        .bind(sid.as_str())
                        .fetch_all(&mut *connection)
                        .await
                        .map_err(storage_error)?;
                revoke_grants_in(connection, grants, now).await?;
                Ok(found)
            })
        })
        .await
    }

    async fn revoke_user_sessions(&self, user_id: &UserId, now: Timestamp) -> Result<u64, CoreError> {
        let user_id = user_id.clone();
        self.write(move |connection| {
            Box::pin(async move {
                // Counted before the update: sessions that were still usable, not ones already ended.
                let active: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?",
                )
                .bind(user_id.as_str())
                .bind(now.unix())
                .fetch_one(&mut *connection)
                .await
                .map_err(storage_error)?;
                sqlx::query("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL")
                    .bind(now.unix())
                    .bind(user_id.as_str())
                    .execute(&mut *connection)
                    .await
                    .map_err(storage_error)?;
                let grants: Vec<String> =
                    sqlx::query_scalar("SELECT id FROM grants WHERE user_id = ? AND revoked_at IS NULL")
                        .bind(user_id.as_str())
                        .fetch_all(&mut *connection)
                        .await
                        .map_err(storage_error)?;
                revoke_grants_in(connection, grants, now).await?;
                Ok(u64::try_from(active).unwrap_or(0))
            })
        })
        .await
    }
}
