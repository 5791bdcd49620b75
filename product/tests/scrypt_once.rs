//! Exactly one scrypt derivation per process, however many reads and writes. (Its own test binary,
//! so the process-wide counter sees only this test.)

use kitty_testkit::{IsolatedHome, SessionSeed};
use spec_kitty::auth::store::scrypt_derivations;

#[test]
fn one_derivation_for_many_reads_and_writes() {
    let home = IsolatedHome::new();
    let seeded = home.seed(&SessionSeed::with_private_team());
    let store = home.session_store();
    for _ in 0..5 {
        let s = store.read().unwrap().unwrap();
        assert_eq!(s.email, seeded.email);
        store.write(&s).unwrap();
    }
    assert_eq!(scrypt_derivations(), 1);
}

/// A prefetch on a second thread and a read on this one at the same moment derive the key once:
/// the read waits for the prefetch instead of deriving again.
#[test]
fn a_prefetch_racing_a_read_derives_once() {
    let home = IsolatedHome::new();
    let seeded = home.seed(&SessionSeed::with_private_team());
    let before = scrypt_derivations();
    // A fresh salt: a key this process has not derived yet.
    let store = home.session_store();
    std::fs::remove_file(store.files().salt).unwrap();
    store.write(&seeded).unwrap();
    let after_write = scrypt_derivations();
    assert_eq!(
        after_write,
        before + 1,
        "the write derived the new salt's key"
    );
    let other = spec_kitty::auth::store::SessionStore::new(
        store.dir(),
        spec_kitty::identity::MachineIdentity::new("prefetch-host", 4242),
    );
    // Same salt, another identity: not cached. Race a prefetch with a read.
    let prefetch = other.prefetch_key().expect("a session and a salt exist");
    let read = other.read();
    prefetch.join().unwrap();
    assert!(
        read.is_err(),
        "another identity cannot decrypt (the guard that the read ran)"
    );
    assert_eq!(scrypt_derivations(), after_write + 1, "derived twice");
}
