//! An in-memory [`Store`](crate::store::Store): one mutex around all state, so every method is
//! trivially atomic. For unit tests of flows and as a reference for the conformance suite;
//! not durable, never for a server.

use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use crate::account::{Account, AccountStore, Email, PasswordHash, UserId};
use crate::audit::{AuditEvent, AuditStore};
use crate::client::{Client, ClientId, ClientStore};
use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::refresh::{FamilyId, RefreshFamily, RefreshStore, RefreshTokenHash, RefreshTokenRecord, RotateOutcome};
use crate::revocation::{Revocation, RevocationQuery, RevocationStore, RevocationTarget};
use crate::session::{Session, SessionId, SessionStore};
use crate::signing_key::{ActivateOutcome, KeyState, Kid, RevokeOutcome, SigningKey, SigningKeyStore};

#[derive(Debug, Default)]
struct State {
    accounts: Vec<Account>,
    clients: Vec<Client>,
    sessions: Vec<Session>,
    families: Vec<RefreshFamily>,
    tokens: Vec<RefreshTokenRecord>,
    keys: Vec<SigningKey>,
    revocations: Vec<Revocation>,
    audit: Vec<AuditEvent>,
}

impl State {
    fn revoke_families(&mut self, matches: impl Fn(&RefreshFamily) -> bool, now: Timestamp) {
        for family in self.families.iter_mut().filter(|f| matches(f)) {
            family.revoked_at.get_or_insert(now);
        }
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

#[async_trait]
impl AccountStore for MemoryStore {
    async fn create_account(&self, account: &Account) -> Result<(), CoreError> {
        let mut state = self.state()?;
        if state.accounts.iter().any(|a| a.id == account.id || a.email == account.email) {
            return Err(CoreError::Conflict { what: "account" });
        }
        state.accounts.push(account.clone());
        Ok(())
    }

    async fn account(&self, id: &UserId) -> Result<Option<Account>, CoreError> {
        Ok(self.state()?.accounts.iter().find(|a| &a.id == id).cloned())
    }

    async fn account_by_email(&self, email: &Email) -> Result<Option<Account>, CoreError> {
        Ok(self.state()?.accounts.iter().find(|a| &a.email == email).cloned())
    }

    async fn list_accounts(&self) -> Result<Vec<Account>, CoreError> {
        let mut accounts = self.state()?.accounts.clone();
        accounts.sort_by(|a, b| a.email.as_str().cmp(b.email.as_str()));
        Ok(accounts)
    }

    async fn set_account_disabled(&self, id: &UserId, disabled: bool, now: Timestamp) -> Result<bool, CoreError> {
        let mut state = self.state()?;
        Ok(match state.accounts.iter_mut().find(|a| &a.id == id) {
            Some(account) => {
                account.disabled = disabled;
                account.updated_at = now;
                true
            }
            None => false,
        })
    }

    async fn set_password_hash(&self, id: &UserId, hash: &PasswordHash, now: Timestamp) -> Result<bool, CoreError> {
        let mut state = self.state()?;
        Ok(match state.accounts.iter_mut().find(|a| &a.id == id) {
            Some(account) => {
                account.password_hash = Some(hash.clone());
                account.updated_at = now;
                true
            }
            None => false,
        })
    }

    async fn remove_account(&self, id: &UserId) -> Result<bool, CoreError> {
        let mut state = self.state()?;
        let before = state.accounts.len();
        state.accounts.retain(|a| &a.id != id);
        let removed: Vec<FamilyId> = state.families.iter().filter(|f| &f.user_id == id).map(|f| f.id.clone()).collect();
        state.families.retain(|f| &f.user_id != id);
        state.tokens.retain(|t| !removed.contains(&t.family_id));
        state.sessions.retain(|s| &s.user_id != id);
        Ok(state.accounts.len() < before)
    }
}

#[async_trait]
impl ClientStore for MemoryStore {
    async fn create_client(&self, client: &Client) -> Result<(), CoreError> {
        let mut state = self.state()?;
        if state.clients.iter().any(|c| c.client_id == client.client_id) {
            return Err(CoreError::Conflict { what: "client" });
        }
        state.clients.push(client.clone());
        Ok(())
    }

    async fn client(&self, client_id: &ClientId) -> Result<Option<Client>, CoreError> {
        Ok(self.state()?.clients.iter().find(|c| &c.client_id == client_id).cloned())
    }

    async fn list_clients(&self) -> Result<Vec<Client>, CoreError> {
        let mut clients = self.state()?.clients.clone();
        clients.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        Ok(clients)
    }

    async fn remove_client(&self, client_id: &ClientId) -> Result<bool, CoreError> {
        let mut state = self.state()?;
        let before = state.clients.len();
        state.clients.retain(|c| &c.client_id != client_id);
        let removed: Vec<FamilyId> =
            state.families.iter().filter(|f| &f.client_id == client_id).map(|f| f.id.clone()).collect();
        state.families.retain(|f| &f.client_id != client_id);
        state.tokens.retain(|t| !removed.contains(&t.family_id));
        for session in state.sessions.iter_mut().filter(|s| s.client_id.as_ref() == Some(client_id)) {
            session.client_id = None;
        }
        Ok(state.clients.len() < before)
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create_session(&self, session: &Session) -> Result<(), CoreError> {
        let mut state = self.state()?;
        if !state.accounts.iter().any(|a| a.id == session.user_id) {
            return Err(CoreError::NotFound { what: "account" });
        }
        if state.sessions.iter().any(|s| s.sid == session.sid) {
            return Err(CoreError::Conflict { what: "session" });
        }
        state.sessions.push(session.clone());
        Ok(())
    }

    async fn session(&self, sid: &SessionId) -> Result<Option<Session>, CoreError> {
        Ok(self.state()?.sessions.iter().find(|s| &s.sid == sid).cloned())
    }

    async fn active_sessions(&self, user_id: &UserId, now: Timestamp) -> Result<Vec<Session>, CoreError> {
        let mut sessions: Vec<Session> =
            self.state()?.sessions.iter().filter(|s| &s.user_id == user_id && s.is_active(now)).cloned().collect();
        sessions.sort_by_key(|s| std::cmp::Reverse(s.created_at));
        Ok(sessions)
    }

    async fn revoke_session(&self, sid: &SessionId, now: Timestamp) -> Result<bool, CoreError> {
        let mut state = self.state()?;
        let Some(session) = state.sessions.iter_mut().find(|s| &s.sid == sid) else {
            return Ok(false);
        };
        session.revoked_at.get_or_insert(now);
        state.revoke_families(|f| &f.sid == sid, now);
        Ok(true)
    }

    async fn revoke_user_sessions(&self, user_id: &UserId, now: Timestamp) -> Result<u64, CoreError> {
        let mut state = self.state()?;
        let mut count = 0;
        for session in state.sessions.iter_mut().filter(|s| &s.user_id == user_id) {
            if session.is_active(now) {
                count += 1;
            }
            session.revoked_at.get_or_insert(now);
        }
        state.revoke_families(|f| &f.user_id == user_id, now);
        Ok(count)
    }
}

#[async_trait]
impl RefreshStore for MemoryStore {
    async fn create_refresh_family(&self, family: &RefreshFamily, first: &RefreshTokenHash) -> Result<(), CoreError> {
        let mut state = self.state()?;
        if state.families.iter().any(|f| f.id == family.id) || state.tokens.iter().any(|t| &t.hash == first) {
            return Err(CoreError::Conflict { what: "refresh family" });
        }
        state.families.push(family.clone());
        state.tokens.push(RefreshTokenRecord {
            hash: *first,
            family_id: family.id.clone(),
            issued_at: family.created_at,
            used_at: None,
        });
        Ok(())
    }

    async fn rotate_refresh_token(
        &self,
        presented: &RefreshTokenHash,
        replacement: &RefreshTokenHash,
        client_id: &ClientId,
        now: Timestamp,
    ) -> Result<RotateOutcome, CoreError> {
        let mut state = self.state()?;
        let Some(token) = state.tokens.iter().find(|t| &t.hash == presented).cloned() else {
            return Ok(RotateOutcome::Unknown);
        };
        let Some(family) = state.families.iter().find(|f| f.id == token.family_id).cloned() else {
            return Ok(RotateOutcome::Unknown);
        };
        if &family.client_id != client_id {
            return Ok(RotateOutcome::ClientMismatch);
        }
        if token.used_at.is_some() {
            state.revoke_families(|f| f.id == family.id, now);
            return Ok(RotateOutcome::Reused { family_id: family.id });
        }
        if family.revoked_at.is_some() {
            return Ok(RotateOutcome::Revoked { family_id: family.id });
        }
        if now >= family.expires_at {
            return Ok(RotateOutcome::Expired);
        }
        if state.tokens.iter().any(|t| &t.hash == replacement) {
            return Err(CoreError::Conflict { what: "refresh token" });
        }
        for stored in state.tokens.iter_mut().filter(|t| &t.hash == presented) {
            stored.used_at = Some(now);
        }
        state.tokens.push(RefreshTokenRecord {
            hash: *replacement,
            family_id: family.id.clone(),
            issued_at: now,
            used_at: None,
        });
        Ok(RotateOutcome::Rotated { family })
    }

    async fn refresh_token(
        &self,
        hash: &RefreshTokenHash,
    ) -> Result<Option<(RefreshFamily, RefreshTokenRecord)>, CoreError> {
        let state = self.state()?;
        let Some(token) = state.tokens.iter().find(|t| &t.hash == hash) else {
            return Ok(None);
        };
        Ok(state.families.iter().find(|f| f.id == token.family_id).map(|family| (family.clone(), token.clone())))
    }

    async fn refresh_family(&self, id: &FamilyId) -> Result<Option<RefreshFamily>, CoreError> {
        Ok(self.state()?.families.iter().find(|f| &f.id == id).cloned())
    }

    async fn revoke_refresh_family(&self, id: &FamilyId, now: Timestamp) -> Result<bool, CoreError> {
        let mut state = self.state()?;
        let found = state.families.iter().any(|f| &f.id == id);
        state.revoke_families(|f| &f.id == id, now);
        Ok(found)
    }

    async fn revoke_refresh_token(
        &self,
        hash: &RefreshTokenHash,
        client_id: &ClientId,
        now: Timestamp,
    ) -> Result<Option<FamilyId>, CoreError> {
        let mut state = self.state()?;
        let Some(family_id) = state.tokens.iter().find(|t| &t.hash == hash).map(|t| t.family_id.clone()) else {
            return Ok(None);
        };
        let bound = state.families.iter().any(|f| f.id == family_id && &f.client_id == client_id);
        if !bound {
            return Ok(None);
        }
        state.revoke_families(|f| f.id == family_id, now);
        Ok(Some(family_id))
    }

    async fn purge_expired_refresh_families(&self, now: Timestamp) -> Result<u64, CoreError> {
        let mut state = self.state()?;
        let expired: Vec<FamilyId> =
            state.families.iter().filter(|f| f.expires_at <= now).map(|f| f.id.clone()).collect();
        state.families.retain(|f| !expired.contains(&f.id));
        state.tokens.retain(|t| !expired.contains(&t.family_id));
        Ok(expired.len() as u64)
    }
}

#[async_trait]
impl SigningKeyStore for MemoryStore {
    async fn insert_signing_key(&self, key: &SigningKey) -> Result<(), CoreError> {
        let mut state = self.state()?;
        let second_active =
            key.state == KeyState::Active && state.keys.iter().any(|k| k.state == KeyState::Active && k.alg == key.alg);
        if second_active || state.keys.iter().any(|k| k.kid == key.kid) {
            return Err(CoreError::Conflict { what: "signing key" });
        }
        state.keys.push(key.clone());
        Ok(())
    }

    async fn insert_next_signing_key(&self, key: &SigningKey) -> Result<bool, CoreError> {
        let mut state = self.state()?;
        if key.state != KeyState::Next {
            return Err(CoreError::InvalidRequest { field: "state", reason: "only a next key" });
        }
        if state.keys.iter().any(|k| k.state == KeyState::Next && k.alg == key.alg) {
            return Ok(false);
        }
        if state.keys.iter().any(|k| k.kid == key.kid) {
            return Err(CoreError::Conflict { what: "signing key" });
        }
        state.keys.push(key.clone());
        Ok(true)
    }

    async fn signing_keys(&self) -> Result<Vec<SigningKey>, CoreError> {
        Ok(self.state()?.keys.clone())
    }

    async fn active_signing_key(&self, alg: &str) -> Result<Option<SigningKey>, CoreError> {
        Ok(self.state()?.keys.iter().find(|k| k.state == KeyState::Active && k.alg == alg).cloned())
    }

    async fn activate_signing_key(
        &self,
        kid: &Kid,
        retire_after: Timestamp,
        now: Timestamp,
    ) -> Result<ActivateOutcome, CoreError> {
        let mut state = self.state()?;
        let Some(key) = state.keys.iter().find(|k| &k.kid == kid).cloned() else {
            return Ok(ActivateOutcome::Unknown);
        };
        if key.state != KeyState::Next {
            return Ok(ActivateOutcome::NotNext);
        }
        if now < key.not_before {
            return Ok(ActivateOutcome::TooEarly);
        }
        let mut retired = None;
        for other in state.keys.iter_mut() {
            if other.alg == key.alg && other.state == KeyState::Active {
                other.state = KeyState::Retired;
                other.retire_after = Some(retire_after);
                retired = Some(other.kid.clone());
            } else if &other.kid == kid {
                other.state = KeyState::Active;
            }
        }
        Ok(ActivateOutcome::Activated { retired })
    }

    async fn revoke_signing_key(&self, kid: &Kid, _now: Timestamp) -> Result<RevokeOutcome, CoreError> {
        let mut state = self.state()?;
        let Some(key) = state.keys.iter().find(|k| &k.kid == kid).cloned() else {
            return Ok(RevokeOutcome::Unknown);
        };
        let mut activated = None;
        match key.state {
            KeyState::Revoked => return Ok(RevokeOutcome::AlreadyRevoked),
            KeyState::Active => {
                // Oldest first, as `signing_keys` orders them.
                let Some(successor) = state.keys.iter_mut().find(|k| k.state == KeyState::Next && k.alg == key.alg)
                else {
                    return Ok(RevokeOutcome::NeedsSuccessor);
                };
                successor.state = KeyState::Active;
                activated = Some(successor.kid.clone());
            }
            KeyState::Next | KeyState::Retired => {}
        }
        if let Some(revoked) = state.keys.iter_mut().find(|k| &k.kid == kid) {
            revoked.state = KeyState::Revoked;
        }
        Ok(RevokeOutcome::Revoked { activated })
    }

    async fn retire_signing_key(&self, kid: &Kid, retire_after: Timestamp) -> Result<bool, CoreError> {
        let mut state = self.state()?;
        let Some(key) =
            state.keys.iter_mut().find(|k| &k.kid == kid && matches!(k.state, KeyState::Active | KeyState::Next))
        else {
            return Ok(false);
        };
        key.state = KeyState::Retired;
        key.retire_after = Some(retire_after);
        Ok(true)
    }

    async fn purge_retired_signing_keys(&self, now: Timestamp) -> Result<u64, CoreError> {
        let mut state = self.state()?;
        let before = state.keys.len();
        state.keys.retain(|k| !(k.state == KeyState::Retired && k.retire_after.is_some_and(|end| end <= now)));
        Ok((before - state.keys.len()) as u64)
    }
}

#[async_trait]
impl RevocationStore for MemoryStore {
    async fn revoke(
        &self,
        target: &RevocationTarget,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Revocation, CoreError> {
        let mut state = self.state()?;
        let seq = state.revocations.last().map_or(1, |r| r.seq + 1);
        let revocation = Revocation { seq, target: target.clone(), revoked_at: now, expires_at };
        state.revocations.push(revocation.clone());
        Ok(revocation)
    }

    async fn find_revocation(&self, query: RevocationQuery<'_>) -> Result<Option<Revocation>, CoreError> {
        let state = self.state()?;
        Ok(state
            .revocations
            .iter()
            .find(|r| match &r.target {
                RevocationTarget::Jti(jti) => jti == query.jti,
                RevocationTarget::Sid(sid) => Some(sid.as_str()) == query.sid && r.revoked_at >= query.issued_at,
                RevocationTarget::Sub(sub) => sub == query.sub && r.revoked_at >= query.issued_at,
            })
            .cloned())
    }

    async fn revocations_after(&self, after: i64, limit: u32) -> Result<Vec<Revocation>, CoreError> {
        let state = self.state()?;
        Ok(state.revocations.iter().filter(|r| r.seq > after).take(limit as usize).cloned().collect())
    }

    async fn purge_expired_revocations(&self, now: Timestamp) -> Result<u64, CoreError> {
        let mut state = self.state()?;
        let before = state.revocations.len();
        state.revocations.retain(|r| r.expires_at > now);
        Ok((before - state.revocations.len()) as u64)
    }
}

#[async_trait]
impl AuditStore for MemoryStore {
    async fn append_audit_events(&self, events: &[AuditEvent]) -> Result<(), CoreError> {
        let mut state = self.state()?;
        for event in events {
            let seq = state.audit.last().map_or(1, |e| e.seq + 1);
            state.audit.push(AuditEvent { seq, ..event.clone() });
        }
        Ok(())
    }

    async fn audit_tail(&self, limit: u32) -> Result<Vec<AuditEvent>, CoreError> {
        let state = self.state()?;
        let skip = state.audit.len().saturating_sub(limit as usize);
        Ok(state.audit[skip..].to_vec())
    }
}
