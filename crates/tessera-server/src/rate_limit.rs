//! Login rate limits (SPEC §7): failed logins per account and attempts per client IP, each
//! counted in a fixed window. Counters live in memory (one node); shared counters in Redis
//! come with the multi-node work.

use std::collections::HashMap;
use std::sync::Mutex;

use tessera_core::clock::Timestamp;

/// Above this many keys, expired windows are swept on the next hit so memory stays bounded
/// under a spray of distinct usernames or addresses.
const SWEEP_ABOVE: usize = 10_000;

/// Counts events per key in fixed windows.
#[derive(Debug)]
pub struct WindowCounter {
    limit: u32,
    window: i64,
    counts: Mutex<HashMap<String, (i64, u32)>>,
}

impl WindowCounter {
    /// At most `limit` events per `window` seconds for each key.
    pub fn new(limit: u32, window: i64) -> WindowCounter {
        WindowCounter { limit, window: window.max(1), counts: Mutex::new(HashMap::new()) }
    }

    /// Seconds until `key` may act again, if it has used up its window.
    pub fn blocked_for(&self, key: &str, now: Timestamp) -> Option<u64> {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let (start, count) = counts.get(key)?;
        let remaining = start + self.window - now.unix();
        (remaining > 0 && *count >= self.limit).then(|| remaining.unsigned_abs())
    }

    /// Counts one event for `key`; returns the seconds to wait if this event went over.
    pub fn hit(&self, key: &str, now: Timestamp) -> Option<u64> {
        let now = now.unix();
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.len() > SWEEP_ABOVE {
            let window = self.window;
            counts.retain(|_, (start, _)| *start + window > now);
        }
        let entry = counts.entry(key.to_owned()).or_insert((now, 0));
        if entry.0 + self.window <= now {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        (entry.1 > self.limit).then(|| (entry.0 + self.window - now).unsigned_abs())
    }

    /// Forgets `key` (a successful login clears its failures).
    pub fn clear(&self, key: &str) {
        self.counts.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

/// The two login limits together.
#[derive(Debug)]
pub struct LoginLimits {
    /// Failed logins per account (keyed by the lower-cased username).
    pub per_account: WindowCounter,
    /// Attempts per client IP.
    pub per_ip: WindowCounter,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_within_a_window_and_resets_after() {
        let counter = WindowCounter::new(2, 60);
        let t = Timestamp::from_unix(1000);
        assert_eq!(counter.hit("a", t), None);
        assert_eq!(counter.hit("a", t.plus(10)), None);
        assert_eq!(counter.blocked_for("a", t.plus(10)), Some(50));
        assert_eq!(counter.hit("a", t.plus(10)), Some(50));
        assert_eq!(counter.blocked_for("b", t), None, "keys are independent");
        assert_eq!(counter.blocked_for("a", t.plus(60)), None, "window over");
        assert_eq!(counter.hit("a", t.plus(60)), None);
        counter.clear("a");
        assert_eq!(counter.blocked_for("a", t.plus(61)), None);
    }
}
