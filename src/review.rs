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
) -> Result<Review, String> {
    let base = rebuild::build(base_vfs, profile, toolchain).map_err(|e| format!("base: {e}"))?;
    let mut touched: BTreeSet<String> = BTreeSet::new();
    for p in patches {
        for f in &p.files {
            touched.extend(f.old_path.clone());
            touched.extend(f.new_path.clone());
        }
    }
    let patched = rebuild::rebuild(patched_vfs, profile, toolchain, &base, &touched)
        .map_err(|e| format!("patched tree: {e}"))?;
    let ctx = checks::Context {
        base: &base,
        patched: &patched,
        patches,
        patched_vfs: Some(patched_vfs),
        srctree: &profile.srctree,
    };
    let report = rules::run(rules, profile_name, &ctx);
    Ok(Review {
        profile: profile_name.to_string(),
        base,
        patched,
        report,
    })
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
    )?;
    Ok(r.report.findings)
}
