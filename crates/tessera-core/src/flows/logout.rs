//! Ending a session (`/auth/logout`, and later RP-initiated logout).

use serde_json::json;

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::model::audit::{AuditEvent, AuditKind, AuditSink};
use crate::model::refresh::{RefreshStore, RefreshToken};
use crate::model::revocation::{RevocationStore, RevocationTarget, retain_until};
use crate::model::session::{SessionId, SessionStore};

/// Ends a session: the session and its grants in one transaction, then a `sid` revocation so
/// that its access tokens die everywhere within their lifetime. `longest_access_ttl` is
/// [`longest_access_ttl`](crate::model::retention::longest_access_ttl), read from the database.
pub async fn end_session<S>(
    store: &S,
    audit: &dyn AuditSink,
    sid: &SessionId,
    longest_access_ttl: i64,
    now: Timestamp,
) -> Result<(), CoreError>
where
    S: SessionStore + RevocationStore + ?Sized,
{
    let ended = store.revoke_session(sid, now).await?;
    let until = retain_until(now.plus(longest_access_ttl));
    store.revoke(&RevocationTarget::Sid(sid.as_str().to_owned()), until, now).await?;
    if ended {
        audit.record(AuditEvent::new(AuditKind::SessionRevoked, now).details(json!({ "sid": sid.as_str() })));
    }
    Ok(())
}

/// The session a refresh token belongs to, if the token is known.
pub async fn session_of_refresh_token<S>(store: &S, token: &str) -> Result<Option<SessionId>, CoreError>
where
    S: RefreshStore + ?Sized,
{
    let Ok(refresh) = RefreshToken::parse(token) else { return Ok(None) };
    Ok(store.refresh_token(&refresh.hash()).await?.map(|(grant, _)| grant.sid))
}
