//! `agent action review`, through kitty and through the reference on the same coordinated
//! mission whose WP01 waits for review in a lane worktree that holds its work: the claim (the
//! status line, its annotation, the two commits on the coordination branch), the lane brought up
//! to date, the review lock, and the commands printed after; the refusals before a claim.
//! Compared exit code, files, commits, branches and work trees; the text line by line, the
//! prompt's path and the shell's pid read as placeholders.

use kitty_testkit::RunOutput;

use crate::execution::{finalized, kitty_on_both, mark, mv};
use crate::finalize::{SLUG, as_is};
use crate::harness::{Side, assert_state_parity, reference};

/// WP01's lane worktree as implement makes it (branched from the coordination branch, sparse:
/// without the status files), with a commit of work in it.
fn lane_with_work(side: &Side) {
    let root = side.repo.path();
    let cb = format!("kitty/mission-{SLUG}");
    let lane = root.join(format!(".worktrees/{SLUG}-lane-a"));
    side.repo.git_in(
        root,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            &format!("{cb}-lane-a"),
            lane.to_str().unwrap(),
            &cb,
        ],
    );
    side.repo
        .git_in(&lane, &["sparse-checkout", "init", "--no-cone"]);
    side.repo.git_in(
        &lane,
        &[
            "sparse-checkout",
            "set",
            "--no-cone",
            "/*",
            &format!("!kitty-specs/{SLUG}/status.events.jsonl"),
            &format!("!kitty-specs/{SLUG}/status.json"),
        ],
    );
    std::fs::create_dir_all(lane.join("bin")).unwrap();
    std::fs::write(lane.join("bin/greet"), "#!/bin/sh\necho hello\n").unwrap();
    side.repo.git_in(&lane, &["add", "bin/greet"]);
    side.repo
        .git_in(&lane, &["commit", "-q", "-m", "feat(WP01): greet"]);
}

/// Both sides with WP01 implemented in its lane and moved to for_review.
fn waiting_for_review() -> (Side, Side) {
    let (k, r) = finalized("coord", as_is);
    for side in [&k, &r] {
        lane_with_work(side);
    }
    kitty_on_both(&k, &r, &mv("WP01", "in_progress", &["--agent", "claude"]));
    kitty_on_both(&k, &r, &mark(&["T001", "T002"], &["--status", "done"]));
    kitty_on_both(&k, &r, &mv("WP01", "for_review", &[]));
    (k, r)
}

fn review(extra: &[&'static str]) -> Vec<&'static str> {
    let mut v = vec!["agent", "action", "review"];
    v.extend_from_slice(extra);
    v.extend_from_slice(&["--mission", SLUG]);
    v
}

/// Run `args` (text, no `--json`: the reference has none) on both sides at once.
pub(crate) fn text_both(k: &Side, r: &Side, args: &[&str]) -> (RunOutput, RunOutput) {
    let reference = reference();
    let kr = k
        .home
        .command()
        .env("SPEC_KITTY_REFERENCE", "")
        .current_dir(k.repo.path())
        .args(args)
        .spawn();
    let rr = r
        .home
        .reference_command(&reference)
        .current_dir(r.repo.path())
        .args(args)
        .spawn();
    (kr.wait(), rr.wait())
}

/// The text with each side's repository as `<R>`, the prompt file as `<PROMPT>`, the pid as
/// `<PID>`, the lane's commit count as `<N>`.
pub(crate) fn lines(side: &Side, out: &RunOutput) -> Vec<String> {
    let root = side.repo.path().display().to_string();
    let pid = regex::Regex::new(r"PID: \d+").unwrap();
    let count = regex::Regex::new(r", \d+ commits\)").unwrap();
    out.stdout()
        .lines()
        .map(|l| {
            let l = l.replace(&root, "<R>");
            let l = pid.replace_all(&l, "PID: <PID>").into_owned();
            let l = count.replace_all(&l, ", <N> commits)").into_owned();
            if l.trim_start().starts_with("cat ") && l.contains("-prompts/") {
                "    cat <PROMPT>".to_string()
            } else {
                l.trim_end().to_string()
            }
        })
        .collect()
}

#[test]
fn a_claim_for_review_records_the_reviewer_updates_the_lane_and_prints_the_reference_s_steps() {
    let (k, r) = waiting_for_review();
    // Refused before a claim: no agent; another package's lane.
    let (ko, ro) = text_both(&k, &r, &review(&["WP01"]));
    assert_state_parity(&k, &r, &ko, &ro);
    assert_eq!(lines(&k, &ko), lines(&r, &ro), "\n{ko}\n{ro}");
    ko.assert_code(1);
    let (ko, ro) = text_both(&k, &r, &review(&["WP02", "--agent", "claude"]));
    assert_state_parity(&k, &r, &ko, &ro);
    assert_eq!(lines(&k, &ko), lines(&r, &ro), "\n{ko}\n{ro}");
    // The claim.
    let (ko, ro) = text_both(&k, &r, &review(&["wp01", "--agent", "claude"]));
    assert_state_parity(&k, &r, &ko, &ro);
    ko.assert_success();
    assert_eq!(lines(&k, &ko), lines(&r, &ro), "\n{ko}\n{ro}");
    // The prompt file exists where the text says, with the reference's frontmatter keys.
    let prompt = ko
        .stdout()
        .lines()
        .find_map(|l| l.trim().strip_prefix("cat "))
        .unwrap()
        .to_string();
    let text = std::fs::read_to_string(&prompt).unwrap();
    let keys: Vec<&str> = text
        .lines()
        .skip(1)
        .take_while(|l| *l != "---")
        .filter_map(|l| l.split_once(':').map(|(k, _)| k))
        .collect();
    assert_eq!(
        keys,
        [
            "work_package_id",
            "created_at",
            "base_ref",
            "invocation_id",
            "lane_branch",
            "lane_worktree",
            "mission_branch",
            "mission_id",
            "mission_slug",
            "prompt_path",
            "repo_root"
        ]
    );
    assert!(
        prompt.starts_with(k.home.path().to_str().unwrap()),
        "{prompt}"
    );
}
