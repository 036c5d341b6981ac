//! An in-memory [`Store`](crate::store::Store): one mutex around all state, so every method is
//! trivially atomic. For unit tests of flows and as a reference for the conformance suite;
//! not durable, never for a server.

use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::keys::signing_key::{ActivateOutcome, KeyState, Kid, RevokeOutcome, SigningKey, SigningKeyStore};
use crate::model::account::{Account, AccountStore, Email, PasswordHash, Profile, UserId};
use crate::model::artifact::{Artifact, ArtifactHash, ArtifactKind, ArtifactStore, GrantToStore, Redeemed};
use crate::model::audit::{AuditEvent, AuditStore};
use crate::model::client::{Client, ClientId, ClientStore};
use crate::model::consent::ConsentStore;
use crate::model::grant::{AccessTokenRecord, Grant, GrantId, GrantStore};
use crate::model::refresh::{
    RefreshContext, RefreshStore, RefreshTokenHash, RefreshTokenRecord, RotateOutcome, Rotation,
};
use crate::model::retention::{AccessTtlRecord, RetentionStore};
use crate::model::revocation::{Revocation, RevocationQuery, RevocationStore, RevocationTarget, retain_until};
use crate::model::session::{BrowserSession, Reauthentication, Session, SessionCookieHash, SessionId, SessionStore};

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

    async fn update_profile(
        &self,
        id: &UserId,
        name: Option<&str>,
        profile: &Profile,
        now: Timestamp,
    ) -> Result<bool, CoreError> {
        let mut state = self.state()?;
        Ok(match state.accounts.iter_mut().find(|a| &a.id == id) {
            Some(account) => {
                account.name = name.map(str::to_owned);
                account.profile = profile.clone();
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
        let removed: Vec<GrantId> = state.grants.iter().filter(|g| &g.user_id == id).map(|g| g.id.clone()).collect();
        state.grants.retain(|g| &g.user_id != id);
        state.tokens.retain(|t| !removed.contains(&t.grant_id));
        state.access_tokens.retain(|(grant_id, _)| !removed.contains(grant_id));
        state.sessions.retain(|s| &s.user_id != id);
        let sessions: Vec<SessionId> = state.sessions.iter().map(|s| s.sid.clone()).collect();
        state.browser_sessions.retain(|(sid, _, _)| sessions.contains(sid));
        state.consents.retain(|(user_id, _, _)| user_id != id);
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

    async fn update_client(&self, client: &Client) -> Result<bool, CoreError> {
        let mut state = self.state()?;
        Ok(match state.clients.iter_mut().find(|c| c.client_id == client.client_id) {
            Some(stored) => {
                *stored = Client { kind: stored.kind.clone(), created_at: stored.created_at, ..client.clone() };
                true
            }
            None => false,
        })
    }

    async fn remove_client(&self, client_id: &ClientId) -> Result<bool, CoreError> {
        let mut state = self.state()?;
        let before = state.clients.len();
        state.clients.retain(|c| &c.client_id != client_id);
        let removed: Vec<GrantId> =
            state.grants.iter().filter(|g| &g.client_id == client_id).map(|g| g.id.clone()).collect();
        state.grants.retain(|g| &g.client_id != client_id);
        state.tokens.retain(|t| !removed.contains(&t.grant_id));
        state.access_tokens.retain(|(grant_id, _)| !removed.contains(grant_id));
        for session in state.sessions.iter_mut().filter(|s| s.client_id.as_ref() == Some(client_id)) {
            session.client_id = None;
        }
        state.consents.retain(|(_, consented, _)| consented != client_id);
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

    async fn create_browser_session(&self, session: &Session, cookie: &SessionCookieHash) -> Result<(), CoreError> {
        let mut state = self.state()?;
        if !state.accounts.iter().any(|a| a.id == session.user_id) {
            return Err(CoreError::NotFound { what: "account" });
        }
        let cookie_taken = state.browser_sessions.iter().any(|(_, hash, _)| hash == cookie);
        if cookie_taken || state.sessions.iter().any(|s| s.sid == session.sid) {
            return Err(CoreError::Conflict { what: "session" });
        }
        state.sessions.push(session.clone());
        state.browser_sessions.push((session.sid.clone(), *cookie, session.created_at));
        Ok(())
    }

    async fn browser_session(&self, cookie: &SessionCookieHash) -> Result<Option<BrowserSession>, CoreError> {
        let state = self.state()?;
        let Some((sid, _, last_seen_at)) = state.browser_sessions.iter().find(|(_, hash, _)| hash == cookie) else {
            return Ok(None);
        };
        let session = state.sessions.iter().find(|s| &s.sid == sid).cloned();
        Ok(session.map(|session| BrowserSession { session, last_seen_at: *last_seen_at }))
    }

    async fn touch_browser_session(&self, sid: &SessionId, now: Timestamp) -> Result<(), CoreError> {
        let mut state = self.state()?;
        for (_, _, last_seen_at) in state.browser_sessions.iter_mut().filter(|(s, _, _)| s == sid) {
            *last_seen_at = (*last_seen_at).max(now);
        }
        Ok(())
    }

    async fn reauthenticate_session(&self, update: Reauthentication<'_>, now: Timestamp) -> Result<bool, CoreError> {
        let mut state = self.state()?;
        // An ended session is `false` whatever the cookie, as the SQL update that matches no row.
        if !state.sessions.iter().any(|s| &s.sid == update.sid && s.is_active(now)) {
            return Ok(false);
        }
        if state.browser_sessions.iter().any(|(sid, hash, _)| hash == update.cookie && sid != update.sid) {
            return Err(CoreError::Conflict { what: "session" });
        }
        let Some(session) = state.sessions.iter_mut().find(|s| &s.sid == update.sid) else {
            return Ok(false);
        };
        session.auth_time = update.auth_time;
        session.acr = update.acr.map(str::to_owned);
        session.amr = update.amr.to_vec();
        match state.browser_sessions.iter_mut().find(|(sid, _, _)| sid == update.sid) {
            Some(entry) => *entry = (update.sid.clone(), *update.cookie, now),
            None => state.browser_sessions.push((update.sid.clone(), *update.cookie, now)),
        }
        Ok(true)
    }

    async fn revoke_session(&self, sid: &SessionId, now: Timestamp) -> Result<bool, CoreError> {
        let mut state = self.state()?;
        let Some(session) = state.sessions.iter_mut().find(|s| &s.sid == sid) else {
            return Ok(false);
        };
        session.revoked_at.get_or_insert(now);
        state.revoke_grants_with_tokens(|g| &g.sid == sid, now);
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
        state.revoke_grants_with_tokens(|g| &g.user_id == user_id, now);
        Ok(count)
    }
}

#[async_trait]
impl GrantStore for MemoryStore {
    async fn create_grant(
        &self,
        grant: &Grant,
        first_refresh: Option<&RefreshTokenHash>,
        access_token: &AccessTokenRecord,
    ) -> Result<(), CoreError> {
        self.state()?.insert_grant(GrantToStore { grant, first_refresh, access_token })
    }

    async fn grant(&self, id: &GrantId) -> Result<Option<Grant>, CoreError> {
        Ok(self.state()?.grants.iter().find(|g| &g.id == id).cloned())
    }

    async fn grant_of_access_token(&self, jti: &str) -> Result<Option<Grant>, CoreError> {
        let state = self.state()?;
        let Some((grant_id, _)) = state.access_tokens.iter().find(|(_, token)| token.jti == jti) else {
            return Ok(None);
        };
        Ok(state.grants.iter().find(|g| &g.id == grant_id).cloned())
    }

    async fn revoke_grant(&self, id: &GrantId, now: Timestamp) -> Result<bool, CoreError> {
        Ok(self.state()?.revoke_grant_with_tokens(id, now))
    }

    async fn purge_expired_grants(&self, now: Timestamp) -> Result<u64, CoreError> {
        let mut state = self.state()?;
        let expired: Vec<GrantId> = state.grants.iter().filter(|g| g.expires_at <= now).map(|g| g.id.clone()).collect();
        state.grants.retain(|g| !expired.contains(&g.id));
        state.tokens.retain(|t| !expired.contains(&t.grant_id));
        state
            .access_tokens
            .retain(|(grant_id, token)| !expired.contains(grant_id) && retain_until(token.expires_at) > now);
        Ok(expired.len() as u64)
    }
}

#[async_trait]
impl RefreshStore for MemoryStore {
    async fn rotate_refresh_token(&self, rotation: Rotation<'_>, now: Timestamp) -> Result<RotateOutcome, CoreError> {
        let mut state = self.state()?;
        let Some(token) = state.tokens.iter().find(|t| &t.hash == rotation.presented).cloned() else {
            return Ok(RotateOutcome::Unknown);
        };
        let Some(grant) = state.grants.iter().find(|g| g.id == token.grant_id).cloned() else {
            return Ok(RotateOutcome::Unknown);
        };
        if &grant.client_id != rotation.client_id {
            return Ok(RotateOutcome::ClientMismatch);
        }
        let retry = match token.used_at {
            Some(used_at) if rotation.is_retry(&grant, used_at, state.retried.contains(rotation.presented), now) => {
                true
            }
            Some(_) => {
                state.revoke_grant_with_tokens(&grant.id, now);
                return Ok(RotateOutcome::Reused { grant_id: grant.id });
            }
            None => false,
        };
        if grant.revoked_at.is_some() {
            return Ok(RotateOutcome::Revoked { grant_id: grant.id });
        }
        if now >= grant.expires_at {
            return Ok(RotateOutcome::Expired);
        }
        if state.tokens.iter().any(|t| &t.hash == rotation.replacement) {
            return Err(CoreError::Conflict { what: "refresh token" });
        }
        if retry {
            state.retried.push(*rotation.presented);
        } else {
            for stored in state.tokens.iter_mut().filter(|t| &t.hash == rotation.presented) {
                stored.used_at = Some(now);
            }
        }
        state.tokens.push(RefreshTokenRecord {
            hash: *rotation.replacement,
            grant_id: grant.id.clone(),
            issued_at: now,
            used_at: None,
        });
        state.access_tokens.push((grant.id.clone(), rotation.access_token.clone()));
        Ok(if retry { RotateOutcome::Retried { grant } } else { RotateOutcome::Rotated { grant } })
    }

    async fn refresh_token(&self, hash: &RefreshTokenHash) -> Result<Option<(Grant, RefreshTokenRecord)>, CoreError> {
        let state = self.state()?;
        let Some(token) = state.tokens.iter().find(|t| &t.hash == hash) else {
            return Ok(None);
        };
        Ok(state.grants.iter().find(|g| g.id == token.grant_id).map(|grant| (grant.clone(), token.clone())))
    }

    async fn refresh_context(&self, hash: &RefreshTokenHash) -> Result<Option<RefreshContext>, CoreError> {
        let state = self.state()?;
        let Some(token) = state.tokens.iter().find(|t| &t.hash == hash) else {
            return Ok(None);
        };
        let Some(grant) = state.grants.iter().find(|g| g.id == token.grant_id) else {
            return Ok(None);
        };
        Ok(Some(RefreshContext {
            grant: grant.clone(),
            token: token.clone(),
            session: state.sessions.iter().find(|s| s.sid == grant.sid).cloned(),
            account_active: state.accounts.iter().any(|a| a.id == grant.user_id && !a.disabled),
        }))
    }

    async fn revoke_refresh_token(
        &self,
        hash: &RefreshTokenHash,
        client_id: &ClientId,
        now: Timestamp,
    ) -> Result<Option<GrantId>, CoreError> {
        let mut state = self.state()?;
        let Some(grant_id) = state.tokens.iter().find(|t| &t.hash == hash).map(|t| t.grant_id.clone()) else {
            return Ok(None);
        };
        if !state.grants.iter().any(|g| g.id == grant_id && &g.client_id == client_id) {
            return Ok(None);
        }
        state.revoke_grant_with_tokens(&grant_id, now);
        Ok(Some(grant_id))
    }
}

#[async_trait]
impl RetentionStore for MemoryStore {
    async fn access_ttl_record(&self) -> Result<Option<AccessTtlRecord>, CoreError> {
        Ok(self.state()?.access_ttl)
    }

    async fn record_access_ttl(&self, ttl: i64, now: Timestamp) -> Result<AccessTtlRecord, CoreError> {
        let mut state = self.state()?;
        let record = AccessTtlRecord::changed_to(state.access_ttl, ttl, now);
        state.access_ttl = Some(record);
        Ok(record)
    }
}

#[async_trait]
impl ArtifactStore for MemoryStore {
    async fn put_artifact(&self, artifact: &Artifact, _now: Timestamp) -> Result<(), CoreError> {
        let mut state = self.state()?;
        if state.artifacts.iter().any(|a| a.artifact.kind == artifact.kind && a.artifact.hash == artifact.hash) {
            return Err(CoreError::Conflict { what: "artifact" });
        }
        if artifact.kind.voids_previous() {
            for older in state
                .artifacts
                .iter_mut()
                .filter(|a| a.artifact.kind == artifact.kind && a.artifact.subject == artifact.subject && !a.taken)
            {
                older.voided = true;
            }
        }
        state.artifacts.push(StoredArtifact { artifact: artifact.clone(), attempts: 0, taken: false, voided: false });
        Ok(())
    }

    async fn take_artifact(
        &self,
        kind: ArtifactKind,
        hash: &ArtifactHash,
        now: Timestamp,
    ) -> Result<Redeemed, CoreError> {
        let mut state = self.state()?;
        let Some(stored) = state.artifacts.iter_mut().find(|a| a.artifact.kind == kind && &a.artifact.hash == hash)
        else {
            return Ok(Redeemed::Unknown);
        };
        if stored.taken {
            return Ok(Redeemed::AlreadyTaken(stored.artifact.clone()));
        }
        if !stored.is_live(now) || stored.attempts >= stored.artifact.max_attempts {
            return Ok(Redeemed::Unknown);
        }
        stored.taken = true;
        Ok(Redeemed::Taken(stored.artifact.clone()))
    }

    async fn peek_artifact(
        &self,
        kind: ArtifactKind,
        hash: &ArtifactHash,
        now: Timestamp,
    ) -> Result<Option<Artifact>, CoreError> {
        let state = self.state()?;
        Ok(state
            .artifacts
            .iter()
            .find(|a| a.artifact.kind == kind && &a.artifact.hash == hash)
            .filter(|a| a.is_live(now) && a.attempts < a.artifact.max_attempts)
            .map(|a| a.artifact.clone()))
    }

    async fn redeem_for_grant(
        &self,
        kind: ArtifactKind,
        hash: &ArtifactHash,
        grant: GrantToStore<'_>,
        now: Timestamp,
    ) -> Result<Redeemed, CoreError> {
        let mut state = self.state()?;
        let Some(index) = state.artifacts.iter().position(|a| a.artifact.kind == kind && &a.artifact.hash == hash)
        else {
            return Ok(Redeemed::Unknown);
        };
        let stored = &state.artifacts[index];
        if stored.taken {
            return Ok(Redeemed::AlreadyTaken(stored.artifact.clone()));
        }
        if !stored.is_live(now) || stored.attempts >= stored.artifact.max_attempts {
            return Ok(Redeemed::Unknown);
        }
        // The grant first: if it cannot be stored, the artifact stays untaken.
        state.insert_grant(grant)?;
        let stored = &mut state.artifacts[index];
        stored.taken = true;
        stored.artifact.grant_id = Some(grant.grant.id.clone());
        Ok(Redeemed::Taken(stored.artifact.clone()))
    }

    async fn verify_artifact(
        &self,
        kind: ArtifactKind,
        subject: &str,
        presented: &ArtifactHash,
        now: Timestamp,
    ) -> Result<Redeemed, CoreError> {
        let mut state = self.state()?;
        let Some(stored) = state
            .artifacts
            .iter_mut()
            .rev()
            .find(|a| a.artifact.kind == kind && a.artifact.subject == subject && a.is_live(now))
        else {
            return Ok(Redeemed::Unknown);
        };
        if stored.attempts >= stored.artifact.max_attempts {
            return Ok(Redeemed::Exhausted);
        }
        if stored.artifact.hash.matches(presented) {
            stored.taken = true;
            return Ok(Redeemed::Taken(stored.artifact.clone()));
        }
        stored.attempts += 1;
        Ok(Redeemed::Mismatch { remaining: stored.artifact.max_attempts - stored.attempts })
    }

    async fn purge_expired_artifacts(&self, now: Timestamp) -> Result<u64, CoreError> {
        let mut state = self.state()?;
        let before = state.artifacts.len();
        state.artifacts.retain(|a| a.artifact.expires_at > now);
        Ok((before - state.artifacts.len()) as u64)
    }
}

#[async_trait]
impl ConsentStore for MemoryStore {
    async fn consented_scopes(&self, user_id: &UserId, client_id: &ClientId) -> Result<Vec<String>, CoreError> {
        let state = self.state()?;
        Ok(state
            .consents
            .iter()
            .find(|(user, client, _)| user == user_id && client == client_id)
            .map(|(_, _, scopes)| scopes.clone())
            .unwrap_or_default())
    }

    async fn record_consent(
        &self,
        user_id: &UserId,
        client_id: &ClientId,
        scopes: &[String],
        _now: Timestamp,
    ) -> Result<(), CoreError> {
        let mut state = self.state()?;
        if !state.accounts.iter().any(|a| &a.id == user_id) {
            return Err(CoreError::NotFound { what: "account" });
        }
        if !state.clients.iter().any(|c| &c.client_id == client_id) {
            return Err(CoreError::NotFound { what: "client" });
        }
        let index = match state.consents.iter().position(|(user, client, _)| user == user_id && client == client_id) {
            Some(index) => index,
            None => {
                state.consents.push((user_id.clone(), client_id.clone(), Vec::new()));
                state.consents.len() - 1
            }
        };
        let consented = &mut state.consents[index].2;
        for scope in scopes {
            if !consented.contains(scope) {
                consented.push(scope.clone());
            }
        }
        Ok(())
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
        Ok(self.state()?.push_revocation(target.clone(), expires_at, now))
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
