//! The C preprocessor in assembler-with-cpp mode, as gcc's cpplib implements it,
//! reading only through a [`Vfs`], with provenance for every output token.
//!
//! The macro expander follows cpplib's model rather than a textbook one, because
//! the output must be what `gcc -E -P` prints: a context stack where a macro is
//! disabled while its expansion is being read (a name met then is painted
//! `NO_EXPAND` for good — the hide set), arguments pre-expanded in a context of
//! their own that ends at the argument, and cpplib's padding tokens, which decide
//! where `-P` output has spaces. Directives, `#include` search (quote: the
//! includer's directory, `-iquote`, `-I`; angle: `-I`; no system directories),
//! `#include_next`, `__has_include`, `-include`, `-D`/`-U` in order and `-undef`
//! behave as in gcc 12.
//!
//! **Invariant:** nothing outside the tree is read (absolute includes and `..`
//! escapes are errors with file and line); include depth, expansion work, token
//! lists and output size are bounded, so every input ends in output or an error.

mod expr;
mod lex;

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

use crate::tree::vfs::{normalize, read_in_tree, Vfs, VfsError};
use lex::{Interner, Kind, Lexer, Source, Tok};
use lex::{BOL, NO_EXPAND, PAD_SRC, PAD_WHITE, PASTE_LEFT, PREV_WHITE, STRINGIFY};

/// A `-D` or `-U`, in command-line order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Define {
    /// `NAME`, `NAME=VALUE` or `NAME(ARGS)=VALUE`, as given to `-D`.
    Define(String),
    /// `NAME`, as given to `-U`.
    Undef(String),
}

/// Bounds on the work one preprocessing run may do.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CppLimits {
    /// Nested `#include` depth (gcc's default: 200).
    pub max_include_depth: usize,
    /// Tokens lexed, collected as macro arguments and produced by expansions.
    pub max_work: u64,
    /// Tokens in any one macro argument or expansion list.
    pub max_list: usize,
    /// Bytes of output.
    pub max_output: usize,
    /// Files entered by `#include` in one run.
    pub max_includes: usize,
    /// Macro invocations nested in each other's arguments (`f(f(f(...)))`),
    /// each expanded before the outer one: bounded so the stack is.
    pub max_nesting: usize,
}

impl Default for CppLimits {
    fn default() -> Self {
        CppLimits {
            max_include_depth: 200,
            max_work: 20_000_000,
            max_list: 1 << 18,
            max_output: 64 << 20,
            max_includes: 100_000,
            max_nesting: 200,
        }
    }
}

/// What a run is given: gcc's options as plain data (a profile in
/// `config.toml` fills it).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CppOptions {
    /// `-I` directories (tree paths), searched by both include forms.
    pub include_dirs: Vec<String>,
    /// `-iquote` directories, searched by `#include "..."` before `-I`.
    pub quote_dirs: Vec<String>,
    /// `-include` files, in order.
    pub forced_includes: Vec<String>,
    /// `-D` and `-U`, in command-line order.
    pub defines: Vec<Define>,
    /// `-undef`: no target predefines (`__ASSEMBLER__`, `__STDC__` and
    /// `__STDC_HOSTED__` stay, as with gcc).
    pub undef: bool,
    /// The target compiler's predefined macros (name, value).
    pub predefines: Vec<(String, String)>,
    /// Print linemarkers (`# 1 "file"`) like `gcc -E` without `-P`.
    pub line_markers: bool,
    pub limits: CppLimits,
}

/// One macro expansion a token came through.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Expansion {
    /// The macro's name.
    #[serde(rename = "macro")]
    pub macro_name: Arc<str>,
    /// Where the macro's name was written for this invocation.
    pub file: Arc<str>,
    pub line: u32,
}

/// Where an output token was written, and the macros that brought it to the
/// output (outermost invocation first; empty when written where it appears).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Origin {
    /// The tree path of the file (or `<command-line>`, `<built-in>`).
    pub file: Arc<str>,
    /// The physical line (`#line` does not change it).
    pub line: u32,
    pub expansion: Vec<Expansion>,
}

/// An output token: its bytes in [`CppOutput::text`] and an index into
/// [`CppOutput::origins`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
    pub origin: u32,
}

/// A `#warning` (or another note) with where it was.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Diagnostic {
    pub file: String,
    pub line: u32,
    pub message: String,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct CppOutput {
    /// The output as `gcc -E -P` prints it (or with linemarkers).
    pub text: String,
    /// Every output token, in order.
    pub spans: Vec<Span>,
    pub origins: Vec<Origin>,
    /// Every file read, in the order first read (tree paths).
    pub files_read: Vec<String>,
    /// Every path looked for and not found (a new file there would change the
    /// output), in order.
    pub missing: Vec<String>,
    pub warnings: Vec<Diagnostic>,
}

impl CppOutput {
    /// The origin of the token that holds this byte of `text` (None between tokens).
    pub fn origin_at(&self, offset: usize) -> Option<&Origin> {
        let i = self.spans.partition_point(|s| (s.start as usize) <= offset);
        let s = self.spans.get(i.checked_sub(1)?)?;
        ((offset as u32) < s.end).then(|| &self.origins[s.origin as usize])
    }

    /// The origin of the token at or after this byte (for an offset in white space).
    pub fn origin_near(&self, offset: usize) -> Option<&Origin> {
        self.origin_at(offset).or_else(|| {
            let i = self.spans.partition_point(|s| (s.end as usize) <= offset);
            self.spans.get(i).map(|s| &self.origins[s.origin as usize])
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// An include of an absolute path or one leaving the tree; a link out.
    Escape,
    /// An include that was not found.
    NotFound,
    /// A limit was hit (depth, work, size).
    Limit,
    /// `#error` or `#pragma GCC error`.
    User,
    /// Anything gcc reports as an error.
    Syntax,
    /// The tree could not be read.
    Io,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CppError {
    pub file: String,
    pub line: u32,
    pub kind: ErrorKind,
    pub message: String,
}

impl fmt::Display for CppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl std::error::Error for CppError {}

/// Preprocess `file` (a tree path) as `gcc -E -P -x assembler-with-cpp` would.
pub fn preprocess(vfs: &dyn Vfs, file: &str, opts: &CppOptions) -> Result<CppOutput, CppError> {
    preprocess_cached(vfs, file, opts, &mut CppCache::default())
}

/// The files of one tree as read and decoded by earlier runs, so that several
/// runs over the same tree (every architecture of a revision) read each file
/// once. Use one cache with one view of one tree only: it is keyed by path.
/// What each run reads and looks for is still reported by that run.
#[derive(Default)]
pub struct CppCache {
    /// tree path -> the text, or None when it is not there
    files: HashMap<String, Option<Rc<Source>>>,
}

/// [`preprocess`] with files shared through `cache`.
pub fn preprocess_cached(
    vfs: &dyn Vfs,
    file: &str,
    opts: &CppOptions,
    cache: &mut CppCache,
) -> Result<CppOutput, CppError> {
    // The names of one run are mostly those of the next (the architectures
    // and revisions of a review share their headers): each thread keeps its
    // interner between runs, so spellings met before cost no allocation.
    let names = KEPT_NAMES.with(|k| k.take()).unwrap_or_default();
    let mut e = Engine::new(vfs, opts, names);
    e.cache = std::mem::take(cache);
    let r = e.run(file);
    *cache = std::mem::take(&mut e.cache);
    let names = std::mem::replace(&mut e.names, Interner::empty());
    if names.worth_keeping() {
        KEPT_NAMES.with(|k| k.set(Some(names)));
    }
    r.map_err(|e| *e)?;
    Ok(e.finish())
}

thread_local! {
    /// The interner the last run on this thread left (see `preprocess_cached`).
    static KEPT_NAMES: std::cell::Cell<Option<Interner>> = const { std::cell::Cell::new(None) };
}

// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Builtin {
    File,
    Line,
    Counter,
    IncludeLevel,
    BaseFile,
    Date,
    Time,
    Timestamp,
    HasInclude,
    HasIncludeNext,
}

struct Macro {
    name: Rc<str>,
    fun_like: bool,
    params: Vec<Rc<str>>,
    variadic: bool,
    body: Body,
    builtin: Option<Builtin>,
    disabled: bool,
}

/// A replacement list. Most definitions (an `autoconf.h`, a header's
/// constants) are never expanded in a linker script, so a body that cannot hold
/// an error (no `#`, not variadic) is kept as the lexer at its start and lexed
/// when first expanded: the same tokens, lines and columns as lexing it at once.
enum Body {
    Ready(Rc<Vec<Tok>>),
    Lazy(Box<Lexer>),
}

struct Context {
    toks: Vec<Tok>,
    pos: usize,
    macro_id: Option<usize>,
}

struct Arg {
    toks: Vec<Tok>,
    /// false: the variadic argument was left out (`, ## __VA_ARGS__` swallows the comma)
    present: bool,
    expanded: Option<Vec<Tok>>,
    stringified: Option<Tok>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum DirRef {
    /// The main file and the command line: `#include_next` acts as `#include`.
    NoSearch,
    /// Found in the includer's directory (or `./` for `-include`).
    Cwd,
    /// Found in the search chain at this index.
    Chain(usize),
}

struct FileInfo {
    /// Tree path (or `<built-in>`, `<command-line>`), shared with the
    /// origins of its tokens.
    norm: Arc<str>,
    /// How it was found (directory and name): the multiple-include key.
    key: String,
    /// The name gcc would use (`__FILE__`, linemarkers).
    display: String,
    dir: DirRef,
    /// `#line`: presumed line minus physical line, and the presumed name.
    line_delta: i64,
    presumed: Option<String>,
}

struct Cond {
    was_skipping: bool,
    skip_elses: bool,
    saw_else: bool,
    line: u32,
    directive: &'static str,
}

/// cpplib's multiple-include optimisation: is the whole file one
/// `#ifndef GUARD ... #endif`?
#[derive(Clone, PartialEq, Eq)]
enum Guard {
    Start,
    Inside(Rc<str>),
    After(Rc<str>),
    No,
}

struct Include {
    lexer: Lexer,
    guard: Guard,
    ifs: Vec<Cond>,
    /// when this buffer ends, push the next pending one (command line, -include)
    then_pending: bool,
}

enum Pending {
    Text(&'static str, String),
    Forced(String),
}

struct Chain {
    name: Rc<str>,
    file: u32,
    line: u32,
    parent: u32,
}

#[derive(Clone)]
struct SearchDir {
    display: String,
}

struct Printer {
    text: String,
    spans: Vec<Span>,
    printed: bool,
    prev: Option<(Kind, Rc<str>)>,
    source: Option<bool>,
    avoid_paste: bool,
    markers: bool,
    src_line: i64,
    src_file: String,
}

fn pad_source(t: &Tok) -> Option<bool> {
    (t.flags & PAD_SRC != 0).then_some(t.flags & PAD_WHITE != 0)
}

/// cpplib's `cpp_avoid_paste`: would printing `b` right after `a` lex differently?
fn avoid_paste(a: &(Kind, Rc<str>), b: &Tok) -> bool {
    let c = if b.kind == Kind::Punct {
        b.text.chars().next()
    } else {
        None
    };
    let at = &*a.1;
    if a.0 == Kind::Punct
        && matches!(
            at,
            "=" | "!" | ">" | "<" | "+" | "-" | "*" | "/" | "%" | "&" | "|" | "^" | ">>" | "<<"
        )
        && c == Some('=')
    {
        return true;
    }
    match a.0 {
        Kind::Punct => match at {
            ">" => c == Some('>'),
            "<" => matches!(c, Some('<' | '%' | ':')),
            "+" => c == Some('+'),
            "-" => matches!(c, Some('-' | '>')),
            "/" => matches!(c, Some('/' | '*')),
            "%" => matches!(c, Some(':' | '%')),
            "&" => c == Some('&'),
            "|" => c == Some('|'),
            ":" => matches!(c, Some(':' | '>')),
            "->" => c == Some('*'),
            "." => matches!(c, Some('.' | '%')) || b.kind == Kind::Number,
            "#" => matches!(c, Some('#' | '%')),
            "<=" => c == Some('>'),
            _ => false,
        },
        Kind::Name => matches!(b.kind, Kind::Name | Kind::Char | Kind::Str),
        Kind::Number => {
            matches!(b.kind, Kind::Number | Kind::Name | Kind::Char)
                || matches!(c, Some('.' | '+' | '-'))
        }
        Kind::Other => at.starts_with('\\') && b.kind == Kind::Name,
        _ => false,
    }
}

impl Printer {
    /// gcc's `scan_translation_unit`, one token at a time.
    fn token(&mut self, t: &Tok) -> Option<(u32, u32)> {
        if t.kind == Kind::Padding {
            self.avoid_paste = true;
            if self.source.is_none() || (self.source == Some(false) && pad_source(t).is_none()) {
                self.source = pad_source(t);
            }
            return None;
        }
        let space = if self.avoid_paste {
            let white = self.source.unwrap_or(t.white());
            white
                || self.prev.as_ref().is_some_and(|p| avoid_paste(p, t))
                || (self.prev.is_none() && t.is("#"))
        } else {
            t.white()
        };
        if space {
            self.text.push(' ');
        }
        self.avoid_paste = false;
        self.source = None;
        self.prev = Some((t.kind, t.text.clone()));
        let start = self.text.len() as u32;
        self.text.push_str(&t.text);
        self.printed = true;
        Some((start, self.text.len() as u32))
    }

    fn end_line(&mut self) {
        if self.printed {
            self.text.push('\n');
            self.src_line += 1;
            self.printed = false;
        }
    }

    fn marker(&mut self, line: i64, file: &str, flags: &str) {
        self.end_line();
        self.text
            .push_str(&format!("# {line} \"{}\"{flags}\n", quote(file)));
        self.src_line = line;
        self.src_file = file.to_string();
    }

    /// gcc's `cb_line_change`: a new source line starts with token `t`.
    /// gcc's `maybe_print_line`: end the line; with linemarkers, get to `line`.
    fn maybe_print_line(&mut self, line: i64, file: &str) {
        self.end_line();
        if self.markers {
            if file == self.src_file && line >= self.src_line && line < self.src_line + 8 {
                while line > self.src_line {
                    self.text.push('\n');
                    self.src_line += 1;
                }
            } else {
                self.marker(line, file, "");
            }
        }
    }

    /// gcc's `cb_line_change`: a new source line starts with token `t`.
    fn line_change(&mut self, t: &Tok, line: i64, file: &str) {
        self.maybe_print_line(line, file);
        self.prev = None;
        self.source = None;
        for _ in 2..t.col.min(4096) {
            self.text.push(' ');
        }
        self.printed = true;
    }
}

/// Escape `\` and `"` (and a newline) for a string literal.
fn quote(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        match c {
            '\\' | '"' => {
                o.push('\\');
                o.push(c);
            }
            '\n' => o.push_str("\\n"),
            c => o.push(c),
        }
    }
    o
}

/// A macro table key: an interned name, hashed and compared by address (every
/// name is interned, so equal names are the same pointer; no string hashing).
#[derive(Clone)]
struct Name(Rc<str>);

impl PartialEq for Name {
    fn eq(&self, o: &Name) -> bool {
        Rc::ptr_eq(&self.0, &o.0)
    }
}
impl Eq for Name {}
impl std::hash::Hash for Name {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_usize(Rc::as_ptr(&self.0) as *const u8 as usize);
    }
}

#[derive(Default)]
struct AddrHasher(u64);
impl std::hash::Hasher for AddrHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100000001b3);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0.rotate_left(5) ^ (n as u64 >> 3)).wrapping_mul(0x9e3779b97f4a7c15);
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(n)).wrapping_mul(0x9e3779b97f4a7c15);
    }
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
}

type Table = HashMap<Name, usize, std::hash::BuildHasherDefault<AddrHasher>>;

struct Engine<'a> {
    vfs: &'a dyn Vfs,
    opts: &'a CppOptions,
    names: Interner,
    empty: Rc<str>,
    files: Vec<FileInfo>,
    cache: CppCache,
    once: HashSet<String>,
    stack: Vec<Include>,
    pending: VecDeque<Pending>,
    lookahead: Vec<Tok>,
    contexts: Vec<Context>,
    macros: Vec<Macro>,
    table: Table,
    skipping: bool,
    in_directive: bool,
    parsing_args: u8,
    prevent_expansion: u32,
    counter: u64,
    work: u64,
    nesting: usize,
    includes: usize,
    chains: Vec<Chain>,
    chain_ids: HashMap<(Name, u32, u32, u32), u32, std::hash::BuildHasherDefault<AddrHasher>>,
    chain: Vec<SearchDir>,
    bracket_start: usize,
    main_display: String,
    out: Printer,
    origins: Vec<Origin>,
    origin_ids: HashMap<(u32, u32, u32), u32, std::hash::BuildHasherDefault<AddrHasher>>,
    /// Macro names as the origins share them.
    shared_names: HashMap<Name, Arc<str>, std::hash::BuildHasherDefault<AddrHasher>>,
    /// The last (file, line, chain) given an origin, and its id: runs of
    /// tokens from one line share it.
    last_origin: ((u32, u32, u32), u32),
    files_read: Vec<String>,
    read_set: HashSet<String>,
    missing: Vec<String>,
    missing_set: HashSet<String>,
    warnings: Vec<Diagnostic>,
    /// files that are one `#ifndef GUARD` group: not entered again while GUARD is defined
    guards: HashMap<String, Rc<str>>,
    /// the buffer `#define` builds a replacement list in
    scratch: Vec<Tok>,
    /// `find_include` answers: the same lookup from the same place finds the
    /// same file (the tree does not change during a run)
    lookups: HashMap<LookupKey, Option<Found>>,
    /// `#pragma push_macro`: saved definitions per name
    pushed: HashMap<Rc<str>, Vec<Option<usize>>>,
}

/// An include found: (tree path, display name, where found, multiple-include key).
type Found = (String, String, DirRef, String);

/// What decides where an include is found: the name, its form, and (for
/// `"..."`) the includer's directory or (for `#include_next`) where the
/// includer was found.
#[derive(PartialEq, Eq, Hash)]
struct LookupKey {
    name: String,
    angle: bool,
    next: bool,
    forced: bool,
    from: DirRef,
    dir: String,
}

/// Errors boxed: the `Ok` of every token passed around stays small.
type Res<T> = Result<T, Box<CppError>>;

impl<'a> Engine<'a> {
    fn new(vfs: &'a dyn Vfs, opts: &'a CppOptions, names: Interner) -> Engine<'a> {
        let mut chain = Vec::new();
        let mut seen = HashSet::new();
        let clean = |d: &str| {
            let t = d.trim_end_matches('/');
            if t.is_empty() {
                d.to_string()
            } else {
                t.to_string()
            }
        };
        for d in &opts.quote_dirs {
            if seen.insert(normalize(d).unwrap_or_else(|_| d.clone())) {
                chain.push(SearchDir { display: clean(d) });
            }
        }
        let bracket_start = chain.len();
        let mut seen_i = HashSet::new();
        for d in &opts.include_dirs {
            if seen_i.insert(normalize(d).unwrap_or_else(|_| d.clone())) {
                chain.push(SearchDir { display: clean(d) });
            }
        }
        Engine {
            vfs,
            opts,
            names,
            empty: Rc::from(""),
            files: Vec::new(),
            cache: CppCache::default(),
            once: HashSet::new(),
            stack: Vec::new(),
            pending: VecDeque::new(),
            lookahead: Vec::new(),
            contexts: Vec::new(),
            // a linker script's headers define a few hundred to a few
            // thousand macros: room for them from the start
            macros: Vec::with_capacity(1024),
            table: Table::with_capacity_and_hasher(1024, Default::default()),
            skipping: false,
            in_directive: false,
            parsing_args: 0,
            prevent_expansion: 0,
            counter: 0,
            work: 0,
            nesting: 0,
            includes: 0,
            chains: vec![Chain {
                name: Rc::from(""),
                file: 0,
                line: 0,
                parent: 0,
            }],
            chain_ids: HashMap::default(),
            chain,
            bracket_start,
            main_display: String::new(),
            // room for a linker script's output (tens of kilobytes), so
            // that it is not copied over and over as it grows
            out: Printer {
                text: String::with_capacity(1 << 16),
                spans: Vec::with_capacity(1 << 13),
                printed: false,
                prev: None,
                source: None,
                avoid_paste: false,
                markers: opts.line_markers,
                src_line: 1,
                src_file: String::new(),
            },
            origins: Vec::with_capacity(1 << 10),
            origin_ids: HashMap::with_capacity_and_hasher(1 << 10, Default::default()),
            shared_names: HashMap::default(),
            last_origin: ((u32::MAX, u32::MAX, u32::MAX), 0),
            files_read: Vec::new(),
            read_set: HashSet::new(),
            missing: Vec::new(),
            missing_set: HashSet::new(),
            warnings: Vec::new(),
            pushed: HashMap::new(),
            scratch: Vec::new(),
            lookups: HashMap::new(),
            guards: HashMap::new(),
        }
    }

    // ---- errors and bookkeeping -------------------------------------------

    fn err_at(
        &self,
        file: u32,
        line: u32,
        kind: ErrorKind,
        message: impl Into<String>,
    ) -> Box<CppError> {
        let file = self
            .files
            .get(file as usize)
            .map_or_else(|| "<input>".to_string(), |f| f.norm.to_string());
        Box::new(CppError {
            file,
            line,
            kind,
            message: message.into(),
        })
    }

    /// An error at the current position of the innermost file.
    fn err(&self, kind: ErrorKind, message: impl Into<String>) -> Box<CppError> {
        match self.stack.last() {
            Some(i) => self.err_at(i.lexer.file, i.lexer.line(), kind, message),
            None => Box::new(CppError {
                file: "<input>".into(),
                line: 0,
                kind,
                message: message.into(),
            }),
        }
    }

    fn charge(&mut self, n: usize) -> Res<()> {
        self.work += n as u64;
        if self.work > self.opts.limits.max_work {
            return Err(self.err(
                ErrorKind::Limit,
                format!(
                    "preprocessing work over the limit of {} tokens (a macro that expands exponentially?)",
                    self.opts.limits.max_work
                ),
            ));
        }
        Ok(())
    }

    fn check_list(&self, n: usize, what: &str) -> Res<()> {
        if n > self.opts.limits.max_list {
            return Err(self.err(
                ErrorKind::Limit,
                format!(
                    "{what} over the limit of {} tokens",
                    self.opts.limits.max_list
                ),
            ));
        }
        Ok(())
    }

    fn warn(&mut self, file: u32, line: u32, message: String) {
        let file = self.files[file as usize].norm.to_string();
        self.warnings.push(Diagnostic {
            file,
            line,
            message,
        });
    }

    fn pad(&self, src: Option<&Tok>) -> Tok {
        let mut flags = 0;
        if let Some(s) = src {
            flags |= PAD_SRC;
            if s.white() {
                flags |= PAD_WHITE;
            }
        }
        Tok {
            kind: Kind::Padding,
            flags,
            text: self.empty.clone(),
            file: 0,
            line: 0,
            col: 0,
            chain: 0,
        }
    }

    /// The expansion chain of a macro invoked at `at` (shared by every
    /// invocation of the same macro from the same line and chain).
    fn new_chain(&mut self, name: &Rc<str>, at: &Tok) -> u32 {
        let key = (Name(name.clone()), at.file, at.line, at.chain);
        if let Some(&id) = self.chain_ids.get(&key) {
            return id;
        }
        self.chains.push(Chain {
            name: name.clone(),
            file: at.file,
            line: at.line,
            parent: at.chain,
        });
        let id = (self.chains.len() - 1) as u32;
        self.chain_ids.insert(key, id);
        id
    }

    fn origin(&mut self, t: &Tok) -> u32 {
        let key = (t.file, t.line, t.chain);
        if self.last_origin.0 == key {
            return self.last_origin.1;
        }
        if let Some(&id) = self.origin_ids.get(&key) {
            self.last_origin = (key, id);
            return id;
        }
        let mut expansion = Vec::new();
        let mut c = t.chain;
        while c != 0 {
            let ch = &self.chains[c as usize];
            let macro_name = self
                .shared_names
                .entry(Name(ch.name.clone()))
                .or_insert_with(|| Arc::from(&*ch.name))
                .clone();
            expansion.push(Expansion {
                macro_name,
                file: self.files[ch.file as usize].norm.clone(),
                line: ch.line,
            });
            c = ch.parent;
        }
        expansion.reverse();
        let id = self.origins.len() as u32;
        self.origins.push(Origin {
            file: self.files[t.file as usize].norm.clone(),
            line: t.line,
            expansion,
        });
        self.origin_ids.insert(key, id);
        self.last_origin = (key, id);
        id
    }

    fn presumed_line(&self, file: u32, line: u32) -> i64 {
        line as i64 + self.files.get(file as usize).map_or(0, |f| f.line_delta)
    }

    fn presumed_name(&self, file: u32) -> String {
        let f = &self.files[file as usize];
        f.presumed.clone().unwrap_or_else(|| f.display.clone())
    }

    // ---- setup ---------------------------------------------------------------

    fn define_builtin(&mut self, name: &str, b: Builtin) {
        let name = self.names.get(name);
        self.macros.push(Macro {
            name: name.clone(),
            fun_like: false,
            params: Vec::new(),
            variadic: false,
            body: Body::Ready(Rc::new(Vec::new())),
            builtin: Some(b),
            disabled: false,
        });
        self.table.insert(Name(name), self.macros.len() - 1);
    }

    fn add_file(&mut self, norm: String, display: String, dir: DirRef, key: String) -> u32 {
        self.files.push(FileInfo {
            norm: Arc::from(norm),
            key,
            display,
            dir,
            line_delta: 0,
            presumed: None,
        });
        (self.files.len() - 1) as u32
    }

    fn push_text(&mut self, name: &'static str, text: String) {
        let id = self.add_file(name.into(), name.into(), DirRef::NoSearch, String::new());
        let lexer = Lexer::new(id, Rc::new(Source::new(&text)));
        self.stack.push(Include {
            lexer,
            guard: Guard::No,
            ifs: Vec::new(),
            then_pending: true,
        });
    }

    fn push_next_pending(&mut self) -> Res<()> {
        match self.pending.pop_front() {
            None => Ok(()),
            Some(Pending::Text(name, text)) => {
                self.push_text(name, text);
                Ok(())
            }
            Some(Pending::Forced(f)) => {
                let Some((norm, display, dir, key)) = self.find_include(&f, false, false, true)?
                else {
                    return Err(self.err(
                        ErrorKind::NotFound,
                        format!("{f}: No such file or directory (-include)"),
                    ));
                };
                self.push_file(norm, display, dir, key, true)
            }
        }
    }

    fn run(&mut self, file: &str) -> Res<()> {
        for (n, b) in [
            ("__FILE__", Builtin::File),
            ("__LINE__", Builtin::Line),
            ("__COUNTER__", Builtin::Counter),
            ("__INCLUDE_LEVEL__", Builtin::IncludeLevel),
            ("__BASE_FILE__", Builtin::BaseFile),
            ("__DATE__", Builtin::Date),
            ("__TIME__", Builtin::Time),
            ("__TIMESTAMP__", Builtin::Timestamp),
            ("__has_include", Builtin::HasInclude),
            ("__has_include_next", Builtin::HasIncludeNext),
        ] {
            self.define_builtin(n, b);
        }
        let mut builtin = String::from("#define __STDC__ 1\n#define __STDC_HOSTED__ 1\n");
        if !self.opts.undef {
            for (k, v) in &self.opts.predefines {
                builtin.push_str(&format!("#define {} {}\n", first_line(k), first_line(v)));
            }
        }
        builtin.push_str("#define __ASSEMBLER__ 1\n");
        let mut cmdline = String::new();
        for d in &self.opts.defines {
            match d {
                Define::Define(s) => {
                    let s = first_line(s);
                    match s.split_once('=') {
                        Some((n, v)) => cmdline.push_str(&format!("#define {n} {v}\n")),
                        None => cmdline.push_str(&format!("#define {s} 1\n")),
                    }
                }
                Define::Undef(s) => cmdline.push_str(&format!("#undef {}\n", first_line(s))),
            }
        }
        self.pending.push_back(Pending::Text("<built-in>", builtin));
        self.pending
            .push_back(Pending::Text("<command-line>", cmdline));
        for f in &self.opts.forced_includes {
            self.pending.push_back(Pending::Forced(f.clone()));
        }
        // the main file
        let norm = normalize(file).map_err(|e| CppError {
            file: file.into(),
            line: 0,
            kind: ErrorKind::Escape,
            message: e.to_string(),
        })?;
        self.main_display = file.to_string();
        let src = match self.read(&norm) {
            Ok(Some(s)) => s,
            Ok(None) => {
                return Err(Box::new(CppError {
                    file: norm,
                    line: 0,
                    kind: ErrorKind::NotFound,
                    message: "No such file or directory".into(),
                }))
            }
            Err(m) => {
                return Err(Box::new(CppError {
                    file: norm,
                    line: 0,
                    kind: m.0,
                    message: m.1,
                }))
            }
        };
        let key = format!("\0{norm}");
        let id = self.add_file(norm, file.to_string(), DirRef::NoSearch, key);
        if self.out.markers {
            self.out.marker(0, file, "");
            self.out.marker(0, "<built-in>", "");
            self.out.marker(0, "<command-line>", "");
            if self.opts.forced_includes.is_empty() {
                self.out.marker(1, file, "");
            }
        }
        self.stack.push(Include {
            lexer: Lexer::new(id, src),
            guard: Guard::Start,
            ifs: Vec::new(),
            then_pending: false,
        });
        self.push_next_pending()?;
        loop {
            let t = self.get_token()?;
            if t.kind == Kind::Eof {
                break;
            }
            if let Some((start, end)) = self.out.token(&t) {
                let origin = self.origin(&t);
                self.out.spans.push(Span { start, end, origin });
                if self.out.text.len() > self.opts.limits.max_output {
                    return Err(self.err(
                        ErrorKind::Limit,
                        format!(
                            "output over the limit of {} bytes",
                            self.opts.limits.max_output
                        ),
                    ));
                }
            }
        }
        if self.out.printed {
            self.out.text.push('\n');
        }
        Ok(())
    }

    fn finish(self) -> CppOutput {
        CppOutput {
            text: self.out.text,
            spans: self.out.spans,
            origins: self.origins,
            files_read: self.files_read,
            missing: self.missing,
            warnings: self.warnings,
        }
    }

    // ---- files -----------------------------------------------------------------

    /// Read a tree file: Some(text), None when it is not there (recorded as missing).
    fn read(&mut self, norm: &str) -> Result<Option<Rc<Source>>, (ErrorKind, String)> {
        if let Some(entry) = self.cache.files.get(norm) {
            let entry = entry.clone();
            match &entry {
                Some(_) => {
                    if !self.read_set.contains(norm) {
                        self.read_set.insert(norm.to_string());
                        self.files_read.push(norm.to_string());
                    }
                }
                None => {
                    if !self.missing_set.contains(norm) {
                        self.missing_set.insert(norm.to_string());
                        self.missing.push(norm.to_string());
                    }
                }
            }
            return Ok(entry);
        }
        match read_in_tree(self.vfs, norm) {
            Ok(bytes) => {
                let src = Rc::new(match String::from_utf8(bytes) {
                    Ok(t) => Source::from_string(t),
                    Err(e) => Source::new(&String::from_utf8_lossy(e.as_bytes())),
                });
                self.cache.files.insert(norm.to_string(), Some(src.clone()));
                if self.read_set.insert(norm.to_string()) {
                    self.files_read.push(norm.to_string());
                }
                Ok(Some(src))
            }
            Err(VfsError::NotFound(_)) | Err(VfsError::IsDir(_)) | Err(VfsError::NotDir(_)) => {
                self.cache.files.insert(norm.to_string(), None);
                if self.missing_set.insert(norm.to_string()) {
                    self.missing.push(norm.to_string());
                }
                Ok(None)
            }
            Err(e @ (VfsError::Absolute(_) | VfsError::Escapes(_) | VfsError::Symlink(_))) => {
                Err((ErrorKind::Escape, e.to_string()))
            }
            Err(e) => Err((ErrorKind::Io, e.to_string())),
        }
    }

    /// Look an include up like gcc: Some((tree path, display name, where found)).
    fn find_include(
        &mut self,
        name: &str,
        angle: bool,
        next: bool,
        forced: bool,
    ) -> Res<Option<Found>> {
        if name.starts_with('/') {
            return Err(self.err(
                ErrorKind::Escape,
                format!("{name}: an absolute include path (only files of the tree are read)"),
            ));
        }
        let cur = self.stack.last().map(|i| i.lexer.file);
        let cur_dir = cur.map_or(DirRef::NoSearch, |f| self.files[f as usize].dir);
        // `#include_next` from the main file warns each time: not kept
        let lookup = (!next || cur_dir != DirRef::NoSearch).then(|| LookupKey {
            name: name.to_string(),
            angle,
            next,
            forced,
            from: if next { cur_dir } else { DirRef::NoSearch },
            dir: if !angle && !next && !forced {
                self.includer_dir(cur)
            } else {
                String::new()
            },
        });
        if let Some(found) = lookup.as_ref().and_then(|k| self.lookups.get(k)) {
            return Ok(found.clone());
        }
        let found = self.find_include_uncached(name, angle, next, forced, cur, cur_dir)?;
        if let Some(k) = lookup {
            self.lookups.insert(k, found.clone());
        }
        Ok(found)
    }

    /// The directory of the including file (a quoted include looks there first).
    fn includer_dir(&self, cur: Option<u32>) -> String {
        cur.map_or(String::new(), |f| {
            let d = &self.files[f as usize].display;
            d.rfind('/').map_or(String::new(), |i| d[..=i].to_string())
        })
    }

    fn find_include_uncached(
        &mut self,
        name: &str,
        angle: bool,
        next: bool,
        forced: bool,
        cur: Option<u32>,
        cur_dir: DirRef,
    ) -> Res<Option<Found>> {
        // (prefix, where) candidates
        let mut cands: Vec<(String, DirRef)> = Vec::new();
        let chain_from = |s: &Engine, from: usize, c: &mut Vec<(String, DirRef)>| {
            for (i, d) in s.chain.iter().enumerate().skip(from) {
                let mut prefix = String::with_capacity(d.display.len() + 1);
                prefix.push_str(&d.display);
                prefix.push('/');
                c.push((prefix, DirRef::Chain(i)));
            }
        };
        if forced {
            cands.push(("./".into(), DirRef::Cwd));
            chain_from(self, 0, &mut cands);
        } else if next && cur_dir != DirRef::NoSearch {
            let from = match cur_dir {
                DirRef::Chain(i) => i + 1,
                _ => 0,
            };
            chain_from(self, from, &mut cands);
        } else {
            if next {
                if let Some(f) = cur {
                    let line = self.stack.last().map_or(0, |i| i.lexer.line());
                    self.warn(f, line, "#include_next in primary source file".into());
                }
            }
            if angle {
                chain_from(self, self.bracket_start, &mut cands);
            } else {
                cands.push((self.includer_dir(cur), DirRef::Cwd));
                chain_from(self, 0, &mut cands);
            }
        }
        if cands.is_empty() {
            return Err(self.err(
                ErrorKind::NotFound,
                format!("no include path in which to search for {name}"),
            ));
        }
        for (prefix, dir) in cands {
            let mut display = String::with_capacity(prefix.len() + name.len());
            display.push_str(&prefix);
            display.push_str(name);
            let norm = match normalize(&display) {
                Ok(n) => n,
                Err(_) => {
                    return Err(self.err(
                        ErrorKind::Escape,
                        format!("{display}: the include leaves the tree"),
                    ))
                }
            };
            match self.read(&norm) {
                // cpplib remembers include guards per (directory, name) lookup
                Ok(Some(_)) => return Ok(Some((norm, display, dir, format!("{prefix}\0{name}")))),
                Ok(None) => {}
                Err((kind, m)) => return Err(self.err(kind, m)),
            }
        }
        Ok(None)
    }

    fn push_file(
        &mut self,
        norm: String,
        display: String,
        dir: DirRef,
        key: String,
        forced: bool,
    ) -> Res<()> {
        if self.stack.len() >= self.opts.limits.max_include_depth {
            return Err(self.err(
                ErrorKind::Limit,
                format!(
                    "#include nested depth {} exceeds maximum of {}",
                    self.stack.len(),
                    self.opts.limits.max_include_depth
                ),
            ));
        }
        self.charge(1)?;
        self.includes += 1;
        if self.includes > self.opts.limits.max_includes {
            return Err(self.err(
                ErrorKind::Limit,
                format!("more than {} includes", self.opts.limits.max_includes),
            ));
        }
        let guarded = self
            .guards
            .get(&key)
            .is_some_and(|g| self.table.contains_key(&Name(g.clone())));
        if self.once.contains(&norm) || guarded {
            if forced {
                return self.push_next_pending();
            }
            return Ok(());
        }
        let src = match self.read(&norm) {
            Ok(Some(s)) => s,
            Ok(None) => {
                return Err(self.err(
                    ErrorKind::NotFound,
                    format!("{norm}: No such file or directory"),
                ))
            }
            Err((k, m)) => return Err(self.err(k, m)),
        };
        let id = self.add_file(norm, display.clone(), dir, key);
        if self.out.markers {
            self.out.marker(1, &display, " 1");
        }
        self.stack.push(Include {
            lexer: Lexer::new(id, src),
            guard: Guard::Start,
            ifs: Vec::new(),
            then_pending: forced,
        });
        Ok(())
    }

    // ---- the base lexer ------------------------------------------------------

    fn raw(&mut self) -> Res<Tok> {
        let Some(top) = self.stack.last_mut() else {
            return Ok(self.eof());
        };
        let file = top.lexer.file;
        top.lexer
            .lex_with(&mut self.names)
            .map_err(|(line, m)| self.err_at(file, line, ErrorKind::Syntax, m))
    }

    fn eof(&self) -> Tok {
        Tok {
            kind: Kind::Eof,
            flags: 0,
            text: self.empty.clone(),
            file: 0,
            line: 0,
            col: 0,
            chain: 0,
        }
    }

    /// cpplib's `_cpp_lex_token`: directives, line changes, skipped groups, the
    /// ends of files.
    // not inlined (nor `enter_macro`, `paste_all`): `get_token` stays small
    // for the tokens it takes from a macro context, the most frequent case
    #[inline(never)]
    fn lex_base(&mut self) -> Res<Tok> {
        loop {
            let t = match self.lookahead.pop() {
                Some(t) => t,
                None => {
                    if self.skipping && !self.in_directive {
                        let file = self.stack.last().map_or(0, |i| i.lexer.file);
                        if let Some(top) = self.stack.last_mut() {
                            top.lexer.skip_group().map_err(|(line, m)| {
                                self.err_at(file, line, ErrorKind::Syntax, m)
                            })?;
                        }
                    }
                    let mut t = self.raw()?;
                    self.charge(1)?;
                    // cpplib: a new line inside macro arguments is white space
                    if self.parsing_args == 2 && t.flags & BOL != 0 {
                        t.flags |= PREV_WHITE;
                    }
                    t
                }
            };
            if t.kind == Kind::Eof {
                if self.stack.is_empty() || self.parsing_args > 0 || self.in_directive {
                    return Ok(t);
                }
                if let Some(c) = self.stack.last().and_then(|i| i.ifs.last()) {
                    let (line, d) = (c.line, c.directive);
                    let file = self.stack.last().map_or(0, |i| i.lexer.file);
                    return Err(self.err_at(
                        file,
                        line,
                        ErrorKind::Syntax,
                        format!("unterminated #{d}"),
                    ));
                }
                let Some(done) = self.stack.pop() else {
                    return Ok(t);
                };
                if let Guard::After(g) = &done.guard {
                    let key = self.files[done.lexer.file as usize].key.clone();
                    self.guards.insert(key, g.clone());
                }
                self.skipping = false;
                if self.stack.is_empty() {
                    return Ok(t);
                }
                let pseudo = self.files[done.lexer.file as usize].norm.starts_with('<');
                if self.out.markers && !pseudo && done.then_pending {
                    // a forced include returns to the command line
                    self.out.marker(0, "<command-line>", " 2");
                    if !self.pending.iter().any(|p| matches!(p, Pending::Forced(_))) {
                        let main = self.main_display.clone();
                        self.out.marker(1, &main, "");
                    }
                } else if self.out.markers && !pseudo {
                    if let Some(top) = self.stack.last() {
                        let f = top.lexer.file;
                        let name = self.presumed_name(f);
                        let line = self.presumed_line(f, top.lexer.line());
                        self.out.marker(line, &name, " 2");
                    }
                }
                if done.then_pending {
                    self.push_next_pending()?;
                }
                continue;
            }
            if t.flags & BOL != 0 && !self.in_directive {
                if t.is("#") && self.parsing_args != 1 && self.directive(&t)? {
                    continue;
                }
                if !self.skipping && self.parsing_args == 0 {
                    let line = self.presumed_line(t.file, t.line);
                    let name = if self.out.markers {
                        self.presumed_name(t.file)
                    } else {
                        String::new()
                    };
                    self.out.line_change(&t, line, &name);
                }
            }
            if self.skipping && !self.in_directive {
                continue;
            }
            if !self.in_directive {
                if let Some(top) = self.stack.last_mut() {
                    if matches!(top.guard, Guard::Start | Guard::After(_)) {
                        top.guard = Guard::No;
                    }
                }
            }
            return Ok(t);
        }
    }

    // ---- macro expansion -----------------------------------------------------

    /// cpplib's `cpp_get_token`.
    fn get_token(&mut self) -> Res<Tok> {
        loop {
            let mut t;
            if let Some(ctx) = self.contexts.last_mut() {
                if ctx.pos < ctx.toks.len() {
                    t = ctx.toks[ctx.pos].clone();
                    if t.kind == Kind::Eof {
                        // the end of a macro argument stays until its context is popped
                        return Ok(t);
                    }
                    ctx.pos += 1;
                    if t.flags & PASTE_LEFT != 0 {
                        let src = self.pad(Some(&t));
                        self.paste_all(t)?;
                        if self.in_directive {
                            continue;
                        }
                        return Ok(src);
                    }
                } else {
                    if let Some(m) = ctx.macro_id {
                        self.macros[m].disabled = false;
                    }
                    self.contexts.pop();
                    if self.in_directive {
                        continue;
                    }
                    return Ok(self.pad(None));
                }
            } else {
                t = self.lex_base()?;
            }
            if t.kind != Kind::Name || t.flags & NO_EXPAND != 0 {
                return Ok(t);
            }
            let Some(&mid) = self.table.get(&Name(t.text.clone())) else {
                return Ok(t);
            };
            if self.macros[mid].disabled {
                t.flags |= NO_EXPAND;
                return Ok(t);
            }
            if self.prevent_expansion > 0 {
                return Ok(t);
            }
            if self.enter_macro(mid, &t)? {
                if self.in_directive {
                    continue;
                }
                return Ok(self.pad(Some(&t)));
            }
            return Ok(t);
        }
    }

    fn get_nonpad(&mut self) -> Res<Tok> {
        loop {
            let t = self.get_token()?;
            if t.kind != Kind::Padding {
                return Ok(t);
            }
        }
    }

    fn backup(&mut self, t: Tok) {
        match self.contexts.last_mut() {
            Some(c) => c.pos = c.pos.saturating_sub(1),
            None => self.lookahead.push(t),
        }
    }

    fn push_context(&mut self, toks: Vec<Tok>, macro_id: Option<usize>) {
        self.contexts.push(Context {
            toks,
            pos: 0,
            macro_id,
        });
    }

    /// cpplib's `enter_macro_context`: true when the macro was expanded.
    #[inline(never)] // as `lex_base`
    fn enter_macro(&mut self, mid: usize, name: &Tok) -> Res<bool> {
        if let Some(b) = self.macros[mid].builtin {
            let mut tok = self.builtin(b, name)?;
            let mname = self.macros[mid].name.clone();
            tok.chain = self.new_chain(&mname, name);
            self.push_context(vec![tok], None);
            return Ok(true);
        }
        let mname = self.macros[mid].name.clone();
        let body;
        if self.macros[mid].fun_like {
            self.prevent_expansion += 1;
            self.parsing_args = 1;
            let args = self.funlike_invocation(mid, name);
            self.parsing_args = 0;
            self.prevent_expansion -= 1;
            let Some(mut args) = args? else {
                return Ok(false);
            };
            let chain = self.new_chain(&mname, name);
            body = if self.macros[mid].params.is_empty() {
                self.copy_body(mid, chain)?
            } else {
                self.replace_args(mid, &mut args, chain)?
            };
        } else {
            let chain = self.new_chain(&mname, name);
            body = self.copy_body(mid, chain)?;
        }
        self.charge(body.len())?;
        self.check_list(body.len(), "a macro expansion")?;
        self.macros[mid].disabled = true;
        self.push_context(body, Some(mid));
        Ok(true)
    }

    fn copy_body(&mut self, mid: usize, chain: u32) -> Res<Vec<Tok>> {
        Ok(self
            .body(mid)?
            .iter()
            .map(|t| Tok { chain, ..t.clone() })
            .collect())
    }

    /// A macro's replacement list, lexed now if it was kept for later.
    fn body(&mut self, mid: usize) -> Res<Rc<Vec<Tok>>> {
        let m = &mut self.macros[mid];
        if let Body::Ready(b) = &m.body {
            return Ok(b.clone());
        }
        let Body::Lazy(lx) = std::mem::replace(&mut m.body, Body::Ready(Rc::default())) else {
            unreachable!("a body is ready or lazy");
        };
        let (fun_like, variadic) = (m.fun_like, m.variadic);
        let params = std::mem::take(&mut m.params);
        let mut lx = Some(lx);
        let first = self.raw_from(&mut lx)?;
        let body = self.define_body(&mut lx, first, fun_like, &params, variadic);
        let m = &mut self.macros[mid];
        m.params = params;
        let body = Rc::new(body?);
        m.body = Body::Ready(body.clone());
        Ok(body)
    }

    /// The next raw token of a kept replacement list, or of the input.
    fn raw_from(&mut self, lx: &mut Option<Box<Lexer>>) -> Res<Tok> {
        match lx {
            Some(l) => {
                let file = l.file;
                l.lex_with(&mut self.names)
                    .map_err(|(line, m)| self.err_at(file, line, ErrorKind::Syntax, m))
            }
            None => self.raw(),
        }
    }

    /// cpplib's `funlike_invocation_p`: the arguments, or None when the name is
    /// not followed by `(`.
    fn funlike_invocation(&mut self, mid: usize, name: &Tok) -> Res<Option<Vec<Arg>>> {
        let mut padding: Option<Tok> = None;
        let t = loop {
            let t = self.get_token()?;
            if t.kind != Kind::Padding {
                break t;
            }
            let replace = match &padding {
                None => true,
                Some(p) => {
                    pad_source(p).is_none()
                        || (pad_source(p) == Some(false) && pad_source(&t).is_none())
                }
            };
            if replace {
                padding = Some(t);
            }
        };
        if t.is("(") {
            self.parsing_args = 2;
            return self.collect_args(mid, name).map(Some);
        }
        if !matches!(t.kind, Kind::Eof | Kind::Eol) {
            self.backup(t);
        }
        if let Some(p) = padding {
            self.push_context(vec![p], None);
        }
        Ok(None)
    }

    fn collect_args(&mut self, mid: usize, name: &Tok) -> Res<Vec<Arg>> {
        let paramc = self.macros[mid].params.len();
        let variadic = self.macros[mid].variadic;
        let mut args: Vec<Arg> = Vec::new();
        let mut total = 0usize;
        let closed = loop {
            let mut toks: Vec<Tok> = Vec::new();
            let mut depth = 0u32;
            let end = loop {
                let t = self.get_token()?;
                match t.kind {
                    Kind::Padding if toks.is_empty() => continue,
                    Kind::Eof | Kind::Eol => break None,
                    Kind::Punct if &*t.text == "(" => depth += 1,
                    Kind::Punct if &*t.text == ")" => {
                        if depth == 0 {
                            break Some(true);
                        }
                        depth -= 1;
                    }
                    Kind::Punct
                        if &*t.text == ","
                            && depth == 0
                            && !(variadic && args.len() + 1 == paramc) =>
                    {
                        break Some(false)
                    }
                    // an assembler `#` line ends the argument, as in cpplib
                    Kind::Punct if &*t.text == "#" && t.flags & BOL != 0 => break Some(false),
                    _ => {}
                }
                self.charge(1)?;
                total += 1;
                self.check_list(total, "a macro's arguments")?;
                toks.push(t);
            };
            while toks.last().is_some_and(|t| t.kind == Kind::Padding) {
                toks.pop();
            }
            args.push(Arg {
                toks,
                present: true,
                expanded: None,
                stringified: None,
            });
            match end {
                None => break false,
                Some(true) => break true,
                Some(false) => {}
            }
        };
        let mname = self.macros[mid].name.clone();
        if !closed {
            return Err(self.err(
                ErrorKind::Syntax,
                format!("unterminated argument list invoking macro \"{mname}\""),
            ));
        }
        let mut argc = args.len();
        if argc == 1 && paramc == 0 && args[0].toks.is_empty() {
            argc = 0;
            args.clear();
        }
        if argc < paramc {
            if !(argc + 1 == paramc && variadic) {
                return Err(self.err_at(
                    name.file,
                    name.line,
                    ErrorKind::Syntax,
                    format!("macro \"{mname}\" requires {paramc} arguments, but only {argc} given"),
                ));
            }
            args.push(Arg {
                toks: Vec::new(),
                present: false,
                expanded: None,
                stringified: None,
            });
        } else if argc > paramc {
            return Err(self.err_at(
                name.file,
                name.line,
                ErrorKind::Syntax,
                format!("macro \"{mname}\" passed {argc} arguments, but takes just {paramc}"),
            ));
        }
        // GNU: the comma before `## args` goes when args was left out, or when
        // the macro takes only the variadic parameter and it is empty
        if variadic && argc == 1 && paramc == 1 && args[0].toks.is_empty() {
            args[0].present = false;
        }
        Ok(args)
    }

    /// cpplib's `expand_arg`: macro-expand an argument in a context of its own
    /// that ends with it.
    fn expand_arg(&mut self, toks: &[Tok]) -> Res<Vec<Tok>> {
        if self.nesting >= self.opts.limits.max_nesting {
            return Err(self.err(
                ErrorKind::Limit,
                format!(
                    "macro invocations nested more than {} deep in arguments",
                    self.opts.limits.max_nesting
                ),
            ));
        }
        self.nesting += 1;
        let r = self.expand_arg_inner(toks);
        self.nesting -= 1;
        r
    }

    fn expand_arg_inner(&mut self, toks: &[Tok]) -> Res<Vec<Tok>> {
        let mut v = toks.to_vec();
        v.push(self.eof());
        self.push_context(v, None);
        let depth = self.contexts.len();
        let mut out = Vec::new();
        loop {
            let t = self.get_token()?;
            if t.kind == Kind::Eof && self.contexts.len() == depth {
                break;
            }
            if t.kind == Kind::Eof {
                // an inner context ended at the argument's end: cannot happen, but never loop
                break;
            }
            self.charge(1)?;
            out.push(t);
            self.check_list(out.len(), "a macro argument")?;
        }
        self.contexts.truncate(depth - 1);
        Ok(out)
    }

    fn stringify(&self, toks: &[Tok], at: &Tok) -> Tok {
        let mut s = String::from("\"");
        let mut source: Option<bool> = None;
        let mut backslashes = 0usize;
        for t in toks {
            if t.kind == Kind::Padding {
                if source.is_none() || (source == Some(false) && pad_source(t).is_none()) {
                    source = pad_source(t);
                }
                continue;
            }
            if s.len() > 1 && source.unwrap_or(t.white()) {
                s.push(' ');
            }
            source = None;
            if matches!(t.kind, Kind::Str | Kind::Char) {
                s.push_str(&quote(&t.text));
            } else {
                s.push_str(&t.text);
            }
            if t.kind == Kind::Other && t.text.starts_with('\\') {
                backslashes += 1;
            } else {
                backslashes = 0;
            }
        }
        if backslashes % 2 == 1 {
            s.pop();
        }
        s.push('"');
        Tok {
            kind: Kind::Str,
            flags: at.flags & PREV_WHITE,
            text: Rc::from(s),
            file: at.file,
            line: at.line,
            col: at.col,
            chain: at.chain,
        }
    }

    /// cpplib's `replace_args`.
    fn replace_args(&mut self, mid: usize, args: &mut [Arg], chain: u32) -> Res<Vec<Tok>> {
        let body = self.body(mid)?;
        let paramc = self.macros[mid].params.len();
        let variadic = self.macros[mid].variadic;
        for (i, src) in body.iter().enumerate() {
            let Kind::Arg(n) = src.kind else { continue };
            let n = n as usize;
            if src.flags & STRINGIFY != 0 {
                if args[n].stringified.is_none() {
                    let at = Tok {
                        chain,
                        ..src.clone()
                    };
                    args[n].stringified = Some(self.stringify(&args[n].toks, &at));
                }
            } else if src.flags & PASTE_LEFT != 0 || (i > 0 && body[i - 1].flags & PASTE_LEFT != 0)
            {
            } else if args[n].expanded.is_none() {
                let toks = std::mem::take(&mut args[n].toks);
                let e = self.expand_arg(&toks);
                args[n].toks = toks;
                args[n].expanded = Some(e?);
            }
        }
        let va_empty = if variadic && body.iter().any(|t| t.kind == Kind::VaOptOpen) {
            let a = &mut args[paramc - 1];
            if a.expanded.is_none() {
                let toks = std::mem::take(&mut a.toks);
                let e = self.expand_arg(&toks);
                let a = &mut args[paramc - 1];
                a.toks = toks;
                a.expanded = Some(e?);
            }
            !args[paramc - 1]
                .expanded
                .as_ref()
                .is_some_and(|e| e.iter().any(|t| t.kind != Kind::Padding))
        } else {
            false
        };
        let mut out: Vec<Tok> = Vec::new();
        let mut vaopt_start: Option<usize> = None;
        let mut i = 0;
        while i < body.len() {
            let src = &body[i];
            match src.kind {
                Kind::VaOptOpen => {
                    if va_empty {
                        let mut depth = 0;
                        while i < body.len() {
                            match body[i].kind {
                                Kind::VaOptOpen => depth += 1,
                                Kind::VaOptClose => {
                                    depth -= 1;
                                    if depth == 0 {
                                        break;
                                    }
                                }
                                _ => {}
                            }
                            i += 1;
                        }
                    } else {
                        // the space before __VA_OPT__ stays
                        out.push(self.pad(Some(src)));
                        vaopt_start = Some(out.len());
                    }
                    i += 1;
                    continue;
                }
                Kind::VaOptClose => {
                    vaopt_start = None;
                    i += 1;
                    continue;
                }
                Kind::Arg(_) => {}
                _ => {
                    out.push(Tok {
                        chain,
                        ..src.clone()
                    });
                    i += 1;
                    continue;
                }
            }
            let Kind::Arg(n) = src.kind else {
                unreachable!()
            };
            let arg = &args[n as usize];
            let prev_paste = i > 0 && body[i - 1].flags & PASTE_LEFT != 0;
            let at_vaopt_start = vaopt_start == Some(out.len());
            let mut paste_flag: Option<usize> = None;
            let from: &[Tok];
            if src.flags & STRINGIFY != 0 {
                from = std::slice::from_ref(arg.stringified.as_ref().unwrap_or(src));
            } else if src.flags & PASTE_LEFT != 0 {
                from = &arg.toks;
            } else if prev_paste {
                from = &arg.toks;
                if let Some(last) = out.len().checked_sub(1) {
                    if out[last].is(",") && variadic && n as usize == paramc - 1 {
                        if !arg.present {
                            out.pop();
                        } else {
                            paste_flag = Some(last);
                        }
                    } else if from.is_empty() && !at_vaopt_start {
                        paste_flag = Some(last);
                    }
                }
            } else {
                let e = arg.expanded.as_deref().unwrap_or(&[]);
                from = if at_vaopt_start {
                    let k = e.iter().take_while(|t| t.kind == Kind::Padding).count();
                    &e[k..]
                } else {
                    e
                };
            }
            if i > 0 && !prev_paste && !at_vaopt_start {
                out.push(self.pad(Some(src)));
            }
            if !from.is_empty() {
                out.extend(from.iter().cloned());
                if src.flags & PASTE_LEFT != 0 {
                    paste_flag = Some(out.len() - 1);
                }
            }
            if src.flags & PASTE_LEFT == 0 {
                out.push(self.pad(None));
            }
            if let Some(p) = paste_flag {
                out[p].flags = (out[p].flags & !PASTE_LEFT) | (src.flags & PASTE_LEFT);
            }
            self.check_list(out.len(), "a macro expansion")?;
            i += 1;
        }
        Ok(out)
    }

    /// cpplib's `paste_all_tokens`: the result goes in a context of its own.
    #[inline(never)] // as `lex_base`
    fn paste_all(&mut self, mut lhs: Tok) -> Res<()> {
        while let Some(ctx) = self.contexts.last_mut() {
            let Some(rhs) = ctx.toks.get(ctx.pos).cloned() else {
                break;
            };
            if rhs.kind == Kind::Eof {
                break;
            }
            ctx.pos += 1;
            if rhs.kind == Kind::Padding {
                break;
            }
            let sep = if lhs.is("/") && !rhs.is("=") { " " } else { "" };
            let text = format!("{}{sep}{}", lhs.text, rhs.text);
            match lex::lex_one(&text) {
                Some(kind) => {
                    lhs = Tok {
                        kind,
                        flags: lhs.flags & PREV_WHITE,
                        text: self.names.get(&text),
                        ..lhs
                    };
                }
                None => {
                    // asm mode: not an error, the two tokens stay
                    if let Some(ctx) = self.contexts.last_mut() {
                        ctx.pos -= 1;
                    }
                    break;
                }
            }
            if rhs.flags & PASTE_LEFT == 0 {
                break;
            }
        }
        lhs.flags &= !PASTE_LEFT;
        self.push_context(vec![lhs], None);
        Ok(())
    }

    fn builtin(&mut self, b: Builtin, name: &Tok) -> Res<Tok> {
        let cur = self.stack.last().map_or(0, |i| i.lexer.file);
        let (kind, text) = match b {
            Builtin::File => (
                Kind::Str,
                format!("\"{}\"", quote(&self.presumed_name(cur))),
            ),
            Builtin::BaseFile => (Kind::Str, format!("\"{}\"", quote(&self.main_display))),
            Builtin::Line => {
                // gcc: the line of the outermost expansion the name came from,
                // else where the name is written
                let (mut f, mut l) = (name.file, name.line);
                let mut c = name.chain;
                while c != 0 {
                    let ch = &self.chains[c as usize];
                    (f, l) = (ch.file, ch.line);
                    c = ch.parent;
                }
                (Kind::Number, self.presumed_line(f, l).to_string())
            }
            Builtin::Counter => {
                self.counter += 1;
                (Kind::Number, (self.counter - 1).to_string())
            }
            Builtin::IncludeLevel => (Kind::Number, self.stack.len().saturating_sub(1).to_string()),
            // deterministic output: what gcc prints when it has no clock
            Builtin::Date => (Kind::Str, "\"??? ?? ????\"".into()),
            Builtin::Time => (Kind::Str, "\"??:??:??\"".into()),
            Builtin::Timestamp => (Kind::Str, "\"??? ??? ?? ??:??:?? ????\"".into()),
            Builtin::HasInclude | Builtin::HasIncludeNext => {
                if !self.in_directive {
                    return Err(self.err_at(
                        name.file,
                        name.line,
                        ErrorKind::Syntax,
                        format!("\"{}\" used outside of preprocessing directive", name.text),
                    ));
                }
                let found = self.has_include(b == Builtin::HasIncludeNext, name)?;
                (Kind::Number, if found { "1" } else { "0" }.to_string())
            }
        };
        Ok(Tok {
            kind,
            flags: name.flags & PREV_WHITE,
            text: Rc::from(text),
            file: name.file,
            line: name.line,
            col: name.col,
            chain: 0,
        })
    }

    fn set_angled(&mut self, on: bool) {
        if let Some(t) = self.stack.last_mut() {
            t.lexer.angled = on;
        }
    }

    /// An include operand from macro-expanded tokens: (name, angle).
    fn header_operand(&mut self, first: Tok, what: &str) -> Res<(String, bool)> {
        match first.kind {
            Kind::Str => Ok((first.text[1..first.text.len() - 1].to_string(), false)),
            Kind::HeaderName => Ok((first.text[1..first.text.len() - 1].to_string(), true)),
            Kind::Punct if first.is("<") => {
                let mut s = String::new();
                loop {
                    let t = self.get_nonpad()?;
                    match t.kind {
                        Kind::Eol | Kind::Eof => {
                            return Err(
                                self.err(ErrorKind::Syntax, "missing terminating > character")
                            )
                        }
                        _ if t.is(">") => break,
                        _ => {
                            if t.white() && !s.is_empty() {
                                s.push(' ');
                            }
                            s.push_str(&t.text);
                        }
                    }
                }
                Ok((s, true))
            }
            _ => Err(self.err(
                ErrorKind::Syntax,
                format!("{what} expects \"FILENAME\" or <FILENAME>"),
            )),
        }
    }

    fn has_include(&mut self, next: bool, name: &Tok) -> Res<bool> {
        self.set_angled(true);
        let mut t = self.get_nonpad();
        let paren = t.as_ref().is_ok_and(|t| t.is("("));
        if paren {
            t = self.get_nonpad();
        }
        self.set_angled(false);
        let t = t?;
        if !paren {
            return Err(self.err(
                ErrorKind::Syntax,
                format!("missing '(' before \"{}\" operand", name.text),
            ));
        }
        let (file, angle) = self.header_operand(t, &name.text)?;
        let close = self.get_nonpad()?;
        if !close.is(")") {
            return Err(self.err(
                ErrorKind::Syntax,
                format!("missing ')' after \"{}\" operand", name.text),
            ));
        }
        Ok(self.find_include(&file, angle, next, false)?.is_some())
    }

    // ---- directives ------------------------------------------------------------

    /// `#` at the start of a line: true when it was a directive (or skipped);
    /// false for assembler's `#` lines, which are passed through.
    fn directive(&mut self, hash: &Tok) -> Res<bool> {
        let was_parsing = self.parsing_args;
        let was_prevent = self.prevent_expansion;
        if was_parsing > 0 {
            self.parsing_args = 0;
            self.prevent_expansion = 0;
        }
        self.in_directive = true;
        if let Some(t) = self.stack.last_mut() {
            t.lexer.in_directive = true;
        }
        let r = self.directive_inner(hash);
        self.in_directive = false;
        if let Some(t) = self.stack.last_mut() {
            t.lexer.in_directive = false;
        }
        self.parsing_args = was_parsing;
        self.prevent_expansion = was_prevent;
        let (handled, then) = r?;
        if let Some(Then::Include(norm, display, dir, key)) = then {
            if self.out.markers {
                let l = self.presumed_line(hash.file, hash.line);
                let name = self.presumed_name(hash.file);
                self.out.maybe_print_line(l, &name);
            }
            self.push_file(norm, display, dir, key, false)?;
        }
        Ok(handled)
    }

    fn end_directive(&mut self) -> Res<()> {
        let file = self.stack.last().map_or(0, |i| i.lexer.file);
        if let Some(t) = self.stack.last_mut() {
            t.lexer
                .skip_line()
                .map_err(|(line, m)| self.err_at(file, line, ErrorKind::Syntax, m))?;
        }
        Ok(())
    }

    fn directive_inner(&mut self, hash: &Tok) -> Res<(bool, Option<Then>)> {
        // a directive's name written plainly is read without making a token
        let fast = self.stack.last_mut().and_then(|i| i.lexer.directive_name());
        let dname = match fast {
            Some(_) => None,
            None => Some(self.raw()?),
        };
        let name: &str = match (&dname, fast) {
            (_, Some(n)) => n,
            (Some(d), None) if d.kind == Kind::Name => &d.text,
            _ => "",
        };
        let conditional = matches!(
            name,
            "if" | "ifdef" | "ifndef" | "elif" | "elifdef" | "elifndef" | "else" | "endif"
        );
        if dname.as_ref().is_some_and(|d| d.kind == Kind::Eol) {
            self.end_directive()?;
            return Ok((true, None));
        }
        if self.skipping && !conditional {
            self.end_directive()?;
            return Ok((true, None));
        }
        let file = hash.file;
        let line = hash.line;
        let mut then = None;
        if let Some(top) = self.stack.last_mut() {
            match (&top.guard, name) {
                (Guard::Start, "ifndef") if top.ifs.is_empty() => {}
                // an #else or #elif of the guarding group: not a guard
                (Guard::Inside(_), "else" | "elif" | "elifdef" | "elifndef")
                    if top.ifs.len() == 1 =>
                {
                    top.guard = Guard::No
                }
                (Guard::Inside(_), _) => {}
                _ => top.guard = Guard::No,
            }
        }
        match name {
            "define" => self.do_define()?,
            "undef" => {
                let n = self.macro_name("#undef")?;
                if let Some(m) = self.table.remove(&Name(n.clone())) {
                    if self.macros[m].builtin.is_some() {
                        self.warn(file, line, format!("undefining \"{n}\""));
                    }
                }
            }
            "include" | "include_next" | "import" => {
                then = self.do_include(name == "include_next")?;
            }
            "if" | "ifdef" | "ifndef" => {
                let value = if self.skipping {
                    false
                } else if name == "if" {
                    self.eval_if()?
                } else {
                    let n = self.macro_name(&format!("#{name}"))?;
                    if name == "ifndef" {
                        if let Some(top) = self.stack.last_mut() {
                            if top.guard == Guard::Start {
                                top.guard = Guard::Inside(n.clone());
                            }
                        }
                    }
                    self.table.contains_key(&Name(n.clone())) == (name == "ifdef")
                };
                let was = self.skipping;
                let d: &'static str = match name {
                    "if" => "if",
                    "ifdef" => "ifdef",
                    _ => "ifndef",
                };
                if let Some(inc) = self.stack.last_mut() {
                    inc.ifs.push(Cond {
                        was_skipping: was,
                        skip_elses: was || value,
                        saw_else: false,
                        line,
                        directive: d,
                    });
                }
                self.skipping = was || !value;
            }
            "elif" | "elifdef" | "elifndef" => {
                let Some(c) = self.stack.last().and_then(|i| i.ifs.last()) else {
                    return Err(self.err_at(
                        file,
                        line,
                        ErrorKind::Syntax,
                        format!("#{name} without #if"),
                    ));
                };
                if c.saw_else {
                    return Err(self.err_at(
                        file,
                        line,
                        ErrorKind::Syntax,
                        format!("#{name} after #else"),
                    ));
                }
                if c.skip_elses {
                    self.skipping = true;
                } else {
                    let value = if name == "elif" {
                        self.eval_if()?
                    } else {
                        let n = self.macro_name(&format!("#{name}"))?;
                        self.table.contains_key(&Name(n.clone())) == (name == "elifdef")
                    };
                    self.skipping = !value;
                    if let Some(c) = self.stack.last_mut().and_then(|i| i.ifs.last_mut()) {
                        c.skip_elses = value;
                    }
                }
            }
            "else" => {
                let Some(c) = self.stack.last_mut().and_then(|i| i.ifs.last_mut()) else {
                    return Err(self.err_at(file, line, ErrorKind::Syntax, "#else without #if"));
                };
                if c.saw_else {
                    return Err(self.err_at(file, line, ErrorKind::Syntax, "#else after #else"));
                }
                c.saw_else = true;
                self.skipping = c.skip_elses;
                c.skip_elses = true;
            }
            "endif" => {
                let Some(c) = self.stack.last_mut().and_then(|i| i.ifs.pop()) else {
                    return Err(self.err_at(file, line, ErrorKind::Syntax, "#endif without #if"));
                };
                self.skipping = c.was_skipping;
                if let Some(top) = self.stack.last_mut() {
                    if let (true, Guard::Inside(g)) = (top.ifs.is_empty(), &top.guard) {
                        top.guard = Guard::After(g.clone());
                    }
                }
            }
            "error" | "warning" => {
                let text = self.rest_of_directive()?;
                let msg = format!("#{name} {text}");
                if name == "error" {
                    return Err(self.err_at(file, line, ErrorKind::User, msg));
                }
                self.warn(file, line, msg);
            }
            "line" => {
                // ends the directive itself
                self.do_line(file, line)?;
                return Ok((true, None));
            }
            "pragma" => {
                let t = self.raw()?;
                let t2 = self.raw()?;
                let ns = &*t.text == "GCC";
                let op = if ns { &*t2.text } else { &*t.text };
                let known = matches!(op, "once" | "push_macro" | "pop_macro")
                    || (ns
                        && matches!(
                            op,
                            "poison" | "system_header" | "dependency" | "warning" | "error"
                        ));
                if known {
                    // gcc -E: cpplib's own pragmas start an (empty) output line
                    let pl = self.presumed_line(t.file, t.line);
                    let name = self.presumed_name(t.file);
                    self.out.line_change(&t, pl, &name);
                }
                match (ns, op) {
                    (false, "once") => {
                        let norm = self.files[file as usize].norm.to_string();
                        self.once.insert(norm);
                    }
                    (false, "push_macro" | "pop_macro") => {
                        let s = self.raw()?;
                        let close = self.raw()?;
                        if !t2.is("(") || s.kind != Kind::Str || !close.is(")") {
                            return Err(self.err_at(
                                file,
                                line,
                                ErrorKind::Syntax,
                                format!("invalid #pragma {op} directive"),
                            ));
                        }
                        let m = self.names.get(&unquote(&s.text));
                        if op == "push_macro" {
                            let cur = self.table.get(&Name(m.clone())).copied();
                            self.pushed.entry(m).or_default().push(cur);
                        } else if let Some(v) = self.pushed.get_mut(&m).and_then(|v| v.pop()) {
                            match v {
                                Some(id) => self.table.insert(Name(m), id),
                                None => self.table.remove(&Name(m)),
                            };
                        }
                    }
                    (true, "warning" | "error") => {
                        let s = self.raw()?;
                        let text = if s.kind == Kind::Str {
                            unquote(&s.text)
                        } else {
                            format!("{} {}", s.text, self.rest_of_directive()?)
                        };
                        if op == "error" {
                            return Err(self.err_at(file, line, ErrorKind::User, text));
                        }
                        self.warn(file, line, text);
                    }
                    (true, "poison") => {
                        return Err(self.err_at(
                            file,
                            line,
                            ErrorKind::Syntax,
                            "#pragma GCC poison is not supported",
                        ))
                    }
                    // other pragmas: gcc -E in assembler mode prints nothing for them
                    _ => {}
                }
            }
            "ident" | "sccs" => {}
            "assert" | "unassert" => {
                return Err(self.err_at(
                    file,
                    line,
                    ErrorKind::Syntax,
                    format!("#{name} is not supported (an obsolete GCC extension)"),
                ))
            }
            _ => {
                if self.skipping {
                    self.end_directive()?;
                    return Ok((true, None));
                }
                // assembler: `#` followed by anything else is passed through
                // (a name read without a token is a known directive's)
                if let Some(d) = dname {
                    self.lookahead.push(d);
                }
                return Ok((false, None));
            }
        }
        self.end_directive()?;
        Ok((true, then))
    }

    fn rest_of_directive(&mut self) -> Res<String> {
        let mut s = String::new();
        loop {
            let t = self.raw()?;
            if matches!(t.kind, Kind::Eol | Kind::Eof) {
                return Ok(s);
            }
            if t.white() && !s.is_empty() {
                s.push(' ');
            }
            s.push_str(&t.text);
        }
    }

    fn macro_name(&mut self, what: &str) -> Res<Rc<str>> {
        let t = self.raw()?;
        match t.kind {
            Kind::Name => {
                if &*t.text == "defined" {
                    return Err(self.err(
                        ErrorKind::Syntax,
                        "\"defined\" cannot be used as a macro name",
                    ));
                }
                Ok(t.text)
            }
            Kind::Eol => Err(self.err(
                ErrorKind::Syntax,
                format!("no macro name given in {what} directive"),
            )),
            _ => Err(self.err(ErrorKind::Syntax, "macro names must be identifiers")),
        }
    }

    fn do_define(&mut self) -> Res<()> {
        let name = self.macro_name("#define")?;
        if matches!(
            &*name,
            "__has_include" | "__has_include_next" | "__VA_ARGS__" | "__VA_OPT__"
        ) {
            return Err(self.err(
                ErrorKind::Syntax,
                format!("\"{name}\" cannot be used as a macro name"),
            ));
        }
        let mut fun_like = false;
        let mut params: Vec<Rc<str>> = Vec::new();
        let mut variadic = false;
        // function-like when `(` follows the name with no space between
        if self
            .stack
            .last()
            .is_some_and(|i| i.lexer.next_byte() == Some(b'('))
        {
            self.raw()?;
            fun_like = true;
            loop {
                let p = self.raw()?;
                if p.is(")") && params.is_empty() {
                    break;
                }
                if p.is("...") {
                    variadic = true;
                    params.push(self.names.get("__VA_ARGS__"));
                    let c = self.raw()?;
                    if !c.is(")") {
                        return Err(
                            self.err(ErrorKind::Syntax, "missing ')' in macro parameter list")
                        );
                    }
                    break;
                }
                if p.kind != Kind::Name {
                    return Err(self.err(
                        ErrorKind::Syntax,
                        format!("expected parameter name, found \"{}\"", p.text),
                    ));
                }
                if params.iter().any(|x| Rc::ptr_eq(x, &p.text)) {
                    return Err(self.err(
                        ErrorKind::Syntax,
                        format!("duplicate macro parameter \"{}\"", p.text),
                    ));
                }
                params.push(p.text.clone());
                let c = self.raw()?;
                if c.is(",") {
                    continue;
                }
                if c.is("...") {
                    variadic = true;
                    let c2 = self.raw()?;
                    if !c2.is(")") {
                        return Err(
                            self.err(ErrorKind::Syntax, "missing ')' in macro parameter list")
                        );
                    }
                    break;
                }
                if c.is(")") {
                    break;
                }
                return Err(self.err(
                    ErrorKind::Syntax,
                    format!("expected ',' or ')', found \"{}\"", c.text),
                ));
            }
        }
        let old = self.table.get(&Name(name.clone())).copied();
        // A body that cannot hold an error (no `#`), of a name not defined
        // yet, is kept unlexed and lexed when it is first expanded (most
        // never are).
        if old.is_none() && !variadic {
            if let Some(top) = self.stack.last_mut() {
                let start = Box::new(top.lexer.clone());
                let file = start.file;
                let plain = top
                    .lexer
                    .skip_plain_directive()
                    .map_err(|(line, m)| self.err_at(file, line, ErrorKind::Syntax, m))?;
                if plain {
                    self.add_macro(name, fun_like, params, variadic, Body::Lazy(start));
                    return Ok(());
                }
                // lexed after all, from the start of the body
                if let Some(top) = self.stack.last_mut() {
                    top.lexer = *start;
                }
            }
        }
        let t = self.raw()?;
        let body = self.define_body(&mut None, t, fun_like, &params, variadic)?;
        if let Some(old) = old {
            let old_body = match self.macros[old].builtin {
                Some(_) => None,
                None => Some(self.body(old)?),
            };
            let o = &self.macros[old];
            let same = old_body.is_some_and(|ob| {
                o.fun_like == fun_like
                    && o.params == params
                    && o.variadic == variadic
                    && ob.len() == body.len()
                    && ob.iter().zip(&body).all(|(a, b)| {
                        a.kind == b.kind
                            && a.text == b.text
                            && (a.flags & (PREV_WHITE | PASTE_LEFT | STRINGIFY))
                                == (b.flags & (PREV_WHITE | PASTE_LEFT | STRINGIFY))
                    })
            });
            if !same {
                let (f, l) = self
                    .stack
                    .last()
                    .map_or((0, 0), |i| (i.lexer.file, i.lexer.line()));
                self.warn(f, l, format!("\"{name}\" redefined"));
            }
        }
        let body = Body::Ready(Rc::new(body));
        self.add_macro(name, fun_like, params, variadic, body);
        Ok(())
    }

    fn add_macro(
        &mut self,
        name: Rc<str>,
        fun_like: bool,
        params: Vec<Rc<str>>,
        variadic: bool,
        body: Body,
    ) {
        self.macros.push(Macro {
            name: name.clone(),
            fun_like,
            params,
            variadic,
            body,
            builtin: None,
            disabled: false,
        });
        self.table.insert(Name(name), self.macros.len() - 1);
    }

    /// A replacement list from its first token `t` to the end of the line, from
    /// the input or from a kept lexer (`lx`).
    fn define_body(
        &mut self,
        lx: &mut Option<Box<Lexer>>,
        mut t: Tok,
        fun_like: bool,
        params: &[Rc<str>],
        variadic: bool,
    ) -> Res<Vec<Tok>> {
        // built in a reused buffer, then copied once at its size
        let mut body: Vec<Tok> = std::mem::take(&mut self.scratch);
        body.clear();
        let mut following_paste = false;
        let mut vaopt_depth: Vec<u32> = Vec::new();
        while t.kind != Kind::Eol && t.kind != Kind::Eof {
            let mut tok = t;
            if fun_like && tok.kind == Kind::Name {
                if let Some(i) = params.iter().position(|p| Rc::ptr_eq(p, &tok.text)) {
                    tok.kind = Kind::Arg(i as u16);
                } else if variadic && &*tok.text == "__VA_OPT__" {
                    let open = self.raw_from(lx)?;
                    if !open.is("(") {
                        return Err(self.err(
                            ErrorKind::Syntax,
                            "__VA_OPT__ must be followed by an open parenthesis",
                        ));
                    }
                    tok.kind = Kind::VaOptOpen;
                    vaopt_depth.push(0);
                }
            }
            if let Some(d) = vaopt_depth.last_mut() {
                if tok.is("(") {
                    *d += 1;
                } else if tok.is(")") {
                    if *d == 0 {
                        tok.kind = Kind::VaOptClose;
                        vaopt_depth.pop();
                    } else {
                        *d -= 1;
                    }
                }
            }
            if tok.is("##") {
                if body.is_empty() {
                    return Err(self.err(
                        ErrorKind::Syntax,
                        "'##' cannot appear at either end of a macro expansion",
                    ));
                }
                if !following_paste {
                    if let Some(l) = body.last_mut() {
                        l.flags |= PASTE_LEFT;
                    }
                }
                following_paste = true;
                t = self.raw_from(lx)?;
                continue;
            }
            following_paste = false;
            if fun_like
                && matches!(tok.kind, Kind::Arg(_))
                && body
                    .last()
                    .is_some_and(|l| l.is("#") && l.flags & PASTE_LEFT == 0)
            {
                let hash = body.pop().unwrap_or_else(|| tok.clone());
                tok.flags = (tok.flags & !PREV_WHITE) | STRINGIFY | (hash.flags & PREV_WHITE);
            }
            tok.flags &= !BOL;
            body.push(tok);
            t = self.raw_from(lx)?;
        }
        if following_paste {
            return Err(self.err(
                ErrorKind::Syntax,
                "'##' cannot appear at either end of a macro expansion",
            ));
        }
        if !vaopt_depth.is_empty() {
            return Err(self.err(ErrorKind::Syntax, "unterminated __VA_OPT__"));
        }
        if let Some(f) = body.first_mut() {
            f.flags &= !PREV_WHITE;
        }
        let out = body.as_slice().to_vec();
        body.clear();
        self.scratch = body;
        Ok(out)
    }

    fn do_include(&mut self, next: bool) -> Res<Option<Then>> {
        let what = if next { "#include_next" } else { "#include" };
        self.set_angled(true);
        let t = self.raw();
        self.set_angled(false);
        let t = t?;
        let (name, angle) = match t.kind {
            Kind::Str | Kind::HeaderName => {
                let r = self.header_operand(t, what)?;
                let extra = self.raw()?;
                if extra.kind != Kind::Eol {
                    let (f, l) = (extra.file, extra.line);
                    self.warn(f, l, format!("extra tokens at end of {what} directive"));
                }
                r
            }
            Kind::Eol => {
                return Err(self.err(
                    ErrorKind::Syntax,
                    format!("{what} expects \"FILENAME\" or <FILENAME>"),
                ))
            }
            _ => {
                self.lookahead.push(t);
                let first = self.get_nonpad()?;
                self.header_operand(first, what)?
            }
        };
        if name.is_empty() {
            return Err(self.err(ErrorKind::Syntax, format!("empty filename in {what}")));
        }
        match self.find_include(&name, angle, next, false)? {
            Some((norm, display, dir, key)) => Ok(Some(Then::Include(norm, display, dir, key))),
            None => Err(self.err(
                ErrorKind::NotFound,
                format!("{name}: No such file or directory"),
            )),
        }
    }

    fn do_line(&mut self, file: u32, line: u32) -> Res<()> {
        let t = self.get_nonpad()?;
        if t.kind != Kind::Number || !t.text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.err_at(
                file,
                line,
                ErrorKind::Syntax,
                format!("\"{}\" after #line is not a positive integer", t.text),
            ));
        }
        let n: i64 = t
            .text
            .parse()
            .map_err(|_| self.err_at(file, line, ErrorKind::Syntax, "line number out of range"))?;
        let f = self.get_nonpad()?;
        let name = match f.kind {
            Kind::Str => Some(unquote(&f.text)),
            Kind::Eol | Kind::Eof => None,
            _ => {
                return Err(self.err_at(
                    file,
                    line,
                    ErrorKind::Syntax,
                    format!("invalid filename \"{}\"", f.text),
                ))
            }
        };
        self.end_directive()?;
        let next_line = self.stack.last().map_or(0, |i| i.lexer.line());
        let fi = &mut self.files[file as usize];
        fi.line_delta = n - next_line as i64;
        if name.is_some() {
            fi.presumed = name;
        }
        Ok(())
    }

    fn eval_if(&mut self) -> Res<bool> {
        use expr::ETok;
        let mut toks = Vec::new();
        let (file, line) = self
            .stack
            .last()
            .map_or((0, 0), |i| (i.lexer.file, i.lexer.line()));
        loop {
            let t = self.get_nonpad()?;
            let e = match t.kind {
                Kind::Eol | Kind::Eof => break,
                Kind::Name if &*t.text == "defined" => {
                    self.prevent_expansion += 1;
                    let r = self.parse_defined();
                    self.prevent_expansion -= 1;
                    ETok::Num(expr::Val {
                        v: r? as u64,
                        unsigned: false,
                    })
                }
                Kind::Name => ETok::Num(expr::Val {
                    v: 0,
                    unsigned: false,
                }),
                Kind::Number => ETok::Num(
                    expr::number(&t.text)
                        .map_err(|m| self.err_at(file, line, ErrorKind::Syntax, m))?,
                ),
                Kind::Char => ETok::Num(
                    expr::char_const(&t.text)
                        .map_err(|m| self.err_at(file, line, ErrorKind::Syntax, m))?,
                ),
                Kind::Punct => ETok::Op(t.text.to_string()),
                _ => ETok::Bad(t.text.to_string()),
            };
            toks.push(e);
        }
        expr::eval(&toks).map_err(|m| self.err_at(file, line, ErrorKind::Syntax, m))
    }

    fn parse_defined(&mut self) -> Res<bool> {
        let mut t = self.get_nonpad()?;
        let paren = t.is("(");
        if paren {
            t = self.get_nonpad()?;
        }
        if t.kind != Kind::Name {
            return Err(self.err(
                ErrorKind::Syntax,
                "operator \"defined\" requires an identifier",
            ));
        }
        if paren {
            let c = self.get_nonpad()?;
            if !c.is(")") {
                return Err(self.err(ErrorKind::Syntax, "missing ')' after \"defined\""));
            }
        }
        Ok(self.table.contains_key(&Name(t.text.clone())))
    }
}

enum Then {
    Include(String, String, DirRef, String),
}

fn first_line(s: &str) -> &str {
    s.split('\n').next().unwrap_or("")
}

fn unquote(s: &str) -> String {
    let inner = s.get(1..s.len().saturating_sub(1)).unwrap_or("");
    let mut o = String::new();
    let mut it = inner.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            if let Some(n) = it.next() {
                o.push(n);
            }
        } else {
            o.push(c);
        }
    }
    o
}
