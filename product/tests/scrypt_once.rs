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
