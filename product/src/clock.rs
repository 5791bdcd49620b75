//! The wall clock, passed as a value so tests and plugins can pin it.

use chrono::{DateTime, SubsecRound, Utc};

/// Where "now" comes from.
///
/// ```
/// use spec_kitty::internals::clock::Clock;
/// let t = chrono::DateTime::parse_from_rfc3339("2026-11-27T12:00:00+00:00").unwrap().to_utc();
/// assert_eq!(Clock::fixed(t).now(), t);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    fixed: Option<DateTime<Utc>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { fixed: None }
    }
    /// A clock stopped at `t`.
    pub fn fixed(t: DateTime<Utc>) -> Self {
        Self { fixed: Some(t) }
    }
    /// The current time with microseconds (mission and event timestamps, as the reference
    /// writes them).
    pub fn now_micros(&self) -> DateTime<Utc> {
        self.fixed.unwrap_or_else(|| Utc::now().trunc_subsecs(6))
    }
    /// The current time, truncated to whole seconds (as the session format stores it).
    pub fn now(&self) -> DateTime<Utc> {
        self.fixed.unwrap_or_else(|| Utc::now().trunc_subsecs(0))
    }
    /// Milliseconds since the Unix epoch (the outbox's back-off clock).
    pub fn epoch_millis(&self) -> i64 {
        self.fixed.unwrap_or_else(Utc::now).timestamp_millis()
    }
    /// Seconds since the Unix epoch, with the fraction (the hot-path summary's `generated_at`).
    pub fn epoch_seconds(&self) -> f64 {
        let t = self.fixed.unwrap_or_else(Utc::now);
        t.timestamp() as f64 + f64::from(t.timestamp_subsec_nanos()) / 1e9
    }
}

/// `rfc3339` as a UTC time, for tests.
#[cfg(test)]
pub(crate) fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    #[test]
    fn a_fixed_clock_is_stopped_and_the_system_clock_is_truncated() {
        let t = at("2026-11-27T12:00:00.123456789Z");
        assert_eq!(Clock::fixed(t).now(), t);
        assert_eq!(Clock::fixed(t).now_micros(), t);
        let before = Utc::now().trunc_subsecs(0);
        let (now, micros) = (Clock::system().now(), Clock::default().now_micros());
        assert_eq!(now.nanosecond(), 0);
        assert_eq!(micros.nanosecond() % 1_000, 0);
        assert!(
            now >= before && micros >= before,
            "the system clock is the real time"
        );
        assert!(now <= Utc::now() && micros <= Utc::now());
    }

    #[test]
    fn epoch_readings_are_unix_time_in_their_unit() {
        let t = at("2026-11-27T12:00:00.123456789Z");
        assert_eq!(Clock::fixed(t).epoch_millis(), t.timestamp_millis());
        assert!(
            (Clock::fixed(t).epoch_seconds() - (t.timestamp() as f64 + 0.123_456_789)).abs() < 1e-6
        );
        let real = || {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
        };
        let before = real();
        let (ms, secs) = (
            Clock::system().epoch_millis(),
            Clock::system().epoch_seconds(),
        );
        let after = real();
        let ms = u128::try_from(ms).unwrap();
        assert!(
            (before.as_millis()..=after.as_millis()).contains(&ms),
            "{ms}"
        );
        assert!((before.as_secs_f64() - 1e-6..=after.as_secs_f64() + 1e-6).contains(&secs));
    }
}
