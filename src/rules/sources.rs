//! The patched tree's C and assembly sources and headers, for checks that ask
//! which files produce a section, use a symbol or define a macro.
//!
//! Every such question is about a word standing in a file as a whole token
//! (bounded by characters that are not letters, digits or `_`), so a check asks
//! [`Sources::candidates`] for the files that may hold a word and filters them
//! exactly. Without an index the candidates are every source file, read once.
//! With the on-disk cache, the candidates come from a word index of the *base*
//! tree (every maximal run of identifier characters, and the files holding it,
//! built once per base and stored) minus the files the series touches, plus
//! those files as the patched tree has them: the files a series leaves alone
//! are the base's, so the candidates are a superset of the files that can
//! match, and only they are read. **Invariant:** a check's answer is the same
//! with and without the index.

use std::cell::{OnceCell, RefCell};
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

use crate::cache::{BaseKey, Cache};
use crate::tree::vfs::{Kind, Vfs};

/// A source file: its tree path and text.
pub type Source = (String, Rc<str>);

/// Which files the scan covers.
const EXTENSIONS: [&str; 3] = [".c", ".S", ".h"];
/// At most this many directory entries are walked.
const WALK_BUDGET: usize = 200_000;

/// The base tree and the cache an index comes from.
pub struct IndexFrom<'a> {
    pub base: &'a dyn Vfs,
    pub cache: &'a Cache,
    pub key: &'a BaseKey,
    /// Every path the series touches (old and new names).
    pub touched: &'a BTreeSet<String>,
}

pub struct Sources<'a> {
    patched: Option<&'a dyn Vfs>,
    srctree: &'a str,
    index_from: Option<IndexFrom<'a>>,
    all: OnceCell<Vec<Source>>,
    index: OnceCell<Option<WordIndex>>,
    read: RefCell<HashMap<String, Option<Rc<str>>>>,
}

impl<'a> Sources<'a> {
    /// The sources of `patched` under `srctree` ("" for the whole tree); with
    /// `index_from`, answered through the base's word index.
    pub fn new(
        patched: Option<&'a dyn Vfs>,
        srctree: &'a str,
        index_from: Option<IndexFrom<'a>>,
    ) -> Sources<'a> {
        Sources {
            patched,
            srctree,
            index_from,
            all: OnceCell::new(),
            index: OnceCell::new(),
            read: RefCell::new(HashMap::new()),
        }
    }

    /// The files that may hold `word` as a whole token (a superset; every
    /// file when the word has no identifier characters).
    pub fn candidates(&self, word: &str) -> Vec<Source> {
        let Some(vfs) = self.patched else {
            return Vec::new();
        };
        let (Some(from), Some(part)) = (&self.index_from, rarest_part(word)) else {
            return self.all().to_vec();
        };
        let Some(index) = self
            .index
            .get_or_init(|| WordIndex::load_or_build(from, self.srctree))
        else {
            return self.all().to_vec();
        };
        let mut paths: BTreeSet<&str> = index
            .files_with(part)
            .into_iter()
            .filter(|p| !from.touched.contains(*p))
            .collect();
        paths.extend(
            from.touched
                .iter()
                .map(String::as_str)
                .filter(|p| covered(self.srctree, p)),
        );
        // read what was not read yet, together
        let new: Vec<String> = {
            let read = self.read.borrow();
            paths
                .iter()
                .filter(|p| !read.contains_key(**p))
                .map(|p| p.to_string())
                .collect()
        };
        let texts = vfs.read_many(&new);
        let mut read = self.read.borrow_mut();
        for (p, t) in new.into_iter().zip(texts) {
            read.insert(p, t.ok().map(|b| text_of(&b)));
        }
        paths
            .into_iter()
            .filter_map(|p| Some((p.to_string(), read.get(p)?.clone()?)))
            .collect()
    }

    /// Every source file of the patched tree, read once.
    fn all(&self) -> &[Source] {
        self.all.get_or_init(|| {
            let Some(vfs) = self.patched else {
                return Vec::new();
            };
            let files = source_files(vfs, self.srctree);
            let texts = vfs.read_many(&files);
            files
                .into_iter()
                .zip(texts)
                .filter_map(|(f, b)| Some((f, text_of(&b.ok()?))))
                .collect()
        })
    }
}

fn text_of(b: &[u8]) -> Rc<str> {
    Rc::from(String::from_utf8_lossy(b).as_ref())
}

/// Whether a path is one the scan covers.
fn covered(srctree: &str, path: &str) -> bool {
    let under = srctree.is_empty()
        || path
            .strip_prefix(srctree)
            .is_some_and(|r| r.starts_with('/'));
    under && EXTENSIONS.iter().any(|x| path.ends_with(x))
}

/// The source files under `srctree`, walked in name order.
fn source_files(vfs: &dyn Vfs, srctree: &str) -> Vec<String> {
    fn walk(vfs: &dyn Vfs, dir: &str, out: &mut Vec<String>, budget: &mut usize) {
        let Ok(entries) = vfs.list(dir) else { return };
        for (n, k) in entries {
            if *budget == 0 {
                return;
            }
            *budget -= 1;
            let p = if dir.is_empty() {
                n
            } else {
                format!("{dir}/{n}")
            };
            match k {
                Kind::Dir => walk(vfs, &p, out, budget),
                Kind::File if EXTENSIONS.iter().any(|x| p.ends_with(x)) => out.push(p),
                _ => {}
            }
        }
    }
    let (mut files, mut budget) = (Vec::new(), WALK_BUDGET);
    walk(vfs, srctree, &mut files, &mut budget);
    files
}

/// The maximal runs of identifier characters of a text.
fn runs(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|r| !r.is_empty())
}

/// The longest identifier run of a word (a word standing as a whole token has
/// each of its runs standing as a maximal run). None: it has none.
fn rarest_part(word: &str) -> Option<&str> {
    runs(word).max_by_key(|r| r.len())
}

/// Every maximal identifier run of a tree's sources, and the files holding it.
struct WordIndex {
    files: Vec<String>,
    /// word -> the byte range of its postings line in `text`.
    words: HashMap<String, (usize, usize)>,
    text: String,
}

/// A fast hash for the index's words, eight bytes at a time (Firefox's
/// FxHash; a tree crafted for collisions makes the build slower, not wrong).
#[derive(Default)]
struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x517cc1b727220a95);
    }
}

impl std::hash::Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().unwrap_or_default()));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
}

type Fx = std::hash::BuildHasherDefault<FxHasher>;

/// Append a number in decimal.
fn push_number(out: &mut String, mut n: u32) {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(buf[i..].iter().map(|&b| b as char));
}

/// Bumped when the index's layout changes.
const INDEX_FORMAT: &str = "patchbot-sources-index 1";

impl WordIndex {
    /// The base's index from the cache, else built from the base tree (and
    /// stored). None: the base cannot be read.
    fn load_or_build(from: &IndexFrom, srctree: &str) -> Option<WordIndex> {
        let name = format!("sources-index {srctree}");
        if let Some(text) = from
            .cache
            .load_raw(from.key, &name)
            .and_then(|b| String::from_utf8(b).ok())
        {
            if let Some(ix) = WordIndex::parse(text) {
                return Some(ix);
            }
        }
        let ix = WordIndex::build(from.base, srctree);
        let _ = from.cache.store_raw(from.key, &name, ix.text.as_bytes());
        Some(ix)
    }

    fn build(vfs: &dyn Vfs, srctree: &str) -> WordIndex {
        let files = source_files(vfs, srctree);
        let texts = vfs.read_many(&files);
        let mut postings: HashMap<Box<[u8]>, Vec<u32>, Fx> = HashMap::default();
        let mut kept = Vec::with_capacity(files.len());
        // a file's distinct runs first (a small set that stays in cache),
        // then one lookup in the big map for each
        let mut local: std::collections::HashSet<&[u8], Fx> = Default::default();
        for (f, b) in files.into_iter().zip(&texts) {
            let Ok(b) = b else { continue };
            let i = kept.len() as u32;
            // the maximal runs of identifier bytes (all ASCII, so a run of
            // the bytes is a run of the lossily decoded text too)
            local.clear();
            local.extend(
                b.split(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))
                    .filter(|r| !r.is_empty()),
            );
            for r in local.drain() {
                match postings.get_mut(r) {
                    Some(ps) => ps.push(i),
                    None => {
                        postings.insert(r.into(), vec![i]);
                    }
                }
            }
            kept.push(f);
        }
        let mut text = format!("{INDEX_FORMAT}\n{}\n", kept.len());
        for f in &kept {
            text.push_str(f);
            text.push('\n');
        }
        let mut entries: Vec<(Box<[u8]>, Vec<u32>)> = postings.into_iter().collect();
        entries.sort_unstable();
        let mut words = HashMap::with_capacity(entries.len());
        for (w, ps) in entries {
            // identifier runs are ASCII
            let w = String::from_utf8_lossy(&w).into_owned();
            text.push_str(&w);
            let from = text.len();
            let mut last = 0;
            for p in ps {
                text.push(' ');
                push_number(&mut text, p - last);
                last = p;
            }
            words.insert(w, (from, text.len()));
            text.push('\n');
        }
        WordIndex {
            files: kept,
            words,
            text,
        }
    }

    /// The stored form: a format line, the file count, the files one per
    /// line, then one line per word: the word and its files' indices,
    /// delta-encoded. None: not this format (or damaged).
    fn parse(text: String) -> Option<WordIndex> {
        let mut lines = text.split_inclusive('\n');
        if lines.next()?.trim_end() != INDEX_FORMAT {
            return None;
        }
        let n: usize = lines.next()?.trim_end().parse().ok()?;
        let mut files = Vec::with_capacity(n);
        for _ in 0..n {
            let l = lines.next()?;
            files.push(l.strip_suffix('\n')?.to_string());
        }
        let mut words = HashMap::new();
        let mut at = text.len() - lines.clone().map(str::len).sum::<usize>();
        for l in lines {
            let body = l.strip_suffix('\n')?;
            let (w, _) = body.split_once(' ')?;
            words.insert(w.to_string(), (at + w.len(), at + body.len()));
            at += l.len();
        }
        Some(WordIndex { files, words, text })
    }

    /// The files holding `word` as a maximal identifier run.
    fn files_with(&self, word: &str) -> Vec<&str> {
        let Some(&(s, e)) = self.words.get(word) else {
            return Vec::new();
        };
        let mut at = 0usize;
        self.text[s..e]
            .split_whitespace()
            .filter_map(|d| {
                at += d.parse::<usize>().ok()?;
                self.files.get(at).map(String::as_str)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_run_stands_for_a_word() {
        assert_eq!(rarest_part(".bug_frames.0"), Some("bug_frames"));
        assert_eq!(rarest_part("CONFIG_X"), Some("CONFIG_X"));
        assert_eq!(rarest_part("."), None);
    }

    #[test]
    fn an_index_round_trips_and_finds_whole_runs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("xen/arch/x86")).unwrap();
        std::fs::write(dir.path().join("xen/a.c"), "int foo_bar; x9y").unwrap();
        std::fs::write(
            dir.path().join("xen/arch/x86/b.S"),
            ".section .text.foo, \"ax\"\nfoo_bar:",
        )
        .unwrap();
        std::fs::write(dir.path().join("xen/c.txt"), "foo_bar").unwrap();
        let vfs = crate::tree::vfs::DirVfs::new(dir.path()).unwrap();
        let ix = WordIndex::build(&vfs, "xen");
        let again = WordIndex::parse(ix.text.clone()).unwrap();
        for w in ["foo_bar", "text", "foo", "x9y", "section"] {
            assert_eq!(ix.files_with(w), again.files_with(w), "{w}");
        }
        assert_eq!(ix.files_with("foo_bar"), ["xen/a.c", "xen/arch/x86/b.S"]);
        assert_eq!(ix.files_with("foo"), ["xen/arch/x86/b.S"]);
        assert_eq!(ix.files_with("x9y"), ["xen/a.c"]);
        // not a whole run anywhere
        assert!(ix.files_with("bar").is_empty());
        // a damaged index is refused
        assert!(WordIndex::parse("patchbot-sources-index 1\n5\nxen/a.c\n".into()).is_none());
    }
}
