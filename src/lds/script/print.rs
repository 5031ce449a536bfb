//! Printing a script back as ld syntax. Names are quoted where the lexer
//! state they are read in would not give them back as one name, and
//! expressions get parentheses where ld's precedence needs them, so that
//! `parse(print(parse(x)))` equals `parse(x)` except for spans.

use std::fmt::{self, Display, Formatter, Write};

use super::ast::*;
use super::lex::{Lexer, Mode, Tok};

/// `s` as a name token in `mode`: bare when it lexes back as itself, else quoted.
pub(crate) fn name(s: &str, mode: Mode) -> String {
    let lx = Lexer { text: s };
    match lx.next(0, mode) {
        Ok((
            Tok::Name {
                text,
                quoted: false,
            },
            span,
        )) if span.start == 0 && span.end == s.len() && text == s => s.to_string(),
        _ => format!("\"{s}\""),
    }
}

fn quoted(s: &str) -> String {
    format!("\"{s}\"")
}

struct E<'a>(&'a Expr, u8);

/// Precedence of the unary operators (above every binary one).
const UNARY: u8 = 11;

impl Display for E<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let E(e, ctx) = *self;
        match &e.kind {
            ExprKind::Number { text, .. } => f.write_str(text),
            ExprKind::Symbol { name: n } => f.write_str(&name(n, Mode::Expr)),
            ExprKind::Unary { op, operand } => write!(f, "{}{}", op.text(), E(operand, UNARY)),
            ExprKind::Binary { op, lhs, rhs } => {
                let p = op.precedence();
                let paren = p < ctx;
                if paren {
                    f.write_char('(')?;
                }
                write!(f, "{} {} {}", E(lhs, p), op.text(), E(rhs, p + 1))?;
                if paren {
                    f.write_char(')')?;
                }
                Ok(())
            }
            ExprKind::Ternary {
                cond,
                then,
                otherwise,
            } => {
                let paren = ctx > 0;
                if paren {
                    f.write_char('(')?;
                }
                write!(f, "{} ? {} : {}", E(cond, 1), E(then, 0), E(otherwise, 0))?;
                if paren {
                    f.write_char(')')?;
                }
                Ok(())
            }
            ExprKind::Call { function, args } => {
                write!(f, "{}(", function.keyword())?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", E(a, 0))?;
                }
                f.write_char(')')
            }
            ExprKind::NameOf { function, name: n } => {
                let m = if function.script_name() {
                    Mode::Script
                } else {
                    Mode::Expr
                };
                write!(f, "{}({})", function.keyword(), name(n, m))
            }
            // Quoted: a script name would run on over the `,`.
            ExprKind::SegmentStart { segment, default } => {
                write!(f, "SEGMENT_START({}, {})", quoted(segment), E(default, 0))
            }
            ExprKind::Assert { cond, message } => {
                write!(f, "ASSERT({}, {})", E(cond, 0), quoted(message))
            }
            ExprKind::SizeofHeaders => f.write_str("SIZEOF_HEADERS"),
        }
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", E(self, 0))
    }
}

fn assignment(a: &Assignment, mode: Mode) -> String {
    let target = name(&a.target, mode);
    match a.wrapper {
        Some(w) => format!("{}({} = {});", w.keyword(), target, a.value),
        None => format!("{} {} {};", target, a.op.text(), a.value),
    }
}

fn assert(a: &Assert) -> String {
    format!("ASSERT({}, {})", a.cond, quoted(&a.message))
}

fn wild(s: &str) -> String {
    name(s, Mode::Wild)
}

/// A name where the parser would take an all-caps word for an unknown
/// keyword (a file pattern, an output section name): quoted then.
fn not_keyword(s: &str, mode: Mode) -> String {
    if super::parse::looks_like_keyword(s) {
        quoted(s)
    } else {
        name(s, mode)
    }
}

fn excluded(exclude: &[String], pattern: &str, file: bool) -> String {
    let p = if file {
        not_keyword(pattern, Mode::Wild)
    } else {
        wild(pattern)
    };
    if exclude.is_empty() {
        p
    } else {
        let names: Vec<String> = exclude.iter().map(|n| wild(n)).collect();
        format!("EXCLUDE_FILE({}) {}", names.join(" "), p)
    }
}

impl Display for InputDescription {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.keep {
            f.write_str("KEEP(")?;
        }
        if !self.flags.is_empty() {
            let flags: Vec<String> = self.flags.iter().map(|n| wild(n)).collect();
            write!(f, "INPUT_SECTION_FLAGS({}) ", flags.join(" & "))?;
        }
        let list = |f: &mut Formatter<'_>, l: &[SectionPattern]| -> fmt::Result {
            for (i, p) in l.iter().enumerate() {
                if i > 0 {
                    f.write_char(' ')?;
                }
                let mut s = excluded(&p.exclude, &p.pattern, false);
                for k in p.sort.iter().rev() {
                    s = format!("{}({})", k.keyword(), s);
                }
                f.write_str(&s)?;
            }
            Ok(())
        };
        match (&self.file, &self.sections) {
            (None, Some(l)) => {
                f.write_str("[ ")?;
                list(f, l)?;
                f.write_str(" ]")?;
            }
            (None, None) => {}
            (Some(file), sections) => {
                let mut s = excluded(&file.exclude, &file.pattern, true);
                if let Some(k) = file.sort {
                    s = format!("{}({})", k.keyword(), s);
                }
                f.write_str(&s)?;
                if let Some(l) = sections {
                    f.write_char('(')?;
                    list(f, l)?;
                    f.write_char(')')?;
                }
            }
        }
        if self.keep {
            f.write_char(')')?;
        }
        Ok(())
    }
}

impl Display for Statement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            StatementKind::Assignment(a) => f.write_str(&assignment(a, Mode::Wild)),
            StatementKind::Input(d) => write!(f, "{d}"),
            StatementKind::Data { size, value } => write!(f, "{}({})", size.keyword(), value),
            StatementKind::Fill { value } => write!(f, "FILL({value})"),
            StatementKind::Asciz { string } => write!(f, "ASCIZ {}", quoted(string)),
            StatementKind::Assert(a) => write!(f, "{};", assert(a)),
            StatementKind::Constructors { sorted: true } => f.write_str("SORT(CONSTRUCTORS)"),
            StatementKind::Constructors { sorted: false } => f.write_str("CONSTRUCTORS"),
            StatementKind::CreateObjectSymbols => f.write_str("CREATE_OBJECT_SYMBOLS"),
            StatementKind::LinkerVersion => f.write_str("LINKER_VERSION"),
            StatementKind::Include { file } => write!(f, "INCLUDE {}", name(file, Mode::Wild)),
        }
    }
}

fn tail(
    f: &mut Formatter<'_>,
    region: &Option<String>,
    lma: &Option<String>,
    phdrs: &[String],
    fill: &Option<Expr>,
) -> fmt::Result {
    if let Some(r) = region {
        write!(f, " >{}", name(r, Mode::Script))?;
    }
    if let Some(r) = lma {
        write!(f, " AT>{}", name(r, Mode::Script))?;
    }
    for p in phdrs {
        write!(f, " :{}", name(p, Mode::Script))?;
    }
    if let Some(e) = fill {
        // The `,` (ld's opt_comma) ends the expression: a following
        // section named `/x` or `-x` would otherwise continue it.
        write!(f, " = {e},")?;
    }
    Ok(())
}

fn body(f: &mut Formatter<'_>, statements: &[Statement], indent: &str) -> fmt::Result {
    writeln!(f, "{indent}{{")?;
    for s in statements {
        writeln!(f, "{indent}  {s}")?;
    }
    write!(f, "{indent}}}")
}

impl Display for OutputSection {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&not_keyword(&self.name, Mode::Script))?;
        if let Some(a) = &self.address {
            // ld lexes the address's first token in the SECTIONS state:
            // when that reads differently (`~x` is one name there, `l` a
            // keyword), the address goes in parentheses.
            let text = a.to_string();
            let lx = Lexer { text: &text };
            if let ExprKind::Symbol { name: n } = &a.kind {
                // Quoted reads the same in both states (and `(FOO)` would
                // read as a section type).
                if lx.next(0, Mode::Script).ok() != lx.next(0, Mode::Expr).ok() {
                    write!(f, " {}", quoted(n))?;
                } else {
                    write!(f, " {text}")?;
                }
            } else if lx.next(0, Mode::Script).ok() == lx.next(0, Mode::Expr).ok() {
                write!(f, " {text}")?;
            } else {
                write!(f, " ({text})")?;
            }
        }
        if let Some(t) = &self.section_type {
            match t {
                SectionType::NoLoad => f.write_str(" (NOLOAD)")?,
                SectionType::DSect => f.write_str(" (DSECT)")?,
                SectionType::Copy => f.write_str(" (COPY)")?,
                SectionType::Info => f.write_str(" (INFO)")?,
                SectionType::Overlay => f.write_str(" (OVERLAY)")?,
                SectionType::ReadOnly => f.write_str(" (READONLY)")?,
                SectionType::ReadOnlyType { value } => write!(f, " (READONLY (TYPE = {value}))")?,
                SectionType::Type { value } => write!(f, " (TYPE = {value})")?,
            }
        }
        f.write_str(" :")?;
        if let Some(e) = &self.at {
            write!(f, " AT({e})")?;
        }
        if let Some(e) = &self.align {
            write!(f, " ALIGN({e})")?;
        }
        if self.align_with_input {
            f.write_str(" ALIGN_WITH_INPUT")?;
        }
        if let Some(e) = &self.subalign {
            write!(f, " SUBALIGN({e})")?;
        }
        match self.constraint {
            Some(Constraint::OnlyIfRo) => f.write_str(" ONLY_IF_RO")?,
            Some(Constraint::OnlyIfRw) => f.write_str(" ONLY_IF_RW")?,
            Some(Constraint::Special) => f.write_str(" SPECIAL")?,
            None => {}
        }
        f.write_char('\n')?;
        body(f, &self.statements, "  ")?;
        tail(f, &self.region, &self.lma_region, &self.phdrs, &self.fill)
    }
}

fn overlay(f: &mut Formatter<'_>, ov: &Overlay) -> fmt::Result {
    f.write_str("OVERLAY")?;
    if let Some(a) = &ov.address {
        write!(f, " {a}")?;
    }
    f.write_str(" :")?;
    if ov.nocrossrefs {
        f.write_str(" NOCROSSREFS")?;
    }
    if let Some(e) = &ov.at {
        write!(f, " AT({e})")?;
    }
    if let Some(e) = &ov.subalign {
        write!(f, " SUBALIGN({e})")?;
    }
    f.write_str("\n  {\n")?;
    for s in &ov.sections {
        writeln!(f, "    {}", name(&s.name, Mode::Script))?;
        body(f, &s.statements, "    ")?;
        tail(f, &None, &None, &s.phdrs, &s.fill)?;
        f.write_char('\n')?;
    }
    f.write_str("  }")?;
    tail(f, &ov.region, &ov.lma_region, &ov.phdrs, &ov.fill)
}

impl Display for SectionsItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ItemKind::Output(o) => write!(f, "{o}"),
            ItemKind::Overlay(ov) => overlay(f, ov),
            ItemKind::Assignment(a) => f.write_str(&assignment(a, Mode::Script)),
            ItemKind::Assert(a) => f.write_str(&assert(a)),
            ItemKind::Entry { symbol } => write!(f, "ENTRY({})", name(symbol, Mode::Script)),
            ItemKind::Include { file } => write!(f, "INCLUDE {}", name(file, Mode::Script)),
        }
    }
}

fn files(list: &[InputFile]) -> String {
    let mut out = String::new();
    let mut in_needed = false;
    for file in list {
        if file.as_needed != in_needed {
            out.push_str(if file.as_needed { " AS_NEEDED(" } else { " )" });
            in_needed = file.as_needed;
        }
        out.push(' ');
        if file.library {
            out.push_str("-l");
            out.push_str(&file.name);
        } else {
            out.push_str(&name(&file.name, Mode::InputList));
        }
    }
    if in_needed {
        out.push_str(" )");
    }
    out
}

impl Display for Command {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        const S: Mode = Mode::Script;
        match &self.kind {
            CommandKind::Sections { items } => {
                f.write_str("SECTIONS\n{\n")?;
                for it in items {
                    let text = it.to_string();
                    for line in text.lines() {
                        writeln!(f, "  {line}")?;
                    }
                }
                f.write_char('}')
            }
            CommandKind::Memory { regions } => {
                f.write_str("MEMORY\n{\n")?;
                for r in regions {
                    write!(f, "  {}", name(&r.name, S))?;
                    if !r.attributes.is_empty() {
                        let a: Vec<String> = r
                            .attributes
                            .iter()
                            .map(|a| match a.strip_prefix('!') {
                                Some(n) => format!("!{}", name(n, S)),
                                None => name(a, S),
                            })
                            .collect();
                        write!(f, " ({})", a.join(" "))?;
                    }
                    writeln!(f, " : ORIGIN = {}, LENGTH = {}", r.origin, r.length)?;
                }
                f.write_char('}')
            }
            CommandKind::Phdrs { phdrs } => {
                f.write_str("PHDRS\n{\n")?;
                for p in phdrs {
                    write!(f, "  {} {}", name(&p.name, S), p.phdr_type)?;
                    if p.filehdr {
                        f.write_str(" FILEHDR")?;
                    }
                    if p.phdrs {
                        f.write_str(" PHDRS")?;
                    }
                    if let Some(e) = &p.at {
                        write!(f, " AT({e})")?;
                    }
                    if let Some(e) = &p.flags {
                        write!(f, " FLAGS({e})")?;
                    }
                    f.write_str(" ;\n")?;
                }
                f.write_char('}')
            }
            CommandKind::Entry { symbol } => write!(f, "ENTRY({})", name(symbol, S)),
            CommandKind::OutputFormat { formats } => {
                let q: Vec<String> = formats.iter().map(|s| quoted(s)).collect();
                write!(f, "OUTPUT_FORMAT({})", q.join(", "))
            }
            CommandKind::OutputArch { arch } => write!(f, "OUTPUT_ARCH({})", quoted(arch)),
            CommandKind::Output { file } => write!(f, "OUTPUT({})", quoted(file)),
            CommandKind::Input { files: l } => write!(f, "INPUT({} )", files(l)),
            CommandKind::Group { files: l } => write!(f, "GROUP({} )", files(l)),
            CommandKind::SearchDir { dir } => write!(f, "SEARCH_DIR({})", quoted(dir)),
            CommandKind::Target { bfd } => write!(f, "TARGET({})", quoted(bfd)),
            CommandKind::Startup { file } => write!(f, "STARTUP({})", quoted(file)),
            CommandKind::Include { file } => write!(f, "INCLUDE {}", quoted(file)),
            CommandKind::Insert { before, section } => write!(
                f,
                "INSERT {} {}",
                if *before { "BEFORE" } else { "AFTER" },
                name(section, S)
            ),
            CommandKind::NoCrossRefs { sections } | CommandKind::NoCrossRefsTo { sections } => {
                let kw = if matches!(self.kind, CommandKind::NoCrossRefs { .. }) {
                    "NOCROSSREFS"
                } else {
                    "NOCROSSREFS_TO"
                };
                let n: Vec<String> = sections.iter().map(|s| quoted(s)).collect();
                write!(f, "{kw}({})", n.join(" "))
            }
            CommandKind::Extern { symbols } => {
                let n: Vec<String> = symbols.iter().map(|s| name(s, Mode::Expr)).collect();
                write!(f, "EXTERN({})", n.join(" "))
            }
            CommandKind::RegionAlias { alias, region } => {
                write!(f, "REGION_ALIAS({}, {})", quoted(alias), quoted(region))
            }
            CommandKind::LdFeature { feature } => write!(f, "LD_FEATURE({})", quoted(feature)),
            CommandKind::ForceCommonAllocation => f.write_str("FORCE_COMMON_ALLOCATION"),
            CommandKind::InhibitCommonAllocation => f.write_str("INHIBIT_COMMON_ALLOCATION"),
            CommandKind::ForceGroupAllocation => f.write_str("FORCE_GROUP_ALLOCATION"),
            CommandKind::Assignment(a) => f.write_str(&assignment(a, S)),
            CommandKind::Assert(a) => f.write_str(&assert(a)),
        }
    }
}

impl Display for Script {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for c in &self.commands {
            writeln!(f, "{c}")?;
        }
        Ok(())
    }
}
