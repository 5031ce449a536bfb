//! From messages to series: the subject grammar, threading, versions and trailers.
//!
//! Assembly works on a compact per-message [`Entry`] (ids, parsed subject, author,
//! date, files touched, trailers), built while messages stream past; message
//! bodies are never kept. [`Assembler::finish`] then threads the entries and groups
//! them into [`Series`].

pub mod subject;
pub mod trailers;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::mail::{Address, Message, Origin, ReadError};
use subject::Subject;
use trailers::{BaseInfo, Trailer};

/// The compact index entry for one message.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The Message-ID, or a synthetic key for messages without one.
    key: String,
    message_id: Option<String>,
    /// In-Reply-To first, then References nearest first.
    parents: Vec<String>,
    subject: Subject,
    from: Option<Address>,
    date: Option<i64>,
    has_patch: bool,
    files: Vec<String>,
    /// Own trailers: a patch's commit-message trailers, or a reply's follow-up trailers.
    trailers: Vec<Trailer>,
    base: Option<Box<BaseInfo>>,
    origin: Origin,
    /// Arrival order.
    seq: usize,
}

impl Entry {
    fn is_patch_like(&self) -> bool {
        (self.subject.is_patch_like() || (self.has_patch && !self.subject.reply))
            && !self.subject.forward
    }
    fn is_cover(&self) -> bool {
        self.subject.is_cover()
    }
}

/// Files a patch touches (post-image paths; pre-image too for renames and
/// deletions), from `diff --git`, `---`/`+++` pairs, `rename`/`copy` lines and CVS
/// `Index:` lines. Paths lose their first component (`a/`, `b/`), as `-p1`.
pub fn files_touched(patch: &[u8], max: usize) -> Vec<String> {
    let mut set = BTreeSet::new();
    let lines: Vec<&[u8]> = patch.split(|&c| c == b'\n').collect();
    let strip1 = |p: &str| -> Option<String> {
        let p = p.split('\t').next().unwrap_or("").trim_end();
        let p = p.trim_matches('"');
        if p == "/dev/null" || p.is_empty() {
            return None;
        }
        Some(match p.split_once('/') {
            Some((_, rest)) if !rest.is_empty() => rest.to_string(),
            _ => p.to_string(),
        })
    };
    for (i, raw) in lines.iter().enumerate() {
        if set.len() >= max {
            break;
        }
        let l = String::from_utf8_lossy(raw);
        if let Some(rest) = l.strip_prefix("diff --git ") {
            // `a/X b/X`: split in the middle when both halves name the same path
            let rest = rest.trim_end();
            let n = rest.len();
            let mut done = false;
            if n % 2 == 1 && rest.is_char_boundary(n / 2) {
                let (a, b) = (&rest[..n / 2], &rest[n / 2 + 1..]);
                if let (Some(x), Some(y)) = (strip1(a), strip1(b)) {
                    if x == y {
                        set.insert(x);
                        done = true;
                    }
                }
            }
            if !done {
                if let Some(pos) = rest.find(" b/") {
                    if let Some(y) = strip1(&rest[pos + 1..]) {
                        set.insert(y);
                    }
                }
            }
        } else if let Some(p) = l.strip_prefix("+++ ") {
            let prev = i.checked_sub(1).map(|j| lines[j]).unwrap_or_default();
            let next = lines.get(i + 1).copied().unwrap_or_default();
            if prev.starts_with(b"--- ") && next.starts_with(b"@@") {
                if let Some(y) = strip1(p) {
                    set.insert(y);
                }
                if let Some(x) = strip1(&String::from_utf8_lossy(&prev[4..])) {
                    set.insert(x);
                }
            }
        } else if let Some(p) = l
            .strip_prefix("rename from ")
            .or_else(|| l.strip_prefix("rename to "))
        {
            set.insert(p.trim_end().trim_matches('"').to_string());
        } else if let Some(p) = l.strip_prefix("copy to ") {
            set.insert(p.trim_end().trim_matches('"').to_string());
        } else if let Some(p) = l.strip_prefix("Index: ") {
            set.insert(p.trim_end().to_string());
        }
    }
    set.into_iter().collect()
}

/// A trailer collected onto a patch, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CollectedTrailer {
    #[serde(flatten)]
    pub trailer: Trailer,
    /// `patch` (in the patch itself), `reply` (a reply to the patch) or
    /// `cover-reply` (a reply to the cover letter, applying to every patch).
    pub source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

/// A reply that came in on a patch or the cover letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    pub message_id: Option<String>,
    pub from: Option<Address>,
    pub date: Option<String>,
    pub subject: String,
    pub trailers: Vec<Trailer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Patch {
    pub counter: u32,
    pub subject: String,
    pub message_id: Option<String>,
    pub author: Option<Address>,
    pub date: Option<String>,
    pub files: Vec<String>,
    pub trailers: Vec<CollectedTrailer>,
    pub replies: Vec<Reply>,
    /// Set when this patch was not re-sent in this version and is carried over
    /// from an earlier one (a partial re-roll).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_version: Option<u32>,
    #[serde(rename = "where")]
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cover {
    pub message_id: Option<String>,
    pub subject: String,
    /// False when there is no 0/N message and the thread root stands in for it.
    pub is_cover_letter: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Duplicate {
    pub counter: u32,
    /// The extra copies (the first one received is in `patches`).
    pub message_ids: Vec<Option<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionRef {
    pub version: u32,
    pub message_id: Option<String>,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Series {
    pub title: String,
    pub version: u32,
    pub rfc: bool,
    pub resend: bool,
    pub tags: Vec<String>,
    pub author: Option<Address>,
    pub date: Option<String>,
    pub cover: Option<Cover>,
    /// N of N/M: how many patches the series announces.
    pub total: u32,
    pub patches: Vec<Patch>,
    pub missing: Vec<u32>,
    pub duplicates: Vec<Duplicate>,
    #[serde(flatten)]
    pub base: BaseInfo,
    /// Some patches of this version were sent as replies into an earlier version's
    /// thread; the rest are carried over from there.
    pub partial_reroll: bool,
    /// Other versions of the same series found in the input (same change-id or title).
    pub other_versions: Vec<VersionRef>,
    /// Replies to the cover letter.
    pub replies: Vec<Reply>,
}

/// A problem that did not stop a message from being used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    #[serde(rename = "where")]
    pub origin: Origin,
    pub message_id: Option<String>,
    pub warning: String,
}

/// Everything `patchbot series` reports.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub series: Vec<Series>,
    pub errors: Vec<ReadError>,
    pub warnings: Vec<Warning>,
    /// Messages read (after removing duplicates and removals).
    pub messages: usize,
}

/// Format seconds since the epoch as RFC 3339 (UTC).
pub fn rfc3339(ts: i64) -> String {
    let days = ts.div_euclid(86_400);
    let secs = ts.rem_euclid(86_400);
    // civil from days (Howard Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Collects messages as they stream past and assembles series at the end.
#[derive(Default)]
pub struct Assembler {
    entries: Vec<Entry>,
    by_key: HashMap<String, usize>,
    removed: BTreeSet<String>,
    errors: Vec<ReadError>,
    warnings: Vec<Warning>,
    max_files: usize,
}

impl Assembler {
    pub fn new(max_files_per_patch: usize) -> Self {
        Assembler {
            max_files: max_files_per_patch,
            ..Default::default()
        }
    }

    pub fn error(&mut self, e: ReadError) {
        self.errors.push(e);
    }

    /// A public-inbox removal: drop the message with this id.
    pub fn remove(&mut self, message_id: &str) {
        self.removed.insert(message_id.to_string());
    }

    /// Index one message; its body is dropped afterwards.
    pub fn add(&mut self, m: Message) {
        for n in &m.notes {
            self.warnings.push(Warning {
                origin: m.origin.clone(),
                message_id: m.message_id.clone(),
                warning: n.clone(),
            });
        }
        let key = match &m.message_id {
            Some(id) => id.clone(),
            None => format!("patchbot-no-id:{}", m.origin),
        };
        if self.by_key.contains_key(&key) {
            // the same message twice (cross-posted, or an archive overlap): keep the first
            return;
        }
        let subject = subject::parse(&m.subject);
        let has_patch = !m.info.patch.is_empty();
        let files = if has_patch {
            files_touched(&m.info.patch, self.max_files)
        } else {
            Vec::new()
        };
        let is_patchlike =
            (subject.is_patch_like() || (has_patch && !subject.reply)) && !subject.forward;
        let trailers = if is_patchlike && has_patch {
            trailers::patch_trailers(&String::from_utf8_lossy(&m.info.message))
        } else if is_patchlike {
            Vec::new()
        } else {
            trailers::find_trailers(&m.body_text, true)
        };
        let base = if is_patchlike {
            let b = trailers::base_info(&m.body_text);
            (!b.is_empty()).then(|| Box::new(b))
        } else {
            None
        };
        // a patch's author is the in-body From when there is one (git's rule)
        let from = if is_patchlike && has_patch {
            match (&m.info.author, &m.info.email) {
                (Some(a), Some(e)) if !e.is_empty() => Some(Address {
                    name: String::from_utf8_lossy(a).into_owned(),
                    email: String::from_utf8_lossy(e).into_owned(),
                }),
                _ => m.from.clone(),
            }
        } else {
            m.from.clone()
        };
        let mut parents: Vec<String> = Vec::new();
        for p in m.parent_candidates() {
            if p != key && !parents.iter().any(|x| x == p) {
                parents.push(p.to_string());
            }
        }
        let seq = self.entries.len();
        self.by_key.insert(key.clone(), seq);
        self.entries.push(Entry {
            key,
            message_id: m.message_id,
            parents,
            subject,
            from,
            date: m.date,
            has_patch,
            files,
            trailers,
            base,
            origin: m.origin,
            seq,
        });
    }

    /// Thread the entries and build the series.
    pub fn finish(mut self) -> Report {
        // drop removed messages
        if !self.removed.is_empty() {
            let removed = std::mem::take(&mut self.removed);
            self.entries
                .retain(|e| e.message_id.as_ref().is_none_or(|id| !removed.contains(id)));
            self.by_key = self
                .entries
                .iter()
                .enumerate()
                .map(|(i, e)| (e.key.clone(), i))
                .collect();
        }
        let n = self.entries.len();
        let entries = &self.entries;
        // parent of each entry: the first candidate that is present
        let mut parent: Vec<Option<usize>> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                e.parents
                    .iter()
                    .filter_map(|p| self.by_key.get(p).copied())
                    .find(|&j| j != i)
            })
            .collect();
        // b4's fallback for replies without threading headers: match the subject
        let mut by_title: HashMap<(String, u32, Option<u32>), usize> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            if e.is_patch_like() {
                by_title
                    .entry((
                        e.subject.title.clone(),
                        e.subject.version,
                        e.subject.counter,
                    ))
                    .or_insert(i);
            }
        }
        for (i, e) in entries.iter().enumerate() {
            if parent[i].is_none() && e.subject.reply {
                let k = (
                    e.subject.title.clone(),
                    e.subject.version,
                    e.subject.counter,
                );
                if let Some(&j) = by_title.get(&k) {
                    if j != i {
                        parent[i] = Some(j);
                    }
                }
            }
        }
        // break cycles: walking up from any node must end within n steps
        for i in 0..n {
            let mut seen = BTreeSet::new();
            let mut cur = i;
            seen.insert(cur);
            while let Some(p) = parent[cur] {
                if !seen.insert(p) {
                    // cur -> p closes a loop; cut it here
                    parent[cur] = None;
                    self.warnings.push(Warning {
                        origin: entries[cur].origin.clone(),
                        message_id: entries[cur].message_id.clone(),
                        warning: "In-Reply-To/References form a loop; threading cut here".into(),
                    });
                    break;
                }
                cur = p;
            }
        }
        let patchlike: Vec<bool> = entries.iter().map(|e| e.is_patch_like()).collect();
        let same_series = |a: &Entry, b: &Entry| {
            a.subject.version == b.subject.version
                && a.subject.total.unwrap_or(1) == b.subject.total.unwrap_or(1)
        };
        // anchor: walk up through patches of the same version and size
        let mut anchor: Vec<usize> = (0..n).collect();
        for i in (0..n).filter(|&i| patchlike[i]) {
            let mut cur = i;
            while let Some(p) = parent[cur] {
                if patchlike[p] && same_series(&entries[p], &entries[i]) {
                    cur = p;
                } else {
                    break;
                }
            }
            anchor[i] = cur;
        }
        // children count, to tell orphans from thread roots
        let mut has_patch_child = vec![false; n];
        for i in (0..n).filter(|&i| patchlike[i]) {
            if let Some(p) = parent[i] {
                has_patch_child[p] = true;
            }
        }
        #[derive(PartialEq, Eq, PartialOrd, Ord, Clone, Debug)]
        enum GroupKey {
            Thread(usize),
            Reroll(usize, u32, u32),
            Unthreaded(String, u32, u32, Vec<String>),
        }
        let mut groups: BTreeMap<GroupKey, Vec<usize>> = BTreeMap::new();
        for i in (0..n).filter(|&i| patchlike[i]) {
            let a = anchor[i];
            let e = &entries[i];
            let total = e.subject.total.unwrap_or(1);
            let key = match parent[a] {
                Some(p) if patchlike[p] => {
                    // sent into another version's thread: a (partial) re-roll
                    GroupKey::Reroll(anchor[p], e.subject.version, total)
                }
                None if a == i && !has_patch_child[i] && total > 1 && !e.has_children_hint() => {
                    GroupKey::Unthreaded(
                        e.from
                            .as_ref()
                            .map(|f| f.email.to_ascii_lowercase())
                            .unwrap_or_default(),
                        e.subject.version,
                        total,
                        e.subject.tags.clone(),
                    )
                }
                _ => GroupKey::Thread(a),
            };
            groups.entry(key).or_default().push(i);
        }
        // which group each patch-like entry landed in
        let mut group_of: HashMap<usize, usize> = HashMap::new();
        let group_list: Vec<(GroupKey, Vec<usize>)> = groups.into_iter().collect();
        for (g, (_, members)) in group_list.iter().enumerate() {
            for &m in members {
                group_of.insert(m, g);
            }
        }
        // replies: attach to the nearest patch-like ancestor
        let mut replies_to: HashMap<usize, Vec<usize>> = HashMap::new();
        for i in (0..n).filter(|&i| !patchlike[i]) {
            let mut cur = i;
            let mut steps = 0;
            while let Some(p) = parent[cur] {
                steps += 1;
                if patchlike[p] {
                    replies_to.entry(p).or_default().push(i);
                    break;
                }
                cur = p;
                if steps > n {
                    break;
                }
            }
        }
        let reply_of = |i: usize| -> Reply {
            let e = &entries[i];
            Reply {
                message_id: e.message_id.clone(),
                from: e.from.clone(),
                date: e.date.map(rfc3339),
                subject: e.subject_display(),
                trailers: e.trailers.clone(),
            }
        };
        let sorted_replies = |list: Option<&Vec<usize>>| -> Vec<usize> {
            let mut v = list.cloned().unwrap_or_default();
            v.sort_by_key(|&i| (entries[i].date, entries[i].seq));
            v
        };
        let mut series: Vec<(Series, Option<usize>, i64, usize)> = Vec::new();
        for (key, members) in &group_list {
            let mut members = members.clone();
            members.sort_by_key(|&i| {
                (
                    entries[i].subject.counter.unwrap_or(1),
                    entries[i].date,
                    entries[i].seq,
                )
            });
            let cover_idx = members.iter().copied().find(|&i| entries[i].is_cover());
            let total = members
                .iter()
                .filter_map(|&i| entries[i].subject.total)
                .max()
                .unwrap_or(1);
            let mut by_counter: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
            for &i in &members {
                if entries[i].is_cover() {
                    continue;
                }
                let c = entries[i].subject.counter.unwrap_or(1);
                by_counter.entry(c).or_default().push(i);
            }
            let first = cover_idx.or_else(|| members.first().copied());
            let Some(first) = first else { continue };
            let head = &entries[first];
            let cover_replies = cover_idx
                .map(|c| sorted_replies(replies_to.get(&c)))
                .unwrap_or_default();
            let cover_trailers: Vec<CollectedTrailer> = cover_replies
                .iter()
                .flat_map(|&r| {
                    entries[r].trailers.iter().map(move |t| CollectedTrailer {
                        trailer: t.clone(),
                        source: "cover-reply",
                        message_id: entries[r].message_id.clone(),
                    })
                })
                .collect();
            let mut patches = Vec::new();
            let mut duplicates = Vec::new();
            for (&c, list) in &by_counter {
                let i = list[0];
                if list.len() > 1 {
                    duplicates.push(Duplicate {
                        counter: c,
                        message_ids: list[1..]
                            .iter()
                            .map(|&j| entries[j].message_id.clone())
                            .collect(),
                    });
                }
                patches.push(self.patch_of(
                    i,
                    &sorted_replies(replies_to.get(&i)),
                    &cover_trailers,
                    None,
                ));
            }
            let present: BTreeSet<u32> = by_counter.keys().copied().collect();
            let missing: Vec<u32> = (1..=total).filter(|c| !present.contains(c)).collect();
            let base = members
                .iter()
                .filter_map(|&i| entries[i].base.as_deref())
                .fold(BaseInfo::default(), |mut acc, b| {
                    acc.base_commit = acc.base_commit.or(b.base_commit.clone());
                    acc.change_id = acc.change_id.or(b.change_id.clone());
                    for p in &b.prerequisite_patch_ids {
                        if !acc.prerequisite_patch_ids.contains(p) {
                            acc.prerequisite_patch_ids.push(p.clone());
                        }
                    }
                    for p in &b.prerequisite_message_ids {
                        if !acc.prerequisite_message_ids.contains(p) {
                            acc.prerequisite_message_ids.push(p.clone());
                        }
                    }
                    acc
                });
            let reroll_from = match key {
                GroupKey::Reroll(prev_anchor, _, _) => group_of.get(prev_anchor).copied(),
                _ => None,
            };
            let title = head.subject.title.clone();
            let s = Series {
                title,
                version: head.subject.version,
                rfc: members.iter().any(|&i| entries[i].subject.rfc),
                resend: members.iter().any(|&i| entries[i].subject.resend),
                tags: head.subject.tags.clone(),
                author: head.from.clone(),
                date: head.date.map(rfc3339),
                cover: Some(Cover {
                    message_id: head.message_id.clone(),
                    subject: head.subject_display(),
                    is_cover_letter: cover_idx.is_some(),
                })
                .filter(|_| cover_idx.is_some() || members.len() > 1 || total > 1),
                total,
                patches,
                missing,
                duplicates,
                base,
                partial_reroll: false,
                other_versions: Vec::new(),
                replies: cover_replies.iter().map(|&r| reply_of(r)).collect(),
            };
            let sort_date = head.date.unwrap_or(i64::MAX);
            series.push((s, reroll_from, sort_date, head.seq));
        }
        // partial re-rolls: carry the patches that were not re-sent
        let snapshot: Vec<Series> = series.iter().map(|s| s.0.clone()).collect();
        for (s, from, _, _) in series.iter_mut() {
            let Some(g) = *from else { continue };
            let prev = &snapshot[g];
            if prev.version >= s.version {
                continue;
            }
            let mut carried = Vec::new();
            for c in s.missing.clone() {
                if let Some(p) = prev.patches.iter().find(|p| p.counter == c) {
                    let mut p = p.clone();
                    p.from_version = Some(prev.version);
                    carried.push(p);
                }
            }
            if !carried.is_empty() || !s.missing.is_empty() {
                s.partial_reroll = true;
            }
            let carried_counters: BTreeSet<u32> = carried.iter().map(|p| p.counter).collect();
            s.missing.retain(|c| !carried_counters.contains(c));
            s.patches.extend(carried);
            s.patches.sort_by_key(|p| p.counter);
            if s.title.is_empty() || s.cover.as_ref().is_some_and(|c| !c.is_cover_letter) {
                s.title = prev.title.clone();
            }
            if s.base.change_id.is_none() {
                s.base.change_id = prev.base.change_id.clone();
            }
        }
        // link versions: same change-id, else same title
        let link_key = |s: &Series| -> String {
            match &s.base.change_id {
                Some(c) => format!("change-id:{c}"),
                None => format!("title:{}", subject::title_key(&s.title)),
            }
        };
        let mut by_link: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, (s, _, _, _)) in series.iter().enumerate() {
            by_link.entry(link_key(s)).or_default().push(i);
        }
        // a series with a change-id also links to same-title series without one
        let mut refs: Vec<Vec<VersionRef>> = vec![Vec::new(); series.len()];
        for list in by_link.values() {
            for &i in list {
                for &j in list {
                    if i != j && series[i].0.version != series[j].0.version {
                        let o = &series[j].0;
                        refs[i].push(VersionRef {
                            version: o.version,
                            message_id: o
                                .cover
                                .as_ref()
                                .and_then(|c| c.message_id.clone())
                                .or_else(|| o.patches.first().and_then(|p| p.message_id.clone())),
                            title: o.title.clone(),
                        });
                    }
                }
            }
        }
        for (i, r) in refs.into_iter().enumerate() {
            let mut r = r;
            r.sort_by(|a, b| (a.version, &a.message_id).cmp(&(b.version, &b.message_id)));
            r.dedup();
            series[i].0.other_versions = r;
        }
        series.sort_by(|a, b| (a.2, a.3).cmp(&(b.2, b.3)));
        let messages = self.entries.len();
        Report {
            series: series.into_iter().map(|s| s.0).collect(),
            errors: self.errors,
            warnings: self.warnings,
            messages,
        }
    }

    fn patch_of(
        &self,
        i: usize,
        replies: &[usize],
        cover_trailers: &[CollectedTrailer],
        from_version: Option<u32>,
    ) -> Patch {
        let e = &self.entries[i];
        let mut trailers: Vec<CollectedTrailer> = e
            .trailers
            .iter()
            .map(|t| CollectedTrailer {
                trailer: t.clone(),
                source: "patch",
                message_id: None,
            })
            .collect();
        let add = |ct: CollectedTrailer, trailers: &mut Vec<CollectedTrailer>| {
            if !trailers.iter().any(|x| {
                x.trailer.lname() == ct.trailer.lname() && x.trailer.value == ct.trailer.value
            }) {
                trailers.push(ct);
            }
        };
        for &r in replies {
            for t in &self.entries[r].trailers {
                add(
                    CollectedTrailer {
                        trailer: t.clone(),
                        source: "reply",
                        message_id: self.entries[r].message_id.clone(),
                    },
                    &mut trailers,
                );
            }
        }
        for ct in cover_trailers {
            add(ct.clone(), &mut trailers);
        }
        Patch {
            counter: e.subject.counter.unwrap_or(1),
            subject: e.subject.title.clone(),
            message_id: e.message_id.clone(),
            author: e.from.clone(),
            date: e.date.map(rfc3339),
            files: e.files.clone(),
            trailers,
            replies: replies
                .iter()
                .map(|&r| {
                    let x = &self.entries[r];
                    Reply {
                        message_id: x.message_id.clone(),
                        from: x.from.clone(),
                        date: x.date.map(rfc3339),
                        subject: x.subject_display(),
                        trailers: x.trailers.clone(),
                    }
                })
                .collect(),
            from_version,
            origin: e.origin.clone(),
        }
    }
}

impl Entry {
    fn subject_display(&self) -> String {
        self.subject.title.clone()
    }
    /// Messages without any threading headers cannot have children we know of.
    fn has_children_hint(&self) -> bool {
        self.message_id.is_some() && !self.parents.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_702_639_080), "2023-12-15T11:18:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn files_from_git_and_quilt_diffs() {
        let p = b"diff --git a/xen/Kconfig b/xen/Kconfig\nindex 1..2 100644\n--- a/xen/Kconfig\n+++ b/xen/Kconfig\n@@ -1 +1 @@\n-a\n+b\ndiff --git a/old.c b/new.c\nsimilarity index 90%\nrename from old.c\nrename to new.c\n--- a/q/x.c\t2023-01-01\n+++ b/q/x.c\t2023-01-02\n@@ -1 +1 @@\n-x\n+y\n";
        assert_eq!(
            files_touched(p, 100),
            vec!["new.c", "old.c", "q/x.c", "xen/Kconfig"]
        );
    }
}
