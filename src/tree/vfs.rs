//! The confined, read-only view of a tree. Every stage after `apply` reads the
//! tree only through a [`Vfs`]; nothing else in patchbot opens files of a tree.
//!
//! Paths are relative and normalised (`a/./b` is `a/b`); an absolute path, a `..`
//! that leaves the root, a symbolic link (never followed, wherever it points), a
//! submodule, a device or a file over the size limit is an error that says so.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};
use std::sync::Mutex;

use super::Repo;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VfsError {
    #[error("{0}: absolute paths are not allowed")]
    Absolute(String),
    #[error("{0}: the path leaves the tree")]
    Escapes(String),
    #[error("{0}: no such file")]
    NotFound(String),
    #[error("{0}: a symbolic link (links are never followed)")]
    Symlink(String),
    #[error("{0}: a submodule (not part of this tree)")]
    Submodule(String),
    #[error("{0}: a directory")]
    IsDir(String),
    #[error("{0}: not a directory")]
    NotDir(String),
    #[error("{0}: not a regular file")]
    Special(String),
    #[error("{path}: {size} bytes, over the limit of {limit}")]
    TooBig { path: String, size: u64, limit: u64 },
    #[error("{0}")]
    Io(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Submodule,
}

/// The read-only view.
pub trait Vfs {
    /// The bytes of a regular file.
    fn read(&self, path: &str) -> Result<Vec<u8>, VfsError>;
    /// Whether a path exists (of any kind). Looking is recorded by callers that
    /// track inputs: a path not found matters too.
    fn exists(&self, path: &str) -> bool;
    /// The entries of a directory, sorted by name.
    fn list(&self, dir: &str) -> Result<Vec<(String, Kind)>, VfsError>;
    /// The target of a symbolic link, as stored (never followed here).
    fn read_link(&self, path: &str) -> Result<String, VfsError>;
    /// Several files, each as `read` gives it; a view may fetch them together.
    fn read_many(&self, paths: &[String]) -> Vec<Result<Vec<u8>, VfsError>> {
        paths.iter().map(|p| self.read(p)).collect()
    }
}

/// Read a file, following symbolic links only while they stay inside the tree
/// (relative targets, at most 8 hops), the way a build that opens the path
/// would. A link leaving the tree is an error. Build inputs (Kconfig files,
/// defconfigs) are read this way; `Vfs::read` itself never follows a link.
pub fn read_in_tree(vfs: &dyn Vfs, path: &str) -> Result<Vec<u8>, VfsError> {
    let mut p = normalize(path)?;
    for _ in 0..8 {
        match vfs.read(&p) {
            Err(VfsError::Symlink(link)) => {
                let target = vfs.read_link(&link)?;
                if target.starts_with('/') {
                    return Err(VfsError::Escapes(format!("{link} -> {target}")));
                }
                let dir = link.rsplit_once('/').map_or("", |(d, _)| d);
                let rest = &p[link.len()..];
                p = normalize(&format!("{dir}/{target}{rest}"))
                    .map_err(|_| VfsError::Escapes(format!("{link} -> {target}")))?;
            }
            other => return other,
        }
    }
    Err(VfsError::Io(format!(
        "{path}: too many levels of symbolic links"
    )))
}

/// Normalise a tree path: relative, `/`-separated, no `.` or empty components,
/// `..` resolved without leaving the root. The root is "".
pub fn normalize(path: &str) -> Result<String, VfsError> {
    if path.starts_with('/') {
        return Err(VfsError::Absolute(path.into()));
    }
    // already normal: no empty, `.` or `..` component
    if path
        .split('/')
        .all(|c| !c.is_empty() && c != "." && c != "..")
    {
        return Ok(path.to_string());
    }
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(VfsError::Escapes(path.into()));
                }
            }
            c => parts.push(c),
        }
    }
    Ok(parts.join("/"))
}

/// The largest file a view hands out (bytes).
pub const DEFAULT_MAX_FILE: u64 = 64 * 1024 * 1024;

struct CatFile {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// The answers are out of step (or git died): nothing more is read.
    broken: bool,
}

/// A view of a git tree object, read through one `git ls-tree` (at creation) and
/// one long-lived `git cat-file --batch`.
pub struct GitTreeVfs {
    entries: BTreeMap<String, (Kind, String)>,
    dirs: BTreeSet<String>,
    cat: Mutex<CatFile>,
    max_file: u64,
}

impl GitTreeVfs {
    /// A view of `tree` (a tree or commit id) in `repo`.
    pub fn new(repo: &Repo, tree: &str) -> Result<GitTreeVfs, super::TreeError> {
        let out = repo
            .git()
            // no -l: sizes cost an inflated blob header each; cat-file gives
            // the size of the files actually read
            .args(["ls-tree", "-r", "-t", "-z", "--full-tree", tree])
            .output()?;
        if !out.status.success() {
            return Err(super::TreeError::Git {
                what: "ls-tree".into(),
                why: super::stderr_line(&out),
            });
        }
        let mut entries = BTreeMap::new();
        let mut dirs = BTreeSet::new();
        dirs.insert(String::new());
        for rec in out.stdout.split(|&c| c == 0) {
            if rec.is_empty() {
                continue;
            }
            let rec = String::from_utf8_lossy(rec);
            // "<mode> SP <type> SP <object> TAB <path>"
            let Some((meta, path)) = rec.split_once('\t') else {
                continue;
            };
            let mut f = meta.split_whitespace();
            let (mode, _ty, oid) = (f.next().unwrap_or(""), f.next(), f.next().unwrap_or(""));
            let kind = match mode {
                "040000" => {
                    dirs.insert(path.to_string());
                    Kind::Dir
                }
                "120000" => Kind::Symlink,
                "160000" => Kind::Submodule,
                _ => Kind::File,
            };
            entries.insert(path.to_string(), (kind, oid.to_string()));
        }
        let mut child = repo
            .git()
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| super::TreeError::Other("cat-file: no stdin".into()))?;
        let stdout = BufReader::new(
            child
                .stdout
                .take()
                .ok_or_else(|| super::TreeError::Other("cat-file: no stdout".into()))?,
        );
        Ok(GitTreeVfs {
            entries,
            dirs,
            cat: Mutex::new(CatFile {
                child,
                stdin,
                stdout,
                broken: false,
            }),
            max_file: DEFAULT_MAX_FILE,
        })
    }

    /// The same view with another limit on the size of a file it hands out.
    pub fn with_max_file(mut self, bytes: u64) -> GitTreeVfs {
        self.max_file = bytes;
        self
    }

    /// Every regular file, sorted.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .filter(|(_, e)| e.0 == Kind::File)
            .map(|(p, _)| p.as_str())
    }

    /// A regular file's normalized path and blob id, or why it cannot be read.
    fn resolve(&self, path: &str) -> Result<(String, &str), VfsError> {
        let p = normalize(path)?;
        // a symlinked directory on the way is a symlink too
        let mut prefix = String::new();
        for c in p.split('/') {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(c);
            match self.entries.get(&prefix) {
                Some((Kind::Symlink, _)) => return Err(VfsError::Symlink(prefix)),
                Some((Kind::Submodule, _)) => return Err(VfsError::Submodule(prefix)),
                Some((Kind::File, oid)) if prefix == p => return Ok((p, oid.as_str())),
                Some((Kind::File, _)) => return Err(VfsError::NotDir(prefix)),
                Some((Kind::Dir, _)) if prefix == p => return Err(VfsError::IsDir(p)),
                Some(_) => {}
                None => return Err(VfsError::NotFound(p)),
            }
        }
        Err(VfsError::IsDir(p))
    }

    /// A blob's bytes; over the size limit, an error naming `path`.
    fn blob(&self, oid: &str, path: &str) -> Result<Vec<u8>, VfsError> {
        self.blobs(&[(oid, path)])
            .pop()
            .unwrap_or_else(|| Err(VfsError::Io("git cat-file: no answer".into())))
    }

    /// Several blobs through the one `cat-file --batch`, the requests written
    /// by a second thread while this one reads the answers, so the pipe's
    /// round trips overlap. Every answer is read to its end (an unexpected
    /// or oversized one too), so the stream stays in step; when it cannot
    /// (git died, a malformed answer), the process is killed, which ends the
    /// writer, and the view reports every later read as an error.
    fn blobs(&self, reqs: &[(&str, &str)]) -> Vec<Result<Vec<u8>, VfsError>> {
        let mut guard = match self.cat.lock() {
            Ok(g) => g,
            Err(_) => return reqs.iter().map(|_| Err(io_err("lock poisoned"))).collect(),
        };
        let cat = &mut *guard;
        if cat.broken {
            return reqs
                .iter()
                .map(|_| Err(io_err("the reader stopped earlier")))
                .collect();
        }
        let max_file = self.max_file;
        let (stdin, stdout, child, broken) = (
            &mut cat.stdin,
            &mut cat.stdout,
            &mut cat.child,
            &mut cat.broken,
        );
        std::thread::scope(|s| {
            let writer = if reqs.len() > 1 {
                Some(s.spawn(move || -> std::io::Result<()> {
                    let mut w = std::io::BufWriter::new(stdin);
                    for (oid, _) in reqs {
                        writeln!(w, "{oid}")?;
                    }
                    w.flush()
                }))
            } else {
                let sent = reqs
                    .iter()
                    .try_for_each(|(oid, _)| writeln!(stdin, "{oid}"))
                    .and_then(|_| stdin.flush());
                if let Err(e) = sent {
                    *broken = true;
                    let _ = child.kill();
                    return reqs.iter().map(|_| Err(io_err(&e.to_string()))).collect();
                }
                None
            };
            let mut out = Vec::with_capacity(reqs.len());
            for (oid, path) in reqs {
                if *broken {
                    out.push(Err(io_err("the reader stopped earlier")));
                    continue;
                }
                match read_answer(stdout, oid, path, max_file) {
                    Ok(r) => out.push(r),
                    Err(e) => {
                        *broken = true;
                        let _ = child.kill();
                        out.push(Err(e));
                    }
                }
            }
            if let Some(w) = writer {
                if !matches!(w.join(), Ok(Ok(()))) && !*broken {
                    *broken = true;
                    let _ = child.kill();
                }
            }
            out
        })
    }
}

fn io_err(why: &str) -> VfsError {
    VfsError::Io(format!("git cat-file: {why}"))
}

/// One answer of `cat-file --batch` for `oid`: the outer error when the
/// stream is out of step (nothing more can be read), the inner one for an
/// answer that is not a blob of an acceptable size (read past).
fn read_answer(
    stdout: &mut BufReader<ChildStdout>,
    oid: &str,
    path: &str,
    max_file: u64,
) -> Result<Result<Vec<u8>, VfsError>, VfsError> {
    let io = |e: std::io::Error| io_err(&e.to_string());
    let mut header = String::new();
    if stdout.read_line(&mut header).map_err(io)? == 0 {
        return Err(io_err("git exited"));
    }
    let mut parts = header.split_whitespace();
    let (got, ty, size) = (parts.next(), parts.next(), parts.next());
    if got != Some(oid) {
        return Err(io_err(&format!("answer out of step for {oid}")));
    }
    let Some(size) = size.and_then(|s| s.parse::<u64>().ok()) else {
        // "<oid> missing" has no content
        return Ok(Err(io_err(&format!("unexpected answer for {oid}"))));
    };
    if ty != Some("blob") || size > max_file {
        std::io::copy(&mut (&mut *stdout).take(size + 1), &mut std::io::sink()).map_err(io)?;
        return Ok(Err(if ty != Some("blob") {
            io_err(&format!("{oid} is not a blob"))
        } else {
            VfsError::TooBig {
                path: path.to_string(),
                size,
                limit: max_file,
            }
        }));
    }
    let mut buf = Vec::with_capacity(size as usize);
    (&mut *stdout)
        .take(size)
        .read_to_end(&mut buf)
        .map_err(io)?;
    let mut nl = [0u8; 1];
    stdout.read_exact(&mut nl).map_err(io)?;
    if buf.len() as u64 != size {
        return Err(io_err("short answer"));
    }
    Ok(Ok(buf))
}

impl Vfs for GitTreeVfs {
    fn read_link(&self, path: &str) -> Result<String, VfsError> {
        let p = normalize(path)?;
        match self.entries.get(&p) {
            Some((Kind::Symlink, oid)) => {
                Ok(String::from_utf8_lossy(&self.blob(oid, &p)?).into_owned())
            }
            Some(_) => Err(VfsError::Io(format!("{p}: not a symbolic link"))),
            None => Err(VfsError::NotFound(p)),
        }
    }

    fn read(&self, path: &str) -> Result<Vec<u8>, VfsError> {
        let (p, oid) = self.resolve(path)?;
        self.blob(oid, &p)
    }

    fn read_many(&self, paths: &[String]) -> Vec<Result<Vec<u8>, VfsError>> {
        let resolved: Vec<Result<(String, &str), VfsError>> =
            paths.iter().map(|p| self.resolve(p)).collect();
        let reqs: Vec<(&str, &str)> = resolved
            .iter()
            .filter_map(|r| r.as_ref().ok().map(|(p, oid)| (*oid, p.as_str())))
            .collect();
        let mut got = self.blobs(&reqs).into_iter();
        resolved
            .into_iter()
            .map(|r| match r {
                Ok(_) => got.next().unwrap_or_else(|| Err(io_err("no answer"))),
                Err(e) => Err(e),
            })
            .collect()
    }

    fn exists(&self, path: &str) -> bool {
        normalize(path).is_ok_and(|p| p.is_empty() || self.entries.contains_key(&p))
    }

    fn list(&self, dir: &str) -> Result<Vec<(String, Kind)>, VfsError> {
        let d = normalize(dir)?;
        if !self.dirs.contains(&d) {
            return Err(match self.entries.get(&d) {
                Some((Kind::Symlink, _)) => VfsError::Symlink(d),
                Some(_) => VfsError::NotDir(d),
                None => VfsError::NotFound(d),
            });
        }
        let prefix = if d.is_empty() {
            String::new()
        } else {
            format!("{d}/")
        };
        Ok(self
            .entries
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .filter(|(p, _)| !p[prefix.len()..].contains('/'))
            .map(|(p, e)| (p[prefix.len()..].to_string(), e.0))
            .collect())
    }
}

/// A view of a plain directory, confined the same way: every component is checked
/// with `symlink_metadata`, so no link is followed, and only regular files are read.
pub struct DirVfs {
    root: PathBuf,
    max_file: u64,
    /// Tree paths already found to be real directories (every component
    /// checked), so a walk starts below the deepest one instead of at the root:
    /// the view is of a tree that does not change while it is read.
    dirs: Mutex<std::collections::HashSet<String>>,
}

impl DirVfs {
    pub fn new(root: &Path) -> Result<DirVfs, VfsError> {
        let root = root
            .canonicalize()
            .map_err(|e| VfsError::Io(format!("{}: {e}", root.display())))?;
        if !root.is_dir() {
            return Err(VfsError::NotDir(root.display().to_string()));
        }
        Ok(DirVfs {
            root,
            max_file: DEFAULT_MAX_FILE,
            dirs: Mutex::new(std::collections::HashSet::new()),
        })
    }

    /// Walk to `p` component by component, refusing links; the kind at the end.
    fn walk(&self, p: &str) -> Result<(PathBuf, std::fs::Metadata), VfsError> {
        // a repository's own files are not part of the tree
        if p == ".git" || p.starts_with(".git/") {
            return Err(VfsError::NotFound(p.to_string()));
        }
        // `p` is normal (see `normalize`): its components are separated by
        // single slashes, and the first k of them are a prefix of it.
        let comps: Vec<&str> = p.split('/').filter(|c| !c.is_empty()).collect();
        // start below the deepest directory already checked
        let (known, so_far) = {
            let dirs = self.dirs.lock().unwrap_or_else(|e| e.into_inner());
            p.rmatch_indices('/')
                .map(|(i, _)| &p[..i])
                .find(|d| dirs.contains(*d))
                .map_or((0, ""), |d| (d.split('/').count(), d))
        };
        let mut cur = self.root.clone();
        if !so_far.is_empty() {
            cur.push(so_far);
        }
        let mut so_far = so_far.to_string();
        // a directory checked before is one still (the tree does not change
        // while it is read): only the components below it are looked at
        let mut meta = if known > 0 && known < comps.len() {
            None
        } else {
            Some(std::fs::symlink_metadata(&cur).map_err(|e| VfsError::Io(e.to_string()))?)
        };
        for (k, c) in comps.iter().enumerate().skip(known) {
            if meta.as_ref().is_some_and(|m| !m.is_dir()) {
                return Err(VfsError::NotDir(so_far));
            }
            // `so_far` was checked by this walk: a directory, not a link
            if k > known {
                self.dirs
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(so_far.clone());
            }
            if !so_far.is_empty() {
                so_far.push('/');
            }
            so_far.push_str(c);
            cur.push(c);
            let m = match std::fs::symlink_metadata(&cur) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(VfsError::NotFound(so_far))
                }
                Err(e) => return Err(VfsError::Io(format!("{so_far}: {e}"))),
            };
            if m.file_type().is_symlink() {
                return Err(VfsError::Symlink(so_far));
            }
            meta = Some(m);
        }
        let meta = match meta {
            Some(m) => m,
            None => std::fs::symlink_metadata(&cur).map_err(|e| VfsError::Io(e.to_string()))?,
        };
        Ok((cur, meta))
    }
}

impl Vfs for DirVfs {
    fn read_link(&self, path: &str) -> Result<String, VfsError> {
        let p = normalize(path)?;
        let full = self.root.join(&p);
        let meta = std::fs::symlink_metadata(&full).map_err(|_| VfsError::NotFound(p.clone()))?;
        if !meta.file_type().is_symlink() {
            return Err(VfsError::Io(format!("{p}: not a symbolic link")));
        }
        let t = std::fs::read_link(&full).map_err(|e| VfsError::Io(format!("{p}: {e}")))?;
        Ok(t.to_string_lossy().into_owned())
    }

    fn read(&self, path: &str) -> Result<Vec<u8>, VfsError> {
        let p = normalize(path)?;
        let (full, meta) = self.walk(&p)?;
        if meta.is_dir() {
            return Err(VfsError::IsDir(p));
        }
        if !meta.is_file() {
            return Err(VfsError::Special(p));
        }
        if meta.len() > self.max_file {
            return Err(VfsError::TooBig {
                path: p,
                size: meta.len(),
                limit: self.max_file,
            });
        }
        let f = std::fs::File::open(&full).map_err(|e| VfsError::Io(format!("{p}: {e}")))?;
        let mut buf = Vec::with_capacity(meta.len() as usize);
        f.take(self.max_file + 1)
            .read_to_end(&mut buf)
            .map_err(|e| VfsError::Io(format!("{p}: {e}")))?;
        Ok(buf)
    }

    fn exists(&self, path: &str) -> bool {
        normalize(path).is_ok_and(|p| self.walk(&p).is_ok())
    }

    fn list(&self, dir: &str) -> Result<Vec<(String, Kind)>, VfsError> {
        let d = normalize(dir)?;
        let (full, meta) = self.walk(&d)?;
        if !meta.is_dir() {
            return Err(VfsError::NotDir(d));
        }
        let mut out = Vec::new();
        for ent in std::fs::read_dir(&full).map_err(|e| VfsError::Io(format!("{d}: {e}")))? {
            let ent = ent.map_err(|e| VfsError::Io(e.to_string()))?;
            let name = ent.file_name().to_string_lossy().into_owned();
            if d.is_empty() && name == ".git" {
                continue;
            }
            let ft = ent.file_type().map_err(|e| VfsError::Io(e.to_string()))?;
            let kind = if ft.is_symlink() {
                Kind::Symlink
            } else if ft.is_dir() {
                Kind::Dir
            } else {
                Kind::File
            };
            out.push((name, kind));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}

/// A view with generated files laid over a tree: the files a real build would
/// write before it reads them (the `autoconf.h` the Kconfig evaluator computed),
/// found at their paths as if they were in the tree. Everything else is the
/// base view's, with its confinement.
pub struct OverlayVfs<'a> {
    base: &'a dyn Vfs,
    files: BTreeMap<String, Vec<u8>>,
}

impl<'a> OverlayVfs<'a> {
    pub fn new(base: &'a dyn Vfs) -> Self {
        OverlayVfs {
            base,
            files: BTreeMap::new(),
        }
    }

    /// Add (or replace) a generated file at a tree path.
    pub fn add(&mut self, path: &str, bytes: Vec<u8>) -> Result<(), VfsError> {
        let p = normalize(path)?;
        if p.is_empty() {
            return Err(VfsError::IsDir(path.into()));
        }
        self.files.insert(p, bytes);
        Ok(())
    }

    /// Whether `dir` holds an overlaid file somewhere below it.
    fn overlay_dir(&self, dir: &str) -> bool {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        self.files
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix))
    }
}

impl Vfs for OverlayVfs<'_> {
    fn read(&self, path: &str) -> Result<Vec<u8>, VfsError> {
        let p = normalize(path)?;
        match self.files.get(&p) {
            Some(b) => Ok(b.clone()),
            None if self.overlay_dir(&p) => Err(VfsError::IsDir(p)),
            None => self.base.read(&p),
        }
    }

    fn exists(&self, path: &str) -> bool {
        match normalize(path) {
            Ok(p) => self.files.contains_key(&p) || self.overlay_dir(&p) || self.base.exists(&p),
            Err(_) => false,
        }
    }

    fn list(&self, dir: &str) -> Result<Vec<(String, Kind)>, VfsError> {
        let d = normalize(dir)?;
        let mut out: BTreeMap<String, Kind> = match self.base.list(&d) {
            Ok(v) => v.into_iter().collect(),
            Err(e) if !self.overlay_dir(&d) => return Err(e),
            Err(_) => BTreeMap::new(),
        };
        let prefix = if d.is_empty() {
            String::new()
        } else {
            format!("{d}/")
        };
        for k in self.files.keys() {
            let Some(rest) = k.strip_prefix(&prefix) else {
                continue;
            };
            match rest.split_once('/') {
                Some((sub, _)) => out.insert(sub.to_string(), Kind::Dir),
                None => out.insert(rest.to_string(), Kind::File),
            };
        }
        Ok(out.into_iter().collect())
    }

    fn read_link(&self, path: &str) -> Result<String, VfsError> {
        let p = normalize(path)?;
        if self.files.contains_key(&p) {
            return Err(VfsError::Io(format!("{p}: not a symbolic link")));
        }
        self.base.read_link(&p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_files_are_found_and_the_rest_is_the_base() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("include/xen")).unwrap();
        std::fs::write(d.path().join("include/xen/config.h"), "base").unwrap();
        let base = DirVfs::new(d.path()).unwrap();
        let mut o = OverlayVfs::new(&base);
        o.add(
            "include/generated/autoconf.h",
            b"#define CONFIG_X 1\n".to_vec(),
        )
        .unwrap();
        assert_eq!(
            o.read("include/generated/autoconf.h").unwrap(),
            b"#define CONFIG_X 1\n"
        );
        assert_eq!(o.read("include/xen/config.h").unwrap(), b"base");
        assert!(o.exists("include/generated"));
        assert!(o.exists("include/generated/autoconf.h"));
        assert!(!o.exists("include/generated/other.h"));
        assert!(matches!(
            o.read("include/generated"),
            Err(VfsError::IsDir(_))
        ));
        let names: Vec<String> = o
            .list("include")
            .unwrap()
            .into_iter()
            .map(|e| e.0)
            .collect();
        assert_eq!(names, ["generated", "xen"]);
        // confinement is the base's
        assert!(matches!(o.read("../x"), Err(VfsError::Escapes(_))));
        assert!(matches!(o.read("/etc/passwd"), Err(VfsError::Absolute(_))));
        assert!(o.add("../escape.h", Vec::new()).is_err());
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalize("a/./b//c").unwrap(), "a/b/c");
        assert_eq!(normalize("a/b/../c").unwrap(), "a/c");
        assert_eq!(normalize("").unwrap(), "");
        assert!(matches!(normalize("../x"), Err(VfsError::Escapes(_))));
        assert!(matches!(normalize("a/../../x"), Err(VfsError::Escapes(_))));
        assert!(matches!(
            normalize("/etc/passwd"),
            Err(VfsError::Absolute(_))
        ));
    }

    #[test]
    fn normalize_resolves_empty_dot_and_dotdot_components() {
        let cases = [
            ("a/b/c.h", "a/b/c.h"),
            ("a", "a"),
            ("", ""),
            (".", ""),
            ("a/", "a"),
            ("a//b", "a/b"),
            ("./a/./b", "a/b"),
            ("a/../b", "b"),
            ("a/b/../../c", "c"),
            ("a/.../b", "a/.../b"),
            ("a/..b/c", "a/..b/c"),
        ];
        for (path, want) in cases {
            assert_eq!(normalize(path).unwrap(), want, "{path}");
        }
        for path in ["..", "a/../..", "../a", "a/b/../../../c"] {
            assert!(
                matches!(normalize(path), Err(VfsError::Escapes(_))),
                "{path}"
            );
        }
    }
}
