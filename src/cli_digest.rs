//! `patchbot digest`: gather the open series of every watched source from
//! the state store, judge them with [`patchbot::digest`] against the tree's
//! MAINTAINERS, print or send.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use patchbot::config::Config;
use patchbot::digest::{self, Entry, Item, PatchItem, Reviewed};
use patchbot::state::Store;

use super::{print, INPUT, OK, POST_FAILED, USAGE};

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestFormat {
    Text,
    Html,
    Json,
    /// Send it through the email sink ([post.email]), plain text.
    Email,
}

pub struct DigestFlags {
    pub since: Option<String>,
    pub maintainer: Option<String>,
    pub format: DigestFormat,
    pub tree: Option<PathBuf>,
    pub record: bool,
}

/// Seconds since the epoch of `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub fn parse_date(s: &str) -> Option<i64> {
    let (d, t) = s.split_once('T').unwrap_or((s, ""));
    let mut p = d.split('-');
    let (y, m, day): (i64, i64, i64) = (
        p.next()?.parse().ok()?,
        p.next()?.parse().ok()?,
        p.next()?.parse().ok()?,
    );
    if p.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let secs = if t.is_empty() {
        0
    } else {
        let t = t.strip_suffix('Z').unwrap_or(t);
        let mut q = t.split(':');
        let (h, mi, se): (i64, i64, i64) = (
            q.next()?.parse().ok()?,
            q.next()?.parse().ok()?,
            q.next().unwrap_or("0").parse().ok()?,
        );
        if h > 23 || mi > 59 || se > 60 {
            return None;
        }
        h * 3600 + mi * 60 + se
    };
    // days from civil (Howard Hinnant)
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400 + secs)
}

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

/// The tree's MAINTAINERS (an empty one when it has none).
fn maintainers_of(tree: &Path) -> Result<patchbot::maintainers::Maintainers, String> {
    use patchbot::tree::vfs::Vfs;
    let source = patchbot::tree::TreeSource::open(tree).map_err(|e| e.to_string())?;
    let commit = match &source {
        patchbot::tree::TreeSource::Snapshot { commit, .. } => commit.clone(),
        patchbot::tree::TreeSource::Repo(r) => r
            .commit("HEAD")
            .ok_or_else(|| format!("{}: no HEAD commit", tree.display()))?,
    };
    let vfs =
        patchbot::tree::vfs::GitTreeVfs::new(source.repo(), &commit).map_err(|e| e.to_string())?;
    let text = match vfs.read("MAINTAINERS") {
        Ok(t) => String::from_utf8_lossy(&t).into_owned(),
        Err(_) => String::new(),
    };
    let is_dir = |p: &str| vfs.list(p).is_ok();
    Ok(patchbot::maintainers::Maintainers::parse(&text, &is_dir))
}

/// Every series of every watched source, as the digest sees it.
fn gather(cfg: &Config, store: &Store) -> Result<Vec<Item>, String> {
    let mut items: Vec<Item> = Vec::new();
    for src in store.sources().map_err(|e| e.to_string())? {
        let report = patchbot::watch::assemble_source(store, cfg, &src.name)?;
        let arrivals = store.arrivals(&src.name).map_err(|e| e.to_string())?;
        let rows = store.watched(&src.name).map_err(|e| e.to_string())?;
        for s in &report.series {
            if s.patches.is_empty() {
                continue;
            }
            let Some(anchor) = s
                .cover
                .as_ref()
                .and_then(|c| c.message_id.as_deref())
                .or_else(|| s.patches.iter().find_map(|p| p.message_id.as_deref()))
            else {
                continue;
            };
            let ids = || {
                s.cover
                    .iter()
                    .filter_map(|c| c.message_id.as_deref())
                    .chain(s.patches.iter().filter_map(|p| p.message_id.as_deref()))
            };
            let at = |id: &str| arrivals.get(id).copied();
            let first_seen = ids().filter_map(at).min().unwrap_or_default();
            let replies = s
                .replies
                .iter()
                .chain(s.patches.iter().flat_map(|p| p.replies.iter()))
                .filter_map(|r| r.message_id.as_deref());
            let last_activity = ids()
                .chain(replies)
                .filter_map(at)
                .max()
                .unwrap_or(first_seen);
            let key = s.key();
            let row = rows.get(anchor);
            let reviewed = if row
                .is_some_and(|r| r.result.as_deref() == Some("does not apply; not reviewed"))
            {
                Some(Reviewed::default())
            } else {
                let f = store
                    .findings_of(&key, s.version)
                    .map_err(|e| e.to_string())?;
                match f {
                    None => None,
                    Some(open) => {
                        let prev = store
                            .previous_findings(&key, s.version)
                            .map_err(|e| e.to_string())?;
                        let resolved = prev.map_or(0, |(_, old)| {
                            old.iter()
                                .filter(|(fp, _, _)| !open.iter().any(|o| &o[0] == fp))
                                .count()
                        });
                        Some(Reviewed {
                            applies: true,
                            open: open.into_iter().map(|[_, r, _, m]| (r, m)).collect(),
                            resolved,
                        })
                    }
                }
            };
            items.push(Item {
                source: src.name.clone(),
                message_id: anchor.to_string(),
                key,
                title: s.title.to_string(),
                version: s.version,
                author: s.author.as_ref().map(|a| a.to_string()).unwrap_or_default(),
                patches: s
                    .patches
                    .iter()
                    .map(|p| PatchItem {
                        counter: p.counter,
                        subject: p.subject.to_string(),
                        files: p.files.iter().map(|f| f.to_string()).collect(),
                        trailers: p
                            .trailers
                            .iter()
                            .filter(|t| t.trailer.is_person())
                            .map(|t| {
                                (
                                    t.trailer.name.to_string(),
                                    t.trailer.value.to_string(),
                                    t.trailer.extinfo.as_deref().and_then(|x| {
                                        let a = x.trim().strip_prefix('#')?.trim();
                                        (!a.is_empty()).then(|| a.to_string())
                                    }),
                                )
                            })
                            .collect(),
                    })
                    .collect(),
                first_seen,
                last_activity,
                missing: s.missing.clone(),
                reviewed,
                superseded_by: None,
            });
        }
    }
    // a newer version of the same series supersedes the older ones
    let mut newest: BTreeMap<String, u32> = BTreeMap::new();
    for i in &items {
        let v = newest.entry(i.key.clone()).or_insert(i.version);
        *v = (*v).max(i.version);
    }
    for i in &mut items {
        let n = newest[&i.key];
        if n > i.version {
            i.superseded_by = Some(n);
        }
    }
    Ok(items)
}

pub fn digest_cmd(cfg: &Config, flags: DigestFlags) -> u8 {
    let Some(path) = cfg.post.state_path() else {
        eprintln!("patchbot: no state store: set [post] state, XDG_STATE_HOME or HOME");
        return USAGE;
    };
    if !path.exists() {
        eprintln!(
            "patchbot: no state store at {} yet: the digest is of what `patchbot watch` took in",
            path.display()
        );
        return INPUT;
    }
    let since = match flags.since.as_deref().map(|s| (s, parse_date(s))) {
        None => None,
        Some((_, Some(t))) => Some(t),
        Some((s, None)) => {
            eprintln!("patchbot: --since {s}: a date, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
            return USAGE;
        }
    };
    let tree = flags.tree.clone().or_else(|| {
        [&cfg.digest.tree, &cfg.watch.tree]
            .into_iter()
            .find(|t| !t.is_empty())
            .map(PathBuf::from)
    });
    let Some(tree) = tree else {
        eprintln!("patchbot: digest needs the tree whose MAINTAINERS it groups by: --tree, [digest] tree or [watch] tree");
        return USAGE;
    };
    let m = match maintainers_of(&tree) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("patchbot: {e}");
            return INPUT;
        }
    };
    let mut store = match Store::open(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("patchbot: {e}");
            return INPUT;
        }
    };
    let items = match gather(cfg, &store) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("patchbot: {e}");
            return INPUT;
        }
    };
    let at = now();
    let mut entries = digest::evaluate(&items, &m, at, cfg.digest.stale_days);
    if let Some(t) = since {
        entries.retain(|e| e.item.last_activity >= t);
    }
    if let Some(who) = &flags.maintainer {
        entries = digest::for_maintainer(&entries, who);
    }
    let target = flags
        .maintainer
        .as_deref()
        .map(patchbot::maintainers::address_of)
        .unwrap_or_else(|| "all".into());
    if flags.format == DigestFormat::Email {
        return send(cfg, &mut store, &entries, at, flags.maintainer.as_deref());
    }
    let changes = match last_changes(&store, &target, &entries) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("patchbot: {e}");
            return INPUT;
        }
    };
    let title = match &flags.maintainer {
        Some(w) => format!("patchbot digest for {w}"),
        None => "patchbot digest".to_string(),
    };
    let code = match flags.format {
        DigestFormat::Text => print(&digest::text(&entries, &changes, at, &title)),
        DigestFormat::Html => print(&digest::html(&entries, &changes, at, &title)),
        _ => print(&super::json_string(&serde_json::json!({
            "at": patchbot::series::rfc3339(at),
            "changes": changes,
            "by_area": digest::by_area(&entries),
            "series": entries,
        }))),
    };
    if flags.record {
        if let Err(e) = record(&mut store, &target, at, &entries) {
            eprintln!("patchbot: {e}");
            return INPUT;
        }
    }
    code
}

fn last_changes(store: &Store, target: &str, entries: &[Entry]) -> Result<digest::Changes, String> {
    let before = store.last_digest(target).map_err(|e| e.to_string())?;
    let before = before.and_then(|(at, snap)| Some((at, serde_json::from_str(&snap).ok()?)));
    Ok(digest::changes(before, entries))
}

fn record(store: &mut Store, target: &str, at: i64, entries: &[Entry]) -> Result<(), String> {
    let snap = serde_json::to_string(&digest::snapshot(entries)).unwrap_or_default();
    store
        .record_digest(target, at, &snap)
        .map_err(|e| e.to_string())
}

/// `--format email`: one digest per maintainer of the series' areas (or the
/// one `--maintainer` names), or one to the list (`[digest] to = "list"`).
fn send(cfg: &Config, store: &mut Store, entries: &[Entry], at: i64, only: Option<&str>) -> u8 {
    let Some(path) = cfg.post.state_path() else {
        return USAGE;
    };
    let transport = match patchbot::post::Transport::from_config(
        &cfg.post.email,
        path.parent().unwrap_or(Path::new(".")),
    ) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("patchbot: {e}");
            return USAGE;
        }
    };
    // one poster at a time per store, and what an earlier run left goes first
    let _posting = match patchbot::state::lock(&path.with_extension("post.lock"), true) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("patchbot: {e}");
            return INPUT;
        }
    };
    if let Err(e) = patchbot::post::settle(store, &transport, &cfg.post.from) {
        eprintln!("patchbot: {e}");
        return POST_FAILED;
    }
    let mut targets: Vec<(String, Vec<Entry>)> = Vec::new();
    if cfg.digest.to == "list" && only.is_none() {
        if cfg.digest.list.is_empty() {
            eprintln!("patchbot: [digest] to = \"list\" needs [digest] list, the list's address");
            return USAGE;
        }
        targets.push((cfg.digest.list.clone(), entries.to_vec()));
    } else {
        let mut people: Vec<String> = entries
            .iter()
            .flat_map(|e| e.maintainers.iter().cloned())
            .collect();
        people.sort();
        people.dedup();
        if let Some(o) = only {
            people = vec![patchbot::maintainers::address_of(o)];
        }
        for p in people {
            let mine = digest::for_maintainer(entries, &p);
            if !mine.is_empty() {
                targets.push((p, mine));
            }
        }
    }
    let day = patchbot::series::rfc3339(at)[..10].to_string();
    let mut failed = false;
    for (to, mine) in targets {
        let target = patchbot::maintainers::address_of(&to);
        let changes = match last_changes(store, &target, &mine) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("patchbot: {e}");
                return INPUT;
            }
        };
        let open = mine
            .iter()
            .filter(|e| e.action != digest::Action::Superseded)
            .count();
        let title = format!("patchbot digest for {to}, {day}: {open} open series");
        let body = digest::text(&mine, &changes, at, &title);
        // one digest per recipient per day
        let key = patchbot::cache::digest(&format!("digest\n{target}\n{day}"));
        let own_id = patchbot::post::message_id(&key, &cfg.post.from);
        let msg = format!(
            "From: {}\nTo: {to}\nSubject: {title}\nDate: {}\nMessage-ID: {own_id}\nAuto-Submitted: auto-generated\nX-Auto-Response-Suppress: All\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n{body}",
            cfg.post.from,
            patchbot::post::rfc5322_date(at)
        );
        match patchbot::post::post_email(
            store,
            &transport,
            &key,
            &format!("digest:{target}"),
            &cfg.post.from,
            std::slice::from_ref(&target),
            msg.as_bytes(),
        ) {
            Ok(outcomes) => {
                for o in outcomes {
                    match o {
                        patchbot::post::Outcome::Sent { message_id, .. } => {
                            println!("Sent the digest to {to} ({message_id})")
                        }
                        patchbot::post::Outcome::AlreadyPosted { .. } => {
                            println!("Not sent again: {to} had today's digest")
                        }
                        _ => {}
                    }
                }
                if let Err(e) = record(store, &target, at, &mine) {
                    eprintln!("patchbot: {e}");
                    failed = true;
                }
            }
            Err(e) => {
                eprintln!("patchbot: cannot send the digest to {to}: {e}");
                failed = true;
            }
        }
    }
    if failed {
        POST_FAILED
    } else {
        OK
    }
}

#[cfg(test)]
mod tests {
    use super::parse_date;

    #[test]
    fn dates_parse_to_utc_seconds() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2024-03-01"), Some(1_709_251_200));
        assert_eq!(parse_date("2024-03-01T01:02:03Z"), Some(1_709_254_923));
        assert_eq!(parse_date("2024-13-01"), None);
        assert_eq!(parse_date("yesterday"), None);
    }
}
