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

/// A `git` command for the repository at `git_dir` (a `.git` directory or a bare
/// repository), hardened as described in the module documentation.
pub fn command(git_dir: &Path) -> Command {
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
        .env("LC_ALL", "C")
        .arg("-c")
        .arg("core.hooksPath=/dev/null")
        .arg("-c")
        .arg("core.fsmonitor=false")
        .arg("-c")
        .arg("core.sshCommand=/bin/false")
        .arg("-c")
        .arg("protocol.allow=never")
        .arg("-c")
        .arg("safe.directory=*")
        .arg("--git-dir")
        .arg(git_dir);
    cmd
}
