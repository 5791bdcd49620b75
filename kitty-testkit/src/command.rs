//! The one command builder for `spec-kitty` (with its must-run guard) and the run result.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};

use crate::diagnostics::{Diagnostics, parse_diagnostics};

use crate::json::{JsonDoc, parse_strict_json};
use crate::secrets::SecretSources;

/// A `spec-kitty` invocation under an [`IsolatedHome`](crate::IsolatedHome)'s exact environment.
///
/// Built by [`IsolatedHome::command`](crate::IsolatedHome::command); every spawn in the harness goes
/// through it. Dropping one that was never run panics: a test cannot forget to run what it built.
///
/// ```
/// // The binary: SPEC_KITTY_BIN, else the workspace build (the example is skipped without one).
/// let Some(bin) = kitty_testkit::SpecKittyBin::discover() else { return };
/// let home = kitty_testkit::IsolatedHome::builder().binary(bin).build();
/// let run = home.command().args(["paths", "--json"]).run();
/// run.assert_success();
/// ```
#[must_use = "a built command must be run; dropping it unrun panics"]
pub struct KittyCommand {
    program: PathBuf,
    args: Vec<OsString>,
    env: BTreeMap<String, String>,
    cwd: PathBuf,
    stdin: Option<Vec<u8>>,
    stdout_file: Option<std::fs::File>,
    env_os: BTreeMap<String, OsString>,
    ran: bool,
    secrets: SecretSources,
    stray: Option<crate::stray::StrayCheck>,
    zygote: bool,
}

impl KittyCommand {
    pub(crate) fn new(
        program: PathBuf,
        env: BTreeMap<String, String>,
        cwd: PathBuf,
        secrets: SecretSources,
    ) -> Self {
        Self {
            program,
            args: Vec::new(),
            env,
            cwd,
            stdin: None,
            stdout_file: None,
            env_os: BTreeMap::new(),
            stray: None,
            ran: false,
            secrets,
            zygote: false,
        }
    }

    /// Run through the reference zygote when it can run this command faithfully (see
    /// [`zygote`](crate::zygote)); a direct spawn otherwise.
    pub(crate) fn via_reference_zygote(mut self, on: bool) -> Self {
        self.zygote = on;
        self
    }

    pub(crate) fn with_stray_check(mut self, check: Option<crate::stray::StrayCheck>) -> Self {
        self.stray = check;
        self
    }

    /// Add one argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Add arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Set one variable for this run only (on top of the home's exact environment).
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(name.into(), value.into());
        self
    }

    /// Sync on, final sync off, for this run: the events the command records are queued in the
    /// outbox and wait for `sync now`; nothing is sent. (With sync off nothing is queued at all.)
    ///
    /// ```
    /// // The binary: SPEC_KITTY_BIN, else the workspace build (the example is skipped without one).
    /// let Some(bin) = kitty_testkit::SpecKittyBin::discover() else { return };
    /// let home = kitty_testkit::IsolatedHome::builder().binary(bin).build();
    /// let run = home.command().sync_queue_only().args(["sync", "status", "--json"]).run();
    /// run.assert_success().json().assert_eq("/sync_enabled", true);
    /// ```
    pub fn sync_queue_only(self) -> Self {
        self.env("SPEC_KITTY_ENABLE_SAAS_SYNC", "1")
            .env("SPEC_KITTY_FINAL_SYNC_BUDGET_MS", "0")
    }

    /// Set one variable to an OS string for this run only (for values that are not UTF-8).
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// // The binary: SPEC_KITTY_BIN, else the workspace build (the example is skipped without one).
    /// let Some(bin) = kitty_testkit::SpecKittyBin::discover() else { return };
    /// use std::os::unix::ffi::OsStringExt;
    /// let home = kitty_testkit::IsolatedHome::builder().binary(bin).build();
    /// let bad = std::ffi::OsString::from_vec(b"/tmp/\xff".to_vec());
    /// let run = home.command().env_os("SPEC_KITTY_HOME", bad).args(["paths", "--json"]).run();
    /// run.assert_code(1);
    /// # }
    /// ```
    pub fn env_os(mut self, name: &str, value: impl Into<OsString>) -> Self {
        self.env.remove(name);
        self.env_os.insert(name.to_string(), value.into());
        self
    }

    /// Remove one variable for this run only.
    pub fn env_remove(mut self, name: &str) -> Self {
        self.env.remove(name);
        self
    }

    /// Run in `dir` (default: the home's work directory).
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = dir.into();
        self
    }

    /// Feed `bytes` on stdin (default: empty stdin).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Send stdout to `file` instead of capturing it (the run's `stdout()` is then empty): for
    /// tests of what the binary does when stdout cannot be written, e.g. `/dev/full`.
    ///
    /// ```
    /// // The binary: SPEC_KITTY_BIN, else the workspace build (the example is skipped without one).
    /// let Some(bin) = kitty_testkit::SpecKittyBin::discover() else { return };
    /// let home = kitty_testkit::IsolatedHome::builder().binary(bin).build();
    /// let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    /// let run = home.command().args(["paths", "--json"]).stdout_file(full).run();
    /// run.assert_code(1);
    /// ```
    pub fn stdout_file(mut self, file: std::fs::File) -> Self {
        self.stdout_file = Some(file);
        self
    }

    /// The command line, for messages.
    pub fn display(&self) -> String {
        let mut s = self
            .program
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for a in &self.args {
            s.push(' ');
            s.push_str(&a.to_string_lossy());
        }
        s
    }

    fn std_command(&mut self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .env_clear()
            .envs(&self.env)
            .envs(&self.env_os)
            .current_dir(&self.cwd)
            .stdout(match self.stdout_file.take() {
                Some(f) => Stdio::from(f),
                None => Stdio::piped(),
            })
            .stderr(Stdio::piped())
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        cmd
    }

    /// Run with stderr on a pseudo-terminal (stdout still captured), as a person at a terminal
    /// would: for output that only a terminal gets, such as progress lines. The run's `stderr()`
    /// is what the terminal received (with a terminal's `\r\n` line ends).
    ///
    /// ```
    /// // The binary: SPEC_KITTY_BIN, else the workspace build (the example is skipped without one).
    /// let Some(bin) = kitty_testkit::SpecKittyBin::discover() else { return };
    /// let home = kitty_testkit::IsolatedHome::builder().binary(bin).build();
    /// let run = home.command().args(["paths"]).run_with_terminal_stderr();
    /// run.assert_success();
    /// ```
    #[cfg(unix)]
    #[track_caller]
    pub fn run_with_terminal_stderr(mut self) -> RunOutput {
        use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
        use std::io::Read;
        self.ran = true;
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("open a pty");
        grantpt(&master).expect("grantpt");
        unlockpt(&master).expect("unlockpt");
        let name = ptsname(&master, Vec::new()).expect("ptsname");
        let slave = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(name.to_string_lossy().as_ref())
            .expect("open the pty's terminal side");
        let mut cmd = self.std_command();
        cmd.stderr(Stdio::from(slave));
        let display = self.display();
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {display}: {e}"));
        // The terminal's output until the last writer closes it (then reads fail with EIO).
        let mut master = std::fs::File::from(master);
        let reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = master.read(&mut buf) {
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&buf[..n]);
            }
            out
        });
        let out = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("waiting for `{display}` failed: {e}"));
        drop(cmd);
        let terminal = reader.join().unwrap_or_default();
        let run = checked(
            display,
            &self.program,
            (out.status, Launch::Direct),
            &out.stdout,
            &terminal,
            &self.secrets,
        );
        check_stray(self.stray.as_ref(), &run);
        run
    }

    /// Start the process without waiting (for concurrency tests); finish it with
    /// [`RunningKitty::wait`].
    #[track_caller]
    pub fn spawn(mut self) -> RunningKitty {
        self.ran = true;
        let display = self.display();
        #[cfg(unix)]
        let launch = match self.spawn_in_zygote(&display) {
            Ok(run) => {
                return RunningKitty {
                    process: Process::Zygote(run),
                    program: self.program.clone(),
                    stray: self.stray.take(),
                    display,
                    secrets: std::mem::take(&mut self.secrets),
                };
            }
            Err(launch) => launch,
        };
        #[cfg(not(unix))]
        let launch = {
            let _no_zygote_here = self.zygote;
            Launch::Direct
        };
        let mut child = self.std_command().spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start {} ({display}): {e}; set SPEC_KITTY_BIN to a spec-kitty executable",
                self.program.display()
            )
        });
        if let (Some(bytes), Some(mut stdin)) = (self.stdin.take(), child.stdin.take()) {
            let _ = stdin.write_all(&bytes);
        }
        RunningKitty {
            process: Process::Child(child, launch),
            program: self.program.clone(),
            stray: self.stray.take(),
            display,
            secrets: std::mem::take(&mut self.secrets),
        }
    }

    /// Run to completion and capture everything.
    #[track_caller]
    pub fn run(self) -> RunOutput {
        self.spawn().wait()
    }

    /// The zygote's run of this command, or how it will be started instead.
    #[cfg(unix)]
    fn spawn_in_zygote(&mut self, display: &str) -> Result<crate::zygote::ZygoteRun, Launch> {
        if !self.zygote || self.stdin.is_some() || self.stdout_file.is_some() {
            return Err(Launch::Direct);
        }
        let env = crate::zygote::merged_env(&self.env, &self.env_os);
        let request = crate::zygote::Request {
            program: &self.program,
            args: &self.args,
            env,
            cwd: &self.cwd,
        };
        crate::zygote::spawn_or_say_why(&request, display)
    }
}

impl Drop for KittyCommand {
    fn drop(&mut self) {
        if !self.ran && !std::thread::panicking() {
            panic!(
                "a spec-kitty command was built but never run: `{}`; call .run() (or .spawn())",
                self.display()
            );
        }
    }
}

impl fmt::Debug for KittyCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KittyCommand")
            .field("command", &self.display())
            .field("cwd", &self.cwd)
            .finish_non_exhaustive()
    }
}

/// A spawned `spec-kitty` process.
///
/// ```
/// // The binary: SPEC_KITTY_BIN, else the workspace build (the example is skipped without one).
/// let Some(bin) = kitty_testkit::SpecKittyBin::discover() else { return };
/// let home = kitty_testkit::IsolatedHome::builder().binary(bin).build();
/// let running = home.command().arg("--version").spawn();
/// running.wait().assert_success();
/// ```
#[must_use = "a spawned command must be waited for"]
#[derive(Debug)]
pub struct RunningKitty {
    process: Process,
    program: PathBuf,
    stray: Option<crate::stray::StrayCheck>,
    display: String,
    secrets: SecretSources,
}

/// A direct subprocess (and why it is one), or a child of the reference zygote.
#[derive(Debug)]
enum Process {
    Child(Child, Launch),
    #[cfg(unix)]
    Zygote(crate::zygote::ZygoteRun),
}

impl RunningKitty {
    /// Kill the process (SIGKILL on Unix: no clean-up runs) and capture what it wrote.
    #[track_caller]
    pub fn kill(mut self) -> RunOutput {
        match &mut self.process {
            Process::Child(child, _) => {
                let _ = child.kill();
            }
            #[cfg(unix)]
            Process::Zygote(run) => run.request_kill(),
        }
        self.wait()
    }

    /// Wait for the process and capture its streams.
    #[track_caller]
    pub fn wait(self) -> RunOutput {
        let Self {
            process,
            program,
            stray,
            display,
            secrets,
        } = self;
        let (status, launch, stdout, stderr) = match process {
            Process::Child(child, launch) => {
                let out = child
                    .wait_with_output()
                    .unwrap_or_else(|e| panic!("waiting for `{display}` failed: {e}"));
                (out.status, launch, out.stdout, out.stderr)
            }
            #[cfg(unix)]
            Process::Zygote(run) => {
                let (status, stdout, stderr) = run.wait();
                (status, Launch::Zygote, stdout, stderr)
            }
        };
        let run = checked(
            display,
            &program,
            (status, launch),
            &stdout,
            &stderr,
            &secrets,
        );
        check_stray(stray.as_ref(), &run);
        run
    }
}

/// After every run, whatever the test asserts: no session store, outbox or `.kitty.env` in the
/// sandbox outside where the binary reads.
#[track_caller]
fn check_stray(check: Option<&crate::stray::StrayCheck>, run: &RunOutput) {
    let Some(check) = check else { return };
    if let Some(stray) = check.scan(false).first() {
        panic!("{stray}\n{run}");
    }
}

/// How a run was started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    /// A subprocess of the test.
    Direct,
    /// A child of the reference zygote (see [`IsolatedHome::reference_command`](crate::IsolatedHome::reference_command)).
    Zygote,
    /// A subprocess of the test, because the zygote could not run this command (the reason).
    DirectAfterZygote(String),
}

/// The run result, after the check every run gets whatever the test asserts: no seeded or issued
/// token on either stream.
#[track_caller]
fn checked(
    command: String,
    program: &std::path::Path,
    (status, launch): (ExitStatus, Launch),
    stdout: &[u8],
    stderr: &[u8],
    secrets: &SecretSources,
) -> RunOutput {
    let run = RunOutput {
        command,
        program: program.display().to_string(),
        status,
        launch,
        stdout: String::from_utf8_lossy(stdout).into_owned(),
        stderr: String::from_utf8_lossy(stderr).into_owned(),
    };
    if let Some(secret) = secrets.leaked(&run.stdout, &run.stderr) {
        panic!(
            "SECRET LEAK: a token seeded or issued in this test appeared in the output (shown as <redacted>)\n{}",
            run.to_string().replace(&secret, "<redacted>")
        );
    }
    run
}

/// What a run produced. Every assertion failure prints the command, exit status, stdout and
/// stderr in full.
///
/// ```
/// // The binary: SPEC_KITTY_BIN, else the workspace build (the example is skipped without one).
/// let Some(bin) = kitty_testkit::SpecKittyBin::discover() else { return };
/// let home = kitty_testkit::IsolatedHome::builder().binary(bin).build();
/// let run = home.command().args(["auth", "status", "--json"]).run();
/// run.assert_success().json().assert_eq("/authenticated", false);
/// ```
#[must_use = "a run result should be asserted on"]
#[derive(Clone)]
pub struct RunOutput {
    command: String,
    /// The executable that ran (the host, or a plugin), in full.
    program: String,
    status: ExitStatus,
    launch: Launch,
    stdout: String,
    stderr: String,
}

impl RunOutput {
    /// A run result made from parts, to test assertion logic itself (a "test of the tests") without
    /// a process. The exit code becomes a normal exit status (on Unix its low 8 bits, as a
    /// process's would be; on Windows the whole code).
    ///
    /// ```
    /// let run = kitty_testkit::RunOutput::synthetic("spec-kitty paths --json", 0, "note\n{}\n", "");
    /// assert!(run.try_json().is_err());
    /// ```
    pub fn synthetic(command: &str, code: i32, stdout: &str, stderr: &str) -> Self {
        #[cfg(unix)]
        let status = {
            use std::os::unix::process::ExitStatusExt;
            ExitStatus::from_raw((code & 0xff) << 8)
        };
        #[cfg(windows)]
        let status = {
            use std::os::windows::process::ExitStatusExt;
            // An exit code is a DWORD; a negative one is its two's complement, as Windows has it.
            ExitStatus::from_raw(code.cast_unsigned())
        };
        Self {
            command: command.to_string(),
            program: command.split(' ').next().unwrap_or_default().to_string(),
            status,
            launch: Launch::Direct,
            stdout: stdout.to_string(),
            stderr: stderr.to_string(),
        }
    }

    /// The executable that ran, as a full path (which host, or which plugin).
    pub fn program(&self) -> &str {
        &self.program
    }

    /// How the run was started: a direct subprocess, or a child of the reference zygote.
    pub fn launch(&self) -> &Launch {
        &self.launch
    }

    /// The exit code (`None` when killed by a signal).
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }
    /// Everything printed on stdout.
    pub fn stdout(&self) -> &str {
        &self.stdout
    }
    /// Everything printed on stderr.
    pub fn stderr(&self) -> &str {
        &self.stderr
    }

    /// Assert exit code 0.
    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        self.assert_code(0)
    }

    /// Assert a non-zero exit code.
    #[track_caller]
    pub fn assert_failure(&self) -> &Self {
        assert!(
            self.status.code().is_some_and(|c| c != 0),
            "expected a non-zero exit\n{self}"
        );
        self
    }

    /// Assert a specific exit code.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert!(
            self.status.code() == Some(code),
            "expected exit code {code}\n{self}"
        );
        self
    }

    /// Parse stdout strictly as one JSON object; panics with the whole run when it is not.
    #[track_caller]
    pub fn json(&self) -> JsonDoc {
        self.try_json().unwrap_or_else(|e| panic!("{e}\n{self}"))
    }

    /// Parse stdout strictly as one JSON object.
    pub fn try_json(&self) -> Result<JsonDoc, crate::StrictJsonError> {
        parse_strict_json(&self.stdout)
            .map(|map| JsonDoc::new(serde_json::Value::Object(map), self.to_string()))
    }

    /// The `sync_diagnostic` lines on stderr, parsed.
    pub fn diagnostics(&self) -> Diagnostics {
        Diagnostics::new(parse_diagnostics(&self.stderr), self.to_string())
    }

    /// Assert that stdout is empty.
    #[track_caller]
    pub fn assert_stdout_empty(&self) -> &Self {
        assert!(self.stdout.is_empty(), "expected empty stdout\n{self}");
        self
    }

    /// Assert that `needle` appears on neither stream.
    #[track_caller]
    pub fn assert_nowhere(&self, needle: &str) -> &Self {
        assert!(
            !self.stdout.contains(needle) && !self.stderr.contains(needle),
            "{needle:?} must not appear in the output\n{self}"
        );
        self
    }

    /// Assert that `needle` appears on stdout.
    #[track_caller]
    pub fn assert_stdout_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "expected {needle:?} on stdout\n{self}"
        );
        self
    }

    /// Assert that `needle` appears on stderr.
    #[track_caller]
    pub fn assert_stderr_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "expected {needle:?} on stderr\n{self}"
        );
        self
    }

    /// Assert that `needle` does not appear on stderr (a log line or warning that must not be
    /// written). Pair it with an assertion that the command did the work the line is about.
    ///
    /// ```
    /// let run = kitty_testkit::RunOutput::synthetic("sync now", 0, "{}", "INFO drained\n");
    /// run.assert_stderr_lacks("WARN");
    /// let message = kitty_testkit::expect_panic(|| {
    ///     run.assert_stderr_lacks("drained");
    /// });
    /// assert!(message.starts_with("\"drained\" must not appear on stderr"), "{message}");
    /// ```
    #[track_caller]
    pub fn assert_stderr_lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.stderr.contains(needle),
            "{needle:?} must not appear on stderr\n{self}"
        );
        self
    }

    /// Assert that no secret (token) appears on either stream.
    #[track_caller]
    pub fn assert_no_secrets<S: AsRef<str>>(&self, secrets: &[S]) -> &Self {
        for s in secrets {
            let s = s.as_ref();
            assert!(
                !s.is_empty() && !self.stdout.contains(s) && !self.stderr.contains(s),
                "a secret leaked into the output: {}...\n{self}",
                &s[..s.len().min(6)]
            );
        }
        self
    }
}

impl fmt::Display for RunOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "command: {}", self.command)?;
        writeln!(f, "program: {}", self.program)?;
        // "exit status: N" or "signal: N (SIGKILL)"; the same words on Windows, whose own are
        // "exit code: N".
        match self.status.code() {
            Some(code) => writeln!(f, "exit status: {code}")?,
            None => writeln!(f, "{}", self.status)?,
        }
        writeln!(f, "----- stdout -----")?;
        writeln!(f, "{}", self.stdout)?;
        writeln!(f, "----- stderr -----")?;
        write!(f, "{}", self.stderr)
    }
}

impl fmt::Debug for RunOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::RunOutput;

    /// Where a panic inside `f` says it happened.
    fn panic_location(f: impl FnOnce()) -> Option<(String, u32)> {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
        let hook = std::panic::take_hook();
        let into = seen.clone();
        std::panic::set_hook(Box::new(move |info| {
            if let Some(l) = info.location() {
                *into.lock().unwrap() = Some((l.file().to_string(), l.line()));
            }
        }));
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        std::panic::set_hook(hook);
        assert!(result.is_err(), "it did not panic");
        seen.lock().unwrap().clone()
    }

    #[cfg(unix)]
    #[test]
    fn a_failure_the_run_itself_finds_points_at_the_test_line_not_the_testkit() {
        let home = crate::IsolatedHome::new();
        home.treat_as_secret("hunter2-token");
        let line = line!() + 1;
        let at = panic_location(|| drop(home.program("/bin/echo").arg("hunter2-token").run()));
        assert_eq!(at, Some((file!().to_string(), line)));
        let home = crate::IsolatedHome::new();
        home.treat_as_secret("hunter2-token");
        // A spawned run is checked when it is waited for: the wait's line.
        let line = line!() + 3;
        let at = panic_location(|| {
            let running = home.program("/bin/echo").arg("hunter2-token").spawn();
            drop(running.wait());
        });
        assert_eq!(at, Some((file!().to_string(), line)));
    }

    #[test]
    fn a_run_shows_its_command_status_and_both_streams_whole() {
        let run = RunOutput::synthetic("spec-kitty paths --json", 3, "out\n", "err\n");
        assert_eq!(run.code(), Some(3));
        assert_eq!(
            RunOutput::synthetic("spec-kitty", 0, "", "").code(),
            Some(0)
        );
        // A Unix exit status keeps the code's low 8 bits; Windows keeps all 32.
        #[cfg(unix)]
        assert_eq!(
            RunOutput::synthetic("spec-kitty", 256 + 7, "", "").code(),
            Some(7)
        );
        assert_eq!(
            (run.program(), run.stdout(), run.stderr()),
            ("spec-kitty", "out\n", "err\n")
        );
        let shown = "command: spec-kitty paths --json\nprogram: spec-kitty\nexit status: 3\n\
                     ----- stdout -----\nout\n\n----- stderr -----\nerr\n";
        assert_eq!(run.to_string(), shown);
        assert_eq!(
            format!("{run:?}"),
            shown,
            "Debug (what unwrap and assert_eq print) is the same"
        );
    }
}
