//! The Kconfig evaluator against the real `conf` (Debian's `linux-kbuild-6.1`,
//! installed by `.ci/run`): on every fixture tree here, in `--alldefconfig` and
//! `--defconfig=FILE` modes, patchbot's `.config` equals conf's, byte for byte.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use patchbot::kconfig::eval::Kconfig;
use patchbot::kconfig::macros::{Macros, NoToolchain};
use patchbot::kconfig::parse::{Dialect, Parser};
use patchbot::tree::vfs::DirVfs;

const CONF: &str = "/usr/lib/linux-kbuild-6.1/scripts/kconfig/conf";

fn conf_available() -> bool {
    common::reference_tool("conf (linux-kbuild-6.1)", Path::new(CONF).exists())
}

/// Run the real conf in `dir` and return the .config it wrote.
fn real_conf(dir: &Path, mode: &[&str]) -> String {
    let out = Command::new(CONF)
        .current_dir(dir)
        .args(mode)
        .arg("Kconfig")
        .env_remove("srctree")
        .env_remove("KCONFIG_CONFIG")
        .env_remove("KCONFIG_ALLCONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "conf {mode:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = std::fs::read_to_string(dir.join(".config")).unwrap();
    std::fs::remove_file(dir.join(".config")).unwrap();
    c
}

/// Parse `dir/<srctree>/Kconfig` with no toolchain and the given environment.
fn load(dir: &Path, dialect: Dialect, srctree: &str, env: BTreeMap<String, String>) -> Kconfig {
    let vfs = DirVfs::new(dir).unwrap();
    let tc = NoToolchain;
    let parsed = Parser::new(&vfs, Macros::new(&tc, env), dialect)
        .with_srctree(srctree)
        .parse("Kconfig")
        .unwrap();
    Kconfig::new(&parsed)
}

fn ours(dir: &Path, defconfig: Option<&str>) -> (String, Kconfig) {
    let mut k = load(dir, Dialect::Linux61, "", BTreeMap::new());
    if let Some(d) = defconfig {
        k.read_config(d);
    }
    (k.config_text(), k)
}

fn fixture(kconfig: &str) -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().to_path_buf();
    std::fs::write(p.join("Kconfig"), kconfig).unwrap();
    (d, p)
}

const TREES: &[(&str, &str)] = &[
    (
        "types-and-defaults",
        r#"
config A
	bool "A"
	default y
config B
	int
	default 16 if A
config C
	int
config D
	int "D"
	range 4 64
config E
	tristate "E"
	depends on A
	default m
config H
	hex "H"
	default 0x10
config S
	string "S"
	default "he said \"hi\""
config HIDDEN_BOOL
	bool
	default y if C = 3
config CMP
	bool
	default y if B > 8 && B != 17 && H >= 0x10
"#,
    ),
    (
        "modules-and-tristate",
        r#"
config MODULES
	bool "modules"
	default y
	modules
config T1
	tristate "t1"
	default m
config T2
	tristate
	default y if T1
	default m
config T3
	bool "t3"
	default T1
"#,
    ),
    (
        "select-imply-menus",
        r#"
mainmenu "Test $(SRCARCH) tree"

config X86
	def_bool y
	select ARCH_HAS_FOO
	imply SPEEDUP

config ARCH_HAS_FOO
	bool

config SPEEDUP
	bool "speed up"

menu "Features"
	visible if !X86

config FEATURE_A
	bool "feature a"
	default y

comment "Debugging"
	depends on FEATURE_A

config FEATURE_B
	int "feature b"
	default 3
endmenu

menu "Hidden"
	depends on !X86
config NOT_THERE
	bool "nope"
	default y
endmenu

if ARCH_HAS_FOO
config FOO_LEVEL
	int
	default 2
endif

menuconfig DRIVERS
	bool "drivers"
	default y

config DRIVER_X
	bool "x"
	depends on DRIVERS
"#,
    ),
    (
        "choices",
        r#"
choice
	prompt "Mode"
	default MODE_B

config MODE_A
	bool "a"
config MODE_B
	bool "b"
config MODE_C
	bool "c"
endchoice

choice OPTIONAL_CHOICE
	prompt "Optional"
	optional

config OPT_A
	bool "opt a"
endchoice

choice
	prompt "Hidden choice"
	depends on MODE_A

config HID_A
	bool "hid a"
endchoice

config AFTER
	string "after"
	default "x" if MODE_B
"#,
    ),
    (
        "tristate-choices",
        r#"
config MODULES
	bool "modules"
	default y
	modules

config HELPER
	tristate
	default m

choice
	prompt "Codec"
	default CODEC_B

config CODEC_A
	tristate "codec a"

config CODEC_B
	tristate "codec b"
	depends on HELPER

config CODEC_C
	bool "codec c"

endchoice

choice
	prompt "Extra codecs"
	optional

config EXTRA_A
	tristate "extra a"

config EXTRA_B
	tristate "extra b"

endchoice

config AFTER_CODEC
	tristate "after"
	depends on CODEC_A
	imply HELPER2

config HELPER2
	tristate "helper 2"
	depends on HELPER
"#,
    ),
    (
        "xen-like-function-alignment",
        r#"
config X86
	def_bool y
	select FUNCTION_ALIGNMENT_16B

config FUNCTION_ALIGNMENT_4B
	bool
config FUNCTION_ALIGNMENT_8B
	bool
config FUNCTION_ALIGNMENT_16B
	bool
config FUNCTION_ALIGNMENT
	int
	default 16 if FUNCTION_ALIGNMENT_16B
	default  8 if FUNCTION_ALIGNMENT_8B
	default  4 if FUNCTION_ALIGNMENT_4B

config RISCV_ALIGNMENT
	int
	default 4 if FUNCTION_ALIGNMENT_4B

config LIVEPATCH
	bool "Live patching"
	default y
	depends on X86
"#,
    ),
    (
        "ranges",
        r#"
config ZERO_IN_RANGE
	int
	range 0 10
config SEES_ZERO_IN_RANGE
	bool
	default y if ZERO_IN_RANGE = 10
config SEES_EMPTY
	bool "no default, 0 in range: the value stays empty"
	default y if ZERO_IN_RANGE = ""
config BELOW
	int "no default, 0 below range: the minimum"
	range 1 8
config HEX_BOUND_TEXT
	hex "the bound's own text"
	range 0x0010 0x20
config ABOVE
	int "default above the range"
	range 1 8
	default 100
config LIMIT
	int
	default 6
config FROM_SYMBOL
	int "bounds from a symbol"
	range 2 LIMIT
	default 9
config WIDE
	bool "wide"
config COND
	int "the first active range counts"
	range 100 200 if WIDE
	range 1 4
	default 50
config NEG
	int "negative"
	range -5 -1
"#,
    ),
];

#[test]
fn alldefconfig_matches_conf_on_every_fixture() {
    if !conf_available() {
        eprintln!("{CONF} not installed; skipping the comparison with conf");
        return;
    }
    let mut failures = Vec::new();
    for (name, k) in TREES {
        let (_d, dir) = fixture(k);
        let theirs = real_conf(&dir, &["--alldefconfig"]);
        let (mine, _) = ours(&dir, None);
        if theirs != mine {
            failures.push(format!("{name}:\n--- conf\n{theirs}\n--- patchbot\n{mine}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn defconfig_input_matches_conf() {
    if !conf_available() {
        return;
    }
    let cases: &[(&str, &str)] = &[
        (
            "types-and-defaults",
            "CONFIG_D=100\nCONFIG_S=\"x\"\n# CONFIG_A is not set\n",
        ),
        (
            "types-and-defaults",
            "CONFIG_D=7\nCONFIG_H=0x20\nCONFIG_E=y\n",
        ),
        ("choices", "CONFIG_MODE_A=y\nCONFIG_OPT_A=y\n"),
        (
            "select-imply-menus",
            "# CONFIG_SPEEDUP is not set\n# CONFIG_DRIVERS is not set\n",
        ),
        ("modules-and-tristate", "# CONFIG_MODULES is not set\n"),
    ];
    let mut failures = Vec::new();
    for (name, defconfig) in cases {
        let k = TREES.iter().find(|(n, _)| n == name).unwrap().1;
        let (_d, dir) = fixture(k);
        std::fs::write(dir.join("defconfig"), defconfig).unwrap();
        let theirs = real_conf(&dir, &["--defconfig=defconfig"]);
        let (mine, _) = ours(&dir, Some(defconfig));
        if theirs != mine {
            failures.push(format!(
                "{name} with {defconfig:?}:\n--- conf\n{theirs}\n--- patchbot\n{mine}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn an_int_without_prompt_or_active_default_has_no_value() {
    // the seed story: RISC-V selects no FUNCTION_ALIGNMENT_* option
    let tree = TREES
        .iter()
        .find(|(n, _)| *n == "xen-like-function-alignment")
        .unwrap();
    let (_d, dir) = fixture(tree.1);
    let (_, mut k) = ours(&dir, None);
    let s = k.symbols();
    assert_eq!(s["FUNCTION_ALIGNMENT"], Some("16".to_string()));
    assert_eq!(s["RISCV_ALIGNMENT"], None, "not written at all");
    assert!(!k.autoconf_text().contains("RISCV_ALIGNMENT"));
    assert!(k
        .autoconf_text()
        .contains("#define CONFIG_FUNCTION_ALIGNMENT 16\n"));
}

/// A mini tree shaped like Xen's: `xen/Kconfig` sourcing `arch/$(SRCARCH)/Kconfig`,
/// per-architecture defconfigs, and the seed story's FUNCTION_ALIGNMENT.
const MINI_XEN: &[(&str, &str)] = &[
    (
        "xen/Kconfig",
        r#"mainmenu "Xen/$(SRCARCH) Configuration"

config FUNCTION_ALIGNMENT_4B
	bool
config FUNCTION_ALIGNMENT_8B
	bool
config FUNCTION_ALIGNMENT_16B
	bool
config FUNCTION_ALIGNMENT
	int
	default 16 if FUNCTION_ALIGNMENT_16B
	default  8 if FUNCTION_ALIGNMENT_8B
	default  4 if FUNCTION_ALIGNMENT_4B

source "arch/$(SRCARCH)/Kconfig"

config HAS_LIVEPATCH
	bool

config LIVEPATCH
	bool "Live patching support"
	depends on HAS_LIVEPATCH
	select FUNCTION_ALIGNMENT_16B if X86
"#,
    ),
    ("xen/arch/x86/Kconfig", "config X86\n\tdef_bool y\n\tselect HAS_LIVEPATCH\n\tselect FUNCTION_ALIGNMENT_16B if !DEBUG\n\nconfig DEBUG\n\tbool \"debug\"\n"),
    ("xen/arch/x86/configs/x86_64_defconfig", "CONFIG_DEBUG=n\n"),
    ("xen/arch/arm/Kconfig", "config ARM\n\tdef_bool y\n\tselect HAS_LIVEPATCH\n\tselect FUNCTION_ALIGNMENT_4B\n"),
    ("xen/arch/arm/configs/arm64_defconfig", ""),
    ("xen/arch/riscv/Kconfig", "config RISCV\n\tdef_bool y\n"),
    ("xen/arch/riscv/configs/tiny64_defconfig", ""),
    ("xen/arch/ppc/Kconfig", "config PPC\n\tdef_bool y\n"),
    ("xen/arch/ppc/configs/ppc64_defconfig", ""),
];

fn mini_xen() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (p, c) in MINI_XEN {
        let f = d.path().join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, c).unwrap();
    }
    d
}

/// Evaluate `arch` with its defconfig and an overlay, as patchbot does.
fn xen_eval(root: &Path, arch: &str, defconfig: &str, overlay: &str) -> Kconfig {
    let env = BTreeMap::from([("SRCARCH".to_string(), arch.to_string())]);
    let mut k = load(root, Dialect::Linux61, "xen", env);
    let base = std::fs::read_to_string(
        root.join("xen/arch")
            .join(arch)
            .join("configs")
            .join(defconfig),
    )
    .unwrap();
    k.read_config(&format!("{base}{overlay}"));
    k
}

#[test]
fn function_alignment_per_architecture_and_variant() {
    let d = mini_xen();
    let arches = [
        ("x86", "x86_64_defconfig"),
        ("arm", "arm64_defconfig"),
        ("riscv", "tiny64_defconfig"),
        ("ppc", "ppc64_defconfig"),
    ];
    let mut values = BTreeMap::new();
    for (arch, defconfig) in arches {
        for (variant, overlay) in [("defconfig", ""), ("livepatch", "CONFIG_LIVEPATCH=y\n")] {
            let mut k = xen_eval(d.path(), arch, defconfig, overlay);
            let s = k.symbols();
            values.insert(
                (arch, variant),
                (s["FUNCTION_ALIGNMENT"].clone(), s["LIVEPATCH"].clone()),
            );
            if conf_available() {
                // the same per-architecture run with the real conf
                let xen = d.path().join("xen");
                let combined = format!(
                    "{}{overlay}",
                    std::fs::read_to_string(
                        xen.join("arch").join(arch).join("configs").join(defconfig)
                    )
                    .unwrap()
                );
                std::fs::write(xen.join("combined_defconfig"), combined).unwrap();
                let out = Command::new(CONF)
                    .current_dir(&xen)
                    .args(["--defconfig=combined_defconfig", "Kconfig"])
                    .env("SRCARCH", arch)
                    .env_remove("srctree")
                    .env_remove("KCONFIG_CONFIG")
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let theirs = std::fs::read_to_string(xen.join(".config")).unwrap();
                assert_eq!(k.config_text(), theirs, "{arch} {variant}");
            }
        }
    }
    let v = |a, var| values[&(a, var)].clone();
    assert_eq!(v("x86", "defconfig").0.as_deref(), Some("16"));
    assert_eq!(v("arm", "defconfig").0.as_deref(), Some("4"));
    assert_eq!(v("riscv", "defconfig").0, None, "riscv has no value at all");
    assert_eq!(v("ppc", "livepatch").0, None, "ppc has no value at all");
    assert_eq!(v("x86", "livepatch").1.as_deref(), Some("y"));
    // the overlay cannot take effect on riscv: LIVEPATCH has no visible prompt there
    assert_eq!(v("riscv", "livepatch").1, None);
    let mut k = xen_eval(
        d.path(),
        "riscv",
        "tiny64_defconfig",
        "CONFIG_LIVEPATCH=y\n",
    );
    assert_eq!(
        k.overlay_misses("CONFIG_LIVEPATCH=y\n"),
        vec![("LIVEPATCH".to_string(), "y".to_string(), None)]
    );
    let mut k = xen_eval(d.path(), "x86", "x86_64_defconfig", "CONFIG_LIVEPATCH=y\n");
    assert!(k.overlay_misses("CONFIG_LIVEPATCH=y\n").is_empty());
}

fn patchbot_bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_patchbot"))
}

/// The mini tree with every file the built-in Xen profile looks for.
fn mini_xen_full() -> tempfile::TempDir {
    let d = mini_xen();
    for (p, c) in [
        ("xen/Makefile", "# marker\n"),
        ("xen/arch/arm/configs/arm32_defconfig", ""),
        ("xen/arch/riscv/configs/riscv64_defconfig", ""),
    ] {
        std::fs::write(d.path().join(p), c).unwrap();
    }
    d
}

#[test]
fn kconfig_command_reports_values_per_architecture_and_changes_between_revisions() {
    let d = mini_xen_full();
    let v = common::json_of(
        patchbot_bin()
            .args([
                "kconfig",
                "--json",
                "--symbol",
                "FUNCTION_ALIGNMENT",
                "--tree",
            ])
            .arg(d.path()),
    );
    assert_eq!(v["profile"], "xen");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 10, "5 architectures x 2 variants");
    let get = |arch: &str, variant: &str| {
        results
            .iter()
            .find(|r| r["arch"] == arch && r["variant"] == variant)
            .unwrap()["symbols"]["FUNCTION_ALIGNMENT"]
            .clone()
    };
    assert_eq!(get("x86_64", "defconfig"), "16");
    assert_eq!(get("arm64", "livepatch"), "4");
    assert!(get("riscv64", "defconfig").is_null());
    assert!(get("ppc64", "livepatch").is_null());
    let misses = &results
        .iter()
        .find(|r| r["arch"] == "riscv64" && r["variant"] == "livepatch")
        .unwrap()["overlay_misses"];
    assert_eq!(misses[0][0], "LIVEPATCH");

    // as a git repository, with a commit that gives RISC-V an alignment
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .current_dir(d.path())
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "a")
            .env("GIT_AUTHOR_EMAIL", "a@example.org")
            .env("GIT_COMMITTER_NAME", "a")
            .env("GIT_COMMITTER_EMAIL", "a@example.org")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "base"]);
    std::fs::write(
        d.path().join("xen/arch/riscv/Kconfig"),
        "config RISCV\n\tdef_bool y\n\tselect FUNCTION_ALIGNMENT_4B\n",
    )
    .unwrap();
    git(&["commit", "-q", "-am", "riscv: align functions"]);
    let out = patchbot_bin()
        .args([
            "kconfig",
            "--symbol",
            "FUNCTION_ALIGNMENT",
            "--rev",
            "HEAD~1",
            "--rev",
            "HEAD",
            "--tree",
        ])
        .arg(d.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("riscv64 defconfig: FUNCTION_ALIGNMENT: (none) -> 4"),
        "{text}"
    );
    assert!(
        !text.contains("x86_64 defconfig: FUNCTION_ALIGNMENT:"),
        "x86 did not change: {text}"
    );

    // the same change as a patch series: base and patched tree compared
    let out = Command::new("git")
        .current_dir(d.path())
        .args(["format-patch", "--stdout", "-1", "HEAD"])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    let mbox = d.path().join("../series.mbox");
    std::fs::write(&mbox, &out.stdout).unwrap();
    git(&["reset", "-q", "--hard", "HEAD~1"]);
    let v = common::json_of(
        patchbot_bin()
            .args([
                "kconfig",
                "--json",
                "--symbol",
                "FUNCTION_ALIGNMENT",
                "--arch",
                "riscv64",
                "--variant",
                "defconfig",
                "--series",
            ])
            .arg(&mbox)
            .arg("--tree")
            .arg(d.path()),
    );
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 2);
    assert!(r[0]["rev"].as_str().unwrap().starts_with("base "));
    assert!(r[0]["symbols"]["FUNCTION_ALIGNMENT"].is_null());
    assert_eq!(r[1]["rev"], "patched");
    assert_eq!(r[1]["symbols"]["FUNCTION_ALIGNMENT"], "4");
    // the user's work tree is where it was
    let riscv = std::fs::read_to_string(d.path().join("xen/arch/riscv/Kconfig")).unwrap();
    assert!(!riscv.contains("FUNCTION_ALIGNMENT_4B"));
}

#[test]
fn option_defconfig_list_is_never_written() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("Kconfig"),
        "config DEFCONFIG_LIST\n\tstring\n\toption defconfig_list\n\tdefault \"arch/x/defconfig\"\nconfig A\n\tstring\n\tdefault \"a\"\n",
    )
    .unwrap();
    let mut k = load(d.path(), Dialect::Xen, "", BTreeMap::new());
    let text = k.config_text();
    assert!(!text.contains("DEFCONFIG_LIST"), "{text}");
    assert!(text.contains("CONFIG_A=\"a\""), "{text}");
}

#[test]
fn allno_allyes_allmod_match_conf() {
    if !conf_available() {
        return;
    }
    let mut failures = Vec::new();
    for (name, k) in TREES {
        for (mode, tri) in [
            ("--allnoconfig", patchbot::kconfig::eval::Tri::N),
            ("--allyesconfig", patchbot::kconfig::eval::Tri::Y),
            ("--allmodconfig", patchbot::kconfig::eval::Tri::M),
        ] {
            let (_d, dir) = fixture(k);
            let theirs = real_conf(&dir, &[mode]);
            let mut kc = load(&dir, Dialect::Linux61, "", BTreeMap::new());
            kc.set_all(tri);
            let mine = kc.config_text();
            if theirs != mine {
                failures.push(format!(
                    "{name} {mode}:\n--- conf\n{theirs}\n--- patchbot\n{mine}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Run a conf-like program in `dir`: (exit code, stdout, .config).
fn run_conf_like(mut cmd: Command, dir: &Path) -> (i32, String, String) {
    let out = cmd
        .current_dir(dir)
        .env_remove("srctree")
        .env_remove("KCONFIG_CONFIG")
        .output()
        .unwrap();
    let config = std::fs::read_to_string(dir.join(".config")).unwrap_or_default();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        config,
    )
}

#[test]
fn kconfig_conf_is_a_drop_in_for_conf() {
    if !conf_available() {
        return;
    }
    let modes: &[&[&str]] = &[
        &["--alldefconfig"],
        &["--allnoconfig"],
        &["--allyesconfig"],
        &["--allmodconfig"],
        &["--defconfig=defconfig"],
        &["--olddefconfig"],
        &["-s", "--allyesconfig"],
    ];
    let mut failures = Vec::new();
    for (name, k) in TREES {
        for mode in modes {
            let (_a, theirs_dir) = fixture(k);
            let (_b, ours_dir) = fixture(k);
            for d in [&theirs_dir, &ours_dir] {
                std::fs::write(
                    d.join("defconfig"),
                    "CONFIG_D=7\nCONFIG_MODE_A=y\n# CONFIG_FEATURE_A is not set\n",
                )
                .unwrap();
                // an existing .config for olddefconfig (and to see "No change")
                std::fs::write(d.join(".config"), "CONFIG_A=y\nCONFIG_T1=y\n").unwrap();
            }
            for round in 0..2 {
                let mut c = Command::new(CONF);
                c.args(*mode).arg("Kconfig");
                let theirs = run_conf_like(c, &theirs_dir);
                let mut c = patchbot_bin();
                c.args(["kconfig", "conf"]).args(*mode).arg("Kconfig");
                let ours = run_conf_like(c, &ours_dir);
                if theirs != ours {
                    failures.push(format!(
                        "{name} {mode:?} round {round}:\nconf: {theirs:?}\npatchbot: {ours:?}"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn autoconf_h_matches_conf_syncconfig() {
    if !conf_available() {
        return;
    }
    let mut failures = Vec::new();
    for (name, k) in TREES {
        for (mode, tri) in [
            ("--alldefconfig", None),
            ("--allyesconfig", Some(patchbot::kconfig::eval::Tri::Y)),
            ("--allmodconfig", Some(patchbot::kconfig::eval::Tri::M)),
        ] {
            let (_d, dir) = fixture(k);
            for m in [mode, "--syncconfig"] {
                let st = Command::new(CONF)
                    .current_dir(&dir)
                    .args(["-s", m, "Kconfig"])
                    .env_remove("srctree")
                    .env_remove("KCONFIG_CONFIG")
                    .status()
                    .unwrap();
                assert!(st.success());
            }
            let theirs = std::fs::read_to_string(dir.join("include/generated/autoconf.h")).unwrap();
            let mut kc = load(&dir, Dialect::Linux61, "", BTreeMap::new());
            if let Some(t) = tri {
                kc.set_all(t);
            }
            let mine = kc.autoconf_text();
            if theirs != mine {
                failures.push(format!(
                    "{name} {mode}:\n--- conf\n{theirs}\n--- patchbot\n{mine}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

const KCONFIGLIB_PY: &str = "/usr/bin/python3";

/// Kconfiglib's view of a tree: every defined symbol's value, or null when it is
/// not written to .config.
fn kconfiglib_values(
    dir: &Path,
    defconfig: Option<&str>,
) -> Option<BTreeMap<String, Option<String>>> {
    let script = r#"
import json, os, sys
import kconfiglib
k = kconfiglib.Kconfig("Kconfig", warn=False)
if len(sys.argv) > 1:
    k.load_config(sys.argv[1])
out = {}
for s in k.unique_defined_syms:
    out[s.name] = s.str_value if s.config_string else None
print(json.dumps(out))
"#;
    let mut c = Command::new(KCONFIGLIB_PY);
    c.current_dir(dir)
        .arg("-c")
        .arg(script)
        .env_remove("srctree");
    if let Some(d) = defconfig {
        c.arg(d);
    }
    let out = c.output().ok()?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        if err.contains("No module named") {
            return None;
        }
        panic!("kconfiglib failed: {err}");
    }
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// The Xen (5.4-era) dialect: `---help---`, `option defconfig_list`.
const XEN_DIALECT_TREE: &str = r#"
config DEFCONFIG_LIST
	string
	option defconfig_list
	default "arch/x86/configs/x86_64_defconfig"

config EXPERT
	bool "Configure EXPERT features"
	---help---
	  Expert settings.

config HAS_FAST
	bool

config FAST
	bool "fast" if EXPERT
	default y
	select HAS_FAST
	---help---
	  Go fast.

config NR_CPUS
	int "Maximum number of CPUs"
	range 1 4095
	default 256

config SCHED
	string
	default "credit2" if FAST
	default "credit"

choice
	prompt "Default scheduler"
	default SCHED_CREDIT2_DEFAULT

config SCHED_CREDIT_DEFAULT
	bool "credit"
config SCHED_CREDIT2_DEFAULT
	bool "credit2"
endchoice
"#;

#[test]
fn xen_dialect_matches_kconfiglib_symbol_for_symbol() {
    if !common::reference_tool("python3 for kconfiglib", Path::new(KCONFIGLIB_PY).exists()) {
        return;
    }
    let (_d, dir) = fixture(XEN_DIALECT_TREE);
    std::fs::write(
        dir.join("defconfig"),
        "CONFIG_EXPERT=y\n# CONFIG_FAST is not set\nCONFIG_NR_CPUS=64\n",
    )
    .unwrap();
    for defconfig in [None, Some("defconfig")] {
        let Some(theirs) = kconfiglib_values(&dir, defconfig) else {
            common::reference_tool("kconfiglib (python3-kconfiglib)", false);
            return;
        };
        let mut k = load(&dir, Dialect::Xen, "", BTreeMap::new());
        if let Some(d) = defconfig {
            k.read_config(&std::fs::read_to_string(dir.join(d)).unwrap());
        }
        let mut mine = k.symbols();
        // Kconfiglib writes the defconfig_list symbol; conf (and patchbot) do not:
        // follow conf
        assert_eq!(mine.remove("DEFCONFIG_LIST"), Some(None));
        let mut theirs = theirs;
        theirs.remove("DEFCONFIG_LIST");
        assert_eq!(mine, theirs, "defconfig {defconfig:?}");
    }
}

/// A tree for conf's questions: automatic submenus (entries that depend on the
/// symbol before them), menus, a comment, an `if` block, a choice with a value
/// that can disappear, int/hex/string prompts with ranges and defaults.
const INTERACTIVE: &str = r#"
mainmenu "Interactive test"

config MODULES
	bool "Enable loadable modules"
	default y
	modules

config NET
	bool "Networking"
	default y
	help
	  Networking support.

config NET_EXTRA
	bool "Extra networking"
	depends on NET

config NET_QUEUES
	int "Queues"
	depends on NET_EXTRA
	range 1 16

config SOUND
	tristate "Sound"

menu "Platform"

config BASE_ADDR
	hex "Base address"
	default 0x8000

config BOARD
	string "Board name"
	default "generic"

choice
	prompt "Scheduler"
	default SCHED_FAIR

config SCHED_RR
	bool "round robin"

config SCHED_FAIR
	bool "fair"

config SCHED_RT
	bool "real time"
	depends on NET

endchoice

if NET
config NET_DEBUG
	bool "Network debugging"
endif

comment "end of platform options"

endmenu

config DERIVED
	int
	default 3 if NET
"#;

/// Every file below `dir`, by relative path.
fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<String, String>) {
        let mut entries: Vec<_> = std::fs::read_dir(d).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(
                    rel,
                    String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Run a conf-like program with `stdin` in `dir`: status, stdout, stderr.
fn run_with_input(mut cmd: Command, dir: &Path, stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = cmd
        .current_dir(dir)
        .env_remove("srctree")
        .env_remove("KCONFIG_CONFIG")
        .env_remove("KCONFIG_ALLCONFIG")
        .env_remove("KCONFIG_DEFCONFIG_LIST")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // a program that asks nothing may exit before reading: a closed pipe is fine
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The interactive and file-writing modes against the real conf: for each
/// tree, mode, starting `.config` and scripted answers, the exit status,
/// stdout (questions, `(NEW)` markers, echoed answers), stderr and every file
/// left in the directory (`.config`, `.config.old`, `include/config/auto.conf`
/// and `.cmd`, the per-symbol files, `autoconf.h`, `rustc_cfg`, the
/// savedefconfig output) are conf's. Each scenario runs twice in the same
/// directory with different answers, so updates of existing files (changed
/// symbols touched in include/config/) are compared too.
#[test]
fn interactive_modes_and_written_files_match_conf() {
    if !conf_available() {
        return;
    }
    let old_config = "CONFIG_MODULES=y\nCONFIG_NET=y\n# CONFIG_NET_EXTRA is not set\nCONFIG_SOUND=m\nCONFIG_BASE_ADDR=0x9000\nCONFIG_SCHED_RR=y\n";
    let full_config = "CONFIG_MODULES=y\nCONFIG_NET=y\n# CONFIG_NET_EXTRA is not set\nCONFIG_SOUND=m\nCONFIG_BASE_ADDR=0x9000\nCONFIG_BOARD=\"b\\\"q\"\nCONFIG_SCHED_RT=y\n# CONFIG_NET_DEBUG is not set\n";
    // (mode, starting .config, answers round 1, answers round 2)
    let scenarios: &[(&[&str], Option<&str>, &str, &str)] = &[
        (&["--oldaskconfig"], None, "", "n\n"),
        (&[], None, "y\ny\n5\nm\n0x20\nfoo\n3\ny\n", "n\nn\n\n"),
        // answers that do not fit are asked again; a choice number out of range too
        (
            &["--oldaskconfig"],
            None,
            "y\ny\n99\nyes\n0\n12\nmaybe\nm\nxyz\n0x10\n\n9\n1\nno\n",
            "\n",
        ),
        (&["--oldconfig"], Some(old_config), "", "y\n7\n3\n"),
        (&["--oldconfig"], Some(old_config), "y\n7\nx\n2\ny\n", ""),
        (&["--oldconfig"], Some(full_config), "", ""),
        // help asked for everywhere: `?` at each kind of question, `2?` in a choice
        (
            &["--oldaskconfig"],
            None,
            "?\ny\n?\ny\n?\n?\n3\n?\n\n?\n\n?\n\n2?\n?\n2\n?\n\n",
            "?\n\n",
        ),
        // choice modes: m, then y with a pick, then n of an optional one
        (
            &["--oldaskconfig"],
            None,
            "y\nm\nm\nm\nm\nm\ny\n",
            "y\ny\n1\nm\n2\nn\n",
        ),
        (&["--syncconfig"], Some(old_config), "", "y\n"),
        (&["--syncconfig"], Some(full_config), "", ""),
        (&["--listnewconfig"], Some(old_config), "", ""),
        (&["--listnewconfig"], None, "", ""),
        (&["--helpnewconfig"], Some(old_config), "", ""),
        (&["--helpnewconfig"], None, "", ""),
        (
            &["--savedefconfig=defconfig.out"],
            Some(full_config),
            "",
            "",
        ),
        (&["--savedefconfig=defconfig.out"], Some(old_config), "", ""),
        (&["--olddefconfig"], Some(old_config), "", ""),
        (&["-s", "--oldconfig"], Some(old_config), "", ""),
    ];
    // an answer longer than conf's line buffer is read in pieces, each an answer
    let long_line = format!("{}\n\n", "y".repeat(10_000));
    let scenarios: Vec<(&[&str], Option<&str>, &str, &str)> = scenarios
        .iter()
        .copied()
        .chain([(&["--oldaskconfig"][..], None, long_line.as_str(), "")])
        .collect();
    let mut trees: Vec<(&str, &str)> = TREES.to_vec();
    trees.push(("interactive", INTERACTIVE));
    let mut failures = Vec::new();
    let mut compared = 0;
    for (name, k) in &trees {
        for (mode, config, in1, in2) in &scenarios {
            let (_a, theirs_dir) = fixture(k);
            let (_b, ours_dir) = fixture(k);
            if let Some(c) = config {
                std::fs::write(theirs_dir.join(".config"), c).unwrap();
                std::fs::write(ours_dir.join(".config"), c).unwrap();
            }
            for (round, input) in [in1, in2].iter().enumerate() {
                let mut c = Command::new(CONF);
                c.args(*mode).arg("Kconfig");
                let theirs = run_with_input(c, &theirs_dir, input);
                let mut c = patchbot_bin();
                c.args(["kconfig", "conf"]).args(*mode).arg("Kconfig");
                let ours = run_with_input(c, &ours_dir, input);
                let (tf, of) = (snapshot(&theirs_dir), snapshot(&ours_dir));
                compared += 1;
                if theirs != ours || tf != of {
                    failures.push(format!(
                        "{name} {mode:?} round {round} (input {input:?}):\nconf: {theirs:?}\n{tf:#?}\npatchbot: {ours:?}\n{of:#?}"
                    ));
                }
            }
        }
    }
    assert_eq!(compared, trees.len() * scenarios.len() * 2);
    assert!(
        failures.is_empty(),
        "{} of {compared} differ:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// conf refuses a tree with a recursive dependency, naming every cycle with
/// file and line; the drop-in prints the same report and status, and the
/// evaluator's own check finds the same cycles (through `depends on`,
/// `select`, `imply`, a default's value, a prompt's `if`, a menu and a choice).
#[test]
fn recursive_dependencies_are_reported_like_conf() {
    if !conf_available() {
        return;
    }
    let tree = r#"
config SELF
	bool "self"
	depends on SELF

config PING
	bool "ping"
	depends on PONG
config PONG
	bool "pong"
	depends on PING

config PICKER
	bool
	select PICKED
config PICKED
	bool "picked"
	depends on PICKER

config HINT
	bool "hint"
	depends on HINTED
	imply HINTED
config HINTED
	bool "hinted"

config VALUE_A
	bool "value a"
	default VALUE_B
config VALUE_B
	bool "value b"
	depends on VALUE_A

config SHOWN
	bool "shown" if SHOWER
config SHOWER
	bool "shower"
	depends on SHOWN

menu "Inside"
	depends on INNER
config INNER
	bool "inner"
endmenu

choice
	prompt "loop choice"
	depends on CHOSEN
config CHOSEN
	bool "chosen"
endchoice

config FINE
	bool "fine"
	default y
"#;
    let (_a, theirs_dir) = fixture(tree);
    let (_b, ours_dir) = fixture(tree);
    let mut c = Command::new(CONF);
    c.args(["--alldefconfig", "Kconfig"]);
    let theirs = run_with_input(c, &theirs_dir, "");
    let mut c = patchbot_bin();
    c.args(["kconfig", "conf", "--alldefconfig", "Kconfig"]);
    let ours = run_with_input(c, &ours_dir, "");
    assert_eq!(theirs.0, 1, "conf accepted the tree: {theirs:?}");
    assert_eq!(ours, theirs);
    assert_eq!(snapshot(&ours_dir), snapshot(&theirs_dir));
    let k = load(&ours_dir, Dialect::Linux61, "", BTreeMap::new());
    let found = k.recursive_dependencies();
    assert_eq!(found.concat(), theirs.2);
    // every cycle of the tree but the harmless select/depends pair
    assert_eq!(found.len(), 7, "{found:#?}");
}

/// Every fixture tree, rewritten in the Xen (5.4-era) dialect (`option modules`,
/// `---help---`), against Kconfiglib symbol for symbol, with no configuration
/// and with a defconfig.
#[test]
fn every_fixture_in_the_xen_dialect_matches_kconfiglib() {
    if !common::reference_tool("python3 for kconfiglib", Path::new(KCONFIGLIB_PY).exists()) {
        return;
    }
    let mut trees: Vec<(&str, &str)> = TREES.to_vec();
    trees.push(("interactive", INTERACTIVE));
    let mut failures = Vec::new();
    for (name, k) in &trees {
        let xen = k
            .replace("\tmodules\n", "\toption modules\n")
            .replace("\thelp\n", "\t---help---\n");
        let (_d, dir) = fixture(&xen);
        std::fs::write(
            dir.join("defconfig"),
            "CONFIG_D=7\nCONFIG_MODE_A=y\n# CONFIG_FEATURE_A is not set\nCONFIG_NET_EXTRA=y\nCONFIG_CODEC_A=m\nCONFIG_SOUND=m\n",
        )
        .unwrap();
        for defconfig in [None, Some("defconfig")] {
            let Some(theirs) = kconfiglib_values(&dir, defconfig) else {
                common::reference_tool("kconfiglib (python3-kconfiglib)", false);
                return;
            };
            let mut k = load(&dir, Dialect::Xen, "", BTreeMap::new());
            if let Some(d) = defconfig {
                k.read_config(&std::fs::read_to_string(dir.join(d)).unwrap());
            }
            let mine = k.symbols();
            if mine != theirs {
                let diff: Vec<String> = mine
                    .keys()
                    .chain(theirs.keys())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .filter(|s| mine.get(*s) != theirs.get(*s))
                    .map(|s| {
                        format!(
                            "{s}: ours {:?}, kconfiglib {:?}",
                            mine.get(s),
                            theirs.get(s)
                        )
                    })
                    .collect();
                failures.push(format!("{name} {defconfig:?}: {}", diff.join("; ")));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// conf's warnings about the tree itself (type and prompt redefinitions,
/// entries without a type, choice values with defaults or without a prompt,
/// selects of non-bool symbols) and about a symbol selected past its direct
/// dependencies: the drop-in's stderr is conf's, in several modes.
#[test]
fn conf_warnings_match() {
    if !conf_available() {
        return;
    }
    let tree = r#"
config A
	bool "a"

config A
	int "a2"

config NOTYPE
	prompt "no type"

config DEP
	bool "dep"

config FORCED
	bool
	depends on DEP

config SELECTOR
	bool "selector"
	default y
	select FORCED
	select NUM

config NUM
	int "num"
	default 3

config STR
	string "str"
	select DEP

choice
	prompt "c"
config CV
	bool "cv"
	default y
config CV2
	bool
endchoice

config TWO_PROMPTS
	bool "one"
	prompt "two"

config RANGED_BOOL
	bool "ranged"
	range 1 2
"#;
    let mut failures = Vec::new();
    for mode in [
        &["--alldefconfig"][..],
        &["--allyesconfig"],
        &["--listnewconfig"],
        &["--savedefconfig=d"],
    ] {
        let (_a, theirs_dir) = fixture(tree);
        let (_b, ours_dir) = fixture(tree);
        let mut c = Command::new(CONF);
        c.args(mode).arg("Kconfig");
        let theirs = run_with_input(c, &theirs_dir, "");
        let mut c = patchbot_bin();
        c.args(["kconfig", "conf"]).args(mode).arg("Kconfig");
        let ours = run_with_input(c, &ours_dir, "");
        assert!(theirs.2.contains("warning"), "{theirs:?}");
        if theirs != ours || snapshot(&theirs_dir) != snapshot(&ours_dir) {
            failures.push(format!("{mode:?}:\nconf: {theirs:?}\npatchbot: {ours:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// conf asks forever when the input has ended and the default of a question
/// is not a valid answer (an int with no default); the drop-in gives up after
/// a bounded number of questions, says why and exits 1.
#[test]
fn an_unanswerable_question_at_end_of_input_stops() {
    let (_d, dir) = fixture("config N\n\tint \"n\"\n");
    let start = std::time::Instant::now();
    let mut c = patchbot_bin();
    c.args(["kconfig", "conf", "--oldaskconfig", "Kconfig"]);
    let (code, out, err) = run_with_input(c, &dir, "");
    assert_eq!(code, 1);
    assert!(err.contains("conf would ask forever"), "{err}");
    assert!(out.matches("n (N) [] (NEW)").count() > 1, "{out}");
    assert!(out.len() < 100_000);
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
    assert!(!dir.join(".config").exists(), "nothing written");
}

/// The environment conf reads: `srctree` (the tree elsewhere than the current
/// directory, `source` relative to it), `KCONFIG_CONFIG`, `KCONFIG_ALLCONFIG`
/// (a file, or `1` for `allyes.config`/`all.config`), `KCONFIG_DEFCONFIG_LIST`,
/// `KCONFIG_AUTOCONFIG`/`KCONFIG_AUTOHEADER`/`KCONFIG_RUSTCCFG`, and a
/// recursive `source`: stdout, stderr, status and every file equal conf's.
#[test]
fn environment_and_sourcing_match_conf() {
    if !conf_available() {
        return;
    }
    let tree: &[(&str, &str)] = &[
        (
            "src/Kconfig",
            "mainmenu \"Env test\"\nsource \"sub/Kconfig\"\nconfig TOP\n\tbool \"top\"\n\tdefault y\n",
        ),
        (
            "src/sub/Kconfig",
            "config SUB\n\tbool \"sub\"\nconfig SUB_N\n\tint \"sub n\"\n\tdefault 4\n",
        ),
        ("src/loop/Kconfig", "source \"loop/Kconfig2\"\n"),
        ("src/loop/Kconfig2", "source \"loop/Kconfig\"\n"),
        ("seed.config", "CONFIG_SUB=n\nCONFIG_SUB_N=9\n"),
        ("allyes.config", "# CONFIG_TOP is not set\n"),
        ("defaults.config", "CONFIG_SUB=y\n"),
    ];
    /// (args, environment)
    type Run<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)]);
    let runs: &[Run] = &[
        (&["--alldefconfig", "Kconfig"], &[("srctree", "src")]),
        (
            &["--olddefconfig", "Kconfig"],
            &[("srctree", "src"), ("KCONFIG_CONFIG", "out/my.config")],
        ),
        (
            &["--allyesconfig", "Kconfig"],
            &[("srctree", "src"), ("KCONFIG_ALLCONFIG", "seed.config")],
        ),
        (
            &["--allyesconfig", "Kconfig"],
            &[("srctree", "src"), ("KCONFIG_ALLCONFIG", "1")],
        ),
        (
            &["--allnoconfig", "Kconfig"],
            &[("srctree", "src"), ("KCONFIG_ALLCONFIG", "1")],
        ),
        (
            &["--allnoconfig", "Kconfig"],
            &[("srctree", "src"), ("KCONFIG_ALLCONFIG", "missing.config")],
        ),
        (
            &["--oldconfig", "Kconfig"],
            &[
                ("srctree", "src"),
                ("KCONFIG_DEFCONFIG_LIST", "nothere.config defaults.config"),
            ],
        ),
        (
            &["--syncconfig", "Kconfig"],
            &[
                ("srctree", "src"),
                ("KCONFIG_AUTOCONFIG", "gen/auto.conf"),
                ("KCONFIG_AUTOHEADER", "gen/autoconf.h"),
                ("KCONFIG_RUSTCCFG", "gen/rustc_cfg"),
            ],
        ),
        (&["--alldefconfig", "loop/Kconfig"], &[("srctree", "src")]),
        (&["--defconfig=nothere", "Kconfig"], &[("srctree", "src")]),
    ];
    let mut failures = Vec::new();
    for (args, env) in runs {
        let mut dirs = Vec::new();
        for _ in 0..2 {
            let d = tempfile::tempdir().unwrap();
            for (path, text) in tree {
                let p = d.path().join(path);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, text).unwrap();
            }
            dirs.push(d);
        }
        let mut c = Command::new(CONF);
        c.args(*args);
        let mut o = patchbot_bin();
        o.args(["kconfig", "conf"]).args(*args);
        for (k, v) in *env {
            c.env(k, v);
            o.env(k, v);
        }
        let theirs = run_env(c, dirs[0].path());
        let ours = run_env(o, dirs[1].path());
        let (tf, of) = (snapshot(dirs[0].path()), snapshot(dirs[1].path()));
        if theirs != ours || tf != of {
            failures.push(format!(
                "{args:?} {env:?}:\nconf: {theirs:?}\n{tf:#?}\npatchbot: {ours:?}\n{of:#?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Run with the environment as given (only srctree and KCONFIG_* set by the caller).
fn run_env(mut cmd: Command, dir: &Path) -> (i32, String, String) {
    for (k, _) in std::env::vars() {
        if k.starts_with("KCONFIG_") && cmd.get_envs().all(|(n, _)| n != k.as_str()) {
            cmd.env_remove(&k);
        }
    }
    if cmd.get_envs().all(|(n, _)| n != "srctree") {
        cmd.env_remove("srctree");
    }
    let out = cmd
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The 5.4-era statements Linux 6.1 dropped (`option modules`,
/// `option defconfig_list`, `option allnoconfig_y`, `---help---`) are refused
/// in the Linux 6.1 dialect as conf refuses them (status 1, the line named),
/// and accepted in the Xen dialect.
#[test]
fn statements_linux_6_1_dropped_are_refused_in_its_dialect() {
    if !conf_available() {
        return;
    }
    for (stmt, line) in [
        ("\toption modules\n", 3),
        ("\toption defconfig_list\n", 3),
        ("\toption allnoconfig_y\n", 3),
        ("\t---help---\n\t  text\n", 3),
    ] {
        let tree = format!("config M\n\tbool \"m\"\n{stmt}");
        let (_a, theirs_dir) = fixture(&tree);
        let (_b, ours_dir) = fixture(&tree);
        let mut c = Command::new(CONF);
        c.args(["--alldefconfig", "Kconfig"]);
        let theirs = run_with_input(c, &theirs_dir, "");
        let mut c = patchbot_bin();
        c.args(["kconfig", "conf", "--alldefconfig", "Kconfig"]);
        let ours = run_with_input(c, &ours_dir, "");
        assert_eq!(theirs.0, 1, "{stmt:?}: {theirs:?}");
        assert_eq!(ours.0, 1, "{stmt:?}: {ours:?}");
        assert!(ours.2.starts_with(&format!("Kconfig:{line}:")), "{ours:?}");
        assert!(!ours_dir.join(".config").exists());
        let mut c = patchbot_bin();
        c.args([
            "kconfig",
            "conf",
            "--dialect",
            "xen",
            "--alldefconfig",
            "Kconfig",
        ]);
        let xen = run_with_input(c, &ours_dir, "");
        assert_eq!(xen.0, 0, "{stmt:?} in the Xen dialect: {xen:?}");
    }
}
