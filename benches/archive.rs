//! Benchmark: read and assemble a large list archive.
//!
//! `cargo bench --bench archive` generates (once, cached under target/) an mboxrd
//! archive of 20,000 messages shaped like real list traffic (benches/gen_archive.py:
//! series with covers and replies, several encodings), then times, in the same
//! run, `patchbot series --json` over it against the Python baseline
//! (benches/baseline.py: `mailbox.mbox` + `email.message_from_binary_file` with
//! `policy.default`, reading Subject, From, Message-ID and the text/plain body).
//! It reports both times, their ratio (target: at least 20x), and patchbot's peak
//! memory per message (target: well under 1 KB).
//!
//! Environment: PATCHBOT_BENCH_MESSAGES (default 20000), PATCHBOT_BENCH_RUNS
//! (patchbot runs, best taken; default 5), PATCHBOT_BENCH_BASELINE_RUNS (default 1).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Run patchbot, count its output lines that start a series, and return
/// (wall seconds, peak RSS in KiB of that process alone, series count).
#[allow(clippy::zombie_processes)] // reaped by wait4 below, which also gives the rusage
fn run_patchbot(exe: &str, input: &Path) -> (f64, i64, usize) {
    use std::io::Read;
    let t = Instant::now();
    let mut child = Command::new(exe)
        .args(["series", "--json"])
        .arg(input)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run patchbot");
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    let mut status = 0;
    // SAFETY: wait4 writes only into the two out-parameters; the pid is our child,
    // reaped here instead of by std (which never waits on drop).
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        let r = libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut ru);
        assert_eq!(r, child.id() as libc::pid_t, "wait4 failed");
        ru
    };
    let secs = t.elapsed().as_secs_f64();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "patchbot series failed"
    );
    let series = out
        .split(|&c| c == b'\n')
        .filter(|l| l.starts_with(b"{\"title\""))
        .count();
    (secs, ru.ru_maxrss, series)
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let n = env_usize("PATCHBOT_BENCH_MESSAGES", 20_000);
    let runs = env_usize("PATCHBOT_BENCH_RUNS", 5).max(1);
    let baseline_runs = env_usize("PATCHBOT_BENCH_BASELINE_RUNS", 1).max(1);
    let dir = root.join("target").join("bench-archive");
    std::fs::create_dir_all(&dir).expect("create target/bench-archive");
    let mbox: PathBuf = dir.join(format!("archive-{n}.mbox"));
    if !mbox.exists() {
        eprintln!("generating {} ...", mbox.display());
        let st = Command::new("python3")
            .arg(root.join("benches/gen_archive.py"))
            .arg(&mbox)
            .arg(n.to_string())
            .status()
            .expect("python3 is needed to generate the archive");
        assert!(st.success(), "gen_archive.py failed");
    }
    let size = std::fs::metadata(&mbox).unwrap().len();
    let exe = env!("CARGO_BIN_EXE_patchbot");

    // The fixed cost: patchbot on an empty input.
    let empty = dir.join("empty.mbox");
    std::fs::write(&empty, b"").unwrap();
    let (_, empty_rss_kib, _) = run_patchbot(exe, &empty);

    let mut best = f64::INFINITY;
    let mut rss_kib = 0;
    let mut series_count = 0;
    for _ in 0..runs {
        let (secs, rss, count) = run_patchbot(exe, &mbox);
        best = best.min(secs);
        rss_kib = rss_kib.max(rss);
        series_count = count;
    }

    let mut baseline = f64::INFINITY;
    let mut baseline_msgs = 0;
    let mut baseline_errors = 0;
    for _ in 0..baseline_runs {
        let out = Command::new("python3")
            .arg(root.join("benches/baseline.py"))
            .arg(&mbox)
            .stderr(Stdio::inherit())
            .output()
            .expect("python3 is needed for the baseline");
        assert!(out.status.success(), "baseline.py failed");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("baseline JSON");
        baseline = baseline.min(v["seconds"].as_f64().unwrap());
        baseline_msgs = v["messages"].as_u64().unwrap();
        baseline_errors = v["errors"].as_u64().unwrap();
    }

    let ratio = baseline / best;
    let per_msg = (rss_kib - empty_rss_kib) as f64 * 1024.0 / n as f64;
    println!(
        "archive: {n} messages, {:.1} MB, {series_count} series",
        size as f64 / 1e6
    );
    println!(
        "patchbot series --json: {best:.3} s (best of {runs}), peak RSS {:.1} MiB, {:.1} MiB on an empty input",
        rss_kib as f64 / 1024.0,
        empty_rss_kib as f64 / 1024.0
    );
    println!("  memory growth: {per_msg:.0} bytes per message (target: well under 1 KB)");
    println!("python baseline:        {baseline:.3} s ({baseline_msgs} messages, {baseline_errors} errors)");
    println!(
        "speed-up: {ratio:.1}x (target 20x: {})",
        if ratio >= 20.0 { "met" } else { "NOT met" }
    );
}
