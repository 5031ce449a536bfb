//! The linker-script pipeline on a real Xen work tree (opt-in: set
//! `PATCHBOT_XEN_TREE`): for every architecture and variant of the built-in
//! `xen` profile, `lds::build` (the Kconfig result as autoconf.h, the recipe of
//! xen/Rules.mk, the predefines table) gives the tokens Debian's gcc 12 cross
//! compiler gives with the same recipe, and the result parses.

use std::path::Path;
use std::process::Command;

use patchbot::config::Config;
use patchbot::tree::vfs::DirVfs;

/// Words (`[A-Za-z0-9_.$]+`) and single other characters; white space ignored.
fn tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$') {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        if !c.is_whitespace() {
            out.push(c.to_string());
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// The target compiler and the flags `scripts/cpp-predefines.py` used for its table.
fn compiler(target: &str) -> (&'static str, &'static str) {
    match target {
        "x86_64" => ("gcc", "-m64 -msoft-float"),
        "aarch64" => ("aarch64-linux-gnu-gcc", "-mcpu=generic -mgeneral-regs-only"),
        "arm" => (
            "arm-linux-gnueabihf-gcc",
            "-marm -msoft-float -mcpu=cortex-a15 -mno-unaligned-access",
        ),
        "riscv64" => (
            "riscv64-linux-gnu-gcc",
            "-mabi=lp64 -march=rv64imac_zicsr_zifencei -mstrict-align -mcmodel=medany",
        ),
        _ => (
            "powerpc64le-linux-gnu-gcc",
            "-m64 -mlittle-endian -mcpu=power9 -mstrict-align -mcmodel=medium -mabi=elfv2 -fPIC -mno-altivec -mno-vsx -msoft-float",
        ),
    }
}

#[test]
fn every_architecture_matches_the_cross_compiler() {
    let Ok(tree) = std::env::var("PATCHBOT_XEN_TREE") else {
        eprintln!("skipped: set PATCHBOT_XEN_TREE to a Xen work tree");
        return;
    };
    let root = Path::new(&tree);
    let cfg = Config::builtin();
    let prof = &cfg.profiles["xen"];
    let tc = &cfg.toolchains[&prof.toolchain];
    let recipe = prof.lds.as_ref().unwrap();
    let vfs = DirVfs::new(root).unwrap();
    let mut compared = 0;
    for a in &prof.arches {
        let (cc, flags) = compiler(a.target.as_deref().unwrap());
        if Command::new(cc).arg("--version").output().is_err() {
            eprintln!("skipped {}: {cc} not installed", a.name);
            continue;
        }
        let variants: Vec<(&str, &str)> = prof
            .variants
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let Some(evals) = patchbot::kconfig::evaluate(&vfs, prof, tc, a, &variants).unwrap() else {
            eprintln!("skipped {}: not in this tree", a.name);
            continue;
        };
        for e in evals {
            let built = patchbot::lds::build(&vfs, prof, tc, a, &e.autoconf)
                .unwrap_or_else(|err| panic!("{} {}: {err}", a.name, e.variant));
            if let Err(err) = &built.parsed {
                panic!("{} {}: does not parse: {err:?}", a.name, e.variant);
            }
            // the same recipe for gcc, with the autoconf.h in a scratch directory
            let gen = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(gen.path().join("generated")).unwrap();
            std::fs::write(gen.path().join("generated/autoconf.h"), &e.autoconf).unwrap();
            let mut c = Command::new(cc);
            c.arg("-nostdinc").args(flags.split_whitespace());
            c.args(["-E", "-P", "-x", "assembler-with-cpp"]);
            c.arg("-I").arg(gen.path());
            let x = |p: &str| root.join(prof.tree_path(&p.replace("{srcarch}", &a.srcarch)));
            for d in &recipe.include_dirs {
                c.arg("-I").arg(x(d));
            }
            for f in &recipe.forced_includes {
                c.arg("-include").arg(x(f));
            }
            for d in recipe.defines.iter().chain(&a.lds_defines) {
                match d.strip_prefix("-U") {
                    Some(u) => c.arg(format!("-U{u}")),
                    None => c.arg(format!("-D{d}")),
                };
            }
            c.arg(x(&recipe.script));
            let out = c.output().unwrap();
            assert!(
                out.status.success(),
                "{cc} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let theirs = tokens(&String::from_utf8_lossy(&out.stdout));
            let ours = tokens(&built.cpp.text);
            if ours != theirs {
                let at = ours
                    .iter()
                    .zip(&theirs)
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                panic!(
                    "{} {}: differs at token {at}: ours {:?}, gcc {:?}",
                    a.name,
                    e.variant,
                    &ours[at.saturating_sub(5)..(at + 10).min(ours.len())],
                    &theirs[at.saturating_sub(5)..(at + 10).min(theirs.len())]
                );
            }
            compared += 1;
        }
    }
    eprintln!("compared {compared} architecture x variant scripts");
}
