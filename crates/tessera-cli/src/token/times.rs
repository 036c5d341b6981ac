//! NumericDate values (RFC 7519 §2) for people: RFC 3339 dates and "3m ago" / "in 12m".

use std::time::Duration;

use tessera_jose::MAX_NUMERIC_DATE;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Failure;

/// `now + duration` as a NumericDate, or an error naming the flag if it leaves the range.
pub fn after(now: i64, duration: Duration, flag: &str) -> Result<i64, Failure> {
    i64::try_from(duration.as_secs())
        .ok()
        .and_then(|seconds| now.checked_add(seconds))
        .filter(|date| *date <= MAX_NUMERIC_DATE)
        .ok_or_else(|| Failure::usage(format!("{flag} is too far in the future")))
}

/// The date as RFC 3339 in UTC, `None` if it cannot be one.
pub fn rfc3339(seconds: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp(seconds).ok()?.format(&Rfc3339).ok()
}

/// `"in 12m"`, `"3m 20s ago"` or `"now"`, relative to `now`.
pub fn relative(seconds: i64, now: i64) -> String {
    let distance = span(seconds.abs_diff(now));
    match seconds.cmp(&now) {
        std::cmp::Ordering::Greater => format!("in {distance}"),
        std::cmp::Ordering::Less => format!("{distance} ago"),
        std::cmp::Ordering::Equal => "now".into(),
    }
}

/// A duration in its two largest units: `45s`, `3m 12s`, `2h 5m`, `7d 3h`.
fn span(seconds: u64) -> String {
    let units = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")];
    let parts: Vec<String> = units
        .iter()
        .scan(seconds, |rest, (size, name)| {
            let count = *rest / size;
            *rest %= size;
            Some((count, *name))
        })
        .skip_while(|(count, _)| *count == 0)
        .take(2)
        .filter(|(count, _)| *count != 0)
        .map(|(count, name)| format!("{count}{name}"))
        .collect();
    if parts.is_empty() { "0s".into() } else { parts.join(" ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_keep_the_two_largest_units() {
        assert_eq!(span(0), "0s");
        assert_eq!(span(45), "45s");
        assert_eq!(span(192), "3m 12s");
        assert_eq!(span(3_600), "1h");
        assert_eq!(span(3_660 + 5), "1h 1m");
        assert_eq!(span(7 * 86_400 + 3 * 3_600 + 59), "7d 3h");
    }

    #[test]
    fn relative_times_and_dates() {
        assert_eq!(relative(1_000, 1_180), "3m ago");
        assert_eq!(relative(1_720, 1_000), "in 12m");
        assert_eq!(relative(5, 5), "now");
        assert_eq!(rfc3339(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(rfc3339(1_700_000_000).as_deref(), Some("2023-11-14T22:13:20Z"));
    }

    #[test]
    fn dates_past_year_9999_are_refused() {
        assert_eq!(after(10, Duration::from_secs(5), "--exp").ok(), Some(15));
        assert!(after(10, Duration::from_secs(u64::MAX), "--exp").is_err());
        assert!(after(MAX_NUMERIC_DATE, Duration::from_secs(1), "--exp").is_err());
    }
}
