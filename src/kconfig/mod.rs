//! Kconfig: the language, parsed and (later) evaluated per architecture, without
//! running anything.
//!
//! * [`macros`]: the macro language; `$(shell,...)` and the probe macros are
//!   answered by a [`macros::Toolchain`], never run.
//! * [`parse`]: lexer and parser into [`parse::Node`]s with locations, reading
//!   files only through the confined [`crate::tree::vfs::Vfs`].
//!
//! * [`eval`]: `conf` semantics and the `.config`/`autoconf.h` writers.
//!
//! The toolchain tables, the tree profiles and the `kconfig` command are still to
//! come (issue 4).

pub mod conf;
pub mod eval;
pub mod macros;
pub mod parse;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::{ArchProfile, Profile, ToolchainConfig};
use crate::tree::vfs::Vfs;

/// A toolchain answered from a profile's tables (`[toolchains.NAME]`).
pub struct TableToolchain<'a> {
    pub table: &'a ToolchainConfig,
    /// The target's own answers, looked up first.
    pub target: Option<&'a crate::config::TargetAnswers>,
}

impl macros::Toolchain for TableToolchain<'_> {
    fn probe(&self, name: &str, args: &[String]) -> Option<macros::Answer> {
        let positive = match name {
            "success" | "cc-option" | "ld-option" | "as-instr" | "as-option" | "rustc-option" => {
                true
            }
            "failure" => false,
            _ => return None,
        };
        let key = format!("{name},{}", args.first().map(|a| a.trim()).unwrap_or(""));
        if let Some(v) = self
            .target
            .and_then(|t| t.probes.get(&key))
            .or_else(|| self.table.probes.get(&key))
        {
            return Some(macros::Answer {
                value: v.clone(),
                guessed: false,
            });
        }
        let d = self.table.probe_default.as_str();
        let v = if positive {
            d
        } else if d == "y" {
            "n"
        } else {
            "y"
        };
        Some(macros::Answer {
            value: v.to_string(),
            guessed: true,
        })
    }

    fn shell(&self, cmd: &str) -> macros::Answer {
        let cmd = cmd.trim();
        match self
            .target
            .and_then(|t| t.shell.get(cmd))
            .or_else(|| self.table.shell.get(cmd))
        {
            Some(v) => macros::Answer {
                value: v.clone(),
                guessed: false,
            },
            None => macros::Answer {
                value: String::new(),
                guessed: true,
            },
        }
    }
}

/// One architecture × variant evaluated.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub arch: String,
    pub variant: String,
    /// The `.config` text.
    pub config: String,
    /// The `autoconf.h` text (what the tree's C and linker scripts include).
    #[serde(skip)]
    pub autoconf: String,
    /// Where each symbol is first defined (`config NAME` line).
    #[serde(skip)]
    pub defined_at: BTreeMap<String, parse::Loc>,
    /// Each symbol's type.
    #[serde(skip)]
    pub types: BTreeMap<String, &'static str>,
    /// Every symbol: its value, or null when it is not written.
    pub symbols: BTreeMap<String, Option<String>>,
    /// The int/hex symbols whose value comes only from their `range` (no
    /// user value, no active default): how NR_CPUS once became 1.
    #[serde(skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub range_only: std::collections::BTreeSet<String>,
    /// Overlay assignments that did not take effect: (symbol, wanted, got).
    pub overlay_misses: Vec<(String, String, Option<String>)>,
    /// Toolchain questions answered with a declared default, not from the table.
    pub guessed: Vec<String>,
    /// Files read, and files looked for and not found.
    pub files: Vec<String>,
    pub missing: Vec<String>,
    pub warnings: Vec<String>,
}

/// Evaluate one architecture of a tree through `vfs`, for each of `variants`
/// (name, overlay fragment). The Kconfig files are parsed once per architecture;
/// each variant starts from the same defconfig. `Ok(None)`: the tree does not
/// have this architecture (no `arch/SRCARCH/Kconfig` or no defconfig).
pub fn evaluate(
    vfs: &dyn Vfs,
    profile: &Profile,
    toolchain: &ToolchainConfig,
    arch: &ArchProfile,
    variants: &[(&str, &str)],
) -> Result<Option<Vec<Evaluation>>, String> {
    if !vfs.exists(&profile.tree_path(&format!("arch/{}/Kconfig", arch.srcarch))) {
        return Ok(None);
    }
    let mut found = None;
    for d in std::iter::once(&arch.defconfig).chain(&arch.defconfig_fallbacks) {
        let path = profile.tree_path(d);
        match crate::tree::vfs::read_in_tree(vfs, &path) {
            Ok(b) => {
                found = Some((path, String::from_utf8_lossy(&b).into_owned()));
                break;
            }
            Err(crate::tree::vfs::VfsError::NotFound(_)) => {}
            Err(e) => return Err(format!("{}: {e}", arch.name)),
        }
    }
    let Some((defconfig_path, defconfig)) = found else {
        return Ok(None);
    };
    let mut env = profile.env.clone();
    let mut files = Vec::new();
    if let Some(mk) = &profile.env_from_makefile {
        if let Ok(bytes) = vfs.read(mk) {
            env.extend(makefile_vars(&String::from_utf8_lossy(&bytes)));
            files.push(mk.clone());
        }
    }
    env.insert("SRCARCH".into(), arch.srcarch.clone());
    env.insert("ARCH".into(), arch.name.clone());
    env.insert("srctree".into(), ".".into());
    env.extend(arch.env.clone());
    let tc = TableToolchain {
        table: toolchain,
        target: arch.target.as_ref().and_then(|t| toolchain.targets.get(t)),
    };
    let dialect = if profile.dialect == "xen" {
        parse::Dialect::Xen
    } else {
        parse::Dialect::Linux61
    };
    let parser = parse::Parser::new(vfs, macros::Macros::new(&tc, env), dialect)
        .with_srctree(&profile.srctree);
    let parsed = parser.parse(&profile.kconfig).map_err(|e| e.to_string())?;
    files.extend(parsed.inputs.files.iter().cloned());
    files.push(defconfig_path);
    let base = eval::Kconfig::new(&parsed);
    let mut defined_at = BTreeMap::new();
    fn walk(nodes: &[parse::Node], out: &mut BTreeMap<String, parse::Loc>) {
        for n in nodes {
            match n {
                parse::Node::Config(e) => {
                    if let Some(l) = &e.loc {
                        out.entry(e.name.clone()).or_insert_with(|| l.clone());
                    }
                }
                parse::Node::Choice { children, .. }
                | parse::Node::Menu { children, .. }
                | parse::Node::If { children, .. } => walk(children, out),
                _ => {}
            }
        }
    }
    walk(&parsed.nodes, &mut defined_at);
    // conf refuses such a tree (status 1); the values below are what our
    // evaluator makes of it, and the report goes with every variant
    let cycles = base.recursive_dependencies();
    let mut out = Vec::with_capacity(variants.len());
    for (variant, overlay) in variants {
        let overlay = overlay.replace("\\n", "\n");
        let overlay = if overlay.is_empty() || overlay.ends_with('\n') {
            overlay
        } else {
            format!("{overlay}\n")
        };
        let mut k = base.clone();
        k.read_config(&format!("{defconfig}\n{overlay}"));
        k.evaluate();
        let mut warnings = parsed.warnings.clone();
        warnings.extend(cycles.iter().map(|c| c.trim_end().to_string()));
        warnings.extend(k.warnings.iter().cloned());
        warnings.extend(base.menu_warnings.iter().cloned());
        warnings.extend(k.unmet_dependencies().iter().map(|w| w.trim().to_string()));
        out.push(Evaluation {
            arch: arch.name.clone(),
            variant: variant.to_string(),
            config: k.config_text(),
            autoconf: k.autoconf_text(),
            symbols: k.symbols(),
            range_only: k.range_only_symbols(),
            overlay_misses: k.overlay_misses(&overlay),
            guessed: parsed.guessed.clone(),
            defined_at: defined_at.clone(),
            types: base.symbol_types(),
            files: files.clone(),
            missing: parsed.inputs.missing.clone(),
            warnings,
        });
    }
    Ok(Some(out))
}

/// Simple variable assignments of a makefile (`[export] NAME [?:]= value`),
/// with `$(NAME)` references between them expanded (unknown ones are empty, as
/// in make). Conditionals and functions are not interpreted.
pub fn makefile_vars(text: &str) -> BTreeMap<String, String> {
    let mut raw: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        let l = line.trim();
        let l = l.strip_prefix("export ").unwrap_or(l).trim_start();
        let name_end = l
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(l.len());
        if name_end == 0 {
            continue;
        }
        let (name, rest) = l.split_at(name_end);
        let rest = rest.trim_start();
        let value = if let Some(v) = rest.strip_prefix("?=") {
            if raw.contains_key(name) {
                continue;
            }
            v
        } else if let Some(v) = rest.strip_prefix(":=").or_else(|| rest.strip_prefix('=')) {
            v
        } else {
            continue;
        };
        raw.insert(name.to_string(), value.trim().to_string());
    }
    fn expand(v: &str, raw: &BTreeMap<String, String>, depth: usize) -> String {
        if depth > 16 {
            return String::new();
        }
        let mut out = String::new();
        let mut rest = v;
        while let Some(i) = rest.find("$(") {
            out.push_str(&rest[..i]);
            let Some(j) = rest[i..].find(')') else {
                out.push_str(&rest[i..]);
                return out;
            };
            let name = &rest[i + 2..i + j];
            out.push_str(
                &raw.get(name)
                    .map(|x| expand(x, raw, depth + 1))
                    .unwrap_or_default(),
            );
            rest = &rest[i + j + 1..];
        }
        out.push_str(rest);
        out
    }
    raw.iter()
        .map(|(k, v)| (k.clone(), expand(v, &raw, 0)))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn makefile_variables() {
        let v = super::makefile_vars(
            "export XEN_VERSION       = 4\nexport XEN_SUBVERSION    = 23\nexport XEN_EXTRAVERSION ?= -unstable$(XEN_VENDORVERSION)\nexport XEN_FULLVERSION   = $(XEN_VERSION).$(XEN_SUBVERSION)$(XEN_EXTRAVERSION)\nifeq ($(X),y)\n",
        );
        assert_eq!(v["XEN_FULLVERSION"], "4.23-unstable");
    }
}
