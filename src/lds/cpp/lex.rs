//! The pp-token lexer, as gcc lexes in assembler-with-cpp mode: `$` in
//! identifiers, pp-numbers, no digraphs, C and C++ comments, and an unterminated
//! `'` or `"` is not an error (the rest of the line becomes one "other" token).

use std::rc::Rc;

/// The token had white space (or a comment) before it.
pub(super) const PREV_WHITE: u8 = 1;
/// The first token of a line.
pub(super) const BOL: u8 = 2;
/// A macro name that must not be expanded (it was met inside its own expansion).
pub(super) const NO_EXPAND: u8 = 4;
/// The left operand of `##`.
pub(super) const PASTE_LEFT: u8 = 8;
/// A parameter under `#`.
pub(super) const STRINGIFY: u8 = 16;
/// Padding: it has a source token (else it is gcc's `avoid_paste` padding).
pub(super) const PAD_SRC: u8 = 32;
/// Padding: its source token had white space before it.
pub(super) const PAD_WHITE: u8 = 64;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
    Name,
    Number,
    Str,
    Char,
    Punct,
    Other,
    /// `<...>` in `#include` and `__has_include`.
    HeaderName,
    /// Spacing information only (gcc's CPP_PADDING); never printed.
    Padding,
    /// End of a macro argument or of the input.
    Eof,
    /// End of a directive's line.
    Eol,
    /// A macro parameter in a replacement list (index).
    Arg(u16),
    /// `__VA_OPT__(` in a replacement list and its closing `)`.
    VaOptOpen,
    VaOptClose,
}

#[derive(Clone, Debug)]
pub(super) struct Tok {
    pub kind: Kind,
    pub flags: u8,
    pub text: Rc<str>,
    pub file: u32,
    pub line: u32,
    pub col: u32,
    pub chain: u32,
}

impl Tok {
    pub fn is(&self, p: &str) -> bool {
        self.kind == Kind::Punct && &*self.text == p
    }
    pub fn white(&self) -> bool {
        self.flags & PREV_WHITE != 0
    }
}

/// Interned token spellings: one allocation per distinct spelling.
///
/// An open-addressed table of (hash, spelling), probed once per lookup: a
/// miss inserts where the probe ended, without hashing again. The hash is a
/// folded multiply (as foldhash and aHash do) keyed at random per run, so
/// names crafted to collide cannot make lookups slow. (A direct-mapped cache
/// in front of it cost more than it saved once the table was kept between
/// runs: it held too few of a run's names.)
pub(super) struct Interner {
    keys: [u64; 2],
    /// (hash, spelling); a power of two in size, at most half full.
    slots: Vec<Option<(u64, Rc<str>)>>,
    len: usize,
    /// The bytes of all spellings.
    bytes: usize,
    /// The punctuators' spellings, in `PUNCT_ALL`'s order.
    puncts: Vec<Rc<str>>,
}

impl Default for Interner {
    fn default() -> Self {
        use std::hash::BuildHasher;
        let random = std::collections::hash_map::RandomState::new();
        Interner {
            keys: [random.hash_one(0u8), random.hash_one(1u8) | 1],
            slots: vec![None; 1024],
            len: 0,
            bytes: 0,
            puncts: PUNCTS.with(|p| p.clone()),
        }
    }
}

impl Interner {
    /// A placeholder that holds nothing and allocates nothing; not for use.
    pub fn empty() -> Interner {
        Interner {
            keys: [0, 1],
            slots: Vec::new(),
            len: 0,
            bytes: 0,
            puncts: Vec::new(),
        }
    }

    /// Whether the table is small enough to keep for the next run (see
    /// `cpp::preprocess_cached`): a hostile input's names are not kept.
    pub fn worth_keeping(&self) -> bool {
        self.len <= 1 << 16 && self.bytes <= 4 << 20
    }

    /// A punctuator's shared spelling (the thread's, as `punct` gives).
    fn punct(&self, s: &str) -> Rc<str> {
        match punct_index(s) {
            Some(i) => self.puncts[i].clone(),
            None => Rc::from(s),
        }
    }

    fn hash(&self, s: &[u8]) -> u64 {
        fn fold(a: u64, b: u64) -> u64 {
            let p = u128::from(a) * u128::from(b);
            (p as u64) ^ ((p >> 64) as u64)
        }
        let [k0, k1] = self.keys;
        let mut h = k0 ^ s.len() as u64;
        let mut chunks = s.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h = fold(h ^ u64::from_le_bytes(w), k1);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            h = fold(h ^ u64::from_le_bytes(w), k1);
        }
        fold(h ^ k0, k1)
    }

    /// The one shared copy of a spelling: every name is interned, so the macro
    /// table can be keyed by the pointer.
    pub fn get(&mut self, s: &str) -> Rc<str> {
        let hash = self.hash(s.as_bytes());
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            match &self.slots[i] {
                Some((h, r)) if *h == hash && &**r == s => return r.clone(),
                Some(_) => i = (i + 1) & mask,
                None => break,
            }
        }
        let r: Rc<str> = Rc::from(s);
        self.slots[i] = Some((hash, r.clone()));
        self.len += 1;
        self.bytes += s.len();
        if self.len * 2 > self.slots.len() {
            self.grow();
        }
        r
    }

    fn grow(&mut self) {
        let old = std::mem::take(&mut self.slots);
        self.slots = vec![None; old.len() * 2];
        let mask = self.slots.len() - 1;
        for (hash, r) in old.into_iter().flatten() {
            let mut i = hash as usize & mask;
            while self.slots[i].is_some() {
                i = (i + 1) & mask;
            }
            self.slots[i] = Some((hash, r));
        }
    }
}

/// Whether splicing may change `raw`: only a backslash or a carriage return can.
fn may_splice(raw: &str) -> bool {
    memchr::memchr2(b'\\', b'\r', raw.as_bytes()).is_some()
}

/// A file's text after line splicing (backslash-newline removed), with the
/// offsets where splices were, so tokens keep their physical line.
pub(super) struct Source {
    pub text: String,
    splices: Vec<u32>,
}

impl Source {
    /// [`Source::new`], taking the text: one that needs no splicing is kept.
    pub fn from_string(raw: String) -> Source {
        if may_splice(&raw) {
            return Source::new(&raw);
        }
        Source::unspliced(raw)
    }

    /// Text that needs no splicing, ended by a newline.
    fn unspliced(mut text: String) -> Source {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Source {
            text,
            splices: Vec::new(),
        }
    }

    pub fn new(raw: &str) -> Source {
        if !may_splice(raw) {
            let mut text = String::with_capacity(raw.len() + 1);
            text.push_str(raw);
            return Source::unspliced(text);
        }
        let b = raw.as_bytes();
        let mut text = String::with_capacity(raw.len() + 1);
        let mut splices = Vec::new();
        let mut i = 0;
        let mut seg = 0;
        while i < b.len() {
            // only a backslash or a carriage return starts anything here
            match memchr::memchr2(b'\\', b'\r', &b[i..]) {
                Some(n) => i += n,
                None => break,
            }
            match b[i] {
                b'\\' => {
                    // backslash, optional blanks, newline: a splice (gcc warns about the blanks)
                    let mut j = i + 1;
                    while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
                        j += 1;
                    }
                    let nl = if j < b.len() && b[j] == b'\n' {
                        Some(j + 1)
                    } else if j + 1 < b.len() && b[j] == b'\r' && b[j + 1] == b'\n' {
                        Some(j + 2)
                    } else {
                        None
                    };
                    if let Some(end) = nl {
                        text.push_str(&raw[seg..i]);
                        splices.push(text.len() as u32);
                        i = end;
                        seg = i;
                    } else {
                        i += 1;
                    }
                }
                b'\r' if i + 1 < b.len() && b[i + 1] == b'\n' => {
                    text.push_str(&raw[seg..i]);
                    i += 1;
                    seg = i;
                }
                _ => i += 1,
            }
        }
        text.push_str(&raw[seg..]);
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Source { text, splices }
    }
}

#[derive(Clone)]
pub(super) struct Lexer {
    pub file: u32,
    pub src: Rc<Source>,
    pos: usize,
    line: u32,
    line_start: usize,
    splice_idx: usize,
    bol: bool,
    /// Inside a directive: a newline ends it (an `Eol` token, not consumed).
    pub in_directive: bool,
    /// Lex `<...>` as a header name (the operand of `#include`).
    pub angled: bool,
}

pub(super) type LexError = (u32, String);

/// The bytes `skip_plain_directive` must look at: the end of the line, `#`,
/// and what may start a comment or a literal.
static DIRECTIVE_STOP: [bool; 256] = {
    let mut t = [false; 256];
    t[b'\n' as usize] = true;
    t[b'#' as usize] = true;
    t[b'/' as usize] = true;
    t[b'"' as usize] = true;
    t[b'\'' as usize] = true;
    t
};

/// The directives `Lexer::directive_name` reads without making a token
/// (another name after `#` is lexed as a token, as before).
const DIRECTIVES: [&str; 21] = [
    "define",
    "undef",
    "include",
    "include_next",
    "import",
    "if",
    "ifdef",
    "ifndef",
    "elif",
    "elifdef",
    "elifndef",
    "else",
    "endif",
    "error",
    "warning",
    "line",
    "pragma",
    "ident",
    "sccs",
    "assert",
    "unassert",
];

/// Bit 1: may start an identifier; bit 2: may continue one.
static IDENT: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0usize;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphabetic() || b == b'_' || b == b'$' {
            t[c] = 3;
        } else if b.is_ascii_digit() {
            t[c] = 2;
        }
        c += 1;
    }
    t
};

fn is_ident_start(c: u8) -> bool {
    IDENT[c as usize] & 1 != 0
}
fn is_ident(c: u8) -> bool {
    IDENT[c as usize] & 2 != 0
}

impl Lexer {
    pub fn new(file: u32, src: Rc<Source>) -> Lexer {
        Lexer {
            file,
            src,
            pos: 0,
            line: 1,
            line_start: 0,
            splice_idx: 0,
            bol: true,
            in_directive: false,
            angled: false,
        }
    }

    /// The physical line the lexer is at.
    pub fn line(&self) -> u32 {
        self.line
    }

    fn catch_up(&mut self, pos: usize) {
        while self.splice_idx < self.src.splices.len()
            && self.src.splices[self.splice_idx] as usize <= pos
        {
            self.line += 1;
            self.line_start = self.src.splices[self.splice_idx] as usize;
            self.splice_idx += 1;
        }
    }

    fn newline(&mut self) {
        // at self.pos, a '\n'
        self.catch_up(self.pos);
        self.pos += 1;
        self.line += 1;
        self.line_start = self.pos;
    }

    /// Skip the rest of the current line including its newline (end of a directive).
    pub fn skip_line(&mut self) -> Result<(), LexError> {
        // already at the end, as after most directives
        match self.src.text.as_bytes().get(self.pos) {
            Some(b'\n') => {
                self.newline();
                self.bol = true;
                return Ok(());
            }
            None => {
                self.bol = true;
                return Ok(());
            }
            _ => {}
        }
        let was = self.in_directive;
        self.in_directive = true;
        loop {
            let t = self.lex()?;
            if t.kind == Kind::Eol || t.kind == Kind::Eof {
                break;
            }
        }
        self.in_directive = was;
        let b = self.src.text.as_bytes();
        if self.pos < b.len() && b[self.pos] == b'\n' {
            self.newline();
        }
        self.bol = true;
        Ok(())
    }

    fn tok(&self, kind: Kind, text: Rc<str>, flags: u8, line: u32, col: u32) -> Tok {
        Tok {
            kind,
            flags,
            text,
            file: self.file,
            line,
            col,
            chain: 0,
        }
    }

    /// The next token, names and punctuators interned.
    pub fn lex_with(&mut self, names: &mut Interner) -> Result<Tok, LexError> {
        self.lex_in(Some(names))
    }

    pub fn lex(&mut self) -> Result<Tok, LexError> {
        self.lex_in(None)
    }

    /// In a skipped group: move to the next line that starts with `#` (or the
    /// end), without making tokens. Literals and comments are followed so a
    /// `#` inside them is not taken for a directive.
    pub fn skip_group(&mut self) -> Result<(), LexError> {
        let src = self.src.clone();
        let b = src.text.as_bytes();
        let mut bol = self.bol;
        while self.pos < b.len() {
            match b[self.pos] {
                b'\n' => {
                    self.newline();
                    bol = true;
                }
                b' ' | b'\t' | 0x0b | 0x0c | b'\r' | 0 => self.pos += 1,
                b'/' if b.get(self.pos + 1) == Some(&b'*') => {
                    self.block_comment(b)?;
                }
                b'/' if b.get(self.pos + 1) == Some(&b'/') => {
                    self.line_comment(b);
                }
                b'#' if bol => break,
                q @ (b'"' | b'\'') => {
                    self.literal_rest(b, q);
                    bol = false;
                }
                _ => {
                    self.pos += 1;
                    bol = false;
                    // mid-line only a newline, a comment or a literal matters
                    let rest = &b[self.pos..];
                    let nl = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
                    self.pos += memchr::memchr3(b'/', b'"', b'\'', &rest[..nl]).unwrap_or(nl);
                }
            }
        }
        self.bol = bol;
        Ok(())
    }

    /// Past the comment that starts at `self.pos` (`/*`), counting lines.
    fn block_comment(&mut self, b: &[u8]) -> Result<(), LexError> {
        self.catch_up(self.pos);
        let start_line = self.line;
        self.pos += 2;
        loop {
            // only a star or a newline matters inside a comment
            match memchr::memchr2(b'*', b'\n', &b[self.pos..]) {
                Some(n) => self.pos += n,
                None => self.pos = b.len(),
            }
            if self.pos + 1 >= b.len() {
                return Err((start_line, "unterminated comment".into()));
            }
            if b[self.pos] == b'*' && b[self.pos + 1] == b'/' {
                self.pos += 2;
                return Ok(());
            }
            if b[self.pos] == b'\n' {
                self.newline();
            } else {
                self.pos += 1;
            }
        }
    }

    /// To the end of the line (not consumed), from a `//` comment.
    fn line_comment(&mut self, b: &[u8]) {
        self.pos += memchr::memchr(b'\n', &b[self.pos..]).unwrap_or(b.len() - self.pos);
    }

    /// Past the literal whose quote `q` is at `self.pos`: to the closing
    /// quote, or to the end of the line when there is none.
    fn literal_rest(&mut self, b: &[u8], q: u8) {
        self.pos += 1;
        while self.pos < b.len() && b[self.pos] != b'\n' {
            if b[self.pos] == b'\\' && b.get(self.pos + 1).is_some_and(|&n| n != b'\n') {
                self.pos += 2;
            } else if b[self.pos] == q {
                self.pos += 1;
                break;
            } else {
                self.pos += 1;
            }
        }
    }

    /// After a directive's `#`: the name of a known directive (`DIRECTIVES`), consumed, when
    /// it is written plainly (after blanks at most, ended by a byte that
    /// cannot continue a name); None, with nothing consumed, otherwise.
    pub fn directive_name(&mut self) -> Option<&'static str> {
        let b = self.src.text.as_bytes();
        let mut i = self.pos;
        while i < b.len() && matches!(b[i], b' ' | b'\t') {
            i += 1;
        }
        let start = i;
        if i >= b.len() || !is_ident_start(b[i]) {
            return None;
        }
        while i < b.len() && is_ident(b[i]) {
            i += 1;
        }
        let word = &b[start..i];
        let name = *DIRECTIVES.iter().find(|d| d.as_bytes() == word)?;
        self.pos = i;
        self.bol = false;
        Some(name)
    }

    /// The byte the next token would start at (no white space skipped).
    pub fn next_byte(&self) -> Option<u8> {
        self.src.text.as_bytes().get(self.pos).copied()
    }

    /// In a directive: move to its end (the newline, not consumed) as lexing
    /// would, through comments and literals; false, with the lexer left
    /// anywhere, when a `#` (stringify or paste) is met on the way.
    pub fn skip_plain_directive(&mut self) -> Result<bool, LexError> {
        let src = self.src.clone();
        let b = src.text.as_bytes();
        while self.pos < b.len() {
            // most bytes are none of the ones that matter here
            match b[self.pos..]
                .iter()
                .position(|&c| DIRECTIVE_STOP[c as usize])
            {
                Some(n) => self.pos += n,
                None => self.pos = b.len(),
            }
            let Some(&c) = b.get(self.pos) else {
                break;
            };
            match c {
                b'\n' => break,
                b'#' => return Ok(false),
                b'/' if b.get(self.pos + 1) == Some(&b'*') => {
                    self.block_comment(b)?;
                }
                b'/' if b.get(self.pos + 1) == Some(&b'/') => {
                    self.line_comment(b);
                }
                q @ (b'"' | b'\'') => {
                    // as `quoted`: to the closing quote, or the end of the line
                    self.literal_rest(b, q);
                }
                _ => self.pos += 1,
            }
        }
        self.catch_up(self.pos);
        self.bol = false;
        Ok(true)
    }

    fn lex_in(&mut self, names: Option<&mut Interner>) -> Result<Tok, LexError> {
        let src = self.src.clone();
        let b = src.text.as_bytes();
        let mut white = false;
        loop {
            if self.pos >= b.len() {
                self.catch_up(self.pos);
                let col = (self.pos - self.line_start) as u32 + 1;
                let kind = if self.in_directive {
                    Kind::Eol
                } else {
                    Kind::Eof
                };
                return Ok(self.tok(kind, empty(), 0, self.line, col));
            }
            match b[self.pos] {
                b' ' | b'\t' | 0x0b | 0x0c | b'\r' | 0 => {
                    self.pos += 1;
                    white = true;
                }
                b'\n' => {
                    if self.in_directive {
                        self.catch_up(self.pos);
                        let col = (self.pos - self.line_start) as u32 + 1;
                        return Ok(self.tok(Kind::Eol, empty(), 0, self.line, col));
                    }
                    self.newline();
                    self.bol = true;
                    white = false;
                }
                b'/' if b.get(self.pos + 1) == Some(&b'*') => {
                    self.block_comment(b)?;
                    white = true;
                }
                b'/' if b.get(self.pos + 1) == Some(&b'/') => {
                    self.line_comment(b);
                    white = true;
                }
                _ => break,
            }
        }
        self.catch_up(self.pos);
        let line = self.line;
        let col = (self.pos - self.line_start) as u32 + 1;
        let mut flags = 0;
        if white {
            flags |= PREV_WHITE;
        }
        if self.bol {
            flags |= BOL;
        }
        self.bol = false;
        let start = self.pos;
        let c = b[start];
        let next = b.get(start + 1).copied().unwrap_or(b'\n');
        let kind;
        if c == b'L' && (next == b'"' || next == b'\'') {
            self.pos += 1;
            kind = self.quoted(b, b[self.pos]);
        } else if is_ident_start(c) {
            let mut i = start + 1;
            while i < b.len() && is_ident(b[i]) {
                i += 1;
            }
            self.pos = i;
            kind = Kind::Name;
        } else if c.is_ascii_digit() || (c == b'.' && next.is_ascii_digit()) {
            let mut i = start + 1;
            while i < b.len() {
                let d = b[i];
                if is_ident(d)
                    || d == b'.'
                    || ((d == b'+' || d == b'-') && matches!(b[i - 1], b'e' | b'E' | b'p' | b'P'))
                {
                    i += 1;
                } else {
                    break;
                }
            }
            self.pos = i;
            kind = Kind::Number;
        } else if c == b'"' || c == b'\'' {
            kind = self.quoted(b, c);
        } else if c == b'<' && self.angled {
            let mut i = start + 1;
            while i < b.len() && b[i] != b'\n' && b[i] != b'>' {
                i += 1;
            }
            if i < b.len() && b[i] == b'>' {
                self.pos = i + 1;
                kind = Kind::HeaderName;
            } else {
                self.pos = start + 1;
                kind = Kind::Punct;
            }
        } else if let Some(n) = punct_len(b, start) {
            self.pos = start + n;
            kind = Kind::Punct;
        } else {
            // anything else is one character of its own (a whole UTF-8 character)
            let ch_len = src.text[start..].chars().next().map_or(1, char::len_utf8);
            self.pos = start + ch_len;
            kind = Kind::Other;
        }
        let slice = &src.text[start..self.pos];
        let text: Rc<str> = match (kind, names) {
            (Kind::Punct, Some(n)) => n.punct(slice),
            (Kind::Punct, None) => punct(slice),
            (Kind::Name, Some(n)) => n.get(slice),
            (_, Some(n)) if slice.len() <= 32 => n.get(slice),
            _ => Rc::from(slice),
        };
        Ok(self.tok(kind, text, flags, line, col))
    }

    /// A string or character constant from the opening quote at `self.pos`;
    /// unterminated, the rest of the line is one "other" token (gcc's asm mode).
    fn quoted(&mut self, b: &[u8], q: u8) -> Kind {
        let mut i = self.pos + 1;
        // in #include, a backslash is not an escape
        let escapes = !self.angled;
        loop {
            match b.get(i) {
                None | Some(b'\n') => {
                    self.pos = i;
                    return Kind::Other;
                }
                Some(&c) if c == q => {
                    self.pos = i + 1;
                    return if q == b'"' { Kind::Str } else { Kind::Char };
                }
                Some(b'\\') if escapes && b.get(i + 1).is_some_and(|&n| n != b'\n') => {
                    // skip the escaped character (a whole UTF-8 character)
                    i += 1;
                    let w = utf8_width(b[i]);
                    i += w;
                }
                Some(&c) => i += utf8_width(c),
            }
        }
    }
}

const PUNCT_ALL: [&str; 48] = [
    "...", "<<=", ">>=", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "*=",
    "/=", "%=", "+=", "-=", "&=", "^=", "|=", "##", "[", "]", "(", ")", "{", "}", ".", "&", "*",
    "+", "-", "~", "!", "/", "%", "<", ">", "^", "|", "?", ":", ";", "=", ",", "#",
];

thread_local! {
    static PUNCTS: Vec<Rc<str>> = PUNCT_ALL.iter().map(|p| Rc::from(*p)).collect();
    static EMPTY: Rc<str> = Rc::from("");
}

/// The spelling of end-of-line and end-of-input tokens (shared).
fn empty() -> Rc<str> {
    EMPTY.with(Rc::clone)
}

/// The length of the punctuator at `i`, if one starts there.
fn punct_len(b: &[u8], i: usize) -> Option<usize> {
    let c = b[i];
    let n1 = b.get(i + 1).copied().unwrap_or(0);
    let n2 = b.get(i + 2).copied().unwrap_or(0);
    Some(match c {
        b'.' if n1 == b'.' && n2 == b'.' => 3,
        b'<' | b'>' if n1 == c && n2 == b'=' => 3,
        b'-' if matches!(n1, b'>' | b'-' | b'=') => 2,
        b'+' | b'&' | b'|' if n1 == c || n1 == b'=' => 2,
        b'<' | b'>' if n1 == c || n1 == b'=' => 2,
        b'=' | b'!' | b'*' | b'/' | b'%' | b'^' if n1 == b'=' => 2,
        b'#' if n1 == b'#' => 2,
        b'[' | b']' | b'(' | b')' | b'{' | b'}' | b'.' | b'&' | b'*' | b'+' | b'-' | b'~'
        | b'!' | b'/' | b'%' | b'<' | b'>' | b'^' | b'|' | b'?' | b':' | b';' | b'=' | b','
        | b'#' => 1,
        _ => return None,
    })
}

/// Per byte: 1 + the index in `PUNCT_ALL` of that one-byte punctuator, or 0.
static PUNCT1: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 23;
    while i < PUNCT_ALL.len() {
        t[PUNCT_ALL[i].as_bytes()[0] as usize] = i as u8 + 1;
        i += 1;
    }
    t
};

fn punct_index(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    match b.len() {
        1 => (PUNCT1[b[0] as usize] as usize).checked_sub(1),
        _ => PUNCT_ALL[..23].iter().position(|p| *p == s),
    }
}

/// A punctuator's spelling, shared (no allocation).
fn punct(s: &str) -> Rc<str> {
    match punct_index(s) {
        Some(i) => PUNCTS.with(|p| p[i].clone()),
        None => Rc::from(s),
    }
}

fn utf8_width(c: u8) -> usize {
    match c {
        0xf0..=0xff => 4,
        0xe0..=0xef => 3,
        0xc0..=0xdf => 2,
        _ => 1,
    }
}

/// Lex a whole string as exactly one token (for `##`): its kind, or None when the
/// text is not one token.
pub(super) fn lex_one(text: &str) -> Option<Kind> {
    let src = Rc::new(Source::new(text));
    let mut lx = Lexer::new(0, src);
    lx.in_directive = true;
    let t = lx.lex().ok()?;
    if t.white() || matches!(t.kind, Kind::Eol | Kind::Eof) {
        return None;
    }
    let end = lx.lex().ok()?;
    (end.kind == Kind::Eol && !end.white() && t.text.len() == text.len()).then_some(t.kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One copy per spelling, through the table and its growth.
    #[test]
    fn the_interner_gives_one_copy_per_spelling() {
        let mut names = Interner::default();
        let words: Vec<String> = (0..5000)
            .map(|i| format!("CONFIG_{i}_{}", "x".repeat(i % 19)))
            .chain(["".to_string(), "a".to_string(), "a\0".to_string()])
            .collect();
        let first: Vec<Rc<str>> = words.iter().map(|w| names.get(w)).collect();
        for (w, r) in words.iter().zip(&first) {
            assert_eq!(&**r, w.as_str());
            assert!(Rc::ptr_eq(r, &names.get(w)), "{w}");
        }
        for (i, a) in first.iter().enumerate().step_by(97) {
            for b in first.iter().skip(i + 1) {
                assert!(!Rc::ptr_eq(a, b), "{a} and {b}");
            }
        }
    }

    /// Every punctuator is found by its spelling, with the thread's shared
    /// copy, and nothing else is one.
    #[test]
    fn punctuators_are_found_by_spelling() {
        let names = Interner::default();
        for (i, p) in PUNCT_ALL.iter().enumerate() {
            assert_eq!(punct_index(p), Some(i), "{p}");
            assert_eq!(&*names.punct(p), *p);
            // the one copy of the thread, with an interner or without
            assert!(Rc::ptr_eq(&names.punct(p), &punct(p)), "{p}");
        }
        for c in 0..=255u8 {
            let s = [c];
            let Ok(s) = std::str::from_utf8(&s) else {
                continue;
            };
            assert_eq!(punct_index(s).is_some(), PUNCT_ALL.contains(&s), "{c}");
        }
        for s in ["", "::", "<<<", "..", "#%", "=>"] {
            assert_eq!(punct_index(s), None, "{s}");
        }
    }
}
