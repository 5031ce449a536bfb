//! The command line: help, formats, configuration, the INPUT grammar, exit codes,
//! and every kind of mail source (file, mbox, maildir, public-inbox).

mod common;

use std::path::Path;
use std::process::Command;

use common::{fixture, patchbot, series_json};

fn run(args: &[&str]) -> (i32, String, String) {
    let out = patchbot().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_explains_commands_exit_codes_and_inputs() {
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    for word in [
        "mail",
        "series",
        "config",
        "Exit codes",
        "resolved in this order",
        "standard input",
        "--config",
    ] {
        assert!(out.contains(word), "--help lacks {word}:\n{out}");
    }
    let (_, out, _) = run(&["series", "--help"]);
    assert!(
        out.contains("--json") && out.contains("--format") && out.contains("Exit codes"),
        "{out}"
    );
    let (_, out, _) = run(&["mail", "--help"]);
    assert!(
        out.contains("git mailinfo") && out.contains("--index"),
        "{out}"
    );
    let (code, _, err) = run(&["series"]);
    assert_eq!(code, 2, "a usage error: {err}");
}

#[test]
fn json_is_short_for_format_json_everywhere() {
    let f = fixture("mail/01-format-patch-plain.patch");
    let f = f.to_str().unwrap();
    for cmd in [vec!["mail", f], vec!["series", f], vec!["config"]] {
        let mut a = cmd.clone();
        a.push("--json");
        let (c1, o1, _) = run(&a);
        let mut b = cmd.clone();
        b.extend(["--format", "json"]);
        let (c2, o2, _) = run(&b);
        assert_eq!((c1, &o1), (c2, &o2), "{cmd:?}");
        serde_json::from_str::<serde_json::Value>(&o1)
            .unwrap_or_else(|e| panic!("{cmd:?}: {e}\n{o1}"));
        let (_, text, _) = run(&cmd);
        assert!(
            serde_json::from_str::<serde_json::Value>(&text).is_err(),
            "text is the default for {cmd:?}"
        );
    }
}

#[test]
fn config_prints_the_effective_configuration() {
    let (code, out, _) = run(&["config"]);
    assert_eq!(code, 0);
    assert!(out.contains("max_message_bytes = 16777216"), "{out}");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.toml");
    std::fs::write(&p, "[mail]\nmbox_format = \"mboxo\"\n").unwrap();
    let (code, out, _) = run(&["--config", p.to_str().unwrap(), "config"]);
    assert_eq!(code, 0);
    assert!(out.contains("mbox_format = \"mboxo\""), "{out}");
    assert!(
        out.contains("max_message_bytes = 16777216"),
        "defaults fill the rest: {out}"
    );
}

#[test]
fn a_partial_configuration_keeps_the_built_in_profiles() {
    // a table the file names is merged key by key into the defaults: one
    // rule setting, or the [post] section, keeps every profile and toolchain
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.toml");
    std::fs::write(
        &p,
        "[post]\nfrom = \"bot <bot@example.org>\"\n\n[profiles.xen.rules.xen-sibling-pattern]\nenabled = false\n",
    )
    .unwrap();
    let (code, out, err) = run(&["--config", p.to_str().unwrap(), "config", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["post"]["from"], "bot <bot@example.org>");
    assert_eq!(v["post"]["email"]["transport"], "outbox");
    let xen = &v["profiles"]["xen"];
    assert_eq!(xen["rules"]["xen-sibling-pattern"]["enabled"], false);
    assert_eq!(xen["srctree"], "xen");
    assert_eq!(xen["arches"].as_array().unwrap().len(), 5);
    assert!(v["profiles"]["linux"].is_object());
    assert!(v["toolchains"]["gcc-12"].is_object());
    // a wrong type in the file still names its line
    std::fs::write(&p, "[post]\n\nfrom = 3\n").unwrap();
    let (code, _, err) = run(&["--config", p.to_str().unwrap(), "config"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("line 3") && err.contains("invalid type"),
        "{err}"
    );
}

#[test]
fn a_bad_configuration_names_the_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.toml");
    std::fs::write(&p, "# comment\n[limits]\nmax_mesage_bytes = 5\n").unwrap();
    let (code, _, err) = run(&["--config", p.to_str().unwrap(), "config"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("line 3") && err.contains("max_mesage_bytes"),
        "{err}"
    );
    let (code, _, err) = run(&["--config", "/nonexistent/c.toml", "config"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/c.toml"), "{err}");
}

#[test]
fn input_kinds_not_implemented_yet_say_so() {
    // (Message-IDs and archive URLs are fetched: tests/remote.rs)
    let (code, _, err) = run(&["series", "github:xen-project/xen#42"]);
    assert_eq!(code, 3);
    assert!(
        err.contains("not implemented yet") && err.contains("GitHub pull requests"),
        "{err}"
    );
    let (code, _, err) = run(&["series", "no-such-file.mbox"]);
    assert_eq!(code, 3);
    assert!(err.contains("no such file"), "{err}");
    let (code, _, err) = run(&["series", "github:nonsense"]);
    assert_eq!(code, 3);
    assert!(err.contains("github:OWNER/REPO#NUMBER"), "{err}");
}

#[test]
fn mail_on_a_multi_message_input_asks_which_one() {
    let mbox = fixture("threads/deep-threaded.mbox");
    let (code, _, err) = run(&["mail", mbox.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("--index"), "{err}");
    let (code, out, _) = run(&["mail", "--json", "--index", "2", mbox.to_str().unwrap()]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["subject"],
        "x86/vlapic: drop the unused VLAPIC_TMR_PERIODIC define"
    );
    let (code, _, err) = run(&["mail", "--index", "99", mbox.to_str().unwrap()]);
    assert_eq!(code, 3, "{err}");
}

#[test]
fn mail_json_has_the_documented_keys() {
    let f = fixture("mail/02-send-email-xen-v2-3of5.eml");
    let (code, out, _) = run(&["mail", "--json", f.to_str().unwrap()]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for k in [
        "author",
        "email",
        "subject",
        "date",
        "message_id",
        "in_reply_to",
        "references",
        "message",
        "patch",
    ] {
        assert!(v.get(k).is_some(), "missing {k}: {v}");
    }
    assert_eq!(v["author"], "Federica Romano");
    assert!(v["message_id"].as_str().unwrap().contains('@'));
    assert!(v["in_reply_to"].as_str().unwrap().starts_with("cover."));
    assert!(!v["references"].as_array().unwrap().is_empty());
}

/// Split an mbox into single-message files (without the `From ` lines).
fn split(mbox: &Path) -> Vec<Vec<u8>> {
    let data = std::fs::read(mbox).unwrap();
    let mut msgs: Vec<Vec<u8>> = Vec::new();
    for line in data.split_inclusive(|&c| c == b'\n') {
        if patchbot::mail::mbox::is_from_line(line) {
            msgs.push(Vec::new());
        } else if let Some(m) = msgs.last_mut() {
            let l = if line.starts_with(b">From ") {
                &line[1..]
            } else {
                line
            };
            m.extend_from_slice(l);
        }
    }
    msgs
}

#[test]
fn maildir_gives_the_same_series_as_the_mbox() {
    let mbox = fixture("threads/v4-with-cover.mbox");
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(md.join(sub)).unwrap();
    }
    for (i, m) in split(&mbox).iter().enumerate() {
        let sub = if i % 2 == 0 { "cur" } else { "new" };
        std::fs::write(md.join(sub).join(format!("{i:04}.host:2,S")), m).unwrap();
    }
    // a dot file is not a message
    std::fs::write(md.join("cur/.hidden"), b"junk").unwrap();
    let (a, _) = series_json(&[&mbox]);
    let (b, code) = series_json(&[&md]);
    assert_eq!(code, 0);
    assert_eq!(b["messages"], 11);
    assert_eq!(strip_where(&a["series"]), strip_where(&b["series"]));
}

/// Series without the `where` fields (which differ between sources).
fn strip_where(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => serde_json::Value::Object(
            m.iter()
                .filter(|(k, _)| *k != "where")
                .map(|(k, v)| (k.clone(), strip_where(v)))
                .collect(),
        ),
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.iter().map(strip_where).collect())
        }
        other => other.clone(),
    }
}

fn git(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> String {
    use std::io::Write;
    let mut c = Command::new("git");
    c.arg("--git-dir")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    c.env("GIT_AUTHOR_NAME", "pi")
        .env("GIT_AUTHOR_EMAIL", "pi@localhost")
        .env("GIT_COMMITTER_NAME", "pi");
    c.env("GIT_COMMITTER_EMAIL", "pi@localhost");
    c.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    if let Some(b) = stdin {
        child.stdin.take().unwrap().write_all(b).unwrap();
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "git {args:?} failed");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Append one public-inbox commit holding `blob` as `m` (or `d` for a removal).
fn pi_commit(epoch: &Path, name: &str, blob: &[u8]) -> String {
    let b = git(epoch, &["hash-object", "-w", "--stdin"], Some(blob));
    let tree = git(
        epoch,
        &["mktree"],
        Some(format!("100644 blob {b}\t{name}\n").as_bytes()),
    );
    let parent = if git_ok(epoch, &["rev-parse", "--verify", "--quiet", "HEAD"]) {
        git(epoch, &["rev-parse", "HEAD"], None)
    } else {
        String::new()
    };
    let mut args = vec!["commit-tree", tree.as_str(), "-m", "msg"];
    if !parent.is_empty() {
        args.extend(["-p", parent.as_str()]);
    }
    let c = git(epoch, &args, None);
    git(epoch, &["update-ref", "refs/heads/master", &c], None);
    c
}

fn git_ok(dir: &Path, args: &[&str]) -> bool {
    Command::new("git")
        .arg("--git-dir")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn public_inbox_v2_archive_streams_epochs_in_order_and_resumes_from_a_cursor() {
    if !common::git_available() {
        return;
    }
    let msgs = split(&fixture("threads/v4-with-cover.mbox"));
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("xen-devel");
    let e0 = inbox.join("git/0.git");
    let e1 = inbox.join("git/1.git");
    for e in [&e0, &e1] {
        std::fs::create_dir_all(e).unwrap();
        assert!(git_ok(e, &["init", "-q", "--bare"]));
        std::fs::write(e.join("HEAD"), "ref: refs/heads/master\n").unwrap();
    }
    // epoch 0: the first 6 messages plus a stray one that is then removed
    for m in &msgs[..6] {
        pi_commit(&e0, "m", m);
    }
    let stray = b"From: Spam <spam@example.net>\nSubject: buy now\nMessage-ID: <spam-1@example.net>\n\nspam\n";
    pi_commit(&e0, "m", stray);
    pi_commit(&e0, "d", stray);
    // epoch 1: the rest
    for m in &msgs[6..] {
        pi_commit(&e1, "m", m);
    }
    let (v, code) = series_json(&[&inbox]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["messages"], 11, "removed message dropped: {v}");
    let (a, _) = series_json(&[&fixture("threads/v4-with-cover.mbox")]);
    assert_eq!(strip_where(&a["series"]), strip_where(&v["series"]));
    assert_eq!(
        v["series"][0]["patches"][0]["where"]["kind"],
        "public-inbox"
    );

    // the cursor: read everything, then only what comes after it
    let opts = patchbot::mail::ReadOptions::default();
    let mut n = 0;
    let cursor = patchbot::mail::public_inbox::read(&inbox, &Default::default(), &opts, |m| {
        assert!(m.is_ok());
        n += 1;
    })
    .unwrap();
    assert_eq!(n, 13, "11 messages, the stray one and its removal");
    assert_eq!(cursor.len(), 2);
    let mut again = 0;
    let same = patchbot::mail::public_inbox::read(&inbox, &cursor, &opts, |_| again += 1).unwrap();
    assert_eq!((again, &same), (0, &cursor));
    let extra = b"From: Late <late@example.org>\nSubject: Re: [PATCH v4 0/4] late\nMessage-ID: <late-1@example.org>\n\nlate\n";
    pi_commit(&e1, "m", extra);
    let mut got = Vec::new();
    let next = patchbot::mail::public_inbox::read(&inbox, &cursor, &opts, |m| got.push(m.unwrap()))
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].bytes, extra.to_vec());
    assert_ne!(next["1"], cursor["1"]);
    assert_eq!(next["0"], cursor["0"]);
    // a single epoch repository is an INPUT too
    let (v, code) = series_json(&[&e1]);
    assert_eq!(code, 0);
    assert_eq!(v["messages"], 6);
}

#[test]
fn dash_reads_standard_input() {
    use std::io::Write;
    for (file, series) in [
        ("threads/two-versions.mbox", 2),
        ("mail/01-format-patch-plain.patch", 1),
        ("mail/02-send-email-xen-v2-3of5.eml", 1),
    ] {
        let mut child = patchbot()
            .args(["series", "--json", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let data = std::fs::read(fixture(file)).unwrap();
        let mut stdin = child.stdin.take().unwrap();
        // deliver in small pieces, as a pipe may
        let writer = std::thread::spawn(move || {
            for chunk in data.chunks(7) {
                stdin.write_all(chunk).unwrap();
            }
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        assert!(out.status.success(), "{file}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["series"].as_array().unwrap().len(), series, "{file}: {v}");
        let (from_file, _) = series_json(&[&fixture(file)]);
        assert_eq!(
            strip_where(&from_file["series"]),
            strip_where(&v["series"]),
            "{file}"
        );
    }
}

#[test]
fn the_example_ci_jobs_use_flags_review_has() {
    let (code, help, _) = run(&["review", "--help"]);
    assert_eq!(code, 0);
    for f in [
        "examples/ci/gitlab-ci.yml",
        "examples/ci/github-workflow.yml",
    ] {
        let text =
            std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(f))
                .unwrap()
                .replace("\\\n", " ");
        let mut seen = 0;
        for line in text.lines().filter(|l| l.contains("patchbot review")) {
            for flag in line
                .split(|c: char| c.is_whitespace() || c == '"')
                .filter(|w| w.starts_with("--"))
            {
                assert!(help.contains(flag), "{f}: {flag} is not a review flag");
                seen += 1;
            }
        }
        assert!(seen >= 3, "{f}: the review command is there");
        // and the formats they ask for exist
        assert!(help.contains("codequality") && help.contains("sarif"));
    }
}
