//! Client-credentials issuance, audited as counts. A service may ask for thousands of tokens a
//! second; one audit row each would make the audit table the bottleneck of the hot path and
//! grow it by billions of rows a day. Instead each issuance increments a counter for its
//! (client, address, scope), and every [`FLUSH_EVERY`] (and at shutdown) each counter becomes
//! one `token.client_credentials` event with the count and the first and last issuance times.
//! The counts add up to every token issued, except what a process killed (not stopped) held,
//! a handler still running past the shutdown grace adds after the last flush, or an audit queue
//! full at that moment drops (it is then in the log only).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::json;
use tessera_core::clock::Timestamp;
use tessera_core::model::audit::{AuditEvent, AuditKind, AuditSink};
use tessera_core::model::client::ClientId;

/// How often the counts become audit events.
pub const FLUSH_EVERY: Duration = Duration::from_secs(10);

/// Distinct (client, address, scope) counters kept between flushes at most; past it, a flush
/// happens at once, so memory stays bounded whatever the traffic.
const MAX_KEYS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    client_id: ClientId,
    ip: String,
    scope: String,
}

#[derive(Debug, Clone, Copy)]
struct Count {
    tokens: u64,
    first: Timestamp,
    last: Timestamp,
}

/// The counters between two flushes.
#[derive(Debug, Default)]
pub struct IssuanceTally {
    counts: Mutex<HashMap<Key, Count>>,
}

impl IssuanceTally {
    /// Counts one token issued to `client_id` from `ip` with `scopes`; flushes into `audit` at
    /// once if the table is full.
    pub fn record(&self, audit: &dyn AuditSink, client_id: &ClientId, ip: &str, scopes: &[String], now: Timestamp) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let key = Key { client_id: client_id.clone(), ip: ip.to_owned(), scope: scopes.join(" ") };
        counts.entry(key).and_modify(|c| c.tokens += 1).or_insert(Count { tokens: 1, first: now, last: now }).last =
            now;
        if counts.len() >= MAX_KEYS {
            let full = std::mem::take(&mut *counts);
            drop(counts);
            emit(audit, full);
        }
    }

    /// Turns every counter into an audit event and starts afresh.
    pub fn flush(&self, audit: &dyn AuditSink) {
        let counts = std::mem::take(&mut *self.counts.lock().unwrap_or_else(|p| p.into_inner()));
        emit(audit, counts);
    }
}

fn emit(audit: &dyn AuditSink, counts: HashMap<Key, Count>) {
    for (key, count) in counts {
        audit.record(
            AuditEvent::new(AuditKind::ClientCredentialsIssued, count.last)
                .client(&key.client_id)
                .ip(Some(key.ip))
                .details(json!({
                    "scope": key.scope,
                    "tokens_issued": count.tokens,
                    "first_issued_at": count.first.unix(),
                    "last_issued_at": count.last.unix(),
                })),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_core::model::audit::MemoryAuditSink;

    #[test]
    fn counts_become_one_event_per_client_address_and_scope() {
        let tally = IssuanceTally::default();
        let audit = MemoryAuditSink::default();
        let (a, b) = (ClientId::new("a"), ClientId::new("b"));
        let t = Timestamp::from_unix(1_000);
        for n in 0..5 {
            tally.record(&audit, &a, "10.0.0.1", &["read".into()], t.plus(n));
        }
        tally.record(&audit, &a, "10.0.0.2", &["read".into()], t);
        tally.record(&audit, &b, "10.0.0.1", &[], t);
        assert!(audit.events().is_empty(), "nothing before the flush");
        tally.flush(&audit);
        let events = audit.events();
        assert_eq!(events.len(), 3);
        let busy =
            events.iter().find(|e| e.ip.as_deref() == Some("10.0.0.1") && e.client_id == Some(a.clone())).unwrap();
        let details = busy.details.as_map();
        assert_eq!((details["tokens_issued"].as_u64(), details["scope"].as_str()), (Some(5), Some("read")));
        assert_eq!(
            (details["first_issued_at"].as_i64(), details["last_issued_at"].as_i64()),
            (Some(1_000), Some(1_004))
        );
        let total: u64 = events.iter().map(|e| e.details.as_map()["tokens_issued"].as_u64().unwrap()).sum();
        assert_eq!(total, 7, "every token is counted");
        tally.flush(&audit);
        assert_eq!(audit.events().len(), 3, "a flush starts afresh");
    }
}
