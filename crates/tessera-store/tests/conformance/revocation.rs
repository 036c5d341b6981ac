//! Access-token revocations and the audit log.

use std::sync::Arc;

use serde_json::json;
use tessera_core::model::audit::{AuditEvent, AuditKind, REDACTED};
use tessera_core::model::client::ClientId;
use tessera_core::model::revocation::{RevocationQuery, RevocationTarget};
use tessera_core::store::Store;

use super::fixtures::NOW;

fn query<'a>(jti: &'a str, sid: Option<&'a str>, sub: &'a str, iat: i64) -> RevocationQuery<'a> {
    RevocationQuery { jti, sid, sub, issued_at: NOW.plus(iat) }
}

/// By `jti` always; by `sid` and `sub` only for tokens issued at or before the revocation.
pub async fn revocation_lookups<S: Store>(store: Arc<S>) {
    let none = store.find_revocation(query("j1", Some("s1"), "u1", 0)).await.unwrap();
    assert_eq!(none, None);

    store.revoke(&RevocationTarget::Jti("j1".into()), NOW.plus(900), NOW).await.unwrap();
    let by_jti = store.find_revocation(query("j1", None, "u9", 0)).await.unwrap().unwrap();
    assert_eq!(by_jti.target, RevocationTarget::Jti("j1".into()));
    assert_eq!(store.find_revocation(query("j2", None, "u9", 0)).await.unwrap(), None);

    store.revoke(&RevocationTarget::Sid("s1".into()), NOW.plus(1_000), NOW.plus(100)).await.unwrap();
    assert!(store.find_revocation(query("j3", Some("s1"), "u1", 50)).await.unwrap().is_some());
    assert!(
        store.find_revocation(query("j3", Some("s1"), "u1", 100)).await.unwrap().is_some(),
        "same second fails closed"
    );
    assert_eq!(store.find_revocation(query("j3", Some("s1"), "u1", 101)).await.unwrap(), None, "issued after");
    assert_eq!(store.find_revocation(query("j3", Some("s2"), "u1", 50)).await.unwrap(), None);
    assert_eq!(store.find_revocation(query("j3", None, "u1", 50)).await.unwrap(), None);

    store.revoke(&RevocationTarget::Sub("u1".into()), NOW.plus(1_000), NOW.plus(200)).await.unwrap();
    let by_sub = store.find_revocation(query("j4", Some("s9"), "u1", 150)).await.unwrap().unwrap();
    assert_eq!(by_sub.target, RevocationTarget::Sub("u1".into()));
    assert_eq!(by_sub.revoked_at, NOW.plus(200));
    assert_eq!(store.find_revocation(query("j4", Some("s9"), "u1", 201)).await.unwrap(), None);
    assert_eq!(store.find_revocation(query("j4", Some("s9"), "u2", 150)).await.unwrap(), None);
}

/// The feed returns revocations after a position, in order; expired entries are purged.
pub async fn revocation_feed_and_purge<S: Store>(store: Arc<S>) {
    let targets =
        [RevocationTarget::Jti("a".into()), RevocationTarget::Sid("b".into()), RevocationTarget::Sub("c".into())];
    let mut seqs = Vec::new();
    for (n, target) in targets.iter().enumerate() {
        let stored = store.revoke(target, NOW.plus(10 * (n as i64 + 1)), NOW.plus(n as i64)).await.unwrap();
        assert_eq!(&stored.target, target);
        seqs.push(stored.seq);
    }
    assert!(seqs.windows(2).all(|pair| pair[0] < pair[1]), "feed positions increase: {seqs:?}");

    let all = store.revocations_after(0, 100).await.unwrap();
    assert_eq!(all.iter().map(|r| r.target.clone()).collect::<Vec<_>>(), targets);
    let rest = store.revocations_after(seqs[0], 1).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].seq, seqs[1]);
    assert!(store.revocations_after(seqs[2], 100).await.unwrap().is_empty());

    assert_eq!(store.purge_expired_revocations(NOW.plus(20)).await.unwrap(), 2);
    let left = store.revocations_after(0, 100).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].target, targets[2]);
}

/// Events append in batches and come back newest-last, with secrets still redacted.
pub async fn audit_append_and_tail<S: Store>(store: Arc<S>) {
    assert!(store.audit_tail(10).await.unwrap().is_empty());
    let first = AuditEvent::new(AuditKind::LoginFailed, NOW)
        .actor("u1")
        .ip(Some("203.0.113.7".into()))
        .client(&ClientId::new("app"))
        .details(json!({"reason": "wrong password", "password": "hunter2"}));
    store.append_audit_events(std::slice::from_ref(&first)).await.unwrap();
    let batch: Vec<AuditEvent> =
        (1..=4).map(|n| AuditEvent::new(AuditKind::RefreshRotated, NOW.plus(n)).details(json!({"n": n}))).collect();
    store.append_audit_events(&batch).await.unwrap();
    store.append_audit_events(&[]).await.unwrap();

    let all = store.audit_tail(100).await.unwrap();
    assert_eq!(all.len(), 5);
    assert!(all.windows(2).all(|pair| pair[0].seq < pair[1].seq));
    let stored = &all[0];
    assert_eq!(stored.kind, AuditKind::LoginFailed);
    assert_eq!(stored.actor.as_deref(), Some("u1"));
    assert_eq!(stored.ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(stored.client_id, Some(ClientId::new("app")));
    assert_eq!(stored.time, NOW);
    assert_eq!(stored.details.as_map()["password"], json!(REDACTED));
    assert_eq!(stored.details.as_map()["reason"], json!("wrong password"));

    let tail = store.audit_tail(2).await.unwrap();
    assert_eq!(tail.iter().map(|e| e.details.as_map()["n"].clone()).collect::<Vec<_>>(), [json!(3), json!(4)]);
}

/// The server's access-token lifetime is recorded so that every process computes the same
/// retention; lowering it keeps the old one until its tokens have expired.
pub async fn retention_record<S: Store>(store: Arc<S>) {
    assert_eq!(store.access_ttl_record().await.unwrap(), None);
    let first = store.record_access_ttl(3_600, NOW).await.unwrap();
    assert_eq!(store.access_ttl_record().await.unwrap(), Some(first));
    assert_eq!(first.longest(NOW), 3_600);
    let lowered = store.record_access_ttl(300, NOW.plus(10)).await.unwrap();
    assert_eq!(store.access_ttl_record().await.unwrap(), Some(lowered));
    assert_eq!(lowered.longest(NOW.plus(10)), 3_600);
    assert_eq!(lowered.longest(NOW.plus(3_610)), 300);
}

/// The feed's cursor follows commit order: a reader polling while many writers revoke sees
/// every entry exactly once, in increasing position, never skipping one that committed late
/// with a lower position (the contract the revocation feed resumes on).
pub async fn the_feed_cursor_misses_nothing_under_concurrent_writes<S: Store + 'static>(store: Arc<S>) {
    const WRITERS: usize = 4;
    const EACH: usize = 25;
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for n in 0..EACH {
                    let target = RevocationTarget::Jti(format!("w{w}-{n}"));
                    store.revoke(&target, NOW.plus(900), NOW).await.unwrap();
                }
            })
        })
        .collect();
    let mut cursor = 0;
    let mut seen = Vec::new();
    // Reads while the writers write; once they have all finished, one more empty page means
    // the reader has caught up with everything they committed.
    let mut writers_done = false;
    loop {
        let page = store.revocations_after(cursor, 7).await.unwrap();
        for entry in &page {
            assert!(entry.seq > cursor, "positions increase: {} after {cursor}", entry.seq);
            cursor = entry.seq;
            seen.push(entry.target.value().to_owned());
        }
        if seen.len() == WRITERS * EACH {
            break;
        }
        if page.is_empty() {
            if writers_done {
                break;
            }
            writers_done = writers.iter().all(|writer| writer.is_finished());
            tokio::task::yield_now().await;
        }
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let mut expected: Vec<String> = (0..WRITERS).flat_map(|w| (0..EACH).map(move |n| format!("w{w}-{n}"))).collect();
    expected.sort();
    seen.sort();
    assert_eq!(seen, expected, "every revocation seen exactly once");
}
