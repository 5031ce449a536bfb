//! Mail ingestion: where messages come from (mbox, maildir, public-inbox, single
//! files), how they are split (`git mailsplit`'s rules) and parsed (mailparse for
//! headers, a port of `git mailinfo` for the commit message and patch).
//!
//! Readers stream: they hand out one [`RawMessage`] at a time and never hold more
//! than one message body, whatever the size of the archive.

pub mod mailinfo;
pub mod mbox;
pub mod message;
pub mod public_inbox;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

pub use message::{Address, Message};

/// Where a message was read from: enough to find it again and to tell a user
/// which message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Origin {
    /// A file holding a single message without an mbox `From ` line.
    File { path: PathBuf },
    /// The `index`-th message (1-based) of an mbox, starting at byte `offset`.
    Mbox {
        path: Arc<Path>,
        index: usize,
        offset: u64,
    },
    /// A file in a maildir.
    Maildir { path: PathBuf },
    /// A message in a public-inbox epoch repository.
    PublicInbox { epoch: Arc<Path>, commit: String },
    /// A message `patchbot watch` took in, in the state store.
    Stored {
        source: Arc<str>,
        message_id: Arc<str>,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { path } | Origin::Maildir { path } => write!(f, "{}", path.display()),
            Origin::Mbox {
                path,
                index: 0,
                offset,
            } => {
                write!(
                    f,
                    "{} (before the first message, byte {offset})",
                    path.display()
                )
            }
            Origin::Mbox {
                path,
                index,
                offset,
            } => {
                write!(f, "{} (message {index}, byte {offset})", path.display())
            }
            Origin::PublicInbox { epoch, commit } => {
                write!(f, "{} commit {commit}", epoch.display())
            }
            Origin::Stored { source, message_id } => {
                write!(f, "<{message_id}> of watched source {source}")
            }
        }
    }
}

/// One message as a reader hands it out: the bytes `git mailsplit` would have
/// written (mbox `From ` line removed, CRLF turned into LF, mboxrd unescaped).
#[derive(Debug, Clone)]
pub struct RawMessage {
    pub origin: Origin,
    pub bytes: Vec<u8>,
    /// True when a public-inbox commit removed this message (blob `d`).
    pub removed: bool,
}

/// A message that could not be read, and why. Reading goes on with the next one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{origin}: {reason}")]
pub struct ReadError {
    #[serde(rename = "where")]
    pub origin: Origin,
    pub message_id: Option<String>,
    pub reason: String,
}

/// Limits that keep hostile input from exhausting memory or time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// A message larger than this is skipped with an error (bytes).
    pub max_message_bytes: usize,
    /// A subject longer than this is cut to this length, with a note (bytes).
    pub max_subject_bytes: usize,
    /// At most this many References are kept per message (the nearest ones).
    pub max_references: usize,
    /// At most this many files are listed per patch.
    pub max_files_per_patch: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 16 * 1024 * 1024,
            max_subject_bytes: 2048,
            max_references: 64,
            max_files_per_patch: 10_000,
        }
    }
}

/// How `From ` lines inside message bodies were escaped in an mbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MboxFormat {
    /// `>From ` lines lose one `>` on reading (what public-inbox and lore write).
    #[default]
    Mboxrd,
    /// Lines are left as they are (git mailsplit's default).
    Mboxo,
}

/// Options for reading mail.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    pub limits: Limits,
    pub mbox_format: MboxFormat,
    /// Keep CRLF line ends (`git mailsplit --keep-cr`, `git am --keep-cr`).
    pub keep_cr: bool,
}

/// Normalise one message the way `git mailsplit` does for a bare message or a
/// maildir file: CRLF line ends become LF.
pub fn strip_cr(bytes: &mut Vec<u8>) {
    if !bytes.windows(2).any(|w| w == b"\r\n") {
        return;
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    *bytes = out;
}

/// Files of a maildir (`cur/` and `new/`), in the order `git mailsplit` reads them.
pub fn maildir_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut names = Vec::new();
    for sub in ["cur", "new"] {
        let d = dir.join(sub);
        let rd = match std::fs::read_dir(&d) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for ent in rd {
            let ent = ent?;
            let name = ent.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') {
                continue;
            }
            if !ent.file_type()?.is_file() {
                continue;
            }
            names.push(format!("{sub}/{name}"));
        }
    }
    names.sort();
    Ok(names.into_iter().map(|n| dir.join(n)).collect())
}

/// True when `dir` looks like a maildir.
pub fn is_maildir(dir: &Path) -> bool {
    dir.join("cur").is_dir() || dir.join("new").is_dir()
}

/// Read one file that holds a single message (no mbox `From ` line), within limits.
pub fn read_single_file(
    path: &Path,
    opts: &ReadOptions,
    origin: Origin,
) -> Result<RawMessage, ReadError> {
    let err = |reason: String| ReadError {
        origin: origin.clone(),
        message_id: None,
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(format!("cannot read: {e}")))?;
    if meta.len() > opts.limits.max_message_bytes as u64 {
        return Err(err(format!(
            "message is {} bytes, over the limit of {} (limits.max_message_bytes)",
            meta.len(),
            opts.limits.max_message_bytes
        )));
    }
    let mut bytes = std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))?;
    strip_cr(&mut bytes);
    Ok(RawMessage {
        origin,
        bytes,
        removed: false,
    })
}
