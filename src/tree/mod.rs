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

/// What `--tree` named: a repository, or a plain directory snapshotted into a
/// private repository (which lives as long as this value).
pub enum TreeSource {
    Repo(Repo),
    Snapshot {
        repo: Repo,
        commit: String,
        _dir: tempfile::TempDir,
    },
}

impl TreeSource {
    /// A repository when `path` is one (its work tree root, its `.git` or a bare
    /// repository); otherwise the directory's files, snapshotted. A subdirectory
    /// of a repository counts as a plain directory: what it holds is the tree.
    pub fn open(path: &Path) -> Result<TreeSource, TreeError> {
        match Repo::at_root(path)? {
            Some(repo) => Ok(TreeSource::Repo(repo)),
            None => Self::snapshot(path),
        }
    }

    /// Copy a directory's files into a private bare repository and commit them.
    /// Links are stored as links (never followed); no filters or hooks exist there.
    fn snapshot(dir: &Path) -> Result<TreeSource, TreeError> {
        let tmp = tempfile::Builder::new()
            .prefix("patchbot-snapshot-")
            .tempdir()?;
        let git_dir = tmp.path().join("repo.git");
        let init = crate::git::command_in(tmp.path())
            .args(["init", "-q", "--bare"])
            .arg(&git_dir)
            .output()?;
        if !init.status.success() {
            return Err(TreeError::Git {
                what: "init".into(),
                why: stderr_line(&init),
            });
        }
        let index = tmp.path().join("index");
        let repo = Repo {
            git_dir,
            env: vec![("GIT_INDEX_FILE".into(), index.display().to_string())],
        };
        let add = repo
            .git()
            .arg("--work-tree")
            .arg(dir)
            .args(["add", "-A", "-f", "--", "."])
            .output()?;
        if !add.status.success() {
            return Err(TreeError::Git {
                what: "add".into(),
                why: stderr_line(&add),
            });
        }
        let tree = repo.run(&["write-tree"])?;
        let commit = repo
            .git()
            .args(["commit-tree", &tree, "-m", "snapshot"])
            .env("GIT_AUTHOR_NAME", "patchbot")
            .env("GIT_AUTHOR_EMAIL", "patchbot@localhost")
            .env("GIT_COMMITTER_NAME", "patchbot")
            .env("GIT_COMMITTER_EMAIL", "patchbot@localhost")
            .env("GIT_AUTHOR_DATE", "1970-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "1970-01-01T00:00:00Z")
            .output()?;
        if !commit.status.success() {
            return Err(TreeError::Git {
                what: "commit-tree".into(),
                why: stderr_line(&commit),
            });
        }
        let commit = String::from_utf8_lossy(&commit.stdout).trim().to_string();
        Ok(TreeSource::Snapshot {
            repo: Repo {
                git_dir: repo.git_dir,
                env: Vec::new(),
            },
            commit,
            _dir: tmp,
        })
    }

    pub fn repo(&self) -> &Repo {
        match self {
            TreeSource::Repo(r) => r,
            TreeSource::Snapshot { repo, .. } => repo,
        }
    }
}

impl Repo {
    /// The repository whose work tree root, `.git` or bare directory `path` is;
    /// None for any other directory (a plain one, or a subdirectory of a
    /// repository, whose files are then the tree).
    pub fn at_root(path: &Path) -> Result<Option<Repo>, TreeError> {
        let meta = std::fs::metadata(path)
            .map_err(|e| TreeError::Other(format!("{}: {e}", path.display())))?;
        if !meta.is_dir() {
            return Err(TreeError::Other(format!(
                "{}: not a directory",
                path.display()
            )));
        }
        let Ok(repo) = Repo::open(path) else {
            return Ok(None);
        };
        let here = path.canonicalize()?;
        if repo.git_dir.canonicalize()? == here {
            return Ok(Some(repo));
        }
        let top = crate::git::command_in(path)
            .args(["rev-parse", "--show-toplevel"])
            .output()?;
        let top = PathBuf::from(String::from_utf8_lossy(&top.stdout).trim());
        Ok(top.canonicalize().is_ok_and(|t| t == here).then_some(repo))
    }

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

    /// The extra environment (a private index or object directory).
    pub fn env_pairs(&self) -> Vec<(String, String)> {
        self.env.clone()
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

    /// The objects directory: the common directory's, as git finds it. A
    /// linked worktree's git directory (`.git/worktrees/NAME`) holds only its
    /// own HEAD and index, and names the common one in its `commondir` file
    /// (relative to itself, or absolute).
    pub fn objects_dir(&self) -> PathBuf {
        let common = match std::fs::read_to_string(self.git_dir.join("commondir")) {
            Ok(c) if !c.trim_end().is_empty() => self.git_dir.join(c.trim_end()),
            _ => self.git_dir.clone(),
        };
        common.join("objects")
    }
}
