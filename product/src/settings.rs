//! Every setting read from the environment snapshot, each default spelled once: the sync switch
//! and the time budgets (all in milliseconds). `spec-kitty env` documents the same numbers; a test
//! holds the registry's text to these constants.

use std::time::Duration;

use crate::env::{Env, vars};

/// `SPEC_KITTY_HTTP_TIMEOUT_MS` when unset: connect and read timeout of each request, in ms.
pub const DEFAULT_HTTP_TIMEOUT_MS: u64 = 10_000;
/// `SPEC_KITTY_LOCK_BUDGET_MS` when unset: the wait for the refresh and drain locks, in ms.
pub const DEFAULT_LOCK_BUDGET_MS: u64 = 1_000;
/// `SPEC_KITTY_FINAL_SYNC_BUDGET_MS` when unset, and its ceiling: the final sync never takes
/// longer, in ms.
pub const MAX_FINAL_SYNC_BUDGET_MS: u64 = 3_000;
/// `SPEC_KITTY_SYNC_DEADLINE_MS` when unset: the overall deadline of `sync now`, in ms.
pub const DEFAULT_SYNC_NOW_DEADLINE_MS: u64 = 20_000;
/// `SPEC_KITTY_POLL_SECOND_MS` when unset: one second of the device-flow poll interval, in ms.
pub const DEFAULT_POLL_SECOND_MS: u64 = 1_000;

/// Every millisecond variable with its default, in registry order.
pub const MILLIS: &[(&str, u64)] = &[
    (
        vars::SPEC_KITTY_FINAL_SYNC_BUDGET_MS,
        MAX_FINAL_SYNC_BUDGET_MS,
    ),
    (vars::SPEC_KITTY_LOCK_BUDGET_MS, DEFAULT_LOCK_BUDGET_MS),
    (vars::SPEC_KITTY_HTTP_TIMEOUT_MS, DEFAULT_HTTP_TIMEOUT_MS),
    (
        vars::SPEC_KITTY_SYNC_DEADLINE_MS,
        DEFAULT_SYNC_NOW_DEADLINE_MS,
    ),
    (vars::SPEC_KITTY_POLL_SECOND_MS, DEFAULT_POLL_SECOND_MS),
];

/// The settings of one command, read once from its environment snapshot. A value that is not a
/// number of milliseconds falls back to its default (and [`warn_bad_numbers`] says so).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// `SPEC_KITTY_ENABLE_SAAS_SYNC` truthy, and neither `SPEC_KITTY_SYNC_DISABLE` nor
    /// `SPEC_KITTY_SYNC_MINIMAL_IMPORT` (the reference's sync-off switch).
    pub sync_active: bool,
    /// Total time budget of the final sync, at most [`MAX_FINAL_SYNC_BUDGET_MS`].
    pub final_budget: Duration,
    /// Per-request connect/read timeout.
    pub http_timeout: Duration,
    /// Longest wait for the refresh and drain locks.
    pub lock_budget: Duration,
    /// Overall deadline of `sync now`.
    pub now_deadline: Duration,
    /// Length of one second of the device-flow poll interval (a test hook).
    pub poll_second: Duration,
}

impl Settings {
    /// Read the settings.
    ///
    /// ```
    /// use spec_kitty::{env::Env, internals::settings::Settings};
    /// let env = Env::from_pairs([("SPEC_KITTY_ENABLE_SAAS_SYNC", "on"), ("SPEC_KITTY_FINAL_SYNC_BUDGET_MS", "99999")]);
    /// let s = Settings::from_env(&env);
    /// assert!(s.sync_active);
    /// assert_eq!(s.final_budget.as_millis(), 3000);
    /// ```
    pub fn from_env(env: &Env) -> Self {
        let budget = env
            .millis(
                vars::SPEC_KITTY_FINAL_SYNC_BUDGET_MS,
                MAX_FINAL_SYNC_BUDGET_MS,
            )
            .min(Duration::from_millis(MAX_FINAL_SYNC_BUDGET_MS));
        Self {
            sync_active: env.is_truthy(vars::SPEC_KITTY_ENABLE_SAAS_SYNC)
                && !env.is_truthy(vars::SPEC_KITTY_SYNC_DISABLE)
                && !env.is_truthy(vars::SPEC_KITTY_SYNC_MINIMAL_IMPORT),
            final_budget: budget,
            http_timeout: env.millis(vars::SPEC_KITTY_HTTP_TIMEOUT_MS, DEFAULT_HTTP_TIMEOUT_MS),
            lock_budget: env.millis(vars::SPEC_KITTY_LOCK_BUDGET_MS, DEFAULT_LOCK_BUDGET_MS),
            now_deadline: env.millis(
                vars::SPEC_KITTY_SYNC_DEADLINE_MS,
                DEFAULT_SYNC_NOW_DEADLINE_MS,
            ),
            poll_second: env.millis(vars::SPEC_KITTY_POLL_SECOND_MS, DEFAULT_POLL_SECOND_MS),
        }
    }
}

/// Say once, on stderr, when a numeric variable holds something that is not a number of
/// milliseconds (its default applies instead).
pub fn warn_bad_numbers(env: &Env) {
    for (name, _) in MILLIS {
        if let Some(v) = env.non_empty(name)
            && v.trim().parse::<u64>().is_err()
        {
            tracing::warn!(
                "{name}={v:?} is not a number of milliseconds; using its default (see `spec-kitty env`)"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        Settings::from_env(&Env::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn the_registry_documents_each_default_as_it_is() {
        for (name, default) in MILLIS {
            let spec = crate::env::spec(name).expect("registered");
            assert_eq!(spec.default, default.to_string(), "{name}");
        }
        let numeric: Vec<&str> = crate::env::REGISTRY
            .iter()
            .filter(|s| s.name.ends_with("_MS"))
            .map(|s| s.name)
            .collect();
        let listed: Vec<&str> = MILLIS.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            numeric, listed,
            "every millisecond variable has its default here"
        );
        let cap = crate::env::spec(vars::SPEC_KITTY_FINAL_SYNC_BUDGET_MS).expect("registered");
        assert!(
            cap.meaning
                .contains(&format!("at most {MAX_FINAL_SYNC_BUDGET_MS};")),
            "{}",
            cap.meaning
        );
    }

    #[test]
    fn sync_is_on_only_when_enabled_and_not_switched_off() {
        assert!(!settings(&[]).sync_active);
        assert!(settings(&[("SPEC_KITTY_ENABLE_SAAS_SYNC", "1")]).sync_active);
        for off in ["SPEC_KITTY_SYNC_DISABLE", "SPEC_KITTY_SYNC_MINIMAL_IMPORT"] {
            assert!(
                !settings(&[("SPEC_KITTY_ENABLE_SAAS_SYNC", "1"), (off, "true")]).sync_active,
                "{off}"
            );
            assert!(
                settings(&[("SPEC_KITTY_ENABLE_SAAS_SYNC", "1"), (off, "0")]).sync_active,
                "{off}=0"
            );
        }
    }

    #[test]
    fn budgets_have_defaults_overrides_and_a_capped_final_sync() {
        let d = settings(&[]);
        assert_eq!(
            d.final_budget,
            Duration::from_millis(MAX_FINAL_SYNC_BUDGET_MS)
        );
        assert_eq!(
            d.http_timeout,
            Duration::from_millis(DEFAULT_HTTP_TIMEOUT_MS)
        );
        assert_eq!(d.lock_budget, Duration::from_millis(DEFAULT_LOCK_BUDGET_MS));
        assert_eq!(
            d.now_deadline,
            Duration::from_millis(DEFAULT_SYNC_NOW_DEADLINE_MS)
        );
        assert_eq!(d.poll_second, Duration::from_millis(DEFAULT_POLL_SECOND_MS));
        let s = settings(&[
            ("SPEC_KITTY_FINAL_SYNC_BUDGET_MS", "1200"),
            ("SPEC_KITTY_HTTP_TIMEOUT_MS", "70"),
            ("SPEC_KITTY_LOCK_BUDGET_MS", "80"),
            ("SPEC_KITTY_SYNC_DEADLINE_MS", "90"),
        ]);
        assert_eq!(
            [
                s.final_budget,
                s.http_timeout,
                s.lock_budget,
                s.now_deadline
            ]
            .map(|d| d.as_millis()),
            [1200, 70, 80, 90]
        );
        assert_eq!(
            settings(&[("SPEC_KITTY_FINAL_SYNC_BUDGET_MS", "99999")])
                .final_budget
                .as_millis(),
            3000
        );
    }
}
