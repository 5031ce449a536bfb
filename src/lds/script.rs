//! The GNU ld script parser. See `super`.
//!
//! [`parse`] reads the *preprocessed* text of a linker script (what
//! `gcc -E -P -x assembler-with-cpp` prints) with ld's own lexing rules
//! (`ldlex.l`: the same characters lex differently in commands, expressions and
//! output section bodies) and grammar (`ldgram.y`), into a [`Script`] whose
//! nodes carry byte [`Span`]s into that text. Then ld's matching semantics are
//! applied: an input section goes to the first description that matches it,
//! so later descriptions an earlier one covers are marked dead.
//!
//! The grammar is ld 2.40's (what `tests/lds_script.rs` checks against the
//! installed ld, accept for accept and reject for reject) plus the later
//! `^`, `^=`, `ASCIZ`, `LINKER_VERSION` and `REVERSE`.
//!
//! Not supported (an error naming them, never skipped): `VERSION`, the
//! obsolete `HLL`/`SYSLIB`/`FLOAT`/`NOFLOAT`/`LIB`/`MAP` commands, `GROUP` and
//! `BIND` inside `SECTIONS` (svr3 scripts), `INCLUDE` inside `MEMORY`, MRI
//! scripts. `INCLUDE` is recorded, not followed. Stricter than ld on
//! purpose: an all-caps name where ld would silently take a file or section
//! name (`IRQENTRY_TEXT` left by a macro that did not expand) is an unknown
//! keyword, and a character ld would warn about and skip is an error.

mod ast;
mod cover;
mod lex;
mod parse;
mod print;

pub use ast::*;
pub use cover::{glob_covers, glob_matches};

/// A syntax error: where (byte offset and 1-based line and column, counted
/// in characters) and what, naming the unexpected token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{line}:{column}: {message}")]
pub struct ParseError {
    pub offset: usize,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl ParseError {
    pub(crate) fn new(text: &str, offset: usize, message: String) -> ParseError {
        let (line, column) = line_col(text, offset);
        ParseError {
            offset,
            line,
            column,
            message,
        }
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut off = offset.min(text.len());
    while !text.is_char_boundary(off) {
        off -= 1;
    }
    let before = &text[..off];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

/// Bounds on the work parsing one script may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseLimits {
    /// Pattern comparisons allowed while marking dead descriptions: a script
    /// with tens of thousands of descriptions that may share names must not
    /// cost quadratic time. Past it nothing more is marked, and
    /// [`Script::marks_complete`] is false.
    pub max_comparisons: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_comparisons: 4_000_000,
        }
    }
}

/// Parse a preprocessed linker script and mark dead input section descriptions.
pub fn parse(text: &str) -> Result<Script, ParseError> {
    parse_with(text, ParseLimits::default())
}

/// [`parse`] within the given limits.
pub fn parse_with(text: &str, limits: ParseLimits) -> Result<Script, ParseError> {
    let mut script = parse::Parser::new(text).script()?;
    cover::mark(&mut script, limits.max_comparisons);
    Ok(script)
}

impl Script {
    /// Every output section in script order, across all `SECTIONS` commands,
    /// overlaid sections in their place. Indices into this list are the
    /// `section` of a [`Cover`].
    pub fn output_sections(&self) -> Vec<&OutputSection> {
        let mut out = Vec::new();
        for c in &self.commands {
            if let CommandKind::Sections { items } = &c.kind {
                for it in items {
                    match &it.kind {
                        ItemKind::Output(o) => out.push(o),
                        ItemKind::Overlay(ov) => out.extend(ov.sections.iter()),
                        _ => {}
                    }
                }
            }
        }
        out
    }

    /// The first output section named `name` (`/DISCARD/` included).
    pub fn output_section(&self, name: &str) -> Option<&OutputSection> {
        self.output_sections().into_iter().find(|o| o.name == name)
    }

    /// The input description a [`Cover`] points at.
    pub fn covering(&self, cover: Cover) -> Option<&InputDescription> {
        let sec = *self.output_sections().get(cover.section)?;
        match &sec.statements.get(cover.statement)?.kind {
            StatementKind::Input(d) => Some(d),
            _ => None,
        }
    }

    /// Across all output sections in order, the first input description whose
    /// pattern list contains `pattern` exactly: (index in [`Script::output_sections`],
    /// statement index, the description).
    pub fn find_input(&self, pattern: &str) -> Option<(usize, usize, &InputDescription)> {
        self.output_sections()
            .into_iter()
            .enumerate()
            .find_map(|(si, o)| o.find_input(pattern).map(|(i, d)| (si, i, d)))
    }

    /// The `SECTIONS` items (assignments, sections...) of all `SECTIONS` commands in order.
    pub fn sections_items(&self) -> Vec<&SectionsItem> {
        let mut out = Vec::new();
        for c in &self.commands {
            if let CommandKind::Sections { items } = &c.kind {
                out.extend(items.iter());
            }
        }
        out
    }
}

impl OutputSection {
    /// The input descriptions of this section with their statement indices.
    pub fn inputs(&self) -> impl Iterator<Item = (usize, &InputDescription)> {
        self.statements
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match &s.kind {
                StatementKind::Input(d) => Some((i, d)),
                _ => None,
            })
    }

    /// The first input description whose section pattern list contains
    /// `pattern` exactly (`.text.*` finds `*(.text.*)`, not `*(.text.unlikely.*)`),
    /// with its statement index.
    pub fn find_input(&self, pattern: &str) -> Option<(usize, &InputDescription)> {
        self.inputs().find(|(_, d)| {
            d.sections
                .as_ref()
                .is_some_and(|l| l.iter().any(|p| p.pattern == pattern))
        })
    }

    /// The first statement after index `index` that is not a dead input
    /// description, with its index.
    pub fn first_live_statement_after(&self, index: usize) -> Option<(usize, &Statement)> {
        self.statements
            .iter()
            .enumerate()
            .skip(index.saturating_add(1))
            .find(|(_, s)| !matches!(&s.kind, StatementKind::Input(d) if d.dead))
    }
}

impl Statement {
    /// For `. = ALIGN(N);` (or `. = ALIGN(., N);`), the alignment `N`.
    pub fn as_align_assignment(&self) -> Option<&Expr> {
        let StatementKind::Assignment(a) = &self.kind else {
            return None;
        };
        if a.target != "." || a.op != AssignOp::Assign || a.wrapper.is_some() {
            return None;
        }
        a.value.align_argument()
    }
}

impl SectionsItem {
    /// Like [`Statement::as_align_assignment`], for `. = ALIGN(N);` between sections.
    pub fn as_align_assignment(&self) -> Option<&Expr> {
        let ItemKind::Assignment(a) = &self.kind else {
            return None;
        };
        if a.target != "." || a.op != AssignOp::Assign || a.wrapper.is_some() {
            return None;
        }
        a.value.align_argument()
    }
}

impl Expr {
    /// For `ALIGN(N)` or `ALIGN(., N)`, `N`.
    pub fn align_argument(&self) -> Option<&Expr> {
        match &self.kind {
            ExprKind::Call {
                function: Builtin::Align,
                args,
            } => match args.as_slice() {
                [n] => Some(n),
                [dot, n] if matches!(&dot.kind, ExprKind::Symbol { name } if name == ".") => {
                    Some(n)
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// The value of the expression when it does not depend on symbols,
    /// sections, the location counter or the target: numbers (K/M applied),
    /// arithmetic in 64 bits as ld does, comparisons, `?:`, `ALIGN(a, b)`,
    /// `MAX`, `MIN`, `LOG2CEIL`, `ABSOLUTE`. `None` otherwise, and for
    /// division by zero or over-wide shifts.
    pub fn eval_const(&self) -> Option<u64> {
        Some(match &self.kind {
            ExprKind::Number { value, .. } => *value,
            ExprKind::Unary { op, operand } => {
                let v = operand.eval_const()?;
                match op {
                    UnaryOp::Neg => v.wrapping_neg(),
                    UnaryOp::Not => (v == 0) as u64,
                    UnaryOp::BitNot => !v,
                }
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let a = lhs.eval_const()?;
                let b = rhs.eval_const()?;
                use BinaryOp::*;
                match op {
                    Mul => a.wrapping_mul(b),
                    Div => a.checked_div(b)?,
                    Rem => a.checked_rem(b)?,
                    Add => a.wrapping_add(b),
                    Sub => a.wrapping_sub(b),
                    Shl => a.checked_shl(u32::try_from(b).ok()?)?,
                    Shr => a.checked_shr(u32::try_from(b).ok()?)?,
                    // ld compares bfd_vma values: unsigned.
                    Lt => (a < b) as u64,
                    Gt => (a > b) as u64,
                    Le => (a <= b) as u64,
                    Ge => (a >= b) as u64,
                    Eq => (a == b) as u64,
                    Ne => (a != b) as u64,
                    BitAnd => a & b,
                    BitXor => a ^ b,
                    BitOr => a | b,
                    And => (a != 0 && b != 0) as u64,
                    Or => (a != 0 || b != 0) as u64,
                }
            }
            ExprKind::Ternary {
                cond,
                then,
                otherwise,
            } => {
                if cond.eval_const()? != 0 {
                    then.eval_const()?
                } else {
                    otherwise.eval_const()?
                }
            }
            ExprKind::Call { function, args } => {
                let v: Option<Vec<u64>> = args.iter().map(Expr::eval_const).collect();
                let v = v?;
                match (function, v.as_slice()) {
                    (Builtin::Absolute, [a]) => *a,
                    (Builtin::Align, [a, b]) => align_up(*a, *b)?,
                    (Builtin::Max, [a, b]) => *a.max(b),
                    (Builtin::Min, [a, b]) => *a.min(b),
                    (Builtin::Log2ceil, [a]) => {
                        if *a <= 1 {
                            0
                        } else {
                            64 - (a - 1).leading_zeros() as u64
                        }
                    }
                    _ => return None,
                }
            }
            _ => return None,
        })
    }
}

fn align_up(a: u64, b: u64) -> Option<u64> {
    if b == 0 {
        return Some(a);
    }
    let r = a % b;
    if r == 0 {
        Some(a)
    } else {
        a.checked_add(b - r)
    }
}
