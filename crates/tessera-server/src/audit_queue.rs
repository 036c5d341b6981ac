//! Audit events off the request path: `record` logs the event as a structured line and queues
//! it; one task writes queued events to the store in batches, so audit writes never serialize
//! token issuance. On shutdown the queue is drained before the process exits. A typed
//! `username` (failed logins) is kept only when it is an account name, else keyed-hashed,
//! before either the log line or the table sees it.

use std::sync::Arc;
use std::time::Duration;

use tessera_core::model::audit::{AuditEvent, AuditSink, AuditStore, UsernameKey};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Events waiting to be written before `record` starts dropping (and counting) them.
const CAPACITY: usize = 16_384;
/// The most events written in one statement batch.
const BATCH: usize = 512;

/// The sending half, cheap to clone into every handler.
#[derive(Clone, Debug)]
pub struct AuditQueue {
    sender: mpsc::Sender<AuditEvent>,
    username_key: Arc<UsernameKey>,
}

impl AuditQueue {
    /// Starts the writer task over `store`; `username_key` hashes typed usernames that are not
    /// account names (`MasterKey::audit_username_key`).
    pub fn start<S: AuditStore + ?Sized + 'static>(
        store: Arc<S>,
        username_key: UsernameKey,
    ) -> (AuditQueue, AuditWriter) {
        let (sender, mut receiver) = mpsc::channel::<AuditEvent>(CAPACITY);
        let (stop, mut stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            loop {
                tokio::select! {
                    received = receiver.recv_many(&mut batch, BATCH) => {
                        if received == 0 {
                            return;
                        }
                        write(&*store, &batch).await;
                        batch.clear();
                    }
                    _ = &mut stopped => break,
                }
            }
            // Shutdown: refuse new events, write what is queued.
            receiver.close();
            while receiver.recv_many(&mut batch, BATCH).await > 0 {
                write(&*store, &batch).await;
                batch.clear();
            }
        });
        (AuditQueue { sender, username_key: Arc::new(username_key) }, AuditWriter { stop, task })
    }
}

/// The writer task; [`AuditWriter::finish`] drains the queue at shutdown.
#[derive(Debug)]
pub struct AuditWriter {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl AuditWriter {
    /// Writes every queued event and ends the task, waiting at most `limit`.
    pub async fn finish(self, limit: Duration) {
        let _ = self.stop.send(());
        if tokio::time::timeout(limit, self.task).await.is_err() {
            tracing::error!("audit writer did not finish in time; queued events may be lost");
        }
    }
}

async fn write<S: AuditStore + ?Sized>(store: &S, batch: &[AuditEvent]) {
    // A failed write is retried a few times: the database may be busy with a long writer.
    for attempt in 1..=3u64 {
        match store.append_audit_events(batch).await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%error, attempt, events = batch.len(), "audit write failed");
                tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
            }
        }
    }
    metrics::counter!("tessera_audit_events_lost_total").increment(batch.len() as u64);
    tracing::error!(events = batch.len(), "audit events lost after retries");
}

impl AuditSink for AuditQueue {
    fn record(&self, event: AuditEvent) {
        let event = event.protect_username(&self.username_key);
        // The structured line: details are already redacted by AuditDetails.
        tracing::info!(
            target: "tessera::audit",
            kind = event.kind.as_str(),
            actor = event.actor.as_deref().unwrap_or(""),
            client_id = event.client_id.as_ref().map(|c| c.as_str()).unwrap_or(""),
            ip = event.ip.as_deref().unwrap_or(""),
            details = %event.details.to_json(),
            "audit"
        );
        metrics::counter!("tessera_audit_events_total", "kind" => event.kind.as_str()).increment(1);
        if self.sender.try_send(event).is_err() {
            metrics::counter!("tessera_audit_events_dropped_total").increment(1);
            tracing::error!("audit queue full: event dropped from the database (it is in the log)");
        }
    }
}
