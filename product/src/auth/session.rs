//! The auth session model (**interop**: the reference `StoredSession` JSON, key order preserved).

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A timestamp read with any UTC offset and written in UTC as `2026-11-27T12:00:00+00:00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    /// Parse an ISO 8601 timestamp with an offset (`Z` or `+hh:mm`).
    pub fn parse(s: &str) -> Result<Self, chrono::ParseError> {
        DateTime::<FixedOffset>::parse_from_rfc3339(s).map(|t| Self(t.with_timezone(&Utc)))
    }

    /// The reference's `isoformat()` rendering in UTC: `+00:00` (not `Z`), and Python's
    /// microsecond precision: six fractional digits when the microseconds are not zero, none
    /// otherwise (finer digits are dropped, as Python cannot hold them).
    ///
    /// ```
    /// use spec_kitty::auth::session::Timestamp;
    /// let t = Timestamp::parse("2026-11-29T12:00:00.123456789Z").unwrap();
    /// assert_eq!(t.to_iso(), "2026-11-29T12:00:00.123456+00:00");
    /// let t = Timestamp::parse("2026-11-29T12:00:00.000000400Z").unwrap();
    /// assert_eq!(t.to_iso(), "2026-11-29T12:00:00+00:00");
    /// ```
    pub fn to_iso(&self) -> String {
        crate::pyfmt::isoformat(self.0)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_iso())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).map_err(|e| {
            serde::de::Error::custom(format!(
                "timestamp {s:?} is not ISO 8601 with an offset: {e}"
            ))
        })
    }
}

/// How the session was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// Browser authorization code flow.
    AuthorizationCode,
    /// OAuth device authorization (RFC 8628).
    DeviceCode,
}

/// A team the user belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    /// Team id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The user's role in the team.
    pub role: String,
    /// Whether this is the user's private teamspace.
    #[serde(default)]
    pub is_private_teamspace: bool,
    /// URL slug; the reference defaults it to the id.
    #[serde(default)]
    pub slug: String,
}

impl Team {
    /// The session's teams of a `/api/v1/me` answer.
    pub(crate) fn from_wire(teams: Vec<crate::saas::wire::Team>) -> Vec<Self> {
        teams
            .into_iter()
            .map(|t| Self {
                id: t.id,
                name: t.name,
                role: t.role,
                is_private_teamspace: t.is_private_teamspace,
                slug: t.slug,
            })
            .collect()
    }

    fn fill_defaults(&mut self) {
        if self.slug.is_empty() {
            self.slug = self.id.clone();
        }
    }
}

/// The stored session (**interop**: keys in the reference's order).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// User id.
    pub user_id: String,
    /// User email.
    pub email: String,
    /// User display name.
    pub name: String,
    /// Teams, in the server's order.
    pub teams: Vec<Team>,
    /// The default team (the private team when there is one).
    pub default_team_id: Option<String>,
    /// Bearer token for API calls. Never logged or printed.
    pub access_token: String,
    /// Refresh token. Never logged or printed.
    pub refresh_token: String,
    /// Server-side session id.
    pub session_id: Option<String>,
    /// When the session was issued.
    pub issued_at: Timestamp,
    /// When the access token expires.
    pub access_token_expires_at: Timestamp,
    /// When the refresh token expires, if known.
    pub refresh_token_expires_at: Option<Timestamp>,
    /// Granted scope.
    pub scope: String,
    /// Always `"file"` for this store.
    pub storage_backend: String,
    /// Last use.
    pub last_used_at: Timestamp,
    /// How the session was obtained.
    pub auth_method: AuthMethod,
    /// Server-side generation counter.
    pub generation: Option<i64>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("user_id", &self.user_id)
            .field("email", &self.email)
            .field("teams", &self.teams)
            .field("default_team_id", &self.default_team_id)
            .field("access_token", &"<redacted>")
            .field("refresh_token", &"<redacted>")
            .field("access_token_expires_at", &self.access_token_expires_at)
            .field("refresh_token_expires_at", &self.refresh_token_expires_at)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Parse the reference JSON, filling the reference defaults.
    pub fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        let mut s: Session = serde_json::from_slice(bytes)?;
        s.teams.iter_mut().for_each(Team::fill_defaults);
        Ok(s)
    }

    /// Serialize exactly as the reference `StoredSession.to_json()` does.
    pub fn to_json(&self) -> String {
        crate::pyfmt::to_python_json(self).unwrap_or_default()
    }

    /// The private team: the first team with `is_private_teamspace`. Never a shared team.
    ///
    /// ```
    /// # use spec_kitty::auth::session::Team;
    /// let teams = vec![
    ///     Team { id: "s".into(), name: "S".into(), role: "member".into(), is_private_teamspace: false, slug: "s".into() },
    /// ];
    /// assert!(spec_kitty::auth::session::private_team(&teams).is_none());
    /// ```
    pub fn private_team(&self) -> Option<&Team> {
        private_team(&self.teams)
    }

    /// Replace the teams and re-pick the default team (private team first, else the first team).
    pub fn set_teams(&mut self, teams: Vec<Team>) {
        self.teams = teams;
        self.teams.iter_mut().for_each(Team::fill_defaults);
        self.default_team_id = default_team(&self.teams).map(|t| t.id.clone());
    }

    /// True when the access token expires within `margin` of `now`.
    pub fn access_expires_within(&self, now: DateTime<Utc>, margin: chrono::Duration) -> bool {
        self.access_token_expires_at.0 <= now + margin
    }

    /// True when the refresh token is known to have expired.
    pub fn refresh_expired(&self, now: DateTime<Utc>) -> bool {
        self.refresh_token_expires_at.is_some_and(|t| t.0 <= now)
    }
}

/// The refresh-token expiry a token answer gives, as the reference resolves it: an absolute
/// `refresh_token_expires_at` first, then `refresh_token_expires_in` seconds from `now`, else
/// `fallback`. An absolute value that is not ISO 8601 is an error.
///
/// ```
/// use spec_kitty::auth::session::{Timestamp, refresh_expiry};
/// let now = Timestamp::parse("2026-11-29T12:00:00+00:00").unwrap().0;
/// let abs = refresh_expiry(Some("2026-12-29T12:00:00Z"), Some(60), now, None).unwrap();
/// assert_eq!(abs.unwrap().to_iso(), "2026-12-29T12:00:00+00:00");
/// let rel = refresh_expiry(None, Some(60), now, None).unwrap();
/// assert_eq!(rel.unwrap().to_iso(), "2026-11-29T12:01:00+00:00");
/// assert!(refresh_expiry(Some("tomorrow"), None, now, None).is_err());
/// ```
pub fn refresh_expiry(
    absolute: Option<&str>,
    relative_secs: Option<i64>,
    now: DateTime<Utc>,
    fallback: Option<Timestamp>,
) -> Result<Option<Timestamp>, String> {
    if let Some(at) = absolute.filter(|s| !s.is_empty()) {
        return Timestamp::parse(at).map(Some).map_err(|e| {
            format!("refresh_token_expires_at {at:?} is not an ISO 8601 timestamp ({e})")
        });
    }
    if let Some(secs) = relative_secs {
        return Ok(Some(Timestamp(now + chrono::Duration::seconds(secs))));
    }
    Ok(fallback)
}

/// The first private team of `teams`.
pub fn private_team(teams: &[Team]) -> Option<&Team> {
    teams.iter().find(|t| t.is_private_teamspace)
}

/// The default team of `teams`: the private team, else the first team.
pub fn default_team(teams: &[Team]) -> Option<&Team> {
    private_team(teams).or_else(|| teams.first())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A session with a private team and tokens containing `SECRET` (for other modules' tests).
    pub(crate) fn session() -> Session {
        Session::from_json(
            br#"{"user_id": "u-1", "email": "ada@example.com", "name": "Ada",
                "teams": [{"id": "t-1", "name": "T", "role": "owner", "is_private_teamspace": true}],
                "default_team_id": "t-1", "access_token": "access-SECRET", "refresh_token": "refresh-SECRET",
                "session_id": "s-1", "issued_at": "2026-11-29T12:00:00+00:00",
                "access_token_expires_at": "2026-11-29T13:00:00+00:00", "refresh_token_expires_at": null,
                "scope": "offline_access", "storage_backend": "file",
                "last_used_at": "2026-11-29T12:00:00+00:00", "auth_method": "device_code", "generation": null}"#,
        )
        .unwrap()
    }

    #[test]
    fn a_team_without_a_slug_takes_its_id() {
        assert_eq!(session().teams[0].slug, "t-1");
    }

    #[test]
    fn debug_shows_the_fields_and_never_the_tokens() {
        let text = format!("{:?}", session());
        for shown in [
            "u-1",
            "ada@example.com",
            "t-1",
            "<redacted>",
            "2026-11-29T13:00:00",
        ] {
            assert!(text.contains(shown), "{shown} missing from {text}");
        }
        assert!(!text.contains("SECRET"), "{text}");
    }

    #[test]
    fn a_refresh_token_is_expired_only_past_a_known_expiry() {
        let mut s = session();
        let now = s.issued_at.0;
        assert!(
            !s.refresh_expired(now),
            "unknown expiry: not known to be expired"
        );
        s.refresh_token_expires_at = Some(Timestamp(now - chrono::Duration::seconds(1)));
        assert!(s.refresh_expired(now));
        s.refresh_token_expires_at = Some(Timestamp(now + chrono::Duration::seconds(60)));
        assert!(!s.refresh_expired(now));
    }

    #[test]
    fn an_access_token_about_to_expire_is_refreshed_early() {
        let s = session();
        let expires = s.access_token_expires_at.0;
        let margin = chrono::Duration::seconds(5);
        assert!(s.access_expires_within(expires - chrono::Duration::seconds(3), margin));
        assert!(!s.access_expires_within(expires - chrono::Duration::seconds(10), margin));
        assert!(s.access_expires_within(expires, chrono::Duration::zero()));
    }
}
