//! The hosted service's base URL: validated once, and shown only with its credentials redacted.
//!
//! A URL may carry secrets (`https://user:pass@host/` or `?token=...`). Requests use it as given;
//! everything a person or a log can see (errors, `sync status`, diagnostics, traces) uses
//! [`ServiceUrl::redacted`], which replaces the user information with `***` and every query
//! value with `***`.

use std::fmt;

/// Why a service URL is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the spec-kitty service URL {shown} is not usable: {problem}")]
pub struct UrlError {
    /// The URL, redacted.
    pub shown: String,
    /// What is wrong (and what to do).
    pub problem: String,
}

/// A validated `http`/`https` base URL.
///
/// ```
/// use spec_kitty::internals::saas::url::ServiceUrl;
/// let url = ServiceUrl::parse("https://ada:s3cret@kitty.example/base/?token=abc&team=x").unwrap();
/// assert_eq!(url.redacted(), "https://***@kitty.example/base?token=***&team=***");
/// assert_eq!(
///     url.request("/api/v1/me"),
///     "https://ada:s3cret@kitty.example/base/api/v1/me?token=abc&team=x"
/// );
/// assert!(ServiceUrl::parse("ftp://kitty.example").is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceUrl {
    scheme: String,
    userinfo: Option<String>,
    host: String,
    path: String,
    query: Option<String>,
}

impl fmt::Debug for ServiceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for ServiceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl ServiceUrl {
    /// Parse and validate `raw`: an `http` or `https` scheme, a host, no spaces. A fragment is
    /// dropped; a trailing `/` of the path is not significant.
    pub fn parse(raw: &str) -> Result<Self, UrlError> {
        let raw = raw.trim();
        let fail = |problem: &str| UrlError {
            shown: shorten(&redact_raw(raw)),
            problem: problem.to_string(),
        };
        let Some((scheme, rest)) = raw.split_once("://") else {
            return Err(fail(
                "it has no scheme; write it as https://host (or http://127.0.0.1:port)",
            ));
        };
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(fail(&format!(
                "the scheme {scheme:?} is not supported; use https:// (or http://)"
            )));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(fail("it contains spaces or control characters"));
        }
        let rest = rest.split('#').next().unwrap_or_default();
        let (before_query, query) = match rest.split_once('?') {
            Some((b, q)) => (b, Some(q.to_string()).filter(|q| !q.is_empty())),
            None => (rest, None),
        };
        let (authority, path) = match before_query.find('/') {
            Some(i) => (&before_query[..i], &before_query[i..]),
            None => (before_query, ""),
        };
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u.to_string()), h),
            None => (None, authority),
        };
        if host.is_empty() || host.starts_with(':') {
            return Err(fail("it has no host"));
        }
        Ok(Self {
            scheme,
            userinfo,
            host: host.to_string(),
            path: path.trim_end_matches('/').to_string(),
            query,
        })
    }

    /// The URL of `path` (starting with `/`) under this base, credentials and query kept.
    pub fn request(&self, path: &str) -> String {
        let mut s = format!("{}://", self.scheme);
        if let Some(u) = &self.userinfo {
            s.push_str(u);
            s.push('@');
        }
        s.push_str(&self.host);
        s.push_str(&self.path);
        s.push_str(path);
        if let Some(q) = &self.query {
            s.push('?');
            s.push_str(q);
        }
        s
    }

    /// The base URL as it may be shown: user information and query values replaced by `***`.
    pub fn redacted(&self) -> String {
        self.redacted_request("")
    }

    /// [`request`](Self::request) as it may be shown.
    pub fn redacted_request(&self, path: &str) -> String {
        let mut s = format!("{}://", self.scheme);
        if self.userinfo.is_some() {
            s.push_str("***@");
        }
        s.push_str(&self.host);
        s.push_str(&self.path);
        s.push_str(path);
        if let Some(q) = &self.query {
            s.push('?');
            s.push_str(&redact_query(q));
        }
        s
    }

    /// The secret parts of this URL (user information, its password, query values), for callers
    /// that must scrub them from third-party text such as an HTTP library's error message.
    pub fn secrets(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(u) = &self.userinfo {
            out.push(u.clone());
            if let Some((_, pass)) = u.split_once(':')
                && !pass.is_empty()
            {
                out.push(pass.to_string());
            }
        }
        if let Some(q) = &self.query {
            for pair in q.split('&') {
                if let Some((_, v)) = pair.split_once('=')
                    && !v.is_empty()
                {
                    out.push(v.to_string());
                }
            }
        }
        out
    }

    /// `text` with this URL's secrets replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        let mut secrets = self.secrets();
        // Longest first, so a password inside the user information goes with it.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets
            .iter()
            .fold(text.to_string(), |t, s| t.replace(s.as_str(), "***"))
    }
}

fn redact_query(q: &str) -> String {
    q.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) => format!("{k}=***"),
            None => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Longest URL a message shows whole (in characters); a longer one keeps its start and end.
pub const SHOWN_URL_MAX: usize = 200;

/// `url` as a message shows it: whole up to [`SHOWN_URL_MAX`] characters, else its first 120
/// and last 40 around how many were left out (a 100 KB URL would otherwise fill the terminal).
///
/// ```
/// use spec_kitty::internals::saas::url::shorten;
/// assert_eq!(shorten("https://kitty.example/"), "https://kitty.example/");
/// let long = format!("https://kitty.example/{}", "a".repeat(100_000));
/// let shown = shorten(&long);
/// assert!(shown.starts_with("https://kitty.example/aaa") && shown.ends_with("aaaa"));
/// assert!(shown.contains("[99862 characters left out]"), "{shown}");
/// ```
pub fn shorten(url: &str) -> String {
    let count = url.chars().count();
    if count <= SHOWN_URL_MAX {
        return url.to_string();
    }
    let head: String = url.chars().take(120).collect();
    let tail: String = url.chars().skip(count - 40).collect();
    format!("{head}…[{} characters left out]…{tail}", count - 160)
}

/// Best-effort redaction of a string that did not parse as a URL: user information (before the
/// last `@` of the authority) and every query value.
///
/// ```
/// assert_eq!(spec_kitty::internals::saas::url::redact_raw("ftp://u:p@h/x?k=v"), "ftp://***@h/x?k=***");
/// ```
pub fn redact_raw(raw: &str) -> String {
    let (head, query) = match raw.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (raw, None),
    };
    let head = match head.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(end);
            match authority.rsplit_once('@') {
                Some((_, host)) => format!("{scheme}://***@{host}{path}"),
                None => head.to_string(),
            }
        }
        None => match head.rsplit_once('@') {
            Some((_, host)) => format!("***@{host}"),
            None => head.to_string(),
        },
    };
    match query {
        Some(q) => format!("{head}?{}", redact_query(q)),
        None => head,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_url_keeps_its_start_and_end_around_a_count() {
        let long = format!("https://kitty.example/{}END", "x".repeat(1_000));
        let shown = shorten(&long);
        let count = long.chars().count();
        let tail: String = long.chars().skip(count - 40).collect();
        assert!(shown.ends_with(&tail), "{shown}");
        assert!(shown.starts_with(&long[..120]), "{shown}");
        assert!(shown.contains(&format!("[{} characters left out]", count - 160)));
        let exact = "h".repeat(SHOWN_URL_MAX);
        assert_eq!(shorten(&exact), exact);
        assert_ne!(shorten(&format!("{exact}h")), format!("{exact}h"));
    }

    fn url(raw: &str) -> ServiceUrl {
        ServiceUrl::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"))
    }

    fn problem(raw: &str) -> UrlError {
        ServiceUrl::parse(raw).expect_err(raw)
    }

    #[test]
    fn requests_keep_credentials_and_query_and_what_is_shown_hides_them() {
        let u = url("  HTTPS://ada:s3cret@kitty.example:8443/base//?token=abc&team=x&flag#frag ");
        assert_eq!(
            u.request("/api/v1/me"),
            "https://ada:s3cret@kitty.example:8443/base/api/v1/me?token=abc&team=x&flag"
        );
        assert_eq!(
            u.redacted(),
            "https://***@kitty.example:8443/base?token=***&team=***&flag"
        );
        assert_eq!(
            u.redacted_request("/api/v1/me"),
            "https://***@kitty.example:8443/base/api/v1/me?token=***&team=***&flag"
        );
        assert_eq!(format!("{u}"), u.redacted());
        assert_eq!(format!("{u:?}"), u.redacted());
        let plain = url("http://127.0.0.1:9/");
        assert_eq!(plain.request("/x"), "http://127.0.0.1:9/x");
        assert_eq!(plain.redacted(), "http://127.0.0.1:9");
        assert_eq!(
            url("http://h?").request("/x"),
            "http://h/x",
            "an empty query is dropped"
        );
        assert_eq!(
            url("http://u@h/p").redacted_request("/x"),
            "http://***@h/p/x"
        );
    }

    #[test]
    fn an_unusable_url_says_what_is_wrong_without_its_secrets() {
        let e = problem("kitty.example/path");
        assert!(e.problem.contains("no scheme"), "{e}");
        let e = problem("ftp://u:p@kitty.example/x?k=v");
        assert!(e.problem.contains("\"ftp\" is not supported"), "{e}");
        assert_eq!(e.shown, "ftp://***@kitty.example/x?k=***");
        assert!(problem("https://kitty example").problem.contains("spaces"));
        assert!(
            problem("https://kitty\u{7}.example")
                .problem
                .contains("control")
        );
        assert!(problem("https://").problem.contains("no host"));
        assert!(problem("https://u:p@/x").problem.contains("no host"));
        assert!(problem("https://:8443/x").problem.contains("no host"));
        let e = problem("https://u:p@:1/x?token=t");
        assert!(
            !e.to_string().contains("u:p") && !e.to_string().contains("=t"),
            "{e}"
        );
        assert!(ServiceUrl::parse("http://h").is_ok() && ServiceUrl::parse("https://h").is_ok());
    }

    #[test]
    fn secrets_are_the_userinfo_its_password_and_the_query_values() {
        let u = url("https://ada:pw@h/?token=abc&empty=&flag&team=x");
        assert_eq!(u.secrets(), ["ada:pw", "pw", "abc", "x"]);
        assert_eq!(url("https://ada@h/").secrets(), ["ada"]);
        assert_eq!(url("https://ada:@h/").secrets(), ["ada:"]);
        assert!(url("https://h/").secrets().is_empty());
        assert_eq!(
            u.scrub("GET https://ada:pw@h/?token=abc failed; password pw, team x"),
            "GET https://***@h/?token=*** failed; password ***, team ***"
        );
    }

    #[test]
    fn raw_redaction_hides_userinfo_and_query_values_of_anything() {
        assert_eq!(redact_raw("ftp://u:p@h/x?k=v&w"), "ftp://***@h/x?k=***&w");
        assert_eq!(
            redact_raw("ftp://h/a@b"),
            "ftp://h/a@b",
            "an @ in the path is not userinfo"
        );
        assert_eq!(redact_raw("ftp://a@b@h"), "ftp://***@h");
        assert_eq!(redact_raw("u:p@host/x"), "***@host/x");
        assert_eq!(redact_raw("plain"), "plain");
        assert_eq!(redact_raw("plain?a=1&b=2"), "plain?a=***&b=***");
    }
}
