//! `patchbot digest` over what `patchbot watch` took in from a maildir of the
//! bundled example series: sections by action, per-maintainer filtering,
//! what changed since the last digest, the email sink, and the HTML page
//! rendered by headless Chromium (Debian's chromium), its DOM queried.
//! The approval rules themselves (THE REST, `X:` exclusions, scoped acks)
//! are tested on MAINTAINERS fixtures in `src/digest.rs`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A maildir holding the messages of some example series, a state store
/// that `watch --once` filled from it, and a config naming both.
struct Place {
    dir: tempfile::TempDir,
}

impl Place {
    fn new(series: &[&str]) -> Place {
        let dir = tempfile::tempdir().unwrap();
        let md = dir.path().join("list");
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(md.join(sub)).unwrap();
        }
        for (k, s) in series.iter().enumerate() {
            for (n, m) in common::split(s).iter().enumerate() {
                std::fs::write(md.join("new").join(format!("{k}-{n:04}")), m).unwrap();
            }
        }
        let cfg = format!(
            "[post]\nstate = \"{}\"\nfrom = \"patchbot <patchbot@example.org>\"\n\
             [post.email]\ntransport = \"outbox\"\n\
             [watch]\ntree = \"{}\"\nbacklog = \"review\"\n\
             [[watch.sources]]\nname = \"xen-devel\"\npath = \"{}\"\n",
            dir.path().join("state.sqlite").display(),
            root().join("examples/xen-tree").display(),
            md.display()
        );
        std::fs::write(dir.path().join("config.toml"), cfg).unwrap();
        let p = Place { dir };
        let out = p.cmd().args(["watch", "--once"]).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        p
    }

    fn cmd(&self) -> Command {
        let mut c = common::patchbot();
        c.arg("--config").arg(self.dir.path().join("config.toml"));
        c
    }

    fn digest(&self, args: &[&str]) -> String {
        let out = self.cmd().arg("digest").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `digest --format email`, which must succeed.
    fn send(&self) -> std::process::Output {
        let out = self
            .cmd()
            .args(["digest", "--format", "email"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// The digests in the outbox (the review replies are there too).
    fn digests(&self) -> Vec<String> {
        common::maildir_messages(&self.dir.path().join("outbox"))
            .into_iter()
            .filter(|m| m.contains("Subject: patchbot digest for"))
            .collect()
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = vec!["--format", "json"];
        a.extend_from_slice(args);
        serde_json::from_str(&self.digest(&a)).unwrap()
    }
}

fn actions(v: &serde_json::Value) -> Vec<(String, u64, String)> {
    v["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["title"].as_str().unwrap().to_string(),
                s["version"].as_u64().unwrap(),
                s["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const TITLE: &str = "xen: enforce a minimum function alignment for livepatch";

#[test]
fn the_digest_sorts_series_by_what_they_need_and_says_whose_ack_is_missing() {
    let p = Place::new(&[
        "xen-function-alignment.mbox",
        "xen-function-alignment-v5.mbox",
        "typo-config-symbol.mbox",
    ]);
    let v = p.json(&[]);
    let a = actions(&v);
    assert!(a.contains(&(TITLE.into(), 4, "superseded".into())), "{a:?}");
    assert!(a.contains(&(TITLE.into(), 5, "needs-ack".into())), "{a:?}");
    // the typo series has a finding open
    assert!(a.iter().any(|(_, _, x)| x == "findings-open"), "{a:?}");
    let v5 = v["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["version"] == 5)
        .unwrap();
    // Priya's ack is scoped to arm: arm is approved, x86 is not
    let needs = v5["needs_ack_from"].as_object().unwrap();
    assert!(needs.contains_key("X86 ARCHITECTURE"), "{needs:?}");
    assert!(
        !needs.contains_key("ARM (W/ VIRTUALISATION EXTENSIONS) ARCHITECTURE"),
        "{needs:?}"
    );
    assert!(v5["trailers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "Acked-by: Priya Raman <priya.raman@example.com> # arm"));
    assert_eq!(v5["reviewed"]["resolved"], 4, "{v5}");
    // grouped by area: RISC-V has v5 only (v4 left riscv out); x86's
    // livepatch.c is LIVEPATCH's (more specific than X86 ARCHITECTURE's)
    assert_eq!(
        v["by_area"]["RISC-V"],
        serde_json::json!([["needs-ack", format!("v5 {TITLE}")]]),
        "{}",
        v["by_area"]
    );
    let livepatch = v["by_area"]["LIVEPATCH"].as_array().unwrap();
    assert_eq!(livepatch.len(), 1, "{}", v["by_area"]);
    assert_eq!(livepatch[0][0], "findings-open");
    assert_eq!(
        v["by_area"]["X86 ARCHITECTURE"].as_array().unwrap().len(),
        1
    );
    // sections in order: needs an ack before findings open before superseded
    let text = p.digest(&[]);
    let at = |s: &str| text.find(s).unwrap_or_else(|| panic!("{s} not in {text}"));
    assert!(at("Needs an ack (1)") < at("Findings open (1)"));
    assert!(at("Findings open (1)") < at("Superseded (1)"));
    assert!(text
        .contains("needs an ack for X86 ARCHITECTURE from Alex Rivers <alex.rivers@example.com>"));
    // a maintainer sees the series of their areas only
    let riscv = actions(&p.json(&["--maintainer", "tomasz.wrobel@example.com"]));
    assert!(riscv.iter().all(|(t, _, _)| t == TITLE), "{riscv:?}");
    assert!(riscv.iter().any(|(_, v, _)| *v == 5));
    let nobody = actions(&p.json(&["--maintainer", "nobody@example.org"]));
    assert!(nobody.is_empty());
    // --since in the future: nothing
    assert!(actions(&p.json(&["--since", "2999-01-01"])).is_empty());
    let out = p
        .cmd()
        .args(["digest", "--since", "tomorrow"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_recorded_digest_is_the_base_of_the_next_ones_changes() {
    let p = Place::new(&["xen-function-alignment.mbox"]);
    let first = p.digest(&["--record"]);
    assert!(!first.contains("Since the last digest"), "{first}");
    let again = p.digest(&[]);
    assert!(again.contains("Since the last digest"), "{again}");
    assert!(again.contains("nothing changed"), "{again}");
    // v5 arrives: v4 moves to superseded, v5 is new
    let md = p.dir.path().join("list/new");
    for (n, m) in common::split("xen-function-alignment-v5.mbox")
        .iter()
        .enumerate()
    {
        std::fs::write(md.join(format!("v5-{n:04}")), m).unwrap();
    }
    let out = p.cmd().args(["watch", "--once"]).output().unwrap();
    assert!(out.status.success());
    let v = p.json(&[]);
    assert_eq!(
        v["changes"]["new"],
        serde_json::json!([format!("v5 {TITLE}")]),
        "{v}"
    );
    assert_eq!(
        v["changes"]["moved"][0],
        serde_json::json!([format!("v4 {TITLE}"), "findings-open", "superseded"]),
        "{v}"
    );
}

#[test]
fn the_email_digest_goes_to_each_maintainer_once_a_day() {
    let p = Place::new(&["xen-function-alignment.mbox"]);
    let out = p.send();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    let digests = p.digests();
    // v4 touches x86 (Alex Rivers), arm (Priya Raman) and THE REST (Jane)
    for who in [
        "alex.rivers@example.com",
        "priya.raman@example.com",
        "jane@example.org",
    ] {
        let mine: Vec<&String> = digests
            .iter()
            .filter(|m| common::header(m, "To") == [who])
            .collect();
        assert_eq!(mine.len(), 1, "{who}: {said}");
        assert!(mine[0].contains(TITLE));
        assert!(mine[0].contains("Auto-Submitted: auto-generated"));
    }
    let out = p.send();
    assert!(String::from_utf8_lossy(&out.stdout).contains("Not sent again"));
    assert_eq!(p.digests().len(), digests.len());
}

fn chromium() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/chromium");
    let have = p.exists();
    common::reference_tool("chromium (Debian's chromium)", have).then_some(p)
}

#[test]
fn the_html_digest_renders_in_a_browser() {
    let Some(chromium) = chromium() else { return };
    let p = Place::new(&[
        "xen-function-alignment.mbox",
        "xen-function-alignment-v5.mbox",
        "typo-config-symbol.mbox",
    ]);
    let html = p.digest(&["--format", "html"]);
    let page = p.dir.path().join("digest.html");
    std::fs::write(&page, &html).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let browse = |extra: &[&str]| {
        let out = Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(format!("file://{}", page.display()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    // the DOM the browser built from the page
    let dom = String::from_utf8(browse(&["--dump-dom"]).stdout).unwrap();
    for id in ["by-area", "needs-ack", "findings-open", "superseded"] {
        assert!(
            dom.contains(&format!("<section id=\"{id}\">")),
            "{id} not in {dom}"
        );
    }
    assert_eq!(dom.matches("<tr class=\"series\">").count(), 3, "{dom}");
    assert!(dom.contains("<title>patchbot digest</title>"));
    // and a screenshot of it, which is a real picture
    let shot = p.dir.path().join("digest.png");
    browse(&[
        &format!("--screenshot={}", shot.display()),
        "--window-size=1200,900",
    ]);
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 10_000,
        "a blank page compresses to almost nothing"
    );
}

#[test]
fn the_email_digest_can_go_to_the_list_instead() {
    let p = Place::new(&["xen-function-alignment.mbox"]);
    let cfg = p.dir.path().join("config.toml");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str("[digest]\nto = \"list\"\nlist = \"xen-devel@lists.xenproject.org\"\n");
    std::fs::write(&cfg, text).unwrap();
    p.send();
    let digests = p.digests();
    assert_eq!(digests.len(), 1);
    assert_eq!(
        common::header(&digests[0], "To"),
        ["xen-devel@lists.xenproject.org"]
    );
    assert!(digests[0].contains(TITLE));
    // without the list's address it is a configuration error
    std::fs::write(
        &cfg,
        std::fs::read_to_string(&cfg)
            .unwrap()
            .replace("list = \"xen-devel@lists.xenproject.org\"", "list = \"\""),
    )
    .unwrap();
    let out = p
        .cmd()
        .args(["digest", "--format", "email"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
