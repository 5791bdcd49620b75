//! The long-lived validator: one Python per (interpreter, validator source) that imported
//! `spec_kitty_events` once, answering every test process on a Unix socket beside the venv
//! (importing the package costs a third of a CPU-second; a check, milliseconds). Started by the
//! first test that finds none (under a lock), gone after [`IDLE_SECONDS`] without a request.
//! Whenever it cannot answer, the caller runs the validator in a new interpreter instead: the
//! server only saves time, never changes a verdict (both run the same `run`).

use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::VALIDATOR_SOURCE;

/// A server with no request for this long exits.
const IDLE_SECONDS: u64 = 30;

/// How long a server may take to import the package.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The exit status and output of the validator run on `input` by the server for `python`
/// (started when none answers); `None` when no server can answer.
pub(super) fn answer(python: &Path, input: &str) -> Option<(i32, String)> {
    let socket = socket_path(python)?;
    let mut stream = connect(python, &socket)?;
    stream.set_read_timeout(Some(START_TIMEOUT)).ok()?;
    stream.write_all(input.as_bytes()).ok()?;
    stream.shutdown(Shutdown::Write).ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    parse_reply(&reply)
}

/// `<status>\n<output>`, or `None` for anything else (a server that went away mid-request).
fn parse_reply(reply: &str) -> Option<(i32, String)> {
    let (status, output) = reply.split_once('\n')?;
    Some((status.parse().ok()?, output.to_string()))
}

/// `target/contract-validator/<key>.sock` when the interpreter is in a venv under `target/`, else
/// under the system's temporary directory; the key names the interpreter and the source.
fn socket_path(python: &Path) -> Option<PathBuf> {
    let beside_venv = python
        .parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .map(|d| d.join("contract-validator"))
        .filter(|d| std::fs::create_dir_all(d).is_ok());
    let dir = match beside_venv {
        Some(d) => d,
        None => {
            let d = std::env::temp_dir().join("kitty-contract-validator");
            std::fs::create_dir_all(&d).ok()?;
            d
        }
    };
    let meta = std::fs::metadata(python).ok()?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (VALIDATOR_SOURCE, python, meta.len(), meta.modified().ok()).hash(&mut hasher);
    let socket = dir.join(format!("{:016x}.sock", hasher.finish()));
    (socket.as_os_str().len() <= 100).then_some(socket)
}

/// A connection to the running server; starts one (under the lock) when none answers.
fn connect(python: &Path, socket: &Path) -> Option<UnixStream> {
    if let Ok(s) = UnixStream::connect(socket) {
        return Some(s);
    }
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(socket.with_extension("lock"))
        .ok()?;
    lock.lock().ok()?;
    if let Ok(s) = UnixStream::connect(socket) {
        return Some(s);
    }
    let _ = std::fs::remove_file(socket);
    let log = File::create(socket.with_extension("log")).ok()?;
    // Its own process group, stdio away from the test's: it outlives the test that started it.
    let mut child = Command::new(python)
        .arg("-c")
        .arg(VALIDATOR_SOURCE)
        .arg("--serve")
        .arg(socket)
        .arg(IDLE_SECONDS.to_string())
        .current_dir(socket.parent()?)
        .stdin(Stdio::null())
        .stdout(log.try_clone().ok()?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .ok()?;
    let started = Instant::now();
    while started.elapsed() < START_TIMEOUT {
        if let Ok(s) = UnixStream::connect(socket) {
            return Some(s);
        }
        if let Ok(Some(_)) = child.try_wait() {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_a_status_line_then_the_output_and_anything_else_is_no_answer() {
        assert_eq!(
            parse_reply("1\n{\"valid\": false}\n"),
            Some((1, "{\"valid\": false}\n".to_string()))
        );
        assert_eq!(parse_reply("0\n"), Some((0, String::new())));
        assert_eq!(parse_reply(""), None);
        assert_eq!(parse_reply("0"), None);
        assert_eq!(parse_reply("Traceback\n"), None);
    }
}
