//! `patchbot apply` on real git repositories built here: every result class,
//! every refusal, the base chain, the repository left untouched, hooks and
//! fsmonitor never run, and exactness against git's own commits.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::patchbot;
use patchbot::tree::apply::{apply_series, ApplyOptions, Outcome, PatchInput};
use patchbot::tree::Repo;

/// A scratch repository driven by the real git.
struct TestRepo {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl TestRepo {
    fn new() -> TestRepo {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("repo");
        std::fs::create_dir(&path).unwrap();
        let r = TestRepo { _dir: dir, path };
        r.git(&["init", "-q", "-b", "master"]);
        r
    }

    fn git_cmd(&self) -> Command {
        let mut c = Command::new("git");
        c.current_dir(&self.path)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("HOME", &self.path)
            .env("GIT_AUTHOR_NAME", "Ann Author")
            .env("GIT_AUTHOR_EMAIL", "ann@example.org")
            .env("GIT_COMMITTER_NAME", "Ann Author")
            .env("GIT_COMMITTER_EMAIL", "ann@example.org")
            .env("GIT_AUTHOR_DATE", "2024-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2024-01-01T00:00:00Z");
        c
    }

    fn git(&self, args: &[&str]) -> String {
        let out = self.git_cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn write(&self, path: &str, content: &[u8]) {
        let p = self.path.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    fn commit(&self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", msg]);
        self.git(&["rev-parse", "HEAD"])
    }

    fn tree(&self, rev: &str) -> String {
        self.git(&["rev-parse", &format!("{rev}^{{tree}}")])
    }

    /// `git format-patch --stdout` of a range, as an mbox file.
    fn format_patch(&self, range: &str) -> PathBuf {
        let out = self
            .git_cmd()
            .args(["format-patch", "--stdout", "--thread", range])
            .output()
            .unwrap();
        assert!(out.status.success());
        let f = self.path.parent().unwrap().join(format!(
            "series-{}.mbox",
            range.replace(['.', '^', '/'], "_")
        ));
        std::fs::write(&f, out.stdout).unwrap();
        f
    }

    /// Everything the user could notice: refs, objects, index, status.
    fn fingerprint(&self) -> String {
        let refs = self.git(&["for-each-ref"]);
        let objects = self.git(&["count-objects", "-v"]);
        let status = self.git(&["status", "--porcelain", "--ignored"]);
        let index = std::fs::read(self.path.join(".git/index")).unwrap_or_default();
        format!("{refs}\n{objects}\n{status}\n{}", index.len())
    }
}

fn lines(n: usize, tag: &str) -> String {
    (1..=n).map(|i| format!("{tag} line {i}\n")).collect()
}

fn repo_api(t: &TestRepo) -> Repo {
    Repo::open(&t.path).unwrap()
}

/// The patches of an mbox as apply inputs (through the same pipeline as the CLI).
fn inputs(mbox: &Path) -> Vec<PatchInput> {
    inputs_with(mbox, patchbot::config::Config::builtin())
}

/// The same, keeping CRLF line ends (`git am --keep-cr`): what exactness on
/// files with CRLF needs.
fn inputs_keep_cr(mbox: &Path) -> Vec<PatchInput> {
    let mut cfg = patchbot::config::Config::builtin();
    cfg.mail.keep_cr = true;
    inputs_with(mbox, cfg)
}

/// `commit` as `git format-patch` (run by `git`) writes it, applied with
/// CRLF kept to `parent` in `repo`; the patch file is written into `dir`.
fn apply_commit_as_mailed(
    mut git: Command,
    commit: &str,
    repo: &Repo,
    parent: &str,
    dir: &Path,
) -> patchbot::tree::apply::Applied {
    let out = git
        .args(["format-patch", "--stdout", "-1", commit])
        .output()
        .unwrap();
    assert!(out.status.success(), "format-patch {commit}");
    let f = dir.join("commit.patch");
    std::fs::write(&f, &out.stdout).unwrap();
    apply_series(repo, parent, &inputs_keep_cr(&f), &ApplyOptions::default()).unwrap()
}

fn inputs_with(mbox: &Path, cfg: patchbot::config::Config) -> Vec<PatchInput> {
    let input = patchbot::input::Input::resolve(mbox.to_str().unwrap()).unwrap();
    let report = patchbot::assemble(std::slice::from_ref(&input), &cfg)
        .unwrap()
        .report();
    assert_eq!(
        report.series.len(),
        1,
        "{:?}",
        report.series.iter().map(|s| &s.title).collect::<Vec<_>>()
    );
    patchbot::patch_inputs(&[input], &cfg, &report.series[0]).unwrap()
}

/// A repo with base commit B (a.c of 30 lines) and a two-patch topic:
/// P1 changes line 10 of a.c, P2 adds b.c.
fn topic_repo() -> (TestRepo, String, PathBuf) {
    let t = TestRepo::new();
    t.write("a.c", lines(30, "a").as_bytes());
    let base = t.commit("base");
    t.git(&["checkout", "-q", "-b", "topic"]);
    t.write(
        "a.c",
        lines(30, "a")
            .replace("a line 10\n", "a line ten\n")
            .as_bytes(),
    );
    t.commit("a: spell ten");
    t.write("b.c", b"int b;\n");
    t.commit("b: new file");
    let mbox = t.format_patch(&format!("{base}..topic"));
    t.git(&["checkout", "-q", "master"]);
    (t, base, mbox)
}

fn classes(outcomes: &[patchbot::tree::apply::PatchResult]) -> Vec<String> {
    outcomes
        .iter()
        .map(|p| {
            serde_json::to_value(&p.outcome).unwrap()["result"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn applies_cleanly_to_exactly_the_topic_tree_and_leaves_the_repository_alone() {
    let (t, base, mbox) = topic_repo();
    let before = t.fingerprint();
    let a = apply_series(
        &repo_api(&t),
        &base,
        &inputs(&mbox),
        &ApplyOptions::default(),
    )
    .unwrap();
    assert_eq!(classes(&a.patches), vec!["applied", "applied"]);
    assert_eq!(a.tree.as_deref(), Some(t.tree("topic").as_str()));
    let files: Vec<(&str, &str)> = a
        .files
        .iter()
        .map(|f| (f.status, f.path.as_str()))
        .collect();
    assert_eq!(files, vec![("modified", "a.c"), ("added", "b.c")]);
    assert_eq!(t.fingerprint(), before, "the repository changed");
}

#[test]
fn offset_already_applied_three_way_conflict_not_attempted() {
    let (t, _base, mbox) = topic_repo();
    let patches = inputs(&mbox);
    let repo = repo_api(&t);

    // two lines inserted at the top: the hunk lands 2 lines lower
    t.git(&["checkout", "-q", "-b", "shifted", "master"]);
    t.write("a.c", format!("x\ny\n{}", lines(30, "a")).as_bytes());
    let shifted = t.commit("shifted");
    let a = apply_series(&repo, &shifted, &patches, &ApplyOptions::default()).unwrap();
    assert_eq!(classes(&a.patches), vec!["applied-with-offset", "applied"]);
    match &a.patches[0].outcome {
        Outcome::AppliedWithOffset { offsets } => assert_eq!(offsets[0].offset, 2),
        o => panic!("{o:?}"),
    }

    // P1 is in the base already
    let p1 = t.git(&["rev-parse", "topic~1"]);
    let a = apply_series(&repo, &p1, &patches, &ApplyOptions::default()).unwrap();
    assert_eq!(classes(&a.patches), vec!["already-applied", "applied"]);
    assert_eq!(a.tree.as_deref(), Some(t.tree("topic").as_str()));

    // a context line changed: git apply fails, the 3-way merge is clean
    t.git(&["checkout", "-q", "-b", "context", "master"]);
    t.write(
        "a.c",
        lines(30, "a")
            .replace("a line 7\n", "a line seven\n")
            .as_bytes(),
    );
    let context = t.commit("context");
    let a = apply_series(&repo, &context, &patches, &ApplyOptions::default()).unwrap();
    assert_eq!(classes(&a.patches), vec!["applied-3way", "applied"]);
    assert!(a.tree.is_some());

    // the same line changed differently: a conflict, and the rest is not tried
    t.git(&["checkout", "-q", "-b", "clash", "master"]);
    t.write(
        "a.c",
        lines(30, "a")
            .replace("a line 10\n", "a line TEN\n")
            .as_bytes(),
    );
    let clash = t.commit("clash");
    let a = apply_series(&repo, &clash, &patches, &ApplyOptions::default()).unwrap();
    assert_eq!(classes(&a.patches), vec!["conflict", "not-attempted"]);
    assert_eq!(a.tree, None);
    match &a.patches[0].outcome {
        Outcome::Conflict { at } => {
            assert_eq!(at[0].file, "a.c");
            assert_eq!(at[0].line, Some(7));
        }
        o => panic!("{o:?}"),
    }
    // a conflict report carries no local paths
    let json = serde_json::to_string(&a).unwrap();
    assert!(
        !json.contains(t.path.to_str().unwrap()) && !json.contains("/tmp"),
        "{json}"
    );
}

fn one_patch(patch: &str) -> Vec<PatchInput> {
    vec![PatchInput {
        counter: 1,
        subject: "p".into(),
        message_id: None,
        patch: patch.as_bytes().to_vec(),
        author: "A".into(),
        email: "a@example.org".into(),
        date: String::new(),
        message: String::new(),
    }]
}

fn outcome_of(t: &TestRepo, base: &str, patch: &str) -> Outcome {
    let a = apply_series(
        &repo_api(t),
        base,
        &one_patch(patch),
        &ApplyOptions::default(),
    )
    .unwrap();
    a.patches[0].outcome.clone()
}

#[test]
fn malformed_and_refused_patches() {
    let (t, base, _) = topic_repo();
    // a hunk header that lies about its line counts
    let lying =
        "diff --git a/a.c b/a.c\n--- a/a.c\n+++ b/a.c\n@@ -1,9 +1,9 @@\n-a line 1\n+a line one\n";
    assert!(
        matches!(outcome_of(&t, &base, lying), Outcome::Malformed { .. }),
        "{:?}",
        outcome_of(&t, &base, lying)
    );
    assert!(matches!(
        outcome_of(&t, &base, "just words\n"),
        Outcome::Malformed { .. }
    ));
    let huge_line = "diff --git a/a.c b/a.c\n--- a/a.c\n+++ b/a.c\n@@ -99999999999999999999,1 +1,1 @@\n-x\n+y\n";
    assert!(!outcome_of(&t, &base, huge_line).ok());

    let link = "diff --git a/evil b/evil\nnew file mode 120000\nindex 0000000..1111111\n--- /dev/null\n+++ b/evil\n@@ -0,0 +1 @@\n+/etc/passwd\n\\ No newline at end of file\n";
    match outcome_of(&t, &base, link) {
        Outcome::Refused { reason } => assert!(reason.contains("symbolic link"), "{reason}"),
        o => panic!("{o:?}"),
    }
    let escape = "diff --git a/../../x b/../../x\nnew file mode 100644\n--- /dev/null\n+++ b/../../x\n@@ -0,0 +1 @@\n+x\n";
    match outcome_of(&t, &base, escape) {
        Outcome::Refused { reason } => assert!(reason.contains("leaving the tree"), "{reason}"),
        o => panic!("{o:?}"),
    }
    let dotgit = "diff --git a/.git/hooks/pre-commit b/.git/hooks/pre-commit\nnew file mode 100755\n--- /dev/null\n+++ b/.git/hooks/pre-commit\n@@ -0,0 +1 @@\n+rm -rf /\n";
    assert!(matches!(
        outcome_of(&t, &base, dotgit),
        Outcome::Refused { .. }
    ));
    // 100,000 files
    let mut many = String::new();
    for i in 0..100_000 {
        many.push_str(&format!("diff --git a/f{i} b/f{i}\nnew file mode 100644\n--- /dev/null\n+++ b/f{i}\n@@ -0,0 +1 @@\n+x\n"));
    }
    match outcome_of(&t, &base, &many) {
        Outcome::Refused { reason } => assert!(reason.contains("apply.max_files"), "{reason}"),
        o => panic!("{o:?}"),
    }
    // nothing was written outside the tree
    assert!(!t.path.parent().unwrap().join("x").exists());
}

#[test]
fn quilt_style_patches_apply() {
    let (t, base, _) = topic_repo();
    let quilt = "--- a/a.c\t2024-01-01\n+++ b/a.c\t2024-01-02\n@@ -9,3 +9,3 @@\n a line 9\n-a line 10\n+a line ten\n a line 11\n";
    let a = apply_series(
        &repo_api(&t),
        &base,
        &one_patch(quilt),
        &ApplyOptions::default(),
    )
    .unwrap();
    assert_eq!(classes(&a.patches), vec!["applied"]);
    assert_eq!(a.tree.as_deref(), Some(t.tree("topic~1").as_str()));
}

#[test]
fn branch_records_commits_with_the_patch_authors() {
    let (t, base, mbox) = topic_repo();
    let opts = ApplyOptions {
        branch: Some("applied/v1".into()),
        ..Default::default()
    };
    let a = apply_series(&repo_api(&t), &base, &inputs(&mbox), &opts).unwrap();
    assert_eq!(a.commits.len(), 2);
    assert_eq!(t.tree("refs/heads/applied/v1"), t.tree("topic"));
    assert_eq!(
        t.git(&["log", "-1", "--format=%an <%ae>|%s", "applied/v1"]),
        "Ann Author <ann@example.org>|b: new file"
    );
    // the same name again is refused, not overwritten
    let again = apply_series(&repo_api(&t), &base, &inputs(&mbox), &opts);
    assert!(again.is_err());
}

#[test]
fn repository_hooks_and_fsmonitor_never_run() {
    let (t, base, mbox) = topic_repo();
    let marker = t.path.parent().unwrap().join("pwned");
    let script = t.path.parent().unwrap().join("evil.sh");
    std::fs::write(&script, format!("#!/bin/sh\ntouch {}\n", marker.display())).unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .unwrap();
    let hooks = t.path.parent().unwrap().join("hooks");
    std::fs::create_dir(&hooks).unwrap();
    for h in [
        "pre-commit",
        "post-commit",
        "post-applypatch",
        "pre-applypatch",
        "applypatch-msg",
        "reference-transaction",
        "post-index-change",
    ] {
        std::fs::copy(&script, hooks.join(h)).unwrap();
        std::fs::copy(&script, t.path.join(".git/hooks").join(h)).unwrap();
    }
    t.git(&["config", "core.fsmonitor", script.to_str().unwrap()]);
    t.git(&["config", "core.hooksPath", hooks.to_str().unwrap()]);
    t.git(&["config", "core.pager", script.to_str().unwrap()]);
    // sanity: the hook really runs when git is asked plainly
    let check = t
        .git_cmd()
        .args(["commit", "-q", "--allow-empty", "-m", "x"])
        .output()
        .unwrap();
    assert!(check.status.success());
    assert!(marker.exists(), "the test hook does not run at all");
    std::fs::remove_file(&marker).unwrap();

    let v = common::json_of(
        patchbot()
            .args([
                "apply", "--json", "--branch", "try", "--base", &base, "--tree",
            ])
            .arg(&t.path)
            .arg(&mbox),
    );
    assert!(v["tree"].is_string());
    assert!(
        !marker.exists(),
        "a hook, the fsmonitor or the pager of the repository ran"
    );
}

#[test]
fn base_chain_records_its_rungs() {
    let (t, base, mbox) = topic_repo();
    let run = |args: &[&str]| -> serde_json::Value {
        let out = patchbot()
            .args(["apply", "--json", "--tree"])
            .arg(&t.path)
            .arg(&mbox)
            .args(args)
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)))
    };
    // no base-commit in the series, no staging branch: master
    let v = run(&[]);
    assert_eq!(v["base"]["rung"], "branch");
    assert_eq!(v["base"]["commit"], t.git(&["rev-parse", "master"]));
    // a staging branch is preferred
    t.git(&["branch", "staging", &base]);
    t.git(&["checkout", "-q", "master"]);
    t.write("other.c", b"x\n");
    t.commit("master moves on");
    let v = run(&[]);
    assert_eq!(v["base"]["commit"], base);
    assert!(v["base"]["why"].to_string().contains("refs/heads/staging"));
    // --base wins
    let v = run(&["--base", "master"]);
    assert_eq!(v["base"]["rung"], "explicit");
    // a bogus --base is an error
    let out = patchbot()
        .args(["apply", "--tree"])
        .arg(&t.path)
        .arg(&mbox)
        .args(["--base", "no-such-rev"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    // base-commit: from the series
    let with_base = t.path.parent().unwrap().join("with-base.mbox");
    let mut data = std::fs::read_to_string(&mbox).unwrap();
    data = data.replacen("\n-- \n", &format!("\nbase-commit: {base}\n-- \n"), 1);
    std::fs::write(&with_base, data).unwrap();
    let out = patchbot()
        .args(["apply", "--json", "--tree"])
        .arg(&t.path)
        .arg(&with_base)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["base"]["rung"], "base-commit");
    // --as-of: the last commit of the branch before the series' date
    let v = run(&["--as-of"]);
    assert_eq!(v["base"]["rung"], "branch-as-of");
}

#[test]
fn a_series_that_does_not_apply_exits_5_and_says_why() {
    let (t, _base, mbox) = topic_repo();
    t.write(
        "a.c",
        lines(30, "a")
            .replace("a line 10\n", "a line TEN\n")
            .as_bytes(),
    );
    t.commit("clash on master");
    let out = patchbot()
        .args(["apply", "--tree"])
        .arg(&t.path)
        .arg(&mbox)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("conflict: a.c line 7"), "{text}");
    assert!(text.contains("not attempted"), "{text}");
    assert!(text.contains("the series does not apply"), "{text}");
}

/// A history with every kind of change git format-patch writes.
fn rich_history() -> TestRepo {
    let t = TestRepo::new();
    t.write("src/main.c", lines(40, "main").as_bytes());
    t.write("docs/readme.txt", b"hello\n");
    t.write("tools/run.sh", b"#!/bin/sh\necho run\n");
    t.write("crlf.txt", b"one\r\ntwo\r\n");
    t.commit("initial");
    t.write(
        "src/main.c",
        lines(40, "main")
            .replace("main line 20\n", "main line twenty\n")
            .as_bytes(),
    );
    t.commit("edit");
    t.git(&["mv", "src/main.c", "src/core.c"]);
    t.write(
        "src/core.c",
        lines(40, "main")
            .replace("main line 20\n", "main line twenty\n")
            .replace("main line 1\n", "core line 1\n")
            .as_bytes(),
    );
    t.commit("rename with an edit");
    t.git(&["update-index", "--chmod=+x", "tools/run.sh"]);
    t.git(&["commit", "-q", "-m", "mode change"]);
    let png: Vec<u8> = (0u8..=255).chain((0u8..=255).rev()).collect();
    t.write("docs/figure.png", &png);
    t.commit("binary file");
    let mut png2 = png.clone();
    png2[10] = 0;
    t.write("docs/figure.png", &png2);
    t.commit("binary edit");
    t.git(&["rm", "-q", "docs/readme.txt"]);
    t.commit("delete");
    t.write("latin1.txt", b"caf\xe9\n");
    t.write("crlf.txt", b"one\r\ntwo\r\nthree\r\n");
    t.commit("latin-1 file and CRLF edit");
    t.write(
        "src/copy.c",
        lines(40, "main")
            .replace("main line 20\n", "main line twenty\n")
            .replace("main line 1\n", "core line 1\n")
            .as_bytes(),
    );
    t.commit("copy");
    t
}

#[test]
fn exactness_format_patch_of_each_commit_gives_its_tree() {
    let t = rich_history();
    let repo = repo_api(&t);
    let commits: Vec<String> = t
        .git(&["rev-list", "--reverse", "--no-merges", "HEAD~7..HEAD"])
        .lines()
        .map(String::from)
        .collect();
    assert!(commits.len() >= 7);
    let mut checked = 0;
    for c in &commits {
        let parent = t.git(&["rev-parse", &format!("{c}^")]);
        let a = apply_commit_as_mailed(t.git_cmd(), c, &repo, &parent, t.path.parent().unwrap());
        assert_eq!(
            a.tree.as_deref(),
            Some(t.tree(c).as_str()),
            "commit {c}: {:?}",
            a.patches
        );
        checked += 1;
    }
    assert_eq!(checked, commits.len());
}

#[test]
fn a_series_applies_in_a_linked_worktree_as_in_its_main_repository() {
    // a linked worktree's git directory (.git/worktrees/NAME) has no objects
    // of its own: the base's objects must still be found
    let t = rich_history();
    let c = t.git(&["rev-parse", "HEAD"]);
    let wt = t.path.parent().unwrap().join("linked");
    t.git(&[
        "worktree",
        "add",
        "-q",
        "--detach",
        wt.to_str().unwrap(),
        "HEAD~1",
    ]);
    let linked = Repo::open(&wt).unwrap();
    assert!(
        !linked.git_dir.join("objects").exists(),
        "{}: expected a linked worktree's git directory",
        linked.git_dir.display()
    );
    let parent = t.git(&["rev-parse", "HEAD~1"]);
    let a = apply_commit_as_mailed(t.git_cmd(), &c, &linked, &parent, t.path.parent().unwrap());
    assert_eq!(
        a.tree.as_deref(),
        Some(t.tree(&c).as_str()),
        "{:?}",
        a.patches
    );
}

#[test]
fn exactness_on_this_projects_own_history() {
    // when the tests run in a git checkout of patchbot, its own commits too
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // in CI the project is a fresh clone: a repository
    let Ok(repo) = Repo::open(root) else {
        common::reference_tool("this project's git history", false);
        return;
    };
    let Ok(list) = repo.run(&["rev-list", "--no-merges", "--max-count=25", "HEAD"]) else {
        return;
    };
    let mut checked = 0;
    for c in list.lines() {
        let Ok(parent) = repo.run(&["rev-parse", "--verify", "--quiet", &format!("{c}^")]) else {
            continue;
        };
        let dir = tempfile::tempdir().unwrap();
        let git = patchbot::git::command(&repo.git_dir);
        let a = apply_commit_as_mailed(git, c, &repo, &parent, dir.path());
        assert_eq!(
            a.tree.as_deref(),
            Some(repo.tree_of(c).unwrap().as_str()),
            "commit {c}"
        );
        checked += 1;
    }
    eprintln!("checked {checked} commits of this repository");
}

#[test]
fn vfs_over_git_trees_refuses_links_submodules_and_escapes() {
    use patchbot::tree::vfs::{GitTreeVfs, Kind, Vfs, VfsError};
    let t = TestRepo::new();
    t.write("dir/file.txt", b"content\n");
    std::os::unix::fs::symlink("/etc/passwd", t.path.join("link")).unwrap();
    std::os::unix::fs::symlink("../dir", t.path.join("dir/up")).unwrap();
    t.commit("tree");
    // a submodule entry, made with plumbing
    let head = t.git(&["rev-parse", "HEAD"]);
    t.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{head},sub"),
    ]);
    t.git(&["commit", "-q", "-m", "submodule"]);
    let repo = repo_api(&t);
    let v = GitTreeVfs::new(&repo, "HEAD").unwrap();
    assert_eq!(v.read("dir/file.txt").unwrap(), b"content\n");
    assert_eq!(v.read("./dir//file.txt").unwrap(), b"content\n");
    assert!(matches!(v.read("link"), Err(VfsError::Symlink(_))));
    assert!(matches!(
        v.read("dir/up/file.txt"),
        Err(VfsError::Symlink(_))
    ));
    assert!(matches!(v.read("sub"), Err(VfsError::Submodule(_))));
    assert!(matches!(v.read("../etc/passwd"), Err(VfsError::Escapes(_))));
    assert!(matches!(v.read("/etc/passwd"), Err(VfsError::Absolute(_))));
    assert!(matches!(v.read("dir"), Err(VfsError::IsDir(_))));
    assert!(matches!(v.read("nope"), Err(VfsError::NotFound(_))));
    assert!(v.exists("dir/file.txt") && !v.exists("dir/nope"));
    let root = v.list("").unwrap();
    assert_eq!(
        root,
        vec![
            ("dir".into(), Kind::Dir),
            ("link".into(), Kind::Symlink),
            ("sub".into(), Kind::Submodule)
        ]
    );
    assert_eq!(
        v.list("dir").unwrap(),
        vec![
            ("file.txt".into(), Kind::File),
            ("up".into(), Kind::Symlink)
        ]
    );
}

#[test]
fn vfs_over_git_trees_reads_many_files_as_one_by_one() {
    use patchbot::tree::vfs::{GitTreeVfs, Vfs, VfsError};
    let t = TestRepo::new();
    // enough files, and one larger than a pipe's buffer, that requests and
    // answers must overlap
    let mut paths = Vec::new();
    for i in 0..3000 {
        let p = format!("d{}/f{i}.c", i % 7);
        t.write(&p, format!("int f{i};\n").repeat(i % 50 + 1).as_bytes());
        paths.push(p);
    }
    t.write("big.bin", &vec![b'x'; 300_000]);
    std::os::unix::fs::symlink("d0/f0.c", t.path.join("link")).unwrap();
    t.commit("many");
    let repo = repo_api(&t);
    let v = GitTreeVfs::new(&repo, "HEAD")
        .unwrap()
        .with_max_file(200_000);
    let mut asked: Vec<String> = paths.clone();
    for (i, odd) in ["big.bin", "link", "nope", "d0", "../x", "d1/f1.c"]
        .iter()
        .enumerate()
    {
        asked.insert(i * 400, odd.to_string());
    }
    let many = v.read_many(&asked);
    assert_eq!(many.len(), asked.len());
    for (p, got) in asked.iter().zip(&many) {
        let one = v.read(p);
        assert_eq!(format!("{got:?}"), format!("{one:?}"), "{p}");
    }
    assert!(matches!(many[0], Err(VfsError::TooBig { .. })));
    assert!(matches!(many[400], Err(VfsError::Symlink(_))));
    assert!(matches!(many[800], Err(VfsError::NotFound(_))));
    assert_eq!(many[2000].as_deref().ok(), Some(&b"int f1;\nint f1;\n"[..]));
    // and the view stays in step afterwards
    assert_eq!(v.read("d3/f3.c").unwrap(), b"int f3;\n".repeat(4));
}

#[test]
fn vfs_over_a_directory_is_confined_the_same_way() {
    use patchbot::tree::vfs::{DirVfs, Vfs, VfsError};
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("tree");
    std::fs::create_dir_all(root.join("a")).unwrap();
    std::fs::write(root.join("a/f.txt"), b"x").unwrap();
    std::fs::write(d.path().join("secret"), b"s").unwrap();
    std::os::unix::fs::symlink(d.path().join("secret"), root.join("a/out")).unwrap();
    std::os::unix::fs::symlink(d.path(), root.join("updir")).unwrap();
    let fifo = root.join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success());
    let v = DirVfs::new(&root).unwrap();
    assert_eq!(v.read("a/f.txt").unwrap(), b"x");
    assert!(matches!(v.read("a/out"), Err(VfsError::Symlink(_))));
    assert!(matches!(v.read("updir/secret"), Err(VfsError::Symlink(_))));
    assert!(matches!(v.read("../secret"), Err(VfsError::Escapes(_))));
    assert!(matches!(
        v.read(d.path().join("secret").to_str().unwrap()),
        Err(VfsError::Absolute(_))
    ));
    // reading a FIFO would block: it is refused, not opened
    assert!(matches!(v.read("fifo"), Err(VfsError::Special(_))));
}

#[test]
fn a_plain_directory_is_snapshotted_and_left_alone() {
    let (t, base, mbox) = topic_repo();
    // the base's files, as a plain folder (no .git), inside another directory
    let plain = t.path.parent().unwrap().join("plain");
    std::fs::create_dir(&plain).unwrap();
    std::fs::write(plain.join("a.c"), lines(30, "a")).unwrap();
    let run = |dir: &Path| -> serde_json::Value {
        common::json_of(
            patchbot()
                .args(["apply", "--json", "--tree"])
                .arg(dir)
                .arg(&mbox),
        )
    };
    let v = run(&plain);
    assert_eq!(v["base"]["rung"], "directory");
    assert_eq!(v["base"]["commit"].as_str().map(|s| s.len()), Some(40));
    // same content, same tree id as git's own commit
    assert_eq!(v["tree"], t.tree("topic"));
    let names: Vec<_> = std::fs::read_dir(&plain)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        vec![std::ffi::OsString::from("a.c")],
        "the directory was written to"
    );
    // a subdirectory of a repository is a plain directory too: its files are the tree
    t.git(&["checkout", "-q", &base]);
    std::fs::create_dir(t.path.join("sub")).unwrap();
    std::fs::write(t.path.join("sub/a.c"), lines(30, "a")).unwrap();
    let v = run(&t.path.join("sub"));
    assert_eq!(v["base"]["rung"], "directory");
    assert_eq!(v["tree"], t.tree("topic"));
    // --base makes no sense there
    let out = patchbot()
        .args(["apply", "--base", "HEAD", "--tree"])
        .arg(&plain)
        .arg(&mbox)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_oversized_patch_is_refused() {
    let (t, base, _) = topic_repo();
    let mut big = String::from("diff --git a/big b/big\nnew file mode 100644\n--- /dev/null\n+++ b/big\n@@ -0,0 +1,300000 @@\n");
    while big.len() < 17 * 1024 * 1024 {
        big.push_str("+0123456789012345678901234567890123456789012345678901234567890123456789\n");
    }
    match outcome_of(&t, &base, &big) {
        Outcome::Refused { reason } => {
            assert!(reason.contains("apply.max_patch_bytes"), "{reason}")
        }
        o => panic!("{o:?}"),
    }
}

#[test]
fn a_bare_repository_works_and_gains_nothing() {
    let (t, base, mbox) = topic_repo();
    let bare = t.path.parent().unwrap().join("bare.git");
    let out = t
        .git_cmd()
        .args(["clone", "-q", "--bare", "."])
        .arg(&bare)
        .output()
        .unwrap();
    assert!(out.status.success());
    let count = || {
        let out = Command::new("git")
            .arg("--git-dir")
            .arg(&bare)
            .args(["count-objects", "-v"])
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let before = count();
    let v = common::json_of(
        patchbot()
            .args(["apply", "--json", "--base", &base, "--tree"])
            .arg(&bare)
            .arg(&mbox),
    );
    assert_eq!(v["tree"], t.tree("topic"));
    assert_eq!(count(), before, "objects were written into the repository");
}

#[test]
fn patches_that_build_on_each_other_apply_in_one_go_with_per_patch_offsets() {
    // patch 1 adds new.c and inserts two lines in a.c; patch 2 edits new.c and
    // a.c further down, where patch 1's insertion shifts it
    let t = TestRepo::new();
    t.write("a.c", lines(60, "a").as_bytes());
    let base = t.commit("base");
    t.git(&["checkout", "-q", "-b", "topic"]);
    t.write("new.c", b"int x;\n");
    t.write(
        "a.c",
        lines(60, "a")
            .replace("a line 20\n", "a line 20\ninserted 1\ninserted 2\n")
            .as_bytes(),
    );
    t.commit("one");
    t.write("new.c", b"int x;\nint y;\n");
    let two = lines(60, "a")
        .replace("a line 20\n", "a line 20\ninserted 1\ninserted 2\n")
        .replace("a line 50\n", "a line fifty\n");
    t.write("a.c", two.as_bytes());
    t.commit("two");
    let mbox = t.format_patch(&format!("{base}..topic"));
    let patches = inputs(&mbox);
    let a = apply_series(&repo_api(&t), &base, &patches, &ApplyOptions::default()).unwrap();
    assert_eq!(classes(&a.patches), vec!["applied", "applied"]);
    assert_eq!(a.tree.as_deref(), Some(t.tree("topic").as_str()));
    // on a base with two more lines at the very top, both patches land 2 lower
    t.git(&["checkout", "-q", "-b", "shifted", &base]);
    t.write("a.c", format!("x\ny\n{}", lines(60, "a")).as_bytes());
    let shifted = t.commit("shifted");
    let a = apply_series(&repo_api(&t), &shifted, &patches, &ApplyOptions::default()).unwrap();
    assert_eq!(
        classes(&a.patches),
        vec!["applied-with-offset", "applied-with-offset"]
    );
    for p in &a.patches {
        let Outcome::AppliedWithOffset { offsets } = &p.outcome else {
            panic!()
        };
        assert!(offsets.iter().all(|o| o.offset == 2), "{offsets:?}");
    }
    // the patch-by-patch path (taken with --branch) reaches the same classes
    let opts = ApplyOptions {
        branch: Some("b".into()),
        ..Default::default()
    };
    let b = apply_series(&repo_api(&t), &shifted, &patches, &opts).unwrap();
    assert_eq!(a.patches, b.patches);
    assert_eq!(a.tree, b.tree);
}
