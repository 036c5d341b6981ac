//! The storage conformance suite: one set of tests over `tessera-core`'s ports that every
//! adapter must pass, so SQLite today and PostgreSQL later keep the same security contract.
//!
//! Each test is an `async fn` taking a fresh, empty store. An adapter runs them all with
//! [`conformance_suite!`](crate::conformance_suite):
//!
//! ```text
//! async fn fresh_store() -> (std::sync::Arc<MyStore>, Guard) { /* empty database */ }
//! tessera_store::conformance_suite!(fresh_store);
//! ```
//!
//! The tests panic on failure, as tests do.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed expectation is the report

pub mod accounts;
pub mod fixtures;
pub mod keys;
pub mod refresh;
pub mod revocation;

/// Expands to one `#[tokio::test]` per conformance test, each on a store from `$fresh`, an
/// async function returning `(Arc<S>, guard)`; the guard (a temp dir, a schema) lives as long
/// as the test.
#[macro_export]
macro_rules! conformance_suite {
    ($fresh:path) => {
        $crate::conformance_suite!(@tests $fresh;
            accounts::account_crud,
            accounts::client_crud,
            accounts::removing_a_client_removes_its_families,
            accounts::removing_an_account_removes_its_sessions_and_families,
            accounts::session_lifecycle,
            accounts::revoking_user_sessions_revokes_families,
            accounts::session_needs_an_account,
            refresh::rotation_chain,
            refresh::reuse_revokes_family,
            refresh::concurrent_rotations_exactly_one_wins,
            refresh::expired_family_is_refused,
            refresh::client_mismatch_changes_nothing,
            refresh::unknown_token,
            refresh::revoked_family_is_refused,
            refresh::revoke_refresh_token_checks_client,
            refresh::purge_expired_families,
            keys::key_lifecycle,
            keys::concurrent_activation_exactly_one_wins,
            keys::concurrent_rotations_insert_one_next_key,
            keys::revocation_withdraws_a_key_and_hands_over,
            revocation::revocation_lookups,
            revocation::revocation_feed_and_purge,
            revocation::audit_append_and_tail,
        );
    };
    (@tests $fresh:path; $($module:ident :: $test:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                let (store, _guard) = $fresh().await;
                $crate::conformance::$module::$test(store).await;
            }
        )+
    };
}
