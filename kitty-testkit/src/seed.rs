//! Sessions seeded through the product's own encrypted store, and deliberately broken ones.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{Duration, Utc};
use spec_kitty::auth::session::{AuthMethod, Session, Team, Timestamp};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A token that is unique in this test process, so leak checks can look for it.
pub(crate) fn unique_token(kind: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("kitty-secret-{kind}-{}-{n}-{nanos:x}", std::process::id())
}

/// A team for seeds and for [`FakeSaas`](crate::FakeSaas) membership answers.
///
/// ```
/// let t = kitty_testkit::team("team-private", true);
/// assert!(t.is_private_teamspace);
/// assert_eq!(t.slug, "team-private");
/// ```
pub fn team(id: &str, private: bool) -> Team {
    Team {
        id: id.to_string(),
        name: format!("Team {id}"),
        role: if private { "owner" } else { "member" }.to_string(),
        is_private_teamspace: private,
        slug: id.to_string(),
    }
}

/// A session to seed into an [`IsolatedHome`](crate::IsolatedHome).
///
/// Seeds never take a path: [`IsolatedHome::seed`](crate::IsolatedHome::seed) writes them through
/// the product's store at `runtime_root().auth_dir()`.
///
/// ```
/// use kitty_testkit::SessionSeed;
/// let s = SessionSeed::shared_only().build();
/// assert!(s.private_team().is_none());
/// let p = SessionSeed::with_private_team().access_expired().build();
/// assert_eq!(p.default_team_id.as_deref(), Some("team-private"));
/// assert!(p.access_token_expires_at.0 < chrono::Utc::now());
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct SessionSeed {
    teams: Vec<Team>,
    access_ttl: Duration,
    refresh_ttl: Option<Duration>,
    access_token: String,
    refresh_token: String,
    email: String,
}

impl SessionSeed {
    fn with_teams(teams: Vec<Team>) -> Self {
        Self {
            teams,
            access_ttl: Duration::hours(1),
            refresh_ttl: Some(Duration::days(30)),
            access_token: unique_token("access"),
            refresh_token: unique_token("refresh"),
            email: "ada@example.com".into(),
        }
    }

    /// Member of one shared team only: no private teamspace.
    pub fn shared_only() -> Self {
        Self::with_teams(vec![team("team-shared", false)])
    }

    /// Member of a shared team and owner of a private teamspace.
    pub fn with_private_team() -> Self {
        Self::with_teams(vec![team("team-shared", false), team("team-private", true)])
    }

    /// Replace the teams.
    pub fn teams(mut self, teams: Vec<Team>) -> Self {
        self.teams = teams;
        self
    }

    /// The access token expired a minute ago (the refresh token is still valid).
    pub fn access_expired(mut self) -> Self {
        self.access_ttl = Duration::minutes(-1);
        self
    }

    /// The refresh token expired a minute ago (the session is unusable).
    pub fn refresh_expired(mut self) -> Self {
        self.access_ttl = Duration::minutes(-2);
        self.refresh_ttl = Some(Duration::minutes(-1));
        self
    }

    /// Use a specific email.
    pub fn email(mut self, email: &str) -> Self {
        self.email = email.into();
        self
    }

    /// The access token this seed writes.
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// The refresh token this seed writes.
    pub fn refresh_token(&self) -> &str {
        &self.refresh_token
    }

    /// The session, timed from now.
    pub fn build(&self) -> Session {
        let now = Timestamp(Utc::now());
        let mut session = Session {
            user_id: "user-ada".into(),
            email: self.email.clone(),
            name: "Ada Lovelace".into(),
            teams: Vec::new(),
            default_team_id: None,
            access_token: self.access_token.clone(),
            refresh_token: self.refresh_token.clone(),
            session_id: Some("sess-kitty".into()),
            issued_at: now,
            access_token_expires_at: Timestamp(now.0 + self.access_ttl),
            refresh_token_expires_at: self.refresh_ttl.map(|d| Timestamp(now.0 + d)),
            scope: "offline_access".into(),
            storage_backend: "file".into(),
            last_used_at: now,
            auth_method: AuthMethod::DeviceCode,
            generation: Some(1),
        };
        session.set_teams(self.teams.clone());
        session
    }
}

/// A deliberately broken store, for negative tests. Each starts from a valid seeded session and
/// breaks one thing.
///
/// ```
/// assert_eq!(kitty_testkit::BrokenSeed::ALL.len(), 7);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokenSeed {
    /// The session file is readable by group and others (0644).
    WorldReadable,
    /// The blob says `"version": 3`.
    WrongVersion,
    /// One byte of the ciphertext is flipped.
    TamperedCiphertext,
    /// The session file is cut in half.
    Truncated,
    /// The session file is not JSON at all.
    NotJson,
    /// The salt file is gone.
    MissingSalt,
    /// The salt file holds 8 bytes instead of 16.
    ShortSalt,
}

impl BrokenSeed {
    /// Every variant.
    pub const ALL: [BrokenSeed; 7] = [
        Self::WorldReadable,
        Self::WrongVersion,
        Self::TamperedCiphertext,
        Self::Truncated,
        Self::NotJson,
        Self::MissingSalt,
        Self::ShortSalt,
    ];

    /// A phrase the product's refusal message contains for this breakage.
    pub fn expected_message(&self) -> &'static str {
        match self {
            Self::WorldReadable => "chmod 600",
            Self::WrongVersion => "format version 3",
            Self::TamperedCiphertext => "could not be decrypted",
            Self::Truncated | Self::NotJson => "not a valid session blob",
            Self::MissingSalt => "salt",
            Self::ShortSalt => "8 bytes long",
        }
    }

    pub(crate) fn apply(&self, files: &spec_kitty::auth::store::SessionFiles) {
        let blob = || std::fs::read_to_string(&files.session).expect("seeded session file");
        match self {
            Self::WorldReadable => set_mode(&files.session, 0o644),
            Self::WrongVersion => {
                let text = blob().replacen("\"version\": 2", "\"version\": 3", 1);
                std::fs::write(&files.session, text).expect("rewrite session");
            }
            Self::TamperedCiphertext => {
                let mut v: serde_json::Value =
                    serde_json::from_str(&blob()).expect("seeded blob is JSON");
                let ct = v["ciphertext"].as_str().unwrap_or_default().to_string();
                let flipped = match ct.chars().next() {
                    Some('0') => format!("1{}", &ct[1..]),
                    _ => format!("0{}", &ct[1..]),
                };
                v["ciphertext"] = flipped.into();
                std::fs::write(&files.session, v.to_string()).expect("rewrite session");
            }
            Self::Truncated => {
                let text = blob();
                std::fs::write(&files.session, &text[..text.len() / 2]).expect("truncate");
            }
            Self::NotJson => std::fs::write(&files.session, b"\x00\x01not json").expect("write"),
            Self::MissingSalt => std::fs::remove_file(&files.salt).expect("remove salt"),
            Self::ShortSalt => std::fs::write(&files.salt, [7u8; 8]).expect("write salt"),
        }
    }
}

pub(crate) fn set_mode(path: &std::path::Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .expect("set permissions");
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_timed_from_now_and_carry_their_own_tokens() {
        let now = Utc::now();
        let s = SessionSeed::with_private_team();
        let built = s.build();
        assert_eq!(
            (built.access_token.as_str(), built.refresh_token.as_str()),
            (s.access_token(), s.refresh_token())
        );
        assert_ne!(s.access_token(), s.refresh_token());
        let ahead = built.access_token_expires_at.0 - now;
        assert!(
            ahead > Duration::minutes(59) && ahead <= Duration::hours(1) + Duration::seconds(5),
            "{ahead}"
        );
        let refresh = built.refresh_token_expires_at.unwrap().0 - now;
        assert!(refresh > Duration::days(29), "{refresh}");
        assert_eq!(built.default_team_id.as_deref(), Some("team-private"));
        assert_eq!(built.email, "ada@example.com");

        let expired = s.clone().access_expired().build();
        assert!(
            expired.access_token_expires_at.0 < now
                && expired.refresh_token_expires_at.unwrap().0 > now
        );
        let dead = s.clone().refresh_expired().build();
        assert!(dead.access_token_expires_at.0 < dead.refresh_token_expires_at.unwrap().0);
        assert!(dead.refresh_token_expires_at.unwrap().0 < now);

        let other = SessionSeed::shared_only()
            .email("grace@example.com")
            .teams(vec![team("t1", false)])
            .build();
        assert_eq!(other.email, "grace@example.com");
        assert_eq!(
            other
                .teams
                .iter()
                .map(|t| t.id.as_str())
                .collect::<Vec<_>>(),
            ["t1"]
        );
        assert!(other.private_team().is_none());
    }

    #[test]
    fn teams_and_tokens_have_the_expected_shape() {
        let private = team("p", true);
        let shared = team("s", false);
        assert_eq!(
            (private.role.as_str(), shared.role.as_str()),
            ("owner", "member")
        );
        assert_eq!(
            (private.name.as_str(), private.slug.as_str()),
            ("Team p", "p")
        );
        assert!(private.is_private_teamspace && !shared.is_private_teamspace);
        let (a, b) = (unique_token("access"), unique_token("access"));
        assert_ne!(a, b);
        assert!(
            a.starts_with(&format!("kitty-secret-access-{}-", std::process::id())),
            "{a}"
        );
    }

    #[test]
    fn each_breakage_changes_exactly_what_it_says() {
        let dir = tempfile::tempdir().unwrap();
        let files = spec_kitty::auth::store::SessionFiles::in_dir(dir.path());
        let blob = |ct: &str| format!("{{\"version\": 2, \"ciphertext\": \"{ct}\"}}");
        let reset = || {
            std::fs::write(&files.session, blob("0abc")).unwrap();
            std::fs::write(&files.salt, [1u8; 16]).unwrap();
        };
        let read = || std::fs::read_to_string(&files.session).unwrap();
        let ciphertext =
            || serde_json::from_str::<serde_json::Value>(&read()).unwrap()["ciphertext"].clone();

        reset();
        BrokenSeed::TamperedCiphertext.apply(&files);
        assert_eq!(ciphertext(), "1abc", "a leading 0 becomes 1");
        std::fs::write(&files.session, blob("9abc")).unwrap();
        BrokenSeed::TamperedCiphertext.apply(&files);
        assert_eq!(ciphertext(), "0abc", "anything else becomes 0");

        reset();
        let whole = read();
        BrokenSeed::Truncated.apply(&files);
        assert_eq!(read(), whole[..whole.len() / 2]);

        reset();
        BrokenSeed::WrongVersion.apply(&files);
        assert_eq!(
            read(),
            blob("0abc").replace("\"version\": 2", "\"version\": 3")
        );

        reset();
        BrokenSeed::NotJson.apply(&files);
        assert!(serde_json::from_str::<serde_json::Value>(&read()).is_err());

        reset();
        BrokenSeed::MissingSalt.apply(&files);
        assert!(!files.salt.exists());

        reset();
        BrokenSeed::ShortSalt.apply(&files);
        assert_eq!(std::fs::read(&files.salt).unwrap(), [7u8; 8]);

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            reset();
            BrokenSeed::WorldReadable.apply(&files);
            let mode = std::fs::metadata(&files.session)
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o644);
        }
    }

    #[test]
    fn every_breakage_names_the_refusal_it_expects() {
        let phrases: Vec<&str> = BrokenSeed::ALL
            .iter()
            .map(BrokenSeed::expected_message)
            .collect();
        assert_eq!(
            phrases,
            [
                "chmod 600",
                "format version 3",
                "could not be decrypted",
                "not a valid session blob",
                "not a valid session blob",
                "salt",
                "8 bytes long"
            ]
        );
    }
}
