//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The patchbot binary built for these tests, with a clean environment.
pub fn patchbot() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_patchbot"));
    c.env_remove("PATCHBOT_CONFIG");
    // no on-disk cache of base results unless a test asks for one
    // (tests/cache.rs): every other review builds its base
    c.env("PATCHBOT_NO_CACHE", "1")
        .env_remove("PATCHBOT_CACHE_DIR");
    c
}

pub fn git_available() -> bool {
    let ok = Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    reference_tool("git", ok)
}

/// Whether a reference tool a test compares against is here. Outside CI a
/// missing tool skips the comparison (with a note); in CI (`CI` set, as
/// `.ci/run` runs) it is a failure, so a missing install cannot pass as green.
pub fn reference_tool(name: &str, available: bool) -> bool {
    if !available {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is missing; .ci/run must install it"
        );
        eprintln!("{name} is not installed; skipping the comparison with it");
    }
    available
}

/// Run a command that must succeed; its standard output, trimmed.
pub fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Run a patchbot command that must succeed and print JSON; the JSON.
pub fn json_of(cmd: &mut Command) -> serde_json::Value {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// Run `patchbot series --json` over inputs and parse the output.
pub fn series_json(inputs: &[&Path]) -> (serde_json::Value, i32) {
    let out = patchbot()
        .arg("series")
        .arg("--json")
        .args(inputs)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "bad JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out.status.code().unwrap_or(-1))
}

/// aiosmtpd on a loopback port, storing what it receives in a maildir.
pub struct Smtp {
    child: std::process::Child,
    pub port: u16,
    pub maildir: PathBuf,
    _dir: tempfile::TempDir,
}

impl Smtp {
    pub fn start() -> Option<Smtp> {
        Smtp::start_with(&[])
    }

    /// aiosmtpd with extra arguments (TLS certificates).
    pub fn start_with(extra: &[&std::ffi::OsStr]) -> Option<Smtp> {
        let have = Command::new("/usr/bin/python3")
            .args(["-c", "import aiosmtpd"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !reference_tool("aiosmtpd (Debian's python3-aiosmtpd)", have) {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("received");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("/usr/bin/python3")
            .args(["-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Mailbox"])
            .arg("-l")
            .arg(format!("127.0.0.1:{port}"))
            .args(extra)
            .arg(&maildir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let s = Smtp {
            child,
            port,
            maildir,
            _dir: dir,
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(s);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("aiosmtpd did not start on port {port}");
    }

    /// One reply per review (the per-patch split is tested on the outbox).
    pub fn config(&self) -> String {
        format!(
            "replies = \"one\"\n[post.email]\ntransport = \"smtp\"\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {}\nsecurity = \"plain\"\n",
            self.port
        )
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The messages in a maildir's new/ and cur/.
pub fn maildir_messages(maildir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        if let Ok(rd) = std::fs::read_dir(maildir.join(sub)) {
            for e in rd {
                out.push(std::fs::read_to_string(e.unwrap().path()).unwrap());
            }
        }
    }
    out.sort();
    out
}

pub fn header<'m>(msg: &'m str, name: &str) -> Vec<&'m str> {
    let head = msg.split("\n\n").next().unwrap();
    head.lines()
        .filter_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
        .collect()
}
