//! Rebuilding only what a series can change: outputs whose inputs (files read,
//! paths looked for and not found) the series does not touch are the base's.

use std::collections::BTreeSet;
use std::path::Path;

use patchbot::config::Config;
use patchbot::rebuild::{self, How};
use patchbot::tree::vfs::DirVfs;

fn write(root: &Path, files: &[(&str, &str)]) {
    for (p, text) in files {
        let p = root.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

const TREE: &[(&str, &str)] = &[
    ("xen/Makefile", "export XEN_VERSION = 4\n"),
    (
        "xen/Kconfig",
        "config ALIGN_16\n\tbool\nconfig FUNC_ALIGN\n\tint\n\tdefault 16 if ALIGN_16\nsource \"arch/$(SRCARCH)/Kconfig\"\nconfig LIVEPATCH\n\tbool \"livepatch\"\n",
    ),
    ("xen/arch/x86/Kconfig", "config X86\n\tdef_bool y\n\tselect ALIGN_16\n"),
    ("xen/arch/riscv/Kconfig", "config RISCV\n\tdef_bool y\n"),
    ("xen/arch/x86/configs/x86_64_defconfig", ""),
    ("xen/arch/riscv/configs/riscv64_defconfig", ""),
    ("xen/include/xen/config.h", "#include <generated/autoconf.h>\n"),
    ("xen/include/xen/lds.h", "#define TEXT *(.text)\n"),
    (
        "xen/arch/x86/xen.lds.S",
        "#include <xen/lds.h>\n#include <asm/extra.h>\nSECTIONS { .text : { TEXT EXTRA } }\n",
    ),
    ("xen/arch/x86/include/asm/extra.h", "#define EXTRA *(.extra)\n"),
    (
        "xen/arch/riscv/xen.lds.S",
        "#include <xen/lds.h>\nSECTIONS { .text : { TEXT } }\n",
    ),
    ("xen/common/x.c", "int x;\n"),
];

fn touched(paths: &[&str]) -> BTreeSet<String> {
    paths.iter().map(|s| s.to_string()).collect()
}

/// Build the base, change the patched copy, rebuild; how each output was had,
/// per architecture (both variants agree).
fn how_after(change: &[(&str, &str)], paths: &[&str]) -> Vec<(String, How)> {
    let cfg = Config::builtin();
    let prof = &cfg.profiles["xen"];
    let tc = &cfg.toolchains[&prof.toolchain];
    let b = tempfile::tempdir().unwrap();
    write(b.path(), TREE);
    let p = tempfile::tempdir().unwrap();
    write(p.path(), TREE);
    write(p.path(), change);
    let base = rebuild::build(&DirVfs::new(b.path()).unwrap(), prof, tc).unwrap();
    assert_eq!(base.outputs.len(), 4, "{:?}", base.notes);
    let patched = rebuild::rebuild(
        &DirVfs::new(p.path()).unwrap(),
        prof,
        tc,
        &base,
        &touched(paths),
    )
    .unwrap();
    // a reused output is identical to what building the patched tree gives
    let fresh = rebuild::build(&DirVfs::new(p.path()).unwrap(), prof, tc).unwrap();
    for (o, f) in patched.outputs.iter().zip(&fresh.outputs) {
        assert_eq!(
            o.kconfig.config, f.kconfig.config,
            "{} {}",
            o.arch, o.variant
        );
        let text = |x: &rebuild::Output| x.lds.as_ref().unwrap().as_ref().unwrap().cpp.text.clone();
        assert_eq!(text(o), text(f), "{} {}", o.arch, o.variant);
    }
    let mut v: Vec<(String, How)> = patched
        .outputs
        .iter()
        .zip(&patched.how)
        .map(|(o, h)| (o.arch.clone(), *h))
        .collect();
    v.dedup();
    v
}

#[test]
fn a_c_file_rebuilds_nothing() {
    let v = how_after(&[("xen/common/x.c", "int y;\n")], &["xen/common/x.c"]);
    assert_eq!(
        v,
        [
            ("x86_64".into(), How::Reused),
            ("riscv64".into(), How::Reused)
        ]
    );
}

#[test]
fn an_architecture_file_rebuilds_that_architecture() {
    let v = how_after(
        &[(
            "xen/arch/riscv/Kconfig",
            "config RISCV\n\tdef_bool y\n\tselect ALIGN_16\n",
        )],
        &["xen/arch/riscv/Kconfig"],
    );
    assert_eq!(
        v,
        [
            ("x86_64".into(), How::Reused),
            ("riscv64".into(), How::Built)
        ]
    );
    let v = how_after(
        &[(
            "xen/arch/x86/xen.lds.S",
            "#include <xen/lds.h>\nSECTIONS { .text : { TEXT *(.x) } }\n",
        )],
        &["xen/arch/x86/xen.lds.S"],
    );
    assert_eq!(
        v,
        [
            ("x86_64".into(), How::Built),
            ("riscv64".into(), How::Reused)
        ]
    );
}

#[test]
fn a_shared_header_or_kconfig_file_rebuilds_everything() {
    let v = how_after(
        &[("xen/include/xen/lds.h", "#define TEXT *(.text) *(.y)\n")],
        &["xen/include/xen/lds.h"],
    );
    assert_eq!(
        v,
        [
            ("x86_64".into(), How::Built),
            ("riscv64".into(), How::Built)
        ]
    );
    let v = how_after(
        &[(
            "xen/Kconfig",
            "config FUNC_ALIGN\n\tint\n\tdefault 8\nsource \"arch/$(SRCARCH)/Kconfig\"\n",
        )],
        &["xen/Kconfig"],
    );
    assert_eq!(
        v,
        [
            ("x86_64".into(), How::Built),
            ("riscv64".into(), How::Built)
        ]
    );
}

#[test]
fn a_new_header_earlier_on_the_include_path_rebuilds() {
    // <asm/extra.h> is looked for in xen/include before xen/arch/x86/include,
    // where it is: a new file there changes what the x86 script includes
    let v = how_after(
        &[("xen/include/asm/extra.h", "#define EXTRA *(.other)\n")],
        &["xen/include/asm/extra.h"],
    );
    assert_eq!(
        v,
        [
            ("x86_64".into(), How::Built),
            ("riscv64".into(), How::Reused)
        ]
    );
    // one later on the path changes nothing, and nothing is rebuilt
    let v = how_after(
        &[(
            "xen/arch/x86/include/generated/asm/extra.h",
            "#define EXTRA *(.later)\n",
        )],
        &["xen/arch/x86/include/generated/asm/extra.h"],
    );
    assert_eq!(
        v,
        [
            ("x86_64".into(), How::Reused),
            ("riscv64".into(), How::Reused)
        ]
    );
}
