//! Threads from a public-inbox server, by Message-ID or archive URL, the way
//! b4 fetches them: `GET {server}{list}/{msgid}/t.mbox.gz`, falling back to
//! `/all/`, then read as a local mbox.
//!
//! [`fetch_thread`] turns an [`Input::Url`] or [`Input::MessageId`] into a
//! file in the on-disk cache (`[remote] cache_dir`): the thread's mbox, with
//! the server's validators beside it (`ETag`, `Last-Modified`), so a second
//! fetch is a conditional request and `--offline` reads the cache alone.
//! Errors say what happened in the user's terms: an unknown Message-ID, an
//! unreachable server, a rate limit (`Retry-After` waited out when short), a
//! truncated gzip, an HTML page where an mbox was expected.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::RemoteConfig;
use crate::input::Input;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RemoteError {
    #[error("<{msgid}>: no such message on {asked}")]
    Unknown { msgid: String, asked: String },
    #[error("{url}: the server cannot be reached: {why}")]
    Unreachable { url: String, why: String },
    #[error("{url}: rate-limited by the server; it asks to retry after {after}")]
    RateLimited { url: String, after: String },
    #[error("{url}: {why}")]
    Bad { url: String, why: String },
    #[error("<{msgid}>: not in the cache, and --offline forbids asking the server")]
    NotCached { msgid: String },
    #[error("no [remote] servers are configured to fetch <{0}> from")]
    NoServers(String),
    #[error("{0}")]
    Cache(String),
}

/// What an INPUT asks of a server: the Message-ID, and the server and list
/// when an archive URL names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub msgid: String,
    /// `https://host/` (from a URL), else None: every configured server.
    pub server: Option<String>,
    /// The list's path element (`xen-devel`), else None.
    pub list: Option<String>,
}

/// `%XX` escapes undone (Message-IDs in URLs escape `@`, `/`, `%`...).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A Message-ID escaped for a URL path (as public-inbox writes its links).
fn escape(id: &str) -> String {
    let mut o = String::new();
    for c in id.bytes() {
        if c.is_ascii_alphanumeric() || b"@.-_+=~!$&'()*,;:".contains(&c) {
            o.push(c as char);
        } else {
            o.push_str(&format!("%{c:02X}"));
        }
    }
    o
}

/// What a remote INPUT names (None: not a remote input).
pub fn target(input: &Input) -> Result<Option<Target>, String> {
    match input {
        Input::MessageId(id) => Ok(Some(Target {
            msgid: id.clone(),
            server: None,
            list: None,
        })),
        Input::Url(u) => parse_url(u).map(Some),
        _ => Ok(None),
    }
}

/// An archive URL: `https://HOST/LIST/MSGID/` (with `T/`, `t/`, `raw`,
/// `t.mbox.gz` and the like after it), `https://HOST/r/MSGID`, or
/// `https://patch.msgid.link/MSGID` (a redirector: any configured server).
pub fn parse_url(u: &str) -> Result<Target, String> {
    let bad = || format!("{u}: not an archive URL (https://HOST/LIST/MESSAGE-ID/)");
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
        .ok_or_else(bad)?;
    let scheme = &u[..u.len() - rest.len()];
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (host, path) = rest.split_once('/').ok_or_else(bad)?;
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    // the first part holding an @ is the Message-ID; one before it is the list
    let at = parts
        .iter()
        .position(|p| unescape(p).contains('@'))
        .ok_or_else(bad)?;
    let msgid = unescape(parts[at]);
    let msgid = msgid.trim_matches(|c| c == '<' || c == '>').to_string();
    if host == "patch.msgid.link" || host == "msgid.link" {
        return Ok(Target {
            msgid,
            server: None,
            list: None,
        });
    }
    let list = match at {
        0 => None,
        1 if parts[0] == "r" => None,
        1 => Some(parts[0].to_string()),
        _ => return Err(bad()),
    };
    Ok(Target {
        msgid,
        server: Some(format!("{scheme}{host}/")),
        list,
    })
}

/// The cache file of a thread, and its validators' file.
fn cached(dir: &Path, msgid: &str) -> (PathBuf, PathBuf) {
    let k = crate::cache::digest(msgid);
    (dir.join(format!("{k}.mbox")), dir.join(format!("{k}.json")))
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
struct Meta {
    msgid: String,
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
}

/// What fetching gave: the mbox file, and where it came from.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub path: PathBuf,
    pub url: String,
    /// Served from the cache (offline, or the server said not modified).
    pub from_cache: bool,
}

/// Fetch the thread of `t` into the cache (or find it there, `offline`).
pub fn fetch_thread(cfg: &RemoteConfig, t: &Target, offline: bool) -> Result<Fetched, RemoteError> {
    let dir = cfg.cache_dir().ok_or_else(|| {
        RemoteError::Cache(
            "no cache directory for threads: set [remote] cache_dir, XDG_CACHE_HOME or HOME".into(),
        )
    })?;
    let (mbox, meta_path) = cached(&dir, &t.msgid);
    let meta: Option<Meta> = std::fs::read(&meta_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|m: &Meta| m.msgid == t.msgid && mbox.is_file());
    if offline {
        return match meta {
            Some(m) => Ok(Fetched {
                path: mbox,
                url: m.url,
                from_cache: true,
            }),
            None => Err(RemoteError::NotCached {
                msgid: t.msgid.clone(),
            }),
        };
    }
    let servers: Vec<String> = match &t.server {
        Some(s) => vec![s.clone()],
        None => cfg
            .servers
            .iter()
            .map(|s| {
                if s.ends_with('/') {
                    s.clone()
                } else {
                    format!("{s}/")
                }
            })
            .collect(),
    };
    if servers.is_empty() {
        return Err(RemoteError::NoServers(t.msgid.clone()));
    }
    let mut lists: Vec<String> = Vec::new();
    if let Some(l) = &t.list {
        lists.push(l.clone());
    } else {
        lists.extend(cfg.lists.iter().cloned());
    }
    lists.push("all".into());
    lists.dedup();
    crate::install_crypto();
    let client = reqwest::blocking::Client::builder()
        .user_agent(cfg.agent())
        .timeout(Duration::from_secs(cfg.timeout.max(1)))
        .build()
        .map_err(|e| RemoteError::Cache(format!("cannot make an HTTP client: {e}")))?;
    let mut asked = Vec::new();
    let mut last_err = None;
    for server in &servers {
        for list in &lists {
            let url = format!("{server}{list}/{}/t.mbox.gz", escape(&t.msgid));
            asked.push(url.clone());
            match get(&client, cfg, &url, meta.as_ref().filter(|m| m.url == url)) {
                Ok(Got::NotFound) => continue,
                Ok(Got::NotModified) => {
                    return Ok(Fetched {
                        path: mbox,
                        url,
                        from_cache: true,
                    })
                }
                Ok(Got::Body {
                    body,
                    etag,
                    last_modified,
                }) => {
                    let text = decode(&url, &body)?;
                    std::fs::create_dir_all(&dir)
                        .map_err(|e| RemoteError::Cache(format!("{}: {e}", dir.display())))?;
                    write_atomic(&mbox, &text)?;
                    let m = Meta {
                        msgid: t.msgid.clone(),
                        url: url.clone(),
                        etag,
                        last_modified,
                    };
                    write_atomic(&meta_path, &serde_json::to_vec(&m).unwrap_or_default())?;
                    return Ok(Fetched {
                        path: mbox,
                        url,
                        from_cache: false,
                    });
                }
                // a server that cannot be reached: the next server, if any
                Err(e @ RemoteError::Unreachable { .. }) => {
                    last_err = Some(e);
                    break;
                }
                Err(e) => return Err(e),
            }
        }
    }
    if let Some(e) = last_err {
        return Err(e);
    }
    Err(RemoteError::Unknown {
        msgid: t.msgid.clone(),
        asked: asked.join(", "),
    })
}

enum Got {
    NotFound,
    NotModified,
    Body {
        body: Vec<u8>,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// One GET, with the cached validators; a short `Retry-After` waited out
/// (at most twice, each at most `[remote] max_retry_wait` seconds).
fn get(
    client: &reqwest::blocking::Client,
    cfg: &RemoteConfig,
    url: &str,
    meta: Option<&Meta>,
) -> Result<Got, RemoteError> {
    let mut tries = 0;
    loop {
        let mut req = client.get(url);
        if let Some(m) = meta {
            if let Some(e) = &m.etag {
                req = req.header("If-None-Match", e);
            }
            if let Some(l) = &m.last_modified {
                req = req.header("If-Modified-Since", l);
            }
        }
        let resp = req.send().map_err(|e| RemoteError::Unreachable {
            url: url.to_string(),
            why: crate::watch::plain_error(&e),
        })?;
        let status = resp.status().as_u16();
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .and_then(|h| h.to_str().ok())
                .map(String::from)
        };
        match status {
            200 => {
                let (etag, last_modified) = (header("etag"), header("last-modified"));
                let html = header("content-type").is_some_and(|c| c.contains("text/html"));
                let body = resp
                    .bytes()
                    .map_err(|e| RemoteError::Bad {
                        url: url.to_string(),
                        why: format!("the answer broke off: {}", crate::watch::plain_error(&e)),
                    })?
                    .to_vec();
                if html || looks_like_html(&body) {
                    return Err(RemoteError::Bad {
                        url: url.to_string(),
                        why: format!(
                            "the server answered with an HTML page, not an mbox{}",
                            html_title(&body)
                                .map(|t| format!(" (\"{t}\")"))
                                .unwrap_or_default()
                        ),
                    });
                }
                return Ok(Got::Body {
                    body,
                    etag,
                    last_modified,
                });
            }
            304 => return Ok(Got::NotModified),
            404 | 410 => return Ok(Got::NotFound),
            429 | 503 => {
                let after = header("retry-after").unwrap_or_else(|| "an unknown time".into());
                let secs = after.trim().parse::<u64>().ok();
                match secs {
                    Some(s) if tries < 2 && s <= cfg.max_retry_wait => {
                        tries += 1;
                        std::thread::sleep(Duration::from_secs(s));
                        continue;
                    }
                    _ => {
                        return Err(RemoteError::RateLimited {
                            url: url.to_string(),
                            after: match secs {
                                Some(s) => format!("{s} s"),
                                None => after,
                            },
                        })
                    }
                }
            }
            s => {
                return Err(RemoteError::Bad {
                    url: url.to_string(),
                    why: format!("the server answered {s}"),
                })
            }
        }
    }
}

fn looks_like_html(b: &[u8]) -> bool {
    let head: String = String::from_utf8_lossy(&b[..b.len().min(512)])
        .trim_start()
        .chars()
        .take(15)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html")
}

fn html_title(b: &[u8]) -> Option<String> {
    let t = String::from_utf8_lossy(&b[..b.len().min(64 * 1024)]).into_owned();
    let lower = t.to_ascii_lowercase();
    let i = lower.find("<title>")? + 7;
    let j = lower[i..].find("</title>")? + i;
    Some(t[i..j].trim().chars().take(100).collect())
}

/// The mbox of an answer: gunzipped when it is gzip, and an mbox.
fn decode(url: &str, body: &[u8]) -> Result<Vec<u8>, RemoteError> {
    use std::io::Read;
    let text = if body.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(body)
            .take(1 << 30)
            .read_to_end(&mut out)
            .map_err(|e| RemoteError::Bad {
                url: url.to_string(),
                why: if e.kind() == std::io::ErrorKind::UnexpectedEof {
                    "the gzip stream is truncated (the download broke off?)".to_string()
                } else {
                    format!("not valid gzip ({e})")
                },
            })?;
        out
    } else {
        body.to_vec()
    };
    let first = text
        .split(|&b| b == b'\n')
        .find(|l| !l.iter().all(u8::is_ascii_whitespace));
    match first {
        Some(l) if l.starts_with(b"From ") => Ok(text),
        _ if looks_like_html(&text) => Err(RemoteError::Bad {
            url: url.to_string(),
            why: "the server answered with an HTML page, not an mbox".into(),
        }),
        _ => Err(RemoteError::Bad {
            url: url.to_string(),
            why: "the answer is not an mbox".into(),
        }),
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RemoteError> {
    let err = |e: std::io::Error| RemoteError::Cache(format!("{}: {e}", path.display()));
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    std::io::Write::write_all(&mut tmp, bytes).map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// b4's `-c` check: newer versions of a series on the server, found by a
/// search for its title (`?q=s:"..."&x=A`, public-inbox's Atom feed). The
/// versions and links found above `version`; None when search is
/// unavailable (no index, no answer).
pub fn newer_versions(
    cfg: &RemoteConfig,
    fetched_url: &str,
    title: &str,
    version: u32,
) -> Option<Vec<(u32, String)>> {
    // the list's base: everything before the Message-ID
    let base = fetched_url.rsplitn(3, '/').nth(2)?;
    let words: String = title
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == ' ' {
                c
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if words.is_empty() {
        return None;
    }
    let q: String = format!("s:\"{words}\"")
        .bytes()
        .map(|c| {
            if c.is_ascii_alphanumeric() || b":-_.".contains(&c) {
                (c as char).to_string()
            } else {
                format!("%{c:02X}")
            }
        })
        .collect();
    let url = format!("{base}/?q={q}&x=A");
    crate::install_crypto();
    let client = reqwest::blocking::Client::builder()
        .user_agent(cfg.agent())
        .timeout(Duration::from_secs(cfg.timeout.max(1)))
        .build()
        .ok()?;
    let resp = client.get(&url).send().ok()?;
    if !resp.status().is_success() {
        return None;
    }
    let text = resp.text().ok()?;
    if !text.contains("<feed") {
        return None;
    }
    let mut out: Vec<(u32, String)> = Vec::new();
    for entry in text.split("<entry>").skip(1) {
        let t = between(entry, "<title>", "</title>").unwrap_or_default();
        let link = between(entry, "<link href=\"", "\"").unwrap_or_default();
        let subject = crate::series::subject::parse(&xml_unescape(t));
        if subject.reply || !subject.patch {
            continue;
        }
        let v = subject.version;
        if v > version && !out.iter().any(|(x, _)| *x == v) {
            out.push((v, xml_unescape(link)));
        }
    }
    out.sort();
    Some(out)
}

fn between<'a>(s: &'a str, a: &str, b: &str) -> Option<&'a str> {
    let i = s.find(a)? + a.len();
    let j = s[i..].find(b)? + i;
    Some(&s[i..j])
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_urls_name_server_list_and_message_id() {
        let t = parse_url("https://lore.kernel.org/xen-devel/20240101.1-1-a@b.org/").unwrap();
        assert_eq!(t.msgid, "20240101.1-1-a@b.org");
        assert_eq!(t.server.as_deref(), Some("https://lore.kernel.org/"));
        assert_eq!(t.list.as_deref(), Some("xen-devel"));
        let t = parse_url("https://lore.kernel.org/xen-devel/a%40b/T/#t").unwrap();
        assert_eq!(
            (t.msgid.as_str(), t.list.as_deref()),
            ("a@b", Some("xen-devel"))
        );
        let t = parse_url("https://lore.kernel.org/r/a@b").unwrap();
        assert_eq!(t.list, None);
        let t = parse_url("https://patch.msgid.link/a@b").unwrap();
        assert_eq!((t.server, t.list), (None, None));
        assert!(parse_url("https://lore.kernel.org/xen-devel/").is_err());
        assert!(parse_url("https://example.org/a/b/c@d").is_err());
    }

    #[test]
    fn message_ids_are_escaped_for_paths() {
        assert_eq!(escape("a/b%c@d"), "a%2Fb%25c@d");
        assert_eq!(unescape("a%2Fb%25c%40d"), "a/b%c@d");
        assert_eq!(unescape("100%"), "100%");
        assert_eq!(unescape("é%4"), "é%4");
    }

    #[test]
    fn answers_that_are_not_mboxes_are_refused_clearly() {
        let e = decode("u", b"<!DOCTYPE html><html><title>Oops</title>").unwrap_err();
        assert!(e.to_string().contains("HTML page"), "{e}");
        let e = decode("u", b"hello").unwrap_err();
        assert!(e.to_string().contains("not an mbox"));
        let gz = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0x73];
        let e = decode("u", &gz).unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
        assert!(decode("u", b"\nFrom x Thu Jan  1 00:00:00 1970\n\n").is_ok());
        assert_eq!(
            html_title(b"<html><TITLE> Not found </TITLE>").as_deref(),
            Some("Not found")
        );
    }
}
