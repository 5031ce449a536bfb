//! Benchmark: `patchbot watch` on a backlog. A public-inbox v2 archive of
//! PATCHBOT_BENCH_MESSAGES messages (default 20,000) is written with
//! `git fast-import` (one commit per message, blob `m`, as public-inbox
//! writes them): copies of the bundled example series, each under its own
//! Message-IDs and title so each is a series of its own that applies to the
//! bundled tree, with review replies until the count is reached. Measured,
//! with the release build:
//!
//! - the first import with `backlog = "skip"`: every message taken in and
//!   every series planned, nothing reviewed;
//! - the first import with `backlog = "review"`: the same, and every
//!   complete series reviewed (`review --post` to an outbox, the base from
//!   the on-disk cache after the first);
//! - the steady-state round with nothing new (target: under 100 ms), median
//!   of 15, beside the reference of the same run: starting the binary for
//!   `patchbot --version`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TEMPLATES: &[&str] = &[
    "xen-function-alignment.mbox",
    "common-section-one-arch.mbox",
    "section-end-missing.mbox",
    "shadowed-section.mbox",
    "typo-config-symbol.mbox",
    "stronger-align.mbox",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The messages of an mbox (git mailsplit's split).
fn split(mbox: &Path) -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("git")
        .arg("mailsplit")
        .arg(format!("-o{}", dir.path().display()))
        .arg(mbox)
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|f| std::fs::read(f).unwrap()).collect()
}

/// One copy of a template series: Message-IDs made unique with `tag`, the
/// title made its own (so the copies are different series, not versions).
fn copy(msgs: &[Vec<u8>], tag: usize) -> Vec<Vec<u8>> {
    msgs.iter()
        .map(|m| {
            let t = String::from_utf8_lossy(m);
            let (head, body) = t.split_once("\n\n").unwrap_or((&t, ""));
            let head: Vec<String> = head
                .lines()
                .map(|l| {
                    let lower = l.to_ascii_lowercase();
                    if lower.starts_with("message-id:")
                        || lower.starts_with("in-reply-to:")
                        || lower.starts_with("references:")
                        || l.starts_with(' ')
                        || l.starts_with('\t')
                    {
                        l.replace('@', &format!(".b{tag}@"))
                    } else if lower.starts_with("subject:") {
                        format!("{l} #{tag}")
                    } else if lower.starts_with("change-id:") {
                        format!("{l}-{tag}")
                    } else {
                        l.to_string()
                    }
                })
                .collect();
            // change-id trailers live in the body
            let body = body
                .lines()
                .map(|l| {
                    if l.starts_with("change-id: ") {
                        format!("{l}-{tag}")
                    } else {
                        l.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            format!("{}\n\n{body}\n", head.join("\n")).into_bytes()
        })
        .collect()
}

/// A review reply to `id`.
fn reply(id: &str, subject: &str, n: usize) -> Vec<u8> {
    format!(
        "From: Reviewer {n} <reviewer{n}@example.org>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\
         Subject: Re: {subject}\nMessage-ID: <r{n}.{id}>\nIn-Reply-To: <{id}>\nReferences: <{id}>\n\n\
         On a patch somebody wrote:\n> quoted\n\nLooks fine to me.\n\nReviewed-by: Reviewer {n} <reviewer{n}@example.org>\n"
    )
    .into_bytes()
}

fn header(m: &[u8], name: &str) -> Option<String> {
    let t = String::from_utf8_lossy(m);
    let head = t.split("\n\n").next()?;
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

/// Write `msgs` as a public-inbox v2 epoch with git fast-import.
fn write_inbox(dir: &Path, msgs: &[Vec<u8>]) {
    let git_dir = dir.join("git/0.git");
    std::fs::create_dir_all(&git_dir).unwrap();
    assert!(Command::new("git")
        .args(["init", "--bare", "--quiet"])
        .arg(&git_dir)
        .status()
        .unwrap()
        .success());
    let mut fi = Command::new("git")
        .arg("--git-dir")
        .arg(&git_dir)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut w = std::io::BufWriter::new(fi.stdin.take().unwrap());
        for (i, m) in msgs.iter().enumerate() {
            writeln!(w, "commit refs/heads/master").unwrap();
            writeln!(
                w,
                "committer bench <bench@example.org> {} +0000",
                1_700_000_000 + i
            )
            .unwrap();
            writeln!(w, "data 1\nm").unwrap();
            // public-inbox keeps one blob `m` per commit
            writeln!(w, "M 100644 inline m\ndata {}", m.len()).unwrap();
            w.write_all(m).unwrap();
            writeln!(w).unwrap();
        }
    }
    assert!(fi.wait().unwrap().success());
    std::fs::write(git_dir.join("HEAD"), "ref: refs/heads/master\n").unwrap();
}

fn config(dir: &Path, inbox: &Path, backlog: &str) -> std::path::PathBuf {
    let cfg = dir.join(format!("{backlog}.toml"));
    std::fs::write(
        &cfg,
        format!(
            "[post]\nstate = \"{}\"\nfrom = \"patchbot <patchbot@example.org>\"\nreplies = \"one\"\n\
             [post.email]\ntransport = \"outbox\"\n\
             [cache]\ndir = \"{}\"\n\
             [watch]\ntree = \"{}\"\nbacklog = \"{backlog}\"\ngrace_minutes = 0\n\
             [[watch.sources]]\nname = \"bench\"\npath = \"{}\"\n",
            dir.join(format!("{backlog}/state.sqlite")).display(),
            dir.join("cache").display(),
            root().join("examples/xen-tree").display(),
            inbox.display()
        ),
    )
    .unwrap();
    cfg
}

fn watch_once(cfg: &Path) -> (Duration, String) {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_patchbot"))
        .arg("--config")
        .arg(cfg)
        .args(["watch", "--once"])
        .env_remove("PATCHBOT_NO_CACHE")
        .output()
        .unwrap();
    let d = t.elapsed();
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{log}");
    (d, log)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let want: usize = std::env::var("PATCHBOT_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let templates: Vec<Vec<Vec<u8>>> = TEMPLATES
        .iter()
        .map(|t| split(&root().join("examples").join(t)))
        .collect();
    // series copies and their replies, interleaved as a list sees them: a
    // series, then fifteen replies to its patches
    let mut msgs: Vec<Vec<u8>> = Vec::with_capacity(want);
    let mut series = 0usize;
    let mut n = 0usize;
    while msgs.len() < want {
        let c = copy(&templates[series % templates.len()], series);
        let patches: Vec<(String, String)> = c
            .iter()
            .filter_map(|m| {
                let s = header(m, "Subject")?;
                let id = header(m, "Message-ID")?;
                (!s.starts_with("Re:")).then(|| (id.trim_matches(['<', '>']).to_string(), s))
            })
            .collect();
        msgs.extend(c);
        for k in 0..15 {
            if msgs.len() >= want {
                break;
            }
            let (id, s) = &patches[k % patches.len()];
            msgs.push(reply(id, s, n));
            n += 1;
        }
        series += 1;
    }
    msgs.truncate(want);
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    write_inbox(&inbox, &msgs);
    let bytes: usize = msgs.iter().map(|m| m.len()).sum();
    println!(
        "backlog: {} messages ({:.1} MB), {series} series copied from {} example series",
        msgs.len(),
        bytes as f64 / 1e6,
        TEMPLATES.len()
    );

    // the reference: starting the binary at all
    let version: Vec<Duration> = (0..15)
        .map(|_| {
            let t = Instant::now();
            let out = Command::new(env!("CARGO_BIN_EXE_patchbot"))
                .arg("--version")
                .output()
                .unwrap();
            assert!(out.status.success());
            t.elapsed()
        })
        .collect();
    let version = median(version);

    let skip = config(dir.path(), &inbox, "skip");
    let (t_skip, log) = watch_once(&skip);
    assert!(log.contains("backlog taken in"), "{log}");
    let steady: Vec<Duration> = (0..15).map(|_| watch_once(&skip).0).collect();
    let steady = median(steady);

    let review = config(dir.path(), &inbox, "review");
    let (t_review, log) = watch_once(&review);
    let reviews = log.matches("reviewing").count();
    let failed = log.matches("review failed").count();
    let outbox = dir.path().join("review/outbox/new");
    let posted = std::fs::read_dir(&outbox).map_or(0, |d| d.count());
    let steady_after: Vec<Duration> = (0..15).map(|_| watch_once(&review).0).collect();
    let steady_after = median(steady_after);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "first import, backlog skipped: {:.2} s ({:.0} us a message: taken in, assembled, planned)",
        t_skip.as_secs_f64(),
        t_skip.as_secs_f64() * 1e6 / msgs.len() as f64
    );
    println!(
        "first import, backlog reviewed: {:.1} s; {reviews} series reviewed ({failed} failed), \
         {:.0} ms a review, {posted} replies posted",
        t_review.as_secs_f64(),
        (t_review - t_skip.min(t_review)).as_secs_f64() * 1e3 / reviews.max(1) as f64
    );
    println!(
        "steady-state round, nothing new: median {:.1} ms after the skipped import, {:.1} ms after \
         the reviewed one (target 100 ms); starting the binary (--version): {:.1} ms, ratio {:.1}x",
        ms(steady),
        ms(steady_after),
        ms(version),
        ms(steady_after) / ms(version).max(0.001)
    );
}
