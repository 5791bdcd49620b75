//! Waiting for a condition with a wall-clock bound (the testkit's one polling loop).

use std::time::{Duration, Instant};

/// Check `done` every 10 ms until it holds (`true`) or `timeout` has passed (`false`). It is
/// checked at least once, even with a zero timeout.
pub(crate) fn poll_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if done() {
            return true;
        }
        if start.elapsed() >= timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_once_with_no_time_and_until_the_deadline_otherwise() {
        let mut calls = 0;
        assert!(!poll_until(Duration::ZERO, || {
            calls += 1;
            false
        }));
        assert_eq!(calls, 1);
        let start = Instant::now();
        assert!(!poll_until(Duration::from_millis(60), || false));
        assert!(start.elapsed() >= Duration::from_millis(60));
        let mut left = 3;
        assert!(poll_until(Duration::from_secs(20), || {
            left -= 1;
            left == 0
        }));
        assert_eq!(left, 0);
    }
}
