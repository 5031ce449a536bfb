//! `patchbot watch`: poll archives, follow series as their parts arrive, and
//! say which are ready for review.
//!
//! A round on a source is: fetch what is new ([`poll`]: a public-inbox
//! archive over HTTP the way lore.kernel.org serves it — its grokmirror
//! manifest, then `git fetch` of the epochs whose fingerprint changed into a
//! mirror beside the state store —, a local public-inbox archive, or a
//! maildir), take the new messages in and move the cursor in one transaction
//! ([`crate::state::Store::import`]), then assemble the source's messages and
//! decide per series ([`plan`]): complete (all N parts) or past the grace
//! period after its last part → a [`Job`]; else it waits. The caller runs the
//! jobs (the CLI runs `patchbot review --post` on each) and records each
//! result with [`finish`]. A job whose result was not recorded (the watcher
//! was killed) is planned again on the next round; posting is idempotent by
//! its own key, so its reply still goes out once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::{Config, WatchSource};
use crate::mail::{Origin, RawMessage, ReadOptions};
use crate::state::{SourceState, StateError, Store, Watched};

/// What a source is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A public-inbox archive over HTTP: its base URL, ending in `/`.
    Http(String),
    PublicInbox(PathBuf),
    Maildir(PathBuf),
}

/// A source's kind from its configuration, or why it has none.
pub fn kind(s: &WatchSource) -> Result<Kind, String> {
    match (s.url.is_empty(), s.path.is_empty()) {
        (false, false) => Err(format!(
            "[[watch.sources]] {}: give url or path, not both",
            s.name
        )),
        (true, true) => Err(format!("[[watch.sources]] {}: give url or path", s.name)),
        (false, true) => {
            if !(s.url.starts_with("http://") || s.url.starts_with("https://")) {
                return Err(format!(
                    "[[watch.sources]] {}: url {:?} is not http(s)",
                    s.name, s.url
                ));
            }
            let mut u = s.url.clone();
            if !u.ends_with('/') {
                u.push('/');
            }
            Ok(Kind::Http(u))
        }
        (true, false) => {
            let p = PathBuf::from(&s.path);
            if crate::mail::is_maildir(&p) {
                Ok(Kind::Maildir(p))
            } else if crate::mail::public_inbox::is_public_inbox(&p) {
                Ok(Kind::PublicInbox(p))
            } else {
                Err(format!(
                    "[[watch.sources]] {}: {} is neither a maildir nor a public-inbox archive",
                    s.name, s.path
                ))
            }
        }
    }
}

/// Check the `[watch]` configuration: every source named once, with a kind.
pub fn check(cfg: &Config) -> Result<Vec<(WatchSource, Kind)>, String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for s in &cfg.watch.sources {
        if s.name.is_empty() {
            return Err("[[watch.sources]]: every source needs a name".into());
        }
        if !seen.insert(s.name.clone()) {
            return Err(format!("[[watch.sources]]: {} is named twice", s.name));
        }
        let backlog = if s.backlog.is_empty() {
            &cfg.watch.backlog
        } else {
            &s.backlog
        };
        if backlog != "skip" && backlog != "review" {
            return Err(format!(
                "[[watch.sources]] {}: backlog {backlog:?}: one of skip, review",
                s.name
            ));
        }
        out.push((s.clone(), kind(s)?));
    }
    Ok(out)
}

/// HTTP for a shared server: one client with patchbot's User-Agent and a
/// timeout, and at least `min_interval` between two requests.
pub struct Http {
    client: reqwest::blocking::Client,
    min_interval: Duration,
    last: Option<Instant>,
    pub agent: String,
    timeout: Duration,
}

impl Http {
    pub fn new(cfg: &crate::config::WatchConfig) -> Result<Http, String> {
        crate::install_crypto();
        let timeout = Duration::from_secs(cfg.timeout.max(1));
        let client = reqwest::blocking::Client::builder()
            .user_agent(cfg.agent())
            .timeout(timeout)
            .build()
            .map_err(|e| format!("cannot make an HTTP client: {e}"))?;
        Ok(Http {
            client,
            min_interval: Duration::from_millis(cfg.min_request_interval_ms),
            last: None,
            agent: cfg.agent(),
            timeout,
        })
    }

    fn pace(&mut self) {
        if let Some(t) = self.last {
            let since = t.elapsed();
            if since < self.min_interval {
                std::thread::sleep(self.min_interval - since);
            }
        }
        self.last = Some(Instant::now());
    }

    /// GET with the validators of an earlier answer: Ok(None) when the
    /// server says nothing changed (304), else the body and the new validators.
    pub fn get_conditional(&mut self, url: &str, v: &Validators) -> Result<Option<Fresh>, String> {
        self.pace();
        let mut req = self.client.get(url);
        if let Some(e) = &v.etag {
            req = req.header("If-None-Match", e);
        }
        if let Some(m) = &v.last_modified {
            req = req.header("If-Modified-Since", m);
        }
        let resp = req
            .send()
            .map_err(|e| format!("{url}: {}", plain_error(&e)))?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        if !status.is_success() {
            let retry = resp
                .headers()
                .get("retry-after")
                .and_then(|h| h.to_str().ok())
                .map(|r| format!(" (retry after {r})"))
                .unwrap_or_default();
            return Err(format!("{url}: the server answered {status}{retry}"));
        }
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .and_then(|h| h.to_str().ok())
                .map(String::from)
        };
        let (etag, modified) = (header("etag"), header("last-modified"));
        let body = resp
            .bytes()
            .map_err(|e| format!("{url}: {}", plain_error(&e)))?
            .to_vec();
        Ok(Some((body, etag, modified)))
    }
}

/// A changed answer: the body, its ETag and its Last-Modified.
pub type Fresh = (Vec<u8>, Option<String>, Option<String>);

/// An error with its causes, on one line.
pub fn plain_error(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = c.source();
    }
    s
}

/// What a source's server last said: the manifest's validators and each
/// epoch's fingerprint.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub fingerprints: BTreeMap<String, String>,
}

/// What one poll found.
#[derive(Debug, Default)]
pub struct Polled {
    /// New messages: (Message-ID, raw bytes), oldest first.
    pub messages: Vec<(String, Vec<u8>)>,
    pub cursor: crate::mail::public_inbox::Cursor,
    pub validators: Validators,
    /// Messages that could not be read, and why.
    pub errors: Vec<String>,
    /// Epochs read again from the start because their history was rewritten.
    pub rewritten: Vec<String>,
    /// Messages (maildir: files) read this round, new or not.
    pub read: usize,
}

/// The Message-ID of a raw message (a stand-in made from its bytes when it
/// has none, so it is still taken in once).
pub fn message_id(bytes: &[u8]) -> String {
    use mailparse::MailHeaderMap;
    mailparse::parse_headers(bytes)
        .ok()
        .and_then(|(h, _)| h.get_first_value("Message-ID"))
        .and_then(|v| crate::mail::message::message_ids(&v).into_iter().next())
        .unwrap_or_else(|| {
            format!(
                "no-message-id-{}@patchbot",
                crate::cache::digest_bytes(bytes)
            )
        })
}

/// The directory a source's HTTP mirror is kept in (a v2 layout: `git/N.git`).
pub fn mirror_dir(state_dir: &Path, source: &str) -> PathBuf {
    let safe: String = source
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    state_dir.join("mirrors").join(safe)
}

/// Fetch and read what is new on a source since `state`.
pub fn poll(
    kind: &Kind,
    name: &str,
    state: &SourceState,
    state_dir: &Path,
    http: Option<&mut Http>,
    opts: &ReadOptions,
) -> Result<Polled, String> {
    let mut cursor: crate::mail::public_inbox::Cursor =
        serde_json::from_str(&state.cursor).unwrap_or_default();
    let mut validators: Validators = serde_json::from_str(&state.validators).unwrap_or_default();
    let mut polled = Polled::default();
    let dir = match kind {
        Kind::Maildir(dir) => {
            polled.cursor = poll_maildir(dir, &cursor, opts, &mut polled)?;
            polled.validators = validators;
            return Ok(polled);
        }
        Kind::PublicInbox(dir) => dir.clone(),
        Kind::Http(base) => {
            let http = http.ok_or("no HTTP client")?;
            let mirror = mirror_dir(state_dir, name);
            if !fetch_http(base, &mirror, &mut validators, http)? {
                polled.cursor = cursor;
                polled.validators = validators;
                return Ok(polled);
            }
            mirror
        }
    };
    // an epoch whose history was rewritten (the cursor's commit is no longer
    // an ancestor of its head) is read again from its start; the store keeps
    // each Message-ID once
    let epochs = crate::mail::public_inbox::epochs(&dir)?;
    for e in &epochs {
        if let Some(c) = cursor.get(&e.name) {
            let head = rev_parse(&e.git_dir, "HEAD");
            if head.as_deref() == Some(c.as_str()) {
                continue;
            }
            let ok = crate::git::command(&e.git_dir)
                .args(["merge-base", "--is-ancestor", c, "HEAD"])
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                polled.rewritten.push(e.name.clone());
                cursor.remove(&e.name);
            }
        }
    }
    // nothing new: every epoch's head is its cursor (no process beyond these)
    let unchanged = epochs.iter().all(|e| {
        cursor.contains_key(&e.name)
            && rev_parse(&e.git_dir, "HEAD") == cursor.get(&e.name).cloned()
    });
    if unchanged {
        polled.cursor = cursor;
        polled.validators = validators;
        return Ok(polled);
    }
    let next = crate::mail::public_inbox::read(&dir, &cursor, opts, |raw| take(&mut polled, raw))?;
    polled.cursor = next;
    polled.validators = validators;
    Ok(polled)
}

/// A maildir's cursor: `stamp`, the modification times of `new/` and `cur/`
/// when nothing can have arrived unseen (a delivery or a move changes them),
/// and `since`, when the last listing began. Unchanged stamps: nothing is
/// listed. Otherwise the files are listed and only those whose status
/// changed since the last listing (a delivery's rename into `new/` or `cur/`
/// sets it) are read; the store keeps each Message-ID once, so reading one
/// again (a flag changed) is harmless. A stamp is kept only when both
/// directories are older than the listing by a second, so an arrival in the
/// same clock tick as the listing is still seen.
fn poll_maildir(
    dir: &Path,
    cursor: &crate::mail::public_inbox::Cursor,
    opts: &ReadOptions,
    polled: &mut Polled,
) -> Result<crate::mail::public_inbox::Cursor, String> {
    use std::os::unix::fs::MetadataExt;
    const SLACK_NS: i128 = 1_000_000_000;
    let ctime =
        |m: &std::fs::Metadata| i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec());
    let mtime =
        |m: &std::fs::Metadata| i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec());
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128);
    let times: Vec<Option<i128>> = ["new", "cur"]
        .iter()
        .map(|d| std::fs::metadata(dir.join(d)).ok().map(|m| mtime(&m)))
        .collect();
    let stamp = times
        .iter()
        .map(|t| t.map_or("-".to_string(), |t| t.to_string()))
        .collect::<Vec<_>>()
        .join(",");
    if cursor.get("stamp") == Some(&stamp) {
        return Ok(cursor.clone());
    }
    let since: Option<i128> = cursor.get("since").and_then(|s| s.parse().ok());
    let files = crate::mail::maildir_files(dir)
        .map_err(|e| format!("{}: cannot list maildir: {e}", dir.display()))?;
    for path in files {
        if let Some(since) = since {
            // gone since the listing: nothing to read
            match std::fs::metadata(&path) {
                Err(_) => continue,
                Ok(m) if ctime(&m) < since - SLACK_NS => continue,
                Ok(_) => {}
            }
        }
        let origin = crate::mail::Origin::Maildir { path: path.clone() };
        take(polled, crate::mail::read_single_file(&path, opts, origin));
    }
    let mut next = crate::mail::public_inbox::Cursor::new();
    next.insert("since".into(), started.to_string());
    if times
        .iter()
        .all(|t| t.is_none_or(|t| t < started - SLACK_NS))
    {
        next.insert("stamp".into(), stamp);
    }
    Ok(next)
}

fn take(polled: &mut Polled, raw: Result<RawMessage, crate::mail::ReadError>) {
    polled.read += 1;
    match raw {
        // a removal, or a commit that erased its message (public-inbox-purge)
        Ok(r) if r.removed || r.bytes.iter().all(u8::is_ascii_whitespace) => {}
        Ok(r) => {
            let id = message_id(&r.bytes);
            polled.messages.push((id, r.bytes));
        }
        Err(e) => polled.errors.push(e.to_string()),
    }
}

/// A ref's commit, read from the repository's files (no process): loose,
/// then packed refs, following HEAD's symbolic ref.
fn rev_parse(git_dir: &Path, name: &str) -> Option<String> {
    let mut name = name.to_string();
    for _ in 0..5 {
        if let Ok(t) = std::fs::read_to_string(git_dir.join(&name)) {
            let t = t.trim();
            if let Some(r) = t.strip_prefix("ref: ") {
                name = r.to_string();
                continue;
            }
            return Some(t.to_string());
        }
        let packed = std::fs::read_to_string(git_dir.join("packed-refs")).ok()?;
        return packed.lines().find_map(|l| {
            let (id, r) = l.split_once(' ')?;
            (r == name).then(|| id.to_string())
        });
    }
    None
}

/// Poll a public-inbox server: its manifest (conditional), then `git fetch`
/// of each epoch whose fingerprint changed. Whether anything was fetched.
fn fetch_http(
    base: &str,
    mirror: &Path,
    v: &mut Validators,
    http: &mut Http,
) -> Result<bool, String> {
    let url = format!("{base}manifest.js.gz");
    let have_mirror = crate::mail::public_inbox::epochs(mirror).is_ok();
    let asked = if have_mirror {
        v.clone()
    } else {
        Validators::default()
    };
    let Some((body, etag, modified)) = http.get_conditional(&url, &asked)? else {
        return Ok(false);
    };
    let text = gunzip(&body).map_err(|e| format!("{url}: {e}"))?;
    let manifest: BTreeMap<String, serde_json::Value> = serde_json::from_slice(&text)
        .map_err(|e| format!("{url}: not a grokmirror manifest ({e})"))?;
    // the server's root: scheme://host[:port]
    let root = {
        let after = base.find("://").map_or(0, |i| i + 3);
        let end = base[after..].find('/').map_or(base.len(), |i| after + i);
        &base[..end]
    };
    let mut epochs: Vec<(u32, String, String)> = manifest
        .iter()
        .filter_map(|(path, meta)| {
            let n: u32 = path
                .strip_suffix(".git")?
                .rsplit_once("/git/")?
                .1
                .parse()
                .ok()?;
            let fp = meta
                .get("fingerprint")
                .and_then(|f| f.as_str())
                .unwrap_or_default()
                .to_string();
            Some((n, format!("{root}{path}"), fp))
        })
        .collect();
    epochs.sort();
    if epochs.is_empty() {
        return Err(format!("{url}: the manifest names no epochs (git/N.git)"));
    }
    let mut fetched = false;
    for (n, epoch_url, fp) in epochs {
        let dir = mirror.join("git").join(format!("{n}.git"));
        if v.fingerprints.get(&n.to_string()) == Some(&fp) && !fp.is_empty() && dir.is_dir() {
            continue;
        }
        if !dir.is_dir() {
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let ok = crate::git::command(&dir)
                .args([
                    "-c",
                    "init.defaultBranch=master",
                    "init",
                    "--bare",
                    "--quiet",
                ])
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return Err(format!("cannot make the mirror {}", dir.display()));
            }
        }
        http.pace();
        let out = crate::git::fetch_command(&dir, &http.agent, http.timeout)
            .args(["fetch", "--quiet", "--no-tags", "--force"])
            .arg(&epoch_url)
            .arg("+HEAD:refs/heads/master")
            .output()
            .map_err(|e| format!("cannot run git fetch: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "git fetch {epoch_url}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        v.fingerprints.insert(n.to_string(), fp);
        fetched = true;
    }
    v.etag = etag;
    v.last_modified = modified;
    Ok(fetched)
}

fn gunzip(b: &[u8]) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(b)
        .take(256 << 20)
        .read_to_end(&mut out)
        .map_err(|e| format!("not valid gzip ({e})"))?;
    Ok(out)
}

/// A series ready for review: what to run and how to find it again.
#[derive(Debug, Clone)]
pub struct Job {
    pub source: String,
    pub anchor: String,
    pub title: String,
    pub version: u32,
    /// The series' messages (cover, patches, replies) as an mbox (mboxrd).
    pub mbox: Vec<u8>,
    /// Whether parts are missing (reviewed after the grace period).
    pub partial: bool,
    /// The row to record the result in.
    pub row: Watched,
}

/// What [`plan`] found on a source.
#[derive(Debug, Default)]
pub struct Plan {
    pub jobs: Vec<Job>,
    /// Series waiting for parts.
    pub waiting: usize,
    /// Series there before the source was first read (not reviewed).
    pub backlog: usize,
    /// Messages that could not be read.
    pub errors: Vec<String>,
}

/// Decide, for every series of a source, whether it is ready: complete, or
/// parts missing and its last part older than the grace period. `first` is
/// the source's first round and `skip_backlog` says to leave what was there
/// unreviewed. Rows of series that changed are recorded; a job's row is
/// recorded by [`finish`].
pub fn plan(
    store: &mut Store,
    cfg: &Config,
    source: &str,
    now: i64,
    first: bool,
    skip_backlog: bool,
) -> Result<Plan, String> {
    let report = assemble_source(store, cfg, source)?;
    let arrivals = store.arrivals(source).map_err(|e| e.to_string())?;
    let known = store.watched(source).map_err(|e| e.to_string())?;
    let grace = cfg.watch.grace_minutes as i64 * 60;
    let mut plan = Plan {
        errors: report.errors.iter().map(|e| e.to_string()).collect(),
        ..Default::default()
    };
    for s in &report.series {
        if s.patches.is_empty() {
            continue;
        }
        let anchor = s
            .cover
            .as_ref()
            .and_then(|c| c.message_id.as_deref())
            .or_else(|| s.patches.iter().find_map(|p| p.message_id.as_deref()));
        let Some(anchor) = anchor else { continue };
        let parts: Vec<&str> = s
            .patches
            .iter()
            .filter_map(|p| p.message_id.as_deref())
            .collect();
        let parts = parts.join("\n");
        let last_arrival = s
            .cover
            .iter()
            .filter_map(|c| c.message_id.as_deref())
            .chain(s.patches.iter().filter_map(|p| p.message_id.as_deref()))
            .filter_map(|id| arrivals.get(id).copied())
            .max()
            .unwrap_or(now);
        let missing: Vec<String> = s.missing.iter().map(|n| n.to_string()).collect();
        let before = known.get(anchor);
        let mut row = Watched {
            source: source.to_string(),
            anchor: anchor.to_string(),
            key: s.key(),
            version: s.version,
            title: s.title.to_string(),
            author: s.author.as_ref().map(|a| a.to_string()).unwrap_or_default(),
            parts: parts.clone(),
            total: s.total,
            missing: missing.join(","),
            last_arrival,
            state: "waiting".into(),
            reviewed_parts: before.and_then(|b| b.reviewed_parts.clone()),
            result: before.and_then(|b| b.result.clone()),
            updated: now,
            attempts: before
                .filter(|b| b.parts == parts)
                .map_or(0, |b| b.attempts),
        };
        match before {
            // reviewed with these parts: done (a late reply changes nothing here)
            Some(b) if b.state == "reviewed" && b.reviewed_parts.as_deref() == Some(&parts) => {
                continue
            }
            Some(b) if b.state == "backlog" && b.parts == parts => {
                plan.backlog += 1;
                continue;
            }
            Some(b) if b.state == "gave-up" && b.parts == parts => continue,
            None if first && skip_backlog => {
                row.state = "backlog".into();
                store.set_watched(&row).map_err(|e| e.to_string())?;
                plan.backlog += 1;
                continue;
            }
            _ => {}
        }
        let complete = s.missing.is_empty();
        let due = complete || (grace > 0 && now - last_arrival >= grace);
        if !due {
            plan.waiting += 1;
            if before.is_none_or(|b| b.parts != row.parts || b.state != "waiting") {
                store.set_watched(&row).map_err(|e| e.to_string())?;
            }
            continue;
        }
        plan.jobs.push(Job {
            source: source.to_string(),
            anchor: anchor.to_string(),
            title: s.title.to_string(),
            version: s.version,
            mbox: series_mbox(store, source, s).map_err(|e| e.to_string())?,
            partial: !complete,
            row,
        });
    }
    // oldest first
    plan.jobs
        .sort_by(|a, b| (a.row.last_arrival, &a.anchor).cmp(&(b.row.last_arrival, &b.anchor)));
    Ok(plan)
}

/// The series of everything a source has taken in.
pub fn assemble_source(
    store: &Store,
    cfg: &Config,
    source: &str,
) -> Result<crate::series::Report, String> {
    let name: std::sync::Arc<str> = source.into();
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let assembled = crate::assemble_stream(cfg, workers, &mut |_opts, f| {
        store
            .each_message(source, |id, _, bytes| {
                f(Ok(RawMessage {
                    origin: Origin::Stored {
                        source: name.clone(),
                        message_id: id.into(),
                    },
                    bytes,
                    removed: false,
                }))
            })
            .map_err(|e| crate::input::InputError::Unreadable(e.to_string()))
    })
    .map_err(|e| e.to_string())?;
    Ok(assembled.report())
}

/// The messages of a series (cover, patches, and the replies to them) as an
/// mbox, from the store.
fn series_mbox(
    store: &Store,
    source: &str,
    s: &crate::series::Series,
) -> Result<Vec<u8>, StateError> {
    let mut ids: Vec<&str> = Vec::new();
    if let Some(c) = &s.cover {
        ids.extend(c.message_id.as_deref());
    }
    ids.extend(s.replies.iter().filter_map(|r| r.message_id.as_deref()));
    for p in &s.patches {
        ids.extend(p.message_id.as_deref());
        ids.extend(p.replies.iter().filter_map(|r| r.message_id.as_deref()));
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for id in ids {
        if !seen.insert(id) {
            continue;
        }
        if let Some(raw) = store.message(source, id)? {
            out.extend_from_slice(b"From patchbot-watch Thu Jan  1 00:00:00 1970\n");
            for line in raw.split_inclusive(|&b| b == b'\n') {
                let t = line.iter().position(|&b| b != b'>').unwrap_or(line.len());
                if line[t..].starts_with(b"From ") {
                    out.push(b'>');
                }
                out.extend_from_slice(line);
            }
            if !raw.ends_with(b"\n") {
                out.push(b'\n');
            }
            out.push(b'\n');
        }
    }
    Ok(out)
}

/// Reviews of the same parts that may fail in a row before the series is
/// left alone (`gave-up`) until its parts change.
pub const MAX_ATTEMPTS: u32 = 3;

/// Record what reviewing a job gave: `reviewed` with the review's summary,
/// or `failed` with why (planned again next round; `gave-up` after
/// [`MAX_ATTEMPTS`]).
pub fn finish(
    store: &mut Store,
    job: &Job,
    result: Result<String, String>,
) -> Result<(), StateError> {
    let mut row = job.row.clone();
    match result {
        Ok(summary) => {
            row.state = "reviewed".into();
            row.reviewed_parts = Some(row.parts.clone());
            row.result = Some(summary);
            row.attempts = 0;
        }
        Err(why) => {
            row.attempts += 1;
            let then = if row.attempts >= MAX_ATTEMPTS {
                row.state = "gave-up".into();
                format!(
                    "{} attempts; not again until the series changes",
                    row.attempts
                )
            } else {
                row.state = "failed".into();
                format!("attempt {} of {MAX_ATTEMPTS}", row.attempts)
            };
            row.result = Some(why.clone());
            store.event(
                "error",
                &job.source,
                &format!(
                    "review of v{} {} failed ({then}): {why}",
                    job.version, job.title
                ),
            )?;
        }
    }
    store.set_watched(&row)
}

/// How long a source waits before its next round: its interval, doubled per
/// failed round in a row, at most `max_backoff`.
pub fn wait_for(interval: u64, failures: u32, max_backoff: u64) -> Duration {
    let base = interval.max(1);
    let n = base.saturating_mul(1u64 << failures.min(20));
    Duration::from_secs(if failures == 0 {
        base
    } else {
        n.min(max_backoff.max(base))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_and_is_capped() {
        assert_eq!(wait_for(60, 0, 3600), Duration::from_secs(60));
        assert_eq!(wait_for(60, 1, 3600), Duration::from_secs(120));
        assert_eq!(wait_for(60, 3, 3600), Duration::from_secs(480));
        assert_eq!(wait_for(60, 30, 3600), Duration::from_secs(3600));
    }

    #[test]
    fn a_message_without_an_id_gets_a_stable_one() {
        assert_eq!(message_id(b"Message-ID: <a@b>\n\nx"), "a@b");
        let a = message_id(b"Subject: x\n\nbody");
        assert_eq!(a, message_id(b"Subject: x\n\nbody"));
        assert_ne!(a, message_id(b"Subject: y\n\nbody"));
    }

    #[test]
    fn refs_are_read_loose_packed_and_symbolic() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("HEAD"), "ref: refs/heads/master\n").unwrap();
        std::fs::write(
            d.path().join("packed-refs"),
            "# pack-refs\nabc refs/heads/master\n",
        )
        .unwrap();
        assert_eq!(rev_parse(d.path(), "HEAD").as_deref(), Some("abc"));
        std::fs::create_dir_all(d.path().join("refs/heads")).unwrap();
        std::fs::write(d.path().join("refs/heads/master"), "def\n").unwrap();
        assert_eq!(rev_parse(d.path(), "HEAD").as_deref(), Some("def"));
    }
}
