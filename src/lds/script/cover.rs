//! ld's matching semantics: an input section goes to the first input section
//! description, in script order across the whole script, that matches it.
//! A later description all of whose patterns an earlier one already takes is
//! dead. Decided by glob subsumption (does `P1` match every name `P2`
//! matches, for fnmatch's `*`, `?`, `[...]`), conservatively: when unsure, not
//! covered.

use super::ast::*;

#[derive(Clone, Debug, PartialEq)]
enum G {
    /// One byte from the set.
    One([u64; 4]),
    Star,
}

fn set_add(s: &mut [u64; 4], c: u8) {
    s[(c >> 6) as usize] |= 1u64 << (c & 63);
}
fn single(c: u8) -> G {
    let mut s = [0u64; 4];
    set_add(&mut s, c);
    G::One(s)
}

/// A glob as fnmatch(3) without flags reads it: `\` escapes, `[!..]`/`[^..]`
/// negate, an unterminated `[` is literal.
fn compile(p: &str) -> Vec<G> {
    let b = p.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'*' => {
                if out.last() != Some(&G::Star) {
                    out.push(G::Star);
                }
                i += 1;
            }
            b'?' => {
                out.push(G::One([u64::MAX; 4]));
                i += 1;
            }
            b'\\' if i + 1 < b.len() => {
                out.push(single(b[i + 1]));
                i += 2;
            }
            b'[' => match class(b, i + 1) {
                Some((set, next)) => {
                    out.push(G::One(set));
                    i = next;
                }
                None => {
                    out.push(single(b'['));
                    i += 1;
                }
            },
            c => {
                out.push(single(c));
                i += 1;
            }
        }
    }
    out
}

/// The class starting after `[` at `i`: its set and the index after `]`.
fn class(b: &[u8], mut i: usize) -> Option<([u64; 4], usize)> {
    let mut set = [0u64; 4];
    let negate = matches!(b.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut first = true;
    loop {
        let c = *b.get(i)?;
        if c == b']' && !first {
            i += 1;
            break;
        }
        first = false;
        let lo = if c == b'\\' {
            i += 1;
            *b.get(i)?
        } else {
            c
        };
        i += 1;
        if b.get(i) == Some(&b'-') && b.get(i + 1).is_some_and(|&n| n != b']') {
            let mut hi = b[i + 1];
            i += 2;
            if hi == b'\\' {
                hi = *b.get(i)?;
                i += 1;
            }
            for x in lo..=hi.max(lo) {
                set_add(&mut set, x);
            }
        } else {
            set_add(&mut set, lo);
        }
    }
    if negate {
        for w in set.iter_mut() {
            *w = !*w;
        }
    }
    Some((set, i))
}

/// The literal text before the first wildcard or escape.
fn literal_prefix(p: &str) -> &str {
    let n = p
        .bytes()
        .position(|c| matches!(c, b'*' | b'?' | b'[' | b'\\'))
        .unwrap_or(p.len());
    &p[..n]
}

/// Whether glob `wide` matches every string glob `narrow` matches. Sound
/// (never says yes wrongly), not complete: `false` means "not shown".
pub fn glob_covers(wide: &str, narrow: &str) -> bool {
    if wide == narrow {
        return true;
    }
    // Every name `narrow` matches starts with its literal prefix, every name
    // `wide` matches with its own: if they disagree, no name is in both.
    let (pw, pn) = (literal_prefix(wide), literal_prefix(narrow));
    let common = pw.len().min(pn.len());
    if pw.as_bytes()[..common] != pn.as_bytes()[..common] {
        return false;
    }
    covers_compiled(&compile(wide), &compile(narrow))
}

/// Whether byte set `a` holds every byte of `b`.
fn set_covers(a: &[u64; 4], b: &[u64; 4]) -> bool {
    a.iter().zip(b).all(|(x, y)| y & !x == 0)
}

fn covers_compiled(a: &[G], b: &[G]) -> bool {
    // Without `*`, `a` matches names of one length only: it covers `b` only
    // when `b` has no `*` either, is as long, and is covered place by place.
    if !a.contains(&G::Star) {
        return a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| match (x, y) {
                (G::One(sa), G::One(sb)) => set_covers(sa, sb),
                _ => false,
            });
    }
    // Quadratic table; patterns are short, but be safe on hostile input.
    let (n, m) = (a.len(), b.len());
    if (n + 1).saturating_mul(m + 1) > 1 << 20 {
        return false;
    }
    // ok[i][j]: a[i..] covers b[j..]; filled from the ends.
    let w = m + 1;
    let mut ok = vec![false; (n + 1) * w];
    for i in (0..=n).rev() {
        for j in (0..=m).rev() {
            let v = if i == n {
                j == m
            } else if a[i] == G::Star {
                ok[(i + 1) * w + j] || (j < m && ok[i * w + j + 1])
            } else if j == m {
                false
            } else {
                match (&a[i], &b[j]) {
                    (G::One(sa), G::One(sb)) => set_covers(sa, sb) && ok[(i + 1) * w + j + 1],
                    _ => false,
                }
            };
            ok[i * w + j] = v;
        }
    }
    ok[0]
}

/// Whether a glob (as ld reads it) matches a literal name.
pub fn glob_matches(pattern: &str, name: &str) -> bool {
    let lit: String = name
        .chars()
        .flat_map(|c| {
            if matches!(c, '*' | '?' | '[' | '\\') {
                vec!['\\', c]
            } else {
                vec![c]
            }
        })
        .collect();
    glob_covers(pattern, &lit)
}

/// File patterns: `archive:member` halves compared separately; a plain
/// pattern is only known to cover an archive pattern when it is `*`. Older
/// ld manuals say wildcards in file names do not match `/` (except a lone
/// `*`); ld 2.40 lets them. Sound either way: with a `/` on either side only
/// `*` or the same pattern covers.
fn file_covers(wide: &str, narrow: &str) -> bool {
    if wide == "*" || wide == narrow {
        return true;
    }
    if wide.contains('/') || narrow.contains('/') {
        return false;
    }
    match (wide.split_once(':'), narrow.split_once(':')) {
        (Some((wa, wm)), Some((na, nm))) => glob_covers(wa, na) && glob_covers(wm, nm),
        (None, None) => glob_covers(wide, narrow),
        _ => false,
    }
}

struct Taker<'s> {
    file: Option<&'s str>,
    section: &'s str,
    /// The length of `section`'s literal prefix.
    prefix: usize,
    /// `section` compiled, when first needed.
    compiled: std::cell::OnceCell<Vec<G>>,
    at: Cover,
}

impl<'s> Taker<'s> {
    fn new(file: Option<&'s str>, section: &'s str, at: Cover) -> Taker<'s> {
        Taker {
            prefix: literal_prefix(section).len(),
            compiled: std::cell::OnceCell::new(),
            file,
            section,
            at,
        }
    }

    fn prefix(&self) -> &'s [u8] {
        &self.section.as_bytes()[..self.prefix]
    }
}

/// The takers' literal prefixes, sorted, each with the takers that have it
/// (in script order) and the nearest other prefix that starts it. Two globs
/// can share a name only when one's literal prefix starts the other's (see
/// `glob_covers`); those takers of a pattern are the prefixes sorted from its
/// own prefix on while they extend it, and the chain of prefixes that start
/// it, found from the prefix sorted just before it.
struct Index<'s> {
    /// The takers sorted by (prefix, script order), each with its
    /// prefix's first bytes (`order_key`).
    order: Vec<(u128, &'s [u8], usize)>,
    /// Per distinct prefix: its takers, a range of `order`.
    entries: Vec<(usize, usize)>,
    /// Per distinct prefix: the nearest other one that starts it.
    parent: Vec<Option<usize>>,
    /// Per taker: its prefix's entry.
    entry_of: Vec<usize>,
}

impl<'s> Index<'s> {
    fn new(takers: &[Taker<'s>]) -> Index<'s> {
        let mut order: Vec<(u128, &[u8], usize)> = takers
            .iter()
            .enumerate()
            .map(|(i, t)| (order_key(t.prefix()), t.prefix(), i))
            .collect();
        order.sort_unstable();
        debug_assert!(order
            .windows(2)
            .all(|w| (w[0].1, w[0].2) < (w[1].1, w[1].2)));
        let mut entries: Vec<(usize, usize)> = Vec::new();
        let mut parent = Vec::new();
        let mut stack: Vec<usize> = Vec::new();
        let mut entry_of = vec![0; takers.len()];
        for (k, &(_, p, t)) in order.iter().enumerate() {
            if let Some(last) = entries.last_mut() {
                if order[last.0].1 == p {
                    last.1 = k + 1;
                    entry_of[t] = entries.len() - 1;
                    continue;
                }
            }
            entry_of[t] = entries.len();
            while stack
                .last()
                .is_some_and(|&e| !p.starts_with(order[entries[e].0].1))
            {
                stack.pop();
            }
            parent.push(stack.last().copied());
            stack.push(entries.len());
            entries.push((k, k + 1));
        }
        Index {
            order,
            entries,
            parent,
            entry_of,
        }
    }

    fn prefix(&self, e: usize) -> &'s [u8] {
        self.order[self.entries[e].0].1
    }

    /// The takers before `limit` that may take every name a pattern of
    /// literal prefix `p` matches, in script order, into `out`; each costs a
    /// unit of the budget, and false when it ran out. A taker whose prefix
    /// is longer than `p` is one only when `longer` (the pattern goes on with
    /// a class or an escape): after `*`, `?` or at the end the pattern
    /// matches a name that differs from that taker's prefix right there.
    /// `own`: a taker whose prefix is `p` (the pattern's own, when it is one).
    fn candidates(
        &self,
        p: &[u8],
        own: Option<usize>,
        longer: bool,
        limit: usize,
        budget: &mut usize,
        out: &mut Vec<usize>,
    ) -> bool {
        out.clear();
        // the first prefix not sorted before `p`
        let lo = match own {
            Some(t) => {
                debug_assert_eq!(self.prefix(self.entry_of[t]), p);
                self.entry_of[t]
            }
            None => {
                let key = order_key(p);
                self.entries.partition_point(|&(s, _)| {
                    let (k, e, _) = self.order[s];
                    k < key || (k == key && e < p)
                })
            }
        };
        let mut add = |e: usize, out: &mut Vec<usize>| -> bool {
            let (s, end) = self.entries[e];
            for &(_, _, t) in &self.order[s..end] {
                if t >= limit {
                    break;
                }
                if *budget == 0 {
                    return false;
                }
                *budget -= 1;
                out.push(t);
            }
            true
        };
        // `p` itself, and the prefixes that extend it
        for e in lo..self.entries.len() {
            let q = self.prefix(e);
            if !q.starts_with(p) || (!longer && q.len() > p.len()) {
                break;
            }
            if !add(e, out) {
                return false;
            }
        }
        // the prefixes that start `p`: the one sorted before it and its
        // chain, from the first of them that starts `p`
        let mut e = lo.checked_sub(1);
        while let Some(i) = e {
            if p.starts_with(self.prefix(i)) {
                break;
            }
            e = self.parent[i];
        }
        while let Some(i) = e {
            if !add(i, out) {
                return false;
            }
            e = self.parent[i];
        }
        out.sort_unstable();
        true
    }
}

/// The first 16 bytes, big-endian and zero padded: byte strings in this
/// order are in the order of their keys (equal keys: compare the strings).
fn order_key(p: &[u8]) -> u128 {
    let mut k = [0u8; 16];
    let n = p.len().min(16);
    k[..n].copy_from_slice(&p[..n]);
    u128::from_be_bytes(k)
}

/// The input descriptions that can take sections, in script order, with
/// whether their output section can (one without a constraint).
fn descriptions<'s>(
    script: &'s Script,
    mut f: impl FnMut(&'s InputDescription, bool, usize, usize),
) {
    let mut index = 0usize;
    for cmd in &script.commands {
        let CommandKind::Sections { items } = &cmd.kind else {
            continue;
        };
        for item in items {
            let secs: &[OutputSection] = match &item.kind {
                ItemKind::Output(o) => std::slice::from_ref(o),
                ItemKind::Overlay(ov) => &ov.sections,
                _ => continue,
            };
            for sec in secs {
                // A section with a constraint may be dropped: it takes nothing for sure.
                let can_take = sec.constraint.is_none();
                for (si, st) in sec.statements.iter().enumerate() {
                    if let StatementKind::Input(d) = &st.kind {
                        f(d, can_take, index, si);
                    }
                }
                index += 1;
            }
        }
    }
}

/// The same walk over the descriptions, mutable.
fn descriptions_mut(script: &mut Script, mut f: impl FnMut(&mut InputDescription)) {
    for cmd in &mut script.commands {
        let CommandKind::Sections { items } = &mut cmd.kind else {
            continue;
        };
        for item in items {
            let secs: &mut [OutputSection] = match &mut item.kind {
                ItemKind::Output(o) => std::slice::from_mut(o),
                ItemKind::Overlay(ov) => &mut ov.sections,
                _ => continue,
            };
            for sec in secs {
                for st in sec.statements.iter_mut() {
                    if let StatementKind::Input(d) = &mut st.kind {
                        f(d);
                    }
                }
            }
        }
    }
}

/// Mark dead descriptions and covered patterns in script order: decided
/// over the script read only (the takers borrow its patterns), then written.
pub(crate) fn mark(script: &mut Script, max_comparisons: usize) {
    // Per description: `dead`, then the `covered_by` of each of its patterns;
    // decided while the takers borrow the script.
    let ((dead, covers), complete) = {
        // The takers in script order, and each description with how many
        // takers come before it (a description is covered only by earlier
        // ones) and whether its own patterns are takers from there on.
        let mut count = 0;
        descriptions(script, |_, _, _, _| count += 1);
        let mut takers: Vec<Taker> = Vec::with_capacity(count * 2);
        let mut descs: Vec<(&InputDescription, usize, bool)> = Vec::with_capacity(count);
        descriptions(script, |d, can_take, index, si| {
            let before = takers.len();
            if can_take && d.flags.is_empty() {
                add_takers(d, index, si, &mut takers);
            }
            descs.push((d, before, takers.len() > before));
        });
        let index = Index::new(&takers);
        // Past the budget, nothing more is marked (see `ParseLimits`).
        let mut scan = Scan {
            takers: &takers,
            index: &index,
            budget: max_comparisons,
            cands: Vec::new(),
        };
        // one list for all: each description's patterns' covers in turn
        let mut covers: Vec<Option<Cover>> = Vec::with_capacity(descs.len() * 2);
        let dead: Vec<bool> = descs
            .iter()
            .map(|&(d, before, own)| scan.mark_one(d, before, own, &mut covers))
            .collect();
        ((dead, covers), scan.budget > 0)
    };
    let mut dead = dead.into_iter();
    let mut covers = covers.into_iter();
    descriptions_mut(script, |d| {
        let Some(is_dead) = dead.next() else {
            return;
        };
        d.dead = is_dead;
        if let Some(list) = &mut d.sections {
            for p in list.iter_mut() {
                p.covered_by = covers.next().flatten();
            }
        }
    });
    script.marks_complete = complete;
}

fn file_of(d: &InputDescription) -> Option<&str> {
    d.file.as_ref().map(|f| f.pattern.as_str())
}

struct Scan<'a, 's> {
    takers: &'a [Taker<'s>],
    index: &'a Index<'s>,
    budget: usize,
    cands: Vec<usize>,
}

impl Scan<'_, '_> {
    /// The first taker before `limit` that takes every section `section`
    /// names in the files `file` names.
    /// `own`: the taker this very pattern is, if it is one.
    fn covered(
        &mut self,
        file: Option<&str>,
        section: &str,
        own: Option<usize>,
        limit: usize,
    ) -> Option<Cover> {
        let prefix = literal_prefix(section).as_bytes();
        let longer = matches!(section.as_bytes().get(prefix.len()), Some(b'[' | b'\\'));
        let mut cands = std::mem::take(&mut self.cands);
        let within =
            self.index
                .candidates(prefix, own, longer, limit, &mut self.budget, &mut cands);
        if !within {
            // out of budget: conservatively not covered
            self.cands = cands;
            return None;
        }
        let mut narrow: Option<Vec<G>> = None;
        let found = cands.iter().find_map(|&i| {
            let t = &self.takers[i];
            let file_ok = match (t.file, file) {
                (None, _) => true,
                (Some(w), Some(n)) => file_covers(w, n),
                (Some(w), None) => w == "*",
            };
            let takes = file_ok
                && (t.section == section
                    || covers_compiled(
                        t.compiled.get_or_init(|| compile(t.section)),
                        narrow.get_or_insert_with(|| compile(section)),
                    ));
            takes.then_some(t.at)
        });
        self.cands = cands;
        found
    }

    /// Whether `d` is dead; its patterns' covers go to `covers`, in order.
    /// With `own`, its takers start at `limit`: one per pattern without an
    /// EXCLUDE_FILE (as `add_takers` made them).
    fn mark_one(
        &mut self,
        d: &InputDescription,
        limit: usize,
        own: bool,
        covers: &mut Vec<Option<Cover>>,
    ) -> bool {
        let file = file_of(d);
        match &d.sections {
            Some(list) => {
                let mut dead = !list.is_empty();
                let mut next_own = limit;
                for p in list {
                    let me = (own && takes_all(p)).then(|| {
                        next_own += 1;
                        next_own - 1
                    });
                    let c = self.covered(file, &p.pattern, me, limit);
                    dead &= c.is_some();
                    covers.push(c);
                }
                dead
            }
            None => self
                .covered(file, "*", own.then_some(limit), limit)
                .is_some(),
        }
    }
}

/// Whether a pattern of a taking description is a taker: one narrowed by
/// EXCLUDE_FILE is not known to take every name it matches.
fn takes_all(p: &SectionPattern) -> bool {
    p.exclude.is_empty()
}

fn add_takers<'s>(
    d: &'s InputDescription,
    section: usize,
    statement: usize,
    takers: &mut Vec<Taker<'s>>,
) {
    if d.file.as_ref().is_some_and(|f| !f.exclude.is_empty()) {
        return; // narrowed by EXCLUDE_FILE: not known to take everything
    }
    let file = file_of(d);
    match &d.sections {
        Some(list) => {
            for (pi, p) in list.iter().enumerate() {
                if takes_all(p) {
                    takers.push(Taker::new(
                        file,
                        &p.pattern,
                        Cover {
                            section,
                            statement,
                            pattern: pi,
                        },
                    ));
                }
            }
        }
        None => takers.push(Taker::new(
            file,
            "*",
            Cover {
                section,
                statement,
                pattern: 0,
            },
        )),
    }
}
