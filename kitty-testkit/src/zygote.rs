//! The reference zygote: runs the reference CLI in a child forked from a Python process that has
//! already imported it, instead of a fresh interpreter per call, with the same argv, environment,
//! working directory and stdio.
//!
//! A run of the reference spends about half its time importing ~1 500 modules before it does
//! anything. The zygote (`reference_zygote.py`, embedded here and written under `target/`) pays
//! that once: one server per reference (path, installed version) and per value of the variables
//! the reference reads while importing ([`is_variant`]), listening on a Unix socket in
//! `target/reference-zygote/`, shared by every test process, started by the first one that needs it
//! (under a lock) and gone after [`IDLE_SECONDS`] without a request. For each run the client sends
//! the arguments, the exact environment, the directory and its own stdio descriptors; the server
//! forks a supervisor, which forks the child that resets what the import derived from the server's
//! HOME and directory, becomes the request and runs the reference's own entry script; the
//! supervisor answers with the child's wait status. The server never runs a request itself.
//!
//! Each child answers `os.getppid()` with the client's pid, as a direct run's parent; parsed YAML is
//! kept across runs in `target/reference-zygote/yaml-cache/` (the reference parses hundreds of its
//! packaged YAML files per command with a pure-Python parser, from texts, paths and its open
//! config file; unpickling is ~17× cheaper).
//!
//! Fidelity is checked, not assumed: see the Python file's header and the suite's
//! `reference_parity::zygote` tests, which compare zygote runs with direct runs. Whenever the zygote
//! cannot run a request faithfully (or cannot start) the run goes to a direct subprocess, with a
//! note on the test's stderr and [`Launch::DirectAfterZygote`] on the run. [`DIRECT_VAR`] forces the
//! direct path. Runs with bytes on stdin, stdout sent to a file, or a terminal on stderr always
//! take the direct path (the zygote's stdio is a pipe on stdout and stderr and `/dev/null` on stdin,
//! and Python builds its stdio objects from what those are when it starts).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, IoSlice, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::command::Launch;

/// Set this (to anything but the empty string) in the test process to run the reference as a
/// direct subprocess every time, never through the zygote (for debugging a difference).
pub const DIRECT_VAR: &str = "KITTY_REFERENCE_DIRECT";

/// A server with no request for this long exits.
pub const IDLE_SECONDS: u64 = 30;

const SOURCE: &str = include_str!("reference_zygote.py");

/// How long a server may take to import the reference before the client gives up on it.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// Variables read while the reference imports, whose values therefore pick a server: the
/// interpreter's start-up (`PYTHON*`, locale, `TZ`), terminal and colour switches, and the
/// reference's own import-time switches. The server refuses (and the client runs directly) a
/// request that differs from it on any other variable the import read.
pub fn is_variant(name: &str) -> bool {
    const PREFIXES: &[&str] = &["PYTHON", "_PYTHON", "LC_"];
    const NAMES: &[&str] = &[
        "LANG",
        "LANGUAGE",
        "TZ",
        "COLUMNS",
        "LINES",
        "NO_COLOR",
        "FORCE_COLOR",
        "TTY_COMPATIBLE",
        "TTY_INTERACTIVE",
        "TYPER_USE_RICH",
        "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION",
        "RUAMEL_DEBUG",
        "PSUTIL_DEBUG",
        "PYDANTIC_DISABLE_PLUGINS",
        "ANDROID_DATA",
        "SPEC_KITTY_TEST_MODE",
        "SPEC_KITTY_CLI_VERSION",
        "SPEC_KITTY_PACKS_ROOT",
        "SPEC_KITTY_ENABLE_SAAS_SYNC",
        "SPEC_KITTY_SYNC_MINIMAL_IMPORT",
    ];
    NAMES.contains(&name) || PREFIXES.iter().any(|p| name.starts_with(p))
}

/// One request: what a direct spawn would get.
pub(crate) struct Request<'a> {
    pub program: &'a Path,
    pub args: &'a [OsString],
    pub env: Vec<(OsString, OsString)>,
    pub cwd: &'a Path,
}

/// Why a request did not go to the zygote.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NotServed {
    /// Not a case for the zygote (not a Python entry script of the reference, or switched off).
    NotApplicable,
    /// The zygote could not run it; the caller says so and runs it directly.
    Failed(String),
}

/// A request the zygote's child is running.
#[derive(Debug)]
pub(crate) struct ZygoteRun {
    lines: BufReader<UnixStream>,
    control: UnixStream,
    stdout: std::io::PipeReader,
    stderr: std::io::PipeReader,
    display: String,
}

/// Where a server for one reference and one set of variant values lives, and how to start it.
#[derive(Debug)]
struct Server {
    program: PathBuf,
    dir: PathBuf,
    key: String,
    interpreter: String,
    interpreter_args: Vec<String>,
    script: PathBuf,
    variant_env: Vec<(OsString, OsString)>,
}

/// Run `request` in the zygote; else say (on stderr, unless it is not a case for the zygote) why
/// not, and how it is to be started instead.
pub(crate) fn spawn_or_say_why(request: &Request<'_>, display: &str) -> Result<ZygoteRun, Launch> {
    match spawn(request, display) {
        Ok(run) => Ok(run),
        Err(NotServed::NotApplicable) => Err(Launch::Direct),
        Err(NotServed::Failed(why)) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!(
                    "kitty-testkit: the reference zygote did not run `{display}`, running it \
                     directly: {why}"
                );
            }
            Err(Launch::DirectAfterZygote(why))
        }
    }
}

/// Run `request` in the zygote.
fn spawn(request: &Request<'_>, display: &str) -> Result<ZygoteRun, NotServed> {
    if crate::process_env::non_empty_var(DIRECT_VAR).is_some() {
        return Err(NotServed::NotApplicable);
    }
    let server = Server::for_request(request)?;
    let payload = run_payload(b"run", request)?;
    let mut last = String::new();
    for attempt in 0..2 {
        let stream = server.connect(attempt > 0).map_err(NotServed::Failed)?;
        match send_run(stream, &payload, display) {
            Ok(run) => return Ok(run),
            // The server went away before taking the request (an idle exit): start one, once.
            Err(Attempt::Dropped(why)) => last = why,
            Err(Attempt::Refused(why)) => return Err(NotServed::Failed(why)),
        }
    }
    Err(NotServed::Failed(last))
}

/// Whether the zygote would run `request` (`Err` with its reason when it would not), without
/// running it.
pub(crate) fn check(request: &Request<'_>) -> Result<(), String> {
    let server = match Server::for_request(request) {
        Ok(s) => s,
        Err(NotServed::NotApplicable) => return Err("not a case for the zygote".into()),
        Err(NotServed::Failed(why)) => return Err(why),
    };
    let payload = match run_payload(b"check", request) {
        Ok(p) => p,
        Err(NotServed::NotApplicable) => return Err("not a case for the zygote".into()),
        Err(NotServed::Failed(why)) => return Err(why),
    };
    let stream = server.connect(false)?;
    match send_run(stream, &payload, "a check") {
        Ok(run) => {
            run.wait();
            Ok(())
        }
        Err(Attempt::Dropped(why) | Attempt::Refused(why)) => Err(why),
    }
}

/// The server's report: `{"problems": [...], "compared": {name: value}, "handled": [...]}`.
pub(crate) fn status(program: &Path, env: Vec<(OsString, OsString)>) -> Result<String, String> {
    match running_server(program, env) {
        Ok(running) => Ok(running.status),
        Err(NotServed::NotApplicable) => Err("not a case for the zygote".into()),
        Err(NotServed::Failed(why)) => Err(why),
    }
}

/// A running server for `program` and `env` (started if none answers).
pub(crate) struct Running {
    /// Its socket.
    pub socket: PathBuf,
    /// The reference's interpreter.
    pub interpreter: String,
    /// A directory of this server's own, beside its socket.
    pub dir: PathBuf,
    /// Its report (see [`status`]).
    pub status: String,
}

/// The server for `program` and `env`, started if none answers, and its report.
pub(crate) fn running_server(
    program: &Path,
    env: Vec<(OsString, OsString)>,
) -> Result<Running, NotServed> {
    let request = Request {
        program,
        args: &[],
        env,
        cwd: Path::new("/"),
    };
    let server = Server::for_request(&request)?;
    let failed = |e: std::io::Error| NotServed::Failed(e.to_string());
    let mut stream = server.connect(false).map_err(NotServed::Failed)?;
    let payload = b"status";
    let mut framed = (payload.len() as u32).to_be_bytes().to_vec();
    framed.extend_from_slice(payload);
    stream.write_all(&framed).map_err(failed)?;
    let mut line = String::new();
    BufReader::new(stream)
        .read_line(&mut line)
        .map_err(failed)?;
    let status = line
        .strip_prefix("status ")
        .map(|s| s.trim_end().to_string())
        .ok_or_else(|| NotServed::Failed(format!("unexpected answer {line:?}")))?;
    Ok(Running {
        socket: server.path("sock"),
        interpreter: server.interpreter.clone(),
        dir: server.path("d"),
        status,
    })
}

enum Attempt {
    Dropped(String),
    Refused(String),
}

impl Server {
    fn for_request(request: &Request<'_>) -> Result<Self, NotServed> {
        let program = request.program;
        if !program.is_absolute() {
            return Err(NotServed::NotApplicable);
        }
        let (interpreter, interpreter_args) =
            python_shebang(program).ok_or(NotServed::NotApplicable)?;
        let failed = |what: &str, e: std::io::Error| NotServed::Failed(format!("{what}: {e}"));
        let script = program
            .canonicalize()
            .map_err(|e| failed("cannot resolve the reference", e))?;
        let dir = zygote_dir(program).map_err(|e| failed("no directory for the zygote", e))?;
        let mut variant_env: Vec<(OsString, OsString)> = request
            .env
            .iter()
            .filter(|(k, _)| k.to_str().is_some_and(is_variant))
            .cloned()
            .collect();
        variant_env.sort();
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        SOURCE.hash(&mut hasher);
        program.hash(&mut hasher);
        (&interpreter, &interpreter_args, &variant_env).hash(&mut hasher);
        for file in [program, Path::new(&interpreter)] {
            let meta = std::fs::metadata(file).map_err(|e| failed("cannot stat", e))?;
            (meta.len(), meta.modified().ok()).hash(&mut hasher);
        }
        let key = format!("{:016x}", hasher.finish());
        let server = Self {
            program: program.to_path_buf(),
            dir,
            key,
            interpreter,
            interpreter_args,
            script,
            variant_env,
        };
        if server.path("sock").as_os_str().len() > 100 {
            return Err(NotServed::Failed(format!(
                "the socket path {} is too long for a Unix socket",
                server.path("sock").display()
            )));
        }
        Ok(server)
    }

    fn path(&self, ext: &str) -> PathBuf {
        self.dir.join(format!("{}.{ext}", self.key))
    }

    /// A connection to the running server; starts one (under the lock) when none answers.
    fn connect(&self, after_a_drop: bool) -> Result<UnixStream, String> {
        let socket = self.path("sock");
        if !after_a_drop && let Ok(s) = UnixStream::connect(&socket) {
            return Ok(s);
        }
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.path("lock"))
            .map_err(|e| format!("cannot open the zygote's lock: {e}"))?;
        lock.lock()
            .map_err(|e| format!("cannot take the zygote's lock: {e}"))?;
        if let Ok(s) = UnixStream::connect(&socket) {
            return Ok(s);
        }
        let _ = std::fs::remove_file(&socket);
        self.start()
    }

    /// Start a server and wait until it answers (the caller holds the lock).
    fn start(&self) -> Result<UnixStream, String> {
        fn err(what: &'static str) -> impl Fn(std::io::Error) -> String {
            move |e| format!("{what}: {e}")
        }
        let script = self.dir.join(format!("zygote-{}.py", &self.key[..8]));
        let tmp = script.with_extension("py.tmp");
        std::fs::write(&tmp, SOURCE).map_err(err("cannot write the zygote"))?;
        std::fs::rename(&tmp, &script).map_err(err("cannot write the zygote"))?;
        let marker = tempfile::Builder::new()
            .prefix("kitty-zygote-")
            .tempdir()
            .map_err(err("cannot make the zygote's directory"))?
            .keep();
        for sub in ["home", "cwd", "tmp"] {
            std::fs::create_dir_all(marker.join(sub)).map_err(err("cannot make a directory"))?;
        }
        let mut env = self.variant_env.clone();
        for (k, v) in [
            ("HOME", marker.join("home")),
            ("SPEC_KITTY_HOME", marker.join("kitty-home")),
            ("TMPDIR", marker.join("tmp")),
        ] {
            env.push((k.into(), v.into_os_string()));
        }
        let mut path = marker.join("bin").into_os_string();
        path.push(":/usr/bin:/bin");
        env.push(("PATH".into(), path));
        let config = serde_json::json!({
            "script": self.program,
            "marker": marker,
            "socket": self.path("sock"),
            "lock": self.path("lock"),
            "yaml_cache": self.dir.join("yaml-cache"),
            "idle_seconds": IDLE_SECONDS,
            "interpreter": self.interpreter,
            "interpreter_args": self.interpreter_args,
            "first_path_entry": self.script.parent(),
            "spawn_env_keys": env.iter().map(|(k, _)| k.to_string_lossy()).collect::<Vec<_>>(),
        });
        std::fs::write(self.path("json"), config.to_string())
            .map_err(err("cannot write the zygote's configuration"))?;
        let log = File::create(self.path("log")).map_err(err("cannot create the zygote's log"))?;
        let log2 = log
            .try_clone()
            .map_err(err("cannot create the zygote's log"))?;
        let mut child = Command::new(&self.interpreter)
            .args(&self.interpreter_args)
            .arg(&script)
            .arg(self.path("json"))
            .env_clear()
            .envs(env)
            .current_dir(marker.join("cwd"))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .process_group(0)
            .spawn()
            .map_err(err("cannot start the zygote"))?;
        let started = Instant::now();
        loop {
            if let Ok(s) = UnixStream::connect(self.path("sock")) {
                return Ok(s);
            }
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(self.path("log")).unwrap_or_default();
                return Err(format!(
                    "the zygote exited ({status}) while starting: {log}"
                ));
            }
            if started.elapsed() > START_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("the zygote did not start in {START_TIMEOUT:?}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The interpreter (and its one argument) of a Python entry script of the reference, read from
/// its `#!` line; `None` for anything else (an executable, a shell script, `env python3`, whose
/// interpreter would depend on each request's PATH).
fn python_shebang(program: &Path) -> Option<(String, Vec<String>)> {
    let mut head = Vec::new();
    File::open(program)
        .ok()?
        .take(4096)
        .read_to_end(&mut head)
        .ok()?;
    let text = String::from_utf8(head).ok()?;
    let first = text.lines().next()?.strip_prefix("#!")?.trim();
    let (interpreter, arg) = match first.split_once(char::is_whitespace) {
        Some((i, a)) => (i, Some(a.trim())),
        None => (first, None),
    };
    let name = Path::new(interpreter).file_name()?.to_str()?;
    let is_reference = text.contains("from specify_cli import main");
    (name.starts_with("python") && is_reference).then(|| {
        let args = arg.filter(|a| !a.is_empty()).map(str::to_string);
        (interpreter.to_string(), args.into_iter().collect())
    })
}

/// `target/reference-zygote` when the reference is in a venv under `target/` (or any writable
/// directory above the venv), else a directory under the system's temporary directory.
fn zygote_dir(program: &Path) -> std::io::Result<PathBuf> {
    let beside_venv = program
        .parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .map(|d| d.join("reference-zygote"));
    if let Some(dir) = beside_venv
        && std::fs::create_dir_all(&dir).is_ok()
    {
        return Ok(dir);
    }
    let dir = std::env::temp_dir().join("kitty-reference-zygote");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// This process's umask, as `/proc/self/status` reports it (empty where it does not: the server
/// then keeps the umask it inherited from the test process that started it).
fn umask() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:").map(|v| v.trim().to_string()))
        })
        .unwrap_or_default()
}

/// `kind` (`run`, or `check`: would it run?), script, cwd, umask, argc, args..., envc,
/// NAME=VALUE..., NUL-separated, behind a big-endian length.
fn run_payload(kind: &[u8], request: &Request<'_>) -> Result<Vec<u8>, NotServed> {
    let cwd = std::path::absolute(request.cwd)
        .map_err(|e| NotServed::Failed(format!("no absolute working directory: {e}")))?;
    let mut fields: Vec<Vec<u8>> = vec![
        kind.to_vec(),
        request.program.as_os_str().as_bytes().to_vec(),
        cwd.as_os_str().as_bytes().to_vec(),
        umask().into_bytes(),
        // The run's parent, as a direct spawn from this process would have it (the reference
        // records its parent's pid as the agent's shell).
        std::process::id().to_string().into_bytes(),
        request.args.len().to_string().into_bytes(),
    ];
    fields.extend(request.args.iter().map(|a| a.as_bytes().to_vec()));
    fields.push(request.env.len().to_string().into_bytes());
    for (k, v) in &request.env {
        let mut entry = k.as_bytes().to_vec();
        entry.push(b'=');
        entry.extend_from_slice(v.as_bytes());
        fields.push(entry);
    }
    if fields.iter().any(|f| f.contains(&0)) {
        // A NUL cannot reach a process; the direct spawn reports it.
        return Err(NotServed::NotApplicable);
    }
    let body = fields.join(&0u8);
    let size = u32::try_from(body.len()).map_err(|_| NotServed::NotApplicable)?;
    let mut framed = size.to_be_bytes().to_vec();
    framed.extend_from_slice(&body);
    Ok(framed)
}

/// Send the request with `/dev/null` and two fresh pipes as its stdio; the child has started when
/// this returns `Ok`.
fn send_run(mut stream: UnixStream, payload: &[u8], display: &str) -> Result<ZygoteRun, Attempt> {
    let dropped = |e: std::io::Error| Attempt::Dropped(format!("the zygote went away: {e}"));
    let null = File::open("/dev/null").map_err(dropped)?;
    let (stdout, stdout_w) = std::io::pipe().map_err(dropped)?;
    let (stderr, stderr_w) = std::io::pipe().map_err(dropped)?;
    let fds = [null.as_fd(), stdout_w.as_fd(), stderr_w.as_fd()];
    let mut space = [std::mem::MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(3))];
    let mut control = rustix::net::SendAncillaryBuffer::new(&mut space);
    control.push(rustix::net::SendAncillaryMessage::ScmRights(&fds));
    let sent = rustix::net::sendmsg(
        &stream,
        &[IoSlice::new(payload)],
        &mut control,
        rustix::net::SendFlags::empty(),
    )
    .map_err(|e| dropped(e.into()))?;
    stream.write_all(&payload[sent..]).map_err(dropped)?;
    drop((null, stdout_w, stderr_w));
    let control = stream.try_clone().map_err(dropped)?;
    // No timeout: the child may already run once the answer is due (a hung server is the test
    // runner's timeout to report), and a closed connection without an answer ran nothing.
    let mut lines = BufReader::new(stream);
    let mut first = String::new();
    match lines.read_line(&mut first) {
        Ok(0) => return Err(Attempt::Dropped("the zygote closed the connection".into())),
        Ok(_) => {}
        Err(e) => return Err(dropped(e)),
    }
    if let Some(why) = first.strip_prefix("fallback ") {
        return Err(Attempt::Refused(why.trim_end().to_string()));
    }
    if !first.starts_with("started ") {
        return Err(Attempt::Refused(format!("unexpected answer {first:?}")));
    }
    Ok(ZygoteRun {
        lines,
        control,
        stdout,
        stderr,
        display: display.to_string(),
    })
}

impl ZygoteRun {
    /// Wait for the child; its wait status and everything it wrote.
    pub(crate) fn wait(self) -> (ExitStatus, Vec<u8>, Vec<u8>) {
        let Self {
            mut lines,
            control,
            mut stdout,
            mut stderr,
            display,
        } = self;
        let err_reader = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = stderr.read_to_end(&mut buf);
            buf
        });
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        let err = err_reader.join().unwrap_or_default();
        let mut line = String::new();
        let _ = lines.read_line(&mut line);
        drop(control);
        let status = line
            .strip_prefix("exit ")
            .and_then(|s| s.trim().parse::<i32>().ok())
            .unwrap_or_else(|| {
                panic!(
                    "the reference zygote lost `{display}` after starting it (answer {line:?}); \
                     see target/reference-zygote/*.log, or set {DIRECT_VAR}=1"
                )
            });
        (ExitStatus::from_raw(status), out, err)
    }

    /// Ask the supervisor to kill the child (SIGKILL); [`wait`](Self::wait) then reports it.
    pub(crate) fn request_kill(&mut self) {
        let _ = self.control.write_all(b"k");
    }
}

/// Split a run's environment as a direct spawn would apply it: `env`, then `env_os` on top.
pub(crate) fn merged_env(
    env: &BTreeMap<String, String>,
    env_os: &BTreeMap<String, OsString>,
) -> Vec<(OsString, OsString)> {
    let mut all: BTreeMap<OsString, OsString> = env
        .iter()
        .map(|(k, v)| (OsString::from(k), OsString::from(v)))
        .collect();
    for (k, v) in env_os {
        all.insert(k.into(), v.clone());
    }
    all.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_python_entry_script_of_the_reference_goes_to_the_zygote() {
        let tmp = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let p = tmp.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let shim = "import sys\nfrom specify_cli import main\nsys.exit(main())\n";
        let venv = write("venv", &format!("#!/opt/venv/bin/python3\n{shim}"));
        assert_eq!(
            python_shebang(&venv),
            Some(("/opt/venv/bin/python3".into(), vec![]))
        );
        let with_arg = write("arg", &format!("#!/usr/bin/python3.11 -s\n{shim}"));
        assert_eq!(
            python_shebang(&with_arg),
            Some(("/usr/bin/python3.11".into(), vec!["-s".into()]))
        );
        for (name, text) in [
            ("env", format!("#!/usr/bin/env python3\n{shim}")),
            (
                "shell",
                "#!/bin/sh\nfrom specify_cli import main\n".to_string(),
            ),
            ("other", "#!/usr/bin/python3\nprint('hi')\n".to_string()),
            ("none", shim.to_string()),
        ] {
            assert_eq!(python_shebang(&write(name, &text)), None, "{name}");
        }
        assert_eq!(python_shebang(Path::new("/bin/sh")), None, "a binary");
        assert_eq!(python_shebang(&tmp.path().join("missing")), None);
    }

    #[test]
    fn the_variables_read_while_importing_pick_the_server() {
        for v in [
            "PYTHONPATH",
            "LC_ALL",
            "LANG",
            "TZ",
            "SPEC_KITTY_ENABLE_SAAS_SYNC",
        ] {
            assert!(is_variant(v), "{v}");
        }
        for v in [
            "HOME",
            "PATH",
            "SPEC_KITTY_HOME",
            "GIT_AUTHOR_NAME",
            "XDG_CONFIG_HOME",
        ] {
            assert!(!is_variant(v), "{v}");
        }
    }

    #[test]
    fn a_request_is_its_arguments_environment_and_directory_nul_separated() {
        let args = [OsString::from("agent"), OsString::from("")];
        let request = Request {
            program: Path::new("/r/bin/spec-kitty"),
            args: &args,
            env: vec![("A".into(), "1=2".into())],
            cwd: Path::new("/w"),
        };
        let framed = run_payload(b"run", &request).unwrap();
        let body = &framed[4..];
        assert_eq!(
            u32::from_be_bytes(framed[..4].try_into().unwrap()) as usize,
            body.len()
        );
        let fields: Vec<&[u8]> = body.split(|b| *b == 0).collect();
        assert_eq!(fields[..3], [&b"run"[..], b"/r/bin/spec-kitty", b"/w"]);
        assert_eq!(fields[4], std::process::id().to_string().as_bytes());
        assert_eq!(fields[5..], [&b"2"[..], b"agent", b"", b"1", b"A=1=2"]);
        let nul = [OsString::from("a\0b")];
        let bad = Request {
            args: &nul,
            ..request
        };
        assert!(matches!(
            run_payload(b"run", &bad),
            Err(NotServed::NotApplicable)
        ));
    }

    #[test]
    fn env_os_wins_over_env_as_in_a_direct_spawn() {
        let env = BTreeMap::from([("A".to_string(), "1".to_string()), ("B".into(), "2".into())]);
        let os = BTreeMap::from([("A".to_string(), OsString::from("x"))]);
        assert_eq!(
            merged_env(&env, &os),
            [("A".into(), "x".into()), ("B".into(), "2".into())]
        );
    }
}
