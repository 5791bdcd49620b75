//! The session store, the hosted-service client and the token manager of one command, each built
//! at most once and lent to whoever needs it (the handler, then the final sync).

use std::cell::{OnceCell, RefCell, RefMut};

use crate::auth::store::{SessionStore, hot_path_enabled};
use crate::auth::tokens::TokenManager;
use crate::clock::Clock;
use crate::env::Env;
use crate::identity::MachineIdentity;
use crate::paths::RuntimeRoot;
use crate::runtime_config::{ConfigError, server_url};
use crate::saas::SaasClient;
use crate::settings::Settings;

/// One command's services. The client is built on first use (reading `<root>/config.toml`); a
/// failed build is not kept, so each caller sees the error.
#[derive(Debug)]
pub struct Services {
    env: Env,
    root: RuntimeRoot,
    settings: Settings,
    clock: Clock,
    store: SessionStore,
    client: OnceCell<Option<SaasClient>>,
    tokens: OnceCell<RefCell<TokenManager>>,
}

impl Services {
    /// Services under `root`, for the command whose snapshot is `env`.
    pub fn new(
        env: &Env,
        root: RuntimeRoot,
        identity: &MachineIdentity,
        settings: Settings,
        clock: Clock,
    ) -> Self {
        let store = SessionStore::new(root.auth_dir(), identity.clone())
            .with_hot_path(hot_path_enabled(env))
            .with_clock(clock);
        Self {
            env: env.clone(),
            root,
            settings,
            clock,
            store,
            client: OnceCell::new(),
            tokens: OnceCell::new(),
        }
    }

    /// The runtime root everything here lives under.
    pub fn root(&self) -> &RuntimeRoot {
        &self.root
    }

    /// The command's settings (read once from its snapshot).
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The command's clock.
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// The environment snapshot the services were built from.
    pub fn env(&self) -> &Env {
        &self.env
    }

    /// The encrypted session store in `<root>/auth`.
    pub fn store(&self) -> &SessionStore {
        &self.store
    }

    /// The client of the configured service (`None`: no server is configured), with
    /// `SPEC_KITTY_HTTP_TIMEOUT_MS` per request.
    pub fn client(&self) -> Result<Option<&SaasClient>, ConfigError> {
        if let Some(client) = self.client.get() {
            return Ok(client.as_ref());
        }
        let built = server_url(&self.env, &self.root)?
            .map(|url| SaasClient::new(&url, self.settings.http_timeout));
        Ok(self.client.get_or_init(|| built).as_ref())
    }

    /// The command's one token manager (it reads the session once and rehydrates at most once).
    ///
    /// # Panics
    /// When the manager is already borrowed (a caller holding it asks again).
    pub fn tokens(&self) -> Result<RefMut<'_, TokenManager>, ConfigError> {
        if let Some(tokens) = self.tokens.get() {
            return Ok(tokens.borrow_mut());
        }
        let client = self.client()?.cloned();
        let built = TokenManager::new(
            self.store.clone(),
            self.root.refresh_lock(),
            client,
            self.settings.lock_budget,
            self.clock,
        );
        Ok(self.tokens.get_or_init(|| RefCell::new(built)).borrow_mut())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_services_lend_the_command_s_own_snapshot_clock_and_root() {
        let env = Env::from_pairs([
            ("SPEC_KITTY_HOME", "/kitty"),
            ("SPEC_KITTY_SAAS_URL", "http://127.0.0.1:9"),
        ]);
        let root = RuntimeRoot::resolve(&env).unwrap();
        let at = crate::clock::at("2026-01-02T03:04:05Z");
        let services = Services::new(
            &env,
            root.clone(),
            &MachineIdentity::new("host", 1000),
            Settings::from_env(&env),
            Clock::fixed(at),
        );
        assert_eq!(services.clock().now(), at);
        assert_eq!(services.env().get("SPEC_KITTY_HOME"), Some("/kitty"));
        assert_eq!(services.root().base(), root.base());
        assert_eq!(services.store().dir(), root.auth_dir());
        // Built once: the same client both times.
        let a = services.client().unwrap().unwrap() as *const SaasClient;
        let b = services.client().unwrap().unwrap() as *const SaasClient;
        assert_eq!(a, b);
    }
}
