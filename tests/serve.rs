//! `patchbot serve`: GitHub webhooks over real HTTP on loopback, signed with
//! HMAC-SHA256; a bad signature is refused without side effects, a pull
//! request event is queued once, and the server stops on SIGTERM.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

const SECRET: &str = "It's a Secret to Everybody";

struct Server {
    child: Child,
    addr: String,
    state: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.sqlite");
        let cfg = dir.path().join("config.toml");
        std::fs::write(&cfg, format!("[post]\nstate = \"{}\"\n", state.display())).unwrap();
        let mut child = common::patchbot()
            .env("PATCHBOT_WEBHOOK_SECRET", SECRET)
            .arg("--config")
            .arg(&cfg)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stderr.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("patchbot: listening on ")
            .unwrap_or_else(|| panic!("{line}"))
            .to_string();
        Server {
            child,
            addr,
            state,
            _dir: dir,
        }
    }

    /// POST a delivery; (status, body).
    fn deliver(
        &self,
        event: &str,
        id: &str,
        signature: Option<&str>,
        body: &[u8],
    ) -> (u16, String) {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        let mut req = format!(
            "POST /webhook HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nX-GitHub-Event: {event}\r\nX-GitHub-Delivery: {id}\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.addr,
            body.len()
        );
        if let Some(sig) = signature {
            req.push_str(&format!("X-Hub-Signature-256: {sig}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let status = out
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = out.split("\r\n\r\n").nth(1).unwrap_or_default().to_string();
        (status, body)
    }

    fn queued(&self) -> Vec<(String, String, u64, String)> {
        patchbot::state::Store::open(&self.state)
            .unwrap()
            .queued()
            .unwrap()
            .into_iter()
            .map(|q| (q.delivery, q.repo, q.number, q.head))
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!(
        "sha256={}",
        data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes())
    )
}

fn pull_request(action: &str, head: &str) -> Vec<u8> {
    serde_json::json!({
        "action": action,
        "number": 7,
        "pull_request": {"number": 7, "head": {"sha": head, "ref": "topic"}, "base": {"sha": "b"}},
        "repository": {"full_name": "xen-project/xen"}
    })
    .to_string()
    .into_bytes()
}

#[test]
fn signed_pull_requests_are_queued_once_and_unsigned_ones_refused() {
    let s = Server::start();
    let body = pull_request("synchronize", "abc123");
    // unsigned, wrongly signed, signed for another body: refused, nothing queued
    assert_eq!(s.deliver("pull_request", "d1", None, &body).0, 401);
    let wrong = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    assert_eq!(s.deliver("pull_request", "d1", Some(wrong), &body).0, 401);
    let other = sign(&pull_request("synchronize", "other"));
    assert_eq!(s.deliver("pull_request", "d1", Some(&other), &body).0, 401);
    assert!(s.queued().is_empty());
    // signed: queued, once per delivery
    let sig = sign(&body);
    let (code, answer) = s.deliver("pull_request", "d1", Some(&sig), &body);
    assert_eq!(code, 202, "{answer}");
    assert!(answer.contains("xen-project/xen#7"), "{answer}");
    assert_eq!(s.deliver("pull_request", "d1", Some(&sig), &body).0, 202);
    assert_eq!(
        s.queued(),
        [(
            "d1".to_string(),
            "xen-project/xen".to_string(),
            7,
            "abc123".to_string()
        )]
    );
    // actions that need no review, other events, ping: answered, not queued
    let closed = pull_request("closed", "abc123");
    assert_eq!(
        s.deliver("pull_request", "d2", Some(&sign(&closed)), &closed)
            .0,
        200
    );
    let push = br#"{"ref": "refs/heads/staging"}"#;
    assert_eq!(s.deliver("push", "d3", Some(&sign(push)), push).0, 200);
    let ping = br#"{"zen": "Keep it logically awesome."}"#;
    let (code, answer) = s.deliver("ping", "d4", Some(&sign(ping)), ping);
    assert_eq!((code, answer.contains("pong")), (200, true));
    // a signed body that is not JSON
    let junk = b"not json";
    assert_eq!(
        s.deliver("pull_request", "d5", Some(&sign(junk)), junk).0,
        400
    );
    assert_eq!(s.queued().len(), 1);
}

#[test]
fn serve_needs_a_secret_and_stops_on_sigterm() {
    let out = common::patchbot()
        .env_remove("PATCHBOT_WEBHOOK_SECRET")
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PATCHBOT_WEBHOOK_SECRET"));
    let mut s = Server::start();
    unsafe {
        libc::kill(s.child.id() as i32, libc::SIGTERM);
    }
    let status = s.child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "a clean stop");
}
