//! The tree stage: from a series and a git repository to a patched tree, and a
//! confined, read-only view of a tree for the stages after it.
//!
//! * [`Repo`]: a repository we do not control, reached only through hardened git.
//! * [`base`]: which commit the series applies to, chosen by an ordered chain.
//! * [`apply`]: applying the patches with git's own `git apply`, into a private
//!   index and a private object directory, with a class per patch.
//! * [`vfs`]: the read-only view (over a git tree object or a plain directory)
//!   that every later stage reads through.

pub mod apply;
pub mod base;
pub mod vfs;

use std::path::{Path, PathBuf};
use std::process::Output;

/// Something went wrong with the repository itself (not with a patch).
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("{0}: not a git repository")]
    NotARepo(String),
    #[error("cannot run git: {0}")]
    Spawn(#[from] std::io::Error),
    #[error("git {what} failed: {why}")]
    Git { what: String, why: String },
    #[error("{0}")]
    Other(String),
}

/// A git repository, bare or not.
#[derive(Debug, Clone)]
pub struct Repo {
    pub git_dir: PathBuf,
    /// Extra environment for every git process (a private index or object
    /// directory).
    env: Vec<(String, String)>,
}

fn stderr_line(o: &Output) -> String {
    let s = String::from_utf8_lossy(&o.stderr);
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

impl Repo {
    /// Open the repository at `path`: a work tree, a `.git` directory or a bare
    /// repository.
    pub fn open(path: &Path) -> Result<Repo, TreeError> {
        let out = crate::git::command_in(path)
            .args(["rev-parse", "--absolute-git-dir"])
            .output()?;
        if !out.status.success() {
            return Err(TreeError::NotARepo(path.display().to_string()));
        }
        let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
        Ok(Repo {
            git_dir: PathBuf::from(dir),
            env: Vec::new(),
        })
    }

    /// The same repository with extra environment for git.
    pub fn with_env(&self, env: Vec<(String, String)>) -> Repo {
        Repo {
            git_dir: self.git_dir.clone(),
            env,
        }
    }

    /// A hardened git command for this repository.
    pub fn git(&self) -> std::process::Command {
        let mut c = crate::git::command(&self.git_dir);
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// Run git, returning stdout when it succeeds.
    pub fn run(&self, args: &[&str]) -> Result<String, TreeError> {
        let out = self.git().args(args).output()?;
        if !out.status.success() {
            return Err(TreeError::Git {
                what: args.first().unwrap_or(&"").to_string(),
                why: stderr_line(&out),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// The commit `rev` names, if any.
    pub fn commit(&self, rev: &str) -> Option<String> {
        if rev.starts_with('-') {
            return None;
        }
        let spec = format!("{rev}^{{commit}}");
        let out = self
            .git()
            .args([
                "rev-parse",
                "--verify",
                "--quiet",
                "--end-of-options",
                &spec,
            ])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// The tree of a commit.
    pub fn tree_of(&self, commit: &str) -> Result<String, TreeError> {
        self.run(&[
            "rev-parse",
            "--verify",
            "--end-of-options",
            &format!("{commit}^{{tree}}"),
        ])
    }

    /// The objects directory.
    pub fn objects_dir(&self) -> PathBuf {
        self.git_dir.join("objects")
    }
}
