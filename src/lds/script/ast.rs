//! The linker-script AST. Every node has a [`Span`] of byte offsets into the
//! text that was parsed; names of fields ending in `span` are spans (the
//! round-trip tests compare trees with those fields removed).

use serde::Serialize;

/// Byte offsets `start..end` into the parsed text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
    pub(crate) fn to(self, other: Span) -> Span {
        Span::new(self.start, other.end.max(self.start))
    }
}

/// A whole script: its commands in order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Script {
    pub commands: Vec<Command>,
    /// Whether dead marking compared every description with every earlier
    /// one; false only on scripts with tens of thousands of descriptions,
    /// where it stops (what is marked is still right; some dead ones may not be).
    pub marks_complete: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Command {
    #[serde(flatten)]
    pub kind: CommandKind,
    pub span: Span,
}

/// A top-level command.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum CommandKind {
    Sections {
        items: Vec<SectionsItem>,
    },
    Memory {
        regions: Vec<MemoryRegion>,
    },
    Phdrs {
        phdrs: Vec<Phdr>,
    },
    Entry {
        symbol: String,
    },
    /// One name, or default, big-endian, little-endian.
    OutputFormat {
        formats: Vec<String>,
    },
    OutputArch {
        arch: String,
    },
    Output {
        file: String,
    },
    Input {
        files: Vec<InputFile>,
    },
    Group {
        files: Vec<InputFile>,
    },
    SearchDir {
        dir: String,
    },
    Target {
        bfd: String,
    },
    Startup {
        file: String,
    },
    /// `INCLUDE file`: recorded, not followed (the preprocessor sees files, we do not).
    Include {
        file: String,
    },
    Insert {
        before: bool,
        section: String,
    },
    NoCrossRefs {
        sections: Vec<String>,
    },
    NoCrossRefsTo {
        sections: Vec<String>,
    },
    Extern {
        symbols: Vec<String>,
    },
    RegionAlias {
        alias: String,
        region: String,
    },
    LdFeature {
        feature: String,
    },
    ForceCommonAllocation,
    InhibitCommonAllocation,
    ForceGroupAllocation,
    Assignment(Assignment),
    Assert(Assert),
}

/// A file of `INPUT(...)`/`GROUP(...)`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InputFile {
    pub name: String,
    /// `-lNAME`.
    pub library: bool,
    /// Inside `AS_NEEDED(...)`.
    pub as_needed: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SectionsItem {
    #[serde(flatten)]
    pub kind: ItemKind,
    pub span: Span,
}

/// What the body of `SECTIONS` holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "item", rename_all = "snake_case")]
pub enum ItemKind {
    Output(OutputSection),
    Overlay(Overlay),
    Assignment(Assignment),
    Assert(Assert),
    Entry { symbol: String },
    Include { file: String },
}

/// An output section description, `NAME [addr] [(type)] : [AT(lma)] [ALIGN(a)]
/// [ALIGN_WITH_INPUT] [SUBALIGN(a)] [constraint] { statements } [>region]
/// [AT>lma_region] [:phdr...] [=fill]`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OutputSection {
    pub name: String,
    pub name_span: Span,
    pub address: Option<Expr>,
    pub section_type: Option<SectionType>,
    pub at: Option<Expr>,
    pub align: Option<Expr>,
    pub align_with_input: bool,
    pub subalign: Option<Expr>,
    pub constraint: Option<Constraint>,
    pub statements: Vec<Statement>,
    pub region: Option<String>,
    pub lma_region: Option<String>,
    pub phdrs: Vec<String>,
    pub fill: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SectionType {
    NoLoad,
    DSect,
    Copy,
    Info,
    Overlay,
    ReadOnly,
    /// `READONLY (TYPE = exp)`.
    ReadOnlyType {
        value: Expr,
    },
    /// `TYPE = exp`.
    Type {
        value: Expr,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Constraint {
    OnlyIfRo,
    OnlyIfRw,
    Special,
}

/// `OVERLAY [start] : [NOCROSSREFS] [AT(lma)] [SUBALIGN(a)] { sections } ...`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Overlay {
    pub address: Option<Expr>,
    pub nocrossrefs: bool,
    pub at: Option<Expr>,
    pub subalign: Option<Expr>,
    /// The overlaid sections (only name, statements, phdrs and fill are set).
    pub sections: Vec<OutputSection>,
    pub region: Option<String>,
    pub lma_region: Option<String>,
    pub phdrs: Vec<String>,
    pub fill: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Statement {
    #[serde(flatten)]
    pub kind: StatementKind,
    pub span: Span,
}

/// A statement inside an output section.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "statement", rename_all = "snake_case")]
pub enum StatementKind {
    Assignment(Assignment),
    Input(InputDescription),
    /// `BYTE(e)`, `SHORT(e)`, `LONG(e)`, `QUAD(e)`, `SQUAD(e)`.
    Data {
        size: DataSize,
        value: Expr,
    },
    Fill {
        value: Expr,
    },
    Asciz {
        string: String,
    },
    Assert(Assert),
    /// `CONSTRUCTORS`, or `SORT(CONSTRUCTORS)` when sorted.
    Constructors {
        sorted: bool,
    },
    CreateObjectSymbols,
    LinkerVersion,
    Include {
        file: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum DataSize {
    Byte,
    Short,
    Long,
    Quad,
    Squad,
}

impl DataSize {
    pub fn keyword(self) -> &'static str {
        match self {
            DataSize::Byte => "BYTE",
            DataSize::Short => "SHORT",
            DataSize::Long => "LONG",
            DataSize::Quad => "QUAD",
            DataSize::Squad => "SQUAD",
        }
    }
}

/// `target op value`, possibly inside `PROVIDE(...)`, `PROVIDE_HIDDEN(...)`
/// or `HIDDEN(...)` (which only allow `=`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Assignment {
    pub target: String,
    pub op: AssignOp,
    pub value: Expr,
    pub wrapper: Option<AssignWrapper>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignWrapper {
    Provide,
    ProvideHidden,
    Hidden,
}

impl AssignWrapper {
    pub fn keyword(self) -> &'static str {
        match self {
            AssignWrapper::Provide => "PROVIDE",
            AssignWrapper::ProvideHidden => "PROVIDE_HIDDEN",
            AssignWrapper::Hidden => "HIDDEN",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AssignOp {
    #[serde(rename = "=")]
    Assign,
    #[serde(rename = "+=")]
    Add,
    #[serde(rename = "-=")]
    Sub,
    #[serde(rename = "*=")]
    Mul,
    #[serde(rename = "/=")]
    Div,
    #[serde(rename = "<<=")]
    Shl,
    #[serde(rename = ">>=")]
    Shr,
    #[serde(rename = "&=")]
    And,
    #[serde(rename = "|=")]
    Or,
    #[serde(rename = "^=")]
    Xor,
}

impl AssignOp {
    pub fn text(self) -> &'static str {
        match self {
            AssignOp::Assign => "=",
            AssignOp::Add => "+=",
            AssignOp::Sub => "-=",
            AssignOp::Mul => "*=",
            AssignOp::Div => "/=",
            AssignOp::Shl => "<<=",
            AssignOp::Shr => ">>=",
            AssignOp::And => "&=",
            AssignOp::Or => "|=",
            AssignOp::Xor => "^=",
        }
    }
    pub(crate) fn from_op(op: &str) -> Option<AssignOp> {
        Some(match op {
            "=" => AssignOp::Assign,
            "+=" => AssignOp::Add,
            "-=" => AssignOp::Sub,
            "*=" => AssignOp::Mul,
            "/=" => AssignOp::Div,
            "<<=" => AssignOp::Shl,
            ">>=" => AssignOp::Shr,
            "&=" => AssignOp::And,
            "|=" => AssignOp::Or,
            "^=" => AssignOp::Xor,
            _ => return None,
        })
    }
}

/// `ASSERT(cond, "message")`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Assert {
    pub cond: Expr,
    pub message: String,
}

/// An input section description: `[KEEP(] [INPUT_SECTION_FLAGS(...)] file
/// [(sections)] [)]`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InputDescription {
    pub keep: bool,
    /// `INPUT_SECTION_FLAGS` names as written (`SHF_WRITE`, `!SHF_EXECINSTR`).
    pub flags: Vec<String>,
    /// The file pattern; `None` for the old `[ sections ]` form (every file).
    pub file: Option<FilePattern>,
    /// The section patterns; `None` when only a file is named (all its sections).
    pub sections: Option<Vec<SectionPattern>>,
    /// Every section this description names already goes to an earlier
    /// description (ld's first match wins), so it can match nothing.
    pub dead: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FilePattern {
    pub pattern: String,
    pub sort: Option<SortKind>,
    /// `EXCLUDE_FILE(...)` before the file pattern.
    pub exclude: Vec<String>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SectionPattern {
    pub pattern: String,
    /// Sorting, outermost first (`SORT_BY_NAME(SORT_BY_ALIGNMENT(p))` is two).
    pub sort: Vec<SortKind>,
    /// `EXCLUDE_FILE(...)` before this pattern inside the list.
    pub exclude: Vec<String>,
    /// The earlier description that already takes every section this pattern
    /// matches, if any.
    pub covered_by: Option<Cover>,
    pub span: Span,
}

/// Where a covering description is: the index of its output section in
/// [`Script::output_sections`], the statement index in it, and the index of
/// the covering pattern in its list (0 for a file-only description).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Cover {
    pub section: usize,
    pub statement: usize,
    pub pattern: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKind {
    Name,
    Alignment,
    InitPriority,
    None,
    Reverse,
}

impl SortKind {
    pub fn keyword(self) -> &'static str {
        match self {
            SortKind::Name => "SORT_BY_NAME",
            SortKind::Alignment => "SORT_BY_ALIGNMENT",
            SortKind::InitPriority => "SORT_BY_INIT_PRIORITY",
            SortKind::None => "SORT_NONE",
            SortKind::Reverse => "REVERSE",
        }
    }
}

/// `MEMORY` entry: `name [(attrs)] : ORIGIN = e, LENGTH = e`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemoryRegion {
    pub name: String,
    /// Attribute words as written; a negated one starts with `!`.
    pub attributes: Vec<String>,
    pub origin: Expr,
    pub length: Expr,
    pub span: Span,
}

/// `PHDRS` entry: `name type [FILEHDR] [PHDRS] [AT(e)] [FLAGS(e)] ;`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Phdr {
    pub name: String,
    pub phdr_type: Expr,
    pub filehdr: bool,
    pub phdrs: bool,
    pub at: Option<Expr>,
    pub flags: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Expr {
    #[serde(flatten)]
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "expr", rename_all = "snake_case")]
pub enum ExprKind {
    /// A literal: value (K/M applied) and text as written.
    Number {
        value: u64,
        text: String,
    },
    /// A symbol, `.` included.
    Symbol {
        name: String,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Ternary {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    /// A built-in over expressions: `ALIGN(a)`, `ALIGN(a, b)`, `MAX(a, b)`...
    Call {
        function: Builtin,
        args: Vec<Expr>,
    },
    /// A built-in over a name: `ADDR(.text)`, `DEFINED(sym)`, `CONSTANT(MAXPAGESIZE)`...
    NameOf {
        function: NameBuiltin,
        name: String,
    },
    /// `SEGMENT_START(segment, default)`.
    SegmentStart {
        segment: String,
        default: Box<Expr>,
    },
    /// `ASSERT(cond, msg)` used as a value (it is `cond`).
    Assert {
        cond: Box<Expr>,
        message: String,
    },
    SizeofHeaders,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum UnaryOp {
    #[serde(rename = "-")]
    Neg,
    #[serde(rename = "!")]
    Not,
    #[serde(rename = "~")]
    BitNot,
}

impl UnaryOp {
    pub fn text(self) -> &'static str {
        match self {
            UnaryOp::Neg => "-",
            UnaryOp::Not => "!",
            UnaryOp::BitNot => "~",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum BinaryOp {
    #[serde(rename = "*")]
    Mul,
    #[serde(rename = "/")]
    Div,
    #[serde(rename = "%")]
    Rem,
    #[serde(rename = "+")]
    Add,
    #[serde(rename = "-")]
    Sub,
    #[serde(rename = "<<")]
    Shl,
    #[serde(rename = ">>")]
    Shr,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
    #[serde(rename = "&")]
    BitAnd,
    #[serde(rename = "^")]
    BitXor,
    #[serde(rename = "|")]
    BitOr,
    #[serde(rename = "&&")]
    And,
    #[serde(rename = "||")]
    Or,
}

impl BinaryOp {
    pub fn text(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Mul => "*",
            Div => "/",
            Rem => "%",
            Add => "+",
            Sub => "-",
            Shl => "<<",
            Shr => ">>",
            Lt => "<",
            Gt => ">",
            Le => "<=",
            Ge => ">=",
            Eq => "==",
            Ne => "!=",
            BitAnd => "&",
            BitXor => "^",
            BitOr => "|",
            And => "&&",
            Or => "||",
        }
    }
    /// ld's precedence (`ldgram.y`), higher binds tighter; all left-associative.
    pub fn precedence(self) -> u8 {
        use BinaryOp::*;
        match self {
            Or => 1,
            And => 2,
            BitOr => 3,
            BitXor => 4,
            BitAnd => 5,
            Eq | Ne => 6,
            Lt | Gt | Le | Ge => 7,
            Shl | Shr => 8,
            Add | Sub => 9,
            Mul | Div | Rem => 10,
        }
    }
    pub(crate) fn from_op(op: &str) -> Option<BinaryOp> {
        use BinaryOp::*;
        Some(match op {
            "*" => Mul,
            "/" => Div,
            "%" => Rem,
            "+" => Add,
            "-" => Sub,
            "<<" => Shl,
            ">>" => Shr,
            "<" => Lt,
            ">" => Gt,
            "<=" => Le,
            ">=" => Ge,
            "==" => Eq,
            "!=" => Ne,
            "&" => BitAnd,
            "^" => BitXor,
            "|" => BitOr,
            "&&" => And,
            "||" => Or,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Builtin {
    Absolute,
    Align,
    Block,
    DataSegmentAlign,
    DataSegmentRelroEnd,
    DataSegmentEnd,
    Next,
    Max,
    Min,
    Log2ceil,
}

impl Builtin {
    pub fn keyword(self) -> &'static str {
        match self {
            Builtin::Absolute => "ABSOLUTE",
            Builtin::Align => "ALIGN",
            Builtin::Block => "BLOCK",
            Builtin::DataSegmentAlign => "DATA_SEGMENT_ALIGN",
            Builtin::DataSegmentRelroEnd => "DATA_SEGMENT_RELRO_END",
            Builtin::DataSegmentEnd => "DATA_SEGMENT_END",
            Builtin::Next => "NEXT",
            Builtin::Max => "MAX",
            Builtin::Min => "MIN",
            Builtin::Log2ceil => "LOG2CEIL",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NameBuiltin {
    Addr,
    Loadaddr,
    Sizeof,
    Alignof,
    Origin,
    Length,
    Defined,
    Constant,
}

impl NameBuiltin {
    pub fn keyword(self) -> &'static str {
        match self {
            NameBuiltin::Addr => "ADDR",
            NameBuiltin::Loadaddr => "LOADADDR",
            NameBuiltin::Sizeof => "SIZEOF",
            NameBuiltin::Alignof => "ALIGNOF",
            NameBuiltin::Origin => "ORIGIN",
            NameBuiltin::Length => "LENGTH",
            NameBuiltin::Defined => "DEFINED",
            NameBuiltin::Constant => "CONSTANT",
        }
    }
    /// The argument is lexed as a script name (`ADDR(.note.gnu.build-id)`),
    /// as ld's `paren_script_name` does; `DEFINED`/`CONSTANT` take expression names.
    pub(crate) fn script_name(self) -> bool {
        !matches!(self, NameBuiltin::Defined | NameBuiltin::Constant)
    }
}
