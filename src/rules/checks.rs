//! The check kinds. Each takes its rule's parameters and the review's
//! [`Context`], and returns the findings on the patched tree and, where the
//! check is about a tree's state rather than about the series' added lines, on
//! the base tree (so the caller can set apart what was there before).

use std::collections::{BTreeMap, BTreeSet};

use super::{fill, fingerprint, Check, Finding, Location, PatchLocation, Rule};
use crate::diff::FileDiff;
use crate::lds::script::Statement;
use crate::rebuild::{Output, Outputs};

/// One patch of the series, as the checks see it.
#[derive(Debug, Clone)]
pub struct PatchDiff {
    pub counter: u32,
    pub message_id: Option<String>,
    pub files: Vec<FileDiff>,
}

/// What the checks look at.
pub struct Context<'a> {
    pub base: &'a Outputs,
    pub patched: &'a Outputs,
    pub patches: &'a [PatchDiff],
}

impl Context<'_> {
    /// Every path the series touches (old and new names).
    pub fn touched(&self) -> BTreeSet<&str> {
        let mut s = BTreeSet::new();
        for p in self.patches {
            for f in &p.files {
                s.extend(f.old_path.as_deref());
                s.extend(f.new_path.as_deref());
            }
        }
        s
    }
}

/// Run one rule: (findings on the patched tree, findings on the base tree).
pub fn run(rule: &Rule, ctx: &Context) -> (Vec<Finding>, Vec<Finding>) {
    match &rule.check {
        Check::SectionEndAlign {
            section,
            per_function,
            symbol,
        } => (
            section_end_align(rule, ctx.patched, section, per_function, symbol),
            section_end_align(rule, ctx.base, section, per_function, symbol),
        ),
        Check::MissingValue {
            section,
            pattern,
            uses_in,
        } => (
            missing_value(rule, ctx, section, pattern, uses_in),
            Vec::new(),
        ),
        Check::UnknownConfigSymbol { prefix } => (unknown_symbol(rule, ctx, prefix), Vec::new()),
    }
}

/// The source location of a byte of an output's preprocessed script.
fn located(o: &Output, offset: usize) -> Option<Location> {
    let Some(Ok(b)) = &o.lds else { return None };
    let origin = b.origin(offset)?;
    Some(Location {
        file: origin.file.clone(),
        line: origin.line,
        via: origin
            .expansion
            .iter()
            .map(|e| format!("{}@{}:{}", e.macro_name, e.file, e.line))
            .collect(),
    })
}

/// The preprocessed text of a statement.
fn text_of<'o>(o: &'o Output, st: &Statement) -> &'o str {
    match &o.lds {
        Some(Ok(b)) => b
            .cpp
            .text
            .get(st.span.start..st.span.end)
            .unwrap_or_default(),
        _ => "",
    }
}

fn int_value(v: &str) -> Option<u64> {
    match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => v.parse().ok(),
    }
}

/// What follows an output's per-function description in `section`.
struct Closing<'o> {
    /// The per-function description.
    desc: &'o Statement,
    /// The first live statement after it, if any.
    next: Option<&'o Statement>,
}

fn closing<'o>(o: &'o Output, section: &str, per_function: &str) -> Option<Closing<'o>> {
    let script = o.script()?;
    let s = script.output_section(section)?;
    let (i, d) = s.find_input(per_function)?;
    if d.dead {
        return None;
    }
    let desc = &s.statements[i];
    let next = s.first_live_statement_after(i).map(|(_, st)| st);
    Some(Closing { desc, next })
}

/// Whether an ALIGN argument came through the symbol's macro (the script wrote
/// `ALIGN(CONFIG_X)`, or a macro that expands to it).
fn through_symbol(o: &Output, st: &Statement, macro_name: &str) -> bool {
    let Some(arg) = st.as_align_assignment() else {
        return false;
    };
    let Some(Ok(b)) = &o.lds else { return false };
    (arg.span.start..arg.span.end.max(arg.span.start + 1)).any(|off| {
        b.origin(off)
            .is_some_and(|org| org.expansion.iter().any(|e| e.macro_name == macro_name))
    })
}

fn section_end_align(
    rule: &Rule,
    tree: &Outputs,
    section: &str,
    per_function: &str,
    symbol: &str,
) -> Vec<Finding> {
    let macro_name = format!("CONFIG_{symbol}");
    // the convention: some output closes its per-function sections with the symbol
    let established = tree.outputs.iter().any(|o| {
        closing(o, section, per_function)
            .and_then(|c| c.next)
            .is_some_and(|n| through_symbol(o, n, &macro_name))
    });
    if !established {
        return Vec::new();
    }
    // (arch, script) -> (variants, location, evidence)
    let mut bad: BTreeMap<(String, String), (Vec<String>, Option<Location>, Vec<String>)> =
        BTreeMap::new();
    for o in &tree.outputs {
        let Some(c) = closing(o, section, per_function) else {
            continue;
        };
        let Some(value) = o.symbol(symbol).and_then(int_value) else {
            continue;
        };
        if value == 0 {
            continue;
        }
        let ok = c.next.is_some_and(|n| {
            n.as_align_assignment()
                .and_then(|a| a.eval_const())
                .is_some_and(|n| n != 0 && n % value == 0)
        });
        if ok {
            continue;
        }
        let script = match &o.lds {
            Some(Ok(b)) => b.script.clone(),
            _ => continue,
        };
        let loc = located(o, c.desc.span.start);
        let after = match c.next {
            Some(n) => {
                let l = located(o, n.span.start)
                    .map(|l| format!(" ({}:{})", l.file, l.line))
                    .unwrap_or_default();
                format!("`{}`{l}", text_of(o, n).trim())
            }
            None => "the end of the section".to_string(),
        };
        let e = bad
            .entry((o.arch.clone(), script))
            .or_insert_with(|| (Vec::new(), loc, Vec::new()));
        e.0.push(o.variant.clone());
        e.2.push(format!(
            "{} {}: {symbol} = {value}; after `{}` comes {after}",
            o.arch,
            o.variant,
            text_of(o, c.desc).trim()
        ));
    }
    bad.into_iter()
        .map(|((arch, script), (variants, loc, evidence))| {
            let mut vars = BTreeMap::new();
            vars.insert("arch", arch.clone());
            vars.insert("variants", variants.join(", "));
            vars.insert("symbol", symbol.to_string());
            vars.insert("section", section.to_string());
            vars.insert("pattern", per_function.to_string());
            vars.insert(
                "file",
                loc.as_ref().map(|l| l.file.clone()).unwrap_or_default(),
            );
            vars.insert(
                "line",
                loc.as_ref().map(|l| l.line.to_string()).unwrap_or_default(),
            );
            Finding {
                rule: rule.id.clone(),
                severity: rule.severity,
                arch: vec![arch.clone()],
                variant: variants,
                location: loc,
                patch: None,
                message: fill(&rule.message, &vars),
                evidence,
                fingerprint: fingerprint(&[&rule.id, &arch, &script, section]),
            }
        })
        .collect()
}

/// `CONFIG_X` words in a line: (X, byte offset).
fn config_words<'l>(line: &'l str, prefix: &str) -> Vec<&'l str> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = line[from..].find(prefix) {
        let at = from + i;
        let before_ok = at == 0 || !(b[at - 1].is_ascii_alphanumeric() || b[at - 1] == b'_');
        let start = at + prefix.len();
        let end = line[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(line.len(), |j| start + j);
        if before_ok && end > start {
            out.push(&line[start..end]);
        }
        from = end.max(at + 1);
    }
    out
}

/// A glob with `*` (any run, slashes included) and `?`, on a whole path or its
/// last component.
fn glob_match(pattern: &str, path: &str) -> bool {
    fn m(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => m(&p[1..], s) || (!s.is_empty() && m(p, &s[1..])),
            (Some(b'?'), Some(_)) => m(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => m(&p[1..], &s[1..]),
            _ => false,
        }
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    m(pattern.as_bytes(), path.as_bytes()) || m(pattern.as_bytes(), name.as_bytes())
}

fn missing_value(
    rule: &Rule,
    ctx: &Context,
    section: &str,
    pattern: &str,
    uses_in: &[String],
) -> Vec<Finding> {
    // the symbols the series starts using (in added lines of the files that count)
    let mut used: BTreeMap<String, PatchLocation> = BTreeMap::new();
    for p in ctx.patches {
        for f in &p.files {
            let path = f.path();
            if !uses_in.is_empty() && !uses_in.iter().any(|g| glob_match(g, path)) {
                continue;
            }
            for l in f.added() {
                for w in config_words(&l.text, "CONFIG_") {
                    used.entry(w.to_string()).or_insert_with(|| PatchLocation {
                        patch: p.counter,
                        message_id: p.message_id.clone(),
                        file: path.to_string(),
                        line: l.new.unwrap_or(0),
                        patch_line: l.patch_line,
                    });
                }
            }
        }
    }
    let defined: BTreeSet<&str> = ctx
        .patched
        .outputs
        .iter()
        .flat_map(|o| o.kconfig.symbols.keys().map(String::as_str))
        .collect();
    let mut out = Vec::new();
    for (symbol, at) in used {
        if !defined.contains(symbol.as_str()) {
            continue; // not a Kconfig symbol of this tree: another rule's business
        }
        // the values everywhere, for the evidence; an architecture carries the
        // pattern when any of its variants does (a pattern behind an #ifdef counts)
        let mut evidence = Vec::new();
        let mut carriers: BTreeSet<&str> = BTreeSet::new();
        for o in &ctx.patched.outputs {
            evidence.push(format!(
                "{} {}: {symbol} = {}",
                o.arch,
                o.variant,
                o.symbol(&symbol).unwrap_or("(no value)")
            ));
            let carries = o
                .script()
                .and_then(|s| s.output_section(section))
                .and_then(|s| s.find_input(pattern))
                .is_some();
            if carries {
                carriers.insert(o.arch.as_str());
            }
        }
        let mut arches: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for o in &ctx.patched.outputs {
            if carriers.contains(o.arch.as_str()) && o.symbol(&symbol).is_none() {
                arches
                    .entry(o.arch.as_str())
                    .or_default()
                    .push(o.variant.as_str());
            }
        }
        let loc = ctx
            .patched
            .outputs
            .iter()
            .find_map(|o| o.kconfig.defined_at.get(&symbol))
            .map(|l| Location {
                file: l.file.to_string(),
                line: l.line as u32,
                via: Vec::new(),
            });
        for (arch, variants) in arches {
            let mut vars = BTreeMap::new();
            vars.insert("arch", arch.to_string());
            vars.insert("variants", variants.join(", "));
            vars.insert("symbol", symbol.clone());
            vars.insert("section", section.to_string());
            vars.insert("pattern", pattern.to_string());
            vars.insert("file", at.file.clone());
            vars.insert("line", at.line.to_string());
            out.push(Finding {
                rule: rule.id.clone(),
                severity: rule.severity,
                arch: vec![arch.to_string()],
                variant: variants.iter().map(|v| v.to_string()).collect(),
                location: loc.clone(),
                patch: Some(at.clone()),
                message: fill(&rule.message, &vars),
                evidence: evidence.clone(),
                fingerprint: fingerprint(&[&rule.id, arch, &symbol]),
            });
        }
    }
    out
}

/// Damerau-Levenshtein distance at most 1 (one insertion, deletion,
/// substitution or transposition of neighbours).
fn one_edit(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a == b {
        return false;
    }
    match a.len() as isize - b.len() as isize {
        0 => {
            let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
            diff.len() == 1
                || (diff.len() == 2
                    && diff[1] == diff[0] + 1
                    && a[diff[0]] == b[diff[1]]
                    && a[diff[1]] == b[diff[0]])
        }
        1 | -1 => {
            let (long, short) = if a.len() > b.len() { (a, b) } else { (b, a) };
            (0..long.len()).any(|i| long[..i] == short[..i] && long[i + 1..] == short[i..])
        }
        _ => false,
    }
}

/// Identifiers of a line with their start offsets.
fn identifiers(line: &str) -> Vec<(usize, &str)> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_alphabetic() || b[i] == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push((start, &line[start..i]));
        } else {
            i += 1;
        }
    }
    out
}

/// The words of an added line that name a Kconfig symbol that is not there:
/// (the word as written, a suggestion). `CONFIG_X` with X undefined; the
/// argument of `IS_ENABLED()` and friends when it is not a `CONFIG_` symbol;
/// a misspelt prefix (`CONIFG_X`) in front of a symbol the tree defines.
fn unknown_words(
    line: &str,
    prefix: &str,
    known: &dyn Fn(&str) -> bool,
) -> Vec<(String, Option<String>)> {
    let stem = prefix.trim_end_matches('_');
    let ids = identifiers(line);
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for (k, &(start, w)) in ids.iter().enumerate() {
        if let Some(rest) = w.strip_prefix(prefix) {
            if !rest.is_empty() && !known(rest) {
                out.push((w.to_string(), None));
            }
            continue;
        }
        // IS_ENABLED(X): X must be a CONFIG_ symbol
        let is_macro = matches!(
            w,
            "IS_ENABLED" | "IS_BUILTIN" | "IS_MODULE" | "IS_REACHABLE"
        );
        if is_macro && line[start + w.len()..].trim_start().starts_with('(') {
            if let Some(&(_, arg)) = ids.get(k + 1) {
                if !arg.starts_with(prefix) {
                    let hint = arg
                        .split_once('_')
                        .filter(|(_, rest)| known(rest))
                        .map(|(_, rest)| format!("{prefix}{rest}"));
                    out.push((arg.to_string(), hint));
                }
            }
            continue;
        }
        // a misspelt prefix in front of a real symbol
        if let Some((head, rest)) = w.split_once('_') {
            if one_edit(head, stem) && known(rest) && !out.iter().any(|(x, _)| x == w) {
                out.push((w.to_string(), Some(format!("{prefix}{rest}"))));
            }
        }
    }
    out.dedup();
    out
}

fn unknown_symbol(rule: &Rule, ctx: &Context, prefix: &str) -> Vec<Finding> {
    let defined: BTreeSet<&str> = ctx
        .patched
        .outputs
        .iter()
        .flat_map(|o| o.kconfig.symbols.keys().map(String::as_str))
        .collect();
    if defined.is_empty() {
        return Vec::new(); // no Kconfig result to judge by
    }
    let known = |w: &str| {
        defined.contains(w)
            || w.strip_suffix("_MODULE")
                .is_some_and(|b| defined.contains(b))
    };
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for p in ctx.patches {
        for f in &p.files {
            let path = f.path();
            let name = path.rsplit('/').next().unwrap_or(path);
            if name.starts_with("Kconfig") {
                continue; // Kconfig files define symbols; CONFIG_ there is prose
            }
            // a word the patch also removes was there before
            let removed: BTreeSet<String> = f
                .hunks
                .iter()
                .flat_map(|h| h.lines.iter())
                .filter(|l| l.kind == '-')
                .flat_map(|l| unknown_words(&l.text, prefix, &known))
                .map(|(w, _)| w)
                .collect();
            for l in f.added() {
                for (w, hint) in unknown_words(&l.text, prefix, &known) {
                    if removed.contains(&w) || !seen.insert((path.to_string(), w.clone())) {
                        continue;
                    }
                    let line = l.new.unwrap_or(0);
                    let mut vars = BTreeMap::new();
                    vars.insert("word", w.clone());
                    vars.insert("symbol", w.strip_prefix(prefix).unwrap_or(&w).to_string());
                    vars.insert(
                        "hint",
                        hint.as_ref()
                            .map(|h| format!(" (did you mean {h}?)"))
                            .unwrap_or_default(),
                    );
                    vars.insert("file", path.to_string());
                    vars.insert("line", line.to_string());
                    out.push(Finding {
                        rule: rule.id.clone(),
                        severity: rule.severity,
                        arch: Vec::new(),
                        variant: Vec::new(),
                        location: Some(Location {
                            file: path.to_string(),
                            line,
                            via: Vec::new(),
                        }),
                        patch: Some(PatchLocation {
                            patch: p.counter,
                            message_id: p.message_id.clone(),
                            file: path.to_string(),
                            line,
                            patch_line: l.patch_line,
                        }),
                        message: fill(&rule.message, &vars),
                        evidence: vec![format!("+{}", l.text)],
                        fingerprint: fingerprint(&[&rule.id, path, &w]),
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_words_are_whole_words() {
        assert_eq!(
            config_words(
                "if (IS_ENABLED(CONFIG_A) && MY_CONFIG_B || CONFIG_C_2)",
                "CONFIG_"
            ),
            ["A", "C_2"]
        );
        assert!(config_words("CONFIG_", "CONFIG_").is_empty());
    }

    #[test]
    fn unknown_words_find_typos() {
        let known = |w: &str| matches!(w, "XEN_IBT" | "LIVEPATCH");
        let w = |l: &str| unknown_words(l, "CONFIG_", &known);
        assert_eq!(
            w("if ( IS_ENABLED(CONIFG_XEN_IBT) )"),
            [(
                "CONIFG_XEN_IBT".to_string(),
                Some("CONFIG_XEN_IBT".to_string())
            )]
        );
        assert_eq!(w("#ifdef CONFIG_LIVEPATCH"), []);
        assert_eq!(w("#ifdef CONFIG_NOPE"), [("CONFIG_NOPE".to_string(), None)]);
        assert_eq!(
            w("x = CONFG_LIVEPATCH;"),
            [(
                "CONFG_LIVEPATCH".to_string(),
                Some("CONFIG_LIVEPATCH".to_string())
            )]
        );
        // other identifiers that merely end in a symbol's name are left alone
        assert_eq!(w("MY_LIVEPATCH and HAVE_XEN_IBT"), []);
        assert!(one_edit("CONIFG", "CONFIG") && one_edit("CONFG", "CONFIG"));
        assert!(!one_edit("CONFIG", "CONFIG") && !one_edit("COFNGI", "CONFIG"));
    }

    #[test]
    fn globs() {
        assert!(glob_match("*.lds.S", "xen/arch/x86/xen.lds.S"));
        assert!(glob_match("Makefile", "xen/Makefile"));
        assert!(glob_match("xen/arch/*/xen.lds.S", "xen/arch/arm/xen.lds.S"));
        assert!(!glob_match("*.lds.h", "xen/arch/x86/xen.lds.S"));
    }
}
