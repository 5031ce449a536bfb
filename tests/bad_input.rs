//! Hostile input: every command reports what it could not read, carries on with
//! the rest, never panics or hangs, and stays within its size limits.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{fixture, patchbot};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Run with a deadline: a hang is a failure, not a stuck test suite.
fn run_with_deadline(mut cmd: Command, limit: Duration) -> Run {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        out.read_to_end(&mut s).unwrap();
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        err.read_to_end(&mut s).unwrap();
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{cmd:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&t_out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&t_err.join().unwrap()).into_owned(),
    }
}

fn series(inputs: &[&Path]) -> (Run, serde_json::Value) {
    let mut c = patchbot();
    c.arg("series").arg("--json").args(inputs);
    let r = run_with_deadline(c, Duration::from_secs(60));
    assert!(!r.stderr.contains("panicked"), "panic: {}", r.stderr);
    let v = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}\n{}", r.stdout, r.stderr));
    (r, v)
}

fn bad_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixture("bad"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e != "py"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_bad_fixture_is_read_without_panic_or_hang() {
    for f in bad_files() {
        for cmd in [["series", "--json"], ["series", "--format=text"]] {
            let mut c = patchbot();
            c.args(cmd).arg(&f);
            let r = run_with_deadline(c, Duration::from_secs(30));
            assert!(
                !r.stderr.contains("panicked"),
                "{}: {}",
                f.display(),
                r.stderr
            );
            assert!(
                [0, 3, 4].contains(&r.code),
                "{}: exit {} {}",
                f.display(),
                r.code,
                r.stderr
            );
        }
        let mut c = patchbot();
        c.args(["mail", "--json", "--index", "1"]).arg(&f);
        let r = run_with_deadline(c, Duration::from_secs(30));
        assert!(
            !r.stderr.contains("panicked"),
            "{}: {}",
            f.display(),
            r.stderr
        );
        if r.code != 0 {
            assert!(
                r.stderr.starts_with("patchbot: "),
                "{}: unclear error {:?}",
                f.display(),
                r.stderr
            );
        }
    }
}

#[test]
fn all_bad_fixtures_together_report_errors_and_keep_the_rest() {
    let files = bad_files();
    let refs: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let (r, v) = series(&refs);
    assert_eq!(
        r.code, 4,
        "some messages are unreadable, so the exit code says partial: {}",
        r.stderr
    );
    let errors = v["errors"].as_array().unwrap();
    // where and why, for every error
    for e in errors {
        assert!(
            e["where"]["kind"].is_string() && e["reason"].as_str().is_some_and(|s| !s.is_empty()),
            "{e}"
        );
    }
    let reasons: Vec<&str> = errors
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("corrupt mailbox")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("no mail headers")),
        "{reasons:?}"
    );
    // and the readable patches still make series
    assert!(
        v["series"].as_array().unwrap().len() >= 5,
        "{}",
        v["series"]
    );
}

#[test]
fn truncated_mbox_keeps_the_complete_messages() {
    let (_, v) = series(&[&fixture("bad/truncated.mbox")]);
    let s = v["series"].as_array().unwrap();
    let counters: Vec<u64> = s
        .iter()
        .flat_map(|s| s["patches"].as_array().unwrap().iter())
        .map(|p| p["counter"].as_u64().unwrap())
        .collect();
    assert!(counters.contains(&1) && counters.contains(&2), "{v}");
}

#[test]
fn unknown_charset_is_a_warning_and_the_message_is_kept() {
    let (r, v) = series(&[&fixture("bad/unknown-charset.eml")]);
    assert_eq!(r.code, 0);
    assert_eq!(v["messages"], 1);
    let w = v["warnings"].to_string();
    assert!(w.contains("x-unknown-klingon"), "{w}");
}

fn make_py(args: &[&str]) -> bool {
    let ok = Command::new("python3")
        .arg(fixture("bad/make.py"))
        .args(args)
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    common::reference_tool("python3 (tests/fixtures/bad/make.py)", ok)
}

#[test]
fn a_message_over_the_size_limit_is_skipped_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.eml");
    if !make_py(&["--huge-attachment", big.to_str().unwrap(), "50"]) {
        return;
    }
    assert!(std::fs::metadata(&big).unwrap().len() > 50_000_000);
    // an mbox with a normal patch on either side of the 50 MB message
    let mbox = dir.path().join("big.mbox");
    let normal = std::fs::read(fixture("mail/01-format-patch-plain.patch")).unwrap();
    let mut data = normal.clone();
    data.extend_from_slice(b"\nFrom big Mon Jan  1 00:00:00 2024\n");
    data.extend_from_slice(&std::fs::read(&big).unwrap());
    data.extend_from_slice(b"\n");
    data.extend_from_slice(
        &std::fs::read(fixture("mail/20-resend.eml"))
            .map(|b| {
                let mut m = b"From x Mon Jan  1 00:00:01 2024\n".to_vec();
                m.extend_from_slice(&b);
                m
            })
            .unwrap(),
    );
    std::fs::write(&mbox, &data).unwrap();
    let (r, v) = series(&[&mbox]);
    assert_eq!(r.code, 4);
    let reasons = v["errors"].to_string();
    assert!(reasons.contains("over the limit"), "{reasons}");
    assert_eq!(v["messages"], 2, "the messages around the big one are read");
    // a larger limit in a config file lets it through
    let cfg = dir.path().join("cfg.toml");
    std::fs::write(&cfg, "[limits]\nmax_message_bytes = 100000000\n").unwrap();
    let mut c = patchbot();
    c.args(["--config", cfg.to_str().unwrap(), "series", "--json"])
        .arg(&mbox);
    let r = run_with_deadline(c, Duration::from_secs(60));
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn a_subject_of_100k_characters_is_cut_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("long.eml");
    if !make_py(&["--long-subject", f.to_str().unwrap(), "100000"]) {
        return;
    }
    let (r, v) = series(&[&f]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let title = v["series"][0]["title"].as_str().unwrap();
    assert!(title.len() <= 2048, "title of {} bytes", title.len());
    assert!(v["warnings"].to_string().contains("max_subject_bytes"));
    // mail still reports git's full subject
    let mut c = patchbot();
    c.args(["mail", "--json"]).arg(&f);
    let r = run_with_deadline(c, Duration::from_secs(30));
    assert_eq!(r.code, 0);
}

#[test]
fn nul_bytes_and_invalid_utf8_are_carried_as_bytes() {
    let mut c = patchbot();
    c.args(["mail", "--json"])
        .arg(fixture("bad/invalid-utf8.eml"));
    let r = run_with_deadline(c, Duration::from_secs(30));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    // the hunk keeps its raw byte, so the patch is base64 in JSON
    assert!(v["patch_base64"].is_string(), "{v}");
    let (r, _) = series(&[&fixture("bad/nul-bytes.eml")]);
    assert!([0, 4].contains(&r.code));
}
