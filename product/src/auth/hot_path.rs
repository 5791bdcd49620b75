//! `session.hot-path.json` (**interop**: the reference's token-free session summary).
//!
//! Beside the encrypted session the reference keeps a summary that short-lived processes read
//! instead of deriving the key: `{"durable_fingerprint": {"inode", "mtime_ns", "size"},
//! "generated_at": <epoch seconds>, "max_age_seconds": 30.0, "refresh_token_expires_at": <iso or
//! null>, "schema_version": 1}`. It is valid for at most 30 seconds and only while the fingerprint
//! matches `session.json`; anything else is a cache miss and the caller decrypts. kitty adds
//! `kitty_summary` (user, teams and expiries, never a token) so that `auth status` can answer from
//! it; the reference ignores that key, and drops it when it rewrites the file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::session::{Session, Team, Timestamp};

/// The file name inside the store directory.
pub const HOT_PATH_FILE: &str = "session.hot-path.json";
/// The summary's schema version.
pub const SCHEMA_VERSION: i64 = 1;
/// The longest a summary is trusted, in seconds.
pub const MAX_AGE_SECONDS: f64 = 30.0;

/// The session file's identity: a summary is valid only for the exact file it was made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Inode number.
    pub inode: u64,
    /// Modification time in nanoseconds since the epoch.
    pub mtime_ns: i128,
    /// Size in bytes.
    pub size: u64,
}

impl Fingerprint {
    /// The fingerprint of `path` (`None` when it cannot be read, or off Unix).
    pub fn of(path: &Path) -> Option<Self> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let m = std::fs::metadata(path).ok()?;
            Some(Self {
                inode: m.ino(),
                mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
                size: m.size(),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = path;
            None
        }
    }
}

/// Everything `auth status` shows, without a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// User id.
    pub user_id: String,
    /// Email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Teams.
    pub teams: Vec<Team>,
    /// Default team.
    pub default_team_id: Option<String>,
    /// Access token expiry.
    pub access_token_expires_at: Timestamp,
    /// Refresh token expiry, if known.
    pub refresh_token_expires_at: Option<Timestamp>,
}

impl From<&Session> for Summary {
    fn from(s: &Session) -> Self {
        Self {
            user_id: s.user_id.clone(),
            email: s.email.clone(),
            name: s.name.clone(),
            teams: s.teams.clone(),
            default_team_id: s.default_team_id.clone(),
            access_token_expires_at: s.access_token_expires_at,
            refresh_token_expires_at: s.refresh_token_expires_at,
        }
    }
}

impl Summary {
    /// The private team: the first team with `is_private_teamspace`.
    pub fn private_team(&self) -> Option<&Team> {
        super::session::private_team(&self.teams)
    }

    /// True when the refresh token is known to have expired.
    pub fn refresh_expired(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.refresh_token_expires_at.is_some_and(|t| t.0 <= now)
    }
}

/// The file, keys in `sort_keys` order as the reference writes them.
#[derive(Debug, Serialize, Deserialize)]
struct HotPathFile {
    durable_fingerprint: Fingerprint,
    generated_at: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kitty_summary: Option<Summary>,
    max_age_seconds: f64,
    refresh_token_expires_at: Option<String>,
    schema_version: i64,
}

/// The summary file of the store in `dir`.
pub fn path_in(dir: &Path) -> PathBuf {
    dir.join(HOT_PATH_FILE)
}

/// Seconds since the Unix epoch.
pub fn now_epoch() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Publish the summary of `session` for the store in `dir` (call with the store lock held, after
/// `session.json` was written or read). Best effort: a failure only means a later cache miss.
pub fn publish(dir: &Path, session: &Session, now: f64) {
    let Some(fingerprint) = Fingerprint::of(&dir.join("session.json")) else {
        return;
    };
    let file = HotPathFile {
        durable_fingerprint: fingerprint,
        generated_at: now,
        kitty_summary: Some(Summary::from(session)),
        max_age_seconds: MAX_AGE_SECONDS,
        refresh_token_expires_at: session.refresh_token_expires_at.map(|t| t.to_iso()),
        schema_version: SCHEMA_VERSION,
    };
    let Ok(text) = super::to_python_json(&file) else {
        return;
    };
    let target = path_in(dir);
    let tmp = dir.join(format!("{HOT_PATH_FILE}.tmp"));
    let written =
        write_private(&tmp, text.as_bytes()).and_then(|()| std::fs::rename(&tmp, &target));
    if let Err(e) = written {
        tracing::debug!(error = %e, "could not publish the session hot-path summary");
        let _ = std::fs::remove_file(&tmp);
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)?.write_all(bytes)
}

/// What a valid summary says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotPath {
    /// The refresh token's expiry (the reference's field).
    pub refresh_token_expires_at: Option<Timestamp>,
    /// kitty's token-free session summary, when kitty wrote the file.
    pub summary: Option<Summary>,
}

/// The valid summary of the store in `dir` at `now`, as the reference decides validity: the
/// session file exists, the schema is 1, the summary is at most `min(max_age, 30)` seconds old and
/// not from the future, and the fingerprint matches `session.json`. Anything else is `None`.
pub fn load(dir: &Path, now: f64) -> Option<HotPath> {
    let fingerprint = Fingerprint::of(&dir.join("session.json"))?;
    let text = std::fs::read(path_in(dir)).ok()?;
    let file: HotPathFile = serde_json::from_slice(&text).ok()?;
    if file.schema_version != SCHEMA_VERSION {
        return None;
    }
    let age = now - file.generated_at;
    if !(0.0..=file.max_age_seconds.min(MAX_AGE_SECONDS)).contains(&age) {
        return None;
    }
    if file.durable_fingerprint != fingerprint {
        return None;
    }
    let refresh_token_expires_at = match file.refresh_token_expires_at.as_deref() {
        None | Some("") => None,
        Some(t) => Some(Timestamp::parse(t).ok()?),
    };
    let summary = file
        .kitty_summary
        .filter(|s| s.refresh_token_expires_at == refresh_token_expires_at);
    Some(HotPath {
        refresh_token_expires_at,
        summary,
    })
}

/// Remove the summary and its temporary file (logout).
pub fn invalidate(dir: &Path) -> std::io::Result<()> {
    for path in [path_in(dir), dir.join(format!("{HOT_PATH_FILE}.tmp"))] {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
