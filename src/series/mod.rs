//! From messages to series: the subject grammar, threading, versions and trailers.
//!
//! Assembly works on a compact per-message [`Entry`] (ids, parsed subject, author,
//! date, files touched, trailers), built while messages stream past; message
//! bodies are never kept. [`Assembler::finish`] then threads the entries and groups
//! them into [`Series`].

pub mod subject;
pub mod trailers;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde::Serialize;

use crate::mail::{Address, Message, Origin, ReadError};
use trailers::{BaseInfo, Trailer};

/// Files a patch names (post-image paths; pre-image too for renames, copies and
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
        const PREFIXES: [&[u8]; 7] = [
            b"diff --git ",
            b"+++ ",
            b"rename from ",
            b"rename to ",
            b"copy from ",
            b"copy to ",
            b"Index: ",
        ];
        if !PREFIXES.iter().any(|p| raw.starts_with(p)) {
            continue;
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
            // a header pair, not a `-`/`+` pair of hunk lines: a hunk (or the
            // end of the patch) follows
            if prev.starts_with(b"--- ") && (next.starts_with(b"@@") || i + 2 >= lines.len()) {
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
        } else if let Some(p) = l
            .strip_prefix("copy from ")
            .or_else(|| l.strip_prefix("copy to "))
        {
            set.insert(p.trim_end().trim_matches('"').to_string());
        } else if let Some(p) = l.strip_prefix("Index: ") {
            set.insert(p.trim_end().to_string());
        }
    }
    set.into_iter().collect()
}

/// The end of a patch after its last hunk line (where `git format-patch` puts the
/// `base-commit:` block), starting at a line boundary.
fn patch_tail(patch: &[u8]) -> &[u8] {
    const TAIL: usize = 8192;
    if patch.len() <= TAIL {
        return patch;
    }
    let start = patch.len() - TAIL;
    match patch[start..].iter().position(|&c| c == b'\n') {
        Some(i) => &patch[start + i + 1..],
        None => &patch[patch.len()..],
    }
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
    pub message_id: Option<Arc<str>>,
}

/// A reply that came in on a patch or the cover letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    pub message_id: Option<Arc<str>>,
    pub from: Option<Arc<Address>>,
    pub date: Option<String>,
    pub subject: Arc<str>,
    pub trailers: Vec<Trailer>,
    /// Answers to patchbot in the reply: `ignore <rule or fingerprint>`, `ack`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<Arc<str>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Patch {
    pub counter: u32,
    pub subject: Arc<str>,
    pub message_id: Option<Arc<str>>,
    pub author: Option<Arc<Address>>,
    pub date: Option<String>,
    pub files: Vec<Arc<str>>,
    pub trailers: Vec<CollectedTrailer>,
    pub replies: Vec<Reply>,
    /// Set when this patch was not re-sent in this version and is carried over
    /// from an earlier one (a partial re-roll).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_version: Option<u32>,
    #[serde(rename = "where")]
    pub origin: Origin,
    /// Sent by a machine (`Auto-Submitted` other than `no`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub auto_submitted: bool,
    /// The header `From` (who sent the mail; `author` is who wrote the patch).
    #[serde(skip)]
    pub sender: Option<Arc<Address>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cover {
    pub message_id: Option<Arc<str>>,
    pub subject: Arc<str>,
    /// False when there is no 0/N message and the thread root stands in for it.
    pub is_cover_letter: bool,
    /// Sent by a machine (`Auto-Submitted` other than `no`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub auto_submitted: bool,
    #[serde(skip)]
    pub sender: Option<Arc<Address>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Duplicate {
    pub counter: u32,
    /// The extra copies (the first one received is in `patches`).
    pub message_ids: Vec<Option<Arc<str>>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionRef {
    pub version: u32,
    pub message_id: Option<Arc<str>>,
    pub title: Arc<str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Series {
    pub title: Arc<str>,
    pub version: u32,
    pub rfc: bool,
    pub resend: bool,
    pub tags: Vec<Arc<str>>,
    pub author: Option<Arc<Address>>,
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

impl Series {
    /// The series' identity across versions: its change-id, else its title and
    /// author (as b4 matches versions).
    pub fn key(&self) -> String {
        match &self.base.change_id {
            Some(c) => format!("change-id:{c}"),
            None => format!(
                "title:{}\nauthor:{}",
                self.title
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .to_lowercase(),
                self.author
                    .as_ref()
                    .map(|a| crate::maintainers::address_of(&a.to_string()))
                    .unwrap_or_default()
            ),
        }
    }
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

/// One interned string table: Message-IDs, titles, paths and trailer values
/// repeat across an archive, so each is stored once, in one arena, and entries
/// hold 4-byte handles. A hash index (hash → first id, then a chain of ids with
/// the same hash) finds a string again without storing it twice.
#[derive(Default)]
struct Interner {
    arena: String,
    /// `ends[id]` is where string `id` ends in the arena; it starts where `id - 1` ends.
    ends: Vec<u64>,
    first: HashMap<u64, u32, std::hash::BuildHasherDefault<PassThrough>>,
    /// The next id with the same hash, or `NONE`.
    next: Vec<u32>,
}

/// "No string" in a handle slot.
const NONE: u32 = u32::MAX;

/// The hash of an interned string is already a good hash: use it as it is.
#[derive(Default)]
struct PassThrough(u64);

impl std::hash::Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ b as u64;
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// FNV-1a, 64 bits.
fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in s.as_bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Interner {
    fn get(&self, id: u32) -> &str {
        let id = id as usize;
        let start = if id == 0 {
            0
        } else {
            self.ends[id - 1] as usize
        };
        &self.arena[start..self.ends[id] as usize]
    }
    fn id(&mut self, s: &str) -> u32 {
        let h = fnv(s);
        let mut cur = self.first.get(&h).copied().unwrap_or(NONE);
        let head = cur;
        while cur != NONE {
            if self.get(cur) == s {
                return cur;
            }
            cur = self.next[cur as usize];
        }
        let id = self.ends.len() as u32;
        self.arena.push_str(s);
        self.ends.push(self.arena.len() as u64);
        self.next.push(head);
        self.first.insert(h, id);
        id
    }
    fn len(&self) -> usize {
        self.ends.len()
    }
}

/// A vector that grows in fixed chunks, so that the index never holds the up to
/// 2x slack of a doubling `Vec` (which would be most of its memory).
struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

const CHUNK: usize = 2048;

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    fn push(&mut self, v: T) {
        if self.chunks.last().is_none_or(|c| c.len() == CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        if let Some(c) = self.chunks.last_mut() {
            c.push(v);
        }
        self.len += 1;
    }
    fn len(&self) -> usize {
        self.len
    }
    fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }
    fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        let old = std::mem::take(self);
        for v in old.chunks.into_iter().flatten() {
            if keep(&v) {
                self.push(v);
            }
        }
    }
}

impl<T> std::ops::Index<usize> for Chunked<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        &self.chunks[i / CHUNK][i % CHUNK]
    }
}

/// Where a message came from, compactly: mbox positions (nearly every message of
/// a big input) need no allocation of their own.
#[derive(Debug, Clone)]
enum Loc {
    Mbox {
        source: u32,
        index: u32,
        offset: u64,
    },
    Other(Box<Origin>),
}

const FLAG_REPLY: u8 = 1;
/// A patch or cover letter ([`subject::Subject::is_patch_message`]).
const FLAG_PATCHLIKE: u8 = 2;
const FLAG_RFC: u8 = 8;
const FLAG_RESEND: u8 = 16;
/// The key is a real Message-ID (not a synthetic one).
const FLAG_HAS_ID: u8 = 64;
/// `Auto-Submitted` other than `no`: a machine sent it.
const FLAG_AUTO: u8 = 128;

/// The compact index entry for one message: a few handles and numbers. Bodies
/// are never kept.
#[derive(Debug, Clone)]
struct Entry {
    /// Interned key: the Message-ID, or a synthetic one for messages without.
    key: u32,
    /// In-Reply-To first, then References nearest first (interned, at most 4).
    parents: Box<[u32]>,
    title: u32,
    flags: u8,
    version: u32,
    counter: Option<u32>,
    total: Option<u32>,
    tags: Box<[u32]>,
    from: Option<Arc<Address>>,
    /// The header `From`.
    sender: Option<Arc<Address>>,
    /// A reply's answers to patchbot (interned).
    commands: Box<[u32]>,
    date: Option<i64>,
    files: Box<[u32]>,
    /// Own trailers (name, value, extinfo or `NONE`): a patch's commit-message
    /// trailers, or a reply's follow-up trailers.
    trailers: Box<[[u32; 3]]>,
    base: Option<Box<BaseInfo>>,
    loc: Loc,
    seq: u32,
}

impl Entry {
    fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }
    fn is_patch_like(&self) -> bool {
        self.has(FLAG_PATCHLIKE)
    }
    fn is_cover(&self) -> bool {
        self.is_patch_like() && self.counter == Some(0)
    }
}

/// How many parent candidates are kept per message.
const MAX_PARENTS: usize = 4;

/// The per-message work of indexing, done before the message reaches the
/// [`Assembler`]: subject grammar, files touched, trailers, base block. Pure, so
/// it can run on worker threads; the message body is dropped here.
#[derive(Debug)]
pub struct Prepared {
    origin: Origin,
    message_id: Option<String>,
    /// Parent candidates, nearest first (at most a few).
    parents: Vec<String>,
    subject: subject::Subject,
    from: Option<Address>,
    date: Option<i64>,
    has_patch: bool,
    files: Vec<String>,
    trailers: Vec<Trailer>,
    base: Option<Box<BaseInfo>>,
    notes: Vec<String>,
    /// `Auto-Submitted` other than `no`.
    auto: bool,
    /// The header `From` (a patch's `from` is its in-body author).
    sender: Option<Address>,
    /// A reply's answers to patchbot ([`commands`]).
    commands: Vec<String>,
}

/// The answers to patchbot in a reply's text: lines (not quoted) saying
/// `patchbot: ignore <rule-id or fingerprint>` or `patchbot: ack`, as
/// `ignore <word>` and `ack`. At most a few are kept.
pub fn commands(body: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in body.lines() {
        let t = l.trim();
        let Some(rest) = t
            .get(..8)
            .filter(|p| p.eq_ignore_ascii_case("patchbot"))
            .and_then(|_| t[8..].trim_start().strip_prefix(':'))
        else {
            continue;
        };
        let mut w = rest.split_whitespace();
        let c = match (
            w.next().map(str::to_ascii_lowercase).as_deref(),
            w.next(),
            w.next(),
        ) {
            (Some("ack"), None, _) => "ack".to_string(),
            (Some("ignore"), Some(what), None)
                if what.len() <= 128
                    && what
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
            {
                format!("ignore {what}")
            }
            _ => continue,
        };
        if !out.contains(&c) && out.len() < 16 {
            out.push(c);
        }
    }
    out
}

struct PreparedRest {
    origin: Origin,
    message_id: Option<String>,
    date: Option<i64>,
}

impl Prepared {
    pub fn new(m: Message, max_files: usize) -> Prepared {
        let subject = subject::parse(&m.subject);
        let has_patch = !m.info.patch.is_empty();
        let is_patchlike = subject.is_patch_message(has_patch);
        let files = if has_patch {
            files_touched(&m.info.patch, max_files)
        } else {
            Vec::new()
        };
        let trailers = if is_patchlike && has_patch {
            trailers::patch_trailers(&String::from_utf8_lossy(&m.info.message))
        } else if is_patchlike {
            Vec::new()
        } else {
            trailers::find_trailers(&m.body_text(), true)
        };
        let base = if is_patchlike {
            // the block sits in the message (a cover letter) or after the last
            // hunk of a patch, never inside a hunk: the patch's tail is enough
            let chunks: Vec<&[u8]> = match &m.body_plain {
                Some(b) => vec![b.as_bytes()],
                None => vec![&m.info.message[..], patch_tail(&m.info.patch)],
            };
            let b = trailers::base_info_bytes(&chunks);
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
        let parents = m
            .parent_candidates()
            .take(MAX_PARENTS + 1)
            .map(String::from)
            .collect();
        let commands = if is_patchlike {
            Vec::new()
        } else {
            commands(&m.body_text())
        };
        let auto = m
            .auto_submitted
            .as_deref()
            .is_some_and(|a| !a.trim().eq_ignore_ascii_case("no"));
        Prepared {
            origin: m.origin,
            message_id: m.message_id,
            parents,
            subject,
            sender: m.from.clone(),
            from,
            date: m.date,
            has_patch,
            files,
            trailers,
            base,
            notes: m.notes,
            auto,
            commands,
        }
    }
}

/// Collects messages as they stream past; [`Assembler::finish`] threads them.
#[derive(Default)]
pub struct Assembler {
    entries: Chunked<Entry>,
    /// mbox paths, indexed by `Loc::Mbox::source`.
    sources: Vec<Arc<std::path::Path>>,
    strings: Interner,
    addresses: HashMap<Address, Arc<Address>>,
    /// Interned keys already seen (to drop duplicates), indexed by string id.
    seen: Vec<bool>,
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

    fn address(&mut self, a: Address) -> Arc<Address> {
        if let Some(x) = self.addresses.get(&a) {
            return x.clone();
        }
        let x = Arc::new(a.clone());
        self.addresses.insert(a, x.clone());
        x
    }

    /// Index one message; its body is dropped afterwards.
    pub fn add(&mut self, m: Message) {
        let p = Prepared::new(m, self.max_files);
        self.insert(p);
    }

    /// Index a message prepared by [`Prepared::new`] (which may run on another
    /// thread: it is the expensive part).
    pub fn insert(&mut self, p: Prepared) {
        for n in &p.notes {
            self.warnings.push(Warning {
                origin: p.origin.clone(),
                message_id: p.message_id.clone(),
                warning: n.clone(),
            });
        }
        let key_str = match &p.message_id {
            Some(id) => id.clone(),
            None => format!("patchbot-no-id:{}", p.origin),
        };
        let key = self.strings.id(&key_str);
        if self.seen.get(key as usize).copied().unwrap_or(false) {
            // the same message twice (cross-posted, or an archive overlap): keep the first
            return;
        }
        let subject = p.subject;
        let has_patch = p.has_patch;
        let files: Box<[u32]> = p.files.iter().map(|f| self.strings.id(f)).collect();
        // trailer names and values repeat (the same people sign and review): intern
        let trailers: Box<[[u32; 3]]> = p
            .trailers
            .into_iter()
            .map(|t| {
                let ext = t.extinfo.map_or(NONE, |x| self.strings.id(&x));
                [self.strings.id(&t.name), self.strings.id(&t.value), ext]
            })
            .collect();
        let base = p.base;
        let from = p.from.map(|a| self.address(a));
        let sender = p.sender.map(|a| self.address(a));
        let commands: Box<[u32]> = p.commands.iter().map(|c| self.strings.id(c)).collect();
        let mut parents: Vec<u32> = Vec::new();
        for c in &p.parents {
            let id = self.strings.id(c);
            if id != key && !parents.contains(&id) {
                parents.push(id);
                if parents.len() == MAX_PARENTS {
                    break;
                }
            }
        }
        let m = PreparedRest {
            origin: p.origin,
            message_id: p.message_id,
            date: p.date,
        };
        let mut flags = 0;
        for (on, f) in [
            (subject.reply, FLAG_REPLY),
            (subject.is_patch_message(has_patch), FLAG_PATCHLIKE),
            (subject.rfc, FLAG_RFC),
            (subject.resend, FLAG_RESEND),
            (m.message_id.is_some(), FLAG_HAS_ID),
            (p.auto, FLAG_AUTO),
        ] {
            if on {
                flags |= f;
            }
        }
        let seq = self.entries.len() as u32;
        let loc = match m.origin {
            Origin::Mbox {
                path,
                index,
                offset,
            } if index <= u32::MAX as usize => {
                let source = match self
                    .sources
                    .iter()
                    .position(|p| Arc::ptr_eq(p, &path) || *p == path)
                {
                    Some(i) => i,
                    None => {
                        self.sources.push(path);
                        self.sources.len() - 1
                    }
                };
                Loc::Mbox {
                    source: source as u32,
                    index: index as u32,
                    offset,
                }
            }
            other => Loc::Other(Box::new(other)),
        };
        if self.seen.len() <= key as usize {
            self.seen.resize(key as usize + 1, false);
        }
        self.seen[key as usize] = true;
        let title = self.strings.id(&subject.title);
        let tags = subject.tags.iter().map(|t| self.strings.id(t)).collect();
        self.entries.push(Entry {
            key,
            parents: parents.into(),
            title,
            flags,
            version: subject.version,
            counter: subject.counter,
            total: subject.total,
            tags,
            from,
            sender,
            commands,
            date: m.date,
            files,
            trailers,
            base,
            loc,
            seq,
        });
    }

    /// Thread the entries and group them into series. The result still holds only
    /// the index; [`Assembled::series`] builds each series when asked.
    pub fn finish(mut self) -> Assembled {
        if !self.removed.is_empty() {
            let removed = std::mem::take(&mut self.removed);
            let strings = &self.strings;
            self.entries
                .retain(|e| !e.has(FLAG_HAS_ID) || !removed.contains(strings.get(e.key)));
        }
        let n = self.entries.len();
        // entry index by interned key (dense handles: a vector, not a map)
        let mut pos: Vec<u32> = vec![u32::MAX; self.strings.len()];
        for (i, e) in self.entries.iter().enumerate() {
            pos[e.key as usize] = i as u32;
        }
        let entries = &self.entries;
        let mut parent: Vec<Option<usize>> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                e.parents
                    .iter()
                    .map(|&p| pos[p as usize])
                    .filter(|&j| j != u32::MAX)
                    .map(|j| j as usize)
                    .find(|&j| j != i)
            })
            .collect();
        // b4's fallback for replies without threading headers: match the subject
        let mut by_title: HashMap<(u32, u32, Option<u32>), usize> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            if e.is_patch_like() {
                by_title.entry((e.title, e.version, e.counter)).or_insert(i);
            }
        }
        for (i, e) in entries.iter().enumerate() {
            if parent[i].is_none() && e.has(FLAG_REPLY) {
                if let Some(&j) = by_title.get(&(e.title, e.version, e.counter)) {
                    if j != i {
                        parent[i] = Some(j);
                    }
                }
            }
        }
        drop(by_title);
        // Break cycles: colour nodes; a walk that meets a node of its own walk
        // has found a loop, which is cut at the node that closes it.
        let mut state = vec![0u8; n]; // 0 new, 1 on the current walk, 2 done
        for i in 0..n {
            let mut walk = Vec::new();
            let mut cur = i;
            while state[cur] == 0 {
                state[cur] = 1;
                walk.push(cur);
                match parent[cur] {
                    Some(p) if state[p] == 1 => {
                        parent[cur] = None;
                        self.warnings.push(Warning {
                            origin: origin_of(&self.sources, &entries[cur].loc),
                            message_id: entries[cur]
                                .has(FLAG_HAS_ID)
                                .then(|| self.strings.get(entries[cur].key).to_string()),
                            warning: "In-Reply-To/References form a loop; threading cut here"
                                .into(),
                        });
                        break;
                    }
                    Some(p) => cur = p,
                    None => break,
                }
            }
            for w in walk {
                state[w] = 2;
            }
        }
        let patchlike: Vec<bool> = entries.iter().map(|e| e.is_patch_like()).collect();
        let same_series = |a: &Entry, b: &Entry| {
            a.version == b.version && a.total.unwrap_or(1) == b.total.unwrap_or(1)
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
            Unthreaded(String, u32, u32, Vec<u32>),
            /// Patches whose thread starts at a message that is not a patch, or
            /// not in the input (a cover letter sent elsewhere): siblings of the
            /// same version and size under the same parent are one series.
            Under(u32, u32, u32),
        }
        let mut groups: BTreeMap<GroupKey, Vec<usize>> = BTreeMap::new();
        for i in (0..n).filter(|&i| patchlike[i]) {
            let a = anchor[i];
            let e = &entries[i];
            let total = e.total.unwrap_or(1);
            let threaded = e.has(FLAG_HAS_ID) && !e.parents.is_empty();
            let key = match parent[a] {
                // sent into another version's thread: a (partial) re-roll
                Some(p) if patchlike[p] => GroupKey::Reroll(anchor[p], e.version, total),
                None if a == i && !has_patch_child[i] && total > 1 && !threaded => {
                    GroupKey::Unthreaded(
                        e.from
                            .as_ref()
                            .map(|f| f.email.to_ascii_lowercase())
                            .unwrap_or_default(),
                        e.version,
                        total,
                        e.tags.to_vec(),
                    )
                }
                Some(p) if !entries[a].is_cover() => {
                    GroupKey::Under(entries[p].key, e.version, total)
                }
                None if !entries[a].is_cover() && !entries[a].parents.is_empty() => {
                    GroupKey::Under(entries[a].parents[0], e.version, total)
                }
                _ => GroupKey::Thread(a),
            };
            groups.entry(key).or_default().push(i);
        }
        let group_list: Vec<(GroupKey, Vec<usize>)> = groups.into_iter().collect();
        let mut group_of: Vec<u32> = vec![NONE; n];
        for (g, (_, members)) in group_list.iter().enumerate() {
            for &m in members {
                group_of[m] = g as u32;
            }
        }
        // replies: attach to the nearest patch-like ancestor
        // (kept as one sorted list with offsets: no map, no vector per patch)
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        for i in (0..n).filter(|&i| !patchlike[i]) {
            let mut cur = i;
            while let Some(p) = parent[cur] {
                if patchlike[p] {
                    pairs.push((p as u32, i as u32));
                    break;
                }
                cur = p;
            }
        }
        pairs.sort_by_key(|&(p, r)| (p, entries[r as usize].date, entries[r as usize].seq));
        let mut reply_start = vec![0u32; n + 1];
        for &(p, _) in &pairs {
            reply_start[p as usize + 1] += 1;
        }
        for k in 0..n {
            reply_start[k + 1] += reply_start[k];
        }
        let reply_list: Vec<u32> = pairs.into_iter().map(|(_, r)| r).collect();
        let mut groups: Vec<Group> = group_list
            .into_iter()
            .map(|(key, mut members)| {
                members.sort_by_key(|&i| {
                    (
                        entries[i].counter.unwrap_or(1),
                        entries[i].date,
                        entries[i].seq,
                    )
                });
                let reroll_of = match key {
                    GroupKey::Reroll(prev_anchor, _, _) => Some(group_of[prev_anchor])
                        .filter(|&g| g != NONE)
                        .map(|g| g as usize),
                    _ => None,
                };
                let head = members
                    .iter()
                    .copied()
                    .find(|&i| entries[i].is_cover())
                    .unwrap_or(members[0]);
                Group {
                    members,
                    reroll_of,
                    head,
                    link: String::new(),
                }
            })
            .collect();
        // link versions: same change-id, else same title
        for g in 0..groups.len() {
            let change_id = groups[g]
                .members
                .iter()
                .find_map(|&i| entries[i].base.as_ref().and_then(|b| b.change_id.clone()))
                .or_else(|| {
                    let prev = groups[g].reroll_of?;
                    groups[prev]
                        .members
                        .iter()
                        .find_map(|&i| entries[i].base.as_ref().and_then(|b| b.change_id.clone()))
                });
            let title = match groups[g].reroll_of {
                Some(prev) if !entries[groups[g].head].is_cover() => {
                    entries[groups[prev].head].title
                }
                _ => entries[groups[g].head].title,
            };
            // without a change-id, versions share title and author
            let author = entries[groups[g].head]
                .from
                .as_ref()
                .map(|f| f.email.to_ascii_lowercase())
                .unwrap_or_default();
            groups[g].link = match change_id {
                Some(c) => format!("change-id:{c}"),
                None => format!(
                    "title:{author}:{}",
                    subject::title_key(self.strings.get(title))
                ),
            };
        }
        let mut order: Vec<usize> = (0..groups.len()).collect();
        order.sort_by_key(|&g| {
            let h = &entries[groups[g].head];
            (h.date.unwrap_or(i64::MAX), h.seq)
        });
        let messages = self.entries.len();
        Assembled {
            entries: self.entries,
            strings: self.strings,
            sources: self.sources,
            reply_start,
            reply_list,
            groups,
            order,
            errors: self.errors,
            warnings: self.warnings,
            messages,
        }
    }
}

fn origin_of(sources: &[Arc<std::path::Path>], loc: &Loc) -> Origin {
    match loc {
        Loc::Mbox {
            source,
            index,
            offset,
        } => Origin::Mbox {
            path: sources[*source as usize].clone(),
            index: *index as usize,
            offset: *offset,
        },
        Loc::Other(o) => (**o).clone(),
    }
}

struct Group {
    /// Patch-like entries, sorted by counter.
    members: Vec<usize>,
    /// The group of the earlier version this one was sent into.
    reroll_of: Option<usize>,
    /// The cover letter, or the first patch.
    head: usize,
    /// Versions of one series share this key.
    link: String,
}

/// Threaded and grouped messages, ready to be turned into series one at a time.
pub struct Assembled {
    entries: Chunked<Entry>,
    strings: Interner,
    sources: Vec<Arc<std::path::Path>>,
    /// Replies of entry `i`: `reply_list[reply_start[i]..reply_start[i + 1]]`,
    /// oldest first.
    reply_start: Vec<u32>,
    reply_list: Vec<u32>,
    groups: Vec<Group>,
    order: Vec<usize>,
    pub errors: Vec<ReadError>,
    pub warnings: Vec<Warning>,
    /// Messages read (after removing duplicates and removals).
    pub messages: usize,
}

impl Assembled {
    /// An interned string, for output.
    fn s(&self, id: u32) -> Arc<str> {
        Arc::from(self.strings.get(id))
    }

    fn mid(&self, e: &Entry) -> Option<Arc<str>> {
        e.has(FLAG_HAS_ID).then(|| self.s(e.key))
    }

    fn trailer(&self, t: &[u32; 3]) -> Trailer {
        Trailer {
            name: self.s(t[0]),
            value: self.s(t[1]),
            extinfo: (t[2] != NONE).then(|| self.s(t[2])),
        }
    }

    /// The series, oldest first. Each is built when the iterator reaches it.
    pub fn series(&self) -> impl Iterator<Item = Series> + '_ {
        self.order.iter().map(move |&g| self.build(g))
    }

    /// Everything at once (for tests and small inputs).
    pub fn report(self) -> Report {
        let series = self.series().collect();
        Report {
            series,
            errors: self.errors,
            warnings: self.warnings,
            messages: self.messages,
        }
    }

    fn reply(&self, i: usize) -> Reply {
        let e = &self.entries[i];
        Reply {
            message_id: self.mid(e),
            from: e.from.clone(),
            date: e.date.map(rfc3339),
            subject: self.s(e.title),
            trailers: e.trailers.iter().map(|t| self.trailer(t)).collect(),
            commands: e.commands.iter().map(|&c| self.s(c)).collect(),
        }
    }

    fn replies(&self, i: usize) -> &[u32] {
        &self.reply_list[self.reply_start[i] as usize..self.reply_start[i + 1] as usize]
    }

    fn patches(
        &self,
        g: usize,
        cover_trailers: &[CollectedTrailer],
    ) -> (Vec<Patch>, Vec<Duplicate>) {
        let group = &self.groups[g];
        let mut by_counter: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for &i in &group.members {
            if !self.entries[i].is_cover() {
                by_counter
                    .entry(self.entries[i].counter.unwrap_or(1))
                    .or_default()
                    .push(i);
            }
        }
        let mut patches = Vec::new();
        let mut duplicates = Vec::new();
        for (&c, list) in &by_counter {
            if list.len() > 1 {
                duplicates.push(Duplicate {
                    counter: c,
                    message_ids: list[1..]
                        .iter()
                        .map(|&j| self.mid(&self.entries[j]))
                        .collect(),
                });
            }
            // replies to any copy of a patch sent twice count for the patch
            patches.push(self.patch(list[0], &list[1..], cover_trailers));
        }
        (patches, duplicates)
    }

    fn patch(&self, i: usize, copies: &[usize], cover_trailers: &[CollectedTrailer]) -> Patch {
        let e = &self.entries[i];
        let mut trailers: Vec<CollectedTrailer> = e
            .trailers
            .iter()
            .map(|t| CollectedTrailer {
                trailer: self.trailer(t),
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
        let mut replies: Vec<usize> = self.replies(i).iter().map(|&r| r as usize).collect();
        for &c in copies {
            replies.extend(self.replies(c).iter().map(|&r| r as usize));
        }
        replies.sort_by_key(|&r| (self.entries[r].date, self.entries[r].seq));
        for &r in &replies {
            for t in self.entries[r].trailers.iter() {
                let ct = CollectedTrailer {
                    trailer: self.trailer(t),
                    source: "reply",
                    message_id: self.mid(&self.entries[r]),
                };
                add(ct, &mut trailers);
            }
        }
        for ct in cover_trailers {
            add(ct.clone(), &mut trailers);
        }
        Patch {
            counter: e.counter.unwrap_or(1),
            subject: self.s(e.title),
            message_id: self.mid(e),
            author: e.from.clone(),
            date: e.date.map(rfc3339),
            files: e.files.iter().map(|&f| self.s(f)).collect(),
            trailers,
            replies: replies.iter().map(|&r| self.reply(r)).collect(),
            from_version: None,
            origin: origin_of(&self.sources, &e.loc),
            auto_submitted: e.has(FLAG_AUTO),
            sender: e.sender.clone(),
        }
    }

    fn cover_trailers(&self, cover: Option<usize>) -> Vec<CollectedTrailer> {
        let Some(c) = cover else { return Vec::new() };
        self.replies(c)
            .iter()
            .flat_map(|&r| {
                let r = r as usize;
                self.entries[r]
                    .trailers
                    .iter()
                    .map(move |t| CollectedTrailer {
                        trailer: self.trailer(t),
                        source: "cover-reply",
                        message_id: self.mid(&self.entries[r]),
                    })
            })
            .collect()
    }

    fn build(&self, g: usize) -> Series {
        let group = &self.groups[g];
        let entries = &self.entries;
        let members = &group.members;
        let cover_idx = members.iter().copied().find(|&i| entries[i].is_cover());
        let total = members
            .iter()
            .filter_map(|&i| entries[i].total)
            .max()
            .unwrap_or(1);
        let head = &entries[group.head];
        let cover_trailers = self.cover_trailers(cover_idx);
        let (mut patches, duplicates) = self.patches(g, &cover_trailers);
        let present: BTreeSet<u32> = patches.iter().map(|p| p.counter).collect();
        let mut missing: Vec<u32> = (1..=total).filter(|c| !present.contains(c)).collect();
        let mut base = BaseInfo::default();
        for b in members.iter().filter_map(|&i| entries[i].base.as_deref()) {
            base.base_commit = base.base_commit.or(b.base_commit.clone());
            base.change_id = base.change_id.or(b.change_id.clone());
            for p in &b.prerequisite_patch_ids {
                if !base.prerequisite_patch_ids.contains(p) {
                    base.prerequisite_patch_ids.push(p.clone());
                }
            }
            for p in &b.prerequisite_message_ids {
                if !base.prerequisite_message_ids.contains(p) {
                    base.prerequisite_message_ids.push(p.clone());
                }
            }
        }
        let mut title = self.s(head.title);
        let mut partial_reroll = false;
        // a partial re-roll carries the patches that were not re-sent
        if let Some(prev) = group.reroll_of {
            let prev_head = &entries[self.groups[prev].head];
            if prev_head.version < head.version {
                let (prev_patches, _) = self.patches(
                    prev,
                    &self.cover_trailers(
                        self.groups[prev]
                            .members
                            .iter()
                            .copied()
                            .find(|&i| entries[i].is_cover()),
                    ),
                );
                for c in missing.clone() {
                    if let Some(p) = prev_patches.iter().find(|p| p.counter == c) {
                        let mut p = p.clone();
                        p.from_version = Some(prev_head.version);
                        patches.push(p);
                        partial_reroll = true;
                        missing.retain(|&m| m != c);
                    }
                }
                patches.sort_by_key(|p| p.counter);
                if cover_idx.is_none() {
                    title = self.s(prev_head.title);
                }
                if base.change_id.is_none() {
                    base.change_id = self.groups[prev]
                        .members
                        .iter()
                        .find_map(|&i| entries[i].base.as_ref().and_then(|b| b.change_id.clone()));
                }
            }
        }
        let mut other_versions: Vec<VersionRef> = self
            .groups
            .iter()
            .enumerate()
            .filter(|(o, og)| {
                *o != g && og.link == group.link && entries[og.head].version != head.version
            })
            .map(|(_, og)| {
                let h = &entries[og.head];
                VersionRef {
                    version: h.version,
                    message_id: self.mid(h),
                    title: self.s(h.title),
                }
            })
            .collect();
        other_versions.sort_by(|a, b| (a.version, &a.message_id).cmp(&(b.version, &b.message_id)));
        other_versions.dedup();
        Series {
            title,
            version: head.version,
            rfc: members.iter().any(|&i| entries[i].has(FLAG_RFC)),
            resend: members.iter().any(|&i| entries[i].has(FLAG_RESEND)),
            tags: head.tags.iter().map(|&t| self.s(t)).collect(),
            author: head.from.clone(),
            date: head.date.map(rfc3339),
            cover: (cover_idx.is_some() || members.len() > 1 || total > 1).then(|| Cover {
                message_id: self.mid(head),
                subject: self.s(head.title),
                is_cover_letter: cover_idx.is_some(),
                auto_submitted: head.has(FLAG_AUTO),
                sender: head.sender.clone(),
            }),
            total,
            patches,
            missing,
            duplicates,
            base,
            partial_reroll,
            other_versions,
            replies: cover_idx
                .map(|c| {
                    self.replies(c)
                        .iter()
                        .map(|&r| self.reply(r as usize))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_to_patchbot() {
        let body = "Thanks.\n> patchbot: ignore quoted\npatchbot: ignore xen-sibling-pattern\n  PATCHBOT : ACK\npatchbot: ignore two words\npatchbot: ignore a;b\npatchbot: ack\n";
        assert_eq!(commands(body), ["ignore xen-sibling-pattern", "ack"]);
        assert!(commands("patchbot is great").is_empty());
    }

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
