//! The reference zygote computes what a direct run computes: representative commands run through
//! the zygote and as direct subprocesses, in homes made alike, and the exit code, both streams and
//! every file written in HOME, `SPEC_KITTY_HOME` and the repository must be the same, up to ids and
//! timestamps (and the sandbox's own path).

use std::collections::BTreeMap;
use std::path::Path;

use kitty_testkit::{IsolatedHome, Launch, ReferenceCli, Repo, RunOutput, RunningKitty};

use crate::harness::reference;

/// One side of a comparison: a home, its repository, how the reference runs there, and the files
/// as they were before the current step.
struct Side {
    home: IsolatedHome,
    repo: Repo,
    reference: ReferenceCli,
    before: Tree,
    /// The 8-character prefixes of the mission ids made so far (they name directories and
    /// branches).
    mission_ids: Vec<String>,
}

/// `label/relative path` to kind, mode and raw content.
type Tree = BTreeMap<String, (String, Vec<u8>)>;

impl Side {
    fn new(reference: ReferenceCli, setup: &dyn Fn(&IsolatedHome) -> Repo) -> Self {
        let home = IsolatedHome::builder().refusing_server().build();
        let repo = setup(&home);
        let before = tree(&home, &repo);
        Self {
            home,
            repo,
            reference,
            before,
            mission_ids: Vec::new(),
        }
    }

    /// This step's run done: remember its mission id, and take the files as they are now.
    fn next_step(&mut self, run: &RunOutput) {
        if let Ok(doc) = serde_json::from_str::<serde_json::Value>(run.stdout().trim())
            && let Some(id) = doc["mission_id"].as_str().filter(|s| s.len() == 26)
        {
            self.mission_ids.push(id[..8].to_string());
        }
        self.before = tree(&self.home, &self.repo);
    }

    fn start(&self, args: &[&str]) -> RunningKitty {
        self.home
            .reference_command(&self.reference)
            .current_dir(self.repo.path())
            .args(args)
            .spawn()
    }
}

/// The reference, for tests of the zygote: they fail at once, saying why, with the zygote off;
/// every home is new.
#[track_caller]
fn reference_with_zygote() -> ReferenceCli {
    let off = std::env::var_os(kitty_testkit::zygote::DIRECT_VAR).is_some_and(|v| !v.is_empty());
    assert!(
        !off,
        "{} is set: the reference zygote is off, and this test is about it",
        kitty_testkit::zygote::DIRECT_VAR
    );
    // New homes: the reference's start-up, which writes into HOME, runs in the zygote's child.
    reference().unseeded()
}

/// A direct side and a zygote side made by `setup`.
fn sides(setup: &dyn Fn(&IsolatedHome) -> Repo) -> (Side, Side) {
    let reference = reference_with_zygote();
    (
        Side::new(reference.clone().direct(), setup),
        Side::new(reference, setup),
    )
}

/// Every entry in HOME, `SPEC_KITTY_HOME` and the repository (git's object store, logs, index
/// and refs left out: they hold commit times and the hashes made from them).
fn tree(home: &IsolatedHome, repo: &Repo) -> Tree {
    let mut all = BTreeMap::new();
    let var = |k: &str| home.var(k).unwrap_or_default().to_string();
    for (label, root) in [
        ("HOME", var("HOME")),
        ("SPEC_KITTY_HOME", var("SPEC_KITTY_HOME")),
        ("repo", repo.path().display().to_string()),
    ] {
        walk(Path::new(&root), Path::new(&root), label, &mut all);
    }
    all
}

/// What the run wrote: the entries added or changed since `before` (path normalized, content with
/// the sandbox's path replaced), and the ones it removed.
fn written(side: &Side, n: &Normalizer) -> BTreeMap<String, String> {
    let after = tree(&side.home, &side.repo);
    let mut out = BTreeMap::new();
    for (path, entry) in &after {
        if side.before.get(path) != Some(entry) {
            let (kind, bytes) = entry;
            let text = String::from_utf8_lossy(bytes).replace(&n.root, "<ROOT>");
            out.insert(n.text(path), format!("{kind} {text}"));
        }
    }
    for path in side.before.keys().filter(|p| !after.contains_key(*p)) {
        out.insert(n.text(path), "removed".to_string());
    }
    out
}

fn feature_repo(home: &IsolatedHome) -> Repo {
    home.repo()
        .branch("feat/work")
        .mission_types(&["software-dev", "research"])
        .build()
}

/// Demand the same outcome from the two runs of one step (the direct side's first), and that the
/// zygote ran its side; then take both sides' files as the next step's starting point.
#[track_caller]
fn same_outcome(direct: &mut Side, fast: &mut Side, runs: (RunningKitty, RunningKitty)) -> i32 {
    let (d, f) = (runs.0.wait(), runs.1.wait());
    assert_eq!(d.launch(), &Launch::Direct);
    assert_eq!(f.launch(), &Launch::Zygote, "{f}");
    let diffs = differences((direct, &d), (fast, &f));
    assert!(
        diffs.is_empty(),
        "the zygote's run differs from a direct run:\n  {}\n--- direct ---\n{d}\n--- zygote ---\n{f}",
        diffs.join("\n  "),
    );
    direct.next_step(&d);
    fast.next_step(&f);
    d.code().unwrap_or(-1)
}

/// Run `args` on both sides at once (the runs are independent) and demand the same outcome; the
/// exit code.
#[track_caller]
fn step(direct: &mut Side, fast: &mut Side, args: &[&str]) -> i32 {
    let runs = (direct.start(args), fast.start(args));
    same_outcome(direct, fast, runs)
}

fn differences((a, ra): (&Side, &RunOutput), (b, rb): (&Side, &RunOutput)) -> Vec<String> {
    let (na, nb) = (Normalizer::new(a, ra), Normalizer::new(b, rb));
    let mut diffs = Vec::new();
    if ra.code() != rb.code() {
        diffs.push(format!("exit: {:?} vs {:?}", ra.code(), rb.code()));
    }
    for (name, x, y) in [
        ("stdout", ra.stdout(), rb.stdout()),
        ("stderr", ra.stderr(), rb.stderr()),
    ] {
        let (x, y) = (na.text(x), nb.text(y));
        if x != y {
            diffs.push(format!("{name}:\n{x}\n  vs\n{y}"));
        }
    }
    let (ta, tb) = (written(a, &na), written(b, &nb));
    for path in ta
        .keys()
        .chain(tb.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        match (ta.get(path), tb.get(path)) {
            (Some(x), Some(y)) if x == y => {}
            // Ids and timestamps differ: compare again with them hidden (slower, so only then).
            (Some(x), Some(y)) if na.content(x) == nb.content(y) => {}
            (x, y) => diffs.push(format!("{path}: {x:?} vs {y:?}")),
        }
    }
    for git in [
        &["log", "--all", "--format=%s %D"][..],
        &["status", "--porcelain", "--untracked-files=all"],
    ] {
        // Line order is not compared: `git log --all` orders commits made in the same second
        // by chance.
        let sorted = |t: String| {
            let mut lines: Vec<&str> = t.lines().collect();
            lines.sort_unstable();
            lines.join("\n")
        };
        let (x, y) = (
            sorted(na.text(&a.repo.git(git))),
            sorted(nb.text(&b.repo.git(git))),
        );
        if x != y {
            diffs.push(format!("git {}: {x:?} vs {y:?}", git.join(" ")));
        }
    }
    diffs
}

fn walk(dir: &Path, root: &Path, label: &str, out: &mut Tree) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        let skipped = [
            ".git/objects",
            ".git/logs",
            ".git/index",
            ".git/refs",
            ".git/ORIG_HEAD",
        ];
        if skipped.iter().any(|skip| rel.starts_with(skip)) {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let mode = {
            use std::os::unix::fs::PermissionsExt;
            meta.permissions().mode() & 0o7777
        };
        let key = format!("{label}/{rel}");
        if meta.is_dir() {
            out.insert(key, (format!("dir {mode:o}"), Vec::new()));
            walk(&path, root, label, out);
        } else if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).unwrap_or_default();
            let target = target.as_os_str().as_encoded_bytes().to_vec();
            out.insert(key, ("link".to_string(), target));
        } else {
            let bytes = std::fs::read(&path).unwrap_or_default();
            out.insert(key, (format!("file {mode:o}"), bytes));
        }
    }
}

/// Replaces what differs between two runs of the same command: the sandbox's path, ids (ULIDs,
/// UUIDs, a mission id's 8-character prefix) and ISO timestamps.
struct Normalizer {
    root: String,
    subs: Vec<(String, String)>,
}

impl Normalizer {
    fn new(side: &Side, run: &RunOutput) -> Self {
        let mut ids = side.mission_ids.clone();
        if let Ok(doc) = serde_json::from_str::<serde_json::Value>(run.stdout().trim())
            && let Some(id) = doc["mission_id"].as_str().filter(|s| s.len() == 26)
        {
            ids.push(id[..8].to_string());
        }
        let subs = ids
            .into_iter()
            .enumerate()
            .map(|(i, id)| (id, format!("<ULID8-{i}>")))
            .collect();
        Self {
            root: side.home.path().display().to_string(),
            subs,
        }
    }

    fn text(&self, s: &str) -> String {
        let s = scrub(&s.replace(&self.root, "<ROOT>"));
        self.subs
            .iter()
            .fold(s, |acc, (from, to)| acc.replace(from, to))
    }

    /// A file's content (`kind text`): JSON with the file system's own facts hidden, or text.
    fn content(&self, entry: &str) -> String {
        let (kind, text) = entry.split_once(' ').unwrap_or((entry, ""));
        let (mode, text) = text.split_once(' ').unwrap_or((text, ""));
        let normalized = match serde_json::from_str::<serde_json::Value>(text) {
            Ok(mut doc) => {
                hide_stat_numbers(&mut doc);
                self.text(&doc.to_string())
            }
            Err(_) => self.text(text),
        };
        format!("{kind} {mode} {normalized}")
    }
}

/// A `durable_fingerprint` (another file's inode, mtime and size, and that file is a random seed)
/// and `generated_at`: facts of the file system and the clock.
fn hide_stat_numbers(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, x) in map.iter_mut() {
                match k.as_str() {
                    "durable_fingerprint" => *x = "<STAT>".into(),
                    "generated_at" if x.is_number() => *x = "<N>".into(),
                    _ => hide_stat_numbers(x),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(hide_stat_numbers),
        _ => {}
    }
}

/// ISO timestamps, ULIDs, UUIDs and git object names replaced by placeholders.
fn scrub(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if let Some(n) = timestamp_len(&b[i..]) {
            out.push_str("<TS>");
            i += n;
        } else if let Some(n) = uuid_len(&b[i..]) {
            out.push_str("<UUID>");
            i += n;
        } else if sha_at(b, i) {
            out.push_str("<SHA>");
            i += 40;
        } else if ulid_at(b, i) {
            out.push_str("<ULID>");
            i += 26;
        } else {
            let ch = s[i..].chars().next().unwrap_or('\u{fffd}');
            out.push(ch);
            i += ch.len_utf8().max(1);
        }
    }
    out
}

fn shape(b: &[u8], pattern: &str) -> bool {
    b.len() >= pattern.len()
        && pattern.bytes().zip(b).all(|(p, c)| match p {
            b'9' => c.is_ascii_digit(),
            b'x' => c.is_ascii_hexdigit(),
            other => other == *c,
        })
}

/// `2026-12-04T17:39:57` with optional fraction and zone, or `20261204T173957Z`.
fn timestamp_len(b: &[u8]) -> Option<usize> {
    if shape(b, "99999999T999999Z") {
        return Some(16);
    }
    if !shape(b, "9999-99-99T99:99:99") && !shape(b, "9999-99-99 99:99:99") {
        return None;
    }
    let mut n = 19;
    if b.get(n) == Some(&b'.') {
        n += 1;
        while b.get(n).is_some_and(u8::is_ascii_digit) {
            n += 1;
        }
    }
    if b.get(n) == Some(&b'Z') {
        n += 1;
    } else if shape(&b[n..], "+99:99") || shape(&b[n..], "-99:99") {
        n += 6;
    }
    Some(n)
}

fn uuid_len(b: &[u8]) -> Option<usize> {
    shape(b, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx").then_some(36)
}

/// 40 lowercase hexadecimal digits, with no such digit on either side.
fn sha_at(b: &[u8], i: usize) -> bool {
    let hex = |c: &u8| c.is_ascii_digit() || (b'a'..=b'f').contains(c);
    b.len() >= i + 40
        && b[i..i + 40].iter().all(hex)
        && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
        && b.get(i + 40).is_none_or(|c| !c.is_ascii_alphanumeric())
}

/// 26 Crockford base32 characters, with no such character on either side.
fn ulid_at(b: &[u8], i: usize) -> bool {
    let crockford = |c: &u8| c.is_ascii_digit() || (c.is_ascii_uppercase() && !b"ILOU".contains(c));
    b.len() >= i + 26
        && b[i..i + 26].iter().all(crockford)
        && b[i..i + 26].iter().any(u8::is_ascii_digit)
        && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
        && b.get(i + 26).is_none_or(|c| !c.is_ascii_alphanumeric())
}

#[test]
fn the_normalizer_hides_ids_and_timestamps_only() {
    assert_eq!(
        scrub("at 2026-12-04T17:39:57.353295+00:00 and 2026-12-04T17:39:57Z, 20261204T173957Z"),
        "at <TS> and <TS>, <TS>"
    );
    assert_eq!(
        scrub("id 01M9128BRGWS7R364ZX2A49E1T; u 5f0c8c1e-0000-4000-8000-00000000c0de."),
        "id <ULID>; u <UUID>."
    );
    assert_eq!(
        scrub("commit 081460be917914253baa946e935a547c1d413815\n"),
        "commit <SHA>\n"
    );
    assert_eq!(
        scrub("SPEC_KITTY_ENABLE_SAAS_SYNC_X stays, é too"),
        "SPEC_KITTY_ENABLE_SAAS_SYNC_X stays, é too"
    );
}

/// A create (on a protected branch a `.kitty.env` allows: the child must re-read the operator env
/// files as a fresh interpreter does), a refused create (the file gone), and a command that reads
/// HOME (the seeded session, and what the creates wrote), in one home per side.
#[test]
fn a_create_a_refused_create_and_a_command_reading_home_are_the_same_through_the_zygote() {
    let setup = |home: &IsolatedHome| {
        home.seed(&kitty_testkit::SessionSeed::with_private_team());
        let repo = home.repo().branch("main").build();
        home.write_repo_kitty_env(&repo, &[("SPEC_KITTY_ALLOW_PROTECTED_BRANCH_COMMITS", "1")]);
        repo
    };
    let create = |slug| ["agent", "mission", "create", slug, "--json"];
    // The zygote keeps the YAML the reference parses: a create in another home fills the cache,
    // so the compared zygote runs below parse from it.
    let warm = Side::new(reference_with_zygote(), &setup);
    warm.start(&create("demo-zero")).wait().assert_success();
    let status: serde_json::Value = serde_json::from_str(
        &warm
            .reference
            .zygote_status(&warm.home)
            .unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap();
    let cache = Path::new(status["yaml_cache"].as_str().expect("the YAML cache is on"));
    let kept = std::fs::read_dir(cache)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "pickle"))
        })
        .count();
    assert!(kept > 0, "nothing kept in {}", cache.display());
    let (mut direct, mut fast) = sides(&setup);
    assert_eq!(step(&mut direct, &mut fast, &create("demo-one")), 0);
    for side in [&mut direct, &mut fast] {
        side.home.clear_kitty_env_files();
        side.before = tree(&side.home, &side.repo);
    }
    assert_ne!(step(&mut direct, &mut fast, &create("demo-two")), 0);
    step(&mut direct, &mut fast, &["auth", "status"]);
}

#[test]
fn help_and_an_unknown_command_are_the_same_through_the_zygote() {
    let (mut help_d, mut help_f) = sides(&feature_repo);
    let (mut unknown_d, mut unknown_f) = sides(&feature_repo);
    // All four at once: none of them writes a file.
    let help = (help_d.start(&["--help"]), help_f.start(&["--help"]));
    let unknown = (
        unknown_d.start(&["no-such-command"]),
        unknown_f.start(&["no-such-command"]),
    );
    assert_eq!(same_outcome(&mut help_d, &mut help_f, help), 0);
    assert_ne!(same_outcome(&mut unknown_d, &mut unknown_f, unknown), 0);
}

#[test]
fn a_variable_the_import_read_set_by_an_env_file_keeps_the_run_out_of_the_zygote() {
    let home = IsolatedHome::new();
    let repo = feature_repo(&home);
    let reference = reference_with_zygote();
    assert_eq!(
        reference.zygote_would_run(&home, repo.path(), &["--version"]),
        Ok(())
    );
    home.write_repo_kitty_env(&repo, &[("NO_COLOR", "1")]);
    let why = reference
        .zygote_would_run(&home, repo.path(), &["--version"])
        .unwrap_err();
    assert!(
        why.starts_with("NO_COLOR (read while importing) is '1', the zygote's None"),
        "{why}"
    );
}

/// What an interpreter's start-up decided, as the zygote's status reports it.
const STARTUP_PROBE: &str = "import json, os, sys\n\
    print(json.dumps({'utf8_mode': sys.flags.utf8_mode, \
    'stdout': [sys.stdout.encoding, sys.stdout.errors, sys.stdout.line_buffering], \
    'filesystem': [sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()], \
    'env': dict(os.environ)}))";

#[test]
fn every_variable_the_import_reads_is_handled_or_picks_the_server() {
    let home = IsolatedHome::new();
    let status = reference_with_zygote()
        .zygote_status(&home)
        .unwrap_or_else(|e| panic!("{e}"));
    let doc: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(doc["problems"], serde_json::json!([]), "{status}");
    assert_eq!(doc["prebuilt_command"], true, "{status}");
    let compared = doc["compared"].as_object().unwrap();
    let stray: Vec<&String> = compared
        .keys()
        .filter(|k| !kitty_testkit::zygote::is_variant(k))
        .collect();
    assert!(
        stray.is_empty(),
        "read while importing but not a server-picking variable (add to zygote::is_variant): \
         {stray:?}\n{status}"
    );
    assert!(
        compared.contains_key("SPEC_KITTY_ENABLE_SAAS_SYNC"),
        "{status}"
    );
    // The interpreter started as a direct run's does: the same start-up facts, from a probe run
    // by the reference's own interpreter under the same environment.
    let shebang = std::fs::read_to_string(reference().path()).unwrap();
    let mut interpreter = shebang.lines().next().unwrap()[2..].split_whitespace();
    let probe = std::process::Command::new(interpreter.next().unwrap())
        .args(interpreter)
        .arg("-c")
        .arg(STARTUP_PROBE)
        .env_clear()
        .envs(home.env_map())
        .output()
        .unwrap();
    let mut direct: serde_json::Value = serde_json::from_slice(&probe.stdout).unwrap();
    let env = direct["env"].take();
    direct["added_env"] = env
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| home.var(k).is_none())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect::<serde_json::Map<_, _>>()
        .into();
    direct.as_object_mut().unwrap().remove("env");
    assert_eq!(
        doc["startup"], direct,
        "the zygote's start-up vs a direct one"
    );
    let handled = doc["handled"].to_string();
    for reset in [
        "load_operator_env_file",
        "tool_checker",
        "upgrade_check",
        "rich/__init__",
    ] {
        assert!(handled.contains(reset), "{reset} not in {handled}");
    }
}

#[test]
fn a_zygote_that_cannot_import_the_reference_falls_back_loudly() {
    let reference = reference_with_zygote();
    let python = reference.path().with_file_name("python3");
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("venv/bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = bin.join("spec-kitty");
    // `-S`: no site-packages, so `specify_cli` cannot be imported.
    std::fs::write(
        &script,
        format!(
            "#!{} -S\nimport sys\nfrom specify_cli import main\nsys.exit(main())\n",
            python.display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let home = IsolatedHome::new();
    let run = home
        .reference_command(&ReferenceCli::at(&script))
        .arg("--version")
        .run();
    run.assert_code(1)
        .assert_stderr_contains("ModuleNotFoundError");
    match run.launch() {
        Launch::DirectAfterZygote(why) => {
            assert!(why.contains("importing the reference failed"), "{why}")
        }
        other => panic!("expected a loud fallback, got {other:?}\n{run}"),
    }
}

#[test]
fn a_zygote_run_can_be_killed() {
    let home = IsolatedHome::new();
    let running = home
        .reference_command(&reference_with_zygote())
        .args(["--help"])
        .spawn();
    let run = running.kill();
    assert_eq!(run.launch(), &Launch::Zygote);
    // Killed, or done before the kill arrived.
    assert!(run.code().is_none() || run.code() == Some(0), "{run}");
}
