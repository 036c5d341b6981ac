//! The storage conformance suite: one set of tests over `tessera-core`'s ports that every
//! adapter must pass, so SQLite today and PostgreSQL later keep the same security contract.
//!
//! Each test is an `async fn` taking a fresh, empty store. An adapter's test file includes this
//! folder and runs them all with `conformance_suite!`:
//!
//! ```text
//! #[macro_use]
//! mod conformance;
//! async fn fresh_store() -> (std::sync::Arc<MyStore>, Guard) { /* empty database */ }
//! conformance_suite!(fresh_store);
//! ```
//!
//! It lives under `tests/`, not in the library: it is test code (it panics on a failed
//! expectation), so no build of the server or the CLI can contain it.
// Each test file uses the fixtures it needs.
#![allow(dead_code)]

pub mod accounts;
pub mod artifacts;
pub mod browser;
pub mod consent;
pub mod fixtures;
pub mod keys;
pub mod refresh;
pub mod revocation;

/// Expands to one `#[tokio::test]` per conformance test, each on a store from `$fresh`, an
/// async function returning `(Arc<S>, guard)`; the guard (a temp dir, a schema) lives as long
/// as the test.
macro_rules! conformance_suite {
    ($fresh:path) => {
        conformance_suite!(@tests $fresh;
            accounts::account_crud,
            accounts::client_crud,
            accounts::removing_a_client_removes_its_grants,
            accounts::removing_an_account_removes_its_sessions_and_grants,
            accounts::session_lifecycle,
            accounts::revoking_user_sessions_revokes_grants,
            accounts::session_needs_an_account,
            refresh::rotation_chain,
            refresh::reuse_revokes_grant_and_its_access_tokens,
            refresh::reuse_interval_allows_one_retry,
            refresh::concurrent_rotations_exactly_one_wins,
            refresh::expired_grant_is_refused,
            refresh::client_mismatch_changes_nothing,
            refresh::unknown_token,
            refresh::revoked_grant_is_refused,
            refresh::revoke_grant_reaches_its_access_tokens,
            refresh::revoke_refresh_token_checks_client,
            refresh::purge_expired_grants,
            refresh::refresh_context_reads_grant_session_and_account,
            refresh::ending_sessions_revokes_their_grants_access_tokens,
            refresh::a_grant_is_found_by_its_access_tokens,
            artifacts::an_artifact_is_taken_once_under_concurrency,
            artifacts::expired_unknown_and_other_kinds_are_unknown,
            artifacts::wrong_attempts_are_counted_then_the_code_is_void,
            artifacts::a_new_code_voids_the_previous_one,
            artifacts::authorization_codes_of_one_user_do_not_void_each_other,
            artifacts::purge_expired_artifacts,
            artifacts::a_peek_finds_a_live_artifact_and_changes_nothing,
            artifacts::a_peek_finds_nothing_that_is_not_live,
            artifacts::redeeming_a_code_stores_its_grant,
            artifacts::a_grant_that_cannot_be_stored_leaves_the_code_untaken,
            artifacts::redeeming_a_dead_code_stores_no_grant,
            artifacts::concurrent_redemptions_store_exactly_one_grant,
            browser::a_browser_session_is_found_by_its_cookie,
            browser::touching_a_browser_session_moves_last_seen_forward_only,
            browser::reauthentication_replaces_the_cookie,
            browser::an_ended_session_is_not_reauthenticated,
            browser::revoking_a_browser_session_revokes_its_grants,
            browser::removing_an_account_removes_its_browser_sessions,
            consent::consent_is_the_union_of_recorded_scopes,
            consent::concurrent_consents_all_count,
            consent::removing_a_client_or_account_removes_its_consents,
            keys::key_lifecycle,
            keys::concurrent_activation_exactly_one_wins,
            keys::concurrent_rotations_insert_one_next_key,
            keys::revocation_withdraws_a_key_and_hands_over,
            revocation::revocation_lookups,
            revocation::revocation_feed_and_purge,
            revocation::audit_append_and_tail,
            revocation::retention_record,
            revocation::the_feed_cursor_misses_nothing_under_concurrent_writes,
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
