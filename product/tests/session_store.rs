//! The encrypted session store: interop with the reference vector, the format it writes, and
//! every refusal (with a clear message and nothing changed on disk).

use std::path::{Path, PathBuf};

use kitty_testkit::{BrokenSeed, DirSnapshot, IsolatedHome, SessionSeed};
use spec_kitty::auth::session::Session;
use spec_kitty::auth::store::{SessionFiles, SessionStore, StoreError};
use spec_kitty::identity::MachineIdentity;

fn vector_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/python-session-v2")
}

fn vector_identity() -> MachineIdentity {
    MachineIdentity::new("kitty-vector-host", 1000)
}

/// Copy the vector into a private store directory (git does not keep modes).
fn vector_store(tmp: &Path) -> SessionStore {
    let dir = tmp.join("auth");
    std::fs::create_dir(&dir).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    for name in ["session.json", "session.salt"] {
        std::fs::copy(vector_dir().join(name), dir.join(name)).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(0o600))
                .unwrap();
        }
    }
    SessionStore::new(dir, vector_identity())
}

#[test]
fn reference_vector_decrypts_to_the_plaintext_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let store = vector_store(tmp.path());
    let session = store.read().unwrap().expect("the vector holds a session");
    let plaintext = std::fs::read_to_string(vector_dir().join("plaintext.json")).unwrap();
    // Re-serializing what we decrypted reproduces the reference bytes exactly (key order,
    // separators, timestamps).
    assert_eq!(session.to_json(), plaintext.trim_end_matches('\n'));
    assert_eq!(session.default_team_id.as_deref(), Some("team-private"));
    assert_eq!(session.private_team().unwrap().id, "team-private");
}

#[test]
fn reference_vector_refuses_another_identity() {
    let tmp = tempfile::tempdir().unwrap();
    let store = vector_store(tmp.path());
    let other = SessionStore::new(store.dir(), MachineIdentity::new("kitty-vector-host", 1001));
    assert!(matches!(other.read(), Err(StoreError::Decrypt { .. })));
}

#[test]
fn written_session_follows_the_reference_format() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("root/auth");
    let store = SessionStore::new(&dir, vector_identity());
    let plaintext = std::fs::read(vector_dir().join("plaintext.json")).unwrap();
    let session = Session::from_json(&plaintext).unwrap();
    store.write(&session).unwrap();

    let files = SessionFiles::in_dir(&dir);
    let blob: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&files.session).unwrap()).unwrap();
    let keys: Vec<_> = blob.as_object().unwrap().keys().cloned().collect();
    assert_eq!(blob["version"], 2);
    let nonce = hex::decode(blob["nonce"].as_str().unwrap()).unwrap();
    assert_eq!(nonce.len(), 12);
    assert!(keys.contains(&"ciphertext".to_string()));
    // Python's json.dumps layout, so the reference reads it back.
    let raw = std::fs::read_to_string(&files.session).unwrap();
    assert!(raw.starts_with("{\"version\": 2, \"nonce\": \""), "{raw}");
    assert_eq!(std::fs::read(&files.salt).unwrap().len(), 16);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&files.session), 0o600);
        assert_eq!(mode(&files.salt), 0o600);
        assert_eq!(mode(&dir), 0o700);
    }

    // Decrypt independently of the store: scrypt + AES-256-GCM over the written bytes.
    use aes_gcm::aead::{Aead, KeyInit};
    let salt = std::fs::read(&files.salt).unwrap();
    let mut key = [0u8; 32];
    scrypt::scrypt(
        b"kitty-vector-host:1000",
        &salt,
        &scrypt::Params::new(14, 8, 1).unwrap(),
        &mut key,
    )
    .unwrap();
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(&key).unwrap();
    let ct = hex::decode(blob["ciphertext"].as_str().unwrap()).unwrap();
    let nonce = aes_gcm::Nonce::try_from(nonce.as_slice()).unwrap();
    let pt = cipher.decrypt(&nonce, ct.as_slice()).unwrap();
    assert_eq!(pt, plaintext.trim_ascii_end());

    // A second write uses a fresh nonce and keeps the salt.
    let first_nonce = blob["nonce"].clone();
    store.write(&session).unwrap();
    let again: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&files.session).unwrap()).unwrap();
    assert_ne!(again["nonce"], first_nonce);
    assert_eq!(std::fs::read(&files.salt).unwrap(), salt);
    // No temp files left behind.
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn every_broken_store_is_refused_with_a_clear_message_and_no_change() {
    // A file others can read is a Unix mode: elsewhere the store has no such refusal.
    let breakages = BrokenSeed::ALL
        .into_iter()
        .filter(|b| cfg!(unix) || *b != BrokenSeed::WorldReadable);
    for broken in breakages {
        let home = IsolatedHome::new();
        home.seed_broken(broken);
        let before = DirSnapshot::of(home.path());
        let err = home
            .session_store()
            .read()
            .expect_err(&format!("{broken:?} must be refused"));
        let msg = err.to_string();
        assert!(
            msg.contains(broken.expected_message()),
            "{broken:?}: message {msg:?} lacks {:?}",
            broken.expected_message()
        );
        let fix = matches!(broken, BrokenSeed::WorldReadable)
            || msg.contains("spec-kitty auth login --force");
        assert!(fix, "{broken:?}: message {msg:?} does not say what to do");
        before.assert_unchanged(&DirSnapshot::of(home.path()));
    }
}

#[test]
fn logout_removes_session_and_salt() {
    let home = IsolatedHome::new();
    home.seed(&SessionSeed::shared_only());
    let store = home.session_store();
    store.delete().unwrap();
    let files = store.files();
    assert!(!files.session.exists() && !files.salt.exists());
    assert!(store.read().unwrap().is_none());
}
