//! What every handler receives: the environment snapshot, identity, clock, settings and output,
//! and the command's services (store, client, token manager), built once on first use.

use std::cell::{OnceCell, RefMut};

use crate::auth::store::SessionStore;
use crate::auth::tokens::TokenManager;
use crate::clock::Clock;
use crate::env::Env;
use crate::identity::MachineIdentity;
use crate::output::Output;
use crate::paths::RuntimeRoot;
use crate::saas::SaasClient;
use crate::services::Services;
use crate::settings::Settings;

use super::error::CommandError;

/// The inputs of a command, all values.
#[derive(Debug)]
pub struct Ctx {
    /// The environment snapshot (process and operator env files), taken once by `main`.
    pub env: Env,
    /// The key-derivation identity.
    pub identity: MachineIdentity,
    /// The source of every "now" of this command.
    pub clock: Clock,
    /// Read once from `env`.
    pub settings: Settings,
    /// The writer.
    pub out: Output,
    /// The working directory the command runs in.
    pub cwd: std::path::PathBuf,
    /// Events this command queued (a final sync runs at the end when non-zero).
    pub queued: std::cell::Cell<u32>,
    /// Built on first use, under the runtime root (which may not resolve).
    services: OnceCell<Services>,
}

impl Ctx {
    /// A context; nothing is built or read until a handler asks.
    pub fn new(
        env: Env,
        identity: MachineIdentity,
        clock: Clock,
        out: Output,
        cwd: std::path::PathBuf,
    ) -> Self {
        Self {
            settings: Settings::from_env(&env),
            env,
            identity,
            clock,
            out,
            cwd,
            queued: std::cell::Cell::new(0),
            services: OnceCell::new(),
        }
    }

    /// The runtime root.
    pub fn root(&self) -> Result<RuntimeRoot, CommandError> {
        Ok(RuntimeRoot::resolve(&self.env)?)
    }

    /// The command's services (built once).
    pub fn services(&self) -> Result<&Services, CommandError> {
        if let Some(services) = self.services.get() {
            return Ok(services);
        }
        let built = Services::new(
            &self.env,
            self.root()?,
            &self.identity,
            self.settings,
            self.clock,
        );
        Ok(self.services.get_or_init(|| built))
    }

    /// The session store under the runtime root.
    pub fn store(&self) -> Result<&SessionStore, CommandError> {
        Ok(self.services()?.store())
    }

    /// The hosted service client, when a server is configured.
    pub fn client(&self) -> Result<Option<&SaasClient>, CommandError> {
        Ok(self.services()?.client()?)
    }

    /// The client, or an error saying how to configure one.
    pub fn require_client(&self) -> Result<&SaasClient, CommandError> {
        self.client()?.ok_or_else(|| CommandError::NoServer {
            config: self
                .root()
                .map(|r| r.config_file().display().to_string())
                .unwrap_or_default(),
        })
    }

    /// The command's token manager.
    pub fn token_manager(&self) -> Result<RefMut<'_, TokenManager>, CommandError> {
        Ok(self.services()?.tokens()?)
    }
}
