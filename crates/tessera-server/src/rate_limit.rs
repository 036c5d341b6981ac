//! Login rate limits (SPEC §7), counted in fixed windows in memory (one node; shared counters
//! in Redis come with the multi-node work):
//!
//! - attempts per client address (an IPv6 address counts by its /64, which one host holds);
//! - failed logins per (account, client address): a guesser at one address is stopped early,
//!   and cannot lock the owner out from elsewhere;
//! - failed logins per account from all addresses together: a higher ceiling against a
//!   guesser spread over many addresses.
//!
//! An attempt is *reserved* before the password is checked, atomically, so that concurrent
//! requests cannot all pass a check made before any of them is counted: counted failures plus
//! reservations never exceed a limit, and an attempt that would exceed it only because others
//! are still deciding waits for them. A success gives its reservation back. Keys are truncated SHA-256 digests, so a long username costs no more
//! memory than a short one, and each counter holds at most `max_entries` keys.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use aws_lc_rs::digest::{SHA256, digest};
use tessera_core::clock::Timestamp;
use tokio::sync::Notify;

use crate::config::RateLimitConfig;

/// A counter key: the first 128 bits of a SHA-256 digest (collisions are not a concern at
/// this width; a key is never turned back into a name).
pub type CounterKey = [u8; 16];

/// Digests the parts of a key, each length-prefixed so that no two part lists collide.
pub fn counter_key(parts: &[&[u8]]) -> CounterKey {
    let mut input = Vec::with_capacity(parts.iter().map(|p| p.len() + 8).sum());
    for part in parts {
        input.extend_from_slice(&(part.len() as u64).to_be_bytes());
        input.extend_from_slice(part);
    }
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest(&SHA256, &input).as_ref()[..16]);
    key
}

/// The part of an address that identifies one client: an IPv4 address whole (also when
/// written IPv4-mapped), an IPv6 address by its /64 (RFC 4291 §2.5.4: one subnet, which one
/// host is routinely given whole).
pub fn address_bucket(address: IpAddr) -> Vec<u8> {
    match address {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.octets().to_vec(),
            None => v6.octets()[..8].to_vec(),
        },
    }
}

/// One key's window: when it started, the events it counted, and the attempts reserved
/// and not yet settled.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: i64,
    count: u32,
    pending: u32,
}

#[derive(Debug, Default)]
struct Counts {
    windows: HashMap<CounterKey, Window>,
    /// When the table was last swept (one sweep per second at most while it is full).
    swept_at: i64,
    /// The earliest end of a window seen by the last sweep: when a full table frees a place.
    next_free: i64,
}

/// What a reservation found.
enum Room {
    /// Reserved.
    Reserved,
    /// The window is used up (or the table is full): wait this many seconds.
    Full(u64),
    /// Counted and pending attempts fill the window: wait for one of them to settle.
    Busy,
}

/// Counts events per key in fixed windows, with a hard cap on the number of keys.
#[derive(Debug)]
pub struct WindowCounter {
    limit: u32,
    window: i64,
    max_entries: usize,
    counts: Mutex<Counts>,
    settled: Notify,
}

impl WindowCounter {
    /// At most `limit` events per `window` seconds for each key, and at most `max_entries` keys.
    pub fn new(limit: u32, window: i64, max_entries: usize) -> WindowCounter {
        WindowCounter {
            limit,
            window: window.max(1),
            max_entries: max_entries.max(1),
            counts: Mutex::default(),
            settled: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        // A panic while holding the lock cannot leave a count half-written: plain integers.
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The window of `key`, created (room permitting) and restarted if it has ended.
    fn window<'a>(&self, counts: &'a mut Counts, key: &CounterKey, now: i64) -> Result<&'a mut Window, u64> {
        if !counts.windows.contains_key(key) && counts.windows.len() >= self.max_entries {
            self.sweep(counts, now);
            if counts.windows.len() >= self.max_entries {
                // Refuse rather than forget: evicting would let a spray of new keys erase
                // the count of an account under attack.
                return Err((counts.next_free - now).max(1).unsigned_abs());
            }
        }
        let entry = counts.windows.entry(*key).or_insert(Window { start: now, count: 0, pending: 0 });
        if entry.start + self.window <= now {
            *entry = Window { start: now, count: 0, pending: entry.pending };
        }
        Ok(entry)
    }

    /// Counts one event for `key` if its window has room; otherwise nothing is counted and
    /// the error is the seconds to wait. Check and count are one step.
    pub fn count(&self, key: &CounterKey, now: Timestamp) -> Result<(), u64> {
        let now = now.unix();
        let mut counts = self.lock();
        let window = self.window;
        let limit = self.limit;
        let entry = self.window(&mut counts, key, now)?;
        if entry.count >= limit {
            return Err((entry.start + window - now).unsigned_abs());
        }
        entry.count += 1;
        Ok(())
    }

    /// Reserves one possible event for `key`: counted events plus reservations never exceed
    /// the limit, so at most `limit` attempts can be deciding at once. When the window is
    /// used up the error is the seconds to wait; when only reservations fill it, this waits
    /// for one to settle (a burst of right passwords queues rather than being refused).
    pub async fn reserve(&self, key: &CounterKey, now: Timestamp) -> Result<(), u64> {
        loop {
            let settled = self.settled.notified();
            tokio::pin!(settled);
            // Registered before the check, so a settle between check and wait is not missed.
            settled.as_mut().enable();
            match self.try_reserve(key, now) {
                Room::Reserved => return Ok(()),
                Room::Full(wait) => return Err(wait),
                Room::Busy => settled.await,
            }
        }
    }

    fn try_reserve(&self, key: &CounterKey, now: Timestamp) -> Room {
        let now = now.unix();
        let mut counts = self.lock();
        let (window, limit) = (self.window, self.limit);
        let entry = match self.window(&mut counts, key, now) {
            Ok(entry) => entry,
            Err(wait) => return Room::Full(wait),
        };
        if entry.count >= limit {
            Room::Full((entry.start + window - now).unsigned_abs())
        } else if entry.count.saturating_add(entry.pending) >= limit {
            Room::Busy
        } else {
            entry.pending += 1;
            Room::Reserved
        }
    }

    /// Settles a reservation of `key`: `counted` turns it into an event, otherwise it is
    /// given back; `clear` also forgets the key's counted events.
    pub fn settle(&self, key: &CounterKey, counted: bool, clear: bool) {
        {
            let mut counts = self.lock();
            if let Some(entry) = counts.windows.get_mut(key) {
                entry.pending = entry.pending.saturating_sub(1);
                if clear {
                    entry.count = 0;
                } else if counted {
                    entry.count = entry.count.saturating_add(1);
                }
            }
        }
        self.settled.notify_waiters();
    }

    /// Seconds until `key` may act again, if it has used up its window.
    pub fn blocked_for(&self, key: &CounterKey, now: Timestamp) -> Option<u64> {
        let counts = self.lock();
        let entry = counts.windows.get(key)?;
        let remaining = entry.start + self.window - now.unix();
        (remaining > 0 && entry.count >= self.limit).then(|| remaining.unsigned_abs())
    }

    /// How many keys are held (for tests and metrics).
    pub fn len(&self) -> usize {
        self.lock().windows.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn sweep(&self, counts: &mut Counts, now: i64) {
        if counts.swept_at == now {
            return;
        }
        let window = self.window;
        // A key with an unsettled reservation stays: its settle must find it.
        counts.windows.retain(|_, w| w.start + window > now || w.pending > 0);
        counts.next_free = counts.windows.values().map(|w| w.start + window).min().unwrap_or(now);
        counts.swept_at = now;
    }
}

/// The three login limits together.
#[derive(Debug)]
pub struct LoginLimits {
    /// Attempts per client address.
    pub per_ip: WindowCounter,
    /// Failed logins per (account, client address).
    pub per_account_address: WindowCounter,
    /// Failed logins per account from every address.
    pub per_account: WindowCounter,
}

/// A login attempt that has passed the limits and holds its reservations. Settle it with
/// [`LoginAttempt::succeeded`] or [`LoginAttempt::not_counted`]; dropped unsettled (a wrong
/// password, or a client that hung up mid-check) it counts as a failure: fail closed.
#[derive(Debug)]
pub struct LoginAttempt<'a> {
    limits: &'a LoginLimits,
    pair: CounterKey,
    account: CounterKey,
    settled: bool,
}

impl LoginLimits {
    /// The limits of `config`.
    pub fn new(config: &RateLimitConfig) -> LoginLimits {
        let window = i64::try_from(config.window.as_secs()).unwrap_or(i64::MAX);
        let counter = |limit| WindowCounter::new(limit, window, config.max_entries);
        LoginLimits {
            per_ip: counter(config.login_per_ip),
            per_account_address: counter(config.login_per_account),
            per_account: counter(config.login_per_account_total),
        }
    }

    /// Counts an attempt by `address` on the account named `account` (already normalized)
    /// and reserves a failure on both account counters; the error is the seconds to wait.
    pub async fn begin(&self, account: &str, address: IpAddr, now: Timestamp) -> Result<LoginAttempt<'_>, u64> {
        let bucket = address_bucket(address);
        self.per_ip.count(&counter_key(&[b"ip", &bucket]), now)?;
        let pair = counter_key(&[b"account+ip", account.as_bytes(), &bucket]);
        let account = counter_key(&[b"account", account.as_bytes()]);
        self.per_account_address.reserve(&pair, now).await?;
        if let Err(wait) = self.per_account.reserve(&account, now).await {
            self.per_account_address.settle(&pair, false, false);
            return Err(wait);
        }
        Ok(LoginAttempt { limits: self, pair, account, settled: false })
    }
}

impl LoginAttempt<'_> {
    /// The password was right: the address's failures are forgotten and the reservation on
    /// the account-wide ceiling is given back (failures from other addresses stay).
    pub fn succeeded(mut self) {
        self.settled = true;
        self.limits.per_account_address.settle(&self.pair, false, true);
        self.limits.per_account.settle(&self.account, false, false);
    }

    /// The credentials were wrong: both reservations become counted failures.
    pub fn failed(self) {}

    /// The attempt ended before the password decided anything (unknown client, bad scope,
    /// server error): both reservations are given back.
    pub fn not_counted(mut self) {
        self.settled = true;
        self.limits.per_account_address.settle(&self.pair, false, false);
        self.limits.per_account.settle(&self.account, false, false);
    }
}

impl Drop for LoginAttempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.limits.per_account_address.settle(&self.pair, true, false);
            self.limits.per_account.settle(&self.account, true, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> CounterKey {
        counter_key(&[name.as_bytes()])
    }

    #[test]
    fn counts_within_a_window_and_resets_after() {
        let counter = WindowCounter::new(2, 60, 100);
        let t = Timestamp::from_unix(1000);
        assert_eq!(counter.count(&key("a"), t), Ok(()));
        assert_eq!(counter.count(&key("a"), t.plus(10)), Ok(()));
        assert_eq!(counter.blocked_for(&key("a"), t.plus(10)), Some(50));
        assert_eq!(counter.count(&key("a"), t.plus(10)), Err(50), "refused, and counts nothing");
        assert_eq!(counter.blocked_for(&key("b"), t), None, "keys are independent");
        assert_eq!(counter.blocked_for(&key("a"), t.plus(60)), None, "window over");
        assert_eq!(counter.count(&key("a"), t.plus(60)), Ok(()));
    }

    #[tokio::test]
    async fn reservations_never_exceed_the_limit_and_the_excess_waits_for_a_settle() {
        let counter = std::sync::Arc::new(WindowCounter::new(2, 60, 100));
        let t = Timestamp::from_unix(1000);
        counter.reserve(&key("a"), t).await.unwrap();
        counter.reserve(&key("a"), t).await.unwrap();
        let waiting = tokio::spawn({
            let counter = std::sync::Arc::clone(&counter);
            async move { counter.reserve(&key("a"), t).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "two deciding attempts fill a limit of two");
        counter.settle(&key("a"), false, false);
        assert_eq!(waiting.await.unwrap(), Ok(()), "a given-back place lets the waiter in");
        counter.settle(&key("a"), true, false);
        counter.settle(&key("a"), true, false);
        assert_eq!(counter.reserve(&key("a"), t.plus(10)).await, Err(50), "two failures: the window is used up");
    }

    #[test]
    fn a_full_table_sweeps_expired_windows_then_refuses_new_keys() {
        let counter = WindowCounter::new(5, 60, 2);
        let t = Timestamp::from_unix(1000);
        counter.count(&key("a"), t).unwrap();
        counter.count(&key("b"), t.plus(30)).unwrap();
        assert_eq!(counter.count(&key("c"), t.plus(40)), Err(20), "until a's window ends");
        assert_eq!(counter.count(&key("a"), t.plus(40)), Ok(()), "known keys still count");
        assert_eq!(counter.len(), 2);
        assert_eq!(counter.count(&key("c"), t.plus(61)), Ok(()), "a's window expired and was swept");
        assert_eq!(counter.len(), 2);
    }

    #[test]
    fn ipv6_counts_by_64_and_mapped_ipv4_as_ipv4() {
        let bucket = |s: &str| address_bucket(s.parse().unwrap());
        assert_eq!(bucket("2001:db8:1:2::1"), bucket("2001:db8:1:2:ffff:1:2:3"));
        assert_ne!(bucket("2001:db8:1:2::1"), bucket("2001:db8:1:3::1"));
        assert_eq!(bucket("::ffff:192.0.2.1"), bucket("192.0.2.1"));
        assert_ne!(bucket("192.0.2.1"), bucket("192.0.2.2"));
    }

    #[tokio::test]
    async fn one_address_cannot_use_up_the_account_ceiling() {
        let config = RateLimitConfig {
            login_per_account: 2,
            login_per_account_total: 3,
            login_per_ip: 100,
            ..RateLimitConfig::default()
        };
        let limits = LoginLimits::new(&config);
        let t = Timestamp::from_unix(1000);
        let attacker: IpAddr = "192.0.2.1".parse().unwrap();
        let owner: IpAddr = "198.51.100.7".parse().unwrap();
        for _ in 0..2 {
            limits.begin("alice", attacker, t).await.unwrap().failed();
        }
        assert!(limits.begin("alice", attacker, t).await.is_err(), "the pair limit");
        limits.begin("alice", owner, t).await.unwrap().succeeded();
        limits.begin("alice", owner, t).await.unwrap().not_counted();
        let third: IpAddr = "203.0.113.9".parse().unwrap();
        drop(limits.begin("alice", third, t).await.unwrap());
        assert!(limits.begin("alice", owner, t).await.is_err(), "three failures from all addresses: the ceiling");
    }
}
