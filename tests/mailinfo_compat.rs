//! `patchbot mail --json` against the reference: `git mailsplit` + `git mailinfo`
//! (default options) on every message fixture. The comparison covers author,
//! email, subject, date, message and patch, byte for byte.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{git_available, patchbot};

struct GitInfo {
    author: Option<String>,
    email: Option<String>,
    subject: Option<String>,
    date: Option<String>,
    message: Vec<u8>,
    patch: Vec<u8>,
}

fn git(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", dir)
        .env("LC_ALL", "C");
    c
}

/// Run git's own split and mailinfo on `file`; None when git refuses the input.
fn reference(file: &Path) -> Option<GitInfo> {
    reference_nth(file, 1)
}

/// The `n`-th message (1-based) of `file` through `git mailsplit --mboxrd` and
/// `git mailinfo`.
fn reference_nth(file: &Path, n: usize) -> Option<GitInfo> {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(file).unwrap();
    let first_line_end = bytes
        .iter()
        .position(|&c| c == b'\n')
        .unwrap_or(bytes.len());
    let is_mbox =
        patchbot::mail::mbox::is_from_line(&bytes[..(first_line_end + 1).min(bytes.len())]);
    let mut split = git(tmp.path());
    // patchbot reads mbox files as mboxrd by default (mail.mbox_format)
    split
        .arg("mailsplit")
        .arg("--mboxrd")
        .arg(format!("-o{}", tmp.path().display()));
    if !is_mbox {
        split.arg("-b");
    }
    let out = split.arg(file).output().unwrap();
    if !out.status.success() {
        return None;
    }
    let msg = tmp.path().join(format!("{n:04}"));
    if !msg.exists() {
        return None;
    }
    let out = git(tmp.path())
        .arg("mailinfo")
        .arg(tmp.path().join("msg"))
        .arg(tmp.path().join("patch"))
        .stdin(std::fs::File::open(&msg).unwrap())
        .stderr(Stdio::null())
        .output()
        .unwrap();
    if !out.status.success() {
        return None;
    }
    let info = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(|v| v.to_string()))
            .or_else(|| {
                // git prints "Name: " with an empty value as "Name: " — keep it
                info.lines()
                    .find(|l| *l == format!("{name}:"))
                    .map(|_| String::new())
            })
    };
    Some(GitInfo {
        author: field("Author"),
        email: field("Email"),
        subject: field("Subject"),
        date: field("Date"),
        message: std::fs::read(tmp.path().join("msg")).unwrap(),
        patch: std::fs::read(tmp.path().join("patch")).unwrap(),
    })
}

fn bytes_field(v: &serde_json::Value, key: &str) -> Vec<u8> {
    if let Some(s) = v.get(key).and_then(|s| s.as_str()) {
        return s.as_bytes().to_vec();
    }
    let b64 = v
        .get(format!("{key}_base64"))
        .and_then(|s| s.as_str())
        .unwrap_or_else(|| panic!("no {key} in {v}"));
    data_encoding::BASE64.decode(b64.as_bytes()).unwrap()
}

fn str_field(v: &serde_json::Value, key: &str) -> Option<String> {
    v.get(key).and_then(|s| s.as_str()).map(String::from)
}

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml" || e == "patch"))
        .collect();
    v.sort();
    v
}

fn compare(file: &Path) -> Result<bool, String> {
    compare_nth(file, None)
}

fn compare_nth(file: &Path, index: Option<usize>) -> Result<bool, String> {
    let git = match index {
        None => reference(file),
        Some(n) => reference_nth(file, n),
    };
    let Some(git) = git else { return Ok(false) };
    let mut cmd = patchbot();
    cmd.args(["mail", "--json"]);
    if let Some(n) = index {
        cmd.arg("--index").arg(n.to_string());
    }
    let out = cmd.arg(file).output().unwrap();
    if !out.status.success() {
        return Err(format!(
            "patchbot mail failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let lossy = |s: &Option<String>| s.clone();
    let mut diffs = Vec::new();
    for (name, ours, theirs) in [
        ("author", str_field(&v, "author"), lossy(&git.author)),
        ("email", str_field(&v, "email"), lossy(&git.email)),
        ("subject", str_field(&v, "subject"), lossy(&git.subject)),
        ("date", str_field(&v, "date"), lossy(&git.date)),
    ] {
        // git prints headers as raw bytes; compare as lossy UTF-8 like our JSON
        if ours != theirs {
            diffs.push(format!("{name}: ours {ours:?} git {theirs:?}"));
        }
    }
    if bytes_field(&v, "message") != git.message {
        diffs.push(format!(
            "message differs:\n--- ours\n{}\n--- git\n{}",
            String::from_utf8_lossy(&bytes_field(&v, "message")),
            String::from_utf8_lossy(&git.message)
        ));
    }
    if bytes_field(&v, "patch") != git.patch {
        diffs.push(format!(
            "patch differs ({} vs {} bytes):\n--- ours\n{}\n--- git\n{}",
            bytes_field(&v, "patch").len(),
            git.patch.len(),
            String::from_utf8_lossy(&bytes_field(&v, "patch")),
            String::from_utf8_lossy(&git.patch)
        ));
    }
    if diffs.is_empty() {
        Ok(true)
    } else {
        Err(diffs.join("\n"))
    }
}

#[test]
fn mail_matches_git_mailinfo_on_every_fixture() {
    if !git_available() {
        return;
    }
    let mut failures = Vec::new();
    let mut compared = 0;
    for f in fixtures("mail").into_iter().chain(fixtures("bad")) {
        match compare(&f) {
            Ok(true) => compared += 1,
            Ok(false) => {}
            Err(e) => failures.push(format!("{}:\n{e}", f.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ from git mailinfo:\n\n{}",
        failures.len(),
        compared + failures.len(),
        failures.join("\n\n")
    );
    // every message fixture is accepted by git, so every one was compared
    assert!(
        compared >= fixtures("mail").len(),
        "only {compared} fixtures compared"
    );
}

#[test]
fn every_message_of_the_thread_fixtures_matches_git_mailinfo() {
    if !git_available() {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("tests/fixtures/threads"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.push(root.join("examples/xen-function-alignment.mbox"));
    files.sort();
    let mut failures = Vec::new();
    let mut compared = 0;
    for f in &files {
        let data = std::fs::read(f).unwrap();
        let count = data
            .split_inclusive(|&c| c == b'\n')
            .filter(|l| patchbot::mail::mbox::is_from_line(l))
            .count();
        for n in 1..=count {
            match compare_nth(f, Some(n)) {
                Ok(true) => compared += 1,
                Ok(false) => failures.push(format!("{} #{n}: git refused it", f.display())),
                Err(e) => failures.push(format!("{} #{n}:\n{e}", f.display())),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(compared >= 60, "only {compared} messages compared");
}

#[test]
fn scissors_from_the_configuration_match_git_mailinfo_scissors() {
    if !git_available() {
        return;
    }
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mail/11-scissors.eml");
    let tmp = tempfile::tempdir().unwrap();
    let split = git(tmp.path())
        .arg("mailsplit")
        .arg("-b")
        .arg(format!("-o{}", tmp.path().display()))
        .arg(&f)
        .output()
        .unwrap();
    assert!(split.status.success());
    let info = git(tmp.path())
        .args(["mailinfo", "--scissors"])
        .arg(tmp.path().join("msg"))
        .arg(tmp.path().join("patch"))
        .stdin(std::fs::File::open(tmp.path().join("0001")).unwrap())
        .output()
        .unwrap();
    assert!(info.status.success());
    let git_info = String::from_utf8_lossy(&info.stdout).into_owned();
    let cfg = tmp.path().join("c.toml");
    std::fs::write(&cfg, "[mail]\nscissors = true\n").unwrap();
    let out = patchbot()
        .args(["--config", cfg.to_str().unwrap(), "mail", "--json"])
        .arg(&f)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let subject = git_info
        .lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .unwrap();
    assert_eq!(v["subject"], subject);
    assert_eq!(
        v["message"].as_str().unwrap().as_bytes(),
        std::fs::read(tmp.path().join("msg")).unwrap()
    );
    assert_eq!(
        v["patch"].as_str().unwrap().as_bytes(),
        std::fs::read(tmp.path().join("patch")).unwrap()
    );
    // and without scissors the outer subject stays
    let plain = patchbot()
        .args(["mail", "--json"])
        .arg(&f)
        .output()
        .unwrap();
    let p: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert_ne!(p["subject"], v["subject"]);
}
