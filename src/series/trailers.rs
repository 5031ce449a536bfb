//! Trailers (`Reviewed-by:` and friends) by b4's rules, and the
//! `base-commit:` / `prerequisite-patch-id:` / `change-id:` block.
//!
//! In a patch, trailers are read from the last paragraph of the commit message.
//! In a follow-up (a reply), b4 is stricter: quoted lines never count, a trailer
//! must name a person (an e-mail address) unless it is one of the known
//! non-person trailers (`Fixes:`, `Link:`, ...), and a value with a URL is ignored.
//! Xen's area scoping, `Acked-by: Name <mail> # x86`, is kept as `extinfo`; so is a
//! `[for the foo bits]` line under a trailer.

use std::sync::Arc;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Trailer {
    /// As written, with the usual capitalisation restored for known names.
    pub name: Arc<str>,
    pub value: Arc<str>,
    /// `# x86` area scoping or a `[...]` line, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extinfo: Option<Arc<str>>,
}

impl Trailer {
    pub fn lname(&self) -> String {
        self.name.to_ascii_lowercase()
    }
    /// A `*-by` trailer (names a person).
    pub fn is_person(&self) -> bool {
        self.lname().ends_with("-by")
    }
}

/// Canonical spellings of the trailers Xen and Linux use.
const KNOWN: &[&str] = &[
    "Signed-off-by",
    "Reviewed-by",
    "Acked-by",
    "Tested-by",
    "Reported-by",
    "Suggested-by",
    "Requested-by",
    "Release-acked-by",
    "Co-developed-by",
    "Co-authored-by",
    "Cc",
    "Fixes",
    "Link",
    "Closes",
    "Backport",
];

const IGNORES: &[&str] = &["phone", "email"];
/// Header names that are not trailers once other text was seen (`To:` is added
/// to b4's list: pasted headers of a forwarded mail are not trailers).
const HEADERS: &[&str] = &["subject", "date", "from", "to"];
const NONPERSON: &[&str] = &[
    "fixes",
    "subject",
    "date",
    "link",
    "buglink",
    "obsoleted-by",
    "change-id",
    "base-commit",
    "closes",
];

fn canonical(name: &str) -> String {
    KNOWN
        .iter()
        .find(|k| k.eq_ignore_ascii_case(name))
        .map_or_else(|| name.to_string(), |k| k.to_string())
}

/// `^\s*(\w\S+):\s+(\S.*)`: a name of two or more non-blank characters starting
/// with a word character, a colon, blanks, and a value.
fn match_trailer(line: &str) -> Option<(&str, &str)> {
    let l = line.trim_start();
    let end = l.find(char::is_whitespace)?;
    let word = &l[..end];
    let name = word.strip_suffix(':')?;
    // b4 takes `\w\S+`; we also require a letter first and only letters,
    // digits, `-` and `_` (so `10,12:` or `http://x:` are not trailer names)
    let mut chars = name.chars();
    let first = chars.next()?;
    if !first.is_ascii_alphabetic() || chars.next().is_none() {
        return None;
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return None;
    }
    let value = l[end..].trim_start();
    if value.is_empty() {
        return None;
    }
    Some((name, value))
}

/// `(.*\S+)(\s+#[^#]+)$`: split off a trailing ` # comment`.
fn split_extinfo(value: &str) -> (&str, Option<&str>) {
    let Some(hash) = value.rfind('#') else {
        return (value, None);
    };
    if hash + 1 >= value.len() {
        return (value, None);
    }
    let before = &value[..hash];
    let trimmed = before.trim_end();
    if trimmed.len() == before.len() || trimmed.is_empty() {
        return (value, None);
    }
    (trimmed, Some(value[trimmed.len()..].trim()))
}

fn looks_like_email(v: &str) -> bool {
    // \S+@\S+\.\S+
    v.split_whitespace().any(|w| {
        w.find('@').is_some_and(|at| {
            at > 0 && {
                let dom = &w[at + 1..];
                dom.find('.').is_some_and(|d| d > 0 && d + 1 < dom.len())
            }
        })
    })
}

fn is_extinfo_line(line: &str) -> bool {
    let t = line.trim();
    t.len() > 2 && t.starts_with('[') && t.ends_with(']') && !t[1..t.len() - 1].contains(']')
}

/// Join the two kinds of wrapped trailers b4 repairs: `Fixes: sha (title` +
/// `rest)` and `Signed-off-by: Long Name` + `<mail>`.
fn unwrap_lines(body: &str) -> Vec<String> {
    let lines: Vec<&str> = body.split('\n').collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if let (Some((_, v)), Some(next)) = (match_trailer(l), lines.get(i + 1)) {
            let n = next.trim_end_matches('\r');
            let fixes_wrap = {
                let mut w = v.split_whitespace();
                let sha = w.next().unwrap_or("");
                sha.len() >= 4
                    && sha.bytes().all(|c| c.is_ascii_hexdigit())
                    && v.contains('(')
                    && !v.contains(')')
                    && n.ends_with(')')
                    && !n.trim().is_empty()
            };
            let mail_wrap =
                !v.contains('<') && n.starts_with('<') && n.ends_with('>') && !n[1..].contains('<');
            if fixes_wrap || mail_wrap {
                out.push(format!("{} {}", l.trim_end_matches('\r'), n));
                i += 2;
                continue;
            }
        }
        out.push(l.to_string());
        i += 1;
    }
    out
}

/// b4's `find_trailers`.
pub fn find_trailers(body: &str, followup: bool) -> Vec<Trailer> {
    let body = body.split("\n-- \n").next().unwrap_or("");
    let mut trailers: Vec<Trailer> = Vec::new();
    let mut others = 0usize;
    let mut was_trailer = false;
    for line in unwrap_lines(body.trim()) {
        let line = line.trim_matches('\r');
        if let Some((oname, value)) = match_trailer(line) {
            let lname = oname.to_ascii_lowercase();
            if IGNORES.contains(&lname.as_str()) {
                continue;
            }
            if others > 0 && HEADERS.contains(&lname.as_str()) {
                continue;
            }
            if followup {
                if !lname.is_ascii() {
                    continue;
                }
                if !looks_like_email(value) && !NONPERSON.contains(&lname.as_str()) {
                    continue;
                }
                if value.contains("http://") || value.contains("https://") {
                    continue;
                }
            }
            let (value, extinfo) = split_extinfo(value);
            trailers.push(Trailer {
                name: canonical(oname).into(),
                value: value.into(),
                extinfo: extinfo.map(Arc::from),
            });
            was_trailer = true;
            continue;
        }
        if was_trailer && is_extinfo_line(line) {
            if let Some(t) = trailers.last_mut() {
                t.extinfo = Some(line.trim().into());
            }
            was_trailer = false;
            continue;
        }
        was_trailer = false;
        others += 1;
    }
    trailers
}

/// The trailers of a patch: those in the last paragraph of its commit message.
pub fn patch_trailers(message: &str) -> Vec<Trailer> {
    let trimmed = message.trim_end();
    let last_para = trimmed.rsplit("\n\n").next().unwrap_or("");
    find_trailers(last_para, false)
        .into_iter()
        .filter(|t| !HEADERS.contains(&t.lname().as_str()))
        .collect()
}

/// What `git format-patch --base` and b4 write under a cover letter or patch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BaseInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_commit: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub prerequisite_patch_ids: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub prerequisite_message_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_id: Option<String>,
}

impl BaseInfo {
    pub fn is_empty(&self) -> bool {
        *self == BaseInfo::default()
    }
}

/// Find the base block lines anywhere in a message body (they sit at the end of a
/// cover letter, or after the diff of a single patch). Quoted lines do not count.
pub fn base_info(body: &str) -> BaseInfo {
    base_info_bytes(&[body.as_bytes()])
}

/// [`base_info`] over byte chunks (message, patch), decoding only matching lines.
pub fn base_info_bytes(chunks: &[&[u8]]) -> BaseInfo {
    const KEYS: [&[u8]; 4] = [
        b"base-commit:",
        b"prerequisite-patch-id:",
        b"prerequisite-message-id:",
        b"change-id:",
    ];
    let mut b = BaseInfo::default();
    for chunk in chunks {
        for raw in chunk.split(|&c| c == b'\n') {
            if !KEYS.iter().any(|k| raw.starts_with(k)) {
                continue;
            }
            let line = String::from_utf8_lossy(raw);
            let line = line.trim_end();
            let field = |p: &str| {
                line.strip_prefix(p)
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
            };
            if let Some(v) = field("base-commit:") {
                if v.len() >= 7
                    && v.bytes().all(|c| c.is_ascii_hexdigit())
                    && b.base_commit.is_none()
                {
                    b.base_commit = Some(v.to_ascii_lowercase());
                }
            } else if let Some(v) = field("prerequisite-patch-id:") {
                b.prerequisite_patch_ids.push(v);
            } else if let Some(v) = field("prerequisite-message-id:") {
                b.prerequisite_message_ids
                    .push(v.trim_matches(['<', '>']).to_string());
            } else if let Some(v) = field("change-id:") {
                if b.change_id.is_none() {
                    b.change_id = Some(v);
                }
            }
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follow_up_rules() {
        let body = "On Tue, Ann wrote:\n> Reviewed-by: Quoted Person <q\x40example.org>\n> ---\n\nLooks good.\n\nReviewed-by: Bob Reviewer <bob\x40example.org>\nAcked-by: Jan Maint <jan\x40example.org> # x86\nLink: https://example.org/x\nFixes: 0123456789ab (\"xen: old\")\nNote: not a person\n-- \nSig: sig\x40example.org\n";
        let t = find_trailers(body, true);
        let names: Vec<_> = t
            .iter()
            .map(|t| (&*t.name, &*t.value, t.extinfo.as_deref()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("Reviewed-by", "Bob Reviewer <bob\x40example.org>", None),
                ("Acked-by", "Jan Maint <jan\x40example.org>", Some("# x86")),
                ("Fixes", "0123456789ab (\"xen: old\")", None),
            ]
        );
    }

    #[test]
    fn wrapped_and_extinfo_lines() {
        let body = "Signed-off-by: A Very Long Name\n<long\x40example.org>\n[for the arm bits]\nFixes: abcdef012345 (\"a long\ntitle\")\n";
        let t = find_trailers(body, false);
        assert_eq!(&*t[0].value, "A Very Long Name <long\x40example.org>");
        assert_eq!(t[0].extinfo.as_deref(), Some("[for the arm bits]"));
        assert_eq!(&*t[1].value, "abcdef012345 (\"a long title\")");
    }

    #[test]
    fn names_must_look_like_trailer_names() {
        let body = "Thanks.\n\n10,12: r\x40x.org\nhttp://x: y\x40x.org\nTo: Someone <s\x40x.org>\nCc: Other <o\x40x.org>\n";
        let t = find_trailers(body, true);
        let names: Vec<&str> = t.iter().map(|t| &*t.name).collect();
        assert_eq!(names, vec!["Cc"]);
    }

    #[test]
    fn base_block() {
        let b = base_info("text\n\nbase-commit: ABCDEF0123456789\nprerequisite-patch-id: 11\nchange-id: 20231215-fa-1\n> base-commit: ffff\n");
        assert_eq!(b.base_commit.as_deref(), Some("abcdef0123456789"));
        assert_eq!(b.prerequisite_patch_ids, vec!["11"]);
        assert_eq!(b.change_id.as_deref(), Some("20231215-fa-1"));
    }
}
