//! A short-lived copy of client records in front of the store, for client authentication.
//!
//! Every `/oauth/token`, `/oauth/introspect`, `/oauth/revoke` and `/auth/*` request looks up its
//! client. Through sqlx that lookup is a round trip to a SQLite worker thread (two thread
//! wake-ups per request), which under load costs more CPU than signing the token. Client
//! records change rarely and only by an administrator, so the server keeps each record it read
//! for [`CLIENT_CACHE_TTL`].
//!
//! The bound, stated for operators in docs/CONFIG.md: a client removed (or changed) by
//! another process — `tessera client remove` while the server runs, or another node — stops
//! authenticating here at most [`CLIENT_CACHE_TTL`] later. Changes made through this cache
//! (`create_client`, `remove_client`) take effect at once. Only clients that exist are kept, so
//! unknown `client_id`s cannot grow the map, and a newly added client works at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tessera_core::CoreError;
use tessera_core::model::client::{Client, ClientId, ClientStore};

/// How long a client record read from the store is used before it is read again: the longest
/// time a removal by another process takes to reach this server.
pub const CLIENT_CACHE_TTL: Duration = Duration::from_secs(1);

/// The most records kept. Clients are registered by administrators, so this is far above any
/// real count; past it, lookups simply go to the store.
const MAX_ENTRIES: usize = 4096;

struct Entry {
    client: Client,
    read_at: Instant,
}

/// The store's clients, each kept for [`CLIENT_CACHE_TTL`] after it was read.
pub struct ClientCache<S: ?Sized> {
    store: Arc<S>,
    ttl: Duration,
    entries: Mutex<HashMap<ClientId, Entry>>,
}

impl<S: ClientStore + ?Sized> ClientCache<S> {
    /// A cache over `store` with the standard [`CLIENT_CACHE_TTL`].
    pub fn new(store: Arc<S>) -> ClientCache<S> {
        ClientCache::with_ttl(store, CLIENT_CACHE_TTL)
    }

    /// A cache with another lifetime (tests).
    pub fn with_ttl(store: Arc<S>, ttl: Duration) -> ClientCache<S> {
        ClientCache { store, ttl, entries: Mutex::new(HashMap::new()) }
    }

    /// The client as of at most `ttl` before `now`.
    pub async fn client_at(&self, client_id: &ClientId, now: Instant) -> Result<Option<Client>, CoreError> {
        if let Some(entry) = self.entries().get(client_id)
            && now.saturating_duration_since(entry.read_at) < self.ttl
        {
            return Ok(Some(entry.client.clone()));
        }
        // Read before the lookup, not after: the entry must not outlive `ttl` from the read.
        let read_at = now;
        let client = self.store.client(client_id).await?;
        let mut entries = self.entries();
        match &client {
            Some(client) => {
                if entries.len() >= MAX_ENTRIES && !entries.contains_key(client_id) {
                    entries.retain(|_, entry| now.saturating_duration_since(entry.read_at) < self.ttl);
                }
                if entries.len() < MAX_ENTRIES || entries.contains_key(client_id) {
                    entries.insert(client_id.clone(), Entry { client: client.clone(), read_at });
                }
            }
            None => {
                entries.remove(client_id);
            }
        }
        Ok(client)
    }

    /// A panic while the lock was held cannot leave a half-written entry (each change is one
    /// map operation), so a poisoned lock is still usable.
    fn entries(&self) -> MutexGuard<'_, HashMap<ClientId, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl<S: ClientStore + ?Sized> ClientStore for ClientCache<S> {
    async fn create_client(&self, client: &Client) -> Result<(), CoreError> {
        self.store.create_client(client).await?;
        self.entries().remove(&client.client_id);
        Ok(())
    }

    async fn client(&self, client_id: &ClientId) -> Result<Option<Client>, CoreError> {
        self.client_at(client_id, Instant::now()).await
    }

    async fn list_clients(&self) -> Result<Vec<Client>, CoreError> {
        self.store.list_clients().await
    }

    async fn update_client(&self, client: &Client) -> Result<bool, CoreError> {
        let updated = self.store.update_client(client).await?;
        self.entries().remove(&client.client_id);
        Ok(updated)
    }

    async fn remove_client(&self, client_id: &ClientId) -> Result<bool, CoreError> {
        let removed = self.store.remove_client(client_id).await?;
        self.entries().remove(client_id);
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use tessera_core::clock::Timestamp;
    use tessera_core::memory::MemoryStore;
    use tessera_core::model::client::{ClientKind, GrantType};

    use super::*;

    fn client(id: &str) -> Client {
        Client {
            client_id: ClientId::new(id),
            kind: ClientKind::Public,
            redirect_uris: Vec::new(),
            grant_types: vec![GrantType::RefreshToken],
            scopes: Vec::new(),
            audiences: Vec::new(),
            access_ttl: None,
            refresh_ttl: None,
            browser: Default::default(),
            created_at: Timestamp::from_unix(0),
        }
    }

    #[tokio::test]
    async fn a_removal_behind_the_cache_takes_effect_within_the_ttl() {
        let store = Arc::new(MemoryStore::default());
        store.create_client(&client("svc")).await.unwrap();
        let cache = ClientCache::new(Arc::clone(&store));
        let id = ClientId::new("svc");
        let t0 = Instant::now();
        assert!(cache.client_at(&id, t0).await.unwrap().is_some());

        // Another process removes it: the store changes, the cache is not told.
        assert!(store.remove_client(&id).await.unwrap());
        let just_before = t0 + CLIENT_CACHE_TTL - Duration::from_millis(1);
        assert!(cache.client_at(&id, just_before).await.unwrap().is_some(), "stale for less than the TTL");
        assert!(cache.client_at(&id, t0 + CLIENT_CACHE_TTL).await.unwrap().is_none(), "gone at the TTL");
        assert!(cache.client_at(&id, just_before).await.unwrap().is_none(), "and not cached as absent");
    }

    #[tokio::test]
    async fn changes_through_the_cache_take_effect_at_once() {
        let store = Arc::new(MemoryStore::default());
        let cache = ClientCache::new(Arc::clone(&store));
        let id = ClientId::new("svc");
        let now = Instant::now();
        assert!(cache.client_at(&id, now).await.unwrap().is_none());
        cache.create_client(&client("svc")).await.unwrap();
        assert!(cache.client_at(&id, now).await.unwrap().is_some(), "unknown ids are not cached");
        assert!(cache.remove_client(&id).await.unwrap());
        assert!(cache.client_at(&id, now).await.unwrap().is_none(), "removed here: gone at once");
    }

    #[tokio::test]
    async fn unknown_client_ids_do_not_grow_the_map() {
        let store = Arc::new(MemoryStore::default());
        let cache = ClientCache::new(store);
        for n in 0..100 {
            assert!(cache.client_at(&ClientId::new(format!("nope-{n}")), Instant::now()).await.unwrap().is_none());
        }
        assert!(cache.entries().is_empty());
    }
}
