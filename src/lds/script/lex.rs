//! ld's script lexer, after `ldlex.l` (binutils 2.40+): the same input lexes
//! differently in each of its states, and the parser says which state it wants
//! for every token (as ld's grammar switches the lexer with `ldlex_script`,
//! `ldlex_expression`, `ldlex_wild` and `ldlex_inputlist`).
//!
//! flex picks the longest match and, between equally long ones, the earlier
//! rule: numbers, then operators, then keywords, then names. We do the same.

use super::{ParseError, Span};

/// The lexer state (ld's start conditions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Commands and the body of `SECTIONS`: file-name-like names (`a-b` is one name).
    Script,
    /// Expressions: C-like names (`a-b` is three tokens), all operators.
    Expr,
    /// Inside an output section's braces: wildcard names (`*(.text.*)`).
    Wild,
    /// The file list of `INPUT(...)`/`GROUP(...)`.
    InputList,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Tok<'a> {
    /// A name, bare or quoted (the quotes stripped, as ld does).
    Name {
        text: &'a str,
        quoted: bool,
    },
    /// An integer literal: its value (K/M applied) and its text.
    Int {
        value: u64,
        text: &'a str,
    },
    /// A keyword of the current mode.
    Kw(&'static str),
    /// An operator or punctuation.
    Op(&'static str),
    /// `-lfoo` in an input list: the library name.
    LName(&'a str),
    Eof,
}

impl Tok<'_> {
    /// How the token is named in error messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Name { text, quoted: true } => format!("string \"{}\"", clip(text)),
            Tok::Name { text, .. } => format!("`{}`", clip(text)),
            Tok::Int { text, .. } => format!("number `{}`", clip(text)),
            Tok::Kw(k) => format!("keyword `{k}`"),
            Tok::Op(o) => format!("`{o}`"),
            Tok::LName(l) => format!("`-l{}`", clip(l)),
            Tok::Eof => "end of input".to_string(),
        }
    }
}

fn clip(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let t: String = s.chars().take(MAX).collect();
        format!("{t}...")
    }
}

const SCRIPT_KW: &[&str] = &[
    "MEMORY",
    "REGION_ALIAS",
    "LD_FEATURE",
    "ORIGIN",
    "VERSION",
    "BLOCK",
    "BIND",
    "LENGTH",
    "ALIGN",
    "DATA_SEGMENT_ALIGN",
    "DATA_SEGMENT_RELRO_END",
    "DATA_SEGMENT_END",
    "ADDR",
    "LOADADDR",
    "ALIGNOF",
    "ABSOLUTE",
    "MAX",
    "MIN",
    "LOG2CEIL",
    "ASSERT",
    "ENTRY",
    "EXTERN",
    "NEXT",
    "SIZEOF_HEADERS",
    "SEGMENT_START",
    "SIZEOF",
    "TARGET",
    "SEARCH_DIR",
    "OUTPUT",
    "INPUT",
    "GROUP",
    "LIB",
    "DEFINED",
    "FORCE_COMMON_ALLOCATION",
    "FORCE_GROUP_ALLOCATION",
    "INHIBIT_COMMON_ALLOCATION",
    "SECTIONS",
    "INSERT",
    "AFTER",
    "BEFORE",
    "STARTUP",
    "OUTPUT_FORMAT",
    "OUTPUT_ARCH",
    "HLL",
    "SYSLIB",
    "FLOAT",
    "NOFLOAT",
    "NOCROSSREFS",
    "NOCROSSREFS_TO",
    "OVERLAY",
    "ONLY_IF_RO",
    "ONLY_IF_RW",
    "SPECIAL",
    "o",
    "org",
    "l",
    "len",
    "INCLUDE",
    "PHDRS",
    "AT",
    "ALIGN_WITH_INPUT",
    "SUBALIGN",
    "HIDDEN",
    "PROVIDE",
    "PROVIDE_HIDDEN",
    "CONSTANT",
];

const EXPR_KW: &[&str] = &[
    "ORIGIN",
    "BLOCK",
    "BIND",
    "LENGTH",
    "ALIGN",
    "DATA_SEGMENT_ALIGN",
    "DATA_SEGMENT_RELRO_END",
    "DATA_SEGMENT_END",
    "ADDR",
    "LOADADDR",
    "ALIGNOF",
    "ABSOLUTE",
    "MAX",
    "MIN",
    "LOG2CEIL",
    "ASSERT",
    "NEXT",
    "SIZEOF_HEADERS",
    "SEGMENT_START",
    "SIZEOF",
    "DEFINED",
    "NOCROSSREFS",
    "NOCROSSREFS_TO",
    "OVERLAY",
    "NOLOAD",
    "READONLY",
    "DSECT",
    "COPY",
    "INFO",
    "TYPE",
    "ONLY_IF_RO",
    "ONLY_IF_RW",
    "SPECIAL",
    "INCLUDE",
    "AT",
    "ALIGN_WITH_INPUT",
    "SUBALIGN",
    "HIDDEN",
    "PROVIDE",
    "PROVIDE_HIDDEN",
    "CONSTANT",
];

const WILD_KW: &[&str] = &[
    "ASSERT",
    "CREATE_OBJECT_SYMBOLS",
    "CONSTRUCTORS",
    "FILL",
    "QUAD",
    "SQUAD",
    "LONG",
    "SHORT",
    "BYTE",
    "ASCIZ",
    "LINKER_VERSION",
    "SORT_BY_NAME",
    "SORT_BY_ALIGNMENT",
    "SORT",
    "SORT_BY_INIT_PRIORITY",
    "SORT_NONE",
    "REVERSE",
    "INPUT_SECTION_FLAGS",
    "INCLUDE",
    "AT",
    "HIDDEN",
    "PROVIDE",
    "PROVIDE_HIDDEN",
    "KEEP",
    "EXCLUDE_FILE",
];

const INPUTLIST_KW: &[&str] = &["AS_NEEDED"];

// Operators per mode, longest first within each length class.
const SCRIPT_OPS: &[&str] = &[
    "<<=", ">>=", "+=", "-=", "*=", "/=", "&=", "|=", "^=", ">", ",", "~", "!", "+", "-", "=", "}",
    "{", ")", "(", ":", ";",
];
const EXPR_OPS: &[&str] = &[
    "<<=", ">>=", "||", "==", "!=", ">=", "<=", "<<", ">>", "+=", "-=", "*=", "/=", "&=", "|=",
    "^=", "&&", ">", ",", "&", "|", "~", "!", "?", "*", "+", "-", "/", "%", "<", "^", "=", "}",
    "{", ")", "(", ":", ";",
];
const WILD_OPS: &[&str] = &[
    "<<=", ">>=", "+=", "-=", "*=", "/=", "&=", "|=", "^=", "]", "[", "&", "=", "}", "{", ")", "(",
    ";",
];
const INPUTLIST_OPS: &[&str] = &[",", ")", "("];

/// Character classes of ldlex.l, one bit each in `CLASS`.
const WILD: u8 = 1;
const FILENAME: u8 = 2;
const FILENAME1: u8 = 4;
const SYMBOL: u8 = 8;
const SYMBOL1: u8 = 16;

const fn class_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut c = 0usize;
    while c < 256 {
        let b = c as u8;
        let alpha = b.is_ascii_alphabetic();
        let alnum = b.is_ascii_alphanumeric();
        let mut bits = 0;
        if alnum || in_set(b, b"_/.\\$~-+:[],=?*^!") {
            bits |= WILD;
        }
        if alnum || in_set(b, b"_/.\\$~-+:[],=") {
            bits |= FILENAME;
        }
        if alpha || in_set(b, b"_/.\\$~") {
            bits |= FILENAME1;
        }
        if alnum || in_set(b, b"_/.\\$~") {
            bits |= SYMBOL;
        }
        if alpha || in_set(b, b"_.\\$") {
            bits |= SYMBOL1;
        }
        t[c] = bits;
        c += 1;
    }
    t
}

const fn in_set(c: u8, set: &[u8]) -> bool {
    let mut i = 0;
    while i < set.len() {
        if set[i] == c {
            return true;
        }
        i += 1;
    }
    false
}

const CLASS: [u8; 256] = class_table();

fn is(c: u8, class: u8) -> bool {
    CLASS[c as usize] & class != 0
}

fn is_filenamechar(c: u8) -> bool {
    is(c, FILENAME)
}

/// Length of the bare name at the start of `s` in `mode` (0 if none).
pub(crate) fn name_len(s: &[u8], mode: Mode) -> usize {
    let (first, rest) = name_classes(mode);
    match s.first() {
        Some(&c) if is(c, first) => 1 + s[1..].iter().take_while(|&&c| is(c, rest)).count(),
        _ => 0,
    }
}

/// The classes of a name's first byte and of the rest, in `mode`.
const fn name_classes(mode: Mode) -> (u8, u8) {
    match mode {
        Mode::Script | Mode::InputList => (FILENAME1, FILENAME),
        Mode::Expr => (SYMBOL1, SYMBOL),
        Mode::Wild => (WILD, WILD),
    }
}

pub(crate) fn keywords(mode: Mode) -> &'static [&'static str] {
    match mode {
        Mode::Script => SCRIPT_KW,
        Mode::Expr => EXPR_KW,
        Mode::Wild => WILD_KW,
        Mode::InputList => INPUTLIST_KW,
    }
}

/// Whether a keyword of some mode may start with `c` (see the test below).
fn may_start_keyword(c: u8) -> bool {
    c.is_ascii_uppercase() || c == b'o' || c == b'l'
}

/// The keyword of `mode` spelled `word`, looked up among those of its length.
fn keyword(mode: Mode, word: &str) -> Option<&'static str> {
    type ByLen = Vec<Vec<&'static str>>;
    static BY_LEN: std::sync::OnceLock<[ByLen; 4]> = std::sync::OnceLock::new();
    let tables = BY_LEN.get_or_init(|| {
        MODES.map(|m| {
            let kws = keywords(m);
            let longest = kws.iter().map(|k| k.len()).max().unwrap_or(0);
            let mut t: ByLen = vec![Vec::new(); longest + 1];
            for k in kws {
                t[k.len()].push(k);
            }
            t
        })
    });
    let i = mode_index(mode);
    let first = word.as_bytes().first()?;
    tables[i]
        .get(word.len())?
        .iter()
        .find(|k| k.as_bytes()[0] == *first && **k == word)
        .copied()
}

const MODES: [Mode; 4] = [Mode::Script, Mode::Expr, Mode::Wild, Mode::InputList];

/// A mode's place in `MODES` (and in the per-mode tables).
fn mode_index(mode: Mode) -> usize {
    match mode {
        Mode::Script => 0,
        Mode::Expr => 1,
        Mode::Wild => 2,
        Mode::InputList => 3,
    }
}

const fn ops(mode: Mode) -> &'static [&'static str] {
    match mode {
        Mode::Script => SCRIPT_OPS,
        Mode::Expr => EXPR_OPS,
        Mode::Wild => WILD_OPS,
        Mode::InputList => INPUTLIST_OPS,
    }
}

/// What a token of a mode starting with a byte may be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FirstClass {
    /// Only a name (or keyword).
    Name,
    /// Only an operator.
    Op,
    /// Anything: the longest match decides.
    Any,
}

fn first_class(mode: Mode, c: u8) -> FirstClass {
    FIRST_CLASS[mode_index(mode)][c as usize]
}

static FIRST_CLASS: [[FirstClass; 256]; 4] = first_class_table();

const fn first_class_table() -> [[FirstClass; 256]; 4] {
    let mut tables = [[FirstClass::Any; 256]; 4];
    let mut mi = 0;
    while mi < 4 {
        let m = MODES[mi];
        let name_class = name_classes(m).0;
        let ops = ops(m);
        let mut c = 0usize;
        while c < 256 {
            let b = c as u8;
            let name = CLASS[c] & name_class != 0;
            let mut op = false;
            let mut i = 0;
            while i < ops.len() {
                if ops[i].as_bytes()[0] == b {
                    op = true;
                }
                i += 1;
            }
            // numbers start with a digit or `$`, and in expressions with any
            // hex digit (`0ffh`); `-l`, `/DISCARD/` and strings are special
            let expr = matches!(m, Mode::Expr);
            let other = b.is_ascii_digit()
                || b == b'$'
                || (expr && b.is_ascii_hexdigit())
                || b == b'"'
                || (matches!(m, Mode::InputList) && b == b'-')
                || (expr && b == b'/');
            tables[mi][c] = match (name, op, other) {
                (true, false, false) => FirstClass::Name,
                (false, true, false) => FirstClass::Op,
                _ => FirstClass::Any,
            };
            c += 1;
        }
        mi += 1;
    }
    tables
}

/// The longest operator of `mode` at the start of `s`.
fn op_at(mode: Mode, s: &[u8]) -> Option<&'static str> {
    // per mode and first byte, the operators starting with it, longest first
    type ByByte = Vec<Vec<&'static str>>;
    static BY_BYTE: std::sync::OnceLock<[ByByte; 4]> = std::sync::OnceLock::new();
    let tables = BY_BYTE.get_or_init(|| {
        MODES.map(|m| {
            let mut t: ByByte = vec![Vec::new(); 256];
            for o in ops(m) {
                t[o.as_bytes()[0] as usize].push(o);
            }
            for v in &mut t {
                v.sort_by_key(|o| std::cmp::Reverse(o.len()));
            }
            t
        })
    });
    let i = mode_index(mode);
    tables[i][*s.first()? as usize]
        .iter()
        .find(|o| s.starts_with(o.as_bytes()))
        .copied()
}

/// `strtoull(s, 0, base)`: as many digits as are valid, wrapping like ld's
/// 64-bit `bfd_vma` would not (we saturate instead of wrapping silently).
fn scan(digits: &str, base: u32) -> u64 {
    let mut v: u64 = 0;
    for c in digits.chars() {
        match c.to_digit(base) {
            Some(d) => v = v.saturating_mul(base as u64).saturating_add(d as u64),
            None => break,
        }
    }
    v
}

/// A number at the start of `s`: (length, value). `expr` enables the
/// expression-only forms (`$hex`, `1000h`, `101b`, `17o`, `10d`).
pub(crate) fn number(s: &[u8], expr: bool) -> Option<(usize, u64)> {
    // Every form starts with a hex digit or `$`: skip the rest cheaply.
    if !s
        .first()
        .is_some_and(|c| c.is_ascii_hexdigit() || *c == b'$')
    {
        return None;
    }
    let hex = |b: &[u8]| b.iter().take_while(|c| c.is_ascii_hexdigit()).count();
    let mut best: Option<(usize, u64)> = None;
    let text = |n: usize| std::str::from_utf8(&s[..n]).unwrap_or("");
    if expr {
        if s.first() == Some(&b'$') {
            let n = hex(&s[1..]);
            if n > 0 {
                best = Some((n + 1, scan(text(n + 1).get(1..).unwrap_or(""), 16)));
            }
        }
        // ([0-9A-Fa-f]+[HhXx]) | ([01]+[Bb]) | ([0-7]+[Oo]) | ([0-9]+[Dd])
        let n = hex(s);
        let mut cands: [(usize, u32); 4] = [(0, 0); 4];
        let mut nc = 0;
        let mut cand = |len: usize, base: u32| {
            cands[nc] = (len, base);
            nc += 1;
        };
        if n > 0 && s.get(n).is_some_and(|c| b"HhXx".contains(c)) {
            cand(n + 1, 16);
        }
        let bin = s.iter().take_while(|c| matches!(c, b'0' | b'1')).count();
        if bin > 0 && s.get(bin).is_some_and(|c| b"Bb".contains(c)) {
            cand(bin + 1, 2);
        }
        let oct = s.iter().take_while(|c| matches!(c, b'0'..=b'7')).count();
        if oct > 0 && s.get(oct).is_some_and(|c| b"Oo".contains(c)) {
            cand(oct + 1, 8);
        }
        let dec = s.iter().take_while(|c| c.is_ascii_digit()).count();
        if dec > 0 && s.get(dec).is_some_and(|c| b"Dd".contains(c)) {
            cand(dec + 1, 10);
        }
        for &(len, base) in &cands[..nc] {
            if best.is_none_or(|(l, _)| len > l) {
                best = Some((len, scan(&text(len)[..len - 1], base)));
            }
        }
    }
    // (("$"|0[xX])[0-9A-Fa-f]+ | [0-9]+)(M|K|m|k)?
    let (mut len, mut value) = if s.first() == Some(&b'$') {
        let n = hex(&s[1..]);
        if n == 0 {
            (0, 0)
        } else {
            (n + 1, scan(&text(n + 1)[1..], 16))
        }
    } else if s.len() > 2 && s[0] == b'0' && matches!(s[1], b'x' | b'X') && hex(&s[2..]) > 0 {
        let n = hex(&s[2..]);
        (n + 2, scan(&text(n + 2)[2..], 16))
    } else {
        let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            (0, 0)
        } else {
            let t = text(n);
            // strtoull base 0: a leading 0 means octal.
            let v = if n > 1 && t.starts_with('0') {
                scan(&t[1..], 8)
            } else {
                scan(t, 10)
            };
            (n, v)
        }
    };
    if len > 0 {
        match s.get(len) {
            Some(b'K' | b'k') => {
                len += 1;
                value = value.saturating_mul(1024);
            }
            Some(b'M' | b'm') => {
                len += 1;
                value = value.saturating_mul(1024 * 1024);
            }
            _ => {}
        }
        // The general rule comes after the suffix rules: it wins only when longer.
        if best.is_none_or(|(l, _)| len > l) {
            best = Some((len, value));
        }
    }
    best
}

pub(crate) struct Lexer<'a> {
    pub(crate) text: &'a str,
}

impl<'a> Lexer<'a> {
    pub(crate) fn error(&self, offset: usize, message: String) -> ParseError {
        ParseError::new(self.text, offset, message)
    }

    /// Skip whitespace and comments from `pos`; the position of the next token.
    fn skip(&self, mut pos: usize, mode: Mode) -> Result<usize, ParseError> {
        let b = self.text.as_bytes();
        loop {
            match b.get(pos) {
                Some(b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\x0b') => pos += 1,
                Some(b'/') if b.get(pos + 1) == Some(&b'*') => {
                    // In WILD state ld reaches comments through the name rule,
                    // which only treats a leading `/*` as a comment: same effect.
                    match self.text[pos + 2..].find("*/") {
                        Some(i) => pos = pos + 2 + i + 2,
                        None => {
                            return Err(self.error(pos, "unterminated comment".to_string()));
                        }
                    }
                }
                Some(b'#') if mode != Mode::InputList => {
                    pos = match self.text[pos..].find('\n') {
                        Some(i) => pos + i,
                        None => b.len(),
                    }
                }
                _ => return Ok(pos),
            }
        }
    }

    /// The token at `pos` in `mode`, with its span.
    pub(crate) fn next(&self, pos: usize, mode: Mode) -> Result<(Tok<'a>, Span), ParseError> {
        let text: &'a str = self.text;
        let start = self.skip(pos, mode)?;
        let s = &text.as_bytes()[start..];
        if s.is_empty() {
            return Ok((Tok::Eof, Span::new(start, start)));
        }
        let span = |len: usize| Span::new(start, start + len);
        let c = s[0];
        // The common cases, told by the first byte: a name no number,
        // operator or `-l` can start, and an operator no name can.
        match first_class(mode, c) {
            FirstClass::Name => {
                let nlen = name_len(s, mode);
                return Ok(self.word(start, nlen, mode));
            }
            FirstClass::Op => {
                if let Some(o) = op_at(mode, s) {
                    return Ok((Tok::Op(o), span(o.len())));
                }
            }
            FirstClass::Any => {}
        }
        self.longest(start, mode)
    }

    /// The longest match at `start` (not white space) among the token kinds
    /// of `mode`, as flex decides: what `next` falls back to.
    fn longest(&self, start: usize, mode: Mode) -> Result<(Tok<'a>, Span), ParseError> {
        let text: &'a str = self.text;
        let s = &text.as_bytes()[start..];
        let span = |len: usize| Span::new(start, start + len);
        if s[0] == b'"' {
            return match self.text[start + 1..].find('"') {
                Some(i) => Ok((
                    Tok::Name {
                        text: &text[start + 1..start + 1 + i],
                        quoted: true,
                    },
                    span(i + 2),
                )),
                None => Err(self.error(start, "unterminated string".to_string())),
            };
        }
        let num = match mode {
            Mode::Script => number(s, false),
            Mode::Expr => number(s, true),
            _ => None,
        };
        // No operator starts with a letter or a digit.
        let op = if s[0].is_ascii_alphanumeric() {
            None
        } else {
            op_at(mode, s)
        };
        let mut nlen = name_len(s, mode);
        if mode == Mode::Expr && s.starts_with(b"/DISCARD/") {
            nlen = nlen.max(9);
        }
        let lname = if mode == Mode::InputList && s.starts_with(b"-l") {
            let n = s[2..].iter().take_while(|&&c| is_filenamechar(c)).count();
            if n > 0 {
                n + 2
            } else {
                0
            }
        } else {
            0
        };
        let olen = op.map_or(0, str::len);
        let numlen = num.map_or(0, |(l, _)| l);
        let best = numlen.max(olen).max(nlen).max(lname);
        if best == 0 {
            let c = self.text[start..].chars().next().unwrap_or('?');
            return Err(self.error(start, format!("invalid character {c:?} in script")));
        }
        if numlen == best {
            let (_, value) = num.unwrap_or((0, 0));
            return Ok((
                Tok::Int {
                    value,
                    text: &text[start..start + best],
                },
                span(best),
            ));
        }
        if olen == best {
            if let Some(o) = op {
                return Ok((Tok::Op(o), span(best)));
            }
        }
        if lname == best && lname > nlen {
            return Ok((Tok::LName(&text[start + 2..start + best]), span(best)));
        }
        Ok(self.word(start, nlen, mode))
    }

    /// The name of `len` bytes at `start`, or the keyword of `mode` it spells.
    fn word(&self, start: usize, len: usize, mode: Mode) -> (Tok<'a>, Span) {
        let text: &'a str = self.text;
        let word = &text[start..start + len];
        let span = Span::new(start, start + len);
        if mode == Mode::Wild && word == "SORT" {
            // ld's lexer returns SORT_BY_NAME for `SORT`.
            return (Tok::Kw("SORT_BY_NAME"), span);
        }
        let first = word.as_bytes().first().copied();
        if first.is_some_and(may_start_keyword) {
            if let Some(k) = keyword(mode, word) {
                return (Tok::Kw(k), span);
            }
        }
        (
            Tok::Name {
                text: word,
                quoted: false,
            },
            span,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first-byte shortcuts in `next` give what the longest match gives.
    #[test]
    fn first_byte_shortcuts_agree_with_the_longest_match() {
        let rest = ["", "a", "=", "*", "1", ".x", "<<=", " ", "(", "-b", "K"];
        for mode in MODES {
            for c in 1..=127u8 {
                for r in rest {
                    let mut text = String::new();
                    text.push(c as char);
                    text.push_str(r);
                    let lx = Lexer { text: &text };
                    let Ok(start) = lx.skip(0, mode) else {
                        continue;
                    };
                    if start != 0 {
                        continue; // white space or a comment first
                    }
                    let fast = lx.next(0, mode).map_err(|e| e.message);
                    let slow = lx.longest(0, mode).map_err(|e| e.message);
                    assert_eq!(fast, slow, "{text:?} in {mode:?}");
                }
            }
        }
    }

    #[test]
    fn keywords_start_as_may_start_keyword_says() {
        for mode in [Mode::Script, Mode::Expr, Mode::Wild, Mode::InputList] {
            for k in keywords(mode) {
                assert!(may_start_keyword(k.as_bytes()[0]), "{k}");
                assert_eq!(keyword(mode, k), Some(*k));
            }
            assert_eq!(keyword(mode, "NOT_A_KEYWORD"), None);
        }
        for mode in [Mode::Script, Mode::Expr, Mode::Wild, Mode::InputList] {
            for o in ops(mode) {
                assert!(!o.as_bytes()[0].is_ascii_alphanumeric(), "{o}");
            }
        }
    }
}
