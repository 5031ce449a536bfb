//! `patchbot review` end to end on the bundled example (examples/README.md
//! says what each series must draw): the exact findings (rule, architectures,
//! variants, file:line), and nothing on the correct series.

mod common;

use std::path::Path;

/// (rule, architectures, variants, file, line) of every finding, sorted.
type Got = Vec<(String, String, String, String, u64)>;

fn review(series: &str) -> (serde_json::Value, Got) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let v = common::json_of(
        common::patchbot()
            .arg("review")
            .arg(root.join("examples").join(series))
            .arg("--tree")
            .arg(root.join("examples/xen-tree"))
            .arg("--json"),
    );
    let mut got: Got = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let list = |k: &str| {
                f[k].as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap().to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            (
                f["rule"].as_str().unwrap().to_string(),
                list("arch"),
                list("variant"),
                f["location"]["file"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                f["location"]["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    got.sort();
    (v, got)
}

fn want(rows: &[(&str, &str, &str, &str, u64)]) -> Got {
    let mut w: Got = rows
        .iter()
        .map(|(r, a, v, f, l)| {
            (
                r.to_string(),
                a.to_string(),
                v.to_string(),
                f.to_string(),
                *l,
            )
        })
        .collect();
    w.sort();
    w
}

#[test]
fn the_seed_like_series_draws_the_maintainers_questions() {
    let (v, got) = review("xen-function-alignment.mbox");
    assert_eq!(
        got,
        want(&[
            (
                "xen-sibling-pattern",
                "riscv64",
                "livepatch",
                "xen/arch/riscv/xen.lds.S",
                34
            ),
            (
                "xen-sibling-pattern",
                "ppc64",
                "livepatch",
                "xen/arch/ppc/xen.lds.S",
                41
            ),
            (
                "xen-symbol-without-value",
                "riscv64",
                "defconfig,livepatch",
                "xen/Kconfig",
                55
            ),
            (
                "xen-symbol-without-value",
                "ppc64",
                "defconfig,livepatch",
                "xen/Kconfig",
                55
            ),
        ])
    );
    // the evidence gives the values per architecture and variant
    let nv = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "xen-symbol-without-value")
        .unwrap();
    let ev: Vec<&str> = nv["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        ev.contains(&"x86_64 defconfig: FUNCTION_ALIGNMENT = 16"),
        "{ev:?}"
    );
    assert!(
        ev.contains(&"arm32 livepatch: FUNCTION_ALIGNMENT = 4"),
        "{ev:?}"
    );
    assert!(
        ev.contains(&"riscv64 defconfig: FUNCTION_ALIGNMENT = (no value)"),
        "{ev:?}"
    );
    // the use that brought the symbol in is located in the patch
    assert_eq!(nv["patch"]["patch"], 1);
    assert_eq!(nv["patch"]["file"], "xen/Makefile");
    // every output of the patched tree was rebuilt (the series touches xen/Kconfig)
    let outs = v["outputs"].as_array().unwrap();
    assert_eq!(outs.len(), 10);
    assert!(outs.iter().all(|o| o["how"] == "built"));
    // the apply object is the apply command's
    assert_eq!(v["apply"]["patches"].as_array().unwrap().len(), 4);
    // fingerprints are stable across runs
    let (v2, _) = review("xen-function-alignment.mbox");
    let fp = |v: &serde_json::Value| -> Vec<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["fingerprint"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(fp(&v), fp(&v2));
}

#[test]
fn correct_series_draw_nothing() {
    for s in [
        "xen-function-alignment-v5.mbox",
        "function-alignment-values-only.mbox",
        "arch-specific-section.mbox",
        "stronger-align.mbox",
        "align-after-dead.mbox",
    ] {
        let (_, got) = review(s);
        assert_eq!(got, Got::new(), "{s}");
    }
}

#[test]
fn a_common_section_on_one_architecture_asks_about_the_others() {
    let (_, got) = review("common-section-one-arch.mbox");
    assert_eq!(
        got,
        want(&[
            (
                "xen-sibling-pattern",
                "x86_64",
                "defconfig,livepatch",
                "xen/arch/x86/xen.lds.S",
                59
            ),
            (
                "xen-sibling-pattern",
                "riscv64",
                "defconfig,livepatch",
                "xen/arch/riscv/xen.lds.S",
                53
            ),
            (
                "xen-sibling-pattern",
                "ppc64",
                "defconfig,livepatch",
                "xen/arch/ppc/xen.lds.S",
                55
            ),
        ])
    );
}

#[test]
fn a_missing_section_end_align_and_a_shadowed_line() {
    let (_, got) = review("section-end-missing.mbox");
    assert_eq!(
        got,
        want(&[
            (
                "xen-sibling-pattern",
                "ppc64",
                "livepatch",
                "xen/arch/ppc/xen.lds.S",
                41
            ),
            (
                "xen-section-end-align",
                "ppc64",
                "livepatch",
                "xen/arch/ppc/xen.lds.S",
                41
            ),
        ])
    );
    let (_, got) = review("shadowed-section.mbox");
    assert_eq!(
        got,
        want(&[(
            "shadowed-input-section",
            "x86_64",
            "defconfig,livepatch",
            "xen/arch/x86/xen.lds.S",
            44
        )])
    );
}

#[test]
fn a_misspelt_config_symbol_in_c_code() {
    let (v, got) = review("typo-config-symbol.mbox");
    assert_eq!(
        got,
        want(&[(
            "unknown-config-symbol",
            "",
            "",
            "xen/arch/x86/livepatch.c",
            28
        )])
    );
    let f = &v["findings"][0];
    assert!(f["message"].as_str().unwrap().contains("CONIFG_XEN_IBT"));
    assert!(f["message"]
        .as_str()
        .unwrap()
        .contains("did you mean CONFIG_XEN_IBT"));
    assert_eq!(f["patch"]["patch"], 1);
    // a C-only series rebuilds nothing
    assert!(v["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["how"] == "reused"));
}

#[test]
fn the_text_review_and_fail_on() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = |extra: &[&str]| {
        common::patchbot()
            .arg("review")
            .arg(root.join("examples/section-end-missing.mbox"))
            .arg("--tree")
            .arg(root.join("examples/xen-tree"))
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("2 findings"), "{text}");
    assert!(
        text.contains(
            "warning [xen-section-end-align] ppc64 (livepatch) xen/arch/ppc/xen.lds.S:41"
        ),
        "{text}"
    );
    assert_eq!(run(&["--fail-on", "warning"]).status.code(), Some(1));
    assert_eq!(run(&["--fail-on", "error"]).status.code(), Some(0));
    assert_eq!(run(&["--fail-on", "bogus"]).status.code(), Some(2));
}

#[test]
fn a_series_that_does_not_apply_gets_a_review_saying_so() {
    let d = tempfile::tempdir().unwrap();
    let mbox = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/typo-config-symbol.mbox"),
    )
    .unwrap();
    // the file's context is not in the tree any more
    let broken = mbox.replace("\n     return size;\n }\n+", "\n     return sizes;\n }\n+");
    assert_ne!(broken, mbox, "the fixture changed: adjust this test");
    let p = d.path().join("broken.mbox");
    std::fs::write(&p, broken).unwrap();
    let out = common::patchbot()
        .arg("review")
        .arg(&p)
        .arg("--tree")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/xen-tree"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("does not apply"), "{text}");
}

/// Every built-in rule's examples give exactly the findings they list (the Xen
/// rules and the Linux-shaped ones, which are the same check kinds as data);
/// an example whose expectation is wrong makes `rules test` fail.
#[test]
fn rules_test_passes_and_catches_a_wrong_expectation() {
    let out = common::patchbot().args(["rules", "test"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("linux-sibling-pattern") && text.contains("xen-sibling-pattern"));
    assert!(!text.contains("FAIL"), "{text}");
    let total = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("examples: ")?
                .strip_suffix(" passed, 0 failed")
        })
        .and_then(|n| n.parse::<usize>().ok())
        .expect("the summary line");
    assert_eq!(total, text.lines().filter(|l| l.starts_with("ok ")).count());
    let list = String::from_utf8(
        common::patchbot()
            .args(["rules", "list"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(list.lines().count(), 8, "{list}");
    // a copy of the rules with one expectation moved by a line
    let d = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    for e in std::fs::read_dir(&src).unwrap().flatten() {
        if e.path().extension().is_some_and(|x| x == "toml") {
            std::fs::copy(e.path(), d.path().join(e.file_name())).unwrap();
        }
    }
    let p = d.path().join("xen-sibling-pattern.toml");
    let t = std::fs::read_to_string(&p).unwrap();
    let broken = t.replacen("line = 5", "line = 6", 1);
    assert_ne!(t, broken);
    std::fs::write(&p, broken).unwrap();
    let out = common::patchbot()
        .args(["rules", "test", "--rules"])
        .arg(d.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("FAIL xen-sibling-pattern"), "{text}");
    assert!(
        text.contains(&format!("examples: {} passed, 1 failed", total - 1)),
        "{text}"
    );
}

/// The email rendering, compared with the committed snapshots (regenerate with
/// `UPDATE_SNAPSHOTS=1 cargo test --test review`).
#[test]
fn email_snapshots() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (series, snap) in [
        ("xen-function-alignment.mbox", "review-email-seed.txt"),
        ("typo-config-symbol.mbox", "review-email-typo.txt"),
    ] {
        let out = common::patchbot()
            .arg("review")
            .arg(root.join("examples").join(series))
            .arg("--tree")
            .arg(root.join("examples/xen-tree"))
            .args(["--format", "email"])
            .output()
            .unwrap();
        assert!(out.status.success());
        let got = String::from_utf8(out.stdout).unwrap();
        let path = root.join("tests/snapshots").join(snap);
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::write(&path, &got).unwrap();
        }
        let want = std::fs::read_to_string(&path).unwrap();
        assert_eq!(got, want, "{snap} differs (UPDATE_SNAPSHOTS=1 to accept)");
        // what the reply must carry, whatever the wording
        assert!(got.contains("\nAuto-Submitted: auto-generated\n"));
        assert!(got.contains("\nIn-Reply-To: <"));
        assert!(got.contains("\nSubject: Re: "));
        assert!(got.contains("base commit "));
        assert!(got.contains("\n-- \n"));
        // the signature says how to silence a rule
        assert!(got.contains("to .patchbot-ignore"));
    }
    let seed = std::fs::read_to_string(root.join("tests/snapshots/review-email-seed.txt")).unwrap();
    // To the author, Cc the maintainers MAINTAINERS names for the touched files and the list
    assert!(seed.contains("To: Rosa Pérez Molina <rosa.perez@example.org>\n"));
    for cc in [
        "Priya Raman <priya.raman@example.com>",
        "Tomasz Wrobel <tomasz.wrobel@example.com>",
        "xen-devel@lists.xenproject.org",
    ] {
        assert!(seed.contains(cc), "{cc}");
    }
    // the patch lines the no-value finding is about are quoted once
    assert_eq!(
        seed.matches("> +CFLAGS += -falign-functions=$(CONFIG_FUNCTION_ALIGNMENT)")
            .count(),
        1
    );
}

#[test]
fn codequality_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for series in ["xen-function-alignment.mbox", "typo-config-symbol.mbox"] {
        let (v, _) = review(series);
        let cq = common::json_of(
            common::patchbot()
                .arg("review")
                .arg(root.join("examples").join(series))
                .arg("--tree")
                .arg(root.join("examples/xen-tree"))
                .args(["--format", "codequality"]),
        );
        let issues = cq.as_array().unwrap();
        let findings = v["findings"].as_array().unwrap();
        assert_eq!(issues.len(), findings.len(), "{series}");
        for (i, f) in issues.iter().zip(findings) {
            assert_eq!(i["type"], "issue");
            assert_eq!(i["check_name"], f["rule"]);
            assert_eq!(i["description"], f["message"]);
            assert_eq!(i["fingerprint"], f["fingerprint"]);
            assert_eq!(i["location"]["path"], f["location"]["file"]);
            assert_eq!(i["location"]["lines"]["begin"], f["location"]["line"]);
            let want = match f["severity"].as_str().unwrap() {
                "error" => "major",
                "warning" => "minor",
                _ => "info",
            };
            assert_eq!(i["severity"], want, "{series}");
        }
    }
}

#[test]
fn sarif_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let v = common::json_of(
        common::patchbot()
            .arg("review")
            .arg(root.join("examples/section-end-missing.mbox"))
            .arg("--tree")
            .arg(root.join("examples/xen-tree"))
            .args(["--format", "sarif"]),
    );
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "patchbot");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"xen-section-end-align") && ids.contains(&"xen-sibling-pattern"));
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(rules.len(), 2, "{rules:?}");
    let loc = &results[0]["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "xen/arch/ppc/xen.lds.S");
    assert_eq!(loc["region"]["startLine"], 41);
}

/// Silencing: a profile's rule settings (off, paths, severity) and the tree's
/// `.patchbot-ignore`, read from the base tree only, so a series cannot
/// silence its own review.
#[test]
fn silencing_by_profile_settings_and_the_base_trees_ignore_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                copy(&p, &to.join(e.file_name()));
            } else {
                std::fs::copy(&p, to.join(e.file_name())).unwrap();
            }
        }
    }
    let review_with = |tree: &Path, cfg: Option<&Path>| {
        let mut c = common::patchbot();
        if let Some(cfg) = cfg {
            c.arg("--config").arg(cfg);
        }
        common::json_of(
            c.arg("review")
                .arg(root.join("examples/xen-function-alignment.mbox"))
                .arg("--tree")
                .arg(tree)
                .arg("--json"),
        )
    };
    let rules_of = |v: &serde_json::Value| -> Vec<String> {
        let mut r: Vec<String> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{} {}",
                    f["rule"].as_str().unwrap(),
                    f["severity"].as_str().unwrap()
                )
            })
            .collect();
        r.sort();
        r
    };
    // the ignore file in the base tree silences a rule, and one path of another
    let d = tempfile::tempdir().unwrap();
    copy(&root.join("examples/xen-tree"), d.path());
    std::fs::write(
        d.path().join(".patchbot-ignore"),
        "# answered on the list\nxen-symbol-without-value\nxen-sibling-pattern xen/arch/ppc/*\n",
    )
    .unwrap();
    let v = review_with(d.path(), None);
    assert_eq!(rules_of(&v), ["xen-sibling-pattern note"]);
    assert_eq!(v["findings"][0]["arch"][0], "riscv64");
    assert_eq!(v["silenced"], 3);
    // a profile setting: the sibling rule off, the no-value rule a warning
    let cfgdir = tempfile::tempdir().unwrap();
    let mut text =
        String::from_utf8(common::patchbot().arg("config").output().unwrap().stdout).unwrap();
    text.push_str("\n[profiles.xen.rules.xen-sibling-pattern]\nenabled = false\n[profiles.xen.rules.xen-symbol-without-value]\nseverity = \"warning\"\n");
    let cfg = cfgdir.path().join("config.toml");
    std::fs::write(&cfg, text).unwrap();
    let v = review_with(&root.join("examples/xen-tree"), Some(&cfg));
    assert_eq!(
        rules_of(&v),
        [
            "xen-symbol-without-value warning",
            "xen-symbol-without-value warning"
        ]
    );
    // an ignore file the series itself adds does not count: only the base's is read
    let d2 = tempfile::tempdir().unwrap();
    let mbox = std::fs::read_to_string(root.join("examples/typo-config-symbol.mbox")).unwrap();
    let add_ignore = "diff --git a/.patchbot-ignore b/.patchbot-ignore\nnew file mode 100644\nindex 0000000000000..1111111111111\n--- /dev/null\n+++ b/.patchbot-ignore\n@@ -0,0 +1 @@\n+unknown-config-symbol\n";
    let mbox = mbox.replacen(
        "diff --git a/xen/arch/x86/livepatch.c",
        &format!("{add_ignore}diff --git a/xen/arch/x86/livepatch.c"),
        1,
    );
    std::fs::write(d2.path().join("s.mbox"), mbox).unwrap();
    let v = common::json_of(
        common::patchbot()
            .arg("review")
            .arg(d2.path().join("s.mbox"))
            .arg("--tree")
            .arg(root.join("examples/xen-tree"))
            .arg("--json"),
    );
    assert_eq!(
        v["apply"]["patches"][0]["result"], "applied",
        "{}",
        v["apply"]
    );
    assert_eq!(rules_of(&v), ["unknown-config-symbol warning"]);
}

/// The changed lines of a unified diff (its `+`/`-` lines, headers left out),
/// with runs of white space made one.
fn changed_lines(diff: &str) -> Vec<String> {
    diff.lines()
        .filter(|l| !l.starts_with("+++ ") && !l.starts_with("--- "))
        .filter(|l| l.starts_with('+') || l.starts_with('-'))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn show_outputs_diffs_each_output_base_to_patched() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = |series: &str, extra: &[&str]| {
        common::patchbot()
            .arg("review")
            .arg(root.join("examples").join(series))
            .arg("--tree")
            .arg(root.join("examples/xen-tree"))
            .arg("--show-outputs")
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run("xen-function-alignment.mbox", &["--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let diffs = v["output_diffs"].as_array().unwrap();
    assert_eq!(diffs.len(), 10);
    let get = |arch: &str, variant: &str| {
        diffs
            .iter()
            .find(|d| d["arch"] == arch && d["variant"] == variant)
            .unwrap()
    };
    // x86_64 gets the new symbols and the ALIGN the series adds to its script
    let x86 = get("x86_64", "defconfig");
    let config = x86["config"].as_str().unwrap();
    assert!(config.starts_with(
        "--- base/x86_64/defconfig/.config\n+++ patched/x86_64/defconfig/.config\n@@ "
    ));
    assert_eq!(
        changed_lines(config),
        [
            "+CONFIG_CC_HAS_FUNCTION_ALIGNMENT=y",
            "+CONFIG_FUNCTION_ALIGNMENT_16B=y",
            "+CONFIG_FUNCTION_ALIGNMENT=16"
        ]
    );
    assert_eq!(
        changed_lines(x86["script"].as_str().unwrap()),
        ["+ . = ALIGN(16);"]
    );
    assert_eq!(
        changed_lines(get("arm32", "livepatch")["script"].as_str().unwrap()),
        ["+ . = ALIGN(4);"]
    );
    // riscv64 was left out of the series: its script is the same, and its
    // .config has no FUNCTION_ALIGNMENT value
    let rv = get("riscv64", "defconfig");
    assert!(rv["script"].is_null(), "{rv}");
    if let Some(c) = rv["config"].as_str() {
        assert!(!c.contains("+CONFIG_FUNCTION_ALIGNMENT="), "{c}");
    }

    // a C-only series: every output is the base's, and the text says so
    let out = run("typo-config-symbol.mbox", &[]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Outputs, base to patched:"), "{text}");
    assert_eq!(
        text.matches(": unchanged (reused from the base)\n").count(),
        10,
        "{text}"
    );
    assert!(!text.contains("\n--- base/"), "{text}");

    // the email and SARIF forms have no place for the diffs
    let out = run("typo-config-symbol.mbox", &["--format", "email"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--show-outputs"));
}
