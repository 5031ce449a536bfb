//! A faithful port of `git mailinfo` (git's `mailinfo.c`), operating on bytes.
//!
//! `git mailinfo` is the reference: for the same input and the same options this
//! module produces the same author, email, subject, date, commit message and patch.
//! The port keeps git's structure (header stage, in-body headers, MIME boundary stack,
//! transfer decoding, format=flowed, patch break) so that a difference can be traced
//! to the matching C function. Two deliberate departures, neither visible in output:
//! everything is linear in the input (git's repeated `strbuf_remove` is quadratic on
//! hostile subjects), and errors are collected instead of printed.

use std::borrow::Cow;

/// Options that `git mailinfo` takes; [`Default`] is git's default behaviour
/// (`-u`, in-body headers on, scissors off unless `mailinfo.scissors` is set).
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// `--scissors`: discard everything before a `-- >8 --` line.
    pub scissors: bool,
    /// `-k`: keep the subject as it is.
    pub keep_subject: bool,
    /// `-b`: only strip bracket groups that contain `PATCH`.
    pub keep_non_patch_brackets: bool,
}

/// What `git mailinfo` writes: the info block (as fields), the message and the patch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailInfo {
    /// `Author:` line, when the message had a From header.
    pub author: Option<Vec<u8>>,
    /// `Email:` line, when the message had a From header.
    pub email: Option<Vec<u8>>,
    /// `Subject:` line (prefixes removed).
    pub subject: Option<Vec<u8>>,
    /// `Date:` line.
    pub date: Option<Vec<u8>>,
    /// The commit message (git's `msg` output), converted to UTF-8 where the
    /// message declared a charset.
    pub message: Vec<u8>,
    /// The patch (git's `patch` output), exactly the bytes that were sent.
    pub patch: Vec<u8>,
    /// Problems `git mailinfo` would report (it exits non-zero on any of them).
    pub errors: Vec<String>,
}

const HEADERS: [&[u8]; 3] = [b"From", b"Subject", b"Date"];
const MAX_BOUNDARIES: usize = 5;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Te {
    DontCare,
    Qp,
    Base64,
}

/// git's `isspace`: only space, tab, LF and CR (git's sane_ctype).
#[inline]
pub(crate) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn trim(s: &[u8]) -> &[u8] {
    let mut a = 0;
    let mut b = s.len();
    while a < b && is_space(s[a]) {
        a += 1;
    }
    while b > a && is_space(s[b - 1]) {
        b -= 1;
    }
    &s[a..b]
}

fn rtrim(s: &mut Vec<u8>) {
    while s.last().is_some_and(|&c| is_space(c)) {
        s.pop();
    }
}

/// C-string view: a C function stops at the first NUL byte.
fn cstr(s: &[u8]) -> &[u8] {
    match memchr(0, s) {
        Some(i) => &s[..i],
        None => s,
    }
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&c| c == needle)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    if hay.len() < needle.len() {
        return None;
    }
    let first = needle[0];
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        match memchr(first, &hay[i..=hay.len() - needle.len()]) {
            None => return None,
            Some(off) => {
                let at = i + off;
                if &hay[at..at + needle.len()] == needle {
                    return Some(at);
                }
                i = at + 1;
            }
        }
    }
    None
}

fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if hay.len() < needle.len() {
        return None;
    }
    (0..=hay.len() - needle.len()).find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

/// Collapse every run of whitespace into one space (git's `cleanup_space`), linear.
fn cleanup_space(s: &mut Vec<u8>) {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if is_space(c) {
            out.push(b' ');
            while i + 1 < s.len() && is_space(s[i + 1]) {
                i += 1;
            }
        } else {
            out.push(c);
        }
        i += 1;
    }
    *s = out;
}

/// git's `cleanup_subject`, linear: strips `Re:`, whitespace, `:` and bracket
/// groups from the front, then trims.
pub fn cleanup_subject(subject: &[u8], keep_non_patch_brackets: bool) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(subject.len());
    let s = subject;
    let mut at = 0; // position in s; everything before `at` is either removed or copied to out
    loop {
        if at >= s.len() {
            break;
        }
        match s[at] {
            b'r' | b'R' => {
                // git: `if (subject->len <= at + 3) break;` (len counts what remains)
                if s.len() - at <= 3 {
                    break;
                }
                if (s[at + 1] == b'e' || s[at + 1] == b'E') && s[at + 2] == b':' {
                    at += 3;
                    continue;
                }
                break;
            }
            b' ' | b'\t' | b':' => {
                at += 1;
                continue;
            }
            b'[' => {
                let Some(rel) = memchr(b']', cstr(&s[at..])) else {
                    break;
                };
                let remove = rel + 1;
                if !keep_non_patch_brackets
                    || (7 <= remove && find(&s[at..at + remove], b"PATCH").is_some())
                {
                    at += remove;
                } else {
                    out.extend_from_slice(&s[at..at + remove]);
                    at += remove;
                    if at < s.len() && is_space(s[at]) {
                        out.push(s[at]);
                        at += 1;
                    }
                }
                continue;
            }
            _ => break,
        }
    }
    out.extend_from_slice(&s[at..]);
    trim(&out).to_vec()
}

fn skip_header<'a>(line: &'a [u8], hdr: &[u8]) -> Option<&'a [u8]> {
    let line = cstr(line);
    if line.len() <= hdr.len() || !line[..hdr.len()].eq_ignore_ascii_case(hdr) {
        return None;
    }
    if line[hdr.len()] != b':' {
        return None;
    }
    let mut v = &line[hdr.len() + 1..];
    while let Some((&c, rest)) = v.split_first() {
        if is_space(c) {
            v = rest;
        } else {
            break;
        }
    }
    Some(v)
}

fn is_format_patch_separator(line: &[u8]) -> bool {
    const SAMPLE: &[u8] =
        b"From e6807f3efca28b30decfecb1732a56c7db1137ee Mon Sep 17 00:00:00 2001\n";
    if line.len() != SAMPLE.len() || !line.starts_with(b"From ") {
        return false;
    }
    let hex = &line[5..45];
    if !hex.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return false;
    }
    line[45..] == SAMPLE[45..]
}

fn hexval(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn decode_q_segment(out: &mut Vec<u8>, seg: &[u8], rfc2047: bool) {
    let seg = cstr(seg);
    let mut i = 0;
    while i < seg.len() {
        let mut c = seg[i];
        i += 1;
        if c == b'=' {
            let d = seg.get(i).copied().unwrap_or(0);
            if d == b'\n' || d == 0 {
                break;
            }
            if let (Some(h), Some(l)) = (hexval(d), seg.get(i + 1).and_then(|&x| hexval(x))) {
                out.push(h << 4 | l);
                i += 2;
                continue;
            }
        }
        if rfc2047 && c == b'_' {
            c = b' ';
        }
        out.push(c);
    }
}

fn decode_b_segment(out: &mut Vec<u8>, seg: &[u8]) {
    let mut pos = 0;
    let mut acc: u32 = 0;
    for &ch in cstr(seg) {
        let c: u32 = match ch {
            b'+' => 62,
            b'/' => 63,
            b'A'..=b'Z' => (ch - b'A') as u32,
            b'a'..=b'z' => (ch - b'a') as u32 + 26,
            b'0'..=b'9' => (ch - b'0') as u32 + 52,
            _ => continue,
        };
        match pos {
            0 => {
                acc = c << 2;
                pos = 1;
            }
            1 => {
                out.push((acc | (c >> 4)) as u8);
                acc = (c & 15) << 4;
                pos = 2;
            }
            2 => {
                out.push((acc | (c >> 2)) as u8);
                acc = (c & 3) << 6;
                pos = 3;
            }
            _ => {
                out.push((acc | c) as u8);
                acc = 0;
                pos = 0;
            }
        }
    }
}

fn is_utf8_label(l: &[u8]) -> bool {
    l.eq_ignore_ascii_case(b"utf-8") || l.eq_ignore_ascii_case(b"utf8")
}

/// Convert `bytes` in charset `label` to UTF-8 the way iconv would: an unknown
/// charset or an invalid sequence is an error. ISO-8859-1 is true Latin-1 (iconv),
/// not windows-1252 (the WHATWG mapping).
pub fn to_utf8<'a>(bytes: &'a [u8], label: &[u8]) -> Result<Cow<'a, [u8]>, String> {
    let label_str = String::from_utf8_lossy(label);
    if label.is_empty() || is_utf8_label(label) {
        return Ok(Cow::Borrowed(bytes));
    }
    let lower = label_str.trim().to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "iso-8859-1" | "iso8859-1" | "latin1" | "latin-1" | "iso_8859-1" | "l1" | "iso88591"
    ) {
        return Ok(match charset::decode_latin1(bytes) {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        });
    }
    if matches!(lower.as_str(), "us-ascii" | "ascii" | "ansi_x3.4-1968") {
        if bytes.is_ascii() {
            return Ok(Cow::Borrowed(bytes));
        }
        return Err(format!("cannot convert from {label_str} to UTF-8"));
    }
    let Some(cs) = charset::Charset::for_label_no_replacement(lower.as_bytes()) else {
        return Err(format!("cannot convert from {label_str} to UTF-8"));
    };
    let (text, had_errors) = cs.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(format!("cannot convert from {label_str} to UTF-8"));
    }
    Ok(Cow::Owned(text.into_owned().into_bytes()))
}

/// Decode RFC 2047 encoded words like git's `decode_header`. On a malformed word the
/// value is left as it was and an error recorded.
fn decode_header(it: &mut Vec<u8>, errors: &mut Vec<String>) {
    let src = cstr(it).to_vec();
    let mut out = Vec::with_capacity(src.len());
    let mut in_ = 0usize;
    let mut first = true;
    while let Some(rel) = find(&src[in_..], b"=?") {
        let ep0 = in_ + rel;
        if in_ != ep0 {
            let all_space = src[in_..ep0].iter().all(|&c| is_space(c));
            if !all_space || first {
                out.extend_from_slice(&src[in_..ep0]);
            }
        }
        first = false;
        let ep = ep0 + 2;
        let fail = |errors: &mut Vec<String>| {
            errors.push("malformed RFC 2047 encoded word in header".into())
        };
        if ep >= src.len() {
            return fail(errors);
        }
        let Some(q) = memchr(b'?', &src[ep..]) else {
            return fail(errors);
        };
        let cp = ep + q;
        if cp + 3 > src.len() {
            return fail(errors);
        }
        let charset = src[ep..cp].to_vec();
        let encoding = src[cp + 1];
        if src[cp + 2] != b'?' {
            return fail(errors);
        }
        let Some(end_rel) = find(&src[cp + 3..], b"?=") else {
            return fail(errors);
        };
        let end = cp + 3 + end_rel;
        let piece = &src[cp + 3..end];
        let mut dec = Vec::new();
        match encoding.to_ascii_lowercase() {
            b'b' => decode_b_segment(&mut dec, piece),
            b'q' => decode_q_segment(&mut dec, piece, true),
            _ => return fail(errors),
        }
        match to_utf8(&dec, &charset) {
            Ok(d) => out.extend_from_slice(&d),
            Err(e) => {
                errors.push(e);
                return;
            }
        }
        in_ = end + 2;
    }
    out.extend_from_slice(&src[in_..]);
    *it = out;
}

struct LineReader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// stdio's end-of-file flag: set once a read ran into the end of the input
    /// (a last line without a newline, or a read at the end).
    feof: bool,
}

impl<'a> LineReader<'a> {
    /// `strbuf_getwholeline(.., '\n')`: the next line including its newline.
    fn whole_line(&mut self) -> Option<&'a [u8]> {
        if self.pos >= self.buf.len() {
            self.feof = true;
            return None;
        }
        let rest = &self.buf[self.pos..];
        let n = match memchr(b'\n', rest) {
            Some(i) => i + 1,
            None => {
                self.feof = true;
                rest.len()
            }
        };
        self.pos += n;
        Some(&rest[..n])
    }
    /// `strbuf_getline_lf`: the next line without its newline.
    fn line_lf(&mut self) -> Option<&'a [u8]> {
        self.whole_line()
            .map(|l| l.strip_suffix(b"\n").unwrap_or(l))
    }
    /// `fgetc` + `ungetc`: at the end of the input this sets the EOF flag.
    fn peek(&mut self) -> Option<u8> {
        let c = self.buf.get(self.pos).copied();
        if c.is_none() {
            self.feof = true;
        }
        c
    }
}

struct Mi<'a> {
    opts: Options,
    input: LineReader<'a>,
    name: Vec<u8>,
    email: Vec<u8>,
    charset: Vec<u8>,
    log_message: Vec<u8>,
    patch: Vec<u8>,
    patch_lines: usize,
    inbody_header_accum: Vec<u8>,
    p_hdr: [Option<Vec<u8>>; 3],
    s_hdr: [Option<Vec<u8>>; 3],
    /// The boundary stack; git's `content[0]` is always NULL, so at most
    /// `MAX_BOUNDARIES - 1` boundaries are held.
    content: Vec<Vec<u8>>,
    te: Te,
    format_flowed: bool,
    delsp: bool,
    header_stage: bool,
    filter_stage: u8,
    errors: Vec<String>,
}

fn is_rfc2822_header(line: &[u8]) -> bool {
    if line.starts_with(b"From ") || line.starts_with(b">From ") {
        return true;
    }
    for &ch in line {
        if ch == b':' {
            return true;
        }
        if (33..=57).contains(&ch) || (59..=126).contains(&ch) {
            continue;
        }
        break;
    }
    false
}

fn slurp_attr(line: &[u8], name: &[u8]) -> Option<Vec<u8>> {
    let line = cstr(line);
    let ap = find_ci(line, name)? + name.len();
    let rest = &line[ap..];
    let (rest, ends): (&[u8], &[u8]) = if rest.first() == Some(&b'"') {
        (&rest[1..], b"\"")
    } else {
        (rest, b"; \t")
    };
    let sz = rest
        .iter()
        .position(|c| ends.contains(c))
        .unwrap_or(rest.len());
    Some(rest[..sz].to_vec())
}

fn has_attr_value(line: &[u8], name: &[u8], value: &[u8]) -> bool {
    slurp_attr(line, name).is_some_and(|v| v.eq_ignore_ascii_case(value))
}

pub(crate) fn patchbreak(line: &[u8]) -> bool {
    if line.starts_with(b"diff -") || line.starts_with(b"Index: ") {
        return true;
    }
    if line.len() < 4 {
        return false;
    }
    if line.starts_with(b"---") {
        if line[3] == b' ' && !is_space(line[4]) {
            return true;
        }
        for &c in &line[3..] {
            if c == b'\n' {
                return true;
            }
            if !is_space(c) {
                break;
            }
        }
        return false;
    }
    false
}

/// git's `is_scissors_line`.
pub fn is_scissors_line(line: &[u8]) -> bool {
    let line = cstr(line);
    let (mut scissors, mut gap) = (0usize, 0usize);
    let (mut first_nonblank, mut last_nonblank) = (None, None);
    let (mut perforation, mut in_perforation) = (0usize, false);
    let mut i = 0;
    while i < line.len() {
        let c = line[i];
        if is_space(c) {
            if in_perforation {
                perforation += 1;
                gap += 1;
            }
            i += 1;
            continue;
        }
        last_nonblank = Some(i);
        if first_nonblank.is_none() {
            first_nonblank = Some(i);
        }
        if c == b'-' {
            in_perforation = true;
            perforation += 1;
            i += 1;
            continue;
        }
        let rest = &line[i..];
        if rest.starts_with(b">8")
            || rest.starts_with(b"8<")
            || rest.starts_with(b">%")
            || rest.starts_with(b"%<")
        {
            in_perforation = true;
            perforation += 2;
            scissors += 2;
            // git skips the mark's second byte without looking at it again
            i += 2;
            continue;
        }
        in_perforation = false;
        i += 1;
    }
    let visible = match (first_nonblank, last_nonblank) {
        (Some(a), Some(b)) => b - a + 1,
        _ => 0,
    };
    scissors > 0 && 8 <= visible && visible < perforation * 3 && gap * 2 < perforation
}

impl<'a> Mi<'a> {
    fn new(input: &'a [u8], opts: Options) -> Self {
        Mi {
            opts,
            input: LineReader {
                buf: input,
                pos: 0,
                feof: false,
            },
            name: Vec::new(),
            email: Vec::new(),
            charset: Vec::new(),
            log_message: Vec::new(),
            patch: Vec::new(),
            patch_lines: 0,
            inbody_header_accum: Vec::new(),
            p_hdr: [None, None, None],
            s_hdr: [None, None, None],
            content: Vec::new(),
            te: Te::DontCare,
            format_flowed: false,
            delsp: false,
            header_stage: true,
            filter_stage: 0,
            errors: Vec::new(),
        }
    }

    fn error(&mut self, e: impl Into<String>) {
        let e = e.into();
        if !self.errors.contains(&e) {
            self.errors.push(e);
        }
    }

    fn parse_header(&mut self, line: &[u8], hdr: &[u8]) -> Option<Vec<u8>> {
        let v = skip_header(line, hdr)?;
        let mut val = v.to_vec();
        let mut errs = Vec::new();
        decode_header(&mut val, &mut errs);
        for e in errs {
            self.error(e);
        }
        Some(val)
    }

    fn handle_content_type(&mut self, line: &[u8]) {
        self.format_flowed = has_attr_value(line, b"format=", b"flowed");
        self.delsp = has_attr_value(line, b"delsp=", b"yes");
        if let Some(b) = slurp_attr(line, b"boundary=") {
            if self.content.len() + 1 >= MAX_BOUNDARIES {
                self.error("Too many boundaries to handle");
            } else {
                let mut bound = b"--".to_vec();
                bound.extend_from_slice(&b);
                self.content.push(bound);
            }
        }
        self.charset = slurp_attr(line, b"charset=").unwrap_or_default();
    }

    fn check_header(&mut self, line: &[u8], secondary: bool, overwrite: bool) -> bool {
        // Every header this function knows has a name without ':', so the name is
        // what comes before the first ':' (git's skip_iprefix + ':' check).
        let line = cstr(line);
        let Some(colon) = memchr(b':', line) else {
            return false;
        };
        let name = &line[..colon];
        let which = match name.len() {
            4 if name.eq_ignore_ascii_case(b"From") => 0,
            4 if name.eq_ignore_ascii_case(b"Date") => 2,
            7 if name.eq_ignore_ascii_case(b"Subject") => 1,
            10 if name.eq_ignore_ascii_case(b"Message-ID") => 3,
            12 if name.eq_ignore_ascii_case(b"Content-Type") => 4,
            25 if name.eq_ignore_ascii_case(b"Content-Transfer-Encoding") => 5,
            _ => return false,
        };
        if which < 3 {
            let slot_empty = if secondary {
                self.s_hdr[which].is_none()
            } else {
                self.p_hdr[which].is_none()
            };
            if !(slot_empty || overwrite) {
                return false;
            }
        }
        let Some(v) = self.parse_header(line, if which < 3 { HEADERS[which] } else { name }) else {
            return false;
        };
        match which {
            0..=2 => {
                if secondary {
                    self.s_hdr[which] = Some(v);
                } else {
                    self.p_hdr[which] = Some(v);
                }
            }
            4 => self.handle_content_type(&v),
            5 => {
                self.te = if find_ci(&v, b"base64").is_some() {
                    Te::Base64
                } else if find_ci(&v, b"quoted-printable").is_some() {
                    Te::Qp
                } else {
                    Te::DontCare
                };
            }
            _ => {}
        }
        true
    }

    fn is_inbody_header(&self, line: &[u8]) -> bool {
        (0..HEADERS.len())
            .any(|i| self.s_hdr[i].is_none() && skip_header(line, HEADERS[i]).is_some())
    }

    fn flush_inbody_header_accum(&mut self) {
        if self.inbody_header_accum.is_empty() {
            return;
        }
        let accum = std::mem::take(&mut self.inbody_header_accum);
        self.check_header(&accum, true, false);
    }

    fn check_inbody_header(&mut self, line: &[u8]) -> bool {
        if !self.inbody_header_accum.is_empty()
            && (line.first() == Some(&b' ') || line.first() == Some(&b'\t'))
        {
            if self.opts.scissors && is_scissors_line(line) {
                self.flush_inbody_header_accum();
                return false;
            }
            if self.inbody_header_accum.last() == Some(&b'\n') {
                self.inbody_header_accum.pop();
            }
            self.inbody_header_accum.extend_from_slice(line);
            return true;
        }
        self.flush_inbody_header_accum();
        if line.starts_with(b">From") && line.get(5).is_some_and(|&c| is_space(c)) {
            return is_format_patch_separator(&line[1..]);
        }
        if line.starts_with(b"[PATCH]") && line.get(7).is_some_and(|&c| is_space(c)) {
            self.s_hdr[1] = Some(line.to_vec());
            return true;
        }
        if self.is_inbody_header(line) {
            self.inbody_header_accum.extend_from_slice(line);
            return true;
        }
        false
    }

    fn handle_commit_msg(&mut self, line: &[u8]) -> bool {
        if self.header_stage && (line.is_empty() || line == b"\n") {
            if !self.inbody_header_accum.is_empty() {
                self.flush_inbody_header_accum();
                self.header_stage = false;
            }
            return false;
        }
        if self.header_stage {
            self.header_stage = self.check_inbody_header(line);
            if self.header_stage {
                return false;
            }
        }
        let converted = match to_utf8(line, &self.charset) {
            Ok(c) => c,
            Err(e) => {
                self.error(e);
                return false;
            }
        };
        if self.opts.scissors && is_scissors_line(&converted) {
            self.log_message.clear();
            self.header_stage = true;
            self.s_hdr = [None, None, None];
            return false;
        }
        if patchbreak(&converted) {
            return true;
        }
        self.log_message.extend_from_slice(&converted);
        false
    }

    fn handle_filter(&mut self, line: &[u8]) {
        if self.filter_stage == 0 {
            if !self.handle_commit_msg(line) {
                return;
            }
            self.filter_stage = 1;
        }
        self.patch.extend_from_slice(line);
        self.patch_lines += 1;
    }

    fn read_one_header_line(&mut self, line: &mut Vec<u8>) -> bool {
        // git's strbuf_getwholeline returns EOF without touching the buffer once
        // stdio's EOF flag is set: a last header line without a newline then
        // stays in `line` and becomes the body.
        if self.input.feof {
            return false;
        }
        line.clear();
        let Some(l) = self.input.line_lf() else {
            return false;
        };
        line.extend_from_slice(l);
        rtrim(line);
        if line.is_empty() || !is_rfc2822_header(line) {
            line.push(b'\n');
            return false;
        }
        while let Some(peek) = self.input.peek() {
            if peek != b' ' && peek != b'\t' {
                break;
            }
            let Some(cont) = self.input.line_lf() else {
                break;
            };
            let mut cont = cont.to_vec();
            cont[0] = b' ';
            rtrim(&mut cont);
            line.extend_from_slice(&cont);
        }
        true
    }

    fn is_multipart_boundary(&self, line: &[u8]) -> bool {
        self.content.last().is_some_and(|top| line.starts_with(top))
    }

    fn find_boundary(&mut self, line: &mut Vec<u8>) -> bool {
        while let Some(l) = self.input.line_lf() {
            line.clear();
            line.extend_from_slice(l);
            if self.is_multipart_boundary(line) {
                return true;
            }
        }
        line.clear();
        false
    }

    fn handle_boundary(&mut self, line: &mut Vec<u8>) -> bool {
        // git adds one newline for an end boundary and then releases that buffer,
        // so further end boundaries met in the same call add an empty line.
        let mut newline: &[u8] = b"\n";
        loop {
            let top_len = self.content.last().map_or(0, |t| t.len());
            if line.len() >= top_len + 2 && &line[top_len..top_len + 2] == b"--" {
                self.content.pop();
                self.handle_filter(newline);
                newline = b"";
                if !self.find_boundary(line) {
                    return false;
                }
                continue;
            }
            break;
        }
        self.te = Te::DontCare;
        self.charset.clear();
        let mut hl = Vec::new();
        while self.read_one_header_line(&mut hl) {
            let h = hl.clone();
            self.check_header(&h, false, false);
        }
        let Some(l) = self.input.line_lf() else {
            return false;
        };
        line.clear();
        line.extend_from_slice(l);
        line.push(b'\n');
        true
    }

    fn handle_filter_flowed(&mut self, line: &mut Vec<u8>, prev: &mut Vec<u8>) {
        if !self.format_flowed {
            self.handle_filter(line);
            return;
        }
        let mut len = line.len();
        if len > 0 && line[len - 1] == b'\n' {
            len -= 1;
            if len > 0 && line[len - 1] == b'\r' {
                len -= 1;
            }
        }
        if line.starts_with(b"-- ") && len == 3 {
            if !prev.is_empty() {
                let p = std::mem::take(prev);
                self.handle_filter(&p);
            }
            self.handle_filter(line);
            return;
        }
        if len > 0 && line[0] == b' ' {
            line.remove(0);
            len -= 1;
        }
        if len > 0 && line[len - 1] == b' ' {
            let keep = len - usize::from(self.delsp);
            prev.extend_from_slice(&line[..keep]);
            return;
        }
        let mut joined = std::mem::take(prev);
        joined.extend_from_slice(line);
        self.handle_filter(&joined);
    }

    fn decode_transfer_encoding(&self, line: &mut Vec<u8>) {
        let mut ret = Vec::with_capacity(line.len());
        match self.te {
            Te::Qp => decode_q_segment(&mut ret, line, false),
            Te::Base64 => decode_b_segment(&mut ret, line),
            Te::DontCare => return,
        }
        *line = ret;
    }

    fn handle_body(&mut self, line: &mut Vec<u8>) {
        let mut prev: Vec<u8> = Vec::new();
        if !self.content.is_empty() && !self.find_boundary(line) {
            return;
        }
        // The next line, still borrowed from the input: plain lines (no boundary,
        // no transfer or flowed decoding) go straight to the filter without a copy.
        let mut borrowed: Option<&'a [u8]> = None;
        loop {
            if let Some(b) = borrowed {
                if self.te != Te::DontCare || self.format_flowed || self.is_multipart_boundary(b) {
                    line.clear();
                    line.extend_from_slice(b);
                    borrowed = None;
                }
            }
            if let Some(b) = borrowed {
                self.handle_filter(b);
            } else {
                if self.is_multipart_boundary(line) {
                    if !prev.is_empty() {
                        let p = std::mem::take(&mut prev);
                        self.handle_filter(&p);
                    }
                    if !self.handle_boundary(line) {
                        return;
                    }
                }
                self.decode_transfer_encoding(line);
                match self.te {
                    Te::Base64 | Te::Qp => {
                        let mut joined = std::mem::take(&mut prev);
                        joined.extend_from_slice(line);
                        let mut start = 0;
                        while start < joined.len() {
                            let end = memchr(b'\n', &joined[start..])
                                .map_or(joined.len(), |i| start + i + 1);
                            let mut piece = joined[start..end].to_vec();
                            if end == joined.len() && piece.last() != Some(&b'\n') {
                                prev.extend_from_slice(&piece);
                                break;
                            }
                            self.handle_filter_flowed(&mut piece, &mut prev);
                            start = end;
                        }
                    }
                    Te::DontCare => {
                        let mut l = std::mem::take(line);
                        self.handle_filter_flowed(&mut l, &mut prev);
                    }
                }
            }
            match self.input.whole_line() {
                Some(l) => borrowed = Some(l),
                None => break,
            }
        }
        if !prev.is_empty() {
            self.handle_filter(&prev);
        }
        self.flush_inbody_header_accum();
    }

    fn handle_from(&mut self, from: &[u8]) {
        let mut f = unquote_quoted_pair(cstr(from));
        let Some(at0) = memchr(b'@', &f) else {
            self.parse_bogus_from(from);
            return;
        };
        if !self.email.is_empty() && memchr(b'@', &f[at0 + 1..]).is_some() {
            return;
        }
        let mut at = at0;
        while at > 0 {
            let c = f[at - 1];
            if is_space(c) {
                break;
            }
            if c == b'<' {
                f[at - 1] = b' ';
                break;
            }
            at -= 1;
        }
        let el = f[at..]
            .iter()
            .position(|c| b" \n\t\r\x0b\x0c>".contains(c))
            .unwrap_or(f.len() - at);
        self.email = f[at..at + el].to_vec();
        let remove_end = at + el + usize::from(at + el < f.len());
        f.drain(at..remove_end);
        cleanup_space(&mut f);
        let mut f = trim(&f).to_vec();
        if f.first() == Some(&b'(') && f.last() == Some(&b')') && !f.is_empty() {
            f.remove(0);
            f.pop();
        }
        self.name = sane_name(&f, &self.email);
    }

    fn parse_bogus_from(&mut self, line: &[u8]) {
        if !self.email.is_empty() {
            return;
        }
        let line = cstr(line);
        let Some(bra) = memchr(b'<', line) else {
            return;
        };
        let Some(ket) = memchr(b'>', &line[bra..]).map(|k| bra + k) else {
            return;
        };
        self.email = line[bra + 1..ket].to_vec();
        let name = trim(&line[..bra]).to_vec();
        self.name = sane_name(&name, &self.email);
    }

    fn handle_info(&mut self) -> [Option<Vec<u8>>; 3] {
        let mut out: [Option<Vec<u8>>; 3] = [None, None, None];
        for i in 0..HEADERS.len() {
            let hdr = if self.patch_lines > 0 && self.s_hdr[i].is_some() {
                self.s_hdr[i].clone()
            } else {
                self.p_hdr[i].clone()
            };
            let Some(hdr) = hdr else { continue };
            if memchr(0, &hdr).is_some() {
                self.error(format!(
                    "a NUL byte in '{}' is not allowed.",
                    String::from_utf8_lossy(HEADERS[i])
                ));
            }
            let hdr = cstr(&hdr).to_vec();
            let mut hdr = hdr;
            match i {
                1 => {
                    if !self.opts.keep_subject {
                        hdr = cleanup_subject(&hdr, self.opts.keep_non_patch_brackets);
                        cleanup_space(&mut hdr);
                    }
                }
                0 => {
                    cleanup_space(&mut hdr);
                    self.handle_from(&hdr);
                    hdr = Vec::new();
                }
                _ => cleanup_space(&mut hdr),
            }
            out[i] = Some(hdr);
        }
        out
    }
}

fn sane_name(name: &[u8], email: &[u8]) -> Vec<u8> {
    if name.is_empty() || name.len() > 60 || name.iter().any(|c| b"@<>".contains(c)) {
        email.to_vec()
    } else {
        name.to_vec()
    }
}

fn unquote_quoted_pair(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let c = input[i];
        i += 1;
        match c {
            b'"' => {
                let mut lit = false;
                while i < input.len() {
                    let c = input[i];
                    i += 1;
                    if lit {
                        lit = false;
                    } else if c == b'\\' {
                        lit = true;
                        continue;
                    } else if c == b'"' {
                        break;
                    }
                    out.push(c);
                }
            }
            b'(' => {
                out.push(b'(');
                let mut lit = false;
                let mut depth = 1;
                while i < input.len() {
                    let c = input[i];
                    i += 1;
                    if lit {
                        lit = false;
                    } else {
                        match c {
                            b'\\' => {
                                lit = true;
                                continue;
                            }
                            b'(' => {
                                out.push(b'(');
                                depth += 1;
                                continue;
                            }
                            b')' => {
                                out.push(b')');
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                                continue;
                            }
                            _ => {}
                        }
                    }
                    out.push(c);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Run `git mailinfo` semantics over one message (as `git mailsplit` leaves it).
pub fn mailinfo(input: &[u8], opts: Options) -> MailInfo {
    let mut mi = Mi::new(input, opts);
    // skip leading whitespace; an empty input is "empty patch"
    let skip = input.iter().take_while(|&&c| is_space(c)).count();
    if skip == input.len() {
        return MailInfo {
            errors: vec!["empty patch".into()],
            ..Default::default()
        };
    }
    mi.input.pos = skip;
    let mut line = Vec::new();
    while mi.read_one_header_line(&mut line) {
        let l = line.clone();
        mi.check_header(&l, false, true);
    }
    mi.handle_body(&mut line);
    let info = mi.handle_info();
    let has_from = info[0].is_some();
    let [_, subject, date] = info;
    MailInfo {
        author: has_from.then(|| mi.name.clone()),
        email: has_from.then(|| mi.email.clone()),
        subject,
        date,
        message: std::mem::take(&mut mi.log_message),
        patch: std::mem::take(&mut mi.patch),
        errors: mi.errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_cleanup_strips_prefixes_only_at_front() {
        assert_eq!(
            cleanup_subject(b"Re: [PATCH v4 1/4] xen: foo [bar]", false),
            b"xen: foo [bar]"
        );
        assert_eq!(
            cleanup_subject(b"[XEN PATCH] [for-4.19] RE: x", false),
            b"x"
        );
        assert_eq!(cleanup_subject(b"Reply to all", false), b"Reply to all");
        assert_eq!(cleanup_subject(b"[RFC] [PATCH v2] x", true), b"[RFC] x");
    }

    #[test]
    fn scissors() {
        assert!(is_scissors_line(b"-- >8 --\n"));
        assert!(is_scissors_line(b"------------ 8< ------------ cut here\n"));
        assert!(!is_scissors_line(b"-- \n"));
        assert!(!is_scissors_line(b"we ate 8< cookies\n"));
    }

    #[test]
    fn qp_and_base64() {
        let mut o = Vec::new();
        decode_q_segment(&mut o, b"a=3Db_c=\n", true);
        assert_eq!(o, b"a=b c");
        let mut o = Vec::new();
        decode_b_segment(&mut o, b"aGVsbG8=");
        assert_eq!(o, b"hello");
    }

    #[test]
    fn from_forms() {
        let mi = mailinfo(
            b"From: \"Doe, John\" <john\x40example.org>\nSubject: x\n\nbody\n",
            Options::default(),
        );
        assert_eq!(mi.author.as_deref(), Some(&b"Doe, John"[..]));
        assert_eq!(mi.email.as_deref(), Some(&b"john\x40example.org"[..]));
        let mi = mailinfo(
            b"From: john\x40example.org (John Doe)\n\nx\n",
            Options::default(),
        );
        assert_eq!(mi.author.as_deref(), Some(&b"John Doe"[..]));
    }
}
