//! Benchmark: preprocess five architectures' linker scripts of Xen's size (a
//! `xen.lds.S` of ~300 lines, a forced `config.h`, an `autoconf.h` of 300
//! symbols and 20 headers each, nested and guarded) in-process, against spawning
//! `gcc -E -P -x assembler-with-cpp` on the same files in the same run.
//! Target: at least 5x faster than gcc. The figure is the median ratio of
//! rounds paired in time (`CPP_BENCH_PAIRS`, 40 by default), as this machine's
//! speed drifts while it runs.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use patchbot::lds::cpp::{self, CppOptions, Define};
use patchbot::tree::vfs::DirVfs;

const ARCHES: [&str; 5] = ["x86", "arm64", "arm32", "riscv", "ppc"];
const HEADERS: usize = 20;

fn write(root: &Path, p: &str, c: &str) {
    let f = root.join(p);
    std::fs::create_dir_all(f.parent().unwrap()).unwrap();
    std::fs::write(f, c).unwrap();
}

fn build(root: &Path) {
    let mut auto = String::from("/* generated */\n");
    for i in 0..300 {
        match i % 3 {
            0 => auto.push_str(&format!("#define CONFIG_OPT_{i} 1\n")),
            1 => auto.push_str(&format!("#define CONFIG_VAL_{i} {}\n", i * 16)),
            _ => auto.push_str(&format!("#define CONFIG_STR_{i} \"s{i}\"\n")),
        }
    }
    auto.push_str("#define CONFIG_CC_SPLIT_SECTIONS 1\n#define CONFIG_HYPFS 1\n");
    write(root, "xen/include/generated/autoconf.h", &auto);
    write(
        root,
        "xen/include/xen/config.h",
        "#ifndef __XEN_CONFIG_H__\n#define __XEN_CONFIG_H__\n#include <generated/autoconf.h>\n#include <asm/config.h>\n#define __stringify_1(x...) #x\n#define __stringify(x...) __stringify_1(x)\n#define KB(x) ((x) << 10)\n#define MB(x) ((x) << 20)\n#ifndef __ASSEMBLY__\ntypedef unsigned long size_t;\nstruct s { int a; };\n#endif\n#endif\n",
    );
    for arch in ARCHES {
        let inc = format!("xen/arch/{arch}/include/asm");
        let mut cfg = String::from("#ifndef __ASM_CONFIG_H__\n#define __ASM_CONFIG_H__\n");
        for h in 0..HEADERS {
            let mut s = format!(
                "#ifndef __ASM_H{h}_H__\n#define __ASM_H{h}_H__\n/* header {h} for {arch} */\n"
            );
            if h + 1 < HEADERS && h % 4 == 0 {
                s.push_str(&format!("#include <asm/h{}.h>\n", h + 1));
            }
            s.push_str("#include <xen/shared.h>\n");
            for m in 0..12 {
                s.push_str(&format!(
                    "#define H{h}_CONST{m} (_AC({}, UL) << {})\n",
                    m + 1,
                    m % 8
                ));
                s.push_str(&format!(
                    "#define H{h}_SECT{m}(x) . = ALIGN(H{h}_CONST{m}); __h{h}_{m}_start = .; *(.h{h}.x) *(.h{h}.x.*) __h{h}_{m}_end = .;\n"
                ));
            }
            s.push_str(&format!(
                "#ifdef CONFIG_OPT_{}\n#define H{h}_ENABLED 1\n#else\n#define H{h}_ENABLED 0\n#endif\n",
                h * 3
            ));
            s.push_str("#ifndef __ASSEMBLY__\n");
            for c in 0..15 {
                s.push_str(&format!(
                    "static inline int h{h}_f{c}(int x) {{ return x * {c} + H{h}_CONST{}; }}\n",
                    c % 12
                ));
            }
            s.push_str("#endif\n#endif\n");
            write(root, &format!("{inc}/h{h}.h"), &s);
            cfg.push_str(&format!("#include <asm/h{h}.h>\n"));
        }
        cfg.push_str("#endif\n");
        write(root, &format!("{inc}/config.h"), &cfg);

        let mut lds = String::from("/* generated, shaped like xen.lds.S */\n#include <xen/xen.lds.h>\n#include <asm/page.h>\n#undef ENTRY\n#define DECL_SECTION(x) x : AT(ADDR(#x) - XEN_VIRT_START)\nENTRY(start)\nSECTIONS\n{\n  . = XEN_VIRT_START;\n");
        for sec in 0..24 {
            lds.push_str(&format!(
                "  DECL_SECTION(.sec{sec}) {{\n        _s{sec} = .;\n        *(.sec{sec})\n#ifdef CONFIG_CC_SPLIT_SECTIONS\n        *(.sec{sec}.*)\n#endif\n        . = ALIGN(PAGE_SIZE);\n        H{}_SECT{}(s{sec})\n        LIST_{}\n        _e{sec} = .;\n  }} :text\n",
                sec % HEADERS,
                sec % 12,
                sec % 6
            ));
        }
        lds.push_str("  DISCARD_SECTIONS\n}\nASSERT(_end - _start <= MB(16), \"too big\")\n");
        write(root, &format!("xen/arch/{arch}/xen.lds.S"), &lds);
        write(
            root,
            &format!("{inc}/page.h"),
            "#ifndef __PAGE_H__\n#define __PAGE_H__\n#define PAGE_SHIFT 12\n#define PAGE_SIZE (_AC(1, L) << PAGE_SHIFT)\n#define XEN_VIRT_START 0xffff82d040000000\n#endif\n",
        );
    }
    let mut lds_h = String::from("#ifndef __XEN_LDS_H__\n#define __XEN_LDS_H__\n");
    for l in 0..6 {
        lds_h.push_str(&format!("#define LIST_{l} \\\n"));
        for e in 0..10 {
            lds_h.push_str(&format!(
                "       __list{l}_{e} = .; *(.list{l}.e{e}) KEEP(*(.list{l}.k{e})) \\\n"
            ));
        }
        lds_h.push_str("       . = ALIGN(8);\n");
    }
    lds_h.push_str("#define DISCARD_SECTIONS /DISCARD/ : { *(.exit.text) *(.discard) *(.discard.*) *(.eh_frame) }\n#endif\n");
    write(root, "xen/include/xen/xen.lds.h", &lds_h);
    write(
        root,
        "xen/include/xen/shared.h",
        "#ifndef __SHARED_H__\n#define __SHARED_H__\n#ifdef __ASSEMBLY__\n#define _AC(X, Y) X\n#else\n#define __AC(X, Y) (X##Y)\n#define _AC(X, Y) __AC(X, Y)\n#endif\n#endif\n",
    );
}

fn flags(arch: &str) -> Vec<String> {
    vec![
        "-D__ASSEMBLY__".into(),
        "-D__XEN__".into(),
        "-DLINKER_SCRIPT".into(),
        "-I".into(),
        format!("xen/arch/{arch}/include"),
        "-I".into(),
        "xen/include".into(),
        "-include".into(),
        "xen/include/xen/config.h".into(),
    ]
}

fn options(arch: &str) -> CppOptions {
    CppOptions {
        include_dirs: vec![format!("xen/arch/{arch}/include"), "xen/include".into()],
        forced_includes: vec!["xen/include/xen/config.h".into()],
        defines: ["__ASSEMBLY__", "__XEN__", "LINKER_SCRIPT"]
            .iter()
            .map(|d| Define::Define(d.to_string()))
            .collect(),
        undef: true,
        ..CppOptions::default()
    }
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let vfs = DirVfs::new(dir.path()).unwrap();
    let opts: Vec<CppOptions> = ARCHES.iter().map(|a| options(a)).collect();

    // in-process: all five, repeated
    let mut outputs = Vec::new();
    for (a, o) in ARCHES.iter().zip(&opts) {
        let out = cpp::preprocess(&vfs, &format!("xen/arch/{a}/xen.lds.S"), o).unwrap();
        outputs.push(out);
    }
    // the scripts must parse: the benchmark times preprocessing and parsing
    for (a, out) in ARCHES.iter().zip(&outputs) {
        if let Err(e) = patchbot::lds::script::parse(&out.text) {
            panic!("{a}: the preprocessed script does not parse: {e:?}");
        }
    }
    {
        let start = Instant::now();
        for _ in 0..20 {
            for out in &outputs {
                std::hint::black_box(patchbot::lds::script::parse(&out.text).is_ok());
            }
        }
        println!(
            "  (parsing alone: {:.2} ms for all five)",
            ms(start.elapsed() / 20)
        );
    }
    {
        let start = Instant::now();
        for _ in 0..20 {
            for (a, o) in ARCHES.iter().zip(&opts) {
                let out = cpp::preprocess(&vfs, &format!("xen/arch/{a}/xen.lds.S"), o);
                std::hint::black_box(out.is_ok());
            }
        }
        println!(
            "  (preprocessing alone: {:.2} ms for all five)",
            ms(start.elapsed() / 20)
        );
    }
    let files = outputs[0].files_read.len();
    let bytes = outputs[0].text.len();
    let rounds: u32 = std::env::var("CPP_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        // about as long as one gcc round of five
        .unwrap_or(5);
    let ours_once = || {
        let start = Instant::now();
        for _ in 0..rounds {
            for (a, o) in ARCHES.iter().zip(&opts) {
                let out = cpp::preprocess(&vfs, &format!("xen/arch/{a}/xen.lds.S"), o).unwrap();
                let parsed = patchbot::lds::script::parse(&out.text);
                let _ = std::hint::black_box((out, parsed));
            }
        }
        start.elapsed() / rounds
    };
    let shared_once = || {
        let start = Instant::now();
        for _ in 0..rounds {
            // one revision's five architectures share the files they read
            let mut cache = cpp::CppCache::default();
            for (a, o) in ARCHES.iter().zip(&opts) {
                let out =
                    cpp::preprocess_cached(&vfs, &format!("xen/arch/{a}/xen.lds.S"), o, &mut cache)
                        .unwrap();
                let parsed = patchbot::lds::script::parse(&out.text);
                let _ = std::hint::black_box((out, parsed));
            }
        }
        start.elapsed() / rounds
    };
    let gcc_ok = std::env::var_os("CPP_BENCH_NO_GCC").is_none()
        && Command::new("gcc")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    println!("cpp: 5 architectures, {files} files read each, {bytes} bytes of output each");
    if !gcc_ok {
        let ours = ours_once();
        println!(
            "  in-process: {:>8.2} ms for all five ({:.2} ms a script); gcc is not installed: no comparison",
            ms(ours),
            ms(ours) / 5.0
        );
        return;
    }
    let gcc_once = |check: bool| {
        let start = Instant::now();
        for (i, a) in ARCHES.iter().enumerate() {
            let out = Command::new("gcc")
                .current_dir(dir.path())
                .args([
                    "-E",
                    "-P",
                    "-undef",
                    "-nostdinc",
                    "-x",
                    "assembler-with-cpp",
                ])
                .args(flags(a))
                .arg(format!("xen/arch/{a}/xen.lds.S"))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            if check {
                assert!(
                    out.stdout == outputs[i].text.as_bytes(),
                    "{a}: the output differs from gcc's"
                );
            }
        }
        start.elapsed()
    };
    gcc_once(true);
    // The machine may be shared, and its speed drifts over a run: each
    // in-process round of five is paired with a gcc round of five next to it
    // (in alternating order), and the figure is the median of the pairs'
    // ratios. Ours is the mean of `rounds` rounds (CPP_BENCH_ROUNDS), taken
    // right before or after its gcc round.
    let pairs: usize = std::env::var("CPP_BENCH_PAIRS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(40)
        .max(1);
    let mut ratios = Vec::new();
    let mut ours_all = Vec::new();
    let mut gcc_all = Vec::new();
    for pair in 0..pairs {
        let (ours, gcc) = if pair % 2 == 0 {
            let o = ours_once();
            (o, gcc_once(false))
        } else {
            let g = gcc_once(false);
            (ours_once(), g)
        };
        ratios.push(gcc.as_secs_f64() / ours.as_secs_f64());
        ours_all.push(ours);
        gcc_all.push(gcc);
    }
    let shared = shared_once();
    ratios.sort_by(f64::total_cmp);
    ours_all.sort();
    gcc_all.sort();
    let q = |v: &[f64], f: f64| v[((v.len() - 1) as f64 * f).round() as usize];
    println!(
        "  in-process preprocess + parse: median {:.2} ms (best {:.2} ms; {:.2} ms with files shared); gcc -E -P: median {:.2} ms (best {:.2} ms), for all five",
        ms(ours_all[pairs / 2]),
        ms(ours_all[0]),
        ms(shared),
        ms(gcc_all[pairs / 2]),
        ms(gcc_all[0]),
    );
    println!(
        "  ratio per pair: quartiles {:.1}x / {:.1}x / {:.1}x over {pairs} pairs",
        q(&ratios, 0.25),
        q(&ratios, 0.5),
        q(&ratios, 0.75),
    );
    println!(
        "  in-process preprocessing and parsing is {:.1}x faster than spawning gcc -E -P (median of {pairs} paired rounds; target: at least 5x), same output",
        q(&ratios, 0.5)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
