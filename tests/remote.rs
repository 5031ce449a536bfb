//! `patchbot review|series|apply <Message-ID or archive URL>`: the thread
//! fetched from a real public-inbox HTTP server on loopback (Debian's
//! public-inbox), by URL and by Message-ID, the cache and `--offline`, the
//! newest version by default and `--version N`, and each error a user can
//! meet: an unknown Message-ID, an unreachable server, a rate limit, a
//! truncated gzip and an HTML page instead of an mbox (the last three served
//! by a small HTTP server in the test).

mod common;

use std::io::{Read, Write};
use std::path::Path;

use common::{split, Inbox};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

const COVER_V4: &str = "20231215090211.4021-1-rosa.perez@example.org";

/// A config with its own thread cache; `servers` and `lists` for bare Message-IDs.
struct Place {
    dir: tempfile::TempDir,
}

impl Place {
    fn new(remote: &str) -> Place {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            format!(
                "[remote]\ncache_dir = \"{}\"\nmax_retry_wait = 2\n{remote}\n",
                dir.path().join("threads").display()
            ),
        )
        .unwrap();
        Place { dir }
    }

    fn run(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let out = common::patchbot()
            .arg("--config")
            .arg(self.dir.path().join("config.toml"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

fn tree() -> String {
    root().join("examples/xen-tree").display().to_string()
}

/// An inbox holding v4 and, in reply to its cover letter, v5's messages.
fn inbox_with_v4_and_v5() -> Option<(Inbox, String)> {
    let mut inbox = Inbox::new()?;
    for m in split("xen-function-alignment.mbox") {
        inbox.deliver(&m);
    }
    // v5 sent into v4's thread (as b4 send --reroll may do): one thread, two versions
    for m in split("xen-function-alignment-v5.mbox") {
        let t = String::from_utf8_lossy(&m).into_owned();
        let t = if t.contains("\nIn-Reply-To:") || t.starts_with("In-Reply-To:") {
            t
        } else {
            t.replacen(
                "\nSubject:",
                &format!("\nIn-Reply-To: <{COVER_V4}>\nReferences: <{COVER_V4}>\nSubject:"),
                1,
            )
        };
        inbox.deliver(t.as_bytes());
    }
    let url = inbox.serve();
    Some((inbox, url))
}

#[test]
fn a_thread_is_fetched_by_url_and_by_message_id_and_cached_for_offline_use() {
    let Some((inbox, url)) = inbox_with_v4_and_v5() else {
        return;
    };
    let base = url.trim_end_matches("xen/").to_string();
    let p = Place::new(&format!("servers = [\"{base}\"]\nlists = [\"xen\"]"));
    // by URL, as lore prints it
    let (code, out, err) = p.run(&["series", &format!("{url}{COVER_V4}/T/#t"), "--json"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("fetched from"), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let versions: Vec<u64> = v["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["version"].as_u64().unwrap())
        .collect();
    assert!(
        versions.contains(&4) && versions.contains(&5),
        "{versions:?}"
    );
    // by Message-ID (brackets and id: accepted): review takes the newest version
    let (code, out, err) = p.run(&[
        "review",
        &format!("<{COVER_V4}>"),
        "--tree",
        &tree(),
        "--json",
    ]);
    assert!(matches!(code, Some(0 | 1)), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["apply"]["series"]["version"], 5,
        "{}",
        v["apply"]["series"]
    );
    // --version 4 picks the other
    let (code, out, err) = p.run(&[
        "review",
        &format!("id:{COVER_V4}"),
        "--version",
        "4",
        "--tree",
        &tree(),
        "--json",
    ]);
    assert!(matches!(code, Some(0 | 1)), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["apply"]["series"]["version"], 4);
    assert_eq!(v["findings"].as_array().unwrap().len(), 4);
    // and says the server has a newer one (found by the server's search)
    assert!(
        err.contains("the server has a newer version of this series, v5"),
        "{err}"
    );
    // the server gone: --offline reads the cache
    drop(inbox);
    let (code, _, err) = p.run(&["--offline", "apply", COVER_V4, "--tree", &tree(), "--json"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("from the cache"), "{err}");
    // and without --offline the unreachable server is said plainly
    let (code, _, err) = p.run(&["series", COVER_V4]);
    assert_eq!(code, Some(3));
    assert!(err.contains("cannot be reached"), "{err}");
    // a Message-ID never fetched is not in the cache
    let (code, _, err) = p.run(&["--offline", "series", "never@example.org"]);
    assert_eq!(code, Some(3));
    assert!(err.contains("not in the cache"), "{err}");
}

#[test]
fn an_unknown_message_id_names_what_was_asked() {
    let Some(mut inbox) = Inbox::new() else {
        return;
    };
    inbox.deliver(&split("typo-config-symbol.mbox")[0]);
    let url = inbox.serve();
    let base = url.trim_end_matches("xen/").to_string();
    let p = Place::new(&format!("servers = [\"{base}\"]\nlists = [\"xen\"]"));
    let (code, _, err) = p.run(&["series", "nothing-like-it@example.org"]);
    assert_eq!(code, Some(3));
    assert!(
        err.contains("<nothing-like-it@example.org>: no such message on"),
        "{err}"
    );
    assert!(
        err.contains("/xen/nothing-like-it@example.org/t.mbox.gz"),
        "{err}"
    );
    assert!(
        err.contains("/all/nothing-like-it@example.org/t.mbox.gz"),
        "{err}"
    );
}

/// A one-route HTTP server: each request gets the next canned answer (the
/// last one repeats). The request heads it saw.
fn canned(answers: Vec<Vec<u8>>) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for (i, s) in l.incoming().enumerate() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 8192];
            let n = s.read(&mut buf).unwrap_or(0);
            log.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf[..n]).into_owned());
            let a = &answers[i.min(answers.len() - 1)];
            let _ = s.write_all(a);
        }
    });
    (port, seen)
}

fn answer(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn mbox() -> Vec<u8> {
    std::fs::read(root().join("examples/typo-config-symbol.mbox")).unwrap()
}

#[test]
fn a_rate_limit_is_waited_out_when_short_and_reported_when_long() {
    let ok = answer(
        "200 OK",
        "Content-Type: application/gzip\r\nETag: \"t1\"\r\n",
        &common::gzip(&mbox()),
    );
    let (port, seen) = canned(vec![
        answer("429 Too Many Requests", "Retry-After: 1\r\n", b""),
        ok.clone(),
        // the second fetch: not modified
        answer("304 Not Modified", "ETag: \"t1\"\r\n", b""),
    ]);
    let url = format!("http://127.0.0.1:{port}/list/a@b/");
    let p = Place::new("");
    let (code, _, err) = p.run(&["series", &url]);
    assert_eq!(code, Some(0), "{err}");
    let (code, _, err) = p.run(&["series", &url]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("from the cache"), "{err}");
    let heads = seen.lock().unwrap().clone();
    assert_eq!(heads.len(), 3);
    assert!(
        heads[0].starts_with("GET /list/a@b/t.mbox.gz "),
        "{heads:?}"
    );
    assert!(heads[0]
        .to_ascii_lowercase()
        .contains("user-agent: patchbot/"));
    assert!(
        heads[2]
            .to_ascii_lowercase()
            .contains("if-none-match: \"t1\""),
        "{heads:?}"
    );
    // an hour's wait is not waited
    let (port, _) = canned(vec![answer(
        "429 Too Many Requests",
        "Retry-After: 3600\r\n",
        b"",
    )]);
    let (code, _, err) = p.run(&["series", &format!("http://127.0.0.1:{port}/list/c@d/")]);
    assert_eq!(code, Some(3));
    assert!(
        err.contains("rate-limited by the server; it asks to retry after 3600 s"),
        "{err}"
    );
}

#[test]
fn a_truncated_gzip_and_an_html_page_are_refused_and_nothing_is_cached() {
    let gz = common::gzip(&mbox());
    let (port, _) = canned(vec![answer(
        "200 OK",
        "Content-Type: application/gzip\r\n",
        &gz[..gz.len() / 2],
    )]);
    let p = Place::new("");
    let url = format!("http://127.0.0.1:{port}/list/a@b/");
    let (code, _, err) = p.run(&["series", &url]);
    assert_eq!(code, Some(3));
    assert!(err.contains("truncated"), "{err}");
    let (code, _, err) = p.run(&["--offline", "series", &url]);
    assert_eq!(code, Some(3));
    assert!(err.contains("not in the cache"), "{err}");
    let page = b"<!DOCTYPE html><html><head><title>Anubis: are you a bot?</title></head></html>";
    let (port, _) = canned(vec![answer("200 OK", "Content-Type: text/html\r\n", page)]);
    let (code, _, err) = p.run(&["series", &format!("http://127.0.0.1:{port}/list/a@b/")]);
    assert_eq!(code, Some(3));
    assert!(
        err.contains("an HTML page, not an mbox (\"Anubis: are you a bot?\")"),
        "{err}"
    );
    // not an archive URL at all
    let (code, _, err) = p.run(&["series", "https://example.org/nothing/here"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("not an archive URL"), "{err}");
}
