//! Command-line parsing and dispatch. Handlers return values; `output` prints them.

pub mod accept;
pub mod action;
pub mod auth;
pub mod context;
pub mod decision;
pub mod delegate;
pub mod drivers;
pub mod error;
pub mod merge;
pub mod mission;
pub mod next;
pub mod paths;
pub mod planning;
pub mod planning_args;
pub mod plugins;
pub mod reference_commands;
pub mod retrospect;
pub mod safe_commit;
pub mod sync;
pub mod tasks;
pub mod upgrade;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::clock::Clock;
use crate::env::{Env, vars};
use crate::identity::MachineIdentity;
use crate::output::Output;
use context::Ctx;
use planning_args::{CharterCommand, ContextCommand, SpecCommitArgs, TopMissionCommand};

#[derive(Debug, Parser)]
#[command(
    name = "spec-kitty",
    allow_external_subcommands = true,
    version,
    about = "Spec-driven development: missions, a durable outbox, and sync.",
    after_help = "Every command listed here is kitty's own (native). Every other command of the reference CLI (spec-kitty-cli 3.2.7: `next --result`, `safe-commit`, `merge` without --dry-run, ...), and a native command given an option kitty lacks, runs through the reference; `spec-kitty paths` says which one is found.\n\nRun `spec-kitty env` to list every environment variable spec-kitty reads."
)]
struct Cli {
    /// Print exactly one JSON document on stdout (also `--json=true|false`).
    #[arg(
        long,
        global = true,
        num_args = 0..=1,
        require_equals = true,
        default_value = "false",
        default_missing_value = "true",
        action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    json: bool,
    /// Silence stderr (except a fatal error that cannot be expressed as JSON).
    #[arg(long, short = 'q', global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print every location spec-kitty reads and writes.
    Paths,
    /// List the environment variables spec-kitty reads.
    Env,
    /// Log in, log out, and inspect the session.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Make this git repository a spec-kitty project (.kittify/config.yaml, kitty-specs/).
    ///
    /// On an initialised repository it only adds missing keys; the project's uuid, node_id and
    /// build_id never change.
    Init {
        /// Project slug (default: the origin's repository name, else the directory's name).
        #[arg(long)]
        project_slug: Option<String>,
        /// Activate a mission type (repeatable; default: software-dev, documentation, research,
        /// plan).
        #[arg(long = "mission-type")]
        mission_types: Vec<String>,
        /// Record an AI agent in `agents.available` (repeatable or comma-separated).
        #[arg(long = "ai")]
        agents: Vec<String>,
        /// Accepted for compatibility: spec-kitty never prompts.
        #[arg(long)]
        non_interactive: bool,
        /// Apply an explicit --project-slug or --mission-type over the existing values.
        #[arg(long)]
        force: bool,
    },
    /// Commands for AI agents.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Mission types.
    #[command(subcommand)]
    Mission(TopMissionCommand),
    /// Commit a mission's planning files on its target branch.
    SpecCommit(SpecCommitArgs),
    /// Commit exactly the named files on the branch they belong to.
    SafeCommit(safe_commit::SafeCommitArgs),
    /// A finished mission's retrospective (`create` native; the others through the reference).
    #[command(subcommand)]
    Retrospect(retrospect::RetrospectCommand),
    /// The agent-host upgrade check (`--agent-check`; a project upgrade is the reference's).
    Upgrade(upgrade::UpgradeArgs),
    /// The project's governance.
    #[command(subcommand)]
    Charter(CharterCommand),
    /// Send queued events to the hosted service, or inspect the queue.
    #[command(subcommand)]
    Sync(SyncCommand),
    /// Where a mission stands and what comes next (query mode; `--result` advances, through the
    /// reference).
    Next(next::NextArgs),
    /// Merge a mission's lanes into its target (`--dry-run`: what the merge would do, native;
    /// the merge itself, `--resume` and `--abort` through the reference).
    Merge(Box<merge::MergeArgs>),
    /// Check that a mission is ready to merge, and record its acceptance.
    Accept(Box<accept::TopAcceptArgs>),
    /// Git's merge drivers (hidden; named by `.gitattributes`).
    #[command(flatten)]
    Driver(drivers::DriverCommand),
    /// List the plugins (spec-kitty-<name> executables) found on PATH.
    Plugins,
    /// Print a shell completion script (e.g. `spec-kitty completions bash > ~/.bash_completion.d/spec-kitty`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Run the plugin `spec-kitty-<name>` from PATH with the remaining arguments.
    #[command(external_subcommand)]
    External(Vec<OsString>),
}

#[derive(Debug, Subcommand)]
enum AgentCommand {
    /// Missions.
    #[command(subcommand)]
    Mission(MissionCommand),
    /// A work package's implementation and review.
    #[command(subcommand)]
    Action(action::ActionCommand),
    /// Where an action runs.
    #[command(subcommand)]
    Context(ContextCommand),
    /// Decision moments of the specify and plan interviews.
    #[command(subcommand)]
    Decision(decision::DecisionCommand),
    /// Work packages.
    #[command(subcommand)]
    Tasks(tasks::TasksCommand),
}

#[derive(Debug, Subcommand)]
enum MissionCommand {
    /// Create a mission: scaffold, commit, queue its event, then sync.
    Create(Box<CreateArgs>),
    /// List the missions of this repository.
    List,
    /// The branch contract for the specify and plan prompts, with the primary branch.
    BranchContext {
        /// The branch the mission will target (default: the current branch).
        #[arg(long)]
        target_branch: Option<String>,
    },
    /// Which planning files of a mission exist.
    CheckPrerequisites {
        /// The mission.
        #[arg(long)]
        mission: Option<String>,
        /// Only the paths, at the top level of the document.
        #[arg(long)]
        paths_only: bool,
        /// tasks.md is required.
        #[arg(long)]
        include_tasks: bool,
        /// Old name of --include-tasks.
        #[arg(long, hide = true)]
        require_tasks: bool,
        /// Whether the mission --mission names already exists (the specify prompt's check
        /// before it creates one).
        #[arg(long)]
        resume_probe: bool,
    },
    /// Validate the work packages, rewrite their frontmatter, seed their status, compute the
    /// lanes and commit it all on the planning branch.
    FinalizeTasks {
        /// The mission (directory name, mission_id or its first 8 characters).
        #[arg(long)]
        mission: Option<String>,
        /// Check and report what would change; write nothing.
        #[arg(long)]
        validate_only: bool,
        /// Once execution has begun, record the planning branch's tip as the planning commit.
        #[arg(long)]
        refresh_planning_commit: bool,
    },
    /// Record the agent's analysis (analysis-findings/v1) as analysis-report.md, the gate
    /// implement checks, and commit it.
    RecordAnalysis {
        /// The mission.
        #[arg(long)]
        mission: Option<String>,
        /// The report (`-`: standard input).
        #[arg(long, default_value = "-")]
        input_file: String,
        /// The agent that analysed (default: unknown).
        #[arg(long)]
        agent: Option<String>,
    },
    /// Record an acceptance criterion's verdict in the matrix, and commit it.
    AcceptanceVerdict(Box<tasks::AcceptanceVerdictArgs>),
    /// Check that a mission is ready to merge, and record its acceptance.
    Accept(Box<accept::AcceptArgs>),
    /// Scaffold plan.md, or commit it once the spec and the plan have real content.
    SetupPlan {
        /// The mission (default: the only one).
        #[arg(long)]
        mission: Option<String>,
    },
}

#[derive(Debug, clap::Args)]
struct CreateArgs {
    /// Kebab-case slug (a-z, 0-9, '-'; at most 64 characters). A leading `NNN-` is dropped from
    /// the directory name, which is `<slug>-<first 8 characters of the mission id>`.
    #[arg(allow_hyphen_values = true)]
    slug: String,
    /// Mission type (default: software-dev).
    #[arg(long)]
    mission_type: Option<String>,
    /// Deprecated alias of --mission-type.
    #[arg(long, hide = true)]
    mission: Option<String>,
    /// The planning branch (default: the current branch; it must be checked out).
    #[arg(long)]
    target_branch: Option<String>,
    /// Display name (default: the slug's words).
    #[arg(long)]
    friendly_name: Option<String>,
    /// One-line summary for stakeholders (default: the friendly name).
    #[arg(long)]
    purpose_tldr: Option<String>,
    /// A short paragraph for stakeholders (default: a sentence naming the branch).
    #[arg(long)]
    purpose_context: Option<String>,
    /// Mark the mission as PR-bound (on its merge target this needs --branch-strategy
    /// already-confirmed or --start-branch).
    #[arg(long = "pr-bound", overrides_with = "no_pr_bound")]
    pr_bound: bool,
    /// Not PR-bound (the default).
    #[arg(long = "no-pr-bound", overrides_with = "pr_bound")]
    no_pr_bound: bool,
    /// Mission shape (default: coord on the primary branch or with --pr-bound, else
    /// single_branch).
    #[arg(long, value_enum)]
    topology: Option<crate::mission::meta::Topology>,
    /// `already-confirmed` confirms a PR-bound mission on its merge target.
    #[arg(long)]
    branch_strategy: Option<String>,
    /// Create or switch to this branch before anything is written.
    #[arg(long)]
    start_branch: Option<String>,
    /// Reset the mission's coordination branch if it exists and has diverged.
    #[arg(long)]
    force_recreate_coordination_branch: bool,
    /// Not supported (worktree ownership): refused with `unsupported_option`.
    #[arg(long)]
    owned_checkout: Option<std::path::PathBuf>,
    /// Record `retain_branches: true` in meta.json.
    #[arg(long)]
    retain_branches: bool,
    /// Record `retain_worktrees: true` in meta.json.
    #[arg(long)]
    retain_worktrees: bool,
}

impl CreateArgs {
    fn request(&self) -> crate::mission::create::CreateRequest {
        crate::mission::create::CreateRequest {
            slug: self.slug.clone(),
            mission_type: self.mission_type.clone(),
            mission_alias: self.mission.clone(),
            target_branch: self.target_branch.clone(),
            friendly_name: self.friendly_name.clone(),
            purpose_tldr: self.purpose_tldr.clone(),
            purpose_context: self.purpose_context.clone(),
            pr_bound: self.pr_bound && !self.no_pr_bound,
            topology: self.topology,
            branch_strategy: self.branch_strategy.clone(),
            start_branch: self.start_branch.clone(),
            force_recreate_coordination_branch: self.force_recreate_coordination_branch,
            owned_checkout: self.owned_checkout.clone(),
            retain_branches: self.retain_branches,
            retain_worktrees: self.retain_worktrees,
        }
    }
}

#[derive(Debug, Subcommand)]
enum SyncCommand {
    /// Drain the outbox now (progress on stderr when it is a terminal). Exits non-zero while
    /// parked (rejected) or quarantined events remain.
    Now {
        /// Put the events the server rejected too often back in the queue first.
        #[arg(long)]
        retry_rejected: bool,
        /// Delete the quarantined rows (stored events that do not decode and can never be sent).
        #[arg(long)]
        discard_quarantined: bool,
    },
    /// Queue depth, oldest event, server, auth state, last attempt. No network.
    Status,
}

#[derive(Debug, Subcommand)]
enum AuthCommand {
    /// Log in with the device authorization flow.
    Login {
        /// Log in again even if a session exists (replaces a broken one).
        #[arg(long)]
        force: bool,
    },
    /// Revoke the session on the server and delete it locally.
    Logout {
        /// Skip the server revoke; only delete local files.
        #[arg(long)]
        force: bool,
    },
    /// Show whether you are logged in, as whom, and token validity.
    Status,
    /// Print the logged-in user.
    Whoami,
    /// Refresh the session now: the access token (when it expires within 5 s, or always with
    /// `--force`) and, when the session has no private team, the team memberships.
    Refresh {
        /// Refresh the access token even if it is still valid.
        #[arg(long)]
        force: bool,
    },
}

fn init_logging(env: &Env, quiet: bool) {
    if quiet {
        return;
    }
    let spec = env.non_empty(vars::SPEC_KITTY_LOG).unwrap_or("warn");
    let filter: tracing_subscriber::filter::Targets = spec.parse().unwrap_or_else(|_| {
        tracing_subscriber::filter::Targets::new().with_default(tracing::Level::WARN)
    });
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false)
                .with_target(true),
        )
        .with(filter)
        .try_init();
}

/// `spec-kitty completions <shell>`: clap's completion script for this command line (plugins
/// found on PATH at completion time are not included).
fn completions(shell: clap_complete::Shell) -> Result<crate::output::Report, error::CommandError> {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "spec-kitty", &mut script);
    let script = String::from_utf8_lossy(&script).into_owned();
    Ok(crate::output::Report::success(
        serde_json::json!({"shell": shell.to_string(), "script": script}),
        script.trim_end().to_string(),
    ))
}

/// Whether the raw arguments ask for JSON (`--json`, or `--json=<anything but false>`) before the command
/// line is known to parse (the last occurrence wins, as it does for clap).
fn wants_json(args: &[OsString]) -> bool {
    let mut json = false;
    for a in args.iter().skip(1) {
        let Some(a) = a.to_str() else { continue };
        if a == "--" {
            break;
        }
        if a == "--json" {
            json = true;
        } else if let Some(v) = a.strip_prefix("--json=") {
            // Only an explicit "no" turns it off: a bad value is answered in JSON too.
            json = !matches!(
                v.to_ascii_lowercase().as_str(),
                "false" | "0" | "no" | "n" | "off"
            );
        }
    }
    json
}

/// Run `args`, a command line kitty does not implement, through the reference CLI: the process
/// is replaced by it (its exit status is the command's). Without a reference, a command of the
/// reference's tree gets the error that says how to install it; `None` for any other command
/// line (kitty's own usage error applies).
fn not_native(
    args: &[OsString],
    env: &Env,
    wants_json: bool,
    version: &'static str,
) -> Option<ExitCode> {
    let me = std::env::current_exe().ok();
    let command = delegate::reference_command(args);
    let failure = |message: String| {
        // Not quiet: a fatal error is shown even with --quiet, and there is nothing else to say.
        let out = Output::new(wants_json, false, true, version);
        let err = error::CommandError::Coded {
            code: "reference_not_found",
            message,
        };
        out.finish(Err(err.into()), &[])
    };
    match delegate::find(env, me.as_deref()) {
        Ok(reference) => {
            tracing::debug!(reference = %reference.path.display(), "not native: delegated");
            Some(delegate::run(&reference, args).unwrap_or_else(failure))
        }
        // A native command's own usage error stays kitty's; only a command kitty lacks says
        // how to get the reference.
        Err(why) => command
            .filter(|c| !is_native(c))
            .map(|c| failure(delegate::missing_message(&c, &why))),
    }
}

/// Whether the command path `path` (`agent mission create`) is one of kitty's own.
fn is_native(path: &str) -> bool {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    for word in path.split(' ') {
        match cmd.find_subcommand(word) {
            Some(sub) => cmd = sub.clone(),
            None => return false,
        }
    }
    true
}

/// Run the CLI with explicit inputs and return the exit code.
pub fn run(
    args: Vec<OsString>,
    env: Result<Env, crate::env_file::EnvFileError>,
    identity: MachineIdentity,
    clock: Clock,
    version: &'static str,
) -> ExitCode {
    let wants_json = wants_json(&args);
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            use crate::output::ClapOutput;
            use clap::error::ErrorKind;
            let kind = match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    ClapOutput::Help
                }
                ErrorKind::DisplayVersion => ClapOutput::Version,
                _ => ClapOutput::UsageError,
            };
            if kind == ClapOutput::UsageError {
                // A form kitty does not implement natively: the reference's to run, whole.
                let snapshot = env.as_ref().unwrap_or_else(|e| &*e.env);
                if let Some(code) = not_native(&args, snapshot, wants_json, version) {
                    return code;
                }
            }
            return Output::usage_error(wants_json, &e.render().to_string(), kind, version);
        }
    };
    let (env, env_file_error) = match env {
        Ok(env) => (env, None),
        Err(e) => (*e.env.clone(), Some(e)),
    };
    let quiet = cli.quiet || env.is_truthy(vars::SPEC_KITTY_QUIET);
    init_logging(&env, quiet);
    let out = Output::new(cli.json, quiet, env.get(vars::NO_COLOR).is_some(), version);
    if let Some(e) = env_file_error {
        return out.finish(Err(error::CommandError::EnvFile(e).into()), &[]);
    }
    let unusable = env.unusable();
    if !unusable.is_empty() {
        let err = error::CommandError::Coded {
            code: "env_not_utf8",
            message: format!(
                "{} {} set to a value that is not valid UTF-8; spec-kitty cannot use it and will not fall back to a default: set it to a UTF-8 value or unset it",
                unusable.join(", "),
                if unusable.len() == 1 { "is" } else { "are" }
            ),
        };
        return out.finish(Err(err.into()), &[]);
    }
    crate::settings::warn_bad_numbers(&env);
    for file in env.env_files() {
        for key in &file.ignored {
            tracing::warn!(
                file = %file.path.display(),
                "{key} in an operator env file is ignored: the file cannot move the runtime root that locates it"
            );
        }
    }
    let cwd = match std::env::current_dir() {
        Ok(dir) => dir,
        Err(e) => {
            let err = error::CommandError::Coded {
                code: "cwd_unavailable",
                message: format!(
                    "cannot read the current directory ({e}); cd into an existing directory"
                ),
            };
            return out.finish(Err(err.into()), &[]);
        }
    };
    let ctx = Ctx::new(env, identity, clock, out, cwd);
    let outcome = match &cli.command {
        Command::Paths => paths::paths(&ctx),
        Command::Env => paths::env(&ctx),
        Command::Auth(AuthCommand::Login { force }) => auth::login(&ctx, *force),
        Command::Auth(AuthCommand::Logout { force }) => auth::logout(&ctx, *force),
        Command::Auth(AuthCommand::Status) => auth::status(&ctx),
        Command::Auth(AuthCommand::Whoami) => auth::whoami(&ctx),
        Command::Auth(AuthCommand::Refresh { force }) => auth::refresh(&ctx, *force),
        Command::Init {
            project_slug,
            mission_types,
            agents,
            non_interactive: _,
            force,
        } => mission::init(
            &ctx,
            &crate::mission::init::InitRequest {
                project_slug: project_slug.clone(),
                mission_types: mission_types.clone(),
                agents: agents.clone(),
                force: *force,
            },
        ),
        Command::Agent(AgentCommand::Mission(MissionCommand::Create(args))) => {
            mission::create(&ctx, &args.request())
        }
        Command::Agent(AgentCommand::Mission(MissionCommand::List)) => mission::list(&ctx),
        Command::Agent(AgentCommand::Mission(MissionCommand::BranchContext { target_branch })) => {
            planning::branch_context(&ctx, target_branch.as_deref())
        }
        Command::Agent(AgentCommand::Mission(MissionCommand::CheckPrerequisites {
            mission,
            paths_only,
            include_tasks,
            require_tasks,
            resume_probe: true,
        })) => planning::resume_probe(
            &ctx,
            mission.as_deref(),
            *paths_only || *include_tasks || *require_tasks,
        ),
        Command::Agent(AgentCommand::Mission(MissionCommand::CheckPrerequisites {
            mission,
            paths_only,
            include_tasks,
            require_tasks,
            resume_probe: false,
        })) => planning::check_prerequisites(
            &ctx,
            &crate::mission::planning::prerequisites::Request {
                mission: mission.clone(),
                paths_only: *paths_only,
                include_tasks: *include_tasks || *require_tasks,
                json: cli.json,
            },
        ),
        Command::Agent(AgentCommand::Mission(MissionCommand::RecordAnalysis {
            mission,
            input_file,
            agent,
        })) => planning::record_analysis(
            &ctx,
            mission.as_deref(),
            input_file,
            agent.as_deref(),
            cli.json,
        ),
        Command::Agent(AgentCommand::Mission(MissionCommand::AcceptanceVerdict(a))) => {
            tasks::acceptance_verdict(&ctx, a)
        }
        Command::Agent(AgentCommand::Mission(MissionCommand::Accept(a))) => {
            accept::agent_accept(&ctx, a)
        }
        Command::Agent(AgentCommand::Mission(MissionCommand::SetupPlan { mission })) => {
            planning::setup_plan(&ctx, mission.as_deref())
        }
        Command::Agent(AgentCommand::Mission(MissionCommand::FinalizeTasks {
            mission,
            validate_only,
            refresh_planning_commit,
        })) => tasks::finalize(
            &ctx,
            &crate::mission::tasks::finalize::Request {
                mission: mission.clone(),
                validate_only: *validate_only,
                refresh_planning_commit: *refresh_planning_commit,
                json: cli.json,
                // Filled in by the handler when sync is on.
                sync: None,
            },
        ),
        Command::Agent(AgentCommand::Tasks(t)) => tasks::run(&ctx, t),
        Command::Agent(AgentCommand::Action(a)) => action::run(&ctx, a),
        Command::Agent(AgentCommand::Context(ContextCommand::Resolve {
            action,
            mission,
            wp_id: _,
            agent: _,
        })) => planning::context_resolve(&ctx, action, mission.as_deref()),
        Command::Mission(TopMissionCommand::List) => planning::mission_list(&ctx),
        Command::Charter(CharterCommand::Context { action, .. }) => {
            planning::charter_context(&ctx, action)
        }
        Command::Agent(AgentCommand::Decision(d)) => decision::run(&ctx, d),
        Command::SpecCommit(a) => planning::spec_commit(
            &ctx,
            &crate::mission::planning::spec_commit::Request {
                mission: a.mission.clone(),
                message: a.message.clone(),
                files: a.files.clone(),
            },
        ),
        Command::SafeCommit(a) => safe_commit::run(&ctx, a),
        Command::Retrospect(r) => retrospect::run(&ctx, r),
        Command::Upgrade(u) => upgrade::run(&ctx, u),
        Command::Sync(SyncCommand::Now {
            retry_rejected,
            discard_quarantined,
        }) => sync::now(&ctx, *retry_rejected, *discard_quarantined),
        Command::Sync(SyncCommand::Status) => sync::status(&ctx),
        Command::Next(a) => next::next(&ctx, a),
        Command::Merge(a) => merge::merge(&ctx, a),
        Command::Accept(a) => accept::top_accept(&ctx, a),
        Command::Driver(d) => drivers::dispatch(d),
        Command::Plugins => plugins::list(&ctx),
        Command::Completions { shell } => completions(*shell),
        Command::External(_) if delegate::reference_command(&args).is_some() => {
            return not_native(&args, &ctx.env, wants_json, version)
                .unwrap_or_else(|| ExitCode::from(1));
        }
        Command::External(argv) => {
            let name = argv
                .first()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let builtins: Vec<String> = <Cli as clap::CommandFactory>::command()
                .get_subcommands()
                .map(|c| c.get_name().to_string())
                .collect();
            return match plugins::dispatch(&ctx, &name, &argv[1..], &builtins) {
                Ok(code) => code,
                // `spec-kitty foo --json`: the flag after an unknown name still asks for JSON.
                Err(missing) => Output::new(wants_json, out.is_quiet(), true, version).finish(
                    Err(error::CommandError::PluginNotFound(missing).into()),
                    &[],
                ),
            };
        }
    };
    // Input only the reference handles: hand the whole command line to it.
    let outcome = match outcome {
        Err(error::CommandError::NeedsReference { why, .. }) => {
            tracing::info!("handed to the reference: {why}");
            let me = std::env::current_exe().ok();
            match delegate::find(&ctx.env, me.as_deref()) {
                Ok(reference) => match delegate::run(&reference, &args) {
                    Ok(code) => return code,
                    Err(missing) => Err(error::CommandError::NeedsReference { why, missing }),
                },
                Err(no) => Err(error::CommandError::NeedsReference {
                    why,
                    missing: no.to_string(),
                }),
            }
        }
        other => other,
    };
    tracing::debug!("command done; final sync next");
    // At most one diagnostic per process: the final sync's.
    let diagnostics: Vec<_> = sync::after_command(&ctx).into_iter().collect();
    for d in &diagnostics {
        out.diagnostic(d);
    }
    out.finish(outcome.map_err(Into::into), &diagnostics)
}
