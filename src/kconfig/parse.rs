//! Kconfig lexer and parser (`scripts/kconfig/lexer.l` and `parser.y`, Linux
//! 5.4–6.1 and Xen's copy), producing a tree of [`Node`]s with source locations.
//!
//! Files are read through a [`Vfs`] (the confined view of the tree), `source`
//! paths are relative to its root (`srctree`), `rsource`/`orsource` relative to the
//! including file; recursion is detected and reported with the inclusion path like
//! conf does. Words containing `$(...)` and quoted strings are macro-expanded
//! ([`Macros`]); variable assignments (`NAME := value`) are evaluated in order.
//! Limits on nesting depth, file count and total size keep hostile trees bounded.

use std::sync::Arc;

use super::macros::Macros;
use crate::tree::vfs::{Vfs, VfsError};

/// Where something was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    pub file: Arc<str>,
    pub line: usize,
}

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Bool,
    Tristate,
    Int,
    Hex,
    String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// An expression. A `Sym` is a word: a symbol name, or a constant such as `y`,
/// `16` or `0x10` (which one is decided at evaluation, as conf does); a `Str` is
/// a quoted constant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Sym(String),
    Str(String),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropKind {
    Prompt(String),
    Default(Expr),
    Select(String),
    Imply(String),
    Range(Expr, Expr),
}

/// A property with its `if` condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prop {
    pub kind: PropKind,
    pub cond: Option<Expr>,
    pub loc: Loc,
}

/// One `config`/`menuconfig` entry (a symbol may have several).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigEntry {
    pub name: String,
    pub menuconfig: bool,
    pub typ: Option<Type>,
    pub props: Vec<Prop>,
    pub depends: Vec<Expr>,
    pub help: Option<String>,
    /// `option modules` / `modules`
    pub modules: bool,
    /// `option defconfig_list`
    pub defconfig_list: bool,
    /// `option allnoconfig_y`
    pub allnoconfig_y: bool,
    pub loc: Option<Loc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Config(ConfigEntry),
    Choice {
        entry: ConfigEntry,
        optional: bool,
        children: Vec<Node>,
    },
    Menu {
        prompt: String,
        depends: Vec<Expr>,
        visible: Vec<Expr>,
        children: Vec<Node>,
        loc: Loc,
    },
    Comment {
        prompt: String,
        depends: Vec<Expr>,
        loc: Loc,
    },
    If {
        cond: Expr,
        children: Vec<Node>,
        loc: Loc,
    },
    MainMenu {
        prompt: String,
        loc: Loc,
    },
}

/// The dialect of the language (which constructs are accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// Xen's kconfig (Linux ~5.4): `---help---`, `option modules`,
    /// `option defconfig_list`.
    Xen,
    /// Linux 6.1: the `modules` keyword, no `---help---`, no `option defconfig_list`.
    #[default]
    Linux61,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("{loc}: syntax error: {message}")]
    Syntax { loc: Loc, message: String },
    #[error("{0}")]
    Macro(#[from] super::macros::MacroError),
    #[error("{loc}: can't open file \"{path}\": {why}")]
    Open { loc: Loc, path: String, why: String },
    #[error("Recursive inclusion detected.\nInclusion path:\n  current file : {file}\n{chain}")]
    Recursive { file: String, chain: String },
    #[error("{0}")]
    Limit(String),
}

/// Bounds for hostile trees.
pub const MAX_FILES: usize = 10_000;
pub const MAX_TOTAL_BYTES: usize = 64 * 1024 * 1024;
pub const MAX_NESTING: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Quote(String),
    Op(&'static str),
}

/// Everything a parse read: the files, and the paths looked for and not found
/// (`osource` of a missing file), so a later stage knows what a result depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    pub files: Vec<String>,
    pub missing: Vec<String>,
}

/// The parsed tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub nodes: Vec<Node>,
    pub inputs: Inputs,
    /// conf's warnings (ignored characters, no newline at end of file, ...).
    pub warnings: Vec<String>,
    /// Toolchain questions answered with a guess, and `$(info)` messages.
    pub guessed: Vec<String>,
    pub messages: Vec<String>,
    /// Environment variables the tree read, in first-reference order.
    pub env: Vec<(String, String)>,
    /// The dialect it was parsed in (some evaluation details differ).
    pub dialect: Dialect,
}

const KEYWORDS: &[&str] = &[
    "allnoconfig_y",
    "bool",
    "choice",
    "comment",
    "config",
    "def_bool",
    "def_tristate",
    "default",
    "defconfig_list",
    "depends",
    "endchoice",
    "endif",
    "endmenu",
    "help",
    "hex",
    "if",
    "imply",
    "int",
    "mainmenu",
    "menu",
    "menuconfig",
    "modules",
    "on",
    "option",
    "optional",
    "prompt",
    "range",
    "select",
    "source",
    "rsource",
    "osource",
    "orsource",
    "string",
    "tristate",
    "visible",
    "---help---",
];

/// Operators, longest first (so `!=` is not read as `!` then `=`).
const OPS: [&str; 13] = [
    "||", "&&", "!=", "<=", ">=", ":=", "+=", "!", "=", "<", ">", "(", ")",
];

/// conf's `sym_type_name`.
fn type_name(t: Type) -> &'static str {
    match t {
        Type::Bool => "bool",
        Type::Tristate => "tristate",
        Type::Int => "integer",
        Type::Hex => "hex",
        Type::String => "string",
    }
}

fn is_n(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// One logical line: its tokens, or an assignment.
enum Line {
    Tokens(Vec<Tok>),
    Assign {
        name: String,
        op: &'static str,
        value: String,
    },
}

struct FileState {
    name: Arc<str>,
    lines: Vec<String>,
    pos: usize,
}

/// The parser: a stack of open files (for `source`), and the macro environment.
pub struct Parser<'a, 't> {
    vfs: &'a dyn Vfs,
    pub macros: Macros<'t>,
    dialect: Dialect,
    files: Vec<FileState>,
    total_bytes: usize,
    file_count: usize,
    inputs: Inputs,
    warnings: Vec<String>,
    /// Each symbol's type as first declared (a later different one is ignored
    /// with conf's warning).
    types: std::collections::HashMap<String, Type>,
    /// The line of the statement being read.
    line_no: usize,
    /// The Kconfig tree's root inside the view (`xen` for Xen, "" for Linux):
    /// `source` paths are relative to it.
    srctree: String,
}

impl<'a, 't> Parser<'a, 't> {
    pub fn new(vfs: &'a dyn Vfs, macros: Macros<'t>, dialect: Dialect) -> Self {
        Parser {
            vfs,
            macros,
            dialect,
            files: Vec::new(),
            total_bytes: 0,
            file_count: 0,
            inputs: Inputs::default(),
            warnings: Vec::new(),
            types: std::collections::HashMap::new(),
            line_no: 0,
            srctree: String::new(),
        }
    }

    /// Set `srctree`: the directory of the view that `source` paths start from.
    pub fn with_srctree(mut self, srctree: &str) -> Self {
        self.srctree = srctree.trim_matches('/').to_string();
        self
    }

    fn in_srctree(&self, path: &str) -> String {
        if self.srctree.is_empty() {
            path.to_string()
        } else {
            format!("{}/{path}", self.srctree)
        }
    }

    fn loc(&self) -> Loc {
        match self.files.last() {
            Some(f) => Loc {
                file: f.name.clone(),
                line: self.line_no,
            },
            None => Loc {
                file: Arc::from(""),
                line: 0,
            },
        }
    }

    fn syntax(&self, message: impl Into<String>) -> ParseError {
        ParseError::Syntax {
            loc: self.loc(),
            message: message.into(),
        }
    }

    fn open(&mut self, path: &str, optional: bool) -> Result<bool, ParseError> {
        if self.files.iter().any(|f| &*f.name == path) {
            let mut chain = String::new();
            for f in self.files.iter().rev() {
                chain.push_str(&format!("  included from: {}:{}\n", f.name, f.pos));
                if &*f.name == path {
                    break;
                }
            }
            return Err(ParseError::Recursive {
                file: path.to_string(),
                chain,
            });
        }
        if self.files.len() >= MAX_NESTING {
            return Err(ParseError::Limit(format!(
                "{}: source nested more than {MAX_NESTING} deep",
                self.loc()
            )));
        }
        self.file_count += 1;
        if self.file_count > MAX_FILES {
            return Err(ParseError::Limit(format!(
                "more than {MAX_FILES} Kconfig files"
            )));
        }
        let bytes = match crate::tree::vfs::read_in_tree(self.vfs, path) {
            Ok(b) => b,
            Err(VfsError::NotFound(_)) if optional => {
                self.inputs.missing.push(path.to_string());
                return Ok(false);
            }
            Err(e) => {
                if matches!(e, VfsError::NotFound(_)) {
                    self.inputs.missing.push(path.to_string());
                }
                return Err(ParseError::Open {
                    loc: self.loc(),
                    path: path.to_string(),
                    why: e.to_string(),
                });
            }
        };
        self.total_bytes += bytes.len();
        if self.total_bytes > MAX_TOTAL_BYTES {
            return Err(ParseError::Limit(format!(
                "Kconfig files larger than {MAX_TOTAL_BYTES} bytes in all"
            )));
        }
        self.inputs.files.push(path.to_string());
        let text = String::from_utf8_lossy(&bytes);
        if !text.is_empty() && !text.ends_with('\n') {
            self.warnings.push(format!(
                "{path}:{}:warning: no new line at end of file",
                text.lines().count()
            ));
        }
        let lines = text
            .split('\n')
            .map(|l| l.trim_end_matches('\r').to_string())
            .collect();
        self.files.push(FileState {
            name: Arc::from(path),
            lines,
            pos: 0,
        });
        Ok(true)
    }

    /// The next raw physical line of the current file, if any.
    fn raw_line(&mut self) -> Option<String> {
        let f = self.files.last_mut()?;
        if f.pos >= f.lines.len() {
            return None;
        }
        let l = f.lines[f.pos].clone();
        f.pos += 1;
        Some(l)
    }

    fn peek_raw(&self) -> Option<&str> {
        let f = self.files.last()?;
        f.lines.get(f.pos).map(|s| s.as_str())
    }

    /// The next logical line (continuations joined, comments dropped), tokenized;
    /// None at the end of the current file.
    fn next_line(&mut self) -> Result<Option<Line>, ParseError> {
        loop {
            let Some(mut l) = self.raw_line() else {
                return Ok(None);
            };
            self.line_no = self.files.last().map_or(0, |f| f.pos);
            while l.ends_with('\\') {
                l.pop();
                match self.raw_line() {
                    Some(n) => l.push_str(&n),
                    None => break,
                }
            }
            let line = self.tokenize(&l)?;
            match line {
                Line::Tokens(t) if t.is_empty() => continue,
                other => return Ok(Some(other)),
            }
        }
    }

    fn tokenize(&mut self, l: &str) -> Result<Line, ParseError> {
        self.macros.file = self
            .files
            .last()
            .map(|f| f.name.to_string())
            .unwrap_or_default();
        self.macros.line = self.line_no;
        let b = l.as_bytes();
        let mut toks = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            match c {
                b' ' | b'\t' => i += 1,
                b'#' => break,
                b'"' | b'\'' => {
                    let q = c;
                    i += 1;
                    let mut s = String::new();
                    let mut raw_start = i;
                    while i < b.len() && b[i] != q {
                        if b[i] == b'\\' && i + 1 < b.len() {
                            s.push_str(&l[raw_start..i]);
                            i += 1;
                            raw_start = i;
                        }
                        i += 1;
                    }
                    s.push_str(&l[raw_start..i.min(b.len())]);
                    if i < b.len() {
                        i += 1;
                    } else {
                        self.warnings.push(format!(
                            "{}: warning: multi-line strings not supported",
                            self.loc()
                        ));
                    }
                    let s = if s.contains("$(") {
                        self.macros.expand(&s)?
                    } else {
                        s
                    };
                    toks.push(Tok::Quote(s));
                }
                _ if OPS.iter().any(|op| b[i..].starts_with(op.as_bytes())) => {
                    let op = OPS
                        .iter()
                        .find(|op| b[i..].starts_with(op.as_bytes()))
                        .copied()
                        .unwrap_or("");
                    toks.push(Tok::Op(op));
                    i += op.len();
                }
                c if is_n(c) || c == b'$' => {
                    let start = i;
                    let mut has_dollar = false;
                    while i < b.len() && (is_n(b[i]) || b[i] == b'$') {
                        if b[i] == b'$' && b.get(i + 1) == Some(&b'(') {
                            has_dollar = true;
                            // a reference runs to its closing parenthesis
                            let mut depth = 0;
                            while i < b.len() {
                                if b[i] == b'(' {
                                    depth += 1;
                                } else if b[i] == b')' {
                                    depth -= 1;
                                    if depth == 0 {
                                        i += 1;
                                        break;
                                    }
                                }
                                i += 1;
                            }
                            continue;
                        }
                        i += 1;
                    }
                    let word = &l[start..i];
                    if has_dollar {
                        let v = self.macros.expand(word)?;
                        if !v.is_empty() {
                            toks.push(Tok::Word(v));
                        }
                    } else {
                        toks.push(Tok::Word(word.to_string()));
                    }
                    // an assignment: WORD at the start followed by =, := or +=
                    if toks.len() == 1 {
                        let rest = l[i..].trim_start();
                        for op in [":=", "+=", "="] {
                            if let Some(v) = rest.strip_prefix(op) {
                                if let Tok::Word(name) = &toks[0] {
                                    if !KEYWORDS.contains(&name.as_str()) {
                                        return Ok(Line::Assign {
                                            name: name.clone(),
                                            op,
                                            value: v.trim_start().to_string(),
                                        });
                                    }
                                }
                            }
                        }
                    }
                }
                _ => {
                    self.warnings.push(format!(
                        "{}:warning: ignoring unsupported character '{}'",
                        self.loc(),
                        c as char
                    ));
                    i += 1;
                }
            }
        }
        Ok(Line::Tokens(toks))
    }

    /// Parse the tree from `root` (e.g. `Kconfig` or `xen/Kconfig`).
    pub fn parse(mut self, root: &str) -> Result<Parsed, ParseError> {
        let full = self.in_srctree(root);
        let root = crate::tree::vfs::normalize(&full).map_err(|e| ParseError::Open {
            loc: self.loc(),
            path: root.into(),
            why: e.to_string(),
        })?;
        self.open(&root, false)?;
        let mut nodes = Vec::new();
        self.block(&mut nodes, None, 0)?;
        let mut guessed = self.macros.guessed.clone();
        guessed.sort();
        guessed.dedup();
        let messages = self.macros.messages.clone();
        self.warnings.extend(self.macros.warnings.iter().cloned());
        let env = self.macros.env_order.clone();
        Ok(Parsed {
            env,
            dialect: self.dialect,
            nodes,
            inputs: self.inputs,
            warnings: self.warnings,
            guessed,
            messages,
        })
    }

    /// Parse statements until `end` (a closing keyword) or the end of the file
    /// stack's current level.
    fn block(
        &mut self,
        out: &mut Vec<Node>,
        end: Option<&'static str>,
        depth: usize,
    ) -> Result<(), ParseError> {
        if depth > MAX_NESTING {
            return Err(self.syntax("blocks nested too deeply"));
        }
        loop {
            let Some(line) = self.next_line()? else {
                // the end of the file this block reads
                if let Some(e) = end {
                    return Err(self.syntax(format!("unexpected end of file, expected '{e}'")));
                }
                self.files.pop();
                return Ok(());
            };
            let toks = match line {
                Line::Assign { name, op, value } => {
                    self.macros.assign(&name, op, &value)?;
                    continue;
                }
                Line::Tokens(t) => t,
            };
            let Tok::Word(kw) = &toks[0] else {
                return Err(self.syntax("a statement must start with a keyword"));
            };
            let kw = kw.clone();
            let loc = self.loc();
            match kw.as_str() {
                "config" | "menuconfig" => {
                    let name = self.word_arg(&toks, &kw)?;
                    let mut e = ConfigEntry {
                        name,
                        menuconfig: kw == "menuconfig",
                        loc: Some(loc),
                        ..Default::default()
                    };
                    self.attributes(&mut e)?;
                    out.push(Node::Config(e));
                }
                "choice" => {
                    let name = match toks.get(1) {
                        Some(Tok::Word(w)) => w.clone(),
                        _ => String::new(),
                    };
                    let mut e = ConfigEntry {
                        name,
                        loc: Some(loc),
                        ..Default::default()
                    };
                    let optional = self.attributes(&mut e)?;
                    let mut children = Vec::new();
                    self.block(&mut children, Some("endchoice"), depth + 1)?;
                    out.push(Node::Choice {
                        entry: e,
                        optional,
                        children,
                    });
                }
                "menu" => {
                    let prompt = self.quote_arg(&toks, "menu")?;
                    let (depends, visible) = self.menu_attributes()?;
                    let mut children = Vec::new();
                    self.block(&mut children, Some("endmenu"), depth + 1)?;
                    out.push(Node::Menu {
                        prompt,
                        depends,
                        visible,
                        children,
                        loc,
                    });
                }
                "comment" => {
                    let prompt = self.quote_arg(&toks, "comment")?;
                    let (depends, _) = self.menu_attributes()?;
                    out.push(Node::Comment {
                        prompt,
                        depends,
                        loc,
                    });
                }
                "if" => {
                    let cond = self.expr_of(&toks[1..])?;
                    let mut children = Vec::new();
                    self.block(&mut children, Some("endif"), depth + 1)?;
                    out.push(Node::If {
                        cond,
                        children,
                        loc,
                    });
                }
                "mainmenu" => {
                    let prompt = self.quote_arg(&toks, "mainmenu")?;
                    out.push(Node::MainMenu { prompt, loc });
                }
                "source" | "rsource" | "osource" | "orsource" => {
                    let path = self.quote_arg(&toks, &kw)?;
                    let relative = kw == "rsource" || kw == "orsource";
                    let optional = kw.starts_with('o');
                    let full = if relative {
                        let cur = self
                            .files
                            .last()
                            .map(|f| f.name.to_string())
                            .unwrap_or_default();
                        let dir = cur.rsplit_once('/').map_or("", |(d, _)| d);
                        format!("{dir}/{path}")
                    } else {
                        self.in_srctree(&path)
                    };
                    let full =
                        crate::tree::vfs::normalize(&full).map_err(|e| ParseError::Open {
                            loc: self.loc(),
                            path: path.clone(),
                            why: e.to_string(),
                        })?;
                    if self.open(&full, optional)? {
                        let mut inner = Vec::new();
                        self.block(&mut inner, None, depth + 1)?;
                        out.extend(inner);
                    }
                }
                e if Some(e) == end => return Ok(()),
                "endchoice" | "endmenu" | "endif" => {
                    return Err(self.syntax(format!(
                        "unexpected '{kw}' within {} block",
                        end.unwrap_or("top-level")
                    )));
                }
                other => {
                    return Err(
                        self.syntax(format!("unexpected '{other}' at the start of a statement"))
                    )
                }
            }
        }
    }

    fn word_arg(&self, toks: &[Tok], kw: &str) -> Result<String, ParseError> {
        match toks.get(1) {
            Some(Tok::Word(w)) if toks.len() == 2 => Ok(w.clone()),
            _ => Err(self.syntax(format!("'{kw}' takes one symbol name"))),
        }
    }

    fn quote_arg(&self, toks: &[Tok], kw: &str) -> Result<String, ParseError> {
        match toks.get(1) {
            Some(Tok::Quote(s) | Tok::Word(s)) => Ok(s.clone()),
            _ => Err(self.syntax(format!("'{kw}' takes a quoted string"))),
        }
    }

    /// Split `... if EXPR` into the part before `if` and the condition.
    fn split_if<'x>(&self, toks: &'x [Tok]) -> Result<(&'x [Tok], Option<Expr>), ParseError> {
        let mut depth = 0i32;
        for (i, t) in toks.iter().enumerate() {
            match t {
                Tok::Op("(") => depth += 1,
                Tok::Op(")") => depth -= 1,
                Tok::Word(w) if w == "if" && depth == 0 => {
                    return Ok((&toks[..i], Some(self.expr_of(&toks[i + 1..])?)))
                }
                _ => {}
            }
        }
        Ok((toks, None))
    }

    fn peek_keyword(&mut self) -> Option<String> {
        // look at the next non-blank, non-comment physical line's first word
        let f = self.files.last()?;
        let mut p = f.pos;
        while let Some(l) = f.lines.get(p) {
            let t = l.trim_start();
            if t.is_empty() || t.starts_with('#') {
                p += 1;
                continue;
            }
            let w: String = t
                .bytes()
                .take_while(|&c| is_n(c))
                .map(|c| c as char)
                .collect();
            return Some(w);
        }
        None
    }

    const ATTRS: &'static [&'static str] = &[
        "bool",
        "tristate",
        "int",
        "hex",
        "string",
        "def_bool",
        "def_tristate",
        "prompt",
        "default",
        "depends",
        "select",
        "imply",
        "range",
        "help",
        "---help---",
        "option",
        "optional",
        "modules",
        "visible",
    ];

    /// Attribute lines of a config or choice entry. Returns whether `optional` was given.
    fn attributes(&mut self, e: &mut ConfigEntry) -> Result<bool, ParseError> {
        let mut optional = false;
        loop {
            let Some(kw) = self.peek_keyword() else {
                return Ok(optional);
            };
            if !Self::ATTRS.contains(&kw.as_str()) {
                return Ok(optional);
            }
            let Some(Line::Tokens(toks)) = self.next_line()? else {
                return Ok(optional);
            };
            let loc = self.loc();
            let Some(Tok::Word(kw)) = toks.first().cloned() else {
                return Err(self.syntax("expected an attribute"));
            };
            let typ = match kw.as_str() {
                "bool" | "def_bool" => Some(Type::Bool),
                "tristate" | "def_tristate" => Some(Type::Tristate),
                "int" => Some(Type::Int),
                "hex" => Some(Type::Hex),
                "string" => Some(Type::String),
                _ => None,
            };
            if let Some(t) = typ {
                let old = e.typ.or_else(|| self.types.get(&e.name).copied());
                match old {
                    // conf names the entry's `config` line (menu_warn on the entry)
                    Some(old) if old != t => self.warnings.push(format!(
                        "{}:warning: ignoring type redefinition of '{}' from '{}' to '{}'",
                        e.loc.as_ref().unwrap_or(&loc),
                        e.name,
                        type_name(old),
                        type_name(t)
                    )),
                    _ => {
                        e.typ = Some(t);
                        if !e.name.is_empty() {
                            self.types.insert(e.name.clone(), t);
                        }
                    }
                }
                let (rest, cond) = self.split_if(&toks[1..])?;
                if kw.starts_with("def_") {
                    if rest.is_empty() {
                        return Err(self.syntax(format!("'{kw}' needs a value")));
                    }
                    e.props.push(Prop {
                        kind: PropKind::Default(self.expr_of(rest)?),
                        cond,
                        loc,
                    });
                } else if let Some(Tok::Quote(p)) = rest.first() {
                    self.check_prompt(e, &loc);
                    e.props.push(Prop {
                        kind: PropKind::Prompt(p.clone()),
                        cond,
                        loc,
                    });
                }
                continue;
            }
            match kw.as_str() {
                "prompt" => {
                    let (rest, cond) = self.split_if(&toks[1..])?;
                    let Some(Tok::Quote(p)) = rest.first() else {
                        return Err(self.syntax("'prompt' takes a quoted string"));
                    };
                    self.check_prompt(e, &loc);
                    e.props.push(Prop {
                        kind: PropKind::Prompt(p.clone()),
                        cond,
                        loc,
                    });
                }
                "default" => {
                    let (rest, cond) = self.split_if(&toks[1..])?;
                    if rest.is_empty() {
                        return Err(self.syntax("'default' needs a value"));
                    }
                    e.props.push(Prop {
                        kind: PropKind::Default(self.expr_of(rest)?),
                        cond,
                        loc,
                    });
                }
                "depends" => {
                    if !matches!(toks.get(1), Some(Tok::Word(w)) if w == "on") {
                        return Err(self.syntax("expected 'depends on'"));
                    }
                    e.depends.push(self.expr_of(&toks[2..])?);
                }
                "select" | "imply" => {
                    let (rest, cond) = self.split_if(&toks[1..])?;
                    let Some(Tok::Word(s)) = rest.first() else {
                        return Err(self.syntax(format!("'{kw}' takes a symbol")));
                    };
                    let kind = if kw == "select" {
                        PropKind::Select(s.clone())
                    } else {
                        PropKind::Imply(s.clone())
                    };
                    e.props.push(Prop { kind, cond, loc });
                }
                "range" => {
                    let (rest, cond) = self.split_if(&toks[1..])?;
                    if rest.len() != 2 {
                        return Err(self.syntax("'range' takes two values"));
                    }
                    let lo = self.expr_of(&rest[..1])?;
                    let hi = self.expr_of(&rest[1..])?;
                    e.props.push(Prop {
                        kind: PropKind::Range(lo, hi),
                        cond,
                        loc,
                    });
                }
                "help" | "---help---" => {
                    if kw == "---help---" && self.dialect == Dialect::Linux61 {
                        return Err(
                            self.syntax("'---help---' is not Kconfig in Linux 6.1 (use 'help')")
                        );
                    }
                    e.help = Some(self.help_text());
                }
                // Linux 6.1 has no `option` statement (`modules` is a keyword)
                "option" if self.dialect == Dialect::Linux61 => {
                    return Err(
                        self.syntax("unknown statement \"option\" (not Kconfig in Linux 6.1)")
                    );
                }
                "option" => match toks.get(1) {
                    Some(Tok::Word(w)) if w == "modules" => e.modules = true,
                    Some(Tok::Word(w)) if w == "defconfig_list" => e.defconfig_list = true,
                    Some(Tok::Word(w)) if w == "allnoconfig_y" => e.allnoconfig_y = true,
                    Some(Tok::Word(w)) if w == "env" => {}
                    _ => self
                        .warnings
                        .push(format!("{loc}:warning: ignoring unknown option")),
                },
                "modules" => e.modules = true,
                "optional" => optional = true,
                _ => return Err(self.syntax(format!("unexpected '{kw}'"))),
            }
        }
    }

    /// conf's warning for a second prompt in one entry (menu_add_prompt).
    fn check_prompt(&mut self, e: &ConfigEntry, loc: &Loc) {
        if e.props
            .iter()
            .any(|p| matches!(p.kind, PropKind::Prompt(_)))
        {
            self.warnings
                .push(format!("{loc}:warning: prompt redefined"));
        }
    }

    fn menu_attributes(&mut self) -> Result<(Vec<Expr>, Vec<Expr>), ParseError> {
        let mut depends = Vec::new();
        let mut visible = Vec::new();
        loop {
            match self.peek_keyword().as_deref() {
                Some("depends") | Some("visible") => {}
                _ => return Ok((depends, visible)),
            }
            let Some(Line::Tokens(toks)) = self.next_line()? else {
                return Ok((depends, visible));
            };
            match (&toks.first(), &toks.get(1)) {
                (Some(Tok::Word(a)), Some(Tok::Word(b))) if a == "depends" && b == "on" => {
                    depends.push(self.expr_of(&toks[2..])?)
                }
                (Some(Tok::Word(a)), Some(Tok::Word(b))) if a == "visible" && b == "if" => {
                    visible.push(self.expr_of(&toks[2..])?)
                }
                _ => return Err(self.syntax("expected 'depends on' or 'visible if'")),
            }
        }
    }

    /// conf's help text: lines indented at least as much as the first one, tabs
    /// counted to the next multiple of 8, up to the first less-indented line.
    fn help_text(&mut self) -> String {
        let mut text = String::new();
        let mut first_ts: Option<usize> = None;
        let mut pending_blank = 0;
        while let Some(l) = self.peek_raw() {
            let mut ts = 0usize;
            let mut idx = 0;
            for c in l.bytes() {
                match c {
                    b'\t' => ts = (ts & !7) + 8,
                    b' ' => ts += 1,
                    _ => break,
                }
                idx += 1;
            }
            let body = l[idx..].trim_end_matches([' ', '\t']);
            if body.is_empty() {
                pending_blank += 1;
                self.raw_line();
                continue;
            }
            match first_ts {
                None if ts == 0 => break,
                None => first_ts = Some(ts),
                Some(f) if ts < f => break,
                _ => {}
            }
            for _ in 0..pending_blank {
                text.push('\n');
            }
            pending_blank = 0;
            let extra = ts - first_ts.unwrap_or(ts);
            text.push_str(&" ".repeat(extra));
            text.push_str(body);
            text.push('\n');
            self.raw_line();
        }
        text
    }

    fn expr_of(&self, toks: &[Tok]) -> Result<Expr, ParseError> {
        if toks.is_empty() {
            return Err(self.syntax("expected an expression"));
        }
        let mut p = 0;
        let e = self.or_expr(toks, &mut p, 0)?;
        if p != toks.len() {
            return Err(self.syntax("unexpected tokens after the expression"));
        }
        Ok(e)
    }

    fn or_expr(&self, t: &[Tok], p: &mut usize, d: usize) -> Result<Expr, ParseError> {
        let mut l = self.and_expr(t, p, d)?;
        while matches!(t.get(*p), Some(Tok::Op("||"))) {
            *p += 1;
            let r = self.and_expr(t, p, d)?;
            l = Expr::Or(Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn and_expr(&self, t: &[Tok], p: &mut usize, d: usize) -> Result<Expr, ParseError> {
        let mut l = self.unary(t, p, d)?;
        while matches!(t.get(*p), Some(Tok::Op("&&"))) {
            *p += 1;
            let r = self.unary(t, p, d)?;
            l = Expr::And(Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn unary(&self, t: &[Tok], p: &mut usize, d: usize) -> Result<Expr, ParseError> {
        if d > MAX_NESTING {
            return Err(self.syntax("expression nested too deeply"));
        }
        match t.get(*p) {
            Some(Tok::Op("!")) => {
                *p += 1;
                Ok(Expr::Not(Box::new(self.unary(t, p, d + 1)?)))
            }
            Some(Tok::Op("(")) => {
                *p += 1;
                let e = self.or_expr(t, p, d + 1)?;
                if !matches!(t.get(*p), Some(Tok::Op(")"))) {
                    return Err(self.syntax("missing ')'"));
                }
                *p += 1;
                Ok(e)
            }
            _ => {
                let l = self.symbol(t, p)?;
                let op = match t.get(*p) {
                    Some(Tok::Op("=")) => CmpOp::Eq,
                    Some(Tok::Op("!=")) => CmpOp::Ne,
                    Some(Tok::Op("<")) => CmpOp::Lt,
                    Some(Tok::Op("<=")) => CmpOp::Le,
                    Some(Tok::Op(">")) => CmpOp::Gt,
                    Some(Tok::Op(">=")) => CmpOp::Ge,
                    _ => return Ok(l),
                };
                *p += 1;
                let r = self.symbol(t, p)?;
                Ok(Expr::Cmp(op, Box::new(l), Box::new(r)))
            }
        }
    }

    fn symbol(&self, t: &[Tok], p: &mut usize) -> Result<Expr, ParseError> {
        match t.get(*p) {
            Some(Tok::Word(w)) => {
                *p += 1;
                Ok(Expr::Sym(w.clone()))
            }
            Some(Tok::Quote(s)) => {
                *p += 1;
                Ok(Expr::Str(s.clone()))
            }
            _ => Err(self.syntax("expected a symbol or a constant")),
        }
    }
}
