//! `patchbot lds` end to end on a small Xen-shaped tree written here: the
//! architecture's Kconfig result reaches the script through autoconf.h, every
//! statement is located in the `.lds.S` (and through the macros of the header
//! it came from), the recipe's stubs stand in for generated headers, and the
//! tree's confinement holds.

mod common;

use std::path::Path;

fn write(root: &Path, files: &[(&str, &str)]) {
    for (p, text) in files {
        let p = root.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

const TREE: &[(&str, &str)] = &[
    ("xen/Makefile", "export XEN_VERSION = 4\nexport XEN_SUBVERSION = 20\n"),
    (
        "xen/Kconfig",
        "mainmenu \"Example\"\nconfig CC_SPLIT_SECTIONS\n\tbool\nconfig ALIGN_16\n\tbool\nconfig FUNC_ALIGN\n\tint\n\tdefault 16 if ALIGN_16\nsource \"arch/$(SRCARCH)/Kconfig\"\nconfig LIVEPATCH\n\tbool \"livepatch\"\n\tselect CC_SPLIT_SECTIONS\n",
    ),
    ("xen/arch/x86/Kconfig", "config X86\n\tdef_bool y\n\tselect ALIGN_16\n"),
    ("xen/arch/riscv/Kconfig", "config RISCV\n\tdef_bool y\n"),
    ("xen/arch/x86/configs/x86_64_defconfig", ""),
    ("xen/arch/riscv/configs/riscv64_defconfig", ""),
    (
        "xen/include/xen/config.h",
        "#include <generated/autoconf.h>\n#define ALIGN .align 16\n",
    ),
    (
        "xen/include/xen/xen.lds.h",
        "#define TEXT_SECTIONS \\\n  *(.text) \\\n  *(.text.cold)\n",
    ),
    (
        "xen/arch/x86/xen.lds.S",
        "#include <xen/xen.lds.h>\n#include <asm/gen.h>\n#undef ALIGN\nSECTIONS\n{\n  .text : {\n    TEXT_SECTIONS\n#ifdef CONFIG_CC_SPLIT_SECTIONS\n    *(.text.*)\n#endif\n#ifdef CONFIG_FUNC_ALIGN\n    . = ALIGN(CONFIG_FUNC_ALIGN);\n#endif\n  }\n  .data : { *(.data) GEN_VALUE }\n}\n",
    ),
    (
        "xen/arch/riscv/xen.lds.S",
        "#include \"../../../../outside.h\"\nSECTIONS { .text : { *(.text) } }\n",
    ),
];

fn config_with_stub(dir: &Path) -> std::path::PathBuf {
    // the built-in configuration, plus a stub for the generated header
    let text =
        String::from_utf8(common::patchbot().arg("config").output().unwrap().stdout).unwrap();
    assert!(text.contains("[profiles.xen.lds.stubs]\n"), "{text}");
    let text = text.replacen(
        "[profiles.xen.lds.stubs]\n",
        "[profiles.xen.lds.stubs]\n\"arch/{srcarch}/include/asm/gen.h\" = \"#define GEN_VALUE LONG(7)\\n\"\n",
        1,
    );
    let p = dir.join("config.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn the_kconfig_result_reaches_the_script_and_statements_are_located() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), TREE);
    let cfgdir = tempfile::tempdir().unwrap();
    let cfg = config_with_stub(cfgdir.path());
    let run = |variant: &str, json: bool| {
        let mut c = common::patchbot();
        c.arg("--config")
            .arg(&cfg)
            .args(["lds", "--tree"])
            .arg(d.path());
        c.args(["--arch", "x86_64", "--variant", variant]);
        if json {
            c.arg("--json");
        }
        c.output().unwrap()
    };
    // defconfig: no CC_SPLIT_SECTIONS (LIVEPATCH off), FUNC_ALIGN 16 from the select
    let out = run("defconfig", false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("ALIGN(16)"), "{text}");
    assert!(!text.contains(".text.*"), "{text}");
    assert!(text.contains("LONG(7)"), "the stub: {text}");
    // livepatch: CC_SPLIT_SECTIONS selected, so the per-function sections are there
    let text = String::from_utf8(run("livepatch", false).stdout).unwrap();
    assert!(text.contains("*(.text.*)"), "{text}");

    let v: serde_json::Value = serde_json::from_slice(&run("livepatch", true).stdout).unwrap();
    assert_eq!(v["arch"], "x86_64");
    assert_eq!(v["script"], "xen/arch/x86/xen.lds.S");
    let text_sec = v["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == ".text")
        .unwrap();
    assert_eq!(text_sec["location"]["file"], "xen/arch/x86/xen.lds.S");
    assert_eq!(text_sec["location"]["line"], 6);
    let st = text_sec["statements"].as_array().unwrap();
    let by_text = |t: &str| {
        st.iter()
            .find(|s| s["text"] == t)
            .unwrap_or_else(|| panic!("{t} in {st:?}"))
    };
    // a statement from a macro: written in the header, expanded at line 7
    let cold = by_text("*(.text.cold)");
    assert_eq!(cold["location"]["file"], "xen/include/xen/xen.lds.h");
    assert_eq!(cold["location"]["line"], 3);
    assert_eq!(cold["location"]["expansion"][0]["macro"], "TEXT_SECTIONS");
    assert_eq!(
        cold["location"]["expansion"][0]["file"],
        "xen/arch/x86/xen.lds.S"
    );
    assert_eq!(cold["location"]["expansion"][0]["line"], 7);
    assert_eq!(by_text("*(.text.*)")["location"]["line"], 9);
    assert_eq!(by_text(". = ALIGN(16);")["location"]["line"], 12);
    assert_eq!(by_text("*(.text.*)")["dead"], false);
    // what the output depends on: the files read and the paths looked for
    let read: Vec<&str> = v["files_read"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert!(read.contains(&"xen/include/xen/xen.lds.h"), "{read:?}");
    assert!(
        read.contains(&"xen/include/generated/autoconf.h"),
        "{read:?}"
    );
}

#[test]
fn an_include_leaving_the_tree_and_a_missing_header_are_clear_errors() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), TREE);
    std::fs::write(d.path().join("outside.h"), "SECRET").unwrap();
    let out = common::patchbot()
        .args(["lds", "--tree"])
        .arg(d.path())
        .args(["--arch", "riscv64"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("xen/arch/riscv/xen.lds.S:1:"), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("SECRET"));
    // without the stub the generated header is missing, and the error says what to do
    let out = common::patchbot()
        .args(["lds", "--tree"])
        .arg(d.path())
        .args(["--arch", "x86_64"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("asm/gen.h") && err.contains("stubs"), "{err}");
    // an unknown architecture names the known ones
    let out = common::patchbot()
        .args(["lds", "--tree"])
        .arg(d.path())
        .args(["--arch", "sparc"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("x86_64"));
}

/// `patchbot kconfig --toolchain NAME` answers the probes from another table.
#[test]
fn kconfig_takes_another_toolchain() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), TREE);
    std::fs::write(
        d.path().join("xen/arch/x86/Kconfig"),
        "config X86\n\tdef_bool y\nconfig HAS_FANCY\n\tdef_bool $(cc-option,-mfancy)\n",
    )
    .unwrap();
    let cfgdir = tempfile::tempdir().unwrap();
    let mut text =
        String::from_utf8(common::patchbot().arg("config").output().unwrap().stdout).unwrap();
    text.push_str("\n[toolchains.nothing]\nprobe_default = \"n\"\n");
    let cfg = cfgdir.path().join("config.toml");
    std::fs::write(&cfg, text).unwrap();
    let value = |tc: Option<&str>| {
        let mut c = common::patchbot();
        c.arg("--config")
            .arg(&cfg)
            .args(["kconfig", "--tree"])
            .arg(d.path());
        c.args([
            "--arch",
            "x86_64",
            "--variant",
            "defconfig",
            "--symbol",
            "HAS_FANCY",
            "--json",
        ]);
        if let Some(t) = tc {
            c.args(["--toolchain", t]);
        }
        let v = common::json_of(&mut c);
        v["results"][0]["symbols"]["HAS_FANCY"].clone()
    };
    // gcc-12 does not know -mfancy: its declared default (y), reported as guessed
    assert_eq!(value(None), "y");
    assert_eq!(value(Some("nothing")), serde_json::Value::Null);
    let out = common::patchbot()
        .arg("--config")
        .arg(&cfg)
        .args(["kconfig", "--tree"])
        .arg(d.path())
        .args(["--toolchain", "missing"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("gcc-12"));
}
