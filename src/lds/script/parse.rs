//! Recursive descent after ld's `ldgram.y`, asking the lexer for the state
//! the grammar would have switched it to at each token.

use super::ast::*;
use super::lex::{Lexer, Mode, Tok};
use super::ParseError;

/// Deepest recursion the expression parser goes (parentheses, unary operators,
/// right operands). Real scripts nest a dozen levels after preprocessing; 64
/// keeps a debug build well inside a 1 MiB thread stack (about 8 KiB a level).
pub(crate) const MAX_NESTING: u32 = 64;
/// Highest expression tree accepted (a chain `a+a+...` builds height without recursion).
pub(crate) const MAX_EXPR_HEIGHT: u32 = 256;

pub(crate) struct Parser<'a> {
    lx: Lexer<'a>,
    /// End of the last consumed token.
    pos: usize,
    /// The token at `pos` lexed in a mode, kept until consumed or asked for in another mode.
    peeked: Option<(Mode, Tok<'a>, Span)>,
}

const TYPE_KW: &[&str] = &[
    "NOLOAD", "DSECT", "COPY", "INFO", "OVERLAY", "READONLY", "TYPE",
];

/// Whether a bare name is spelled like an ld keyword (`SORT_BY_FOO`): used to
/// report an unknown keyword instead of reading it as a file or symbol name.
pub(crate) fn looks_like_keyword(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2
        && b[0].is_ascii_uppercase()
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
}

type R<T> = Result<T, ParseError>;

/// What a sorting keyword may hold inside it.
#[derive(Clone, Copy, PartialEq)]
enum Nest {
    Any,
    SortOrReverse,
    Reverse,
    Plain,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(text: &'a str) -> Parser<'a> {
        Parser {
            lx: Lexer { text },
            pos: 0,
            peeked: None,
        }
    }

    /// The next token in `mode`, lexed once and kept until consumed.
    fn look(&mut self, mode: Mode) -> R<(&Tok<'a>, Span)> {
        if !matches!(&self.peeked, Some((m, _, _)) if *m == mode) {
            let (t, s) = self.lx.next(self.pos, mode)?;
            self.peeked = Some((mode, t, s));
        }
        match &self.peeked {
            Some((_, t, s)) => Ok((t, *s)),
            None => Err(self.err(self.pos, "internal: no token".to_string())),
        }
    }

    fn peek(&mut self, mode: Mode) -> R<(Tok<'a>, Span)> {
        let (t, s) = self.look(mode)?;
        Ok((*t, s))
    }

    fn bump(&mut self, mode: Mode) -> R<(Tok<'a>, Span)> {
        let (t, s) = match self.peeked.take() {
            Some((m, t, s)) if m == mode => (t, s),
            _ => self.lx.next(self.pos, mode)?,
        };
        self.pos = s.end;
        Ok((t, s))
    }

    /// Take the token already lexed in `from` as if lexed in `to`: what
    /// bison's lookahead does when the grammar switches the lexer state
    /// after the token was read (ldlex.l's comment on `section`).
    fn carry_lookahead(&mut self, from: Mode, to: Mode) {
        if let Some((m, _, _)) = &mut self.peeked {
            if *m == from {
                *m = to;
            }
        }
    }

    fn save(&self) -> usize {
        self.pos
    }

    fn restore(&mut self, pos: usize) {
        self.pos = pos;
        self.peeked = None;
    }

    /// Back at `pos`, where `tok` (at `span`, in `mode`) was lexed already.
    fn restore_peeked(&mut self, pos: usize, mode: Mode, tok: Tok<'a>, span: Span) {
        self.pos = pos;
        self.peeked = Some((mode, tok, span));
    }

    fn err(&self, offset: usize, message: String) -> ParseError {
        self.lx.error(offset, message)
    }

    fn unexpected(&self, tok: &Tok, span: Span, expected: &str) -> ParseError {
        self.err(
            span.start,
            format!("expected {expected}, found {}", tok.describe()),
        )
    }

    fn is_op(&mut self, mode: Mode, op: &str) -> R<bool> {
        Ok(matches!(self.look(mode)?.0, Tok::Op(o) if *o == op))
    }

    fn is_kw(&mut self, mode: Mode, kw: &str) -> R<bool> {
        Ok(matches!(self.look(mode)?.0, Tok::Kw(k) if *k == kw))
    }

    fn eat_op(&mut self, mode: Mode, op: &str) -> R<bool> {
        if self.is_op(mode, op)? {
            self.bump(mode)?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn expect_op(&mut self, mode: Mode, op: &str) -> R<Span> {
        let (t, s) = self.look(mode)?;
        if matches!(t, Tok::Op(o) if *o == op) {
            self.bump(mode)?;
            return Ok(s);
        }
        let t = *t;
        Err(self.unexpected(&t, s, &format!("`{op}`")))
    }

    /// `}` closing a block opened at `open`, or an error naming where it opened.
    fn expect_close(&mut self, mode: Mode, what: &str, open: Span) -> R<Span> {
        let (t, s) = self.peek(mode)?;
        match t {
            Tok::Op("}") => {
                self.bump(mode)?;
                Ok(s)
            }
            _ => {
                let (line, col) = super::line_col(self.lx.text, open.start);
                Err(self.unexpected(
                    &t,
                    s,
                    &format!("`}}` closing the {what} opened at {line}:{col}"),
                ))
            }
        }
    }

    fn expect_name(&mut self, mode: Mode, what: &str) -> R<(String, Span)> {
        let (t, s) = self.peek(mode)?;
        match t {
            Tok::Name { text, .. } => {
                self.bump(mode)?;
                Ok((text.to_string(), s))
            }
            _ => Err(self.unexpected(&t, s, what)),
        }
    }

    // ---- top level -------------------------------------------------------

    pub(crate) fn script(&mut self) -> R<Script> {
        let mut commands = Vec::new();
        loop {
            let (t, s) = self.peek(Mode::Script)?;
            let kind = match t {
                Tok::Eof => break,
                Tok::Op(";") => {
                    self.bump(Mode::Script)?;
                    continue;
                }
                Tok::Kw(k) => {
                    self.bump(Mode::Script)?;
                    self.command(k, s)?
                }
                Tok::Name { text, .. } => {
                    self.bump(Mode::Script)?;
                    CommandKind::Assignment(self.assignment_after_name(
                        text.to_string(),
                        s,
                        Mode::Script,
                    )?)
                }
                _ => return Err(self.unexpected(&t, s, "a command or an assignment")),
            };
            commands.push(Command {
                kind,
                span: s.to(Span::new(self.pos, self.pos)),
            });
        }
        Ok(Script {
            commands,
            marks_complete: true,
        })
    }

    fn paren_name(&mut self, mode: Mode, what: &str) -> R<String> {
        self.expect_op(mode, "(")?;
        let (n, _) = self.expect_name(mode, what)?;
        self.expect_op(mode, ")")?;
        Ok(n)
    }

    fn command(&mut self, k: &'static str, kw: Span) -> R<CommandKind> {
        const S: Mode = Mode::Script;
        Ok(match k {
            "SECTIONS" => CommandKind::Sections {
                items: self.sections_body()?,
            },
            "MEMORY" => CommandKind::Memory {
                regions: self.memory()?,
            },
            "PHDRS" => CommandKind::Phdrs {
                phdrs: self.phdrs()?,
            },
            "ENTRY" => CommandKind::Entry {
                symbol: self.paren_name(S, "a symbol name")?,
            },
            "OUTPUT_ARCH" => CommandKind::OutputArch {
                arch: self.paren_name(S, "an architecture name")?,
            },
            "OUTPUT" => CommandKind::Output {
                file: self.paren_name(S, "a file name")?,
            },
            "SEARCH_DIR" => CommandKind::SearchDir {
                dir: self.paren_name(S, "a directory")?,
            },
            "TARGET" => CommandKind::Target {
                bfd: self.paren_name(S, "a BFD target name")?,
            },
            "STARTUP" => CommandKind::Startup {
                file: self.paren_name(S, "a file name")?,
            },
            "LD_FEATURE" => CommandKind::LdFeature {
                feature: self.paren_name(S, "a feature name")?,
            },
            "OUTPUT_FORMAT" => {
                self.expect_op(S, "(")?;
                let (a, _) = self.expect_name(S, "a BFD format name")?;
                let mut formats = vec![a];
                if self.eat_op(S, ",")? {
                    let (b, _) = self.expect_name(S, "a BFD format name")?;
                    self.expect_op(S, ",")?;
                    let (c, _) = self.expect_name(S, "a BFD format name")?;
                    formats.push(b);
                    formats.push(c);
                }
                self.expect_op(S, ")")?;
                CommandKind::OutputFormat { formats }
            }
            "REGION_ALIAS" => {
                self.expect_op(S, "(")?;
                let (alias, _) = self.expect_name(S, "an alias name")?;
                self.expect_op(S, ",")?;
                let (region, _) = self.expect_name(S, "a memory region name")?;
                self.expect_op(S, ")")?;
                CommandKind::RegionAlias { alias, region }
            }
            "INPUT" => CommandKind::Input {
                files: self.input_list()?,
            },
            "GROUP" => CommandKind::Group {
                files: self.input_list()?,
            },
            "INCLUDE" => CommandKind::Include {
                file: self.expect_name(S, "a file name")?.0,
            },
            "INSERT" => {
                let (t, s) = self.bump(S)?;
                let before = match t {
                    Tok::Kw("AFTER") => false,
                    Tok::Kw("BEFORE") => true,
                    _ => return Err(self.unexpected(&t, s, "`AFTER` or `BEFORE`")),
                };
                let (section, _) = self.expect_name(S, "an output section name")?;
                CommandKind::Insert { before, section }
            }
            "NOCROSSREFS" | "NOCROSSREFS_TO" => {
                self.expect_op(S, "(")?;
                let mut sections = Vec::new();
                while !self.eat_op(S, ")")? {
                    if self.eat_op(S, ",")? {
                        continue;
                    }
                    sections.push(self.expect_name(S, "a section name or `)`")?.0);
                }
                if k == "NOCROSSREFS" {
                    CommandKind::NoCrossRefs { sections }
                } else {
                    CommandKind::NoCrossRefsTo { sections }
                }
            }
            "EXTERN" => {
                self.expect_op(S, "(")?;
                let mut symbols = Vec::new();
                while !self.eat_op(Mode::Expr, ")")? {
                    if self.eat_op(Mode::Expr, ",")? {
                        continue;
                    }
                    symbols.push(self.expect_name(Mode::Expr, "a symbol name or `)`")?.0);
                }
                CommandKind::Extern { symbols }
            }
            "FORCE_COMMON_ALLOCATION" => CommandKind::ForceCommonAllocation,
            "INHIBIT_COMMON_ALLOCATION" => CommandKind::InhibitCommonAllocation,
            "FORCE_GROUP_ALLOCATION" => CommandKind::ForceGroupAllocation,
            "ASSERT" => CommandKind::Assert(self.assert_body()?),
            "PROVIDE" | "PROVIDE_HIDDEN" | "HIDDEN" => {
                CommandKind::Assignment(self.wrapped_assignment(k, S)?)
            }
            "VERSION" | "HLL" | "SYSLIB" | "FLOAT" | "NOFLOAT" | "LIB" => {
                return Err(self.err(kw.start, format!("`{k}` is not supported")));
            }
            _ => {
                return Err(self.err(
                    kw.start,
                    format!("expected a command or an assignment, found keyword `{k}`"),
                ))
            }
        })
    }

    fn input_list(&mut self) -> R<Vec<InputFile>> {
        const I: Mode = Mode::InputList;
        self.expect_op(Mode::Script, "(")?;
        let mut files = Vec::new();
        let mut as_needed = false;
        loop {
            let (t, s) = self.bump(I)?;
            match t {
                Tok::Op(")") if as_needed => as_needed = false,
                Tok::Op(")") => break,
                Tok::Op(",") => {}
                Tok::Kw("AS_NEEDED") if !as_needed => {
                    self.expect_op(I, "(")?;
                    as_needed = true;
                }
                Tok::Name { text, .. } => files.push(InputFile {
                    name: text.to_string(),
                    library: false,
                    as_needed,
                }),
                Tok::LName(name) => files.push(InputFile {
                    name: name.to_string(),
                    library: true,
                    as_needed,
                }),
                _ => return Err(self.unexpected(&t, s, "a file name or `)`")),
            }
        }
        Ok(files)
    }

    fn memory(&mut self) -> R<Vec<MemoryRegion>> {
        const S: Mode = Mode::Script;
        let open = self.expect_op(S, "{")?;
        let mut regions = Vec::new();
        loop {
            let (t, s) = self.peek(S)?;
            match t {
                Tok::Op("}") => {
                    self.bump(S)?;
                    break;
                }
                Tok::Op(",") => {
                    self.bump(S)?;
                }
                Tok::Name { text, .. } => {
                    self.bump(S)?;
                    let mut attributes = Vec::new();
                    if self.eat_op(S, "(")? {
                        loop {
                            let (t, s) = self.bump(S)?;
                            match t {
                                Tok::Op(")") => break,
                                Tok::Op("!") => {
                                    let (n, _) = self.expect_name(S, "an attribute")?;
                                    attributes.push(format!("!{n}"));
                                }
                                Tok::Name { text, .. } => attributes.push(text.to_string()),
                                _ => return Err(self.unexpected(&t, s, "an attribute or `)`")),
                            }
                        }
                    }
                    self.expect_op(S, ":")?;
                    let (t, ts) = self.bump(S)?;
                    if !matches!(t, Tok::Kw("ORIGIN" | "o" | "org")) {
                        return Err(self.unexpected(&t, ts, "`ORIGIN`"));
                    }
                    self.expect_op(S, "=")?;
                    let origin = self.expr()?;
                    // Without the comma the token after the origin is the
                    // expression's lookahead, lexed as ld lexes expressions:
                    // there `l`/`len` are names, only `LENGTH` the keyword.
                    let (t, ts) = if self.eat_op(Mode::Expr, ",")? {
                        self.bump(S)?
                    } else {
                        self.bump(Mode::Expr)?
                    };
                    if !matches!(t, Tok::Kw("LENGTH" | "l" | "len")) {
                        return Err(self.unexpected(&t, ts, "`LENGTH`"));
                    }
                    self.expect_op(S, "=")?;
                    let length = self.expr()?;
                    regions.push(MemoryRegion {
                        name: text.to_string(),
                        attributes,
                        origin,
                        length,
                        span: s.to(Span::new(self.pos, self.pos)),
                    });
                }
                Tok::Eof => {
                    self.expect_close(S, "MEMORY command", open)?;
                }
                _ => return Err(self.unexpected(&t, s, "a memory region or `}`")),
            }
        }
        Ok(regions)
    }

    fn phdrs(&mut self) -> R<Vec<Phdr>> {
        const S: Mode = Mode::Script;
        const E: Mode = Mode::Expr;
        let open = self.expect_op(S, "{")?;
        let mut phdrs = Vec::new();
        loop {
            let (t, s) = self.peek(S)?;
            match t {
                Tok::Op("}") => {
                    self.bump(S)?;
                    break;
                }
                Tok::Name { text, .. } => {
                    self.bump(S)?;
                    let phdr_type = self.expr()?;
                    let mut p = Phdr {
                        name: text.to_string(),
                        phdr_type,
                        filehdr: false,
                        phdrs: false,
                        at: None,
                        flags: None,
                        span: s,
                    };
                    loop {
                        let (t, qs) = self.bump(E)?;
                        match t {
                            Tok::Op(";") => break,
                            Tok::Kw("AT") => {
                                self.expect_op(E, "(")?;
                                p.at = Some(self.expr()?);
                                self.expect_op(E, ")")?;
                            }
                            Tok::Name { text: "FILEHDR", .. } => p.filehdr = true,
                            Tok::Name { text: "PHDRS", .. } => p.phdrs = true,
                            Tok::Name { text: "FLAGS", .. } => {
                                self.expect_op(E, "(")?;
                                p.flags = Some(self.expr()?);
                                self.expect_op(E, ")")?;
                            }
                            Tok::Name { text, .. } => {
                                return Err(self.err(
                                    qs.start,
                                    format!("unknown keyword `{text}` in PHDRS (expected FILEHDR, PHDRS, AT or FLAGS)"),
                                ))
                            }
                            _ => return Err(self.unexpected(&t, qs, "a PHDRS qualifier or `;`")),
                        }
                    }
                    p.span = s.to(Span::new(self.pos, self.pos));
                    phdrs.push(p);
                }
                Tok::Eof => {
                    self.expect_close(S, "PHDRS command", open)?;
                }
                _ => return Err(self.unexpected(&t, s, "a program header name or `}`")),
            }
        }
        Ok(phdrs)
    }

    // ---- assignments -----------------------------------------------------

    /// After `NAME` (consumed): an assignment operator, the value, a separator.
    fn assignment_after_name(&mut self, target: String, name: Span, mode: Mode) -> R<Assignment> {
        let (t, s) = self.peek(mode)?;
        let op = match &t {
            Tok::Op(o) => AssignOp::from_op(o),
            _ => None,
        };
        let Some(op) = op else {
            if looks_like_keyword(&target) {
                return Err(self.err(name.start, format!("unknown keyword `{target}`")));
            }
            return Err(self.unexpected(
                &t,
                s,
                &format!("an assignment operator after `{target}`"),
            ));
        };
        self.bump(mode)?;
        let value = self.expr()?;
        self.separator()?;
        Ok(Assignment {
            target,
            op,
            value,
            wrapper: None,
        })
    }

    /// `;` or `,` after an assignment (ld's `separator`: required).
    fn separator(&mut self) -> R<()> {
        let (t, s) = self.peek(Mode::Expr)?;
        match t {
            Tok::Op(";" | ",") => {
                self.bump(Mode::Expr)?;
                Ok(())
            }
            _ => Err(self.unexpected(&t, s, "`;` after the assignment")),
        }
    }

    /// After `PROVIDE`/`PROVIDE_HIDDEN`/`HIDDEN` (consumed).
    fn wrapped_assignment(&mut self, k: &str, mode: Mode) -> R<Assignment> {
        let wrapper = match k {
            "PROVIDE" => AssignWrapper::Provide,
            "PROVIDE_HIDDEN" => AssignWrapper::ProvideHidden,
            _ => AssignWrapper::Hidden,
        };
        self.expect_op(mode, "(")?;
        let (target, _) = self.expect_name(mode, "a symbol name")?;
        self.expect_op(mode, "=")?;
        let value = self.expr()?;
        self.expect_op(Mode::Expr, ")")?;
        self.separator()?;
        Ok(Assignment {
            target,
            op: AssignOp::Assign,
            value,
            wrapper: Some(wrapper),
        })
    }

    /// After `ASSERT` (consumed): `( exp , NAME )`.
    fn assert_body(&mut self) -> R<Assert> {
        self.expect_op(Mode::Expr, "(")?;
        let cond = self.expr()?;
        self.expect_op(Mode::Expr, ",")?;
        let (message, _) = self.expect_name(Mode::Expr, "the assertion message")?;
        self.expect_op(Mode::Expr, ")")?;
        Ok(Assert { cond, message })
    }

    // ---- SECTIONS --------------------------------------------------------

    fn sections_body(&mut self) -> R<Vec<SectionsItem>> {
        const S: Mode = Mode::Script;
        let open = self.expect_op(S, "{")?;
        // a script's SECTIONS holds tens of items: fewer regrowths of big elements
        let mut items = Vec::with_capacity(16);
        loop {
            let (t, s) = self.peek(S)?;
            let kind = match t {
                Tok::Op("}") => {
                    self.bump(S)?;
                    break;
                }
                Tok::Eof => {
                    self.expect_close(S, "SECTIONS command", open)?;
                    break;
                }
                Tok::Kw("ENTRY") => {
                    self.bump(S)?;
                    ItemKind::Entry {
                        symbol: self.paren_name(S, "a symbol name")?,
                    }
                }
                Tok::Kw("ASSERT") => {
                    self.bump(S)?;
                    ItemKind::Assert(self.assert_body()?)
                }
                Tok::Kw(k @ ("PROVIDE" | "PROVIDE_HIDDEN" | "HIDDEN")) => {
                    self.bump(S)?;
                    ItemKind::Assignment(self.wrapped_assignment(k, S)?)
                }
                Tok::Kw("INCLUDE") => {
                    self.bump(S)?;
                    ItemKind::Include {
                        file: self.expect_name(S, "a file name")?.0,
                    }
                }
                Tok::Kw("OVERLAY") => {
                    self.bump(S)?;
                    ItemKind::Overlay(self.overlay()?)
                }
                Tok::Kw(k) => {
                    return Err(self.err(
                        s.start,
                        format!(
                        "expected an output section, an assignment or `}}`, found keyword `{k}`"
                    ),
                    ))
                }
                Tok::Name { text, quoted } => {
                    self.bump(S)?;
                    let (next, _) = self.peek(S)?;
                    if matches!(&next, Tok::Op(o) if AssignOp::from_op(o).is_some()) {
                        ItemKind::Assignment(self.assignment_after_name(text.to_string(), s, S)?)
                    } else if !quoted && looks_like_keyword(text) {
                        // ld would take it for a section name: most likely a
                        // macro the preprocessor did not expand.
                        return Err(self.err(s.start, format!("unknown keyword `{text}`")));
                    } else {
                        ItemKind::Output(self.output_section(text.to_string(), s)?)
                    }
                }
                _ => return Err(self.unexpected(&t, s, "an output section, an assignment or `}`")),
            };
            items.push(SectionsItem {
                kind,
                span: s.to(Span::new(self.pos, self.pos)),
            });
        }
        Ok(items)
    }

    /// `(type)` or `()` at the current position, if that is what is there.
    fn section_type(&mut self) -> R<Option<Option<SectionType>>> {
        const E: Mode = Mode::Expr;
        if !self.is_op(E, "(")? {
            return Ok(None);
        }
        let back = self.save();
        self.bump(E)?;
        let (t, s) = self.peek(E)?;
        let ty = match t {
            Tok::Op(")") => None,
            Tok::Kw(k) if TYPE_KW.contains(&k) => {
                self.bump(E)?;
                Some(match k {
                    "NOLOAD" => SectionType::NoLoad,
                    "DSECT" => SectionType::DSect,
                    "COPY" => SectionType::Copy,
                    "INFO" => SectionType::Info,
                    "OVERLAY" => SectionType::Overlay,
                    "READONLY" => {
                        if self.eat_op(E, "(")? {
                            let (t, s) = self.bump(E)?;
                            if t != Tok::Kw("TYPE") {
                                return Err(self.unexpected(&t, s, "`TYPE`"));
                            }
                            self.expect_op(E, "=")?;
                            let value = self.expr()?;
                            self.expect_op(E, ")")?;
                            SectionType::ReadOnlyType { value }
                        } else {
                            SectionType::ReadOnly
                        }
                    }
                    _ => {
                        self.expect_op(E, "=")?;
                        SectionType::Type {
                            value: self.expr()?,
                        }
                    }
                })
            }
            // `(NOLAOD)` would be an address to ld; a misspelt type is
            // far likelier, so it is an error (an expression such as
            // `(FOO + 1)`, or a quoted name, is still an address).
            Tok::Name {
                text,
                quoted: false,
            } if looks_like_keyword(text) && {
                self.bump(E)?;
                self.is_op(E, ")")?
            } =>
            {
                return Err(self.err(s.start, format!("unknown output section type `{text}`")))
            }
            _ => {
                self.restore(back);
                return Ok(None);
            }
        };
        self.expect_op(E, ")")?;
        Ok(Some(ty))
    }

    fn paren_expr(&mut self) -> R<Expr> {
        self.expect_op(Mode::Expr, "(")?;
        let e = self.expr()?;
        self.expect_op(Mode::Expr, ")")?;
        Ok(e)
    }

    fn output_section(&mut self, name: String, name_span: Span) -> R<OutputSection> {
        const E: Mode = Mode::Expr;
        let mut sec = OutputSection {
            name,
            name_span,
            address: None,
            section_type: None,
            at: None,
            align: None,
            align_with_input: false,
            subalign: None,
            constraint: None,
            statements: Vec::new(),
            region: None,
            lma_region: None,
            phdrs: Vec::new(),
            fill: None,
            span: name_span,
        };
        // opt_exp_with_type. Its first token was read as the lookahead
        // after the name, in the SECTIONS state (`.t a-b :` has the address
        // `a-b`, a symbol; `.t 10h :` is a syntax error, as in ld).
        self.peek(Mode::Script)?;
        self.carry_lookahead(Mode::Script, E);
        match self.section_type()? {
            Some(ty) => sec.section_type = ty,
            None => {
                let (t, s) = self.peek(E)?;
                match t {
                    Tok::Op(":") => {}
                    Tok::Kw("BIND") => {
                        return Err(self.err(s.start, "`BIND` is not supported".to_string()))
                    }
                    Tok::Op("{") => {
                        return Err(self.unexpected(
                            &t,
                            s,
                            &format!("`:` after the output section name `{}`", sec.name),
                        ))
                    }
                    _ => {
                        sec.address = Some(self.expr()?);
                        if let Some(ty) = self.section_type()? {
                            sec.section_type = ty;
                        }
                    }
                }
            }
        }
        self.expect_op(E, ":")?;
        if self.is_kw(E, "AT")? {
            self.bump(E)?;
            sec.at = Some(self.paren_expr()?);
        }
        if self.is_kw(E, "ALIGN")? {
            self.bump(E)?;
            sec.align = Some(self.paren_expr()?);
        }
        if self.is_kw(E, "ALIGN_WITH_INPUT")? {
            self.bump(E)?;
            sec.align_with_input = true;
        }
        if self.is_kw(E, "SUBALIGN")? {
            self.bump(E)?;
            sec.subalign = Some(self.paren_expr()?);
        }
        let (t, _) = self.peek(E)?;
        sec.constraint = match t {
            Tok::Kw("ONLY_IF_RO") => Some(Constraint::OnlyIfRo),
            Tok::Kw("ONLY_IF_RW") => Some(Constraint::OnlyIfRw),
            Tok::Kw("SPECIAL") => Some(Constraint::Special),
            _ => None,
        };
        if sec.constraint.is_some() {
            self.bump(E)?;
        }
        let (t, s) = self.peek(E)?;
        if t != Tok::Op("{") {
            if let Tok::Name { text, .. } = &t {
                if looks_like_keyword(text) {
                    return Err(self.err(s.start, format!("unknown keyword `{text}`")));
                }
            }
            return Err(self.unexpected(
                &t,
                s,
                &format!("`{{` opening the output section `{}`", sec.name),
            ));
        }
        let open = self.expect_op(E, "{")?;
        sec.statements = self.statements(&format!("output section `{}`", sec.name), open)?;
        self.section_tail(
            &mut sec.region,
            &mut sec.lma_region,
            &mut sec.phdrs,
            &mut sec.fill,
            true,
        )?;
        self.eat_op(Mode::Script, ",")?;
        sec.span = name_span.to(Span::new(self.pos, self.pos));
        Ok(sec)
    }

    /// `>region AT>lma :phdr... =fill` after an output section's `}`.
    fn section_tail(
        &mut self,
        region: &mut Option<String>,
        lma: &mut Option<String>,
        phdrs: &mut Vec<String>,
        fill: &mut Option<Expr>,
        regions: bool,
    ) -> R<()> {
        const S: Mode = Mode::Script;
        if regions && self.eat_op(S, ">")? {
            *region = Some(self.expect_name(S, "a memory region name")?.0);
        }
        if regions && self.is_kw(S, "AT")? {
            self.bump(S)?;
            self.expect_op(S, ">")?;
            *lma = Some(self.expect_name(S, "a memory region name")?.0);
        }
        while self.eat_op(S, ":")? {
            phdrs.push(self.expect_name(S, "a program header name")?.0);
        }
        if self.eat_op(S, "=")? {
            *fill = Some(self.expr()?);
            // ld re-lexes the token after the fill expression only when it
            // is a name; anything else stays as the expression state read it.
            if !matches!(self.look(Mode::Expr)?.0, Tok::Name { .. }) {
                self.carry_lookahead(Mode::Expr, S);
            }
        }
        Ok(())
    }

    fn overlay(&mut self) -> R<Overlay> {
        const E: Mode = Mode::Expr;
        const S: Mode = Mode::Script;
        let mut ov = Overlay {
            address: None,
            nocrossrefs: false,
            at: None,
            subalign: None,
            sections: Vec::new(),
            region: None,
            lma_region: None,
            phdrs: Vec::new(),
            fill: None,
        };
        if !self.is_op(E, ":")? {
            ov.address = Some(self.expr()?);
        }
        self.expect_op(E, ":")?;
        if self.is_kw(E, "NOCROSSREFS")? {
            self.bump(E)?;
            ov.nocrossrefs = true;
        }
        if self.is_kw(E, "AT")? {
            self.bump(E)?;
            ov.at = Some(self.paren_expr()?);
        }
        if self.is_kw(E, "SUBALIGN")? {
            self.bump(E)?;
            ov.subalign = Some(self.paren_expr()?);
        }
        let open = self.expect_op(E, "{")?;
        loop {
            let (t, s) = self.peek(S)?;
            match t {
                Tok::Op("}") => {
                    self.bump(S)?;
                    break;
                }
                Tok::Eof => {
                    self.expect_close(S, "OVERLAY", open)?;
                }
                Tok::Name { text, .. } => {
                    self.bump(S)?;
                    let o = self.expect_op(S, "{")?;
                    let statements = self.statements(&format!("overlay section `{text}`"), o)?;
                    let mut sec = OutputSection {
                        name: text.to_string(),
                        name_span: s,
                        address: None,
                        section_type: None,
                        at: None,
                        align: None,
                        align_with_input: false,
                        subalign: None,
                        constraint: None,
                        statements,
                        region: None,
                        lma_region: None,
                        phdrs: Vec::new(),
                        fill: None,
                        span: s,
                    };
                    let (mut r, mut l) = (None, None);
                    self.section_tail(&mut r, &mut l, &mut sec.phdrs, &mut sec.fill, false)?;
                    self.eat_op(S, ",")?;
                    sec.span = s.to(Span::new(self.pos, self.pos));
                    ov.sections.push(sec);
                }
                _ => return Err(self.unexpected(&t, s, "an overlay section name or `}`")),
            }
        }
        self.section_tail(
            &mut ov.region,
            &mut ov.lma_region,
            &mut ov.phdrs,
            &mut ov.fill,
            true,
        )?;
        self.eat_op(S, ",")?;
        Ok(ov)
    }

    // ---- output section bodies -------------------------------------------

    /// Statements up to and including the closing `}`.
    fn statements(&mut self, what: &str, open: Span) -> R<Vec<Statement>> {
        const W: Mode = Mode::Wild;
        let mut out = Vec::new();
        loop {
            let (t, s) = self.peek(W)?;
            let kind = match t {
                Tok::Op("}") => {
                    self.bump(W)?;
                    break;
                }
                Tok::Op(";") => {
                    self.bump(W)?;
                    continue;
                }
                Tok::Eof => {
                    self.expect_close(W, what, open)?;
                    break;
                }
                Tok::Kw("KEEP") => {
                    self.bump(W)?;
                    self.expect_op(W, "(")?;
                    let mut d = self.input_description(true)?;
                    self.expect_op(W, ")")?;
                    d.span = s.to(Span::new(self.pos, self.pos));
                    StatementKind::Input(d)
                }
                Tok::Kw("INPUT_SECTION_FLAGS" | "EXCLUDE_FILE" | "SORT_NONE") | Tok::Op("[") => {
                    StatementKind::Input(self.input_description(false)?)
                }
                Tok::Kw("SORT_BY_NAME") => {
                    let back = self.save();
                    self.bump(W)?;
                    self.expect_op(W, "(")?;
                    if self.is_kw(W, "CONSTRUCTORS")? {
                        self.bump(W)?;
                        self.expect_op(W, ")")?;
                        StatementKind::Constructors { sorted: true }
                    } else {
                        self.restore(back);
                        StatementKind::Input(self.input_description(false)?)
                    }
                }
                Tok::Kw("CONSTRUCTORS") => {
                    self.bump(W)?;
                    StatementKind::Constructors { sorted: false }
                }
                Tok::Kw("CREATE_OBJECT_SYMBOLS") => {
                    self.bump(W)?;
                    StatementKind::CreateObjectSymbols
                }
                Tok::Kw("LINKER_VERSION") => {
                    self.bump(W)?;
                    StatementKind::LinkerVersion
                }
                Tok::Kw(k @ ("BYTE" | "SHORT" | "LONG" | "QUAD" | "SQUAD")) => {
                    self.bump(W)?;
                    let size = match k {
                        "BYTE" => DataSize::Byte,
                        "SHORT" => DataSize::Short,
                        "LONG" => DataSize::Long,
                        "QUAD" => DataSize::Quad,
                        _ => DataSize::Squad,
                    };
                    self.expect_op(W, "(")?;
                    let value = self.expr()?;
                    self.expect_op(Mode::Expr, ")")?;
                    StatementKind::Data { size, value }
                }
                Tok::Kw("FILL") => {
                    self.bump(W)?;
                    self.expect_op(W, "(")?;
                    let value = self.expr()?;
                    self.expect_op(Mode::Expr, ")")?;
                    StatementKind::Fill { value }
                }
                Tok::Kw("ASCIZ") => {
                    self.bump(W)?;
                    StatementKind::Asciz {
                        string: self.expect_name(W, "a string")?.0,
                    }
                }
                Tok::Kw("ASSERT") => {
                    self.bump(W)?;
                    let a = self.assert_body()?;
                    // Inside an output section ld wants a separator (between
                    // sections it wants none).
                    let (t, s) = self.peek(Mode::Expr)?;
                    if !matches!(t, Tok::Op(";" | ",")) {
                        return Err(self.unexpected(&t, s, "`;` after ASSERT(...)"));
                    }
                    self.bump(Mode::Expr)?;
                    StatementKind::Assert(a)
                }
                Tok::Kw("INCLUDE") => {
                    self.bump(W)?;
                    StatementKind::Include {
                        file: self.expect_name(W, "a file name")?.0,
                    }
                }
                Tok::Kw(k @ ("PROVIDE" | "PROVIDE_HIDDEN" | "HIDDEN")) => {
                    self.bump(W)?;
                    StatementKind::Assignment(self.wrapped_assignment(k, W)?)
                }
                Tok::Kw(k) => {
                    return Err(self.err(s.start, format!("unexpected keyword `{k}` in {what}")))
                }
                Tok::Name { ref text, .. } => {
                    let back = self.save();
                    self.bump(W)?;
                    let (next, _) = self.peek(W)?;
                    if matches!(&next, Tok::Op(o) if AssignOp::from_op(o).is_some()) {
                        StatementKind::Assignment(self.assignment_after_name(
                            text.to_string(),
                            s,
                            W,
                        )?)
                    } else {
                        // back at the name, which is lexed already
                        self.restore_peeked(back, W, t, s);
                        StatementKind::Input(self.input_description(false)?)
                    }
                }
                _ => return Err(self.unexpected(&t, s, &format!("a statement or `}}` in {what}"))),
            };
            out.push(Statement {
                kind,
                span: s.to(Span::new(self.pos, self.pos)),
            });
        }
        Ok(out)
    }

    /// A name that reads like a keyword followed by `(` is an unknown keyword.
    fn check_unknown_keyword(&mut self, text: &str, s: Span) -> R<()> {
        if looks_like_keyword(text) && self.is_op(Mode::Wild, "(")? {
            return Err(self.err(s.start, format!("unknown keyword `{text}`")));
        }
        Ok(())
    }

    /// `EXCLUDE_FILE(names) NAME` or `NAME`.
    fn wildcard_maybe_exclude(&mut self, what: &str) -> R<(String, Vec<String>, Span)> {
        const W: Mode = Mode::Wild;
        let (t, s) = self.peek(W)?;
        let mut exclude = Vec::new();
        if t == Tok::Kw("EXCLUDE_FILE") {
            self.bump(W)?;
            self.expect_op(W, "(")?;
            loop {
                let (t, s) = self.bump(W)?;
                match t {
                    Tok::Op(")") if !exclude.is_empty() => break,
                    Tok::Name { text, .. } => exclude.push(text.to_string()),
                    _ => return Err(self.unexpected(&t, s, "a file pattern")),
                }
            }
        }
        let (t, ps) = self.peek(W)?;
        match t {
            Tok::Name { text, quoted } => {
                self.bump(W)?;
                if !quoted {
                    self.check_unknown_keyword(text, ps)?;
                }
                Ok((text.to_string(), exclude, s.to(ps)))
            }
            _ => Err(self.unexpected(&t, ps, what)),
        }
    }

    fn input_description(&mut self, keep: bool) -> R<InputDescription> {
        const W: Mode = Mode::Wild;
        let (_, start) = self.peek(W)?;
        let mut flags = Vec::new();
        if self.is_kw(W, "INPUT_SECTION_FLAGS")? {
            self.bump(W)?;
            self.expect_op(W, "(")?;
            loop {
                let (n, _) = self.expect_name(W, "a section flag")?;
                flags.push(n);
                if !self.eat_op(W, "&")? {
                    break;
                }
            }
            self.expect_op(W, ")")?;
        }
        let (file, sections) = if self.eat_op(W, "[")? {
            (None, Some(self.section_list("]")?))
        } else {
            let (t, s) = self.peek(W)?;
            let sort = match t {
                Tok::Kw("SORT_BY_NAME") => Some(SortKind::Name),
                Tok::Kw("SORT_NONE") => Some(SortKind::None),
                _ => None,
            };
            let (pattern, exclude, span) = if sort.is_some() {
                self.bump(W)?;
                self.expect_op(W, "(")?;
                let (p, e, _) = self.wildcard_maybe_exclude("a file pattern")?;
                let end = self.expect_op(W, ")")?;
                (p, e, s.to(end))
            } else {
                self.wildcard_maybe_exclude("a file pattern or an input section description")?
            };
            let file = FilePattern {
                pattern,
                sort,
                exclude,
                span,
            };
            if self.eat_op(W, "(")? {
                (Some(file), Some(self.section_list(")")?))
            } else {
                let quoted = self.lx.text[file.span.start..].starts_with('"');
                if !quoted && looks_like_keyword(&file.pattern) && file.sort.is_none() {
                    // ld would read it as a file name: most likely a macro
                    // the preprocessor did not expand.
                    return Err(self.err(
                        file.span.start,
                        format!("unknown keyword `{}`", file.pattern),
                    ));
                }
                if file.sort.is_some() || !file.exclude.is_empty() {
                    let (t, s) = self.peek(W)?;
                    return Err(self.unexpected(&t, s, "`(` and a section list"));
                }
                (Some(file), None)
            }
        };
        Ok(InputDescription {
            keep,
            flags,
            file,
            sections,
            dead: false,
            span: start.to(Span::new(self.pos, self.pos)),
        })
    }

    /// Section patterns up to and including `close`.
    fn section_list(&mut self, close: &str) -> R<Vec<SectionPattern>> {
        const W: Mode = Mode::Wild;
        let mut out = Vec::new();
        loop {
            if self.is_op(W, close)? && !out.is_empty() {
                self.bump(W)?;
                return Ok(out);
            }
            out.push(self.section_spec(Nest::Any)?);
        }
    }

    /// A section pattern with its sorting, as `section_name_spec` allows:
    /// `SORT_BY_NAME`/`SORT_BY_ALIGNMENT` may hold one of each other (or
    /// themselves); `SORT_NONE` and `REVERSE` (ld 2.42) only a plain or
    /// reversed pattern; `SORT_BY_INIT_PRIORITY` only a plain one.
    fn section_spec(&mut self, nest: Nest) -> R<SectionPattern> {
        const W: Mode = Mode::Wild;
        let (t, s) = self.peek(W)?;
        let sort = match t {
            Tok::Kw("SORT_BY_NAME") => Some(SortKind::Name),
            Tok::Kw("SORT_BY_ALIGNMENT") => Some(SortKind::Alignment),
            Tok::Kw("SORT_BY_INIT_PRIORITY") => Some(SortKind::InitPriority),
            Tok::Kw("SORT_NONE") => Some(SortKind::None),
            Tok::Kw("REVERSE") => Some(SortKind::Reverse),
            _ => None,
        };
        if let Some(k) = sort {
            let name_or_align = matches!(k, SortKind::Name | SortKind::Alignment);
            let allowed = match nest {
                Nest::Any => true,
                Nest::SortOrReverse => name_or_align || k == SortKind::Reverse,
                Nest::Reverse => k == SortKind::Reverse,
                Nest::Plain => false,
            };
            if !allowed {
                return Err(self.err(s.start, format!("`{}` cannot be nested here", k.keyword())));
            }
            let next = match (nest, k) {
                (Nest::Any, SortKind::Name | SortKind::Alignment) => Nest::SortOrReverse,
                (_, SortKind::Name | SortKind::Alignment | SortKind::None) => Nest::Reverse,
                _ => Nest::Plain,
            };
            self.bump(W)?;
            self.expect_op(W, "(")?;
            let mut inner = self.section_spec(next)?;
            let end = self.expect_op(W, ")")?;
            inner.sort.insert(0, k);
            inner.span = s.to(end);
            return Ok(inner);
        }
        let (pattern, exclude, span) = self.wildcard_maybe_exclude("a section pattern")?;
        Ok(SectionPattern {
            pattern,
            sort: Vec::new(),
            exclude,
            covered_by: None,
            span,
        })
    }

    // ---- expressions -----------------------------------------------------

    pub(crate) fn expr(&mut self) -> R<Expr> {
        Ok(self.ternary(0)?.0)
    }

    fn height_check(&self, h: u32, at: usize) -> R<()> {
        if h > MAX_EXPR_HEIGHT {
            return Err(self.err(
                at,
                format!("expression too deeply nested (more than {MAX_EXPR_HEIGHT} levels)"),
            ));
        }
        Ok(())
    }

    fn ternary(&mut self, depth: u32) -> R<(Expr, u32)> {
        let (cond, h) = self.binary(1, depth)?;
        if !self.is_op(Mode::Expr, "?")? {
            return Ok((cond, h));
        }
        self.bump(Mode::Expr)?;
        let (then, h1) = self.ternary(depth + 1)?;
        self.expect_op(Mode::Expr, ":")?;
        let (otherwise, h2) = self.ternary(depth + 1)?;
        let h = h.max(h1).max(h2) + 1;
        self.height_check(h, cond.span.start)?;
        let span = cond.span.to(otherwise.span);
        Ok((
            Expr {
                kind: ExprKind::Ternary {
                    cond: Box::new(cond),
                    then: Box::new(then),
                    otherwise: Box::new(otherwise),
                },
                span,
            },
            h,
        ))
    }

    fn binary(&mut self, min_prec: u8, depth: u32) -> R<(Expr, u32)> {
        let (mut lhs, mut h) = self.unary(depth)?;
        loop {
            let op = match self.look(Mode::Expr)?.0 {
                Tok::Op(o) => BinaryOp::from_op(o),
                _ => None,
            };
            let Some(op) = op else { break };
            let p = op.precedence();
            if p < min_prec {
                break;
            }
            self.bump(Mode::Expr)?;
            let (rhs, rh) = self.binary(p + 1, depth + 1)?;
            h = h.max(rh) + 1;
            self.height_check(h, lhs.span.start)?;
            let span = lhs.span.to(rhs.span);
            lhs = Expr {
                kind: ExprKind::Binary {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                span,
            };
        }
        Ok((lhs, h))
    }

    fn unary(&mut self, depth: u32) -> R<(Expr, u32)> {
        const E: Mode = Mode::Expr;
        let (t, s) = self.look(E)?;
        let t = match t {
            Tok::Op(o) => Tok::Op(o),
            _ => Tok::Eof, // only operators matter here
        };
        if depth > MAX_NESTING {
            return Err(self.err(
                s.start,
                format!("expression too deeply nested (more than {MAX_NESTING} levels)"),
            ));
        }
        let op = match t {
            Tok::Op("-") => Some(UnaryOp::Neg),
            Tok::Op("!") => Some(UnaryOp::Not),
            Tok::Op("~") => Some(UnaryOp::BitNot),
            Tok::Op("+") => {
                // `+e` is `e` in ld's grammar.
                self.bump(E)?;
                return self.unary(depth + 1);
            }
            _ => None,
        };
        let Some(op) = op else {
            return self.primary(depth);
        };
        self.bump(E)?;
        let (operand, h) = self.unary(depth + 1)?;
        let span = s.to(operand.span);
        Ok((
            Expr {
                kind: ExprKind::Unary {
                    op,
                    operand: Box::new(operand),
                },
                span,
            },
            h + 1,
        ))
    }

    fn primary(&mut self, depth: u32) -> R<(Expr, u32)> {
        const E: Mode = Mode::Expr;
        let (t, s) = self.bump(E)?;
        match t {
            Tok::Int { value, text } => Ok((
                Expr {
                    kind: ExprKind::Number {
                        value,
                        text: text.to_string(),
                    },
                    span: s,
                },
                1,
            )),
            Tok::Name { text, quoted } => self.symbol(text.to_string(), quoted, s),
            Tok::Op("(") => {
                let (e, h) = self.ternary(depth + 1)?;
                self.expect_op(E, ")")?;
                Ok((e, h))
            }
            Tok::Kw(k) => self.builtin(k, s, depth),
            _ => Err(self.unexpected(&t, s, "an expression")),
        }
    }

    // Kept out of `primary`, which every level of parentheses goes through:
    // its stack frame stays small.
    #[inline(never)]
    fn symbol(&mut self, text: String, quoted: bool, s: Span) -> R<(Expr, u32)> {
        const E: Mode = Mode::Expr;
        let leaf = |kind| -> R<(Expr, u32)> { Ok((Expr { kind, span: s }, 1)) };
        if !quoted && looks_like_keyword(&text) && self.is_op(E, "(")? {
            // `.sec ADDR (NOLOAD) :` is fine; `FOO(x)` is not.
            let back = self.save();
            self.bump(E)?;
            let (n, _) = self.peek(E)?;
            self.restore(back);
            let is_type =
                matches!(n, Tok::Op(")")) || matches!(n, Tok::Kw(k) if TYPE_KW.contains(&k));
            if !is_type {
                return Err(self.err(s.start, format!("unknown function `{text}`")));
            }
        }
        leaf(ExprKind::Symbol { name: text })
    }

    #[inline(never)]
    fn builtin(&mut self, k: &'static str, s: Span, depth: u32) -> R<(Expr, u32)> {
        let (function, min, max) = match k {
            "ALIGN" => (Builtin::Align, 1, 2),
            "ABSOLUTE" => (Builtin::Absolute, 1, 1),
            "BLOCK" => (Builtin::Block, 1, 1),
            "DATA_SEGMENT_END" => (Builtin::DataSegmentEnd, 1, 1),
            "NEXT" => (Builtin::Next, 1, 1),
            "LOG2CEIL" => (Builtin::Log2ceil, 1, 1),
            "MAX" => (Builtin::Max, 2, 2),
            "MIN" => (Builtin::Min, 2, 2),
            "DATA_SEGMENT_ALIGN" => (Builtin::DataSegmentAlign, 2, 2),
            "DATA_SEGMENT_RELRO_END" => (Builtin::DataSegmentRelroEnd, 2, 2),
            "SEGMENT_START" => return self.segment_start(s, depth),
            "ASSERT" => return self.assert_expr(s, depth),
            "SIZEOF_HEADERS" => {
                return Ok((
                    Expr {
                        kind: ExprKind::SizeofHeaders,
                        span: s,
                    },
                    1,
                ))
            }
            _ => return self.name_call(k, s),
        };
        self.call(function, min, max, s, depth)
    }

    /// `(a [, b])` of a built-in over expressions.
    fn call(
        &mut self,
        function: Builtin,
        min: usize,
        max: usize,
        s: Span,
        depth: u32,
    ) -> R<(Expr, u32)> {
        const E: Mode = Mode::Expr;
        self.expect_op(E, "(")?;
        let mut args = Vec::new();
        let mut h = 0;
        loop {
            let (a, ah) = self.ternary(depth + 1)?;
            h = h.max(ah);
            args.push(a);
            if args.len() == max || (args.len() >= min && !self.is_op(E, ",")?) {
                break;
            }
            self.expect_op(E, ",")?;
        }
        let end = self.expect_op(E, ")")?;
        Ok((
            Expr {
                kind: ExprKind::Call { function, args },
                span: s.to(end),
            },
            h + 1,
        ))
    }

    fn name_call(&mut self, k: &'static str, s: Span) -> R<(Expr, u32)> {
        let function = match k {
            "ADDR" => NameBuiltin::Addr,
            "LOADADDR" => NameBuiltin::Loadaddr,
            "SIZEOF" => NameBuiltin::Sizeof,
            "ALIGNOF" => NameBuiltin::Alignof,
            "ORIGIN" => NameBuiltin::Origin,
            "LENGTH" => NameBuiltin::Length,
            "DEFINED" => NameBuiltin::Defined,
            "CONSTANT" => NameBuiltin::Constant,
            _ => {
                return Err(self.err(
                    s.start,
                    format!("expected an expression, found keyword `{k}`"),
                ))
            }
        };
        let m = if function.script_name() {
            Mode::Script
        } else {
            Mode::Expr
        };
        self.expect_op(m, "(")?;
        let (name, _) = self.expect_name(m, "a name")?;
        let end = self.expect_op(m, ")")?;
        Ok((
            Expr {
                kind: ExprKind::NameOf { function, name },
                span: s.to(end),
            },
            1,
        ))
    }

    fn segment_start(&mut self, s: Span, depth: u32) -> R<(Expr, u32)> {
        const E: Mode = Mode::Expr;
        self.expect_op(Mode::Script, "(")?;
        let (segment, _) = self.expect_name(Mode::Script, "a segment name")?;
        self.expect_op(E, ",")?;
        let (d, h) = self.ternary(depth + 1)?;
        let end = self.expect_op(E, ")")?;
        Ok((
            Expr {
                kind: ExprKind::SegmentStart {
                    segment,
                    default: Box::new(d),
                },
                span: s.to(end),
            },
            h + 1,
        ))
    }

    fn assert_expr(&mut self, s: Span, depth: u32) -> R<(Expr, u32)> {
        const E: Mode = Mode::Expr;
        self.expect_op(E, "(")?;
        let (c, h) = self.ternary(depth + 1)?;
        self.expect_op(E, ",")?;
        let (message, _) = self.expect_name(E, "the assertion message")?;
        let end = self.expect_op(E, ")")?;
        Ok((
            Expr {
                kind: ExprKind::Assert {
                    cond: Box::new(c),
                    message,
                },
                span: s.to(end),
            },
            h + 1,
        ))
    }
}
