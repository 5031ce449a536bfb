//! `config.toml`: the project's defaults, compiled in, overridable with `--config`.
//!
//! Every section and key has a default and unknown keys are rejected
//! (`deny_unknown_fields`), so a typo is an error that names the key and its line
//! instead of a setting silently ignored.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::mail::{Limits, MboxFormat};

/// The repository's `config.toml`, built into the binary.
pub const DEFAULT_TOML: &str = include_str!("../config.toml");

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub limits: Limits,
    pub mail: MailConfig,
    pub apply: ApplyConfig,
    pub cache: CacheConfig,
    pub post: PostConfig,
    pub github: GitHubConfig,
    pub watch: WatchConfig,
    pub digest: DigestConfig,
    pub remote: RemoteConfig,
    pub profiles: BTreeMap<String, Profile>,
    pub toolchains: BTreeMap<String, ToolchainConfig>,
}

/// How to build a tree's outputs (see config.toml).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Files that all exist in a tree of this kind.
    pub markers: Vec<String>,
    pub srctree: String,
    pub kconfig: String,
    /// `xen` or `linux-6.1`.
    pub dialect: String,
    pub toolchain: String,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// A makefile of the tree whose simple variable assignments (`NAME = value`,
    /// `NAME ?= value`, `export NAME := value`) are added to `env`, overriding it
    /// (e.g. Xen's `XEN_FULLVERSION` from `xen/Makefile`).
    #[serde(default)]
    pub env_from_makefile: Option<String>,
    pub arches: Vec<ArchProfile>,
    pub variants: BTreeMap<String, String>,
    /// How the tree's linker scripts are preprocessed (None: the profile has
    /// no linker scripts).
    #[serde(default)]
    pub lds: Option<LdsRecipe>,
    /// Per-rule settings for this profile, by rule id.
    #[serde(default)]
    pub rules: BTreeMap<String, RuleSetting>,
}

/// How a profile uses one rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSetting {
    /// Off: the rule does not run.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Another severity than the rule's (`error`, `warning`, `note`).
    #[serde(default)]
    pub severity: Option<String>,
    /// Only findings located in these files (globs; empty: anywhere).
    #[serde(default)]
    pub paths: Vec<String>,
}

fn yes() -> bool {
    true
}

/// The preprocessor recipe for a tree's linker scripts, as its build runs it
/// (Xen: `xen/Rules.mk`'s `cmd_cpp_lds_S` over `XEN_AFLAGS`). Paths are
/// relative to the profile's `srctree`; `{srcarch}` stands for the
/// architecture's SRCARCH.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LdsRecipe {
    /// The script of an architecture.
    pub script: String,
    /// `-I` directories, in order (a directory a tree does not have is harmless).
    pub include_dirs: Vec<String>,
    /// `-include` files, in order.
    pub forced_includes: Vec<String>,
    /// `-D` (`NAME`, `NAME=VALUE`) and `-U` (`-UNAME`), in order.
    pub defines: Vec<String>,
    /// Where the build writes the generated `autoconf.h` (the Kconfig result
    /// of the architecture and variant is laid there).
    pub autoconf: String,
    /// Generated headers only a real build makes: path -> the stub's text.
    pub stubs: BTreeMap<String, String>,
}

impl Profile {
    /// A path relative to the profile's `srctree`, as a path in the tree.
    pub fn tree_path(&self, p: &str) -> String {
        if self.srctree.is_empty() {
            p.to_string()
        } else {
            format!("{}/{p}", self.srctree)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ArchProfile {
    pub name: String,
    pub srcarch: String,
    /// Relative to the profile's srctree.
    pub defconfig: String,
    /// Defconfigs tried, in order, when `defconfig` is not there (older trees).
    #[serde(default)]
    pub defconfig_fallbacks: Vec<String>,
    /// The toolchain target whose answers apply (`[toolchains.NAME.targets.T]`).
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Extra `-D`/`-U` for this architecture's linker script (its arch.mk's).
    #[serde(default)]
    pub lds_defines: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ToolchainConfig {
    /// The compiler predefines table (built in: `gcc-12`), per target.
    #[serde(default)]
    pub predefines: Option<String>,
    pub probe_default: String,
    /// Answers that hold for every target.
    #[serde(default)]
    pub probes: BTreeMap<String, String>,
    #[serde(default)]
    pub shell: BTreeMap<String, String>,
    /// Answers per target (x86_64, aarch64, arm, riscv64, ppc64le), looked up first.
    #[serde(default)]
    pub targets: BTreeMap<String, TargetAnswers>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TargetAnswers {
    #[serde(default)]
    pub probes: BTreeMap<String, String>,
    #[serde(default)]
    pub shell: BTreeMap<String, String>,
}

/// GitHub (`[github]`): where its API is and how to authenticate.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct GitHubConfig {
    /// The REST API's base URL.
    pub api: String,
    /// The environment variable holding the token (a GitHub Actions
    /// `GITHUB_TOKEN`, or a personal or installation token).
    pub token_env: String,
    /// The remote of the `--tree` clone a pull request's head is fetched
    /// from when the clone does not have it (`refs/pull/N/head`).
    pub remote: String,
    /// The environment variable holding the webhook secret (`patchbot serve`).
    pub webhook_secret_env: String,
    /// A GitHub App's id (0: authenticate with the token instead).
    pub app_id: u64,
    /// The environment variable holding the App's private key: the PEM
    /// text, or the path of a PEM file.
    pub app_key_env: String,
    /// The App's installation (0: looked up for the pull request's repository).
    pub installation_id: u64,
}

impl Default for GitHubConfig {
    fn default() -> Self {
        GitHubConfig {
            api: "https://api.github.com".into(),
            token_env: "GITHUB_TOKEN".into(),
            remote: "origin".into(),
            webhook_secret_env: "PATCHBOT_WEBHOOK_SECRET".into(),
            app_id: 0,
            app_key_env: "PATCHBOT_GITHUB_APP_KEY".into(),
            installation_id: 0,
        }
    }
}

/// Posting reviews (`[post]`): the state store and the sinks.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PostConfig {
    /// The SQLite state store (empty: `$XDG_STATE_HOME/patchbot/state.sqlite`,
    /// else `~/.local/state/patchbot/state.sqlite`).
    pub state: String,
    /// The `From` of patchbot's mail (its domain is the Message-IDs').
    pub from: String,
    /// `per-patch`: a reply to each patch with findings about its lines and
    /// one to the cover letter for the rest; `one`: one reply for all.
    pub replies: String,
    /// Never reply to mail from these addresses (globs, `*` and `?`), besides
    /// patchbot's own `from` and anything `Auto-Submitted`.
    pub never_reply_to: Vec<String>,
    /// How to answer on lists without a table of their own in `lists`.
    pub policy: ListPolicy,
    /// Per list address (the `L:` lists MAINTAINERS gives the series), a
    /// policy of its own (keys left out take the built-in defaults).
    pub lists: BTreeMap<String, ListPolicy>,
    pub email: EmailConfig,
}

/// How patchbot answers on a list (`[post.policy]`, `[post.lists."ADDR"]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ListPolicy {
    /// `list`: To the author, Cc the maintainers and the lists; `author`: To
    /// the author only; `none`: no reply.
    pub reply: String,
    /// The severities that are posted.
    pub severities: Vec<String>,
    /// `HH-HH` (UTC; may wrap midnight): nothing is posted in those hours, the
    /// next run outside them posts. Empty: none.
    pub quiet_hours: String,
    /// Say what would be posted, post nothing, write nothing.
    pub dry_run: bool,
}

impl Default for ListPolicy {
    fn default() -> Self {
        ListPolicy {
            reply: "list".into(),
            severities: vec!["error".into(), "warning".into(), "note".into()],
            quiet_hours: String::new(),
            dry_run: false,
        }
    }
}

impl ListPolicy {
    /// The quiet hours as (from, to), hours of the day (None: none, or not
    /// `HH-HH`).
    pub fn quiet(&self) -> Option<(u32, u32)> {
        let (a, b) = self.quiet_hours.split_once('-')?;
        let (a, b): (u32, u32) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
        (a < 24 && b < 24 && a != b).then_some((a, b))
    }

    /// Whether `hour` (UTC) is in the quiet hours.
    pub fn is_quiet(&self, hour: u32) -> bool {
        match self.quiet() {
            None => false,
            Some((a, b)) if a < b => (a..b).contains(&hour),
            Some((a, b)) => hour >= a || hour < b,
        }
    }
}

impl Default for PostConfig {
    fn default() -> Self {
        PostConfig {
            state: String::new(),
            from: "patchbot <patchbot@localhost>".into(),
            replies: "per-patch".into(),
            never_reply_to: vec![
                "lkp@intel.com".into(),
                "patchwork-bot+*@kernel.org".into(),
                "noreply@github.com".into(),
                "*[bot]@users.noreply.github.com".into(),
            ],
            policy: ListPolicy::default(),
            lists: BTreeMap::new(),
            email: EmailConfig::default(),
        }
    }
}

impl PostConfig {
    /// The state store's path (None: no home to put it in).
    pub fn state_path(&self) -> Option<std::path::PathBuf> {
        if self.state.is_empty() {
            crate::state::default_path()
        } else {
            Some(std::path::PathBuf::from(&self.state))
        }
    }
}

/// The email sink (`[post.email]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    /// `outbox` (a maildir: nothing leaves the machine) or `smtp`.
    pub transport: String,
    /// The outbox maildir (empty: `outbox/` next to the state store).
    pub outbox: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `starttls`, `tls` (implicit, as on port 465) or `plain` (loopback only).
    pub security: String,
    /// The SMTP user (or `$PATCHBOT_SMTP_USER`); empty: no authentication.
    pub username: String,
    /// The environment variable holding the SMTP password.
    pub password_env: String,
    /// A PEM file of certificates to trust besides the built-in roots (a
    /// private relay's own CA). Empty: none.
    pub ca_file: String,
    /// The list's archive as a local copy (an mbox, a maildir or a
    /// public-inbox repository): a reply an unfinished run may have sent is
    /// looked for there by its Message-ID before sending it again. Empty:
    /// none (SMTP cannot be checked; see the README).
    pub archive: String,
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            transport: "outbox".into(),
            outbox: String::new(),
            smtp_host: String::new(),
            smtp_port: 587,
            security: "starttls".into(),
            username: String::new(),
            password_env: "PATCHBOT_SMTP_PASSWORD".into(),
            ca_file: String::new(),
            archive: String::new(),
        }
    }
}

/// `patchbot watch` (`[watch]` and its `[[watch.sources]]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WatchConfig {
    /// The tree reviews apply to (a clone of the project); a source may name its own.
    pub tree: String,
    /// The tree profile (empty: detected from the tree).
    pub profile: String,
    /// Seconds between two rounds on a source (a source may set its own).
    pub interval: u64,
    /// A series with parts missing is reviewed this many minutes after its
    /// last part arrived (0: only complete series are reviewed).
    pub grace_minutes: u64,
    /// The first round on a new source: `skip` takes in what the archive
    /// holds and reviews only series that arrive later; `review` reviews every
    /// complete series already there too.
    pub backlog: String,
    /// Review the pull requests `patchbot serve` queued.
    pub github: bool,
    /// The User-Agent of every request (empty: `patchbot/VERSION`).
    pub user_agent: String,
    /// At least this many milliseconds between two requests to one server.
    pub min_request_interval_ms: u64,
    /// Seconds a request may take.
    pub timeout: u64,
    /// After a failed round a source waits interval x 2^failures, at most this
    /// many seconds.
    pub max_backoff: u64,
    pub sources: Vec<WatchSource>,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            tree: String::new(),
            profile: String::new(),
            interval: 300,
            grace_minutes: 60,
            backlog: "skip".into(),
            github: true,
            user_agent: String::new(),
            min_request_interval_ms: 1000,
            timeout: 60,
            max_backoff: 3600,
            sources: Vec::new(),
        }
    }
}

impl WatchConfig {
    /// The User-Agent patchbot sends.
    pub fn agent(&self) -> String {
        if self.user_agent.is_empty() {
            format!(
                "patchbot/{} (+https://github.com/patchbot)",
                env!("CARGO_PKG_VERSION")
            )
        } else {
            self.user_agent.clone()
        }
    }
}

/// Fetching threads by Message-ID or URL (`[remote]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemoteConfig {
    /// public-inbox servers a bare Message-ID is looked up on, in order.
    pub servers: Vec<String>,
    /// Lists tried on each server before `/all/`.
    pub lists: Vec<String>,
    /// Seconds a request may take.
    pub timeout: u64,
    /// A `Retry-After` up to this many seconds is waited out (twice at most).
    pub max_retry_wait: u64,
    /// The User-Agent (empty: `patchbot/VERSION`).
    pub user_agent: String,
    /// Where fetched threads are kept (empty: `threads/` in the cache
    /// directory, `[cache] dir` or the user cache directory).
    pub cache_dir: String,
    /// Look for newer versions of the series on the server (by title).
    pub check_newer: bool,
}

impl Default for RemoteConfig {
    fn default() -> Self {
        RemoteConfig {
            servers: vec!["https://lore.kernel.org/".into()],
            lists: Vec::new(),
            timeout: 30,
            max_retry_wait: 30,
            user_agent: String::new(),
            cache_dir: String::new(),
            check_newer: true,
        }
    }
}

impl RemoteConfig {
    /// The User-Agent patchbot sends.
    pub fn agent(&self) -> String {
        if self.user_agent.is_empty() {
            WatchConfig::default().agent()
        } else {
            self.user_agent.clone()
        }
    }

    /// The directory of fetched threads.
    pub fn cache_dir(&self) -> Option<std::path::PathBuf> {
        if self.cache_dir.is_empty() {
            crate::cache::default_dir().map(|d| d.join("threads"))
        } else {
            Some(std::path::PathBuf::from(&self.cache_dir))
        }
    }
}

/// `patchbot digest` (`[digest]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DigestConfig {
    /// A series with no message for this many days is stale.
    pub stale_days: u64,
    /// `--format email`: `maintainers` (one digest to each maintainer, of
    /// their areas) or `list` (one digest of everything to `list`).
    pub to: String,
    /// The address of the list digest (`to = "list"`).
    pub list: String,
    /// The tree whose MAINTAINERS is read (empty: `[watch] tree`).
    pub tree: String,
}

impl Default for DigestConfig {
    fn default() -> Self {
        DigestConfig {
            stale_days: 14,
            to: "maintainers".into(),
            list: String::new(),
            tree: String::new(),
        }
    }
}

/// One archive `patchbot watch` polls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WatchSource {
    /// The name the state store keeps its cursor under (unique).
    pub name: String,
    /// A public-inbox archive over HTTP (`https://lore.kernel.org/xen-devel/`).
    pub url: String,
    /// A local public-inbox archive or maildir.
    pub path: String,
    /// Seconds between rounds (0: `[watch] interval`).
    pub interval: u64,
    /// The tree for this source's series (empty: `[watch] tree`).
    pub tree: String,
    /// The profile (empty: `[watch] profile`).
    pub profile: String,
    /// `skip` or `review` (empty: `[watch] backlog`).
    pub backlog: String,
}

/// The on-disk cache of base results (`[cache]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Off: every review builds its base.
    pub enabled: bool,
    /// The directory (empty: `$PATCHBOT_CACHE_DIR`, else the user cache
    /// directory, `$XDG_CACHE_HOME/patchbot` or `~/.cache/patchbot`).
    pub dir: String,
    /// The least recently used entries go beyond this size (MiB).
    pub max_mib: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            enabled: true,
            dir: String::new(),
            max_mib: 512,
        }
    }
}

impl CacheConfig {
    /// The cache this configuration names, or None when it is off (also with
    /// `PATCHBOT_NO_CACHE` set to anything but empty or `0`) or there is no
    /// directory to put it in.
    pub fn open(&self) -> Option<crate::cache::Cache> {
        let off = std::env::var("PATCHBOT_NO_CACHE").is_ok_and(|v| !v.is_empty() && v != "0");
        if !self.enabled || off {
            return None;
        }
        Some(crate::cache::Cache::new(
            &self.dir()?,
            self.max_mib.saturating_mul(1024 * 1024),
        ))
    }

    /// Where the cache is, on or off (None: no directory to put it in).
    pub fn dir(&self) -> Option<std::path::PathBuf> {
        if self.dir.is_empty() {
            crate::cache::default_dir()
        } else {
            Some(std::path::PathBuf::from(&self.dir))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApplyConfig {
    pub branches: Vec<String>,
    pub fuzz: u32,
    pub max_patch_bytes: usize,
    pub max_files: usize,
}

impl Default for ApplyConfig {
    fn default() -> Self {
        ApplyConfig {
            branches: vec!["staging".into(), "master".into(), "main".into()],
            fuzz: 0,
            max_patch_bytes: 16 * 1024 * 1024,
            max_files: 10_000,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    pub mbox_format: MboxFormat,
    pub scissors: bool,
    pub keep_cr: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid configuration {path}: {message}")]
    Invalid { path: String, message: String },
}

impl Config {
    /// Parse configuration text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: origin.to_string(),
            message: describe(text, &e),
        })?;
        cfg.validate().map_err(|message| ConfigError::Invalid {
            path: origin.to_string(),
            message,
        })?;
        Ok(cfg)
    }

    /// A user's file laid over the built-in defaults: its tables are merged
    /// into the defaults' key by key (a partial `[profiles.xen.rules.X]` or
    /// `[post]` keeps everything else), any other value replaces the
    /// default's (an array whole). Unknown keys and wrong types are errors
    /// with their line in the user's file.
    pub fn parse_over_defaults(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: origin.to_string(),
            message,
        };
        let user: toml::Table = toml::from_str(text).map_err(|e| invalid(describe(text, &e)))?;
        let mut merged: toml::Table =
            toml::from_str(DEFAULT_TOML).expect("the built-in config.toml is valid");
        fn merge(into: &mut toml::Table, from: toml::Table) {
            for (k, v) in from {
                match (into.get_mut(&k), v) {
                    (Some(toml::Value::Table(a)), toml::Value::Table(b)) => merge(a, b),
                    (_, v) => {
                        into.insert(k, v);
                    }
                }
            }
        }
        merge(&mut merged, user);
        let cfg: Config = toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| {
                // the user's text alone says where an unknown key or a wrong type is
                match toml::from_str::<Config>(text) {
                    Err(alone) if !alone.message().starts_with("missing field") => {
                        invalid(describe(text, &alone))
                    }
                    _ => invalid(e.message().to_string()),
                }
            })?;
        cfg.validate().map_err(invalid)?;
        Ok(cfg)
    }

    /// The built-in defaults (the repository's config.toml).
    pub fn builtin() -> Config {
        Config::parse(DEFAULT_TOML, "built-in config.toml")
            .expect("the built-in config.toml is valid")
    }

    /// Load from `path`, or the built-in defaults when `None`.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        match path {
            None => Ok(Config::builtin()),
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.display().to_string(),
                    source,
                })?;
                Config::parse_over_defaults(&text, &p.display().to_string())
            }
        }
    }

    fn validate(&self) -> Result<(), String> {
        let l = &self.limits;
        if l.max_message_bytes < 1024 {
            return Err("limits.max_message_bytes must be at least 1024".into());
        }
        if l.max_subject_bytes < 16 {
            return Err("limits.max_subject_bytes must be at least 16".into());
        }
        if !matches!(self.post.replies.as_str(), "per-patch" | "one") {
            return Err("post.replies must be \"per-patch\" or \"one\"".into());
        }
        for (name, p) in std::iter::once(("policy".to_string(), &self.post.policy)).chain(
            self.post
                .lists
                .iter()
                .map(|(l, p)| (format!("lists.\"{l}\""), p)),
        ) {
            if !matches!(p.reply.as_str(), "list" | "author" | "none") {
                return Err(format!(
                    "post.{name}.reply must be \"list\", \"author\" or \"none\""
                ));
            }
            if let Some(bad) = p
                .severities
                .iter()
                .find(|s| !matches!(s.as_str(), "error" | "warning" | "note"))
            {
                return Err(format!(
                    "post.{name}.severities: {bad:?} is not one of error, warning, note"
                ));
            }
            if !p.quiet_hours.is_empty() && p.quiet().is_none() {
                return Err(format!(
                    "post.{name}.quiet_hours must be \"HH-HH\" (UTC hours, e.g. \"22-07\"), not {:?}",
                    p.quiet_hours
                ));
            }
        }
        if self.apply.fuzz > 3 {
            return Err("apply.fuzz must be between 0 and 3".into());
        }
        for (name, p) in &self.profiles {
            if !matches!(p.dialect.as_str(), "xen" | "linux-6.1") {
                return Err(format!(
                    "profiles.{name}.dialect must be \"xen\" or \"linux-6.1\""
                ));
            }
            for (id, r) in &p.rules {
                if let Some(sev) = &r.severity {
                    if !matches!(sev.as_str(), "error" | "warning" | "note") {
                        return Err(format!(
                            "profiles.{name}.rules.{id}.severity must be \"error\", \"warning\" or \"note\""
                        ));
                    }
                }
            }
            if !self.toolchains.contains_key(&p.toolchain) {
                return Err(format!(
                    "profiles.{name}.toolchain: no [toolchains.{}]",
                    p.toolchain
                ));
            }
        }
        Ok(())
    }

    /// The configuration as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }
}

/// A one-paragraph error: line, column, the offending line, and toml's message
/// (which names the key: "unknown field `foo`, expected ...").
fn describe(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().to_string();
    match e.span() {
        Some(span) => {
            let start = span.start.min(text.len());
            let line_no = text[..start].matches('\n').count() + 1;
            let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
            let col = text[line_start..start].chars().count() + 1;
            let line = text[line_start..].lines().next().unwrap_or("");
            format!("line {line_no}, column {col}: {msg}\n    {line_no} | {line}")
        }
        None => msg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_parses_and_matches_defaults_outside_profiles() {
        let mut b = Config::builtin();
        assert!(b.profiles.contains_key("xen") && b.toolchains.contains_key("gcc-12"));
        b.profiles.clear();
        b.toolchains.clear();
        assert_eq!(b, Config::default());
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let e = Config::parse(
            "[limits]\nmax_message_bytes = 2048\nmax_mesage_bytes = 1\n",
            "t.toml",
        )
        .unwrap_err();
        let s = e.to_string();
        assert!(s.contains("line 3"), "{s}");
        assert!(s.contains("max_mesage_bytes"), "{s}");
    }

    #[test]
    fn wrong_type_and_bad_value() {
        let s = Config::parse("[mail]\nscissors = \"yes\"\n", "t")
            .unwrap_err()
            .to_string();
        assert!(s.contains("line 2"), "{s}");
        let s = Config::parse("[mail]\nmbox_format = \"mboxcl2\"\n", "t")
            .unwrap_err()
            .to_string();
        assert!(
            s.contains("mboxcl2") || s.contains("unknown variant"),
            "{s}"
        );
        let s = Config::parse("[limits]\nmax_message_bytes = 10\n", "t")
            .unwrap_err()
            .to_string();
        assert!(s.contains("max_message_bytes"), "{s}");
    }
}
