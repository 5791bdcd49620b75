//! The encrypted session store (**interop** with the reference `FileFallbackStorage`).
//!
//! `<auth_dir>/session.json` holds `{"version": 2, "nonce": "<24 hex>", "ciphertext": "<hex>"}`,
//! `<auth_dir>/session.salt` 16 random bytes, and `<auth_dir>/session.lock` is the advisory lock.
//! The key is scrypt(`"<hostname>:<uid>"`, salt, N = 2^14, r = 8, p = 1, 32 bytes) and the cipher
//! AES-256-GCM with a fresh 12-byte nonce per write and no associated data.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use serde::{Deserialize, Serialize};

use super::session::Session;
use crate::identity::MachineIdentity;

/// The only blob version this store reads and writes.
pub const BLOB_VERSION: u64 = 2;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const LOGIN_FIX: &str = "run `spec-kitty auth login --force` to replace it";

pub use crate::paths::SessionFiles;

/// Why the store could not read or write a session. Every message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A filesystem operation failed.
    #[error(
        "cannot {action} {path}: {source}; check that the directory exists and is writable by you"
    )]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The session file is readable by group or others.
    #[error(
        "refusing to read {path}: its permissions {mode:04o} let other users read it; run `chmod 600 {path}` (and `chmod 700` on its directory)"
    )]
    PermissionsTooOpen {
        /// The session file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The session file's path holds something that is not a file (a directory, a socket...).
    #[error(
        "the session file {path} is {kind}, not a file; spec-kitty changed nothing: move it away, then run `spec-kitty auth login`"
    )]
    NotAFile {
        /// The session file's path.
        path: PathBuf,
        /// What is there instead ("a directory").
        kind: &'static str,
    },
    /// The session file is not the JSON blob the store writes (truncated or foreign).
    #[error("the session file {path} is not a valid session blob ({detail}); {LOGIN_FIX}")]
    Malformed {
        /// The session file.
        path: PathBuf,
        /// What was wrong.
        detail: String,
    },
    /// The blob has a version other than 2.
    #[error(
        "the session file {path} has format version {version}, but this spec-kitty reads only version {BLOB_VERSION}; {LOGIN_FIX}"
    )]
    UnsupportedVersion {
        /// The session file.
        path: PathBuf,
        /// The version found.
        version: String,
    },
    /// The salt file is missing or not 16 bytes.
    #[error(
        "the session salt {path} is {problem}, so the session cannot be decrypted; {LOGIN_FIX}"
    )]
    BadSalt {
        /// The salt file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// Authenticated decryption failed: the file was altered, or written by another user or machine.
    #[error(
        "the session file {path} could not be decrypted: it was altered or written for another user or machine; {LOGIN_FIX}"
    )]
    Decrypt {
        /// The session file.
        path: PathBuf,
    },
    /// The store directory is a symbolic link: the session would leave the runtime root.
    #[error(
        "the session store {path} is a symbolic link to {target}; spec-kitty keeps the session only in a real directory under the runtime root, and changed nothing: replace the link with a directory (or remove it)"
    )]
    Symlink {
        /// The store directory.
        path: PathBuf,
        /// Where it points.
        target: String,
    },
    /// Encryption failed (should not happen).
    #[error("could not encrypt the session: {0}")]
    Encrypt(String),
    /// Randomness was unavailable.
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
}

impl StoreError {
    fn io(action: &'static str, path: &Path, source: io::Error) -> Self {
        Self::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Blob {
    version: serde_json::Value,
    nonce: String,
    ciphertext: String,
}

struct CachedKey {
    passphrase: String,
    salt: [u8; SALT_LEN],
    /// Filled once; a second thread asking meanwhile waits for the first one's derivation.
    key: std::sync::Arc<std::sync::OnceLock<[u8; 32]>>,
}

static KEYS: Mutex<Vec<CachedKey>> = Mutex::new(Vec::new());
static DERIVATIONS: AtomicUsize = AtomicUsize::new(0);

/// How many scrypt derivations this process has run (one per identity and salt, however many
/// reads and writes).
pub fn scrypt_derivations() -> usize {
    DERIVATIONS.load(Ordering::Relaxed)
}

/// The key for `identity` and `salt`: derived at most once per process, whichever thread asks
/// first (one that asks meanwhile waits for it instead of deriving again).
fn derive_key(identity: &MachineIdentity, salt: &[u8; SALT_LEN]) -> [u8; 32] {
    let passphrase = identity.passphrase();
    let cell = {
        let mut cache = KEYS.lock().unwrap_or_else(|e| e.into_inner());
        match cache
            .iter()
            .find(|c| c.passphrase == passphrase && &c.salt == salt)
        {
            Some(hit) => hit.key.clone(),
            None => {
                let cell = std::sync::Arc::new(std::sync::OnceLock::new());
                cache.push(CachedKey {
                    passphrase: passphrase.clone(),
                    salt: *salt,
                    key: cell.clone(),
                });
                cell
            }
        }
    };
    tracing::debug!("key wanted");
    *cell.get_or_init(|| {
        tracing::debug!("key derivation starts");
        let mut key = [0u8; 32];
        // N = 2^14, r = 8, p = 1 are valid parameters and 32 is a valid length: these cannot
        // fail.
        if let Ok(params) = scrypt::Params::new(14, 8, 1) {
            let _ = scrypt::scrypt(passphrase.as_bytes(), salt, &params, &mut key);
        }
        DERIVATIONS.fetch_add(1, Ordering::Relaxed);
        tracing::debug!("key derived");
        key
    })
}

/// Whether the hot-path summary is on for this environment (the reference's switch: exactly `1`
/// in `SPEC_KITTY_DISABLE_SESSION_HOT_PATH` turns it off).
///
/// ```
/// use spec_kitty::{auth::store::hot_path_enabled, env::Env};
/// assert!(hot_path_enabled(&Env::default()));
/// assert!(!hot_path_enabled(&Env::from_pairs([("SPEC_KITTY_DISABLE_SESSION_HOT_PATH", "1")])));
/// ```
pub fn hot_path_enabled(env: &crate::env::Env) -> bool {
    env.get(crate::env::vars::SPEC_KITTY_DISABLE_SESSION_HOT_PATH) != Some("1")
}

/// The encrypted, file-backed session store in one directory.
///
/// ```
/// use spec_kitty::{auth::store::SessionStore, identity::MachineIdentity};
/// let dir = tempfile::tempdir().unwrap();
/// let store = SessionStore::new(dir.path().join("auth"), MachineIdentity::new("host", 1));
/// assert!(store.read().unwrap().is_none());
/// ```
#[derive(Debug, Clone)]
pub struct SessionStore {
    dir: PathBuf,
    identity: MachineIdentity,
    hot_path: bool,
    /// Dates the hot-path summary and judges its age (the system clock unless the command's).
    clock: crate::clock::Clock,
}

impl SessionStore {
    /// A store in `dir` (normally `RuntimeRoot::auth_dir()`), keyed by `identity`.
    pub fn new(dir: impl Into<PathBuf>, identity: MachineIdentity) -> Self {
        Self {
            dir: dir.into(),
            identity,
            hot_path: true,
            clock: crate::clock::Clock::system(),
        }
    }

    /// This store with the command's clock.
    #[must_use]
    pub(crate) fn with_clock(mut self, clock: crate::clock::Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Whether this store keeps the token-free `session.hot-path.json` summary in step (on by
    /// default; `SPEC_KITTY_DISABLE_SESSION_HOT_PATH=1` turns it off, as in the reference).
    #[must_use]
    pub fn with_hot_path(mut self, enabled: bool) -> Self {
        self.hot_path = enabled;
        self
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The files of this store.
    pub fn files(&self) -> SessionFiles {
        SessionFiles::in_dir(&self.dir)
    }

    /// Start deriving this store's key on another thread, so that a later read finds it ready
    /// (the derivation is the slowest step of reading a session). Does nothing when there is no
    /// session or no usable salt; never fails and never changes anything on disk.
    pub fn prefetch_key(&self) -> Option<std::thread::JoinHandle<()>> {
        let files = self.files();
        if !files.session.exists() {
            return None;
        }
        let salt = self.read_salt(&files.salt).ok()?;
        let identity = self.identity.clone();
        std::thread::Builder::new()
            .name("scrypt-prefetch".into())
            .spawn(move || {
                derive_key(&identity, &salt);
            })
            .ok()
    }

    /// Read the session. `Ok(None)` when there is none; an error when one exists but cannot be
    /// trusted or decrypted. Never changes anything on disk.
    pub fn read(&self) -> Result<Option<Session>, StoreError> {
        self.read_with(false)
    }

    /// [`read`](Self::read), then refresh the hot-path summary from what was read (as the
    /// reference does whenever it loads the session), under the same lock.
    pub fn read_and_publish(&self) -> Result<Option<Session>, StoreError> {
        self.read_with(self.hot_path)
    }

    /// The token-free summary of the session: from a valid hot-path file when there is one (no
    /// key derivation), else by decrypting the session (and publishing a fresh summary). The
    /// session file's permissions are checked either way.
    pub fn summary(&self) -> Result<Option<super::hot_path::Summary>, StoreError> {
        if self.hot_path {
            let files = self.files();
            if files.session.exists() {
                check_private(&files.session)?;
                let fast = super::hot_path::load(&self.dir, self.clock.epoch_seconds());
                if let Some(summary) = fast.and_then(|h| h.summary) {
                    return Ok(Some(summary));
                }
            }
        }
        Ok(self
            .read_and_publish()?
            .map(|s| super::hot_path::Summary::from(&s)))
    }

    fn read_with(&self, publish: bool) -> Result<Option<Session>, StoreError> {
        let files = self.files();
        let _guard = self.lock_if_present(&files.lock, false)?;
        let raw = match fs::read(&files.session) {
            Ok(raw) => raw,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::IsADirectory => {
                return Err(StoreError::NotAFile {
                    path: files.session.clone(),
                    kind: "a directory",
                });
            }
            Err(e) => return Err(StoreError::io("read", &files.session, e)),
        };
        check_private(&files.session)?;
        let malformed = |detail: String| StoreError::Malformed {
            path: files.session.clone(),
            detail,
        };
        let blob: Blob = serde_json::from_slice(&raw)
            .map_err(|e| malformed(format!("not the expected JSON: {e}")))?;
        if blob.version.as_u64() != Some(BLOB_VERSION) {
            return Err(StoreError::UnsupportedVersion {
                path: files.session.clone(),
                version: blob.version.to_string(),
            });
        }
        let nonce = hex::decode(&blob.nonce)
            .ok()
            .filter(|n| n.len() == NONCE_LEN)
            .ok_or_else(|| malformed("the nonce is not 24 hex digits".into()))?;
        let ciphertext = hex::decode(&blob.ciphertext)
            .map_err(|_| malformed("the ciphertext is not hex".into()))?;
        let salt = self.read_salt(&files.salt)?;
        let key = derive_key(&self.identity, &salt);
        let cipher =
            Aes256Gcm::new_from_slice(&key).map_err(|e| StoreError::Encrypt(e.to_string()))?;
        let nonce = Nonce::try_from(nonce.as_slice())
            .map_err(|_| malformed("the nonce is not 12 bytes".into()))?;
        let plaintext =
            cipher
                .decrypt(&nonce, ciphertext.as_slice())
                .map_err(|_| StoreError::Decrypt {
                    path: files.session.clone(),
                })?;
        let session = Session::from_json(&plaintext)
            .map_err(|e| malformed(format!("the decrypted session is not valid: {e}")))?;
        // Refresh the summary only when it is missing, stale or not kitty's: a valid one already
        // says what this read found (and a read then changes nothing on disk).
        let now = self.clock.epoch_seconds();
        if publish
            && super::hot_path::load(&self.dir, now)
                .and_then(|h| h.summary)
                .is_none()
        {
            super::hot_path::publish(&self.dir, &session, now);
        }
        Ok(Some(session))
    }

    /// Write `session` atomically (temp file, fsync, rename) under the store lock.
    pub fn write(&self, session: &Session) -> Result<(), StoreError> {
        let files = self.files();
        self.ensure_dir()?;
        let _guard = self.lock(&files.lock, true)?;
        let salt = match self.read_salt(&files.salt) {
            Ok(salt) => salt,
            Err(_) => {
                let mut salt = [0u8; SALT_LEN];
                getrandom::fill(&mut salt).map_err(|e| StoreError::Random(e.to_string()))?;
                write_atomic(&files.salt, &salt)?;
                salt
            }
        };
        // Under the exclusive lock no other write is in flight: any temporary file here was left
        // by a writer that crashed (a full encrypted session), so it goes.
        remove_stale_temporaries(&self.dir);
        let key = derive_key(&self.identity, &salt);
        let cipher =
            Aes256Gcm::new_from_slice(&key).map_err(|e| StoreError::Encrypt(e.to_string()))?;
        let mut nonce_bytes = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce_bytes).map_err(|e| StoreError::Random(e.to_string()))?;
        let nonce = Nonce::from(nonce_bytes);
        let ciphertext = cipher
            .encrypt(&nonce, session.to_json().as_bytes())
            .map_err(|e| StoreError::Encrypt(e.to_string()))?;
        let blob = Blob {
            version: BLOB_VERSION.into(),
            nonce: hex::encode(nonce_bytes),
            ciphertext: hex::encode(ciphertext),
        };
        let text =
            crate::pyfmt::to_python_json(&blob).map_err(|e| StoreError::Encrypt(e.to_string()))?;
        write_atomic(&files.session, text.as_bytes())?;
        if self.hot_path {
            super::hot_path::publish(&self.dir, session, self.clock.epoch_seconds());
        } else {
            // A summary of the previous session must not outlive it.
            let _ = super::hot_path::invalidate(&self.dir);
        }
        Ok(())
    }

    /// Remove the session, its salt, its hot-path summary and any temporary file a crashed
    /// write left (logout). Missing files are not an error.
    pub fn delete(&self) -> Result<(), StoreError> {
        self.refuse_symlink()?;
        let files = self.files();
        let _guard = self.lock_if_present(&files.lock, true)?;
        for path in [&files.session, &files.salt] {
            match fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::io("remove", path, e)),
            }
        }
        let hot = super::hot_path::path_in(&self.dir);
        super::hot_path::invalidate(&self.dir).map_err(|e| StoreError::io("remove", &hot, e))?;
        remove_stale_temporaries(&self.dir);
        Ok(())
    }

    fn read_salt(&self, path: &Path) -> Result<[u8; SALT_LEN], StoreError> {
        let bad = |problem: String| StoreError::BadSalt {
            path: path.to_path_buf(),
            problem,
        };
        match fs::read(path) {
            Ok(bytes) => <[u8; SALT_LEN]>::try_from(bytes.as_slice())
                .map_err(|_| bad(format!("{} bytes long instead of {SALT_LEN}", bytes.len()))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(bad("missing".into())),
            Err(e) => Err(StoreError::io("read", path, e)),
        }
    }

    fn refuse_symlink(&self) -> Result<(), StoreError> {
        match fs::symlink_metadata(&self.dir) {
            Ok(m) if m.file_type().is_symlink() => Err(StoreError::Symlink {
                path: self.dir.clone(),
                target: fs::read_link(&self.dir)
                    .map(|t| t.display().to_string())
                    .unwrap_or_else(|_| "?".into()),
            }),
            _ => Ok(()),
        }
    }

    fn ensure_dir(&self) -> Result<(), StoreError> {
        self.refuse_symlink()?;
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&self.dir)
            .map_err(|e| StoreError::io("create directory", &self.dir, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700))
                .map_err(|e| StoreError::io("set permissions on", &self.dir, e))?;
        }
        Ok(())
    }

    fn lock(&self, path: &Path, exclusive: bool) -> Result<File, StoreError> {
        let file = open_private(path, false)?;
        let locked = if exclusive {
            file.lock()
        } else {
            file.lock_shared()
        };
        locked.map_err(|e| StoreError::io("lock", path, e))?;
        Ok(file)
    }

    /// Readers never create files: without a lock file there is no writer to wait for (writers
    /// create it first, and rename makes every write atomic anyway).
    fn lock_if_present(&self, path: &Path, exclusive: bool) -> Result<Option<File>, StoreError> {
        if path.exists() {
            self.lock(path, exclusive).map(Some)
        } else {
            Ok(None)
        }
    }
}

/// Remove the temporary files of interrupted writes (`.session.json.*.tmp`,
/// `.session.salt.*.tmp`). Call with the exclusive store lock held.
fn remove_stale_temporaries(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".session.") && name.ends_with(".tmp") {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

fn open_private(path: &Path, truncate: bool) -> Result<File, StoreError> {
    let mut opts = OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(truncate);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path).map_err(|e| StoreError::io("open", path, e))
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = fs::metadata(path).map_err(|e| StoreError::io("inspect", path, e))?;
    if !meta.is_file() {
        return Err(StoreError::NotAFile {
            path: path.to_path_buf(),
            kind: if meta.is_dir() {
                "a directory"
            } else {
                "a special file (a socket, pipe or device)"
            },
        });
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(StoreError::PermissionsTooOpen {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), StoreError> {
    Ok(())
}

/// Write `bytes` to `path` atomically: a private temp file in the same directory, fsync, rename,
/// then fsync the directory. A crash leaves either the old file or the new one.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut suffix = [0u8; 6];
    getrandom::fill(&mut suffix).map_err(|e| StoreError::Random(e.to_string()))?;
    let tmp = dir.join(format!(".{name}.{}.tmp", hex::encode(suffix)));
    let result = (|| {
        let mut file = open_private(&tmp, true)?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| StoreError::io("write", &tmp, e))?;
        fs::rename(&tmp, path).map_err(|e| StoreError::io("replace", path, e))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_store_is_no_session_but_an_unreadable_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path().join("auth"), MachineIdentity::new("h", 1));
        assert!(store.read().unwrap().is_none(), "nothing there");
        store.delete().expect("deleting nothing is fine");
        // A session "file" that is a directory can be neither read nor removed.
        std::fs::create_dir_all(store.files().session).unwrap();
        let e = store.read().unwrap_err();
        assert!(e.to_string().contains("session.json"), "{e}");
        let e = store.delete().unwrap_err();
        assert!(e.to_string().contains("session.json"), "{e}");
    }

    fn written_store(dir: &tempfile::TempDir) -> SessionStore {
        let store = SessionStore::new(dir.path().join("auth"), MachineIdentity::new("h", 1));
        store
            .write(&crate::auth::session::tests::session())
            .unwrap();
        store
    }

    #[test]
    fn a_salt_that_cannot_be_read_is_an_io_error_not_a_missing_salt() {
        let dir = tempfile::tempdir().unwrap();
        let store = written_store(&dir);
        let salt = store.files().salt;
        std::fs::remove_file(&salt).unwrap();
        let e = store.read().unwrap_err().to_string();
        assert!(e.contains("is missing"), "{e}");
        // A directory where the salt belongs exists but cannot be read.
        std::fs::create_dir(&salt).unwrap();
        let e = store.read().unwrap_err().to_string();
        assert!(e.starts_with("cannot read"), "{e}");
        assert!(!e.contains("missing"), "{e}");
    }

    #[test]
    fn only_the_temporaries_of_session_writes_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let store = written_store(&dir);
        let swept = store.dir().join(".session.json.4242.tmp");
        let kept = [
            store.dir().join("notes.tmp"),
            store.dir().join(".session.keep"),
        ];
        for f in kept.iter().chain([&swept]) {
            std::fs::write(f, b"x").unwrap();
        }
        store
            .write(&crate::auth::session::tests::session())
            .unwrap();
        assert!(!swept.exists(), "a crashed write's temporary is removed");
        for f in &kept {
            assert!(f.exists(), "{} is not the store's temporary", f.display());
        }
        std::fs::write(&swept, b"x").unwrap();
        store.delete().unwrap();
        assert!(!swept.exists(), "logout sweeps temporaries too");
        for f in &kept {
            assert!(f.exists(), "{} survives logout", f.display());
        }
    }

    #[test]
    fn a_reader_waits_for_a_writer_holding_the_store_lock() {
        let dir = tempfile::tempdir().unwrap();
        let store = written_store(&dir);
        let writer = std::fs::File::open(store.files().lock).unwrap();
        writer.lock().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let found = store.read().map(|s| s.is_some());
            tx.send(()).unwrap();
            found
        });
        // Blocked for as long as the writer holds the lock: nothing arrives meanwhile.
        assert!(
            rx.recv_timeout(std::time::Duration::from_millis(300))
                .is_err(),
            "the reader did not wait for the lock"
        );
        writer.unlock().unwrap();
        rx.recv().unwrap();
        assert!(
            reader.join().unwrap().unwrap(),
            "the session was read after the lock"
        );
    }
}
