//! Posting a review by email, exactly once: the idempotency key, the outgoing
//! Message-ID derived from it, and the two transports (an outbox maildir, the
//! default, where nothing leaves the machine; SMTP through lettre with rustls).
//!
//! [`post_email`] runs "decide → post → record" against the [`Store`]: the
//! intent (with the whole message) is written before the message leaves; a
//! run that finds an unfinished intent first checks the sink where it can be
//! checked (the outbox holds a file named by the key) and sends only if the
//! message is not there. SMTP cannot be checked: a crash after the server
//! accepted the message and before the post was recorded resends it once,
//! with the same Message-ID, so archives and mail clients fold the duplicate.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::EmailConfig;
use crate::state::{Intent, Store};

#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("{0}")]
    State(#[from] crate::state::StateError),
    #[error("outbox {path}: {why}")]
    Outbox { path: String, why: String },
    #[error("smtp {host}:{port}: {why}")]
    Smtp {
        host: String,
        port: u16,
        why: String,
    },
    #[error("{0}")]
    Config(String),
}

use crate::cache::digest;

/// The idempotency key of a reply: the sink, the message replied to, the
/// series and version, and the set of findings (by fingerprint) it states.
pub fn email_key(target: &str, series: &str, version: u32, fingerprints: &[&str]) -> String {
    let mut f: Vec<&str> = fingerprints.to_vec();
    f.sort_unstable();
    f.dedup();
    digest(&format!(
        "email\n{target}\n{series}\nv{version}\n{}",
        f.join("\n")
    ))
}

/// The outgoing Message-ID for a key, in the domain of the `From` address.
pub fn message_id(key: &str, from: &str) -> String {
    let addr = crate::maintainers::address_of(from);
    let domain = addr
        .rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| !d.is_empty())
        .unwrap_or("patchbot.invalid");
    format!("<patchbot-{key}@{domain}>")
}

/// A date as RFC 5322 writes it (UTC).
pub fn rfc5322_date(ts: i64) -> String {
    let s = crate::series::rfc3339(ts); // YYYY-MM-DDTHH:MM:SSZ
    let (y, m, d) = (&s[0..4], &s[5..7], &s[8..10]);
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = m
        .parse::<usize>()
        .ok()
        .and_then(|m| months.get(m.wrapping_sub(1)))
        .copied()
        .unwrap_or("Jan");
    let days = ts.div_euclid(86_400);
    let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    format!(
        "{wd}, {} {month} {y} {} +0000",
        d.trim_start_matches('0'),
        &s[11..19]
    )
}

/// Where mail goes.
pub enum Transport {
    /// A maildir: the message is a file named by its key in `new/`.
    Outbox(PathBuf),
    Smtp {
        host: String,
        port: u16,
        security: Security,
        credentials: Option<(String, String)>,
        /// Extra trusted certificates (PEM).
        ca: Option<Vec<u8>>,
        /// The list's archive, to look for a message sent before.
        archive: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    StartTls,
    Tls,
    /// No TLS: only to a loopback address.
    Plain,
}

impl Transport {
    /// The transport `[post.email]` names; `state_dir` is where the default
    /// outbox goes. SMTP credentials come from the configuration or the
    /// environment (`PATCHBOT_SMTP_USER`, `PATCHBOT_SMTP_PASSWORD` or the
    /// variable `password_env` names), never from a reviewed tree.
    pub fn from_config(c: &EmailConfig, state_dir: &Path) -> Result<Transport, PostError> {
        match c.transport.as_str() {
            "outbox" => Ok(Transport::Outbox(if c.outbox.is_empty() {
                state_dir.join("outbox")
            } else {
                PathBuf::from(&c.outbox)
            })),
            "smtp" => {
                if c.smtp_host.is_empty() {
                    return Err(PostError::Config(
                        "[post.email] transport = \"smtp\" needs smtp_host".into(),
                    ));
                }
                let security = match c.security.as_str() {
                    "starttls" => Security::StartTls,
                    "tls" => Security::Tls,
                    "plain" => Security::Plain,
                    other => {
                        return Err(PostError::Config(format!(
                            "[post.email] security = {other:?}: one of starttls, tls, plain"
                        )))
                    }
                };
                if security == Security::Plain && !is_loopback(&c.smtp_host) {
                    return Err(PostError::Config(format!(
                        "[post.email] security = \"plain\" is only for a loopback host, not {}",
                        c.smtp_host
                    )));
                }
                let user = std::env::var("PATCHBOT_SMTP_USER")
                    .ok()
                    .filter(|u| !u.is_empty())
                    .unwrap_or_else(|| c.username.clone());
                let pass = std::env::var(&c.password_env)
                    .ok()
                    .filter(|p| !p.is_empty());
                let credentials = match (user.is_empty(), pass) {
                    (true, _) => None,
                    (false, Some(p)) => Some((user, p)),
                    (false, None) => {
                        return Err(PostError::Config(format!(
                            "[post.email] username {user:?} needs a password in ${}",
                            c.password_env
                        )))
                    }
                };
                let ca = if c.ca_file.is_empty() {
                    None
                } else {
                    Some(std::fs::read(&c.ca_file).map_err(|e| {
                        PostError::Config(format!("[post.email] ca_file {}: {e}", c.ca_file))
                    })?)
                };
                Ok(Transport::Smtp {
                    host: c.smtp_host.clone(),
                    port: c.smtp_port,
                    security,
                    credentials,
                    ca,
                    archive: (!c.archive.is_empty()).then(|| PathBuf::from(&c.archive)),
                })
            }
            other => Err(PostError::Config(format!(
                "[post.email] transport = {other:?}: one of outbox, smtp"
            ))),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Transport::Outbox(_) => "outbox",
            Transport::Smtp { .. } => "smtp",
        }
    }

    /// Whether the message of `key` (Message-ID `id`) is already there
    /// (None: this transport cannot tell).
    fn holds(&self, key: &str, id: &str) -> Option<bool> {
        match self {
            Transport::Smtp {
                archive: Some(a), ..
            } => archive_holds(a, id),
            Transport::Outbox(dir) => Some(["new", "cur"].iter().any(|sub| {
                std::fs::read_dir(dir.join(sub)).is_ok_and(|rd| {
                    rd.flatten().any(|e| {
                        e.file_name()
                            .to_string_lossy()
                            .starts_with(&outbox_name(key))
                    })
                })
            })),
            Transport::Smtp { archive: None, .. } => None,
        }
    }

    /// Send one message; where it went (a path, or the server's answer).
    fn send(
        &self,
        key: &str,
        from: &str,
        rcpts: &[String],
        msg: &[u8],
    ) -> Result<String, PostError> {
        match self {
            Transport::Outbox(dir) => {
                let err = |e: std::io::Error| PostError::Outbox {
                    path: dir.display().to_string(),
                    why: e.to_string(),
                };
                for sub in ["tmp", "new", "cur"] {
                    std::fs::create_dir_all(dir.join(sub)).map_err(err)?;
                }
                // a maildir name of its own (a second delivery would be a
                // second file, never a silent overwrite), starting with the key
                // the outbox is searched by
                let stamp = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or_default();
                let name = format!("{}.{stamp}.{}", outbox_name(key), std::process::id());
                let tmp = dir.join("tmp").join(&name);
                let mut f = std::fs::File::create(&tmp).map_err(err)?;
                f.write_all(msg).and_then(|_| f.sync_all()).map_err(err)?;
                let dest = dir.join("new").join(&name);
                std::fs::rename(&tmp, &dest).map_err(err)?;
                Ok(dest.display().to_string())
            }
            Transport::Smtp {
                host,
                port,
                security,
                credentials,
                ca,
                ..
            } => {
                use lettre::address::Envelope;
                use lettre::transport::smtp::client::{Tls, TlsParameters};
                use lettre::transport::smtp::{authentication::Credentials, SmtpTransport};
                let err = |why: String| PostError::Smtp {
                    host: host.clone(),
                    port: *port,
                    why,
                };
                let addr = |a: &str| {
                    crate::maintainers::address_of(a)
                        .parse::<lettre::Address>()
                        .map_err(|e| err(format!("{a}: {e}")))
                };
                let to: Vec<lettre::Address> =
                    rcpts.iter().map(|r| addr(r)).collect::<Result<_, _>>()?;
                let envelope =
                    Envelope::new(Some(addr(from)?), to).map_err(|e| err(e.to_string()))?;
                let tls = || {
                    let mut t = TlsParameters::builder(host.clone());
                    if let Some(pem) = ca {
                        let c = lettre::transport::smtp::client::Certificate::from_pem(pem)
                            .map_err(|e| err(format!("[post.email] ca_file: {e}")))?;
                        t = t.add_root_certificate(c);
                    }
                    t.build_rustls().map_err(|e| err(e.to_string()))
                };
                let mut b = SmtpTransport::builder_dangerous(host.as_str())
                    .port(*port)
                    .timeout(Some(std::time::Duration::from_secs(30)));
                b = match security {
                    Security::Plain => b.tls(Tls::None),
                    Security::StartTls => b.tls(Tls::Required(tls()?)),
                    Security::Tls => b.tls(Tls::Wrapper(tls()?)),
                };
                if let Some((u, p)) = credentials {
                    b = b.credentials(Credentials::new(u.clone(), p.clone()));
                }
                use lettre::Transport as _;
                // SMTP lines end in CRLF (the stored message uses LF)
                let mut wire = Vec::with_capacity(msg.len() + msg.len() / 40);
                for (i, &c) in msg.iter().enumerate() {
                    if c == b'\n' && (i == 0 || msg[i - 1] != b'\r') {
                        wire.push(b'\r');
                    }
                    wire.push(c);
                }
                let r = b
                    .build()
                    .send_raw(&envelope, &wire)
                    .map_err(|e| err(e.to_string()))?;
                Ok(r.message().collect::<Vec<_>>().join(" "))
            }
        }
    }
}

/// Whether a local archive holds a message with this Message-ID (None: the
/// archive cannot be read, so it cannot tell).
fn archive_holds(archive: &Path, id: &str) -> Option<bool> {
    let want = id.trim().trim_matches(|c| c == '<' || c == '>');
    let input = crate::input::Input::resolve(&archive.display().to_string()).ok()?;
    let mut found = false;
    input
        .read(&crate::mail::ReadOptions::default(), &mut |raw| {
            let Ok(raw) = raw else { return };
            if !found && message_id_of(&raw.bytes).is_some_and(|m| m == want) {
                found = true;
            }
        })
        .ok()?;
    Some(found)
}

/// The Message-ID of a raw message's header (without angle brackets).
fn message_id_of(bytes: &[u8]) -> Option<String> {
    use mailparse::MailHeaderMap;
    let (headers, _) = mailparse::parse_headers(bytes).ok()?;
    let v = headers.get_first_value("Message-ID")?;
    Some(v.trim().trim_matches(|c| c == '<' || c == '>').to_string())
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn outbox_name(key: &str) -> String {
    format!("patchbot-{key}")
}

/// What posting did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Sent now.
    Sent { message_id: String, to: String },
    /// An earlier run recorded the intent and the sink has the message: recorded.
    Settled { message_id: String },
    /// Posted by an earlier run: nothing sent.
    AlreadyPosted { message_id: String },
    /// A dry run: this would be sent.
    WouldSend {
        message_id: String,
        in_reply_to: String,
    },
}

/// A fault a crash test asks for (`PATCHBOT_TEST_CRASH=after-intent`,
/// `after-send`; GitHub's steps in `github`): the process aborts there, as a
/// kill would.
pub fn crash_point(at: &str) {
    if std::env::var("PATCHBOT_TEST_CRASH").is_ok_and(|v| v == at) {
        std::process::abort();
    }
}

/// Post one message exactly once (see the module's documentation). Call
/// [`settle`] once before, for what earlier runs left unfinished.
pub fn post_email(
    store: &mut Store,
    transport: &Transport,
    key: &str,
    target: &str,
    from: &str,
    rcpts: &[String],
    msg: &[u8],
) -> Result<Vec<Outcome>, PostError> {
    let mut out = Vec::new();
    let id = message_id(key, from);
    match store.intend(key, transport.name(), target, &id, msg)? {
        Intent::Posted(p) => out.push(Outcome::AlreadyPosted {
            message_id: p.message_id,
        }),
        // left by a run the caller's settle did not see (another process)
        Intent::Unfinished(p) => out.extend(settle_one(store, transport, from, &p, rcpts)?),
        Intent::New => {
            crash_point("after-intent");
            let to = transport.send(key, from, rcpts, msg)?;
            crash_point("after-send");
            store.posted(key, Some(&to))?;
            out.push(Outcome::Sent { message_id: id, to });
        }
    }
    Ok(out)
}

/// Settle the intents earlier runs left: recorded when the sink has the
/// message, sent (once) when it has not or cannot tell.
pub fn settle(
    store: &mut Store,
    transport: &Transport,
    from: &str,
) -> Result<Vec<Outcome>, PostError> {
    let mut out = Vec::new();
    for p in store.unfinished()? {
        if p.sink != transport.name() {
            continue; // another sink's: settled when that sink is used
        }
        let rcpts = recipients_of(&p.payload);
        out.extend(settle_one(store, transport, from, &p, &rcpts)?);
    }
    Ok(out)
}

fn settle_one(
    store: &mut Store,
    transport: &Transport,
    from: &str,
    p: &crate::state::Post,
    rcpts: &[String],
) -> Result<Vec<Outcome>, PostError> {
    if transport.holds(&p.key, &p.message_id) == Some(true) {
        store.posted(&p.key, None)?;
        return Ok(vec![Outcome::Settled {
            message_id: p.message_id.clone(),
        }]);
    }
    let to = transport.send(&p.key, from, rcpts, &p.payload)?;
    store.posted(&p.key, Some(&to))?;
    Ok(vec![Outcome::Sent {
        message_id: p.message_id.clone(),
        to,
    }])
}

/// The addresses of a stored message's `To` and `Cc`, as `Name <address>`
/// (mailparse reads the header: folded lines, quoted names with commas).
pub fn recipients_of(msg: &[u8]) -> Vec<String> {
    use mailparse::MailHeaderMap;
    let Ok((headers, _)) = mailparse::parse_headers(msg) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for h in headers
        .get_all_headers("To")
        .into_iter()
        .chain(headers.get_all_headers("Cc"))
    {
        let Ok(list) = mailparse::addrparse_header(h) else {
            continue;
        };
        for a in list.iter() {
            let singles: Vec<&mailparse::SingleInfo> = match a {
                mailparse::MailAddr::Single(s) => vec![s],
                mailparse::MailAddr::Group(g) => g.addrs.iter().collect(),
            };
            out.extend(singles.into_iter().map(|s| match &s.display_name {
                Some(n) => format!("{n} <{}>", s.addr),
                None => s.addr.clone(),
            }));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_as_mail_writes_them() {
        assert_eq!(rfc5322_date(0), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(
            rfc5322_date(1_796_192_308),
            "Wed, 2 Dec 2026 06:18:28 +0000"
        );
    }

    #[test]
    fn keys_follow_the_findings_not_their_order() {
        let a = email_key("<m>", "s", 2, &["x", "y"]);
        assert_eq!(a, email_key("<m>", "s", 2, &["y", "x", "x"]));
        assert_ne!(a, email_key("<m>", "s", 3, &["x", "y"]));
        assert_ne!(a, email_key("<m>", "s", 2, &["x"]));
        assert_eq!(
            message_id(&a, "patchbot <bot@example.org>"),
            format!("<patchbot-{a}@example.org>")
        );
    }

    #[test]
    fn recipients_of_folded_headers() {
        let m = b"From: a <a@x>\nTo: B <b@x>\nCc: C <c@x>,\n    d@x, \"Doe, John\" <j@x>\nSubject: s\n\nTo: not@x\n";
        assert_eq!(
            recipients_of(m),
            ["B <b@x>", "C <c@x>", "d@x", "Doe, John <j@x>"]
        );
        assert_eq!(
            message_id_of(b"Subject: s\nMessage-ID:\n <id@x>\n\nMessage-ID: <no@x>\n").as_deref(),
            Some("id@x")
        );
    }

    #[test]
    fn plain_smtp_only_to_loopback() {
        assert!(is_loopback("127.0.0.1") && is_loopback("localhost") && is_loopback("[::1]"));
        assert!(!is_loopback("smtp.example.org"));
    }
}
