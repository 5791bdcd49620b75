//! `spec-kitty-whoami`: the logged-in user's email and private team, as one JSON document.
//!
//! It reads the runtime root and the session exactly as `spec-kitty` does, through the product's
//! stable plugin API, so it cannot drift from it. Run it as `spec-kitty whoami`.
#![allow(clippy::print_stdout)] // this binary's whole job is its stdout document

use std::process::ExitCode;

use serde_json::{Value, json};
use spec_kitty::auth::store::SessionStore;
use spec_kitty::env::Env;
use spec_kitty::identity::MachineIdentity;
use spec_kitty::paths::RuntimeRoot;

fn whoami(env: &Env) -> Result<Value, (&'static str, String)> {
    // The host's root when it ran us (SPEC_KITTY_RUNTIME_ROOT), else the same rule it uses.
    let root =
        RuntimeRoot::for_plugin(env).map_err(|e| ("runtime_root_unresolved", e.to_string()))?;
    let store = SessionStore::new(root.auth_dir(), MachineIdentity::current());
    let session = store
        .read()
        .map_err(|e| ("session_store_unreadable", e.to_string()))?
        .ok_or((
            "not_authenticated",
            "not logged in; run `spec-kitty auth login`".to_string(),
        ))?;
    let private = session
        .private_team()
        .map(|t| json!({"id": t.id, "name": t.name, "slug": t.slug}));
    Ok(json!({
        "result": "success",
        "email": session.email,
        "user_id": session.user_id,
        "private_team": private,
    }))
}

fn main() -> ExitCode {
    let env = Env::from_process();
    let (doc, code) = match whoami(&env) {
        Ok(doc) => (doc, ExitCode::SUCCESS),
        Err((error_code, error)) => (
            json!({"result": "error", "error_code": error_code, "error": error}),
            ExitCode::FAILURE,
        ),
    };
    println!("{doc}");
    code
}
