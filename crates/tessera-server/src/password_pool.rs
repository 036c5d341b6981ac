//! Argon2id checks on the blocking pool, at most one per core at a time: a burst of logins
//! queues here instead of starving the async workers that serve every other request.

use std::sync::Arc;

use async_trait::async_trait;
use tessera_core::flows::login::PasswordCheck;
use tessera_core::model::account::PasswordHash;
use tokio::sync::Semaphore;

/// Bounded, off-runtime password verification.
#[derive(Clone, Debug)]
pub struct BlockingPasswordCheck {
    permits: Arc<Semaphore>,
}

impl BlockingPasswordCheck {
    /// At most `concurrency` hashes at once (at least one).
    pub fn new(concurrency: usize) -> BlockingPasswordCheck {
        BlockingPasswordCheck { permits: Arc::new(Semaphore::new(concurrency.max(1))) }
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
