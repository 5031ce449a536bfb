//! `patchbot review --post`: the reply posted exactly once, through the outbox
//! maildir and through a real SMTP server on loopback (Debian's aiosmtpd),
//! across re-runs, new versions and crashes at each step of posting.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{header, maildir_messages as messages, Smtp};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A state store, an outbox and a config naming them (and `extra`).
struct Place {
    dir: tempfile::TempDir,
    /// PATCHBOT_NOW for the runs (seconds since the epoch).
    now: Option<String>,
}

impl Place {
    fn new(extra: &str) -> Place {
        let dir = tempfile::tempdir().unwrap();
        let cfg = format!(
            "[post]\nstate = \"{}\"\nfrom = \"patchbot <patchbot@example.org>\"\n{extra}",
            dir.path().join("state.sqlite").display()
        );
        std::fs::write(dir.path().join("config.toml"), cfg).unwrap();
        Place { dir, now: None }
    }

    fn outbox(&self) -> PathBuf {
        self.dir.path().join("outbox")
    }

    /// `review SERIES --post --json` on the bundled tree, that must work.
    fn post(&self, series: &str) -> serde_json::Value {
        let (code, v) = self.run(series, None);
        assert!(matches!(code, Some(0 | 1)), "{code:?}");
        v
    }

    /// The same, maybe crashing at a step; (status, JSON).
    fn run(&self, series: &str, crash: Option<&str>) -> (Option<i32>, serde_json::Value) {
        self.run_file(&root().join("examples").join(series), crash)
    }

    fn run_file(&self, mbox: &Path, crash: Option<&str>) -> (Option<i32>, serde_json::Value) {
        let mut c = common::patchbot();
        c.arg("--config")
            .arg(self.dir.path().join("config.toml"))
            .arg("review")
            .arg(mbox)
            .arg("--tree")
            .arg(root().join("examples/xen-tree"))
            .args(["--post", "--json"]);
        if let Some(at) = crash {
            c.env("PATCHBOT_TEST_CRASH", at);
        }
        if let Some(now) = &self.now {
            c.env("PATCHBOT_NOW", now);
        }
        let out = c.output().unwrap();
        let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
        if !matches!(out.status.code(), Some(0 | 1)) {
            eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        }
        (out.status.code(), v)
    }
}

fn outcome_kinds(v: &serde_json::Value) -> Vec<String> {
    v["post"]["outcomes"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| o.as_object().unwrap().keys().next().unwrap().clone())
                .collect()
        })
        .unwrap_or_default()
}

const COVER: &str = "<20231215090211.4021-1-rosa.perez@example.org>";
const PATCH1: &str = "<20231215090211.4021-2-rosa.perez@example.org>";

#[test]
fn replies_go_to_the_patches_they_are_about_once_and_a_new_version_gets_a_follow_up() {
    let p = Place::new("");
    let v = p.post("xen-function-alignment.mbox");
    assert_eq!(outcome_kinds(&v), ["sent", "sent"]);
    let m = messages(&p.outbox());
    assert_eq!(m.len(), 2);
    let ids: Vec<&str> = (0..2)
        .map(|i| {
            v["post"]["outcomes"][i]["sent"]["message_id"]
                .as_str()
                .unwrap()
        })
        .collect();
    for msg in &m {
        let id = header(msg, "Message-ID");
        assert!(ids.contains(&id[0]), "{id:?}");
        assert!(id[0].starts_with("<patchbot-") && id[0].ends_with("@example.org>"));
        assert_eq!(header(msg, "From"), ["patchbot <patchbot@example.org>"]);
        assert_eq!(header(msg, "Date").len(), 1);
    }
    // the sibling questions (series-wide) to the cover letter ...
    let cover = m
        .iter()
        .find(|x| header(x, "In-Reply-To") == [COVER])
        .expect("a reply to the cover letter");
    assert!(cover.contains("It has 2 questions or findings"));
    assert!(cover.contains("[xen-sibling-pattern] ppc64"));
    assert!(!cover.contains("[xen-symbol-without-value]"));
    // ... the missing values to the patch whose Makefile line uses the symbol
    let patch = m
        .iter()
        .find(|x| header(x, "In-Reply-To") == [PATCH1])
        .expect("a reply to patch 1");
    assert!(patch.contains("This reply is about patch 1/4."));
    assert!(patch.contains("[xen-symbol-without-value] riscv64"));
    assert!(patch.contains("> +CFLAGS += -falign-functions=$(CONFIG_FUNCTION_ALIGNMENT)"));
    assert!(patch.contains(&format!("References: {COVER}\n    {PATCH1}\n")));
    assert_eq!(
        header(patch, "Subject"),
        ["Re: xen: introduce Kconfig options for a minimum function alignment"]
    );

    // the series' messages are recorded as seen
    let store = patchbot::state::Store::open(&p.dir.path().join("state.sqlite")).unwrap();
    assert!(store.seen(COVER.trim_matches(['<', '>'])).unwrap());
    assert!(store.seen(PATCH1.trim_matches(['<', '>'])).unwrap());
    drop(store);

    // the same review again: nothing
    let v = p.post("xen-function-alignment.mbox");
    assert_eq!(outcome_kinds(&v), ["already-posted", "already-posted"]);
    assert_eq!(messages(&p.outbox()).len(), 2);

    // v5 resolves what v4 had: a follow-up that says so, in v5's thread
    let v = p.post("xen-function-alignment-v5.mbox");
    assert_eq!(outcome_kinds(&v), ["sent"]);
    assert_eq!(v["post"]["since"], 4);
    assert_eq!(v["post"]["resolved"].as_array().unwrap().len(), 4);
    let m = messages(&p.outbox());
    assert_eq!(m.len(), 3);
    let follow = m
        .iter()
        .find(|x| x.contains("Resolved since v4 (4 findings"))
        .expect("a follow-up naming the resolved findings");
    assert!(follow.contains("- [xen-sibling-pattern] riscv64:"));
    assert!(follow.contains("- [xen-symbol-without-value] ppc64:"));
    // and again: nothing new since v4's answer
    let v = p.post("xen-function-alignment-v5.mbox");
    assert_eq!(outcome_kinds(&v), ["already-posted"]);
    assert_eq!(messages(&p.outbox()).len(), 3);
}

#[test]
fn one_reply_for_all_when_configured() {
    let p = Place::new("replies = \"one\"\n");
    let v = p.post("xen-function-alignment.mbox");
    assert_eq!(outcome_kinds(&v), ["sent"]);
    let m = messages(&p.outbox());
    assert_eq!(m.len(), 1);
    assert_eq!(header(&m[0], "In-Reply-To"), [COVER]);
    assert!(m[0].contains("It has 4 questions or findings"));
}

#[test]
fn machines_and_bots_are_not_answered() {
    let seed =
        std::fs::read_to_string(root().join("examples/xen-function-alignment.mbox")).unwrap();
    let cover_line = format!("Message-ID: {COVER}\n");
    let patch_from = "From rosa.perez@example.org Fri Dec 15 09:02:12 2023\nFrom: =?UTF-8?q?Rosa=20P=C3=A9rez=20Molina?= <rosa.perez@example.org>\n";
    assert!(seed.contains(&cover_line) && seed.contains(patch_from));
    for (what, text, answered, not) in [
        (
            "an Auto-Submitted cover letter",
            seed.replace(
                &cover_line,
                &format!("{cover_line}Auto-Submitted: auto-generated\n"),
            ),
            PATCH1,
            COVER,
        ),
        (
            "a patch a test robot sent",
            seed.replace(
                patch_from,
                &patch_from.replace(
                    "=?UTF-8?q?Rosa=20P=C3=A9rez=20Molina?= <rosa.perez@example.org>",
                    "kernel test robot <lkp@intel.com>",
                ),
            ),
            COVER,
            PATCH1,
        ),
    ] {
        assert_ne!(text, seed, "{what}");
        let p = Place::new("");
        let mbox = p.dir.path().join("series.mbox");
        std::fs::write(&mbox, text).unwrap();
        let (code, v) = p.run_file(&mbox, None);
        assert!(matches!(code, Some(0 | 1)), "{what}");
        assert_eq!(outcome_kinds(&v), ["sent"], "{what}: {v}");
        let m = messages(&p.outbox());
        assert_eq!(m.len(), 1, "{what}");
        assert_eq!(header(&m[0], "In-Reply-To"), [answered], "{what}");
        let skipped = &v["post"]["not_answered"];
        assert_eq!(
            skipped[0][0],
            not.trim_matches(['<', '>']),
            "{what}: {skipped}"
        );
    }
}

/// The seed series with a reply to patch 1 from `from` saying `says`.
fn with_reply(from: &str, says: &str) -> String {
    let seed =
        std::fs::read_to_string(root().join("examples/xen-function-alignment.mbox")).unwrap();
    format!(
        "{seed}\nFrom x Sat Dec 16 10:00:00 2023\nFrom: {from}\nTo: xen-devel@lists.xenproject.org\nSubject: Re: [PATCH v4 1/4] xen: introduce Kconfig options for a minimum function alignment\nDate: Sat, 16 Dec 2023 10:00:00 +0000\nMessage-ID: <answer@example.com>\nIn-Reply-To: {PATCH1}\nReferences: {COVER} {PATCH1}\n\n> quoted text\n\n{says}\n"
    )
}

#[test]
fn a_maintainers_answer_holds_findings_back_and_a_reviewers_does_not() {
    // Priya maintains xen/arch/arm/, which the series touches
    let p = Place::new("");
    let mbox = p.dir.path().join("answered.mbox");
    std::fs::write(
        &mbox,
        with_reply(
            "Priya Raman <priya.raman@example.com>",
            "patchbot: ignore xen-sibling-pattern",
        ),
    )
    .unwrap();
    let (_, v) = p.run_file(&mbox, None);
    assert_eq!(
        v["post"]["honoured"][0],
        serde_json::json!(["ignore xen-sibling-pattern", "priya.raman@example.com"])
    );
    assert_eq!(v["post"]["held_back"].as_array().unwrap().len(), 2);
    // only the reply to patch 1 (the missing values): the sibling questions,
    // which went to the cover letter, are held back
    assert_eq!(outcome_kinds(&v), ["sent"]);
    let m = messages(&p.outbox());
    assert_eq!(m.len(), 1);
    assert_eq!(header(&m[0], "In-Reply-To"), [PATCH1]);
    assert!(!m[0].contains("[xen-sibling-pattern]"));
    // the signature says how to answer; each finding shows its fingerprint
    assert!(m[0].contains("`patchbot: ignore RULE-ID`"));
    assert!(m[0].contains("   (fingerprint "));

    // Leilani only reviews RISC-V: her answer is not taken
    let q = Place::new("");
    let mbox = q.dir.path().join("answered.mbox");
    std::fs::write(
        &mbox,
        with_reply(
            "Leilani Kahale <leilani.kahale@example.org>",
            "patchbot: ignore xen-sibling-pattern",
        ),
    )
    .unwrap();
    let (_, v) = q.run_file(&mbox, None);
    assert!(v["post"]["honoured"].is_null(), "{v}");
    assert_eq!(v["post"]["refused"][0][1], "leilani.kahale@example.org");
    assert_eq!(outcome_kinds(&v), ["sent", "sent"]);
}

const LIST: &str = "[post.lists.\"xen-devel@lists.xenproject.org\"]\n";

#[test]
fn a_lists_policy_says_whom_to_answer_and_what() {
    // no reply on this list
    let p = Place::new(&format!("{LIST}reply = \"none\"\n"));
    let v = p.post("xen-function-alignment.mbox");
    assert_eq!(v["post"]["list"], "xen-devel@lists.xenproject.org");
    assert!(v["post"]["silent"]
        .as_str()
        .unwrap()
        .contains("not to reply"));
    assert!(messages(&p.outbox()).is_empty());

    // the author only: no Cc, and the envelope is the author
    let p = Place::new(&format!("replies = \"one\"\n{LIST}reply = \"author\"\n"));
    let v = p.post("xen-function-alignment.mbox");
    assert_eq!(outcome_kinds(&v), ["sent"]);
    let m = messages(&p.outbox());
    assert_eq!(
        header(&m[0], "To"),
        ["Rosa Pérez Molina <rosa.perez@example.org>"]
    );
    assert!(header(&m[0], "Cc").is_empty(), "{}", m[0]);

    // only errors and warnings: the notes stay unposted
    let p = Place::new(&format!("{LIST}severities = [\"error\", \"warning\"]\n"));
    let v = p.post("xen-function-alignment.mbox");
    assert_eq!(v["post"]["silent"], "nothing to report");
    assert!(messages(&p.outbox()).is_empty());

    // the default policy applies to lists without a table
    let p = Place::new("[post.lists.\"other@example.org\"]\nreply = \"none\"\n");
    let v = p.post("xen-function-alignment.mbox");
    assert!(v["post"]["list"].is_null());
    assert_eq!(outcome_kinds(&v), ["sent", "sent"]);
}

#[test]
fn quiet_hours_defer_and_a_later_run_posts() {
    let mut p = Place::new("[post.policy]\nquiet_hours = \"22-07\"\n");
    // 2026-12-01 23:30 UTC (half an hour before 2026-12-02 00:00): quiet
    p.now = Some((1_796_169_600 - 1800).to_string());
    let v = p.post("xen-function-alignment.mbox");
    assert!(
        v["post"]["deferred"].as_str().unwrap().contains("22-07"),
        "{v}"
    );
    assert!(messages(&p.outbox()).is_empty());
    assert!(
        !p.dir.path().join("state.sqlite").exists(),
        "nothing decided"
    );
    // 06:59 is still quiet (the window wraps midnight), 07:00 is not
    p.now = Some((1_796_169_600 + 6 * 3600 + 3540).to_string());
    assert!(p.post("xen-function-alignment.mbox")["post"]["deferred"].is_string());
    p.now = Some((1_796_169_600 + 7 * 3600).to_string());
    let v = p.post("xen-function-alignment.mbox");
    assert_eq!(outcome_kinds(&v), ["sent", "sent"]);
    let m = messages(&p.outbox());
    assert_eq!(header(&m[0], "Date"), ["Wed, 2 Dec 2026 07:00:00 +0000"]);
}

#[test]
fn a_dry_run_says_what_it_would_post_and_writes_nothing() {
    let p = Place::new("[post.policy]\ndry_run = true\n");
    let v = p.post("xen-function-alignment.mbox");
    assert_eq!(v["post"]["dry_run"], true);
    assert_eq!(outcome_kinds(&v), ["would-send", "would-send"]);
    assert_eq!(
        v["post"]["outcomes"][0]["would-send"]["in_reply_to"],
        COVER.trim_matches(['<', '>'])
    );
    assert!(messages(&p.outbox()).is_empty());
    assert!(!p.dir.path().join("state.sqlite").exists());
    assert!(!p.outbox().exists());
}

#[test]
fn a_bad_policy_is_a_configuration_error() {
    for (bad, says) in [
        ("[post.policy]\nquiet_hours = \"25-3\"\n", "quiet_hours"),
        ("[post.policy]\nreply = \"everyone\"\n", "reply"),
        (&format!("{LIST}severities = [\"fatal\"]\n"), "severities"),
    ] {
        let p = Place::new(bad);
        let out = common::patchbot()
            .arg("--config")
            .arg(p.dir.path().join("config.toml"))
            .arg("config")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{bad}: {err}");
    }
}

#[test]
fn nothing_to_report_posts_nothing() {
    let p = Place::new("");
    let v = p.post("function-alignment-values-only.mbox");
    assert_eq!(v["post"]["silent"], "nothing to report");
    assert!(outcome_kinds(&v).is_empty());
    assert!(messages(&p.outbox()).is_empty());
}

#[test]
fn a_crash_at_each_step_still_posts_exactly_once_to_the_outbox() {
    for at in ["after-intent", "after-send"] {
        let p = Place::new("");
        let (code, _) = p.run("xen-function-alignment.mbox", Some(at));
        assert_eq!(code, None, "{at}: the process aborts there");
        let before = messages(&p.outbox()).len();
        assert_eq!(before, usize::from(at == "after-send"), "{at}");
        let v = p.post("xen-function-alignment.mbox");
        let kinds = outcome_kinds(&v);
        match at {
            // the intent was left: sent now, once
            "after-intent" => assert_eq!(kinds, ["sent", "already-posted", "sent"], "{at}"),
            // the outbox has it: recorded, not sent again
            _ => assert_eq!(kinds, ["settled", "already-posted", "sent"], "{at}"),
        }
        assert_eq!(messages(&p.outbox()).len(), 2, "{at}");
        let v = p.post("xen-function-alignment.mbox");
        assert_eq!(
            outcome_kinds(&v),
            ["already-posted", "already-posted"],
            "{at}"
        );
        assert_eq!(messages(&p.outbox()).len(), 2, "{at}");
    }
}

#[test]
fn smtp_delivers_the_threaded_reply_to_every_recipient() {
    let Some(smtp) = Smtp::start() else { return };
    let p = Place::new(&smtp.config());
    let v = p.post("xen-function-alignment.mbox");
    assert_eq!(outcome_kinds(&v), ["sent"]);
    let m = messages(&smtp.maildir);
    assert_eq!(m.len(), 1);
    let own = v["post"]["outcomes"][0]["sent"]["message_id"]
        .as_str()
        .unwrap();
    assert_eq!(header(&m[0], "Message-ID"), [own]);
    assert_eq!(
        header(&m[0], "References"),
        ["<20231215090211.4021-1-rosa.perez@example.org>"]
    );
    assert_eq!(
        header(&m[0], "Subject"),
        ["Re: xen: enforce a minimum function alignment for livepatch"]
    );
    assert_eq!(header(&m[0], "Auto-Submitted"), ["auto-generated"]);
    assert_eq!(header(&m[0], "X-MailFrom"), ["patchbot@example.org"]);
    // the envelope: the author and every Cc, the list among them
    let rcpt = header(&m[0], "X-RcptTo").join(",");
    for a in [
        "rosa.perez@example.org",
        "jane@example.org",
        "xen-devel@lists.xenproject.org",
    ] {
        assert!(rcpt.contains(a), "{a} not in {rcpt}");
    }
    assert!(m[0].contains("It has 4 questions or findings"));
    let v = p.post("xen-function-alignment.mbox");
    assert_eq!(outcome_kinds(&v), ["already-posted"]);
    assert_eq!(messages(&smtp.maildir).len(), 1);
}

#[test]
fn smtp_crashes_and_outages() {
    let Some(smtp) = Smtp::start() else { return };
    // killed after recording the intent: sent once on the next run
    let p = Place::new(&smtp.config());
    assert_eq!(
        p.run("xen-function-alignment.mbox", Some("after-intent")).0,
        None
    );
    assert!(messages(&smtp.maildir).is_empty());
    assert_eq!(
        outcome_kinds(&p.post("xen-function-alignment.mbox")),
        ["sent", "already-posted"]
    );
    assert_eq!(messages(&smtp.maildir).len(), 1);

    // killed after the server took it, before recording: the one window no
    // protocol closes; resent once, with the same Message-ID
    let q = Place::new(&smtp.config());
    assert_eq!(
        q.run("section-end-missing.mbox", Some("after-send")).0,
        None
    );
    assert_eq!(messages(&smtp.maildir).len(), 2);
    let v = q.post("section-end-missing.mbox");
    assert_eq!(outcome_kinds(&v), ["sent", "already-posted"]);
    let m = messages(&smtp.maildir);
    assert_eq!(m.len(), 3);
    let ids: Vec<&str> = m.iter().flat_map(|x| header(x, "Message-ID")).collect();
    let resent = v["post"]["outcomes"][0]["sent"]["message_id"]
        .as_str()
        .unwrap();
    assert_eq!(ids.iter().filter(|i| **i == resent).count(), 2, "{ids:?}");
    assert_eq!(
        outcome_kinds(&q.post("section-end-missing.mbox")),
        ["already-posted"]
    );
    assert_eq!(messages(&smtp.maildir).len(), 3);

    // the server down: exit 6, the reply kept for the next run
    let port = smtp.port;
    drop(smtp);
    let r = Place::new(&format!(
        "replies = \"one\"\n[post.email]\ntransport = \"smtp\"\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {port}\nsecurity = \"plain\"\n"
    ));
    let (code, _) = r.run("common-section-one-arch.mbox", None);
    assert_eq!(code, Some(6));
    let Some(smtp) = Smtp::start() else { return };
    std::fs::write(
        r.dir.path().join("config.toml"),
        std::fs::read_to_string(r.dir.path().join("config.toml"))
            .unwrap()
            .replace(
                &format!("smtp_port = {port}"),
                &format!("smtp_port = {}", smtp.port),
            ),
    )
    .unwrap();
    let v = r.post("common-section-one-arch.mbox");
    // the intent left by the failed run is settled first, then found posted
    assert_eq!(outcome_kinds(&v), ["sent", "already-posted"]);
    assert_eq!(messages(&smtp.maildir).len(), 1);
}

#[test]
fn plain_smtp_to_another_host_is_refused() {
    let p = Place::new(
        "[post.email]\ntransport = \"smtp\"\nsmtp_host = \"smtp.example.org\"\nsecurity = \"plain\"\n",
    );
    let (code, _) = p.run("xen-function-alignment.mbox", None);
    assert_eq!(code, Some(6));
    assert!(!p.dir.path().join("outbox").exists());
}

/// A CA and a server certificate for 127.0.0.1 it signed, made by openssl:
/// (dir, ca.pem, server cert, server key).
fn certificates() -> Option<(tempfile::TempDir, PathBuf, PathBuf, PathBuf)> {
    let have = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !common::reference_tool("openssl", have) {
        return None;
    }
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n);
    let run = |args: &[&str]| {
        common::stdout_of(Command::new("openssl").current_dir(d.path()).args(args));
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=patchbot test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "srv.key",
        "-out",
        "srv.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        p("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "srv.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "srv.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    let (ca, cert, key) = (p("ca.pem"), p("srv.pem"), p("srv.key"));
    Some((d, ca, cert, key))
}

#[test]
fn smtp_over_starttls_and_implicit_tls_checks_the_server() {
    let Some((_d, ca, cert, key)) = certificates() else {
        return;
    };
    for (security, cert_flag, key_flag) in [
        ("starttls", "--tlscert", "--tlskey"),
        ("tls", "--smtpscert", "--smtpskey"),
    ] {
        let args = [
            std::ffi::OsStr::new(cert_flag),
            cert.as_os_str(),
            std::ffi::OsStr::new(key_flag),
            key.as_os_str(),
        ];
        let Some(smtp) = Smtp::start_with(&args) else {
            return;
        };
        let email = |ca_line: &str| {
            format!(
                "replies = \"one\"\n[post.email]\ntransport = \"smtp\"\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {}\nsecurity = \"{security}\"\n{ca_line}",
                smtp.port
            )
        };
        // the server's certificate is not trusted: nothing is sent
        let p = Place::new(&email(""));
        let (code, _) = p.run("xen-function-alignment.mbox", None);
        assert_eq!(
            code,
            Some(6),
            "{security}: an unknown certificate is refused"
        );
        assert!(messages(&smtp.maildir).is_empty(), "{security}");
        // trusted through ca_file: delivered
        let q = Place::new(&email(&format!("ca_file = \"{}\"\n", ca.display())));
        let v = q.post("xen-function-alignment.mbox");
        assert_eq!(outcome_kinds(&v), ["sent"], "{security}");
        let m = messages(&smtp.maildir);
        assert_eq!(m.len(), 1, "{security}");
        assert!(
            m[0].contains("It has 4 questions or findings"),
            "{security}"
        );
    }
}

#[test]
fn sigkill_at_arbitrary_moments_loses_nothing_and_posts_nothing_twice() {
    // several series, each run killed (SIGKILL) after a delay that lands
    // somewhere in reading, rebuilding or posting, then run again until it
    // finishes: the outbox ends with every reply exactly once
    let series = [
        "xen-function-alignment.mbox",
        "common-section-one-arch.mbox",
        "section-end-missing.mbox",
        "shadowed-section.mbox",
        "typo-config-symbol.mbox",
    ];
    let p = Place::new("");
    let mut delays = [15u64, 40, 80, 120, 200, 5, 60, 100, 160, 30]
        .iter()
        .cycle();
    let mut killed = 0;
    for s in series {
        for _ in 0..3 {
            let mut c = common::patchbot();
            c.arg("--config")
                .arg(p.dir.path().join("config.toml"))
                .arg("review")
                .arg(root().join("examples").join(s))
                .arg("--tree")
                .arg(root().join("examples/xen-tree"))
                .args(["--post", "--json"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            let mut child = c.spawn().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(*delays.next().unwrap()));
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap();
                killed += 1;
            }
            child.wait().unwrap();
        }
        // and once to completion
        p.post(s);
    }
    assert!(killed > 0, "some runs were killed mid-way");
    // what every series must have posted: the same reviews in a fresh place
    let q = Place::new("");
    for s in series {
        q.post(s);
    }
    let ids = |m: &[String]| {
        let mut v: Vec<String> = m
            .iter()
            .map(|x| header(x, "Message-ID")[0].to_string())
            .collect();
        v.sort();
        v
    };
    let got = ids(&messages(&p.outbox()));
    let want = ids(&messages(&q.outbox()));
    assert!(!want.is_empty());
    assert_eq!(
        got, want,
        "every reply once, none lost ({killed} runs killed)"
    );
    // and nothing is left unfinished
    let store = patchbot::state::Store::open(&p.dir.path().join("state.sqlite")).unwrap();
    assert!(store.unfinished().unwrap().is_empty());
}

#[test]
fn an_archive_closes_the_smtp_window() {
    // killed after the server took the reply and before it was recorded: with
    // the list's archive at hand (here the server's own maildir stands in for
    // the archive the list delivers to), the next run finds the reply there
    // by its Message-ID and does not send it again
    let Some(smtp) = Smtp::start() else { return };
    let p = Place::new(&format!(
        "{}archive = \"{}\"\n",
        smtp.config(),
        smtp.maildir.display()
    ));
    assert_eq!(
        p.run("common-section-one-arch.mbox", Some("after-send")).0,
        None
    );
    assert_eq!(messages(&smtp.maildir).len(), 1);
    let v = p.post("common-section-one-arch.mbox");
    assert_eq!(outcome_kinds(&v), ["settled", "already-posted"]);
    assert_eq!(messages(&smtp.maildir).len(), 1, "not sent again");
    // an archive without it: sent (once)
    let empty = q_archive();
    let q = Place::new(&format!(
        "{}archive = \"{}\"\n",
        smtp.config(),
        empty.path().display()
    ));
    assert_eq!(
        q.run("section-end-missing.mbox", Some("after-intent")).0,
        None
    );
    let v = q.post("section-end-missing.mbox");
    assert_eq!(outcome_kinds(&v), ["sent", "already-posted"]);
    assert_eq!(messages(&smtp.maildir).len(), 2);
}

/// An empty maildir standing for an archive that has not got the reply.
fn q_archive() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(d.path().join(sub)).unwrap();
    }
    d
}
