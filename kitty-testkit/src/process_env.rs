//! Variables of the test process (not of an isolated home): the harness's own switches, such as
//! `SPEC_KITTY_BIN`. A variable set to the empty string counts as unset, so `VAR=` in a CI
//! script turns an override off rather than pointing it at "".

use std::ffi::OsString;

/// `name` in the test process's environment, `None` when unset or empty.
pub(crate) fn non_empty_var(name: &str) -> Option<OsString> {
    non_empty(std::env::var_os(name))
}

/// `value`, unless it is absent or empty.
pub(crate) fn non_empty(value: Option<OsString>) -> Option<OsString> {
    value.filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_value_counts_as_unset() {
        assert_eq!(non_empty(Some("x".into())), Some(OsString::from("x")));
        assert_eq!(non_empty(Some(OsString::new())), None);
        assert_eq!(non_empty(None), None);
        assert_eq!(non_empty_var("KITTY_TESTKIT_SURELY_UNSET_VARIABLE"), None);
        // Set by cargo in every test process.
        assert_eq!(
            non_empty_var("CARGO_PKG_NAME").as_deref(),
            Some(std::ffi::OsStr::new("kitty-testkit"))
        );
    }
}
