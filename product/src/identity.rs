//! The machine identity that keys the session store (interop: `"<hostname>:<uid>"`).

/// Hostname and numeric user id: the inputs of the session key derivation.
///
/// ```
/// use spec_kitty::identity::MachineIdentity;
/// let id = MachineIdentity::new("kitty-vector-host", 1000);
/// assert_eq!(id.passphrase(), "kitty-vector-host:1000");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MachineIdentity {
    hostname: String,
    uid: u32,
}

impl MachineIdentity {
    /// An explicit identity (tests, known-answer vectors).
    pub fn new(hostname: impl Into<String>, uid: u32) -> Self {
        Self {
            hostname: hostname.into(),
            uid,
        }
    }

    /// This machine and user, as the reference implementation sees them
    /// (`socket.gethostname()` and `os.getuid()`). Where there is no numeric uid (Windows): the
    /// real host name and uid 0, as the reference's `_get_uid()` does.
    pub fn current() -> Self {
        #[cfg(unix)]
        {
            let uname = rustix::system::uname();
            let hostname = uname.nodename().to_string_lossy().into_owned();
            Self::new(hostname, rustix::process::getuid().as_raw())
        }
        #[cfg(not(unix))]
        {
            Self::without_uid(gethostname::gethostname().to_string_lossy().into_owned())
        }
    }

    /// The identity the reference keys the store with on a platform without `os.getuid`
    /// (Windows): `hostname` and uid 0.
    ///
    /// ```
    /// use spec_kitty::identity::MachineIdentity;
    /// assert_eq!(MachineIdentity::without_uid("DESKTOP-KITTY").passphrase(), "DESKTOP-KITTY:0");
    /// ```
    pub fn without_uid(hostname: impl Into<String>) -> Self {
        Self::new(hostname, 0)
    }

    /// The host name (`socket.gethostname()` in the reference).
    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// The numeric user id.
    pub fn uid(&self) -> u32 {
        self.uid
    }

    /// The scrypt passphrase: UTF-8 of `"<hostname>:<uid>"`.
    pub fn passphrase(&self) -> String {
        format!("{}:{}", self.hostname, self.uid)
    }
}

/// The login name as the reference's `getpass.getuser()` finds it: the first non-empty of
/// `LOGNAME`, `USER`, `LNAME`, `USERNAME`, else the password database entry of `uid`.
///
/// ```
/// use spec_kitty::{env::Env, identity::user_name};
/// let env = Env::from_pairs([("USER", "ada"), ("LNAME", "ignored")]);
/// assert_eq!(user_name(&env, 0), "ada");
/// ```
pub fn user_name(env: &crate::env::Env, uid: u32) -> String {
    use crate::env::vars;
    for name in [vars::LOGNAME, vars::USER, vars::LNAME, vars::USERNAME] {
        if let Some(v) = env.non_empty(name) {
            return v.to_string();
        }
    }
    passwd_name(std::path::Path::new("/etc/passwd"), uid).unwrap_or_else(|| uid.to_string())
}

fn passwd_name(file: &std::path::Path, uid: u32) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id = fields.nth(1)?;
        (id.parse::<u32>().ok()? == uid).then(|| name.to_string())
    })
}

/// The reference's project `node_id`: the first 12 hex digits of `sha256("<hostname>:<user>")`.
///
/// ```
/// // hashlib.sha256(b"vm:root").hexdigest()[:12]
/// assert_eq!(spec_kitty::identity::node_id("vm", "root"), "b805cd5cee74");
/// ```
pub fn node_id(hostname: &str, user: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{hostname}:{user}").as_bytes());
    hex::encode(digest)[..12].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_lookup_finds_the_name_of_a_uid() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("passwd");
        std::fs::write(
            &file,
            "root:x:0:0::/root:/bin/sh\nada:x:1000:1000::/home/ada:/bin/sh\n",
        )
        .unwrap();
        assert_eq!(passwd_name(&file, 1000).as_deref(), Some("ada"));
        assert_eq!(passwd_name(&file, 0).as_deref(), Some("root"));
        assert_eq!(passwd_name(&file, 7), None);
    }

    #[test]
    fn login_variables_win_in_the_reference_order() {
        let env = crate::env::Env::from_pairs([("USERNAME", "d"), ("LOGNAME", "a"), ("USER", "b")]);
        assert_eq!(user_name(&env, 0), "a");
        let env = crate::env::Env::from_pairs([("USERNAME", "d"), ("LOGNAME", ""), ("LNAME", "c")]);
        assert_eq!(user_name(&env, 0), "c");
        let env = crate::env::Env::from_pairs([("USERNAME", "d")]);
        assert_eq!(user_name(&env, 0), "d");
        // No variable: the password database, else the number itself.
        let root = passwd_name(std::path::Path::new("/etc/passwd"), 0);
        assert_eq!(
            user_name(&crate::env::Env::default(), 0),
            root.unwrap_or_else(|| "0".into())
        );
        assert_eq!(
            user_name(&crate::env::Env::default(), 4_000_000_000),
            "4000000000"
        );
    }

    #[test]
    fn the_identity_and_node_id_are_the_reference_inputs() {
        let id = MachineIdentity::new("kitty-vector-host", 1000);
        assert_eq!(
            (id.hostname(), id.uid(), id.passphrase().as_str()),
            ("kitty-vector-host", 1000, "kitty-vector-host:1000")
        );
        assert_eq!(
            MachineIdentity::without_uid("DESKTOP-KITTY").passphrase(),
            "DESKTOP-KITTY:0"
        );
        // hashlib.sha256(b"vm:root").hexdigest()[:12]
        assert_eq!(node_id("vm", "root"), "b805cd5cee74");
        #[cfg(unix)]
        {
            let me = MachineIdentity::current();
            assert_eq!(me.uid(), rustix::process::getuid().as_raw());
            assert!(!me.hostname().is_empty());
        }
    }
}
