//! An in-memory [`Store`](crate::store::Store): one mutex around all state, so every method is
//! trivially atomic. For unit tests of flows and as a reference for the conformance suite;
//! not durable, never for a server.

use std::sync::{Mutex, MutexGuard};

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::keys::signing_key::SigningKey;
use crate::model::account::{Account, UserId};
use crate::model::artifact::{Artifact, GrantToStore};
use crate::model::audit::AuditEvent;
use crate::model::client::{Client, ClientId};
use crate::model::grant::{AccessTokenRecord, Grant, GrantId};
use crate::model::refresh::{RefreshTokenHash, RefreshTokenRecord};
use crate::model::retention::AccessTtlRecord;
use crate::model::revocation::{Revocation, RevocationTarget, retain_until};
use crate::model::session::{Session, SessionCookieHash, SessionId};

#[derive(Debug, Default)]
struct State {
    accounts: Vec<Account>,
    clients: Vec<Client>,
    sessions: Vec<Session>,
    browser_sessions: Vec<(SessionId, SessionCookieHash, Timestamp)>,
    consents: Vec<(UserId, ClientId, Vec<String>)>,
    grants: Vec<Grant>,
    tokens: Vec<RefreshTokenRecord>,
    access_tokens: Vec<(GrantId, AccessTokenRecord)>,
    access_ttl: Option<AccessTtlRecord>,
    artifacts: Vec<StoredArtifact>,
    revocation_seq: i64,
    retried: Vec<RefreshTokenHash>,
    keys: Vec<SigningKey>,
    revocations: Vec<Revocation>,
    audit: Vec<AuditEvent>,
}

/// An artifact with what the store tracks of it.
#[derive(Debug)]
struct StoredArtifact {
    artifact: Artifact,
    attempts: u32,
    taken: bool,
    voided: bool,
}

impl StoredArtifact {
    fn is_live(&self, now: Timestamp) -> bool {
        !self.taken && !self.voided && now < self.artifact.expires_at
    }
}

impl State {
    fn insert_grant(&mut self, stored: GrantToStore<'_>) -> Result<(), CoreError> {
        let GrantToStore { grant, first_refresh, access_token } = stored;
        if !self.sessions.iter().any(|s| s.sid == grant.sid) {
            return Err(CoreError::NotFound { what: "session" });
        }
        let taken = first_refresh.is_some_and(|hash| self.tokens.iter().any(|t| &t.hash == hash));
        if taken || self.grants.iter().any(|g| g.id == grant.id) {
            return Err(CoreError::Conflict { what: "grant" });
        }
        self.grants.push(grant.clone());
        if let Some(hash) = first_refresh {
            self.tokens.push(RefreshTokenRecord {
                hash: *hash,
                grant_id: grant.id.clone(),
                issued_at: grant.created_at,
                used_at: None,
            });
        }
        self.access_tokens.push((grant.id.clone(), access_token.clone()));
        Ok(())
    }

    fn revoke_grants_with_tokens(&mut self, matches: impl Fn(&Grant) -> bool, now: Timestamp) {
        let ids: Vec<GrantId> = self.grants.iter().filter(|g| matches(g)).map(|g| g.id.clone()).collect();
        for id in ids {
            self.revoke_grant_with_tokens(&id, now);
        }
    }

    /// A grant's revocation reaching its access tokens, as `revoke_grant` promises.
    fn revoke_grant_with_tokens(&mut self, id: &GrantId, now: Timestamp) -> bool {
        let Some(grant) = self.grants.iter_mut().find(|g| &g.id == id) else { return false };
        if grant.revoked_at.is_some() {
            return true;
        }
        grant.revoked_at = Some(now);
        let live: Vec<AccessTokenRecord> = self
            .access_tokens
            .iter()
            .filter(|(grant_id, token)| grant_id == id && retain_until(token.expires_at) > now)
            .map(|(_, token)| token.clone())
            .collect();
        for token in live {
            self.push_revocation(RevocationTarget::Jti(token.jti), retain_until(token.expires_at), now);
        }
        true
    }

    fn push_revocation(&mut self, target: RevocationTarget, expires_at: Timestamp, now: Timestamp) -> Revocation {
        // Positions only grow, also across purges (a feed cursor must never see one again).
        self.revocation_seq += 1;
        let revocation = Revocation { seq: self.revocation_seq, target, revoked_at: now, expires_at };
        self.revocations.push(revocation.clone());
        revocation
    }
}

/// The in-memory store.
#[derive(Debug, Default)]
pub struct MemoryStore(Mutex<State>);

impl MemoryStore {
    fn state(&self) -> Result<MutexGuard<'_, State>, CoreError> {
        self.0.lock().map_err(|_| CoreError::Storage("memory store mutex poisoned".into()))
    }
}

mod accounts;
mod artifacts;
mod keys;
mod sessions;
