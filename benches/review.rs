//! Benchmark: `patchbot review` end to end (assemble, apply, rebuild the base
//! and the patched tree for every architecture x variant, run the rules), warm,
//! on the bundled seed-like example; and, with `PATCHBOT_XEN_TREE` naming a
//! clone of xen.git, on one real commit of a tree of Xen's size (5
//! architectures x 2 variants, base and patched). Target: under 300 ms each.
//! The binary is the release build of this crate. Each is timed warm (the base
//! read from a filled on-disk cache: the re-run, or the next series on the same
//! base) and with --no-cache (the base built every time).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn time(args: &[&str], rounds: usize, cache: &Path) -> (Duration, Duration) {
    let bin = env!("CARGO_BIN_EXE_patchbot");
    let run = || {
        Command::new(bin)
            .args(args)
            .env_remove("PATCHBOT_NO_CACHE")
            .env("PATCHBOT_CACHE_DIR", cache)
            .output()
            .unwrap()
    };
    // warm: the first run fills the page cache (and the cache of base results)
    let first = run();
    assert!(
        matches!(first.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let mut t: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            let out = run();
            assert!(matches!(out.status.code(), Some(0 | 1)));
            start.elapsed()
        })
        .collect();
    t.sort();
    (t[t.len() / 2], t[0])
}

/// Time a review warm (base from the cache) and with --no-cache; print both.
fn both(what: &str, args: &[&str], rounds: usize) {
    let cache = tempfile::tempdir().unwrap();
    let (wm, wb) = time(args, rounds, cache.path());
    let no_cache: Vec<&str> = args.iter().copied().chain(["--no-cache"]).collect();
    let (nm, nb) = time(&no_cache, rounds, cache.path());
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "review of {what}: warm (base from the cache) median {:.0} ms, best {:.0} ms; \
         --no-cache median {:.0} ms, best {:.0} ms (target 300 ms)",
        ms(wm),
        ms(wb),
        ms(nm),
        ms(nb)
    );
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mbox = root.join("examples/xen-function-alignment.mbox");
    let tree = root.join("examples/xen-tree");
    both(
        "the seed-like example (4 patches, 5 arches x 2 variants, base and patched)",
        &[
            "review",
            mbox.to_str().unwrap(),
            "--tree",
            tree.to_str().unwrap(),
        ],
        15,
    );
    match std::env::var("PATCHBOT_XEN_TREE") {
        Err(_) => println!("real Xen tree: skipped (set PATCHBOT_XEN_TREE to a clone of xen.git)"),
        Ok(xen) => {
            // a commit that changes two architectures' scripts (ppc's bug frames)
            let commit =
                std::env::var("PATCHBOT_BENCH_COMMIT").unwrap_or_else(|_| "629dd78c36".into());
            let range = format!("{commit}~1..{commit}");
            both(
                &format!("{commit} on {xen}"),
                &["review", &range, "--tree", &xen],
                7,
            );
        }
    }
}
