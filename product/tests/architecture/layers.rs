//! The layering rule, checked: every `crate::<module>` reference in `product/src` (in `use` items
//! and in paths, comments and string literals ignored) points to the same or a lower layer.
//! [`LAYERS`] is the one statement of the table; ARCHITECTURE.md quotes it.

/// The layers, lowest first: a module may use its own layer and those below it, never above.
/// `lib` and `main` are the crate root (`crate::VERSION` belongs to it).
const LAYERS: &[(&str, &[&str])] = &[
    (
        "ground",
        &["env", "clock", "lock", "ids", "identity", "pyfmt"],
    ),
    ("base", &["paths", "env_file", "settings", "output"]),
    ("saas", &["saas"]),
    ("auth", &["auth"]),
    ("runtime", &["runtime_config", "services"]),
    ("sync", &["sync"]),
    ("mission", &["mission", "missions"]),
    ("cli", &["cli"]),
    ("root", &["lib", "main"]),
];

/// The layer of `module` (its index in [`LAYERS`]), `None` when the table does not list it.
fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, ms)| ms.contains(&module))
}

/// The table as ARCHITECTURE.md quotes it, one layer a line.
fn rendered() -> String {
    LAYERS
        .iter()
        .enumerate()
        .map(|(i, (name, ms))| format!("{i} {name}: {}\n", ms.join(", ")))
        .collect()
}

/// `text` with comments and the contents of string and character literals blanked (newlines
/// kept, so line numbers still hold).
fn code_only(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    while i < c.len() {
        let next = c.get(i + 1).copied();
        if c[i] == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
        } else if c[i] == 'r'
            && (next == Some('"') || next == Some('#'))
            && (i == 0 || !(c[i - 1].is_alphanumeric() || c[i - 1] == '_'))
        {
            // A raw string: r"..." or r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while c.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if c.get(j) != Some(&'"') {
                out.push(c[i]);
                i += 1;
                continue;
            }
            i = j + 1;
            while i < c.len() {
                if c[i] == '"' && (1..=hashes).all(|k| c.get(i + k) == Some(&'#')) {
                    i += 1 + hashes;
                    break;
                }
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    blank(&mut out, c[i]);
                    i += 1;
                }
                if i < c.len() {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
            i += 1;
        } else if c[i] == '\'' && (next == Some('\\') || c.get(i + 2) == Some(&'\'')) {
            // A character literal (a lifetime has no closing quote two characters on).
            i += 1;
            while i < c.len() && c[i] != '\'' {
                if c[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// Every `crate::<module>` reference in `code`: (line, module), grouped imports
/// (`crate::{a, b::c}`) included.
fn references(code: &str) -> Vec<(usize, String)> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|ch| ch.is_alphanumeric() || *ch == '_')
            .collect()
    };
    let mut found = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let mut rest = line;
        let mut offset = 0;
        while let Some(at) = rest.find("crate::") {
            let before = line[..offset + at].chars().next_back();
            let after = &rest[at + "crate::".len()..];
            let standalone = !before.is_some_and(|b| b.is_alphanumeric() || b == '_' || b == '$');
            if standalone {
                if let Some(group) = after.strip_prefix('{') {
                    let inner = group.split('}').next().unwrap_or_default();
                    for item in inner.split(',') {
                        let m = ident(item.trim());
                        if !m.is_empty() {
                            found.push((n + 1, m));
                        }
                    }
                } else {
                    found.push((n + 1, ident(after)));
                }
            }
            offset += at + "crate::".len();
            rest = &line[offset..];
        }
    }
    found
}

/// The module a file under `src` belongs to: its first path component, without `.rs`.
fn module_of(relative: &std::path::Path) -> String {
    let first = relative
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    first.trim_end_matches(".rs").to_string()
}

/// The module a referenced name belongs to: an item of the crate root (`VERSION`, `run_cli`,
/// `internals`, `__testkit`) is `lib`'s.
fn target_module(name: &str) -> &str {
    if layer_of(name).is_some() {
        name
    } else if name.chars().next().is_some_and(char::is_uppercase)
        || [
            "quick_version",
            "run_cli",
            "internals",
            "__testkit",
            "chrono",
        ]
        .contains(&name)
    {
        "lib"
    } else {
        name
    }
}

/// Every violation in the file `relative` (under `src`) with text `text`.
fn violations(relative: &std::path::Path, text: &str) -> Vec<String> {
    let module = module_of(relative);
    let Some(own) = layer_of(&module) else {
        return vec![format!(
            "src/{}: module `{module}` is not in the layer table (add it to LAYERS in product/tests/architecture/layers.rs)",
            relative.display()
        )];
    };
    let mut bad = Vec::new();
    for (line, name) in references(&code_only(text)) {
        let target = target_module(&name);
        match layer_of(target) {
            None => bad.push(format!(
                "src/{}:{line}: `crate::{name}` names a module that is not in the layer table",
                relative.display()
            )),
            Some(theirs) if theirs > own => bad.push(format!(
                "src/{}:{line}: {module} (layer {own} `{}`) imports crate::{name} (layer {theirs} `{}`), a higher layer",
                relative.display(),
                LAYERS[own].0,
                LAYERS[theirs].0
            )),
            Some(_) => {}
        }
    }
    bad
}

#[test]
fn no_module_imports_a_higher_layer() {
    let bad: Vec<String> = super::sources()
        .iter()
        .flat_map(|(file, text)| violations(std::path::Path::new(file), text))
        .collect();
    assert!(
        bad.is_empty(),
        "data flows one way (ARCHITECTURE.md); these reach up:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_checker_sees_paths_and_groups_but_not_comments_or_strings() {
    let text = "use crate::env::Env;\n// crate::cli in a comment\nlet s = \"crate::cli\";\nlet r = r#\"crate::cli\"#;\n/* crate::cli */ let c = '\"';\nuse crate::{paths, sync::outbox};\nfn f<'a>(x: &'a str) { crate::cli::run(); my_crate::cli(); }\nlet v = crate::VERSION;\n";
    let refs = references(&code_only(text));
    assert_eq!(
        refs,
        vec![
            (1, "env".to_string()),
            (6, "paths".to_string()),
            (6, "sync".to_string()),
            (7, "cli".to_string()),
            (8, "VERSION".to_string()),
        ]
    );
    let bad = violations(std::path::Path::new("auth/x.rs"), text);
    assert_eq!(bad.len(), 3, "{bad:#?}");
    assert_eq!(
        bad[0],
        "src/auth/x.rs:6: auth (layer 3 `auth`) imports crate::sync (layer 5 `sync`), a higher layer"
    );
    assert!(
        bad[2].contains("crate::VERSION (layer 8 `root`)"),
        "{bad:#?}"
    );
    assert_eq!(
        violations(std::path::Path::new("newthing.rs"), ""),
        vec![
            "src/newthing.rs: module `newthing` is not in the layer table (add it to LAYERS in product/tests/architecture/layers.rs)"
        ]
    );
}

#[test]
fn architecture_md_quotes_the_table() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ARCHITECTURE.md"),
    )
    .expect("ARCHITECTURE.md is readable");
    assert!(
        doc.contains(&rendered()),
        "ARCHITECTURE.md must quote the layer table exactly:\n{}",
        rendered()
    );
}
