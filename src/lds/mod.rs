//! Linker scripts: the C preprocessor (assembler-with-cpp mode, with provenance
//! for every output token) and the GNU ld script parser. Issue 5.
//!
//! * `cpp`: `xen.lds.S` and its headers, read only through a [`crate::tree::vfs::Vfs`],
//!   preprocessed as `gcc -E -P -x assembler-with-cpp` would.
//! * `script`: the preprocessed text parsed into output sections and statements,
//!   each with its byte span in that text (mapped back to source lines through
//!   `cpp`'s provenance).

pub mod cpp;
pub mod script;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::config::{ArchProfile, LdsRecipe, Profile, ToolchainConfig};
use crate::tree::vfs::{OverlayVfs, Vfs};

/// The built-in compiler predefines tables (`scripts/cpp-predefines.py`).
const BUILTIN_PREDEFINES: &[(&str, &str)] = &[("gcc-12", include_str!("predefines/gcc-12.toml"))];

type Table = BTreeMap<String, BTreeMap<String, String>>;

fn builtin_tables() -> &'static BTreeMap<&'static str, Table> {
    static TABLES: OnceLock<BTreeMap<&'static str, Table>> = OnceLock::new();
    TABLES.get_or_init(|| {
        BUILTIN_PREDEFINES
            .iter()
            .map(|(name, text)| {
                let t: Table = toml::from_str(text).expect("a built-in predefines table parses");
                (*name, t)
            })
            .collect()
    })
}

/// The predefines of a built-in table for a target, in name order.
pub fn builtin_predefines(table: &str, target: &str) -> Option<Vec<(String, String)>> {
    builtin_tables()
        .get(table)?
        .get(target)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

/// One architecture's linker script, preprocessed and parsed.
#[derive(Debug, Clone)]
pub struct Built {
    /// The script's tree path.
    pub script: String,
    /// The preprocessor's output, with provenance.
    pub cpp: cpp::CppOutput,
    /// The parsed script, or why it does not parse.
    pub parsed: Result<script::Script, script::ParseError>,
}

impl Built {
    /// Where (file, line, macro chain) the preprocessed text at `offset` came from.
    pub fn origin(&self, offset: usize) -> Option<&cpp::Origin> {
        self.cpp.origin_near(offset)
    }
}

/// Why an architecture's script could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("the profile has no linker-script recipe ([profiles.NAME.lds])")]
    NoRecipe,
    #[error("toolchain predefines table {0:?} is not built in (known: gcc-12)")]
    NoPredefines(String),
    #[error("{0}")]
    Cpp(#[from] cpp::CppError),
    #[error("{0}")]
    Tree(String),
}

fn arch_path(profile: &Profile, arch: &ArchProfile, p: &str) -> String {
    profile.tree_path(&p.replace("{srcarch}", &arch.srcarch))
}

fn define(d: &str) -> cpp::Define {
    match d.strip_prefix("-U") {
        Some(name) => cpp::Define::Undef(name.to_string()),
        None => cpp::Define::Define(d.strip_prefix("-D").unwrap_or(d).to_string()),
    }
}

/// The preprocessor options of the recipe for one architecture.
pub fn options(
    profile: &Profile,
    recipe: &LdsRecipe,
    toolchain: &ToolchainConfig,
    arch: &ArchProfile,
) -> Result<cpp::CppOptions, BuildError> {
    let predefines = match (&toolchain.predefines, &arch.target) {
        (Some(table), Some(target)) => builtin_predefines(table, target)
            .ok_or_else(|| BuildError::NoPredefines(format!("{table}/{target}")))?,
        _ => Vec::new(),
    };
    Ok(cpp::CppOptions {
        include_dirs: recipe
            .include_dirs
            .iter()
            .map(|d| arch_path(profile, arch, d))
            .collect(),
        forced_includes: recipe
            .forced_includes
            .iter()
            .map(|f| arch_path(profile, arch, f))
            .collect(),
        defines: recipe
            .defines
            .iter()
            .chain(&arch.lds_defines)
            .map(|d| define(d))
            .collect(),
        predefines,
        ..Default::default()
    })
}

/// Preprocess and parse an architecture's linker script as the tree's build
/// would, with `autoconf_h` (the Kconfig result) and the recipe's stubs laid
/// over the tree. Reads only through `vfs`.
pub fn build(
    vfs: &dyn Vfs,
    profile: &Profile,
    toolchain: &ToolchainConfig,
    arch: &ArchProfile,
    autoconf_h: &str,
) -> Result<Built, BuildError> {
    let recipe = profile.lds.as_ref().ok_or(BuildError::NoRecipe)?;
    let mut view = OverlayVfs::new(vfs);
    view.add(
        &arch_path(profile, arch, &recipe.autoconf),
        autoconf_h.as_bytes().to_vec(),
    )
    .map_err(|e| BuildError::Tree(e.to_string()))?;
    for (path, text) in &recipe.stubs {
        view.add(&arch_path(profile, arch, path), text.as_bytes().to_vec())
            .map_err(|e| BuildError::Tree(e.to_string()))?;
    }
    let opts = options(profile, recipe, toolchain, arch)?;
    let script_path = arch_path(profile, arch, &recipe.script);
    // (no CppCache: it is keyed by path, and the laid-over autoconf.h differs
    // between architectures and variants)
    let out = cpp::preprocess(&view, &script_path, &opts)?;
    let parsed = script::parse(&out.text);
    Ok(Built {
        script: script_path,
        cpp: out,
        parsed,
    })
}
