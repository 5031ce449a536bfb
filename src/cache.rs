//! The on-disk cache of base results: one file per architecture × variant of a
//! base tree, so that a re-run, or the next series on the same base, rebuilds
//! only what the series touches.
//!
//! An entry is keyed by everything its output is computed from: the base's git
//! tree id, the profile (its name and every setting), the architecture and
//! variant, the toolchain answers, the rule set, and this build of patchbot
//! (its version and the executable's size and modification time, so a rebuilt
//! binary never reads a stale entry). The file is named by a hash of the key
//! and holds the whole key, compared on load: a hash collision is a miss, not a
//! wrong result. Entries are written atomically (a temporary file renamed into
//! place); an unreadable, truncated or foreign file is a miss and is replaced.
//! The cache is bounded: after a write, the least recently used entries go
//! until the directory is under its size limit. Nothing in it is trusted more
//! than the tree: a hit is exactly what building would give.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::{Profile, ToolchainConfig};
use crate::kconfig::parse::Loc;
use crate::kconfig::Evaluation;
use crate::lds::{cpp::CppOutput, script, Built};
use crate::rebuild::Output;

/// Bumped when an entry's layout or meaning changes.
const FORMAT: u32 = 1;

/// Where base results are kept.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    max_bytes: u64,
}

/// What the key of an entry is made of, but for the architecture and variant.
#[derive(Debug, Clone)]
pub struct BaseKey {
    /// The key text shared by every entry of one base (a JSON object).
    common: String,
}

impl BaseKey {
    /// The key of a base tree's results under a profile, a toolchain and a
    /// rule set (`rules`: anything serializable that changes when a rule does).
    pub fn new(
        tree_id: &str,
        profile_name: &str,
        profile: &Profile,
        toolchain: &ToolchainConfig,
        rules: &impl Serialize,
    ) -> BaseKey {
        let common = serde_json::json!({
            "format": FORMAT,
            "patchbot": env!("CARGO_PKG_VERSION"),
            "build": build_id(),
            "tree": tree_id,
            "profile": profile_name,
            "profile_settings": profile,
            "toolchain": toolchain,
            "rules": rules,
        })
        .to_string();
        BaseKey { common }
    }

    fn entry(&self, arch: &str, variant: &str) -> String {
        format!(
            "{}\n{}\n{}",
            self.common,
            serde_json::Value::from(arch),
            serde_json::Value::from(variant)
        )
    }
}

/// This executable's identity: its size and modification time (empty when it
/// cannot be read, which still keys every entry to the version).
fn build_id() -> String {
    std::env::current_exe()
        .and_then(std::fs::metadata)
        .map(|m| {
            let t = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            format!("{}-{t}", m.len())
        })
        .unwrap_or_default()
}

/// 128-bit FNV-1a of a text, as 32 hex digits: stable across builds and
/// machines (file names here, idempotency keys in `post`). Not for secrets.
pub fn digest(text: &str) -> String {
    digest_bytes(text.as_bytes())
}

/// [`digest`] of bytes.
pub fn digest_bytes(bytes: &[u8]) -> String {
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for &b in bytes {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000000001000000000000000000013B);
    }
    format!("{h:032x}")
}

/// The file name of an entry's key.
fn name_of(key: &str) -> String {
    format!("{}.json", digest(key))
}

/// The file name ending of raw entries (outputs end in `.json`).
const RAW: &str = ".raw";

/// Whether a file in the directory is an entry (not a temporary file).
fn is_entry(e: &std::fs::DirEntry) -> bool {
    let n = e.file_name();
    let n = n.to_string_lossy();
    n.ends_with(".json") || n.ends_with(RAW)
}

/// One entry as stored.
#[derive(Serialize, Deserialize)]
struct Entry {
    key: String,
    output: OutputRecord,
}

#[derive(Serialize, Deserialize)]
struct OutputRecord {
    arch: String,
    variant: String,
    kconfig: EvalRecord,
    /// The preprocessed script (parsed again on load: parsing is cheap and
    /// deterministic), or why it could not be built.
    lds: Option<Result<LdsRecord, String>>,
}

#[derive(Serialize, Deserialize)]
struct LdsRecord {
    script: String,
    cpp: CppOutput,
}

/// Every field of an [`Evaluation`], the ones its JSON leaves out included.
#[derive(Serialize, Deserialize)]
struct EvalRecord {
    arch: String,
    variant: String,
    config: String,
    autoconf: String,
    defined_at: BTreeMap<String, (String, usize)>,
    types: BTreeMap<String, String>,
    symbols: BTreeMap<String, Option<String>>,
    range_only: std::collections::BTreeSet<String>,
    overlay_misses: Vec<(String, String, Option<String>)>,
    guessed: Vec<String>,
    files: Vec<String>,
    missing: Vec<String>,
    warnings: Vec<String>,
}

/// A symbol type's name as the evaluator spells it (None: not one).
fn type_name(t: &str) -> Option<&'static str> {
    ["bool", "tristate", "int", "hex", "string"]
        .into_iter()
        .find(|n| *n == t)
}

impl OutputRecord {
    fn of(o: &Output) -> OutputRecord {
        let e = &o.kconfig;
        OutputRecord {
            arch: o.arch.clone(),
            variant: o.variant.clone(),
            kconfig: EvalRecord {
                arch: e.arch.clone(),
                variant: e.variant.clone(),
                config: e.config.clone(),
                autoconf: e.autoconf.clone(),
                defined_at: e
                    .defined_at
                    .iter()
                    .map(|(k, l)| (k.clone(), (l.file.to_string(), l.line)))
                    .collect(),
                types: e
                    .types
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_string()))
                    .collect(),
                symbols: e.symbols.clone(),
                range_only: e.range_only.clone(),
                overlay_misses: e.overlay_misses.clone(),
                guessed: e.guessed.clone(),
                files: e.files.clone(),
                missing: e.missing.clone(),
                warnings: e.warnings.clone(),
            },
            lds: o.lds.as_ref().map(|r| {
                r.as_ref()
                    .map(|b| LdsRecord {
                        script: b.script.clone(),
                        cpp: b.cpp.clone(),
                    })
                    .map_err(Clone::clone)
            }),
        }
    }

    fn into_output(self) -> Option<Output> {
        let e = self.kconfig;
        // files interned as the parser does: one Arc per file
        let mut files: BTreeMap<String, Arc<str>> = BTreeMap::new();
        let defined_at = e
            .defined_at
            .into_iter()
            .map(|(k, (file, line))| {
                let file = files
                    .entry(file.clone())
                    .or_insert_with(|| Arc::from(file.as_str()))
                    .clone();
                (k, Loc { file, line })
            })
            .collect();
        let types = e
            .types
            .into_iter()
            .map(|(k, t)| Some((k, type_name(&t)?)))
            .collect::<Option<_>>()?;
        Some(Output {
            arch: self.arch,
            variant: self.variant,
            kconfig: Evaluation {
                arch: e.arch,
                variant: e.variant,
                config: e.config,
                autoconf: e.autoconf,
                defined_at,
                types,
                symbols: e.symbols,
                range_only: e.range_only,
                overlay_misses: e.overlay_misses,
                guessed: e.guessed,
                files: e.files,
                missing: e.missing,
                warnings: e.warnings,
            },
            lds: self.lds.map(|r| {
                r.map(|l| {
                    let parsed = script::parse(&l.cpp.text);
                    Built {
                        script: l.script,
                        cpp: l.cpp,
                        parsed,
                    }
                })
            }),
        })
    }
}

/// The directory base results go to by default: `$PATCHBOT_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/patchbot`, else `~/.cache/patchbot` (None: no home).
pub fn default_dir() -> Option<PathBuf> {
    let var = |n: &str| std::env::var_os(n).filter(|v| !v.is_empty());
    if let Some(d) = var("PATCHBOT_CACHE_DIR") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = var("XDG_CACHE_HOME").map(PathBuf::from) {
        if d.is_absolute() {
            return Some(d.join("patchbot"));
        }
    }
    var("HOME").map(|h| PathBuf::from(h).join(".cache/patchbot"))
}

impl Cache {
    /// A cache in `dir` holding at most about `max_bytes` (created on first write).
    pub fn new(dir: &Path, max_bytes: u64) -> Cache {
        Cache {
            dir: dir.to_path_buf(),
            max_bytes,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The stored output of one architecture × variant of a base, if there is
    /// one for exactly this key (anything else is a miss).
    pub fn load(&self, key: &BaseKey, arch: &str, variant: &str) -> Option<Output> {
        let k = key.entry(arch, variant);
        let path = self.dir.join(name_of(&k));
        let bytes = std::fs::read(&path).ok()?;
        let entry: Entry = serde_json::from_slice(&bytes).ok()?;
        if entry.key != k || entry.output.arch != arch || entry.output.variant != variant {
            return None;
        }
        let out = entry.output.into_output()?;
        // recently used: kept longest when the cache is trimmed
        if let Ok(f) = std::fs::File::options().append(true).open(&path) {
            let _ = f.set_modified(std::time::SystemTime::now());
        }
        Some(out)
    }

    /// Store one output of a base. Failing to write is not an error of the
    /// review: the error is returned for the caller to mention.
    pub fn store(&self, key: &BaseKey, output: &Output) -> std::io::Result<()> {
        let k = key.entry(&output.arch, &output.variant);
        let entry = Entry {
            key: k.clone(),
            output: OutputRecord::of(output),
        };
        let bytes = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
        self.write(&name_of(&k), &bytes)
    }

    /// Another kind of stored result of a base (`what` names it: a word index
    /// of its sources, ...): the bytes stored for exactly this key.
    pub fn load_raw(&self, key: &BaseKey, what: &str) -> Option<Vec<u8>> {
        let k = key.entry("#raw", what);
        let path = self.dir.join(name_of(&k).replace(".json", RAW));
        let bytes = std::fs::read(&path).ok()?;
        let (stored, rest) = bytes.split_at(bytes.iter().position(|&b| b == b'\n')?);
        if serde_json::from_slice::<String>(stored).ok()? != k {
            return None;
        }
        if let Ok(f) = std::fs::File::options().append(true).open(&path) {
            let _ = f.set_modified(std::time::SystemTime::now());
        }
        Some(rest[1..].to_vec())
    }

    /// Store bytes [`Cache::load_raw`] gives back.
    pub fn store_raw(&self, key: &BaseKey, what: &str, bytes: &[u8]) -> std::io::Result<()> {
        let k = key.entry("#raw", what);
        let mut data = serde_json::to_vec(&k).map_err(std::io::Error::other)?;
        data.push(b'\n');
        data.extend_from_slice(bytes);
        self.write(&name_of(&k).replace(".json", RAW), &data)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(&self.dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        tmp.write_all(bytes)?;
        tmp.persist(self.dir.join(name)).map_err(|e| e.error)?;
        self.trim();
        Ok(())
    }

    /// Remove the least recently used entries until the cache is under its
    /// size limit (errors ignored: another process may be trimming too).
    fn trim(&self) {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut entries: Vec<(std::time::SystemTime, u64, PathBuf)> = rd
            .flatten()
            .filter(is_entry)
            .filter_map(|e| {
                let m = e.metadata().ok()?;
                Some((m.modified().ok()?, m.len(), e.path()))
            })
            .collect();
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        if total <= self.max_bytes {
            return;
        }
        entries.sort();
        for (_, len, path) in entries {
            if total <= self.max_bytes {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
    }

    /// Remove every entry; how many were removed.
    pub fn clear(&self) -> std::io::Result<usize> {
        let rd = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut n = 0;
        for e in rd.flatten() {
            if is_entry(&e) {
                std::fs::remove_file(e.path())?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// The entries and their total size in bytes.
    pub fn usage(&self) -> (usize, u64) {
        std::fs::read_dir(&self.dir)
            .map(|rd| {
                rd.flatten()
                    .filter(is_entry)
                    .filter_map(|e| e.metadata().ok())
                    .fold((0, 0), |(n, s), m| (n + 1, s + m.len()))
            })
            .unwrap_or((0, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(tree: &str) -> BaseKey {
        let cfg = crate::config::Config::load(None).unwrap();
        let p = &cfg.profiles["xen"];
        BaseKey::new(tree, "xen", p, &cfg.toolchains[&p.toolchain], &"rules")
    }

    #[test]
    fn raw_entries_round_trip_for_their_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::new(dir.path(), 1 << 20);
        let (a, b) = (key("aaaa"), key("bbbb"));
        c.store_raw(&a, "index", b"one\ntwo").unwrap();
        assert_eq!(c.load_raw(&a, "index").as_deref(), Some(&b"one\ntwo"[..]));
        assert_eq!(c.load_raw(&b, "index"), None);
        assert_eq!(c.load_raw(&a, "other"), None);
        // a file holding another key under this key's name is a miss
        let name = name_of(&a.entry("#raw", "index")).replace(".json", RAW);
        let foreign = serde_json::to_vec(&b.entry("#raw", "index")).unwrap();
        std::fs::write(dir.path().join(&name), [&foreign[..], b"\nx"].concat()).unwrap();
        assert_eq!(c.load_raw(&a, "index"), None);
        assert_eq!(c.clear().unwrap(), 1);
    }

    #[test]
    fn the_least_recently_used_entries_go_first() {
        let dir = tempfile::tempdir().unwrap();
        let k = key("tree");
        let big = vec![b'x'; 10_000];
        let unbounded = Cache::new(dir.path(), u64::MAX);
        unbounded.store_raw(&k, "a", &big).unwrap();
        unbounded.store_raw(&k, "b", &big).unwrap();
        let (n, bytes) = unbounded.usage();
        assert_eq!(n, 2);
        // b older than a; then a read makes a the most recent anyway
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        let older = old - std::time::Duration::from_secs(3600);
        for (what, t) in [("a", older), ("b", old)] {
            let name = name_of(&k.entry("#raw", what)).replace(".json", RAW);
            let f = std::fs::File::options()
                .append(true)
                .open(dir.path().join(name))
                .unwrap();
            f.set_modified(t).unwrap();
        }
        assert!(unbounded.load_raw(&k, "a").is_some());
        // room for two entries: storing a third drops the least recent (b)
        let bounded = Cache::new(dir.path(), bytes + bytes / 4);
        bounded.store_raw(&k, "c", &big).unwrap();
        assert!(bounded.load_raw(&k, "a").is_some());
        assert!(bounded.load_raw(&k, "b").is_none());
        assert!(bounded.load_raw(&k, "c").is_some());
        assert_eq!(bounded.usage().0, 2);
    }
}
