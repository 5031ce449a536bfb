//! Streaming mbox reader with `git mailsplit`'s rules: a message starts at a line
//! `From ...` that ends in something like a time and a year; CRLF becomes LF;
//! with mboxrd, `>From ` (any number of `>`) loses one `>`.
//!
//! The reader holds one message at a time. A message over the size limit is
//! skipped (its bytes are read and dropped, never buffered) and reported; so is a
//! line of absurd length.

use std::io::{self, BufRead};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{MboxFormat, Origin, RawMessage, ReadError, ReadOptions};

/// git mailsplit's `is_from_line`: `From ` followed by anything, ending with a
/// time `HH:MM[:SS]` and a year greater than 90.
pub fn is_from_line(line: &[u8]) -> bool {
    let len = line.len();
    if len < 20 || !line.starts_with(b"From ") {
        return false;
    }
    // `colon = line + len - 2`, then scan backwards (pre-decrement) to a ':'
    // that is not inside the leading "From ".
    let mut colon = len - 2;
    loop {
        if colon < 5 {
            return false;
        }
        colon -= 1;
        if line[colon] == b':' {
            break;
        }
    }
    let digit = |i: isize| -> bool {
        let j = colon as isize + i;
        j >= 0 && (j as usize) < len && line[j as usize].is_ascii_digit()
    };
    if !digit(-4) || !digit(-2) || !digit(-1) || !digit(1) || !digit(2) {
        return false;
    }
    // strtol(colon + 3): optional whitespace, sign, digits
    let rest = &line[(colon + 3).min(len)..];
    let rest = {
        let mut r = rest;
        while let Some((&c, t)) = r.split_first() {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
                r = t;
            } else {
                break;
            }
        }
        r
    };
    let (neg, digits) = match rest.first() {
        Some(b'-') => (true, &rest[1..]),
        Some(b'+') => (false, &rest[1..]),
        _ => (false, rest),
    };
    let mut year: i64 = 0;
    for &c in digits.iter().take_while(|c| c.is_ascii_digit()) {
        year = year.saturating_mul(10).saturating_add((c - b'0') as i64);
    }
    if neg {
        year = -year;
    }
    year > 90
}

fn is_gtfrom(line: &[u8]) -> bool {
    let ngt = line.iter().take_while(|&&c| c == b'>').count();
    ngt > 0 && line[ngt..].starts_with(b"From ")
}

/// Read a line into `buf` (appending), keeping at most `cap` bytes of it; the rest
/// of an over-long line is consumed and dropped. Returns (bytes consumed, truncated).
fn read_line_capped<R: BufRead>(
    r: &mut R,
    buf: &mut Vec<u8>,
    cap: usize,
) -> io::Result<(usize, bool)> {
    let mut consumed = 0;
    let mut truncated = false;
    loop {
        let avail = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok((consumed, truncated));
        }
        let (n, done) = match avail.iter().position(|&c| c == b'\n') {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        let room = cap.saturating_sub(buf.len());
        if room >= n {
            buf.extend_from_slice(&avail[..n]);
        } else {
            buf.extend_from_slice(&avail[..room]);
            truncated = true;
        }
        r.consume(n);
        consumed += n;
        if done {
            return Ok((consumed, truncated));
        }
    }
}

/// An iterator over the messages of an mbox stream.
pub struct MboxReader<R: BufRead> {
    r: R,
    path: Arc<Path>,
    opts: ReadOptions,
    /// The `From ` line that starts the next message, if already read.
    pending: Option<Vec<u8>>,
    pending_offset: u64,
    offset: u64,
    index: usize,
    started: bool,
    done: bool,
    line: Vec<u8>,
}

impl<R: BufRead> MboxReader<R> {
    pub fn new(r: R, path: PathBuf, opts: ReadOptions) -> Self {
        MboxReader {
            r,
            path: Arc::from(path.as_path()),
            opts,
            pending: None,
            pending_offset: 0,
            offset: 0,
            index: 0,
            started: false,
            done: false,
            line: Vec::new(),
        }
    }

    /// The longest line we keep: a message is at most `max_message_bytes`, and a
    /// `From ` line is short, so one byte more than the limit tells us "too long".
    fn line_cap(&self) -> usize {
        self.opts.limits.max_message_bytes.saturating_add(1)
    }

    fn next_line(&mut self) -> io::Result<Option<(u64, bool)>> {
        self.line.clear();
        let cap = self.line_cap();
        let start = self.offset;
        let (n, truncated) = read_line_capped(&mut self.r, &mut self.line, cap)?;
        if n == 0 {
            return Ok(None);
        }
        self.offset += n as u64;
        Ok(Some((start, truncated)))
    }
}

impl<R: BufRead> Iterator for MboxReader<R> {
    type Item = Result<RawMessage, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let io_err = |path: &Arc<Path>, index, offset, e: io::Error| ReadError {
            origin: Origin::Mbox {
                path: path.clone(),
                index,
                offset,
            },
            message_id: None,
            reason: format!("cannot read: {e}"),
        };
        // Find the first From line of the stream.
        if !self.started {
            self.started = true;
            // skip blank lines before the first message, as mailsplit's caller does
            loop {
                match self.next_line() {
                    Err(e) => {
                        self.done = true;
                        return Some(Err(io_err(&self.path, 1, self.offset, e)));
                    }
                    Ok(None) => {
                        self.done = true;
                        return None;
                    }
                    Ok(Some((start, _))) => {
                        if self
                            .line
                            .iter()
                            .all(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
                        {
                            continue;
                        }
                        if !is_from_line(&self.line) {
                            // Report the junk, then go on from the first `From ` line.
                            let err = ReadError {
                                origin: Origin::Mbox {
                                    path: self.path.clone(),
                                    index: 0,
                                    offset: start,
                                },
                                message_id: None,
                                reason:
                                    "corrupt mailbox: text before the first `From ` line skipped"
                                        .into(),
                            };
                            loop {
                                match self.next_line() {
                                    Ok(Some((s, truncated)))
                                        if !truncated && is_from_line(&self.line) =>
                                    {
                                        self.pending = Some(self.line.clone());
                                        self.pending_offset = s;
                                        break;
                                    }
                                    Ok(Some(_)) => continue,
                                    Ok(None) | Err(_) => {
                                        self.done = true;
                                        break;
                                    }
                                }
                            }
                            return Some(Err(err));
                        }
                        self.pending = Some(self.line.clone());
                        self.pending_offset = start;
                        break;
                    }
                }
            }
        }
        self.pending.as_ref()?;
        self.pending = None;
        self.index += 1;
        let index = self.index;
        let msg_offset = self.pending_offset;
        let origin = Origin::Mbox {
            path: self.path.clone(),
            index,
            offset: msg_offset,
        };
        let max = self.opts.limits.max_message_bytes;
        let mut bytes: Vec<u8> = Vec::new();
        let mut size: u64 = 0;
        let mut oversize = false;
        loop {
            match self.next_line() {
                Err(e) => {
                    self.done = true;
                    return Some(Err(io_err(&self.path, index, msg_offset, e)));
                }
                Ok(None) => {
                    self.done = true;
                    break;
                }
                Ok(Some((start, truncated))) => {
                    if !truncated && is_from_line(&self.line) {
                        self.pending = Some(self.line.clone());
                        self.pending_offset = start;
                        break;
                    }
                    size += self.offset - start;
                    if truncated || oversize || size > max as u64 {
                        oversize = true;
                        bytes = Vec::new();
                        continue;
                    }
                    let line = &mut self.line;
                    let n = line.len();
                    if !self.opts.keep_cr && n > 1 && line[n - 1] == b'\n' && line[n - 2] == b'\r' {
                        line.truncate(n - 2);
                        line.push(b'\n');
                    }
                    let skip =
                        usize::from(self.opts.mbox_format == MboxFormat::Mboxrd && is_gtfrom(line));
                    bytes.extend_from_slice(&line[skip..]);
                }
            }
        }
        if oversize {
            return Some(Err(ReadError {
                origin,
                message_id: None,
                reason: format!(
                    "message is {size} bytes or more, over the limit of {max} (limits.max_message_bytes); skipped"
                ),
            }));
        }
        Some(Ok(RawMessage {
            origin,
            bytes,
            removed: false,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_lines_follow_git() {
        assert!(is_from_line(
            b"From e6807f3efca28b30decfecb1732a56c7db1137ee Mon Sep 17 00:00:00 2001\n"
        ));
        assert!(is_from_line(
            b"From someone\x40example.org Fri Dec 15 11:18:00 2023\n"
        ));
        assert!(!is_from_line(b"From the beginning, we said 12:30 things\n"));
        assert!(is_from_line(b"From me Mon Sep 17 00:00:00 1970 x\n"));
        assert!(!is_from_line(b"From x Mon Sep 17 00:00:00 0090\n"));
        assert!(!is_from_line(b"From: someone\x40example.org\n"));
    }

    #[test]
    fn splits_and_unescapes() {
        let mbox = b"From a Mon Jan  1 00:00:00 2024\r\nSubject: one\r\n\r\n>From here\r\n\nFrom b Mon Jan  1 00:00:01 2024\nSubject: two\n\nbody\n";
        let r = MboxReader::new(&mbox[..], "x".into(), ReadOptions::default());
        let msgs: Vec<_> = r.map(|m| m.unwrap().bytes).collect();
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0], b"Subject: one\n\nFrom here\n\n");
        assert_eq!(msgs[1], b"Subject: two\n\nbody\n");
    }

    #[test]
    fn mboxo_leaves_escaped_lines_alone() {
        let mbox = b"From a Mon Jan  1 00:00:00 2024\nSubject: one\n\n>From here\n>>From there\n";
        let rd: Vec<_> = MboxReader::new(&mbox[..], "x".into(), ReadOptions::default())
            .map(|m| m.unwrap().bytes)
            .collect();
        assert_eq!(rd[0], b"Subject: one\n\nFrom here\n>From there\n");
        let opts = ReadOptions {
            mbox_format: MboxFormat::Mboxo,
            ..Default::default()
        };
        let o: Vec<_> = MboxReader::new(&mbox[..], "x".into(), opts)
            .map(|m| m.unwrap().bytes)
            .collect();
        assert_eq!(o[0], b"Subject: one\n\n>From here\n>>From there\n");
    }

    #[test]
    fn oversize_message_is_skipped_and_reading_goes_on() {
        let mut mbox = b"From a Mon Jan  1 00:00:00 2024\nSubject: big\n\n".to_vec();
        mbox.extend(std::iter::repeat_n(b'x', 5000));
        mbox.extend_from_slice(b"\nFrom b Mon Jan  1 00:00:01 2024\nSubject: small\n\nok\n");
        let mut opts = ReadOptions::default();
        opts.limits.max_message_bytes = 1000;
        let r: Vec<_> = MboxReader::new(&mbox[..], "x".into(), opts).collect();
        assert_eq!(r.len(), 2);
        assert!(r[0].as_ref().unwrap_err().reason.contains("over the limit"));
        assert_eq!(r[1].as_ref().unwrap().bytes, b"Subject: small\n\nok\n");
    }
}
