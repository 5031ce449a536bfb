//! The outputs a series can change, for the base and the patched tree: per
//! architecture × variant, the Kconfig result and the preprocessed, parsed
//! linker script.
//!
//! An output of the patched tree whose inputs the series does not touch is the
//! base's: the inputs are every file a result read (Kconfig files sourced, the
//! defconfig, the makefile the environment comes from, headers included) and
//! every path looked for and not found (a new header earlier on the include
//! path would change the output); a linker script depends on its
//! architecture's Kconfig inputs too. Reads only through the `Vfs`es it is
//! given.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::cache::{BaseKey, Cache};
use crate::config::{Profile, ToolchainConfig};
use crate::kconfig::Evaluation;
use crate::lds::Built;
use crate::tree::vfs::Vfs;

/// One architecture × variant of one tree.
#[derive(Debug, Clone)]
pub struct Output {
    pub arch: String,
    pub variant: String,
    pub kconfig: Evaluation,
    /// The linker script, or why it could not be built (None: the profile has
    /// no linker scripts).
    pub lds: Option<Result<Built, String>>,
}

impl Output {
    /// Every path this output depends on (read, or looked for and not found).
    pub fn inputs(&self) -> BTreeSet<&str> {
        let mut s: BTreeSet<&str> = self.kconfig.files.iter().map(String::as_str).collect();
        s.extend(self.kconfig.missing.iter().map(String::as_str));
        if let Some(Ok(b)) = &self.lds {
            s.extend(b.cpp.files_read.iter().map(String::as_str));
            s.extend(b.cpp.missing.iter().map(String::as_str));
            s.insert(b.script.as_str());
        }
        s
    }

    /// The parsed linker script, when there is one.
    pub fn script(&self) -> Option<&crate::lds::script::Script> {
        match &self.lds {
            Some(Ok(b)) => b.parsed.as_ref().ok(),
            _ => None,
        }
    }

    /// A Kconfig symbol's value (None: not written).
    pub fn symbol(&self, name: &str) -> Option<&str> {
        self.kconfig.symbols.get(name).and_then(|v| v.as_deref())
    }
}

/// What happened to an output of the patched tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum How {
    /// Computed for this tree.
    Built,
    /// The base's, as the series touches none of its inputs.
    Reused,
}

/// Every output of one tree.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    pub outputs: Vec<Output>,
    /// How each output was had (for the patched tree), in the same order.
    pub how: Vec<How>,
    /// Architectures the tree does not have, and other notes.
    pub notes: Vec<String>,
    /// How the on-disk cache served (None: no cache was used).
    pub cache: Option<CacheUse>,
}

/// What the on-disk cache of base results did for one tree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CacheUse {
    /// Outputs read from the cache.
    pub hits: usize,
    /// Outputs built (and stored).
    pub misses: usize,
    /// Why storing failed, if it did (the review goes on without).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_error: Option<String>,
}

impl Outputs {
    pub fn get(&self, arch: &str, variant: &str) -> Option<&Output> {
        self.outputs
            .iter()
            .find(|o| o.arch == arch && o.variant == variant)
    }
}

/// The variants of a profile, in name order.
fn variants(profile: &Profile) -> Vec<(&str, &str)> {
    profile
        .variants
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// Evaluate one architecture (every variant) and build its linker scripts.
fn build_arch(
    vfs: &dyn Vfs,
    profile: &Profile,
    toolchain: &ToolchainConfig,
    arch: &crate::config::ArchProfile,
    only: Option<&str>,
) -> Result<Option<Vec<Output>>, String> {
    let all = variants(profile);
    let wanted: Vec<(&str, &str)> = all
        .into_iter()
        .filter(|(v, _)| only.is_none_or(|o| o == *v))
        .collect();
    let Some(evals) = crate::kconfig::evaluate(vfs, profile, toolchain, arch, &wanted)? else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(evals.len());
    for e in evals {
        // an architecture the tree has without a linker script yet (an early
        // port) has no script output, which is not a failure
        let has_script = profile.lds.as_ref().is_some_and(|r| {
            vfs.exists(&profile.tree_path(&r.script.replace("{srcarch}", &arch.srcarch)))
        });
        let lds = has_script.then(|| {
            crate::lds::build(vfs, profile, toolchain, arch, &e.autoconf)
                .map_err(|err| err.to_string())
        });
        out.push(Output {
            arch: arch.name.clone(),
            variant: e.variant.clone(),
            kconfig: e,
            lds,
        });
    }
    Ok(Some(out))
}

/// Every output of a tree.
pub fn build(
    vfs: &dyn Vfs,
    profile: &Profile,
    toolchain: &ToolchainConfig,
) -> Result<Outputs, String> {
    build_cached(vfs, profile, toolchain, None)
}

/// Every output of a tree, read from `cache` where it holds them under `key`
/// (an architecture is read only when every variant is there) and stored
/// there when built.
pub fn build_cached(
    vfs: &dyn Vfs,
    profile: &Profile,
    toolchain: &ToolchainConfig,
    cache: Option<(&Cache, &BaseKey)>,
) -> Result<Outputs, String> {
    let mut r = Outputs {
        cache: cache.map(|_| CacheUse::default()),
        ..Default::default()
    };
    for a in &profile.arches {
        if let Some((c, key)) = cache {
            let hit: Option<Vec<Output>> = variants(profile)
                .iter()
                .map(|(v, _)| c.load(key, &a.name, v))
                .collect();
            if let Some(o) = hit {
                if let Some(u) = r.cache.as_mut() {
                    u.hits += o.len();
                }
                r.how.extend(o.iter().map(|_| How::Built));
                r.outputs.extend(o);
                continue;
            }
        }
        let built =
            build_arch(vfs, profile, toolchain, a, None).map_err(|e| format!("{}: {e}", a.name))?;
        if let (Some((c, key)), Some(o), Some(u)) = (cache, &built, r.cache.as_mut()) {
            u.misses += o.len();
            for out in o {
                if let Err(e) = c.store(key, out) {
                    u.write_error
                        .get_or_insert_with(|| format!("{}: {e}", c.dir().display()));
                }
            }
        }
        match built {
            None => r.notes.push(format!(
                "{} skipped: the tree has no {} or no {}",
                a.name,
                profile.tree_path(&format!("arch/{}/Kconfig", a.srcarch)),
                profile.tree_path(&a.defconfig)
            )),
            Some(o) => {
                r.how.extend(o.iter().map(|_| How::Built));
                r.outputs.extend(o);
            }
        }
    }
    Ok(r)
}

/// The patched tree's outputs: the base's where the series touches none of an
/// output's inputs (`touched`: every path the series adds, changes, deletes or
/// renames, old and new names), built anew otherwise. An architecture the base
/// does not have is built from scratch.
pub fn rebuild(
    patched: &dyn Vfs,
    profile: &Profile,
    toolchain: &ToolchainConfig,
    base: &Outputs,
    touched: &BTreeSet<String>,
) -> Result<Outputs, String> {
    let mut r = Outputs::default();
    for a in &profile.arches {
        let mine: Vec<&Output> = base.outputs.iter().filter(|o| o.arch == a.name).collect();
        // the Kconfig inputs are shared by the variants: any touched input
        // rebuilds the architecture
        let stale = mine.is_empty()
            || mine
                .iter()
                .any(|o| o.inputs().iter().any(|p| touched.contains(*p)));
        if !stale {
            r.outputs.extend(mine.iter().map(|o| (*o).clone()));
            r.how.extend(mine.iter().map(|_| How::Reused));
            continue;
        }
        match build_arch(patched, profile, toolchain, a, None)
            .map_err(|e| format!("{}: {e}", a.name))?
        {
            None => r.notes.push(format!(
                "{} skipped: the patched tree does not have it",
                a.name
            )),
            Some(o) => {
                r.how.extend(o.iter().map(|_| How::Built));
                r.outputs.extend(o);
            }
        }
    }
    Ok(r)
}
