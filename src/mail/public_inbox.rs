//! public-inbox v2 archives: a directory with epoch repositories `git/N.git`, or a
//! single epoch repository. Each commit adds one message as blob `m` (or removes
//! one, as blob `d`). We stream commits oldest first through one `git rev-list`
//! and one `git cat-file --batch`, so memory does not grow with the archive.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::{strip_cr, Origin, RawMessage, ReadError, ReadOptions};

/// One epoch repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Epoch {
    /// A stable name for the cursor: `N` for `git/N.git`, or the directory name.
    pub name: String,
    pub git_dir: PathBuf,
}

/// The last commit read in each epoch; reading resumes after it.
pub type Cursor = BTreeMap<String, String>;

fn is_git_dir(p: &Path) -> bool {
    p.join("HEAD").is_file() && p.join("objects").is_dir()
}

/// True when `dir` is a public-inbox archive or a single epoch repository.
pub fn is_public_inbox(dir: &Path) -> bool {
    dir.join("git").is_dir() || is_git_dir(dir)
}

/// The epochs of an archive, in order.
pub fn epochs(dir: &Path) -> Result<Vec<Epoch>, String> {
    let gitdir = dir.join("git");
    if gitdir.is_dir() {
        let mut found = Vec::new();
        let rd = std::fs::read_dir(&gitdir)
            .map_err(|e| format!("cannot list {}: {e}", gitdir.display()))?;
        for ent in rd.flatten() {
            let name = ent.file_name().to_string_lossy().into_owned();
            if let Some(n) = name
                .strip_suffix(".git")
                .and_then(|n| n.parse::<u32>().ok())
            {
                if is_git_dir(&ent.path()) {
                    found.push((n, ent.path()));
                }
            }
        }
        if found.is_empty() {
            return Err(format!(
                "{} holds no epoch repositories (N.git)",
                gitdir.display()
            ));
        }
        found.sort();
        return Ok(found
            .into_iter()
            .map(|(n, p)| Epoch {
                name: n.to_string(),
                git_dir: p,
            })
            .collect());
    }
    if is_git_dir(dir) {
        let name = dir
            .file_name()
            .map_or_else(|| "0".to_string(), |n| n.to_string_lossy().into_owned());
        return Ok(vec![Epoch {
            name,
            git_dir: dir.to_path_buf(),
        }]);
    }
    Err(format!(
        "{} is not a public-inbox archive (no git/N.git and not a git repository)",
        dir.display()
    ))
}

fn is_object_id(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|c| c.is_ascii_hexdigit())
}

/// Read every message added after `cursor`, oldest first, calling `f` for each.
/// Returns the new cursor. An epoch that cannot be read is reported through `f`
/// and skipped.
pub fn read(
    dir: &Path,
    cursor: &Cursor,
    opts: &ReadOptions,
    mut f: impl FnMut(Result<RawMessage, ReadError>),
) -> Result<Cursor, String> {
    let mut next = cursor.clone();
    for epoch in epochs(dir)? {
        let since = cursor.get(&epoch.name).map(|s| s.as_str());
        if let Some(c) = since {
            if !is_object_id(c) {
                return Err(format!(
                    "cursor for epoch {} is not a commit id: {c:?}",
                    epoch.name
                ));
            }
        }
        match read_epoch(&epoch, since, opts, &mut f) {
            Ok(Some(last)) => {
                next.insert(epoch.name.clone(), last);
            }
            Ok(None) => {}
            Err(reason) => f(Err(ReadError {
                origin: Origin::PublicInbox {
                    epoch: epoch.git_dir.as_path().into(),
                    commit: String::new(),
                },
                message_id: None,
                reason,
            })),
        }
    }
    Ok(next)
}

fn read_epoch(
    epoch: &Epoch,
    since: Option<&str>,
    opts: &ReadOptions,
    f: &mut dyn FnMut(Result<RawMessage, ReadError>),
) -> Result<Option<String>, String> {
    // An empty repository (no HEAD commit yet) has nothing to read.
    let head = crate::git::command(&epoch.git_dir)
        .args(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !head.status.success() {
        return Ok(None);
    }
    let mut revlist = crate::git::command(&epoch.git_dir);
    revlist.args(["rev-list", "--reverse", "HEAD"]);
    if let Some(c) = since {
        revlist.arg(format!("^{c}"));
    }
    let mut revlist = revlist
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run git rev-list: {e}"))?;
    let mut batch = crate::git::command(&epoch.git_dir)
        .args([
            "cat-file",
            "--batch=%(objectname) %(objecttype) %(objectsize) %(rest)",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run git cat-file: {e}"))?;
    let rl_out = revlist.stdout.take().ok_or("no rev-list output")?;
    let mut bin = batch.stdin.take().ok_or("no cat-file input")?;
    let feeder = std::thread::spawn(move || -> std::io::Result<()> {
        let rl = BufReader::new(rl_out);
        let mut w = std::io::BufWriter::new(&mut bin);
        for line in rl.lines() {
            let c = line?;
            let c = c.trim();
            writeln!(w, "{c}:m {c}\n{c}:d {c}")?;
        }
        w.flush()?;
        Ok(())
    });
    let mut out = BufReader::new(batch.stdout.take().ok_or("no cat-file output")?);
    let mut last: Option<String> = None;
    let mut header = Vec::new();
    let epoch_path: std::sync::Arc<Path> = std::sync::Arc::from(epoch.git_dir.as_path());
    loop {
        header.clear();
        if out
            .read_until(b'\n', &mut header)
            .map_err(|e| e.to_string())?
            == 0
        {
            break;
        }
        let h = String::from_utf8_lossy(&header).trim_end().to_string();
        if let Some(q) = h.strip_suffix(" missing") {
            let commit = q.split(':').next().unwrap_or_default().to_string();
            last = Some(commit);
            continue;
        }
        let mut parts = h.splitn(4, ' ');
        let (_oid, ty, size, rest) = (parts.next(), parts.next(), parts.next(), parts.next());
        let size: u64 = size
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("unexpected git output: {h}"))?;
        let query_commit = rest.unwrap_or_default().trim().to_string();
        let origin = Origin::PublicInbox {
            epoch: epoch_path.clone(),
            commit: query_commit.clone(),
        };
        // Which blob was it: the batch answers in query order, m then d.
        let is_removal = matches!(last.as_deref(), Some(c) if c == query_commit);
        if ty != Some("blob") {
            // skip the payload
            std::io::copy(&mut (&mut out).take(size + 1), &mut std::io::sink())
                .map_err(|e| e.to_string())?;
            continue;
        }
        if size > opts.limits.max_message_bytes as u64 {
            std::io::copy(&mut (&mut out).take(size + 1), &mut std::io::sink())
                .map_err(|e| e.to_string())?;
            f(Err(ReadError {
                origin,
                message_id: None,
                reason: format!(
                    "message is {size} bytes, over the limit of {} (limits.max_message_bytes); skipped",
                    opts.limits.max_message_bytes
                ),
            }));
            last = Some(query_commit);
            continue;
        }
        let mut bytes = Vec::with_capacity(size as usize);
        (&mut out)
            .take(size)
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        let mut nl = [0u8; 1];
        out.read_exact(&mut nl).map_err(|e| e.to_string())?;
        if !opts.keep_cr {
            strip_cr(&mut bytes);
        }
        f(Ok(RawMessage {
            origin,
            bytes,
            removed: is_removal,
        }));
        last = Some(query_commit);
    }
    let fed = feeder.join();
    let rl_status = revlist.wait().map_err(|e| e.to_string())?;
    let _ = batch.wait();
    if !rl_status.success() {
        return Err(match since {
            Some(c) => format!("git rev-list failed: the cursor commit {c} is not in this epoch (was it rewritten?)"),
            None => "git rev-list failed".to_string(),
        });
    }
    if let Ok(Err(e)) = fed {
        return Err(format!("feeding git cat-file failed: {e}"));
    }
    Ok(last)
}
