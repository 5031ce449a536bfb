//! `patchbot watch` end to end: a real public-inbox v2 archive (Debian's
//! public-inbox: `public-inbox-init -V2`, `public-inbox-mda`, served by
//! `public-inbox-httpd` on loopback) and a real SMTP server (aiosmtpd). A
//! series delivered in parts is reviewed once complete and not before; its
//! next version gets the follow-up; patchbot's own reply, delivered back into
//! the archive, is not answered; a watcher killed mid-round, restarted,
//! reviews nothing twice and skips nothing.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{header, maildir_messages as received, split, Inbox, Smtp, LIST};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn subject(msg: &[u8]) -> String {
    let t = String::from_utf8_lossy(msg);
    t.lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .unwrap_or_default()
        .to_string()
}

/// A state store and a config for `watch`.
struct Watcher {
    dir: tempfile::TempDir,
}

impl Watcher {
    fn new(source: &str, extra: &str) -> Watcher {
        let dir = tempfile::tempdir().unwrap();
        let cfg = format!(
            "[post]\nstate = \"{}\"\nfrom = \"patchbot <patchbot@example.org>\"\n{extra}\n\
             [watch]\ntree = \"{}\"\nbacklog = \"review\"\nmin_request_interval_ms = 0\n\
             interval = 1\n\
             [[watch.sources]]\nname = \"xen-devel\"\n{source}\n",
            dir.path().join("state.sqlite").display(),
            root().join("examples/xen-tree").display()
        );
        std::fs::write(dir.path().join("config.toml"), cfg).unwrap();
        Watcher { dir }
    }

    fn command(&self) -> Command {
        let mut c = common::patchbot();
        c.arg("--config").arg(self.dir.path().join("config.toml"));
        c
    }

    /// `watch --once`, which must succeed; its log.
    fn once(&self) -> String {
        self.once_env(&[])
    }

    fn once_env(&self, env: &[(&str, &str)]) -> String {
        let mut c = self.command();
        c.args(["watch", "--once"]);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{log}");
        log
    }

    fn status(&self) -> serde_json::Value {
        let out = self.command().args(["status", "--json"]).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

const COVER_V4: &str = "<20231215090211.4021-1-rosa.perez@example.org>";

#[test]
fn a_series_is_reviewed_once_complete_followed_up_and_its_own_reply_is_not_answered() {
    let Some(smtp) = Smtp::start() else { return };
    let Some(mut inbox) = Inbox::new() else {
        return;
    };
    let url = inbox.serve();
    let w = Watcher::new(&format!("url = \"{url}\""), &smtp.config());
    let v4 = split("xen-function-alignment.mbox");
    // the cover letter and two of the four patches
    let (first, rest): (Vec<_>, Vec<_>) = v4.iter().partition(|m| {
        let s = subject(m);
        !s.starts_with("Re:") && ["0/4", "1/4", "2/4"].iter().any(|n| s.contains(n))
    });
    assert_eq!(first.len(), 3);
    for m in &first {
        inbox.deliver(m);
    }
    let log = w.once();
    assert!(log.contains("messages taken in"), "{log}");
    assert!(!log.contains("reviewing"), "{log}");
    assert!(
        received(&smtp.maildir).is_empty(),
        "reviewed before it was complete"
    );
    let st = w.status();
    assert_eq!(st["sources"][0]["messages"], 3);
    assert_eq!(st["sources"][0]["series"]["waiting"], 1, "{st}");
    // the other parts (and the replies): now it is complete
    for m in &rest {
        inbox.deliver(m);
    }
    let log = w.once();
    assert!(log.contains("reviewing"), "{log}");
    let got = received(&smtp.maildir);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(header(&got[0], "In-Reply-To"), [COVER_V4]);
    assert_eq!(
        header(&got[0], "Subject"),
        ["Re: xen: enforce a minimum function alignment for livepatch"]
    );
    let rcpt = header(&got[0], "X-RcptTo").join(",");
    for a in ["rosa.perez@example.org", LIST] {
        assert!(rcpt.contains(a), "{a} not in {rcpt}");
    }
    assert!(
        got[0].contains("It has 4 questions or findings"),
        "{}",
        got[0]
    );
    // nothing new: nothing reviewed, nothing sent
    let log = w.once();
    assert!(!log.contains("reviewing"), "{log}");
    // patchbot's own reply comes back through the list: not answered
    let own = got[0]
        .split_once('\n')
        .filter(|(first, _)| first.starts_with("From "))
        .map_or(got[0].as_str(), |(_, rest)| rest);
    inbox.deliver(own.as_bytes());
    let log = w.once();
    assert!(log.contains("new=1"), "{log}");
    assert!(!log.contains("reviewing"), "{log}");
    assert_eq!(received(&smtp.maildir).len(), 1);
    // v5: reviewed, and the follow-up says what it resolved
    for m in split("xen-function-alignment-v5.mbox") {
        inbox.deliver(&m);
    }
    let log = w.once();
    assert!(log.contains("version=5"), "{log}");
    let got = received(&smtp.maildir);
    assert_eq!(got.len(), 2, "{got:?}");
    let follow = got
        .iter()
        .find(|m| !header(m, "In-Reply-To").contains(&COVER_V4))
        .unwrap();
    assert!(follow.contains("Resolved since v4"), "{follow}");
    let st = w.status();
    assert_eq!(st["sources"][0]["series"]["reviewed"], 2, "{st}");
    assert!(st["events"].as_array().unwrap().is_empty(), "{st}");
}

#[test]
fn a_series_missing_a_part_is_reviewed_after_the_grace_period() {
    let Some(inbox) = Inbox::new() else { return };
    let w = Watcher::new(
        &format!("path = \"{}\"", inbox.path().display()),
        "[post.email]\ntransport = \"outbox\"\n",
    );
    let outbox = w.dir.path().join("outbox");
    for m in split("xen-function-alignment.mbox") {
        if !subject(&m).contains("4/4") {
            inbox.deliver(&m);
        }
    }
    let t0 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let log = w.once_env(&[("PATCHBOT_NOW", &t0.to_string())]);
    assert!(!log.contains("reviewing"), "{log}");
    // 59 minutes on: still waiting
    let log = w.once_env(&[("PATCHBOT_NOW", &(t0 + 59 * 60).to_string())]);
    assert!(!log.contains("reviewing"), "{log}");
    assert!(received(&outbox).is_empty());
    // past the hour: reviewed as far as it goes
    let log = w.once_env(&[("PATCHBOT_NOW", &(t0 + 61 * 60 + 5).to_string())]);
    assert!(log.contains("partial=true"), "{log}");
    assert!(!received(&outbox).is_empty());
    let st = w.status();
    assert_eq!(st["series"][0]["state"], "reviewed", "{st}");
}

/// Series of the bundled examples that draw findings, so each gets a reply.
const SERIES: &[&str] = &[
    "common-section-one-arch.mbox",
    "section-end-missing.mbox",
    "shadowed-section.mbox",
    "typo-config-symbol.mbox",
];

/// What each reply answers, sorted: one entry per reply received.
fn answered(maildir: &Path) -> Vec<String> {
    let mut v: Vec<String> = received(maildir)
        .iter()
        .map(|m| header(m, "In-Reply-To").join(" "))
        .collect();
    v.sort();
    v
}

fn deliver_all(inbox: &Inbox) {
    for s in SERIES {
        for m in split(s) {
            inbox.deliver(&m);
        }
    }
}

#[test]
fn a_watcher_killed_mid_round_and_restarted_reviews_nothing_twice_and_skips_nothing() {
    let Some(reference) = Inbox::new() else {
        return;
    };
    let Some(smtp_ref) = Smtp::start() else {
        return;
    };
    deliver_all(&reference);
    let w = Watcher::new(
        &format!("path = \"{}\"", reference.path().display()),
        &smtp_ref.config(),
    );
    w.once();
    let want = answered(&smtp_ref.maildir);
    assert_eq!(want.len(), SERIES.len(), "{want:?}");

    // killed between a review (posted) and its record: the next run records
    // it without posting again
    let Some(inbox) = Inbox::new() else { return };
    let Some(smtp) = Smtp::start() else { return };
    deliver_all(&inbox);
    let w = Watcher::new(
        &format!("path = \"{}\"", inbox.path().display()),
        &smtp.config(),
    );
    let out = w
        .command()
        .args(["watch", "--once"])
        .env("PATCHBOT_TEST_CRASH", "watch-after-review")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), None, "the crash point aborts");
    assert_eq!(answered(&smtp.maildir).len(), 1);
    w.once();
    assert_eq!(answered(&smtp.maildir), want);

    // SIGKILL at a moment we do not choose: as soon as the first reply is in
    let Some(inbox) = Inbox::new() else { return };
    let Some(smtp) = Smtp::start() else { return };
    deliver_all(&inbox);
    let w = Watcher::new(
        &format!("path = \"{}\"", inbox.path().display()),
        &smtp.config(),
    );
    let mut child = w
        .command()
        .arg("watch")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = std::time::Instant::now();
    while answered(&smtp.maildir).is_empty() && t.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let after_kill = answered(&smtp.maildir).len();
    assert!((1..=SERIES.len()).contains(&after_kill));
    w.once();
    assert_eq!(answered(&smtp.maildir), want);
    // and once more: nothing
    w.once();
    assert_eq!(answered(&smtp.maildir), want);
}

#[test]
fn sigterm_stops_the_watcher_after_the_step_under_way() {
    let Some(inbox) = Inbox::new() else { return };
    for m in split("typo-config-symbol.mbox") {
        inbox.deliver(&m);
    }
    let w = Watcher::new(
        &format!("path = \"{}\"", inbox.path().display()),
        "[post.email]\ntransport = \"outbox\"\n",
    );
    let (mut child, lines) = spawn_watch(&w);
    // SIGTERM while the review is under way: it is finished and recorded
    wait_for_line(&lines, "reviewing");
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let t = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    let log: Vec<String> = lines.iter().collect();
    let log = log.join("\n");
    assert!(log.contains("1 finding"), "{log}");
    assert!(log.contains("stopped"), "{log}");
    assert_eq!(w.status()["sources"][0]["series"]["reviewed"], 1);
    // a second watcher on the same store is refused while one runs
    let (mut first, lines) = spawn_watch(&w);
    wait_for_line(&lines, "watching");
    let out = w.command().args(["watch", "--once"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("another patchbot watch"));
    first.kill().unwrap();
    first.wait().unwrap();
}

/// `watch` running, its log lines arriving on a channel.
fn spawn_watch(w: &Watcher) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    let mut child = w
        .command()
        .arg("watch")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    (child, rx)
}

fn wait_for_line(lines: &std::sync::mpsc::Receiver<String>, what: &str) {
    loop {
        let l = lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no log line with {what:?}"));
        if l.contains(what) {
            return;
        }
    }
}

#[test]
fn a_bad_configuration_is_refused_clearly() {
    let w = Watcher::new("url = \"ftp://example.org/\"", "");
    let out = w.command().args(["watch", "--once"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not http(s)"));
    let w = Watcher::new("path = \"/nonexistent/inbox\"", "");
    let out = w.command().args(["watch", "--once"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("neither a maildir nor a public-inbox"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_unreachable_server_fails_the_round_and_is_reported() {
    // a port nothing listens on
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let w = Watcher::new(&format!("url = \"http://127.0.0.1:{port}/xen/\""), "");
    let out = w.command().args(["watch", "--once"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let st = w.status();
    assert_eq!(st["sources"][0]["failures"], 1, "{st}");
    assert!(
        st["sources"][0]["last_error"]
            .as_str()
            .unwrap()
            .contains("manifest.js.gz"),
        "{st}"
    );
    assert_eq!(st["events"][0]["level"], "error");
}

#[test]
fn the_backlog_is_taken_in_but_not_reviewed_by_default_and_its_next_version_is() {
    let Some(inbox) = Inbox::new() else { return };
    for m in split("xen-function-alignment.mbox") {
        inbox.deliver(&m);
    }
    let w = Watcher::new(
        &format!("path = \"{}\"\nbacklog = \"skip\"", inbox.path().display()),
        "[post.email]\ntransport = \"outbox\"\n",
    );
    let outbox = w.dir.path().join("outbox");
    let log = w.once();
    assert!(log.contains("backlog taken in"), "{log}");
    assert!(received(&outbox).is_empty());
    assert_eq!(w.status()["sources"][0]["series"]["backlog"], 1);
    for m in split("xen-function-alignment-v5.mbox") {
        inbox.deliver(&m);
    }
    let log = w.once();
    assert!(log.contains("version=5"), "{log}");
    // v5 resolves what v4 had, but v4 was never reviewed: nothing to follow up
    let st = w.status();
    assert_eq!(st["sources"][0]["series"]["reviewed"], 1, "{st}");
    assert_eq!(st["sources"][0]["series"]["backlog"], 1, "{st}");
}

#[test]
fn a_rewritten_epoch_is_read_again_and_nothing_is_taken_in_twice() {
    let Some(mut inbox) = Inbox::new() else {
        return;
    };
    let url = inbox.serve();
    let w = Watcher::new(
        &format!("url = \"{url}\""),
        "[post.email]\ntransport = \"outbox\"\n",
    );
    let msgs = split("xen-function-alignment.mbox");
    for m in &msgs[..3] {
        inbox.deliver(m);
    }
    w.once();
    assert_eq!(w.status()["sources"][0]["messages"], 3);
    // the second message is purged: the epoch's history is rewritten
    inbox.purge(&msgs[1]);
    for m in &msgs[3..5] {
        inbox.deliver(m);
    }
    let log = w.once();
    assert!(log.contains("rewritten"), "{log}");
    let st = w.status();
    // the three kept, the purged one not lost from the store, the two new ones once
    assert_eq!(st["sources"][0]["messages"], 5, "{st}");
    assert_eq!(st["sources"][0]["failures"], 0, "{st}");
    assert!(
        st["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["level"] == "warning" && e["text"].as_str().unwrap().contains("rewritten")),
        "{st}"
    );
}

/// A tiny HTTP server answering the manifest: 304 when the request carries
/// the ETag it gave. It records every request's head.
fn manifest_server() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        // a manifest naming one epoch that does not exist: fetching it fails
        let body = common::gzip(br#"{"/xen/git/0.git":{"fingerprint":"abc","modified":1}}"#);
        for s in listener.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).into_owned();
            let fresh = head.to_ascii_lowercase().contains("if-none-match: \"v1\"");
            log.lock().unwrap().push(head);
            let resp = if fresh {
                b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
            } else {
                let mut r = format!(
                    "HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nContent-Type: application/gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                r.extend_from_slice(&body);
                r
            };
            let _ = s.write_all(&resp);
        }
    });
    (port, seen)
}

#[test]
fn requests_carry_the_user_agent_and_the_validators_of_the_last_answer() {
    let (port, seen) = manifest_server();
    let w = Watcher::new(&format!("url = \"http://127.0.0.1:{port}/xen/\""), "");
    // the epoch cannot be fetched: the round fails, the manifest was read
    let out = w.command().args(["watch", "--once"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let heads = seen.lock().unwrap().clone();
    assert!(
        heads[0].starts_with("GET /xen/manifest.js.gz "),
        "{heads:?}"
    );
    assert!(
        heads[0]
            .to_ascii_lowercase()
            .contains("user-agent: patchbot/"),
        "{heads:?}"
    );
    let st = w.status();
    assert!(
        st["sources"][0]["last_error"]
            .as_str()
            .unwrap()
            .contains("git fetch"),
        "{st}"
    );
}

#[test]
fn a_conditional_request_is_answered_not_modified() {
    let (port, seen) = manifest_server();
    let cfg = patchbot::config::WatchConfig {
        min_request_interval_ms: 0,
        ..Default::default()
    };
    let mut http = patchbot::watch::Http::new(&cfg).unwrap();
    let url = format!("http://127.0.0.1:{port}/xen/manifest.js.gz");
    let none = patchbot::watch::Validators::default();
    let (body, etag, _) = http.get_conditional(&url, &none).unwrap().unwrap();
    assert_eq!(&body[..2], b"\x1f\x8b");
    assert_eq!(etag.as_deref(), Some("\"v1\""));
    let v = patchbot::watch::Validators {
        etag,
        ..Default::default()
    };
    assert!(http.get_conditional(&url, &v).unwrap().is_none());
    let heads = seen.lock().unwrap().clone();
    assert!(
        heads[1]
            .to_ascii_lowercase()
            .contains("if-none-match: \"v1\""),
        "{heads:?}"
    );
}

#[test]
fn a_review_that_keeps_failing_is_given_up_until_the_series_changes() {
    let Some(inbox) = Inbox::new() else { return };
    for m in split("typo-config-symbol.mbox") {
        inbox.deliver(&m);
    }
    let w = Watcher::new(&format!("path = \"{}\"", inbox.path().display()), "");
    // the tree is gone: every review fails
    let cfg = w.dir.path().join("config.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let tree = root().join("examples/xen-tree").display().to_string();
    std::fs::write(&cfg, text.replace(&tree, "/nonexistent/tree")).unwrap();
    for attempt in 1..=3 {
        let log = w.once();
        assert!(log.contains("review failed"), "{attempt}: {log}");
    }
    let st = w.status();
    assert_eq!(st["sources"][0]["series"]["gave-up"], 1, "{st}");
    assert!(
        st["events"][0]["text"]
            .as_str()
            .unwrap()
            .contains("3 attempts"),
        "{st}"
    );
    // a fourth round leaves it alone
    let log = w.once();
    assert!(!log.contains("reviewing"), "{log}");
}

#[test]
fn a_maildir_source_reads_only_what_arrived_since_the_last_round() {
    let md = tempfile::tempdir().unwrap();
    for d in ["tmp", "new", "cur"] {
        std::fs::create_dir(md.path().join(d)).unwrap();
    }
    // as a delivery agent does: written in tmp/, renamed into new/
    let deliver = |name: &str, msg: &[u8]| {
        let tmp = md.path().join("tmp").join(name);
        std::fs::write(&tmp, msg).unwrap();
        std::fs::rename(&tmp, md.path().join("new").join(name)).unwrap();
    };
    // let the clock move past the second a listing does not trust
    let settle = || std::thread::sleep(Duration::from_millis(1100));
    let w = Watcher::new(
        &format!("path = \"{}\"", md.path().display()),
        "[post.email]\ntransport = \"outbox\"\n",
    );
    let outbox = w.dir.path().join("outbox");
    let round = || {
        let out = w
            .command()
            .args(["watch", "--once", "-v"])
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{log}");
        log
    };
    let parts = split("xen-function-alignment.mbox");
    let (first, rest) = parts.split_at(2);
    for (i, m) in first.iter().enumerate() {
        deliver(&format!("100{i}.1.host"), m);
    }
    settle();
    let log = round();
    assert!(log.contains("new=2 read=2"), "{log}");
    assert!(received(&outbox).is_empty(), "an incomplete series waits");
    // nothing arrived: the directories are unchanged and nothing is even
    // listed (a file whose status changed in place, which no delivery does,
    // would be read by a listing)
    let first_file = md.path().join("new/1000.1.host");
    let mode = std::fs::metadata(&first_file).unwrap().permissions();
    std::fs::set_permissions(&first_file, mode).unwrap();
    let log = round();
    assert!(log.contains("read=0"), "{log}");
    // the rest arrives: only those files are read (and the one whose status
    // changed since the last listing), and the series is reviewed
    for (i, m) in rest.iter().enumerate() {
        deliver(&format!("200{i}.1.host"), m);
    }
    settle();
    let log = round();
    let n = rest.len();
    assert!(log.contains(&format!("new={n} read={}", n + 1)), "{log}");
    assert!(!received(&outbox).is_empty(), "{log}");
    let replies = received(&outbox).len();
    // a mail client marks one read (new/ -> cur/ with flags): read again,
    // taken in once, nothing reviewed again
    std::fs::rename(
        md.path().join("new/1000.1.host"),
        md.path().join("cur/1000.1.host:2,S"),
    )
    .unwrap();
    settle();
    let log = round();
    assert!(
        log.contains("nothing new") && log.contains("read=1"),
        "{log}"
    );
    assert_eq!(received(&outbox).len(), replies);
    assert_eq!(w.status()["sources"][0]["messages"], parts.len());
}
