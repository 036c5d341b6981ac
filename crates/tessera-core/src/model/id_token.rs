//! OpenID Connect ID tokens (OIDC Core §2): what they say, built only here, and the claims
//! about a user that the granted scopes release (OIDC Core §5.4), shared with userinfo so that
//! both say the same thing.

use serde::Serialize;
use serde_json::{Map, Value, json};
use tessera_jose::Algorithm;

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::model::account::Account;
use crate::model::client::Client;
use crate::model::session::Session;

/// How long an ID token is valid, seconds. It proves a login to the client once; it is not
/// an API credential, so an hour is plenty (Hydra's default too).
pub const ID_TOKEN_TTL: i64 = 3600;

/// The claims of an ID token (`typ: JWT`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IdTokenClaims {
    /// `iss`
    pub iss: String,
    /// `sub`
    pub sub: String,
    /// `aud`: the client alone (so no `azp` is needed, OIDC Core §2).
    pub aud: String,
    /// `exp`
    pub exp: i64,
    /// `iat`: now, also on a refresh (OIDC Core §12.2).
    pub iat: i64,
    /// `auth_time`: when the user authenticated, not when this token was made.
    pub auth_time: i64,
    /// `nonce`, exactly as the authorization request sent it; never on a refresh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// `acr`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// `amr` (RFC 8176)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    /// `sid`: the browser or API session (OIDC Front-Channel Logout §3).
    pub sid: String,
    /// `at_hash` (OIDC Core §3.1.3.6): binds the access token issued with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// The user's claims that the granted scopes allow.
    #[serde(flatten)]
    pub user: Map<String, Value>,
}

/// What an ID token is made from.
#[derive(Debug)]
pub struct IdTokenInput<'a> {
    /// The client it is for.
    pub client: &'a Client,
    /// The user.
    pub account: &'a Account,
    /// The session the login happened in.
    pub session: &'a Session,
    /// The granted scopes.
    pub scopes: &'a [String],
    /// The authorization request's `nonce`.
    pub nonce: Option<&'a str>,
    /// The access token issued beside it, for `at_hash`.
    pub access_token: &'a str,
    /// Claims asked for individually for the ID token.
    pub requested: &'a [String],
}

/// Signs ID tokens. Implemented outside core over `tessera-jose` and the active keys.
pub trait IdTokenIssuer: Send + Sync {
    /// The algorithm the client's ID tokens are signed with: its registered
    /// `id_token_signed_response_alg`, or the server's default.
    fn id_token_alg(&self, client: &Client) -> Result<Algorithm, CoreError>;

    /// Signs `claims` with the active key of `alg`, header `typ: JWT`.
    fn sign_id_token(&self, alg: Algorithm, claims: &IdTokenClaims) -> Result<String, CoreError>;
}

/// Builds and signs an ID token.
pub fn issue_id_token(
    issuer: &dyn IdTokenIssuer,
    iss: &str,
    input: IdTokenInput<'_>,
    now: Timestamp,
) -> Result<String, CoreError> {
    let alg = issuer.id_token_alg(input.client)?;
    let claims = IdTokenClaims {
        iss: iss.to_owned(),
        sub: input.account.id.as_str().to_owned(),
        aud: input.client.client_id.as_str().to_owned(),
        exp: now.plus(ID_TOKEN_TTL).unix(),
        iat: now.unix(),
        auth_time: input.session.auth_time.unix(),
        nonce: input.nonce.map(str::to_owned),
        acr: input.session.acr.clone(),
        amr: (!input.session.amr.is_empty()).then(|| input.session.amr.clone()),
        sid: input.session.sid.as_str().to_owned(),
        at_hash: Some(token_hash(alg, input.access_token)),
        user: released_claims(input.account, input.scopes, input.requested),
    };
    issuer.sign_id_token(alg, &claims)
}

/// `at_hash`: the left half of the hash of the token's ASCII, base64url (OIDC Core §3.1.3.6),
/// with the hash of the ID token's algorithm; SHA-512 for EdDSA over Ed25519 (OIDC Core errata
/// set 2, as node-oidc-provider and panva/jose do).
pub fn token_hash(alg: Algorithm, token: &str) -> String {
    use aws_lc_rs::digest;
    let hash = match alg {
        Algorithm::ES384 | Algorithm::RS384 | Algorithm::PS384 | Algorithm::HS384 => &digest::SHA384,
        Algorithm::RS512 | Algorithm::PS512 | Algorithm::HS512 | Algorithm::EdDSA => &digest::SHA512,
        _ => &digest::SHA256,
    };
    let digest = digest::digest(hash, token.as_bytes());
    let bytes = digest.as_ref();
    tessera_jose::base64url::encode(&bytes[..bytes.len() / 2])
}

/// The scope whose consent releases claim `name` (OIDC Core §5.4), for the standard claims.
pub fn claim_scope(name: &str) -> Option<&'static str> {
    match name {
        "name" | "given_name" | "family_name" | "middle_name" | "nickname" | "preferred_username" | "profile"
        | "picture" | "website" | "gender" | "birthdate" | "zoneinfo" | "locale" | "updated_at" => Some("profile"),
        "email" | "email_verified" => Some("email"),
        "address" => Some("address"),
        "phone_number" | "phone_number_verified" => Some("phone"),
        _ => None,
    }
}

/// Individual claims asked for with the `claims` request parameter (OIDC Core §5.5), by the
/// document they go into. Only standard claims are kept, each released with the consent of its
/// scope; whether one was marked `essential` changes nothing here, since every kept claim is
/// returned when the account has it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RequestedClaims {
    /// For the ID token.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub id_token: Vec<String>,
    /// For userinfo.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub userinfo: Vec<String>,
}

impl RequestedClaims {
    /// Reads a `claims` parameter: an object whose `id_token` and `userinfo` members are
    /// objects of claim names, each `null` or an object (`essential`, `value`, `values`). Claims
    /// whose scope the client may not have are dropped: they would never be released.
    pub fn parse(value: &Value, allowed_scopes: &[String]) -> Result<RequestedClaims, &'static str> {
        let Value::Object(members) = value else { return Err("claims: must be a JSON object") };
        let mut requested = RequestedClaims::default();
        for (member, target) in [("id_token", &mut requested.id_token), ("userinfo", &mut requested.userinfo)] {
            let Some(entry) = members.get(member) else { continue };
            let Value::Object(claims) = entry else { return Err("claims: id_token and userinfo must be objects") };
            for (name, request) in claims {
                if !matches!(request, Value::Null | Value::Object(_)) {
                    return Err("claims: each claim must be null or an object");
                }
                let allowed = claim_scope(name).is_some_and(|scope| allowed_scopes.iter().any(|s| s == scope));
                if allowed && !target.contains(name) {
                    target.push(name.clone());
                }
            }
        }
        Ok(requested)
    }

    /// The scopes whose consent the requested claims need.
    pub fn scopes(&self) -> Vec<&'static str> {
        let mut scopes: Vec<&'static str> =
            self.id_token.iter().chain(&self.userinfo).filter_map(|name| claim_scope(name)).collect();
        scopes.sort_unstable();
        scopes.dedup();
        scopes
    }

    /// Whether nothing was asked for.
    pub fn is_empty(&self) -> bool {
        self.id_token.is_empty() && self.userinfo.is_empty()
    }
}

/// The claims released into one document: those of the granted `scopes`, and the ones asked
/// for individually (`claims` parameter) for it.
pub fn released_claims(account: &Account, scopes: &[String], individually: &[String]) -> Map<String, Value> {
    let mut claims = scope_claims(account, scopes);
    if !individually.is_empty() {
        let implied: Vec<String> =
            individually.iter().filter_map(|name| claim_scope(name)).map(str::to_owned).collect();
        for (name, value) in scope_claims(account, &implied) {
            if individually.contains(&name) {
                claims.insert(name, value);
            }
        }
    }
    claims
}

/// The claims about `account` that `scopes` release (OIDC Core §5.4), for userinfo and the
/// ID token alike. `sub` is not among them: each caller sets it.
pub fn scope_claims(account: &Account, scopes: &[String]) -> Map<String, Value> {
    let mut claims = Map::new();
    let has = |scope: &str| scopes.iter().any(|s| s == scope);
    let profile = &account.profile;
    let mut put = |name: &str, value: &Option<String>| {
        if let Some(value) = value {
            claims.insert(name.to_owned(), json!(value));
        }
    };
    if has("profile") {
        put("name", &account.name);
        put("given_name", &profile.given_name);
        put("family_name", &profile.family_name);
        put("middle_name", &profile.middle_name);
        put("nickname", &profile.nickname);
        put("preferred_username", &profile.preferred_username);
        put("profile", &profile.profile);
        put("picture", &profile.picture);
        put("website", &profile.website);
        put("gender", &profile.gender);
        put("birthdate", &profile.birthdate);
        put("zoneinfo", &profile.zoneinfo);
        put("locale", &profile.locale);
    }
    if has("phone") {
        put("phone_number", &profile.phone_number);
    }
    if has("profile") {
        claims.insert("updated_at".into(), json!(account.updated_at.unix()));
    }
    if has("phone") && profile.phone_number.is_some() {
        claims.insert("phone_number_verified".into(), Value::Bool(profile.phone_number_verified));
    }
    if let (true, Some(address)) = (has("address"), &profile.address) {
        claims.insert("address".into(), json!(address));
    }
    if has("email") {
        claims.insert("email".into(), json!(account.email.as_str()));
        // Tessera does not verify addresses yet (passwordless sign-in will).
        claims.insert("email_verified".into(), Value::Bool(false));
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scope_releases_its_claims_only() {
        use crate::model::account::{Address, Email, Profile, UserId};
        let mut account = Account::new(
            UserId::new("u"),
            Email::parse("a@example.com").unwrap(),
            Some("A".into()),
            None,
            Timestamp::from_unix(5),
        );
        account.profile = Profile {
            given_name: Some("Ann".into()),
            phone_number: Some("+1555".into()),
            address: Some(Address { country: Some("FR".into()), ..Address::default() }),
            ..Profile::default()
        };
        let claims = |scopes: &[&str]| {
            let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
            let mut names: Vec<String> = scope_claims(&account, &scopes).keys().cloned().collect();
            names.sort();
            names
        };
        assert!(claims(&["openid"]).is_empty());
        assert_eq!(claims(&["profile"]), ["given_name", "name", "updated_at"]);
        assert_eq!(claims(&["email"]), ["email", "email_verified"]);
        assert_eq!(claims(&["address"]), ["address"]);
        assert_eq!(claims(&["phone"]), ["phone_number", "phone_number_verified"]);
    }

    #[test]
    fn requested_claims_keep_standard_claims_the_client_may_have() {
        let allowed: Vec<String> = ["openid", "email", "profile"].map(String::from).to_vec();
        let value = serde_json::json!({
            "id_token": { "given_name": { "essential": true }, "phone_number": null, "acr": { "values": ["1"] } },
            "userinfo": { "email": null, "email_verified": { "essential": true }, "email": null },
        });
        let requested = RequestedClaims::parse(&value, &allowed).unwrap();
        assert_eq!(requested.id_token, ["given_name"], "phone is not allowed, acr is not a scope claim");
        assert_eq!(requested.userinfo, ["email", "email_verified"]);
        assert_eq!(requested.scopes(), ["email", "profile"]);
        for bad in
            [serde_json::json!([]), serde_json::json!({"userinfo": []}), serde_json::json!({"userinfo": {"email": 1}})]
        {
            assert!(RequestedClaims::parse(&bad, &allowed).is_err(), "{bad}");
        }
        let account = Account::new(
            crate::model::account::UserId::new("u"),
            crate::model::account::Email::parse("a@b.example").unwrap(),
            Some("A".into()),
            None,
            Timestamp::from_unix(1),
        );
        let released = released_claims(&account, &["openid".to_owned()], &["email".to_owned()]);
        assert_eq!(released.keys().collect::<Vec<_>>(), ["email"], "the one claim, not all of its scope");
    }

    #[test]
    fn profile_shapes_are_checked() {
        use crate::model::account::Profile;
        assert!(Profile { birthdate: Some("1990-02-03".into()), ..Profile::default() }.validate().is_ok());
        assert!(Profile { birthdate: Some("0000-02-03".into()), ..Profile::default() }.validate().is_ok());
        for bad in ["1990-2-3", "yesterday", "1990/02/03"] {
            assert!(Profile { birthdate: Some(bad.into()), ..Profile::default() }.validate().is_err(), "{bad}");
        }
        assert!(Profile { picture: Some("javascript:alert(1)".into()), ..Profile::default() }.validate().is_err());
        assert!(Profile { nickname: Some("a\u{0}b".into()), ..Profile::default() }.validate().is_err());
    }

    #[test]
    fn at_hash_matches_the_oidc_example() {
        // OIDC Core §A.3 gives this access token and at_hash for an RS256 ID token.
        let access = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
        assert_eq!(token_hash(Algorithm::RS256, access), "77QmUPtjPfzWtF2AnpK9RQ");
    }
}
