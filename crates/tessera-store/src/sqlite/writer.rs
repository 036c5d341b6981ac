//! Group commit: one writer task owns one connection and runs the pending write operations of
//! many requests in one transaction, each inside its own savepoint, then commits once — one
//! `fsync` for the whole batch instead of one per request, with `synchronous = FULL` kept.
//!
//! Every caller is answered only after the commit returned, with its own outcome: an operation
//! that fails is rolled back to its savepoint and cannot affect the others; a failed commit
//! fails them all. Nothing waits for a batch to fill: the writer takes whatever is pending when
//! it is free (at most [`MAX_BATCH`]), so a lone request is committed at once and batches grow
//! only while a commit is in progress. Reads stay on the pool, concurrent with the writer.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures_util::FutureExt as _;
use sqlx::{Connection as _, SqliteConnection};
use tessera_core::CoreError;
use tokio::sync::{mpsc, oneshot};

use super::storage_error;

/// The most operations one transaction carries; more wait for the next.
pub const MAX_BATCH: usize = 128;

/// Operations queued for the writer at most; callers wait for room beyond it.
const QUEUE: usize = 1024;

/// A boxed future borrowing the writer's connection.
pub type WriteFuture<'c, T> = Pin<Box<dyn Future<Output = Result<T, CoreError>> + Send + 'c>>;

/// What the writer does with an operation's outcome once the batch's commit is decided.
type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;

/// One queued operation: either it runs on the connection (saying whether it succeeded, to
/// release or roll back its savepoint, and how to answer its caller once the commit is
/// decided), or, when its batch cannot even begin, it is answered with the failure unrun.
trait Job: Send {
    fn run<'c>(
        self: Box<Self>,
        connection: &'c mut SqliteConnection,
    ) -> Pin<Box<dyn Future<Output = (bool, Reply)> + Send + 'c>>;
    fn fail(self: Box<Self>, error: String);
}

struct Pending<T, F> {
    operation: F,
    answer: oneshot::Sender<Result<T, CoreError>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut SqliteConnection) -> WriteFuture<'c, T> + Send + 'static,
{
    fn run<'c>(
        self: Box<Self>,
        connection: &'c mut SqliteConnection,
    ) -> Pin<Box<dyn Future<Output = (bool, Reply)> + Send + 'c>> {
        let Pending { operation, answer } = *self;
        Box::pin(async move {
            let outcome = operation(connection).await;
            let ok = outcome.is_ok();
            let reply: Reply = Box::new(move |committed| {
                let result = match committed {
                    Ok(()) => outcome,
                    // The operation's own error stands; a successful one did not commit.
                    Err(_) if outcome.is_err() => outcome,
                    Err(commit) => Err(CoreError::Storage(format!("commit failed: {commit}").into())),
                };
                let _ = answer.send(result);
            });
            (ok, reply)
        })
    }

    fn fail(self: Box<Self>, error: String) {
        let _ = self.answer.send(Err(CoreError::Storage(format!("write transaction failed: {error}").into())));
    }
}

/// What the writer has done so far, for tests and diagnostics (the server exports the same as
/// metrics).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Transactions run.
    pub batches: u64,
    /// Operations run in them.
    pub operations: u64,
    /// The most operations one transaction carried.
    pub largest_batch: u64,
}

#[derive(Debug, Default)]
struct Counters {
    batches: AtomicU64,
    operations: AtomicU64,
    largest_batch: AtomicU64,
}

/// The handle through which the store queues writes.
#[derive(Clone, Debug)]
pub struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for dyn Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

impl Writer {
    /// Starts the writer task on `connection`.
    pub fn start(connection: SqliteConnection) -> Writer {
        let (jobs, receiver) = mpsc::channel(QUEUE);
        let counters = Arc::new(Counters::default());
        tokio::spawn(run(connection, receiver, Arc::clone(&counters)));
        Writer { jobs, counters }
    }

    /// What the writer has done so far.
    pub fn stats(&self) -> WriterStats {
        WriterStats {
            batches: self.counters.batches.load(Ordering::Relaxed),
            operations: self.counters.operations.load(Ordering::Relaxed),
            largest_batch: self.counters.largest_batch.load(Ordering::Relaxed),
        }
    }

    /// Runs `operation` in the next batch, in its own savepoint, and answers with its outcome
    /// once the batch has committed (or with the commit's failure).
    pub async fn write<T, F>(&self, operation: F) -> Result<T, CoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> WriteFuture<'c, T> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<Result<T, CoreError>>();
        self.jobs.send(Box::new(Pending { operation, answer })).await.map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

fn stopped() -> CoreError {
    CoreError::Storage("the database writer stopped".into())
}

async fn run(mut connection: SqliteConnection, mut jobs: mpsc::Receiver<Box<dyn Job>>, counters: Arc<Counters>) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
    // Takes whatever is pending (at least one), never waiting for more.
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let started = Instant::now();
        let size = batch.len();
        let (replies, committed) = run_batch(&mut connection, batch.drain(..)).await;
        counters.batches.fetch_add(1, Ordering::Relaxed);
        counters.operations.fetch_add(size as u64, Ordering::Relaxed);
        counters.largest_batch.fetch_max(size as u64, Ordering::Relaxed);
        metrics::histogram!("tessera_store_batch_size").record(size as f64);
        metrics::histogram!("tessera_store_commit_seconds").record(started.elapsed().as_secs_f64());
        if committed.is_err() {
            metrics::counter!("tessera_store_batch_failures_total").increment(1);
        }
        for reply in replies {
            reply(committed.clone());
        }
    }
    let _ = connection.close().await;
}

/// Runs the jobs in one transaction, each in a savepoint; returns the replies and whether the
/// transaction committed.
async fn run_batch(
    connection: &mut SqliteConnection,
    mut batch: impl Iterator<Item = Box<dyn Job>>,
) -> (Vec<Reply>, Result<(), String>) {
    let mut replies = Vec::new();
    if let Err(error) = sqlx::query("BEGIN IMMEDIATE").execute(&mut *connection).await {
        let message = storage_error(error).to_string();
        for job in batch {
            job.fail(message.clone());
        }
        return (replies, Err(message));
    }
    while let Some(job) = batch.next() {
        let failed = match sqlx::query("SAVEPOINT op").execute(&mut *connection).await {
            Err(error) => {
                // This job never ran: it gets the real error, like the rest below.
                let message = storage_error(error).to_string();
                job.fail(message.clone());
                Some(message)
            }
            Ok(_) => {
                // A panic in an operation (a bug: none unwraps) must not end the writer, or
                // every later write would fail: it fails this batch instead, the caller of the
                // panicking job learning it from its dropped answer.
                let Ok((ok, reply)) = AssertUnwindSafe(job.run(&mut *connection)).catch_unwind().await else {
                    metrics::counter!("tessera_store_operation_panics_total").increment(1);
                    let message = "a write operation panicked".to_owned();
                    let _ = sqlx::query("ROLLBACK").execute(&mut *connection).await;
                    for job in batch {
                        job.fail(message.clone());
                    }
                    return (replies, Err(message));
                };
                replies.push(reply);
                let end = if ok { "RELEASE op" } else { "ROLLBACK TO op" };
                let ended = match sqlx::query(end).execute(&mut *connection).await {
                    Err(error) => Some(error),
                    Ok(_) if !ok => sqlx::query("RELEASE op").execute(&mut *connection).await.err(),
                    Ok(_) => None,
                };
                ended.map(|error| storage_error(error).to_string())
            }
        };
        if let Some(message) = failed {
            // The transaction is in doubt: roll it all back, fail everyone, run nothing more.
            let _ = sqlx::query("ROLLBACK").execute(&mut *connection).await;
            for job in batch {
                job.fail(message.clone());
            }
            return (replies, Err(message));
        }
    }
    match sqlx::query("COMMIT").execute(&mut *connection).await {
        Ok(_) => (replies, Ok(())),
        Err(error) => {
            let _ = sqlx::query("ROLLBACK").execute(&mut *connection).await;
            (replies, Err(storage_error(error).to_string()))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use sqlx::ConnectOptions as _;
    use sqlx::sqlite::SqliteConnectOptions;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_operation_fails_its_caller_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteConnectOptions::new().filename(dir.path().join("w.db")).create_if_missing(true);
        let writer = Writer::start(options.connect().await.unwrap());
        writer
            .write(|c| {
                Box::pin(async move {
                    sqlx::query("CREATE TABLE t (n INTEGER)").execute(c).await.map(|_| ()).map_err(storage_error)
                })
            })
            .await
            .unwrap();
        let panicked = writer.write(|_| -> WriteFuture<'_, ()> { Box::pin(async move { panic!("a bug") }) }).await;
        assert!(panicked.is_err());
        writer
            .write(|c| {
                Box::pin(async move {
                    sqlx::query("INSERT INTO t VALUES (1)").execute(c).await.map(|_| ()).map_err(storage_error)
                })
            })
            .await
            .expect("the writer survived the panic");
        let count: i64 = writer
            .write(|c| {
                Box::pin(async move {
                    sqlx::query_scalar("SELECT COUNT(*) FROM t").fetch_one(c).await.map_err(storage_error)
                })
            })
            .await
            .unwrap();
        assert_eq!(count, 1);
    }
}
