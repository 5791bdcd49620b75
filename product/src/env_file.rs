//! Operator env files (`.kitty.env`), loaded once at start and folded into the [`Env`] snapshot,
//! as the reference loads them before anything else.
//!
//! Two tiers: the home tier (`$SPEC_KITTY_HOME/.kitty.env`, or the file named by a top-level
//! `env_file:` line of the repository's `.kittify/config.yaml`, `${VAR}`/`$VAR` and `~` expanded)
//! and the repository tier (`<repo>/.kittify/.kitty.env`, the repository being the nearest
//! ancestor of the working directory with a `.kittify` directory or a `.git`). The repository tier
//! wins over the home tier, and the real environment wins over both (a variable set to the empty
//! string counts as set). A file's `SPEC_KITTY_HOME` line is ignored: the locator cannot be
//! redefined by the file it locates. A missing file is normal; a file that exists but cannot be
//! read is an error.
//!
//! ```
//! use spec_kitty::{env::{Env, VarSource}, env_file};
//! let dir = tempfile::tempdir().unwrap();
//! let root = dir.path().join("root");
//! std::fs::create_dir_all(&root).unwrap();
//! std::fs::write(root.join(".kitty.env"), "export SPEC_KITTY_ENABLE_SAAS_SYNC=1\nNO_COLOR='x'\n").unwrap();
//! let env = Env::from_pairs([("SPEC_KITTY_HOME", root.to_str().unwrap()), ("NO_COLOR", "")]);
//! let env = env_file::fold(env, dir.path()).unwrap();
//! assert!(env.is_truthy("SPEC_KITTY_ENABLE_SAAS_SYNC"));
//! assert_eq!(env.get("NO_COLOR"), Some(""), "the process environment wins");
//! assert_eq!(env.source("SPEC_KITTY_ENABLE_SAAS_SYNC"), VarSource::File(root.join(".kitty.env")));
//! ```

use std::path::{Path, PathBuf};

use crate::env::{Env, EnvFileReport, EnvFileTier, vars};

/// The file name of both tiers (`<root>/.kitty.env` by default, `<repo>/.kittify/.kitty.env`).
pub use crate::paths::KITTY_ENV_FILE as FILE_NAME;

/// An operator env file exists but cannot be used.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot read the operator env file {path}: {reason}; fix it (or remove it) and run the command again"
)]
pub struct EnvFileError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong.
    pub reason: String,
    /// The snapshot before any file was folded in (so the caller can still report the error).
    pub env: Box<Env>,
}

/// Parse `KEY=VALUE` lines as the reference does: blank lines and `#` comments skipped, an
/// `export ` prefix dropped, one layer of matching quotes stripped, no interpolation; a line
/// without `=` or with an invalid key is skipped.
///
/// ```
/// let pairs = spec_kitty::env_file::parse("# c\nexport A=\"1\"\nbad line\n2X=3\nB = two words \n");
/// assert_eq!(pairs, vec![("A".to_string(), "1".to_string()), ("B".to_string(), "two words".to_string())]);
/// ```
pub fn parse(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for raw in text.lines() {
        // Blank lines and lines without `=` are skipped below, and so are comments: a key never
        // starts with `#`.
        let mut line = raw.trim();
        if let Some(rest) = line.strip_prefix("export ") {
            line = rest.trim();
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        let valid = key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            continue;
        }
        let value = strip_quotes(value.trim()).to_string();
        match out.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => out.push((key.to_string(), value)),
        }
    }
    out
}

fn strip_quotes(v: &str) -> &str {
    let b = v.as_bytes();
    if b.len() >= 2 && b[0] == b[b.len() - 1] && (b[0] == b'"' || b[0] == b'\'') {
        &v[1..v.len() - 1]
    } else {
        v
    }
}

/// The nearest ancestor of `start` (itself included) with a `.kittify` directory or a `.git`.
pub fn find_repo_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|a| a.join(".kittify").is_dir() || a.join(".git").exists())
        .map(Path::to_path_buf)
}

/// The top-level `env_file:` value of `<repo>/.kittify/config.yaml`, read as the reference does
/// (a line scan, not a YAML parse): an unindented `env_file:` line, a trailing ` #` comment and
/// one layer of quotes removed.
fn config_pointer(repo: &Path) -> Option<String> {
    let text = std::fs::read_to_string(repo.join(".kittify").join("config.yaml")).ok()?;
    text.lines().find_map(|line| {
        let value = line.strip_prefix("env_file:")?.trim();
        let value = value.split(" #").next().unwrap_or_default().trim();
        let value = strip_quotes(value);
        (!value.is_empty()).then(|| value.to_string())
    })
}

/// Expand `${VAR}` and `$VAR` from `env` (with `SPEC_KITTY_HOME` defaulting to `home_default`),
/// then a leading `~`. A variable that is not set is an error.
fn expand(raw: &str, env: &Env, home_default: &Path) -> Result<String, String> {
    let lookup = |name: &str| -> Option<String> {
        match env.get(name) {
            Some(v) => Some(v.to_string()),
            None if name == vars::SPEC_KITTY_HOME => {
                Some(home_default.to_string_lossy().into_owned())
            }
            None => None,
        }
    };
    let mut out = String::new();
    let mut rest = raw;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, len) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => return Err(format!("unterminated `${{` in {raw:?}")),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        if name.is_empty() {
            out.push('$');
            rest = after;
            continue;
        }
        let value = lookup(name)
            .ok_or_else(|| format!("`env_file: {raw}` uses ${name}, which is not set"))?;
        out.push_str(&value);
        rest = &after[len..];
    }
    out.push_str(rest);
    if let Some(tail) = out.strip_prefix('~')
        && (tail.is_empty() || tail.starts_with('/'))
        && let Some(home) = env.non_empty(vars::HOME)
    {
        out = format!("{home}{tail}");
    }
    Ok(out)
}

/// Read one tier: `Ok(None)` when the file does not exist.
fn read_tier(path: &Path) -> Result<Option<Vec<(String, String)>>, String> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(|text| Some(parse(&text)))
            .map_err(|_| "it is not UTF-8".to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// Fold the operator env files seen from `cwd` into `env` (see the module docs).
pub fn fold(env: Env, cwd: &Path) -> Result<Env, EnvFileError> {
    let fail = |path: &Path, reason: String, env: &Env| EnvFileError {
        path: path.to_path_buf(),
        reason,
        env: Box::new(env.clone()),
    };
    let repo = find_repo_root(cwd);
    let mut tiers: Vec<(EnvFileTier, PathBuf)> = Vec::new();
    // Without a resolvable runtime root there is no default home tier; the command reports the
    // root error itself.
    if let Ok(root) = crate::paths::RuntimeRoot::resolve(&env) {
        let raw = repo
            .as_deref()
            .and_then(config_pointer)
            .unwrap_or_else(|| format!("${{{}}}/{FILE_NAME}", vars::SPEC_KITTY_HOME));
        let config = repo
            .as_deref()
            .map(|r| r.join(".kittify").join("config.yaml"))
            .unwrap_or_default();
        let path = expand(&raw, &env, root.base()).map_err(|reason| fail(&config, reason, &env))?;
        tiers.push((EnvFileTier::Home, PathBuf::from(path)));
    }
    if let Some(repo) = &repo {
        tiers.push((
            EnvFileTier::Repository,
            repo.join(".kittify").join(FILE_NAME),
        ));
    }
    let mut merged: Vec<(String, String, usize)> = Vec::new();
    let mut reports = Vec::new();
    for (tier, path) in tiers {
        let pairs = read_tier(&path).map_err(|reason| fail(&path, reason, &env))?;
        let index = reports.len();
        let mut report = EnvFileReport {
            tier,
            path: path.clone(),
            present: pairs.is_some(),
            applied: Vec::new(),
            ignored: Vec::new(),
        };
        for (key, value) in pairs.unwrap_or_default() {
            if key == vars::SPEC_KITTY_HOME {
                report.ignored.push(key);
                continue;
            }
            match merged.iter_mut().find(|(k, _, _)| *k == key) {
                Some(slot) => *slot = (key, value, index),
                None => merged.push((key, value, index)),
            }
        }
        reports.push(report);
    }
    let mut env = env;
    for (key, value, index) in merged {
        if env.get(&key).is_some() {
            continue;
        }
        reports[index].applied.push(key.clone());
        env.set_from_file(key, value, reports[index].path.clone());
    }
    env.set_env_files(reports);
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parse_follows_the_reference_line_grammar() {
        let text = "# comment\n# X=1\n#Y=2\n\n  export A=\"1\"\nbad line\n2X=3\nB = two words \nC='q'\nD=\"half\nE='\nF=\"x'\n_G9=\nA=again\n=v\nH-I=1\n";
        assert_eq!(
            parse(text),
            pairs(&[
                ("A", "again"),
                ("B", "two words"),
                ("C", "q"),
                ("D", "\"half"),
                ("E", "'"),
                ("F", "\"x'"),
                ("_G9", "")
            ])
        );
        assert!(parse("").is_empty());
        assert_eq!(parse("exportX=1\n"), pairs(&[("exportX", "1")]));
        assert_eq!(strip_quotes("\"\""), "");
        assert_eq!(strip_quotes("'a'"), "a");
        assert_eq!(strip_quotes("\"a'"), "\"a'");
    }

    #[test]
    fn expand_substitutes_variables_and_a_leading_tilde() {
        let env = Env::from_pairs([("HOME", "/home/ada"), ("X", "ex"), ("EMPTY", "")]);
        let home = Path::new("/kitty-home");
        let ok = |raw: &str| expand(raw, &env, home).unwrap();
        assert_eq!(ok("${X}/a/$X.env"), "ex/a/ex.env");
        assert_eq!(ok("$SPEC_KITTY_HOME/.kitty.env"), "/kitty-home/.kitty.env");
        assert_eq!(ok("~/k.env"), "/home/ada/k.env");
        assert_eq!(ok("~"), "/home/ada");
        assert_eq!(ok("~ada/k.env"), "~ada/k.env", "only ~ and ~/ are the home");
        assert_eq!(ok("a$/b$"), "a$/b$", "a lone $ stays");
        assert_eq!(ok("pre${EMPTY}post"), "prepost");
        assert_eq!(ok("plain"), "plain");
        assert!(
            expand("${X", &env, home)
                .unwrap_err()
                .contains("unterminated")
        );
        assert!(
            expand("$NOPE/x", &env, home)
                .unwrap_err()
                .contains("$NOPE, which is not set")
        );
        let no_home = Env::from_pairs([("SPEC_KITTY_HOME", "/set")]);
        assert_eq!(expand("~/k", &no_home, home).unwrap(), "~/k");
        assert_eq!(expand("$SPEC_KITTY_HOME", &no_home, home).unwrap(), "/set");
    }

    #[test]
    fn the_config_pointer_is_an_unindented_env_file_line() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path();
        assert_eq!(config_pointer(repo), None, "no config");
        std::fs::create_dir(repo.join(".kittify")).unwrap();
        let write = |text: &str| std::fs::write(repo.join(".kittify/config.yaml"), text).unwrap();
        write("project:\n  env_file: nested\nenv_file: \"~/ops.env\" # operator file\n");
        assert_eq!(config_pointer(repo).as_deref(), Some("~/ops.env"));
        write("env_file:   \nenv_file: second\n");
        assert_eq!(
            config_pointer(repo).as_deref(),
            Some("second"),
            "an empty value is skipped"
        );
        write("  env_file: indented\n");
        assert_eq!(config_pointer(repo), None);
        assert_eq!(find_repo_root(&repo.join("a/b")).as_deref(), Some(repo));
    }
}
