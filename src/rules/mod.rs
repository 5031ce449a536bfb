//! Declarative review rules (`rules/*.toml`) and the one finding model every
//! rendering uses.
//!
//! A rule names a check kind and gives it its parameters (sections, patterns,
//! symbols: no check kind knows `.text.*` or `FUNCTION_ALIGNMENT`), a
//! severity, a rationale and a message template. Check kinds are Rust code in
//! `checks.rs`; they look at the rebuilt outputs of the base and the patched
//! tree and at the series' diffs, read nothing themselves, and report
//! [`Finding`]s. Findings are differential: what a check finds on the base
//! tree as well is not the series' doing and is kept apart as pre-existing.

pub mod checks;
pub mod sources;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A check kind and its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Check {
    /// Where the patched tree closes an output section's per-function input
    /// sections with `. = ALIGN(<symbol>)` on some architecture, every
    /// architecture whose same section has a live per-function description and
    /// a non-zero value of the symbol must have `. = ALIGN(N)`, N a multiple of
    /// the value, as the first live statement after it.
    SectionEndAlign {
        /// The output section (`.text`).
        section: String,
        /// The per-function input-section pattern (`.text.*`).
        per_function: String,
        /// The Kconfig symbol the ALIGN uses, without `CONFIG_`.
        symbol: String,
    },
    /// For a Kconfig symbol the series starts using in linker scripts or build
    /// files: the architectures that get no value in some variant (or only a
    /// range minimum) and whose script carries the pattern, or that use the
    /// symbol outside any guard (its preprocessed script keeps the bare
    /// `CONFIG_X`; a build file uses `$(CONFIG_X)` outside any `ifdef`/`ifeq`
    /// naming it).
    MissingValue {
        /// The output section the pattern is in.
        section: String,
        /// The input-section pattern that marks the architectures that matter.
        pattern: String,
        /// Files whose added lines count as using a symbol (globs; empty: any).
        #[serde(default)]
        uses_in: Vec<String>,
        /// Where the architectures' directories are (`xen/arch/`): a build file
        /// below one concerns that architecture only (empty: every build file
        /// concerns every architecture).
        #[serde(default)]
        arch_root: String,
    },
    /// The series adds linker-script statements after an anchor statement in
    /// some architectures' scripts; other architectures' scripts have the same
    /// anchor in the output section of the same name and were left unchanged.
    /// Quiet when the added input sections are produced only under the
    /// patched architecture's directory.
    SiblingPattern {
        /// Where the architectures' directories are (`xen/arch/`): a script's
        /// architecture directory is the next path component below it.
        arch_root: String,
        /// Source files searched for what produces a section (globs).
        #[serde(default = "producer_files")]
        producers_in: Vec<String>,
    },
    /// An input-section description the series adds that an earlier
    /// description of the same output section makes dead.
    ShadowedInput {},
    /// `CONFIG_X` in added lines of any file, where no Kconfig file of the
    /// patched tree defines X.
    UnknownConfigSymbol {
        /// The prefix symbols carry in code (`CONFIG_`).
        #[serde(default = "config_prefix")]
        prefix: String,
    },
}

fn producer_files() -> Vec<String> {
    vec!["*.c".into(), "*.S".into(), "*.h".into()]
}

fn config_prefix() -> String {
    "CONFIG_".into()
}

/// One rule, as its TOML file gives it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub rationale: String,
    /// The tree profiles it applies to (empty: every profile).
    #[serde(default)]
    pub profiles: Vec<String>,
    /// The message; `{arch}`, `{arches}`, `{variants}`, `{symbol}`, `{value}`,
    /// `{file}`, `{line}`, `{section}`, `{pattern}` are filled in.
    pub message: String,
    pub check: Check,
    /// The rule's own examples, run by `patchbot rules test`.
    #[serde(default)]
    pub examples: Vec<Example>,
}

/// A small tree, a patch, and the findings the rule must give on it (none: it
/// must stay quiet).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub name: String,
    /// The tree profile (default: the rule's first, else `xen`).
    #[serde(default)]
    pub profile: Option<String>,
    /// The base tree: path -> text.
    pub files: BTreeMap<String, String>,
    /// The series, as one unified diff (`git diff` output).
    pub patch: String,
    /// The findings it must give, exactly.
    #[serde(default)]
    pub findings: Vec<Expected>,
}

/// A finding an example must give.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// The architectures, comma-separated (empty for none).
    #[serde(default)]
    pub arch: String,
    pub file: String,
    pub line: u32,
}

impl Expected {
    /// The same thing for a finding.
    pub fn of(f: &Finding) -> Expected {
        Expected {
            arch: f.arch.join(","),
            file: f
                .location
                .as_ref()
                .map(|l| l.file.clone())
                .unwrap_or_default(),
            line: f.location.as_ref().map_or(0, |l| l.line),
        }
    }
}

impl std::fmt::Display for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.arch.is_empty() {
            write!(f, "{}:{}", self.file, self.line)
        } else {
            write!(f, "{} {}:{}", self.arch, self.file, self.line)
        }
    }
}

/// The built-in rules (the repository's `rules/*.toml`).
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "xen-section-end-align.toml",
        include_str!("../../rules/xen-section-end-align.toml"),
    ),
    (
        "xen-function-alignment-value.toml",
        include_str!("../../rules/xen-function-alignment-value.toml"),
    ),
    (
        "xen-sibling-pattern.toml",
        include_str!("../../rules/xen-sibling-pattern.toml"),
    ),
    (
        "linux-section-end-align.toml",
        include_str!("../../rules/linux-section-end-align.toml"),
    ),
    (
        "linux-sibling-pattern.toml",
        include_str!("../../rules/linux-sibling-pattern.toml"),
    ),
    (
        "linux-symbol-without-value.toml",
        include_str!("../../rules/linux-symbol-without-value.toml"),
    ),
    (
        "shadowed-input-section.toml",
        include_str!("../../rules/shadowed-input-section.toml"),
    ),
    (
        "unknown-config-symbol.toml",
        include_str!("../../rules/unknown-config-symbol.toml"),
    ),
];

#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct RuleError {
    pub file: String,
    pub message: String,
}

/// Parse one rule file.
pub fn parse_rule(file: &str, text: &str) -> Result<Rule, RuleError> {
    toml::from_str(text).map_err(|e| RuleError {
        file: file.to_string(),
        message: e.to_string(),
    })
}

/// Every `*.toml` of a directory, parsed, in file-name order.
pub fn load_dir(dir: &std::path::Path) -> Result<Vec<Rule>, RuleError> {
    let err = |m: String| RuleError {
        file: dir.display().to_string(),
        message: m,
    };
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| err(e.to_string()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    names.sort();
    let mut rules = Vec::new();
    for p in names {
        let text = std::fs::read_to_string(&p).map_err(|e| err(e.to_string()))?;
        rules.push(parse_rule(&p.display().to_string(), &text)?);
    }
    let mut ids = std::collections::BTreeSet::new();
    for r in &rules {
        if !ids.insert(r.id.clone()) {
            return Err(err(format!("two rules have the id {}", r.id)));
        }
    }
    Ok(rules)
}

/// The built-in rules, parsed.
pub fn builtin() -> Vec<Rule> {
    BUILTIN
        .iter()
        .map(|(f, t)| parse_rule(f, t).unwrap_or_else(|e| panic!("built-in rule {e}")))
        .collect()
}

/// Where in the tree a finding is (a `.lds.S` line, a C file's line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub file: String,
    pub line: u32,
    /// The macros the text came through, outermost first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub via: Vec<String>,
    /// Where the text itself was written, when a macro brought it (`file:line`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub written: Option<String>,
}

/// Where in the series a finding is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PatchLocation {
    /// The patch's number in the series (N of N/M).
    pub patch: u32,
    pub message_id: Option<String>,
    /// The file the line is in, and the line in the new file.
    pub file: String,
    pub line: u32,
    /// The line of the patch text.
    pub patch_line: u32,
}

/// One finding: the single model every rendering (text, JSON, email, SARIF,
/// GitHub) uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub arch: Vec<String>,
    pub variant: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<PatchLocation>,
    pub message: String,
    /// Evidence lines: values per architecture and variant, the lines of the
    /// rebuilt output, guessed toolchain answers.
    pub evidence: Vec<String>,
    /// Stable across re-runs and versions of the series: the rule and what the
    /// finding is about, not line numbers.
    pub fingerprint: String,
}

/// A stable 64-bit FNV-1a of the parts, as 16 hex digits.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Fill a message template.
pub fn fill(template: &str, vars: &BTreeMap<&str, String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let Some(j) = rest[i..].find('}') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let key = &rest[i + 1..i + j];
        match vars.get(key) {
            Some(v) => out.push_str(v),
            None => out.push_str(&rest[i..=i + j]),
        }
        rest = &rest[i + j + 1..];
    }
    out.push_str(rest);
    out
}

/// The findings of a review, split into the series' own and the pre-existing.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// Found on the base tree as well (shown with `--all`).
    pub pre_existing: Vec<Finding>,
    /// Findings the profile's rule settings or the tree's opt-out file dropped.
    pub silenced: usize,
}

/// Run every rule that applies to `profile` and keep what the series introduced.
pub fn run(rules: &[Rule], profile_name: &str, ctx: &checks::Context) -> Report {
    let mut r = Report::default();
    for rule in rules {
        if !rule.profiles.is_empty() && !rule.profiles.iter().any(|p| p == profile_name) {
            continue;
        }
        let (new, old) = checks::run(rule, ctx);
        let before: std::collections::BTreeSet<&str> =
            old.iter().map(|f| f.fingerprint.as_str()).collect();
        for f in new {
            if before.contains(f.fingerprint.as_str()) {
                r.pre_existing.push(f);
            } else {
                r.findings.push(f);
            }
        }
    }
    let key = |f: &Finding| {
        (
            f.location.as_ref().map(|l| (l.file.clone(), l.line)),
            f.rule.clone(),
            f.arch.clone(),
        )
    };
    r.findings.sort_by_key(key);
    r.pre_existing.sort_by_key(key);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_rules_parse() {
        let rules = builtin();
        assert_eq!(rules.len(), BUILTIN.len());
        let mut ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), rules.len(), "rule ids are unique");
    }

    #[test]
    fn templates_and_fingerprints() {
        let mut v = BTreeMap::new();
        v.insert("arch", "riscv64".to_string());
        assert_eq!(fill("{arch}: {nope} {", &v), "riscv64: {nope} {");
        assert_eq!(fingerprint(&["a", "bc"]), fingerprint(&["a", "bc"]));
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
    }

    #[test]
    fn an_unknown_check_kind_or_key_is_an_error() {
        let bad = "id = \"x\"\ntitle = \"t\"\nseverity = \"note\"\nrationale = \"r\"\nmessage = \"m\"\n[check]\nkind = \"no-such-kind\"\n";
        assert!(parse_rule("bad.toml", bad).is_err());
        let bad = "id = \"x\"\ntitle = \"t\"\nseverity = \"note\"\nrationale = \"r\"\nmessage = \"m\"\n[check]\nkind = \"unknown-config-symbol\"\ntypo = 1\n";
        let e = parse_rule("bad.toml", bad).unwrap_err().to_string();
        assert!(e.contains("typo") && e.starts_with("bad.toml"), "{e}");
    }
}
