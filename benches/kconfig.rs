//! Benchmark: evaluate a tree of Xen's size (30 Kconfig files, 300 symbols) for
//! 5 architectures x 2 variants, in-process on one core. Target: under 20 ms for
//! all ten. For reference, the real `conf --defconfig` (Debian linux-kbuild-6.1)
//! on the same tree is timed in the same run when installed.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use patchbot::config::{ArchProfile, Profile, ToolchainConfig};
use patchbot::tree::vfs::DirVfs;

const ARCHES: [(&str, &str); 5] = [
    ("x86_64", "x86"),
    ("arm64", "arm"),
    ("arm32", "arm"),
    ("riscv64", "riscv"),
    ("ppc64", "ppc"),
];

fn write(root: &Path, p: &str, c: &str) {
    let f = root.join(p);
    std::fs::create_dir_all(f.parent().unwrap()).unwrap();
    std::fs::write(f, c).unwrap();
}

/// 30 files: the root, 5 arch files, 24 subsystem files of 12 symbols each.
fn build(root: &Path) {
    let mut top = String::from("mainmenu \"Bench/$(SRCARCH)\"\n\nconfig FUNCTION_ALIGNMENT_4B\n\tbool\nconfig FUNCTION_ALIGNMENT_16B\n\tbool\nconfig FUNCTION_ALIGNMENT\n\tint\n\tdefault 16 if FUNCTION_ALIGNMENT_16B\n\tdefault 4 if FUNCTION_ALIGNMENT_4B\n\nconfig LIVEPATCH\n\tbool \"livepatch\"\n\tdepends on HAS_LIVEPATCH\nconfig HAS_LIVEPATCH\n\tbool\n\nsource \"arch/$(SRCARCH)/Kconfig\"\n");
    for s in 0..24 {
        top.push_str(&format!("source \"sub{s}/Kconfig\"\n"));
        let mut k = format!("menu \"Subsystem {s}\"\n");
        for i in 0..12 {
            let n = format!("S{s}_{i}");
            match i % 4 {
                0 => k.push_str(&format!("config {n}\n\tbool \"{n}\"\n\tdefault y if !S{s}_{}\n\thelp\n\t  Help for {n}.\n\n", (i + 2).min(10))),
                1 => k.push_str(&format!("config {n}\n\tint \"{n}\"\n\trange 1 100\n\tdefault {} if S{s}_0\n\n", i * 3)),
                2 => k.push_str(&format!("config {n}\n\tbool\n\tselect S{s}_4 if S{s}_0 && LIVEPATCH\n\n")),
                _ => k.push_str(&format!("config {n}\n\tstring \"{n}\"\n\tdefault \"v{i}\" if FUNCTION_ALIGNMENT > 8\n\n")),
            }
        }
        k.push_str("endmenu\n");
        write(root, &format!("xen/sub{s}/Kconfig"), &k);
    }
    write(root, "xen/Kconfig", &top);
    for (name, src) in ARCHES {
        let sel = if src == "x86" {
            "\tselect FUNCTION_ALIGNMENT_16B\n\tselect HAS_LIVEPATCH\n"
        } else if src == "arm" {
            "\tselect FUNCTION_ALIGNMENT_4B\n\tselect HAS_LIVEPATCH\n"
        } else {
            ""
        };
        write(
            root,
            &format!("xen/arch/{src}/Kconfig"),
            &format!("config ARCH_{}\n\tdef_bool y\n{sel}", src.to_uppercase()),
        );
        write(
            root,
            &format!("xen/arch/{src}/configs/{name}_defconfig"),
            "CONFIG_S0_1=42\n",
        );
    }
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let profile = Profile {
        markers: vec![],
        srctree: "xen".into(),
        kconfig: "Kconfig".into(),
        dialect: "linux-6.1".into(),
        toolchain: "t".into(),
        env: BTreeMap::new(),
        env_from_makefile: None,
        arches: ARCHES
            .iter()
            .map(|(n, s)| ArchProfile {
                name: n.to_string(),
                srcarch: s.to_string(),
                defconfig: format!("arch/{s}/configs/{n}_defconfig"),
                defconfig_fallbacks: Vec::new(),
                target: None,
                env: BTreeMap::new(),
                lds_defines: Vec::new(),
            })
            .collect(),
        variants: [
            ("defconfig".to_string(), String::new()),
            ("livepatch".to_string(), "CONFIG_LIVEPATCH=y".to_string()),
        ]
        .into_iter()
        .collect(),
        lds: None,
        rules: BTreeMap::new(),
    };
    let tc = ToolchainConfig {
        predefines: None,
        probe_default: "y".into(),
        probes: BTreeMap::new(),
        shell: BTreeMap::new(),
        targets: BTreeMap::new(),
    };
    let vfs = DirVfs::new(dir.path()).unwrap();
    let run_all = || {
        let mut n = 0;
        let variants: Vec<(&str, &str)> = profile
            .variants
            .iter()
            .map(|(v, o)| (v.as_str(), o.as_str()))
            .collect();
        for a in &profile.arches {
            for e in patchbot::kconfig::evaluate(&vfs, &profile, &tc, a, &variants)
                .unwrap()
                .unwrap()
            {
                n += e.symbols.len();
            }
        }
        n
    };
    let symbols = run_all();
    let mut best = f64::INFINITY;
    for _ in 0..20 {
        let t = Instant::now();
        std::hint::black_box(run_all());
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "tree: 30 Kconfig files, {} symbols per evaluation",
        symbols / 10
    );
    println!(
        "patchbot: 5 architectures x 2 variants in {:.2} ms (best of 20, one thread)",
        best * 1e3
    );
    println!(
        "target 20 ms: {}",
        if best < 0.020 { "met" } else { "NOT met" }
    );
    let conf = "/usr/lib/linux-kbuild-6.1/scripts/kconfig/conf";
    if Path::new(conf).exists() {
        let xen = dir.path().join("xen");
        let t = Instant::now();
        for (name, src) in ARCHES {
            for overlay in ["", "CONFIG_LIVEPATCH=y\n"] {
                let d = std::fs::read_to_string(
                    xen.join(format!("arch/{src}/configs/{name}_defconfig")),
                )
                .unwrap();
                std::fs::write(xen.join("bench_defconfig"), format!("{d}{overlay}")).unwrap();
                let st = Command::new(conf)
                    .current_dir(&xen)
                    .args(["-s", "--defconfig=bench_defconfig", "Kconfig"])
                    .env("SRCARCH", src)
                    .status()
                    .unwrap();
                assert!(st.success());
            }
        }
        let c = t.elapsed().as_secs_f64();
        println!(
            "conf --defconfig, same ten runs: {:.1} ms ({:.0}x patchbot)",
            c * 1e3,
            c / best
        );
    }
}
