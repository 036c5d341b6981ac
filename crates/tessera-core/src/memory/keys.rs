//! The in-memory store: signing keys, revocations and the audit log.

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::keys::signing_key::{ActivateOutcome, KeyState, Kid, RevokeOutcome, SigningKey, SigningKeyStore};
use crate::model::audit::{AuditEvent, AuditStore};
use crate::model::revocation::{Revocation, RevocationQuery, RevocationStore, RevocationTarget};

use super::MemoryStore;

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
