//! `spec-kitty paths` and `spec-kitty env`.

use serde_json::{Map, Value, json};

use super::context::Ctx;
use super::error::CommandError;
use crate::env::{REGISTRY, vars};
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
    Ok(Report::success(Value::Object(fields), human))
}

/// The registry of every variable the product reads, with whether each is set.
pub fn env(ctx: &Ctx) -> Result<Report, CommandError> {
    let mut human = String::new();
    let list: Vec<Value> = REGISTRY
        .iter()
        .map(|spec| {
            let set = ctx.env.get(spec.name).is_some();
            human.push_str(&format!(
                "{}{}\n    {}\n    default: {}\n",
                spec.name,
                if set { " (set)" } else { "" },
                spec.meaning,
                spec.default
            ));
            json!({"name": spec.name, "meaning": spec.meaning, "default": spec.default, "set": set})
        })
        .collect();
    Ok(Report::success(
        json!({ "variables": list }),
        human.trim_end().to_string(),
    ))
}
