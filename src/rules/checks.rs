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
    /// The patched tree, for checks that ask who produces a section.
    pub patched_vfs: Option<&'a dyn crate::tree::vfs::Vfs>,
    /// The Kconfig tree's root in the repository (`xen`; "" for Linux): files
    /// outside it belong to other build systems.
    pub srctree: &'a str,
    /// The patched tree's source files (`.c`, `.S`, `.h`), read when a check
    /// first asks who produces, uses or defines something.
    pub sources: super::sources::Sources<'a>,
}

/// Whether `word` stands in `text` as a whole identifier.
fn has_word(text: &str, word: &str) -> bool {
    let b = text.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    text.match_indices(word).any(|(i, _)| {
        let after = i + word.len();
        (i == 0 || !ident(b[i - 1])) && (after >= b.len() || !ident(b[after]))
    })
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
            arch_root,
        } => (
            missing_value(rule, ctx, section, pattern, uses_in, arch_root),
            Vec::new(),
        ),
        Check::UnknownConfigSymbol { prefix } => (unknown_symbol(rule, ctx, prefix), Vec::new()),
        Check::SiblingPattern {
            arch_root,
            producers_in,
        } => (sibling(rule, ctx, arch_root, producers_in), Vec::new()),
        Check::ShadowedInput {} => (shadowed(rule, ctx), Vec::new()),
    }
}

/// The source location of a byte of an output's preprocessed script: the line
/// of the script itself (where the outermost macro was used, when a macro
/// brought the text), the macros, and where the text was written.
fn located(o: &Output, offset: usize) -> Option<Location> {
    let Some(Ok(b)) = &o.lds else { return None };
    let origin = b.origin(offset)?;
    let via: Vec<String> = origin
        .expansion
        .iter()
        .map(|e| e.macro_name.to_string())
        .collect();
    Some(match origin.expansion.first() {
        Some(e) => Location {
            file: e.file.to_string(),
            line: e.line,
            via,
            written: Some(format!("{}:{}", origin.file, origin.line)),
        },
        None => Location {
            file: origin.file.to_string(),
            line: origin.line,
            via,
            written: None,
        },
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
            .is_some_and(|org| org.expansion.iter().any(|e| &*e.macro_name == macro_name))
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
    /// (arch, script) -> (variants, location, evidence)
    type Bad = BTreeMap<(String, String), (Vec<String>, Option<Location>, Vec<String>)>;
    let mut bad: Bad = BTreeMap::new();
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

/// The `CONFIG_X` of a line whose value is used: any in a linker script; in a
/// makefile or build flag only `=$(CONFIG_X)` (a value), not `obj-$(CONFIG_X)`,
/// `ifdef CONFIG_X` or `ifeq ($(CONFIG_X),y)` (a switch).
fn value_uses(line: &str, script: bool) -> Vec<&str> {
    if script {
        return config_words(line, "CONFIG_");
    }
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = line[from..].find("$(CONFIG_") {
        let at = from + i;
        let before = line[..at].trim_end();
        let start = at + "$(CONFIG_".len();
        let end = line[start..].find(')').map_or(line.len(), |j| start + j);
        if before.ends_with('=') || before.ends_with(',') && !before.contains("ifeq") {
            out.push(&line[start..end]);
        }
        from = end.min(line.len());
        if from <= at {
            break;
        }
    }
    out
}

/// A glob with `*` (any run, slashes included) and `?`, on a whole path or its
/// last component.
fn glob_match(pattern: &str, path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    crate::glob::matches(pattern, path) || crate::glob::matches(pattern, name)
}

/// Whether line `line` (1-based) of a makefile is inside a conditional that
/// names `CONFIG_symbol` (`ifdef CONFIG_X`, `ifeq ($(CONFIG_X),)`, ...), or
/// the line itself tests it (`$(if $(CONFIG_X),...)`).
fn make_guarded(text: &str, line: u32, symbol: &str) -> bool {
    let word = format!("CONFIG_{symbol}");
    let names = |l: &str| config_words(l, "CONFIG_").contains(&symbol);
    let mut open: Vec<bool> = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let t = l.trim_start();
        if i + 1 == line as usize {
            return open.iter().any(|g| *g) || t.contains(&format!("$(if $({word})"));
        }
        let first = t.split_whitespace().next().unwrap_or_default();
        match first {
            "ifdef" | "ifndef" | "ifeq" | "ifneq" => open.push(names(t)),
            // `else ifeq ...` tests another condition in the same block
            "else" => {
                if let Some(g) = open.last_mut() {
                    *g = *g || names(t);
                }
            }
            "endif" => {
                open.pop();
            }
            _ => {}
        }
    }
    false
}

/// The architecture directory a path is below (`xen/arch/x86/` for
/// `xen/arch/x86/Makefile` with root `xen/arch/`), if any.
fn arch_dir_of(path: &str, arch_root: &str) -> Option<String> {
    if arch_root.is_empty() {
        return None;
    }
    let rest = path.strip_prefix(arch_root)?;
    let (dir, _) = rest.split_once('/')?;
    Some(format!("{arch_root}{dir}/"))
}

/// Where an output's preprocessed linker script keeps `word` as a bare
/// identifier (a macro nothing defined): the location of its first such token.
fn bare_use(o: &Output, word: &str) -> Option<Location> {
    let Some(Ok(b)) = &o.lds else { return None };
    let text = b.cpp.text.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let (at, _) = b.cpp.text.match_indices(word).find(|(i, _)| {
        let after = i + word.len();
        (*i == 0 || !ident(text[i - 1])) && (after >= text.len() || !ident(text[after]))
    })?;
    located(o, at)
}

fn missing_value(
    rule: &Rule,
    ctx: &Context,
    section: &str,
    pattern: &str,
    uses_in: &[String],
    arch_root: &str,
) -> Vec<Finding> {
    // the symbols the series starts using (in added lines of the files that count)
    let mut used: BTreeMap<String, PatchLocation> = BTreeMap::new();
    // build-file uses outside any guard: symbol -> (file, line)
    let mut make_unguarded: BTreeMap<String, Vec<(String, u32)>> = BTreeMap::new();
    for p in ctx.patches {
        for f in &p.files {
            let path = f.path();
            if !uses_in.is_empty() && !uses_in.iter().any(|g| glob_match(g, path)) {
                continue;
            }
            let script = [".lds.S", ".lds.h", ".lds"]
                .iter()
                .any(|x| path.ends_with(x));
            // the file as the patched tree has it, for a build file's guards
            let text = (!script)
                .then(|| ctx.patched_vfs.and_then(|v| v.read(path).ok()))
                .flatten()
                .map(|b| String::from_utf8_lossy(&b).into_owned());
            for l in f.added() {
                for w in value_uses(&l.text, script) {
                    used.entry(w.to_string()).or_insert_with(|| PatchLocation {
                        patch: p.counter,
                        message_id: p.message_id.clone(),
                        file: path.to_string(),
                        line: l.new.unwrap_or(0),
                        patch_line: l.patch_line,
                    });
                    let line = l.new.unwrap_or(0);
                    if let Some(t) = &text {
                        if !make_guarded(t, line, w) {
                            make_unguarded
                                .entry(w.to_string())
                                .or_default()
                                .push((path.to_string(), line));
                        }
                    }
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
        // only a symbol whose value is used: a bool's or tristate's absence is n
        let typ = ctx
            .patched
            .outputs
            .iter()
            .find_map(|o| o.kconfig.types.get(&symbol).copied());
        if !matches!(typ, Some("int" | "hex" | "string")) {
            continue;
        }
        // the values everywhere, for the evidence; an architecture carries the
        // pattern when any of its variants does (a pattern behind an #ifdef counts)
        let mut evidence = Vec::new();
        let mut carriers: BTreeSet<&str> = BTreeSet::new();
        for o in &ctx.patched.outputs {
            let range_only = if o.kconfig.range_only.contains(&symbol) {
                " (only from its range: no default applies)"
            } else {
                ""
            };
            evidence.push(format!(
                "{} {}: {symbol} = {}{range_only}",
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
        // the architectures with no value in some variant that carry the
        // pattern, or use the symbol where nothing guards it
        let bare = format!("CONFIG_{symbol}");
        let make_uses = make_unguarded
            .get(&symbol)
            .map(Vec::as_slice)
            .unwrap_or_default();
        struct Left<'o> {
            variants: Vec<&'o str>,
            carrier: bool,
            /// where each unguarded use is, and what it does there
            unguarded: Vec<(Location, String)>,
        }
        let mut arches: BTreeMap<&str, Left> = BTreeMap::new();
        for o in &ctx.patched.outputs {
            // a value only from a range's bound is no value the tree chose
            let no_value = o.symbol(&symbol).is_none() || o.kconfig.range_only.contains(&symbol);
            if !no_value {
                continue;
            }
            let mut unguarded = Vec::new();
            if o.symbol(&symbol).is_none() {
                if let Some(l) = bare_use(o, &bare) {
                    unguarded.push((
                        l,
                        format!(
                            "the preprocessed linker script keeps the bare `{bare}` (ld takes it for an undefined symbol)"
                        ),
                    ));
                }
                let script_dir = match &o.lds {
                    Some(Ok(b)) => arch_dir_of(&b.script, arch_root),
                    _ => None,
                };
                for (file, line) in make_uses {
                    let concerns = match arch_dir_of(file, arch_root) {
                        None => true,
                        Some(d) => script_dir.as_deref() == Some(d.as_str()),
                    };
                    if concerns {
                        unguarded.push((
                            Location {
                                file: file.clone(),
                                line: *line,
                                via: Vec::new(),
                                written: None,
                            },
                            format!("`$({bare})` is outside any ifdef/ifeq naming it (it expands to nothing)"),
                        ));
                    }
                }
            }
            let carrier = carriers.contains(o.arch.as_str());
            if !carrier && unguarded.is_empty() {
                continue;
            }
            let left = arches.entry(o.arch.as_str()).or_insert_with(|| Left {
                variants: Vec::new(),
                carrier,
                unguarded: Vec::new(),
            });
            left.variants.push(o.variant.as_str());
            left.carrier |= carrier;
            for u in unguarded {
                if !left
                    .unguarded
                    .iter()
                    .any(|x| x.0.file == u.0.file && x.0.line == u.0.line)
                {
                    left.unguarded.push(u);
                }
            }
        }
        let defined_at = ctx
            .patched
            .outputs
            .iter()
            .find_map(|o| o.kconfig.defined_at.get(&symbol))
            .map(|l| Location {
                file: l.file.to_string(),
                line: l.line as u32,
                via: Vec::new(),
                written: None,
            });
        for (arch, left) in arches {
            let (why, loc) = match (left.carrier, left.unguarded.first()) {
                (false, Some((l, _))) => (
                    format!(
                        "{}:{} uses it outside any #ifdef/IS_ENABLED guard",
                        l.file, l.line
                    ),
                    Some(l.clone()),
                ),
                _ => (
                    format!("its {section} collects `{pattern}` too"),
                    defined_at.clone(),
                ),
            };
            let mut evidence = evidence.clone();
            for (l, how) in &left.unguarded {
                let through = if l.via.is_empty() {
                    String::new()
                } else {
                    format!(" (through {})", l.via.join(" > "))
                };
                evidence.push(format!(
                    "{arch}: unguarded use at {}:{}{through}: {how}",
                    l.file, l.line
                ));
            }
            let mut vars = BTreeMap::new();
            vars.insert("arch", arch.to_string());
            vars.insert("variants", left.variants.join(", "));
            vars.insert("symbol", symbol.clone());
            vars.insert("section", section.to_string());
            vars.insert("pattern", pattern.to_string());
            vars.insert("file", at.file.clone());
            vars.insert("line", at.line.to_string());
            vars.insert("why", why);
            out.push(Finding {
                rule: rule.id.clone(),
                severity: rule.severity,
                arch: vec![arch.to_string()],
                variant: left.variants.iter().map(|v| v.to_string()).collect(),
                location: loc,
                patch: Some(at.clone()),
                message: fill(&rule.message, &vars),
                evidence,
                fingerprint: fingerprint(&[&rule.id, arch, &symbol]),
            });
        }
    }
    out
}

/// White space removed (statements compare by their tokens).
fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// A script's statements located in its source: (section name, statement,
/// source line of the script file itself) for the statements written in it.
fn statements_at(o: &Output) -> Vec<(&str, &Statement, u32)> {
    let (Some(script), Some(Ok(b))) = (o.script(), &o.lds) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for sec in script.output_sections() {
        for st in &sec.statements {
            if let Some(org) = b.origin(st.span.start) {
                // a statement from a macro counts at the line that invoked it
                let line = match org.expansion.first() {
                    Some(e) if *e.file == *b.script => e.line,
                    _ if *org.file == *b.script => org.line,
                    _ => continue,
                };
                out.push((sec.name.as_str(), st, line));
            }
        }
    }
    out
}

/// The input-section patterns of a statement.
fn input_patterns(st: &Statement) -> Vec<&str> {
    match &st.kind {
        crate::lds::script::StatementKind::Input(d) => d
            .sections
            .iter()
            .flatten()
            .map(|p| p.pattern.as_str())
            .collect(),
        _ => Vec::new(),
    }
}

/// The source files that produce a section (`.section NAME` in assembly,
/// `__section("NAME")` or `section("NAME")` in C), among `globs`.
fn producers(sources: &[super::sources::Source], name: &str, globs: &[String]) -> Vec<String> {
    let needles = [
        format!(".section {name}"),
        format!(".section \"{name}\""),
        format!("section(\"{name}\")"),
    ];
    sources
        .iter()
        .filter(|(f, _)| globs.iter().any(|g| glob_match(g, f)))
        .filter(|(_, t)| {
            needles.iter().any(|n| {
                t.match_indices(n.as_str()).any(|(i, _)| {
                    // the name ends there (`.text.entry`, not `.text.entryx`)
                    t[i + n.len()..]
                        .chars()
                        .next()
                        .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                })
            })
        })
        .map(|(f, _)| f.clone())
        .collect()
}

fn sibling(rule: &Rule, ctx: &Context, arch_root: &str, producers_in: &[String]) -> Vec<Finding> {
    // every script and the outputs built from it
    let mut by_script: BTreeMap<&str, Vec<&Output>> = BTreeMap::new();
    for o in &ctx.patched.outputs {
        if let Some(Ok(b)) = &o.lds {
            by_script.entry(b.script.as_str()).or_default().push(o);
        }
    }
    let touched = ctx.touched();
    let arch_dir = |script: &str| -> Option<String> {
        let rest = script.strip_prefix(arch_root)?;
        Some(format!("{arch_root}{}/", rest.split('/').next()?))
    };
    // (sibling script, section, anchor) -> what the series did elsewhere
    struct Hit {
        changed: BTreeSet<String>,
        added: String,
    }
    let mut hits: BTreeMap<(String, String, String), Hit> = BTreeMap::new();
    let mut produced: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in ctx.patches {
        for f in &p.files {
            let path = f.path();
            let Some(outs) = by_script.get(path) else {
                continue;
            };
            for h in &f.hunks {
                let mut i = 0;
                while i < h.lines.len() {
                    if h.lines[i].kind != '+' {
                        i += 1;
                        continue;
                    }
                    let start = i;
                    while i < h.lines.len() && h.lines[i].kind == '+' {
                        i += 1;
                    }
                    let block = &h.lines[start..i];
                    let added_lines: BTreeSet<u32> = block.iter().filter_map(|l| l.new).collect();
                    // the anchor: the nearest statement line before the block
                    let Some(anchor_line) = h.lines[..start]
                        .iter()
                        .rev()
                        .filter(|l| l.kind == ' ')
                        .find(|l| {
                            let t = l.text.trim();
                            !t.is_empty()
                                && !t.starts_with('#')
                                && !t.starts_with("/*")
                                && !t.starts_with('*')
                                || t.starts_with("*(")
                        })
                        .and_then(|l| l.new)
                    else {
                        continue;
                    };
                    // the anchor (the last statement of its line: a macro may put
                    // several there) and the added statements, from the first
                    // variant that has them
                    let mut anchor: Option<(String, String)> = None;
                    let mut added: Vec<&Statement> = Vec::new();
                    let mut added_out: Option<&Output> = None;
                    for o in outs {
                        let sts = statements_at(o);
                        if anchor.is_none() {
                            anchor = sts
                                .iter()
                                .rfind(|(_, _, line)| *line == anchor_line)
                                .map(|(sec, st, _)| (sec.to_string(), squeeze(text_of(o, st))));
                        }
                        if added_out.is_none() {
                            let here: Vec<&Statement> = sts
                                .iter()
                                .filter(|(_, _, line)| added_lines.contains(line))
                                .map(|(_, st, _)| *st)
                                .collect();
                            if !here.is_empty() {
                                added = here;
                                added_out = Some(o);
                            }
                        }
                    }
                    let (Some((section, anchor)), Some(ao)) = (anchor, added_out) else {
                        continue;
                    };
                    if added.is_empty() {
                        continue;
                    }
                    // quiet when every added statement is this architecture's own:
                    // input sections produced only under its directory, symbols
                    // only its code uses, a plain ALIGN of a constant (layout)
                    let dir = arch_dir(path);
                    let specific = |st: &Statement,
                                    produced: &mut BTreeMap<String, Vec<String>>|
                     -> bool {
                        let (Some(_), Some(dir)) = (ctx.patched_vfs, dir.as_deref()) else {
                            return false;
                        };
                        match &st.kind {
                            crate::lds::script::StatementKind::Input(_) => {
                                let pats = input_patterns(st);
                                !pats.is_empty()
                                    && pats.iter().all(|pat| {
                                        if pat.contains(['*', '?', '[']) || compiler_made(pat) {
                                            return false;
                                        }
                                        // produced only here (or nowhere: nothing
                                        // would land there elsewhere either)
                                        let files =
                                            produced.entry(pat.to_string()).or_insert_with(|| {
                                                producers(
                                                    &ctx.sources.candidates(pat),
                                                    pat,
                                                    producers_in,
                                                )
                                            });
                                        files.iter().all(|f| f.starts_with(dir))
                                    })
                            }
                            crate::lds::script::StatementKind::Assignment(a) if a.target == "." => {
                                st.as_align_assignment().is_some_and(|arg| {
                                    arg.eval_const().is_some()
                                        && !through_any_config(ao_or(outs), st)
                                })
                            }
                            // a symbol the script defines: its own unless code
                            // outside the directory uses it
                            crate::lds::script::StatementKind::Assignment(a) => {
                                let files = produced
                                    .entry(format!("symbol {}", a.target))
                                    .or_insert_with(|| {
                                        users(
                                            &ctx.sources.candidates(&a.target),
                                            &a.target,
                                            producers_in,
                                        )
                                    });
                                files.iter().all(|f| f.starts_with(dir))
                            }
                            _ => false,
                        }
                    };
                    if added.iter().all(|st| specific(st, &mut produced)) {
                        continue;
                    }
                    // as the patch writes them (before preprocessing)
                    let added_text: Vec<String> = block
                        .iter()
                        .map(|l| l.text.trim())
                        .filter(|t| !t.is_empty() && !t.starts_with('#') && !t.starts_with("/*"))
                        .map(String::from)
                        .collect();
                    let added_sq: Vec<String> =
                        added.iter().map(|st| squeeze(text_of(ao, st))).collect();
                    // an added ALIGN of a symbol: an ALIGN already standing there
                    // counts where the sibling has a value it is a multiple of
                    let align_symbol: Option<String> = added.iter().find_map(|st| {
                        st.as_align_assignment()?;
                        let Some(Ok(b)) = &ao.lds else { return None };
                        let arg = st.as_align_assignment()?;
                        b.origin(arg.span.start)?
                            .expansion
                            .iter()
                            .find(|e| e.macro_name.starts_with("CONFIG_"))
                            .map(|e| e.macro_name["CONFIG_".len()..].to_string())
                    });
                    for (other, oouts) in &by_script {
                        if *other == path || touched.contains(other) {
                            continue;
                        }
                        // the same anchor in the same section, in any variant
                        let mut found = false;
                        for o in oouts {
                            let sts = statements_at(o);
                            for (k, (sec, st, _)) in sts.iter().enumerate() {
                                if *sec != section || squeeze(text_of(o, st)) != anchor {
                                    continue;
                                }
                                // already there: the added statements follow it,
                                // or an ALIGN stands where an ALIGN is added
                                let next = sts[k + 1..].iter().find(|(s2, n, _)| {
                                    *s2 == section
                                        && !matches!(&n.kind, crate::lds::script::StatementKind::Input(d) if d.dead)
                                });
                                // every added statement is there already: an input
                                // description anywhere in the section, a symbol
                                // defined anywhere in the script
                                let anywhere = added.iter().all(|a| match &a.kind {
                                    crate::lds::script::StatementKind::Input(_) => {
                                        sts.iter().any(|(s2, n, _)| {
                                            *s2 == section
                                                && squeeze(text_of(o, n)) == squeeze(text_of(ao, a))
                                        })
                                    }
                                    crate::lds::script::StatementKind::Assignment(x)
                                        if x.target != "." =>
                                    {
                                        defines_symbol(o, &x.target)
                                    }
                                    _ => false,
                                });
                                let has = anywhere || next.is_some_and(|(_, n, _)| {
                                    if added_sq.contains(&squeeze(text_of(o, n))) {
                                        return true;
                                    }
                                    let (Some(sym), Some(a)) = (&align_symbol, n.as_align_assignment()) else {
                                        return false;
                                    };
                                    let want = o.symbol(sym).and_then(int_value);
                                    matches!((want, a.eval_const()), (Some(w), Some(n)) if w != 0 && n % w == 0)
                                });
                                if !has {
                                    found = true;
                                }
                            }
                        }
                        if found {
                            let e = hits
                                .entry((other.to_string(), section.clone(), anchor.clone()))
                                .or_insert_with(|| Hit {
                                    changed: BTreeSet::new(),
                                    added: added_text.join(" "),
                                });
                            e.changed.insert(path.to_string());
                        }
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for ((script, section, anchor), hit) in hits {
        let outs = &by_script[script.as_str()];
        let mut arches: Vec<String> = Vec::new();
        let mut variants: Vec<String> = Vec::new();
        let mut loc: Option<Location> = None;
        let mut anchor_text = anchor.clone();
        for o in outs {
            for (sec, st, line) in statements_at(o) {
                if sec == section && squeeze(text_of(o, st)) == anchor {
                    if !arches.contains(&o.arch) {
                        arches.push(o.arch.clone());
                    }
                    if !variants.contains(&o.variant) {
                        variants.push(o.variant.clone());
                    }
                    if loc.is_none() {
                        anchor_text = text_of(o, st).trim().to_string();
                        loc = Some(Location {
                            file: script.clone(),
                            line,
                            via: Vec::new(),
                            written: None,
                        });
                    }
                }
            }
        }
        let changed: Vec<String> = hit.changed.iter().cloned().collect();
        let mut vars = BTreeMap::new();
        vars.insert("arch", arches.join(", "));
        vars.insert("variants", variants.join(", "));
        vars.insert("file", script.clone());
        vars.insert(
            "line",
            loc.as_ref().map(|l| l.line.to_string()).unwrap_or_default(),
        );
        vars.insert("anchor", anchor_text.clone());
        vars.insert("section", section.clone());
        vars.insert("changed", changed.join(", "));
        vars.insert("added", hit.added.clone());
        out.push(Finding {
            rule: rule.id.clone(),
            severity: rule.severity,
            arch: arches,
            variant: variants,
            location: loc,
            patch: None,
            message: fill(&rule.message, &vars),
            evidence: vec![
                format!(
                    "changed: {} (adds `{}` after `{anchor_text}`)",
                    changed.join(", "),
                    hit.added
                ),
                format!("unchanged: {script}"),
            ],
            fingerprint: fingerprint(&[&rule.id, &script, &section, &anchor]),
        });
    }
    out
}

/// Input descriptions the series adds that an earlier description of the same
/// output section makes dead (ld's first match: they can match nothing).
fn shadowed(rule: &Rule, ctx: &Context) -> Vec<Finding> {
    let mut added: BTreeMap<&str, BTreeSet<u32>> = BTreeMap::new();
    for p in ctx.patches {
        for f in &p.files {
            added
                .entry(f.path())
                .or_default()
                .extend(f.added().filter_map(|l| l.new));
        }
    }
    /// (script, line) -> (arches, variants, text, coverer)
    type Hits = BTreeMap<(String, u32), (Vec<String>, Vec<String>, String, String)>;
    let mut hits: Hits = BTreeMap::new();
    for o in &ctx.patched.outputs {
        let (Some(script), Some(Ok(b))) = (o.script(), &o.lds) else {
            continue;
        };
        let Some(lines) = added.get(b.script.as_str()) else {
            continue;
        };
        let sections = script.output_sections();
        for (si, sec) in sections.iter().enumerate() {
            for st in &sec.statements {
                let crate::lds::script::StatementKind::Input(d) = &st.kind else {
                    continue;
                };
                if !d.dead {
                    continue;
                }
                let Some(org) = b.origin(st.span.start) else {
                    continue;
                };
                let line = match org.expansion.first() {
                    Some(e) if *e.file == *b.script => e.line,
                    _ if *org.file == *b.script => org.line,
                    _ => continue,
                };
                if !lines.contains(&line) {
                    continue;
                }
                // covered within the same output section
                let cover = d.sections.iter().flatten().find_map(|p| p.covered_by);
                let Some(c) = cover.filter(|c| c.section == si) else {
                    continue;
                };
                let by = sections[c.section]
                    .statements
                    .get(c.statement)
                    .map(|s| {
                        let l = located(o, s.span.start)
                            .map(|l| format!(" ({}:{})", l.file, l.line))
                            .unwrap_or_default();
                        format!("`{}`{l}", text_of(o, s).trim())
                    })
                    .unwrap_or_default();
                let e = hits.entry((b.script.clone(), line)).or_insert_with(|| {
                    (
                        Vec::new(),
                        Vec::new(),
                        text_of(o, st).trim().to_string(),
                        by,
                    )
                });
                if !e.0.contains(&o.arch) {
                    e.0.push(o.arch.clone());
                }
                if !e.1.contains(&o.variant) {
                    e.1.push(o.variant.clone());
                }
            }
        }
    }
    hits.into_iter()
        .map(|((file, line), (arches, variants, text, by))| {
            let mut vars = BTreeMap::new();
            vars.insert("arch", arches.join(", "));
            vars.insert("variants", variants.join(", "));
            vars.insert("file", file.clone());
            vars.insert("line", line.to_string());
            vars.insert("pattern", text.clone());
            vars.insert("by", by.clone());
            Finding {
                rule: rule.id.clone(),
                severity: rule.severity,
                arch: arches,
                variant: variants,
                location: Some(Location {
                    file: file.clone(),
                    line,
                    via: Vec::new(),
                    written: None,
                }),
                patch: None,
                message: fill(&rule.message, &vars),
                evidence: vec![format!("`{text}` is taken by {by}")],
                fingerprint: fingerprint(&[&rule.id, &file, &squeeze(&text)]),
            }
        })
        .collect()
}

/// The headers that `#define` a macro.
fn defines_of(sources: &[super::sources::Source], name: &str) -> Vec<String> {
    sources
        .iter()
        .filter(|(f, t)| f.ends_with(".h") && has_word(t, name))
        .filter(|(_, t)| {
            t.lines().any(|l| {
                l.trim_start()
                    .strip_prefix('#')
                    .map(str::trim_start)
                    .and_then(|t| t.strip_prefix("define"))
                    .map(str::trim_start)
                    .is_some_and(|t| {
                        t.strip_prefix(name).is_some_and(|r| {
                            r.is_empty()
                                || !r.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                        })
                    })
            })
        })
        .map(|(f, _)| f.clone())
        .collect()
}

/// A line without its C comments (`/* ... */` on the line, `//` to the end; a
/// line that continues a block comment, ` * ...`, is all comment).
fn strip_comments(line: &str) -> String {
    let t = line.trim_start();
    if t.starts_with("* ") || t == "*" || t.starts_with("*/") {
        return String::new();
    }
    let mut out = String::new();
    let mut rest = line;
    loop {
        let block = rest.find("/*");
        let eol = rest.find("//");
        match (block, eol) {
            (Some(b), e) if e.is_none_or(|e| b < e) => {
                out.push_str(&rest[..b]);
                match rest[b + 2..].find("*/") {
                    Some(end) => rest = &rest[b + 2 + end + 2..],
                    None => return out,
                }
            }
            (_, Some(e)) => {
                out.push_str(&rest[..e]);
                return out;
            }
            _ => {
                out.push_str(rest);
                return out;
            }
        }
    }
}

/// Sections the compiler makes by itself (gcc's and the psABIs'), which any
/// architecture's objects have: never one architecture's own.
fn compiler_made(name: &str) -> bool {
    const PREFIXES: &[&str] = &[
        ".text.unlikely",
        ".text.hot",
        ".text.cold",
        ".text.startup",
        ".text.exit",
        ".data.rel",
        ".rodata.str",
        ".rodata.cst",
        ".sbss",
        ".sdata",
        ".srodata",
        ".tbss",
        ".tdata",
        ".eh_frame",
        ".gcc_except_table",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Whether a script assigns a symbol anywhere (top level or in a section).
fn defines_symbol(o: &Output, name: &str) -> bool {
    let Some(script) = o.script() else {
        return false;
    };
    let in_sections = script.output_sections().iter().any(|s| {
        s.statements.iter().any(|st| {
            matches!(&st.kind, crate::lds::script::StatementKind::Assignment(a) if a.target == name)
        })
    });
    in_sections
        || script.sections_items().iter().any(
            |i| matches!(&i.kind, crate::lds::script::ItemKind::Assignment(a) if a.target == name),
        )
}

/// The first output of a script (for provenance questions that do not depend
/// on the variant).
fn ao_or<'o>(outs: &[&'o Output]) -> &'o Output {
    outs[0]
}

/// Whether an ALIGN's argument came through any `CONFIG_` macro.
fn through_any_config(o: &Output, st: &Statement) -> bool {
    let (Some(arg), Some(Ok(b))) = (st.as_align_assignment(), &o.lds) else {
        return false;
    };
    (arg.span.start..arg.span.end.max(arg.span.start + 1)).any(|off| {
        b.origin(off).is_some_and(|org| {
            org.expansion
                .iter()
                .any(|e| e.macro_name.starts_with("CONFIG_"))
        })
    })
}

/// The source files (not linker scripts) among `globs` that use a word.
fn users(sources: &[super::sources::Source], word: &str, globs: &[String]) -> Vec<String> {
    sources
        .iter()
        .filter(|(f, _)| !f.contains(".lds") && globs.iter().any(|g| glob_match(g, f)))
        .filter(|(_, t)| has_word(t, word))
        .map(|(f, _)| f.clone())
        .collect()
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
    // macros the series' own lines #define
    let defined_in_code: BTreeSet<String> = ctx
        .patches
        .iter()
        .flat_map(|p| p.files.iter())
        .flat_map(|f| f.added())
        .filter_map(|l| {
            let t = l.text.trim_start().strip_prefix('#')?.trim_start();
            let rest = t.strip_prefix("define")?.trim_start();
            Some(
                rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .next()?
                    .to_string(),
            )
        })
        .collect();
    let mut defined_in_tree: BTreeMap<String, bool> = BTreeMap::new();
    for p in ctx.patches {
        for f in &p.files {
            let path = f.path();
            let name = path.rsplit('/').next().unwrap_or(path);
            if name.starts_with("Kconfig") {
                continue; // Kconfig files define symbols; CONFIG_ there is prose
            }
            if !ctx.srctree.is_empty() && !path.starts_with(&format!("{}/", ctx.srctree)) {
                continue; // another build system's CONFIG_ variables (tools, config/)
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
                let code = strip_comments(&l.text);
                for (w, hint) in unknown_words(&code, prefix, &known) {
                    if removed.contains(&w)
                        || defined_in_code.contains(&w)
                        || !seen.insert((path.to_string(), w.clone()))
                    {
                        continue;
                    }
                    // a CONFIG_ macro the code defines itself (`#define CONFIG_X 3`)
                    let defined = defined_in_tree
                        .entry(w.clone())
                        .or_insert_with(|| !defines_of(&ctx.sources.candidates(&w), &w).is_empty());
                    if *defined {
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
                            written: None,
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
    fn comments_are_not_code() {
        assert_eq!(strip_comments("#else /* CONFIG_X */"), "#else ");
        assert_eq!(strip_comments("a /* b */ c // d"), "a  c ");
        assert_eq!(strip_comments(" * mentions CONFIG_X"), "");
        assert_eq!(strip_comments("x = 1; /* open"), "x = 1; ");
    }

    #[test]
    fn globs() {
        assert!(glob_match("*.lds.S", "xen/arch/x86/xen.lds.S"));
        assert!(glob_match("Makefile", "xen/Makefile"));
        assert!(glob_match("xen/arch/*/xen.lds.S", "xen/arch/arm/xen.lds.S"));
        assert!(!glob_match("*.lds.h", "xen/arch/x86/xen.lds.S"));
    }
}
