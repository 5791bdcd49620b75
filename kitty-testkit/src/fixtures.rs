//! rstest fixtures. Each is per-test (never `#[once]`: a shared sandbox would leak between tests
//! and never be cleaned up).
//!
//! Use them by name in an `#[rstest]` test:
//!
//! ```no_run
//! use kitty_testkit::fixtures::*;
//! use rstest::rstest;
//!
//! #[rstest]
//! fn seeded_home_reads_back(home: kitty_testkit::IsolatedHome) {
//!     home.seed(&kitty_testkit::SessionSeed::shared_only());
//!     assert!(home.read_session().is_some());
//! }
//! ```

use rstest::fixture;

use crate::{FakeSaas, IsolatedHome};

/// A default isolated home: sync off, no server.
///
/// ```
/// let home = kitty_testkit::fixtures::home();
/// assert!(home.runtime_root().base().starts_with(home.path()));
/// ```
#[fixture]
pub fn home() -> IsolatedHome {
    IsolatedHome::new()
}

/// A started fake hosted service.
///
/// ```
/// let saas = kitty_testkit::fixtures::fake_saas();
/// assert!(saas.url().starts_with("http://127.0.0.1:"));
/// ```
#[fixture]
pub fn fake_saas() -> FakeSaas {
    FakeSaas::start()
}

/// A loopback URL that refuses connections.
///
/// ```
/// assert!(kitty_testkit::fixtures::refusing_url().starts_with("http://127.0.0.1:"));
/// ```
#[fixture]
pub fn refusing_url() -> String {
    crate::fake_saas::refusing_url()
}

/// A home with a session that has a private team.
///
/// ```
/// let home = kitty_testkit::fixtures::private_home();
/// assert!(home.read_session().unwrap().private_team().is_some());
/// ```
#[fixture]
pub fn private_home() -> IsolatedHome {
    let home = IsolatedHome::new();
    home.seed(&crate::SessionSeed::with_private_team());
    home
}

/// A home with a shared-only session (no private team): the seed note's scenario.
///
/// ```
/// let home = kitty_testkit::fixtures::shared_only_home();
/// assert!(home.read_session().unwrap().private_team().is_none());
/// ```
#[fixture]
pub fn shared_only_home() -> IsolatedHome {
    let home = IsolatedHome::new();
    home.seed(&crate::SessionSeed::shared_only());
    home
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_refusing_url_is_a_closed_loopback_port() {
        let url = super::refusing_url();
        let port: u16 = url
            .strip_prefix("http://127.0.0.1:")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("not a loopback URL with a port: {url}"));
        assert_ne!(port, 0);
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    }
}
