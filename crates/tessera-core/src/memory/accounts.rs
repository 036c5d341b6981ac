//! The in-memory store: accounts, clients and consents.

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::model::account::{Account, AccountStore, Email, PasswordHash, Profile, UserId};
use crate::model::client::{Client, ClientId, ClientStore};
use crate::model::consent::ConsentStore;
use crate::model::grant::GrantId;
use crate::model::session::SessionId;

use super::MemoryStore;

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
