//! Argon2id checks on the blocking pool, at most one per core at a time: a burst of logins
//! queues here instead of starving the async workers that serve every other request. The
//! queue is bounded: past it a login is answered `503` with `Retry-After` at once, so a flood
//! of logins cannot pile up requests (and their memory) behind the cores without end.

use std::sync::Arc;

use async_trait::async_trait;
use tessera_core::flows::login::PasswordCheck;
use tessera_core::model::account::PasswordHash;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What a client is told to wait when the queue is full, seconds: a queue drains in well
/// under a second per place, so one second is an honest hint.
pub const BUSY_RETRY_AFTER: u64 = 1;

/// Bounded, off-runtime password verification.
#[derive(Clone, Debug)]
pub struct BlockingPasswordCheck {
    permits: Arc<Semaphore>,
    places: Arc<Semaphore>,
}

/// A place in the password-check queue (running or waiting), held for one login.
#[derive(Debug)]
pub struct QueuePlace {
    _place: OwnedSemaphorePermit,
}

impl BlockingPasswordCheck {
    /// At most `concurrency` hashes at once (at least one) and `queue` more waiting.
    pub fn new(concurrency: usize, queue: usize) -> BlockingPasswordCheck {
        let concurrency = concurrency.max(1);
        BlockingPasswordCheck {
            permits: Arc::new(Semaphore::new(concurrency)),
            places: Arc::new(Semaphore::new(concurrency.saturating_add(queue))),
        }
    }

    /// Takes a place in the queue for one login, or `None` when the queue is full.
    pub fn admit(&self) -> Option<QueuePlace> {
        Arc::clone(&self.places).try_acquire_owned().ok().map(|place| QueuePlace { _place: place })
    }
}

#[async_trait]
impl PasswordCheck for BlockingPasswordCheck {
    async fn verify(&self, password: &str, hash: Option<&PasswordHash>) -> bool {
        let Ok(_permit) = self.permits.acquire().await else { return false };
        let password = password.to_owned();
        let hash = hash.cloned();
        tokio::task::spawn_blocking(move || tessera_core::secrets::password::verify_password(&password, hash.as_ref()))
            .await
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_holds_cores_plus_queue_places() {
        let pool = BlockingPasswordCheck::new(2, 1);
        let held: Vec<QueuePlace> = (0..3).map(|_| pool.admit().unwrap()).collect();
        assert!(pool.admit().is_none(), "full");
        drop(held);
        assert!(pool.admit().is_some(), "places come back when logins end");
    }
}
