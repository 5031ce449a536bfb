//! The `patchbot` command line: parses arguments, loads the configuration and
//! calls the library. No logic of its own beyond choosing what to print.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use patchbot::config::Config;
use patchbot::input::{Input, InputError};
use patchbot::mail::Message;
use patchbot::output;

mod cli_digest;
mod cli_watch;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  review --fail-on: a finding at least that severe; kconfig conf: conf's own failure
  2  usage or configuration error
  3  an INPUT could not be read, or names a kind not implemented yet; watch --once:
     a round failed (status says why)
  4  done, but some messages could not be read (they are listed)
  5  the series does not apply (the report says which patch and why)
  6  review --post: the review could not be posted (it stays queued in the state store)

INPUT is `-` (standard input: one message or an mbox) or resolved in this order:
  1. an existing path: a file is one message (.eml, .patch) or an mbox (it
     starts with a `From ` line, or is named *.mbox); a directory is a maildir (cur/, new/) or a public-inbox
     archive (git/N.git, or a single epoch repository);
  2. github:OWNER/REPO#N (a pull request; `review` only), or an archive URL
     (https://lore.kernel.org/LIST/MSGID/, .../r/MSGID, https://patch.msgid.link/MSGID):
     the thread is fetched as mbox from the server ([remote]), /LIST/ then /all/;
  3. a bare Message-ID: <id@host>, id@host or id:id@host, fetched the same way from
     the [remote] servers. Fetched threads are cached; --offline reads the cache only.";

/// patchbot reviews patch series from mailing lists and GitHub pull requests.
///
/// It reads a series (mail, a commit range or a pull request), applies it to the
/// project's tree, rebuilds what the series affects (per-architecture Kconfig,
/// linker scripts), runs the review rules and reports what the series
/// introduces; `review --post` answers on the list or on GitHub, exactly once.
#[derive(Parser, Debug)]
#[command(name = "patchbot", version, after_help = EXIT_CODES, max_term_width = 100)]
struct Cli {
    /// Lay this configuration file over the built-in defaults (its tables merged
    /// key by key).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,

    /// A Message-ID or archive URL is read from the cache of fetched threads
    /// only; no server is asked.
    #[arg(long, global = true)]
    offline: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Split one message like `git mailinfo`: author, subject, date, message, patch.
    ///
    /// The fields are exactly what `git mailinfo` (default options) writes to its
    /// info, msg and patch outputs. With --json: an object with author, email,
    /// subject, date, message_id, in_reply_to, references, message and patch
    /// (message_base64/patch_base64 instead when not valid UTF-8) and warnings.
    #[command(after_help = EXIT_CODES)]
    Mail {
        /// The message: a file, or any INPUT holding one message.
        input: String,
        /// Which message of a multi-message INPUT (1-based).
        #[arg(long, value_name = "N")]
        index: Option<usize>,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Find the patch series in mail and print them.
    ///
    /// Every series: title, version, author, date, cover letter, patches in order
    /// (subject, Message-ID, files touched, trailers collected from the patch and
    /// from replies), missing and duplicate parts, base-commit, other versions.
    /// With --json: {"series": [...], "errors": [...], "warnings": [...], "messages": N}.
    #[command(after_help = EXIT_CODES)]
    Series {
        /// One or more INPUTs; messages of all of them are threaded together.
        #[arg(required = true)]
        inputs: Vec<String>,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Apply a series to a git repository without touching its work tree.
    ///
    /// The base is chosen by an ordered chain (--base, the series' base-commit,
    /// the branches in apply.branches, HEAD) and reported with the rung that gave
    /// it. Patches are applied with git apply into a private index and object
    /// directory: the repository gains nothing unless --branch asks for a branch.
    /// Per patch: applied, applied-with-offset, applied-3way, already-applied,
    /// conflict, malformed, refused or not-attempted. With --json: an object with
    /// base (commit, rung, why), patches, tree (the patched tree id or null) and
    /// files (what changed, renames found).
    #[command(after_help = EXIT_CODES)]
    Apply {
        /// One or more INPUTs holding the series.
        #[arg(required = true)]
        inputs: Vec<String>,
        /// The git repository to apply to (a work tree, a .git directory or a bare
        /// repository), or a plain directory whose files are the base.
        #[arg(long, value_name = "REPO")]
        tree: PathBuf,
        /// Apply on this commit (anything git rev-parse accepts) instead of
        /// choosing a base.
        #[arg(long, value_name = "REV")]
        base: Option<String>,
        /// Take a configured branch as it was when the series was sent.
        #[arg(long)]
        as_of: bool,
        /// Which series of the INPUT, when it holds several: N (1-based, in the
        /// order `patchbot series` prints them) or the Message-ID of its cover
        /// letter or of one of its patches.
        #[arg(long, value_name = "N|MSGID", value_parser = parse_pick)]
        series: Option<Pick>,
        /// The series of this version (a thread fetched by Message-ID holds
        /// every version sent into it; the newest is taken by default).
        #[arg(long = "version", value_name = "N", conflicts_with = "series")]
        version_n: Option<u32>,
        /// Also record the applied patches as commits on this new branch.
        #[arg(long, value_name = "NAME")]
        branch: Option<String>,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Resolve Kconfig per architecture and variant, without running anything.
    ///
    /// The tree profile (--profile, or detected from marker files) names the
    /// Kconfig root, the architectures with their defconfigs, the config variants
    /// (overlays such as CONFIG_LIVEPATCH=y) and the toolchain answers. With two
    /// --rev, prints what changed. With --json: {"results": [{"rev", "arch",
    /// "variant", "config", "symbols": {NAME: value or null when not written},
    /// "overlay_misses", "guessed", ...}]}.
    #[command(after_help = EXIT_CODES, args_conflicts_with_subcommands = true)]
    Kconfig {
        #[command(subcommand)]
        conf: Option<KconfigSub>,
        /// The tree: a git repository (read at --rev) or a plain directory.
        #[arg(long, value_name = "PATH")]
        tree: Option<PathBuf>,
        /// Revision(s) to evaluate (repositories only; default HEAD). Two revisions
        /// print what changed between them.
        #[arg(long = "rev", value_name = "REV")]
        revs: Vec<String>,
        /// Only these architectures (profile names, e.g. x86_64).
        #[arg(long, value_name = "A")]
        arch: Vec<String>,
        /// Only these variants (e.g. defconfig, livepatch).
        #[arg(long, value_name = "V")]
        variant: Vec<String>,
        /// Only report these symbols (without CONFIG_).
        #[arg(long, value_name = "S")]
        symbol: Vec<String>,
        /// The tree profile from config.toml (default: detected).
        #[arg(long, value_name = "NAME")]
        profile: Option<String>,
        /// The toolchain answers to use (a [toolchains.NAME] table; default:
        /// the profile's).
        #[arg(long, value_name = "NAME")]
        toolchain: Option<String>,
        /// Apply the series in these INPUTs (base chosen as by `apply`) and
        /// compare the base with the patched tree.
        #[arg(long = "series", value_name = "INPUT", conflicts_with = "revs")]
        series: Vec<String>,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// The C preprocessor as `gcc -E -x assembler-with-cpp` runs it, reading only the tree.
    ///
    /// Flags are gcc's (-I DIR, -iquote DIR, -D NAME[=VAL], -U NAME, -include FILE,
    /// -undef, -P; -D and -U apply in command-line order). FILE, the directories and
    /// forced includes are paths in --tree (default: the current directory); nothing
    /// outside it is read and there are no system include directories. Predefined:
    /// __ASSEMBLER__, __STDC__, __STDC_HOSTED__ and the -D flags (no target macros).
    /// Errors print as FILE:LINE: MESSAGE and exit 3. With --json: {"text", "spans":
    /// [{start, end, origin}], "origins": [{file, line, expansion: [{macro, file,
    /// line}]}], "files_read", "missing", "warnings"}.
    #[command(after_help = EXIT_CODES)]
    Cpp(CppArgs),
    /// Review a series: apply it, rebuild what it affects, run the rules.
    ///
    /// The series is applied like `apply` does (the base chosen by the same
    /// chain); the Kconfig result and the linker script of every architecture
    /// and variant of the tree profile are computed for the base and the
    /// patched tree (an output whose inputs the series does not touch is the
    /// base's), and the rules (rules/*.toml, built in) run on both. Only what
    /// the series introduces is reported; --all also lists what the base tree
    /// had already. With --json: {"profile", "base", "apply" (as `apply
    /// --json` prints it), "outputs": [{"arch", "variant", "how": "built" or
    /// "reused", ...}], "findings": [{"rule", "severity", "arch", "variant",
    /// "location": {"file", "line", "via"}, "patch": {"patch", "message_id",
    /// "file", "line", "patch_line"}, "message", "evidence", "fingerprint"}],
    /// "pre_existing": [...] (with --all)}. Exit status: 0, or 1 when a finding
    /// is at least --fail-on severe; 5 when the series does not apply.
    #[command(after_help = EXIT_CODES)]
    Review {
        /// One or more INPUTs holding the series.
        #[arg(required = true)]
        inputs: Vec<String>,
        /// The tree: a git repository, or a plain directory (its files are the base).
        #[arg(long, value_name = "REPO")]
        tree: PathBuf,
        /// Use this base instead of the chain.
        #[arg(long, value_name = "REV")]
        base: Option<String>,
        /// When the input holds several series, review the Nth (1-based), or the
        /// one with this Message-ID (its cover letter's or one of its patches').
        #[arg(long, value_name = "N|MSGID", value_parser = parse_pick)]
        series: Option<Pick>,
        /// The series of this version (a thread fetched by Message-ID holds
        /// every version sent into it; the newest is taken by default).
        #[arg(long = "version", value_name = "N", conflicts_with = "series")]
        version_n: Option<u32>,
        /// The tree profile from config.toml (default: detected).
        #[arg(long, value_name = "NAME")]
        profile: Option<String>,
        /// Also list findings the base tree has as well.
        #[arg(long)]
        all: bool,
        /// Exit with 1 when a finding is at least this severe (error, warning, note).
        #[arg(long, value_name = "SEVERITY")]
        fail_on: Option<String>,
        /// Also show how each output changed: unified diffs, base to patched, of
        /// every architecture x variant's .config and preprocessed linker script
        /// (text and json; in JSON as "output_diffs": [{"arch", "variant", "how",
        /// "config", "script"}], a diff or null when unchanged).
        #[arg(long)]
        show_outputs: bool,
        /// Build the base's outputs instead of reading them from the on-disk
        /// cache (and do not store them); as does PATCHBOT_NO_CACHE=1.
        #[arg(long)]
        no_cache: bool,
        /// Post the reply by email ([post.email]: an outbox maildir by default,
        /// or SMTP), exactly once: the state store ([post] state) records the
        /// intent before sending and the post after, so a re-run posts nothing
        /// and a run after a crash settles what was left. A later version of
        /// the series gets a follow-up that names the findings it resolved;
        /// nothing new since the last version, or nothing to report, posts
        /// nothing. What was posted is printed after the review (in JSON as
        /// "post").
        #[arg(long)]
        post: bool,
        #[command(flatten)]
        format: ReviewFormatArgs,
    },
    /// List the review rules, or run their own examples.
    ///
    /// The rules are the built-in ones (the repository's rules/*.toml) or, with
    /// --rules DIR, every *.toml there. `list` prints id, severity, check kind,
    /// profiles and title (--json: the rules as data). `test` runs every
    /// example of every rule (a small tree, a patch, the findings it must give,
    /// or none) and says which pass; exit 1 when one fails.
    #[command(after_help = EXIT_CODES)]
    Rules {
        #[command(subcommand)]
        what: RulesSub,
    },
    /// Preprocess and parse an architecture's linker script as the tree's build would.
    ///
    /// The script, include directories, defines and forced includes come from
    /// the tree profile's recipe ([profiles.NAME.lds], Xen's xen/Rules.mk by
    /// default); the generated autoconf.h is the Kconfig result of the
    /// architecture and variant; compiler predefines come from the toolchain's
    /// table. Nothing from the tree is run, and nothing outside it is read.
    /// Prints the preprocessed script (as gcc -E -P prints it). With --json:
    /// {"rev", "arch", "variant", "script", "sections": [{"name", "location",
    /// "statements": [{"text", "statement", "dead", "location"}]}], "files_read",
    /// "missing", "warnings"}, where a location is {"file", "line", "expansion":
    /// [{"macro", "file", "line"}]} (outermost macro first).
    #[command(after_help = EXIT_CODES)]
    Lds {
        /// The tree: a git repository (read at --rev) or a plain directory.
        #[arg(long, value_name = "PATH")]
        tree: PathBuf,
        /// The revision (repositories only; default HEAD).
        #[arg(long = "rev", value_name = "REV")]
        rev: Option<String>,
        /// The architecture (a profile name, e.g. x86_64).
        #[arg(long, value_name = "A")]
        arch: String,
        /// The config variant (default: defconfig).
        #[arg(long, value_name = "V", default_value = "defconfig")]
        variant: String,
        /// The tree profile from config.toml (default: detected).
        #[arg(long, value_name = "NAME")]
        profile: Option<String>,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Print the effective configuration (built-in defaults or --config) as TOML.
    #[command(after_help = EXIT_CODES)]
    Config {
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Receive GitHub webhooks and queue the reviews they ask for.
    ///
    /// Listens on ADDR (HTTP; put it behind a TLS proxy) at / and /webhook.
    /// Every delivery's X-Hub-Signature-256 is checked with the secret in the
    /// environment variable [github] webhook_secret_env names
    /// (PATCHBOT_WEBHOOK_SECRET) before its body is read; a bad one is
    /// answered 401 and leaves nothing behind. pull_request events (opened,
    /// synchronize, reopened) are queued in the state store, once per
    /// delivery, and answered 202 at once; ping is answered; other events are
    /// acknowledged and ignored. Stops on SIGINT or SIGTERM.
    #[command(after_help = EXIT_CODES)]
    Serve {
        /// The address to listen on (HOST:PORT; port 0 picks one, printed).
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// Watch the configured archives and review each series once it is complete.
    ///
    /// Runs until SIGTERM or SIGINT (the review under way is finished first).
    /// Each [[watch.sources]] entry of the configuration (a public-inbox
    /// archive over HTTP, as lore.kernel.org serves it, or a local public-inbox
    /// archive or maildir) is polled on its interval: new messages are taken
    /// into the state store and its cursor moved in one transaction; a series
    /// is reviewed once all its parts are there (or [watch] grace_minutes after
    /// its last part arrived) and the review posted by the list's policy, as
    /// `review --post` would; a new version is reviewed again (the follow-up
    /// names what it resolved); patchbot's own mail, Auto-Submitted mail and
    /// known bots are never answered. Pull requests `patchbot serve` queued are
    /// reviewed too ([watch] github). A restart resumes from the cursors; a
    /// review a kill interrupted is done again and its reply posted once. A
    /// failed round backs off (interval x 2^failures, at most [watch]
    /// max_backoff); a review that keeps failing is tried three times, then
    /// left alone until the series changes. On a source's first round the
    /// archive's history is taken in without being reviewed ([watch] backlog).
    /// `patchbot status` shows what happened. Logs go to stderr.
    #[command(after_help = EXIT_CODES)]
    Watch {
        /// One round on every source, then exit (for cron and systemd timers).
        #[arg(long)]
        once: bool,
        /// Only the sources of these names (repeatable).
        #[arg(long = "source", value_name = "NAME")]
        sources: Vec<String>,
        /// Log as JSON lines instead of text.
        #[arg(long)]
        log_json: bool,
        /// Log every step, not only what changed.
        #[arg(long, short)]
        verbose: bool,
    },
    /// The maintainers' triage digest: every open series of the watched lists
    /// and what it needs next.
    ///
    /// Made from what `patchbot watch` took in (the state store) and the
    /// tree's MAINTAINERS (--tree, else [digest] tree, else [watch] tree). Per
    /// series one line: version, title, author, age, whether it applies and
    /// its findings open (and resolved since the previous version), the
    /// trailers collected (Xen's `# area` scoping honoured) and whose ack is
    /// still needed under MAINTAINERS' check-in rules (the most specific
    /// section's maintainers approve a file; someone other than the author
    /// approves each patch). Sections by action: ready to commit, needs an
    /// ack, needs review, findings open, does not apply, stale (no message
    /// for [digest] stale_days), superseded; oldest first inside each; and
    /// what changed since the last digest recorded (--record, or every
    /// digest sent by email). --format email sends one digest to each
    /// maintainer of their areas (or one to the list: [digest] to = "list")
    /// through [post.email], at most once a day per recipient.
    #[command(after_help = EXIT_CODES)]
    Digest {
        /// Only series with a message since this date (YYYY-MM-DD or
        /// YYYY-MM-DDTHH:MM:SSZ, UTC).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// Only series in areas this address maintains.
        #[arg(long, value_name = "EMAIL")]
        maintainer: Option<String>,
        /// text, html (one self-contained page), json, or email (send it).
        #[arg(long, value_enum, default_value_t = cli_digest::DigestFormat::Text)]
        format: cli_digest::DigestFormat,
        /// The tree whose MAINTAINERS is read.
        #[arg(long, value_name = "REPO")]
        tree: Option<PathBuf>,
        /// Record this digest, so the next one says what changed since.
        #[arg(long)]
        record: bool,
    },
    /// What the state store holds: sources, series followed, queued pull
    /// requests, recent posts and errors.
    #[command(after_help = EXIT_CODES)]
    Status {
        /// How many recent series, posts and events to list.
        #[arg(long, value_name = "N", default_value_t = 10)]
        recent: usize,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// The on-disk cache of base results `review` keeps ([cache] in config.toml).
    ///
    /// Every architecture x variant of a base tree is stored once built, keyed
    /// by the base's tree id, the profile, the toolchain answers, the rules and
    /// this build of patchbot; an entry is only ever read for exactly that key.
    /// `info` prints the directory, the entries and their size (--json:
    /// {"dir", "enabled", "entries", "bytes", "max_bytes"}); `clear` removes
    /// every entry.
    #[command(after_help = EXIT_CODES)]
    Cache {
        #[command(subcommand)]
        what: CacheSub,
    },
}

#[derive(Subcommand, Debug)]
enum CacheSub {
    /// Where the cache is and what it holds.
    Info {
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Remove every entry.
    Clear,
}

#[derive(Subcommand, Debug)]
enum RulesSub {
    /// Print the rules.
    List {
        /// Read the rules from this directory instead of the built-in ones.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Run every rule's examples.
    Test {
        /// Read the rules from this directory instead of the built-in ones.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
        /// Only the rules with these ids.
        #[arg(long = "rule", value_name = "ID")]
        only: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
enum KconfigSub {
    /// A drop-in for Linux 6.1's scripts/kconfig/conf.
    ///
    /// Reads the Kconfig file (relative to $srctree, else the current directory),
    /// reads and writes $KCONFIG_CONFIG (default .config) like conf, and, like
    /// conf, writes include/config/auto.conf, auto.conf.cmd, the per-symbol files
    /// and include/generated/{autoconf.h,rustc_cfg} when auto.conf is missing
    /// (always with --syncconfig). The environment is read as conf reads it
    /// (KCONFIG_ALLCONFIG, KCONFIG_DEFCONFIG_LIST, KCONFIG_AUTOCONFIG, ...).
    /// Without a mode conf asks every question (--oldaskconfig); answers are
    /// read from stdin and echoed when stdin is not a terminal. Nothing is run:
    /// `$(shell,...)` and probes get empty or declared-default answers.
    Conf(ConfArgs),
}

#[derive(Args, Debug)]
#[group(multiple = false)]
struct ConfModes {
    /// Ask every visible option (the default).
    #[arg(long)]
    oldaskconfig: bool,
    /// Update the existing configuration, asking for new options only.
    #[arg(long)]
    oldconfig: bool,
    /// Like --oldconfig, quietly, and update auto.conf and the header files.
    #[arg(long)]
    syncconfig: bool,
    /// List the new options with their values, ask nothing, write nothing.
    #[arg(long)]
    listnewconfig: bool,
    /// Print the new options' help texts, ask nothing, write nothing.
    #[arg(long)]
    helpnewconfig: bool,
    /// New config with all symbols set to default.
    #[arg(long)]
    alldefconfig: bool,
    /// New config where all options are answered with no.
    #[arg(long)]
    allnoconfig: bool,
    /// New config where all options are answered with yes.
    #[arg(long)]
    allyesconfig: bool,
    /// New config where all options are answered with mod.
    #[arg(long)]
    allmodconfig: bool,
    /// Update the existing configuration, new symbols at their default.
    #[arg(long)]
    olddefconfig: bool,
    /// New config with defaults from FILE.
    #[arg(long, value_name = "FILE")]
    defconfig: Option<PathBuf>,
    /// Save the minimal configuration (what differs from the defaults) to FILE.
    #[arg(long, value_name = "FILE")]
    savedefconfig: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct ConfArgs {
    #[command(flatten)]
    mode: ConfModes,
    /// Do not print the log.
    #[arg(short, long)]
    silent: bool,
    /// Kconfig dialect: linux-6.1 (default) or xen.
    #[arg(long, default_value = "linux-6.1")]
    dialect: String,
    /// The top Kconfig file.
    kconfig: String,
}

#[derive(Args, Debug)]
struct CppArgs {
    /// Add DIR to the include search (both forms).
    #[arg(short = 'I', value_name = "DIR")]
    include_dirs: Vec<String>,
    /// Add DIR to the search of #include "..." only (before -I).
    #[arg(long = "iquote", value_name = "DIR")]
    quote_dirs: Vec<String>,
    /// Define NAME (as 1, or as VAL).
    #[arg(short = 'D', value_name = "NAME[=VAL]")]
    defines: Vec<String>,
    /// Undefine NAME.
    #[arg(short = 'U', value_name = "NAME")]
    undefines: Vec<String>,
    /// Process FILE first, as if included at the top of the input.
    #[arg(long = "include", value_name = "FILE")]
    forced: Vec<String>,
    /// No target predefines (there are none by default here; accepted for gcc compatibility).
    #[arg(long = "undef")]
    undef: bool,
    /// No linemarkers.
    #[arg(short = 'P')]
    no_markers: bool,
    /// The tree the files are read from (default: the current directory).
    #[arg(long, value_name = "DIR")]
    tree: Option<PathBuf>,
    /// Print the text with provenance as JSON.
    #[arg(long)]
    json: bool,
    /// The file to preprocess (a path in the tree).
    file: String,
}

#[derive(Args, Debug, Clone)]
struct ReviewFormatArgs {
    /// Output format: text, json, email (the reply patchbot would post),
    /// sarif (SARIF 2.1.0 for code-scanning tools) or codequality (a GitLab
    /// Code Quality report).
    #[arg(long, value_enum, default_value_t = ReviewFormat::Text)]
    format: ReviewFormat,
    /// Short for --format json.
    #[arg(long, conflicts_with = "format")]
    json: bool,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum ReviewFormat {
    Text,
    Json,
    Email,
    Sarif,
    Codequality,
}

impl ReviewFormatArgs {
    fn get(&self) -> ReviewFormat {
        if self.json {
            ReviewFormat::Json
        } else {
            self.format
        }
    }
}

#[derive(Args, Debug, Clone)]
struct FormatArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Short for --format json.
    #[arg(long, conflicts_with = "format")]
    json: bool,
}

impl FormatArgs {
    fn get(&self) -> Format {
        if self.json {
            Format::Json
        } else {
            self.format
        }
    }
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// For people.
    Text,
    /// For programs; shapes are documented in README.md.
    Json,
}

const OK: u8 = 0;
const USAGE: u8 = 2;
const INPUT: u8 = 3;
const PARTIAL: u8 = 4;
const DOES_NOT_APPLY: u8 = 5;
const POST_FAILED: u8 = 6;

fn print(s: &str) -> u8 {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => OK,
        // a closed pipe (`| head`) is not an error worth a message
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => OK,
        Err(e) => {
            eprintln!("patchbot: cannot write output: {e}");
            INPUT
        }
    }
}

fn json_string(v: &impl serde::Serialize) -> String {
    let mut s =
        serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

fn input_error(e: &InputError) -> u8 {
    eprintln!("patchbot: {e}");
    INPUT
}

/// `--offline`: set once, before any input is resolved.
static OFFLINE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Where a thread fetched by Message-ID or URL came from (for the newer-version check).
struct Fetched {
    msgid: String,
    url: String,
}

/// Resolve an INPUT; a Message-ID or archive URL is fetched as its thread's
/// mbox into the cache of fetched threads and read from there.
fn resolve_input(cfg: &Config, arg: &str, fetched: &mut Vec<Fetched>) -> Result<Input, u8> {
    let input = Input::resolve(arg).map_err(|e| input_error(&e))?;
    let target = match patchbot::remote::target(&input) {
        Ok(Some(t)) => t,
        Ok(None) => return Ok(input),
        Err(e) => {
            eprintln!("patchbot: {e}");
            return Err(USAGE);
        }
    };
    let offline = OFFLINE.load(std::sync::atomic::Ordering::Relaxed);
    match patchbot::remote::fetch_thread(&cfg.remote, &target, offline) {
        Ok(f) => {
            eprintln!(
                "patchbot: the thread of <{}> {} {}",
                target.msgid,
                if f.from_cache {
                    "from the cache of"
                } else {
                    "fetched from"
                },
                f.url
            );
            fetched.push(Fetched {
                msgid: target.msgid,
                url: f.url,
            });
            Ok(Input::File(f.path))
        }
        Err(e) => {
            eprintln!("patchbot: {e}");
            Err(INPUT)
        }
    }
}

fn run(cli: Cli) -> u8 {
    OFFLINE.store(cli.offline, std::sync::atomic::Ordering::Relaxed);
    let cfg = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("patchbot: {e}");
            return USAGE;
        }
    };
    match cli.command {
        Command::Rules { what } => rules_cmd(&cfg, what),
        Command::Review {
            inputs,
            tree,
            base,
            series,
            version_n,
            profile,
            all,
            fail_on,
            show_outputs,
            no_cache,
            post,
            format,
        } => review_cmd(
            &cfg,
            &inputs,
            &tree,
            base.as_deref(),
            version_n.map(Pick::Version).or(series),
            profile.as_deref(),
            ReviewFlags {
                all,
                fail_on: fail_on.as_deref(),
                show_outputs,
                no_cache,
                post,
                format: format.get(),
            },
        ),
        Command::Cache { what } => cache_cmd(&cfg, what),
        Command::Serve { listen } => serve_cmd(&cfg, &listen),
        Command::Watch {
            once,
            sources,
            log_json,
            verbose,
        } => cli_watch::watch_cmd(
            &cfg,
            cli.config.as_deref(),
            cli_watch::WatchFlags {
                once,
                sources,
                log_json,
                verbose,
            },
        ),
        Command::Digest {
            since,
            maintainer,
            format,
            tree,
            record,
        } => cli_digest::digest_cmd(
            &cfg,
            cli_digest::DigestFlags {
                since,
                maintainer,
                format,
                tree,
                record,
            },
        ),
        Command::Status { recent, format } => {
            cli_watch::status_cmd(&cfg, recent, format.get() == Format::Json)
        }
        Command::Lds {
            tree,
            rev,
            arch,
            variant,
            profile,
            format,
        } => lds_cmd(
            &cfg,
            &tree,
            rev.as_deref(),
            &arch,
            &variant,
            profile.as_deref(),
            format.get(),
        ),
        Command::Kconfig {
            conf: Some(KconfigSub::Conf(args)),
            ..
        } => conf_dropin(&args),
        Command::Kconfig {
            conf: None,
            tree,
            revs,
            arch,
            variant,
            symbol,
            profile,
            toolchain,
            series,
            format,
        } => match tree {
            None => {
                eprintln!("patchbot: kconfig needs --tree PATH (or the `conf` subcommand)");
                USAGE
            }
            Some(tree) => kconfig_cmd(
                &cfg,
                &tree,
                &revs,
                &series,
                &arch,
                &variant,
                &symbol,
                profile.as_deref(),
                toolchain.as_deref(),
                format.get(),
            ),
        },
        Command::Cpp(args) => cpp_cmd(&args, &cpp_order()),
        Command::Config { format } => match format.get() {
            Format::Text => print(&cfg.to_toml()),
            Format::Json => print(&json_string(&cfg)),
        },
        Command::Mail {
            input,
            index,
            format,
        } => {
            let input = match resolve_input(&cfg, &input, &mut Vec::new()) {
                Ok(i) => i,
                Err(code) => return code,
            };
            let opts = patchbot::read_options(&cfg);
            let mut raws = Vec::new();
            let want = index.unwrap_or(1);
            let mut count = 0usize;
            if let Err(e) = input.read(&opts, &mut |m| {
                count += 1;
                if count == want {
                    raws.push(m);
                }
            }) {
                return input_error(&e);
            }
            if index.is_none() && count > 1 {
                eprintln!("patchbot: the input holds {count} messages; choose one with --index N (1..={count})");
                return USAGE;
            }
            let Some(raw) = raws.pop() else {
                eprintln!("patchbot: no message {want} in the input (it holds {count})");
                return INPUT;
            };
            let raw = match raw {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("patchbot: {e}");
                    return INPUT;
                }
            };
            let m = match Message::parse_lenient(raw, &cfg.limits, patchbot::mailinfo_options(&cfg))
            {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("patchbot: {e}");
                    return INPUT;
                }
            };
            match format.get() {
                Format::Text => print(&output::mail_text(&m)),
                Format::Json => print(&json_string(&output::mail_json(&m))),
            }
        }
        Command::Apply {
            inputs,
            tree,
            base,
            as_of,
            series,
            version_n,
            branch,
            format,
        } => apply(
            &cfg,
            &inputs,
            &tree,
            base.as_deref(),
            as_of,
            version_n.map(Pick::Version).or(series),
            branch,
            format.get(),
        ),
        Command::Series { inputs, format } => {
            let mut resolved = Vec::new();
            for i in &inputs {
                match resolve_input(&cfg, i, &mut Vec::new()) {
                    Ok(x) => resolved.push(x),
                    Err(code) => return code,
                }
            }
            let assembled = match patchbot::assemble(&resolved, &cfg) {
                Ok(r) => r,
                Err(e) => return input_error(&e),
            };
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
            let written = match format.get() {
                Format::Text => output::write_series_text(&mut w, &assembled),
                Format::Json => output::write_series_json(&mut w, &assembled),
            }
            .and_then(|_| w.flush());
            match written {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return OK,
                Err(e) => {
                    eprintln!("patchbot: cannot write output: {e}");
                    return INPUT;
                }
            }
            if assembled.errors.is_empty() {
                OK
            } else {
                PARTIAL
            }
        }
    }
}

/// `--series`: the Nth series of the input, or the one with a Message-ID.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pick {
    Nth(usize),
    MessageId(String),
    /// `--version N`: the series of that version.
    Version(u32),
}

fn parse_pick(s: &str) -> Result<Pick, String> {
    if let Ok(n) = s.parse::<usize>() {
        return Ok(Pick::Nth(n));
    }
    let id = s.strip_prefix("id:").unwrap_or(s);
    let id = id
        .strip_prefix('<')
        .and_then(|i| i.strip_suffix('>'))
        .unwrap_or(id);
    if id.contains('@') && !id.contains(char::is_whitespace) {
        Ok(Pick::MessageId(id.to_string()))
    } else {
        Err(format!("{s:?}: a number (1-based) or a Message-ID"))
    }
}

/// A series ready to apply: what `apply` and `kconfig --series` share.
struct Ready {
    series: patchbot::series::Series,
    source: patchbot::tree::TreeSource,
    base: patchbot::tree::base::Base,
    patches: Vec<patchbot::tree::apply::PatchInput>,
}

/// Read the series, open the tree and choose the base; an exit code on failure.
#[allow(clippy::too_many_arguments)]
/// Apply a prepared series with the configured options on no branch, keeping
/// the workspace so the patched tree stays readable; a failure to run is
/// printed (exit INPUT). A series that does not apply is an `Applied` without
/// a tree, for the caller to report.
fn apply_kept(
    cfg: &Config,
    ready: &Ready,
) -> Result<
    (
        patchbot::tree::apply::Applied,
        patchbot::tree::apply::Workspace,
    ),
    u8,
> {
    let opts = patchbot::tree::apply::ApplyOptions::from_config(&cfg.apply, None);
    patchbot::tree::apply::apply_series_kept(
        ready.source.repo(),
        &ready.base.commit,
        &ready.patches,
        &opts,
    )
    .map_err(|e| {
        eprintln!("patchbot: {e}");
        INPUT
    })
}

fn prepare(
    cfg: &Config,
    inputs: &[String],
    tree: &std::path::Path,
    base: Option<&str>,
    as_of: bool,
    which: Option<Pick>,
    branch: bool,
) -> Result<Ready, u8> {
    use patchbot::tree::{base as base_mod, TreeSource};
    let mut resolved = Vec::new();
    let mut fetched = Vec::new();
    for i in inputs {
        resolved.push(resolve_input(cfg, i, &mut fetched)?);
    }
    let mut report = match patchbot::assemble(&resolved, cfg) {
        Ok(r) => r.report(),
        Err(e) => return Err(input_error(&e)),
    };
    // a thread fetched by Message-ID: its newest version unless told otherwise
    let which = match (which, fetched.first()) {
        (Some(w), _) => Some(w),
        (None, Some(f)) if report.series.len() > 1 => {
            let has = |s: &patchbot::series::Series| {
                s.cover.as_ref().and_then(|c| c.message_id.as_deref()) == Some(f.msgid.as_str())
                    || s.patches
                        .iter()
                        .any(|p| p.message_id.as_deref() == Some(f.msgid.as_str()))
            };
            report
                .series
                .iter()
                .enumerate()
                .max_by_key(|(i, s)| (s.version, has(s), std::cmp::Reverse(*i)))
                .map(|(i, _)| Pick::Nth(i + 1))
        }
        (None, _) => None,
    };
    let index = match (which, report.series.len()) {
        (_, 0) => {
            eprintln!("patchbot: no series in the input");
            return Err(INPUT);
        }
        (Some(Pick::MessageId(id)), _) => {
            let has = |s: &patchbot::series::Series| {
                s.cover.as_ref().and_then(|c| c.message_id.as_deref()) == Some(id.as_str())
                    || s.patches
                        .iter()
                        .any(|p| p.message_id.as_deref() == Some(id.as_str()))
            };
            // the newest version that has it (a re-roll carries older parts)
            match report.series.iter().rposition(has) {
                Some(i) => i,
                None => {
                    eprintln!(
                        "patchbot: --series {id}: no series of the input has that Message-ID"
                    );
                    return Err(USAGE);
                }
            }
        }
        (Some(Pick::Version(v)), _) => match report.series.iter().rposition(|s| s.version == v) {
            Some(i) => i,
            None => {
                let have: Vec<String> = report
                    .series
                    .iter()
                    .map(|s| format!("v{}", s.version))
                    .collect();
                eprintln!(
                    "patchbot: --version {v}: the input holds {}",
                    have.join(", ")
                );
                return Err(USAGE);
            }
        },
        (None, 1) => 0,
        (Some(Pick::Nth(n)), len) if n >= 1 && n <= len => n - 1,
        (Some(Pick::Nth(n)), len) => {
            eprintln!("patchbot: --series {n}: the input holds {len} series");
            return Err(USAGE);
        }
        (None, len) => {
            eprintln!("patchbot: the input holds {len} series; choose one with --series N:");
            for (i, s) in report.series.iter().enumerate() {
                eprintln!("  {}: v{} {}", i + 1, s.version, s.title);
            }
            return Err(USAGE);
        }
    };
    let series = report.series.swap_remove(index);
    // b4's check: is there a newer version on the server than the thread has?
    if let (Some(f), true, false) = (
        fetched.first(),
        cfg.remote.check_newer,
        OFFLINE.load(std::sync::atomic::Ordering::Relaxed),
    ) {
        if let Some(newer) =
            patchbot::remote::newer_versions(&cfg.remote, &f.url, &series.title, series.version)
        {
            for (v, link) in newer {
                eprintln!(
                    "patchbot: note: the server has a newer version of this series, v{v}: {link}"
                );
            }
        }
    }
    let source = match TreeSource::open(tree) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("patchbot: {e}");
            return Err(INPUT);
        }
    };
    let patches = match patchbot::patch_inputs(&resolved, cfg, &series) {
        Ok(p) => p,
        Err(e) => return Err(input_error(&e)),
    };
    let base = match &source {
        TreeSource::Snapshot { commit, .. } => {
            if base.is_some() || as_of || branch {
                eprintln!("patchbot: --base, --as-of and --branch need a git repository; {} is a plain directory", tree.display());
                return Err(USAGE);
            }
            base_mod::Base {
                commit: commit.clone(),
                rung: base_mod::Rung::Directory,
                why: vec![format!(
                    "{} is a plain directory; its files are the base",
                    tree.display()
                )],
            }
        }
        TreeSource::Repo(repo) => {
            match base_mod::resolve(repo, &series, base, &cfg.apply.branches, as_of) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("patchbot: {e}");
                    return Err(INPUT);
                }
            }
        }
    };
    Ok(Ready {
        series,
        source,
        base,
        patches,
    })
}

#[allow(clippy::too_many_arguments)]
fn apply(
    cfg: &Config,
    inputs: &[String],
    tree: &std::path::Path,
    base: Option<&str>,
    as_of: bool,
    which: Option<Pick>,
    branch: Option<String>,
    format: Format,
) -> u8 {
    use patchbot::tree::apply;
    let ready = match prepare(cfg, inputs, tree, base, as_of, which, branch.is_some()) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let (series, base, patches) = (&ready.series, &ready.base, &ready.patches);
    let repo = ready.source.repo();
    let opts = apply::ApplyOptions::from_config(&cfg.apply, branch);
    let applied = match apply::apply_series(repo, &base.commit, patches, &opts) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("patchbot: {e}");
            return INPUT;
        }
    };
    let code = match format {
        Format::Json => print(&json_string(&output::apply_json(series, base, &applied))),
        Format::Text => print(&output::apply_text(series, base, &applied)),
    };
    if code != OK {
        code
    } else if applied.tree.is_some() {
        OK
    } else {
        DOES_NOT_APPLY
    }
}

/// What keeps a patched tree's objects readable while its views are used.
type Keep = Option<(Ready, patchbot::tree::apply::Workspace)>;

/// The trees a command reads: a repository at each --rev (default HEAD), a plain
/// directory, or with --series the base and the patched tree.
#[allow(clippy::type_complexity)]
fn open_views(
    cfg: &Config,
    tree: &std::path::Path,
    revs: &[String],
    series: &[String],
) -> Result<(Vec<(String, Box<dyn patchbot::tree::vfs::Vfs>)>, Keep), u8> {
    use patchbot::tree::vfs::{DirVfs, GitTreeVfs, Vfs};
    let mut views: Vec<(String, Box<dyn Vfs>)> = Vec::new();
    // with --series: the base and the patched tree (the workspace keeps the
    // patched tree's objects readable while we evaluate)
    let mut _keep = None;
    if !series.is_empty() {
        let ready = prepare(cfg, series, tree, None, false, None, false)?;
        let (applied, ws) = apply_kept(cfg, &ready)?;
        let Some(patched) = applied.tree.clone() else {
            let _ = print(&output::apply_text(&ready.series, &ready.base, &applied));
            return Err(DOES_NOT_APPLY);
        };
        let short = &ready.base.commit[..12.min(ready.base.commit.len())];
        match (
            GitTreeVfs::new(ready.source.repo(), &ready.base.commit),
            GitTreeVfs::new(&ws.repo, &patched),
        ) {
            (Ok(b), Ok(p)) => {
                views.push((format!("base {short}"), Box::new(b)));
                views.push(("patched".to_string(), Box::new(p)));
            }
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("patchbot: {e}");
                return Err(INPUT);
            }
        }
        _keep = Some((ready, ws));
    }
    // a repository is read at its revisions; a plain directory directly (no
    // snapshot is needed just to read it)
    let repo = if views.is_empty() {
        match patchbot::tree::Repo::at_root(tree) {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("patchbot: {e}");
                return Err(INPUT);
            }
        }
    } else {
        None
    };
    match repo {
        None => {}
        Some(Some(repo)) => {
            let revs: Vec<String> = if revs.is_empty() {
                vec!["HEAD".into()]
            } else {
                revs.to_vec()
            };
            for r in revs {
                let Some(commit) = repo.commit(&r) else {
                    eprintln!("patchbot: --rev {r}: no such commit");
                    return Err(INPUT);
                };
                match GitTreeVfs::new(&repo, &commit) {
                    Ok(v) => views.push((r.clone(), Box::new(v))),
                    Err(e) => {
                        eprintln!("patchbot: {e}");
                        return Err(INPUT);
                    }
                }
            }
        }
        Some(None) => {
            if !revs.is_empty() {
                eprintln!(
                    "patchbot: --rev needs a git repository; {} is a plain directory",
                    tree.display()
                );
                return Err(USAGE);
            }
            match DirVfs::new(tree) {
                Ok(v) => views.push(("(directory)".into(), Box::new(v))),
                Err(e) => {
                    eprintln!("patchbot: {e}");
                    return Err(INPUT);
                }
            }
        }
    }
    Ok((views, _keep))
}

/// The tree profile: --profile, else the first whose marker files the tree has.
fn choose_profile<'c>(
    cfg: &'c Config,
    profile: Option<&str>,
    vfs: &dyn patchbot::tree::vfs::Vfs,
    tree: &std::path::Path,
) -> Result<(String, &'c patchbot::config::Profile), u8> {
    let (pname, prof) = match profile {
        Some(p) => match cfg.profiles.get(p) {
            Some(x) => (p.to_string(), x),
            None => {
                eprintln!("patchbot: no profile {p} in the configuration");
                return Err(USAGE);
            }
        },
        None => match cfg
            .profiles
            .iter()
            .find(|(_, p)| p.markers.iter().all(|m| vfs.exists(m)))
        {
            Some((n, p)) => (n.clone(), p),
            None => {
                eprintln!(
                    "patchbot: no tree profile matches {} (choose one with --profile)",
                    tree.display()
                );
                return Err(USAGE);
            }
        },
    };
    Ok((pname, prof))
}

fn load_rules(dir: Option<&std::path::Path>) -> Result<Vec<patchbot::rules::Rule>, u8> {
    match dir {
        None => Ok(patchbot::rules::builtin()),
        Some(d) => patchbot::rules::load_dir(d).map_err(|e| {
            eprintln!("patchbot: {e}");
            USAGE
        }),
    }
}

fn serve_cmd(cfg: &Config, listen: &str) -> u8 {
    let Some(secret) = std::env::var(&cfg.github.webhook_secret_env)
        .ok()
        .filter(|s| !s.is_empty())
    else {
        eprintln!(
            "patchbot: serve needs the webhook secret in ${} ([github] webhook_secret_env)",
            cfg.github.webhook_secret_env
        );
        return USAGE;
    };
    let Some(path) = cfg.post.state_path() else {
        eprintln!("patchbot: no state store: set [post] state, XDG_STATE_HOME or HOME");
        return USAGE;
    };
    let store = match patchbot::state::Store::open(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("patchbot: {e}");
            return INPUT;
        }
    };
    let r = patchbot::serve::run(listen, store, secret.into_bytes(), |addr| {
        eprintln!("patchbot: listening on {addr}");
    });
    match r {
        Ok(()) => OK,
        Err(e) => {
            eprintln!("patchbot: serve: {e}");
            INPUT
        }
    }
}

fn cache_cmd(cfg: &Config, what: CacheSub) -> u8 {
    // the directory even when the cache is off, so it can still be cleared
    let on = cfg.cache.open();
    let cache = on
        .clone()
        .or_else(|| Some(patchbot::cache::Cache::new(&cfg.cache.dir()?, 0)));
    let Some(cache) = cache else {
        eprintln!("patchbot: no cache directory: set [cache] dir, PATCHBOT_CACHE_DIR or HOME");
        return USAGE;
    };
    match what {
        CacheSub::Info { format } => {
            let (entries, bytes) = cache.usage();
            let max_bytes = cfg.cache.max_mib.saturating_mul(1024 * 1024);
            match format.get() {
                Format::Json => print(&json_string(&serde_json::json!({
                    "dir": cache.dir().display().to_string(),
                    "enabled": on.is_some(),
                    "entries": entries,
                    "bytes": bytes,
                    "max_bytes": max_bytes,
                }))),
                Format::Text => print(&format!(
                    "{}{}\n{entries} entr{}, {:.1} MiB of at most {} MiB\n",
                    cache.dir().display(),
                    if on.is_some() { "" } else { " (off)" },
                    if entries == 1 { "y" } else { "ies" },
                    bytes as f64 / (1024.0 * 1024.0),
                    cfg.cache.max_mib
                )),
            }
        }
        CacheSub::Clear => match cache.clear() {
            Ok(n) => print(&format!(
                "removed {n} entr{} from {}\n",
                if n == 1 { "y" } else { "ies" },
                cache.dir().display()
            )),
            Err(e) => {
                eprintln!("patchbot: cannot clear {}: {e}", cache.dir().display());
                INPUT
            }
        },
    }
}

fn rules_cmd(cfg: &Config, what: RulesSub) -> u8 {
    match what {
        RulesSub::List { rules, format } => {
            let rules = match load_rules(rules.as_deref()) {
                Ok(r) => r,
                Err(c) => return c,
            };
            match format.get() {
                Format::Json => print(&json_string(&rules)),
                Format::Text => {
                    let mut out = String::new();
                    for r in &rules {
                        let kind = serde_json::to_value(&r.check)
                            .ok()
                            .and_then(|v| v["kind"].as_str().map(String::from))
                            .unwrap_or_default();
                        let profiles = if r.profiles.is_empty() {
                            "all profiles".to_string()
                        } else {
                            r.profiles.join(", ")
                        };
                        out.push_str(&format!(
                            "{:<28} {:<8} {:<22} {:<14} {} ({} examples)\n",
                            r.id,
                            r.severity.as_str(),
                            kind,
                            profiles,
                            r.title,
                            r.examples.len()
                        ));
                    }
                    print(&out)
                }
            }
        }
        RulesSub::Test { rules, only } => {
            let rules = match load_rules(rules.as_deref()) {
                Ok(r) => r,
                Err(c) => return c,
            };
            let mut failed = 0;
            let mut passed = 0;
            let mut out = String::new();
            for r in rules
                .iter()
                .filter(|r| only.is_empty() || only.contains(&r.id))
            {
                if r.examples.is_empty() {
                    out.push_str(&format!("{}: no examples\n", r.id));
                }
                for e in &r.examples {
                    let mut want: Vec<String> = e.findings.iter().map(|x| x.to_string()).collect();
                    want.sort();
                    match patchbot::review::run_example(cfg, r, e) {
                        Ok(found) => {
                            let mut got: Vec<String> = found
                                .iter()
                                .map(|f| patchbot::rules::Expected::of(f).to_string())
                                .collect();
                            got.sort();
                            if got == want {
                                passed += 1;
                                out.push_str(&format!("ok   {}: {}\n", r.id, e.name));
                            } else {
                                failed += 1;
                                out.push_str(&format!(
                                    "FAIL {}: {}\n  expected: {want:?}\n  found:    {got:?}\n",
                                    r.id, e.name
                                ));
                                for f in &found {
                                    out.push_str(&format!("  | {}\n", f.message));
                                }
                            }
                        }
                        Err(err) => {
                            failed += 1;
                            out.push_str(&format!("FAIL {}: {}: {err}\n", r.id, e.name));
                        }
                    }
                }
            }
            out.push_str(&format!("examples: {passed} passed, {failed} failed\n"));
            let code = print(&out);
            if failed > 0 {
                1
            } else {
                code
            }
        }
    }
}

/// `FROM..TO` of the repository at `tree` as an mbox (`git format-patch`),
/// and FROM's commit (the base).
/// A GitHub client from `[github]`: a GitHub App when `app_id` is set (its
/// key from the environment), else the token from its environment variable.
fn github_client(
    cfg: &Config,
    pr: &patchbot::github::PrRef,
) -> Result<patchbot::github::Client, String> {
    use patchbot::github::Auth;
    let g = &cfg.github;
    let auth = if g.app_id != 0 {
        let key = std::env::var(&g.app_key_env)
            .ok()
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                format!(
                    "[github] app_id is set: the App's private key goes in ${}",
                    g.app_key_env
                )
            })?;
        let pem = if key.contains("-----BEGIN") {
            key.into_bytes()
        } else {
            std::fs::read(&key).map_err(|e| format!("${} = {key}: {e}", g.app_key_env))?
        };
        Auth::App {
            app_id: g.app_id,
            pem,
            installation: (g.installation_id != 0).then_some(g.installation_id),
            repo: Some((pr.owner.clone(), pr.repo.clone())),
        }
    } else {
        match std::env::var(&g.token_env).ok().filter(|t| !t.is_empty()) {
            Some(t) => Auth::Token(t),
            None => Auth::None,
        }
    };
    patchbot::github::Client::with_auth(&g.api, auth).map_err(|e| e.to_string())
}

/// A pull request as a commit range of the `--tree` clone (`BASE..HEAD`,
/// from the merge base), fetching its head (`refs/pull/N/head`) and base from
/// `[github] remote` when the clone does not have them.
fn pull_as_range(
    cfg: &Config,
    tree: &std::path::Path,
    pr: &patchbot::github::PrRef,
) -> Result<(String, patchbot::github::Pull), u8> {
    let client = github_client(cfg, pr).map_err(|e| {
        eprintln!("patchbot: {e}");
        USAGE
    })?;
    let pull = client.pull(pr).map_err(|e| {
        eprintln!("patchbot: {pr}: {e}");
        INPUT
    })?;
    let repo = match patchbot::tree::Repo::at_root(tree) {
        Ok(Some(r)) => r,
        Ok(None) => {
            eprintln!(
                "patchbot: {pr}: --tree must be a git clone of {}/{}; {} is a plain directory",
                pr.owner,
                pr.repo,
                tree.display()
            );
            return Err(USAGE);
        }
        Err(e) => {
            eprintln!("patchbot: {e}");
            return Err(INPUT);
        }
    };
    if repo.commit(&pull.head_sha).is_none() || repo.commit(&pull.base_sha).is_none() {
        let head = format!("refs/pull/{}/head", pr.number);
        let fetched = repo.run(&[
            "fetch",
            "--quiet",
            "--no-tags",
            &cfg.github.remote,
            &head,
            &pull.base_sha,
        ]);
        if fetched.is_err()
            || repo.commit(&pull.head_sha).is_none()
            || repo.commit(&pull.base_sha).is_none()
        {
            eprintln!(
                "patchbot: {pr}: the clone {} has no commit {} or {}, and fetching {head} from {} did not bring them",
                tree.display(),
                &pull.head_sha,
                &pull.base_sha,
                cfg.github.remote
            );
            return Err(INPUT);
        }
    }
    let from = repo
        .run(&["merge-base", &pull.base_sha, &pull.head_sha])
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| pull.base_sha.clone());
    Ok((format!("{from}..{}", pull.head_sha), pull))
}

/// Post a pull request's review on GitHub, exactly once per head commit and
/// set of findings (the state store's intent, settled by the summary
/// comment's key).
fn post_github(
    cfg: &Config,
    pr: &patchbot::github::PrRef,
    pull: &patchbot::github::Pull,
    patches: &[patchbot::rules::checks::PatchDiff],
    findings: &[patchbot::rules::Finding],
    base: &str,
) -> Result<serde_json::Value, String> {
    use patchbot::state::{Intent, Store};
    let client = github_client(cfg, pr)?;
    let path = cfg
        .post
        .state_path()
        .ok_or("no state store: set [post] state, XDG_STATE_HOME or HOME")?;
    let mut store = Store::open(&path).map_err(|e| e.to_string())?;
    let mut fps: Vec<&str> = findings.iter().map(|f| f.fingerprint.as_str()).collect();
    fps.sort_unstable();
    let key = patchbot::cache::digest(&format!(
        "github\n{pr}\n{}\n{}",
        pull.head_sha,
        fps.join("\n")
    ));
    let in_diff = |path: &str, line: u32| {
        patches.iter().any(|p| {
            p.files.iter().any(|f| {
                f.path() == path
                    && f.hunks
                        .iter()
                        .any(|h| h.lines.iter().any(|l| l.new == Some(line)))
            })
        })
    };
    let review = patchbot::github::review_of(findings, &in_diff, base, &key);
    let target = pr.to_string();
    let settled_by_marker = |client: &patchbot::github::Client| -> Result<bool, String> {
        Ok(client
            .summary_comment(pr)
            .map_err(|e| e.to_string())?
            .is_some_and(|(_, body)| body.contains(&format!("patchbot:key {key} "))))
    };
    match store
        .intend(&key, "github", &target, &key, review.comment.as_bytes())
        .map_err(|e| e.to_string())?
    {
        Intent::Posted(_) => return Ok(serde_json::json!({"already_posted": key})),
        Intent::Unfinished(_) if settled_by_marker(&client)? => {
            store.posted(&key, None).map_err(|e| e.to_string())?;
            return Ok(serde_json::json!({"settled": key}));
        }
        Intent::Unfinished(_) | Intent::New => {}
    }
    let posted = client
        .post_review(pr, pull, &review)
        .map_err(|e| e.to_string())?;
    store
        .posted(
            &key,
            Some(&serde_json::to_string(&posted).unwrap_or_default()),
        )
        .map_err(|e| e.to_string())?;
    Ok(serde_json::json!({"posted": posted, "conclusion": review.conclusion, "key": key}))
}

fn commit_range_mbox(
    tree: &std::path::Path,
    from: &str,
    to: &str,
) -> Result<(tempfile::NamedTempFile, String), u8> {
    let repo = match patchbot::tree::Repo::at_root(tree) {
        Ok(Some(r)) => r,
        Ok(None) => {
            eprintln!(
                "patchbot: a commit range needs a git repository; {} is a plain directory",
                tree.display()
            );
            return Err(USAGE);
        }
        Err(e) => {
            eprintln!("patchbot: {e}");
            return Err(INPUT);
        }
    };
    let (Some(a), Some(b)) = (repo.commit(from), repo.commit(to)) else {
        eprintln!(
            "patchbot: {from}..{to}: not two commits of {}",
            tree.display()
        );
        return Err(INPUT);
    };
    let out = match repo
        .git()
        .args([
            "format-patch",
            "--stdout",
            "--no-signature",
            "--no-stat",
            "--numbered",
            "--full-index",
        ])
        .arg(format!("{a}..{b}"))
        .output()
    {
        Ok(o) if o.status.success() => o.stdout,
        Ok(o) => {
            eprintln!(
                "patchbot: git format-patch: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            return Err(INPUT);
        }
        Err(e) => {
            eprintln!("patchbot: git: {e}");
            return Err(INPUT);
        }
    };
    if out.is_empty() {
        eprintln!("patchbot: {from}..{to} holds no commits");
        return Err(INPUT);
    }
    let mut file = match tempfile::Builder::new().suffix(".mbox").tempfile() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("patchbot: {e}");
            return Err(INPUT);
        }
    };
    use std::io::Write as _;
    if let Err(e) = file.write_all(&out) {
        eprintln!("patchbot: {e}");
        return Err(INPUT);
    }
    Ok((file, a))
}

#[allow(clippy::too_many_arguments)]
/// The messages of a series patchbot must not answer, and why: anything
/// `Auto-Submitted` (other than `no`), its own mail, and the bots
/// `[post] never_reply_to` names.
fn no_reply(
    cfg: &Config,
    s: &patchbot::series::Series,
) -> std::collections::BTreeMap<String, String> {
    use patchbot::maintainers::address_of;
    let own = address_of(&cfg.post.from);
    let glob = patchbot::glob::matches_ignore_case;
    let why = |auto: bool, sender: Option<&patchbot::mail::Address>| -> Option<String> {
        if auto {
            return Some("it is Auto-Submitted".into());
        }
        let a = sender.map(|a| a.email.to_ascii_lowercase())?;
        if a == own {
            return Some("it is patchbot's own mail".into());
        }
        cfg.post
            .never_reply_to
            .iter()
            .find(|g| glob(g, &a))
            .map(|g| format!("{a} is a bot ([post] never_reply_to {g:?})"))
    };
    let mut out = std::collections::BTreeMap::new();
    if let Some(c) = &s.cover {
        if let (Some(id), Some(w)) = (&c.message_id, why(c.auto_submitted, c.sender.as_deref())) {
            out.insert(id.to_string(), w);
        }
    }
    for p in &s.patches {
        if let (Some(id), Some(w)) = (&p.message_id, why(p.auto_submitted, p.sender.as_deref())) {
            out.insert(id.to_string(), w);
        }
    }
    out
}

/// The switches of `review`.
struct ReviewFlags<'a> {
    all: bool,
    fail_on: Option<&'a str>,
    show_outputs: bool,
    no_cache: bool,
    post: bool,
    format: ReviewFormat,
}

/// What `review --post` did: the outcomes, or why nothing was posted.
#[derive(serde::Serialize)]
struct PostReport {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    outcomes: Vec<patchbot::post::Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    silent: Option<String>,
    /// The earlier version compared with, and the findings it had that this
    /// version resolved (fingerprints).
    #[serde(skip_serializing_if = "Option::is_none")]
    since: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resolved: Vec<String>,
    /// Replies not posted: (the message not answered, why).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    not_answered: Vec<(String, String)>,
    /// Maintainers' answers in effect for the series: (command, by).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    honoured: Vec<(String, String)>,
    /// Answers not taken: (message, by, why).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    refused: Vec<(String, String, String)>,
    /// Findings not posted because of an answer.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    held_back: Vec<String>,
    /// The list whose policy applied (None: the default policy) and its reply mode.
    list: Option<String>,
    reply: String,
    /// Quiet hours: nothing was decided or posted; the next run posts.
    #[serde(skip_serializing_if = "Option::is_none")]
    deferred: Option<String>,
    /// A dry run: nothing was posted or written.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    dry_run: bool,
}

/// What posting did, for people.
fn post_text(p: &PostReport) -> String {
    use patchbot::post::Outcome;
    let mut out = String::new();
    for o in &p.outcomes {
        out.push_str(&match o {
            Outcome::Sent { message_id, to } => format!("Posted {message_id} ({to})\n"),
            Outcome::Settled { message_id } => {
                format!("Recorded {message_id}, which an earlier run had posted\n")
            }
            Outcome::AlreadyPosted { message_id } => {
                format!("Not posted again: {message_id} was posted before\n")
            }
            Outcome::WouldSend {
                message_id,
                in_reply_to,
            } => format!("Would post {message_id} in reply to {in_reply_to} (dry run)\n"),
        });
    }
    if let Some(why) = &p.silent {
        out.push_str(&format!("Nothing posted: {why}\n"));
    }
    if let Some(why) = &p.deferred {
        out.push_str(&format!("Nothing posted yet: {why}\n"));
    }
    for (id, why) in &p.not_answered {
        out.push_str(&format!("Not answered: {id}, as {why}\n"));
    }
    for (c, by) in &p.honoured {
        out.push_str(&format!("Honoured: \"patchbot: {c}\" from {by}\n"));
    }
    for (id, by, why) in &p.refused {
        out.push_str(&format!("Not taken: {by} in {id}: {why}\n"));
    }
    if !p.held_back.is_empty() {
        out.push_str(&format!(
            "{} finding{} held back by those answers\n",
            p.held_back.len(),
            if p.held_back.len() == 1 { "" } else { "s" }
        ));
    }
    if let (Some(v), false) = (p.since, p.resolved.is_empty()) {
        out.push_str(&format!(
            "{} finding{} of v{v} resolved\n",
            p.resolved.len(),
            if p.resolved.len() == 1 { "" } else { "s" }
        ));
    }
    out
}

/// Post the review (`review --post`): record it, decide, post exactly once.
fn post_review(
    cfg: &Config,
    reply: &Reply,
    ready: &Ready,
    patches: &[patchbot::rules::checks::PatchDiff],
    findings: &[patchbot::rules::Finding],
    rules: &[patchbot::rules::Rule],
) -> Result<PostReport, String> {
    use patchbot::state::{Store, StoredFinding};
    // the policy of the list the series is on, else the default
    let (list, policy) = reply
        .lists
        .iter()
        .find_map(|l| cfg.post.lists.get_key_value(l))
        .map(|(l, p)| (Some(l.clone()), p))
        .unwrap_or((None, &cfg.post.policy));
    let mut report = PostReport {
        outcomes: Vec::new(),
        silent: None,
        since: None,
        resolved: Vec::new(),
        not_answered: Vec::new(),
        honoured: Vec::new(),
        refused: Vec::new(),
        held_back: Vec::new(),
        list: list.clone(),
        reply: policy.reply.clone(),
        deferred: None,
        dry_run: policy.dry_run,
    };
    let on = list
        .as_deref()
        .unwrap_or("lists without a policy of their own");
    if policy.reply == "none" {
        report.silent = Some(format!("the policy for {on} is not to reply"));
        return Ok(report);
    }
    // PATCHBOT_NOW (seconds since the epoch) stands in for the clock, for
    // tests and replays
    let secs = std::env::var("PATCHBOT_NOW")
        .ok()
        .and_then(|n| n.parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or_default()
        });
    let hour = (secs.rem_euclid(86_400) / 3600) as u32;
    if policy.is_quiet(hour) {
        report.deferred = Some(format!(
            "quiet hours {} UTC for {on}: the next run after them posts",
            policy.quiet_hours
        ));
        return Ok(report);
    }
    let dry = policy.dry_run;
    let author_only;
    let reply = if policy.reply == "author" {
        author_only = Reply {
            cc: Vec::new(),
            ..reply.clone()
        };
        &author_only
    } else {
        reply
    };
    let path = cfg
        .post
        .state_path()
        .ok_or("no state store: set [post] state, XDG_STATE_HOME or HOME")?;
    // a dry run writes nothing: not even a new store
    let mut store = if dry && !path.exists() {
        Store::in_memory()
    } else {
        Store::open(&path)
    }
    .map_err(|e| e.to_string())?;
    // one poster at a time per store (a watcher's review left running after
    // the watcher was killed, and the next watcher's): the second waits, then
    // finds the first's posts recorded
    let _posting = if dry {
        None
    } else {
        patchbot::state::lock(&path.with_extension("post.lock"), true)?
    };
    let transport = patchbot::post::Transport::from_config(
        &cfg.post.email,
        path.parent().unwrap_or(std::path::Path::new(".")),
    )
    .map_err(|e| e.to_string())?;
    // what an earlier run left unfinished goes first
    let mut outcomes = if dry {
        Vec::new()
    } else {
        patchbot::post::settle(&mut store, &transport, &cfg.post.from).map_err(|e| e.to_string())?
    };
    let s = &ready.series;
    let key = s.key();
    // maintainers' answers in the thread: recorded for the series when a
    // maintainer of the touched files wrote them
    let mut refused = Vec::new();
    let mut dry_commands: Vec<(String, String)> = Vec::new();
    let replies = s
        .replies
        .iter()
        .chain(s.patches.iter().flat_map(|p| p.replies.iter()));
    for r in replies.filter(|r| !r.commands.is_empty()) {
        let by = r
            .from
            .as_ref()
            .map(|a| a.email.to_ascii_lowercase())
            .unwrap_or_default();
        let id = r.message_id.as_deref().unwrap_or_default();
        for c in &r.commands {
            if reply.maintainers.contains(&by) {
                if dry {
                    dry_commands.push((c.to_string(), by.clone()));
                } else {
                    store
                        .record_command(&key, id, &by, c)
                        .map_err(|e| e.to_string())?;
                }
            } else {
                refused.push((
                    id.to_string(),
                    by.clone(),
                    format!("\"{c}\": not from a maintainer of the files the series touches"),
                ));
            }
        }
    }
    let mut honoured = store.commands(&key).map_err(|e| e.to_string())?;
    for c in dry_commands {
        if !honoured.contains(&c) {
            honoured.push(c);
        }
    }
    let ignored: std::collections::BTreeSet<&str> = honoured
        .iter()
        .filter_map(|(c, _)| c.strip_prefix("ignore "))
        .collect();
    let acked = if honoured.iter().any(|(c, _)| c == "ack") {
        store
            .earlier_fingerprints(&key, s.version)
            .map_err(|e| e.to_string())?
    } else {
        Default::default()
    };
    let all_findings = findings;
    let (kept, held): (Vec<patchbot::rules::Finding>, Vec<patchbot::rules::Finding>) =
        all_findings.iter().cloned().partition(|f| {
            !ignored.contains(f.rule.as_str())
                && !ignored.contains(f.fingerprint.as_str())
                && !acked.contains(&f.fingerprint)
        });
    // severities the list's policy does not post are left out quietly
    let kept: Vec<patchbot::rules::Finding> = kept
        .into_iter()
        .filter(|f| policy.severities.iter().any(|s| s == f.severity.as_str()))
        .collect();
    let findings = &kept[..];
    let previous = store
        .previous_findings(&key, s.version)
        .map_err(|e| e.to_string())?;
    let rules_id = patchbot::cache::digest(&serde_json::to_string(rules).unwrap_or_default());
    let stored: Vec<StoredFinding> = all_findings
        .iter()
        .map(|f| StoredFinding {
            fingerprint: &f.fingerprint,
            rule: &f.rule,
            severity: f.severity.as_str(),
            message: &f.message,
        })
        .collect();
    if !dry {
        store
            .record_review(&patchbot::state::ReviewRecord {
                key: &key,
                version: s.version,
                title: &s.title,
                message_id: reply.message_id.as_deref(),
                base: &ready.base.commit,
                rules: &format!("{} {rules_id}", env!("CARGO_PKG_VERSION")),
                findings: &stored,
            })
            .map_err(|e| e.to_string())?;
        // the series' messages, as seen
        let ids = s
            .cover
            .iter()
            .filter_map(|c| c.message_id.as_deref())
            .chain(s.patches.iter().filter_map(|p| p.message_id.as_deref()));
        for id in ids {
            store
                .record_message(id, "review", None)
                .map_err(|e| e.to_string())?;
        }
    }
    let now: std::collections::BTreeSet<&str> = all_findings
        .iter()
        .map(|f| f.fingerprint.as_str())
        .collect();
    let (since, resolved): (Option<u32>, Vec<(String, String, String)>) = match &previous {
        Some((v, old)) => (
            Some(*v),
            old.iter()
                .filter(|(fp, _, _)| !now.contains(fp.as_str()))
                .cloned()
                .collect(),
        ),
        None => (None, Vec::new()),
    };
    let new = match &previous {
        Some((_, old)) => findings
            .iter()
            .filter(|f| !old.iter().any(|(fp, _, _)| *fp == f.fingerprint))
            .count(),
        None => findings.len(),
    };
    report.since = since;
    report.resolved = resolved.iter().map(|r| r.0.clone()).collect();
    report.honoured = honoured;
    report.refused = refused;
    report.held_back = held.iter().map(|f| f.fingerprint.clone()).collect();
    if new == 0 && resolved.is_empty() {
        report.silent = Some(match since {
            Some(v) => format!("nothing new since v{v}"),
            None => "nothing to report".into(),
        });
        report.outcomes = outcomes;
        return Ok(report);
    }
    let pairs: Vec<(String, String)> = resolved
        .iter()
        .map(|(_, r, m)| (r.clone(), m.clone()))
        .collect();
    let rcpts: Vec<String> = reply.to.iter().chain(&reply.cc).cloned().collect();
    for o in reply.outgoing(findings, !resolved.is_empty()) {
        let Some(target) = o.target.as_deref() else {
            return Err("the series has no Message-ID to reply to".into());
        };
        if let Some(why) = reply.no_reply.get(target) {
            report.not_answered.push((target.to_string(), why.clone()));
            continue;
        }
        let fps: Vec<&str> = o.findings.iter().map(|f| f.fingerprint.as_str()).collect();
        let post_key = patchbot::post::email_key(target, &key, s.version, &fps);
        // a message already recorded is resent as it was (the same bytes)
        let msg = match store.post(&post_key).map_err(|e| e.to_string())? {
            Some(p) => p.payload,
            None => {
                let own_id = patchbot::post::message_id(&post_key, &cfg.post.from);
                let date = patchbot::post::rfc5322_date(secs);
                let posting = Posting {
                    own_id: &own_id,
                    date: &date,
                    resolved: since.map(|v| (v, &pairs[..])),
                };
                reply.render(patches, &o, Some(&posting)).into_bytes()
            }
        };
        if dry {
            let message_id = patchbot::post::message_id(&post_key, &cfg.post.from);
            outcomes.push(match store.post(&post_key).map_err(|e| e.to_string())? {
                Some(p) if p.posted => patchbot::post::Outcome::AlreadyPosted { message_id },
                _ => patchbot::post::Outcome::WouldSend {
                    message_id,
                    in_reply_to: target.to_string(),
                },
            });
            continue;
        }
        outcomes.extend(
            patchbot::post::post_email(
                &mut store,
                &transport,
                &post_key,
                target,
                &cfg.post.from,
                &rcpts,
                &msg,
            )
            .map_err(|e| e.to_string())?,
        );
    }
    report.outcomes = outcomes;
    Ok(report)
}

/// The reply to a series: what it answers, to whom.
#[derive(Clone)]
struct Reply {
    subject: String,
    /// The message replied to (the cover letter, else the first patch).
    message_id: Option<String>,
    to: Vec<String>,
    cc: Vec<String>,
    author: Option<String>,
    version: u32,
    patches: usize,
    base_commit: String,
    base_how: String,
    missing: Vec<u32>,
    from: String,
    /// The cover letter's Message-ID, when there is a cover letter.
    cover_id: Option<String>,
    /// Each patch: (number, subject, Message-ID).
    parts: Vec<(u32, String, Option<String>)>,
    /// Message-ID -> why it must not be answered (a machine or a bot sent it).
    no_reply: std::collections::BTreeMap<String, String>,
    /// The addresses of the maintainers (`M:`) of the files the series
    /// touches: whose answers to patchbot count.
    maintainers: std::collections::BTreeSet<String>,
    /// The lists MAINTAINERS gives the series (addresses), in order.
    lists: Vec<String>,
    /// One reply per patch with findings (and one to the cover for the
    /// series-wide ones), or one reply for all (`[post] replies`).
    per_patch: bool,
}

/// One message of a reply: where it goes and what it states.
struct Outgoing {
    subject: String,
    target: Option<String>,
    ancestors: Vec<String>,
    /// The patch it answers (None: the series).
    patch: Option<u32>,
    findings: Vec<patchbot::rules::Finding>,
}

/// What a posted reply adds to the printed one.
struct Posting<'a> {
    own_id: &'a str,
    date: &'a str,
    resolved: Option<(u32, &'a [(String, String)])>,
}

impl Reply {
    fn of(
        cfg: &Config,
        ready: &Ready,
        base_vfs: &patchbot::tree::vfs::GitTreeVfs,
        patches: &[patchbot::rules::checks::PatchDiff],
        findings: &[patchbot::rules::Finding],
    ) -> Reply {
        let s = &ready.series;
        let (subject, message_id) = match (&s.cover, s.patches.first()) {
            (Some(c), _) => (
                c.subject.to_string(),
                c.message_id.as_deref().map(String::from),
            ),
            (None, Some(p)) => (
                p.subject.to_string(),
                p.message_id.as_deref().map(String::from),
            ),
            (None, None) => (s.title.to_string(), None),
        };
        let author = s.author.as_ref().map(|a| a.to_string());
        // the maintainers of the touched files and of the files findings name
        let mut files: Vec<String> = patches
            .iter()
            .flat_map(|p| p.files.iter().map(|f| f.path().to_string()))
            .collect();
        files.extend(
            findings
                .iter()
                .filter_map(|f| f.location.as_ref().map(|l| l.file.clone())),
        );
        let mut cc: Vec<String> = Vec::new();
        let mut maintainers = std::collections::BTreeSet::new();
        let mut lists = Vec::new();
        if let Ok(text) = patchbot::tree::vfs::Vfs::read(base_vfs, "MAINTAINERS") {
            let text = String::from_utf8_lossy(&text);
            let is_dir = |p: &str| patchbot::tree::vfs::Vfs::list(base_vfs, p).is_ok();
            let m = patchbot::maintainers::Maintainers::parse(&text, &is_dir);
            let patch_text: String = ready
                .patches
                .iter()
                .map(|p| String::from_utf8_lossy(&p.patch).into_owned())
                .collect();
            let r = m.recipients(&files, Some(&patch_text));
            lists.extend(
                r.lists
                    .iter()
                    .map(|l| patchbot::maintainers::address_of(&l.email)),
            );
            maintainers.extend(
                r.people
                    .iter()
                    .filter(|p| p.role != "reviewer")
                    .map(|p| patchbot::maintainers::address_of(&p.email)),
            );
            for p in r.people.iter().chain(r.lists.iter()) {
                let e = p.formatted();
                let same_as_author = author.as_ref().is_some_and(|a| {
                    patchbot::maintainers::address_of(a) == patchbot::maintainers::address_of(&e)
                });
                if !same_as_author && !cc.contains(&e) {
                    cc.push(e);
                }
            }
        }
        Reply {
            subject,
            message_id,
            to: author.iter().cloned().collect(),
            cc,
            author,
            version: s.version,
            patches: s.patches.len(),
            base_commit: ready.base.commit.clone(),
            base_how: serde_json::to_value(ready.base.rung)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            missing: s.missing.clone(),
            from: cfg.post.from.clone(),
            cover_id: s
                .cover
                .as_ref()
                .filter(|c| c.is_cover_letter)
                .and_then(|c| c.message_id.as_deref().map(String::from)),
            parts: s
                .patches
                .iter()
                .map(|p| {
                    (
                        p.counter,
                        p.subject.to_string(),
                        p.message_id.as_deref().map(String::from),
                    )
                })
                .collect(),
            per_patch: cfg.post.replies == "per-patch",
            no_reply: no_reply(cfg, s),
            maintainers,
            lists,
        }
    }

    /// The messages of the reply: with `per_patch`, the findings about a
    /// patch's own lines go in a reply to that patch and the rest (and the
    /// resolved list of a follow-up) in one to the cover letter, or to the
    /// first patch when there is none; else one message for all.
    fn outgoing(&self, findings: &[patchbot::rules::Finding], follow_up: bool) -> Vec<Outgoing> {
        let series = |findings: Vec<patchbot::rules::Finding>| Outgoing {
            subject: self.subject.clone(),
            target: self.message_id.clone(),
            ancestors: Vec::new(),
            patch: None,
            findings,
        };
        if !self.per_patch {
            return vec![series(findings.to_vec())];
        }
        let mut wide = Vec::new();
        let mut by_patch: std::collections::BTreeMap<u32, Vec<patchbot::rules::Finding>> =
            std::collections::BTreeMap::new();
        for f in findings {
            let n = f.patch.as_ref().map(|p| p.patch);
            let part = n.and_then(|n| self.parts.iter().find(|p| p.0 == n));
            match part {
                // a patch of its own message, not the one the series reply goes to
                Some((n, _, Some(id))) if Some(id) != self.message_id.as_ref() => {
                    by_patch.entry(*n).or_default().push(f.clone())
                }
                _ => wide.push(f.clone()),
            }
        }
        let mut out = Vec::new();
        if !wide.is_empty() || follow_up || by_patch.is_empty() {
            out.push(series(wide));
        }
        for (n, fs) in by_patch {
            let Some((_, subject, id)) = self.parts.iter().find(|p| p.0 == n) else {
                continue;
            };
            out.push(Outgoing {
                subject: subject.clone(),
                target: id.clone(),
                ancestors: self.cover_id.iter().cloned().collect(),
                patch: Some(n),
                findings: fs,
            });
        }
        out
    }

    fn render(
        &self,
        patches: &[patchbot::rules::checks::PatchDiff],
        o: &Outgoing,
        posting: Option<&Posting>,
    ) -> String {
        let thread = patchbot::review::Thread {
            subject: &o.subject,
            message_id: o.target.as_deref(),
            author: self.author.clone(),
            version: self.version,
            patches: self.patches,
            base_commit: &self.base_commit,
            base_how: &self.base_how,
            missing: &self.missing,
            from: &self.from,
            own_id: posting.map(|p| p.own_id),
            date: posting.map(|p| p.date),
            resolved: posting
                .and_then(|p| p.resolved)
                .filter(|_| o.patch.is_none()),
            ancestors: &o.ancestors,
            patch: o.patch,
        };
        patchbot::review::email(&thread, &o.findings, patches, &self.to, &self.cc)
    }

    /// Every message of the reply as `--format email` prints it: one message
    /// as it is, several as an mbox.
    fn print_all(
        &self,
        patches: &[patchbot::rules::checks::PatchDiff],
        findings: &[patchbot::rules::Finding],
    ) -> String {
        let msgs: Vec<String> = self
            .outgoing(findings, false)
            .iter()
            .map(|o| self.render(patches, o, None))
            .collect();
        if msgs.len() == 1 {
            return msgs.into_iter().next().unwrap_or_default();
        }
        let addr = patchbot::maintainers::address_of(&self.from);
        msgs.iter()
            .map(|m| {
                // mboxrd: a body line starting with (>*)From gets one more >
                let body: String = m
                    .split_inclusive('\n')
                    .map(|l| {
                        if l.trim_start_matches('>').starts_with("From ") {
                            format!(">{l}")
                        } else {
                            l.to_string()
                        }
                    })
                    .collect();
                format!("From {addr} Thu Jan  1 00:00:00 1970\n{body}\n")
            })
            .collect()
    }
}

fn review_cmd(
    cfg: &Config,
    inputs: &[String],
    tree: &std::path::Path,
    base: Option<&str>,
    which: Option<Pick>,
    profile: Option<&str>,
    flags: ReviewFlags,
) -> u8 {
    let ReviewFlags {
        all,
        fail_on,
        show_outputs,
        no_cache,
        post,
        format,
    } = flags;
    use patchbot::rules::Severity;
    if show_outputs
        && matches!(
            format,
            ReviewFormat::Email | ReviewFormat::Sarif | ReviewFormat::Codequality
        )
    {
        eprintln!("patchbot: --show-outputs goes with --format text or json");
        return USAGE;
    }
    use patchbot::tree::vfs::GitTreeVfs;
    let fail_on = match fail_on {
        None => None,
        Some("error") => Some(Severity::Error),
        Some("warning") => Some(Severity::Warning),
        Some("note") => Some(Severity::Note),
        Some(other) => {
            eprintln!("patchbot: --fail-on {other}: one of error, warning, note");
            return USAGE;
        }
    };
    // a commit range of the repository: its commits as a series, on its start
    let range_mbox;
    let mut inputs: Vec<String> = inputs.to_vec();
    let mut base = base.map(String::from);
    // a pull request: its commits, fetched into the clone if need be, as the range
    // from its merge base to its head
    let mut gh: Option<(patchbot::github::PrRef, patchbot::github::Pull)> = None;
    if let [one] = inputs.as_slice() {
        if let Ok(patchbot::input::Input::GitHub {
            owner,
            repo,
            number,
        }) = patchbot::input::Input::resolve(one)
        {
            let pr = patchbot::github::PrRef {
                owner,
                repo,
                number,
            };
            match pull_as_range(cfg, tree, &pr) {
                Ok((range, pull)) => {
                    inputs = vec![range];
                    gh = Some((pr, pull));
                }
                Err(code) => return code,
            }
        }
    }
    if let [one] = inputs.as_slice() {
        if let Some((from, to)) = one
            .split_once("..")
            .filter(|_| !std::path::Path::new(one).exists())
        {
            match commit_range_mbox(tree, from, to) {
                Ok((file, start)) => {
                    inputs = vec![file.path().display().to_string()];
                    if base.is_none() {
                        base = Some(start);
                    }
                    range_mbox = file;
                    let _ = &range_mbox;
                }
                Err(code) => return code,
            }
        }
    }
    let ready = match prepare(cfg, &inputs, tree, base.as_deref(), false, which, false) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let (applied, ws) = match apply_kept(cfg, &ready) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let apply_json = output::apply_json(&ready.series, &ready.base, &applied);
    let Some(patched_tree) = applied.tree.clone() else {
        // a review that says so: which patch, which file, the base used
        let code = match format {
            // a report of no findings: the exit status says it did not apply
            ReviewFormat::Codequality => print("[]\n"),
            ReviewFormat::Json | ReviewFormat::Sarif | ReviewFormat::Email => {
                print(&json_string(&serde_json::json!({
                    "base": apply_json["base"],
                    "apply": apply_json,
                    "outputs": [],
                    "findings": [],
                })))
            }
            ReviewFormat::Text => print(&format!(
                "The series does not apply, so it was not reviewed.\n\n{}",
                output::apply_text(&ready.series, &ready.base, &applied)
            )),
        };
        return if code == OK { DOES_NOT_APPLY } else { code };
    };
    let (base_vfs, patched_vfs) = match (
        GitTreeVfs::new(ready.source.repo(), &ready.base.commit),
        GitTreeVfs::new(&ws.repo, &patched_tree),
    ) {
        (Ok(b), Ok(p)) => (b, p),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("patchbot: {e}");
            return INPUT;
        }
    };
    let (pname, prof) = match choose_profile(cfg, profile, &base_vfs, tree) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let Some(tc) = cfg.toolchains.get(&prof.toolchain) else {
        eprintln!("patchbot: profile {pname}: no toolchain {}", prof.toolchain);
        return USAGE;
    };
    let patches: Vec<patchbot::rules::checks::PatchDiff> = ready
        .patches
        .iter()
        .map(|p| patchbot::rules::checks::PatchDiff {
            counter: p.counter,
            message_id: p.message_id.clone(),
            files: patchbot::diff::parse(&String::from_utf8_lossy(&p.patch)),
        })
        .collect();
    let rules = patchbot::rules::builtin();
    // the base's outputs from the on-disk cache, keyed by its tree id
    let cache = (!no_cache).then(|| cfg.cache.open()).flatten();
    let key = cache.as_ref().and_then(|_| {
        let tree_id = ready.source.repo().tree_of(&ready.base.commit).ok()?;
        Some(patchbot::cache::BaseKey::new(
            &tree_id, &pname, prof, tc, &rules,
        ))
    });
    let review = match patchbot::review::run(
        &pname,
        prof,
        tc,
        &rules,
        &base_vfs,
        &patched_vfs,
        &patches,
        cache.as_ref().zip(key.as_ref()),
    ) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("patchbot: {e}");
            return INPUT;
        }
    };
    if let Some(e) = review
        .base
        .cache
        .as_ref()
        .and_then(|c| c.write_error.as_ref())
    {
        eprintln!("patchbot: warning: cannot store base results in the cache: {e}");
    }
    let findings = &review.report.findings;
    let mut github_posted = None;
    if let (true, Some((pr, pull))) = (post, &gh) {
        match post_github(cfg, pr, pull, &patches, findings, &ready.base.commit) {
            Ok(v) => github_posted = Some(v),
            Err(e) => {
                eprintln!("patchbot: cannot post the review to {pr}: {e}");
                return POST_FAILED;
            }
        }
    }
    // the reply, worked out once for posting and for printing
    let reply = ((post && gh.is_none()) || format == ReviewFormat::Email)
        .then(|| Reply::of(cfg, &ready, &base_vfs, &patches, findings));
    let posted = if let (true, None, Some(reply)) = (post, &gh, &reply) {
        match post_review(cfg, reply, &ready, &patches, findings, &rules) {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("patchbot: cannot post the review: {e}");
                return POST_FAILED;
            }
        }
    } else {
        None
    };
    let code = match format {
        ReviewFormat::Sarif => print(&json_string(&patchbot::review::sarif(&rules, findings))),
        ReviewFormat::Codequality => print(&json_string(&patchbot::review::codequality(findings))),
        ReviewFormat::Email => print(
            &reply
                .as_ref()
                .map(|r| r.print_all(&patches, findings))
                .unwrap_or_default(),
        ),
        ReviewFormat::Json => {
            let mut v = serde_json::json!({
                "profile": review.profile,
                "base": apply_json["base"],
                "apply": apply_json,
                "outputs": review.outputs(),
                "notes": review.patched.notes,
                "base_cache": review.base.cache,
                "findings": findings,
                "silenced": review.report.silenced,
            });
            if all {
                v["pre_existing"] =
                    serde_json::to_value(&review.report.pre_existing).unwrap_or_default();
            }
            if !ready.series.missing.is_empty() {
                v["missing"] = serde_json::to_value(&ready.series.missing).unwrap_or_default();
            }
            if show_outputs {
                v["output_diffs"] = serde_json::to_value(review.output_diffs()).unwrap_or_default();
            }
            if let Some(p) = &posted {
                v["post"] = serde_json::to_value(p).unwrap_or_default();
            }
            if let Some(g) = &github_posted {
                v["post"] = serde_json::json!({ "github": g });
            }
            print(&json_string(&v))
        }
        ReviewFormat::Text => {
            let s = &ready.series;
            let short = &ready.base.commit[..12.min(ready.base.commit.len())];
            let mut out = format!(
                "Review of \"{}\" v{} ({} patch{}) on base {short} ({}), profile {}\n",
                s.title,
                s.version,
                s.patches.len(),
                if s.patches.len() == 1 { "" } else { "es" },
                serde_json::to_value(ready.base.rung)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
                review.profile
            );
            if !s.missing.is_empty() {
                let m: Vec<String> = s.missing.iter().map(|n| n.to_string()).collect();
                out.push_str(&format!(
                    "Parts {} of {} are missing; reviewed as far as it goes.\n",
                    m.join(", "),
                    s.total
                ));
            }
            let outs = review.outputs();
            let built = outs
                .iter()
                .filter(|o| o.how == patchbot::rebuild::How::Built)
                .count();
            let cached = match &review.base.cache {
                Some(c) if c.hits > 0 && c.misses == 0 => " (the base's from the cache)",
                Some(c) if c.hits > 0 => " (the base's partly from the cache)",
                _ => "",
            };
            out.push_str(&format!(
                "Outputs: {} architecture x variant, {built} rebuilt, {} reused from the base{cached}\n",
                outs.len(),
                outs.len() - built
            ));
            for o in &outs {
                if let Some(e) = &o.lds_error {
                    out.push_str(&format!(
                        "  {} {}: linker script not built: {e}\n",
                        o.arch, o.variant
                    ));
                }
            }
            if review.report.silenced > 0 {
                out.push_str(&format!(
                    "{} finding{} silenced by the profile's rule settings or the tree's {}\n",
                    review.report.silenced,
                    if review.report.silenced == 1 { "" } else { "s" },
                    patchbot::review::IGNORE_FILE
                ));
            }
            if findings.is_empty() {
                out.push_str("\nNo findings.\n");
            } else {
                out.push_str(&format!(
                    "\n{} finding{}:\n\n",
                    findings.len(),
                    if findings.len() == 1 { "" } else { "s" }
                ));
                for f in findings {
                    out.push_str(&patchbot::review::finding_text(f));
                    out.push('\n');
                }
            }
            if all && !review.report.pre_existing.is_empty() {
                out.push_str(&format!(
                    "\nPre-existing (on the base tree too): {}\n\n",
                    review.report.pre_existing.len()
                ));
                for f in &review.report.pre_existing {
                    out.push_str(&patchbot::review::finding_text(f));
                    out.push('\n');
                }
            }
            if show_outputs {
                out.push('\n');
                out.push_str(&patchbot::review::output_diffs_text(&review.output_diffs()));
            }
            if let Some(p) = &posted {
                out.push('\n');
                out.push_str(&post_text(p));
            }
            if let Some(g) = &github_posted {
                out.push_str(&format!("\nGitHub: {g}\n"));
            }
            print(&out)
        }
    };
    if let (Some(p), ReviewFormat::Email | ReviewFormat::Sarif | ReviewFormat::Codequality) =
        (&posted, format)
    {
        eprint!("{}", post_text(p));
    }
    if code != OK {
        return code;
    }
    match fail_on {
        Some(sev) if findings.iter().any(|f| f.severity >= sev) => 1,
        _ => OK,
    }
}

/// Where a byte of preprocessed text came from, as JSON.
fn origin_json(o: Option<&patchbot::lds::cpp::Origin>) -> serde_json::Value {
    match o {
        Some(o) => serde_json::json!({"file": o.file, "line": o.line, "expansion": o.expansion}),
        None => serde_json::Value::Null,
    }
}

fn lds_cmd(
    cfg: &Config,
    tree: &std::path::Path,
    rev: Option<&str>,
    arch: &str,
    variant: &str,
    profile: Option<&str>,
    format: Format,
) -> u8 {
    let revs: Vec<String> = rev.map(String::from).into_iter().collect();
    let (views, _keep) = match open_views(cfg, tree, &revs, &[]) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let (rev_name, vfs) = &views[0];
    let (pname, prof) = match choose_profile(cfg, profile, vfs.as_ref(), tree) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let Some(a) = prof.arches.iter().find(|a| a.name == arch) else {
        let names: Vec<&str> = prof.arches.iter().map(|a| a.name.as_str()).collect();
        eprintln!(
            "patchbot: profile {pname} has no architecture {arch} (it has {})",
            names.join(", ")
        );
        return USAGE;
    };
    let Some(overlay) = prof.variants.get(variant) else {
        let names: Vec<&str> = prof.variants.keys().map(|v| v.as_str()).collect();
        eprintln!(
            "patchbot: profile {pname} has no variant {variant} (it has {})",
            names.join(", ")
        );
        return USAGE;
    };
    let Some(tc) = cfg.toolchains.get(&prof.toolchain) else {
        eprintln!("patchbot: profile {pname}: no toolchain {}", prof.toolchain);
        return USAGE;
    };
    let eval = match patchbot::kconfig::evaluate(vfs.as_ref(), prof, tc, a, &[(variant, overlay)]) {
        Ok(Some(mut e)) if !e.is_empty() => e.remove(0),
        Ok(_) => {
            eprintln!(
                "patchbot: {rev_name}: the tree has no {} or no {}",
                prof.tree_path(&format!("arch/{}/Kconfig", a.srcarch)),
                prof.tree_path(&a.defconfig)
            );
            return INPUT;
        }
        Err(e) => {
            eprintln!("patchbot: {rev_name} {arch}: {e}");
            return INPUT;
        }
    };
    let built = match patchbot::lds::build(vfs.as_ref(), prof, tc, a, &eval.autoconf) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("patchbot: {rev_name} {arch}: {e}");
            if let patchbot::lds::BuildError::Cpp(c) = &e {
                if c.kind == patchbot::lds::cpp::ErrorKind::NotFound {
                    eprintln!(
                        "patchbot: (a header only a real build generates can be given as a stub in [profiles.{pname}.lds.stubs])"
                    );
                }
            }
            return INPUT;
        }
    };
    match format {
        Format::Text => {
            let code = print(&built.cpp.text);
            if let Err(e) = &built.parsed {
                let (line, col) = (e.line, e.column);
                eprintln!(
                    "patchbot: {} (preprocessed) {line}:{col}: {}",
                    built.script, e.message
                );
                return INPUT;
            }
            code
        }
        Format::Json => {
            let script = match &built.parsed {
                Ok(s) => s,
                Err(e) => {
                    eprintln!(
                        "patchbot: {} (preprocessed) {}:{}: {}",
                        built.script, e.line, e.column, e.message
                    );
                    return INPUT;
                }
            };
            let text = &built.cpp.text;
            let sections: Vec<serde_json::Value> = script
                .output_sections()
                .iter()
                .map(|os| {
                    let statements: Vec<serde_json::Value> = os
                        .statements
                        .iter()
                        .map(|st| {
                            let dead = matches!(
                                &st.kind,
                                patchbot::lds::script::StatementKind::Input(d) if d.dead
                            );
                            serde_json::json!({
                                "text": text.get(st.span.start..st.span.end).unwrap_or_default(),
                                "statement": st,
                                "dead": dead,
                                "location": origin_json(built.origin(st.span.start)),
                            })
                        })
                        .collect();
                    serde_json::json!({
                        "name": os.name,
                        "location": origin_json(built.origin(os.name_span.start)),
                        "statements": statements,
                    })
                })
                .collect();
            print(&json_string(&serde_json::json!({
                "rev": rev_name,
                "arch": arch,
                "variant": variant,
                "script": built.script,
                "sections": sections,
                "files_read": built.cpp.files_read,
                "missing": built.cpp.missing,
                "warnings": built.cpp.warnings,
            })))
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn kconfig_cmd(
    cfg: &Config,
    tree: &std::path::Path,
    revs: &[String],
    series: &[String],
    arches: &[String],
    variants: &[String],
    symbols: &[String],
    profile: Option<&str>,
    toolchain: Option<&str>,
    format: Format,
) -> u8 {
    if revs.len() > 2 {
        eprintln!("patchbot: at most two --rev");
        return USAGE;
    }
    let (views, _keep) = match open_views(cfg, tree, revs, series) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let (pname, prof) = match choose_profile(cfg, profile, views[0].1.as_ref(), tree) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let tc_name = toolchain.unwrap_or(&prof.toolchain);
    let Some(tc) = cfg.toolchains.get(tc_name) else {
        let names: Vec<&str> = cfg.toolchains.keys().map(|k| k.as_str()).collect();
        eprintln!(
            "patchbot: no toolchain {tc_name} in the configuration (it has {})",
            names.join(", ")
        );
        return USAGE;
    };
    let mut results = Vec::new();
    let mut notes = Vec::new();
    for (rev, vfs) in &views {
        for a in prof
            .arches
            .iter()
            .filter(|a| arches.is_empty() || arches.contains(&a.name))
        {
            let wanted: Vec<(&str, &str)> = prof
                .variants
                .iter()
                .filter(|(v, _)| variants.is_empty() || variants.contains(v))
                .map(|(v, o)| (v.as_str(), o.as_str()))
                .collect();
            match patchbot::kconfig::evaluate(vfs.as_ref(), prof, tc, a, &wanted) {
                Ok(None) => notes.push(format!(
                    "{rev}: {} skipped: the tree has no {} or no {}",
                    a.name,
                    prof.tree_path(&format!("arch/{}/Kconfig", a.srcarch)),
                    prof.tree_path(&a.defconfig)
                )),
                Ok(Some(evals)) => {
                    for mut e in evals {
                        if !symbols.is_empty() {
                            e.symbols.retain(|k, _| symbols.contains(k));
                            for s in symbols {
                                e.symbols.entry(s.clone()).or_insert(None);
                            }
                        }
                        results.push((rev.clone(), e));
                    }
                }
                Err(err) => {
                    eprintln!("patchbot: {rev} {}: {err}", a.name);
                    return INPUT;
                }
            }
        }
    }
    match format {
        Format::Json => {
            let arr: Vec<serde_json::Value> = results
                .iter()
                .map(|(rev, e)| {
                    let mut v = serde_json::to_value(e).unwrap_or_default();
                    v["rev"] = serde_json::Value::String(rev.clone());
                    v
                })
                .collect();
            print(&json_string(
                &serde_json::json!({"profile": pname, "results": arr, "notes": notes}),
            ))
        }
        Format::Text => {
            let mut out = String::new();
            for (rev, e) in &results {
                out.push_str(&format!("{rev} {} {}:", e.arch, e.variant));
                if symbols.is_empty() {
                    let set = e.symbols.values().filter(|v| v.is_some()).count();
                    out.push_str(&format!(" {set} symbols set"));
                } else {
                    for (k, v) in &e.symbols {
                        out.push_str(&format!(" {k}={}", v.as_deref().unwrap_or("(none)")));
                    }
                }
                out.push('\n');
                for (s, want, got) in &e.overlay_misses {
                    out.push_str(&format!(
                        "  overlay CONFIG_{s}={want} did not take effect (got {})\n",
                        got.as_deref().unwrap_or("nothing")
                    ));
                }
                if !e.guessed.is_empty() {
                    out.push_str(&format!(
                        "  {} toolchain answers guessed\n",
                        e.guessed.len()
                    ));
                }
            }
            if views.len() == 2 {
                out.push_str("changes:\n");
                let (r0, r1) = (&views[0].0, &views[1].0);
                for (rev, e) in results.iter().filter(|(r, _)| r == r0) {
                    let _ = rev;
                    if let Some((_, f)) = results
                        .iter()
                        .find(|(r, x)| r == r1 && x.arch == e.arch && x.variant == e.variant)
                    {
                        for (k, v) in &f.symbols {
                            let old = e.symbols.get(k).cloned().flatten();
                            if old != *v {
                                out.push_str(&format!(
                                    "  {} {}: {k}: {} -> {}\n",
                                    e.arch,
                                    e.variant,
                                    old.as_deref().unwrap_or("(none)"),
                                    v.as_deref().unwrap_or("(none)")
                                ));
                            }
                        }
                    }
                }
            }
            for n in &notes {
                out.push_str(&format!("note: {n}\n"));
            }
            print(&out)
        }
    }
}

/// `patchbot kconfig conf`: conf's non-interactive modes, file for file.
fn conf_dropin(args: &ConfArgs) -> u8 {
    use patchbot::kconfig::conf::{run_dropin, Dropin, DropinMode};
    use patchbot::kconfig::{eval::Kconfig, macros::Macros, macros::NoToolchain, parse};
    let srctree = std::env::var("srctree").unwrap_or_else(|_| ".".into());
    let vfs = match patchbot::tree::vfs::DirVfs::new(std::path::Path::new(&srctree)) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("patchbot: {e}");
            return INPUT;
        }
    };
    let dialect = match args.dialect.as_str() {
        "xen" => parse::Dialect::Xen,
        "linux-6.1" => parse::Dialect::Linux61,
        other => {
            eprintln!("patchbot: unknown dialect {other} (xen or linux-6.1)");
            return USAGE;
        }
    };
    let env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    let tc = NoToolchain;
    let parsed = match parse::Parser::new(&vfs, Macros::new(&tc, env), dialect).parse(&args.kconfig)
    {
        Ok(p) => p,
        Err(e) => {
            let e = e.to_string();
            eprint!("{e}{}", if e.ends_with('\n') { "" } else { "\n" });
            return 1;
        }
    };
    for m in &parsed.messages {
        println!("{m}");
    }
    for w in &parsed.warnings {
        eprintln!("{w}");
    }
    let m = &args.mode;
    let mode = if let Some(f) = &m.defconfig {
        DropinMode::Defconfig(f.clone())
    } else if let Some(f) = &m.savedefconfig {
        DropinMode::SaveDefconfig(f.clone())
    } else if m.oldconfig {
        DropinMode::Old
    } else if m.syncconfig {
        DropinMode::Sync
    } else if m.listnewconfig {
        DropinMode::ListNew
    } else if m.helpnewconfig {
        DropinMode::HelpNew
    } else if m.olddefconfig {
        DropinMode::OldDef
    } else if m.alldefconfig {
        DropinMode::AllDef
    } else if m.allnoconfig {
        DropinMode::AllNo
    } else if m.allyesconfig {
        DropinMode::AllYes
    } else if m.allmodconfig {
        DropinMode::AllMod
    } else {
        DropinMode::OldAsk
    };
    // SAFETY: isatty only inspects the descriptor.
    let tty = unsafe { libc::isatty(0) == 1 && libc::isatty(1) == 1 };
    let getenv = |n: &str| std::env::var(n).ok();
    let d = Dropin {
        mode,
        silent: args.silent,
        env: &getenv,
        tty,
    };
    let mut k = Kconfig::new(&parsed);
    for w in &k.menu_warnings {
        eprintln!("{w}");
    }
    let cycles = k.recursive_dependencies();
    if !cycles.is_empty() {
        eprint!("{}", cycles.concat());
        return 1;
    }
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    match run_dropin(&mut k, &parsed, &d, &mut input, &mut out, &mut err) {
        Ok(code) => code as u8,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => OK,
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            eprintln!("patchbot: {e}");
            1
        }
        Err(e) => {
            eprintln!("patchbot: {e}");
            INPUT
        }
    }
}

/// gcc's single-dash long options (`-iquote`, `-include`, `-undef`) as clap's
/// `--` forms, for the `cpp` command only.
fn gcc_style_args() -> Vec<std::ffi::OsString> {
    let mut out = Vec::new();
    let mut in_cpp = false;
    let mut after_config = false;
    for (i, a) in std::env::args_os().enumerate() {
        let s = a.to_string_lossy();
        if i > 0 && !in_cpp && !after_config && !s.starts_with('-') {
            in_cpp = s == "cpp";
        }
        after_config = !in_cpp && s == "--config";
        if in_cpp {
            match &*s {
                "-iquote" | "-include" | "-undef" => {
                    out.push(std::ffi::OsString::from(format!("-{s}")));
                    continue;
                }
                _ => {}
            }
        }
        out.push(a);
    }
    out
}

/// The -D and -U flags of `cpp` in command-line order (clap keeps each kind's
/// order only).
fn cpp_order() -> Vec<patchbot::lds::cpp::Define> {
    use patchbot::lds::cpp::Define;
    let args: Vec<String> = gcc_style_args()
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let Some(start) = args.iter().position(|a| a == "cpp") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut it = args[start + 1..].iter();
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        let (flag, rest) = if a.starts_with("-D") || a.starts_with("-U") {
            a.split_at(2)
        } else {
            if matches!(a.as_str(), "-I" | "--iquote" | "--include" | "--tree") {
                it.next();
            }
            continue;
        };
        let val = if rest.is_empty() {
            it.next().cloned().unwrap_or_default()
        } else {
            rest.to_string()
        };
        out.push(if flag == "-D" {
            Define::Define(val)
        } else {
            Define::Undef(val)
        });
    }
    out
}

/// `patchbot cpp`.
fn cpp_cmd(args: &CppArgs, defines: &[patchbot::lds::cpp::Define]) -> u8 {
    use patchbot::lds::cpp;
    let root = args.tree.clone().unwrap_or_else(|| PathBuf::from("."));
    let vfs = match patchbot::tree::vfs::DirVfs::new(&root) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("patchbot: {e}");
            return USAGE;
        }
    };
    let croot = root.canonicalize().unwrap_or(root.clone());
    // an absolute path inside the tree is made relative; outside it is refused
    let rel = |p: &str| -> Result<String, String> {
        let path = std::path::Path::new(p);
        if !path.is_absolute() {
            return Ok(p.to_string());
        }
        let abs = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        match abs.strip_prefix(&croot) {
            Ok(r) => Ok(r.to_string_lossy().into_owned()),
            Err(_) => Err(format!("{p}: outside the tree {}", croot.display())),
        }
    };
    let all = |v: &[String]| v.iter().map(|p| rel(p)).collect::<Result<Vec<_>, _>>();
    let opts = match (|| -> Result<cpp::CppOptions, String> {
        Ok(cpp::CppOptions {
            include_dirs: all(&args.include_dirs)?,
            quote_dirs: all(&args.quote_dirs)?,
            forced_includes: all(&args.forced)?,
            defines: defines.to_vec(),
            undef: args.undef,
            predefines: Vec::new(),
            line_markers: !args.no_markers && !args.json,
            limits: cpp::CppLimits::default(),
        })
    })() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("patchbot: {e}");
            return USAGE;
        }
    };
    let file = match rel(&args.file) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("patchbot: {e}");
            return USAGE;
        }
    };
    match cpp::preprocess(&vfs, &file, &opts) {
        Ok(out) => {
            if args.json {
                return print(&json_string(&out));
            }
            for w in &out.warnings {
                eprintln!("{}:{}: warning: {}", w.file, w.line, w.message);
            }
            print(&out.text)
        }
        Err(e) => {
            eprintln!("{}:{}: error: {}", e.file, e.line, e.message);
            INPUT
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse_from(gcc_style_args()) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { USAGE } else { OK });
        }
    };
    ExitCode::from(run(cli))
}
