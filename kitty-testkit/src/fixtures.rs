//! rstest fixtures. Each is per-test (never `#[once]`: a shared sandbox would leak between tests
//! and never be cleaned up).
//!
//! ```
//! use kitty_testkit::fixtures::*;
//! use rstest::rstest;
//!
//! #[rstest]
//! fn seeded_home_reads_back(home: kitty_testkit::IsolatedHome) {
//!     home.seed(&kitty_testkit::SessionSeed::shared_only());
//!     assert!(home.read_session().is_some());
//! }
//! # seeded_home_reads_back(home());
//! ```

use rstest::fixture;

use crate::{FakeSaas, IsolatedHome};

/// A default isolated home: sync off, no server.
#[fixture]
pub fn home() -> IsolatedHome {
    IsolatedHome::new()
}

/// A started fake hosted service.
#[fixture]
pub fn fake_saas() -> FakeSaas {
    FakeSaas::start()
}

/// A loopback URL that refuses connections.
#[fixture]
pub fn refusing_url() -> String {
    crate::fake_saas::refusing_url()
}
