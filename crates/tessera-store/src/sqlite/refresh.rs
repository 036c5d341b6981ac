//! Refresh families and tokens in SQLite. Rotation is one `BEGIN IMMEDIATE` transaction: the
//! lock is held from the lookup to the commit, so the decision and its writes are one step.

use async_trait::async_trait;
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;
use tessera_core::CoreError;
use tessera_core::account::UserId;
use tessera_core::client::ClientId;
use tessera_core::clock::Timestamp;
use tessera_core::refresh::{
    FamilyId, RefreshFamily, RefreshStore, RefreshTokenHash, RefreshTokenRecord, RotateOutcome,
};
use tessera_core::session::SessionId;

use super::{SqliteStore, decode_list, encode_list, storage_error, write_error};

/// Family columns, prefixed for the joins below.
const FAMILY_COLUMNS: &str = "f.id, f.client_id, f.user_id, f.sid, f.scopes, f.created_at, \
                              f.expires_at, f.revoked_at";

fn family_from_row(row: &SqliteRow) -> Result<RefreshFamily, CoreError> {
    let text = |name: &str| row.try_get::<String, _>(name).map_err(storage_error);
    let time = |name: &str| row.try_get::<i64, _>(name).map(Timestamp::from_unix).map_err(storage_error);
    Ok(RefreshFamily {
        id: FamilyId::new(text("id")?),
        client_id: ClientId::new(text("client_id")?),
        user_id: UserId::new(text("user_id")?),
        sid: SessionId::new(text("sid")?),
        scopes: decode_list(&text("scopes")?)?,
        created_at: time("created_at")?,
        expires_at: time("expires_at")?,
        revoked_at: row.try_get::<Option<i64>, _>("revoked_at").map_err(storage_error)?.map(Timestamp::from_unix),
    })
}

fn token_from_row(row: &SqliteRow) -> Result<RefreshTokenRecord, CoreError> {
    let hash: Vec<u8> = row.try_get("hash").map_err(storage_error)?;
    Ok(RefreshTokenRecord {
        hash: RefreshTokenHash::from_bytes(&hash)?,
        family_id: FamilyId::new(row.try_get::<String, _>("family_id").map_err(storage_error)?),
        issued_at: Timestamp::from_unix(row.try_get("issued_at").map_err(storage_error)?),
        used_at: row.try_get::<Option<i64>, _>("used_at").map_err(storage_error)?.map(Timestamp::from_unix),
    })
}

#[async_trait]
impl RefreshStore for SqliteStore {
    async fn create_refresh_family(&self, family: &RefreshFamily, first: &RefreshTokenHash) -> Result<(), CoreError> {
        let mut transaction = self.write_transaction().await?;
        sqlx::query(
            "INSERT INTO refresh_families (id, client_id, user_id, sid, scopes, created_at,
                                           expires_at, revoked_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(family.id.as_str())
        .bind(family.client_id.as_str())
        .bind(family.user_id.as_str())
        .bind(family.sid.as_str())
        .bind(encode_list(&family.scopes)?)
        .bind(family.created_at.unix())
        .bind(family.expires_at.unix())
        .bind(family.revoked_at.map(Timestamp::unix))
        .execute(&mut *transaction)
        .await
        .map_err(write_error("refresh family", "client, account or session"))?;
        sqlx::query("INSERT INTO refresh_tokens (hash, family_id, issued_at) VALUES (?, ?, ?)")
            .bind(first.as_bytes().as_slice())
            .bind(family.id.as_str())
            .bind(family.created_at.unix())
            .execute(&mut *transaction)
            .await
            .map_err(write_error("refresh token", "refresh family"))?;
        transaction.commit().await.map_err(storage_error)
    }

    async fn rotate_refresh_token(
        &self,
        presented: &RefreshTokenHash,
        replacement: &RefreshTokenHash,
        client_id: &ClientId,
        now: Timestamp,
    ) -> Result<RotateOutcome, CoreError> {
        let mut transaction = self.write_transaction().await?;
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {FAMILY_COLUMNS}, t.used_at
             FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
             WHERE t.hash = ?"
        ));
        let row = sqlx::query(sql)
            .bind(presented.as_bytes().as_slice())
            .fetch_optional(&mut *transaction)
            .await
            .map_err(storage_error)?;
        // Every early return drops the transaction, which rolls back: nothing was written.
        let Some(row) = row else {
            return Ok(RotateOutcome::Unknown);
        };
        let family = family_from_row(&row)?;
        let used_at: Option<i64> = row.try_get("used_at").map_err(storage_error)?;
        if &family.client_id != client_id {
            return Ok(RotateOutcome::ClientMismatch);
        }
        if used_at.is_some() {
            // RFC 9700 §4.14.2: reuse of a rotated token revokes the whole family, committed
            // before the caller hears about it.
            sqlx::query("UPDATE refresh_families SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?")
                .bind(now.unix())
                .bind(family.id.as_str())
                .execute(&mut *transaction)
                .await
                .map_err(storage_error)?;
            transaction.commit().await.map_err(storage_error)?;
            return Ok(RotateOutcome::Reused { family_id: family.id });
        }
        if family.revoked_at.is_some() {
            return Ok(RotateOutcome::Revoked { family_id: family.id });
        }
        if now >= family.expires_at {
            return Ok(RotateOutcome::Expired);
        }
        sqlx::query("UPDATE refresh_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL")
            .bind(now.unix())
            .bind(presented.as_bytes().as_slice())
            .execute(&mut *transaction)
            .await
            .map_err(storage_error)?;
        sqlx::query("INSERT INTO refresh_tokens (hash, family_id, issued_at) VALUES (?, ?, ?)")
            .bind(replacement.as_bytes().as_slice())
            .bind(family.id.as_str())
            .bind(now.unix())
            .execute(&mut *transaction)
            .await
            .map_err(write_error("refresh token", "refresh family"))?;
        transaction.commit().await.map_err(storage_error)?;
        Ok(RotateOutcome::Rotated { family })
    }

    async fn refresh_token(
        &self,
        hash: &RefreshTokenHash,
    ) -> Result<Option<(RefreshFamily, RefreshTokenRecord)>, CoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {FAMILY_COLUMNS}, t.hash, t.family_id, t.issued_at, t.used_at
             FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
             WHERE t.hash = ?"
        ));
        let row = sqlx::query(sql)
            .bind(hash.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(storage_error)?;
        row.map(|row| Ok((family_from_row(&row)?, token_from_row(&row)?))).transpose()
    }

    async fn refresh_family(&self, id: &FamilyId) -> Result<Option<RefreshFamily>, CoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {FAMILY_COLUMNS} FROM refresh_families f WHERE f.id = ?"));
        let row = sqlx::query(sql).bind(id.as_str()).fetch_optional(&self.pool).await.map_err(storage_error)?;
        row.as_ref().map(family_from_row).transpose()
    }

    async fn revoke_refresh_family(&self, id: &FamilyId, now: Timestamp) -> Result<bool, CoreError> {
        let result = sqlx::query("UPDATE refresh_families SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?")
            .bind(now.unix())
            .bind(id.as_str())
            .execute(&self.pool)
            .await
            .map_err(storage_error)?;
        Ok(result.rows_affected() == 1)
    }

    async fn revoke_refresh_token(
        &self,
        hash: &RefreshTokenHash,
        client_id: &ClientId,
        now: Timestamp,
    ) -> Result<Option<FamilyId>, CoreError> {
        let family: Option<String> = sqlx::query_scalar(
            "UPDATE refresh_families SET revoked_at = COALESCE(revoked_at, ?)
             WHERE client_id = ?
               AND id = (SELECT family_id FROM refresh_tokens WHERE hash = ?)
             RETURNING id",
        )
        .bind(now.unix())
        .bind(client_id.as_str())
        .bind(hash.as_bytes().as_slice())
        .fetch_optional(&self.pool)
        .await
        .map_err(storage_error)?;
        Ok(family.map(FamilyId::new))
    }

    async fn purge_expired_refresh_families(&self, now: Timestamp) -> Result<u64, CoreError> {
        let result = sqlx::query("DELETE FROM refresh_families WHERE expires_at <= ?")
            .bind(now.unix())
            .execute(&self.pool)
            .await
            .map_err(storage_error)?;
        Ok(result.rows_affected())
    }
}
