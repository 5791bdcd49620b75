//! Every token a test seeded or a FakeSaas issued. Every run through the harness fails if one of
//! them appears on stdout or stderr, whatever the log level.

use std::sync::{Arc, Mutex};

/// A shared, growing set of secrets.
#[derive(Debug, Clone, Default)]
pub(crate) struct Secrets(Arc<Mutex<Vec<String>>>);

impl Secrets {
    pub(crate) fn add(&self, secret: &str) {
        let mut v = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if !secret.is_empty() && !v.iter().any(|s| s == secret) {
            v.push(secret.to_string());
        }
    }

    pub(crate) fn all(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The first secret found in `text`, if any.
    pub(crate) fn find_in(&self, text: &str) -> Option<String> {
        self.all().into_iter().find(|s| text.contains(s.as_str()))
    }
}

/// Where a run must look for secrets: the home's own and those of the FakeSaas it points at.
#[derive(Debug, Clone, Default)]
pub(crate) struct SecretSources(pub(crate) Vec<Secrets>);

impl SecretSources {
    pub(crate) fn leaked(&self, stdout: &str, stderr: &str) -> Option<String> {
        self.0
            .iter()
            .find_map(|s| s.find_in(stdout).or_else(|| s.find_in(stderr)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_on_either_stream_of_any_source_is_a_leak() {
        let home = Secrets::default();
        home.add("tok-home");
        home.add("tok-home");
        home.add("");
        assert_eq!(
            home.all(),
            ["tok-home"],
            "added once, and never the empty string"
        );
        let saas = Secrets::default();
        saas.add("tok-saas");
        let sources = SecretSources(vec![home.clone(), saas.clone()]);
        assert_eq!(sources.leaked("clean", "clean"), None);
        assert_eq!(sources.leaked("x tok-home x", ""), Some("tok-home".into()));
        assert_eq!(sources.leaked("", "x tok-saas x"), Some("tok-saas".into()));
        assert_eq!(home.find_in("tok-hom"), None);
        // A clone shares the set: a token issued later is still guarded.
        saas.clone().add("tok-late");
        assert_eq!(sources.leaked("", "tok-late"), Some("tok-late".into()));
        assert_eq!(
            SecretSources::default().leaked("tok-home", "tok-saas"),
            None
        );
    }
}
