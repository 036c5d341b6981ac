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
//! requests cannot all pass a check made before any of them is counted; a success gives its
//! reservation back. Keys are truncated SHA-256 digests, so a long username costs no more
//! memory than a short one, and each counter holds at most `max_entries` keys.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use aws_lc_rs::digest::{SHA256, digest};
use tessera_core::clock::Timestamp;

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

/// One key's window: when it started and how many events it holds.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: i64,
    count: u32,
}

#[derive(Debug, Default)]
struct Counts {
    windows: HashMap<CounterKey, Window>,
    /// When the table was last swept (one sweep per second at most while it is full).
    swept_at: i64,
    /// The earliest end of a window seen by the last sweep: when a full table frees a place.
    next_free: i64,
}

/// Counts events per key in fixed windows, with a hard cap on the number of keys.
#[derive(Debug)]
pub struct WindowCounter {
    limit: u32,
    window: i64,
    max_entries: usize,
    counts: Mutex<Counts>,
}

impl WindowCounter {
    /// At most `limit` events per `window` seconds for each key, and at most `max_entries` keys.
    pub fn new(limit: u32, window: i64, max_entries: usize) -> WindowCounter {
        WindowCounter { limit, window: window.max(1), max_entries: max_entries.max(1), counts: Mutex::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        // A panic while holding the lock cannot leave a count half-written: plain integers.
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts one event for `key` if the key has room in its window; otherwise nothing is
    /// counted and the error is the seconds to wait. Check and count are one step.
    pub fn reserve(&self, key: &CounterKey, now: Timestamp) -> Result<(), u64> {
        let now = now.unix();
        let mut counts = self.lock();
        if !counts.windows.contains_key(key) && counts.windows.len() >= self.max_entries {
            self.sweep(&mut counts, now);
            if counts.windows.len() >= self.max_entries {
                // Refuse rather than forget: evicting would let a spray of new keys erase
                // the count of an account under attack.
                return Err((counts.next_free - now).max(1).unsigned_abs());
            }
        }
        let window = self.window;
        let entry = counts.windows.entry(*key).or_insert(Window { start: now, count: 0 });
        if entry.start + window <= now {
            *entry = Window { start: now, count: 0 };
        }
        if entry.count >= self.limit {
            return Err((entry.start + window - now).unsigned_abs());
        }
        entry.count += 1;
        Ok(())
    }

    /// Gives back one event reserved for `key` (an attempt that turned out not to count).
    pub fn release(&self, key: &CounterKey) {
        if let Some(entry) = self.lock().windows.get_mut(key) {
            entry.count = entry.count.saturating_sub(1);
        }
    }

    /// Forgets `key` (a successful login clears the failures from its address).
    pub fn clear(&self, key: &CounterKey) {
        self.lock().windows.remove(key);
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
        counts.windows.retain(|_, w| w.start + window > now);
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

/// A login attempt that has passed the limits and holds its reservations: call
/// [`LoginAttempt::succeeded`], [`LoginAttempt::failed`] or [`LoginAttempt::not_counted`].
#[derive(Debug)]
#[must_use = "a reservation is settled by succeeded, failed or not_counted"]
pub struct LoginAttempt {
    pair: CounterKey,
    account: CounterKey,
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
    pub fn begin(&self, account: &str, address: IpAddr, now: Timestamp) -> Result<LoginAttempt, u64> {
        let bucket = address_bucket(address);
        self.per_ip.reserve(&counter_key(&[b"ip", &bucket]), now)?;
        let pair = counter_key(&[b"account+ip", account.as_bytes(), &bucket]);
        let account = counter_key(&[b"account", account.as_bytes()]);
        self.per_account_address.reserve(&pair, now)?;
        if let Err(wait) = self.per_account.reserve(&account, now) {
            self.per_account_address.release(&pair);
            return Err(wait);
        }
        Ok(LoginAttempt { pair, account })
    }
}

impl LoginAttempt {
    /// The password was right: the address's failures are forgotten and this attempt's
    /// reservation on the account-wide ceiling is given back (the others' failures stay).
    pub fn succeeded(self, limits: &LoginLimits) {
        limits.per_account_address.clear(&self.pair);
        limits.per_account.release(&self.account);
    }

    /// The credentials were wrong: the reservations stay as counted failures.
    pub fn failed(self) {}

    /// The attempt ended before the password decided anything (unknown client, bad scope,
    /// server error): both reservations are given back.
    pub fn not_counted(self, limits: &LoginLimits) {
        limits.per_account_address.release(&self.pair);
        limits.per_account.release(&self.account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> CounterKey {
        counter_key(&[name.as_bytes()])
    }

    #[test]
    fn limits_within_a_window_and_resets_after() {
        let counter = WindowCounter::new(2, 60, 100);
        let t = Timestamp::from_unix(1000);
        assert_eq!(counter.reserve(&key("a"), t), Ok(()));
        assert_eq!(counter.reserve(&key("a"), t.plus(10)), Ok(()));
        assert_eq!(counter.blocked_for(&key("a"), t.plus(10)), Some(50));
        assert_eq!(counter.reserve(&key("a"), t.plus(10)), Err(50));
        assert_eq!(counter.blocked_for(&key("b"), t), None, "keys are independent");
        assert_eq!(counter.blocked_for(&key("a"), t.plus(60)), None, "window over");
        assert_eq!(counter.reserve(&key("a"), t.plus(60)), Ok(()));
        counter.clear(&key("a"));
        assert_eq!(counter.blocked_for(&key("a"), t.plus(61)), None);
    }

    #[test]
    fn a_refused_reservation_counts_nothing_and_a_release_gives_one_back() {
        let counter = WindowCounter::new(1, 60, 100);
        let t = Timestamp::from_unix(1000);
        assert_eq!(counter.reserve(&key("a"), t), Ok(()));
        for _ in 0..5 {
            assert!(counter.reserve(&key("a"), t).is_err());
        }
        counter.release(&key("a"));
        assert_eq!(counter.reserve(&key("a"), t), Ok(()), "exactly one place was given back");
        assert!(counter.reserve(&key("a"), t).is_err());
    }

    #[test]
    fn a_full_table_sweeps_expired_windows_then_refuses_new_keys() {
        let counter = WindowCounter::new(5, 60, 2);
        let t = Timestamp::from_unix(1000);
        counter.reserve(&key("a"), t).unwrap();
        counter.reserve(&key("b"), t.plus(30)).unwrap();
        assert_eq!(counter.reserve(&key("c"), t.plus(40)), Err(20), "until a's window ends");
        assert_eq!(counter.reserve(&key("a"), t.plus(40)), Ok(()), "known keys still count");
        assert_eq!(counter.len(), 2);
        assert_eq!(counter.reserve(&key("c"), t.plus(61)), Ok(()), "a's window expired and was swept");
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

    #[test]
    fn one_address_cannot_use_up_the_account_ceiling() {
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
            limits.begin("alice", attacker, t).unwrap().failed();
        }
        assert!(limits.begin("alice", attacker, t).is_err(), "the pair limit");
        limits.begin("alice", owner, t).unwrap().succeeded(&limits);
        limits.begin("alice", owner, t).unwrap().not_counted(&limits);
        let third: IpAddr = "203.0.113.9".parse().unwrap();
        limits.begin("alice", third, t).unwrap().failed();
        assert!(limits.begin("alice", owner, t).is_err(), "three failures from all addresses: the ceiling");
    }
}
