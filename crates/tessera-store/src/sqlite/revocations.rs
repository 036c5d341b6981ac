//! Revocations in SQLite: an append-only table whose `seq` is the feed position.

use async_trait::async_trait;
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;
use tessera_core::CoreError;
use tessera_core::clock::Timestamp;
use tessera_core::model::revocation::{Revocation, RevocationQuery, RevocationStore, RevocationTarget};

use super::{SqliteStore, storage_error};

fn revocation_from_row(row: &SqliteRow) -> Result<Revocation, CoreError> {
    let kind: String = row.try_get("kind").map_err(storage_error)?;
    let value: String = row.try_get("value").map_err(storage_error)?;
    let target = match kind.as_str() {
        "jti" => RevocationTarget::Jti(value),
        "sid" => RevocationTarget::Sid(value),
        "sub" => RevocationTarget::Sub(value),
        other => {
            return Err(CoreError::CorruptData(format!("unknown revocation kind {other:?}")));
        }
    };
    Ok(Revocation {
        seq: row.try_get("seq").map_err(storage_error)?,
        target,
        revoked_at: Timestamp::from_unix(row.try_get("revoked_at").map_err(storage_error)?),
        expires_at: Timestamp::from_unix(row.try_get("expires_at").map_err(storage_error)?),
    })
}

#[async_trait]
impl RevocationStore for SqliteStore {
    async fn revoke(
        &self,
        target: &RevocationTarget,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Revocation, CoreError> {
        let target = target.clone();
        self.write(move |connection| {
            Box::pin(async move {
                let row = sqlx::query(
                    "INSERT INTO revocations (kind, value, revoked_at, expires_at) VALUES (?, ?, ?, ?)
                     RETURNING seq, kind, value, revoked_at, expires_at",
                )
                .bind(target.kind())
                .bind(target.value())
                .bind(now.unix())
                .bind(expires_at.unix())
                .fetch_one(&mut *connection)
                .await
                .map_err(storage_error)?;
                revocation_from_row(&row)
            })
        })
        .await
    }

    async fn find_revocation(&self, query: RevocationQuery<'_>) -> Result<Option<Revocation>, CoreError> {
        let row = sqlx::query(
            "SELECT seq, kind, value, revoked_at, expires_at FROM revocations
             WHERE (kind = 'jti' AND value = ?)
                OR (kind = 'sid' AND value = ? AND revoked_at >= ?)
                OR (kind = 'sub' AND value = ? AND revoked_at >= ?)
             ORDER BY seq LIMIT 1",
        )
        .bind(query.jti)
        .bind(query.sid)
        .bind(query.issued_at.unix())
        .bind(query.sub)
        .bind(query.issued_at.unix())
        .fetch_optional(&self.pool)
        .await
        .map_err(storage_error)?;
        row.as_ref().map(revocation_from_row).transpose()
    }

    async fn revocations_after(&self, after: i64, limit: u32) -> Result<Vec<Revocation>, CoreError> {
        let rows = sqlx::query(
            "SELECT seq, kind, value, revoked_at, expires_at FROM revocations
             WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(storage_error)?;
        rows.iter().map(revocation_from_row).collect()
    }

    async fn purge_expired_revocations(&self, now: Timestamp) -> Result<u64, CoreError> {
        self.purge_in_chunks("revocations", "expires_at <= ?", now.unix()).await
    }
}
