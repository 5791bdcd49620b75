//! This must fail to compile: `ids` is not part of the plugin API.

#[test]
fn reaches_an_internal_module() {
    let _ = spec_kitty::ids::uuid4();
    let _ = kitty_testkit::IsolatedHome::new();
}
