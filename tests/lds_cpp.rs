//! The C preprocessor (`patchbot::lds::cpp`) against the real one: every fixture
//! and edge case is run through `gcc -E -P -undef -nostdinc -x assembler-with-cpp`
//! with the same flags and the outputs must be the same pp-tokens (and, as far
//! as we match it, the same text). Then provenance, hostile input and the CLI.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use patchbot::lds::cpp::{self, CppError, CppOptions, CppOutput, Define, ErrorKind};
use patchbot::tree::vfs::DirVfs;

fn gcc_available() -> bool {
    let ok = Command::new("gcc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    common::reference_tool("gcc", ok)
}

/// gcc-style flags as our options (the same strings are given to gcc).
fn options(flags: &[&str]) -> CppOptions {
    let mut o = CppOptions::default();
    let mut it = flags.iter();
    while let Some(&f) = it.next() {
        let mut val = |rest: &str| -> String {
            if rest.is_empty() {
                it.next().map(|s| s.to_string()).unwrap_or_default()
            } else {
                rest.to_string()
            }
        };
        if f == "-undef" {
            o.undef = true;
        } else if f == "-iquote" {
            let v = val("");
            o.quote_dirs.push(v);
        } else if f == "-include" {
            let v = val("");
            o.forced_includes.push(v);
        } else if let Some(r) = f.strip_prefix("-I") {
            let v = val(r);
            o.include_dirs.push(v);
        } else if let Some(r) = f.strip_prefix("-D") {
            let v = val(r);
            o.defines.push(Define::Define(v));
        } else if let Some(r) = f.strip_prefix("-U") {
            let v = val(r);
            o.defines.push(Define::Undef(v));
        } else {
            panic!("test flag {f} not understood");
        }
    }
    o
}

fn run_gcc(root: &Path, flags: &[&str], file: &str) -> String {
    let out = Command::new("gcc")
        .current_dir(root)
        .args([
            "-E",
            "-P",
            "-undef",
            "-nostdinc",
            "-x",
            "assembler-with-cpp",
        ])
        .args(flags)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gcc failed on {file} {flags:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn run_ours(root: &Path, flags: &[&str], file: &str) -> Result<CppOutput, CppError> {
    let vfs = DirVfs::new(root).unwrap();
    let mut opts = options(flags);
    opts.undef = true;
    cpp::preprocess(&vfs, file, &opts)
}

/// Split text into pp-tokens (an independent, simple lexer: identifiers with
/// `$`, pp-numbers, string and character literals, the longest punctuator, any
/// other character alone).
fn pp_tokens(s: &str) -> Vec<String> {
    const PUNCT: [&str; 23] = [
        "...", "<<=", ">>=", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||",
        "*=", "/=", "%=", "+=", "-=", "&=", "^=", "|=", "##",
    ];
    let b: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
        if c.is_ascii_digit() || (c == '.' && b.get(i + 1).is_some_and(|d| d.is_ascii_digit())) {
            i += 1;
            while i < b.len()
                && (ident(b[i])
                    || b[i] == '.'
                    || ((b[i] == '+' || b[i] == '-') && "eEpP".contains(b[i - 1])))
            {
                i += 1;
            }
        } else if ident(c) {
            while i < b.len() && ident(b[i]) {
                i += 1;
            }
        } else if c == '"' || c == '\'' {
            i += 1;
            while i < b.len() && b[i] != c && b[i] != '\n' {
                if b[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i = (i + 1).min(b.len());
        } else {
            let rest: String = b[i..(i + 3).min(b.len())].iter().collect();
            i += PUNCT
                .iter()
                .find(|p| rest.starts_with(*p))
                .map_or(1, |p| p.len());
        }
        out.push(b[start..i].iter().collect());
    }
    out
}

fn fixtures() -> PathBuf {
    common::fixture("cpp")
}

/// Compare with gcc: the same tokens, and the same text.
fn same_as_gcc(dir: &str, file: &str, flags: &[&str]) {
    let root = fixtures().join(dir);
    let ours = run_ours(&root, flags, file).unwrap_or_else(|e| panic!("{file} {flags:?}: {e}"));
    if !gcc_available() {
        return;
    }
    let theirs = run_gcc(&root, flags, file);
    let (a, b) = (pp_tokens(&theirs), pp_tokens(&ours.text));
    if a != b {
        let at = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
        panic!(
            "{file} {flags:?}: tokens differ at token {at}: gcc {:?} ours {:?}\n--- gcc\n{theirs}\n--- ours\n{}",
            &a[at..(at + 8).min(a.len())],
            &b[at..(at + 8).min(b.len())],
            ours.text
        );
    }
    assert_eq!(
        ours.text, theirs,
        "{file} {flags:?}: same tokens, other white space"
    );
}

/// Without -P: the linemarkers and blank lines too.
fn same_as_gcc_with_markers(dir: &str, file: &str, flags: &[&str]) {
    let root = fixtures().join(dir);
    let vfs = DirVfs::new(&root).unwrap();
    let mut opts = options(flags);
    opts.undef = true;
    opts.line_markers = true;
    let ours = cpp::preprocess(&vfs, file, &opts).unwrap_or_else(|e| panic!("{file}: {e}"));
    if !gcc_available() {
        return;
    }
    let out = Command::new("gcc")
        .current_dir(&root)
        .args(["-E", "-undef", "-nostdinc", "-x", "assembler-with-cpp"])
        .args(flags)
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        ours.text,
        String::from_utf8(out.stdout).unwrap(),
        "{file} {flags:?}"
    );
}

#[test]
fn linemarkers_match_gcc() {
    for f in [
        "rescan.S",
        "paste.S",
        "ifexpr.S",
        "asm.S",
        "spacing.S",
        "variadic.S",
        "line.S",
        "include.S",
        "misc.S",
        "crlf.S",
        "cmdline.S",
    ] {
        same_as_gcc_with_markers("edge", f, &["-Iinc1", "-Iinc2", "-include", "forced.h"]);
    }
    same_as_gcc_with_markers(
        "edge",
        "include.S",
        &["-iquote", "inc2", "-Iinc1", "-Iinc2"],
    );
    same_as_gcc_with_markers("xen-mini", "xen/arch/x86/xen.lds.S", &X86);
    same_as_gcc_with_markers("xen-mini", "xen/arch/arm/xen.lds.S", &ARM);
}

#[test]
fn edge_cases_match_gcc() {
    for f in [
        "rescan.S",
        "paste.S",
        "ifexpr.S",
        "asm.S",
        "spacing.S",
        "variadic.S",
        "line.S",
        "misc.S",
        "crlf.S",
        "kept.S",
    ] {
        same_as_gcc("edge", f, &[]);
    }
}

#[test]
fn include_search_matches_gcc() {
    for flags in [
        &["-Iinc1", "-Iinc2"][..],
        &["-iquote", "inc2", "-Iinc1", "-Iinc2"],
        &["-iquote", "inc1", "-iquote", "sub", "-Iinc2"],
        &["-I", "inc2", "-I", "inc1"],
        &["-Iinc1/", "-Iinc2", "-Iinc1"],
    ] {
        same_as_gcc("edge", "include.S", flags);
    }
}

#[test]
fn command_line_defines_in_order_match_gcc() {
    same_as_gcc(
        "edge",
        "cmdline.S",
        &[
            "-DA",
            "-DB=2",
            "-D",
            "C=3",
            "-DD=",
            "-UA",
            "-DA=again",
            "-DE",
            "-UE",
            "-DF(x)=x*x",
            "-UU1",
            "-include",
            "forced.h",
        ],
    );
    same_as_gcc("edge", "cmdline.S", &["-DU1", "-DA=B", "-DB=C", "-DC=A"]);
}

const X86: [&str; 11] = [
    "-D__ASSEMBLY__",
    "-D__XEN__",
    "-DLINKER_SCRIPT",
    "-I",
    "xen/arch/x86/include",
    "-I",
    "xen/include",
    "-include",
    "xen/include/xen/config.h",
    "-DBUILD_ID",
    "-UBUILD_ID",
];

const ARM: [&str; 10] = [
    "-D__ASSEMBLY__",
    "-D__XEN__",
    "-DLINKER_SCRIPT",
    "-D__aarch64__",
    "-I",
    "xen/arch/arm/include",
    "-I",
    "xen/include",
    "-include",
    "xen/include/xen/config.h",
];

#[test]
fn xen_shaped_scripts_match_gcc() {
    same_as_gcc("xen-mini", "xen/arch/x86/xen.lds.S", &X86);
    same_as_gcc("xen-mini", "xen/arch/arm/xen.lds.S", &ARM);
    // another configuration of the same files
    same_as_gcc(
        "xen-mini",
        "xen/arch/x86/xen.lds.S",
        &[
            "-D__ASSEMBLY__",
            "-D__XEN__",
            "-DBUILD_ID",
            "-I",
            "xen/arch/x86/include",
            "-I",
            "xen/include",
            "-include",
            "xen/include/xen/config.h",
        ],
    );
    let mut arm32 = ARM.to_vec();
    arm32[3] = "-D__arm__";
    same_as_gcc("xen-mini", "xen/arch/arm/xen.lds.S", &arm32);
}

/// The 1-based line of the first line of `file` containing `needle`.
fn line_of(dir: &str, file: &str, needle: &str) -> u32 {
    let text = std::fs::read_to_string(fixtures().join(dir).join(file)).unwrap();
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in {file}")) as u32
        + 1
}

/// The output token `tok`, the `nth` time it appears (0-based): its origin.
fn origin_of<'a>(out: &'a CppOutput, tok: &str, nth: usize) -> &'a cpp::Origin {
    let mut seen = 0;
    for s in &out.spans {
        if &out.text[s.start as usize..s.end as usize] == tok {
            if seen == nth {
                return out.origin_at(s.start as usize).unwrap();
            }
            seen += 1;
        }
    }
    panic!("token {tok} not in the output")
}

#[test]
fn provenance_points_at_the_source_line_and_names_the_macros() {
    let root = fixtures().join("xen-mini");
    let out = run_ours(&root, &X86, "xen/arch/x86/xen.lds.S").unwrap();
    let lds = "xen/arch/x86/xen.lds.S";
    let lds_h = "xen/include/xen/xen.lds.h";

    // a statement of a section list in xen.lds.h, expanded on one line of xen.lds.S
    let o = origin_of(&out, "__paramhypfs_start", 0);
    assert_eq!(&*o.file, lds_h);
    assert_eq!(
        o.line,
        line_of("xen-mini", lds_h, "__paramhypfs_start = .;")
    );
    assert_eq!(o.expansion.len(), 1, "{o:?}");
    assert_eq!(&*o.expansion[0].macro_name, "HYPFS_PARAM");
    assert_eq!(&*o.expansion[0].file, lds);
    assert_eq!(
        o.expansion[0].line,
        line_of("xen-mini", lds, "        HYPFS_PARAM")
    );
    // the next physical line of the same multi-line definition
    let o = origin_of(&out, "paramhypfs", 0);
    assert_eq!(o.line, line_of("xen-mini", lds_h, "*(.data.paramhypfs)"));

    // nested: PAGE_SIZE's body names PAGE_SHIFT; outermost invocation first
    let o = origin_of(&out, "12", 0);
    assert_eq!(&*o.file, "xen/arch/x86/include/asm/page.h");
    assert_eq!(
        o.line,
        line_of(
            "xen-mini",
            "xen/arch/x86/include/asm/page.h",
            "#define PAGE_SHIFT"
        )
    );
    let names: Vec<&str> = o.expansion.iter().map(|e| &*e.macro_name).collect();
    assert_eq!(names, ["PAGE_SIZE", "PAGE_SHIFT"]);
    assert_eq!(&*o.expansion[0].file, lds);
    assert_eq!(
        o.expansion[0].line,
        line_of("xen-mini", lds, ". = ALIGN(PAGE_SIZE);")
    );
    assert_eq!(
        &*o.expansion[1].file, "xen/arch/x86/include/asm/page.h",
        "PAGE_SHIFT is invoked in PAGE_SIZE's definition"
    );

    // an argument keeps where it was written; the body around it is the macro's
    let text_line = line_of("xen-mini", lds, "DECL_SECTION(.text)");
    let at = |s: &str| out.origin_at(out.text.find(s).unwrap() + 1).unwrap();
    let o = at(".text : AT");
    assert_eq!((&*o.file, o.line), (lds, text_line));
    assert!(o.expansion.is_empty());
    let o = origin_of(&out, "AT", 0);
    assert_eq!(o.line, line_of("xen-mini", lds, "#define DECL_SECTION"));
    assert_eq!(&*o.expansion[0].macro_name, "DECL_SECTION");
    assert_eq!(o.expansion[0].line, text_line);
    // #x made a new token there
    let o = origin_of(&out, "\".text\"", 0);
    assert_eq!(&*o.expansion[0].macro_name, "DECL_SECTION");

    // from a forced include
    let o = origin_of(&out, "<<", 0);
    assert_eq!(&*o.file, "xen/include/xen/config.h");
    assert_eq!(&*o.expansion[0].macro_name, "MB");

    // written in the script itself
    let o = at("*(.text.*)");
    assert_eq!(
        (&*o.file, o.line),
        (lds, line_of("xen-mini", lds, "*(.text.*)"))
    );
    let o = origin_of(&out, "_etext", 0);
    assert_eq!(
        (&*o.file, o.line),
        (lds, line_of("xen-mini", lds, "_etext = .;"))
    );
    assert!(o.expansion.is_empty());

    // offsets between tokens
    let nl = out.text.find('\n').unwrap();
    assert!(out.origin_at(nl).is_none());
    assert!(out.origin_near(nl).is_some());
    assert!(out.origin_at(out.text.len() + 10).is_none());
    // every byte of every token maps to its span's origin
    for s in out.spans.iter().step_by(7) {
        let a = out.origin_at(s.start as usize).unwrap();
        let b = out.origin_at(s.end as usize - 1).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, &out.origins[s.origin as usize]);
    }
}

#[test]
fn inputs_are_recorded_and_a_new_header_earlier_on_the_path_changes_the_output() {
    let root = fixtures().join("xen-mini");
    let out = run_ours(&root, &X86, "xen/arch/x86/xen.lds.S").unwrap();
    for f in [
        "xen/arch/x86/xen.lds.S",
        "xen/include/xen/config.h",
        "xen/include/generated/autoconf.h",
        "xen/include/xen/xen.lds.h",
        "xen/arch/x86/include/asm/page.h",
    ] {
        assert!(
            out.files_read.iter().any(|r| r == f),
            "{f} not in {:?}",
            out.files_read
        );
    }
    assert!(!out.files_read.iter().any(|r| r.contains("compiler.h")));
    let shadow = "xen/arch/x86/include/xen/xen.lds.h";
    assert!(out.missing.iter().any(|m| m == shadow), "{:?}", out.missing);

    // put a header there: the output changes, as with gcc
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&root, tmp.path());
    let p = tmp.path().join(shadow);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, "#define HYPFS_PARAM shadowed_by_arch\n#define LIVEPATCH_SECTIONS\n#define CTORS_SECTION(x)\n#define DISCARD_SECTIONS\n#define STABS_DEBUG_SECTIONS\n#define ELF_DETAILS_SECTIONS\n").unwrap();
    let out2 = run_ours(tmp.path(), &X86, "xen/arch/x86/xen.lds.S").unwrap();
    assert!(out2.text.contains("shadowed_by_arch"));
    assert!(out2.files_read.iter().any(|r| r == shadow));
    if gcc_available() {
        let theirs = run_gcc(tmp.path(), &X86, "xen/arch/x86/xen.lds.S");
        assert_eq!(pp_tokens(&theirs), pp_tokens(&out2.text));
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&t).unwrap();
            copy_tree(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), t).unwrap();
        }
    }
}

// ---- hostile input ----------------------------------------------------------

/// Preprocess files written to a temporary tree, with a deadline.
fn hostile(
    files: &[(&str, String)],
    main: &str,
    opts: CppOptions,
    limit: Duration,
) -> Result<CppOutput, CppError> {
    let tmp = tempfile::tempdir().unwrap();
    for (p, c) in files {
        let f = tmp.path().join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, c).unwrap();
    }
    let root = tmp.path().to_path_buf();
    let main = main.to_string();
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    std::thread::spawn(move || {
        let vfs = DirVfs::new(&root).unwrap();
        let _ = tx.send(cpp::preprocess(&vfs, &main, &opts));
    });
    let r = rx
        .recv_timeout(limit)
        .unwrap_or_else(|_| panic!("no answer within {limit:?}"));
    assert!(start.elapsed() < limit);
    drop(tmp);
    r
}

fn expect_err(r: Result<CppOutput, CppError>, kind: ErrorKind, file: &str, line: u32, says: &str) {
    let e = match r {
        Ok(o) => panic!("no error; output {:?}", &o.text[..o.text.len().min(200)]),
        Err(e) => e,
    };
    assert_eq!(e.kind, kind, "{e}");
    assert_eq!((e.file.as_str(), e.line), (file, line), "{e}");
    assert!(e.message.contains(says), "{e}");
}

const T: Duration = Duration::from_secs(30);

#[test]
fn includes_leaving_the_tree_are_errors() {
    let files = [("a.S", "x\n#include \"/etc/passwd\"\n".to_string())];
    expect_err(
        hostile(&files, "a.S", CppOptions::default(), T),
        ErrorKind::Escape,
        "a.S",
        2,
        "absolute",
    );
    let files = [(
        "a.S",
        "x\n\n#include <../../../../../../etc/passwd>\n".to_string(),
    )];
    let opts = options(&["-Iinc"]);
    expect_err(
        hostile(&files, "a.S", opts, T),
        ErrorKind::Escape,
        "a.S",
        3,
        "leaves the tree",
    );
    let files = [
        (
            "sub/a.S",
            "#include \"../b.h\"\n#include \"../../etc/passwd\"\n".to_string(),
        ),
        ("b.h", "inside\n".to_string()),
    ];
    expect_err(
        hostile(&files, "sub/a.S", CppOptions::default(), T),
        ErrorKind::Escape,
        "sub/a.S",
        2,
        "leaves the tree",
    );
    // a link out of the tree is not followed
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a.S"), "#include \"link.h\"\n").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", tmp.path().join("link.h")).unwrap();
    let vfs = DirVfs::new(tmp.path()).unwrap();
    let e = cpp::preprocess(&vfs, "a.S", &CppOptions::default()).unwrap_err();
    assert_eq!((e.kind, e.line), (ErrorKind::Escape, 1), "{e}");
    // and the main file itself
    let e = cpp::preprocess(&vfs, "/etc/passwd", &CppOptions::default()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Escape, "{e}");
    let e = cpp::preprocess(&vfs, "../x.S", &CppOptions::default()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Escape, "{e}");
}

#[test]
fn include_cycles_stop_at_gccs_depth() {
    let files = [
        ("a.S", "#include \"b.h\"\n".to_string()),
        ("b.h", "b\n#include \"c.h\"\n".to_string()),
        ("c.h", "c\n\n#include \"b.h\"\n".to_string()),
    ];
    let r = hostile(&files, "a.S", CppOptions::default(), T);
    let e = r.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Limit, "{e}");
    assert!(
        e.message
            .contains("nested depth 200 exceeds maximum of 200"),
        "{e}"
    );
    assert!(e.file == "b.h" || e.file == "c.h", "{e}");
    // twice per level: exponential without the depth limit
    let files = [
        ("a.S", "#include \"x.h\"\n".to_string()),
        (
            "x.h",
            "#if __INCLUDE_LEVEL__ < 150\n#include \"x.h\"\n#include \"x.h\"\n#endif\n".to_string(),
        ),
    ];
    let e = hostile(&files, "a.S", CppOptions::default(), T).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Limit, "{e}");
}

#[test]
fn exponential_macros_hit_the_work_limit() {
    // A limit far below the default keeps the test quick in a debug build;
    // the expansions below want a billion tokens and more either way.
    let opts = || {
        let mut o = CppOptions::default();
        o.limits.max_work = 500_000;
        o
    };
    let mut s = String::from("#define a0 x\n");
    for i in 1..=30 {
        s.push_str(&format!("#define a{i} a{} a{}\n", i - 1, i - 1));
    }
    s.push_str("a30\n");
    let files = [("a.S", s)];
    expect_err(
        hostile(&files, "a.S", opts(), T),
        ErrorKind::Limit,
        "a.S",
        32,
        "work over the limit of 500000 tokens",
    );
    // through arguments, which are expanded before substitution
    let mut s = String::from("#define f(x) x x\n");
    s.push_str(&"f(".repeat(40));
    s.push('1');
    s.push_str(&")".repeat(40));
    s.push('\n');
    let e = hostile(&[("a.S", s)], "a.S", opts(), T).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Limit, "{e}");
    assert_eq!(e.line, 2, "{e}");
    assert!(e.message.contains("500000"), "{e}");
}

#[test]
fn unterminated_conditionals_and_comments_are_errors_at_their_line() {
    let files = [("a.S", "a\n#ifdef X\n#else\nb\n".to_string())];
    expect_err(
        hostile(&files, "a.S", CppOptions::default(), T),
        ErrorKind::Syntax,
        "a.S",
        2,
        "unterminated #ifdef",
    );
    let files = [
        ("a.S", "#include \"h.h\"\n#endif\n".to_string()),
        ("h.h", "\n#if 1\n".to_string()),
    ];
    expect_err(
        hostile(&files, "a.S", CppOptions::default(), T),
        ErrorKind::Syntax,
        "h.h",
        2,
        "unterminated #if",
    );
    let files = [("a.S", "a\nb /* never closed\n\n".to_string())];
    expect_err(
        hostile(&files, "a.S", CppOptions::default(), T),
        ErrorKind::Syntax,
        "a.S",
        2,
        "unterminated comment",
    );
    let files = [("a.S", "#define f(x) x\nf(1,\n2\n".to_string())];
    expect_err(
        hostile(&files, "a.S", CppOptions::default(), T),
        ErrorKind::Syntax,
        "a.S",
        4,
        "unterminated argument list",
    );
}

/// A definition that cannot hold an error is lexed when first expanded: the
/// tokens keep the lines and columns they were written at, a redefinition is
/// still compared, and a definition with an error is still an error where
/// it is written, expanded or not.
#[test]
fn definitions_lexed_when_first_expanded_are_as_if_lexed_at_once() {
    let files = [(
        "a.S",
        "#define M /* a\n b */ tok \\\n  more\n#define N(x) x   here\n\nM\nN(1)\n".to_string(),
    )];
    let out = hostile(&files, "a.S", CppOptions::default(), T).unwrap();
    assert_eq!(pp_tokens(&out.text), ["tok", "more", "1", "here"]);
    let o = origin_of(&out, "tok", 0);
    assert_eq!((&*o.file, o.line), ("a.S", 2));
    assert_eq!(&*o.expansion[0].macro_name, "M");
    assert_eq!(o.expansion[0].line, 6);
    assert_eq!(origin_of(&out, "more", 0).line, 3);
    let o = origin_of(&out, "here", 0);
    assert_eq!((o.line, o.expansion[0].line), (4, 7));

    // redefinitions of a definition never expanded
    let files = [(
        "a.S",
        "#define A 1 /* c */ + 2\n#define A 1 + 2\n#define B(x) x\n#define B(y) y\nA\n".to_string(),
    )];
    let out = hostile(&files, "a.S", CppOptions::default(), T).unwrap();
    let w: Vec<(u32, &str)> = out
        .warnings
        .iter()
        .map(|w| (w.line, w.message.as_str()))
        .collect();
    assert_eq!(w, [(4, "\"B\" redefined")]);

    // errors in definitions never expanded
    for (text, line, says) in [
        (
            "x\n#define F(x) x ##\n",
            2,
            "'##' cannot appear at either end",
        ),
        (
            "x\n#define F(x, ...) __VA_OPT__\n",
            2,
            "__VA_OPT__ must be followed",
        ),
        (
            "x\n\n#define F 1 /* never closed\n\n",
            3,
            "unterminated comment",
        ),
    ] {
        let files = [("a.S", text.to_string())];
        expect_err(
            hostile(&files, "a.S", CppOptions::default(), T),
            ErrorKind::Syntax,
            "a.S",
            line,
            says,
        );
    }
}

#[test]
fn error_only_in_active_groups_and_division_by_zero_only_when_evaluated() {
    let ok = "#if 0\n#error no\n#elif 0 && 1/0\n#else\nfine\n#endif\n#warning careful\n";
    let out = hostile(&[("a.S", ok.to_string())], "a.S", CppOptions::default(), T).unwrap();
    assert_eq!(out.text, "fine\n");
    assert_eq!(out.warnings.len(), 1);
    assert_eq!(
        (out.warnings[0].line, out.warnings[0].message.as_str()),
        (7, "#warning careful")
    );
    let bad = "x\n#if 1\n#error stop here\n#endif\n";
    expect_err(
        hostile(&[("a.S", bad.to_string())], "a.S", CppOptions::default(), T),
        ErrorKind::User,
        "a.S",
        3,
        "#error stop here",
    );
    let div = "#define Z 0\n#if 1 / Z\n#endif\n";
    expect_err(
        hostile(&[("a.S", div.to_string())], "a.S", CppOptions::default(), T),
        ErrorKind::Syntax,
        "a.S",
        2,
        "division by zero",
    );
    let missing = "#include <nothere.h>\n";
    let opts = options(&["-Ia", "-Ib"]);
    let e = hostile(&[("a.S", missing.to_string())], "a.S", opts, T).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
}

#[test]
fn huge_lines_take_bounded_time() {
    // 8 MB on one line
    let line = "ab ".repeat(8 << 20 >> 2);
    let out = hostile(
        &[("a.S", format!("#define ab c\n{line}\n"))],
        "a.S",
        CppOptions::default(),
        Duration::from_secs(60),
    )
    .unwrap();
    assert_eq!(out.spans.len(), 8 << 20 >> 2);
    assert!(out.text.starts_with("c c c") && out.text.ends_with("c\n"));
    assert!(
        out.origins.len() < 4,
        "one origin per line and macro, not per token"
    );
    // the output limit
    let mut opts = CppOptions::default();
    opts.limits.max_output = 1 << 20;
    let e = hostile(&[("a.S", format!("{line}\n"))], "a.S", opts, T).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Limit, "{e}");
    // one argument list of millions of tokens
    let e = hostile(
        &[("a.S", format!("#define f(x) x\nf({line})\n"))],
        "a.S",
        CppOptions::default(),
        T,
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Limit, "{e}");
}

// ---- the command ------------------------------------------------------------

#[test]
fn the_cpp_command_takes_gccs_flags() {
    let root = fixtures().join("xen-mini");
    let out = common::patchbot()
        .arg("cpp")
        .arg("--tree")
        .arg(&root)
        .args(["-P", "-undef"])
        .args(X86)
        .arg("xen/arch/x86/xen.lds.S")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lib = run_ours(&root, &X86, "xen/arch/x86/xen.lds.S").unwrap();
    assert_eq!(text, lib.text);
    if gcc_available() {
        assert_eq!(text, run_gcc(&root, &X86, "xen/arch/x86/xen.lds.S"));
    }
    // -D and -U in order, joined and separate forms, an absolute path inside the tree
    let edge = fixtures().join("edge");
    let abs = edge.join("cmdline.S");
    let out = common::patchbot()
        .current_dir(&edge)
        .args([
            "cpp", "-P", "-DA", "-UA", "-DA=2", "-D", "B", "-DC=3", "-U", "C", "-include",
            "forced.h",
        ])
        .arg(&abs)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text, "forced_text \"./forced.h\" 1\n2 1 C D E F(2) 1\n");
    // outside the tree
    let out = common::patchbot()
        .current_dir(&edge)
        .args(["cpp", "-P", "/etc/passwd"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside the tree"));
    // an error: file:line and exit 3
    let out = common::patchbot()
        .args(["cpp", "--tree"])
        .arg(&root)
        .arg("xen/arch/x86/xen.lds.S")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("xen/arch/x86/xen.lds.S:3: error: "),
        "{err}"
    );
    assert!(err.contains("xen/xen.lds.h"), "{err}");
}

#[test]
fn the_cpp_command_prints_linemarkers_and_json() {
    let edge = fixtures().join("edge");
    let out = common::patchbot()
        .current_dir(&edge)
        .args(["cpp", "-Iinc1", "-Iinc2", "include.S"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("# 0 \"include.S\"\n"), "{text}");
    assert!(text.contains("# 1 \"inc1/a.h\" 1\n"), "{text}");
    // the same tokens as -P once markers are dropped
    let plain: String = text
        .lines()
        .filter(|l| !l.starts_with("# "))
        .map(|l| format!("{l}\n"))
        .collect();
    let p = run_ours(&edge, &["-Iinc1", "-Iinc2"], "include.S").unwrap();
    assert_eq!(pp_tokens(&plain), pp_tokens(&p.text));
    if gcc_available() {
        let g = Command::new("gcc")
            .current_dir(&edge)
            .args([
                "-E",
                "-undef",
                "-nostdinc",
                "-x",
                "assembler-with-cpp",
                "-Iinc1",
                "-Iinc2",
                "include.S",
            ])
            .output()
            .unwrap();
        let g = String::from_utf8(g.stdout).unwrap();
        let gplain: String = g
            .lines()
            .filter(|l| !l.starts_with("# "))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(pp_tokens(&gplain), pp_tokens(&plain));
    }

    let root = fixtures().join("xen-mini");
    let v = common::json_of(
        common::patchbot()
            .args(["cpp", "--json", "--tree"])
            .arg(&root)
            .args(X86)
            .arg("xen/arch/x86/xen.lds.S"),
    );
    let text = v["text"].as_str().unwrap();
    let spans = v["spans"].as_array().unwrap();
    let origins = v["origins"].as_array().unwrap();
    let i = text.find("__paramhypfs_start").unwrap();
    let s = spans
        .iter()
        .find(|s| s["start"].as_u64() == Some(i as u64))
        .unwrap();
    let o = &origins[s["origin"].as_u64().unwrap() as usize];
    assert_eq!(o["file"], "xen/include/xen/xen.lds.h");
    assert_eq!(o["expansion"][0]["macro"], "HYPFS_PARAM");
    assert!(v["files_read"].as_array().unwrap().len() >= 5);
    assert!(!v["missing"].as_array().unwrap().is_empty());
}

#[test]
fn options_deserialize_from_toml() {
    let o: CppOptions = toml::from_str(
        r#"
include_dirs = ["xen/include"]
forced_includes = ["xen/include/xen/config.h"]
defines = [{ define = "__XEN__" }, { undef = "FOO" }]
predefines = [["__x86_64__", "1"]]
[limits]
max_include_depth = 50
"#,
    )
    .unwrap();
    assert_eq!(
        o.defines,
        [
            Define::Define("__XEN__".into()),
            Define::Undef("FOO".into())
        ]
    );
    assert_eq!(o.limits.max_include_depth, 50);
    assert_eq!(o.limits.max_output, cpp::CppLimits::default().max_output);
    // predefines are the target's: -undef drops them, not __ASSEMBLER__
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("a.S"),
        "__x86_64__ __ASSEMBLER__ __STDC__\n",
    )
    .unwrap();
    let vfs = DirVfs::new(tmp.path()).unwrap();
    let mut o = o.clone();
    o.forced_includes.clear();
    assert_eq!(cpp::preprocess(&vfs, "a.S", &o).unwrap().text, "1 1 1\n");
    let mut u = o.clone();
    u.undef = true;
    assert_eq!(
        cpp::preprocess(&vfs, "a.S", &u).unwrap().text,
        "__x86_64__ 1 1\n"
    );
}

/// Validation on a real Xen clone (not run by default: set PATCHBOT_XEN_REPO to a
/// xen.git and run `cargo test --test lds_cpp -- --ignored`): every
/// architecture's `xen.lds.S` as the build preprocesses it (with a stand-in
/// `autoconf.h` and the target's main predefines given as -D), with and without
/// -P, must be gcc's output byte for byte.
#[test]
#[ignore]
fn real_xen_scripts_match_gcc() {
    let Ok(repo) = std::env::var("PATCHBOT_XEN_REPO") else {
        return;
    };
    if !gcc_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let archive = Command::new("git")
        .args(["-C", &repo, "archive", "HEAD", "xen/include", "xen/arch"])
        .output()
        .unwrap();
    assert!(archive.status.success());
    let mut tar = Command::new("tar")
        .args(["-x", "-C"])
        .arg(tmp.path())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    tar.stdin
        .take()
        .unwrap()
        .write_all(&archive.stdout)
        .unwrap();
    assert!(tar.wait().unwrap().success());
    let root = tmp.path().join("xen");
    let auto = [
        "CONFIG_CC_SPLIT_SECTIONS",
        "CONFIG_HYPFS",
        "CONFIG_LIVEPATCH",
        "CONFIG_PV",
        "CONFIG_HVM",
        "CONFIG_64BIT",
        "CONFIG_ARM_64",
        "CONFIG_MMU",
        "CONFIG_RISCV_64",
        "CONFIG_PPC64",
        "CONFIG_XEN_IBT",
        "CONFIG_GRANT_TABLE",
        "CONFIG_VIDEO",
        "CONFIG_ACPI",
        "CONFIG_HAS_DEVICE_TREE",
        "CONFIG_HAS_PCI",
        "CONFIG_DEBUG",
    ]
    .iter()
    .map(|c| format!("#define {c} 1\n"))
    .collect::<String>()
        + "#define CONFIG_NR_CPUS 256\n#define CONFIG_PAGING_LEVELS 4\n";
    std::fs::create_dir_all(root.join("include/generated")).unwrap();
    std::fs::write(root.join("include/generated/autoconf.h"), auto).unwrap();
    for (arch, target) in [
        ("x86", &["-D__x86_64__", "-D__ELF__", "-D__LP64__"][..]),
        ("arm", &["-D__aarch64__", "-D__LP64__"]),
        ("riscv", &["-D__riscv", "-D__riscv_xlen=64", "-D__LP64__"]),
        ("ppc", &["-D__powerpc64__", "-D__LP64__"]),
    ] {
        let inc = format!("arch/{arch}/include");
        let mut flags = target.to_vec();
        flags.extend([
            "-D__ASSEMBLY__",
            "-D__XEN__",
            "-DLINKER_SCRIPT",
            "-I",
            "include",
            "-I",
            &inc,
            "-include",
            "include/xen/config.h",
        ]);
        let file = format!("arch/{arch}/xen.lds.S");
        let ours = run_ours(&root, &flags, &file).unwrap_or_else(|e| panic!("{arch}: {e}"));
        assert_eq!(ours.text, run_gcc(&root, &flags, &file), "{arch}");
        assert!(ours.files_read.len() > 10, "{arch}: {:?}", ours.files_read);
        let vfs = DirVfs::new(&root).unwrap();
        let mut opts = options(&flags);
        opts.undef = true;
        opts.line_markers = true;
        let marked = cpp::preprocess(&vfs, &file, &opts).unwrap();
        let g = Command::new("gcc")
            .current_dir(&root)
            .args(["-E", "-undef", "-nostdinc", "-x", "assembler-with-cpp"])
            .args(&flags)
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(
            marked.text,
            String::from_utf8(g.stdout).unwrap(),
            "{arch} with linemarkers"
        );
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    // a 2 MB thread stack, as test threads have
    let mut s = String::from("#define f(x) x\n");
    s.push_str(&"f(".repeat(100_000));
    s.push_str(&")".repeat(100_000));
    s.push('\n');
    let e = hostile(&[("a.S", s)], "a.S", CppOptions::default(), T).unwrap_err();
    assert_eq!((e.kind, e.line), (ErrorKind::Limit, 2), "{e}");
    // just under the limit works, as gcc
    let mut s = String::from("#define f(x) [x]\n");
    s.push_str(&"f(".repeat(150));
    s.push('1');
    s.push_str(&")".repeat(150));
    s.push('\n');
    let out = hostile(&[("a.S", s)], "a.S", CppOptions::default(), T).unwrap();
    assert_eq!(
        out.text,
        format!("{}1{}\n", "[".repeat(150), "]".repeat(150))
    );
    for expr in [
        format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000)),
        format!("{}1", "- ".repeat(100_000)),
        format!("{}1", "!".repeat(100_000)),
        "1 ? ".repeat(100_000) + "1" + &" : 0".repeat(100_000),
    ] {
        let e = hostile(
            &[("a.S", format!("\n#if {expr}\n#endif\n"))],
            "a.S",
            CppOptions::default(),
            T,
        )
        .unwrap_err();
        assert_eq!((e.kind, e.line), (ErrorKind::Syntax, 2), "{e}");
        assert!(e.message.contains("nested"), "{e}");
    }
    // ordinary nesting in #if is fine
    let ok = format!(
        "#if {}1{} == 1\nyes\n#endif\n",
        "(".repeat(50),
        ")".repeat(50)
    );
    assert_eq!(
        hostile(&[("a.S", ok)], "a.S", CppOptions::default(), T)
            .unwrap()
            .text,
        "yes\n"
    );
}

/// Random inputs from a preprocessor-heavy alphabet: an answer (output or an
/// error with a line in the file), never a panic or a hang.
#[test]
fn random_inputs_end_in_output_or_an_error() {
    const PIECES: [&str; 40] = [
        "#define ",
        "#undef ",
        "#if ",
        "#ifdef ",
        "#ifndef ",
        "#elif ",
        "#else",
        "#endif",
        "#include ",
        "#include_next ",
        "#line ",
        "#error ",
        "#warning ",
        "#pragma once",
        "# ",
        "f",
        "g",
        "x",
        "(",
        ")",
        ",",
        "##",
        "#",
        "...",
        "__VA_ARGS__",
        "__VA_OPT__",
        "defined",
        "1",
        "0x10",
        "'",
        "\"",
        "/*",
        "*/",
        "//",
        "\\",
        "\n",
        " ",
        "<a.h>",
        "\"a.h\"",
        "__LINE__",
    ];
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let tmp = tempfile::tempdir().unwrap();
    let vfs = DirVfs::new(tmp.path()).unwrap();
    let mut opts = CppOptions::default();
    opts.limits.max_work = 200_000;
    let start = Instant::now();
    for case in 0..400 {
        let n = 5 + (next() % 120) as usize;
        let text: String = (0..n).map(|_| PIECES[(next() % 40) as usize]).collect();
        std::fs::write(tmp.path().join("a.S"), &text).unwrap();
        std::fs::write(tmp.path().join("a.h"), &text).unwrap();
        match cpp::preprocess(&vfs, "a.S", &opts) {
            Ok(out) => {
                for s in &out.spans {
                    assert!(out.text.is_char_boundary(s.start as usize));
                    assert!((s.end as usize) <= out.text.len());
                }
            }
            Err(e) => assert!(
                e.file == "a.S" || e.file == "a.h" || e.file.starts_with('<'),
                "case {case}: {e}\n{text:?}"
            ),
        }
    }
    assert!(start.elapsed() < Duration::from_secs(60));
}
