//! How long revocations and retired keys must be kept, decided from the database, never from
//! the configuration of whichever process happens to write: an admin command run with another
//! configuration (`tessera user disable`, `keys rotate --now`) must not shorten what the server
//! keeps. The server records its access-token lifetime at every start; a lowered lifetime keeps
//! the old one in force until every token issued under it has expired.

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::error::CoreError;
use crate::model::client::ClientStore;

/// The server's access-token lifetime as recorded in the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessTtlRecord {
    /// The lifetime the server issues with now, seconds.
    pub current: i64,
    /// The longest lifetime in force before the last change, seconds.
    pub previous: i64,
    /// Until when tokens issued under `previous` may still be alive.
    pub previous_until: Timestamp,
}

impl AccessTtlRecord {
    /// The longest lifetime of a server-default access token that may be alive at `now`.
    pub fn longest(&self, now: Timestamp) -> i64 {
        if now < self.previous_until { self.current.max(self.previous) } else { self.current }
    }

    /// The record after the server starts issuing with `ttl` at `now`: the lifetime in force
    /// until now stays the longest until the tokens issued under it have expired.
    pub fn changed_to(record: Option<AccessTtlRecord>, ttl: i64, now: Timestamp) -> AccessTtlRecord {
        match record {
            Some(record) if record.current == ttl => record,
            Some(record) => {
                let old = record.longest(now);
                AccessTtlRecord { current: ttl, previous: old, previous_until: now.plus(old) }
            }
            None => AccessTtlRecord { current: ttl, previous: ttl, previous_until: now },
        }
    }
}

/// Storage of the retention facts.
#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// The recorded server lifetime, if a server ever started on this database.
    async fn access_ttl_record(&self) -> Result<Option<AccessTtlRecord>, CoreError>;

    /// Records that the server issues access tokens with `ttl` from `now` on, in one atomic
    /// read-modify-write ([`AccessTtlRecord::changed_to`]); returns the new record.
    async fn record_access_ttl(&self, ttl: i64, now: Timestamp) -> Result<AccessTtlRecord, CoreError>;
}

/// The longest lifetime of any access token that may be in circulation at `now`: the server's
/// recorded lifetime (or `fallback` when no server has recorded one yet) and every client's
/// own. `sid`/`sub` revocations and retired keys are kept this long (plus the leeway).
pub async fn longest_access_ttl<S>(store: &S, fallback: i64, now: Timestamp) -> Result<i64, CoreError>
where
    S: RetentionStore + ClientStore + ?Sized,
{
    let server = store.access_ttl_record().await?.map_or(fallback, |record| record.longest(now));
    let clients = store.list_clients().await?;
    Ok(clients.iter().filter_map(|client| client.access_ttl).fold(server, i64::max))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timestamp = Timestamp::from_unix(1_000_000);

    #[test]
    fn a_lowered_lifetime_keeps_the_old_one_until_its_tokens_expire() {
        let first = AccessTtlRecord::changed_to(None, 3600, T);
        assert_eq!(first.longest(T), 3600);
        let lowered = AccessTtlRecord::changed_to(Some(first), 300, T.plus(10));
        assert_eq!(lowered.longest(T.plus(10)), 3600);
        assert_eq!(lowered.longest(T.plus(10 + 3599)), 3600);
        assert_eq!(lowered.longest(T.plus(10 + 3600)), 300);
        let again = AccessTtlRecord::changed_to(Some(lowered), 300, T.plus(20));
        assert_eq!(again, lowered, "a restart with the same lifetime changes nothing");
        let raised = AccessTtlRecord::changed_to(Some(lowered), 900, T.plus(30));
        assert_eq!(raised.longest(T.plus(30)), 3600, "the older, longer lifetime still counts");
        assert_eq!(raised.longest(T.plus(30 + 3600)), 900);
    }
}
