//! Audit events in SQLite.

use async_trait::async_trait;
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;
use tessera_core::CoreError;
use tessera_core::clock::Timestamp;
use tessera_core::model::audit::{AuditDetails, AuditEvent, AuditStore};
use tessera_core::model::client::ClientId;

use super::{SqliteStore, storage_error};

fn event_from_row(row: &SqliteRow) -> Result<AuditEvent, CoreError> {
    let details: String = row.try_get("details").map_err(storage_error)?;
    let details =
        serde_json::from_str(&details).map_err(|error| CoreError::CorruptData(format!("audit details: {error}")))?;
    Ok(AuditEvent {
        seq: row.try_get("seq").map_err(storage_error)?,
        kind: row.try_get::<String, _>("kind").map_err(storage_error)?.parse()?,
        actor: row.try_get("actor").map_err(storage_error)?,
        ip: row.try_get("ip").map_err(storage_error)?,
        client_id: row.try_get::<Option<String>, _>("client_id").map_err(storage_error)?.map(ClientId::new),
        details: AuditDetails::new(details),
        time: Timestamp::from_unix(row.try_get("time").map_err(storage_error)?),
    })
}

/// Audit rows written by one statement at most.
const AUDIT_ROWS_PER_STATEMENT: usize = 256;

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit_events(&self, events: &[AuditEvent]) -> Result<(), CoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let events = events.to_vec();
        self.write(move |connection| {
            Box::pin(async move {
                // One multi-row INSERT per chunk: each statement is a round trip to the
                // connection's thread, so a batch costs one, not one per event. 6 values per
                // row keeps a chunk far below SQLite's 32,766 bound parameters.
                for chunk in events.chunks(AUDIT_ROWS_PER_STATEMENT) {
                    let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                        "INSERT INTO audit_events (kind, actor, ip, client_id, details, time) ",
                    );
                    insert.push_values(chunk, |mut row, event| {
                        row.push_bind(event.kind.as_str())
                            .push_bind(event.actor.clone())
                            .push_bind(event.ip.clone())
                            .push_bind(event.client_id.as_ref().map(|c| c.as_str().to_owned()))
                            .push_bind(event.details.to_json())
                            .push_bind(event.time.unix());
                    });
                    insert.build().execute(&mut *connection).await.map_err(storage_error)?;
                }
                Ok(())
            })
        })
        .await
    }

    async fn audit_tail(&self, limit: u32) -> Result<Vec<AuditEvent>, CoreError> {
        let rows = sqlx::query(
            "SELECT seq, kind, actor, ip, client_id, details, time FROM
               (SELECT * FROM audit_events ORDER BY seq DESC LIMIT ?)
             ORDER BY seq",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(storage_error)?;
        rows.iter().map(event_from_row).collect()
    }
}
