//! What every handler receives: the environment snapshot, identity, clock and output.

use crate::auth::store::SessionStore;
use crate::auth::tokens::TokenManager;
use crate::clock::Clock;
use crate::env::{Env, vars};
use crate::identity::MachineIdentity;
use crate::output::Output;
use crate::paths::RuntimeRoot;
use crate::saas::SaasClient;

use super::error::CommandError;

/// Default connect/read timeout of hosted-service calls.
pub const DEFAULT_HTTP_TIMEOUT_MS: u64 = 10_000;
/// Default wait for the refresh and drain locks.
pub const DEFAULT_LOCK_BUDGET_MS: u64 = 1_000;

/// The inputs of a command, all values.
#[derive(Debug)]
pub struct Ctx {
    /// The environment snapshot.
    pub env: Env,
    /// The key-derivation identity.
    pub identity: MachineIdentity,
    /// The clock.
    pub clock: Clock,
    /// The writer.
    pub out: Output,
    /// The working directory the command runs in.
    pub cwd: std::path::PathBuf,
    /// Events this command queued (a final sync runs at the end when non-zero).
    pub queued: std::cell::Cell<u32>,
}

impl Ctx {
    /// The runtime root.
    pub fn root(&self) -> Result<RuntimeRoot, CommandError> {
        Ok(RuntimeRoot::resolve(&self.env)?)
    }

    /// The session store under the runtime root.
    pub fn store(&self) -> Result<SessionStore, CommandError> {
        Ok(
            SessionStore::new(self.root()?.auth_dir(), self.identity.clone())
                .with_hot_path(crate::auth::store::hot_path_enabled(&self.env)),
        )
    }

    /// The hosted service client, when a server is configured.
    pub fn client(&self) -> Result<Option<SaasClient>, CommandError> {
        let root = self.root()?;
        let timeout = self
            .env
            .millis(vars::SPEC_KITTY_HTTP_TIMEOUT_MS, DEFAULT_HTTP_TIMEOUT_MS);
        Ok(crate::runtime_config::server_url(&self.env, &root)?
            .map(|url| SaasClient::new(&url, timeout)))
    }

    /// The client, or an error saying how to configure one.
    pub fn require_client(&self) -> Result<SaasClient, CommandError> {
        self.client()?.ok_or_else(|| CommandError::NoServer {
            config: self
                .root()
                .map(|r| r.config_file().display().to_string())
                .unwrap_or_default(),
        })
    }

    /// The process's token manager.
    pub fn token_manager(&self) -> Result<TokenManager, CommandError> {
        let root = self.root()?;
        Ok(TokenManager::new(
            self.store()?,
            root.refresh_lock(),
            self.client()?,
            self.env
                .millis(vars::SPEC_KITTY_LOCK_BUDGET_MS, DEFAULT_LOCK_BUDGET_MS),
            self.clock,
        ))
    }
}

/// Say once, on stderr, when a numeric variable holds something that is not a number of
/// milliseconds (its default applies instead).
pub fn warn_bad_numbers(env: &Env) {
    for name in [
        vars::SPEC_KITTY_FINAL_SYNC_BUDGET_MS,
        vars::SPEC_KITTY_LOCK_BUDGET_MS,
        vars::SPEC_KITTY_HTTP_TIMEOUT_MS,
        vars::SPEC_KITTY_POLL_SECOND_MS,
        vars::SPEC_KITTY_SYNC_DEADLINE_MS,
    ] {
        if let Some(v) = env.non_empty(name)
            && v.trim().parse::<u64>().is_err()
        {
            tracing::warn!(
                "{name}={v:?} is not a number of milliseconds; using its default (see `spec-kitty env`)"
            );
        }
    }
}
