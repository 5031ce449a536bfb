//! Applying a series with git's own `git apply`, without a checkout.
//!
//! The base tree is read into a private index file; new objects go to a private
//! object directory that borrows the repository's objects as an alternate, so the
//! user's work tree, index, refs and object store are never written (unless
//! `--branch` asks for a branch). Per patch:
//!
//! 1. our own checks refuse what must never be applied (paths leaving the tree or
//!    into `.git`, symlinks pointing outside, oversized patches) — `refused`;
//! 2. `git apply --cached` — `applied`, or `applied-with-offset` with the offsets;
//! 3. if that fails and the reverse applies, the change is in the base already —
//!    `already-applied`;
//! 4. `git apply --cached --3way` where the `index` lines' blobs exist —
//!    `applied-3way`;
//! 5. otherwise `conflict` (which file and line) or `malformed` (why).
//!
//! Reasons are built from what git said, never copied from it: reports carry
//! repository paths and line numbers, never local paths of this machine.

use std::path::Path;

use serde::Serialize;

use super::{Repo, TreeError};

/// Limits and choices for applying.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Context lines that may fail to match (git apply `-C`); 0 is git am's default.
    pub fuzz: u32,
    pub max_patch_bytes: usize,
    pub max_files: usize,
    /// Record the applied series as commits on this new branch.
    pub branch: Option<String>,
}

impl ApplyOptions {
    /// The options `config.toml`'s `[apply]` gives, with an optional branch.
    pub fn from_config(c: &crate::config::ApplyConfig, branch: Option<String>) -> Self {
        ApplyOptions {
            fuzz: c.fuzz,
            max_patch_bytes: c.max_patch_bytes,
            max_files: c.max_files,
            branch,
        }
    }
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            fuzz: 0,
            max_patch_bytes: 16 * 1024 * 1024,
            max_files: 10_000,
            branch: None,
        }
    }
}

/// One patch to apply, with what a commit needs.
#[derive(Debug, Clone)]
pub struct PatchInput {
    pub counter: u32,
    pub subject: String,
    pub message_id: Option<String>,
    pub patch: Vec<u8>,
    pub author: String,
    pub email: String,
    pub date: String,
    pub message: String,
}

/// Where a hunk landed away from where the patch said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Offset {
    pub hunk: u32,
    pub line: u64,
    pub offset: i64,
}

/// Where a patch did not apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    pub reason: String,
}

/// The result class of one patch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Outcome {
    Applied,
    AppliedWithOffset {
        offsets: Vec<Offset>,
    },
    #[serde(rename = "applied-3way")]
    Applied3Way,
    AlreadyApplied,
    Conflict {
        at: Vec<Place>,
    },
    Malformed {
        reason: String,
    },
    Refused {
        reason: String,
    },
    /// An earlier patch did not apply, so this one was not tried.
    NotAttempted,
}

impl Outcome {
    /// The patch's change is in the tree afterwards.
    pub fn ok(&self) -> bool {
        matches!(
            self,
            Outcome::Applied
                | Outcome::AppliedWithOffset { .. }
                | Outcome::Applied3Way
                | Outcome::AlreadyApplied
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PatchResult {
    pub counter: u32,
    pub subject: String,
    pub message_id: Option<String>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// A file the series changes, between the base and the patched tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// `added`, `modified`, `deleted`, `renamed`, `copied` or `type-changed`.
    pub status: &'static str,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
}

/// What applying a series gave.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    pub patches: Vec<PatchResult>,
    /// The patched tree, when every patch applied (or was already applied).
    pub tree: Option<String>,
    /// Files changed between the base tree and the patched tree.
    pub files: Vec<Change>,
    /// Commits recorded on `--branch`, oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub commits: Vec<String>,
}

/// Is `path` a plain relative path inside the tree (no `..`, not absolute, not
/// into `.git`)?
fn path_problem(path: &str) -> Option<&'static str> {
    if path.starts_with('/') {
        return Some("an absolute path");
    }
    for c in path.split('/') {
        if c == ".." {
            return Some("a path leaving the tree (`..`)");
        }
        if c.eq_ignore_ascii_case(".git") {
            return Some("a path into `.git`");
        }
    }
    None
}

/// Where a symbolic link created by the patch points, for each one it creates.
fn symlink_targets(patch: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(patch);
    let mut out = Vec::new();
    let mut path: Option<String> = None;
    let mut is_link = false;
    let mut in_hunk = false;
    for l in text.lines() {
        if let Some(rest) = l.strip_prefix("diff --git ") {
            path = rest.rsplit(" b/").next().map(String::from);
            is_link = false;
            in_hunk = false;
        } else if l.starts_with("new file mode 120000") || l.starts_with("new mode 120000") {
            is_link = true;
        } else if l.starts_with("@@") {
            in_hunk = true;
        } else if in_hunk && is_link {
            if let Some(t) = l.strip_prefix('+') {
                out.push((path.clone().unwrap_or_default(), t.to_string()));
                is_link = false;
            }
        }
    }
    out
}

/// Does a link at `link` pointing to `target` stay inside the tree?
fn link_stays_inside(link: &str, target: &str) -> bool {
    if target.starts_with('/') {
        return false;
    }
    let mut depth: i64 = link.matches('/').count() as i64;
    for c in target.split('/') {
        match c {
            "" | "." => {}
            ".." => depth -= 1,
            _ => depth += 1,
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

/// Our own refusals, before git sees the patch.
fn refuse(patch: &[u8], opts: &ApplyOptions) -> Option<String> {
    if patch.len() > opts.max_patch_bytes {
        return Some(format!(
            "the patch is {} bytes, over the limit of {} (apply.max_patch_bytes)",
            patch.len(),
            opts.max_patch_bytes
        ));
    }
    // the same reading of a patch's paths as the series stage's (`-p1`)
    let paths = crate::series::files_touched(patch, opts.max_files.saturating_add(1));
    if paths.len() > opts.max_files {
        return Some(format!(
            "the patch names more than {} files (apply.max_files)",
            opts.max_files
        ));
    }
    for p in &paths {
        if let Some(problem) = path_problem(p) {
            return Some(format!("the patch writes {problem}: {p}"));
        }
    }
    for (link, target) in symlink_targets(patch) {
        if !link_stays_inside(&link, &target) {
            return Some(format!(
                "the patch adds a symbolic link pointing outside the tree: {link} -> {target}"
            ));
        }
    }
    None
}

/// The offsets git reports with `--verbose`: "Hunk #2 succeeded at 40 (offset 3 lines)."
fn parse_offsets(stderr: &str) -> Vec<Offset> {
    let mut out = Vec::new();
    for l in stderr.lines() {
        let Some(rest) = l.strip_prefix("Hunk #") else {
            continue;
        };
        let Some((n, rest)) = rest.split_once(" succeeded at ") else {
            continue;
        };
        let Some((line, rest)) = rest.split_once(" (offset ") else {
            continue;
        };
        let off = rest.split_whitespace().next().unwrap_or("0");
        if let (Ok(hunk), Ok(line), Ok(offset)) = (n.parse(), line.trim().parse(), off.parse()) {
            out.push(Offset { hunk, line, offset });
        }
    }
    out
}

fn number_after(s: &str, key: &str) -> Option<u64> {
    let i = s.find(key)? + key.len();
    s[i..]
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// Classify git apply's complaint into a publishable outcome.
fn classify_failure(stderr: &str) -> Outcome {
    let lines: Vec<&str> = stderr.lines().map(str::trim).collect();
    for l in &lines {
        let low = l.to_ascii_lowercase();
        if low.contains("corrupt patch")
            || low.contains("garbage")
            || low.contains("no valid patches")
            || low.contains("without header")
            || low.contains("lacks filename")
            || low.contains("unrecognized input")
        {
            let reason = match number_after(l, "line") {
                Some(n) => format!("git apply: corrupt patch at line {n} of the patch"),
                None if low.contains("no valid patches") => "no diff in the message".to_string(),
                None => "git apply: the patch cannot be parsed".to_string(),
            };
            return Outcome::Malformed { reason };
        }
    }
    let mut at = Vec::new();
    for l in &lines {
        let Some(rest) = l.strip_prefix("error: ") else {
            continue;
        };
        if let Some(loc) = rest.strip_prefix("patch failed: ") {
            let (file, line) = match loc.rsplit_once(':') {
                Some((f, n)) => (f.to_string(), n.parse().ok()),
                None => (loc.to_string(), None),
            };
            at.push(Place {
                file,
                line,
                reason: "the hunk does not match".into(),
            });
        } else if let Some(file) = rest.strip_suffix(": does not exist in index") {
            at.push(Place {
                file: file.into(),
                line: None,
                reason: "the file does not exist in the base".into(),
            });
        } else if let Some(file) = rest.strip_suffix(": already exists in index") {
            at.push(Place {
                file: file.into(),
                line: None,
                reason: "the file already exists in the base".into(),
            });
        } else if rest.contains("binary patch") {
            let file = rest.split('\'').nth(1).unwrap_or("").to_string();
            at.push(Place {
                file,
                line: None,
                reason: "the binary patch does not apply".into(),
            });
        } else if let Some(file) = rest.strip_suffix(": patch does not apply") {
            if !at.iter().any(|p| p.file == file) {
                at.push(Place {
                    file: file.into(),
                    line: None,
                    reason: "the patch does not apply".into(),
                });
            }
        } else if let Some(file) = rest.strip_suffix(": wrong type") {
            at.push(Place {
                file: file.into(),
                line: None,
                reason: "the file has another type in the base".into(),
            });
        }
    }
    if at.is_empty() {
        return Outcome::Conflict {
            at: vec![Place {
                file: String::new(),
                line: None,
                reason: "git apply refused the patch".into(),
            }],
        };
    }
    Outcome::Conflict { at }
}

/// Apply `patches` in order on `base_commit`. Stops at the first patch that does
/// not apply (like `git am`); the rest are `not-attempted`.
pub fn apply_series(
    repo: &Repo,
    base_commit: &str,
    patches: &[PatchInput],
    opts: &ApplyOptions,
) -> Result<Applied, TreeError> {
    apply_series_kept(repo, base_commit, patches, opts).map(|(a, _)| a)
}

/// The private workspace of an application: while it lives, its `repo` reads the
/// patched tree's new objects (and the repository's own, as an alternate).
pub struct Workspace {
    _dir: tempfile::TempDir,
    pub repo: Repo,
}

/// [`apply_series`], keeping the workspace so the patched tree can be read.
pub fn apply_series_kept(
    repo: &Repo,
    base_commit: &str,
    patches: &[PatchInput],
    opts: &ApplyOptions,
) -> Result<(Applied, Workspace), TreeError> {
    let work = tempfile::Builder::new()
        .prefix("patchbot-apply-")
        .tempdir()?;
    let index = work.path().join("index");
    let mut env = vec![("GIT_INDEX_FILE".to_string(), index.display().to_string())];
    if opts.branch.is_none() {
        // new objects go here; the repository's own objects are borrowed
        let objects = work.path().join("objects");
        std::fs::create_dir_all(objects.join("info"))?;
        std::fs::create_dir_all(objects.join("pack"))?;
        env.push(("GIT_OBJECT_DIRECTORY".into(), objects.display().to_string()));
        env.push((
            "GIT_ALTERNATE_OBJECT_DIRECTORIES".into(),
            repo.objects_dir().display().to_string(),
        ));
    }
    let git = repo.with_env(env);
    let base_tree = git.tree_of(base_commit)?;
    git.run(&["read-tree", &base_tree])?;
    if let Some(b) = &opts.branch {
        let check = git
            .git()
            .args(["check-ref-format", "--branch", b])
            .output()?;
        if !check.status.success() || b.starts_with('-') {
            return Err(TreeError::Other(format!(
                "--branch {b}: not a valid branch name"
            )));
        }
        if git.commit(&format!("refs/heads/{b}")).is_some() {
            return Err(TreeError::Other(format!(
                "--branch {b}: the branch exists already; choose another name"
            )));
        }
    }
    let mut parent = base_commit.to_string();
    let mut commits = Vec::new();
    let mut results = Vec::new();
    let mut failed = false;
    let fast = match opts.branch {
        None => apply_all_at_once(&git, work.path(), patches, opts, &base_tree)?,
        Some(_) => None,
    };
    if let Some(outcomes) = fast {
        results = patches
            .iter()
            .zip(outcomes)
            .map(|(p, outcome)| PatchResult {
                counter: p.counter,
                subject: p.subject.clone(),
                message_id: p.message_id.clone(),
                outcome,
            })
            .collect();
    } else {
        for (i, p) in patches.iter().enumerate() {
            let result = |outcome| PatchResult {
                counter: p.counter,
                subject: p.subject.clone(),
                message_id: p.message_id.clone(),
                outcome,
            };
            if failed {
                results.push(result(Outcome::NotAttempted));
                continue;
            }
            let outcome = apply_one(&git, work.path(), i, p, opts)?;
            if outcome.ok() {
                if opts.branch.is_some() && !matches!(outcome, Outcome::AlreadyApplied) {
                    let tree = git.run(&["write-tree"])?;
                    parent = commit(&git, &tree, &parent, p)?;
                    commits.push(parent.clone());
                }
            } else {
                failed = true;
            }
            results.push(result(outcome));
        }
    }
    // the index holds the last good state: a tree only when everything applied
    let current = if failed {
        None
    } else {
        Some(git.run(&["write-tree"])?)
    };
    let tree = current;
    let files = match &tree {
        Some(t) => changes(&git, &base_tree, t)?,
        None => Vec::new(),
    };
    if let (Some(b), false) = (&opts.branch, failed) {
        git.run(&["update-ref", &format!("refs/heads/{b}"), &parent, ""])?;
    } else if opts.branch.is_some() {
        commits.clear();
    }
    let applied = Applied {
        patches: results,
        tree,
        files,
        commits,
    };
    let read_env: Vec<(String, String)> = git
        .env_pairs()
        .into_iter()
        .filter(|(k, _)| k != "GIT_INDEX_FILE")
        .collect();
    let ws = Workspace {
        repo: repo.with_env(read_env),
        _dir: work,
    };
    Ok((applied, ws))
}

/// The common case in one git process: every patch applies cleanly (maybe at an
/// offset). `git apply --cached --verbose` with all patches applies them in order,
/// all or nothing, and reports per patch file a group of "Checking patch" lines,
/// hunk offsets, then "Applied patch" lines; the groups give each patch its
/// outcome. Any failure (or anything unexpected in the report) resets the index
/// to the base and returns None: the patch-by-patch path then classifies each.
fn apply_all_at_once(
    git: &Repo,
    work: &Path,
    patches: &[PatchInput],
    opts: &ApplyOptions,
    base_tree: &str,
) -> Result<Option<Vec<Outcome>>, TreeError> {
    if patches.len() < 2
        || patches.iter().any(|p| {
            p.patch.iter().all(|c| c.is_ascii_whitespace()) || refuse(&p.patch, opts).is_some()
        })
    {
        return Ok(None);
    }
    let mut files = Vec::with_capacity(patches.len());
    for (i, p) in patches.iter().enumerate() {
        let f = work.join(format!("all-{i}"));
        std::fs::write(&f, &p.patch)?;
        files.push(f);
    }
    let mut cmd = git.git();
    cmd.args(["apply", "--cached", "--verbose"]);
    if let Some(f) = fuzz_arg(opts) {
        cmd.arg(f);
    }
    let out = cmd.args(&files).output()?;
    let groups = split_verbose(&String::from_utf8_lossy(&out.stderr));
    if !out.status.success() || groups.len() != patches.len() {
        git.run(&["read-tree", base_tree])?;
        return Ok(None);
    }
    Ok(Some(
        groups
            .into_iter()
            .map(|g| {
                let offsets: Vec<Offset> = parse_offsets(&g)
                    .into_iter()
                    .filter(|o| o.offset != 0)
                    .collect();
                if offsets.is_empty() {
                    Outcome::Applied
                } else {
                    Outcome::AppliedWithOffset { offsets }
                }
            })
            .collect(),
    ))
}

/// git apply's `-C<n>` for the configured fuzz.
fn fuzz_arg(opts: &ApplyOptions) -> Option<String> {
    (opts.fuzz > 0).then(|| format!("-C{}", 3u32.saturating_sub(opts.fuzz)))
}

/// Split `git apply --verbose` output over several patch files into one text per
/// file: a group starts at a "Checking patch" line that follows an "Applied
/// patch" line (or the start).
fn split_verbose(stderr: &str) -> Vec<String> {
    let mut groups: Vec<String> = Vec::new();
    let mut applied_seen = true;
    for l in stderr.lines() {
        if l.starts_with("Checking patch ") && applied_seen {
            groups.push(String::new());
            applied_seen = false;
        }
        if l.starts_with("Applied patch ") {
            applied_seen = true;
        }
        if let Some(g) = groups.last_mut() {
            g.push_str(l);
            g.push('\n');
        }
    }
    groups
}

fn apply_one(
    git: &Repo,
    work: &Path,
    i: usize,
    p: &PatchInput,
    opts: &ApplyOptions,
) -> Result<Outcome, TreeError> {
    if p.patch.iter().all(|c| c.is_ascii_whitespace()) {
        return Ok(Outcome::Malformed {
            reason: "no diff in the message".into(),
        });
    }
    if let Some(reason) = refuse(&p.patch, opts) {
        return Ok(Outcome::Refused { reason });
    }
    let file = work.join(format!("patch-{i}"));
    std::fs::write(&file, &p.patch)?;
    let file_s = file.display().to_string();
    let fuzz = fuzz_arg(opts);
    let mut direct = git.git();
    direct.args(["apply", "--cached", "--verbose"]);
    if let Some(f) = &fuzz {
        direct.arg(f);
    }
    let out = direct.arg(&file_s).output()?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.success() {
        let offsets = parse_offsets(&stderr);
        return Ok(if offsets.iter().any(|o| o.offset != 0) {
            Outcome::AppliedWithOffset {
                offsets: offsets.into_iter().filter(|o| o.offset != 0).collect(),
            }
        } else {
            Outcome::Applied
        });
    }
    let mut outcome = classify_failure(&stderr);
    if matches!(outcome, Outcome::Malformed { .. }) {
        return Ok(outcome);
    }
    let reverse = git
        .git()
        .args(["apply", "--cached", "--reverse", "--check", &file_s])
        .output()?;
    if reverse.status.success() {
        return Ok(Outcome::AlreadyApplied);
    }
    // git apply is all or nothing: the index is still the state before this
    // patch; keep it to come back to if the 3-way merge leaves conflicts
    let checkpoint = git.run(&["write-tree"])?;
    let three = git
        .git()
        .args(["apply", "--cached", "--3way", &file_s])
        .output()?;
    if three.status.success() {
        return Ok(Outcome::Applied3Way);
    }
    // a failed 3-way merge may leave conflict stages: back to the last good tree
    git.run(&["read-tree", &checkpoint])?;
    let three_err = String::from_utf8_lossy(&three.stderr);
    if let Outcome::Conflict { at } = &mut outcome {
        for l in three_err.lines() {
            if let Some(f) = l.strip_prefix("U ") {
                if let Some(p) = at.iter_mut().find(|p| p.file == f) {
                    p.reason = format!("{}; the 3-way merge conflicts too", p.reason);
                }
            }
        }
    }
    Ok(outcome)
}

fn commit(git: &Repo, tree: &str, parent: &str, p: &PatchInput) -> Result<String, TreeError> {
    let msg = if p.message.trim().is_empty() {
        format!("{}\n", p.subject)
    } else {
        format!("{}\n\n{}", p.subject, p.message)
    };
    let mut c = git.git();
    c.args(["commit-tree", tree, "-p", parent, "-F", "-"])
        .env("GIT_AUTHOR_NAME", &p.author)
        .env("GIT_AUTHOR_EMAIL", &p.email)
        .env("GIT_COMMITTER_NAME", "patchbot")
        .env("GIT_COMMITTER_EMAIL", "patchbot@localhost");
    if !p.date.is_empty() {
        c.env("GIT_AUTHOR_DATE", &p.date)
            .env("GIT_COMMITTER_DATE", &p.date);
    }
    c.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn()?;
    {
        use std::io::Write;
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| TreeError::Other("no stdin".into()))?;
        stdin.write_all(msg.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(TreeError::Git {
            what: "commit-tree".into(),
            why: super::stderr_line(&out),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Files changed between two trees, renames found.
pub fn changes(git: &Repo, from: &str, to: &str) -> Result<Vec<Change>, TreeError> {
    let out = git
        .git()
        .args([
            "diff-tree",
            "-r",
            "-M",
            "-C",
            "--name-status",
            "-z",
            from,
            to,
        ])
        .output()?;
    if !out.status.success() {
        return Err(TreeError::Git {
            what: "diff-tree".into(),
            why: super::stderr_line(&out),
        });
    }
    let fields: Vec<String> = out
        .stdout
        .split(|&c| c == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    let mut v = Vec::new();
    let mut i = 0;
    while i < fields.len() {
        let st = &fields[i];
        if st.is_empty() {
            i += 1;
            continue;
        }
        let kind = st.as_bytes()[0];
        let (status, two) = match kind {
            b'A' => ("added", false),
            b'M' => ("modified", false),
            b'D' => ("deleted", false),
            b'R' => ("renamed", true),
            b'C' => ("copied", true),
            b'T' => ("type-changed", false),
            _ => ("modified", false),
        };
        if two {
            let old = fields.get(i + 1).cloned().unwrap_or_default();
            let new = fields.get(i + 2).cloned().unwrap_or_default();
            v.push(Change {
                status,
                path: new,
                old_path: Some(old),
            });
            i += 3;
        } else {
            v.push(Change {
                status,
                path: fields.get(i + 1).cloned().unwrap_or_default(),
                old_path: None,
            });
            i += 2;
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals() {
        let o = ApplyOptions::default();
        assert!(
            refuse(b"diff --git a/../x b/../x\n--- a/../x\n+++ b/../x\n", &o)
                .unwrap()
                .contains("leaving")
        );
        assert!(refuse(b"--- a/.git/config\n+++ b/.git/config\n", &o)
            .unwrap()
            .contains(".git"));
        let link = b"diff --git a/l b/l\nnew file mode 120000\nindex 0000000..1111111\n--- /dev/null\n+++ b/l\n@@ -0,0 +1 @@\n+/etc/passwd\n\\ No newline at end of file\n";
        assert!(refuse(link, &o).unwrap().contains("symbolic link"));
        let ok_link = b"diff --git a/d/l b/d/l\nnew file mode 120000\n--- /dev/null\n+++ b/d/l\n@@ -0,0 +1 @@\n+../x\n";
        assert_eq!(refuse(ok_link, &o), None);
        assert!(!link_stays_inside("d/l", "../../x"));
        // hunk lines that look like headers are content, not paths
        let content = b"diff --git a/doc.txt b/doc.txt\n--- a/doc.txt\n+++ b/doc.txt\n@@ -1,3 +1,3 @@\n a\n--- ../../etc/passwd\n+++ .git/config\n b\n";
        assert_eq!(refuse(content, &o), None);
    }

    #[test]
    fn verbose_output_of_several_patches_splits_per_patch() {
        let out = "Checking patch a.c...\nChecking patch b.c...\nHunk #1 succeeded at 9 (offset 2 lines).\nApplied patch a.c cleanly.\nApplied patch b.c cleanly.\nChecking patch a.c...\nApplied patch a.c cleanly.\n";
        let g = split_verbose(out);
        assert_eq!(g.len(), 2);
        assert_eq!(
            parse_offsets(&g[0]),
            vec![Offset {
                hunk: 1,
                line: 9,
                offset: 2
            }]
        );
        assert!(parse_offsets(&g[1]).is_empty());
    }

    #[test]
    fn offsets_and_failures() {
        let o = parse_offsets("Checking patch a.c...\nHunk #1 succeeded at 13 (offset 2 lines).\nHunk #2 succeeded at 40 (offset -1 lines).\n");
        assert_eq!(
            o,
            vec![
                Offset {
                    hunk: 1,
                    line: 13,
                    offset: 2
                },
                Offset {
                    hunk: 2,
                    line: 40,
                    offset: -1
                }
            ]
        );
        let c = classify_failure(
            "error: patch failed: xen/a.c:12\nerror: xen/a.c: patch does not apply\n",
        );
        assert_eq!(
            c,
            Outcome::Conflict {
                at: vec![Place {
                    file: "xen/a.c".into(),
                    line: Some(12),
                    reason: "the hunk does not match".into()
                }]
            }
        );
        assert!(matches!(
            classify_failure("error: corrupt patch at line 7\n"),
            Outcome::Malformed { .. }
        ));
    }
}
