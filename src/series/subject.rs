//! The subject grammar of patch mail, after b4 and Patchwork:
//! `Re: [XEN PATCH for-4.19 v2 3/5] xen/arm: title`.
//!
//! Leading `Re:`/`Fwd:` markers and bracket groups are consumed in any order
//! (`[xen-devel] Re: [PATCH]` happens). Inside a group, words are split on commas and
//! whitespace; nested groups are flattened. Known words set flags; the rest are kept
//! as tags (`XEN`, `for-4.19`, `net-next`).

use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Subject {
    /// `Re:` (or a localised variant) was seen.
    pub reply: bool,
    /// `Fwd:`/`Fw:` was seen.
    pub forward: bool,
    /// `PATCH` (in any spelling: `PATCHv3`, `PATCH1/8`) was seen.
    pub patch: bool,
    pub rfc: bool,
    pub resend: bool,
    /// 1 when no `vN` was given.
    pub version: u32,
    /// `N` of `N/M`.
    pub counter: Option<u32>,
    /// `M` of `N/M`.
    pub total: Option<u32>,
    /// Other words of the bracket groups, in order.
    pub tags: Vec<String>,
    /// What remains: the title.
    pub title: String,
}

impl Subject {
    /// A patch or cover letter (not a reply): has `PATCH`/`RFC` or a counter.
    pub fn is_patch_like(&self) -> bool {
        !self.reply && (self.patch || self.rfc || self.counter.is_some())
    }
    pub fn is_cover(&self) -> bool {
        self.is_patch_like() && self.counter == Some(0)
    }
    /// The message is a patch or cover letter: its subject says so, or it carries
    /// a diff and is neither a reply nor a forward.
    pub fn is_patch_message(&self, has_patch: bool) -> bool {
        (self.is_patch_like() || (has_patch && !self.reply)) && !self.forward
    }
}

fn parse_version(w: &str) -> Option<u32> {
    let w = w.strip_prefix('-').unwrap_or(w);
    let rest = w.strip_prefix('v').or_else(|| w.strip_prefix('V'))?;
    if rest.is_empty() || rest.len() > 6 || !rest.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
}

fn parse_counter(w: &str) -> Option<(u32, u32)> {
    let (a, b) = w.split_once('/')?;
    let ok = |s: &str| !s.is_empty() && s.len() <= 6 && s.bytes().all(|c| c.is_ascii_digit());
    if !ok(a) || !ok(b) {
        return None;
    }
    Some((a.parse().ok()?, b.parse().ok()?))
}

fn strip_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix)
    {
        Some(&s[prefix.len()..])
    } else {
        None
    }
}

fn word(s: &mut Subject, w: &str) {
    if w.is_empty() {
        return;
    }
    if w.eq_ignore_ascii_case("PATCH") {
        s.patch = true;
        return;
    }
    if w.eq_ignore_ascii_case("RFC") {
        s.rfc = true;
        return;
    }
    if w.eq_ignore_ascii_case("RESEND") {
        s.resend = true;
        return;
    }
    if let Some(v) = parse_version(w) {
        s.version = v;
        return;
    }
    if let Some((n, m)) = parse_counter(w) {
        s.counter = Some(n);
        s.total = Some(m);
        return;
    }
    // glued forms: PATCHv3, PATCH1/8, RFCv2, PATCH-v2
    for (kw, is_patch) in [("PATCH", true), ("RFC", false)] {
        if let Some(rest) = strip_ci(w, kw) {
            let rest = rest.trim_start_matches(['-', '_']);
            if let Some(v) = parse_version(rest) {
                if is_patch {
                    s.patch = true
                } else {
                    s.rfc = true
                }
                s.version = v;
                return;
            }
            if let Some((n, m)) = parse_counter(rest) {
                if is_patch {
                    s.patch = true
                } else {
                    s.rfc = true
                }
                s.counter = Some(n);
                s.total = Some(m);
                return;
            }
        }
    }
    s.tags.push(w.to_string());
}

/// Reply and forward markers that mail clients put in front of a subject.
const REPLY: [&str; 6] = ["re:", "aw:", "sv:", "antw:", "vs:", "odp:"];
const FORWARD: [&str; 3] = ["fwd:", "fw:", "wg:"];

/// Parse a subject. Never fails; at worst everything is title.
pub fn parse(subject: &str) -> Subject {
    let mut s = Subject {
        version: 1,
        ..Default::default()
    };
    let mut rest = subject.trim_start();
    loop {
        rest = rest.trim_start();
        // `Re:` after the patch's own bracket group is part of the title
        // (`[PATCH] fw: update the firmware loader`)
        let in_title = s.patch || s.rfc || s.counter.is_some();
        if let Some(r) = REPLY
            .iter()
            .find_map(|p| strip_ci(rest, p))
            .filter(|_| !in_title)
        {
            s.reply = true;
            rest = r;
            continue;
        }
        if let Some(r) = FORWARD
            .iter()
            .find_map(|p| strip_ci(rest, p))
            .filter(|_| !in_title)
        {
            s.forward = true;
            rest = r;
            continue;
        }
        if rest.starts_with('[') {
            // find the matching close bracket, allowing nesting
            let mut depth = 0usize;
            let mut end = None;
            for (i, c) in rest.char_indices() {
                match c {
                    '[' => depth += 1,
                    ']' => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(i);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let Some(end) = end else { break };
            let inner = &rest[1..end];
            for w in inner.split(|c: char| c == ',' || c == '[' || c == ']' || c.is_whitespace()) {
                word(&mut s, w);
            }
            rest = &rest[end + 1..];
            continue;
        }
        break;
    }
    // `PATCHv3 1/2: title` without brackets (rare, but seen)
    if !s.patch && !s.rfc && strip_ci(rest, "PATCH").is_some() {
        let mut words = rest.splitn(3, char::is_whitespace);
        let w1 = words.next().unwrap_or("").trim_end_matches(':');
        let mut probe = Subject {
            version: 1,
            ..Default::default()
        };
        word(&mut probe, w1);
        if probe.patch && (probe.version != 1 || probe.counter.is_some()) {
            s.patch = true;
            s.version = probe.version;
            s.counter = probe.counter;
            s.total = probe.total;
            let after1 = rest[rest.find(w1).unwrap_or(0) + w1.len()..]
                .trim_start_matches(':')
                .trim_start();
            let w2 = after1
                .split(|c: char| c.is_whitespace() || c == ':')
                .next()
                .unwrap_or("");
            rest = match parse_counter(w2) {
                Some((n, m)) => {
                    s.counter = Some(n);
                    s.total = Some(m);
                    after1[w2.len()..].trim_start_matches(':')
                }
                None => after1,
            };
        }
    }
    s.title = rest.split_whitespace().collect::<Vec<_>>().join(" ");
    s
}

/// A key for matching titles across versions: lower case, words only.
pub fn title_key(title: &str) -> String {
    title
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_forms() {
        let s = parse("[PATCH v4 1/4] xen: introduce FUNCTION_ALIGNMENT");
        assert!(s.patch && !s.reply);
        assert_eq!((s.version, s.counter, s.total), (4, Some(1), Some(4)));
        assert_eq!(s.title, "xen: introduce FUNCTION_ALIGNMENT");

        let s = parse("Re: [XEN PATCH for-4.19 v2 3/5] xen/arm: fix");
        assert!(s.reply && s.patch);
        assert_eq!(s.tags, vec!["XEN", "for-4.19"]);
        assert_eq!((s.version, s.counter), (2, Some(3)));

        let s = parse("[PATCHv3 1/2] foo");
        assert_eq!((s.version, s.counter, s.total), (3, Some(1), Some(2)));
        let s = parse("[PATCH1/8] foo");
        assert_eq!((s.counter, s.total), (Some(1), Some(8)));
        let s = parse("[RFC PATCH 0/3] foo");
        assert!(s.rfc && s.is_cover());
        let s = parse("[PATCH RESEND] foo");
        assert!(s.resend && s.counter.is_none());
        let s = parse("[PATCH -next v2 01/10] foo");
        assert_eq!(
            (s.version, s.counter, s.tags.clone()),
            (2, Some(1), vec!["-next".to_string()])
        );
        let s = parse("[PATCH 1/8] [net-next] foo");
        assert_eq!(s.tags, vec!["net-next"]);
        let s = parse("[PATCH [net-next] v2,2/3] foo");
        assert_eq!(
            (s.version, s.counter, s.tags.clone()),
            (2, Some(2), vec!["net-next".to_string()])
        );
        let s = parse("Fwd: Re: [xen-devel] Re: [PATCH] x");
        assert!(s.reply && s.forward && s.patch);
        assert_eq!(s.tags, vec!["xen-devel"]);
        let s = parse("PATCHv3 2/7: bar");
        assert_eq!(
            (s.version, s.counter, s.title.as_str()),
            (3, Some(2), "bar")
        );
        let s = parse("Reply all: nothing");
        assert!(!s.reply && !s.patch);
        assert_eq!(s.title, "Reply all: nothing");
        let s = parse("[PATCH 0/1] fw: load the firmware");
        assert!(!s.forward && !s.reply);
        assert_eq!(s.title, "fw: load the firmware");
        let s = parse("[PATCH] Re: a title that starts like a reply");
        assert!(!s.reply);
        let s = parse("[PATCH v2 2/3");
        assert_eq!(s.title, "[PATCH v2 2/3");
    }
}
