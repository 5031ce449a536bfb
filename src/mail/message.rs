//! A parsed message: the headers patchbot needs (through mailparse), the plain-text
//! body, and the `git mailinfo` split into commit message and patch.

use mailparse::{MailHeaderMap, ParsedMail};
use serde::Serialize;

use super::mailinfo::{self, MailInfo};
use super::{Limits, Origin, RawMessage, ReadError};

/// A name and an address, as in `From:`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
pub struct Address {
    pub name: String,
    pub email: String,
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.name.is_empty() || self.name == self.email {
            write!(f, "<{}>", self.email)
        } else {
            write!(f, "{} <{}>", self.name, self.email)
        }
    }
}

/// One message, parsed.
#[derive(Debug, Clone)]
pub struct Message {
    pub origin: Origin,
    /// Without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    /// Oldest first; only the last `limits.max_references` are kept.
    pub references: Vec<String>,
    /// The Subject header, decoded and unfolded (prefixes kept).
    pub subject: String,
    pub from: Option<Address>,
    /// Seconds since the epoch, when the Date header could be read.
    pub date: Option<i64>,
    pub auto_submitted: Option<String>,
    /// For multipart mail, the first text/plain part decoded to UTF-8; for
    /// single-part mail `None`, and [`Message::body_text`] uses the mailinfo split.
    pub body_plain: Option<String>,
    /// `git mailinfo`'s view: author, subject, commit message and patch.
    pub info: MailInfo,
    /// Problems that did not stop the message from being read.
    pub notes: Vec<String>,
}

/// Message-IDs in a header value: every `<...>`; if there is none, the
/// whitespace-separated words (some clients drop the brackets).
pub fn message_ids(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(a) = rest.find('<') {
        let after = &rest[a + 1..];
        let Some(b) = after.find('>') else { break };
        let id = after[..b].trim();
        if !id.is_empty() && !id.contains(char::is_whitespace) {
            out.push(id.to_string());
        }
        rest = &after[b + 1..];
    }
    if out.is_empty() && !value.contains('<') {
        out.extend(
            value
                .split_whitespace()
                .filter(|w| w.contains('@'))
                .map(|w| w.to_string()),
        );
    }
    out
}

/// The first `MAIL_HEADERS` of [`WANTED`]: one of them makes a header block mail.
const MAIL_HEADERS: usize = 7;

/// The headers patchbot reads. Only these are handed to mailparse (which decodes
/// RFC 2047 words and unfolds lines); the rest of a header block (Received,
/// DKIM-Signature, ...) is skipped without being parsed.
const WANTED: [&str; 10] = [
    "from",
    "subject",
    "date",
    "message-id",
    "to",
    "in-reply-to",
    "references",
    "content-type",
    "auto-submitted",
    "cc",
];

fn wanted_headers(bytes: &[u8]) -> Result<Vec<mailparse::MailHeader<'_>>, String> {
    let mut out = Vec::new();
    let mut pos = 0;
    if matches!(bytes.first(), Some(b' ' | b'\t')) {
        return Err("the first header line is a continuation line".into());
    }
    while pos < bytes.len() {
        let line_end = |from: usize| {
            bytes[from..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(bytes.len(), |i| from + i + 1)
        };
        let first_end = line_end(pos);
        let line = &bytes[pos..first_end];
        if line == b"\n" || line == b"\r\n" {
            break;
        }
        let Some(colon) = line.iter().position(|&c| c == b':') else {
            break;
        };
        let name = &line[..colon];
        if name.is_empty()
            || name
                .iter()
                .any(|c| c.is_ascii_whitespace() && *c != b' ' && *c != b'\t')
        {
            break;
        }
        // the header runs on over continuation lines
        let mut end = first_end;
        while end < bytes.len() && matches!(bytes[end], b' ' | b'\t') {
            end = line_end(end);
        }
        let name = std::str::from_utf8(name).unwrap_or("").trim();
        if WANTED.iter().any(|w| w.eq_ignore_ascii_case(name)) {
            match mailparse::parse_header(&bytes[pos..end]) {
                Ok((h, _)) => out.push(h),
                Err(e) => return Err(e.to_string()),
            }
        }
        pos = end;
    }
    Ok(out)
}

fn cut(s: &str, max: usize) -> (&str, bool) {
    if s.len() <= max {
        return (s, false);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (&s[..end], true)
}

fn first_text_plain(m: &ParsedMail<'_>, depth: usize) -> Option<String> {
    if depth > 16 {
        return None;
    }
    if m.subparts.is_empty() {
        let ct = &m.ctype.mimetype;
        if ct.eq_ignore_ascii_case("text/plain") || ct.is_empty() {
            return m.get_body().ok();
        }
        return None;
    }
    m.subparts
        .iter()
        .find_map(|p| first_text_plain(p, depth + 1))
}

fn whole_body(info: &MailInfo) -> String {
    let mut b = String::from_utf8_lossy(&info.message).into_owned();
    if !info.patch.is_empty() {
        b.push_str(&String::from_utf8_lossy(&info.patch));
    }
    b
}

fn parse_address(value: &str) -> Option<Address> {
    if let Ok(list) = mailparse::addrparse(value) {
        if let Some(info) = list.extract_single_info() {
            return Some(Address {
                name: info.display_name.unwrap_or_default(),
                email: info.addr,
            });
        }
    }
    // fall back to git's rules for odd forms
    let mi = mailinfo::mailinfo(format!("From: {value}\n\n").as_bytes(), Default::default());
    let email = String::from_utf8_lossy(mi.email.as_deref()?).into_owned();
    if email.is_empty() {
        return None;
    }
    let name = String::from_utf8_lossy(mi.author.as_deref().unwrap_or_default()).into_owned();
    Some(Address { name, email })
}

impl Message {
    /// Parse a raw message. Fails only when there is nothing that looks like a mail
    /// header at all; lesser problems are kept in [`Message::notes`].
    pub fn parse(
        raw: RawMessage,
        limits: &Limits,
        mi_opts: mailinfo::Options,
    ) -> Result<Message, ReadError> {
        Self::parse_inner(raw, limits, mi_opts, true)
    }

    /// Parse whatever `git mailinfo` would accept: a message without headers (or
    /// with headers mailparse refuses) is all body, with a note saying so.
    pub fn parse_lenient(
        raw: RawMessage,
        limits: &Limits,
        mi_opts: mailinfo::Options,
    ) -> Result<Message, ReadError> {
        Self::parse_inner(raw, limits, mi_opts, false)
    }

    fn parse_inner(
        raw: RawMessage,
        limits: &Limits,
        mi_opts: mailinfo::Options,
        strict: bool,
    ) -> Result<Message, ReadError> {
        let origin = raw.origin;
        let err = |reason: String| ReadError {
            origin: origin.clone(),
            message_id: None,
            reason,
        };
        let bytes = raw.bytes;
        if bytes.iter().all(|c| c.is_ascii_whitespace()) {
            return Err(err("empty message".into()));
        }
        let mut notes = Vec::new();
        let headers = match wanted_headers(&bytes) {
            Ok(h) => h,
            Err(e) if !strict => {
                notes.push(format!("unreadable headers: {e}"));
                Vec::new()
            }
            Err(e) => return Err(err(format!("unreadable headers: {e}"))),
        };
        if !headers.iter().any(|h| {
            WANTED[..MAIL_HEADERS]
                .iter()
                .any(|k| h.get_key_ref().eq_ignore_ascii_case(k))
        }) {
            if strict {
                return Err(err(
                    "no mail headers (From, Subject, Date or Message-ID)".into()
                ));
            }
            notes.push("no mail headers (From, Subject, Date or Message-ID)".into());
        }
        let message_id = headers
            .get_first_value("Message-ID")
            .and_then(|v| message_ids(&v).into_iter().next());
        let err_id = |reason: String| ReadError {
            origin: origin.clone(),
            message_id: message_id.clone(),
            reason,
        };
        let in_reply_to = headers
            .get_first_value("In-Reply-To")
            .and_then(|v| message_ids(&v).into_iter().last());
        let mut references: Vec<String> = headers
            .get_all_values("References")
            .iter()
            .flat_map(|v| message_ids(v))
            .collect();
        if references.len() > limits.max_references {
            references.drain(..references.len() - limits.max_references);
        }
        let subject_full = headers.get_first_value("Subject").unwrap_or_default();
        let subject_full = subject_full.replace(['\r', '\n'], " ");
        let (subject, cut_subject) = cut(&subject_full, limits.max_subject_bytes);
        if cut_subject {
            notes.push(format!(
                "subject is {} bytes, cut to {} (limits.max_subject_bytes)",
                subject_full.len(),
                limits.max_subject_bytes
            ));
        }
        let subject = subject.to_string();
        if subject.contains('\0') {
            notes.push("NUL byte in Subject".into());
        }
        let from = headers
            .get_first_value("From")
            .and_then(|v| parse_address(&v));
        let date_raw = headers.get_first_value("Date");
        let date = date_raw
            .as_deref()
            .and_then(|d| mailparse::dateparse(d).ok());
        if date_raw.is_some() && date.is_none() {
            notes.push("unreadable Date header".into());
        }
        let auto_submitted = headers
            .get_first_value("Auto-Submitted")
            .map(|v| v.trim().to_string());
        let info = mailinfo::mailinfo(&bytes, mi_opts);
        for e in &info.errors {
            notes.push(e.clone());
        }
        // A single-part body is what mailinfo already decoded (message + patch);
        // for multipart mail, mailparse picks the first text/plain part so that an
        // HTML alternative is not read twice.
        let multipart = headers.get_first_value("Content-Type").is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/")
        });
        let body_plain = if multipart {
            match mailparse::parse_mail(&bytes) {
                Ok(pm) => first_text_plain(&pm, 0),
                Err(e) => {
                    notes.push(format!(
                        "MIME structure unreadable ({e}); using the raw body"
                    ));
                    None
                }
            }
        } else {
            None
        };
        if strict && from.is_none() && subject.is_empty() && message_id.is_none() {
            return Err(err_id("no From, Subject or Message-ID".into()));
        }
        Ok(Message {
            origin,
            message_id,
            in_reply_to,
            references,
            subject,
            from,
            date,
            auto_submitted,
            body_plain,
            info,
            notes,
        })
    }

    /// The text a person reads: the text/plain part, or the whole decoded body.
    pub fn body_text(&self) -> std::borrow::Cow<'_, str> {
        match &self.body_plain {
            Some(b) => std::borrow::Cow::Borrowed(b),
            None => std::borrow::Cow::Owned(whole_body(&self.info)),
        }
    }

    /// The parent: In-Reply-To, else the last entry of References.
    pub fn parent_candidates(&self) -> impl Iterator<Item = &str> {
        self.in_reply_to
            .iter()
            .map(|s| s.as_str())
            .chain(self.references.iter().rev().map(|s| s.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(message_ids(" <a@b> (comment) <c@d>"), vec!["a@b", "c@d"]);
        assert_eq!(message_ids("a@b"), vec!["a@b"]);
        assert!(message_ids("<>").is_empty());
    }
}
