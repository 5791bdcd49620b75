//! The rules ARCHITECTURE.md states about the source tree, checked: each test reads every file
//! under `product/src` and names the file and line that breaks its rule.

mod layers;

use std::path::{Path, PathBuf};

/// Every `.rs` file under `product/src`, with its path relative to `src` and its text.
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    files.sort();
    assert!(
        files.len() > 40,
        "found only {} files under {}",
        files.len(),
        src.display()
    );
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// The lines of `text` before its first `#[cfg(test)]` item: the code that ships (the house
/// keeps unit tests in a module at the end of the file, or in a `*_tests.rs` file that opens
/// with `#![cfg(test)]`).
fn shipped(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .take_while(|(_, l)| !matches!(l.trim(), "#[cfg(test)]" | "#![cfg(test)]"))
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
}

#[test]
fn every_source_file_opens_with_a_one_line_summary() {
    let bad: Vec<String> = sources()
        .into_iter()
        .filter(|(_, text)| {
            let first = text.lines().next().unwrap_or_default();
            !(first.starts_with("//! ") && first.len() > 10)
        })
        .map(|(file, _)| file)
        .collect();
    assert!(
        bad.is_empty(),
        "files without a `//!` summary line: {bad:?}"
    );
}

#[test]
fn no_source_file_is_over_700_lines() {
    let long: Vec<String> = sources()
        .into_iter()
        .filter(|(_, text)| text.lines().count() > 700)
        .map(|(file, text)| format!("{file}: {} lines", text.lines().count()))
        .collect();
    assert!(long.is_empty(), "split these by job: {long:?}");
}

#[test]
fn only_the_output_module_may_print() {
    // clippy's print_stdout / print_stderr are denied workspace-wide; this is the one exemption.
    let allowed: Vec<String> = sources()
        .into_iter()
        .filter(|(_, text)| {
            text.contains("allow(clippy::print_stdout")
                || text.contains("allow(clippy::print_stderr")
        })
        .map(|(file, _)| file)
        .collect();
    assert_eq!(allowed, ["output.rs"]);
}

#[test]
fn only_main_reads_the_process_environment() {
    let mut found = Vec::new();
    for (file, text) in sources() {
        if file == "main.rs" || file == "env.rs" {
            continue;
        }
        for (n, line) in shipped(&text) {
            for reader in [
                "env::var(",
                "env::var_os(",
                "env::vars(",
                "env::vars_os(",
                "from_process(",
                "env::set_var(",
                "env::remove_var(",
            ] {
                if line.contains(reader) {
                    found.push(format!("{file}:{n}: {}", line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "only main.rs takes the environment snapshot (Env::from_process); pass the Env down instead:\n{}",
        found.join("\n")
    );
}

/// The file and directory names `paths.rs` spells (string literals of its shipped code).
fn runtime_names(paths_rs: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (_, line) in shipped(paths_rs) {
        for lit in line.split('"').skip(1).step_by(2) {
            let is_name = lit.len() > 3
                && lit.contains('.')
                && lit
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
            if is_name && !names.iter().any(|n| n == lit) {
                names.push(lit.to_string());
            }
        }
    }
    names
}

#[test]
fn every_runtime_file_name_is_spelled_only_in_paths_rs() {
    let all = sources();
    let paths_rs = &all.iter().find(|(f, _)| f == "paths.rs").unwrap().1;
    let names = runtime_names(paths_rs);
    for expected in [
        "outbox.sqlite3",
        "session.json",
        "config.toml",
        "drain.lock",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} not in {names:?}"
        );
    }
    let mut found = Vec::new();
    for (file, text) in &all {
        if file == "paths.rs" {
            continue;
        }
        for (n, line) in shipped(text) {
            for name in &names {
                if line.contains(&format!("\"{name}\"")) {
                    found.push(format!("{file}:{n}: {name}"));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "runtime file names spelled outside paths.rs (ask RuntimeRoot instead):\n{}",
        found.join("\n")
    );
}

/// Lines of shipped code outside `except` that contain any of `needles`, as `file:line: text`.
fn shipped_uses(needles: &[&str], except: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (file, text) in sources() {
        if except.contains(&file.as_str()) {
            continue;
        }
        for (n, line) in shipped(&text) {
            if needles.iter().any(|needle| line.contains(needle)) {
                found.push(format!("{file}:{n}: {}", line.trim()));
            }
        }
    }
    found
}

#[test]
fn every_now_comes_from_the_clock() {
    // ids.rs reads the time only as entropy when the OS random source fails, not as "now".
    let found = shipped_uses(
        &["Utc::now(", "SystemTime::now(", "Local::now("],
        &["clock.rs", "ids.rs"],
    );
    assert!(
        found.is_empty(),
        "read the time from the command's Clock (tests pin it):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_reference_time_shapes_live_only_in_pyfmt() {
    let found = shipped_uses(&["to_rfc3339", "SecondsFormat"], &["pyfmt.rs"]);
    assert!(
        found.is_empty(),
        "format timestamps with crate::pyfmt (Python's isoformat shapes, once):\n{}",
        found.join("\n")
    );
}

#[test]
fn sync_failures_map_to_codes_without_a_default_arm() {
    // The compiler proves the mapping exhaustive only while no arm catches the rest.
    let all = sources();
    let error_rs = &all.iter().find(|(f, _)| f == "sync/error.rs").unwrap().1;
    let defaults: Vec<usize> = shipped(error_rs)
        .filter(|(_, l)| l.trim_start().starts_with("_ =>"))
        .map(|(n, _)| n)
        .collect();
    assert!(
        defaults.is_empty(),
        "sync/error.rs has default arms at lines {defaults:?}"
    );
}
