//! The in-memory store: single-use artifacts and the recorded access lifetime.

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::model::artifact::{Artifact, ArtifactHash, ArtifactKind, ArtifactStore, GrantToStore, Redeemed};
use crate::model::retention::{AccessTtlRecord, RetentionStore};

use super::{MemoryStore, StoredArtifact};

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
