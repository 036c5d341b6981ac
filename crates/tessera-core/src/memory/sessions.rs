//! The in-memory store: sessions, grants and refresh tokens.

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::model::account::UserId;
use crate::model::artifact::GrantToStore;
use crate::model::client::ClientId;
use crate::model::grant::{AccessTokenRecord, Grant, GrantId, GrantStore};
use crate::model::refresh::{
    RefreshContext, RefreshStore, RefreshTokenHash, RefreshTokenRecord, RotateOutcome, Rotation,
};
use crate::model::revocation::retain_until;
use crate::model::session::{BrowserSession, Reauthentication, Session, SessionCookieHash, SessionId, SessionStore};

use super::MemoryStore;

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
