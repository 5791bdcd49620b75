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
    /// (`socket.gethostname()` and `os.getuid()`).
    #[cfg(unix)]
    pub fn current() -> Self {
        let uname = rustix::system::uname();
        let hostname = uname.nodename().to_string_lossy().into_owned();
        Self::new(hostname, rustix::process::getuid().as_raw())
    }

    /// This machine and user. Windows has no numeric uid; the reference uses 0.
    #[cfg(not(unix))]
    pub fn current() -> Self {
        Self::new("localhost", 0)
    }

    /// The scrypt passphrase: UTF-8 of `"<hostname>:<uid>"`.
    pub fn passphrase(&self) -> String {
        format!("{}:{}", self.hostname, self.uid)
    }
}
