//! `patchbot watch` and `patchbot status`: the service loop around
//! [`patchbot::watch`]. Each ready series is reviewed by running this same
//! executable's `review --post` on the series' messages, in a process group
//! of its own: a review that crashes or hangs costs that review, not the
//! watcher, and a Ctrl-C at the terminal stops the watcher after the review
//! under way instead of in the middle of it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use patchbot::config::Config;
use patchbot::state::Store;
use patchbot::watch::{self, Kind};
use tracing::{error, info, warn};

use super::{print, DOES_NOT_APPLY, INPUT, OK, USAGE};

pub struct WatchFlags {
    pub once: bool,
    pub sources: Vec<String>,
    pub log_json: bool,
    pub verbose: bool,
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// SIGTERM and SIGINT ask the loop to stop after the step under way.
fn install_signals() {
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as *const () as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGTERM, &sa, std::ptr::null_mut());
        libc::sigaction(libc::SIGINT, &sa, std::ptr::null_mut());
    }
}

fn stopping() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Seconds since the epoch (PATCHBOT_NOW stands in for the clock in tests).
fn now() -> i64 {
    std::env::var("PATCHBOT_NOW")
        .ok()
        .and_then(|n| n.parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or_default()
        })
}

fn init_logs(json: bool, verbose: bool) {
    let level = if verbose {
        tracing::Level::DEBUG
    } else {
        tracing::Level::INFO
    };
    let b = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_target(false);
    let _ = if json {
        b.json().flatten_event(true).try_init()
    } else {
        b.with_ansi(false).try_init()
    };
}

/// One configured source, ready to poll.
struct Source {
    cfg: patchbot::config::WatchSource,
    kind: Kind,
    tree: PathBuf,
    profile: String,
    skip_backlog: bool,
    interval: u64,
    due: Instant,
}

pub fn watch_cmd(cfg: &Config, config_path: Option<&Path>, flags: WatchFlags) -> u8 {
    init_logs(flags.log_json, flags.verbose);
    let configured = match watch::check(cfg) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("patchbot: {e}");
            return USAGE;
        }
    };
    for n in &flags.sources {
        if !configured.iter().any(|(s, _)| &s.name == n) {
            eprintln!("patchbot: --source {n}: no [[watch.sources]] of that name");
            return USAGE;
        }
    }
    let mut sources = Vec::new();
    for (s, kind) in configured {
        if !flags.sources.is_empty() && !flags.sources.contains(&s.name) {
            continue;
        }
        let tree = if s.tree.is_empty() {
            &cfg.watch.tree
        } else {
            &s.tree
        };
        if tree.is_empty() {
            eprintln!(
                "patchbot: [[watch.sources]] {}: no tree to review on; set tree there or in [watch]",
                s.name
            );
            return USAGE;
        }
        let profile = if s.profile.is_empty() {
            &cfg.watch.profile
        } else {
            &s.profile
        };
        let backlog = if s.backlog.is_empty() {
            &cfg.watch.backlog
        } else {
            &s.backlog
        };
        sources.push(Source {
            tree: PathBuf::from(tree),
            profile: profile.clone(),
            skip_backlog: backlog == "skip",
            interval: if s.interval == 0 {
                cfg.watch.interval
            } else {
                s.interval
            },
            due: Instant::now(),
            kind,
            cfg: s,
        });
    }
    let github = cfg.watch.github && flags.sources.is_empty();
    if sources.is_empty() && !github {
        eprintln!("patchbot: nothing to watch: no [[watch.sources]] in the configuration");
        return USAGE;
    }
    let Some(path) = cfg.post.state_path() else {
        eprintln!("patchbot: no state store: set [post] state, XDG_STATE_HOME or HOME");
        return USAGE;
    };
    let mut store = match Store::open(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("patchbot: {e}");
            return INPUT;
        }
    };
    // one watcher per store
    let lock_path = path.with_extension("watch.lock");
    let lock = match patchbot::state::lock(&lock_path, false) {
        Ok(Some(f)) => f,
        Ok(None) => {
            eprintln!(
                "patchbot: another patchbot watch is running on {} (it holds {})",
                path.display(),
                lock_path.display()
            );
            return USAGE;
        }
        Err(e) => {
            eprintln!("patchbot: {e}");
            return INPUT;
        }
    };
    let state_dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut http = if sources.iter().any(|s| matches!(s.kind, Kind::Http(_))) {
        match watch::Http::new(&cfg.watch) {
            Ok(h) => Some(h),
            Err(e) => {
                eprintln!("patchbot: {e}");
                return INPUT;
            }
        }
    } else {
        None
    };
    install_signals();
    let progress = !flags.log_json && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("patchbot: cannot find this executable to run reviews: {e}");
            return INPUT;
        }
    };
    let runner = Runner {
        exe,
        config: config_path.map(Path::to_path_buf),
    };
    info!(
        sources = sources.len(),
        state = %path.display(),
        "watching"
    );
    let mut failed_rounds = 0u32;
    loop {
        for src in sources.iter_mut() {
            if stopping() {
                break;
            }
            if !flags.once && Instant::now() < src.due {
                continue;
            }
            let failures = match round(
                cfg,
                &mut store,
                src,
                &state_dir,
                http.as_mut(),
                &runner,
                progress,
            ) {
                Ok(()) => 0,
                Err(e) => {
                    error!(source = %src.cfg.name, "{e}");
                    failed_rounds += 1;
                    store.source_failed(&src.cfg.name, &e).unwrap_or(1)
                }
            };
            src.due =
                Instant::now() + watch::wait_for(src.interval, failures, cfg.watch.max_backoff);
        }
        if github && !stopping() {
            if let Err(e) = github_round(&mut store, &runner, &cfg.watch.tree) {
                error!("pull requests: {e}");
                failed_rounds += 1;
            }
        }
        if flags.once || stopping() {
            break;
        }
        // sleep until the next source is due, waking to notice a signal
        let next = sources
            .iter()
            .map(|s| s.due)
            .min()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(cfg.watch.interval.max(1)));
        while Instant::now() < next && !stopping() {
            std::thread::sleep(Duration::from_millis(100).min(next - Instant::now()));
        }
        if stopping() {
            break;
        }
    }
    info!("stopped");
    drop(lock);
    if flags.once && failed_rounds > 0 {
        INPUT
    } else {
        OK
    }
}

/// One round on one source: poll, take in, plan, review.
fn round(
    cfg: &Config,
    store: &mut Store,
    src: &Source,
    state_dir: &Path,
    http: Option<&mut watch::Http>,
    runner: &Runner,
    progress: bool,
) -> Result<(), String> {
    let name = &src.cfg.name;
    let state = store.source(name).map_err(|e| e.to_string())?;
    // the first round is the first to finish planning (one killed before
    // that leaves the backlog still to mark)
    let first = !state.planned;
    let opts = patchbot::read_options(cfg);
    let polled = watch::poll(&src.kind, name, &state, state_dir, http, &opts)?;
    for e in &polled.errors {
        warn!(source = %name, "a message could not be read: {e}");
    }
    for e in &polled.rewritten {
        warn!(source = %name, epoch = %e, "epoch rewritten; read again from its start");
        let _ = store.event(
            "warning",
            name,
            &format!("epoch {e} was rewritten; read again"),
        );
    }
    let cursor = serde_json::to_string(&polled.cursor).unwrap_or_default();
    let validators = serde_json::to_string(&polled.validators).unwrap_or_default();
    let at = now();
    let new = store
        .import(name, &polled.messages, at, &cursor, &validators)
        .map_err(|e| e.to_string())?;
    if new > 0 {
        info!(source = %name, new, read = polled.read, "messages taken in");
    } else {
        tracing::debug!(source = %name, read = polled.read, "nothing new");
    }
    // nothing new and nothing left: the round is over
    if !first && !store.has_pending(name).map_err(|e| e.to_string())? {
        return Ok(());
    }
    let plan = watch::plan(store, cfg, name, at, first, src.skip_backlog)?;
    if first && plan.backlog > 0 {
        info!(source = %name, series = plan.backlog, "backlog taken in, not reviewed ([watch] backlog = \"skip\")");
    }
    // a backlog reviewed at a terminal: a progress bar instead of a line a review
    let bar = (progress && plan.jobs.len() > 1).then(|| {
        let b = indicatif::ProgressBar::new(plan.jobs.len() as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} series, {elapsed} ({eta} left) {wide_msg}",
        ) {
            b.set_style(style.progress_chars("=> "));
        }
        b.set_prefix(name.clone());
        b
    });
    for job in &plan.jobs {
        if stopping() {
            info!("stopping: the remaining series wait for the next run");
            break;
        }
        match &bar {
            Some(b) => b.set_message(format!("v{} {}", job.version, job.title)),
            None => {
                info!(source = %name, series = %job.title, version = job.version, partial = job.partial, "reviewing")
            }
        }
        let result = runner.review(job, &src.tree, &src.profile);
        // the crash tests kill here: reviewed and posted, not yet recorded
        patchbot::post::crash_point("watch-after-review");
        match (&result, &bar) {
            (Ok(summary), None) => info!(source = %name, series = %job.title, "{summary}"),
            (Ok(_), Some(b)) => b.inc(1),
            (Err(e), Some(b)) => {
                b.suspend(|| error!(source = %name, series = %job.title, "review failed: {e}"));
                b.inc(1);
            }
            (Err(e), None) => error!(source = %name, series = %job.title, "review failed: {e}"),
        }
        watch::finish(store, job, result).map_err(|e| e.to_string())?;
    }
    if let Some(b) = bar {
        b.finish_and_clear();
        info!(source = %name, series = plan.jobs.len(), "reviewed");
    }
    if !stopping() {
        store.source_planned(name).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Runs `patchbot review --post` for a job.
struct Runner {
    exe: PathBuf,
    config: Option<PathBuf>,
}

impl Runner {
    fn command(&self) -> std::process::Command {
        use std::os::unix::process::CommandExt;
        let mut c = std::process::Command::new(&self.exe);
        if let Some(p) = &self.config {
            c.arg("--config").arg(p);
        }
        // its own process group: a terminal's Ctrl-C stops the watcher, which
        // lets the review under way finish
        c.process_group(0);
        c.stdin(std::process::Stdio::null());
        c
    }

    /// Review one job; a one-line summary, or why it failed.
    fn review(&self, job: &watch::Job, tree: &Path, profile: &str) -> Result<String, String> {
        let mut file = tempfile::Builder::new()
            .prefix("patchbot-watch-")
            .suffix(".mbox")
            .tempfile()
            .map_err(|e| format!("cannot write the series' messages: {e}"))?;
        std::io::Write::write_all(&mut file, &job.mbox)
            .map_err(|e| format!("cannot write the series' messages: {e}"))?;
        let mut c = self.command();
        c.arg("review")
            .arg(file.path())
            .arg("--series")
            .arg(&job.anchor)
            .arg("--tree")
            .arg(tree)
            .args(["--post", "--format", "json"]);
        if !profile.is_empty() {
            c.arg("--profile").arg(profile);
        }
        let out = c
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.exe.display()))?;
        summarize(&out)
    }
}

/// A one-line account of a `review --post --format json` run, or why it failed.
fn summarize(out: &std::process::Output) -> Result<String, String> {
    let code = out.status.code();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or("").trim().to_string();
    match code {
        Some(0) | Some(1) => {
            let findings = v["findings"].as_array().map_or(0, |a| a.len());
            let mut posted = Vec::new();
            for o in v["post"]["outcomes"].as_array().into_iter().flatten() {
                if let Some(id) = o.get("sent").and_then(|s| s["message_id"].as_str()) {
                    posted.push(format!("posted {id}"));
                } else if let Some(id) = o.get("settled").and_then(|s| s["message_id"].as_str()) {
                    posted.push(format!("recorded {id}"));
                } else if let Some(id) = o
                    .get("already-posted")
                    .and_then(|s| s["message_id"].as_str())
                {
                    posted.push(format!("already posted {id}"));
                }
            }
            let mut s = format!("{findings} finding{}", if findings == 1 { "" } else { "s" });
            if let Some(why) = v["post"]["silent"].as_str() {
                s.push_str(&format!("; nothing posted: {why}"));
            }
            if let Some(why) = v["post"]["deferred"].as_str() {
                s.push_str(&format!("; deferred: {why}"));
            }
            if !posted.is_empty() {
                s.push_str("; ");
                s.push_str(&posted.join(", "));
            }
            Ok(s)
        }
        Some(c) if c == DOES_NOT_APPLY as i32 => Ok("does not apply; not reviewed".into()),
        Some(c) => Err(format!("review exited with {c}: {last}")),
        None => Err(format!("review was killed by a signal: {last}")),
    }
}

/// Review the pull requests `patchbot serve` queued.
fn github_round(store: &mut Store, runner: &Runner, tree: &str) -> Result<(), String> {
    let queued = store.queued().map_err(|e| e.to_string())?;
    if queued.is_empty() {
        return Ok(());
    }
    if tree.is_empty() {
        return Err(format!(
            "{} queued, but no [watch] tree to review them on",
            queued.len()
        ));
    }
    for q in queued {
        if stopping() {
            break;
        }
        let what = format!("github:{}#{}", q.repo, q.number);
        info!(pull = %what, head = %q.head, attempt = q.attempts + 1, "reviewing");
        let mut c = runner.command();
        c.arg("review")
            .arg(&what)
            .arg("--tree")
            .arg(tree)
            .args(["--post", "--format", "json"]);
        let out = c.output().map_err(|e| e.to_string())?;
        match summarize(&out) {
            Ok(s) => {
                info!(pull = %what, "{s}");
                store
                    .finish_queued(&q.delivery)
                    .map_err(|e| e.to_string())?;
            }
            Err(e) => {
                let gave_up = store
                    .fail_queued(&q.delivery, &e, patchbot::watch::MAX_ATTEMPTS)
                    .map_err(|e| e.to_string())?;
                let then = if gave_up {
                    format!("; failed {} times, given up", patchbot::watch::MAX_ATTEMPTS)
                } else {
                    "; tried again next round".to_string()
                };
                error!(pull = %what, "review failed: {e}{then}");
                store
                    .event("error", "github", &format!("{what}: {e}{then}"))
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(())
}

/// `patchbot status`.
pub fn status_cmd(cfg: &Config, recent: usize, json: bool) -> u8 {
    let Some(path) = cfg.post.state_path() else {
        eprintln!("patchbot: no state store: set [post] state, XDG_STATE_HOME or HOME");
        return USAGE;
    };
    if !path.exists() {
        eprintln!(
            "patchbot: no state store at {} yet (review --post, serve or watch make it)",
            path.display()
        );
        return INPUT;
    }
    let store = match Store::open(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("patchbot: {e}");
            return INPUT;
        }
    };
    let gather = || -> Result<serde_json::Value, patchbot::state::StateError> {
        let sources: Vec<serde_json::Value> = store
            .sources()?
            .into_iter()
            .map(|s| {
                let counts = store.watched_counts(&s.name).unwrap_or_default();
                serde_json::json!({
                    "name": s.name,
                    "rounds": s.rounds,
                    "last_round": s.last_round.map(patchbot::series::rfc3339),
                    "failures": s.failures,
                    "last_error": s.last_error,
                    "messages": store.inbox_count(&s.name).unwrap_or(0),
                    "series": counts,
                })
            })
            .collect();
        let queued: Vec<serde_json::Value> = store
            .queued()?
            .into_iter()
            .map(|q| {
                serde_json::json!({
                    "delivery": q.delivery, "repo": q.repo, "number": q.number,
                    "head": q.head, "attempts": q.attempts, "last_error": q.last_error,
                })
            })
            .collect();
        let series: Vec<serde_json::Value> = store
            .all_watched(recent)?
            .into_iter()
            .map(|w| {
                serde_json::json!({
                    "source": w.source, "title": w.title, "version": w.version,
                    "author": w.author, "state": w.state, "missing": w.missing,
                    "result": w.result, "updated": patchbot::series::rfc3339(w.updated),
                    "message_id": w.anchor,
                })
            })
            .collect();
        let posts: Vec<serde_json::Value> = store
            .recent_posts(recent)?
            .into_iter()
            .map(|(sink, target, id, posted, at)| {
                serde_json::json!({"sink": sink, "target": target, "message_id": id,
                    "posted": posted, "at": patchbot::series::rfc3339(at)})
            })
            .collect();
        let events: Vec<serde_json::Value> = store
            .events(recent)?
            .into_iter()
            .map(|(at, level, source, text)| {
                serde_json::json!({"at": patchbot::series::rfc3339(at), "level": level,
                    "source": source, "text": text})
            })
            .collect();
        Ok(serde_json::json!({
            "state": path.display().to_string(),
            "sources": sources,
            "queued": queued,
            "series": series,
            "posts": posts,
            "events": events,
        }))
    };
    let v = match gather() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("patchbot: {e}");
            return INPUT;
        }
    };
    if json {
        return print(&super::json_string(&v));
    }
    print(&status_text(&v))
}

fn status_text(v: &serde_json::Value) -> String {
    let s = |x: &serde_json::Value| x.as_str().unwrap_or("").to_string();
    let mut out = format!("State store: {}\n", s(&v["state"]));
    let sources = v["sources"].as_array().cloned().unwrap_or_default();
    out.push_str(&format!("\nSources ({}):\n", sources.len()));
    if sources.is_empty() {
        out.push_str("  none watched yet\n");
    }
    for src in &sources {
        let counts: Vec<String> = src["series"]
            .as_object()
            .map(|m| m.iter().map(|(k, n)| format!("{n} {k}")).collect())
            .unwrap_or_default();
        out.push_str(&format!(
            "  {}: {} messages, {} rounds, last {}; series: {}\n",
            s(&src["name"]),
            src["messages"],
            src["rounds"],
            src["last_round"].as_str().unwrap_or("never"),
            if counts.is_empty() {
                "none".to_string()
            } else {
                counts.join(", ")
            }
        ));
        if src["failures"].as_u64().unwrap_or(0) > 0 {
            out.push_str(&format!(
                "    failing ({} rounds in a row): {}\n",
                src["failures"],
                s(&src["last_error"])
            ));
        }
    }
    let queued = v["queued"].as_array().cloned().unwrap_or_default();
    out.push_str(&format!("\nQueued pull requests ({}):\n", queued.len()));
    for q in &queued {
        out.push_str(&format!(
            "  {}#{} at {}\n",
            s(&q["repo"]),
            q["number"],
            s(&q["head"])
        ));
        if q["attempts"].as_u64().unwrap_or(0) > 0 {
            out.push_str(&format!(
                "    failed {} times, last: {}\n",
                q["attempts"],
                s(&q["last_error"])
            ));
        }
    }
    out.push_str("\nRecent series:\n");
    for w in v["series"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  [{}] v{} {} ({}){}\n",
            s(&w["state"]),
            w["version"],
            s(&w["title"]),
            s(&w["source"]),
            w["result"]
                .as_str()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        ));
    }
    out.push_str("\nRecent posts:\n");
    for p in v["posts"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  {} {} {} in reply to {}{}\n",
            s(&p["at"]),
            s(&p["sink"]),
            s(&p["message_id"]),
            s(&p["target"]),
            if p["posted"].as_bool() == Some(true) {
                ""
            } else {
                " (not finished)"
            }
        ));
    }
    let events = v["events"].as_array().cloned().unwrap_or_default();
    out.push_str("\nRecent errors and warnings:\n");
    if events.is_empty() {
        out.push_str("  none\n");
    }
    for e in &events {
        out.push_str(&format!(
            "  {} {} {}: {}\n",
            s(&e["at"]),
            s(&e["level"]),
            s(&e["source"]),
            s(&e["text"])
        ));
    }
    out
}
