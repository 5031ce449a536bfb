//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The patchbot binary built for these tests, with a clean environment.
pub fn patchbot() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_patchbot"));
    c.env_remove("PATCHBOT_CONFIG");
    // no on-disk cache of base results unless a test asks for one
    // (tests/cache.rs): every other review builds its base
    c.env("PATCHBOT_NO_CACHE", "1")
        .env_remove("PATCHBOT_CACHE_DIR");
    c
}

pub fn git_available() -> bool {
    let ok = Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    reference_tool("git", ok)
}

/// Whether a reference tool a test compares against is here. Outside CI a
/// missing tool skips the comparison (with a note); in CI (`CI` set, as
/// `.ci/run` runs) it is a failure, so a missing install cannot pass as green.
pub fn reference_tool(name: &str, available: bool) -> bool {
    if !available {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is missing; .ci/run must install it"
        );
        eprintln!("{name} is not installed; skipping the comparison with it");
    }
    available
}

/// Run a command that must succeed; its standard output, trimmed.
pub fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Run a patchbot command that must succeed and print JSON; the JSON.
pub fn json_of(cmd: &mut Command) -> serde_json::Value {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// Run `patchbot series --json` over inputs and parse the output.
pub fn series_json(inputs: &[&Path]) -> (serde_json::Value, i32) {
    let out = patchbot()
        .arg("series")
        .arg("--json")
        .args(inputs)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "bad JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out.status.code().unwrap_or(-1))
}
