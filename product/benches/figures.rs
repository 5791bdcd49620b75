//! The figures the issues ask for, each with a baseline measured in the same run.
//!
//! Run with `cargo bench -p spec-kitty --bench figures` (release profile). Not a test: nothing here
//! asserts a time.
#![allow(clippy::print_stdout)]

use std::process::Command;
use std::time::{Duration, Instant};

use kitty_testkit::{FakeSaas, IsolatedHome, SessionSeed, SpecKittyBin};
use spec_kitty::identity::MachineIdentity;
use spec_kitty::sync::envelope::{EnvelopeDraft, MissionCreated, Producer};
use spec_kitty::sync::final_sync::SyncInputs;
use spec_kitty::sync::outbox::Outbox;
use spec_kitty::sync::settings::SyncSettings;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time_runs(n: usize, mut f: impl FnMut()) -> Duration {
    f(); // warm up
    median(
        (0..n)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn row(name: &str, value: Duration, target_ms: f64, baseline_name: &str, baseline: Duration) {
    println!(
        "{name:<44} {:>9.2} ms  (target < {target_ms} ms)  = {:>6.1}x {baseline_name} ({:.2} ms)",
        ms(value),
        value.as_secs_f64() / baseline.as_secs_f64().max(1e-9),
        ms(baseline)
    );
}

fn draft(i: usize) -> EnvelopeDraft {
    let id = spec_kitty::ids::ulid(chrono::Utc::now());
    MissionCreated::sample(&id, &format!("m-{i}")).draft(chrono::Utc::now(), &Producer::example())
}

fn main() {
    let bin = SpecKittyBin::at(env!("CARGO_BIN_EXE_spec-kitty"));
    let runs = 15;

    // --- CLI start-up and auth status -------------------------------------------------------
    let home = IsolatedHome::builder().binary(bin.clone()).build();
    let spawn_true = time_runs(runs, || {
        let _ = Command::new("true").status();
    });
    let version = time_runs(runs, || {
        home.command().arg("--version").run().assert_success();
    });
    row(
        "spec-kitty --version",
        version,
        5.0,
        "spawn of `true`",
        spawn_true,
    );
    home.seed(&SessionSeed::with_private_team());
    let status = time_runs(runs, || {
        home.command()
            .args(["auth", "status", "--json"])
            .run()
            .assert_success();
    });
    row(
        "auth status --json (seeded session)",
        status,
        120.0,
        "--version",
        version,
    );

    // --- mission create, the seed scenario ---------------------------------------------------
    let home = IsolatedHome::builder()
        .binary(bin.clone())
        .sync(true)
        .refusing_server()
        .build();
    home.seed(&SessionSeed::shared_only());
    let repo = home.repo().build();
    let mut i = 0;
    let create = time_runs(runs, || {
        i += 1;
        home.command()
            .current_dir(repo.path())
            .args([
                "agent",
                "mission",
                "create",
                &format!("bench-{i}"),
                "--json",
            ])
            .run()
            .assert_success();
    });
    let git_status = time_runs(runs, || {
        let _ = repo.git(&["status", "--porcelain"]);
    });
    row(
        "mission create --json (shared-only, refused)",
        create,
        120.0,
        "`git status`",
        git_status,
    );

    // --- paired against the reference CLI on a reference-initialised repo ---------------------
    match kitty_testkit::ReferenceCli::locate() {
        Err(e) => println!("paired with the reference: skipped ({e})"),
        Ok(reference) => {
            paired_create(&bin, &reference, true);
            paired_create(&bin, &reference, false);
        }
    }

    // Peak RSS of one mission create, measured by the kernel for a child of python3.
    let rss = Command::new("python3")
        .args([
            "-c",
            "import resource,subprocess,sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
        ])
        .arg(bin.path())
        .args(["agent", "mission", "create", "rss-probe", "--json"])
        .current_dir(repo.path())
        .env_clear()
        .envs(home.env_map())
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse::<u64>().ok());
    let rss_version = Command::new("python3")
        .args([
            "-c",
            "import resource,subprocess,sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
        ])
        .arg(bin.path())
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse::<u64>().ok());
    if let (Some(kb), Some(base)) = (rss, rss_version) {
        println!(
            "{:<44} {:>9.1} MB  (target < 40 MB)  = {:>6.1}x --version ({:.1} MB)",
            "mission create peak RSS",
            kb as f64 / 1024.0,
            kb as f64 / base.max(1) as f64,
            base as f64 / 1024.0
        );
    }

    // --- outbox append: 10 000 durable appends ----------------------------------------------
    let dir = tempfile::tempdir().unwrap();
    let n = 10_000;
    let mut outbox = Outbox::open(&dir.path().join("append.sqlite3")).unwrap();
    let t = Instant::now();
    for i in 0..n {
        outbox.append(draft(i)).unwrap();
    }
    let appends = t.elapsed();
    let mut batched = Outbox::open(&dir.path().join("batched.sqlite3")).unwrap();
    let t = Instant::now();
    batched.append_all((0..n).map(draft).collect()).unwrap();
    let append_all = t.elapsed();
    // Baseline: the same rows through raw SQLite with the same durability, one commit each.
    let raw = rusqlite::Connection::open(dir.path().join("raw.sqlite3")).unwrap();
    raw.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t (id TEXT, body TEXT);",
    )
    .unwrap();
    let body = serde_json::to_string(&draft(0).stamp(1)).unwrap();
    let t = Instant::now();
    for i in 0..n {
        raw.execute(
            "INSERT INTO t VALUES (?1, ?2)",
            rusqlite::params![i.to_string(), body],
        )
        .unwrap();
    }
    let raw_time = t.elapsed();
    row(
        "append 10 000 events, one durable commit each",
        appends,
        1000.0,
        "raw SQLite inserts",
        raw_time,
    );
    row(
        "append 10 000 events, one transaction",
        append_all,
        1000.0,
        "raw SQLite inserts",
        raw_time,
    );

    // --- drain 10 000 events to FakeSaas ------------------------------------------------------
    let saas = FakeSaas::start();
    let home = IsolatedHome::builder()
        .binary(bin)
        .fake_saas(&saas)
        .sync(true)
        .build();
    home.seed(&SessionSeed::with_private_team());
    let root = home.runtime_root();
    let mut outbox = Outbox::open(&root.outbox_db()).unwrap();
    outbox.append_all((0..n).map(draft).collect()).unwrap();
    drop(outbox);
    let env = home.env();
    let identity = MachineIdentity::current();
    let inputs = SyncInputs {
        env: &env,
        root: &root,
        identity: &identity,
        clock: spec_kitty::clock::Clock::system(),
    };
    let t = Instant::now();
    let outcome = inputs.drain_with(&SyncSettings::from_env(&env), None, 3, &mut |_, _| {});
    let drain = t.elapsed();
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(outcome.report.delivered, n as u64);
    // Baseline: the same number of batch requests, each with an empty body, straight through ureq.
    let client = spec_kitty::saas::SaasClient::new(
        &spec_kitty::saas::url::ServiceUrl::parse(&saas.url()).unwrap(),
        Duration::from_secs(10),
    );
    let t = Instant::now();
    for _ in 0..outcome.report.batches {
        client
            .post_batch::<serde_json::Value>("bench-token", &[])
            .unwrap();
    }
    let empty_posts = t.elapsed();
    row(
        &format!("drain 10 000 events ({} batches)", outcome.report.batches),
        drain,
        3000.0,
        "empty batch posts",
        empty_posts,
    );
}

/// Mission create, kitty and the reference interleaved in one home on a reference-initialised
/// repository; `seed`: the seed scenario (shared-only session, sync on, refusing server), else
/// sync off and no session.
fn paired_create(bin: &SpecKittyBin, reference: &kitty_testkit::ReferenceCli, seed: bool) {
    let home = if seed {
        IsolatedHome::builder()
            .binary(bin.clone())
            .sync(true)
            .refusing_server()
            .build()
    } else {
        IsolatedHome::builder().binary(bin.clone()).build()
    };
    if seed {
        home.seed(&SessionSeed::shared_only());
    }
    let repo = home
        .repo()
        .branch("main")
        .build_with_reference(reference, "feat/bench");
    let pairs = 5;
    let (mut k, mut r) = (Vec::new(), Vec::new());
    for i in 0..=pairs {
        let slug = format!("paired-{i}");
        let args = ["agent", "mission", "create", slug.as_str(), "--json"];
        let t = Instant::now();
        home.command()
            .current_dir(repo.path())
            .args(args)
            .run()
            .assert_success();
        let kd = t.elapsed();
        let t = Instant::now();
        home.reference_command(reference)
            .current_dir(repo.path())
            .args(args)
            .run()
            .assert_success();
        let rd = t.elapsed();
        if i > 0 {
            // the first pair warms caches
            k.push(kd);
            r.push(rd);
        }
    }
    let (k, r) = (median(k), median(r));
    let name = if seed {
        "mission create, seed scenario, paired"
    } else {
        "mission create, sync off, paired"
    };
    println!(
        "{name:<44} {:>9.2} ms  vs reference {:.2} ms  = {:.1}x faster (target >= 25x; {pairs} interleaved pairs)",
        ms(k),
        ms(r),
        r.as_secs_f64() / k.as_secs_f64().max(1e-9)
    );
}
