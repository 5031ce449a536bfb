//! The maintainers' triage digest: every open series of the watched lists,
//! what it needs next, grouped by the action needed.
//!
//! [`evaluate`] is pure: series as the state store and the archive know them
//! ([`Item`]), the tree's MAINTAINERS, the time → one [`Entry`] per series
//! with its [`Action`]. The approval rules are Xen's (MAINTAINERS, "Check-in
//! policy" and "The meaning of nesting"): every file a patch touches needs
//! the approval of a maintainer (`M:`) of the most specific sections that
//! cover it — an `Acked-by` (or a `Reviewed-by`) from one of them, or the
//! patch's author being one —, and every patch needs approval from someone
//! other than its author (an ack from a maintainer of any section covering
//! it, or anyone's `Reviewed-by`). An ack scoped with `# area` counts only
//! for sections whose name or file patterns mention the area. Sections are
//! found as get_maintainer finds them (`F:`/`X:`/`N:`), so THE REST covers
//! what nothing more specific does.

use std::collections::{BTreeMap, BTreeSet};

use crate::maintainers::{address_of, Maintainers};

/// One version of a series, as the digest sees it.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Item {
    pub source: String,
    /// The Message-ID of its cover letter, else of its first patch.
    pub message_id: String,
    /// The series' identity across versions.
    #[serde(skip)]
    pub key: String,
    pub title: String,
    pub version: u32,
    pub author: String,
    pub patches: Vec<PatchItem>,
    /// When its first part arrived, and when anything of it last did
    /// (replies included); seconds since the epoch.
    pub first_seen: i64,
    pub last_activity: i64,
    /// Parts announced and not there.
    pub missing: Vec<u32>,
    /// The review's verdict: None when not reviewed (yet).
    pub reviewed: Option<Reviewed>,
    /// A newer version of the same series is on the list.
    pub superseded_by: Option<u32>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PatchItem {
    pub counter: u32,
    pub subject: String,
    pub files: Vec<String>,
    /// (trailer name, the person's `Name <address>`, its `# area` if any).
    pub trailers: Vec<(String, String, Option<String>)>,
}

/// What patchbot's review of the version said.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Reviewed {
    pub applies: bool,
    /// Findings of this version: (rule, message).
    pub open: Vec<(String, String)>,
    /// Findings of the previous version this one resolved.
    pub resolved: usize,
}

/// What a series needs next (the digest's sections, in order).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    ReadyToCommit,
    NeedsAck,
    NeedsReview,
    FindingsOpen,
    DoesNotApply,
    Stale,
    Superseded,
}

impl Action {
    pub const ALL: [Action; 7] = [
        Action::ReadyToCommit,
        Action::NeedsAck,
        Action::NeedsReview,
        Action::FindingsOpen,
        Action::DoesNotApply,
        Action::Stale,
        Action::Superseded,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Action::ReadyToCommit => "ready-to-commit",
            Action::NeedsAck => "needs-ack",
            Action::NeedsReview => "needs-review",
            Action::FindingsOpen => "findings-open",
            Action::DoesNotApply => "does-not-apply",
            Action::Stale => "stale",
            Action::Superseded => "superseded",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Action::ReadyToCommit => "Ready to commit",
            Action::NeedsAck => "Needs an ack",
            Action::NeedsReview => "Needs review",
            Action::FindingsOpen => "Findings open",
            Action::DoesNotApply => "Does not apply",
            Action::Stale => "Stale",
            Action::Superseded => "Superseded",
        }
    }
}

/// A series in the digest: its item, what it needs, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Entry {
    #[serde(flatten)]
    pub item: Item,
    pub action: Action,
    /// The most specific MAINTAINERS sections of the files it touches.
    pub areas: Vec<String>,
    /// Trailers collected, as `Acked-by: Name <a> # area`.
    pub trailers: Vec<String>,
    /// Per area still unapproved: the maintainers who can approve it.
    pub needs_ack_from: BTreeMap<String, Vec<String>>,
    /// The addresses of every maintainer of its areas (for per-maintainer digests).
    #[serde(skip)]
    pub maintainers: BTreeSet<String>,
}

/// Judge every item (oldest first inside each action).
pub fn evaluate(items: &[Item], m: &Maintainers, now: i64, stale_days: u64) -> Vec<Entry> {
    let mut out: Vec<Entry> = items.iter().map(|i| judge(i, m, now, stale_days)).collect();
    out.sort_by(|a, b| {
        (a.action, a.item.first_seen, &a.item.message_id).cmp(&(
            b.action,
            b.item.first_seen,
            &b.item.message_id,
        ))
    });
    out
}

/// The sections that must approve a change to `file`: the most specific
/// that cover it (all of equal depth).
fn approvers(m: &Maintainers, file: &str) -> Vec<usize> {
    let hits = m.sections_with_depth(file);
    let Some(best) = hits.iter().map(|(d, _)| *d).max() else {
        return Vec::new();
    };
    hits.into_iter()
        .filter(|(d, _)| *d == best)
        .map(|(_, i)| i)
        .collect()
}

/// Whether an ack scoped to `area` counts for section `i`.
fn in_scope(m: &Maintainers, i: usize, area: Option<&str>) -> bool {
    let Some(area) = area
        .map(|a| a.trim().to_ascii_lowercase())
        .filter(|a| !a.is_empty())
    else {
        return true;
    };
    let s = &m.sections[i];
    s.name.to_ascii_lowercase().contains(&area)
        || s.lines
            .iter()
            .any(|(t, v)| (*t == 'F' || *t == 'N') && v.to_ascii_lowercase().contains(&area))
}

fn judge(item: &Item, m: &Maintainers, now: i64, stale_days: u64) -> Entry {
    let author = address_of(&item.author);
    let mut areas: Vec<String> = Vec::new();
    let mut needs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut maintainers = BTreeSet::new();
    let mut trailers: Vec<String> = Vec::new();
    let mut any_review = false;
    let mut every_patch_ok = !item.patches.is_empty();
    for p in &item.patches {
        // (address, kind, area) of the approving trailers
        let approvals: Vec<(String, String, Option<String>)> = p
            .trailers
            .iter()
            .filter(|(n, _, _)| {
                let n = n.to_ascii_lowercase();
                n == "acked-by" || n == "reviewed-by"
            })
            .map(|(n, who, area)| (address_of(who), n.to_ascii_lowercase(), area.clone()))
            .filter(|(a, _, _)| *a != author)
            .collect();
        for (n, who, area) in &p.trailers {
            let t = match area {
                Some(a) => format!("{n}: {who} # {a}"),
                None => format!("{n}: {who}"),
            };
            if !trailers.contains(&t) {
                trailers.push(t);
            }
        }
        any_review |= !approvals.is_empty();
        // #2: someone other than the author approves: anyone's review, or an
        // ack from a maintainer of any section covering the patch
        let mut other_ok = approvals.iter().any(|(_, k, _)| k == "reviewed-by");
        let mut files_ok = true;
        for f in &p.files {
            let all: Vec<usize> = m.sections_for(f);
            for &i in &all {
                if approvals.iter().any(|(a, _, area)| {
                    m.sections[i].maintainers().any(|x| address_of(x) == *a)
                        && in_scope(m, i, area.as_deref())
                }) {
                    other_ok = true;
                }
            }
            let need = approvers(m, f);
            for &i in &need {
                let s = &m.sections[i];
                if !areas.contains(&s.name) {
                    areas.push(s.name.clone());
                }
                maintainers.extend(s.maintainers().map(address_of));
            }
            // #1: a maintainer of the most specific section approves (or wrote it)
            let approved = need.is_empty()
                || need.iter().any(|&i| {
                    let ms: Vec<String> = m.sections[i].maintainers().map(address_of).collect();
                    ms.contains(&author)
                        || approvals
                            .iter()
                            .any(|(a, _, area)| ms.contains(a) && in_scope(m, i, area.as_deref()))
                });
            if !approved {
                files_ok = false;
                for &i in &need {
                    let s = &m.sections[i];
                    let who: Vec<String> = s.maintainers().map(String::from).collect();
                    needs.entry(s.name.clone()).or_insert(who);
                }
            }
        }
        every_patch_ok &= files_ok && other_ok;
    }
    let stale = now - item.last_activity > stale_days as i64 * 86_400;
    let action = if item.superseded_by.is_some() {
        Action::Superseded
    } else if item.reviewed.as_ref().is_some_and(|r| !r.applies) {
        Action::DoesNotApply
    } else if item.reviewed.as_ref().is_some_and(|r| !r.open.is_empty()) {
        Action::FindingsOpen
    } else if every_patch_ok && item.missing.is_empty() {
        Action::ReadyToCommit
    } else if stale {
        Action::Stale
    } else if any_review {
        Action::NeedsAck
    } else {
        Action::NeedsReview
    };
    Entry {
        item: item.clone(),
        action,
        areas,
        trailers,
        needs_ack_from: needs,
        maintainers,
    }
}

/// Keep the entries of series in areas `who` maintains.
pub fn for_maintainer(entries: &[Entry], who: &str) -> Vec<Entry> {
    let who = address_of(who);
    entries
        .iter()
        .filter(|e| e.maintainers.contains(&who))
        .cloned()
        .collect()
}

/// How a series' place changed since an earlier digest (anchor → action).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Changes {
    /// When the earlier digest was made (None: there was none).
    pub since: Option<i64>,
    pub new: Vec<String>,
    /// (title, from, to).
    pub moved: Vec<(String, Action, Action)>,
    /// Titles no longer open.
    pub gone: Vec<String>,
}

/// The snapshot of a digest: anchor → (action, title).
pub type Snapshot = BTreeMap<String, (Action, String)>;

/// The snapshot of these entries.
pub fn snapshot(entries: &[Entry]) -> Snapshot {
    entries
        .iter()
        .map(|e| {
            (
                e.item.message_id.clone(),
                (e.action, format!("v{} {}", e.item.version, e.item.title)),
            )
        })
        .collect()
}

/// What changed between an earlier snapshot and these entries.
pub fn changes(before: Option<(i64, Snapshot)>, entries: &[Entry]) -> Changes {
    let Some((at, before)) = before else {
        return Changes::default();
    };
    let now = snapshot(entries);
    let mut c = Changes {
        since: Some(at),
        ..Default::default()
    };
    for (id, (a, title)) in &now {
        match before.get(id) {
            None => c.new.push(title.clone()),
            Some((b, _)) if b != a => c.moved.push((title.clone(), *b, *a)),
            _ => {}
        }
    }
    for (id, (_, title)) in &before {
        if !now.contains_key(id) {
            c.gone.push(title.clone());
        }
    }
    c
}

fn age(now: i64, then: i64) -> String {
    let d = (now - then).max(0);
    if d >= 86_400 {
        format!("{}d", d / 86_400)
    } else if d >= 3600 {
        format!("{}h", d / 3600)
    } else {
        format!("{}m", d / 60)
    }
}

/// The open series grouped by maintainer area (the most specific MAINTAINERS
/// sections of the files they touch), areas in name order: area → (one line
/// per series with its action).
pub fn by_area(entries: &[Entry]) -> BTreeMap<String, Vec<(Action, String)>> {
    let mut out: BTreeMap<String, Vec<(Action, String)>> = BTreeMap::new();
    for e in entries.iter().filter(|e| e.action != Action::Superseded) {
        let what = format!("v{} {}", e.item.version, e.item.title);
        let areas: Vec<&str> = if e.areas.is_empty() {
            vec!["(no MAINTAINERS section)"]
        } else {
            e.areas.iter().map(String::as_str).collect()
        };
        for a in areas {
            out.entry(a.to_string())
                .or_default()
                .push((e.action, what.clone()));
        }
    }
    out
}

/// One line about a series.
fn line(e: &Entry, now: i64) -> String {
    let i = &e.item;
    let mut s = format!(
        "v{} {} ({}, {} patch{}, {} old)",
        i.version,
        i.title,
        i.author,
        i.patches.len(),
        if i.patches.len() == 1 { "" } else { "es" },
        age(now, i.first_seen)
    );
    match &i.reviewed {
        None => s.push_str("; not reviewed by patchbot"),
        Some(r) if !r.applies => s.push_str("; does not apply"),
        Some(r) => {
            s.push_str(&format!(
                "; applies; {} finding{} open",
                r.open.len(),
                if r.open.len() == 1 { "" } else { "s" }
            ));
            if r.resolved > 0 {
                s.push_str(&format!(
                    ", {} resolved since the previous version",
                    r.resolved
                ));
            }
        }
    }
    if !i.missing.is_empty() {
        let m: Vec<String> = i.missing.iter().map(|n| n.to_string()).collect();
        s.push_str(&format!("; parts {} missing", m.join(", ")));
    }
    s
}

/// The digest as plain text.
pub fn text(entries: &[Entry], changes: &Changes, now: i64, title: &str) -> String {
    let mut out = format!("{title}\n{}\n", "=".repeat(title.chars().count()));
    out.push_str(&format!(
        "{} open series, as of {}\n",
        entries
            .iter()
            .filter(|e| e.action != Action::Superseded)
            .count(),
        crate::series::rfc3339(now)
    ));
    if let Some(at) = changes.since {
        out.push_str(&format!(
            "\nSince the last digest ({}):\n",
            crate::series::rfc3339(at)
        ));
        if changes.new.is_empty() && changes.moved.is_empty() && changes.gone.is_empty() {
            out.push_str("  nothing changed\n");
        }
        for t in &changes.new {
            out.push_str(&format!("  new: {t}\n"));
        }
        for (t, a, b) in &changes.moved {
            out.push_str(&format!(
                "  {t}: {} -> {}\n",
                a.title().to_lowercase(),
                b.title().to_lowercase()
            ));
        }
        for t in &changes.gone {
            out.push_str(&format!("  no longer open: {t}\n"));
        }
    }
    let areas = by_area(entries);
    if !areas.is_empty() {
        out.push_str("\nBy area:\n");
        for (area, list) in &areas {
            out.push_str(&format!("  {area} ({})\n", list.len()));
            for (a, what) in list {
                out.push_str(&format!("    {what} [{}]\n", a.title().to_lowercase()));
            }
        }
    }
    for a in Action::ALL {
        let these: Vec<&Entry> = entries.iter().filter(|e| e.action == a).collect();
        if these.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{} ({})\n", a.title(), these.len()));
        for e in these {
            out.push_str(&format!("- {}\n", line(e, now)));
            if !e.areas.is_empty() {
                out.push_str(&format!("    areas: {}\n", e.areas.join(", ")));
            }
            for t in &e.trailers {
                out.push_str(&format!("    {t}\n"));
            }
            for (area, who) in &e.needs_ack_from {
                out.push_str(&format!(
                    "    needs an ack for {area} from {}\n",
                    who.join(" or ")
                ));
            }
            if let Some(r) = &e.item.reviewed {
                for (rule, msg) in &r.open {
                    out.push_str(&format!("    [{rule}] {msg}\n"));
                }
            }
            if let Some(v) = e.item.superseded_by {
                out.push_str(&format!("    superseded by v{v}\n"));
            }
            out.push_str(&format!("    <{}>\n", e.item.message_id));
        }
    }
    if entries.is_empty() {
        out.push_str("\nNo open series.\n");
    }
    out
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// The digest as one self-contained HTML page (no scripts, no external
/// resources).
pub fn html(entries: &[Entry], changes: &Changes, now: i64, title: &str) -> String {
    let mut o = String::new();
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    o.push_str(&format!("<title>{}</title>\n", esc(title)));
    o.push_str(
        "<style>\n\
         body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#1b1b1b;background:#fff}\n\
         h1{font-size:1.5em;margin-bottom:.2em} h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}\n\
         .meta{color:#555} table{border-collapse:collapse;width:100%} td,th{text-align:left;vertical-align:top;padding:.35em .5em;border-bottom:1px solid #eee}\n\
         th{font-weight:600;color:#333;background:#f6f6f6} .badge{display:inline-block;padding:0 .45em;border-radius:.6em;font-size:.85em;background:#eee}\n\
         #ready-to-commit h2{color:#1a7f37} #findings-open h2,#does-not-apply h2{color:#b3261e} #needs-ack h2,#needs-review h2{color:#8a5a00}\n\
         ul.t{margin:.2em 0;padding-left:1.1em;color:#333} code{font-size:.9em}\n\
         @media (prefers-color-scheme: dark){body{background:#161616;color:#e6e6e6}th{background:#222;color:#ddd}td,th{border-color:#333}.meta{color:#aaa}}\n\
         </style></head><body>\n",
    );
    o.push_str(&format!("<h1>{}</h1>\n", esc(title)));
    o.push_str(&format!(
        "<p class=\"meta\">{} open series, as of {}</p>\n",
        entries
            .iter()
            .filter(|e| e.action != Action::Superseded)
            .count(),
        esc(&crate::series::rfc3339(now))
    ));
    if let Some(at) = changes.since {
        o.push_str(&format!(
            "<section id=\"changes\"><h2>Since the last digest ({})</h2><ul>\n",
            esc(&crate::series::rfc3339(at))
        ));
        if changes.new.is_empty() && changes.moved.is_empty() && changes.gone.is_empty() {
            o.push_str("<li>nothing changed</li>\n");
        }
        for t in &changes.new {
            o.push_str(&format!("<li>new: {}</li>\n", esc(t)));
        }
        for (t, a, b) in &changes.moved {
            o.push_str(&format!(
                "<li>{}: {} → {}</li>\n",
                esc(t),
                a.title(),
                b.title()
            ));
        }
        for t in &changes.gone {
            o.push_str(&format!("<li>no longer open: {}</li>\n", esc(t)));
        }
        o.push_str("</ul></section>\n");
    }
    let areas = by_area(entries);
    if !areas.is_empty() {
        o.push_str("<section id=\"by-area\"><h2>By area</h2>\n<table>\n<tr><th>Area</th><th>Open series</th></tr>\n");
        for (area, list) in &areas {
            let items: String = list
                .iter()
                .map(|(a, what)| {
                    format!(
                        "<li>{} <span class=\"badge\">{}</span></li>",
                        esc(what),
                        a.title()
                    )
                })
                .collect();
            o.push_str(&format!(
                "<tr class=\"area\"><td>{}</td><td><ul class=\"t\">{items}</ul></td></tr>\n",
                esc(area)
            ));
        }
        o.push_str("</table></section>\n");
    }
    for a in Action::ALL {
        let these: Vec<&Entry> = entries.iter().filter(|e| e.action == a).collect();
        if these.is_empty() {
            continue;
        }
        o.push_str(&format!(
            "<section id=\"{}\"><h2>{} <span class=\"badge\">{}</span></h2>\n<table>\n\
             <tr><th>Series</th><th>Author</th><th>Age</th><th>Review</th><th>Areas and acks</th></tr>\n",
            a.id(),
            a.title(),
            these.len()
        ));
        for e in these {
            let i = &e.item;
            let review = match &i.reviewed {
                None => "not reviewed".to_string(),
                Some(r) if !r.applies => "does not apply".into(),
                Some(r) => {
                    let mut s = format!("applies; {} open", r.open.len());
                    if r.resolved > 0 {
                        s.push_str(&format!(", {} resolved", r.resolved));
                    }
                    s
                }
            };
            let mut detail = String::new();
            if !e.areas.is_empty() {
                detail.push_str(&esc(&e.areas.join(", ")));
            }
            detail.push_str("<ul class=\"t\">");
            for t in &e.trailers {
                detail.push_str(&format!("<li>{}</li>", esc(t)));
            }
            for (area, who) in &e.needs_ack_from {
                detail.push_str(&format!(
                    "<li class=\"needs\">needs an ack for {} from {}</li>",
                    esc(area),
                    esc(&who.join(" or "))
                ));
            }
            if let Some(r) = &i.reviewed {
                for (rule, msg) in &r.open {
                    detail.push_str(&format!(
                        "<li class=\"finding\"><code>{}</code> {}</li>",
                        esc(rule),
                        esc(msg)
                    ));
                }
            }
            detail.push_str("</ul>");
            o.push_str(&format!(
                "<tr class=\"series\"><td>v{} {}<br><code>&lt;{}&gt;</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                i.version,
                esc(&i.title),
                esc(&i.message_id),
                esc(&i.author),
                age(now, i.first_seen),
                esc(&review),
                detail
            ));
        }
        o.push_str("</table></section>\n");
    }
    if entries.is_empty() {
        o.push_str("<p>No open series.</p>\n");
    }
    o.push_str("</body></html>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAINTAINERS: &str = "\
Maintainers List

ARM (W/ VIRTUALISATION EXTENSIONS) ARCHITECTURE
M:\tArm Maint <arm@example.org>
S:\tSupported
F:\txen/arch/arm/

LIVEPATCH
M:\tLive Maint <live@example.org>
S:\tSupported
F:\txen/common/livepatch.c
F:\txen/arch/*/livepatch.c
X:\txen/arch/arm/livepatch.c

X86 ARCHITECTURE
M:\tX86 Maint <x86@example.org>
S:\tSupported
F:\txen/arch/x86/

THE REST
M:\tRest One <rest1@example.org>
M:\tRest Two <rest2@example.org>
L:\txen-devel@example.org
S:\tSupported
F:\t*
F:\t*/
";

    fn m() -> Maintainers {
        Maintainers::parse(MAINTAINERS, &|p| p.ends_with('/') || !p.contains('.'))
    }

    fn item(files: &[&str], trailers: &[(&str, &str, Option<&str>)]) -> Item {
        Item {
            message_id: "s@x".into(),
            title: "t".into(),
            version: 1,
            author: "Writer <writer@example.org>".into(),
            first_seen: 0,
            last_activity: 0,
            patches: vec![PatchItem {
                counter: 1,
                subject: "s".into(),
                files: files.iter().map(|f| f.to_string()).collect(),
                trailers: trailers
                    .iter()
                    .map(|(n, w, a)| (n.to_string(), w.to_string(), a.map(String::from)))
                    .collect(),
            }],
            reviewed: Some(Reviewed {
                applies: true,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn one(i: Item) -> Entry {
        evaluate(&[i], &m(), 3600, 14).remove(0)
    }

    #[test]
    fn the_most_specific_maintainer_approves_and_the_rest_is_not_asked() {
        let e = one(item(&["xen/arch/x86/traps.c"], &[]));
        assert_eq!(e.action, Action::NeedsReview);
        assert_eq!(e.areas, ["X86 ARCHITECTURE"]);
        assert_eq!(
            e.needs_ack_from["X86 ARCHITECTURE"],
            ["X86 Maint <x86@example.org>"]
        );
        let e = one(item(
            &["xen/arch/x86/traps.c"],
            &[("Acked-by", "X86 Maint <x86@example.org>", None)],
        ));
        assert_eq!(e.action, Action::ReadyToCommit);
        // THE REST's ack does not stand in for the x86 maintainer's
        let e = one(item(
            &["xen/arch/x86/traps.c"],
            &[("Acked-by", "Rest One <rest1@example.org>", None)],
        ));
        assert_eq!(e.action, Action::NeedsAck);
        assert!(e.needs_ack_from.contains_key("X86 ARCHITECTURE"));
    }

    #[test]
    fn the_rest_covers_what_nothing_else_does() {
        let e = one(item(&["docs/misc/x.txt"], &[]));
        assert_eq!(e.areas, ["THE REST"]);
        assert_eq!(e.needs_ack_from["THE REST"].len(), 2);
        let e = one(item(
            &["docs/misc/x.txt"],
            &[("Reviewed-by", "Rest Two <REST2@example.org>", None)],
        ));
        assert_eq!(e.action, Action::ReadyToCommit);
    }

    #[test]
    fn an_excluded_file_falls_to_the_next_section() {
        // LIVEPATCH excludes arm's livepatch.c: ARM approves it, not LIVEPATCH
        let e = one(item(&["xen/arch/arm/livepatch.c"], &[]));
        assert_eq!(e.areas, ["ARM (W/ VIRTUALISATION EXTENSIONS) ARCHITECTURE"]);
        let e = one(item(&["xen/arch/x86/livepatch.c"], &[]));
        assert_eq!(e.areas, ["LIVEPATCH"]);
        let e = one(item(
            &["xen/arch/arm/livepatch.c"],
            &[("Acked-by", "Live Maint <live@example.org>", None)],
        ));
        assert_eq!(e.action, Action::NeedsAck);
    }

    #[test]
    fn a_scoped_ack_counts_only_for_its_area() {
        let files = ["xen/arch/x86/traps.c", "xen/arch/arm/traps.c"];
        let e = one(item(
            &files,
            &[("Acked-by", "X86 Maint <x86@example.org>", Some("x86"))],
        ));
        assert_eq!(e.action, Action::NeedsAck);
        assert_eq!(
            e.needs_ack_from.keys().collect::<Vec<_>>(),
            ["ARM (W/ VIRTUALISATION EXTENSIONS) ARCHITECTURE"]
        );
        // an arm maintainer's ack scoped to x86 does not approve arm's file
        let e = one(item(
            &files,
            &[
                ("Acked-by", "X86 Maint <x86@example.org>", Some("x86")),
                ("Acked-by", "Arm Maint <arm@example.org>", Some("x86")),
            ],
        ));
        assert_eq!(e.action, Action::NeedsAck);
        let e = one(item(
            &files,
            &[
                ("Acked-by", "X86 Maint <x86@example.org>", Some("x86")),
                ("Acked-by", "Arm Maint <arm@example.org>", Some("arm")),
            ],
        ));
        assert_eq!(e.action, Action::ReadyToCommit);
    }

    #[test]
    fn a_maintainers_own_patch_needs_someone_elses_review() {
        let mut i = item(&["xen/arch/x86/traps.c"], &[]);
        i.author = "X86 Maint <x86@example.org>".into();
        assert_eq!(one(i.clone()).action, Action::NeedsReview);
        // their own ack does not count; anyone's review does
        i.patches[0].trailers = vec![(
            "Acked-by".into(),
            "X86 Maint <x86@example.org>".into(),
            None,
        )];
        assert_eq!(one(i.clone()).action, Action::NeedsReview);
        i.patches[0].trailers = vec![(
            "Reviewed-by".into(),
            "Some One <one@example.org>".into(),
            None,
        )];
        assert_eq!(one(i).action, Action::ReadyToCommit);
    }

    #[test]
    fn findings_failures_staleness_and_newer_versions_come_first() {
        let ack = [("Acked-by", "X86 Maint <x86@example.org>", None)];
        let mut i = item(&["xen/arch/x86/traps.c"], &ack);
        i.reviewed = Some(Reviewed {
            applies: true,
            open: vec![("r".into(), "m".into())],
            resolved: 0,
        });
        assert_eq!(one(i.clone()).action, Action::FindingsOpen);
        i.reviewed = Some(Reviewed::default());
        assert_eq!(one(i.clone()).action, Action::DoesNotApply);
        i.superseded_by = Some(2);
        assert_eq!(one(i).action, Action::Superseded);
        let i = item(&["xen/arch/x86/traps.c"], &[]);
        let e = evaluate(&[i], &m(), 30 * 86_400, 14).remove(0);
        assert_eq!(e.action, Action::Stale);
    }

    #[test]
    fn changes_name_new_moved_and_gone_series() {
        let a = one(item(&["xen/arch/x86/traps.c"], &[]));
        let mut before = snapshot(std::slice::from_ref(&a));
        before.insert("old@x".into(), (Action::NeedsAck, "v1 old".into()));
        let b = one(item(
            &["xen/arch/x86/traps.c"],
            &[("Acked-by", "X86 Maint <x86@example.org>", None)],
        ));
        let c = changes(Some((5, before)), &[b]);
        assert_eq!(
            c.moved,
            [(
                "v1 t".to_string(),
                Action::NeedsReview,
                Action::ReadyToCommit
            )]
        );
        assert_eq!(c.gone, ["v1 old"]);
        assert!(c.new.is_empty());
        let areas = by_area(std::slice::from_ref(&a));
        assert_eq!(
            areas["X86 ARCHITECTURE"],
            [(Action::NeedsReview, "v1 t".to_string())]
        );
        let h = html(&[a], &c, 10, "Digest <x>");
        assert!(h.contains("id=\"by-area\""));
        assert!(h.contains("<title>Digest &lt;x&gt;</title>"));
        assert!(h.contains("id=\"needs-review\""));
    }
}
