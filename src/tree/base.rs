//! Choosing the base commit, by an ordered chain whose every step is recorded:
//!
//! 1. `--base REV`, when given (rung `explicit`);
//! 2. the series' `base-commit:`, when the repository has that commit
//!    (rung `base-commit`);
//! 3. each configured branch (`apply.branches`), local or remote-tracking, at its
//!    tip (rung `branch`), or with `--as-of` at the last commit before the series
//!    was sent (rung `branch-as-of`);
//! 4. `HEAD` (rung `head`).
//!
//! A plain directory given as `--tree` is its own base (rung `directory`).

use serde::Serialize;

use super::{Repo, TreeError};
use crate::series::Series;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rung {
    Explicit,
    BaseCommit,
    Branch,
    BranchAsOf,
    Head,
    /// `--tree` named a plain directory: its files are the base.
    Directory,
}

/// The base a series was applied to, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Base {
    pub commit: String,
    pub rung: Rung,
    /// The steps of the chain, in order: what was tried and what came of it.
    pub why: Vec<String>,
}

/// A ref for branch `name`: the local branch, else a remote-tracking one.
fn branch_ref(repo: &Repo, name: &str) -> Option<String> {
    if name.is_empty() || name.starts_with('-') || name.contains("..") {
        return None;
    }
    let local = format!("refs/heads/{name}");
    if repo.commit(&local).is_some() {
        return Some(local);
    }
    let out = repo
        .git()
        .args(["for-each-ref", "--format=%(refname)", "refs/remotes/"])
        .output()
        .ok()?;
    let suffix = format!("/{name}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|r| r.ends_with(&suffix) && r.matches('/').count() == 3)
        .min()
        .map(String::from)
}

/// Resolve the base for `series` in `repo`.
pub fn resolve(
    repo: &Repo,
    series: &Series,
    explicit: Option<&str>,
    branches: &[String],
    as_of: bool,
) -> Result<Base, TreeError> {
    let mut why = Vec::new();
    if let Some(rev) = explicit {
        return match repo.commit(rev) {
            Some(c) => {
                why.push(format!("--base {rev} is {c}"));
                Ok(Base {
                    commit: c,
                    rung: Rung::Explicit,
                    why,
                })
            }
            None => Err(TreeError::Other(format!(
                "--base {rev}: no such commit in the repository"
            ))),
        };
    }
    match &series.base.base_commit {
        Some(b) => match repo.commit(b) {
            Some(c) => {
                why.push(format!("base-commit {b} is in the repository"));
                return Ok(Base {
                    commit: c,
                    rung: Rung::BaseCommit,
                    why,
                });
            }
            None => why.push(format!("base-commit {b} is not in the repository")),
        },
        None => why.push("the series names no base-commit".into()),
    }
    for name in branches {
        let Some(r) = branch_ref(repo, name) else {
            why.push(format!("no branch {name}"));
            continue;
        };
        if as_of {
            let Some(date) = &series.date else {
                why.push(format!("{r}: the series has no date for --as-of"));
                continue;
            };
            let out = repo.run(&["rev-list", "-1", &format!("--before={date}"), &r, "--"])?;
            if out.is_empty() {
                why.push(format!("{r} has no commit before {date}"));
                continue;
            }
            why.push(format!("{r} as of {date} is {out}"));
            return Ok(Base {
                commit: out,
                rung: Rung::BranchAsOf,
                why,
            });
        }
        if let Some(c) = repo.commit(&r) {
            why.push(format!("{r} is at {c}"));
            return Ok(Base {
                commit: c,
                rung: Rung::Branch,
                why,
            });
        }
    }
    match repo.commit("HEAD") {
        Some(c) => {
            why.push(format!("HEAD is {c}"));
            Ok(Base {
                commit: c,
                rung: Rung::Head,
                why,
            })
        }
        None => Err(TreeError::Other(format!(
            "no base found: {}",
            why.join("; ")
        ))),
    }
}
