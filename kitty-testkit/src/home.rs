//! `IsolatedHome`: a per-test sandbox that owns the exact environment of every `spec-kitty` run.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use spec_kitty::auth::session::Session;
use spec_kitty::auth::store::SessionStore;
use spec_kitty::env::{Env, Isolation, REGISTRY, vars};
use spec_kitty::identity::MachineIdentity;
use spec_kitty::paths::{PathError, RuntimeRoot};

use crate::binary::SpecKittyBin;
use crate::command::KittyCommand;
use crate::drift::DriftError;
use crate::seed::{BrokenSeed, SessionSeed};

/// Set this (to anything but the empty string) in the test process to keep every sandbox after
/// the test (its path goes to stderr); [`IsolatedHome::keep_on_drop`] keeps one.
pub const KEEP_VAR: &str = "KITTY_TESTKIT_KEEP";

/// Variables passed through from the test process (nothing else is inherited).
#[cfg(not(windows))]
const PASS_THROUGH: &[&str] = &["PATH"];
#[cfg(windows)]
const PASS_THROUGH: &[&str] = &["PATH", "SystemRoot", "TEMP", "TMP"];

#[derive(Debug, Clone)]
enum Setting {
    Unset,
    Value(String),
}

/// Builds an [`IsolatedHome`].
///
/// ```
/// use kitty_testkit::IsolatedHome;
/// let home = IsolatedHome::builder()
///     .sync(true)
///     .server("http://127.0.0.1:9")
///     .env("SPEC_KITTY_LOCK_BUDGET_MS", "200")
///     .build();
/// assert_eq!(home.var("SPEC_KITTY_ENABLE_SAAS_SYNC"), Some("1"));
/// assert_eq!(home.var("SPEC_KITTY_SAAS_URL"), Some("http://127.0.0.1:9"));
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct IsolatedHomeBuilder {
    sync: bool,
    server: Option<String>,
    spec_kitty_home: Option<Setting>,
    home: Option<Setting>,
    extra: BTreeMap<String, Option<String>>,
    bin: Option<SpecKittyBin>,
    path_prepend: Vec<PathBuf>,
    saas_secrets: Vec<crate::secrets::Secrets>,
    kitty_env: Vec<(String, String)>,
    sync_consent: bool,
    fresh_stagings: bool,
}

impl IsolatedHomeBuilder {
    /// Write `name=value` into the home tier's operator env file (`.kitty.env` at the runtime
    /// root) when the home is built: a deliberate env file, which the drift canary accepts.
    ///
    /// ```
    /// let home = kitty_testkit::IsolatedHome::builder()
    ///     .kitty_env("SPEC_KITTY_ENABLE_SAAS_SYNC", "1")
    ///     .build();
    /// let file = home.runtime_root().base().join(".kitty.env");
    /// assert_eq!(std::fs::read_to_string(file).unwrap(), "SPEC_KITTY_ENABLE_SAAS_SYNC=1\n");
    /// assert_eq!(home.var("SPEC_KITTY_ENABLE_SAAS_SYNC"), None, "not in the process environment");
    /// ```
    pub fn kitty_env(mut self, name: &str, value: &str) -> Self {
        self.kitty_env.push((name.to_string(), value.to_string()));
        self
    }

    /// Put `dir` in front of `PATH` (where plugins `spec-kitty-<name>` are found).
    pub fn prepend_path(mut self, dir: impl Into<PathBuf>) -> Self {
        self.path_prepend.push(dir.into());
        self
    }

    /// Turn sync on (`SPEC_KITTY_ENABLE_SAAS_SYNC=1`) or leave it off (the default).
    pub fn sync(mut self, on: bool) -> Self {
        self.sync = on;
        self
    }

    /// Grant sync consent, when the home is built, to the project of every repository the
    /// testkit initialises ([`crate::PROJECT_UUID`]), as `spec-kitty sync opt-in` would: without
    /// it, a create queues nothing even with sync on. See [`IsolatedHome::seed_sync_consent`].
    ///
    /// ```
    /// let home = kitty_testkit::IsolatedHome::builder().sync_consent().build();
    /// let store = home.runtime_root().reference_project_store(kitty_testkit::PROJECT_UUID);
    /// assert!(store.is_file());
    /// ```
    pub fn sync_consent(mut self) -> Self {
        self.sync_consent = true;
        self
    }

    /// Build every [`IsolatedHome::mission_at`] staging through the commands, never copying the
    /// repository an earlier staging of the same binary, stage and environment kept (as
    /// `KITTY_TESTKIT_NO_STAGE_CACHE=1` does for every home).
    pub fn fresh_stagings(mut self) -> Self {
        self.fresh_stagings = true;
        self
    }

    /// Point the product at a hosted service (`SPEC_KITTY_SAAS_URL`).
    pub fn server(mut self, url: impl Into<String>) -> Self {
        self.server = Some(url.into());
        self
    }

    /// Point the product at a [`FakeSaas`](crate::FakeSaas). Every token it issues joins this
    /// home's leak check.
    pub fn fake_saas(mut self, saas: &crate::FakeSaas) -> Self {
        self.saas_secrets.push(saas.secrets());
        self.server(saas.url())
    }

    /// Point the product at a loopback address that refuses connections.
    pub fn refusing_server(self) -> Self {
        self.server(crate::fake_saas::refusing_url())
    }

    /// Leave `SPEC_KITTY_HOME` unset (the root falls back to `$HOME/.spec-kitty`).
    pub fn without_spec_kitty_home(mut self) -> Self {
        self.spec_kitty_home = Some(Setting::Unset);
        self
    }

    /// Set `SPEC_KITTY_HOME` to the empty string (the product treats it as unset).
    pub fn empty_spec_kitty_home(mut self) -> Self {
        self.spec_kitty_home = Some(Setting::Value(String::new()));
        self
    }

    /// Leave `HOME` unset (with [`without_spec_kitty_home`](Self::without_spec_kitty_home): no root).
    pub fn without_home(mut self) -> Self {
        self.home = Some(Setting::Unset);
        self
    }

    /// Set an extra variable (a registered product variable is then kept).
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.insert(name.into(), Some(value.into()));
        self
    }

    /// Make sure a variable is absent.
    pub fn unset(mut self, name: impl Into<String>) -> Self {
        self.extra.insert(name.into(), None);
        self
    }

    /// Run this binary instead of discovering one.
    pub fn binary(mut self, bin: SpecKittyBin) -> Self {
        self.bin = Some(bin);
        self
    }

    /// Create the sandbox and compute its exact environment.
    pub fn build(self) -> IsolatedHome {
        let dir = tempfile::Builder::new()
            .prefix("kitty-home-")
            .tempdir_in(crate::sandbox_root::sandbox_root())
            .expect("create a temporary directory for the isolated home");
        let base = std::fs::canonicalize(dir.path()).unwrap_or_else(|_| dir.path().to_path_buf());
        let layout = Layout::new(&base);
        for d in layout.dirs() {
            std::fs::create_dir_all(d).expect("create sandbox directory");
        }
        // The sandbox's git (the product's, the reference's, the test's own) never starts
        // automatic maintenance: a detached process outliving the command that started it, and
        // work no test needs.
        std::fs::write(
            layout.home.join(".gitconfig"),
            "[maintenance]\n\tauto = false\n[gc]\n\tauto = 0\n",
        )
        .expect("write the sandbox's git config");
        let env = self.environment(&layout);
        let seeded_secrets = crate::secrets::Secrets::default();
        // Credentials in the service URL are secrets too: user information, its password and
        // query values must never be printed (at least 4 characters, so the check stays exact).
        if let Some(raw) = env.get(vars::SPEC_KITTY_SAAS_URL)
            && let Ok(url) = spec_kitty::__testkit::ServiceUrl::parse(raw)
        {
            for secret in url.secrets().iter().filter(|s| s.len() >= 4) {
                seeded_secrets.add(secret);
            }
        }
        let mut sources = vec![seeded_secrets.clone()];
        sources.extend(self.saas_secrets.iter().cloned());
        let home = IsolatedHome {
            dir: Some(dir),
            layout,
            env,
            bin: self.bin,
            seeded: RefCell::new(Vec::new()),
            allowed: std::sync::Arc::new(std::sync::Mutex::new(crate::stray::Allowed::default())),
            secrets: seeded_secrets,
            secret_sources: crate::secrets::SecretSources(sources),
            keep: false,
            stage_cache: !self.fresh_stagings,
        };
        if !self.kitty_env.is_empty() {
            let pairs: Vec<(&str, &str)> = self
                .kitty_env
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            home.write_home_kitty_env(&pairs);
        }
        if self.sync_consent {
            home.seed_sync_consent(crate::PROJECT_UUID, true);
        }
        home
    }

    fn environment(&self, l: &Layout) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        for name in PASS_THROUGH {
            if let Some(v) = std::env::var_os(name).and_then(|v| v.into_string().ok()) {
                env.insert((*name).to_string(), v);
            }
        }
        let p = |p: &Path| p.to_string_lossy().into_owned();
        {
            let inherited = env.get("PATH").cloned().unwrap_or_default();
            // No `spec-kitty` or `spec-kitty-*` from outside the sandbox may answer: a directory
            // of the inherited PATH that holds one is replaced by a mirror of its other entries.
            let inherited: Vec<PathBuf> = std::env::split_paths(&inherited)
                .enumerate()
                .map(|(i, dir)| shadow_spec_kitty(&dir, &l.base.join(format!("path-{i}"))))
                .collect();
            let dirs = self
                .path_prepend
                .iter()
                .cloned()
                .chain([l.bin.clone()])
                .chain(inherited);
            if let Ok(joined) = std::env::join_paths(dirs) {
                env.insert("PATH".into(), joined.to_string_lossy().into_owned());
            }
        }
        let base_dirs = [
            ("XDG_CONFIG_HOME", l.base.join("xdg/config")),
            ("XDG_DATA_HOME", l.base.join("xdg/data")),
            ("XDG_CACHE_HOME", l.base.join("xdg/cache")),
            ("XDG_STATE_HOME", l.base.join("xdg/state")),
            ("TMPDIR", l.tmp.clone()),
        ];
        for (k, v) in base_dirs {
            env.insert(k.into(), p(&v));
        }
        if cfg!(windows) {
            env.insert("USERPROFILE".into(), p(&l.home));
            env.insert("APPDATA".into(), p(&l.base.join("appdata/roaming")));
            env.insert(vars::LOCALAPPDATA.into(), p(&l.base.join("appdata/local")));
        }
        match &self.home {
            None => {
                env.insert(vars::HOME.into(), p(&l.home));
            }
            Some(Setting::Unset) => {}
            Some(Setting::Value(v)) => {
                env.insert(vars::HOME.into(), v.clone());
            }
        }
        match &self.spec_kitty_home {
            None => {
                env.insert(vars::SPEC_KITTY_HOME.into(), p(&l.kitty_home));
            }
            Some(Setting::Unset) => {}
            Some(Setting::Value(v)) => {
                env.insert(vars::SPEC_KITTY_HOME.into(), v.clone());
            }
        }
        // Git never walks above the sandbox, never reads the machine's or user's config, and
        // always has an identity.
        env.insert("GIT_CEILING_DIRECTORIES".into(), p(&l.base));
        env.insert("GIT_CONFIG_NOSYSTEM".into(), "1".into());
        env.insert("GIT_CONFIG_GLOBAL".into(), p(&l.home.join(".gitconfig")));
        for (k, v) in [
            ("GIT_AUTHOR_NAME", "Kitty Test"),
            ("GIT_AUTHOR_EMAIL", "kitty@example.com"),
            ("GIT_COMMITTER_NAME", "Kitty Test"),
            ("GIT_COMMITTER_EMAIL", "kitty@example.com"),
        ] {
            env.insert(k.into(), v.into());
        }
        // Fast device-flow polling in tests: one interval second lasts 10 ms.
        env.insert(vars::SPEC_KITTY_POLL_SECOND_MS.into(), "10".into());
        if self.sync {
            env.insert(vars::SPEC_KITTY_ENABLE_SAAS_SYNC.into(), "1".into());
        }
        if let Some(url) = &self.server {
            env.insert(vars::SPEC_KITTY_SAAS_URL.into(), url.clone());
        }
        // Every product variable the harness does not own is cleared unless the test set it.
        let chosen: Vec<&str> = [
            vars::SPEC_KITTY_HOME,
            vars::SPEC_KITTY_POLL_SECOND_MS,
            vars::SPEC_KITTY_ENABLE_SAAS_SYNC,
            vars::SPEC_KITTY_SAAS_URL,
        ]
        .into_iter()
        .chain(self.extra.keys().map(String::as_str))
        .collect();
        for spec in REGISTRY {
            if spec.isolation == Isolation::Cleared && !chosen.contains(&spec.name) {
                env.remove(spec.name);
            }
        }
        for (k, v) in &self.extra {
            match v {
                Some(v) => env.insert(k.clone(), v.clone()),
                None => env.remove(k),
            };
        }
        env
    }
}

#[derive(Debug, Clone)]
struct Layout {
    base: PathBuf,
    home: PathBuf,
    kitty_home: PathBuf,
    work: PathBuf,
    tmp: PathBuf,
    bin: PathBuf,
}

impl Layout {
    fn new(base: &Path) -> Self {
        Self {
            base: base.to_path_buf(),
            home: base.join("home"),
            // Deliberately not `$HOME/.spec-kitty`: a test that hand-spells the HOME-derived path
            // seeds where the product does not read, and the canary says so.
            kitty_home: base.join("kitty-home"),
            work: base.join("work"),
            tmp: base.join("tmp"),
            bin: base.join("bin"),
        }
    }
    fn dirs(&self) -> [&Path; 4] {
        [&self.home, &self.work, &self.tmp, &self.bin]
    }
}

/// `dir` itself when it holds no `spec-kitty*` entry; else `mirror`, filled with links to every
/// other entry of `dir`.
fn shadow_spec_kitty(dir: &Path, mirror: &Path) -> PathBuf {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return dir.to_path_buf();
    };
    let entries: Vec<_> = entries.flatten().collect();
    let stale = |e: &std::fs::DirEntry| e.file_name().to_string_lossy().starts_with("spec-kitty");
    if !entries.iter().any(stale) {
        return dir.to_path_buf();
    }
    let _ = std::fs::create_dir_all(mirror);
    for e in entries.iter().filter(|e| !stale(e)) {
        let link = mirror.join(e.file_name());
        #[cfg(unix)]
        let _ = std::os::unix::fs::symlink(e.path(), &link);
        // Elsewhere a symbolic link needs a privilege: a hard link (same volume), else a copy,
        // serves for the files, which are all a PATH lookup finds.
        #[cfg(not(unix))]
        if e.path().is_file() && std::fs::hard_link(e.path(), &link).is_err() {
            let _ = std::fs::copy(e.path(), &link);
        }
    }
    mirror.to_path_buf()
}

/// A per-test sandbox: a fake HOME, XDG dirs, TMPDIR and `SPEC_KITTY_HOME`, and the **exact**
/// environment map every `spec-kitty` run gets (nothing is inherited but `PATH`).
///
/// The runtime root is the product's own [`RuntimeRoot::resolve`] applied to that same map, so a
/// seed lands exactly where the binary reads. The directory is removed on drop unless
/// `KITTY_TESTKIT_KEEP` is set.
///
/// ```
/// use kitty_testkit::{IsolatedHome, SessionSeed};
/// let home = IsolatedHome::new();
/// assert!(home.runtime_root().base().starts_with(home.path()));
/// let seeded = home.seed(&SessionSeed::with_private_team());
/// assert_eq!(home.read_session().unwrap().email, seeded.email);
/// ```
#[derive(Debug)]
pub struct IsolatedHome {
    dir: Option<tempfile::TempDir>,
    layout: Layout,
    env: BTreeMap<String, String>,
    bin: Option<SpecKittyBin>,
    seeded: RefCell<Vec<PathBuf>>,
    allowed: std::sync::Arc<std::sync::Mutex<crate::stray::Allowed>>,
    secrets: crate::secrets::Secrets,
    secret_sources: crate::secrets::SecretSources,
    keep: bool,
    /// Whether `mission_at` may copy a kept staging.
    pub(crate) stage_cache: bool,
}

impl Default for IsolatedHome {
    fn default() -> Self {
        Self::new()
    }
}

impl IsolatedHome {
    /// A home with the default policy: sync off, no server.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder.
    pub fn builder() -> IsolatedHomeBuilder {
        IsolatedHomeBuilder::default()
    }

    /// A home whose commands queue and send their events to `saas`: sync on, consent granted,
    /// and a session with a private team seeded where the product reads it (what every
    /// "with sync on, this queues that event" test needs).
    pub fn syncing_to(saas: &crate::FakeSaas) -> Self {
        let home = Self::builder()
            .fake_saas(saas)
            .sync(true)
            .sync_consent()
            .build();
        home.seed(&crate::SessionSeed::with_private_team());
        home
    }

    /// The sandbox directory (everything the test touches is below it).
    pub fn path(&self) -> &Path {
        &self.layout.base
    }

    /// The fake `HOME`.
    pub fn home_dir(&self) -> &Path {
        &self.layout.home
    }

    /// A scratch directory for repositories (the default working directory of commands).
    pub fn work_dir(&self) -> &Path {
        &self.layout.work
    }

    /// A directory at the front of `PATH`: drop `spec-kitty-<name>` plugins here.
    ///
    /// ```
    /// let home = kitty_testkit::IsolatedHome::new();
    /// assert!(home.var("PATH").unwrap().starts_with(home.bin_dir().to_str().unwrap()));
    /// ```
    pub fn bin_dir(&self) -> &Path {
        &self.layout.bin
    }

    /// The exact environment map handed to every run.
    pub fn env_map(&self) -> &BTreeMap<String, String> {
        &self.env
    }

    /// One variable of the environment map.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.env.get(name).map(String::as_str)
    }

    /// Change a variable after construction (for drift tests: seeds already written stay where
    /// they are, so the canary trips).
    pub fn set_var(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.env.insert(name.into(), value.into());
    }

    /// The environment map as the product's snapshot type.
    pub fn env(&self) -> Env {
        Env::from_pairs(self.env.iter().map(|(k, v)| (k.clone(), v.clone())))
    }

    /// The runtime root, computed by the product's resolver from the exact environment.
    pub fn try_runtime_root(&self) -> Result<RuntimeRoot, PathError> {
        RuntimeRoot::resolve(&self.env())
    }

    /// The runtime root; panics (with the reason) when the environment has none.
    #[track_caller]
    pub fn runtime_root(&self) -> RuntimeRoot {
        let root = self
            .try_runtime_root()
            .unwrap_or_else(|e| panic!("this isolated home has no runtime root: {e}"));
        assert!(
            root.base().starts_with(&self.layout.base),
            "the runtime root {} lies outside the sandbox {}",
            root.base().display(),
            self.layout.base.display()
        );
        root
    }

    /// The product's session store at `runtime_root().auth_dir()`, keyed for this machine.
    pub fn session_store(&self) -> SessionStore {
        SessionStore::new(self.runtime_root().auth_dir(), MachineIdentity::current())
    }

    /// Write `seed` through the product's store where the product reads it; returns the session.
    pub fn seed(&self, seed: &SessionSeed) -> Session {
        let session = seed.build();
        self.remember_secrets(&session);
        let store = self.session_store();
        store.write(&session).expect("seed the session");
        self.seeded.borrow_mut().push(store.dir().to_path_buf());
        self.allowed().mis_seeds.push(store.dir().to_path_buf());
        session
    }

    /// Seed a valid session, then break it as `broken` says.
    pub fn seed_broken(&self, broken: BrokenSeed) {
        self.seed(&SessionSeed::with_private_team());
        let store = self.session_store();
        broken.apply(&store.files());
        // A broken store is found at rest, long after its last write: no summary vouches for it
        // (a hot-path summary is trusted for 30 seconds at most).
        let _ = std::fs::remove_file(spec_kitty::auth::hot_path::path_in(store.dir()));
    }

    /// **For tests of the tests only**: seed `seed` the way the seed note's stale test did, under
    /// `HOME/.spec-kitty/auth` (the location the product's resolver gives when `SPEC_KITTY_HOME`
    /// is unset), while this home's `SPEC_KITTY_HOME` points elsewhere.
    pub fn mis_seed_under_home(&self, seed: &SessionSeed) -> Session {
        let mut without = self.env.clone();
        without.remove(vars::SPEC_KITTY_HOME);
        let root = RuntimeRoot::resolve(&Env::from_pairs(without)).expect("HOME is set");
        let session = seed.build();
        self.remember_secrets(&session);
        let store = SessionStore::new(root.auth_dir(), MachineIdentity::current());
        store.write(&session).expect("mis-seed the session");
        self.seeded.borrow_mut().push(store.dir().to_path_buf());
        self.allowed().mis_seeds.push(store.dir().to_path_buf());
        session
    }

    /// Treat `secret` like a seeded token: every later run fails if it appears on stdout or
    /// stderr (for credentials a test writes itself, e.g. in a `config.toml` URL).
    ///
    /// ```
    /// let home = kitty_testkit::IsolatedHome::new();
    /// home.treat_as_secret("hunter2-in-a-url");
    /// assert!(home.secrets().contains(&"hunter2-in-a-url".to_string()));
    /// ```
    pub fn treat_as_secret(&self, secret: &str) {
        self.secrets.add(secret);
    }

    fn remember_secrets(&self, session: &Session) {
        self.secrets.add(&session.access_token);
        self.secrets.add(&session.refresh_token);
    }

    /// Every token seeded into this home or issued by its FakeSaas so far. Every run through
    /// [`command`](Self::command) or [`program`](Self::program) fails if one reaches its output.
    pub fn secrets(&self) -> Vec<String> {
        let mut all = Vec::new();
        for source in &self.secret_sources.0 {
            all.extend(source.all());
        }
        all
    }

    /// The session the product would read now (panics on a broken store).
    pub fn read_session(&self) -> Option<Session> {
        self.session_store()
            .read()
            .expect("read the seeded session")
    }

    /// Where sessions were seeded so far.
    pub fn seeded_dirs(&self) -> Vec<PathBuf> {
        self.seeded.borrow().clone()
    }

    fn binary(&self) -> SpecKittyBin {
        self.bin.clone().unwrap_or_else(SpecKittyBin::require)
    }

    /// The `spec-kitty` this home runs (the builder's, else `SPEC_KITTY_BIN`, else the workspace
    /// build): every run's failure message names it.
    ///
    /// ```no_run
    /// let home = kitty_testkit::IsolatedHome::new();
    /// println!("testing against {}", home.host().path().display());
    /// ```
    pub fn host(&self) -> SpecKittyBin {
        self.binary()
    }

    /// The one way to run `spec-kitty` under this home's exact environment, in
    /// [`work_dir`](Self::work_dir).
    pub fn command(&self) -> KittyCommand {
        KittyCommand::new(
            self.binary().path().to_path_buf(),
            self.env.clone(),
            self.layout.work.clone(),
            self.secret_sources.clone(),
        )
        .with_stray_check(self.stray_check())
    }

    /// Run another program (a plugin binary, say) under this home's exact environment, through the
    /// same builder and guards as [`command`](Self::command).
    ///
    /// ```
    /// let home = kitty_testkit::IsolatedHome::new();
    /// let run = home.program("/bin/sh").args(["-c", "printf '%s' \"$HOME\""]).run();
    /// assert_eq!(run.stdout(), home.home_dir().to_str().unwrap());
    /// ```
    pub fn program(&self, program: impl Into<PathBuf>) -> KittyCommand {
        KittyCommand::new(
            program.into(),
            self.env.clone(),
            self.layout.work.clone(),
            self.secret_sources.clone(),
        )
        .with_stray_check(self.stray_check())
    }

    /// Run the reference CLI (a second implementation) under this home's exact environment: on
    /// Unix through the reference zygote (a pre-imported, forked reference; see
    /// [`zygote`](crate::zygote)) unless `reference` is [`direct`](crate::ReferenceCli::direct).
    ///
    /// ```
    /// let home = kitty_testkit::IsolatedHome::new();
    /// let reference = kitty_testkit::ReferenceCli::at("/bin/echo");
    /// let run = home.reference_command(&reference).arg("hello").run();
    /// assert_eq!(run.stdout(), "hello\n");
    /// ```
    pub fn reference_command(&self, reference: &crate::ReferenceCli) -> KittyCommand {
        crate::reference_home::seed(self, reference);
        self.program(reference.path())
            .via_reference_zygote(!reference.is_direct())
    }

    /// The drift canary for the reference CLI, which cannot be asked where it reads: what this
    /// home could verify (resolver, seeds) and what it could not.
    pub fn reference_canary(&self) -> crate::ReferenceCanary {
        crate::reference::canary(self)
    }

    /// Ask the binary where it reads (`spec-kitty paths --json`) and compare with where this home
    /// seeded and with its own resolver. The drift canary.
    pub fn check_drift(&self) -> Result<(), DriftError> {
        crate::drift::check(self)
    }

    /// [`check_drift`](Self::check_drift) as seen from `dir` (the repository tier of the operator
    /// env files depends on the working directory).
    pub fn check_drift_in(&self, dir: &Path) -> Result<(), DriftError> {
        crate::drift::check_in(self, Some(dir))
    }

    /// Keep this sandbox after the home is dropped (its path goes to stderr), as
    /// `KITTY_TESTKIT_KEEP` does for every home: for looking at what a failing test left.
    ///
    /// ```
    /// let mut home = kitty_testkit::IsolatedHome::new();
    /// home.keep_on_drop();
    /// let path = home.path().to_path_buf();
    /// drop(home);
    /// assert!(path.is_dir());
    /// std::fs::remove_dir_all(path).unwrap();
    /// ```
    pub fn keep_on_drop(&mut self) {
        self.keep = true;
    }

    /// Write the home tier's operator env file (`<runtime root>/.kitty.env`) with these
    /// variables, replacing it. The binary folds it into its environment (the process
    /// environment wins); the drift canary accepts it as deliberate.
    ///
    /// ```
    /// let home = kitty_testkit::IsolatedHome::new();
    /// home.write_home_kitty_env(&[("NO_COLOR", "1")]);
    /// assert_eq!(home.deliberate_env_files().len(), 1);
    /// home.clear_kitty_env_files();
    /// assert!(home.deliberate_env_files().is_empty());
    /// ```
    pub fn write_home_kitty_env(&self, vars: &[(&str, &str)]) {
        let path = self
            .runtime_root()
            .base()
            .join(spec_kitty::env_file::FILE_NAME);
        self.write_env_file(path, vars);
    }

    /// Write the repository tier's operator env file (`<repo>/.kittify/.kitty.env`).
    ///
    /// ```
    /// let home = kitty_testkit::IsolatedHome::new();
    /// let repo = home.repo().build();
    /// home.write_repo_kitty_env(&repo, &[("SPEC_KITTY_ENABLE_SAAS_SYNC", "1")]);
    /// assert!(repo.path().join(".kittify/.kitty.env").is_file());
    /// ```
    pub fn write_repo_kitty_env(&self, repo: &crate::Repo, vars: &[(&str, &str)]) {
        let path = repo
            .path()
            .join(".kittify")
            .join(spec_kitty::env_file::FILE_NAME);
        self.write_env_file(path, vars);
    }

    fn write_env_file(&self, path: PathBuf, vars: &[(&str, &str)]) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create the env file's directory");
        }
        let text: String = vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        std::fs::write(&path, text).expect("write the operator env file");
        let mut allowed = self.allowed();
        if !allowed.env_files.contains(&path) {
            allowed.env_files.push(path);
        }
    }

    /// Remove every operator env file this home wrote.
    pub fn clear_kitty_env_files(&self) {
        for path in self.allowed().env_files.drain(..) {
            let _ = std::fs::remove_file(path);
        }
    }

    /// The operator env files this home wrote deliberately.
    pub fn deliberate_env_files(&self) -> Vec<PathBuf> {
        self.allowed().env_files.clone()
    }

    fn allowed(&self) -> std::sync::MutexGuard<'_, crate::stray::Allowed> {
        self.allowed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The stray-state check of this home as it is now (`None` when the root does not resolve).
    pub(crate) fn stray_check(&self) -> Option<crate::stray::StrayCheck> {
        let root = self.try_runtime_root().ok()?;
        Some(crate::stray::StrayCheck {
            sandbox: self.path().to_path_buf(),
            files: root.state_files(),
            allowed: self.allowed.clone(),
        })
    }

    /// [`check_drift`](Self::check_drift), panicking with the drift.
    #[track_caller]
    pub fn assert_no_drift(&self) {
        if let Err(e) = self.check_drift() {
            panic!("{e}");
        }
    }
}

impl Drop for IsolatedHome {
    /// The last stray-state check (state put in the wrong place after the last run, or by a test
    /// that runs nothing), unless the thread is already panicking; then the sandbox goes.
    fn drop(&mut self) {
        if !std::thread::panicking()
            && self.dir.is_some()
            && let Some(stray) = self
                .stray_check()
                .and_then(|c| c.scan(false).into_iter().next())
        {
            // Removed (or kept) all the same: the panic unwinds past this drop.
            let keep = self.keep || crate::process_env::non_empty_var(KEEP_VAR).is_some();
            if let Some(dir) = self.dir.take()
                && keep
            {
                let _ = dir.keep();
            }
            panic!("{stray}\n(found when the home was dropped)");
        }
        if (self.keep || crate::process_env::non_empty_var(KEEP_VAR).is_some())
            && let Some(dir) = self.dir.take()
        {
            let kept = dir.keep();
            #[allow(clippy::print_stderr)]
            {
                eprintln!("kitty-testkit: kept isolated home at {}", kept.display());
            }
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_stray_found_at_drop_fails_and_the_sandbox_is_kept_only_when_asked() {
        let stray = |home: &IsolatedHome| {
            let wrong = home.home_dir().join(".spec-kitty/sync/drain.lock");
            std::fs::create_dir_all(wrong.parent().unwrap()).unwrap();
            std::fs::write(&wrong, "").unwrap();
        };
        let home = IsolatedHome::new();
        stray(&home);
        let path = home.path().to_path_buf();
        let message = crate::expect_panic(move || drop(home));
        assert!(
            message.starts_with("STRAY STATE: a drain lock at")
                && message.ends_with("(found when the home was dropped)"),
            "{message}"
        );
        assert!(!path.exists(), "the sandbox is removed all the same");
        let mut kept = IsolatedHome::new();
        kept.keep_on_drop();
        stray(&kept);
        let path = kept.path().to_path_buf();
        crate::expect_panic(move || drop(kept));
        assert!(path.is_dir(), "a kept sandbox is kept");
        std::fs::remove_dir_all(path).unwrap();
    }

    #[test]
    fn a_sandbox_is_removed_on_drop_unless_kept() {
        let home = IsolatedHome::new();
        let path = home.path().to_path_buf();
        assert!(path.is_dir());
        drop(home);
        assert!(!path.exists());
        let mut kept = IsolatedHome::new();
        kept.keep_on_drop();
        let path = kept.path().to_path_buf();
        drop(kept);
        assert!(path.is_dir());
        std::fs::remove_dir_all(path).unwrap();
    }

    #[test]
    fn the_environment_is_built_from_nothing_but_the_policy_and_the_test() {
        let home = IsolatedHome::builder()
            .sync(true)
            .server("http://127.0.0.1:9")
            .env("KITTY_EXTRA", "1")
            .env("SPEC_KITTY_LOG", "debug")
            .unset("KITTY_EXTRA")
            .unset("GIT_AUTHOR_NAME")
            .binary(SpecKittyBin::at("/opt/kitty/spec-kitty"))
            .build();
        let base = home.path().to_path_buf();
        let at = |rel: &str| base.join(rel).to_string_lossy().into_owned();
        assert_eq!(home.var("SPEC_KITTY_ENABLE_SAAS_SYNC"), Some("1"));
        assert_eq!(home.var("SPEC_KITTY_SAAS_URL"), Some("http://127.0.0.1:9"));
        assert_eq!(
            home.var("SPEC_KITTY_LOG"),
            Some("debug"),
            "a registered variable the test set"
        );
        assert_eq!(
            home.var("KITTY_EXTRA"),
            None,
            "unset wins over an earlier env"
        );
        assert_eq!(
            home.var("GIT_AUTHOR_NAME"),
            None,
            "unset removes a policy variable too"
        );
        assert_eq!(home.var("GIT_COMMITTER_NAME"), Some("Kitty Test"));
        assert_eq!(home.var("HOME").map(str::to_string), Some(at("home")));
        assert_eq!(
            home.var("SPEC_KITTY_HOME").map(str::to_string),
            Some(at("kitty-home"))
        );
        assert_eq!(
            home.var("XDG_CONFIG_HOME").map(str::to_string),
            Some(at("xdg/config"))
        );
        assert_eq!(home.var("GIT_CEILING_DIRECTORIES"), base.to_str());
        assert_eq!(home.var("GIT_CONFIG_NOSYSTEM"), Some("1"));
        assert_eq!(home.var("SPEC_KITTY_POLL_SECOND_MS"), Some("10"));
        let path = home.var("PATH").unwrap_or_default();
        assert!(
            path.starts_with(&home.bin_dir().to_string_lossy().into_owned()),
            "{path}"
        );
        assert_eq!(home.host().path(), Path::new("/opt/kitty/spec-kitty"));
        // Nothing from the test process's own environment beyond the pass-through list.
        for k in home.env_map().keys() {
            assert!(
                !k.starts_with("CARGO"),
                "{k} leaked into the isolated environment"
            );
        }

        let bare = IsolatedHome::builder()
            .without_home()
            .without_spec_kitty_home()
            .build();
        assert_eq!(
            (bare.var("HOME"), bare.var("SPEC_KITTY_HOME")),
            (None, None)
        );
        assert_eq!(
            bare.var("SPEC_KITTY_ENABLE_SAAS_SYNC"),
            None,
            "sync is off by default"
        );
        let empty = IsolatedHome::builder().empty_spec_kitty_home().build();
        assert_eq!(empty.var("SPEC_KITTY_HOME"), Some(""));
    }

    #[test]
    fn a_path_directory_with_a_stale_spec_kitty_is_mirrored_without_it() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("usr-bin");
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["git", "spec-kitty", "spec-kitty-whoami", "sh"] {
            std::fs::write(dir.join(f), "").unwrap();
        }
        let mirror = tmp.path().join("mirror");
        let got = super::shadow_spec_kitty(&dir, &mirror);
        assert_eq!(got, mirror);
        let mut names: Vec<String> = std::fs::read_dir(&mirror)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["git", "sh"]);
        let clean = tmp.path().join("clean");
        std::fs::create_dir_all(&clean).unwrap();
        std::fs::write(clean.join("git"), "").unwrap();
        assert_eq!(
            super::shadow_spec_kitty(&clean, &tmp.path().join("m2")),
            clean
        );
    }
}
