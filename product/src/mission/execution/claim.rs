//! What a claim (`agent action implement`, `agent action review`) is asked and what it answers.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::mission::status::event::Transition;

/// What was asked.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The work package (`WP01`, `wp01`, `WP01-slug`), or none (the reference's selection).
    pub wp: Option<String>,
    /// `--mission`.
    pub mission: Option<String>,
    /// `--agent`.
    pub agent: Option<String>,
    /// Options kitty leaves to the reference, given.
    pub delegated: Vec<&'static str>,
}

/// The answer.
#[derive(Debug)]
pub enum Outcome {
    /// A document, its human form, the exit status; the hops recorded (for their events).
    Done {
        /// The document.
        doc: Value,
        /// The reference's lines.
        human: String,
        /// 0, or 1 for a refusal.
        code: u8,
        /// The hops recorded, in order (none for a refusal or a resume).
        claimed: Vec<Transition>,
        /// The mission directory (for the events).
        mission_dir: PathBuf,
    },
    /// Input kitty leaves to the reference, and why.
    NeedsReference(String),
}

impl Outcome {
    /// A refusal: the branch line, then the reference's lines (the document has the lines alone).
    pub fn refused(banner: &str, lines: &[String], code: &str, mission_dir: &Path) -> Self {
        Self::Done {
            doc: json!({"result": "error", "error": lines.join("\n"), "error_code": code}),
            human: format!("{banner}\n{}", lines.join("\n")),
            code: 1,
            claimed: Vec::new(),
            mission_dir: mission_dir.to_path_buf(),
        }
    }
}
