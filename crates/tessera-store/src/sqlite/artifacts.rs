//! Single-use artifacts in SQLite, written through the group-commit writer: a take is one
//! conditional `UPDATE … RETURNING`; a verify (find, compare, count the attempt) is one step of
//! the writer's transaction, so no other write comes between its read and its update.

use async_trait::async_trait;
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;
use tessera_core::CoreError;
use tessera_core::clock::Timestamp;
use tessera_core::model::artifact::{Artifact, ArtifactHash, ArtifactKind, ArtifactStore, GrantToStore, Redeemed};
use tessera_core::model::grant::GrantId;

use super::grants::insert_grant_in;
use super::{SqliteStore, storage_error, write_error};

const COLUMNS: &str =
    "kind, hash, subject, grant_id, payload, max_attempts, attempts, created_at, expires_at, taken_at";

/// An artifact row, with the attempts made and whether it was taken.
struct Row {
    artifact: Artifact,
    attempts: u32,
    taken: bool,
}

fn from_row(row: &SqliteRow) -> Result<Row, CoreError> {
    let get_i64 = |name: &str| row.try_get::<i64, _>(name).map_err(storage_error);
    let hash: Vec<u8> = row.try_get("hash").map_err(storage_error)?;
    let hash: [u8; 32] = hash.try_into().map_err(|_| CoreError::CorruptData("artifact hash is not 32 bytes".into()))?;
    let payload: String = row.try_get("payload").map_err(storage_error)?;
    let count = |value: i64| u32::try_from(value).map_err(|_| CoreError::CorruptData("artifact attempts".into()));
    Ok(Row {
        artifact: Artifact {
            kind: ArtifactKind::from_name(&row.try_get::<String, _>("kind").map_err(storage_error)?)?,
            hash: ArtifactHash(hash),
            subject: row.try_get("subject").map_err(storage_error)?,
            grant_id: row.try_get::<Option<String>, _>("grant_id").map_err(storage_error)?.map(GrantId::new),
            payload: serde_json::from_str(&payload)
                .map_err(|e| CoreError::CorruptData(format!("artifact payload: {e}")))?,
            max_attempts: count(get_i64("max_attempts")?)?,
            created_at: Timestamp::from_unix(get_i64("created_at")?),
            expires_at: Timestamp::from_unix(get_i64("expires_at")?),
        },
        attempts: count(get_i64("attempts")?)?,
        taken: row.try_get::<Option<i64>, _>("taken_at").map_err(storage_error)?.is_some(),
    })
}

/// After a conditional take matched nothing, inside the same transaction: a replay (taken
/// before) reported with the artifact, or unknown (dead, voided, absent).
async fn not_taken_now(
    connection: &mut sqlx::SqliteConnection,
    kind: ArtifactKind,
    hash: &ArtifactHash,
) -> Result<Redeemed, CoreError> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM artifacts WHERE kind = ? AND hash = ?"));
    let row = sqlx::query(sql)
        .bind(kind.as_str())
        .bind(hash.0.as_slice())
        .fetch_optional(&mut *connection)
        .await
        .map_err(storage_error)?;
    match row.as_ref().map(from_row).transpose()? {
        Some(row) if row.taken => Ok(Redeemed::AlreadyTaken(row.artifact)),
        _ => Ok(Redeemed::Unknown),
    }
}

#[async_trait]
impl ArtifactStore for SqliteStore {
    async fn put_artifact(&self, artifact: &Artifact, now: Timestamp) -> Result<(), CoreError> {
        let artifact = artifact.clone();
        self.write(move |connection| {
            Box::pin(async move {
                if artifact.kind.voids_previous() {
                    sqlx::query(
                        "UPDATE artifacts SET voided_at = ?
                         WHERE kind = ? AND subject = ? AND taken_at IS NULL AND voided_at IS NULL",
                    )
                    .bind(now.unix())
                    .bind(artifact.kind.as_str())
                    .bind(&artifact.subject)
                    .execute(&mut *connection)
                    .await
                    .map_err(storage_error)?;
                }
                let payload =
                    serde_json::to_string(&artifact.payload).map_err(|e| CoreError::CorruptData(e.to_string()))?;
                sqlx::query(
                    "INSERT INTO artifacts (kind, hash, subject, grant_id, payload, max_attempts, created_at, expires_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(artifact.kind.as_str())
                .bind(artifact.hash.0.as_slice())
                .bind(&artifact.subject)
                .bind(artifact.grant_id.as_ref().map(GrantId::as_str))
                .bind(payload)
                .bind(i64::from(artifact.max_attempts))
                .bind(artifact.created_at.unix())
                .bind(artifact.expires_at.unix())
                .execute(&mut *connection)
                .await
                .map_err(write_error("artifact", "artifact"))?;
                Ok(())
            })
        })
        .await
    }

    async fn take_artifact(
        &self,
        kind: ArtifactKind,
        hash: &ArtifactHash,
        now: Timestamp,
    ) -> Result<Redeemed, CoreError> {
        let hash = *hash;
        self.write(move |connection| {
            Box::pin(async move {
                // The decision is this one statement: exactly one concurrent caller matches the row.
                let sql = sqlx::AssertSqlSafe(format!(
                    "UPDATE artifacts SET taken_at = ?
                     WHERE kind = ? AND hash = ? AND taken_at IS NULL AND voided_at IS NULL
                       AND expires_at > ? AND attempts < max_attempts
                     RETURNING {COLUMNS}"
                ));
                let taken = sqlx::query(sql)
                    .bind(now.unix())
                    .bind(kind.as_str())
                    .bind(hash.0.as_slice())
                    .bind(now.unix())
                    .fetch_optional(&mut *connection)
                    .await
                    .map_err(storage_error)?;
                if let Some(row) = taken {
                    return Ok(Redeemed::Taken(from_row(&row)?.artifact));
                }
                // Same transaction: this read sees exactly what the update decided.
                not_taken_now(connection, kind, &hash).await
            })
        })
        .await
    }

    async fn peek_artifact(
        &self,
        kind: ArtifactKind,
        hash: &ArtifactHash,
        now: Timestamp,
    ) -> Result<Option<Artifact>, CoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM artifacts
             WHERE kind = ? AND hash = ? AND taken_at IS NULL AND voided_at IS NULL
               AND expires_at > ? AND attempts < max_attempts"
        ));
        let row = sqlx::query(sql)
            .bind(kind.as_str())
            .bind(hash.0.as_slice())
            .bind(now.unix())
            .fetch_optional(&self.pool)
            .await
            .map_err(storage_error)?;
        Ok(row.as_ref().map(from_row).transpose()?.map(|row| row.artifact))
    }

    async fn redeem_for_grant(
        &self,
        kind: ArtifactKind,
        hash: &ArtifactHash,
        grant: GrantToStore<'_>,
        now: Timestamp,
    ) -> Result<Redeemed, CoreError> {
        let hash = *hash;
        let (stored, first_refresh, access_token) =
            (grant.grant.clone(), grant.first_refresh.copied(), grant.access_token.clone());
        self.write(move |connection| {
            Box::pin(async move {
                // The take and the grant in one savepoint: a failing insert undoes the take.
                let sql = sqlx::AssertSqlSafe(format!(
                    "UPDATE artifacts SET taken_at = ?, grant_id = ?
                     WHERE kind = ? AND hash = ? AND taken_at IS NULL AND voided_at IS NULL
                       AND expires_at > ? AND attempts < max_attempts
                     RETURNING {COLUMNS}"
                ));
                let taken = sqlx::query(sql)
                    .bind(now.unix())
                    .bind(stored.id.as_str())
                    .bind(kind.as_str())
                    .bind(hash.0.as_slice())
                    .bind(now.unix())
                    .fetch_optional(&mut *connection)
                    .await
                    .map_err(storage_error)?;
                if let Some(row) = taken {
                    insert_grant_in(connection, &stored, first_refresh.as_ref(), &access_token).await?;
                    return Ok(Redeemed::Taken(from_row(&row)?.artifact));
                }
                not_taken_now(connection, kind, &hash).await
            })
        })
        .await
    }

    async fn verify_artifact(
        &self,
        kind: ArtifactKind,
        subject: &str,
        presented: &ArtifactHash,
        now: Timestamp,
    ) -> Result<Redeemed, CoreError> {
        let (subject, presented) = (subject.to_owned(), *presented);
        self.write(move |connection| {
            Box::pin(async move {
                let sql = sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM artifacts
                     WHERE kind = ? AND subject = ? AND taken_at IS NULL AND voided_at IS NULL AND expires_at > ?
                     ORDER BY created_at DESC, rowid DESC LIMIT 1"
                ));
                let row = sqlx::query(sql)
                    .bind(kind.as_str())
                    .bind(&subject)
                    .bind(now.unix())
                    .fetch_optional(&mut *connection)
                    .await
                    .map_err(storage_error)?;
                let Some(row) = row.as_ref().map(from_row).transpose()? else {
                    return Ok(Redeemed::Unknown);
                };
                if row.attempts >= row.artifact.max_attempts {
                    return Ok(Redeemed::Exhausted);
                }
                let outcome = if row.artifact.hash.matches(&presented) {
                    sqlx::query("UPDATE artifacts SET taken_at = ? WHERE kind = ? AND hash = ?")
                        .bind(now.unix())
                        .bind(kind.as_str())
                        .bind(row.artifact.hash.0.as_slice())
                        .execute(&mut *connection)
                        .await
                        .map_err(storage_error)?;
                    Redeemed::Taken(row.artifact)
                } else {
                    sqlx::query("UPDATE artifacts SET attempts = attempts + 1 WHERE kind = ? AND hash = ?")
                        .bind(kind.as_str())
                        .bind(row.artifact.hash.0.as_slice())
                        .execute(&mut *connection)
                        .await
                        .map_err(storage_error)?;
                    Redeemed::Mismatch { remaining: row.artifact.max_attempts - row.attempts - 1 }
                };
                Ok(outcome)
            })
        })
        .await
    }

    async fn purge_expired_artifacts(&self, now: Timestamp) -> Result<u64, CoreError> {
        self.purge_in_chunks("artifacts", "expires_at <= ?", now.unix()).await
    }
}
