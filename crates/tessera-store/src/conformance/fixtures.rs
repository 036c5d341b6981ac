//! Records the conformance tests build on.

use std::sync::Arc;

use tessera_core::account::{Account, Email, PasswordHash, UserId};
use tessera_core::client::{Client, ClientId, ClientKind, GrantType};
use tessera_core::client_secret::{ClientSecret, SecretPepper};
use tessera_core::clock::Timestamp;
use tessera_core::refresh::{FamilyId, RefreshFamily, RefreshToken, RefreshTokenHash};
use tessera_core::session::{Session, SessionId, SessionKind};
use tessera_core::store::Store;

/// The "now" the tests start from.
pub const NOW: Timestamp = Timestamp::from_unix(1_800_000_000);

/// A refresh family's lifetime in the tests.
pub const FAMILY_TTL: i64 = 3_600;

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

/// A fresh refresh token's hash, distinct per `label`.
pub fn token_hash(label: &str) -> RefreshTokenHash {
    RefreshToken::parse(&format!("refresh-token-{label}")).unwrap().hash()
}

/// A login as the refresh tests need it: account `u1`, client `app`, session `s1`, and a
/// family `f1` whose first token is `token_hash("first")`.
pub struct Login {
    /// The family as created.
    pub family: RefreshFamily,
    /// Hash of the family's first token.
    pub first: RefreshTokenHash,
}

/// Creates the records of a [`Login`].
pub async fn login<S: Store>(store: &Arc<S>) -> Login {
    store.create_account(&account("u1", "u1@example.com")).await.unwrap();
    store.create_client(&confidential_client("app")).await.unwrap();
    store.create_session(&session("s1", "u1", Some("app"))).await.unwrap();
    let family = family("f1", "app", "u1", "s1");
    let first = token_hash("first");
    store.create_refresh_family(&family, &first).await.unwrap();
    Login { family, first }
}

/// A refresh family starting at [`NOW`] and lasting [`FAMILY_TTL`].
pub fn family(id: &str, client: &str, user: &str, sid: &str) -> RefreshFamily {
    RefreshFamily {
        id: FamilyId::new(id),
        client_id: ClientId::new(client),
        user_id: UserId::new(user),
        sid: SessionId::new(sid),
        scopes: vec!["openid".into(), "orders:read".into()],
        created_at: NOW,
        expires_at: NOW.plus(FAMILY_TTL),
        revoked_at: None,
    }
}
