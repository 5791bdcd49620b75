//! In-process: drive the sync layer through every failure path with this process's stdout
//! redirected to a file, and prove nothing reached it. (Its own binary: it redirects fd 1.)
//! Unix-only: the redirection is rustix's `dup`/`dup2` of file descriptor 1.
#![cfg(unix)]

use std::io::Read;
use std::time::Duration;

use kitty_testkit::{
    BatchAnswer, FakeSaas, IsolatedHome, IsolatedHomeBuilder, SessionSeed,
    SyncDiagnosticCode as Code,
};
use spec_kitty::identity::MachineIdentity;
use spec_kitty::internals::mission::recover::recover;
use spec_kitty::internals::services::Services;
use spec_kitty::internals::settings::Settings;
use spec_kitty::internals::sync::envelope::{MissionCreated, Producer};
use spec_kitty::internals::sync::final_sync::{SyncInputs, final_sync};
use spec_kitty::internals::sync::outbox::Outbox;

fn queue_one(home: &IsolatedHome) {
    let mut outbox = Outbox::open(&home.runtime_root().outbox_db()).unwrap();
    outbox
        .append(
            MissionCreated::sample("01JDJ7Y3ZK0000000000000001", "m-1")
                .draft(chrono::Utc::now(), &Producer::example()),
        )
        .unwrap();
}

fn run_final_sync(home: &IsolatedHome) -> Option<Code> {
    let env = home.env();
    let services = Services::new(
        &env,
        home.runtime_root(),
        &MachineIdentity::current(),
        Settings::from_env(&env),
        spec_kitty::internals::clock::Clock::system(),
    );
    let recover = |outbox: &mut Outbox| recover(&env, outbox, None).map(|_| ());
    let inputs = SyncInputs {
        services: &services,
        recover: &recover,
    };
    final_sync(&inputs).map(|e| e.code())
}

fn home(builder: IsolatedHomeBuilder) -> IsolatedHome {
    builder
        .sync(true)
        .env("SPEC_KITTY_LOCK_BUDGET_MS", "150")
        .env("SPEC_KITTY_HTTP_TIMEOUT_MS", "200")
        .build()
}

#[test]
fn sync_failure_paths_write_nothing_to_stdout() {
    let captured = tempfile::tempfile().unwrap();
    let saved = rustix::io::dup(std::io::stdout()).unwrap();
    rustix::stdio::dup2_stdout(&captured).unwrap();

    let mut results = Vec::new();
    // Refused connection (private team: the batch itself fails).
    let h = home(IsolatedHome::builder().refusing_server());
    h.seed(&SessionSeed::with_private_team());
    queue_one(&h);
    results.push(("refused", run_final_sync(&h), Some(Code::ServerUnavailable)));
    // Timeout.
    let saas = FakeSaas::start();
    saas.set_batch_delay(Duration::from_millis(1500));
    let h = home(IsolatedHome::builder().fake_saas(&saas));
    h.seed(&SessionSeed::with_private_team());
    queue_one(&h);
    results.push(("timeout", run_final_sync(&h), Some(Code::ServerUnavailable)));
    // 401 after one refresh.
    let saas = FakeSaas::start();
    saas.push_batch_answers([BatchAnswer::Status(401), BatchAnswer::Status(401)]);
    let h = home(IsolatedHome::builder().fake_saas(&saas));
    h.seed(&SessionSeed::with_private_team());
    queue_one(&h);
    results.push(("401", run_final_sync(&h), Some(Code::ServerAuthFailure)));
    // 5xx.
    let saas = FakeSaas::start();
    saas.push_batch_answers([BatchAnswer::Status(502), BatchAnswer::Status(503)]);
    let h = home(IsolatedHome::builder().fake_saas(&saas));
    h.seed(&SessionSeed::with_private_team());
    queue_one(&h);
    results.push(("5xx", run_final_sync(&h), Some(Code::ServerUnavailable)));
    // No private team.
    let h = home(IsolatedHome::builder().refusing_server());
    h.seed(&SessionSeed::shared_only());
    queue_one(&h);
    results.push((
        "no private team",
        run_final_sync(&h),
        Some(Code::DirectIngressMissingPrivateTeam),
    ));
    // Drain lock held.
    let saas = FakeSaas::start();
    let h = home(IsolatedHome::builder().fake_saas(&saas));
    h.seed(&SessionSeed::with_private_team());
    queue_one(&h);
    let held = h.hold_drain_lock();
    results.push((
        "drain lock",
        run_final_sync(&h),
        Some(Code::FinalSyncLockUnavailable),
    ));
    drop(held);
    // Refresh lock held.
    let h = home(IsolatedHome::builder().fake_saas(&saas));
    h.seed(&SessionSeed::with_private_team().access_expired());
    queue_one(&h);
    let _held = h.hold_refresh_lock();
    results.push((
        "refresh lock",
        run_final_sync(&h),
        Some(Code::AuthRefreshInProgress),
    ));
    // No session.
    let h = home(IsolatedHome::builder().refusing_server());
    queue_one(&h);
    results.push((
        "no session",
        run_final_sync(&h),
        Some(Code::ServerAuthFailure),
    ));

    rustix::stdio::dup2_stdout(&saved).unwrap();
    let mut written = String::new();
    let mut captured = captured;
    use std::io::Seek;
    captured.rewind().unwrap();
    captured.read_to_string(&mut written).unwrap();
    for (path, got, expected) in &results {
        assert_eq!(got, expected, "failure path {path}");
    }
    assert_eq!(written, "", "the sync layer wrote to stdout");
}

#[test]
fn the_stdout_probe_itself_sees_a_write() {
    // Test of the test: a write to fd 1 while redirected is caught.
    let captured = tempfile::tempfile().unwrap();
    let saved = rustix::io::dup(std::io::stdout()).unwrap();
    rustix::stdio::dup2_stdout(&captured).unwrap();
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(b"leak\n");
        let _ = out.flush();
    }
    rustix::stdio::dup2_stdout(&saved).unwrap();
    let mut captured = captured;
    use std::io::Seek;
    captured.rewind().unwrap();
    let mut written = String::new();
    captured.read_to_string(&mut written).unwrap();
    assert_eq!(written, "leak\n");
}
