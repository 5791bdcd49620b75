//! Tests of the tests: run an assertion that must fail and read what it said.

use std::panic::{AssertUnwindSafe, catch_unwind};

/// Run `f`, which must panic, and return its panic message. Panics itself (naming the call site)
/// when `f` returns normally: a guard that cannot fail guards nothing.
///
/// ```
/// let message = kitty_testkit::expect_panic(|| {
///     kitty_testkit::JsonDoc::parse("{\"result\": \"error\"}\n").unwrap().assert_eq("/result", "success");
/// });
/// assert!(message.starts_with("JSON pointer /result: expected \"success\""), "{message}");
/// ```
#[track_caller]
pub fn expect_panic(f: impl FnOnce()) -> String {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(()) => panic!("expected a panic (a failing guard), but the code returned normally"),
        Err(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "<a panic payload that is not a string>".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::expect_panic;

    #[test]
    fn the_message_of_either_payload_kind_is_returned() {
        assert_eq!(expect_panic(|| panic!("static")), "static");
        assert_eq!(expect_panic(|| panic!("formatted {}", 7)), "formatted 7");
        assert_eq!(
            expect_panic(|| std::panic::panic_any(7_u8)),
            "<a panic payload that is not a string>"
        );
    }

    #[test]
    fn code_that_does_not_panic_fails_the_test() {
        let outer = std::panic::catch_unwind(|| expect_panic(|| {}));
        let payload = outer.expect_err("a guard that cannot fail must be reported");
        let message = payload.downcast_ref::<&str>().copied().unwrap_or_default();
        assert!(message.starts_with("expected a panic"), "{message}");
    }
}
