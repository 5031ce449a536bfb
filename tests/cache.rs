//! The on-disk cache of base results (`[cache]`, `patchbot cache`): a review
//! with the base read from the cache says exactly what building it says; the
//! key follows the base tree and the configuration; a damaged or unwritable
//! cache costs time, never a wrong or failed review.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `patchbot` with the cache in `dir` (None: no cache).
fn patchbot(dir: Option<&Path>) -> Command {
    let mut c = common::patchbot();
    if let Some(d) = dir {
        c.env_remove("PATCHBOT_NO_CACHE")
            .env("PATCHBOT_CACHE_DIR", d);
    }
    c
}

/// `review --json` of one series; the JSON and its `base_cache` apart.
fn review(dir: Option<&Path>, args: &[&str]) -> (serde_json::Value, serde_json::Value) {
    let mut c = patchbot(dir);
    c.arg("review").args(args).arg("--json");
    let out = c.output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cache = v["base_cache"].take();
    (v, cache)
}

fn example(series: &str) -> Vec<String> {
    vec![
        root().join("examples").join(series).display().to_string(),
        "--tree".into(),
        root().join("examples/xen-tree").display().to_string(),
    ]
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn counts(c: &serde_json::Value) -> (u64, u64) {
    (c["hits"].as_u64().unwrap(), c["misses"].as_u64().unwrap())
}

#[test]
fn every_example_reviews_the_same_from_the_cache_as_built() {
    let dir = tempfile::tempdir().unwrap();
    let mut series: Vec<String> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".mbox"))
        .collect();
    series.sort();
    assert!(series.len() >= 10);
    let mut first = true;
    for s in &series {
        let args = example(s);
        let (built, none) = review(None, &strs(&args));
        assert!(none.is_null(), "no cache: {none}");
        let (cold, c1) = review(Some(dir.path()), &strs(&args));
        let (warm, c2) = review(Some(dir.path()), &strs(&args));
        // every series shares the one base: only the first review builds it
        if first {
            assert_eq!(counts(&c1), (0, 10), "{s}");
            first = false;
        } else {
            assert_eq!(counts(&c1), (10, 0), "{s}");
        }
        assert_eq!(counts(&c2), (10, 0), "{s}");
        assert_eq!(cold, built, "{s}: the cold cache changed the review");
        assert_eq!(warm, built, "{s}: the warm cache changed the review");
    }
}

/// A git repository holding the example tree as its first commit.
struct Repo {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("xen");
        common::stdout_of(
            Command::new("cp")
                .arg("-r")
                .arg(root().join("examples/xen-tree"))
                .arg(&path),
        );
        let r = Repo { _dir: dir, path };
        r.git(&["init", "-q", "-b", "main"]);
        r.commit("base");
        r
    }

    fn git(&self, args: &[&str]) -> String {
        common::stdout_of(
            Command::new("git")
                .arg("-C")
                .arg(&self.path)
                .args(["-c", "user.name=T", "-c", "user.email=t@example.org"])
                .args(args),
        )
    }

    fn commit(&self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", msg]);
        self.git(&["rev-parse", "HEAD"])
    }

    fn write(&self, path: &str, text: &str) {
        let p = self.path.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// Add `line` after `*(.rodata.*)` in an architecture's script.
    fn add_to_rodata(&self, arch: &str, line: &str) {
        let p = format!("xen/arch/{arch}/xen.lds.S");
        let text = std::fs::read_to_string(self.path.join(&p)).unwrap();
        let at = text.find("*(.rodata.*)\n").unwrap() + "*(.rodata.*)\n".len();
        self.write(
            &p,
            &format!("{}       {line}\n{}", &text[..at], &text[at..]),
        );
    }

    fn range(&self, from: &str, to: &str) -> Vec<String> {
        vec![
            format!("{from}..{to}"),
            "--tree".into(),
            self.path.display().to_string(),
        ]
    }
}

fn rules_and_arches(v: &serde_json::Value) -> Vec<(String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["arch"].to_string(),
            )
        })
        .collect()
}

#[test]
fn who_produces_a_section_counts_the_files_the_series_adds() {
    // the base's word index says who produced what before the series; files
    // the series adds or changes must be looked at as the patched tree has them
    let r = Repo::new();
    let base = r.git(&["rev-parse", "HEAD"]);
    // common code starts producing a section arm's script now collects
    r.write(
        "xen/common/newsec.c",
        "int newsec_marker __section(\".data.newsec\") = 1;\n",
    );
    r.add_to_rodata("arm", "*(.data.newsec)");
    let common = r.commit("common producer");
    // an arm-only producer, on another branch from the base
    r.git(&["checkout", "-q", "-b", "armonly", &base]);
    r.write(
        "xen/arch/arm/armsec.S",
        "        .section .data.armsec, \"aw\"\n        .long 1\n",
    );
    r.add_to_rodata("arm", "*(.data.armsec)");
    let armonly = r.commit("arm producer");

    let dir = tempfile::tempdir().unwrap();
    for (head, sibling) in [(&common, true), (&armonly, false)] {
        let args = r.range(&base, head);
        let (built, _) = review(None, &strs(&args));
        let (cold, _) = review(Some(dir.path()), &strs(&args));
        let (warm, c2) = review(Some(dir.path()), &strs(&args));
        assert_eq!(counts(&c2), (10, 0));
        assert_eq!(cold, built);
        assert_eq!(warm, built);
        let got = rules_and_arches(&built);
        assert_eq!(
            got.iter().any(|(rule, _)| rule == "xen-sibling-pattern"),
            sibling,
            "{head}: {got:?}"
        );
    }
    // the index of the base was stored and is what the warm reviews used
    let (n, _) = info(dir.path());
    assert!(n > 10, "outputs and the sources index: {n} entries");
}

fn info(dir: &Path) -> (u64, u64) {
    let v = common::json_of(patchbot(Some(dir)).args(["cache", "info", "--json"]));
    assert_eq!(v["dir"], dir.display().to_string());
    assert_eq!(v["enabled"], true);
    (v["entries"].as_u64().unwrap(), v["bytes"].as_u64().unwrap())
}

#[test]
fn the_key_follows_the_base_tree_and_the_configuration() {
    let r = Repo::new();
    let base = r.git(&["rev-parse", "HEAD"]);
    r.add_to_rodata("arm", "*(.data.ro_after_init)");
    let head = r.commit("series");
    let dir = tempfile::tempdir().unwrap();
    let args = r.range(&base, &head);
    assert_eq!(counts(&review(Some(dir.path()), &strs(&args)).1), (0, 10));
    assert_eq!(counts(&review(Some(dir.path()), &strs(&args)).1), (10, 0));

    // another base (a file no output reads changed: still another tree)
    r.git(&["checkout", "-q", "-b", "other", &base]);
    r.write("README.other", "another base\n");
    let base2 = r.commit("other base");
    r.add_to_rodata("arm", "*(.data.ro_after_init)");
    let head2 = r.commit("series again");
    let args2 = r.range(&base2, &head2);
    assert_eq!(counts(&review(Some(dir.path()), &strs(&args2)).1), (0, 10));

    // another configuration: a profile setting the outputs are built with
    let config = String::from_utf8(patchbot(None).arg("config").output().unwrap().stdout).unwrap();
    assert!(config.contains("XEN_FULLVERSION = \"4.21-unstable\""));
    let changed = config.replace(
        "XEN_FULLVERSION = \"4.21-unstable\"",
        "XEN_FULLVERSION = \"4.99-test\"",
    );
    let cfg = dir.path().join("other.toml");
    std::fs::write(&cfg, changed).unwrap();
    let mut c = patchbot(Some(dir.path()));
    c.args(["--config", cfg.to_str().unwrap()]);
    let out = c
        .arg("review")
        .args(strs(&args))
        .arg("--json")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(counts(&v["base_cache"]), (0, 10));
    // and the first configuration's entries are still there
    assert_eq!(counts(&review(Some(dir.path()), &strs(&args)).1), (10, 0));
    // --no-cache neither reads nor writes
    let (_, none) = review(
        Some(dir.path()),
        &[&strs(&args)[..], &["--no-cache"]].concat(),
    );
    assert!(none.is_null());
}

#[test]
fn a_damaged_cache_is_a_miss_and_is_mended() {
    let dir = tempfile::tempdir().unwrap();
    let args = example("common-section-one-arch.mbox");
    let (built, c) = review(Some(dir.path()), &strs(&args));
    assert_eq!(counts(&c), (0, 10));
    let mut damaged = 0;
    for (i, e) in std::fs::read_dir(dir.path()).unwrap().enumerate() {
        let p = e.unwrap().path();
        let bytes = std::fs::read(&p).unwrap();
        // truncated, emptied, or garbage
        let new: Vec<u8> = match i % 3 {
            0 => bytes[..bytes.len() / 2].to_vec(),
            1 => Vec::new(),
            _ => b"\x00\xffnot json {".to_vec(),
        };
        std::fs::write(&p, new).unwrap();
        damaged += 1;
    }
    assert!(damaged > 10, "outputs and the sources index");
    let (again, c) = review(Some(dir.path()), &strs(&args));
    assert_eq!(counts(&c), (0, 10));
    assert_eq!(again, built);
    let (warm, c) = review(Some(dir.path()), &strs(&args));
    assert_eq!(counts(&c), (10, 0));
    assert_eq!(warm, built);
}

#[test]
fn an_unwritable_cache_does_not_fail_the_review() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let args = example("xen-function-alignment.mbox");
    let (built, _) = review(None, &strs(&args));
    let out = patchbot(Some(&file))
        .arg("review")
        .args(strs(&args))
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = v["base_cache"].take();
    assert_eq!(v, built);
    assert_eq!(counts(&c), (0, 10));
    assert!(c["write_error"].as_str().unwrap().contains("a-file"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot store base results in the cache"),
        "{err}"
    );
}

#[test]
fn cache_info_and_clear() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(info(dir.path()), (0, 0));
    review(
        Some(dir.path()),
        &strs(&example("xen-function-alignment.mbox")),
    );
    let (n, bytes) = info(dir.path());
    assert!(n >= 10 && bytes > 0);
    let text = patchbot(Some(dir.path()))
        .args(["cache", "info"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(&format!("{n} entries")), "{text}");
    let out = patchbot(Some(dir.path()))
        .args(["cache", "clear"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("removed {n} entries from {}\n", dir.path().display())
    );
    assert_eq!(info(dir.path()), (0, 0));
    // off: says so, and clearing still works
    let v = common::json_of(
        patchbot(Some(dir.path()))
            .env("PATCHBOT_NO_CACHE", "1")
            .args(["cache", "info", "--json"]),
    );
    assert_eq!(v["enabled"], false);
}
