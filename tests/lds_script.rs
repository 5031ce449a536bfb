//! The ld script parser (`patchbot::lds::script`) on fixture trees shaped like
//! Xen's and Linux's linker scripts (preprocessed by patchbot's own
//! preprocessor, whose output is checked to be the real gcc's), on a fixture
//! of every construct, on hand-written snippets, and on bad input.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use patchbot::lds::script::{
    self, AssignOp, CommandKind, Constraint, DataSize, ExprKind, InputDescription, ItemKind,
    NameBuiltin, ParseError, ParseLimits, Script, SectionType, SortKind, Statement, StatementKind,
};

// ---- fixtures and their preprocessing ------------------------------------

/// A fixture script and how its build preprocesses it.
struct Fixture {
    name: &'static str,
    /// Tree under `tests/fixtures/lds/`; the paths below are relative to it.
    tree: &'static str,
    script: &'static str,
    includes: &'static [&'static str],
    forced: &'static [&'static str],
    defines: &'static [&'static str],
}

const XEN_DEFINES: &[&str] = &["__ASSEMBLY__", "LINKER_SCRIPT", "__XEN__"];
const LINUX_DEFINES: &[&str] = &["__ASSEMBLY__", "LINKER_SCRIPT", "__KERNEL__"];

const FIXTURES: &[Fixture] = &[
    Fixture {
        name: "xen-x86",
        tree: "xen",
        script: "xen/arch/x86/xen.lds.S",
        includes: &["configs/x86", "xen/include", "xen/arch/x86/include"],
        forced: &["xen/include/xen/config.h"],
        defines: XEN_DEFINES,
    },
    Fixture {
        name: "xen-arm",
        tree: "xen",
        script: "xen/arch/arm/xen.lds.S",
        includes: &["configs/arm", "xen/include", "xen/arch/arm/include"],
        forced: &["xen/include/xen/config.h"],
        // The target's predefine, as the arm64 cross compiler gives it.
        defines: &["__ASSEMBLY__", "LINKER_SCRIPT", "__XEN__", "__aarch64__=1"],
    },
    Fixture {
        name: "xen-riscv",
        tree: "xen",
        script: "xen/arch/riscv/xen.lds.S",
        includes: &["configs/riscv", "xen/include", "xen/arch/riscv/include"],
        forced: &["xen/include/xen/config.h"],
        defines: XEN_DEFINES,
    },
    Fixture {
        name: "xen-ppc",
        tree: "xen",
        script: "xen/arch/ppc/xen.lds.S",
        includes: &["configs/ppc", "xen/include", "xen/arch/ppc/include"],
        forced: &["xen/include/xen/config.h"],
        defines: XEN_DEFINES,
    },
    Fixture {
        name: "linux-x86",
        tree: "linux",
        script: "arch/x86/kernel/vmlinux.lds.S",
        includes: &["configs/x86", "arch/x86/include", "include"],
        forced: &["include/linux/kconfig.h"],
        defines: LINUX_DEFINES,
    },
    Fixture {
        name: "linux-arm64",
        tree: "linux",
        script: "arch/arm64/kernel/vmlinux.lds.S",
        includes: &["configs/arm64", "arch/arm64/include", "include"],
        forced: &["include/linux/kconfig.h"],
        defines: LINUX_DEFINES,
    },
];

fn fixture(name: &str) -> &'static Fixture {
    FIXTURES
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
}

fn gcc_available() -> bool {
    let ok = Command::new("gcc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    common::reference_tool("gcc", ok)
}

/// The preprocessed text of a fixture: `gcc -E -P -x assembler-with-cpp
/// -undef -D... -I... -include ...`, as the build runs it. The one place that
/// says how fixtures are preprocessed, so it can be switched to patchbot's
/// own preprocessor (`src/lds/cpp.rs`). `None` when gcc is missing (outside CI).
fn preprocess(f: &Fixture) -> Option<String> {
    // patchbot's own preprocessor, reading the fixture tree through the
    // confined view; where gcc is installed its output must be the same bytes
    let root = common::fixture("lds").join(f.tree);
    let vfs = patchbot::tree::vfs::DirVfs::new(&root).unwrap();
    let opts = patchbot::lds::cpp::CppOptions {
        include_dirs: f.includes.iter().map(|s| s.to_string()).collect(),
        forced_includes: f.forced.iter().map(|s| s.to_string()).collect(),
        defines: f
            .defines
            .iter()
            .map(|d| patchbot::lds::cpp::Define::Define(d.to_string()))
            .collect(),
        undef: true,
        ..Default::default()
    };
    let ours = patchbot::lds::cpp::preprocess(&vfs, f.script, &opts)
        .unwrap_or_else(|e| panic!("patchbot's cpp failed on {}: {e}", f.name))
        .text;
    if !gcc_available() {
        return Some(ours);
    }
    let mut c = Command::new("gcc");
    c.current_dir(&root).args([
        "-E",
        "-P",
        "-x",
        "assembler-with-cpp",
        "-undef",
        "-nostdinc",
    ]);
    for d in f.defines {
        c.arg(format!("-D{d}"));
    }
    for i in f.includes {
        c.arg("-I").arg(i);
    }
    for inc in f.forced {
        c.arg("-include").arg(inc);
    }
    c.arg(f.script).args(["-o", "-"]);
    let out = c.output().expect("run gcc");
    assert!(
        out.status.success(),
        "gcc failed on {}: {}",
        f.name,
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = String::from_utf8(out.stdout).expect("gcc output is UTF-8");
    assert_eq!(ours, theirs, "{}: patchbot's cpp and gcc differ", f.name);
    Some(ours)
}

/// A fixture preprocessed and parsed; `None` when gcc is missing.
fn parsed(name: &str) -> Option<(String, Script)> {
    let text = preprocess(fixture(name))?;
    let s = script::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    Some((text, s))
}

fn syntax_fixture() -> (String, Script) {
    let text = std::fs::read_to_string(common::fixture("lds/syntax/all-constructs.ld")).unwrap();
    let s = script::parse(&text).unwrap_or_else(|e| panic!("all-constructs.ld: {e}"));
    (text, s)
}

// ---- helpers ---------------------------------------------------------------

/// The JSON of a script without its spans: what "equal modulo spans" compares.
fn without_spans(s: &Script) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.retain(|k, _| !k.ends_with("span"));
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(s).expect("the AST serializes");
    strip(&mut v);
    v
}

fn assert_round_trips(name: &str, s: &Script) {
    let printed = s.to_string();
    let again = script::parse(&printed)
        .unwrap_or_else(|e| panic!("{name}: printed script does not parse: {e}\n{printed}"));
    assert_eq!(
        without_spans(s),
        without_spans(&again),
        "{name}: parse(print(parse(x))) differs from parse(x); printed:\n{printed}"
    );
    assert_eq!(
        printed,
        again.to_string(),
        "{name}: printing is not a fixpoint"
    );
}

fn names(s: &Script) -> Vec<&str> {
    s.output_sections()
        .iter()
        .map(|o| o.name.as_str())
        .collect()
}

/// Every dead description: (output section, description as printed).
fn dead(s: &Script) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for o in s.output_sections() {
        for (_, d) in o.inputs() {
            if d.dead {
                out.push((o.name.clone(), d.to_string()));
            }
        }
    }
    out
}

fn patterns(d: &InputDescription) -> Vec<&str> {
    d.sections
        .as_ref()
        .map(|l| l.iter().map(|p| p.pattern.as_str()).collect())
        .unwrap_or_default()
}

fn input(st: &Statement) -> &InputDescription {
    match &st.kind {
        StatementKind::Input(d) => d,
        other => panic!("not an input description: {other:?}"),
    }
}

fn text_of(text: &str, span: script::Span) -> &str {
    &text[span.start..span.end]
}

fn parse_err(text: &str) -> ParseError {
    match script::parse(text) {
        Ok(s) => panic!("parsed, expected an error: {s:?}"),
        Err(e) => e,
    }
}

/// The value of `x = <expr>;` evaluated as a constant.
fn const_of(expr: &str) -> Option<u64> {
    let text = format!("x = {expr};");
    let s = script::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
    match &s.commands[0].kind {
        CommandKind::Assignment(a) => a.value.eval_const(),
        other => panic!("{other:?}"),
    }
}

fn top_assignments(s: &Script) -> Vec<&script::Assignment> {
    s.commands
        .iter()
        .filter_map(|c| match &c.kind {
            CommandKind::Assignment(a) => Some(a),
            _ => None,
        })
        .collect()
}

fn top_asserts(s: &Script) -> usize {
    s.commands
        .iter()
        .filter(|c| matches!(c.kind, CommandKind::Assert(_)))
        .count()
}

// ---- every fixture -----------------------------------------------------------

#[test]
fn every_fixture_parses_and_round_trips() {
    let (_, s) = syntax_fixture();
    assert_round_trips("all-constructs.ld", &s);
    for f in FIXTURES {
        let Some((_, s)) = parsed(f.name) else { return };
        assert!(s.marks_complete, "{}", f.name);
        assert!(
            s.output_sections().len() >= 10,
            "{}: only {} output sections",
            f.name,
            s.output_sections().len()
        );
        assert_round_trips(f.name, &s);
    }
}

// ---- Xen ---------------------------------------------------------------------

#[test]
fn xen_x86_text_section_and_the_alignment_after_the_per_function_sections() {
    let Some((text, s)) = parsed("xen-x86") else {
        return;
    };
    assert_eq!(
        &names(&s)[..8],
        &[
            ".text",
            ".rodata",
            ".note.gnu.build-id",
            ".init.text",
            ".init.data",
            ".data.read_mostly",
            ".data",
            ".bss"
        ]
    );
    let t = s.output_section(".text").unwrap();
    assert_eq!(text_of(&text, t.name_span), ".text");
    // DECL_SECTION(.text) with CONFIG_LD_IS_GNU: `AT(ADDR(".text") - base)`.
    let at = t.at.as_ref().expect("AT(...)");
    match &at.kind {
        ExprKind::Binary { lhs, rhs, .. } => {
            assert!(matches!(&lhs.kind,
                ExprKind::NameOf { function: NameBuiltin::Addr, name } if name == ".text"));
            assert_eq!(rhs.eval_const(), Some(0xffff_82d0_4000_0000));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(t.phdrs, ["text"]);
    assert_eq!(t.fill.as_ref().and_then(|e| e.eval_const()), Some(0x9090));

    // The description whose list holds `.text.*` exactly, not the one with
    // `.text.*_unlikely`/`.text.unlikely.*`.
    let (i, d) = t.find_input(".text.*").expect("*(.text.*)");
    assert_eq!(patterns(d), [".text.*"]);
    assert!(!d.dead);
    let (u, _) = t.find_input(".text.unlikely.*").unwrap();
    assert!(u < i);
    assert_eq!(
        patterns(input(&t.statements[u])),
        [".text.unlikely", ".text.*_unlikely", ".text.unlikely.*"]
    );
    // The thunk description right after it is dead, covered by it.
    let thunks = input(&t.statements[i + 1]);
    assert_eq!(patterns(thunks), [".text.__x86_indirect_thunk_*"]);
    assert!(thunks.dead);
    let cover = thunks.sections.as_ref().unwrap()[0].covered_by.unwrap();
    assert_eq!((cover.section, cover.statement, cover.pattern), (0, i, 0));
    assert!(std::ptr::eq(s.covering(cover).unwrap(), d));
    // So the first live statement after `*(.text.*)` is the alignment.
    let (j, next) = t.first_live_statement_after(i).unwrap();
    assert_eq!(j, i + 2);
    let n = next.as_align_assignment().expect(". = ALIGN(N);");
    assert_eq!(n.eval_const(), Some(16));
    assert!(text_of(&text, next.span).starts_with(". = ALIGN(16)"));

    // `. = ALIGN(PAGE_SIZE)` is `ALIGN((1 << 12))` after cpp: 4096.
    let first_align = t
        .statements
        .iter()
        .find_map(|st| st.as_align_assignment())
        .unwrap();
    assert_eq!(first_align.eval_const(), Some(4096));
}

#[test]
fn xen_x86_dead_descriptions_across_output_sections() {
    let Some((_, s)) = parsed("xen-x86") else {
        return;
    };
    // `.text.*` in .text (CONFIG_CC_SPLIT_SECTIONS) takes `.text.startup`
    // from .init.text and `.text.exit` from /DISCARD/: ld's first match.
    assert_eq!(
        dead(&s),
        [
            (
                ".text".to_string(),
                "*(.text.__x86_indirect_thunk_*)".to_string()
            ),
            (".init.text".to_string(), "*(.text.startup)".to_string()),
            ("/DISCARD/".to_string(), "*(.text.exit)".to_string()),
        ]
    );
    let discard = s.output_section("/DISCARD/").unwrap();
    let (_, exit) = discard.find_input(".exit.text").unwrap();
    assert!(!exit.dead);
}

#[test]
fn xen_x86_commands() {
    let Some((text, s)) = parsed("xen-x86") else {
        return;
    };
    let mut saw = 0;
    for c in &s.commands {
        match &c.kind {
            CommandKind::OutputFormat { formats } => {
                assert_eq!(formats, &["elf64-x86-64"; 3]);
                saw += 1;
            }
            CommandKind::OutputArch { arch } => {
                assert_eq!(arch, "i386:x86-64");
                saw += 1;
            }
            CommandKind::Entry { symbol } => {
                assert_eq!(symbol, "start_pa");
                saw += 1;
            }
            CommandKind::Phdrs { phdrs } => {
                let p: Vec<(&str, String)> = phdrs
                    .iter()
                    .map(|p| (p.name.as_str(), p.phdr_type.to_string()))
                    .collect();
                assert_eq!(
                    p,
                    [
                        ("text", "PT_LOAD".to_string()),
                        ("note", "PT_NOTE".to_string())
                    ]
                );
                saw += 1;
            }
            _ => {}
        }
    }
    assert_eq!(saw, 4);
    // CONFIG_KEXEC is set: four top-level ASSERTs, with their messages.
    assert_eq!(top_asserts(&s), 4);
    let msgs: Vec<&str> = s
        .commands
        .iter()
        .filter_map(|c| match &c.kind {
            CommandKind::Assert(a) => Some(a.message.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(msgs[1], "kexec_reloc is too large");
    // The build-id section keeps its quoted name through DECL_SECTION's `#x`.
    let b = s.output_section(".note.gnu.build-id").unwrap();
    assert_eq!(b.phdrs, ["note", "text"]);
    assert!(text_of(&text, b.at.as_ref().unwrap().span).contains("ADDR(\".note.gnu.build-id\")"));
    // `__2M_rwdata_end = ALIGN(SECTION_ALIGN);` aligns `.`: not a constant,
    // but its argument is 2M.
    let item = s
        .sections_items()
        .into_iter()
        .find_map(|it| match &it.kind {
            ItemKind::Assignment(a) if a.target == "__2M_rwdata_end" => Some(a),
            _ => None,
        })
        .unwrap();
    assert_eq!(item.value.eval_const(), None);
    assert_eq!(
        item.value.align_argument().and_then(|e| e.eval_const()),
        Some(2 << 20)
    );
}

#[test]
fn xen_arm_alignment_after_text_star_and_phdr_with_space() {
    let Some((_, s)) = parsed("xen-arm") else {
        return;
    };
    let t = s.output_section(".text").unwrap();
    assert!(t.at.is_none(), "arm has no DECL_SECTION_WITH_LADDR");
    let (i, _) = t.find_input(".text.*").unwrap();
    let (_, next) = t.first_live_statement_after(i).unwrap();
    assert_eq!(
        next.as_align_assignment().and_then(|e| e.eval_const()),
        Some(4)
    );
    // `} : text` (with a space) is a program header too.
    assert_eq!(
        s.output_section(".data.ro_after_init").unwrap().phdrs,
        ["text"]
    );
    let data = s.output_section(".data").unwrap();
    assert!(data
        .statements
        .iter()
        .any(|st| matches!(st.kind, StatementKind::Constructors { sorted: false })));
    assert_eq!(
        dead(&s),
        [("/DISCARD/".to_string(), "*(.text.exit)".to_string())]
    );
    assert!(s
        .commands
        .iter()
        .any(|c| matches!(&c.kind, CommandKind::OutputArch { arch } if arch == "aarch64")));
}

#[test]
fn xen_riscv_gathers_text_star_without_function_alignment() {
    let Some((_, s)) = parsed("xen-riscv") else {
        return;
    };
    let t = s.output_section(".text").unwrap();
    let (i, _) = t.find_input(".text.*").unwrap();
    let (_, next) = t.first_live_statement_after(i).unwrap();
    // The next statement aligns to IDENT_AREA_SIZE, a symbol: not the
    // function alignment, and not a constant.
    let n = next.as_align_assignment().unwrap();
    assert!(matches!(&n.kind, ExprKind::Symbol { name } if name == "IDENT_AREA_SIZE"));
    assert_eq!(n.eval_const(), None);
    assert_eq!(top_asserts(&s), 3);
}

#[test]
fn xen_ppc_without_split_sections_has_no_text_star() {
    let Some((_, s)) = parsed("xen-ppc") else {
        return;
    };
    let t = s.output_section(".text").unwrap();
    assert!(t.find_input(".text.*").is_none());
    assert!(t.find_input(".text").is_some());
    // Nothing earlier takes `.text.exit` now.
    assert!(dead(&s).is_empty(), "{:?}", dead(&s));
    assert!(s.commands.iter().any(|c| matches!(&c.kind,
        CommandKind::OutputArch { arch } if arch == "powerpc:common64")));
    let got = s.output_section(".got").unwrap();
    assert_eq!(patterns(got.inputs().next().unwrap().1), [".got", ".toc"]);
}

// ---- Linux -------------------------------------------------------------------

#[test]
fn linux_x86_per_function_pattern_from_the_macro() {
    let Some((text, s)) = parsed("linux-x86") else {
        return;
    };
    assert_eq!(
        &names(&s)[..6],
        &[
            ".text",
            ".rodata",
            ".rodata1",
            "__ksymtab",
            "__ex_table",
            ".notes"
        ]
    );
    // `. = __START_KERNEL;` is `(map + ALIGN(0x1000000, 0x200000))`.
    let first = s.sections_items()[0];
    match &first.kind {
        ItemKind::Assignment(a) => {
            assert_eq!(a.target, ".");
            assert_eq!(a.value.eval_const(), Some(0xffff_ffff_8100_0000));
        }
        other => panic!("{other:?}"),
    }
    let t = s.output_section(".text").unwrap();
    let (i, d) = t.find_input(".text.[0-9a-zA-Z_]*").expect("TEXT_MAIN");
    assert_eq!(patterns(d), [".text", ".text.[0-9a-zA-Z_]*", ".text.fixup"]);
    // The statement before TEXT_MAIN's hot list is ALIGN_FUNCTION().
    let before = t.statements[..i]
        .iter()
        .rev()
        .find_map(|st| st.as_align_assignment())
        .unwrap();
    assert_eq!(before.eval_const(), Some(16));
    // `[0-9a-zA-Z_]*` takes `.text.unlikely*`, `.text.unknown*` and
    // `.text.__x86.thunk_cold`, not `.text..__x86.indirect_thunk` (a dot is
    // not in the class); nor `.text.startup` of .init.text, `.text.exit` of
    // both /DISCARD/s.
    assert_eq!(
        dead(&s),
        [
            (".text".into(), "*(.text.unlikely .text.unlikely.*)".into()),
            (".text".into(), "*(.text.unknown .text.unknown.*)".into()),
            (".text".into(), "*(.text.__x86.thunk_cold)".into()),
            (".init.text".into(), "*(.text.startup)".into()),
            ("/DISCARD/".into(), "*(.text.exit)".into()),
            ("/DISCARD/".into(), "*(.text.exit)".into()),
        ] as [(String, String); 6]
    );
    assert!(!input(&t.statements[t.find_input(".text..__x86.indirect_thunk").unwrap().0]).dead);
    assert_eq!(t.fill.as_ref().unwrap().eval_const(), Some(0xcccc_cccc));
    let ksym = s.output_section("__ksymtab").unwrap();
    let (_, k) = ksym.inputs().next().unwrap();
    assert!(k.keep);
    let p = &k.sections.as_ref().unwrap()[0];
    assert_eq!(
        (p.pattern.as_str(), p.sort.as_slice()),
        ("___ksymtab+*", &[SortKind::Name][..])
    );
    assert_eq!(s.output_section(".notes").unwrap().phdrs, ["text", "note"]);
    assert_eq!(s.output_section(".init.text").unwrap().phdrs, ["init"]);
    let brk = s.output_section(".brk").unwrap();
    let bump = brk
        .statements
        .iter()
        .find_map(|st| match &st.kind {
            StatementKind::Assignment(a) if a.op == AssignOp::Add => Some(a),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        (bump.target.as_str(), bump.value.eval_const()),
        (".", Some(65536))
    );
    // Top level: `jiffies = jiffies_64;`, `. = ASSERT(...)`, INIT_PER_CPU.
    let tops = top_assignments(&s);
    assert_eq!(tops[0].target, "jiffies");
    assert!(tops.iter().any(|a| a.target == "."
        && matches!(&a.value.kind, ExprKind::Assert { message, .. }
            if message == "kernel image bigger than KERNEL_IMAGE_SIZE")));
    assert!(tops.iter().any(|a| a.target == "init_per_cpu__gdt_page"));
    let phdr_flags: Vec<Option<u64>> = s
        .commands
        .iter()
        .find_map(|c| match &c.kind {
            CommandKind::Phdrs { phdrs } => Some(
                phdrs
                    .iter()
                    .map(|p| p.flags.as_ref().and_then(|e| e.eval_const()))
                    .collect(),
            ),
            _ => None,
        })
        .unwrap();
    assert_eq!(phdr_flags, [Some(5), Some(6), Some(6), Some(7), Some(0)]);
    // A statement from TEXT_TEXT's one-line expansion points into that line.
    let span = t.statements[i].span;
    assert_eq!(
        text_of(&text, span),
        "*(.text .text.[0-9a-zA-Z_]* .text.fixup)"
    );
}

#[test]
fn linux_arm64_discard_first_takes_exit_text() {
    let Some((_, s)) = parsed("linux-arm64") else {
        return;
    };
    assert_eq!(
        &names(&s)[..4],
        &["/DISCARD/", "/DISCARD/", ".head.text", ".text"]
    );
    let t = s.output_section(".text").unwrap();
    assert_eq!(t.align.as_ref().unwrap().eval_const(), Some(0x10000));
    // Without CONFIG_LD_DEAD_CODE_DATA_ELIMINATION TEXT_MAIN is `.text` alone.
    assert!(t.find_input(".text.[0-9a-zA-Z_]*").is_none());
    assert!(t.find_input(".text").is_some());
    // /DISCARD/ comes first here, so .exit.text's inputs (EXIT_TEXT, with
    // MEM_DISCARD's `.memexit.text`) are dead; and ELF_DETAILS' `.comment`
    // repeats the one STABS_DEBUG already placed.
    assert_eq!(
        dead(&s),
        [
            (".exit.text".into(), "*(.exit.text)".into()),
            (".exit.text".into(), "*(.text.exit)".into()),
            (".exit.text".into(), "*(.memexit.text)".into()),
            (".comment".into(), "*(.comment)".into()),
        ] as [(String, String); 4]
    );
    let comments: Vec<usize> = names(&s)
        .iter()
        .enumerate()
        .filter(|(_, n)| **n == ".comment")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(comments.len(), 2);
    let second = s.output_sections()[comments[1]];
    let c = second.inputs().next().unwrap().1.sections.as_ref().unwrap()[0]
        .covered_by
        .unwrap();
    assert_eq!(c.section, comments[0]);
    let pad = s.output_section(".pecoff_edata_padding").unwrap();
    assert!(matches!(&pad.statements[0].kind,
        StatementKind::Data { size: DataSize::Byte, value } if value.eval_const() == Some(0)));
    assert_eq!(
        s.output_section(".mmuoff.data.write")
            .unwrap()
            .align
            .as_ref()
            .unwrap()
            .eval_const(),
        Some(0x800)
    );
    assert!(s.sections_items().iter().any(|it| matches!(&it.kind,
        ItemKind::Assignment(a) if a.target == "__efistub_primary_entry"
            && a.wrapper == Some(script::AssignWrapper::Provide))));
    assert_eq!(top_asserts(&s), 3);
}

// ---- every construct -----------------------------------------------------------

#[test]
fn all_constructs() {
    let (text, s) = syntax_fixture();
    let kinds: Vec<&str> = s
        .commands
        .iter()
        .map(|c| {
            text_of(&text, c.span)
                .split(['(', ' ', '\n'])
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "OUTPUT_FORMAT",
            "OUTPUT_ARCH",
            "OUTPUT",
            "TARGET",
            "SEARCH_DIR",
            "STARTUP",
            "INPUT",
            "GROUP",
            "ENTRY",
            "EXTERN",
            "FORCE_COMMON_ALLOCATION",
            "INHIBIT_COMMON_ALLOCATION",
            "FORCE_GROUP_ALLOCATION",
            "NOCROSSREFS",
            "NOCROSSREFS_TO",
            "LD_FEATURE",
            "INCLUDE",
            "MEMORY",
            "REGION_ALIAS",
            "PHDRS",
            "stack_size",
            "heap_size",
            "_minimum",
            "SECTIONS",
            "INSERT",
            "ASSERT"
        ]
    );
    for c in &s.commands {
        match &c.kind {
            CommandKind::Input { files } => {
                let f: Vec<(&str, bool, bool)> = files
                    .iter()
                    .map(|f| (f.name.as_str(), f.library, f.as_needed))
                    .collect();
                assert_eq!(
                    f,
                    [
                        ("main.o", false, false),
                        ("m", true, false),
                        ("libfoo.so", false, true),
                        ("bar", true, true),
                        ("tail.o", false, false)
                    ]
                );
            }
            CommandKind::Memory { regions } => {
                type Region<'a> = (&'a str, Vec<&'a str>, Option<u64>, Option<u64>);
                let r: Vec<Region> = regions
                    .iter()
                    .map(|r| {
                        (
                            r.name.as_str(),
                            r.attributes.iter().map(String::as_str).collect(),
                            r.origin.eval_const(),
                            r.length.eval_const(),
                        )
                    })
                    .collect();
                assert_eq!(
                    r,
                    [
                        ("rom", vec!["rx"], Some(0x0800_0000), Some(512 * 1024)),
                        (
                            "ram",
                            vec!["rwx", "!x"],
                            Some(0x2000_0000),
                            Some(128 * 1024)
                        ),
                        ("ccm", vec![], Some(0x1000_0000), Some(64 * 1024)),
                    ]
                );
            }
            CommandKind::Phdrs { phdrs } => {
                assert_eq!(phdrs.len(), 4);
                assert!(phdrs[0].phdrs && !phdrs[0].filehdr);
                assert!(phdrs[1].filehdr && phdrs[1].phdrs);
                assert_eq!(phdrs[1].flags.as_ref().unwrap().eval_const(), Some(5));
                assert_eq!(
                    phdrs[2].at.as_ref().unwrap().eval_const(),
                    Some(0x2000_0000)
                );
                assert_eq!(phdrs[3].phdr_type.eval_const(), Some(2));
            }
            CommandKind::Insert { before, section } => {
                assert!(!before);
                assert_eq!(section, ".text");
            }
            CommandKind::Assignment(a) if a.target == "_minimum" => {
                // $10 + 10h + 101b + 17o + 10d + 010 + 0X1F
                assert_eq!(a.value.eval_const(), Some(16 + 16 + 5 + 15 + 10 + 8 + 31));
            }
            CommandKind::Assignment(a) if a.target == "heap_size" => {
                assert_eq!(a.value.eval_const(), Some(1 << 20));
            }
            _ => {}
        }
    }

    let text_sec = s.output_section(".text").unwrap();
    assert_eq!(
        text_sec.address.as_ref().unwrap().to_string(),
        "ALIGN(0x100)"
    );
    assert_eq!(
        text_sec.at.as_ref().unwrap().eval_const(),
        Some(0x0800_0400)
    );
    assert!(text_sec.align_with_input);
    assert_eq!(
        (text_sec.region.as_deref(), text_sec.lma_region.as_deref()),
        (Some("rom"), None)
    );
    assert_eq!(text_sec.phdrs, ["text"]);
    assert_eq!(text_sec.fill.as_ref().unwrap().eval_const(), Some(0));
    let isr = s.output_section(".isr_vector").unwrap();
    assert_eq!(isr.align.as_ref().unwrap().eval_const(), Some(4));
    assert_eq!(isr.subalign.as_ref().unwrap().eval_const(), Some(4));

    // Both placements of EXCLUDE_FILE.
    let (_, ex) = text_sec.find_input(".text.hot").unwrap();
    let l = ex.sections.as_ref().unwrap();
    assert_eq!(l[0].exclude, ["*crtend.o", "*otherfile.o"]);
    assert!(
        l[1].exclude.is_empty(),
        "it applies to the next pattern only"
    );
    let (_, ex2) = text_sec.find_input(".text.startup").unwrap();
    assert_eq!(ex2.file.as_ref().unwrap().exclude, ["*crtbegin.o"]);
    // Archive members, file-only descriptions, flags, the old `[ ]` form.
    let files: Vec<Option<&str>> = text_sec
        .inputs()
        .map(|(_, d)| d.file.as_ref().map(|f| f.pattern.as_str()))
        .collect();
    assert!(files.contains(&Some("libc.a:memcpy.o")));
    assert!(files.contains(&Some("*libgcc.a:*")));
    assert!(files.contains(&None));
    let crt1 = text_sec
        .inputs()
        .find(|(_, d)| d.file.as_ref().is_some_and(|f| f.pattern == "crt1.o"))
        .unwrap()
        .1;
    assert!(crt1.sections.is_none());
    let (_, flagged) = text_sec.find_input(".text.flagged").unwrap();
    assert_eq!(flagged.flags, ["SHF_ALLOC", "!SHF_WRITE"]);
    let (_, both) = text_sec.find_input(".text.both.*").unwrap();
    assert_eq!(
        both.sections.as_ref().unwrap()[0].sort,
        [SortKind::Name, SortKind::Alignment]
    );
    let (_, prio) = text_sec.find_input(".init_array.*").unwrap();
    let ps = prio.sections.as_ref().unwrap();
    assert_eq!(
        (ps[0].sort.as_slice(), ps[1].sort.as_slice()),
        (&[SortKind::InitPriority][..], &[SortKind::None][..])
    );
    let (_, ctors) = text_sec.find_input(".ctors.*").unwrap();
    assert!(ctors.keep);
    assert_eq!(ctors.file.as_ref().unwrap().sort, Some(SortKind::Name));

    // Every assignment operator, the wrappers, data statements.
    let ops: Vec<AssignOp> = text_sec
        .statements
        .iter()
        .filter_map(|st| match &st.kind {
            StatementKind::Assignment(a) if a.wrapper.is_none() => Some(a.op),
            _ => None,
        })
        .collect();
    use AssignOp::*;
    assert_eq!(
        ops,
        [Assign, Add, Sub, Assign, Mul, Div, Shl, Shr, And, Or, Xor]
    );
    let sizes: Vec<DataSize> = text_sec
        .statements
        .iter()
        .filter_map(|st| match &st.kind {
            StatementKind::Data { size, .. } => Some(*size),
            _ => None,
        })
        .collect();
    assert_eq!(
        sizes,
        [
            DataSize::Byte,
            DataSize::Short,
            DataSize::Long,
            DataSize::Quad,
            DataSize::Squad
        ]
    );
    let has = |f: &dyn Fn(&StatementKind) -> bool| text_sec.statements.iter().any(|s| f(&s.kind));
    assert!(has(&|k| matches!(
        k,
        StatementKind::Constructors { sorted: true }
    )));
    assert!(has(&|k| matches!(k, StatementKind::CreateObjectSymbols)));
    assert!(has(
        &|k| matches!(k, StatementKind::Fill { value } if value.eval_const() == Some(0x9090_9090))
    ));
    assert!(has(
        &|k| matches!(k, StatementKind::Assert(a) if a.message == "text is empty")
    ));
    assert!(has(&|k| matches!(k, StatementKind::Assignment(a)
        if a.wrapper == Some(script::AssignWrapper::Hidden) && a.target == "__local")));

    // Types and constraints.
    let ty = |n: &str| s.output_section(n).unwrap().section_type.clone();
    assert_eq!(ty(".bss"), Some(SectionType::NoLoad));
    assert_eq!(ty(".copy"), Some(SectionType::Copy));
    assert_eq!(ty(".info"), Some(SectionType::Info));
    assert_eq!(ty(".ovl"), Some(SectionType::Overlay));
    assert_eq!(ty(".ro"), Some(SectionType::ReadOnly));
    assert_eq!(ty(".dsect"), Some(SectionType::DSect));
    assert!(matches!(ty(".rot"), Some(SectionType::ReadOnlyType { .. })));
    assert!(
        matches!(ty(".typed"), Some(SectionType::Type { value }) if value.to_string() == "SHT_NOTE")
    );
    assert_eq!(ty(".empty"), None);
    assert_eq!(
        s.output_section(".ro_only").unwrap().constraint,
        Some(Constraint::OnlyIfRo)
    );
    assert_eq!(
        s.output_section(".rw_only").unwrap().constraint,
        Some(Constraint::OnlyIfRw)
    );
    assert_eq!(
        s.output_section(".special").unwrap().constraint,
        Some(Constraint::Special)
    );
    let data = s.output_section(".data").unwrap();
    assert_eq!(
        (
            data.region.as_deref(),
            data.lma_region.as_deref(),
            data.phdrs.as_slice()
        ),
        (Some("ram"), Some("rom"), &["data".to_string()][..])
    );
    assert_eq!(s.output_section(".rodata").unwrap().phdrs, ["text"]);

    // The overlay's sections are output sections in their place.
    let n = names(&s);
    let ov1 = n.iter().position(|x| *x == ".ov1").unwrap();
    assert_eq!(n[ov1 - 1], ".special");
    assert_eq!(n[ov1 + 1], ".ov2");
    let ov = s
        .sections_items()
        .into_iter()
        .find_map(|it| match &it.kind {
            ItemKind::Overlay(o) => Some(o),
            _ => None,
        })
        .unwrap();
    assert!(ov.nocrossrefs);
    assert_eq!(ov.address.as_ref().unwrap().eval_const(), Some(0x2001_0000));
    assert_eq!(ov.subalign.as_ref().unwrap().eval_const(), Some(16));
    assert_eq!(ov.sections[0].phdrs, ["data"]);
    assert_eq!(
        ov.sections[0].fill.as_ref().unwrap().eval_const(),
        Some(0xff)
    );
    assert_eq!(
        (ov.region.as_deref(), ov.lma_region.as_deref()),
        (Some("ram"), Some("rom"))
    );

    // Dead: `.text.dead_one` after `*(.text .text.*)`, and /DISCARD/'s
    // `.text.discarded`. `.rw_only`'s `*(.maybe)` is not: `.ro_only` may be
    // dropped (ONLY_IF_RO), so it is not known to take anything.
    assert_eq!(
        dead(&s),
        [
            (".text".into(), "*(.text.dead_one)".into()),
            ("/DISCARD/".into(), "*(.text.discarded)".into()),
        ] as [(String, String); 2]
    );
    // Built-ins, by their printed form.
    let item = |t: &str| {
        s.sections_items()
            .into_iter()
            .find_map(|it| match &it.kind {
                ItemKind::Assignment(a) if a.target == t => Some(a.value.to_string()),
                _ => None,
            })
            .unwrap()
    };
    assert_eq!(item("__data_lma"), "LOADADDR(.data)");
    assert_eq!(item("__ram_end"), "ORIGIN(ram) + LENGTH(ram)");
    assert_eq!(item("__align_of"), "ALIGNOF(.data)");
    assert_eq!(
        item("__mp"),
        "CONSTANT(MAXPAGESIZE) + CONSTANT(COMMONPAGESIZE)"
    );
    assert_eq!(item("__blk"), "BLOCK(0x1000)");
    assert_eq!(item("__n"), "NEXT(0x100)");
    assert_eq!(
        item("__dsa"),
        "DATA_SEGMENT_ALIGN(CONSTANT(MAXPAGESIZE), CONSTANT(COMMONPAGESIZE))"
    );
    assert_eq!(item("__dsr"), "DATA_SEGMENT_RELRO_END(0, 8)");
    assert_eq!(item("__dse"), "DATA_SEGMENT_END(.)");
    assert_eq!(item("__sizes"), "SIZEOF(.text) + SIZEOF(.data)");
    assert_eq!(item("__cond"), "DEFINED(x) ? x & ~3 : -(4 % 3) | 1 & 2");
    let m = s
        .sections_items()
        .into_iter()
        .find_map(|it| match &it.kind {
            ItemKind::Assignment(a) if a.target == "__m" => Some(a.value.eval_const()),
            _ => None,
        })
        .unwrap();
    // MAX(1, 2) + MIN(3, 4) + LOG2CEIL(17) + ABSOLUTE(-1)
    assert_eq!(m, Some(2u64 + 3 + 5).map(|v| v.wrapping_add(u64::MAX)));
    let seg = s.sections_items()[0];
    assert_eq!(
        seg.to_string(),
        ". = SEGMENT_START(\"text-segment\", 0x08000000) + SIZEOF_HEADERS;"
    );
    assert!(s.sections_items().iter().any(|it| matches!(&it.kind,
        ItemKind::Entry { symbol } if symbol == "second_entry")));
    assert!(s.sections_items().iter().any(|it| matches!(&it.kind,
        ItemKind::Include { file } if file == "sections-extra.ld")));
}

// ---- lexing and grammar details --------------------------------------------------

#[test]
fn expression_precedence_and_constants() {
    assert_eq!(const_of("1 + 2 * 3"), Some(7));
    assert_eq!(const_of("(1 + 2) * 3"), Some(9));
    assert_eq!(const_of("1 << 2 + 1"), Some(8));
    assert_eq!(const_of("1 | 2 & 3"), Some(3));
    assert_eq!(const_of("6 ^ 3 & 1"), Some(7));
    assert_eq!(const_of("6 - 3 - 2"), Some(1));
    assert_eq!(const_of("64 / 4 / 2"), Some(8));
    assert_eq!(const_of("-2 * 3"), Some(6u64.wrapping_neg()));
    assert_eq!(const_of("!0 + 1"), Some(2));
    assert_eq!(const_of("~0 >> 60"), Some(15));
    assert_eq!(const_of("1 == 1 & 0"), Some(0));
    assert_eq!(const_of("3 > 2 > 1"), Some(0));
    assert_eq!(const_of("1 && 0 || 1"), Some(1));
    assert_eq!(const_of("1 ? 2 : 0 ? 3 : 4"), Some(2));
    assert_eq!(const_of("0 ? 2 : 0 ? 3 : 4"), Some(4));
    assert_eq!(const_of("5 % 3"), Some(2));
    assert_eq!(const_of("4K + 1M + 1m + 2k"), Some(4096 + (2 << 20) + 2048));
    assert_eq!(const_of("0x10K"), Some(16 * 1024));
    assert_eq!(const_of("ALIGN(5, 8)"), Some(8));
    assert_eq!(const_of("ALIGN(16, 8)"), Some(16));
    assert_eq!(const_of("MAX(3, 7) + MIN(3, 7)"), Some(10));
    assert_eq!(const_of("LOG2CEIL(5) + LOG2CEIL(8)"), Some(6));
    assert_eq!(const_of("10 / 0"), None);
    assert_eq!(const_of("1 << 64"), None);
    assert_eq!(const_of("x + 1"), None);
    assert_eq!(const_of("ALIGN(8)"), None, "aligns `.`");
    assert_eq!(const_of("SIZEOF(.text)"), None);
    assert_eq!(const_of("CONSTANT(MAXPAGESIZE)"), None);
    // ld's expression lexer reads hex digits with an `h` suffix as a number.
    assert_eq!(const_of("deadh"), Some(0xdead));
    assert_eq!(const_of("dead_h"), None);
}

#[test]
fn lexer_states() {
    // In commands a name runs over `:` and `-`...
    let s = script::parse("OUTPUT_ARCH(i386:x86-64)\nx = a-b;").unwrap();
    assert!(
        matches!(&s.commands[0].kind, CommandKind::OutputArch { arch } if arch == "i386:x86-64")
    );
    // ...in expressions `a-b` is a subtraction...
    match &s.commands[1].kind {
        CommandKind::Assignment(a) => assert_eq!(a.value.to_string(), "a - b"),
        other => panic!("{other:?}"),
    }
    // ...and ADDR's argument is a script name again.
    let s = script::parse("x = ADDR(.note.gnu.build-id);").unwrap();
    match &s.commands[0].kind {
        CommandKind::Assignment(a) => assert!(matches!(&a.value.kind,
            ExprKind::NameOf { function: NameBuiltin::Addr, name } if name == ".note.gnu.build-id")),
        other => panic!("{other:?}"),
    }
    // A fill expression ends before a following `/DISCARD/` (not a division).
    let s = script::parse("SECTIONS { .a : { *(.a) } = 0x90 /DISCARD/ : { *(.b) } }").unwrap();
    assert_eq!(names(&s), [".a", "/DISCARD/"]);
    assert_eq!(
        s.output_sections()[0].fill.as_ref().unwrap().eval_const(),
        Some(0x90)
    );
    // In output sections names are wildcards; comments anywhere.
    let s =
        script::parse("SECTIONS { .t : { *(.text.* /* c */ .t[0-9]?) foo.o(.data) # hash\n } }")
            .unwrap();
    let t = &s.output_sections()[0];
    assert_eq!(patterns(input(&t.statements[0])), [".text.*", ".t[0-9]?"]);
    assert_eq!(
        input(&t.statements[1]).file.as_ref().unwrap().pattern,
        "foo.o"
    );
    // Quoted names keep what ld would not lex as one name.
    let s = script::parse("SECTIONS { \"my sec\" : { *(\"a b\") } }").unwrap();
    assert_round_trips("quoted", &s);
    assert_eq!(s.output_sections()[0].name, "my sec");
}

#[test]
fn address_after_a_section_name_is_lexed_like_ld() {
    // ld reads the token after the name before switching to expressions.
    let s = script::parse("SECTIONS { .t a-b : { } .u a +1 : { } }").unwrap();
    let o = s.output_sections();
    assert!(matches!(&o[0].address.as_ref().unwrap().kind,
        ExprKind::Symbol { name } if name == "a-b"));
    assert_eq!(o[1].address.as_ref().unwrap().to_string(), "a + 1");
    assert_round_trips("address", &s);
    parse_err("SECTIONS { .t 10h : { } }");
    // A symbol that is a keyword in commands (`l` is LENGTH there) prints so
    // that it reads back.
    let s = script::parse(
        "SECTIONS { .t \"l\" + 1 : { } .u (len) : { } .v ~x : { } .w (FOO + 1) : { } }",
    )
    .unwrap();
    assert_round_trips("keyword-named symbols", &s);
}

#[test]
fn separators_follow_ld() {
    // An assignment needs `;` (or `,`), as ld's grammar says.
    let e = parse_err("SECTIONS { .t : { . = 5 } }");
    assert!(e.message.contains("expected `;`"), "{e}");
    assert!(e.message.contains("`}`"), "{e}");
    assert_eq!((e.line, e.column), (1, 25));
    script::parse("SECTIONS { .t : { . = 5, x = 1; ; } }").unwrap();
    // Between sections ld takes no stray `;` (and ASSERT there takes none);
    // inside a section ASSERT needs one.
    let e = parse_err("SECTIONS { .t : { } ; }");
    assert_eq!(
        (e.line, e.column, e.message.contains("found `;`")),
        (1, 21, true)
    );
    parse_err("SECTIONS { ASSERT(1, \"m\"); }");
    script::parse("SECTIONS { ASSERT(1, \"m\") }").unwrap();
    parse_err("SECTIONS { .t : { ASSERT(1, \"m\") } }");
    script::parse("SECTIONS { .t : { ASSERT(1, \"m\"); } }").unwrap();
    // Data statements and a section's `}` need none.
    script::parse("SECTIONS { .t : { LONG(1) SHORT(2) } .u : { } }").unwrap();
    // An output section name needs a space before `:` (ld lexes `.t:` as one name).
    let e = parse_err("SECTIONS { .t: { } }");
    assert!(e.message.contains("`{`"), "{e}");
}

#[test]
fn glob_subsumption() {
    use script::glob_covers as c;
    assert!(c("*", ".text.foo"));
    assert!(c(".text.*", ".text.unlikely.*"));
    assert!(c(".text.*", ".text.__x86_indirect_thunk_*"));
    assert!(!c(".text.*", ".text"));
    assert!(!c(".text.unlikely.*", ".text.*"));
    assert!(c(".text.?", ".text.[ab]"));
    assert!(c(".text.[a-z]*", ".text.[bc]x"));
    assert!(!c(".text.[a-z]*", ".text.[!a-z]*"));
    assert!(!c(".text.[0-9a-zA-Z_]*", ".text..x"));
    assert!(c(".text.[0-9a-zA-Z_]*", ".text._x.*"));
    assert!(!c(".text.?", ".text.*"));
    assert!(c("*foo*", "a*foo*b"));
    assert!(c("a\\*b", "a\\*b"));
    assert!(!c("a\\*b", "axb"));
    assert!(script::glob_matches("a\\*b", "a*b"));
    assert!(script::glob_matches(".text.[!0-9]*", ".text.x"));
    assert!(!script::glob_matches(".text.[!0-9]*", ".text.5"));
}

#[test]
fn dead_marks_are_conservative() {
    // A file pattern narrower than `*` does not cover other files; EXCLUDE_FILE
    // and INPUT_SECTION_FLAGS narrow the earlier one; `*` covers every file,
    // archive members included; a plain pattern other than `*` is not known
    // to cover an archive member.
    let s = script::parse(
        "SECTIONS {\n\
         .a : { *.o(.x) EXCLUDE_FILE(b.o) *(.y) *(EXCLUDE_FILE(c.o) .z) INPUT_SECTION_FLAGS(SHF_WRITE) *(.w) *(.v) *.o(.u) }\n\
         .b : { *(.x) *(.y) *(.z) *(.w) foo.o(.v) lib.a:foo.o(.v) lib.a:foo.o(.u) bar.o(.u) *.o }\n\
         }",
    )
    .unwrap();
    let b = s.output_section(".b").unwrap();
    let d: Vec<bool> = b.inputs().map(|(_, d)| d.dead).collect();
    assert_eq!(
        d,
        [false, false, false, false, true, true, false, true, false]
    );
    // A later `*.o` alone (all sections of .o files) is not covered by a
    // list of some sections; one file-only `*` covers it.
    let s = script::parse("SECTIONS { .a : { * } .b : { *.o *(.x) } }").unwrap();
    let b = s.output_section(".b").unwrap();
    assert!(b.inputs().all(|(_, d)| d.dead));
    let d = input(&b.statements[1]);
    let c = d.sections.as_ref().unwrap()[0].covered_by.unwrap();
    assert_eq!((c.section, c.statement, c.pattern), (0, 0, 0));
    // Wildcards in file names may not cross `/`: `*.o` is not known to
    // cover `dir/*.o`, `*` is.
    let s = script::parse(
        "SECTIONS { .a : { *.o(.x) } .b : { dir/*.o(.x) } .c : { *(.y) } .d : { dir/a.o(.y) } }",
    )
    .unwrap();
    assert_eq!(dead(&s), [(".d".to_string(), "dir/a.o(.y)".to_string())]);
    // Partly covered: not dead, the covered pattern is marked.
    let s = script::parse("SECTIONS { .a : { *(.t.*) *(.t.x .u) } }").unwrap();
    let d = input(&s.output_sections()[0].statements[1]);
    assert!(!d.dead);
    let l = d.sections.as_ref().unwrap();
    assert!(l[0].covered_by.is_some() && l[1].covered_by.is_none());
}

#[test]
fn helpers() {
    let text = "SECTIONS {\n .text : {\n  *(.text.unlikely.*)\n  *(.text.*)\n  *(.text.foo)\n  *(.text.bar)\n  . = ALIGN(0x40);\n }\n}";
    let s = script::parse(text).unwrap();
    let t = s.output_section(".text").unwrap();
    assert!(s.output_section(".data").is_none());
    assert_eq!(t.find_input(".text.*").unwrap().0, 1);
    assert_eq!(t.find_input(".text.unlikely.*").unwrap().0, 0);
    assert!(t.find_input(".text.u*").is_none());
    let (i, st) = t.first_live_statement_after(1).unwrap();
    assert_eq!(i, 4);
    assert_eq!(st.as_align_assignment().unwrap().eval_const(), Some(0x40));
    assert!(t.first_live_statement_after(4).is_none());
    assert!(t.first_live_statement_after(usize::MAX).is_none());
    // `. = ALIGN(., 8)` too; `x = ALIGN(8)` and `. += ALIGN(8)` are not.
    let s = script::parse("SECTIONS { .a : { . = ALIGN(., 8); x = ALIGN(8); . += ALIGN(8); } }")
        .unwrap();
    let a: Vec<Option<u64>> = s.output_sections()[0]
        .statements
        .iter()
        .map(|st| st.as_align_assignment().and_then(|e| e.eval_const()))
        .collect();
    assert_eq!(a, [Some(8), None, None]);
    // Across sections: the first output section holding the pattern.
    let s2 = script::parse("SECTIONS { .a : { *(.x) } .b : { *(.y) *(.z .w) } }").unwrap();
    let (si, i, d) = s2.find_input(".w").unwrap();
    assert_eq!((si, i, patterns(d)), (1, 1, vec![".z", ".w"]));
    assert!(s2.find_input(".v").is_none());
    // Spans: line and column of a statement.
    let st = &t.statements[1];
    assert_eq!(script::line_col(text, st.span.start), (4, 3));
    assert_eq!(text_of(text, st.span), "*(.text.*)");
}

#[test]
fn json_shape() {
    let s = script::parse("SECTIONS { .t : { *(.t) . = ALIGN(4); } :text }").unwrap();
    let v = serde_json::to_value(&s).unwrap();
    let sec = &v["commands"][0];
    assert_eq!(sec["command"], "sections");
    let item = &sec["items"][0];
    assert_eq!(item["item"], "output");
    assert_eq!(item["name"], ".t");
    assert_eq!(item["phdrs"][0], "text");
    assert_eq!(item["statements"][0]["statement"], "input");
    assert_eq!(item["statements"][0]["dead"], false);
    assert_eq!(item["statements"][1]["statement"], "assignment");
    assert_eq!(item["statements"][1]["value"]["function"], "ALIGN");
    assert_eq!(item["statements"][1]["span"]["start"], 24);
}

// ---- unknown keywords and bad input ----------------------------------------------

#[test]
fn unknown_keywords_are_errors_naming_them() {
    let cases = [
        (
            "SECTIONS { .text : { SORT_BY_FOO(.text) } }",
            "SORT_BY_FOO",
            (1, 22),
        ),
        (
            "SECTIONS { .text : { *(SORT_BY_BAR(.text)) } }",
            "SORT_BY_BAR",
            (1, 24),
        ),
        ("FROBNICATE(x)", "FROBNICATE", (1, 1)),
        ("x = FOO(1);", "FOO", (1, 5)),
        ("SECTIONS { .t (FOO) : { } }", "FOO", (1, 16)),
        (
            "SECTIONS {\n .t : {\n  IRQENTRY_TEXT\n } }",
            "IRQENTRY_TEXT",
            (3, 3),
        ),
        (
            "SECTIONS {\n MISSING_MACRO\n .t : { } }",
            "MISSING_MACRO",
            (2, 2),
        ),
        ("PHDRS { text PT_LOAD FLAGZ(5) ; }", "FLAGZ", (1, 22)),
        (
            "SECTIONS { .t : { *(.t) } } VERSION { }",
            "VERSION",
            (1, 29),
        ),
        ("SECTIONS { .t : { SUBALIGN(4) } }", "SUBALIGN", (1, 19)),
    ];
    for (text, kw, (line, col)) in cases {
        let e = parse_err(text);
        assert!(e.message.contains(&format!("`{kw}`")), "{text}: {e}");
        assert_eq!((e.line, e.column), (line, col), "{text}: {e}");
        assert_eq!(e.to_string(), format!("{line}:{col}: {}", e.message));
    }
}

fn within(limit: Duration, f: impl FnOnce() + Send + 'static) {
    let start = Instant::now();
    // A small stack: deep input must not overflow one.
    let h = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(f)
        .unwrap();
    h.join().expect("no panic");
    assert!(start.elapsed() < limit, "took {:?}", start.elapsed());
}

#[test]
fn unbalanced_braces() {
    let e = parse_err("SECTIONS\n{\n  .text : {\n    *(.text)\n  }\n");
    assert!(
        e.message
            .contains("`}` closing the SECTIONS command opened at 2:1"),
        "{e}"
    );
    assert!(e.message.contains("end of input"), "{e}");
    let e = parse_err("SECTIONS { .text : {\n *(.text)\n");
    assert!(
        e.message
            .contains("closing the output section `.text` opened at 1:20"),
        "{e}"
    );
    assert_eq!(e.line, 3);
    let e = parse_err("SECTIONS { }\n}");
    assert!(e.message.contains("found `}`"), "{e}");
    assert_eq!((e.line, e.column), (2, 1));
    within(Duration::from_secs(10), || {
        let text = format!("SECTIONS {{ .t : {}", "{".repeat(100_000));
        let e = parse_err(&text);
        assert!(e.message.contains("found `{`"), "{e}");
        assert_eq!((e.line, e.column), (1, 18));
        let text = "SECTIONS { .t : { ".repeat(100_000);
        let e = parse_err(&text);
        assert!(e.message.contains("unknown keyword `SECTIONS`"), "{e}");
        let text = "}".repeat(100_000);
        assert_eq!(parse_err(&text).column, 1);
    });
}

#[test]
fn unterminated_comment_and_string() {
    let e = parse_err("SECTIONS {\n  /* never closed\n .t : { } }");
    assert_eq!(e.message, "unterminated comment");
    assert_eq!((e.line, e.column), (2, 3));
    let e = parse_err("SECTIONS { .t : { *(.t /* open");
    assert_eq!(e.message, "unterminated comment");
    let e = parse_err("ASSERT(1, \"no end)");
    assert_eq!(e.message, "unterminated string");
    assert_eq!((e.line, e.column), (1, 11));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    within(Duration::from_secs(10), || {
        let n = 100_000;
        let text = format!("x = {}1{};", "(".repeat(n), ")".repeat(n));
        let e = parse_err(&text);
        assert!(e.message.contains("too deeply nested"), "{e}");
        assert_eq!(e.line, 1);
        let text = format!("x = {}1;", "-".repeat(n));
        assert!(parse_err(&text).message.contains("too deeply nested"));
        let text = format!("x = 1{};", " + 1".repeat(n));
        assert!(parse_err(&text).message.contains("too deeply nested"));
        let text = format!("x = {}1{};", "ALIGN(".repeat(n), ")".repeat(n));
        assert!(parse_err(&text).message.contains("too deeply nested"));
        let text = format!("x = 1{};", " ? 1 : 1".repeat(n));
        assert!(parse_err(&text).message.contains("too deeply nested"));
        // 60 levels are fine (the limit is 64).
        let text = format!("x = {}1{};", "(".repeat(60), ")".repeat(60));
        script::parse(&text).unwrap();
    });
}

#[test]
fn a_megabyte_line_of_garbage() {
    within(Duration::from_secs(20), || {
        // Printable ASCII from a fixed LCG: deterministic garbage.
        let mut x: u32 = 12345;
        let line: String = (0..1 << 20)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                char::from(b' ' + ((x >> 16) % 95) as u8)
            })
            .collect();
        let e = parse_err(&line);
        assert_eq!(e.line, 1);
        assert!(!e.message.is_empty());
        // The same inside a section body, and one giant name.
        let text = format!("SECTIONS {{ .t : {{ {line} }} }}");
        parse_err(&text);
        let text = format!("SECTIONS {{ .t : {{ *({}) }} }}", "a".repeat(1 << 20));
        let s = script::parse(&text).unwrap();
        assert_eq!(
            patterns(input(&s.output_sections()[0].statements[0])).len(),
            1
        );
        // Non-ASCII is named.
        let e = parse_err("SECTIONS { .t : { é } }");
        assert!(e.message.contains("'é'"), "{e}");
        assert_eq!(e.column, 19);
    });
}

#[test]
fn many_descriptions_in_bounded_time() {
    within(Duration::from_secs(30), || {
        // Patterns with distinct literal prefixes are compared only with the
        // few that may share names: all of them are marked, in a budget of
        // ten comparisons per pattern (comparing each of the 40,000 patterns
        // with every earlier one would take 800 million).
        let limits = ParseLimits {
            max_comparisons: 400_000,
        };
        let mut text = String::from("SECTIONS {\n");
        for i in 0..20_000 {
            text.push_str(&format!(".s{i} : {{ *(.a{i}.*) *(.a{}.x) }}\n", i / 2));
        }
        text.push('}');
        let s = script::parse_with(&text, limits).unwrap();
        assert_eq!(s.output_sections().len(), 20_000);
        assert!(s.marks_complete);
        // `.s{2k+1}`'s `*(.a{k}.x)` is covered by `.s{k}`'s `*(.a{k}.*)`.
        for i in [1usize, 3, 19_999] {
            let si = s.output_section(&format!(".s{i}")).unwrap();
            let d = input(&si.statements[1]);
            assert!(d.dead, ".s{i}");
            assert_eq!(
                d.sections.as_ref().unwrap()[0].covered_by.unwrap().section,
                i / 2
            );
            assert!(!input(&si.statements[0]).dead);
        }
        // `.s0`'s `*(.a0.x)` comes after `*(.a0.*)` in the same section.
        assert!(input(&s.output_section(".s0").unwrap().statements[1]).dead);

        // Patterns that all start with a wildcard may all share names: every
        // pair would be compared. Marking stops at the same budget, and says
        // so; what it marked is right.
        let mut text = String::from("SECTIONS {\n");
        for i in 0..20_000 {
            text.push_str(&format!(".s{i} : {{ *(*.a{i}.*) *(*.a{}.x) }}\n", i / 2));
        }
        text.push('}');
        let s = script::parse_with(&text, limits).unwrap();
        assert!(!s.marks_complete);
        let s1 = s.output_section(".s1").unwrap();
        let d = input(&s1.statements[1]);
        assert!(d.dead);
        assert_eq!(
            d.sections.as_ref().unwrap()[0].covered_by.unwrap().section,
            0
        );
        assert!(!input(&s1.statements[0]).dead);
    });
}

// ---- property: anything that parses round-trips -----------------------------------

mod props {
    use super::*;
    use proptest::prelude::*;

    const TOKENS: &[&str] = &[
        "SECTIONS",
        "{",
        "}",
        "(",
        ")",
        ":",
        ";",
        ",",
        "=",
        "+=",
        ".",
        ".text",
        ".data",
        "*",
        "*(.text.*)",
        "KEEP(*(.init))",
        "SORT(.x*)",
        "EXCLUDE_FILE(a.o)",
        "ALIGN",
        "0x10",
        "4K",
        "1",
        "+",
        "-",
        "*",
        "/",
        "<<",
        "?",
        "!",
        "~",
        "&&",
        "|",
        "x",
        "AT",
        "ADDR(.text)",
        ">",
        "ram",
        "/DISCARD/",
        "\"q s\"",
        "NOLOAD",
        "PROVIDE",
        "ASSERT",
        "\"msg\"",
        "LONG",
        "FILL",
        "OVERLAY",
        "MEMORY",
        "ORIGIN",
        "LENGTH",
        "PHDRS",
        "PT_LOAD",
        "FLAGS",
        "ENTRY",
        "/* c */",
        "\n",
    ];

    const FILES: &[&str] = &["*", "a.o", "b.o"];
    /// Globs whose literal prefixes start one another, or do not.
    const SECTION_GLOBS: &[&str] = &[
        "*",
        ".a",
        ".a*",
        ".a.*",
        ".ab",
        ".ab*",
        ".b",
        ".b?",
        ".a[bc]",
        ".a[b]",
        "*b",
        ".a.x",
        ".",
        ".*",
        // literal prefixes around 16 bytes, the length of the sort key
        ".text.unlikely.a",
        ".text.unlikely.ab*",
        ".text.unlikely.a*",
    ];

    const GLOB_PARTS: &[&str] = &["a", "b", ".", "*", "?", "[ab]", "[!a]", ".a"];

    /// fnmatch(3) without flags, for the globs of `GLOB_PARTS`.
    fn fnmatch(p: &[u8], s: &[u8]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some(b'*') => (0..=s.len()).any(|k| fnmatch(&p[1..], &s[k..])),
            Some(b'?') => !s.is_empty() && fnmatch(&p[1..], &s[1..]),
            Some(b'[') => {
                let end = p.iter().position(|&c| c == b']').unwrap_or(p.len() - 1);
                let (neg, set) = match p[1] {
                    b'!' => (true, &p[2..end]),
                    _ => (false, &p[1..end]),
                };
                !s.is_empty() && (set.contains(&s[0]) != neg) && fnmatch(&p[end + 1..], &s[1..])
            }
            Some(&c) => s.first() == Some(&c) && fnmatch(&p[1..], &s[1..]),
        }
    }

    fn soup() -> impl Strategy<Value = String> {
        prop::collection::vec(0..TOKENS.len(), 0..60)
            .prop_map(|v| v.iter().map(|&i| TOKENS[i]).collect::<Vec<_>>().join(" "))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn parses_or_errs_and_round_trips(text in soup()) {
            if let Ok(s) = script::parse(&text) {
                assert_round_trips(&text, &s);
            }
        }

        #[test]
        fn any_bytes_never_panic(text in "\\PC{0,200}") {
            let _ = script::parse(&text);
        }

        /// `glob_covers` is sound: when it says a glob covers another, every
        /// name the narrow one matches (all short names over the alphabet,
        /// by a plain fnmatch) the wide one matches too; and a glob always
        /// covers itself and every literal it matches.
        #[test]
        fn glob_covers_is_sound(
            wide in prop::collection::vec(0..GLOB_PARTS.len(), 0..4),
            narrow in prop::collection::vec(0..GLOB_PARTS.len(), 0..4),
        ) {
            let w: String = wide.iter().map(|&i| GLOB_PARTS[i]).collect();
            let n: String = narrow.iter().map(|&i| GLOB_PARTS[i]).collect();
            prop_assert!(script::glob_covers(&w, &w));
            let mut names = vec![String::new()];
            for _ in 0..4 {
                let more: Vec<String> = names
                    .iter()
                    .flat_map(|s| ["a", "b", "."].map(|c| format!("{s}{c}")))
                    .collect();
                names.extend(more);
            }
            names.sort();
            names.dedup();
            if script::glob_covers(&w, &n) {
                for name in &names {
                    if fnmatch(n.as_bytes(), name.as_bytes()) {
                        prop_assert!(fnmatch(w.as_bytes(), name.as_bytes()), "{} covers {} but not {}", w, n, name);
                    }
                }
            }
            for name in &names {
                if fnmatch(w.as_bytes(), name.as_bytes()) {
                    prop_assert!(script::glob_covers(&w, name), "{} matches {}", w, name);
                }
            }
        }

        /// Dead marks are ld's first match, found by comparing every earlier
        /// description in script order (the index only skips comparisons).
        #[test]
        fn dead_marks_are_the_first_earlier_cover(
            sections in prop::collection::vec(
                prop::collection::vec(
                    (0..FILES.len(), prop::collection::vec(0..SECTION_GLOBS.len(), 1..3)),
                    1..4,
                ),
                1..6,
            ),
        ) {
            let mut text = String::from("SECTIONS {\n");
            for (i, descs) in sections.iter().enumerate() {
                text.push_str(&format!(".o{i} : {{"));
                for (f, pats) in descs {
                    let pats: Vec<&str> = pats.iter().map(|&p| SECTION_GLOBS[p]).collect();
                    text.push_str(&format!(" {}({})", FILES[*f], pats.join(" ")));
                }
                text.push_str(" }\n");
            }
            text.push('}');
            let s = script::parse(&text).unwrap();
            prop_assert!(s.marks_complete);
            // (file, section glob, where) of every pattern so far, in order
            let mut takers: Vec<(&str, &str, (usize, usize, usize))> = Vec::new();
            for (si, sec) in s.output_sections().iter().enumerate() {
                for (di, st) in sec.statements.iter().enumerate() {
                    let d = input(st);
                    let file = d.file.as_ref().unwrap().pattern.as_str();
                    let list = d.sections.as_ref().unwrap();
                    let mut all = true;
                    for p in list {
                        let want = takers
                            .iter()
                            .find(|(tf, ts, _)| {
                                (*tf == "*" || *tf == file) && script::glob_covers(ts, &p.pattern)
                            })
                            .map(|t| t.2);
                        let got = p.covered_by.map(|c| (c.section, c.statement, c.pattern));
                        prop_assert_eq!(got, want, "{} in {}", p.pattern, text);
                        all &= want.is_some();
                    }
                    prop_assert_eq!(d.dead, all, "{}", text);
                    for (pi, p) in list.iter().enumerate() {
                        takers.push((file, p.pattern.as_str(), (si, di, pi)));
                    }
                }
            }
        }
    }

    /// A name as ld scripts may hold it in quotes: any of the characters
    /// that change lexing between states, and all-caps words.
    fn any_name() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z_.][a-z0-9_.]{0,6}",
            "[A-Z][A-Z0-9_]{1,6}",
            "[a-zA-Z0-9_.*?:+=,$~ /!^\\[\\]-]{1,8}",
            Just("l".to_string()),
            Just("SECTIONS".to_string()),
            Just("/DISCARD/".to_string()),
            Just("10h".to_string()),
            Just("/*x".to_string()),
        ]
    }

    fn q(n: &str) -> String {
        format!("\"{n}\"")
    }

    fn expr() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            prop::sample::select(vec![
                "0", "1", "0x10", "4K", "1M", "010", "10h", "$1f", "101b"
            ])
            .prop_map(str::to_string),
            any_name().prop_map(|n| q(&n)),
            Just(".".to_string()),
            Just("SIZEOF_HEADERS".to_string()),
            Just("CONSTANT(MAXPAGESIZE)".to_string()),
            any_name().prop_map(|n| format!("ADDR({})", q(&n))),
            any_name().prop_map(|n| format!("DEFINED({})", q(&n))),
        ];
        leaf.prop_recursive(4, 24, 3, |inner| {
            prop_oneof![
                (
                    inner.clone(),
                    prop::sample::select(vec![
                        "*", "/", "%", "+", "-", "<<", ">>", "<", ">", "<=", ">=", "==", "!=", "&",
                        "^", "|", "&&", "||",
                    ]),
                    inner.clone()
                )
                    .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
                (prop::sample::select(vec!["-", "!", "~"]), inner.clone())
                    .prop_map(|(op, a)| format!("{op}({a})")),
                (inner.clone(), inner.clone(), inner.clone())
                    .prop_map(|(a, b, c)| format!("({a} ? {b} : {c})")),
                inner.clone().prop_map(|a| format!("ALIGN({a})")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("MAX({a}, {b})")),
                (any_name(), inner.clone())
                    .prop_map(|(n, a)| format!("SEGMENT_START({}, {a})", q(&n))),
                (inner.clone(), any_name()).prop_map(|(a, m)| format!("ASSERT({a}, {})", q(&m))),
            ]
        })
    }

    fn statement() -> impl Strategy<Value = String> {
        prop_oneof![
            (
                any_name(),
                prop::sample::select(vec!["=", "+=", "-=", "*=", "<<=", "&=", "|="]),
                expr()
            )
                .prop_map(|(n, op, e)| format!("{} {op} {e};", q(&n))),
            (any_name(), expr()).prop_map(|(n, e)| format!("PROVIDE({} = {e});", q(&n))),
            (any_name(), any_name(), any_name(), any_name()).prop_map(|(f, a, x, b)| format!(
                "KEEP({}({} EXCLUDE_FILE({}) {}))",
                q(&f),
                q(&a),
                q(&x),
                q(&b)
            )),
            (any_name(), any_name()).prop_map(|(f, a)| format!(
                "{}(SORT_BY_NAME({}))",
                q(&f),
                q(&a)
            )),
            any_name().prop_map(|f| q(&f)),
            expr().prop_map(|e| format!("LONG({e})")),
            (expr(), any_name()).prop_map(|(e, m)| format!("ASSERT({e}, {});", q(&m))),
        ]
    }

    fn section() -> impl Strategy<Value = String> {
        (
            any_name(),
            prop::option::of(expr()),
            prop::option::of(expr()),
            prop::collection::vec(statement(), 0..5),
            any_name(),
            any_name(),
            prop::option::of(expr()),
        )
            .prop_map(|(n, addr, at, body, region, phdr, fill)| {
                format!(
                    "{} {} : {} {{\n{}\n}} >{} :{} {}",
                    q(&n),
                    // In parentheses: ld lexes a bare first token as a
                    // command word (`10h` would not be a number there).
                    addr.map(|e| format!("({e})")).unwrap_or_default(),
                    at.map(|e| format!("AT({e})")).unwrap_or_default(),
                    body.join("\n"),
                    q(&region),
                    q(&phdr),
                    fill.map(|e| format!("= {e}")).unwrap_or_default()
                )
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Generated scripts with awkward names in every position parse,
        /// and print back to the same tree.
        #[test]
        fn generated_scripts_round_trip(
            top in (any_name(), expr()),
            sections in prop::collection::vec(section(), 1..4),
        ) {
            let text = format!(
                "{} = {};\nSECTIONS\n{{\n{}\n}}\n",
                q(&top.0),
                top.1,
                sections.join("\n")
            );
            let s = script::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_round_trips(&text, &s);
        }
    }

    #[test]
    fn structured_scripts_round_trip() {
        // Soup rarely parses; these do, and go through every printer path.
        for text in [
            "SECTIONS { . = 1 ? 2 : 3 ? 4 : 5; x = (1 ? 2 : 3) + 1; y = -(1 + 2) * ~3; }",
            "SECTIONS { z = 1 - (2 - 3); w = (1 << 2) << 3; v = 1 << (2 << 3); u = !!1; }",
            "SECTIONS { .a 0x10 (NOLOAD) : AT(0x20) { *(.a) } .b (0x30) : { *(.b) } }",
            "SECTIONS { .c ADDR(.a) + 4 : { KEEP(SORT_NONE(x*)(.c)) } >ram AT>rom :p :q =1+1 }",
            "MEMORY { m (!rw) : ORIGIN = 1, LENGTH = 2 }",
            "INPUT(AS_NEEDED(-lz) a.o)",
            "SECTIONS { OVERLAY : { .o1 { *(.o1) } .o2 { *(.o2) } } }",
        ] {
            let s = script::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_round_trips(text, &s);
        }
    }
}

#[test]
fn newer_ld_statements_and_operators() {
    // ld 2.41+: `^`; 2.42+: ASCIZ, LINKER_VERSION, REVERSE.
    let text =
        "SECTIONS { .t : { ASCIZ \"v1\" LINKER_VERSION *(REVERSE(.a.*)) x ^= 3; } }\ny = 6 ^ 3;";
    let s = script::parse(text).unwrap();
    let t = &s.output_sections()[0];
    assert!(matches!(&t.statements[0].kind, StatementKind::Asciz { string } if string == "v1"));
    assert!(matches!(t.statements[1].kind, StatementKind::LinkerVersion));
    assert_eq!(
        input(&t.statements[2]).sections.as_ref().unwrap()[0].sort,
        [SortKind::Reverse]
    );
    assert!(matches!(&t.statements[3].kind,
        StatementKind::Assignment(a) if a.op == AssignOp::Xor));
    assert_eq!(top_assignments(&s)[0].value.eval_const(), Some(5));
    assert_round_trips("newer", &s);
}

// ---- against the real ld ----------------------------------------------------------

fn ld_available() -> bool {
    let ok = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    common::reference_tool(
        "ld, as and readelf (binutils)",
        ok("ld") && ok("as") && ok("readelf"),
    )
}

/// Commands an x86 ld refuses for other targets, before it has read the
/// rest: their byte ranges, to blank out.
fn target_commands(s: &Script) -> Vec<script::Span> {
    s.commands
        .iter()
        .filter(|c| {
            matches!(
                c.kind,
                CommandKind::OutputArch { .. } | CommandKind::OutputFormat { .. }
            )
        })
        .map(|c| c.span)
        .collect()
}

/// ld's complaints about the syntax of `text` (empty if it reads it all).
fn ld_syntax_complaints(dir: &std::path::Path, name: &str, text: &str) -> Vec<String> {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let out = Command::new("ld")
        .current_dir(dir)
        .arg("-T")
        .arg(&path)
        .output()
        .expect("run ld");
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| {
            l.contains("syntax error")
                || l.contains("invalid character")
                || l.contains("both a load address and a load region")
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn ld_reads_every_fixture_and_its_printed_form() {
    if !ld_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // all-constructs.ld INCLUDEs these.
    std::fs::write(dir.path().join("extra.ld"), "").unwrap();
    std::fs::write(dir.path().join("sections-extra.ld"), "").unwrap();
    let mut inputs: Vec<(String, String)> = Vec::new();
    for f in FIXTURES {
        let Some(text) = preprocess(f) else { return };
        inputs.push((f.name.to_string(), text));
    }
    inputs.push(("all-constructs".to_string(), syntax_fixture().0));
    for (name, text) in inputs {
        let mut s = script::parse(&text).unwrap();
        let mut original = text.clone();
        for span in target_commands(&s) {
            original.replace_range(span.start..span.end, &" ".repeat(span.end - span.start));
        }
        let complaints = ld_syntax_complaints(dir.path(), &format!("{name}.ld"), &original);
        assert!(complaints.is_empty(), "{name}: {complaints:?}");
        s.commands.retain(|c| {
            !matches!(
                c.kind,
                CommandKind::OutputArch { .. } | CommandKind::OutputFormat { .. }
            )
        });
        let printed = s.to_string();
        let complaints = ld_syntax_complaints(dir.path(), &format!("{name}.printed.ld"), &printed);
        assert!(
            complaints.is_empty(),
            "{name} printed: {complaints:?}\n{printed}"
        );
    }
    // The check itself sees a syntax error.
    assert!(!ld_syntax_complaints(dir.path(), "bad.ld", "SECTIONS { .t : { . = 1 } }").is_empty());
}

/// An input section name a glob matches: `*` → `z`, `?` → `q`, a class → its
/// first member.
fn instance(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => out.push('z'),
            '?' => out.push('q'),
            '\\' => out.extend(chars.next()),
            '[' => {
                let mut first = None;
                for d in chars.by_ref() {
                    if d == ']' && first.is_some() {
                        break;
                    }
                    if first.is_none() && d != '!' && d != '^' {
                        first = Some(d);
                    }
                }
                out.push(first.unwrap_or('x'));
            }
            c => out.push(c),
        }
    }
    out
}

/// Names ld or gas treat specially whatever the script says.
fn special(name: &str) -> bool {
    const PREFIXES: &[&str] = &[
        ".rel",
        ".got",
        ".plt",
        ".iplt",
        ".igot",
        ".eh_frame",
        ".stab",
        ".symtab",
        ".strtab",
        ".shstrtab",
        ".dyn",
        ".interp",
        ".hash",
        ".gnu",
        ".note.GNU",
        ".note.gnu",
        ".debug",
        ".tdata",
        ".tbss",
        ".comment",
        "COMMON",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p)) || name.contains('"') || name.is_empty()
}

/// Whether description `d` takes section `n` of file `f` (ld's matching,
/// literal names); `None` when it has INPUT_SECTION_FLAGS (not modelled).
fn takes(d: &InputDescription, f: &str, n: &str) -> Option<bool> {
    if !d.flags.is_empty() {
        return None;
    }
    let m = script::glob_matches;
    let file_ok = d
        .file
        .as_ref()
        .is_none_or(|p| m(&p.pattern, f) && !p.exclude.iter().any(|x| m(x, f)));
    let section_ok = match &d.sections {
        None => true,
        Some(l) => l
            .iter()
            .any(|p| m(&p.pattern, n) && !p.exclude.iter().any(|x| m(x, f))),
    };
    Some(file_ok && section_ok)
}

/// Link objects holding an instance of every section pattern (one object
/// per file pattern, excluded names included, plus `in.o` for `*`) with a
/// script that gives every description of `s` its own output section (in
/// order, `/DISCARD/` kept), and check ld against our dead marks: a dead
/// description gets nothing; a live one gets a (file, section) pair that it
/// takes and no earlier description does.
fn check_dead_marks_with_ld(name: &str, s: &Script) -> usize {
    let mut body = String::from("SECTIONS\n{\n");
    let mut k = 0;
    let plain = |p: &str| !p.contains(':') && !p.contains('/') && !special(&instance(p));
    for o in s.output_sections() {
        for (_, d) in o.inputs() {
            if let Some(f) = &d.file {
                if !plain(&f.pattern) || !f.exclude.iter().all(|x| plain(x)) {
                    continue; // archives and paths: not modelled
                }
            }
            let out = if o.name == "/DISCARD/" {
                "/DISCARD/".to_string()
            } else {
                format!(".o{k}")
            };
            body.push_str(&format!("  {out} : {{ {d} }}\n"));
            k += 1;
        }
    }
    body.push_str("}\n");
    let t = script::parse(&body).unwrap_or_else(|e| panic!("{name}: {e}\n{body}"));
    let mut names: Vec<String> = Vec::new();
    let mut files: Vec<String> = vec!["in.o".to_string()];
    let add = |v: &mut Vec<String>, n: String| {
        if !special(&n) && !v.contains(&n) {
            v.push(n);
        }
    };
    for o in t.output_sections() {
        for (_, d) in o.inputs() {
            for p in d.sections.iter().flatten() {
                add(&mut names, instance(&p.pattern));
                for x in &p.exclude {
                    add(&mut files, instance(x));
                }
            }
            if let Some(f) = &d.file {
                add(&mut files, instance(&f.pattern));
                for x in &f.exclude {
                    add(&mut files, instance(x));
                }
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let asm: String = names
        .iter()
        .map(|n| format!(".section \"{n}\",\"a\",@progbits\n.byte 0\n"))
        .collect();
    std::fs::write(dir.path().join("in.s"), asm).unwrap();
    std::fs::write(dir.path().join("t.ld"), &body).unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(args[0])
            .args(&args[1..])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for f in &files {
        run(&["as", "in.s", "-o", f]);
    }
    let mut ld: Vec<&str> = vec!["ld", "-T", "t.ld", "-o", "out", "-e", "0"];
    ld.extend(files.iter().map(String::as_str));
    run(&ld);
    let sections = run(&["readelf", "-S", "-W", "out"]);
    let present = |sec: &str| {
        sections
            .lines()
            .any(|l| l.split_whitespace().any(|w| w == sec))
    };
    let mut checked = 0;
    let all = t.output_sections();
    for (i, o) in all.iter().enumerate() {
        let (_, d) = o.inputs().next().unwrap();
        if o.name == "/DISCARD/" {
            continue;
        }
        if d.dead {
            assert!(
                !present(&o.name),
                "{name}: ld put something in dead {d}\n{body}"
            );
            checked += 1;
            continue;
        }
        // A pair this description takes and no earlier one may.
        let free = files.iter().any(|f| {
            names.iter().any(|n| {
                takes(d, f, n) == Some(true)
                    && all[..i]
                        .iter()
                        .all(|e| takes(e.inputs().next().unwrap().1, f, n) == Some(false))
            })
        });
        if free {
            assert!(present(&o.name), "{name}: ld left live {d} empty\n{body}");
            checked += 1;
        }
    }
    checked
}

#[test]
fn dead_marks_agree_with_ld() {
    if !ld_available() {
        return;
    }
    let mut total = 0;
    let mut dead_seen = 0;
    for f in FIXTURES {
        let Some((_, s)) = parsed(f.name) else { return };
        dead_seen += dead(&s).len();
        total += check_dead_marks_with_ld(f.name, &s);
    }
    let (_, s) = syntax_fixture();
    total += check_dead_marks_with_ld("all-constructs", &s);
    let extra = script::parse(
        "SECTIONS { .a : { *(.x.*) *(.y.[a-c]*) *(.w?) } .b : { *(.x.foo) *(.y.b*) *(.y.d*) *(.wq) *(.w) } /DISCARD/ : { *(.v) } .c : { *(.v) *(.x.*.bar) } }",
    )
    .unwrap();
    assert_eq!(
        dead(&extra),
        [
            (".b".into(), "*(.x.foo)".into()),
            (".b".into(), "*(.y.b*)".into()),
            (".b".into(), "*(.wq)".into()),
            (".c".into(), "*(.v)".into()),
            (".c".into(), "*(.x.*.bar)".into()),
        ] as [(String, String); 5]
    );
    total += check_dead_marks_with_ld("extra", &extra);
    let files = script::parse(
        "SECTIONS { .a : { *.o(.f) a.o(.g) EXCLUDE_FILE(b.o) *(.h) *(EXCLUDE_FILE(c.o) .i) } .b : { a.o(.f) b.o(.h) c.o(.h) c.o(.i) *(.g) a.o } }",
    )
    .unwrap();
    assert_eq!(dead(&files), [(".b".to_string(), "a.o(.f)".to_string())]);
    total += check_dead_marks_with_ld("files", &files);
    assert!(
        dead_seen >= 10,
        "the fixtures have dead descriptions to check"
    );
    assert!(total >= 100, "only {total} descriptions checked");
}

/// Scripts where ld's lexer states and grammar decide: do we accept exactly
/// what ld accepts? ld (binutils 2.40 here) is the judge, asked at test time.
const LD_CORPUS: &[&str] = &[
    // The token after an output section's name is lexed in the SECTIONS state.
    "SECTIONS { .t 10h : { } }",
    "SECTIONS { .t NOLOAD : { } }",
    "SECTIONS { .t a-b : { } }",
    "SECTIONS { .t 4K : { } }",
    "SECTIONS { .t $10 : { } }",
    "SECTIONS { .t l : { } }",
    "SECTIONS { .t a+1 : { } }",
    // After a fill ld re-lexes only a name.
    "SECTIONS { .a : { } = 0 ~x : { } }",
    "SECTIONS { .a : { } = 0 .b : { } }",
    "foo=1;",
    "foo = 1;",
    "SECTIONS { .t : { foo=1; } }",
    "SECTIONS { .t: { } }",
    "SECTIONS { .t : { *(.a) } :text=0x90 }",
    "SECTIONS { . = 1 }",
    "x = 1",
    "OUTPUT_FORMAT(a, b, c)",
    "OUTPUT_FORMAT(a,b,c)",
    "SECTIONS { .t : { *(.a , .b) } }",
    "x = deadh;",
    "x = 1 +;",
    "SECTIONS { .t ALIGN(4) (NOLOAD) : AT(0) ALIGN(8) SUBALIGN(2) ONLY_IF_RW { } }",
    "SECTIONS { .t : { KEEP(KEEP(*(.b))) } }",
    "SECTIONS { .t : { SORT(SORT(.a)) } }",
    "SECTIONS { .t : { *(SORT(SORT(.a))) } }",
    "SECTIONS { .t : { *(SORT_NONE(SORT(.a))) } }",
    "SECTIONS { .t : { *(SORT_BY_INIT_PRIORITY(SORT(.a))) } }",
    "SECTIONS { .t : { *(SORT_BY_ALIGNMENT(SORT_BY_NAME(.a))) } }",
    "SECTIONS { .t : { *(EXCLUDE_FILE(a.o) EXCLUDE_FILE(b.o) .x) } }",
    "SECTIONS { .t : { *(.a) } > }",
    "MEMORY { r : ORIGIN = 0, LENGTH = 1 }",
    "MEMORY { r : LENGTH = 1, ORIGIN = 0 }",
    "MEMORY { r (rw) : org = 0 len = 1 }",
    "PHDRS { t PT_LOAD ; }",
    "PHDRS { t PT_LOAD }",
    "ENTRY(a b)",
    "INPUT(a, b -lc AS_NEEDED(d))",
    "x = ADDR(.a-b);",
    "x = DEFINED(a-b);",
    "SECTIONS { /DISCARD/ : { *(.a) } }",
    "SECTIONS { .a : { *(.a) } = 0x90 /DISCARD/ : { *(.b) } }",
    "SECTIONS { .a : { *(.a) } ; }",
    "SECTIONS { ; }",
    r#"SECTIONS { ASSERT(1, "x") }"#,
    r#"SECTIONS { ASSERT(1, "x"); }"#,
    r#"SECTIONS { .t : { ASSERT(1, "x") } }"#,
    r#"SECTIONS { .t : { ASSERT(1, "x"); } }"#,
    "SECTIONS { .t : { LONG(1); } }",
    "x = 1 ? 2 : 3;",
    "x = (1;",
    "SECTIONS { .t : { *(.a) } } }",
    "SECTIONS { .t : AT(1) { } }",
    "SECTIONS { .t : { } AT>r }",
    "SECTIONS { .t (TYPE = 1) : { } }",
    "SECTIONS { .t (READONLY) : { } }",
    "SECTIONS { .t : { INPUT_SECTION_FLAGS(A & !B) *(.x) } }",
    "SECTIONS { .t : { [ .a .b ] } }",
    "NOCROSSREFS(a, b c)",
    "INSERT AFTER .text",
    "x = 0x;",
    "x = 1K2;",
    "x = $;",
    "SECTIONS { .t : { *(.a) } >r AT>s :p :q = 1 , }",
    "SECTIONS { OVERLAY : { .a { *(.a) } .b { *(.b) } } }",
    "SECTIONS { .t : { CONSTRUCTORS SORT(CONSTRUCTORS) } }",
    "SECTIONS { .t : { CREATE_OBJECT_SYMBOLS } }",
    "x = LOG2CEIL(3);",
    "x = ALIGN(1,2,3);",
    "x = MAX(1);",
    "x = -~!1;",
    "HIDDEN(x = 1);",
    "PROVIDE(x += 1);",
    "SECTIONS { .t : { PROVIDE(x = .) } }",
    "x = 1, y = 2;",
    "SECTIONS { .t 0x10 : { } }",
    "SECTIONS { .t : 0x10 { } }",
    r#"x = "a b";"#,
    "x = 08;",
    "SECTIONS { .t : { *(.a) } :p = }",
    "SECTIONS { .t : { @ } }",
    "x = SEGMENT_START(text-seg, 1);",
    r#"x = SEGMENT_START("text-seg", 1);"#,
    "x = CONSTANT(MAXPAGESIZE);",
    "x = CONSTANT (COMMONPAGESIZE);",
    "SECTIONS { .t : { . += 1; . -= 1; . *= 1; . /= 1; . <<= 1; . >>= 1; . &= 1; . |= 1; } }",
    "SECTIONS { .t : ALIGN_WITH_INPUT { } }",
    "SECTIONS { .t : { *(.a) } AT > r }",
    "x = a.b-c;",
    "SECTIONS { .t : { *(.a) }, .u : { } }",
    "SECTIONS { .t BLOCK(4) : { } }",
    "x = 1 << 2 >> 3 <= 4 >= 5 == 6 != 7 && 8 || 9 % 2;",
    "x = ABSOLUTE(.) + NEXT(4) + ALIGNOF(.t) + LOADADDR(.t) + ORIGIN(r) + LENGTH(r);",
    "x = DATA_SEGMENT_ALIGN(1, 2) + DATA_SEGMENT_RELRO_END(0, 8) + DATA_SEGMENT_END(.);",
    "x = SIZEOF_HEADERS;",
    "FORCE_COMMON_ALLOCATION INHIBIT_COMMON_ALLOCATION",
    "EXTERN(a b, c)",
    "REGION_ALIAS(a, b)",
    r#"REGION_ALIAS("a", "b")"#,
    "SEARCH_DIR(/x) OUTPUT(a.out) TARGET(binary) STARTUP(crt0.o)",
    "GROUP(a.a -lb)",
    "SECTIONS { .t : { *(.a) } } INSERT BEFORE .data",
    "x = 1; /* unterminated",
    "x = 1; # hash comment",
    "SECTIONS { .t : { *(.a) /* c */ } }",
    "SECTIONS { .t : { *(.a)/* c */ } }",
    "SECTIONS { .t : { *.o/* c */(.a) } }",
    r#"SECTIONS { .t : { "a b"(.x) } }"#,
    r#"SECTIONS { "a b" : { } }"#,
    r#"SECTIONS { .t : { *("a*b") } }"#,
    r#"LD_FEATURE("SANE_EXPR")"#,
];

/// Where we differ from ld 2.40 on purpose, and why.
const LD_DEVIATIONS: &[(&str, &str)] = &[
    ("x = 1 ^ 2;", "ld 2.41 added `^`; ld 2.40 rejects it"),
    ("SECTIONS { .t : { FOO(.a) } }", "an all-caps name with `(` is an unknown keyword to us, a file name to ld"),
    (
        "SECTIONS { .t (NOLAOD) : { } }",
        "a section type we do not know is an error to us, an address to ld",
    ),
    ("SECTIONS { .t : { } } VERSION { V1 { global: foo; }; }", "version scripts are not supported: an error naming VERSION"),
    ("SECTIONS { .t : { IRQENTRY_TEXT } }", "an all-caps file name is an unknown keyword to us (an unexpanded macro), a file name to ld"),
];

fn ld_accepts(dir: &std::path::Path, text: &str) -> bool {
    let path = dir.join("case.ld");
    std::fs::write(&path, format!("{text}\n")).unwrap();
    let out = Command::new("ld")
        .current_dir(dir)
        .arg("-T")
        .arg(&path)
        .output()
        .expect("run ld");
    let err = String::from_utf8_lossy(&out.stderr);
    !(err.contains("syntax error")
        || err.contains("invalid character")
        || err.contains("EOF in comment")
        || err.contains("unterminated"))
}

#[test]
fn accepts_what_ld_accepts() {
    if !ld_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut accepted, mut rejected) = (0, 0);
    for text in LD_CORPUS {
        let ld = ld_accepts(dir.path(), text);
        let ours = script::parse(text);
        assert_eq!(
            ours.is_ok(),
            ld,
            "{text}: ld accepts: {ld}, we say {ours:?}"
        );
        if ld {
            accepted += 1;
        } else {
            rejected += 1;
        }
    }
    assert!(
        accepted > 40 && rejected > 25,
        "{accepted} accepted, {rejected} rejected"
    );
    for (text, why) in LD_DEVIATIONS {
        let ld = ld_accepts(dir.path(), text);
        let ours = script::parse(text);
        assert_ne!(ours.is_ok(), ld, "{text}: no longer a deviation ({why})");
    }
}

/// ld's own built-in scripts (`ld --verbose`), for several link modes: real
/// scripts in ld's own hand. They parse and round-trip, ld reads our printed
/// form, and ld agrees with the dead marks.
#[test]
fn ld_default_scripts() {
    if !ld_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let modes: &[&[&str]] = &[
        &[],
        &["-shared"],
        &["-pie"],
        &["-z", "noseparate-code"],
        &["-z", "relro", "-z", "now"],
        &["-m", "elf_i386"],
        &["-r"],
    ];
    for mode in modes {
        let out = Command::new("ld")
            .arg("--verbose")
            .args(*mode)
            .output()
            .expect("run ld");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let text: String = stdout
            .split("==================================================")
            .nth(1)
            .unwrap_or_else(|| panic!("no script in ld --verbose {mode:?}"))
            .to_string();
        let name = format!("ld --verbose {}", mode.join(" "));
        let s = script::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_round_trips(&name, &s);
        let t = s.output_section(".text").expect(".text");
        // A relocatable link keeps input sections apart: `*(.text .stub)` only.
        if mode != &["-r"] {
            assert!(t.find_input(".text.unlikely").is_some(), "{name}");
        }
        let mut printed = s.clone();
        printed.commands.retain(|c| {
            !matches!(
                c.kind,
                CommandKind::OutputArch { .. } | CommandKind::OutputFormat { .. }
            )
        });
        let complaints = ld_syntax_complaints(dir.path(), "default.ld", &printed.to_string());
        assert!(complaints.is_empty(), "{name}: {complaints:?}");
        check_dead_marks_with_ld(&name, &s);
    }
}

/// Preprocessed real scripts (`PATCHBOT_LDS_FILES`, colon-separated), e.g.
/// from a Xen or Linux build: they parse and round-trip, and, with binutils
/// here, ld agrees with the dead marks.
#[test]
#[ignore]
fn real_scripts_from_env() {
    let files = std::env::var("PATCHBOT_LDS_FILES").expect("set PATCHBOT_LDS_FILES");
    for f in files.split(':') {
        let text = std::fs::read_to_string(f).unwrap();
        let s = script::parse(&text).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_round_trips(f, &s);
        eprintln!(
            "{f}: {} output sections, dead: {:?}",
            s.output_sections().len(),
            dead(&s)
        );
        if ld_available() {
            check_dead_marks_with_ld(f, &s);
        }
    }
}
