//! Time as the domain sees it: whole seconds since the Unix epoch (RFC 7519 §2 NumericDate),
//! read from an injected [`Clock`] so that tests decide what "now" is.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A point in time, in whole seconds since 1970-01-01T00:00:00Z.
///
/// Seconds, not finer, because every time the domain stores ends up in a JWT `NumericDate`
/// (`exp`, `iat`, `auth_time`) and both storage backends keep it as a 64-bit integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The time `seconds` after the epoch.
    pub const fn from_unix(seconds: i64) -> Timestamp {
        Timestamp(seconds)
    }

    /// Seconds since the epoch.
    pub const fn unix(self) -> i64 {
        self.0
    }

    /// This time plus `seconds`, saturating instead of overflowing on hostile input.
    pub const fn plus(self, seconds: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(seconds))
    }

    /// This time minus `seconds`, saturating.
    pub const fn minus(self, seconds: i64) -> Timestamp {
        Timestamp(self.0.saturating_sub(seconds))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The source of "now". Flows call it once and pass the value down; stores never read a clock.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The real clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place that may read the wall clock
    fn now(&self) -> Timestamp {
        // A clock before 1970 is a broken host; 0 makes every token look expired, which fails safe.
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Timestamp(seconds)
    }
}

/// A clock that tests set and advance by hand.
#[derive(Debug, Default)]
pub struct TestClock(AtomicI64);

impl TestClock {
    /// A clock showing `start`.
    pub fn new(start: Timestamp) -> TestClock {
        TestClock(AtomicI64::new(start.unix()))
    }

    /// Sets the time.
    pub fn set(&self, now: Timestamp) {
        self.0.store(now.unix(), Ordering::SeqCst);
    }

    /// Moves the time forward by `seconds`.
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_clock_moves_only_when_told() {
        let clock = TestClock::new(Timestamp::from_unix(1_000));
        assert_eq!(clock.now(), Timestamp::from_unix(1_000));
        clock.advance(60);
        assert_eq!(clock.now().unix(), 1_060);
        clock.set(Timestamp::from_unix(5));
        assert_eq!(clock.now().unix(), 5);
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now().unix() > 1_577_836_800);
    }

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(Timestamp::from_unix(i64::MAX).plus(1).unix(), i64::MAX);
        assert_eq!(Timestamp::from_unix(i64::MIN).minus(1).unix(), i64::MIN);
    }
}
