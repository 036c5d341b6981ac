//! The authorization-code grant at the token endpoint (RFC 6749 §4.1.3, OIDC Core §3.1.3),
//! read as its steps: the client may use the grant; the code is live and was issued to this
//! client for this redirect URI; the PKCE verifier matches its challenge (and none is sent for
//! a code issued without one); the session and account behind it still stand; the tokens are
//! signed; then one store operation takes the code and stores the grant with its tokens.
//!
//! A code presented again finds it taken and revokes the grant it produced, with every token
//! (RFC 6749 §4.1.2, RFC 9700 §4.2.4). Because the take and the grant are one transaction, a
//! replay racing the first redemption sees the grant already stored, so its revocation reaches
//! the winner's tokens too.

use serde_json::json;

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::flows::authorize::CodePayload;
use crate::flows::issuance::{Issuance, IssuedTokens};
use crate::model::account::AccountStore;
use crate::model::artifact::{ArtifactHash, ArtifactKind, ArtifactStore, GrantToStore, Redeemed};
use crate::model::audit::{AuditEvent, AuditKind};
use crate::model::client::{Client, GrantType};
use crate::model::grant::{Grant, GrantId, GrantStore};
use crate::model::id_token::{IdTokenInput, issue_id_token};
use crate::model::refresh::RefreshToken;
use crate::model::session::{SessionId, SessionStore};

/// A token request with `grant_type=authorization_code` from an authenticated client.
#[derive(Debug)]
pub struct CodeRequest<'a> {
    /// The client, already authenticated (or a public client, identified).
    pub client: &'a Client,
    /// `code`
    pub code: &'a str,
    /// `redirect_uri`, which must repeat the authorization request's.
    pub redirect_uri: Option<&'a str>,
    /// `code_verifier` (RFC 7636 §4.5).
    pub code_verifier: Option<&'a str>,
    /// The request's IP address, for the audit log.
    pub ip: Option<String>,
}

/// Redeems an authorization code. Every failure is `invalid_grant` to the client (RFC 6749
/// §5.2), with the private reason in the detail.
pub async fn redeem_code<S>(
    store: &S,
    services: &Issuance<'_>,
    request: CodeRequest<'_>,
    now: Timestamp,
) -> Result<IssuedTokens, CoreError>
where
    S: ArtifactStore + GrantStore + SessionStore + AccountStore + ?Sized,
{
    let client = request.client;
    client.require_grant(GrantType::AuthorizationCode)?;
    let hash = ArtifactHash::of_secret(request.code);

    // The read is not the decision (the redemption below is): it lets every check run, and
    // every token be signed, before anything commits.
    let Some(artifact) = store.peek_artifact(ArtifactKind::AuthorizationCode, &hash, now).await? else {
        return Err(replay_or_unknown(store, services, client, &hash, request.ip, now).await);
    };
    let payload: CodePayload = serde_json::from_value(artifact.payload.clone())
        .map_err(|e| CoreError::CorruptData(format!("authorization code payload: {e}")))?;
    if payload.client_id != client.client_id {
        return Err(invalid_grant("code issued to another client"));
    }
    // RFC 6749 §4.1.3: the same redirect_uri as in the authorization request.
    if request.redirect_uri != Some(payload.redirect_uri.as_str()) {
        return Err(invalid_grant("redirect_uri differs from the authorization request"));
    }
    check_verifier(payload.code_challenge.as_deref(), request.code_verifier)?;

    let session = match store.session(&SessionId::new(payload.sid.as_str())).await? {
        Some(session) if session.is_active(now) => session,
        _ => return Err(invalid_grant("the session ended")),
    };
    let account = match store.account(&session.user_id).await? {
        Some(account) if !account.disabled => account,
        _ => return Err(invalid_grant("account disabled or removed")),
    };

    let grant = Grant {
        id: GrantId::generate(services.random)?,
        client_id: client.client_id.clone(),
        user_id: session.user_id.clone(),
        sid: session.sid.clone(),
        scopes: payload.scopes.clone(),
        claims: payload.claims.clone(),
        created_at: now,
        expires_at: now.plus(services.policy.refresh_ttl_for(client)),
        revoked_at: None,
    };
    let (access_token, record) = services.user_access_token(client, &session.user_id, &session, &grant.scopes, now)?;
    let id_token = if grant.scopes.iter().any(|s| s == "openid") {
        let input = IdTokenInput {
            client,
            account: &account,
            session: &session,
            scopes: &grant.scopes,
            nonce: payload.nonce.as_deref(),
            access_token: &access_token.token,
            requested: &payload.claims.id_token,
        };
        Some(issue_id_token(services.id_tokens, &services.policy.issuer, input, now)?)
    } else {
        None
    };
    let refresh_token = client
        .grant_types
        .contains(&GrantType::RefreshToken)
        .then(|| RefreshToken::generate(services.random))
        .transpose()?;
    let first_refresh = refresh_token.as_ref().map(RefreshToken::hash);
    let stored = GrantToStore { grant: &grant, first_refresh: first_refresh.as_ref(), access_token: &record };
    match store.redeem_for_grant(ArtifactKind::AuthorizationCode, &hash, stored, now).await? {
        Redeemed::Taken(_) => {}
        Redeemed::AlreadyTaken(_) => {
            return Err(replay_or_unknown(store, services, client, &hash, request.ip, now).await);
        }
        _ => return Err(invalid_grant("code expired")),
    }
    services.audit.record(
        AuditEvent::new(AuditKind::LoginSucceeded, now)
            .actor(grant.user_id.as_str())
            .client(&client.client_id)
            .ip(request.ip)
            .details(
                json!({ "grant": "authorization_code", "grant_id": grant.id.as_str(), "sid": grant.sid.as_str() }),
            ),
    );
    Ok(IssuedTokens { access_token, refresh_token, scopes: grant.scopes, sid: Some(session.sid), id_token })
}

/// A code that is not live: if it was taken before, this is a replay, and the grant it
/// produced is revoked with all its tokens (RFC 6749 §4.1.2) and audited as an incident.
async fn replay_or_unknown<S>(
    store: &S,
    services: &Issuance<'_>,
    client: &Client,
    hash: &ArtifactHash,
    ip: Option<String>,
    now: Timestamp,
) -> CoreError
where
    S: ArtifactStore + GrantStore + ?Sized,
{
    // `take_artifact` changes nothing for a taken or dead code; it only reports which it is.
    let artifact = match store.take_artifact(ArtifactKind::AuthorizationCode, hash, now).await {
        Ok(Redeemed::AlreadyTaken(artifact)) => artifact,
        Ok(Redeemed::Taken(_)) => return invalid_grant("code taken by a check"),
        Ok(_) => return invalid_grant("unknown or expired code"),
        Err(error) => return error,
    };
    if let Some(grant_id) = &artifact.grant_id {
        if let Err(error) = store.revoke_grant(grant_id, now).await {
            return error;
        }
        services.audit.record(
            AuditEvent::new(AuditKind::CodeReused, now)
                .actor(artifact.subject.as_str())
                .client(&client.client_id)
                .ip(ip)
                .details(json!({ "grant_id": grant_id.as_str() })),
        );
    }
    invalid_grant("code used before; its grant is revoked")
}

/// RFC 7636 §4.6, and RFC 9700 §2.1.1 against downgrades: a code issued with a challenge needs
/// the verifier, and a verifier sent for a code issued without a challenge is refused.
fn check_verifier(challenge: Option<&str>, verifier: Option<&str>) -> Result<(), CoreError> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(invalid_grant("code_verifier missing")),
        (None, Some(_)) => Err(invalid_grant("code_verifier sent for a code issued without PKCE")),
        (Some(challenge), Some(verifier)) => {
            // RFC 7636 §4.1: 43 to 128 unreserved characters.
            let well_formed = (43..=128).contains(&verifier.len())
                && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            if !well_formed {
                return Err(CoreError::InvalidRequest {
                    field: "code_verifier",
                    reason: "must be 43 to 128 unreserved characters",
                });
            }
            let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
            let computed = tessera_jose::base64url::encode(digest.as_ref());
            if aws_lc_rs::constant_time::verify_slices_are_equal(computed.as_bytes(), challenge.as_bytes()).is_ok() {
                Ok(())
            } else {
                Err(invalid_grant("code_verifier does not match the challenge"))
            }
        }
    }
}

fn invalid_grant(detail: &'static str) -> CoreError {
    CoreError::InvalidGrant { detail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verifier_matches_its_challenge_and_downgrades_fail() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(check_verifier(Some(challenge), Some(verifier)).is_ok());
        assert!(check_verifier(None, None).is_ok());
        assert!(matches!(check_verifier(Some(challenge), None), Err(CoreError::InvalidGrant { .. })));
        assert!(matches!(check_verifier(None, Some(verifier)), Err(CoreError::InvalidGrant { .. })));
        let wrong = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX";
        assert!(matches!(check_verifier(Some(challenge), Some(wrong)), Err(CoreError::InvalidGrant { .. })));
        assert!(matches!(
            check_verifier(Some(challenge), Some("short")),
            Err(CoreError::InvalidRequest { field: "code_verifier", .. })
        ));
    }
}
