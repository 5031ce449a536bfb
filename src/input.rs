//! The INPUT grammar shared by every command that reads mail.
//!
//! An INPUT is resolved in this order (`-` is standard input, one message or
//! an mbox):
//! 1. an existing path: a file is a single message (`.eml`, `.patch`) or an mbox
//!    (it starts with a `From ` line, or is named `*.mbox`); a directory is a maildir (`cur/`, `new/`) or a
//!    public-inbox archive (`git/N.git`, or one epoch repository);
//! 2. a prefixed form: `github:OWNER/REPO#N` (a pull request), an archive URL
//!    (`https://lore.kernel.org/LIST/MSGID/`);
//! 3. a bare Message-ID (`<id@host>`, `id@host`, `id:id@host`).
//!
//! Forms that later work implements are recognised and refused with a clear error.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::mail::{
    self, mbox::MboxReader, public_inbox, Origin, RawMessage, ReadError, ReadOptions,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file: one message, or an mbox.
    File(PathBuf),
    /// `-`: one message or an mbox on standard input.
    Stdin,
    Maildir(PathBuf),
    PublicInbox(PathBuf),
    GitHub {
        owner: String,
        repo: String,
        number: u64,
    },
    Url(String),
    MessageId(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InputError {
    #[error("{0}: no such file or directory, and not a Message-ID, URL or github:OWNER/REPO#N")]
    NotFound(String),
    #[error("{0}: a directory, but neither a maildir (cur/, new/) nor a public-inbox archive (git/N.git)")]
    UnknownDirectory(String),
    #[error("{0}: malformed github input; expected github:OWNER/REPO#NUMBER")]
    BadGitHub(String),
    #[error("{what} are not implemented yet: {input}")]
    NotImplemented { what: &'static str, input: String },
    #[error("{0}")]
    Unreadable(String),
}

impl Input {
    /// Resolve one INPUT argument (see the module documentation for the order).
    pub fn resolve(arg: &str) -> Result<Input, InputError> {
        if arg == "-" {
            return Ok(Input::Stdin);
        }
        let p = Path::new(arg);
        if !arg.is_empty() {
            if let Ok(meta) = std::fs::metadata(p) {
                if meta.is_file() {
                    return Ok(Input::File(p.to_path_buf()));
                }
                if meta.is_dir() {
                    if mail::is_maildir(p) {
                        return Ok(Input::Maildir(p.to_path_buf()));
                    }
                    if public_inbox::is_public_inbox(p) {
                        return Ok(Input::PublicInbox(p.to_path_buf()));
                    }
                    return Err(InputError::UnknownDirectory(arg.to_string()));
                }
                return Err(InputError::Unreadable(format!(
                    "{arg}: not a regular file or directory"
                )));
            }
        }
        if let Some(rest) = arg.strip_prefix("github:") {
            let (repo_part, num) = rest
                .split_once('#')
                .ok_or_else(|| InputError::BadGitHub(arg.into()))?;
            let (owner, repo) = repo_part
                .split_once('/')
                .ok_or_else(|| InputError::BadGitHub(arg.into()))?;
            let number: u64 = num.parse().map_err(|_| InputError::BadGitHub(arg.into()))?;
            if owner.is_empty() || repo.is_empty() || repo.contains('/') {
                return Err(InputError::BadGitHub(arg.into()));
            }
            return Ok(Input::GitHub {
                owner: owner.into(),
                repo: repo.into(),
                number,
            });
        }
        if arg.starts_with("https://") || arg.starts_with("http://") {
            return Ok(Input::Url(arg.to_string()));
        }
        let id = arg.strip_prefix("id:").unwrap_or(arg);
        let id = id
            .strip_prefix('<')
            .and_then(|s| s.strip_suffix('>'))
            .unwrap_or(id);
        if let Some((l, r)) = id.split_once('@') {
            if !l.is_empty()
                && !r.is_empty()
                && !id.contains(char::is_whitespace)
                && !id.contains('/')
            {
                return Ok(Input::MessageId(id.to_string()));
            }
        }
        Err(InputError::NotFound(arg.to_string()))
    }

    /// Stream every message of this input to `f`. Errors about single messages go
    /// to `f` too; an `Err` return means the input as a whole could not be read.
    pub fn read(
        &self,
        opts: &ReadOptions,
        f: &mut dyn FnMut(Result<RawMessage, ReadError>),
    ) -> Result<(), InputError> {
        match self {
            Input::File(path) => read_file(path, opts, f),
            Input::Stdin => read_stream(std::io::stdin().lock(), Path::new("<stdin>"), opts, f),
            Input::Maildir(dir) => {
                let files = mail::maildir_files(dir).map_err(|e| {
                    InputError::Unreadable(format!("{}: cannot list maildir: {e}", dir.display()))
                })?;
                for path in files {
                    let origin = Origin::Maildir { path: path.clone() };
                    f(mail::read_single_file(&path, opts, origin));
                }
                Ok(())
            }
            Input::PublicInbox(dir) => {
                public_inbox::read(dir, &Default::default(), opts, f)
                    .map_err(InputError::Unreadable)?;
                Ok(())
            }
            Input::GitHub {
                owner,
                repo,
                number,
            } => Err(InputError::NotImplemented {
                what: "GitHub pull requests as mail (`patchbot review github:...` reviews them)",
                input: format!("github:{owner}/{repo}#{number}"),
            }),
            // the CLI fetches these into a file first (crate::remote)
            Input::Url(u) => Err(InputError::NotImplemented {
                what: "archive URLs here (fetch the thread first)",
                input: u.clone(),
            }),
            Input::MessageId(id) => Err(InputError::NotImplemented {
                what: "Message-IDs here (fetch the thread first)",
                input: id.clone(),
            }),
        }
    }
}

fn read_file(
    path: &Path,
    opts: &ReadOptions,
    f: &mut dyn FnMut(Result<RawMessage, ReadError>),
) -> Result<(), InputError> {
    let file = std::fs::File::open(path)
        .map_err(|e| InputError::Unreadable(format!("{}: {e}", path.display())))?;
    read_stream(file, path, opts, f)
}

/// Read one message or an mbox from a stream (a file, or standard input).
fn read_stream(
    input: impl Read,
    path: &Path,
    opts: &ReadOptions,
    f: &mut dyn FnMut(Result<RawMessage, ReadError>),
) -> Result<(), InputError> {
    let unreadable = |e: std::io::Error| InputError::Unreadable(format!("{}: {e}", path.display()));
    let mut r = BufReader::with_capacity(256 * 1024, input);
    // Decide mbox or single message from the first non-blank line: read up to it
    // (a pipe may deliver it in pieces), then put it back in front of the rest.
    let mut head = Vec::new();
    let first_is_from = loop {
        let start = head.len();
        let n = r
            .by_ref()
            .take(64 * 1024)
            .read_until(b'\n', &mut head)
            .map_err(unreadable)?;
        let line = &head[start..];
        if n == 0 {
            break false;
        }
        if !line.iter().all(|c| c.is_ascii_whitespace()) || head.len() > 64 * 1024 {
            break mail::mbox::is_from_line(line);
        }
    };
    let r = BufReader::with_capacity(256 * 1024, std::io::Cursor::new(head).chain(r));
    let named_mbox = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("mbox") || e.eq_ignore_ascii_case("mbx"));
    if first_is_from || named_mbox {
        for m in MboxReader::new(r, path.to_path_buf(), *opts) {
            f(m);
        }
        return Ok(());
    }
    let origin = Origin::File {
        path: path.to_path_buf(),
    };
    let max = opts.limits.max_message_bytes;
    let mut bytes = Vec::new();
    let mut r = r;
    let n = r
        .by_ref()
        .take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| InputError::Unreadable(format!("{}: {e}", path.display())))?;
    if n > max {
        f(Err(ReadError {
            origin,
            message_id: None,
            reason: format!(
                "message is over the limit of {max} bytes (limits.max_message_bytes); skipped"
            ),
        }));
        return Ok(());
    }
    if !opts.keep_cr {
        mail::strip_cr(&mut bytes);
    }
    f(Ok(RawMessage {
        origin,
        bytes,
        removed: false,
    }));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar_order() {
        assert_eq!(
            Input::resolve("github:xen/xen#12").unwrap(),
            Input::GitHub {
                owner: "xen".into(),
                repo: "xen".into(),
                number: 12
            }
        );
        assert!(matches!(
            Input::resolve("github:xen#12"),
            Err(InputError::BadGitHub(_))
        ));
        assert_eq!(
            Input::resolve("<a@b>").unwrap(),
            Input::MessageId("a@b".into())
        );
        assert_eq!(
            Input::resolve("id:a@b").unwrap(),
            Input::MessageId("a@b".into())
        );
        assert!(matches!(
            Input::resolve("https://lore.kernel.org/x/a@b/").unwrap(),
            Input::Url(_)
        ));
        assert!(matches!(
            Input::resolve("no-such-file.mbox"),
            Err(InputError::NotFound(_))
        ));
        assert!(matches!(
            Input::resolve("Cargo.toml").unwrap(),
            Input::File(_)
        ));
        assert!(matches!(
            Input::resolve("src"),
            Err(InputError::UnknownDirectory(_))
        ));
    }
}
