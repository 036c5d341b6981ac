//! Signing keys in SQLite.

use async_trait::async_trait;
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;
use tessera_core::CoreError;
use tessera_core::clock::Timestamp;
use tessera_core::keys::signing_key::{
    ActivateOutcome, EncryptedPrivateKey, KeyState, Kid, RevokeOutcome, SigningKey, SigningKeyStore,
};

use super::{SqliteStore, storage_error, write_error};

const COLUMNS: &str = "kid, alg, private_key, public_jwk, state, not_before, retire_after, created_at";

fn key_from_row(row: &SqliteRow) -> Result<SigningKey, CoreError> {
    let text = |name: &str| row.try_get::<String, _>(name).map_err(storage_error);
    Ok(SigningKey {
        kid: Kid::new(text("kid")?),
        alg: text("alg")?,
        private_key: EncryptedPrivateKey::new(row.try_get("private_key").map_err(storage_error)?),
        public_jwk: text("public_jwk")?,
        state: text("state")?.parse()?,
        not_before: Timestamp::from_unix(row.try_get("not_before").map_err(storage_error)?),
        retire_after: row.try_get::<Option<i64>, _>("retire_after").map_err(storage_error)?.map(Timestamp::from_unix),
        created_at: Timestamp::from_unix(row.try_get("created_at").map_err(storage_error)?),
    })
}

const INSERT: &str = "INSERT INTO signing_keys (kid, alg, private_key, public_jwk, state, not_before,
                                               retire_after, created_at)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

fn insert_query(key: &SigningKey) -> sqlx::query::Query<'_, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    sqlx::query(INSERT)
        .bind(key.kid.as_str())
        .bind(&key.alg)
        .bind(key.private_key.expose())
        .bind(&key.public_jwk)
        .bind(key.state.as_str())
        .bind(key.not_before.unix())
        .bind(key.retire_after.map(Timestamp::unix))
        .bind(key.created_at.unix())
}

#[async_trait]
impl SigningKeyStore for SqliteStore {
    async fn insert_signing_key(&self, key: &SigningKey) -> Result<(), CoreError> {
        // The partial unique index `signing_keys_one_active` refuses a second active key.
        insert_query(key).execute(&self.pool).await.map_err(write_error("signing key", "signing key"))?;
        Ok(())
    }

    async fn insert_next_signing_key(&self, key: &SigningKey) -> Result<bool, CoreError> {
        if key.state != KeyState::Next {
            return Err(CoreError::InvalidRequest { field: "state", reason: "only a next key" });
        }
        // BEGIN IMMEDIATE holds the write lock from the check to the insert: a second process
        // waits, then sees the first one's key and writes nothing.
        let mut transaction = self.write_transaction().await?;
        let pending: Option<String> =
            sqlx::query_scalar("SELECT kid FROM signing_keys WHERE alg = ? AND state = 'next' LIMIT 1")
                .bind(&key.alg)
                .fetch_optional(&mut *transaction)
                .await
                .map_err(storage_error)?;
        if pending.is_some() {
            return Ok(false);
        }
        insert_query(key).execute(&mut *transaction).await.map_err(write_error("signing key", "signing key"))?;
        transaction.commit().await.map_err(storage_error)?;
        Ok(true)
    }

    async fn signing_keys(&self) -> Result<Vec<SigningKey>, CoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM signing_keys ORDER BY created_at, kid"));
        let rows = sqlx::query(sql).fetch_all(&self.pool).await.map_err(storage_error)?;
        rows.iter().map(key_from_row).collect()
    }

    async fn active_signing_key(&self, alg: &str) -> Result<Option<SigningKey>, CoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM signing_keys WHERE alg = ? AND state = 'active'"));
        let row = sqlx::query(sql).bind(alg).fetch_optional(&self.pool).await.map_err(storage_error)?;
        row.as_ref().map(key_from_row).transpose()
    }

    async fn activate_signing_key(
        &self,
        kid: &Kid,
        retire_after: Timestamp,
        now: Timestamp,
    ) -> Result<ActivateOutcome, CoreError> {
        let mut transaction = self.write_transaction().await?;
        let row = sqlx::query("SELECT alg, state, not_before FROM signing_keys WHERE kid = ?")
            .bind(kid.as_str())
            .fetch_optional(&mut *transaction)
            .await
            .map_err(storage_error)?;
        let Some(row) = row else {
            return Ok(ActivateOutcome::Unknown);
        };
        let alg: String = row.try_get("alg").map_err(storage_error)?;
        let state: KeyState = row.try_get::<String, _>("state").map_err(storage_error)?.parse()?;
        let not_before: i64 = row.try_get("not_before").map_err(storage_error)?;
        if state != KeyState::Next {
            return Ok(ActivateOutcome::NotNext);
        }
        if now.unix() < not_before {
            return Ok(ActivateOutcome::TooEarly);
        }
        // Retire first: the unique index allows one active key per alg at any moment.
        let retired: Option<String> = sqlx::query_scalar(
            "UPDATE signing_keys SET state = 'retired', retire_after = ?
             WHERE alg = ? AND state = 'active' RETURNING kid",
        )
        .bind(retire_after.unix())
        .bind(&alg)
        .fetch_optional(&mut *transaction)
        .await
        .map_err(storage_error)?;
        sqlx::query("UPDATE signing_keys SET state = 'active' WHERE kid = ?")
            .bind(kid.as_str())
            .execute(&mut *transaction)
            .await
            .map_err(storage_error)?;
        transaction.commit().await.map_err(storage_error)?;
        Ok(ActivateOutcome::Activated { retired: retired.map(Kid::new) })
    }

    async fn revoke_signing_key(&self, kid: &Kid, _now: Timestamp) -> Result<RevokeOutcome, CoreError> {
        let mut transaction = self.write_transaction().await?;
        let row = sqlx::query("SELECT alg, state FROM signing_keys WHERE kid = ?")
            .bind(kid.as_str())
            .fetch_optional(&mut *transaction)
            .await
            .map_err(storage_error)?;
        let Some(row) = row else {
            return Ok(RevokeOutcome::Unknown);
        };
        let alg: String = row.try_get("alg").map_err(storage_error)?;
        let state: KeyState = row.try_get::<String, _>("state").map_err(storage_error)?.parse()?;
        if state == KeyState::Revoked {
            return Ok(RevokeOutcome::AlreadyRevoked);
        }
        // Revoke first: the unique index allows one active key per alg at any moment.
        sqlx::query("UPDATE signing_keys SET state = 'revoked' WHERE kid = ?")
            .bind(kid.as_str())
            .execute(&mut *transaction)
            .await
            .map_err(storage_error)?;
        let mut activated = None;
        if state == KeyState::Active {
            activated = sqlx::query_scalar::<_, String>(
                "UPDATE signing_keys SET state = 'active'
                 WHERE kid = (SELECT kid FROM signing_keys WHERE alg = ? AND state = 'next'
                              ORDER BY created_at, kid LIMIT 1)
                 RETURNING kid",
            )
            .bind(&alg)
            .fetch_optional(&mut *transaction)
            .await
            .map_err(storage_error)?
            .map(Kid::new);
            if activated.is_none() {
                // Dropping the transaction rolls the revocation back: never no signer.
                return Ok(RevokeOutcome::NeedsSuccessor);
            }
        }
        transaction.commit().await.map_err(storage_error)?;
        Ok(RevokeOutcome::Revoked { activated })
    }

    async fn retire_signing_key(&self, kid: &Kid, retire_after: Timestamp) -> Result<bool, CoreError> {
        let result = sqlx::query(
            "UPDATE signing_keys SET state = 'retired', retire_after = ?
             WHERE kid = ? AND state IN ('active', 'next')",
        )
        .bind(retire_after.unix())
        .bind(kid.as_str())
        .execute(&self.pool)
        .await
        .map_err(storage_error)?;
        Ok(result.rows_affected() == 1)
    }

    async fn purge_retired_signing_keys(&self, now: Timestamp) -> Result<u64, CoreError> {
        let result = sqlx::query("DELETE FROM signing_keys WHERE state = 'retired' AND retire_after <= ?")
            .bind(now.unix())
            .execute(&self.pool)
            .await
            .map_err(storage_error)?;
        Ok(result.rows_affected())
    }
}
