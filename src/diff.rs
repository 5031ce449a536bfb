//! Unified diffs as `git format-patch` writes them (and quilt-style `--- a/`
//! `+++ b/` patches): files, hunks and lines, with the line numbers each line
//! has in the old and the new file and its line in the patch text, so a
//! finding can point at the patch line that added something. Pure and total:
//! malformed input gives fewer hunks, never a panic.

use serde::Serialize;

/// One line of a hunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    /// ' ' context, '+' added, '-' removed.
    pub kind: char,
    pub text: String,
    /// The line in the old file (context and removed lines).
    pub old: Option<u32>,
    /// The line in the new file (context and added lines).
    pub new: Option<u32>,
    /// The line of the patch text this is (1-based).
    pub patch_line: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hunk {
    pub old_start: u32,
    pub new_start: u32,
    /// The `@@ ... @@ heading` text after the second `@@`.
    pub heading: String,
    pub lines: Vec<Line>,
}

/// One file of a patch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileDiff {
    /// The old path (None for a new file).
    pub old_path: Option<String>,
    /// The new path (None for a deleted file).
    pub new_path: Option<String>,
    pub hunks: Vec<Hunk>,
}

impl FileDiff {
    /// The path the change is about: the new one, else the old one.
    pub fn path(&self) -> &str {
        self.new_path
            .as_deref()
            .or(self.old_path.as_deref())
            .unwrap_or_default()
    }

    /// Every added line, in order.
    pub fn added(&self) -> impl Iterator<Item = &Line> {
        self.hunks
            .iter()
            .flat_map(|h| h.lines.iter())
            .filter(|l| l.kind == '+')
    }
}

/// A `---`/`+++` path: `/dev/null` is none; the first component (`a/`, `b/`)
/// is dropped, as `-p1` does; a tab and what follows (a date) is cut.
fn header_path(s: &str) -> Option<String> {
    let s = s.split('\t').next().unwrap_or_default().trim_end();
    if s == "/dev/null" {
        return None;
    }
    Some(match s.split_once('/') {
        Some((_, rest)) => rest.to_string(),
        None => s.to_string(),
    })
}

/// `-a,b` / `+c,d`: the start line.
fn range_start(s: &str) -> Option<u32> {
    s[1..].split(',').next()?.parse().ok()
}

/// Parse the diff part of a patch (anything before the first file header is
/// skipped: the commit message, the diffstat).
pub fn parse(text: &str) -> Vec<FileDiff> {
    let mut files: Vec<FileDiff> = Vec::new();
    let lines: Vec<&str> = text.split('\n').collect();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if let (Some(old), Some(next)) = (l.strip_prefix("--- "), lines.get(i + 1)) {
            if let Some(new) = next.strip_prefix("+++ ") {
                files.push(FileDiff {
                    old_path: header_path(old),
                    new_path: header_path(new),
                    hunks: Vec::new(),
                });
                i += 2;
                continue;
            }
        }
        if let (Some(rest), Some(f)) = (l.strip_prefix("@@ "), files.last_mut()) {
            let mut parts = rest.splitn(3, ' ');
            let (Some(o), Some(n)) = (parts.next(), parts.next()) else {
                i += 1;
                continue;
            };
            let heading = parts
                .next()
                .and_then(|r| r.strip_prefix("@@"))
                .unwrap_or_default()
                .trim()
                .to_string();
            let (Some(mut old), Some(mut new)) = (range_start(o), range_start(n)) else {
                i += 1;
                continue;
            };
            let mut hunk = Hunk {
                old_start: old,
                new_start: new,
                heading,
                lines: Vec::new(),
            };
            i += 1;
            while i < lines.len() {
                let l = lines[i];
                let kind = match l.chars().next() {
                    Some(c @ (' ' | '+' | '-')) => c,
                    // `\ No newline at end of file`
                    Some('\\') => {
                        i += 1;
                        continue;
                    }
                    _ => break,
                };
                // the next file's header ends the hunk
                if kind == '-' && l.starts_with("--- ") {
                    if let Some(n) = lines.get(i + 1) {
                        if n.starts_with("+++ ") {
                            break;
                        }
                    }
                }
                let (o, n) = match kind {
                    ' ' => (Some(old), Some(new)),
                    '+' => (None, Some(new)),
                    _ => (Some(old), None),
                };
                if o.is_some() {
                    old = old.saturating_add(1);
                }
                if n.is_some() {
                    new = new.saturating_add(1);
                }
                hunk.lines.push(Line {
                    kind,
                    text: l[1..].to_string(),
                    old: o,
                    new: n,
                    patch_line: (i + 1) as u32,
                });
                i += 1;
            }
            f.hunks.push(hunk);
            continue;
        }
        i += 1;
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_hunks_and_line_numbers() {
        let p = "Subject: x\n\n--- \n a | 1 +\n\ndiff --git a/xen/Kconfig b/xen/Kconfig\nindex 1..2 100644\n--- a/xen/Kconfig\n+++ b/xen/Kconfig\n@@ -10,3 +10,4 @@ config A\n ctx\n-old\n+new1\n+new2\n ctx2\n\\ No newline at end of file\ndiff --git a/n.c b/n.c\nnew file mode 100644\n--- /dev/null\n+++ b/n.c\n@@ -0,0 +1 @@\n+int x;\n";
        let f = parse(p);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].path(), "xen/Kconfig");
        let h = &f[0].hunks[0];
        assert_eq!(h.heading, "config A");
        let added: Vec<(u32, &str, u32)> = f[0]
            .added()
            .map(|l| (l.new.unwrap(), l.text.as_str(), l.patch_line))
            .collect();
        assert_eq!(added, [(11, "new1", 13), (12, "new2", 14)]);
        assert_eq!(h.lines[1].old, Some(11));
        assert_eq!(h.lines[4].new, Some(13));
        assert_eq!(f[1].old_path, None);
        assert_eq!(f[1].path(), "n.c");
        assert_eq!(f[1].added().next().unwrap().new, Some(1));
    }

    #[test]
    fn a_removed_line_that_looks_like_a_header_stays_in_its_hunk() {
        let p = "--- a/doc\n+++ b/doc\n@@ -1,3 +1,2 @@\n a\n--- x\n b\n";
        let f = parse(p);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].hunks[0].lines.len(), 3);
    }

    #[test]
    fn garbage_gives_nothing_and_does_not_panic() {
        for p in [
            "",
            "@@ -x +y @@\n+a",
            "--- a\n",
            "--- a/b\n+++ b/b\n@@ -1",
            "\u{0}\n@@ @@",
        ] {
            let _ = parse(p);
        }
    }
}
