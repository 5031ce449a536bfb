//! MAINTAINERS matching, on a file of our own shaped like Xen's. The expected
//! recipients are what Xen's `scripts/get_maintainer.pl --roles -f FILE` prints
//! for the same file and tree layout; with `PATCHBOT_XEN_TREE` set to a Xen
//! clone, `the_real_get_maintainer_agrees` runs that script and compares.

mod common;

use std::path::Path;

use patchbot::maintainers::Maintainers;

const FIXTURE: &str = "tests/fixtures/maintainers/MAINTAINERS";
const DIRS: &[&str] = &[
    "xen",
    "xen/arch",
    "xen/arch/x86",
    "xen/arch/arm",
    "xen/arch/arm/include",
    "xen/arch/arm/include/asm",
    "xen/arch/arm/include/asm/tee",
    "xen/arch/riscv",
    "xen/arch/ppc",
    "xen/common",
    "xen/include",
    "xen/include/xen",
    "docs",
    "docs/misc",
];

fn load() -> Maintainers {
    let text = std::fs::read_to_string(FIXTURE).unwrap();
    Maintainers::parse(&text, &|p| DIRS.contains(&p))
}

/// get_maintainer's `--roles` lines for these files.
fn lines(m: &Maintainers, files: &[&str], patch: Option<&str>) -> Vec<String> {
    let files: Vec<String> = files.iter().map(|s| s.to_string()).collect();
    let r = m.recipients(&files, patch);
    r.people
        .iter()
        .chain(r.lists.iter())
        .map(|p| format!("{} ({})", p.email, p.role))
        .collect()
}

#[test]
fn sections_and_roles_as_get_maintainer_gives_them() {
    let m = load();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["xen/arch/x86/setup.c"],
            &[
                "Xavier Eight <x86@example.org> (supporter:X86 ARCHITECTURE)",
                "Ada Arm <ada@arm.example> (supporter:X86 ARCHITECTURE)",
                "x86-private@lists.example.org (open list:X86 ARCHITECTURE)",
                "xen-devel@lists.example.org (open list)",
            ],
        ),
        // X: takes the TEE headers away from ARM; the TEE section has them
        (
            &["xen/arch/arm/include/asm/tee/optee.h"],
            &[
                "Tea Maker <tea@example.org> (maintainer:ARM TEE (OP-TEE M...)",
                "xen-devel@lists.example.org (open list)",
            ],
        ),
        // nothing more specific: THE REST
        (
            &["docs/README"],
            &[
                "Rest One <rest1@example.org> (supporter:THE REST)",
                "Rest Two <rest2@example.org> (supporter:THE REST)",
                "xen-devel@lists.example.org (open list)",
            ],
        ),
        // the glob (deeper) before the directory; `F: xen/arch/riscv` names a directory
        (
            &["xen/arch/riscv/xen.lds.S"],
            &[
                "Lin Ker <lin@example.org> (odd fixer:LINKER SCRIPTS)",
                "Risa Five <riscv@example.org> (supporter:RISC-V)",
                "xen-devel@lists.example.org (open list)",
            ],
        ),
        // N: is a regular expression on the path
        (
            &["xen/include/xen/xen.lds.h"],
            &[
                "Lin Ker <lin@example.org> (odd fixer:LINKER SCRIPTS)",
                "xen-devel@lists.example.org (open list)",
            ],
        ),
        // braces
        (
            &["docs/misc/kconfig-language.txt"],
            &[
                "Kay Config <kay@example.org> (supporter:KCONFIG)",
                "xen-devel@lists.example.org (open list)",
            ],
        ),
        (
            &["docs/misc/kconfig.txt"],
            &[
                "Kay Config <kay@example.org> (supporter:KCONFIG)",
                "xen-devel@lists.example.org (open list)",
            ],
        ),
        // a glob at the same depth only
        (
            &["xen/Kconfig.debug"],
            &[
                "Kay Config <kay@example.org> (supporter:KCONFIG)",
                "xen-devel@lists.example.org (open list)",
            ],
        ),
        // a reviewer; the list first added by the ARM section carries its name
        (
            &["xen/arch/arm/setup.c"],
            &[
                "Ada Arm <ada@arm.example> (supporter:ARM (W/ VIRTUALIS...)",
                "Rita Review <rita@example.org> (reviewer)",
                "xen-devel@lists.example.org (open list:ARM (W/ VIRTUALIS...)",
            ],
        ),
        (
            &["xen/arch/x86/xen.lds.S"],
            &[
                "Lin Ker <lin@example.org> (odd fixer:LINKER SCRIPTS)",
                "Xavier Eight <x86@example.org> (supporter:X86 ARCHITECTURE)",
                "Ada Arm <ada@arm.example> (supporter:X86 ARCHITECTURE)",
                "x86-private@lists.example.org (open list:X86 ARCHITECTURE)",
                "xen-devel@lists.example.org (open list)",
            ],
        ),
    ];
    for (files, want) in cases {
        assert_eq!(lines(&m, files, None), *want, "{files:?}");
    }
}

#[test]
fn several_files_deduplicate_and_drop_the_rest() {
    let m = load();
    // a patch's files are sorted (arm before x86): Ada keeps her ARM role
    let got = lines(&m, &["xen/arch/x86/setup.c", "xen/arch/arm/setup.c"], None);
    assert_eq!(
        got,
        [
            "Ada Arm <ada@arm.example> (supporter:ARM (W/ VIRTUALIS...)",
            "Rita Review <rita@example.org> (reviewer)",
            "Xavier Eight <x86@example.org> (supporter:X86 ARCHITECTURE)",
            "xen-devel@lists.example.org (open list:ARM (W/ VIRTUALIS...)",
            "x86-private@lists.example.org (open list:X86 ARCHITECTURE)",
        ]
    );
    // a file only THE REST maintains brings THE REST back for the whole change
    let got = lines(&m, &["xen/arch/x86/setup.c", "docs/README"], None);
    assert!(got.iter().any(|l| l.starts_with("Rest One")), "{got:?}");
}

#[test]
fn keywords_match_the_patch_lines() {
    let m = load();
    let patch = "diff --git a/xen/common/x.c b/xen/common/x.c\n--- a/xen/common/x.c\n+++ b/xen/common/x.c\n@@ -1 +1,2 @@\n x\n+#ifdef CONFIG_LIVEPATCH\n";
    let got = lines(&m, &["xen/common/x.c"], Some(patch));
    assert!(
        got.contains(&"Kay Config <kay@example.org> (supporter:KCONFIG)".to_string()),
        "{got:?}"
    );
    // before the first file header any line counts, as in get_maintainer
    let msg = "Subject: CONFIG_LIVEPATCH\n\ndiff --git a/xen/common/x.c b/xen/common/x.c\n--- a/xen/common/x.c\n+++ b/xen/common/x.c\n@@ -1 +1,2 @@\n x\n+y\n";
    let got = lines(&m, &["xen/common/x.c"], Some(msg));
    assert!(got.iter().any(|l| l.starts_with("Kay")), "{got:?}");
    // after it, a context line does not
    let context = "diff --git a/xen/common/x.c b/xen/common/x.c\n--- a/xen/common/x.c\n+++ b/xen/common/x.c\n@@ -1,2 +1,3 @@\n CONFIG_LIVEPATCH\n+y\n";
    let got = lines(&m, &["xen/common/x.c"], Some(context));
    assert!(!got.iter().any(|l| l.starts_with("Kay")), "{got:?}");
}

#[test]
fn the_real_get_maintainer_agrees() {
    let Ok(tree) = std::env::var("PATCHBOT_XEN_TREE") else {
        eprintln!(
            "skipped: set PATCHBOT_XEN_TREE to a Xen clone to compare with its get_maintainer.pl"
        );
        return;
    };
    let script = Path::new(&tree).join("scripts/get_maintainer.pl");
    assert!(script.exists(), "{} missing", script.display());
    // our fixture, in a scratch tree with the directories it names
    let d = tempfile::tempdir().unwrap();
    std::fs::copy(FIXTURE, d.path().join("MAINTAINERS")).unwrap();
    for dir in DIRS {
        std::fs::create_dir_all(d.path().join(dir)).unwrap();
    }
    let m = load();
    for f in [
        "xen/arch/x86/setup.c",
        "xen/arch/arm/include/asm/tee/optee.h",
        "docs/README",
        "xen/arch/riscv/xen.lds.S",
        "xen/include/xen/xen.lds.h",
        "docs/misc/kconfig-language.txt",
        "xen/arch/arm/setup.c",
        "xen/Kconfig.debug",
        "xen/arch/ppc/setup.c",
    ] {
        std::fs::write(d.path().join(f), "").unwrap();
        let out = std::process::Command::new("perl")
            .arg(&script)
            .args(["--roles", "-f", f])
            .current_dir(d.path())
            .output()
            .unwrap();
        let theirs: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(String::from)
            .collect();
        assert_eq!(lines(&m, &[f], None), theirs, "{f}");
    }
}

/// With `PATCHBOT_XEN_TREE` set to a Xen work tree: for every 7th file of the
/// tree, the recipients from the real MAINTAINERS equal its own
/// get_maintainer.pl's.
#[test]
fn the_real_maintainers_file_matches_get_maintainer() {
    let Ok(tree) = std::env::var("PATCHBOT_XEN_TREE") else {
        eprintln!("skipped: set PATCHBOT_XEN_TREE to a Xen work tree");
        return;
    };
    let root = Path::new(&tree);
    let Ok(text) = std::fs::read_to_string(root.join("MAINTAINERS")) else {
        eprintln!("skipped: {tree} has no MAINTAINERS (a work tree is needed)");
        return;
    };
    let m = Maintainers::parse(&text, &|p| root.join(p).is_dir());
    let mut files = Vec::new();
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let p = e.path();
            if e.file_name() == ".git" {
                continue;
            }
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    walk(root, root, &mut files);
    let mut failures = Vec::new();
    let mut compared = 0;
    for f in files.iter().step_by(7) {
        let out = std::process::Command::new("perl")
            .arg(root.join("scripts/get_maintainer.pl"))
            .args(["--roles", "-f", f])
            .current_dir(root)
            .output()
            .unwrap();
        let theirs: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(String::from)
            .collect();
        compared += 1;
        // -f mode: K: keywords are matched against the file's text
        let text = std::fs::read_to_string(root.join(f)).unwrap_or_default();
        let text_lines: Vec<&str> = text.lines().collect();
        let kw = m.keyword_sections_in(&text_lines);
        let r = m.recipients_with(std::slice::from_ref(f), &kw);
        let mut ours: Vec<String> = r
            .people
            .iter()
            .chain(r.lists.iter())
            .map(|p| format!("{} ({})", p.formatted(), p.role))
            .collect();
        // Perl takes sections of equal depth in hash order, which varies from run
        // to run: compare the sets, and where two matching sections tie (the
        // role of someone in both depends on that order), the addresses only
        let mut theirs = theirs;
        let depths: Vec<i64> = m.sections_with_depth(f).iter().map(|d| d.0).collect();
        let tie = depths.windows(2).any(|w| w[0] == w[1]);
        if tie {
            let strip = |l: &String| l.split(" (").next().unwrap_or_default().to_string();
            ours = ours.iter().map(strip).collect();
            theirs = theirs.iter().map(strip).collect();
        }
        ours.sort();
        theirs.sort();
        if ours != theirs {
            failures.push(format!("{f}:\n  ours   {ours:?}\n  theirs {theirs:?}"));
        }
    }
    eprintln!("compared {compared} files, {} differ", failures.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
