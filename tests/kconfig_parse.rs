//! The Kconfig parser on trees written here: every construct, `source` with
//! macros through the confined view, and the hostile cases (recursive source, a
//! macro that expands itself, syntax errors with file and line, big files).

use std::collections::BTreeMap;
use std::path::Path;

use patchbot::kconfig::macros::{Answer, Macros, NoToolchain, Toolchain};
use patchbot::kconfig::parse::{
    CmpOp, Dialect, Expr, Node, ParseError, Parsed, Parser, PropKind, Type,
};
use patchbot::tree::vfs::DirVfs;

fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (p, c) in files {
        let f = d.path().join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, c).unwrap();
    }
    d
}

struct Gcc12;
impl Toolchain for Gcc12 {
    fn probe(&self, name: &str, args: &[String]) -> Option<Answer> {
        match name {
            "cc-option" => Some(Answer {
                value: if args[0].starts_with("-falign-functions") {
                    "y".into()
                } else {
                    "n".into()
                },
                guessed: false,
            }),
            _ => None,
        }
    }
    fn shell(&self, _cmd: &str) -> Answer {
        Answer {
            value: String::new(),
            guessed: true,
        }
    }
}

fn parse(
    dir: &Path,
    srctree: &str,
    root: &str,
    arch: &str,
    dialect: Dialect,
) -> Result<Parsed, ParseError> {
    let vfs = DirVfs::new(dir).unwrap();
    let mut env = BTreeMap::new();
    env.insert("SRCARCH".to_string(), arch.to_string());
    let tc = Gcc12;
    let macros = Macros::new(&tc, env);
    Parser::new(&vfs, macros, dialect)
        .with_srctree(srctree)
        .parse(root)
}

fn configs(nodes: &[Node], out: &mut Vec<patchbot::kconfig::parse::ConfigEntry>) {
    for n in nodes {
        match n {
            Node::Config(e) => out.push(e.clone()),
            Node::Choice {
                entry, children, ..
            } => {
                out.push(entry.clone());
                configs(children, out);
            }
            Node::Menu { children, .. } | Node::If { children, .. } => configs(children, out),
            _ => {}
        }
    }
}

const XEN_KCONFIG: &str = r#"#
# A mini tree shaped like Xen's
#
mainmenu "Xen/$(SRCARCH) $(XEN_FULLVERSION) Configuration"

CC_HAS_ALIGN := $(cc-option,-falign-functions=64)

config CC_HAS_FUNCTION_ALIGNMENT
	def_bool $(CC_HAS_ALIGN)

config FUNCTION_ALIGNMENT_4B
	bool
config FUNCTION_ALIGNMENT_16B
	bool

config FUNCTION_ALIGNMENT
	int
	default 16 if FUNCTION_ALIGNMENT_16B
	default  4 if FUNCTION_ALIGNMENT_4B
	depends on CC_HAS_FUNCTION_ALIGNMENT

source "arch/$(SRCARCH)/Kconfig"

menu "Common Features"
	visible if !EXPERT

config LIVEPATCH
	bool "Live patching support" if EXPERT && (X86 || ARM_64)
	default y
	select CC_SPLIT_SECTIONS
	imply FUNCTION_ALIGNMENT_16B if X86
	help
	  Allows a running Xen hypervisor to be dynamically patched.

	    Indented more.
	  If unsure, say Y.

config NR_CPUS
	int "Maximum number of CPUs"
	range 1 16383
	default "256" if X86
	default 8 if ARM && RCAR3 != "n"

choice
	prompt "Alternative assembly"
	optional
	default ALT_A

config ALT_A
	bool "A"
config ALT_B
	bool "B"
endchoice

comment "Debugging Options"
	depends on DEBUG

if X86
config CC_SPLIT_SECTIONS
	bool
endif
endmenu

osource "arch/$(SRCARCH)/Kconfig.optional"
"#;

#[test]
fn a_xen_shaped_tree_parses_with_every_construct() {
    let d = tree(&[
        ("xen/Kconfig", XEN_KCONFIG),
        (
            "xen/arch/x86/Kconfig",
            "config X86\n\tdef_bool y\n\tselect FUNCTION_ALIGNMENT_16B\n",
        ),
        ("xen/arch/riscv/Kconfig", "config RISCV\n\tdef_bool y\n"),
    ]);
    let p = parse(d.path(), "xen", "Kconfig", "x86", Dialect::Xen).unwrap();
    assert_eq!(p.inputs.files, vec!["xen/Kconfig", "xen/arch/x86/Kconfig"]);
    assert_eq!(
        p.inputs.missing,
        vec!["xen/arch/x86/Kconfig.optional"],
        "osource of a missing file is recorded"
    );
    let Node::MainMenu { prompt, .. } = &p.nodes[0] else {
        panic!("{:?}", p.nodes[0])
    };
    assert_eq!(prompt, "Xen/x86  Configuration");
    let mut all = Vec::new();
    configs(&p.nodes, &mut all);
    let by = |n: &str| {
        all.iter()
            .find(|e| e.name == n)
            .unwrap_or_else(|| panic!("no {n}"))
            .clone()
    };
    // the probe was answered from the toolchain, by its flag
    let cc = by("CC_HAS_FUNCTION_ALIGNMENT");
    assert_eq!(cc.typ, Some(Type::Bool));
    assert_eq!(cc.props[0].kind, PropKind::Default(Expr::Sym("y".into())));
    let fa = by("FUNCTION_ALIGNMENT");
    assert_eq!(fa.typ, Some(Type::Int));
    assert_eq!(fa.props.len(), 2);
    assert_eq!(
        fa.props[0].cond,
        Some(Expr::Sym("FUNCTION_ALIGNMENT_16B".into()))
    );
    assert_eq!(
        fa.depends,
        vec![Expr::Sym("CC_HAS_FUNCTION_ALIGNMENT".into())]
    );
    let expected_line = XEN_KCONFIG
        .lines()
        .position(|l| l == "config FUNCTION_ALIGNMENT")
        .unwrap()
        + 1;
    assert_eq!(fa.loc.as_ref().unwrap().line, expected_line);
    let x86 = by("X86");
    assert_eq!(&*x86.loc.as_ref().unwrap().file, "xen/arch/x86/Kconfig");
    let lp = by("LIVEPATCH");
    assert_eq!(lp.help.as_deref(), Some("Allows a running Xen hypervisor to be dynamically patched.\n\n  Indented more.\nIf unsure, say Y.\n"));
    match &lp.props[0] {
        p if matches!(p.kind, PropKind::Prompt(_)) => {
            let Some(Expr::And(a, b)) = &p.cond else {
                panic!("{:?}", p.cond)
            };
            assert_eq!(**a, Expr::Sym("EXPERT".into()));
            assert!(matches!(**b, Expr::Or(_, _)));
        }
        other => panic!("{other:?}"),
    }
    assert!(lp
        .props
        .iter()
        .any(|p| p.kind == PropKind::Select("CC_SPLIT_SECTIONS".into())));
    assert!(lp
        .props
        .iter()
        .any(|p| p.kind == PropKind::Imply("FUNCTION_ALIGNMENT_16B".into()) && p.cond.is_some()));
    let nr = by("NR_CPUS");
    assert!(nr.props.iter().any(|p| matches!(&p.kind, PropKind::Range(Expr::Sym(a), Expr::Sym(b)) if a == "1" && b == "16383")));
    assert!(nr
        .props
        .iter()
        .any(|p| p.kind == PropKind::Default(Expr::Str("256".into()))));
    assert!(nr.props.iter().any(
        |p| matches!(&p.cond, Some(Expr::And(_, b)) if matches!(&**b, Expr::Cmp(CmpOp::Ne, _, _)))
    ));
    // the choice, the menu's visible-if, the comment and the if block
    let menu = p.nodes.iter().find_map(|n| match n {
        Node::Menu {
            prompt,
            visible,
            children,
            ..
        } => Some((prompt, visible, children)),
        _ => None,
    });
    let (prompt, visible, children) = menu.unwrap();
    assert_eq!(prompt, "Common Features");
    assert_eq!(
        visible,
        &vec![Expr::Not(Box::new(Expr::Sym("EXPERT".into())))]
    );
    assert!(children.iter().any(
        |n| matches!(n, Node::Choice { optional: true, children, .. } if children.len() == 2)
    ));
    assert!(children
        .iter()
        .any(|n| matches!(n, Node::Comment { depends, .. } if depends.len() == 1)));
    assert!(children
        .iter()
        .any(|n| matches!(n, Node::If { children, .. } if children.len() == 1)));

    // another architecture sources another file
    let p = parse(d.path(), "xen", "Kconfig", "riscv", Dialect::Xen).unwrap();
    assert_eq!(
        p.inputs.files,
        vec!["xen/Kconfig", "xen/arch/riscv/Kconfig"]
    );
}

#[test]
fn recursive_source_is_reported_with_the_inclusion_path() {
    let d = tree(&[
        ("Kconfig", "source \"a/Kconfig\"\n"),
        ("a/Kconfig", "config A\n\tbool\nsource \"Kconfig\"\n"),
    ]);
    match parse(d.path(), "", "Kconfig", "x86", Dialect::Linux61) {
        Err(e @ ParseError::Recursive { .. }) => {
            let s = e.to_string();
            assert!(
                s.contains("Recursive inclusion detected") && s.contains("a/Kconfig"),
                "{s}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn errors_name_file_and_line() {
    let d = tree(&[(
        "Kconfig",
        "config A\n\tbool\n\nconfig B\n\tint\n\trange 1\n",
    )]);
    let e = parse(d.path(), "", "Kconfig", "x86", Dialect::Linux61)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("Kconfig:6:") && e.contains("range"), "{e}");
    let d = tree(&[("Kconfig", "X = $(X)$(X)\nconfig A\n\tbool \"$(X)\"\n")]);
    let e = parse(d.path(), "", "Kconfig", "x86", Dialect::Linux61)
        .unwrap_err()
        .to_string();
    // conf's own words for a variable that references itself
    assert_eq!(
        e,
        "Kconfig:3: Recursive variable 'X' references itself (eventually)"
    );
    let d = tree(&[("Kconfig", "if A\nconfig B\n\tbool\n")]);
    let e = parse(d.path(), "", "Kconfig", "x86", Dialect::Linux61)
        .unwrap_err()
        .to_string();
    assert!(e.contains("expected 'endif'"), "{e}");
    let d = tree(&[("Kconfig", "source \"../etc/passwd\"\n")]);
    let e = parse(d.path(), "", "Kconfig", "x86", Dialect::Linux61)
        .unwrap_err()
        .to_string();
    assert!(e.contains("leaves the tree"), "{e}");
    let d = tree(&[("Kconfig", "source \"missing/Kconfig\"\n")]);
    let e = parse(d.path(), "", "Kconfig", "x86", Dialect::Linux61)
        .unwrap_err()
        .to_string();
    assert!(e.contains("can't open file \"missing/Kconfig\""), "{e}");
}

#[test]
fn dialects_differ_on_help_markers() {
    let src = "config A\n\tbool \"a\"\n\t---help---\n\t  text\n";
    let d = tree(&[("Kconfig", src)]);
    assert!(parse(d.path(), "", "Kconfig", "x86", Dialect::Xen).is_ok());
    assert!(parse(d.path(), "", "Kconfig", "x86", Dialect::Linux61).is_err());
}

#[test]
fn a_large_kconfig_parses_in_bounded_time() {
    let mut big = String::new();
    for i in 0..60_000 {
        big.push_str(&format!("config SYM_{i}\n\tbool \"symbol {i}\"\n\tdefault y if SYM_{} && !SYM_{}\n\thelp\n\t  Some help.\n\n", i / 2, i / 3));
    }
    assert!(big.len() > 4_000_000);
    let d = tree(&[("Kconfig", &big)]);
    let t = std::time::Instant::now();
    let p = parse(d.path(), "", "Kconfig", "x86", Dialect::Linux61).unwrap();
    assert_eq!(p.nodes.len(), 60_000);
    // generous: this is a hang guard, not a benchmark
    assert!(t.elapsed().as_secs() < 60);
}

#[test]
fn nothing_is_run_for_shell() {
    let d = tree(&[(
        "Kconfig",
        "V := $(shell,touch /tmp/patchbot-kconfig-pwned && echo y)\nconfig A\n\tdef_bool $(V)\n",
    )]);
    let vfs = DirVfs::new(d.path()).unwrap();
    let tc = NoToolchain;
    let p = Parser::new(&vfs, Macros::new(&tc, BTreeMap::new()), Dialect::Linux61).parse("Kconfig");
    // the shell answer is empty: `def_bool` without a value is a syntax error
    assert!(p.is_err());
    assert!(!Path::new("/tmp/patchbot-kconfig-pwned").exists());
}

/// Validation on a real Xen clone (not run by default: set PATCHBOT_XEN_REPO to a
/// xen.git and run `cargo test --test kconfig_parse -- --ignored`).
#[test]
#[ignore]
fn parses_a_real_xen_tree_for_every_architecture() {
    let Ok(repo) = std::env::var("PATCHBOT_XEN_REPO") else {
        return;
    };
    let repo = patchbot::tree::Repo::open(Path::new(&repo)).unwrap();
    let vfs = patchbot::tree::vfs::GitTreeVfs::new(&repo, "HEAD").unwrap();
    for arch in ["x86", "arm", "riscv", "ppc"] {
        let mut env = BTreeMap::new();
        env.insert("SRCARCH".to_string(), arch.to_string());
        env.insert("ARCH".to_string(), arch.to_string());
        env.insert("XEN_FULLVERSION".to_string(), "4.20-unstable".to_string());
        env.insert("CC".to_string(), "gcc".to_string());
        env.insert("LD".to_string(), "ld".to_string());
        struct Yes;
        impl Toolchain for Yes {
            fn probe(&self, name: &str, _args: &[String]) -> Option<Answer> {
                let v = match name {
                    "failure" => "n",
                    "success" | "cc-option" | "ld-option" | "as-instr" => "y",
                    _ => return None,
                };
                Some(Answer {
                    value: v.into(),
                    guessed: true,
                })
            }
            fn shell(&self, _cmd: &str) -> Answer {
                Answer {
                    value: "120200".into(),
                    guessed: true,
                }
            }
        }
        let tc = Yes;
        let p = Parser::new(&vfs, Macros::new(&tc, env), Dialect::Xen)
            .with_srctree("xen")
            .parse("Kconfig");
        let p = p.unwrap_or_else(|e| panic!("{arch}: {e}"));
        let mut all = Vec::new();
        configs(&p.nodes, &mut all);
        eprintln!(
            "{arch}: {} files, {} config entries, {} warnings",
            p.inputs.files.len(),
            all.len(),
            p.warnings.len()
        );
        assert!(all
            .iter()
            .any(|e| e.name == "FUNCTION_ALIGNMENT" || e.name == "LIVEPATCH"));
    }
}

#[test]
fn non_ascii_characters_are_ignored_with_a_warning_not_a_panic() {
    // a stray non-ASCII character outside a string is skipped with a warning, as
    // conf does; inside a string it is kept
    let d = tree(&[(
        "Kconfig",
        "config A\n\tbool \"ünïcödé\"\n\tdepends on B §\n",
    )]);
    let p = parse(d.path(), "", "Kconfig", "x86", Dialect::Linux61).unwrap();
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("unsupported character")),
        "{:?}",
        p.warnings
    );
    let Node::Config(e) = &p.nodes[0] else {
        panic!("{:?}", p.nodes)
    };
    assert_eq!(e.props[0].kind, PropKind::Prompt("ünïcödé".into()));
    assert_eq!(e.depends, vec![Expr::Sym("B".into())]);
}

#[test]
fn links_inside_the_tree_are_followed_links_outside_are_refused() {
    let d = tree(&[
        ("Kconfig", "source \"sub/Kconfig.link\"\n"),
        ("sub/Kconfig.real", "config A\n\tbool\n"),
    ]);
    std::os::unix::fs::symlink("Kconfig.real", d.path().join("sub/Kconfig.link")).unwrap();
    let p = parse(d.path(), "", "Kconfig", "x86", Dialect::Linux61).unwrap();
    assert_eq!(p.nodes.len(), 1);
    let outside = tree(&[("Kconfig", "source \"evil\"\n")]);
    std::os::unix::fs::symlink("/etc/passwd", outside.path().join("evil")).unwrap();
    let e = parse(outside.path(), "", "Kconfig", "x86", Dialect::Linux61)
        .unwrap_err()
        .to_string();
    assert!(e.contains("leaves the tree"), "{e}");
}
