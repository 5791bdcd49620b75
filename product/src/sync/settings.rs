//! Sync settings read from the environment snapshot.

use std::time::Duration;

use crate::env::{Env, vars};

/// The final sync never takes longer than this.
pub const MAX_FINAL_SYNC_BUDGET_MS: u64 = 3_000;

/// Whether and how sync runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncSettings {
    /// `SPEC_KITTY_ENABLE_SAAS_SYNC` truthy, and neither `SPEC_KITTY_SYNC_DISABLE` nor
    /// `SPEC_KITTY_SYNC_MINIMAL_IMPORT` (the reference's sync-off switch).
    pub active: bool,
    /// Total time budget of the final sync.
    pub final_budget: Duration,
    /// Per-request connect/read timeout.
    pub http_timeout: Duration,
    /// How long to wait for the refresh and drain locks.
    pub lock_budget: Duration,
    /// Overall deadline of `sync now`.
    pub now_deadline: Duration,
}

/// Default of `SPEC_KITTY_SYNC_DEADLINE_MS`.
pub const DEFAULT_SYNC_NOW_DEADLINE_MS: u64 = 20_000;

impl SyncSettings {
    /// Read the settings.
    ///
    /// ```
    /// use spec_kitty::{env::Env, internals::sync::settings::SyncSettings};
    /// let env = Env::from_pairs([("SPEC_KITTY_ENABLE_SAAS_SYNC", "on"), ("SPEC_KITTY_FINAL_SYNC_BUDGET_MS", "99999")]);
    /// let s = SyncSettings::from_env(&env);
    /// assert!(s.active);
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
            active: env.is_truthy(vars::SPEC_KITTY_ENABLE_SAAS_SYNC)
                && !env.is_truthy(vars::SPEC_KITTY_SYNC_DISABLE)
                && !env.is_truthy(vars::SPEC_KITTY_SYNC_MINIMAL_IMPORT),
            final_budget: budget,
            http_timeout: env.millis(
                vars::SPEC_KITTY_HTTP_TIMEOUT_MS,
                crate::cli::context::DEFAULT_HTTP_TIMEOUT_MS,
            ),
            lock_budget: env.millis(
                vars::SPEC_KITTY_LOCK_BUDGET_MS,
                crate::cli::context::DEFAULT_LOCK_BUDGET_MS,
            ),
            now_deadline: env.millis(
                vars::SPEC_KITTY_SYNC_DEADLINE_MS,
                DEFAULT_SYNC_NOW_DEADLINE_MS,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::context::{DEFAULT_HTTP_TIMEOUT_MS, DEFAULT_LOCK_BUDGET_MS};

    fn settings(pairs: &[(&str, &str)]) -> SyncSettings {
        SyncSettings::from_env(&Env::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn sync_is_on_only_when_enabled_and_not_switched_off() {
        assert!(!settings(&[]).active);
        assert!(settings(&[("SPEC_KITTY_ENABLE_SAAS_SYNC", "1")]).active);
        for off in ["SPEC_KITTY_SYNC_DISABLE", "SPEC_KITTY_SYNC_MINIMAL_IMPORT"] {
            assert!(
                !settings(&[("SPEC_KITTY_ENABLE_SAAS_SYNC", "1"), (off, "true")]).active,
                "{off}"
            );
            assert!(
                settings(&[("SPEC_KITTY_ENABLE_SAAS_SYNC", "1"), (off, "0")]).active,
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
