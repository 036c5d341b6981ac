//! Retention facts in SQLite's `settings` table.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tessera_core::CoreError;
use tessera_core::clock::Timestamp;
use tessera_core::model::retention::{AccessTtlRecord, RetentionStore};

use super::{SqliteStore, storage_error};

const ACCESS_TTL: &str = "access_ttl";

/// The stored form of [`AccessTtlRecord`].
#[derive(Serialize, Deserialize)]
struct Stored {
    current: i64,
    previous: i64,
    previous_until: i64,
}

fn decode(text: &str) -> Result<AccessTtlRecord, CoreError> {
    let stored: Stored =
        serde_json::from_str(text).map_err(|e| CoreError::CorruptData(format!("{ACCESS_TTL}: {e}")))?;
    Ok(AccessTtlRecord {
        current: stored.current,
        previous: stored.previous,
        previous_until: Timestamp::from_unix(stored.previous_until),
    })
}

#[async_trait]
impl RetentionStore for SqliteStore {
    async fn access_ttl_record(&self) -> Result<Option<AccessTtlRecord>, CoreError> {
        let text: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE name = ?")
            .bind(ACCESS_TTL)
            .fetch_optional(&self.pool)
            .await
            .map_err(storage_error)?;
        text.as_deref().map(decode).transpose()
    }

    async fn record_access_ttl(&self, ttl: i64, now: Timestamp) -> Result<AccessTtlRecord, CoreError> {
        // Read and write under the write lock, so two servers starting together agree.
        let mut transaction = self.write_transaction().await?;
        let text: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE name = ?")
            .bind(ACCESS_TTL)
            .fetch_optional(&mut *transaction)
            .await
            .map_err(storage_error)?;
        let record = AccessTtlRecord::changed_to(text.as_deref().map(decode).transpose()?, ttl, now);
        let stored =
            Stored { current: record.current, previous: record.previous, previous_until: record.previous_until.unix() };
        let value = serde_json::to_string(&stored).map_err(|e| CoreError::CorruptData(e.to_string()))?;
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(ACCESS_TTL)
        .bind(value)
        .execute(&mut *transaction)
        .await
        .map_err(storage_error)?;
        transaction.commit().await.map_err(storage_error)?;
        Ok(record)
    }
}
