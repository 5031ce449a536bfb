//! Running git on repositories we do not control.
//!
//! Every git process patchbot starts goes through [`command`]: no system or global
//! configuration, a `HOME` that does not exist, no `GIT_*` variables inherited from the
//! caller, hooks and fsmonitor off, no prompts, no lazy fetches, no protocols. A repository's own
//! `.git/config` is still read by git, so everything in it that could run a command
//! is overridden on the command line, which takes precedence.

use std::path::Path;
use std::process::Command;

/// `HOME` for git: a directory that does not exist, so git finds no user files
/// there (and we create nothing that would need cleaning up).
const NO_HOME: &str = "/nonexistent/patchbot-home";

/// git with the hardened environment and configuration, not yet pointed at a
/// repository.
fn hardened() -> Command {
    let mut cmd = Command::new("git");
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("GIT_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", NO_HOME)
        .env("XDG_CONFIG_HOME", NO_HOME)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "/bin/false")
        .env("SSH_ASKPASS", "/bin/false")
        .env("GIT_NO_LAZY_FETCH", "1")
        .env("GIT_NO_REPLACE_OBJECTS", "1")
        .env("GIT_PAGER", "cat")
        .env("LC_ALL", "C");
    for c in [
        "core.hooksPath=/dev/null",
        "core.fsmonitor=false",
        "core.sshCommand=/bin/false",
        "core.pager=cat",
        "core.editor=/bin/false",
        "protocol.allow=never",
        "safe.directory=*",
        "gc.auto=0",
        "maintenance.auto=false",
    ] {
        cmd.arg("-c").arg(c);
    }
    cmd
}

/// A `git` command for the repository at `git_dir` (a `.git` directory or a bare
/// repository), hardened as described in the module documentation.
pub fn command(git_dir: &Path) -> Command {
    let mut cmd = hardened();
    cmd.arg("--git-dir").arg(git_dir);
    cmd
}

/// A hardened `git` command run in `dir` (to find the repository there).
pub fn command_in(dir: &Path) -> Command {
    let mut cmd = hardened();
    cmd.arg("-C").arg(dir);
    cmd
}

/// A hardened `git` command for `git fetch` into the repository at `git_dir`
/// over HTTP(S) only (`patchbot watch`'s mirrors): the one place a protocol
/// is allowed, with patchbot's User-Agent and a low-speed timeout.
pub fn fetch_command(git_dir: &Path, agent: &str, timeout: std::time::Duration) -> Command {
    let mut cmd = command(git_dir);
    cmd.arg("-c")
        .arg("protocol.http.allow=always")
        .arg("-c")
        .arg("protocol.https.allow=always")
        .arg("-c")
        .arg(format!("http.userAgent={agent}"))
        .arg("-c")
        .arg("http.lowSpeedLimit=1")
        .arg("-c")
        .arg(format!("http.lowSpeedTime={}", timeout.as_secs().max(1)));
    cmd
}
