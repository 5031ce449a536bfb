//! A review: the base and patched trees rebuilt, the rules run, and the one
//! finding model rendered for people (text) and programs (JSON).
//!
//! Reads only through the views it is given; the CLI opens them (applying the
//! series) and prints what this returns.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::config::{Profile, ToolchainConfig};
use crate::rebuild::{self, How, Outputs};
use crate::rules::{self, checks, Finding, Report, Rule};
use crate::tree::vfs::Vfs;

/// What a review found, with what it was computed from.
pub struct Review {
    pub profile: String,
    pub base: Outputs,
    pub patched: Outputs,
    pub report: Report,
}

/// The outputs of the patched tree: which were rebuilt and which reused.
#[derive(Debug, Clone, Serialize)]
pub struct OutputInfo {
    pub arch: String,
    pub variant: String,
    pub how: How,
    /// Toolchain answers that were guessed (not from the table).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub guessed: Vec<String>,
    /// Why the linker script could not be built, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lds_error: Option<String>,
}

impl Review {
    pub fn outputs(&self) -> Vec<OutputInfo> {
        self.patched
            .outputs
            .iter()
            .zip(&self.patched.how)
            .map(|(o, h)| OutputInfo {
                arch: o.arch.clone(),
                variant: o.variant.clone(),
                how: *h,
                guessed: o.kconfig.guessed.clone(),
                lds_error: match &o.lds {
                    Some(Err(e)) => Some(e.clone()),
                    Some(Ok(b)) => b.parsed.as_ref().err().map(|e| {
                        format!(
                            "{} (preprocessed) {}:{}: {}",
                            b.script, e.line, e.column, e.message
                        )
                    }),
                    None => None,
                },
            })
            .collect()
    }
}

/// How one output of the patched tree differs from the base's, as unified
/// diffs (None: the same text).
#[derive(Debug, Clone, Serialize)]
pub struct OutputDiff {
    pub arch: String,
    pub variant: String,
    pub how: How,
    /// The `.config`, base to patched.
    pub config: Option<String>,
    /// The preprocessed linker script (as `gcc -E -P` prints it), base to patched.
    pub script: Option<String>,
}

/// The text an output's linker script contributes to a diff.
fn script_text(o: Option<&rebuild::Output>) -> String {
    match o.and_then(|o| o.lds.as_ref()) {
        Some(Ok(b)) => b.cpp.text.clone(),
        Some(Err(e)) => format!("(linker script not built: {e})\n"),
        None => String::new(),
    }
}

/// A unified diff of `old` to `new` with three lines of context, or None when
/// they are the same.
fn unified(old: &str, new: &str, old_name: &str, new_name: &str) -> Option<String> {
    if old == new {
        return None;
    }
    let d = similar::TextDiff::from_lines(old, new);
    let mut u = d.unified_diff();
    u.context_radius(3).header(old_name, new_name);
    Some(u.to_string())
}

impl Review {
    /// Every output of the patched tree next to the base's: the `.config` and
    /// the preprocessed linker script as unified diffs (an architecture the
    /// base does not have is diffed against nothing).
    pub fn output_diffs(&self) -> Vec<OutputDiff> {
        self.patched
            .outputs
            .iter()
            .zip(&self.patched.how)
            .map(|(p, h)| {
                let b = self.base.get(&p.arch, &p.variant);
                let name =
                    |side: &str, what: &str| format!("{side}/{}/{}/{what}", p.arch, p.variant);
                let what = p
                    .lds
                    .as_ref()
                    .and_then(|l| l.as_ref().ok())
                    .map(|b| b.script.trim_end_matches(".S").to_string())
                    .unwrap_or_else(|| "linker script".into());
                OutputDiff {
                    arch: p.arch.clone(),
                    variant: p.variant.clone(),
                    how: *h,
                    config: unified(
                        b.map(|b| b.kconfig.config.as_str()).unwrap_or_default(),
                        &p.kconfig.config,
                        &name("base", ".config"),
                        &name("patched", ".config"),
                    ),
                    script: unified(
                        &script_text(b),
                        &script_text(Some(p)),
                        &name("base", &what),
                        &name("patched", &what),
                    ),
                }
            })
            .collect()
    }
}

/// The output diffs for people: one heading per output, then its diffs.
pub fn output_diffs_text(diffs: &[OutputDiff]) -> String {
    let mut out = String::from("Outputs, base to patched:\n");
    for d in diffs {
        let state = match (&d.config, &d.script, d.how) {
            (None, None, How::Reused) => "unchanged (reused from the base)",
            (None, None, How::Built) => "unchanged",
            (Some(_), Some(_), _) => ".config and linker script changed",
            (Some(_), None, _) => ".config changed",
            (None, Some(_), _) => "linker script changed",
        };
        out.push_str(&format!("\n  {} {}: {state}\n", d.arch, d.variant));
        for diff in [&d.config, &d.script].into_iter().flatten() {
            out.push_str(diff);
            if !diff.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    out
}

/// Rebuild the base and the patched tree and run the rules.
#[allow(clippy::too_many_arguments)]
pub fn run(
    profile_name: &str,
    profile: &Profile,
    toolchain: &ToolchainConfig,
    rules: &[Rule],
    base_vfs: &dyn Vfs,
    patched_vfs: &dyn Vfs,
    patches: &[checks::PatchDiff],
    cache: Option<(&crate::cache::Cache, &crate::cache::BaseKey)>,
) -> Result<Review, String> {
    let base = rebuild::build_cached(base_vfs, profile, toolchain, cache)
        .map_err(|e| format!("base: {e}"))?;
    let mut touched: BTreeSet<String> = BTreeSet::new();
    for p in patches {
        for f in &p.files {
            touched.extend(f.old_path.clone());
            touched.extend(f.new_path.clone());
        }
    }
    let patched = rebuild::rebuild(patched_vfs, profile, toolchain, &base, &touched)
        .map_err(|e| format!("patched tree: {e}"))?;
    let index_from = cache.map(|(cache, key)| rules::sources::IndexFrom {
        base: base_vfs,
        cache,
        key,
        touched: &touched,
    });
    let ctx = checks::Context {
        base: &base,
        patched: &patched,
        patches,
        patched_vfs: Some(patched_vfs),
        srctree: &profile.srctree,
        sources: rules::sources::Sources::new(Some(patched_vfs), &profile.srctree, index_from),
    };
    let mut report = rules::run(rules, profile_name, &ctx);
    silence(&mut report, profile, base_vfs);
    Ok(Review {
        profile: profile_name.to_string(),
        base,
        patched,
        report,
    })
}

/// The opt-out file a tree may carry, read from the base tree only (a series
/// cannot silence its own review): lines `RULE-ID [PATH-GLOB]` or a
/// fingerprint; `#` starts a comment.
pub const IGNORE_FILE: &str = ".patchbot-ignore";

/// Apply the profile's rule settings and the base tree's opt-out file: drop
/// the findings of disabled rules, outside a rule's paths or ignored, set
/// severities. What was dropped is counted in `report.silenced`.
fn silence(report: &mut Report, profile: &Profile, base_vfs: &dyn Vfs) {
    let ignore: Vec<(String, Option<String>)> = base_vfs
        .read(IGNORE_FILE)
        .map(|b| {
            String::from_utf8_lossy(&b)
                .lines()
                .map(|l| l.split('#').next().unwrap_or_default().trim().to_string())
                .filter(|l| !l.is_empty())
                .map(|l| {
                    let mut it = l.split_whitespace();
                    let id = it.next().unwrap_or_default().to_string();
                    (id, it.next().map(String::from))
                })
                .collect()
        })
        .unwrap_or_default();
    let glob = crate::glob::matches;
    let keep = |f: &mut Finding| -> bool {
        let file = f
            .location
            .as_ref()
            .map(|l| l.file.clone())
            .unwrap_or_default();
        if let Some(s) = profile.rules.get(&f.rule) {
            if !s.enabled {
                return false;
            }
            if !s.paths.is_empty() && !s.paths.iter().any(|g| glob(g, &file)) {
                return false;
            }
            if let Some(sev) = &s.severity {
                f.severity = match sev.as_str() {
                    "error" => rules::Severity::Error,
                    "warning" => rules::Severity::Warning,
                    _ => rules::Severity::Note,
                };
            }
        }
        !ignore.iter().any(|(id, path)| {
            (id == &f.rule && path.as_ref().is_none_or(|g| glob(g, &file))) || id == &f.fingerprint
        })
    };
    let before = report.findings.len();
    report.findings.retain_mut(keep);
    report.silenced += before - report.findings.len();
}

/// One finding for people.
pub fn finding_text(f: &Finding) -> String {
    let mut out = format!("{} [{}]", f.severity.as_str(), f.rule);
    if !f.arch.is_empty() {
        out.push_str(&format!(" {}", f.arch.join(",")));
    }
    if !f.variant.is_empty() {
        out.push_str(&format!(" ({})", f.variant.join(", ")));
    }
    if let Some(l) = &f.location {
        out.push_str(&format!(" {}:{}", l.file, l.line));
        if !l.via.is_empty() {
            out.push_str(&format!(" (through {}", l.via.join(" > ")));
            if let Some(w) = &l.written {
                out.push_str(&format!(", written at {w}"));
            }
            out.push(')');
        }
    }
    out.push('\n');
    out.push_str(&format!("  {}\n", f.message));
    if let Some(p) = &f.patch {
        out.push_str(&format!(
            "  in patch {} ({}:{}, line {} of the patch)\n",
            p.patch, p.file, p.line, p.patch_line
        ));
    }
    for e in &f.evidence {
        out.push_str(&format!("    {e}\n"));
    }
    out
}

/// Run one of a rule's examples: write its tree to a scratch directory, apply
/// its patch as a one-patch series, review with that rule alone. The findings.
pub fn run_example(
    cfg: &crate::config::Config,
    rule: &Rule,
    example: &crate::rules::Example,
) -> Result<Vec<Finding>, String> {
    use crate::tree::apply::{apply_series_kept, ApplyOptions, PatchInput};
    use crate::tree::vfs::GitTreeVfs;
    let profile_name = example
        .profile
        .clone()
        .or_else(|| rule.profiles.first().cloned())
        .unwrap_or_else(|| "xen".into());
    let profile = cfg
        .profiles
        .get(&profile_name)
        .ok_or_else(|| format!("no profile {profile_name}"))?;
    let toolchain = cfg
        .toolchains
        .get(&profile.toolchain)
        .ok_or_else(|| format!("no toolchain {}", profile.toolchain))?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    for (path, text) in &example.files {
        let p = crate::tree::vfs::normalize(path).map_err(|e| e.to_string())?;
        let full = dir.path().join(&p);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(&full, text).map_err(|e| e.to_string())?;
    }
    let source = crate::tree::TreeSource::open(dir.path()).map_err(|e| e.to_string())?;
    let crate::tree::TreeSource::Snapshot { repo, commit, .. } = &source else {
        return Err("the example tree is not a plain directory".into());
    };
    let patch = PatchInput {
        counter: 1,
        subject: example.name.clone(),
        message_id: None,
        patch: example.patch.clone().into_bytes(),
        author: "patchbot rules test".into(),
        email: "rules-test@patchbot.invalid".into(),
        date: "Thu, 1 Jan 1970 00:00:00 +0000".into(),
        message: example.name.clone(),
    };
    let opts = ApplyOptions::from_config(&cfg.apply, None);
    let (applied, ws) = apply_series_kept(repo, commit, std::slice::from_ref(&patch), &opts)
        .map_err(|e| e.to_string())?;
    let Some(patched) = applied.tree.clone() else {
        return Err(format!("the patch does not apply: {:?}", applied.patches));
    };
    let base_vfs = GitTreeVfs::new(repo, commit).map_err(|e| e.to_string())?;
    let patched_vfs = GitTreeVfs::new(&ws.repo, &patched).map_err(|e| e.to_string())?;
    let patches = vec![checks::PatchDiff {
        counter: 1,
        message_id: None,
        files: crate::diff::parse(&example.patch),
    }];
    let r = run(
        &profile_name,
        profile,
        toolchain,
        std::slice::from_ref(rule),
        &base_vfs,
        &patched_vfs,
        &patches,
        None,
    )?;
    Ok(r.report.findings)
}

/// What an email reply needs about the series.
pub struct Thread<'a> {
    /// The message replied to (the cover letter, else the first patch).
    pub subject: &'a str,
    pub message_id: Option<&'a str>,
    /// The series' author (`Name <address>`).
    pub author: Option<String>,
    pub version: u32,
    pub patches: usize,
    pub base_commit: &'a str,
    pub base_how: &'a str,
    /// Where the series' parts that never arrived would be (N of N/M).
    pub missing: &'a [u32],
    /// The reply's own `From` (config `[post] from`).
    pub from: &'a str,
    /// When posting: the reply's Message-ID and Date (None when only printed).
    pub own_id: Option<&'a str>,
    pub date: Option<&'a str>,
    /// A follow-up: the version the earlier findings are from, and those of
    /// them this version no longer has (rule, message).
    pub resolved: Option<(u32, &'a [(String, String)])>,
    /// The thread's earlier messages to name in `References` before the one
    /// replied to (the cover letter, when replying to a patch).
    pub ancestors: &'a [String],
    /// Replying to one patch of the series: its number (the body says so).
    pub patch: Option<u32>,
}

/// The lines of a patch around a line of the new file: the hunk heading and a
/// few lines of context, quoted with `> `.
fn quote(patches: &[checks::PatchDiff], at: &crate::rules::PatchLocation) -> Option<String> {
    let p = patches.iter().find(|p| p.counter == at.patch)?;
    let f = p.files.iter().find(|f| f.path() == at.file)?;
    let h = f.hunks.iter().find(|h| {
        h.lines
            .iter()
            .any(|l| l.new == Some(at.line) && l.kind == '+')
    })?;
    let i = h.lines.iter().position(|l| l.new == Some(at.line))?;
    let from = i.saturating_sub(3);
    let to = (i + 2).min(h.lines.len());
    let mut out = format!(
        "> diff a/{0} b/{0}\n> @@ +{1} @@ {2}\n",
        at.file, h.new_start, h.heading
    );
    for l in &h.lines[from..to] {
        out.push_str(&format!("> {}{}\n", l.kind, l.text));
    }
    Some(out)
}

/// The reply patchbot would post: headers and a plain-text body naming the
/// base, quoting the patch lines findings are about, stating each finding with
/// its evidence, and a signature.
pub fn email(
    thread: &Thread,
    findings: &[Finding],
    patches: &[checks::PatchDiff],
    to: &[String],
    cc: &[String],
) -> String {
    let subject = thread.subject.trim();
    let subject = if subject.to_ascii_lowercase().starts_with("re:") {
        subject.to_string()
    } else {
        format!("Re: {subject}")
    };
    let mut h = String::new();
    h.push_str(&format!("From: {}\n", thread.from));
    if let Some(d) = thread.date {
        h.push_str(&format!("Date: {d}\n"));
    }
    if let Some(id) = thread.own_id {
        h.push_str(&format!("Message-ID: {id}\n"));
    }
    if !to.is_empty() {
        h.push_str(&format!("To: {}\n", to.join(", ")));
    }
    if !cc.is_empty() {
        h.push_str(&format!("Cc: {}\n", cc.join(",\n    ")));
    }
    h.push_str(&format!("Subject: {subject}\n"));
    if let Some(id) = thread.message_id {
        let id = id.trim_matches(|c| c == '<' || c == '>');
        let mut refs: Vec<String> = thread
            .ancestors
            .iter()
            .map(|a| format!("<{}>", a.trim_matches(|c| c == '<' || c == '>')))
            .collect();
        refs.push(format!("<{id}>"));
        refs.dedup();
        h.push_str(&format!(
            "In-Reply-To: <{id}>\nReferences: {}\n",
            refs.join("\n    ")
        ));
    }
    h.push_str("Auto-Submitted: auto-generated\n");
    h.push_str("X-Auto-Response-Suppress: All\n");
    let mut b = String::new();
    b.push_str(&format!(
        "patchbot applied this series (v{}, {} patch{}) to base commit {} ({}) and rebuilt\nwhat it changes for every architecture and config variant.\n",
        thread.version,
        thread.patches,
        if thread.patches == 1 { "" } else { "es" },
        thread.base_commit,
        thread.base_how
    ));
    if !thread.missing.is_empty() {
        let m: Vec<String> = thread.missing.iter().map(|n| n.to_string()).collect();
        b.push_str(&format!(
            "Parts {} did not arrive; this covers the rest.\n",
            m.join(", ")
        ));
    }
    if let Some(n) = thread.patch {
        b.push_str(&format!(
            "This reply is about patch {n}/{}.\n",
            thread.patches
        ));
    }
    if findings.is_empty() {
        b.push_str("\nIt found nothing to report.\n");
    } else {
        b.push_str(&format!(
            "\nIt has {} question{} or finding{}:\n",
            findings.len(),
            if findings.len() == 1 { "" } else { "s" },
            if findings.len() == 1 { "" } else { "s" }
        ));
    }
    let mut last_quote = String::new();
    for (n, f) in findings.iter().enumerate() {
        b.push('\n');
        // the patch lines a finding is about, once for findings on the same lines
        if let Some(q) = f.patch.as_ref().and_then(|p| quote(patches, p)) {
            if q != last_quote {
                b.push_str(&q);
                b.push('\n');
                last_quote = q;
            }
        }
        b.push_str(&format!("{}. [{}] {}\n", n + 1, f.rule, f.message));
        if let Some(l) = &f.location {
            let mut at = format!("   at {}:{}", l.file, l.line);
            if !l.via.is_empty() {
                at.push_str(&format!(" (through {})", l.via.join(" > ")));
            }
            b.push_str(&at);
            b.push('\n');
        }
        for e in &f.evidence {
            b.push_str(&format!("   {e}\n"));
        }
        b.push_str(&format!("   (fingerprint {})\n", f.fingerprint));
    }
    if let Some((v, resolved)) = thread.resolved {
        if !resolved.is_empty() {
            b.push_str(&format!(
                "\nResolved since v{v} ({} finding{} that version had and this one does not):\n",
                resolved.len(),
                if resolved.len() == 1 { "" } else { "s" }
            ));
            for (rule, message) in resolved {
                b.push_str(&format!("- [{rule}] {message}\n"));
            }
        }
    }
    b.push_str("\n-- \npatchbot: an automated review of the Kconfig results and linker scripts a\nseries changes, for every architecture and config variant, compared with the\nbase. This mail was generated automatically. Each finding names its rule;\n`patchbot rules list` describes them. To silence a rule for a tree, add a\nline `RULE-ID [PATH-GLOB]` (or a finding's fingerprint) to .patchbot-ignore\nin the tree's base; a series cannot silence its own review. A maintainer of\nthe files can answer with a line `patchbot: ignore RULE-ID` (or a\nfingerprint) or `patchbot: ack`, honoured for later versions of the series.\n");
    // mail lines are at most 998 octets: a longer one (long evidence) makes
    // the body quoted-printable
    let long = b.lines().any(|l| l.len() > 998);
    h.push_str(&format!(
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: {}\n\n",
        if long { "quoted-printable" } else { "8bit" }
    ));
    if long {
        h + &quoted_printable(&b)
    } else {
        h + &b
    }
}

/// RFC 2045 quoted-printable of a text with LF line ends: lines at most 76
/// characters (soft breaks `=`), `=`, bytes outside printable ASCII and
/// white space before a line end encoded.
fn quoted_printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 10);
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, true),
            None => (line, false),
        };
        let bytes = body.as_bytes();
        let mut col = 0;
        for (i, &c) in bytes.iter().enumerate() {
            let last = i + 1 == bytes.len();
            let plain = (c == b' ' || c == b'\t') && !last || (33..=126).contains(&c) && c != b'=';
            let piece = if plain {
                (c as char).to_string()
            } else {
                format!("={c:02X}")
            };
            if col + piece.len() > 75 {
                out.push_str("=\n");
                col = 0;
            }
            col += piece.len();
            out.push_str(&piece);
        }
        if nl {
            out.push('\n');
        }
    }
    out
}

/// A GitLab Code Quality report (the CodeClimate subset GitLab reads): one
/// issue per finding, with its fingerprint, severity (note: info, warning:
/// minor, error: major) and the file and line.
pub fn codequality(findings: &[Finding]) -> serde_json::Value {
    serde_json::Value::Array(
        findings
            .iter()
            .map(|f| {
                let severity = match f.severity {
                    rules::Severity::Error => "major",
                    rules::Severity::Warning => "minor",
                    rules::Severity::Note => "info",
                };
                let (path, line) = f
                    .location
                    .as_ref()
                    .map(|l| (l.file.clone(), l.line.max(1)))
                    .unwrap_or_default();
                serde_json::json!({
                    "type": "issue",
                    "check_name": f.rule,
                    "description": f.message,
                    "categories": ["Bug Risk"],
                    "severity": severity,
                    "fingerprint": f.fingerprint,
                    "location": {"path": path, "lines": {"begin": line.max(1)}},
                })
            })
            .collect(),
    )
}

/// SARIF 2.1.0 for code-scanning tools.
pub fn sarif(rules: &[Rule], findings: &[Finding]) -> serde_json::Value {
    let used: BTreeSet<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
    let rule_list: Vec<serde_json::Value> = rules
        .iter()
        .filter(|r| used.contains(r.id.as_str()))
        .map(|r| {
            serde_json::json!({
                "id": r.id,
                "shortDescription": {"text": r.title},
                "fullDescription": {"text": r.rationale.trim()},
                "defaultConfiguration": {"level": r.severity.as_str()},
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            let mut v = serde_json::json!({
                "ruleId": f.rule,
                "level": f.severity.as_str(),
                "message": {"text": f.message},
                "partialFingerprints": {"patchbot/v1": f.fingerprint},
                "properties": {"arch": f.arch, "variant": f.variant, "evidence": f.evidence},
            });
            if let Some(l) = &f.location {
                v["locations"] = serde_json::json!([{
                    "physicalLocation": {
                        "artifactLocation": {"uri": l.file},
                        "region": {"startLine": l.line.max(1)},
                    }
                }]);
            }
            v
        })
        .collect();
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "patchbot",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rule_list,
            }},
            "results": results,
        }],
    })
}

#[cfg(test)]
mod qp_tests {
    #[test]
    fn quoted_printable_lines_and_bytes() {
        let long = format!("{}é= end \nnext\n", "x".repeat(100));
        let q = super::quoted_printable(&long);
        assert!(q.lines().all(|l| l.len() <= 76), "{q}");
        assert!(q.contains("=C3=A9=3D end=20\nnext\n"), "{q}");
        // decoding gives the text back
        let mut back = Vec::new();
        let mut it = q.replace("=\n", "").into_bytes().into_iter();
        while let Some(c) = it.next() {
            if c == b'=' {
                let h: String = [it.next().unwrap() as char, it.next().unwrap() as char]
                    .iter()
                    .collect();
                back.push(u8::from_str_radix(&h, 16).unwrap());
            } else {
                back.push(c);
            }
        }
        assert_eq!(String::from_utf8(back).unwrap(), long);
    }
}
