//! The noise audit on real Xen history (opt-in: `PATCHBOT_XEN_TREE` names a
//! clone of xen.git). Reviews every commit of the audit's range against its
//! parent and compares the findings with the committed table
//! (`tests/audit/xen-2022-06-to-2023-12.md`): the same (commit, rule,
//! architectures) rows, rebuild failures counted apart, noise under 5%.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const TABLE: &str = include_str!("audit/xen-2022-06-to-2023-12.md");

#[test]
fn xen_history_audit() {
    let Ok(tree) = std::env::var("PATCHBOT_XEN_TREE") else {
        eprintln!("SKIPPED: set PATCHBOT_XEN_TREE to a clone of xen.git to run the noise audit");
        return;
    };
    let tree = Path::new(&tree);
    let log = Command::new("git")
        .arg("-C")
        .arg(tree)
        .args([
            "log",
            "--no-merges",
            "--reverse",
            "--format=%h",
            "--abbrev=10",
            "--since=2022-06-01",
            "--until=2023-12-31",
            "--",
            "xen/arch/*/xen.lds.S",
            "xen/include/xen/xen.lds.h",
            "xen/Kconfig*",
            "xen/*/Kconfig*",
        ])
        .output()
        .unwrap();
    assert!(log.status.success());
    let commits: Vec<String> = String::from_utf8_lossy(&log.stdout)
        .lines()
        .map(String::from)
        .collect();
    let mut rows = BTreeSet::new();
    let mut failures = Vec::new();
    for c in &commits {
        let out = common::patchbot()
            .arg("review")
            .arg(format!("{c}~1..{c}"))
            .arg("--tree")
            .arg(tree)
            .arg("--json")
            .output()
            .unwrap();
        if !matches!(out.status.code(), Some(0 | 1)) {
            failures.push(format!(
                "{c}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
            continue;
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        if v["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o.get("lds_error").is_some())
        {
            failures.push(format!("{c}: a linker script did not build"));
        }
        for f in v["findings"].as_array().unwrap() {
            let arch: Vec<&str> = f["arch"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            let arch = if arch.is_empty() {
                "-".to_string()
            } else {
                arch.join(",")
            };
            rows.insert((c.clone(), f["rule"].as_str().unwrap().to_string(), arch));
        }
    }
    // the committed table: | commit | rule | arch | verdict |
    let mut table = BTreeSet::new();
    let mut noisy = BTreeSet::new();
    for l in TABLE
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| commit") && !l.starts_with("| ---"))
    {
        let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
        table.insert((
            cells[0].to_string(),
            cells[1].to_string(),
            cells[2].to_string(),
        ));
        if cells[3] == "noise" {
            noisy.insert(cells[0].to_string());
        }
    }
    let with: BTreeSet<&String> = rows.iter().map(|r| &r.0).collect();
    eprintln!(
        "audit: {} commits reviewed, {} with findings, {} rebuild failures, {} noisy ({:.1}%)",
        commits.len(),
        with.len(),
        failures.len(),
        noisy.len(),
        100.0 * noisy.len() as f64 / commits.len().max(1) as f64
    );
    for f in &failures {
        eprintln!("  failure: {f}");
    }
    assert_eq!(rows, table, "the findings differ from the committed table");
    assert!(noisy.len() * 20 < commits.len(), "noise over 5%");
}
