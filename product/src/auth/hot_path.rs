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
use crate::paths::{HotPathFiles, SessionFiles};

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

    /// True when the access token has expired: at its expiry instant it no longer is valid.
    pub fn access_expired(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.access_token_expires_at.0 <= now
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
    HotPathFiles::in_dir(dir).summary
}

/// Publish the summary of `session` for the store in `dir` (call with the store lock held, after
/// `session.json` was written or read). Best effort: a failure only means a later cache miss.
pub fn publish(dir: &Path, session: &Session, now: f64) {
    let Some(fingerprint) = Fingerprint::of(&SessionFiles::in_dir(dir).session) else {
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
    let Ok(text) = crate::pyfmt::to_python_json(&file) else {
        return;
    };
    let target = path_in(dir);
    let tmp = HotPathFiles::in_dir(dir).tmp;
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
    let fingerprint = Fingerprint::of(&SessionFiles::in_dir(dir).session)?;
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
    for path in [path_in(dir), HotPathFiles::in_dir(dir).tmp] {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// A store directory with a `session.json`, and the summary published for it at `t0`.
    fn published(t0: f64) -> (tempfile::TempDir, Session) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(SessionFiles::in_dir(dir.path()).session, "{}").unwrap();
        let mut session = crate::auth::session::tests::session();
        session.refresh_token_expires_at = Some(session.access_token_expires_at);
        publish(dir.path(), &session, t0);
        (dir, session)
    }

    fn rewrite(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path_in(dir)).unwrap()).unwrap();
        edit(&mut v);
        std::fs::write(path_in(dir), v.to_string()).unwrap();
    }

    #[test]
    fn tokens_expire_at_their_expiry_instant() {
        let mut summary = Summary::from(&crate::auth::session::tests::session());
        let at = summary.access_token_expires_at.0;
        let second = chrono::Duration::seconds(1);
        assert!(!summary.access_expired(at - second));
        assert!(
            summary.access_expired(at),
            "valid until, not through, its expiry"
        );
        summary.refresh_token_expires_at = Some(Timestamp(at));
        assert!(!summary.refresh_expired(at - second));
        assert!(summary.refresh_expired(at));
        summary.refresh_token_expires_at = None;
        assert!(
            !summary.refresh_expired(at + second),
            "unknown: not known to be expired"
        );
    }

    #[test]
    fn a_summary_is_valid_for_30_seconds_for_the_same_session_file_only() {
        let t0 = 1_800_000_000.0;
        let (dir, session) = published(t0);
        let dir = dir.path();
        let text = std::fs::read_to_string(path_in(dir)).unwrap();
        assert!(!text.contains("SECRET"), "never a token: {text}");
        assert!(
            text.starts_with("{\"durable_fingerprint\": {\"inode\": "),
            "sorted keys, Python spacing: {text}"
        );
        let hit = load(dir, t0 + 29.5).expect("valid within 30 s");
        assert_eq!(
            hit.refresh_token_expires_at,
            session.refresh_token_expires_at
        );
        assert_eq!(hit.summary, Some(Summary::from(&session)));
        assert_eq!(
            hit.summary.unwrap().private_team().map(|t| t.id.as_str()),
            Some("t-1")
        );
        assert!(load(dir, t0).is_some());
        assert!(load(dir, t0 + 30.5).is_none(), "too old");
        assert!(load(dir, t0 - 1.0).is_none(), "from the future");
        rewrite(dir, |v| v["max_age_seconds"] = 10.0.into());
        assert!(
            load(dir, t0 + 15.0).is_none(),
            "the file's own shorter maximum age"
        );
        assert!(load(dir, t0 + 5.0).is_some());
        rewrite(dir, |v| v["max_age_seconds"] = 300.0.into());
        assert!(load(dir, t0 + 60.0).is_none(), "never longer than 30 s");
        rewrite(dir, |v| v["schema_version"] = 2.into());
        assert!(load(dir, t0).is_none(), "another schema");
        rewrite(dir, |v| v["schema_version"] = 1.into());
        assert!(load(dir, t0).is_some());
        std::fs::write(SessionFiles::in_dir(dir).session, "{ }").unwrap();
        assert!(load(dir, t0).is_none(), "session.json changed");
    }

    #[test]
    fn the_summary_is_dropped_when_it_disagrees_with_the_reference_field() {
        let t0 = 1_800_000_000.0;
        let (dir, _) = published(t0);
        let dir = dir.path();
        rewrite(dir, |v| v["refresh_token_expires_at"] = "".into());
        let hit = load(dir, t0).unwrap();
        assert_eq!((hit.refresh_token_expires_at, hit.summary), (None, None));
        rewrite(dir, |v| v["refresh_token_expires_at"] = "not a time".into());
        assert!(load(dir, t0).is_none());
        rewrite(dir, |v| {
            v["refresh_token_expires_at"] = serde_json::Value::Null;
            v.as_object_mut().unwrap().remove("kitty_summary");
        });
        assert_eq!(
            load(dir, t0),
            Some(HotPath {
                refresh_token_expires_at: None,
                summary: None
            })
        );
    }

    #[test]
    fn invalidate_removes_the_summary_and_its_temporary_file() {
        let (dir, _) = published(1.0);
        let dir = dir.path();
        std::fs::write(HotPathFiles::in_dir(dir).tmp, "x").unwrap();
        invalidate(dir).unwrap();
        assert!(!path_in(dir).exists() && !HotPathFiles::in_dir(dir).tmp.exists());
        invalidate(dir).expect("nothing to remove is fine");
        std::fs::create_dir(path_in(dir)).unwrap();
        assert!(
            invalidate(dir).is_err(),
            "a summary that cannot be removed is reported"
        );
        std::fs::remove_dir(path_in(dir)).unwrap();
        use std::os::unix::fs::PermissionsExt;
        publish(dir, &crate::auth::session::tests::session(), 1.0);
        let mode = std::fs::metadata(path_in(dir))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn nothing_is_published_or_loaded_without_a_session_file() {
        let dir = tempfile::tempdir().unwrap();
        publish(dir.path(), &crate::auth::session::tests::session(), 1.0);
        assert!(!path_in(dir.path()).exists());
        assert!(load(dir.path(), 1.0).is_none());
    }
}
