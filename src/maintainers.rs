//! A tree's MAINTAINERS file, read and matched the way Xen's (and Linux's)
//! `scripts/get_maintainer.pl` does with its default options: sections of `X:`
//! lines under a title; `F:`/`X:` file patterns (shell globs and `{a,b}`
//! braces turned into anchored regular expressions, a pattern naming a
//! directory of the tree matching everything below it, otherwise only files at
//! the same depth), `N:` regular expressions on the path, `K:` keywords on the
//! patch's added and removed lines. Sections are taken most specific first
//! (the pattern's depth); THE REST is dropped when a file also has a
//! maintainer or supporter of its own; addresses are de-duplicated.
//!
//! Pure: the tree is asked only which patterns name directories.

use std::collections::HashSet;

use regex::Regex;

/// One section: its title and its typed lines in order.
#[derive(Debug, Clone)]
pub struct Section {
    pub name: String,
    pub lines: Vec<(char, String)>,
    /// `F:` and `X:` patterns as anchored regular expressions (None: invalid).
    files: Vec<(char, Option<Regex>, String)>,
    /// `N:` and `K:` regular expressions.
    regexes: Vec<(char, Option<Regex>)>,
}

impl Section {
    /// The section's status (`S:`), lower case, or "unknown".
    pub fn status(&self) -> String {
        self.lines
            .iter()
            .rev()
            .find(|(t, _)| *t == 'S')
            .map_or("unknown".into(), |(_, v)| v.to_lowercase())
    }

    /// get_maintainer's role for the section's `M:` people.
    pub fn role(&self) -> String {
        let role = match self.status().as_str() {
            "supported" => "supporter".to_string(),
            "maintained" => "maintainer".to_string(),
            "odd fixes" => "odd fixer".to_string(),
            "orphan" => "orphan minder".to_string(),
            "obsolete" => "obsolete minder".to_string(),
            "buried alive in reporters" => "chief penguin".to_string(),
            other => other.to_string(),
        };
        format!("{role}:{}", short_name(&self.name))
    }

    /// The section's `M:` entries.
    pub fn maintainers(&self) -> impl Iterator<Item = &str> {
        self.typed('M')
    }

    /// The section's `R:` entries.
    pub fn reviewers(&self) -> impl Iterator<Item = &str> {
        self.typed('R')
    }

    fn typed(&self, t: char) -> impl Iterator<Item = &str> {
        self.lines
            .iter()
            .filter(move |(k, _)| *k == t)
            .map(|(_, v)| v.as_str())
    }
}

/// A parsed MAINTAINERS file.
#[derive(Debug, Clone, Default)]
pub struct Maintainers {
    pub sections: Vec<Section>,
}

/// Someone to write to, and why (get_maintainer's role).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Recipient {
    /// `Name <address>` as the file writes it.
    pub email: String,
    pub role: String,
}

impl Recipient {
    /// get_maintainer's `format_email`: a name with characters other than
    /// letters, digits, `_`, blanks and `-` (counted in bytes, as Perl does
    /// without `use utf8`) is quoted.
    pub fn formatted(&self) -> String {
        let e = self.email.trim();
        let (Some(i), Some(j)) = (e.rfind('<'), e.rfind('>')) else {
            return e.to_string();
        };
        let name = e[..i].trim().trim_matches('"');
        let addr = &e[i + 1..j];
        if name.is_empty() {
            return addr.to_string();
        }
        let plain = name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b' ' || b == b'-');
        if plain {
            format!("{name} <{addr}>")
        } else {
            format!("\"{name}\" <{addr}>")
        }
    }
}

/// Who a change concerns.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Recipients {
    /// Maintainers, supporters and reviewers, in get_maintainer's order.
    pub people: Vec<Recipient>,
    /// Mailing lists (`L:`), in order.
    pub lists: Vec<Recipient>,
    /// The sections that matched, most specific first per file.
    pub sections: Vec<String>,
}

/// get_maintainer's section name in roles: at most 20 characters, else 17 and `...`.
fn short_name(name: &str) -> String {
    if name.chars().count() > 20 {
        name.chars()
            .take(17)
            .collect::<String>()
            .trim_end()
            .to_string()
            + "..."
    } else {
        name.to_string()
    }
}

/// The address part of `Name <addr>` (or the whole value), lower case.
pub fn address_of(entry: &str) -> String {
    let e = entry.trim();
    let a = match (e.rfind('<'), e.rfind('>')) {
        (Some(i), Some(j)) if i < j => &e[i + 1..j],
        _ => e.split_whitespace().next().unwrap_or(e),
    };
    a.to_ascii_lowercase()
}

/// get_maintainer's conversion of an `F:`/`X:` value to a regular expression.
fn file_pattern(value: &str, is_dir: &dyn Fn(&str) -> bool) -> (String, String) {
    // bash brace expansion, not nested: {a,b,c} -> (a|b|c)
    let mut v = String::new();
    let mut rest = value;
    while let Some(i) = rest.find('{') {
        let Some(j) = rest[i..].find('}') else { break };
        v.push_str(&rest[..i]);
        v.push('(');
        v.push_str(&rest[i + 1..i + j].replace(',', "|"));
        v.push(')');
        rest = &rest[i + j + 1..];
    }
    v.push_str(rest);
    let mut re = String::new();
    for c in v.chars() {
        match c {
            '.' => re.push_str("\\."),
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            '+' | '^' | '$' | '[' | ']' | '\\' => {
                re.push('\\');
                re.push(c);
            }
            c => re.push(c),
        }
    }
    // a pattern naming a directory of the tree matches all below it
    if !re.ends_with('/') && !re.contains(".*") && is_dir(value.trim_end_matches('/')) {
        re.push('/');
    }
    let display = re.clone();
    (re, display)
}

impl Maintainers {
    /// Parse MAINTAINERS text; `is_dir` says whether a tree path is a directory.
    /// As in get_maintainer, every untyped line starts a section that runs to
    /// the next untyped line; sections without typed lines (the preamble) are
    /// dropped.
    pub fn parse(text: &str, is_dir: &dyn Fn(&str) -> bool) -> Maintainers {
        let mut sections: Vec<Section> = Vec::new();
        for line in text.lines() {
            let b = line.as_bytes();
            let typed = b.len() >= 2 && b[0].is_ascii_uppercase() && b[1] == b':';
            if !typed {
                if !line.trim().is_empty() {
                    sections.push(Section {
                        name: line.trim_end().to_string(),
                        lines: Vec::new(),
                        files: Vec::new(),
                        regexes: Vec::new(),
                    });
                }
                continue;
            }
            let Some(s) = sections.last_mut() else {
                continue;
            };
            let t = b[0] as char;
            let value = line[2..].trim().to_string();
            match t {
                'F' | 'X' => {
                    let (re, _) = file_pattern(&value, is_dir);
                    s.files.push((t, Regex::new(&format!("^{re}")).ok(), re));
                }
                'N' | 'K' => {
                    s.regexes
                        .push((t, Regex::new(&format!("(?x){value}")).ok()));
                }
                _ => {}
            }
            s.lines.push((t, value));
        }
        sections.retain(|s| !s.lines.is_empty());
        Maintainers { sections }
    }

    /// get_maintainer's `file_match_pattern` for one converted pattern.
    fn file_match(re: &Regex, pattern: &str, file: &str) -> bool {
        if !re.is_match(file) {
            return false;
        }
        pattern.ends_with('/') || file.matches('/').count() == pattern.matches('/').count()
    }

    /// The sections that cover `file`, most specific first (get_maintainer's
    /// depth: slashes in the pattern, one more when it does not end in `/`).
    pub fn sections_for(&self, file: &str) -> Vec<usize> {
        self.sections_with_depth(file)
            .into_iter()
            .map(|(_, i)| i)
            .collect()
    }

    /// `sections_for` with each section's depth. Sections of equal depth come
    /// in file order here; get_maintainer takes them in Perl's hash order,
    /// which differs between runs.
    pub fn sections_with_depth(&self, file: &str) -> Vec<(i64, usize)> {
        let mut hits: Vec<(i64, usize)> = Vec::new();
        for (i, s) in self.sections.iter().enumerate() {
            let excluded = s.files.iter().any(|(t, re, p)| {
                *t == 'X' && re.as_ref().is_some_and(|re| Self::file_match(re, p, file))
            });
            if excluded {
                continue;
            }
            let mut best: Option<i64> = None;
            for (t, re, p) in &s.files {
                if *t != 'F' || !re.as_ref().is_some_and(|re| Self::file_match(re, p, file)) {
                    continue;
                }
                let mut depth = p.matches('/').count() as i64;
                if !p.ends_with('/') {
                    depth += 1;
                }
                if p.starts_with(".*") {
                    depth = -1;
                }
                // later matches of one section overwrite earlier ones
                best = Some(depth);
            }
            for (t, re) in &s.regexes {
                if *t == 'N' && re.as_ref().is_some_and(|re| re.is_match(file)) {
                    best = Some(0);
                }
            }
            if let Some(d) = best {
                hits.push((d, i));
            }
        }
        // Perl's sort is stable over hash keys in no particular order; we keep
        // file order for equal depths
        hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        hits
    }

    /// The sections whose `K:` keyword matches the patch, read as
    /// get_maintainer reads one: before the first `---`/`+++` file header any
    /// line counts (commit message, diffstat); after it only added and removed
    /// lines; file headers, `diff --git`, `rename`, `mode change` and `@@ -a,b`
    /// lines never.
    pub fn keyword_sections(&self, patch: &str) -> Vec<usize> {
        let mut in_patch = false;
        let mut matching: Vec<&str> = Vec::new();
        for l in patch.lines() {
            let header = l.starts_with(" mode change ")
                || l.starts_with("rename from ")
                || l.starts_with("rename to ")
                || l.starts_with("diff --git a/");
            let file = (l.starts_with("+++") || l.starts_with("---"))
                && l[3..].starts_with(char::is_whitespace)
                && !l[3..].trim().is_empty();
            if header {
                continue;
            }
            if file {
                in_patch = true;
                continue;
            }
            if let Some(r) = l.strip_prefix("@@ -") {
                let digits = r.trim_start_matches(|c: char| c.is_ascii_digit());
                if digits.len() < r.len() && digits.starts_with(',') {
                    continue;
                }
            }
            if !in_patch {
                matching.push(l);
            } else if l.starts_with('+') || l.starts_with('-') {
                matching.push(&l[1..]);
            }
        }
        self.keyword_sections_in(&matching)
    }

    /// The sections whose `K:` keyword matches one of `lines` anywhere (what
    /// get_maintainer does with a file's text in `-f` mode).
    pub fn keyword_sections_in(&self, lines: &[&str]) -> Vec<usize> {
        let mut out = Vec::new();
        for (i, s) in self.sections.iter().enumerate() {
            let hit = s.regexes.iter().any(|(t, re)| {
                *t == 'K'
                    && re
                        .as_ref()
                        .is_some_and(|re| lines.iter().any(|l| re.is_match(l)))
            });
            if hit {
                out.push(i);
            }
        }
        out
    }

    /// Whom to write to about changes to `files` (and a patch's text for `K:`):
    /// get_maintainer's default output (maintainers, reviewers, lists).
    pub fn recipients(&self, files: &[String], patch: Option<&str>) -> Recipients {
        let keywords = patch.map(|p| self.keyword_sections(p)).unwrap_or_default();
        self.recipients_with(files, &keywords)
    }

    /// `recipients` with the keyword sections already found.
    pub fn recipients_with(&self, files: &[String], keywords: &[usize]) -> Recipients {
        let mut r = Recipients::default();
        let mut seen: HashSet<String> = HashSet::new();
        let mut lists_seen: HashSet<String> = HashSet::new();
        let mut suppress_the_rest = true;
        let mut files: Vec<String> = files.to_vec();
        files.sort();
        files.dedup();
        let mut add = |r: &mut Recipients, i: usize| {
            let s = &self.sections[i];
            r.sections.push(s.name.clone());
            for (t, v) in &s.lines {
                match t {
                    'L' => {
                        // get_maintainer's parse_email: the address runs to the
                        // first blank after its `@`; every list is an open list
                        let addr = v.split_whitespace().next().unwrap_or_default().to_string();
                        if lists_seen.insert(addr.to_ascii_lowercase()) {
                            let role = if s.name == "THE REST" {
                                "open list".to_string()
                            } else {
                                format!("open list:{}", short_name(&s.name))
                            };
                            r.lists.push(Recipient { email: addr, role });
                        }
                    }
                    'M' | 'R' => {
                        // get_maintainer keeps one line per formatted address
                        // (exact, case included)
                        let key = Recipient {
                            email: v.clone(),
                            role: String::new(),
                        }
                        .formatted();
                        if seen.insert(key) {
                            r.people.push(Recipient {
                                email: v.clone(),
                                role: if *t == 'M' {
                                    s.role()
                                } else {
                                    "reviewer".into()
                                },
                            });
                        }
                    }
                    _ => {}
                }
            }
        };
        for f in &files {
            let mut only_the_rest = true;
            for i in self.sections_for(f) {
                add(&mut r, i);
                if self.sections[i].role() != "supporter:THE REST" {
                    only_the_rest = false;
                }
            }
            if only_the_rest {
                suppress_the_rest = false;
            }
        }
        // drop THE REST's people when someone else (not only a reviewer) is there
        if suppress_the_rest && r.people.len() > 1 {
            let other = r
                .people
                .iter()
                .any(|p| p.role != "supporter:THE REST" && p.role != "reviewer");
            if other {
                r.people.retain(|p| p.role != "supporter:THE REST");
            }
        }
        let mut keywords = keywords.to_vec();
        keywords.sort();
        keywords.dedup();
        for i in keywords {
            add(&mut r, i);
        }
        r.sections.dedup();
        r
    }
}
