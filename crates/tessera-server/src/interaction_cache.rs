//! Pending interactions, kept in memory beside the store: the login page is the page a person
//! loads most, and reading its interaction from the database would be a query and two thread
//! hand-offs per render. Only reads are served from here; every decision (taking an interaction
//! when it completes or moves on) goes to the store, so a stale entry — an interaction another
//! node completed — can show a page, never issue a code.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use tessera_core::clock::Timestamp;
use tessera_core::model::artifact::ArtifactHash;

use crate::routes::authorize::Interaction;

/// Most interactions kept; past it, new ones are read from the store (interactions come from
/// unauthenticated requests, so the memory they take must be bounded).
const MAX_ENTRIES: usize = 20_000;

/// The cache.
#[derive(Debug, Default)]
pub struct InteractionCache {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<ArtifactHash, (Interaction, Timestamp)>,
    /// When a full cache was last swept: at most once a second, or a full cache of live
    /// entries would be scanned on every insert.
    swept_at: Option<Timestamp>,
}

impl InteractionCache {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(inner) => inner,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Keeps `interaction`, stored under `hash` until `expires_at`.
    pub fn insert(&self, hash: ArtifactHash, interaction: &Interaction, expires_at: Timestamp, now: Timestamp) {
        let mut inner = self.inner();
        if inner.entries.len() >= MAX_ENTRIES && inner.swept_at.is_none_or(|at| at < now) {
            inner.entries.retain(|_, (_, expires)| *expires > now);
            inner.swept_at = Some(now);
        }
        if inner.entries.len() < MAX_ENTRIES {
            inner.entries.insert(hash, (interaction.clone(), expires_at));
        }
    }

    /// The live interaction under `hash`, if kept here.
    pub fn get(&self, hash: &ArtifactHash, now: Timestamp) -> Option<Interaction> {
        let mut inner = self.inner();
        match inner.entries.get(hash) {
            Some((interaction, expires)) if *expires > now => Some(interaction.clone()),
            Some(_) => {
                inner.entries.remove(hash);
                None
            }
            None => None,
        }
    }

    /// Forgets `hash` (taken, or found dead in the store).
    pub fn remove(&self, hash: &ArtifactHash) {
        self.inner().entries.remove(hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_core::flows::authorize::{AuthorizationRequest, Prompt, ResponseMode};
    use tessera_core::model::client::ClientId;

    fn interaction() -> Interaction {
        let request = AuthorizationRequest {
            client_id: ClientId::new("app"),
            redirect_uri: "https://app.example/cb".into(),
            response_mode: ResponseMode::Query,
            scopes: vec!["openid".into()],
            state: None,
            nonce: None,
            code_challenge: None,
            prompt: Prompt::default(),
            max_age: None,
            login_hint: None,
            acr_values: None,
            claims: Default::default(),
            id_token_hint_sub: None,
            ui_locales: None,
        };
        Interaction { request, binding: "b".into(), started_at: 0 }
    }

    #[test]
    fn entries_die_at_their_expiry_and_the_cache_stays_bounded() {
        let cache = InteractionCache::default();
        let now = Timestamp::from_unix(1_000);
        let hash = ArtifactHash::of_secret("one");
        cache.insert(hash, &interaction(), now.plus(600), now);
        assert!(cache.get(&hash, now.plus(599)).is_some());
        assert!(cache.get(&hash, now.plus(600)).is_none(), "dead at expires_at, as in the store");
        cache.insert(hash, &interaction(), now.plus(600), now);
        cache.remove(&hash);
        assert!(cache.get(&hash, now).is_none());
        for i in 0..MAX_ENTRIES + 10 {
            cache.insert(ArtifactHash::of_secret(&i.to_string()), &interaction(), now.plus(600), now);
        }
        assert_eq!(cache.inner().entries.len(), MAX_ENTRIES, "full: new ones go to the store only");
        // Expired ones are swept when full, at most once a second.
        cache.insert(ArtifactHash::of_secret("late"), &interaction(), now.plus(1200), now.plus(601));
        assert_eq!(cache.inner().entries.len(), 1);
    }
}
