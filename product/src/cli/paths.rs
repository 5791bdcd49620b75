//! `spec-kitty paths` and `spec-kitty env`.

use serde_json::{Map, Value, json};

use super::context::Ctx;
use super::error::CommandError;
use crate::env::{REGISTRY, VarSource, vars};
use crate::output::Report;

/// Every resolved location: the user's "where does it read?" and the testkit's drift canary.
pub fn paths(ctx: &Ctx) -> Result<Report, CommandError> {
    let root = ctx.root()?;
    let source = if ctx.env.non_empty(vars::SPEC_KITTY_HOME).is_some() {
        vars::SPEC_KITTY_HOME
    } else if cfg!(windows) {
        vars::LOCALAPPDATA
    } else {
        vars::HOME
    };
    let mut fields = Map::new();
    let mut human = String::new();
    for loc in root.locations() {
        human.push_str(&format!("{:<13} {}\n", loc.name, loc.path.display()));
        fields.insert(
            loc.name.into(),
            Value::String(loc.path.to_string_lossy().into_owned()),
        );
    }
    fields.insert("root_source".into(), source.into());
    human.push_str(&format!("{:<13} {source}", "root_source"));
    let files: Vec<Value> = ctx
        .env
        .env_files()
        .iter()
        .map(|f| {
            human.push_str(&format!(
                "\n{:<13} {} ({}{})",
                format!("env_file:{}", f.tier.as_str()),
                f.path.display(),
                if f.present { "present" } else { "absent" },
                if f.applied.is_empty() {
                    String::new()
                } else {
                    format!("; sets {}", f.applied.join(", "))
                }
            ));
            json!({
                "tier": f.tier.as_str(),
                "path": f.path,
                "present": f.present,
                "applied": f.applied,
                "ignored": f.ignored,
            })
        })
        .collect();
    fields.insert("env_files".into(), Value::Array(files));
    let (reference, line) = reference(ctx);
    fields.insert("reference".into(), reference);
    human.push_str(&format!("\n{:<13} {line}", "reference"));
    Ok(Report::success(Value::Object(fields), human))
}

/// The reference CLI that commands kitty does not implement run through, as a JSON value
/// (`{path, found_by, version}`, or `{path: null, why}`) and in words.
fn reference(ctx: &Ctx) -> (Value, String) {
    let me = std::env::current_exe().ok();
    match super::delegate::find(&ctx.env, me.as_deref()) {
        Ok(r) => {
            let version = r.version();
            let line = format!(
                "{} ({}, spec-kitty-cli {})",
                r.path.display(),
                r.found_by,
                version.as_deref().unwrap_or("version unknown")
            );
            (
                json!({"path": r.path, "found_by": r.found_by, "version": version}),
                line,
            )
        }
        Err(why) => (
            json!({"path": null, "found_by": null, "version": null, "why": why.to_string()}),
            format!(
                "none ({why}); install it with `{}`",
                super::delegate::INSTALL_LINE
            ),
        ),
    }
}

/// The registry of every variable the product reads, with whether each is set.
pub fn env(ctx: &Ctx) -> Result<Report, CommandError> {
    let mut human = String::new();
    let list: Vec<Value> = REGISTRY
        .iter()
        .map(|spec| {
            let set = ctx.env.get(spec.name).is_some();
            let (source, file) = match ctx.env.source(spec.name) {
                VarSource::Process => ("process", None),
                VarSource::File(f) => ("file", Some(f)),
                VarSource::Default => ("default", None),
            };
            human.push_str(&format!(
                "{}{}\n    {}\n    default: {}\n",
                spec.name,
                match &file {
                    Some(f) => format!(" (set by {})", f.display()),
                    None if set => " (set)".to_string(),
                    None => String::new(),
                },
                spec.meaning,
                spec.default
            ));
            json!({
                "name": spec.name, "meaning": spec.meaning, "default": spec.default, "set": set,
                "source": source, "file": file,
            })
        })
        .collect();
    let (reference, line) = reference(ctx);
    human.push_str(&format!("\nreference CLI: {line}\n"));
    Ok(Report::success(
        json!({ "variables": list, "reference": reference }),
        human.trim_end().to_string(),
    ))
}
