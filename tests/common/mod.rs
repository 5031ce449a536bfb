//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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

pub const LIST: &str = "xen-devel@lists.xenproject.org";

/// A public-inbox v2 archive of our own, maybe served over HTTP.
pub struct Inbox {
    dir: tempfile::TempDir,
    httpd: Option<(Child, u16)>,
}

impl Inbox {
    pub fn new() -> Option<Inbox> {
        let have = Command::new("public-inbox-init")
            .arg("--help")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        if !reference_tool("public-inbox (Debian's public-inbox)", have) {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let i = Inbox { dir, httpd: None };
        let out = i
            .pi("public-inbox-init")
            .args(["-V2", "xen"])
            .arg(i.dir.path().join("inbox"))
            .args(["http://127.0.0.1/xen", LIST])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ok = i
            .pi("git")
            .arg("config")
            .arg("-f")
            .arg(i.dir.path().join("piconfig"))
            .args(["publicinboxmda.spamcheck", "none"])
            .status()
            .unwrap();
        assert!(ok.success());
        Some(i)
    }

    pub fn pi(&self, cmd: &str) -> Command {
        let mut c = Command::new(cmd);
        c.env("HOME", self.dir.path())
            .env("PI_CONFIG", self.dir.path().join("piconfig"));
        c
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("inbox")
    }

    /// Deliver one message as the list's mail server would.
    pub fn deliver(&self, msg: &[u8]) {
        let mut c = self.pi("public-inbox-mda");
        c.arg("--no-precheck").env("ORIGINAL_RECIPIENT", LIST);
        feed(c, msg);
    }

    /// Erase a message and its history (`public-inbox-purge` rewrites the epoch).
    pub fn purge(&self, msg: &[u8]) {
        let mut c = self.pi("public-inbox-purge");
        c.arg(self.path());
        feed(c, msg);
    }

    /// `public-inbox-httpd` on a loopback port; the inbox's base URL.
    pub fn serve(&mut self) -> String {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = self
            .pi("public-inbox-httpd")
            .arg("-l")
            .arg(format!("http://127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.httpd = Some((child, port));
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return format!("http://127.0.0.1:{port}/xen/");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("public-inbox-httpd did not start on port {port}");
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        if let Some((c, _)) = &mut self.httpd {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Run a public-inbox tool on one message, which must succeed.
pub fn feed(mut c: Command, msg: &[u8]) {
    use std::io::Write;
    let mut c = c
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(msg).unwrap();
    let out = c.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The messages of an mbox, split as `git mailsplit` splits them.
pub fn split(mbox: &str) -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("git")
        .arg("mailsplit")
        .arg(format!("-o{}", dir.path().display()))
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("examples")
                .join(mbox),
        )
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|f| std::fs::read(f).unwrap()).collect()
}

/// gzip by the system's gzip (the tests have no compressor of their own).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut c = Command::new("gzip")
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(data).unwrap();
    c.wait_with_output().unwrap().stdout
}
