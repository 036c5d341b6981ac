//! Records the conformance tests build on.

use std::sync::Arc;

use tessera_core::clock::Timestamp;
use tessera_core::model::account::{Account, Email, PasswordHash, UserId};
use tessera_core::model::client::{Client, ClientId, ClientKind, GrantType};
use tessera_core::model::grant::{AccessTokenRecord, Grant, GrantId};
use tessera_core::model::refresh::{RefreshToken, RefreshTokenHash};
use tessera_core::model::revocation::RevocationQuery;
use tessera_core::model::session::{Session, SessionCookieHash, SessionId, SessionKind};
use tessera_core::secrets::client_secret::{ClientSecret, SecretPepper};
use tessera_core::store::Store;

/// The "now" the tests start from.
pub const NOW: Timestamp = Timestamp::from_unix(1_800_000_000);

/// A grant's lifetime in the tests.
pub const GRANT_TTL: i64 = 3_600;

/// The lifetime of the access tokens the tests record.
pub const ACCESS_TTL: i64 = 300;

/// An enabled account with a password hash.
pub fn account(id: &str, email: &str) -> Account {
    Account::new(
        UserId::new(id),
        Email::parse(email).unwrap(),
        Some(format!("User {id}")),
        Some(PasswordHash::new(format!("$argon2id$v=19$m=19456,t=2,p=1$salt${id}"))),
        NOW,
    )
}

/// A confidential client allowed every grant, with its secret hashed under a fixed pepper.
pub fn confidential_client(client_id: &str) -> Client {
    let pepper = SecretPepper::new(&[9u8; 32]).unwrap();
    Client {
        client_id: ClientId::new(client_id),
        kind: ClientKind::Confidential {
            secret_hash: pepper.hash(&ClientSecret::new(format!("secret-of-{client_id}"))),
        },
        redirect_uris: vec![format!("https://{client_id}.example/callback")],
        grant_types: GrantType::ALL.to_vec(),
        scopes: vec!["openid".into(), "profile".into(), "orders:read".into()],
        audiences: vec!["https://api.example".into()],
        access_ttl: Some(300),
        refresh_ttl: Some(86_400),
        browser: Default::default(),
        created_at: NOW,
    }
}

/// A public client.
pub fn public_client(client_id: &str) -> Client {
    Client { kind: ClientKind::Public, access_ttl: None, refresh_ttl: None, ..confidential_client(client_id) }
}

/// An API session for a user at a client, lasting a day.
pub fn session(sid: &str, user: &str, client: Option<&str>) -> Session {
    Session {
        sid: SessionId::new(sid),
        kind: SessionKind::Api,
        user_id: UserId::new(user),
        client_id: client.map(ClientId::new),
        auth_time: NOW,
        acr: Some("urn:tessera:acr:pwd".into()),
        amr: vec!["pwd".into()],
        created_at: NOW,
        expires_at: NOW.plus(86_400),
        revoked_at: None,
    }
}

/// A browser session of a user, shared by every client (no `client_id`), lasting a day.
pub fn browser_session(sid: &str, user: &str) -> Session {
    Session { kind: SessionKind::Browser, client_id: None, ..session(sid, user, None) }
}

/// A browser session cookie's hash, distinct per `label`.
pub fn cookie(label: &str) -> SessionCookieHash {
    let mut bytes = [0u8; 32];
    for (slot, byte) in bytes.iter_mut().zip(label.bytes()) {
        *slot = byte;
    }
    SessionCookieHash(bytes)
}

/// A fresh refresh token's hash, distinct per `label`.
pub fn token_hash(label: &str) -> RefreshTokenHash {
    RefreshToken::parse(&format!("refresh-token-{label}")).unwrap().hash()
}

/// An access token expiring [`ACCESS_TTL`] after `issued`, as a grant records it.
pub fn access(jti: &str, issued: Timestamp) -> AccessTokenRecord {
    AccessTokenRecord { jti: jti.to_owned(), expires_at: issued.plus(ACCESS_TTL) }
}

/// Whether an access token's `jti` is revoked.
pub async fn jti_revoked<S: Store>(store: &S, jti: &str) -> bool {
    let query = RevocationQuery { jti, sid: None, sub: "nobody", issued_at: NOW };
    store.find_revocation(query).await.unwrap().is_some()
}

/// A login as the refresh tests need it: account `u1`, client `app`, session `s1`, and a
/// grant `g1` whose first refresh token is `token_hash("first")` and first access token `jti-login`.
pub struct Login {
    /// The grant as created.
    pub grant: Grant,
    /// Hash of the grant's first refresh token.
    pub first: RefreshTokenHash,
    /// The grant's first access token.
    pub access: AccessTokenRecord,
}

/// Creates the records of a [`Login`].
pub async fn login<S: Store>(store: &Arc<S>) -> Login {
    store.create_account(&account("u1", "u1@example.com")).await.unwrap();
    store.create_client(&confidential_client("app")).await.unwrap();
    store.create_session(&session("s1", "u1", Some("app"))).await.unwrap();
    let grant = grant("g1", "app", "u1", "s1");
    let first = token_hash("first");
    let access = access("jti-login", NOW);
    store.create_grant(&grant, Some(&first), &access).await.unwrap();
    Login { grant, first, access }
}

/// A grant starting at [`NOW`] and lasting [`GRANT_TTL`].
pub fn grant(id: &str, client: &str, user: &str, sid: &str) -> Grant {
    Grant {
        id: GrantId::new(id),
        client_id: ClientId::new(client),
        user_id: UserId::new(user),
        sid: SessionId::new(sid),
        scopes: vec!["openid".into(), "orders:read".into()],
        claims: Default::default(),
        created_at: NOW,
        expires_at: NOW.plus(GRANT_TTL),
        revoked_at: None,
    }
}
