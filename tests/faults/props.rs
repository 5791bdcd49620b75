//! Property tests of every parser that reads what a user or a server wrote: none panics, and each
//! keeps what it must keep.

use proptest::prelude::*;
use spec_kitty::auth::session::Session;
use spec_kitty::env_file;
use spec_kitty::internals::mission::project_config::ProjectConfig;
use spec_kitty::internals::mission::{scaffold, slug};
use spec_kitty::internals::saas::url::ServiceUrl;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn slugs_never_panic_and_valid_ones_name_a_directory(s in "\\PC{0,80}") {
        if slug::validate(&s).is_ok() {
            let dir = scaffold::dir_name(&s, "01JDJ7Y3ZK0000000000000000");
            prop_assert!(dir.ends_with("-01JDJ7Y3"));
            prop_assert!(!dir.contains('/'));
        }
    }

    #[test]
    fn generated_slugs_are_accepted(s in "[a-z0-9]{1,20}(-[a-z0-9]{1,10}){0,3}") {
        prop_assert!(slug::validate(&s).is_ok(), "{s}");
    }

    #[test]
    fn config_text_never_panics(text in "\\PC{0,400}") {
        let _ = ProjectConfig::parse(std::path::Path::new("config.yaml"), &text);
    }

    #[test]
    fn config_keeps_unknown_keys(key in "[a-z_]{3,12}", value in "[A-Za-z0-9 ]{0,20}") {
        prop_assume!(!["project", "mission_type_activations", "vcs", "agents", "protection", "missions"].contains(&key.as_str()));
        let text = format!(
            "project:\n  uuid: 5f0c8c1e-0000-4000-8000-00000000c0de\n  slug: demo\nmission_type_activations:\n- software-dev\n{key}: '{value}'\n"
        );
        let config = ProjectConfig::parse(std::path::Path::new("c.yaml"), &text).unwrap();
        let again = config.to_yaml();
        let value_trimmed = value.trim();
        prop_assert!(again.contains(&key), "{again}");
        prop_assert!(again.contains(value_trimmed), "{again}");
    }

    #[test]
    fn session_json_never_panics(text in "\\PC{0,400}") {
        let _ = Session::from_json(text.as_bytes());
    }

    #[test]
    fn env_files_never_panic_and_keep_what_they_say(
        pairs in proptest::collection::vec(("[A-Z_][A-Z0-9_]{0,12}", "[A-Za-z0-9/:._-]{0,20}"), 0..8),
        noise in "\\PC{0,200}",
    ) {
        let _ = env_file::parse(&noise);
        let text: String = pairs.iter().map(|(k, v)| format!("export {k}=\"{v}\"\n")).collect();
        let parsed = env_file::parse(&text);
        for (k, v) in &pairs {
            let last = pairs.iter().rev().find(|(k2, _)| k2 == k).map(|(_, v2)| v2).unwrap();
            let got = parsed.iter().find(|(k2, _)| k2 == k).map(|(_, v2)| v2);
            prop_assert_eq!(got, Some(last), "{} ({})", k, v);
        }
    }

    #[test]
    fn urls_never_panic_and_never_show_their_secrets(
        user in "[a-z]{1,8}", pass in "[A-Za-z0-9]{6,16}", token in "[A-Za-z0-9]{6,16}",
        host in "[a-z]{1,10}(\\.[a-z]{2,5})?", port in 1u16..65535, noise in "\\PC{0,100}",
    ) {
        let _ = ServiceUrl::parse(&noise);
        let raw = format!("https://{user}:{pass}@{host}:{port}/base/?token={token}");
        let url = ServiceUrl::parse(&raw).unwrap();
        let shown = url.redacted();
        prop_assert!(!shown.contains(&pass), "{}", shown);
        prop_assert!(!shown.contains(&token), "{}", shown);
        prop_assert_eq!(url.request(""), raw.replace("/base/?", "/base?"));
        let scrubbed = url.scrub(&format!("error talking to {raw}"));
        prop_assert!(!scrubbed.contains(&pass) && !scrubbed.contains(&token), "{}", scrubbed);
    }
}
