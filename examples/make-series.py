#!/usr/bin/env python3
"""Regenerate the example series (every *.mbox here except
xen-function-alignment.mbox, which is written by hand) from xen-tree/.

Each series is made the way a contributor would: commits on a scratch git
repository holding a copy of xen-tree/, then `git format-patch`, with the
headers git-send-email would add.  Dates and identities are fixed, so the
output is the same on every run.  Needs git and Python 3; writes nothing but
the mbox files (the scratch repository is removed at the end).
"""
import os, subprocess, shutil, email.utils, datetime, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "xen-tree")
WORK = tempfile.mkdtemp(prefix="patchbot-examples-")
REPO = os.path.join(WORK, "repo")

def git(*args, env=None, input=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    e.update({"GIT_CONFIG_NOSYSTEM": "1", "HOME": os.path.join(WORK, "home")})
    if env: e.update(env)
    return subprocess.run(["git", "-C", REPO, *args], check=True, capture_output=True,
                          text=True, env=e, input=input).stdout

def init():
    shutil.rmtree(REPO, ignore_errors=True)
    shutil.copytree(SRC, REPO)
    os.makedirs(os.path.join(WORK, "home"), exist_ok=True)
    git("init", "-q", "-b", "base")
    git("config", "user.name", "Base"); git("config", "user.email", "base@example.org")
    git("config", "core.abbrev", "12")
    git("add", "-A")
    d = "2023-12-01T12:00:00+0000"
    git("commit", "-qm", "base", env={"GIT_AUTHOR_DATE": d, "GIT_COMMITTER_DATE": d})

def edit(path, old, new, count=1):
    p = os.path.join(REPO, path)
    s = open(p).read()
    n = s.count(old)
    assert n == count, f"{path}: {old!r} found {n} times"
    open(p, "w").write(s.replace(old, new))

def write(path, text):
    p = os.path.join(REPO, path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    open(p, "w").write(text)

def commit(author, date, msg):
    git("add", "-A")
    env = {"GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1],
           "GIT_COMMITTER_NAME": author[0], "GIT_COMMITTER_EMAIL": author[1],
           "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    git("commit", "-q", "-F", "-", env=env, input=msg)

def split_msg(text):
    head, _, body = text.partition("\n\n")
    # unfold headers
    hdrs = {}
    cur = None
    for line in head.split("\n")[1:]:
        if line[:1] in " \t" and cur:
            hdrs[cur] += "\n" + line
        else:
            k, _, v = line.partition(": ")
            cur = k; hdrs[k] = k + ": " + v
    return hdrs, body

def series(name, branch_base, n, version, author, to, cc, dates, cover_blurb=None,
           cover_subject=None, msgid_pid=4000, extra_cover=""):
    """format the last n commits as a threaded mbox."""
    out = tempfile.mkdtemp(dir=WORK)
    args = ["format-patch", "-o", out, f"-{n}", "--signature=2.43.0", "--stat-width=72"]
    if version > 1: args.append(f"-v{version}")
    if cover_blurb is not None: args.append("--cover-letter")
    if n > 1 or cover_blurb is not None: args.append("--numbered")
    git(*args)
    files = sorted(os.listdir(out))
    msgs = []
    for f in files:
        msgs.append(split_msg(open(os.path.join(out, f)).read()))
    mbox = []
    email_addr = author[1]
    ids = []
    for i, (h, body) in enumerate(msgs):
        dt = datetime.datetime.strptime(dates[i], "%Y-%m-%dT%H:%M:%S%z")
        utc = dt.astimezone(datetime.timezone.utc)
        stamp = utc.strftime("%Y%m%d%H%M%S")
        if i == 0:
            t0 = stamp
        mid = f"<{t0}.{msgid_pid}-{i+1}-{email_addr}>"
        if i == 0:
            first = mid
        ids.append(mid)
        subj = h["Subject"]
        if cover_blurb is not None and i == 0:
            subj = subj.replace("*** SUBJECT HERE ***", cover_subject)
            body = body.replace("*** BLURB HERE ***", cover_blurb.strip("\n"))
            if extra_cover:
                body = body.replace("\n-- \n2.43.0", "\n" + extra_cover + "-- \n2.43.0")
        lines = [f"From {email_addr} {utc.strftime('%a %b %e %H:%M:%S %Y')}", msgs[-1][0]["From"]]
        lines.append("To: " + to)
        if cc: lines.append("Cc: " + cc)
        lines.append(subj)
        lines.append("Date: " + email.utils.format_datetime(dt))
        lines.append("Message-ID: " + mid)
        lines.append("X-Mailer: git-send-email 2.43.0")
        if i > 0:
            lines.append("In-Reply-To: " + first)
            lines.append("References: " + first)
        lines.append("MIME-Version: 1.0")
        if any(ord(c) > 127 for c in body):
            lines.append("Content-Type: text/plain; charset=UTF-8")
            lines.append("Content-Transfer-Encoding: 8bit")
        else:
            lines.append("Content-Type: text/plain; charset=UTF-8")
            lines.append("Content-Transfer-Encoding: 8bit")
        mbox.append("\n".join(lines) + "\n\n" + body.rstrip("\n") + "\n")
    shutil.rmtree(out)
    path = os.path.join(HERE, name)
    open(path, "w").write("\n".join(mbox))
    return path


ROSA = ("Rosa Pérez Molina", "rosa.perez@example.org")
LIST = "xen-devel@lists.xenproject.org"
CC_ALL = ("Jane Maintainer <jane@example.org>, Alex Rivers <alex.rivers@example.com>,\n"
          "\tPriya Raman <priya.raman@example.com>, Sven Larsen <sven.larsen@example.org>")

KCONFIG_ANCHOR = "config CC_SPLIT_SECTIONS\n\tbool\n\n"
def kconfig_block(comment_extra="", default0=False):
    s = ("# Minimum function alignment.\n"
         "#\n"
         "# Architectures select one of the FUNCTION_ALIGNMENT_*B options and the\n"
         "# largest one selected wins.  The result is exported as an integer so\n"
         "# that both C and assembly code can consume it.\n"
         + comment_extra +
         "config FUNCTION_ALIGNMENT_4B\n\tbool\n"
         "config FUNCTION_ALIGNMENT_8B\n\tbool\n"
         "config FUNCTION_ALIGNMENT_16B\n\tbool\n"
         "config FUNCTION_ALIGNMENT\n\tint\n"
         "\tdefault 16 if FUNCTION_ALIGNMENT_16B\n"
         "\tdefault  8 if FUNCTION_ALIGNMENT_8B\n"
         "\tdefault  4 if FUNCTION_ALIGNMENT_4B\n")
    if default0:
        s += "\tdefault  0\n"
    return s + "\n"

MAKE_ANCHOR = "CFLAGS-$(CONFIG_CC_SPLIT_SECTIONS) += -ffunction-sections -fdata-sections\n\n"
MAKE_IFDEF = ("ifdef CONFIG_FUNCTION_ALIGNMENT\n"
              "CFLAGS += -falign-functions=$(CONFIG_FUNCTION_ALIGNMENT)\n"
              "endif\n\n")

def select(arch, opt):
    anchors = {"x86": "\tselect CORE_PARKING\n",
               "arm": "\tselect HAS_ALTERNATIVE if HAS_VMAP\n",
               "riscv": "config RISCV\n\tdef_bool y\n",
               "ppc": "config PPC\n\tdef_bool y\n"}
    a = anchors[arch]
    edit(f"xen/arch/{arch}/Kconfig", a, a + f"\tselect {opt}\n")

def pad(arch, comment="Pad after the last function, it may get live patched too."):
    ind = " " * (7 if arch in ("x86", "arm") else 8)
    a = f"{ind}*(.text.*)\n#endif\n"
    edit(f"xen/arch/{arch}/xen.lds.S", a,
         a + f"#ifdef CONFIG_FUNCTION_ALIGNMENT\n{ind}/* {comment} */\n"
             f"{ind}. = ALIGN(CONFIG_FUNCTION_ALIGNMENT);\n#endif\n")

def start():
    git("checkout", "-q", "-f", "base")
    git("clean", "-qfdx")

def branch(name):
    start()
    git("checkout", "-q", "-B", name)

init()

# ---------------------------------------------------------------- v5
branch("v5")
edit("xen/Kconfig", KCONFIG_ANCHOR, KCONFIG_ANCHOR + kconfig_block(
    "#\n# No compiler probe: every compiler the tree supports (GCC 5.1 and\n"
    "# Clang 6.0 onwards) knows -falign-functions.\n"))
edit("xen/Makefile", MAKE_ANCHOR, MAKE_ANCHOR + MAKE_IFDEF)
commit(ROSA, "2024-01-09T10:30:01+0100", """xen: introduce Kconfig options for a minimum function alignment

Livepatching rewrites the first bytes of a function with a jump to the
replacement code.  For that to be safe the distance between two function
entry points has to be at least the size of the jump that gets written,
otherwise the jump tramples over the start of the following function.

Add a set of FUNCTION_ALIGNMENT_{4,8,16}B options that architectures can
select, and fold them into a single integer FUNCTION_ALIGNMENT which the
build passes to the compiler as -falign-functions.  The largest selected
value wins.

The option deliberately has no CC_ prefix: assembly code is expected to
use it too in a later change.

Signed-off-by: Rosa Pérez Molina <rosa.perez@example.org>
---
Changes since v4:
 - Drop the CC_HAS_FUNCTION_ALIGNMENT probe: all supported compilers
   have the option (say which ones in a comment, as Jane asked).

Changes since v3:
 - Make FUNCTION_ALIGNMENT depend on CC_HAS_FUNCTION_ALIGNMENT.

Changes since v2:
 - Split the Kconfig bits out of the x86 patch.
""")
select("x86", "FUNCTION_ALIGNMENT_16B"); pad("x86")
commit(ROSA, "2024-01-09T10:30:02+0100", """x86: enforce a 16 byte minimum function alignment

A livepatch on x86 writes a 5 byte "jmp rel32", or 9 bytes when the
target starts with an ENDBR64 instruction.  Select FUNCTION_ALIGNMENT_16B
so every function entry point has enough room.

gcc and clang already align functions to 16 bytes at -O2 on x86, so this
is not expected to change the size of release builds.

Also pad the end of .text in the linker script, so the last function of
the section is followed by enough space as well.

Signed-off-by: Rosa Pérez Molina <rosa.perez@example.org>
Reviewed-by: Daniel Okafor <daniel.okafor@example.com>
---
Changes since v4:
 - Collect Daniel's review.
""")
select("arm", "FUNCTION_ALIGNMENT_4B"); pad("arm")
commit(ROSA, "2024-01-09T10:30:03+0100", """arm: enforce a 4 byte minimum function alignment

Instructions on Arm are 4 bytes wide and a livepatch only ever replaces
the first instruction of a function with a branch, so a 4 byte alignment
is all that is needed.  This matches what the compilers already do at
-O2, it only makes the requirement explicit.

Pad the end of .text in the linker script like on x86.

Signed-off-by: Rosa Pérez Molina <rosa.perez@example.org>
Acked-by: Priya Raman <priya.raman@example.com> # arm
---
Changes since v4:
 - None.
""")
select("riscv", "FUNCTION_ALIGNMENT_8B"); pad("riscv")
commit(ROSA, "2024-01-09T10:30:04+0100", """riscv: enforce an 8 byte minimum function alignment

RISC-V has no livepatch support yet, but its linker script gathers the
per-function sections like the other architectures, and leaving
FUNCTION_ALIGNMENT without a value there makes the option mean different
things on different architectures.

The longest jump to anywhere in the image is an AUIPC + JALR pair, 8
bytes, so ask for that, and pad the end of .text like on x86 and Arm.

Signed-off-by: Rosa Pérez Molina <rosa.perez@example.org>
---
Changes since v4:
 - New in this version (Jane).
""")
select("ppc", "FUNCTION_ALIGNMENT_4B"); pad("ppc")
commit(ROSA, "2024-01-09T10:30:05+0100", """ppc: enforce a 4 byte minimum function alignment

Like on Arm, every PPC instruction is 4 bytes wide and a single branch is
enough to redirect a function, so a 4 byte alignment is all that is
needed.  Select it, and pad the end of .text like the other
architectures do.

Signed-off-by: Rosa Pérez Molina <rosa.perez@example.org>
---
Changes since v4:
 - New in this version (Jane).
""")
series("xen-function-alignment-v5.mbox", "base", 5, 5, ROSA, LIST,
       CC_ALL + ",\n\tTomasz Wrobel <tomasz.wrobel@example.com>,"
       " Ingrid Solberg <ingrid.solberg@example.org>",
       ["2024-01-09T10:30:00+0100"] + [f"2024-01-09T10:30:0{i}+0100" for i in range(1, 6)],
       cover_subject="xen: enforce a minimum function alignment for livepatch",
       cover_blurb="""Livepatching on x86 and Arm writes a jump (or a branch) over the first
bytes of the function being replaced.  Nothing currently guarantees that
two function entry points are far enough apart for that, so patching a
very small function can corrupt the start of its neighbour.

This series adds Kconfig options for a minimum function alignment, makes
every architecture select the value it needs, and pads the end of .text
in every linker script.

Changes since v4:
 - RISC-V and PPC get a value and the padding too (Jane).
 - The compiler probe is gone, and with it the LIVEPATCH dependency
   (v4 patch 4).
""", msgid_pid=5110,
       extra_cover="change-id: 20231127-function-alignment-5b1d2e8f9a0c\n")

# ---------------------------------------------------------------- values only
MATEO = ("Mateo Silva", "mateo.silva@example.org")
branch("values-only")
edit("xen/Kconfig", KCONFIG_ANCHOR, KCONFIG_ANCHOR + kconfig_block(
    "# Architectures without a requirement get 0, \"no requirement\".\n", default0=True))
edit("xen/Makefile", MAKE_ANCHOR, MAKE_ANCHOR +
     "ifneq ($(CONFIG_FUNCTION_ALIGNMENT),0)\n"
     "CFLAGS += -falign-functions=$(CONFIG_FUNCTION_ALIGNMENT)\n"
     "endif\n\n")
select("x86", "FUNCTION_ALIGNMENT_16B")
select("arm", "FUNCTION_ALIGNMENT_4B")
commit(MATEO, "2024-02-05T16:12:40+0000", """xen: add a per-architecture minimum function alignment

Give the compiler an explicit -falign-functions on the architectures
that need one for live patching: 16 bytes on x86 (room for ENDBR64 plus
a jmp rel32) and 4 bytes on Arm (one branch instruction).

The option has a value on every architecture: those that select none of
the FUNCTION_ALIGNMENT_*B options get 0, which means "no requirement"
and leaves the compiler's choice alone.

The linker scripts are not changed.

Signed-off-by: Mateo Silva <mateo.silva@example.org>
""")
series("function-alignment-values-only.mbox", "base", 1, 1, MATEO, LIST,
       "Jane Maintainer <jane@example.org>, Alex Rivers <alex.rivers@example.com>,\n"
       "\tPriya Raman <priya.raman@example.com>",
       ["2024-02-05T16:12:40+0000"], msgid_pid=7731)

# ---------------------------------------------------------------- arch-specific section
ALEX = ("Alex Rivers", "alex.rivers@example.com")
branch("arch-specific")
edit("xen/arch/x86/xen.lds.S", "       *(.text.header)\n",
     "       *(.text.header)\n       *(.text.entry)\n")
commit(ALEX, "2024-02-12T09:41:07+0000", """x86: keep the entry code at the start of .text

The hypercall and exception entry points in x86_64/entry.S live in
.text.entry.  Without CONFIG_CC_SPLIT_SECTIONS nothing in the linker
script names that section, so ld places it as an orphan after .text; with
it, the entry points land somewhere in the middle of the per-function
sections.  Gather them right after the image header instead, so they
always share the first pages of .text.

No other architecture has a .text.entry section.

Signed-off-by: Alex Rivers <alex.rivers@example.com>
""")
series("arch-specific-section.mbox", "base", 1, 1, ALEX, LIST,
       "Jane Maintainer <jane@example.org>", ["2024-02-12T09:41:07+0000"], msgid_pid=2290)

# ---------------------------------------------------------------- common section, one arch
PRIYA = ("Priya Raman", "priya.raman@example.com")
branch("common-section")
edit("xen/arch/arm/xen.lds.S", "       *(.rodata.*)\n",
     "       *(.rodata.*)\n       *(.data.ro_after_init)\n")
commit(PRIYA, "2024-02-14T13:05:52+0100", """arm: keep __ro_after_init data with the read-only data

Data marked __ro_after_init is only written while booting.  At the
moment it ends up in .data with everything else, so it stays writable
for the lifetime of the hypervisor.  Place it in .rodata, which gets
mapped read-only once boot has finished.

Signed-off-by: Priya Raman <priya.raman@example.com>
""")
series("common-section-one-arch.mbox", "base", 1, 1, PRIYA, LIST,
       "Jane Maintainer <jane@example.org>", ["2024-02-14T13:05:52+0100"], msgid_pid=3318)

# ---------------------------------------------------------------- stronger align
HANNAH = ("Hannah Becker", "hannah.becker@example.org")
CC_ARCH = ("Jane Maintainer <jane@example.org>, Alex Rivers <alex.rivers@example.com>,\n"
           "\tPriya Raman <priya.raman@example.com>, Tomasz Wrobel <tomasz.wrobel@example.com>,\n"
           "\tIngrid Solberg <ingrid.solberg@example.org>")
branch("stronger-align")
edit("xen/Kconfig", KCONFIG_ANCHOR, KCONFIG_ANCHOR + kconfig_block())
edit("xen/Makefile", MAKE_ANCHOR, MAKE_ANCHOR + MAKE_IFDEF)
select("x86", "FUNCTION_ALIGNMENT_16B")
select("arm", "FUNCTION_ALIGNMENT_4B")
select("riscv", "FUNCTION_ALIGNMENT_16B")
select("ppc", "FUNCTION_ALIGNMENT_4B")
commit(HANNAH, "2024-03-04T11:20:01+0100", """xen: add a minimum function alignment for every architecture

Add FUNCTION_ALIGNMENT_{4,8,16}B for architectures to select and a
FUNCTION_ALIGNMENT integer holding the largest one selected, passed to
the compiler as -falign-functions.

x86 needs 16 bytes (ENDBR64 plus a jmp rel32), RISC-V 16 bytes (a
compressed-instruction build still has to fit an AUIPC + JALR pair and
keep the next entry point aligned), Arm and PPC 4 bytes (one branch).

Signed-off-by: Hannah Becker <hannah.becker@example.org>
""")
pad("x86"); pad("arm"); pad("ppc")
commit(HANNAH, "2024-03-04T11:20:02+0100", """xen: pad the end of .text to the function alignment

The last function of .text is followed by whatever the linker places
next; pad after the per-function sections so that it gets the same room
as every other function.

RISC-V needs no change: its script already aligns to IDENT_AREA_SIZE (64
bytes) right after the per-function sections, which is a multiple of its
16 byte function alignment.

Signed-off-by: Hannah Becker <hannah.becker@example.org>
""")
series("stronger-align.mbox", "base", 2, 1, HANNAH, LIST, CC_ARCH,
       ["2024-03-04T11:20:00+0100", "2024-03-04T11:20:01+0100", "2024-03-04T11:20:02+0100"],
       cover_subject="xen: minimum function alignment everywhere",
       cover_blurb="""Give every architecture a minimum function alignment, and pad the end of
.text to it in the linker scripts that do not already align there.

RISC-V's script already has a stronger alignment at that point (64
bytes, IDENT_AREA_SIZE) and is left alone.
""", msgid_pid=6042)

# ---------------------------------------------------------------- align after dead description
OKSANA = ("Oksana Kovalenko", "oksana.kovalenko@example.org")
branch("align-after-dead")
edit("xen/Kconfig", KCONFIG_ANCHOR, KCONFIG_ANCHOR + kconfig_block())
edit("xen/Makefile", MAKE_ANCHOR, MAKE_ANCHOR + MAKE_IFDEF)
select("x86", "FUNCTION_ALIGNMENT_16B")
select("arm", "FUNCTION_ALIGNMENT_4B")
select("riscv", "FUNCTION_ALIGNMENT_8B")
select("ppc", "FUNCTION_ALIGNMENT_4B")
commit(OKSANA, "2024-03-11T08:02:31+0200", """xen: introduce FUNCTION_ALIGNMENT

Let each architecture state the minimum distance between two function
entry points its live patching needs, and pass it to the compiler as
-falign-functions: 16 bytes on x86, 8 on RISC-V, 4 on Arm and PPC.

Signed-off-by: Oksana Kovalenko <oksana.kovalenko@example.org>
""")
edit("xen/arch/x86/xen.lds.S", "       *(.text.__x86_indirect_thunk_*)\n",
     "       *(.text.__x86_indirect_thunk_*)\n"
     "#ifdef CONFIG_FUNCTION_ALIGNMENT\n"
     "       /* Pad after the last function, it may get live patched too. */\n"
     "       . = ALIGN(CONFIG_FUNCTION_ALIGNMENT);\n"
     "#endif\n")
pad("arm"); pad("riscv"); pad("ppc")
commit(OKSANA, "2024-03-11T08:02:32+0200", """xen: pad the end of .text to FUNCTION_ALIGNMENT

Pad after the per-function sections in every linker script, so the last
function gets as much room as the others.

On x86 the padding goes after the indirect thunks, which without
CONFIG_CC_SPLIT_SECTIONS are the last functions of .text.

Signed-off-by: Oksana Kovalenko <oksana.kovalenko@example.org>
""")
series("align-after-dead.mbox", "base", 2, 1, OKSANA, LIST, CC_ARCH,
       ["2024-03-11T08:02:31+0200", "2024-03-11T08:02:32+0200"], msgid_pid=1187)

# ---------------------------------------------------------------- typo'd CONFIG_ symbol
SVEN = ("Sven Larsen", "sven.larsen@example.org")
branch("typo")
edit("xen/arch/x86/livepatch.c", """    return size;
}
""", """    return size;
}

/*
 * Whether the replacement has to start with an ENDBR64 as well: it does
 * when the old function did, so that indirect calls keep landing on one.
 */
bool arch_livepatch_needs_endbr(const struct livepatch_func *func)
{
    return IS_ENABLED(CONIFG_XEN_IBT) && is_endbr64(func->old_addr);
}
""")
edit("xen/include/xen/livepatch.h", "unsigned int arch_livepatch_min_size(const struct livepatch_func *func);\n",
     "unsigned int arch_livepatch_min_size(const struct livepatch_func *func);\n"
     "bool arch_livepatch_needs_endbr(const struct livepatch_func *func);\n")
commit(SVEN, "2024-03-18T15:44:09+0100", """x86/livepatch: keep ENDBR64 at the start of replacement functions

When Xen is built with CET-IBT, a function that is the target of an
indirect call starts with ENDBR64.  A replacement for such a function has
to start with one too, or the first indirect call into it faults.

Add a helper telling the payload loader whether that is the case.

Signed-off-by: Sven Larsen <sven.larsen@example.org>
""")
series("typo-config-symbol.mbox", "base", 1, 1, SVEN, LIST,
       "Jane Maintainer <jane@example.org>, Alex Rivers <alex.rivers@example.com>",
       ["2024-03-18T15:44:09+0100"], msgid_pid=9405)

# ---------------------------------------------------------------- section-end missing on one arch
branch("section-end-missing")
edit("xen/Kconfig", KCONFIG_ANCHOR, KCONFIG_ANCHOR + kconfig_block())
edit("xen/Makefile", MAKE_ANCHOR, MAKE_ANCHOR + MAKE_IFDEF)
select("x86", "FUNCTION_ALIGNMENT_16B")
select("arm", "FUNCTION_ALIGNMENT_4B")
select("riscv", "FUNCTION_ALIGNMENT_8B")
select("ppc", "FUNCTION_ALIGNMENT_4B")
pad("x86"); pad("arm"); pad("riscv")
commit(HANNAH, "2024-04-02T10:00:00+0200", """xen: minimum function alignment and .text padding

Add FUNCTION_ALIGNMENT (16 bytes on x86, 8 on RISC-V, 4 on Arm and PPC),
pass it to the compiler, and pad the end of .text to it on x86, Arm and
RISC-V.

Signed-off-by: Hannah Becker <hannah.becker@example.org>
""")
series("section-end-missing.mbox", "base", 1, 1, HANNAH, LIST, CC_ARCH,
       ["2024-04-02T10:00:00+0200"], msgid_pid=4471)

# ---------------------------------------------------------------- shadowed description
branch("shadowed")
edit("xen/arch/x86/xen.lds.S", "       *(.text.__x86_indirect_thunk_*)\n",
     "       *(.text.__x86_indirect_thunk_*)\n       *(.text.entry)\n")
commit(ALEX, "2024-04-08T17:27:45+0000", """x86: place the entry code at the end of .text

The entry points in x86_64/entry.S are emitted into .text.entry, which
the linker script does not name, so ld places the section as an orphan.
Gather it at the end of .text, next to the indirect thunks.

Signed-off-by: Alex Rivers <alex.rivers@example.com>
""")
series("shadowed-section.mbox", "base", 1, 1, ALEX, LIST,
       "Jane Maintainer <jane@example.org>", ["2024-04-08T17:27:45+0000"], msgid_pid=8120)

shutil.rmtree(WORK)
