//! Benchmark: apply a 20-patch series to a repository of 10,000 files.
//!
//! `cargo bench --bench apply` builds (once, cached under target/) a repository
//! with 10,000 files and a 20-commit topic branch, exports the topic with
//! `git format-patch`, then times in the same run:
//! * `patchbot apply SERIES --tree REPO --base BASE` (private index, no checkout);
//! * the reference: a fresh worktree checkout of BASE and `git am` of the series.
//!
//! Both must give the same tree. Target: patchbot at least 5x faster.
//!
//! Environment: PATCHBOT_BENCH_RUNS (default 5).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.org")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.org")
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn file_text(i: usize, rev: usize) -> String {
    let mut s = format!("/* file {i} */\n#include <xen/lib.h>\n\n");
    for l in 0..20 {
        s.push_str(&format!(
            "int f{i}_{l}(int x) {{ return x + {}; }}\n",
            l + rev * 100
        ));
    }
    s
}

fn build(root: &Path) -> (String, String) {
    let repo = root.join("repo");
    let done = root.join("ready");
    if done.exists() {
        let base = git(&repo, &["rev-parse", "base"]);
        return (base, std::fs::read_to_string(&done).unwrap());
    }
    let _ = std::fs::remove_dir_all(root);
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "master"]);
    for i in 0..10_000 {
        let p = repo.join(format!("xen/d{:03}/f{:05}.c", i / 100, i));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, file_text(i, 0)).unwrap();
    }
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "base"]);
    git(&repo, &["tag", "base"]);
    let base = git(&repo, &["rev-parse", "HEAD"]);
    git(&repo, &["checkout", "-q", "-b", "topic"]);
    for c in 0..20 {
        for k in 0..3 {
            let i = (c * 487 + k * 131) % 10_000;
            let p = repo.join(format!("xen/d{:03}/f{:05}.c", i / 100, i));
            std::fs::write(p, file_text(i, c + 1)).unwrap();
        }
        std::fs::write(
            repo.join(format!("xen/new{c:02}.c")),
            file_text(20_000 + c, 0),
        )
        .unwrap();
        git(&repo, &["add", "-A"]);
        git(
            &repo,
            &[
                "commit",
                "-q",
                "-m",
                &format!("xen: change {c}\n\nSigned-off-by: Bench <bench@example.org>"),
            ],
        );
    }
    let patches = git(
        &repo,
        &["format-patch", "--stdout", "--thread", "base..topic"],
    );
    std::fs::write(root.join("series.mbox"), patches + "\n").unwrap();
    let topic_tree = git(&repo, &["rev-parse", "topic^{tree}"]);
    git(&repo, &["checkout", "-q", "master"]);
    std::fs::write(&done, &topic_tree).unwrap();
    (base, topic_tree)
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-apply");
    let runs: usize = std::env::var("PATCHBOT_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    let (base, topic_tree) = build(&root);
    let repo = root.join("repo");
    let mbox = root.join("series.mbox");
    // the same starting point for every run: everything packed, nothing left
    // from earlier reference runs, and no automatic gc during `git am`
    git(&repo, &["config", "gc.auto", "0"]);
    git(&repo, &["worktree", "prune"]);
    git(&repo, &["repack", "-adq"]);
    git(&repo, &["prune", "--expire=now"]);
    let exe = env!("CARGO_BIN_EXE_patchbot");

    let mut best_ours = f64::INFINITY;
    for _ in 0..runs {
        let t = Instant::now();
        let out = Command::new(exe)
            .args(["apply", "--json", "--base", &base, "--tree"])
            .arg(&repo)
            .arg(&mbox)
            .output()
            .unwrap();
        best_ours = best_ours.min(t.elapsed().as_secs_f64());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            v["tree"], topic_tree,
            "patchbot's tree differs from the topic's"
        );
    }

    let mut best_ref = f64::INFINITY;
    git(&repo, &["worktree", "prune"]);
    for n in 0..runs {
        // in the system temp directory: usually the fastest disk here, so the
        // reference is not slowed by where target/ lives (a conservative ratio)
        let wt = std::env::temp_dir().join(format!("patchbot-bench-wt{n}"));
        let _ = std::fs::remove_dir_all(&wt);
        let t = Instant::now();
        git(
            &repo,
            &[
                "worktree",
                "add",
                "-q",
                "--detach",
                wt.to_str().unwrap(),
                &base,
            ],
        );
        git(&wt, &["am", "-q", mbox.to_str().unwrap()]);
        best_ref = best_ref.min(t.elapsed().as_secs_f64());
        assert_eq!(
            git(&wt, &["rev-parse", "HEAD^{tree}"]),
            topic_tree,
            "git am's tree differs"
        );
        git(
            &repo,
            &["worktree", "remove", "--force", wt.to_str().unwrap()],
        );
    }
    let ratio = best_ref / best_ours;
    println!("repository: 10,000 files; series: 20 patches");
    println!("patchbot apply (private index, no checkout): {best_ours:.3} s (best of {runs})");
    println!("worktree checkout + git am:                  {best_ref:.3} s (best of {runs})");
    println!(
        "speed-up: {ratio:.1}x (target 5x: {})",
        if ratio >= 5.0 { "met" } else { "NOT met" }
    );
}
