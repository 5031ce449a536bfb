//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The patchbot binary built for these tests, with a clean environment.
pub fn patchbot() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_patchbot"));
    c.env_remove("PATCHBOT_CONFIG");
    c
}

pub fn git_available() -> bool {
    Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
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
