#!/usr/bin/env python3
"""Generate a synthetic mailing-list archive (mboxrd) for benchmarking patchbot.

Usage: gen_archive.py OUT_MBOX N [--seed S]

The output is fully deterministic for a given (N, seed) pair.  Traffic is
shaped like xen-devel / LKML: ~60% messages belonging to patch series (cover
letters and patches produced as if by git format-patch/send-email) and ~40%
replies (quoted hunks, review trailers, replies to replies), threaded with
In-Reply-To/References pointing to earlier messages.

Transfer encodings / charsets are mixed (approximate shares of messages):
  ~70% 7bit/8bit UTF-8, ~10% quoted-printable UTF-8, ~5% base64,
  ~5% ISO-8859-1 bodies, ~5% RFC 2047 encoded From/Subject (Q and B),
  ~5% multipart (multipart/alternative replies, multipart/mixed with a
  text/x-patch attachment for patches and some replies).

Only the Python 3 standard library is used.  Names and addresses of people
are fictional; list addresses are the public ones.
"""

import argparse
import base64
import binascii
import html
import random
import re
import sys
import textwrap
import time
from collections import deque

# --------------------------------------------------------------------------
# Static vocabulary
# --------------------------------------------------------------------------

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

ASCII_PEOPLE = [
    "Alice Whitfield", "Brian Okafor", "Carla Mendes", "David Kowalski",
    "Elena Petrova", "Frank Hollis", "Grace Tanaka", "Hugo Lindqvist",
    "Ian McAllister", "Julia Brandt", "Kevin Osei", "Laura Castellano",
    "Martin Ashworth", "Nina Volkova", "Oscar Delgado", "Paula Rinaldi",
    "Quentin Moreau", "Rachel Stein", "Samuel Achebe", "Tina Horvath",
    "Umar Siddiqui", "Victor Lang", "Wendy Nakamura", "Xavier Dumont",
    "Yusuf Demir", "Zara Lindholm", "Adrian Voss", "Bianca Serra",
    "Colin Fairbanks", "Dana Whitaker", "Eric Baumgart", "Fiona Gallagher",
    "George Papadakis", "Hannah Kessler", "Igor Balan", "Jonas Richter",
    "Karen O'Donnell", "Luca Ferraro", "Mihai Ionescu", "Nora Halvorsen",
    "Oliver Grant", "Priya Raman", "Ravi Chandran", "Stefan Weller",
    "Teresa Long", "Viktor Sandberg", "William Carver", "Yann Le Goff",
]
# Non-ASCII names representable in ISO-8859-1.
LATIN1_PEOPLE = [
    "Jürgen Großmann", "Renée Dubois-Lefèvre", "Søren Kjærgaard",
    "José Núñez", "Zoë Ågren", "Björn Åström", "Françoise Girard",
    "Sébastien Cœurdacier".replace("œ", "oe"), "Ingrid Müller",
    "Joaquín Peña", "Anaïs Lefèbvre", "Thorsten Schäfer",
]
# Non-ASCII names outside ISO-8859-1 (need UTF-8).
UTF8_PEOPLE = [
    "Michał Wiśniewski", "Łukasz Żółtowski", "Đorđe Petrović",
    "Ярослав Коваленко", "Tomáš Dvořák", "Gergő Szőke", "Ewa Łączyńska",
    "李明", "Αλέξανδρος Παππάς", "Nguyễn Văn An", "Radosław Kędzierski",
    "Ondřej Čermák",
]
DOMAINS = [
    "example.com", "example.org", "example.net", "dev.example.com",
    "labs.example.org", "mail.example.net", "corp.example.com",
    "oss.example.org", "kernel.example.net", "cloud.example.com",
]

LISTS = {
    "xen": ("xen-devel@lists.xenproject.org",
            "Xen developer discussion <xen-devel.lists.xenproject.org>"),
    "linux": ("linux-kernel@vger.kernel.org",
              "<linux-kernel.vger.kernel.org>"),
}

XEN_SUBSYS = {
    "x86/mm": "xen/arch/x86/mm", "x86/hvm": "xen/arch/x86/hvm",
    "x86/pv": "xen/arch/x86/pv", "x86/iommu": "xen/drivers/passthrough/x86",
    "xen/arm": "xen/arch/arm", "xen/arm64": "xen/arch/arm/arm64",
    "tools/libxl": "tools/libs/light", "tools/xl": "tools/xl",
    "xen/sched": "xen/common/sched", "xen/common": "xen/common",
    "xen/efi": "xen/common/efi", "docs": "docs/misc",
    "automation": "automation/scripts", "xen/riscv": "xen/arch/riscv",
    "xen/ppc": "xen/arch/ppc", "x86/ucode": "xen/arch/x86/cpu/microcode",
    "x86/cpu-policy": "xen/arch/x86", "xen/domctl": "xen/common",
    "vpci": "xen/drivers/vpci", "xsm/flask": "xen/xsm/flask",
    "tools/xenstored": "tools/xenstored", "x86/shadow": "xen/arch/x86/mm/shadow",
    "xen/grant_table": "xen/common", "x86/vmx": "xen/arch/x86/hvm/vmx",
    "x86/svm": "xen/arch/x86/hvm/svm", "xen/livepatch": "xen/common",
    "misra": "xen/common", "xen/device-tree": "xen/common/device-tree",
}
LINUX_SUBSYS = {
    "mm": "mm", "mm/page_alloc": "mm", "net: ipv4": "net/ipv4",
    "drm/i915": "drivers/gpu/drm/i915", "drm/amdgpu": "drivers/gpu/drm/amd/amdgpu",
    "x86/boot": "arch/x86/boot", "sched/fair": "kernel/sched", "ext4": "fs/ext4",
    "btrfs": "fs/btrfs", "xfs": "fs/xfs", "bpf": "kernel/bpf",
    "selftests/bpf": "tools/testing/selftests/bpf",
    "net/mlx5": "drivers/net/ethernet/mellanox/mlx5/core",
    "usb: xhci": "drivers/usb/host", "iio: adc": "drivers/iio/adc",
    "hwmon": "drivers/hwmon", "arm64: mm": "arch/arm64/mm",
    "powerpc/pseries": "arch/powerpc/platforms/pseries", "rust": "rust/kernel",
    "kbuild": "scripts", "block": "block", "nvme": "drivers/nvme/host",
    "io_uring": "io_uring", "KVM: x86": "arch/x86/kvm", "KVM: arm64": "arch/arm64/kvm",
    "xen/events": "drivers/xen/events", "xen/blkfront": "drivers/block",
    "platform/x86": "drivers/platform/x86",
}

PREFIXES = ["p2m", "vcpu", "domain", "page", "irq", "mmio", "iommu", "gfn",
            "mfn", "cpu", "sched", "evtchn", "grant", "vpci", "msr", "cr4",
            "ept", "npt", "pte", "l1e", "xstate", "hvm", "pv", "tlb", "pci",
            "dev", "queue", "skb", "folio", "inode", "bio", "ring", "timer",
            "policy", "rangeset", "bitmap", "sysctl", "hypercall", "vm", "acpi"]
MIDS = ["entry", "table", "map", "ctx", "state", "info", "range", "slot",
        "list", "cache", "pool", "desc", "buf", "mask", "frame", "region"]
SUFFIXES = ["init", "alloc", "free", "lookup", "flush", "set", "get", "put",
            "destroy", "handler", "update", "check", "map", "unmap", "reset",
            "release", "prepare", "commit", "walk", "sync"]
TYPES = ["domain", "vcpu", "page_info", "p2m_domain", "pci_dev", "irq_desc",
         "sk_buff", "folio", "inode", "bio", "device", "rangeset", "cpu_policy",
         "vpci", "evtchn", "grant_table", "vm_area_struct", "task_struct"]
VARS = ["d", "v", "pg", "p2m", "pdev", "desc", "skb", "rc", "ret", "gfn", "mfn",
        "order", "flags", "nr", "idx", "entry", "info", "ctx", "len", "count",
        "mask", "addr", "size", "offset", "state", "cpu", "irq", "i", "err"]
CONSTS = ["PAGE_SHIFT", "PAGE_SIZE", "MAX_ORDER", "NR_CPUS", "INVALID_MFN",
          "P2M_ALLOC", "GFP_KERNEL", "XENMEM_populate_physmap", "MSR_EFER",
          "X86_CR4_PAE", "DOMID_SELF", "EVTCHN_2L_NR_CHANNELS", "SZ_4K",
          "IOMMU_FLUSHF_modified", "VPCI_MAX_VIRT_DEV", "HZ", "U32_MAX"]
ERRNOS = ["EINVAL", "ENOMEM", "EBUSY", "EPERM", "ENOENT", "EOPNOTSUPP",
          "ERANGE", "EFAULT", "EAGAIN", "ENODEV", "EEXIST", "E2BIG"]
NOUNS = ["reference count", "page table walk", "IRQ descriptor", "grant mapping",
         "error path", "lock ordering", "TLB flush", "p2m type", "event channel",
         "MMIO handler", "CPUID leaf", "cpu policy", "hypercall buffer",
         "xenstore watch", "device tree node", "cache flush", "boot parameter",
         "memory barrier", "frame table", "domain builder", "livepatch payload",
         "interrupt remapping entry", "scheduler unit", "softirq", "rangeset",
         "shadow mode", "toolstack", "guest handle", "MSR intercept", "bitmap"]
ADJS = ["stale", "uninitialised", "unbalanced", "redundant", "racy",
        "misaligned", "truncated", "unused", "duplicated", "inconsistent",
        "missing", "incorrect", "out-of-bounds", "open-coded", "leaked"]
CONDS = ["the domain is being destroyed", "CONFIG_DEBUG is enabled",
         "the guest is running in shadow mode", "the device is hot-unplugged",
         "two vCPUs race on the same entry", "the allocation fails",
         "running on AMD hardware", "the order is non-zero",
         "the caller holds the p2m lock", "a softirq is pending",
         "the hypervisor is built with clang", "the toolstack restores a guest",
         "the IOMMU is in passthrough mode", "booting via EFI",
         "the host has more than 256 CPUs", "the list is empty"]

SIGNATURES = ["-- \n2.43.0", "-- \n2.43.0", "-- \n2.43.0", "-- \n2.42.1",
              "-- \n2.39.2", "-- \n2.44.0"]


def code_identifier(rng):
    return "%s_%s_%s" % (rng.choice(PREFIXES), rng.choice(MIDS), rng.choice(SUFFIXES))


class Vocab:
    """Pools of pre-generated text, so per-message generation is cheap."""

    def __init__(self, rng):
        self.rng = rng
        self.funcs = [code_identifier(rng) for _ in range(600)]
        self.code = [self._code_line() for _ in range(6000)]
        self.sentences = [self._sentence() for _ in range(4000)]
        self.titles = [self._title() for _ in range(3000)]
        self.comments = [self._comment() for _ in range(3000)]
        self.changes = [self._change() for _ in range(800)]

    # ---- code -----------------------------------------------------------
    def _code_line(self):
        r = self.rng
        f = r.choice(self.funcs)
        v = r.choice(VARS)
        v2 = r.choice(VARS)
        t = r.choice(TYPES)
        c = r.choice(CONSTS)
        e = r.choice(ERRNOS)
        n = r.choice([0, 1, 2, 4, 8, 16, 32, 64, 0x100, 0x1000, 12, 3])
        tabs = "\t" * r.choice([1, 1, 1, 2, 2, 3])
        tpl = r.randrange(28)
        if tpl == 0:
            return "%sif ( !%s )" % (tabs, v)
        if tpl == 1:
            return "%sif (!%s)" % (tabs, v)
        if tpl == 2:
            return "%sreturn -%s;" % (tabs, e)
        if tpl == 3:
            return "%s%s = %s(%s, %s);" % (tabs, v, f, v2, c)
        if tpl == 4:
            return "%sspin_lock(&%s->lock);" % (tabs, v)
        if tpl == 5:
            return "%sspin_unlock(&%s->lock);" % (tabs, v)
        if tpl == 6:
            return "static int %s(struct %s *%s, unsigned int %s)" % (f, t, v, v2)
        if tpl == 7:
            return "{"
        if tpl == 8:
            return "}"
        if tpl == 9:
            return ""
        if tpl == 10:
            return "%s/* %s */" % (tabs, r.choice(self.sentences_seed()))
        if tpl == 11:
            return "#define %s_%s %s" % (v.upper(), c, hex(n))
        if tpl == 12:
            return "%sfor ( i = 0; i < %s; i++ )" % (tabs, v)
        if tpl == 13:
            return '%sprintk(XENLOG_WARNING "%s: %%pd failed: %%d\\n", %s, rc);' % (tabs, f, v)
        if tpl == 14:
            return "%sunsigned int %s;" % (tabs, v)
        if tpl == 15:
            return "%sgoto out;" % tabs
        if tpl == 16:
            return "%sASSERT(%s);" % (tabs, v)
        if tpl == 17:
            return "%sBUILD_BUG_ON(sizeof(struct %s) != %d);" % (tabs, t, n * 8 or 8)
        if tpl == 18:
            return "%sstruct %s *%s = %s->%s;" % (tabs, t, v, v2, r.choice(MIDS))
        if tpl == 19:
            return "%s%s->%s |= %s;" % (tabs, v, r.choice(MIDS), c)
        if tpl == 20:
            return "%selse" % tabs
        if tpl == 21:
            return "%sbreak;" % tabs
        if tpl == 22:
            return "%sreturn %s(%s);" % (tabs, f, v)
        if tpl == 23:
            return "%s}" % tabs[:-1] if len(tabs) > 1 else "\t}"
        if tpl == 24:
            return "%sif ( %s & %s )" % (tabs, v, c)
        if tpl == 25:
            return "%src = %s(%s, %s, %s);" % (tabs, f, v, v2, n)
        if tpl == 26:
            return "%s%s_t %s = INVALID_%s;" % (tabs, v2, v, v2.upper())
        return "%sif (%s < 0)" % (tabs, v)

    _seed_comments = None

    def sentences_seed(self):
        if Vocab._seed_comments is None:
            Vocab._seed_comments = [
                "XXX: this should really be a per-domain setting",
                "Caller must hold the p2m lock",
                "Nothing to do for the idle domain",
                "See the comment in the header",
                "Paired with the barrier in the unmap path",
                "TODO: handle superpages",
                "Must not fail after this point",
                "Keep in sync with the public interface",
            ]
        return Vocab._seed_comments

    # ---- prose ----------------------------------------------------------
    def _sentence(self):
        r = self.rng
        f = r.choice(self.funcs)
        f2 = r.choice(self.funcs)
        n = r.choice(NOUNS)
        a = r.choice(ADJS)
        c = r.choice(CONDS)
        e = r.choice(ERRNOS)
        t = r.choice(TYPES)
        tpl = r.randrange(24)
        s = [
            "Currently %s() is called without holding the lock, which can lead to a %s %s when %s." % (f, a, n, c),
            "The %s is only valid while the %s is held, so take a reference before dropping it." % (n, r.choice(NOUNS)),
            "%s() returns -%s in this case, but the caller ignores the error." % (f, e),
            "This was introduced when %s() was split out of %s()." % (f, f2),
            "Move the check earlier so that the %s is not left in an %s state." % (n, a),
            "No functional change intended.",
            "There is no need to open-code this anymore now that %s() exists." % f,
            "As a result, struct %s can shrink by 8 bytes." % t,
            "The issue was found by code inspection; no crash has been observed in practice.",
            "This has been reported by Coverity as an %s read of the %s." % (a, n),
            "While at it, drop the %s %s, which has had no users since the rework." % (a, n),
            "On hardware without the feature the behaviour is unchanged.",
            "Use unsigned int for the loop counter, as the value can never be negative.",
            "Rename %s() to %s() to better reflect what it does." % (f, f2),
            "Without this, a guest can trigger an assertion in %s() when %s." % (f, c),
            "Take the opportunity to convert the remaining users to %s()." % f2,
            "The %s is now released on the error path as well." % n,
            "This addresses a violation of MISRA C:2012 Rule %d.%d." % (r.randint(1, 21), r.randint(1, 9)),
            "Tested by booting a PVH dom0 and running the XTF suite.",
            "Note that %s() may sleep, hence the change of context." % f,
            "Make the %s per-domain, as sharing it between domains was never intended." % n,
            "Add a comment explaining why the %s cannot be %s here." % (n, a),
            "The %s handling mirrors what %s() already does." % (n, f2),
            "Split the function so that the %s part can be reused by %s()." % (n, f2),
        ]
        return s[tpl]

    def _title(self):
        r = self.rng
        f = r.choice(self.funcs)
        n = r.choice(NOUNS)
        a = r.choice(ADJS)
        c = r.choice(CONDS)
        tpl = r.randrange(14)
        return [
            "fix %s leak in %s()" % (n, f),
            "introduce %s() helper" % f,
            "drop %s %s" % (a, n),
            "avoid %s %s when %s" % (a, n, c),
            "use %s() instead of open-coding it" % f,
            "make %s() static" % f,
            "add missing %s check in %s()" % (n, f),
            "don't flush the %s on %s" % (n, a.replace("-", " ") + " paths"),
            "rework %s handling" % n,
            "switch %s to a bitmap" % n,
            "address MISRA C Rule %d.%d violations" % (r.randint(1, 21), r.randint(1, 9)),
            "correct %s in %s()" % (n, f),
            "constify %s()" % f,
            "move %s() out of line" % f,
        ][tpl]

    def _comment(self):
        r = self.rng
        f = r.choice(self.funcs)
        n = r.choice(NOUNS)
        e = r.choice(ERRNOS)
        v = r.randint(2, 6)
        tpl = r.randrange(26)
        return [
            "Why is this needed?",
            "I don't think this is correct: %s() can be called with the lock already held." % f,
            "Nit: please use unsigned int here.",
            "This wants to be a separate patch.",
            "Style: missing blanks inside the parentheses.",
            "Can't this be const?",
            "Looks good to me.",
            "I'm afraid I don't follow. Could you expand the description a bit?",
            "This changes behaviour for PV guests, which the description doesn't mention.",
            "Please add a Fixes: tag.",
            "Same comment as on the previous patch.",
            "Agreed, will fix in v%d." % v,
            "Thanks for the review.",
            "Shouldn't this return -%s instead?" % e,
            "What about the %s? It looks like it is left behind here." % n,
            "I wonder whether %s() wouldn't be a better place for this." % f,
            "Hmm, isn't there a race with the %s here?" % n,
            "The comment is now stale, please update it as well.",
            "Can you please keep the ordering of the includes?",
            "This looks like an unrelated change.",
            "Fine with me either way, but please be consistent across the series.",
            "That's a good point; I'll drop the hunk.",
            "Well, the alternative would be to keep the %s in %s(), but that seems worse." % (n, f),
            "I'd prefer if this was written as a switch().",
            "Indentation is off by one here.",
            "Is this safe against concurrent callers of %s()?" % f,
        ][tpl]

    def _change(self):
        r = self.rng
        return r.choice([
            "Rebase.", "Use %s() as suggested." % r.choice(self.funcs),
            "Add Fixes: tag.", "Drop the %s hunk." % r.choice(NOUNS),
            "Reword the description.", "Pick up review tags.",
            "Also handle the %s case." % r.choice(NOUNS),
            "Address style comments.", "New patch.", "Split from previous patch.",
            "Make %s() static." % r.choice(self.funcs),
            "Switch to -%s." % r.choice(ERRNOS),
        ])


# --------------------------------------------------------------------------
# Header helpers
# --------------------------------------------------------------------------

_Q_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")


def _q_char(ch, charset):
    out = []
    for b in ch.encode(charset):
        if b == 0x20:
            out.append("_")
        elif b in _Q_SAFE:
            out.append(chr(b))
        else:
            out.append("=%02X" % b)
    return "".join(out)


def rfc2047(text, enc="Q", charset="UTF-8", limit=40):
    """Encode text as one or more RFC 2047 encoded words (never splitting a
    character across words); returns the list of words."""
    words = []
    if enc == "Q":
        cur = []
        cur_len = 0
        for ch in text:
            q = _q_char(ch, charset)
            if cur and cur_len + len(q) > limit:
                words.append("=?%s?q?%s?=" % (charset, "".join(cur)))
                cur, cur_len = [], 0
            cur.append(q)
            cur_len += len(q)
        if cur:
            words.append("=?%s?q?%s?=" % (charset, "".join(cur)))
    else:
        cur = b""
        for ch in text:
            b = ch.encode(charset)
            if cur and len(cur) + len(b) > 30:
                words.append("=?%s?b?%s?=" % (charset, base64.b64encode(cur).decode()))
                cur = b""
            cur += b
        if cur:
            words.append("=?%s?b?%s?=" % (charset, base64.b64encode(cur).decode()))
    return words


def fmt_addr(name, email, enc=None, charset="UTF-8"):
    if name.isascii():
        if enc is None:
            if re.search(r"[^A-Za-z0-9 !#$%&*+/=?^_`{|}~-]", name):
                return '"%s" <%s>' % (name.replace('"', ""), email)
            return "%s <%s>" % (name, email)
        # ASCII names are only encoded when explicitly asked.
    enc = enc or "Q"
    return "%s <%s>" % (" ".join(rfc2047(name, enc, charset)), email)


def fold_header(name, value, width=78):
    """Fold a plain (ASCII) header at spaces."""
    line = "%s: %s" % (name, value)
    if len(line) <= width:
        return line
    out = []
    cur = name + ":"
    for word in value.split(" "):
        if len(cur) + 1 + len(word) > width and cur.strip() and cur != name + ":":
            out.append(cur)
            cur = " " + word
        else:
            cur = cur + " " + word
    out.append(cur)
    return "\n".join(out)


def fmt_subject(subject, enc=None, charset="UTF-8"):
    if subject.isascii() and enc is None:
        return fold_header("Subject", subject)
    words = rfc2047(subject, enc or "Q", charset)
    return "Subject: " + "\n ".join(words)


def fmt_addr_list(name, addrs):
    lines = []
    cur = []
    for i, a in enumerate(addrs):
        cur.append(a)
        if len(cur) == 2 and i != len(addrs) - 1:
            lines.append(", ".join(cur) + ",")
            cur = []
    if cur:
        lines.append(", ".join(cur))
    return "%s: %s" % (name, "\n\t".join(lines))


def rfc2822_date(t, tz_min):
    tm = time.gmtime(t + tz_min * 60)
    sign = "+" if tz_min >= 0 else "-"
    a = abs(tz_min)
    return "%s, %d %s %d %02d:%02d:%02d %s%02d%02d" % (
        DAYS[tm.tm_wday], tm.tm_mday, MONTHS[tm.tm_mon - 1], tm.tm_year,
        tm.tm_hour, tm.tm_min, tm.tm_sec, sign, a // 60, a % 60)


def mbox_from_line(email, t):
    tm = time.gmtime(t)
    return "From %s %s %s %2d %02d:%02d:%02d %d" % (
        email, DAYS[tm.tm_wday], MONTHS[tm.tm_mon - 1], tm.tm_mday,
        tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year)


_FROM_RE = re.compile(rb"^(>*From )", re.M)


def mboxrd_escape(body):
    return _FROM_RE.sub(rb">\1", body)


# --------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------

class Person:
    __slots__ = ("name", "email", "tz", "first", "charset_kind")

    def __init__(self, name, email, tz, kind):
        self.name = name
        self.email = email
        self.tz = tz
        self.first = name.split()[0]
        self.charset_kind = kind  # "ascii", "latin1", "utf8"


class Msg:
    """What later replies need to know about an already emitted message."""
    __slots__ = ("msgid", "refs", "subject", "author", "t", "lines", "kind", "lst")

    def __init__(self, msgid, refs, subject, author, t, lines, kind, lst):
        self.lst = lst  # list address the thread lives on
        self.msgid = msgid
        self.refs = refs
        self.subject = subject
        self.author = author
        self.t = t
        self.lines = lines
        self.kind = kind  # "cover", "patch", "reply"


class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        r = self.rng
        self.v = Vocab(r)
        tzs = [0, 0, 60, 60, 60, 120, -300, -240, -420, -480, 330, 480, 540, 180]
        self.people = {"ascii": [], "latin1": [], "utf8": []}
        used = set()
        for kind, names in (("ascii", ASCII_PEOPLE), ("latin1", LATIN1_PEOPLE),
                            ("utf8", UTF8_PEOPLE)):
            for i, n in enumerate(names):
                local = re.sub(r"[^a-z]", "", n.split()[0].lower()
                               .encode("ascii", "ignore").decode()) or "dev%d" % i
                local = "%s.%d" % (local, i) if local in used else local
                used.add(local)
                email = "%s@%s" % (local, r.choice(DOMAINS))
                self.people[kind].append(Person(n, email, r.choice(tzs), kind))
        self.t = 1704067200 + r.randint(0, 3600)  # 2024-01-01
        self.window = deque(maxlen=2500)
        self.series_hist = []
        self.queue = deque()
        self.n_series = 0
        self.counter = 0
        self.kinds_count = {}
        self.n_encoded_hdr = 0

    # ---- people ---------------------------------------------------------
    def person(self, kind="ascii"):
        return self.rng.choice(self.people[kind])

    def series_author(self):
        r = self.rng.random()
        if r < 0.015:
            return self.person("utf8")
        if r < 0.025:
            return self.person("latin1")
        return self.person("ascii")

    # ---- ids ------------------------------------------------------------
    def patch_msgid(self, author, t, pid, i):
        tm = time.gmtime(t)
        local, dom = author.email.split("@")
        return "<%04d%02d%02d%02d%02d%02d.%d-%d-%s@%s>" % (
            tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
            pid, i, local, dom)

    def reply_msgid(self, author):
        r = self.rng
        self.counter += 1
        dom = author.email.split("@")[1]
        style = r.randrange(4)
        if style == 0:
            h = "%032x" % r.getrandbits(128)
            return "<%s-%s-%s-%s-%s%04x@%s>" % (h[:8], h[8:12], h[12:16], h[16:20],
                                                h[20:28], self.counter & 0xffff, dom)
        if style == 1:
            return "<Z%s%x@%s>" % ("".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
                                            for _ in range(14)), self.counter, dom)
        if style == 2:
            return "<%x.%d@%s>" % (r.getrandbits(64), self.counter, dom)
        return "<%s%d@mail.gmail.com>" % ("CA" + "".join(
            r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+=")
            for _ in range(40)), self.counter)

    # ---- diffs ----------------------------------------------------------
    def make_diff(self, basedir, target_lines):
        """Returns (diff_lines, stats) where stats = [(path, ins, del)]."""
        r = self.rng
        code = self.v.code
        nfiles = min(1 + int(r.expovariate(1.3)), 4)
        per_file = max(10, target_lines // nfiles)
        lines = []
        stats = []
        seen = set()
        for _ in range(nfiles):
            ext = r.choice([".c", ".c", ".c", ".c", ".h", ".h", ".S", "/Makefile", ".rst", ".py"]) \
                if not basedir.startswith(("docs", "tools", "automation")) else \
                r.choice([".c", ".h", ".py", ".sh", ".rst", ".md", "/Makefile"])
            name = "%s_%s" % (r.choice(PREFIXES), r.choice(MIDS)) if not ext.startswith("/") else r.choice(MIDS)
            path = "%s/%s%s" % (basedir, name, ext)
            if path in seen:
                continue
            seen.add(path)
            new_file = r.random() < 0.06
            lines.append("diff --git a/%s b/%s" % (path, path))
            if new_file:
                lines.append("new file mode 100644")
                lines.append("index 0000000000..%010x" % r.getrandbits(40))
                lines.append("--- /dev/null")
                lines.append("+++ b/%s" % path)
                n = max(5, per_file - 5)
                body = r.choices(code, k=n)
                lines.append("@@ -0,0 +1,%d @@" % n)
                lines.extend("+" + l for l in body)
                stats.append((path, n, 0))
                continue
            lines.append("index %010x..%010x 100644" % (r.getrandbits(40), r.getrandbits(40)))
            lines.append("--- a/%s" % path)
            lines.append("+++ b/%s" % path)
            ins = dels = 0
            old_ln = r.randint(1, 200)
            offset = 0
            produced = 0
            while produced < per_file:
                pre = r.choices(code, k=3)
                post = r.choices(code, k=3)
                blocks = []
                for _b in range(1 if r.random() < 0.7 else 2):
                    nd = r.choice([0, 1, 1, 2, 3, 4, 6, 8])
                    na = r.choice([0, 1, 1, 2, 3, 5, 8, 12]) if nd else r.choice([1, 2, 3, 5, 8, 12, 20])
                    blocks.append((r.choices(code, k=nd), r.choices(code, k=na)))
                mid = r.choices(code, k=r.randint(1, 4))
                hunk = [" " + l for l in pre]
                o_cnt = n_cnt = 3
                for bi, (dl, al) in enumerate(blocks):
                    if bi:
                        hunk.extend(" " + l for l in mid)
                        o_cnt += len(mid)
                        n_cnt += len(mid)
                    hunk.extend("-" + l for l in dl)
                    hunk.extend("+" + l for l in al)
                    o_cnt += len(dl)
                    n_cnt += len(al)
                    dels += len(dl)
                    ins += len(al)
                hunk.extend(" " + l for l in post)
                o_cnt += 3
                n_cnt += 3
                fn = r.choice(self.v.funcs)
                ctx = r.choice(["", " static int %s(struct %s *%s)" % (fn, r.choice(TYPES), r.choice(VARS)),
                                " void %s(void)" % fn, " int %s(%s)" % (fn, r.choice(VARS))])
                lines.append("@@ -%d,%d +%d,%d @@%s" % (old_ln, o_cnt, old_ln + offset, n_cnt, ctx))
                lines.extend(hunk)
                offset += n_cnt - o_cnt
                old_ln += o_cnt + r.randint(5, 120)
                produced += len(hunk) + 1
            stats.append((path, ins, dels))
        return lines, stats

    @staticmethod
    def diffstat(stats):
        if not stats:
            return []
        w = max(len(p) for p, _, _ in stats)
        maxch = max(i + d for _, i, d in stats) or 1
        out = []
        for p, i, d in stats:
            tot = i + d
            scale = min(1.0, 40.0 / maxch)
            pi = int(round(i * scale)) if i else 0
            pd = int(round(d * scale)) if d else 0
            if i and not pi:
                pi = 1
            if d and not pd:
                pd = 1
            out.append(" %-*s | %*d %s%s" % (w, p, len(str(maxch)), tot, "+" * pi, "-" * pd))
        ti = sum(i for _, i, _ in stats)
        td = sum(d for _, _, d in stats)
        s = " %d file%s changed" % (len(stats), "" if len(stats) == 1 else "s")
        if ti:
            s += ", %d insertion%s(+)" % (ti, "" if ti == 1 else "s")
        if td:
            s += ", %d deletion%s(-)" % (td, "" if td == 1 else "s")
        out.append(s)
        return out

    # ---- prose ----------------------------------------------------------
    def paragraphs(self, lo, hi):
        r = self.rng
        out = []
        for _ in range(r.randint(lo, hi)):
            sents = r.choices(self.v.sentences, k=r.randint(1, 4))
            para = " ".join(sents)
            if r.random() < 0.03:
                # A line starting with "From " exercises mboxrd escaping.
                out.append("From the %s:\n  \"%s\"" % (
                    r.choice(["SDM", "APM", "spec", "datasheet", "erratum description"]), sents[0]))
                continue
            out.append(textwrap.fill(para, 72, break_long_words=False, break_on_hyphens=False))
        return out

    # ---- series ---------------------------------------------------------
    def new_series(self):
        r = self.rng
        self.n_series += 1
        respin = None
        if self.series_hist and r.random() < 0.3:
            cand = self.series_hist[-min(len(self.series_hist), 200) + r.randrange(min(len(self.series_hist), 200))]
            if cand["version"] < 5:
                respin = cand
        if respin:
            list_kind, subsys, title = respin["list"], respin["subsys"], respin["title"]
            author = respin["author"]
            version = respin["version"] + 1
            n = max(1, min(12, respin["n"] + r.choice([0, 0, 0, 1, -1])))
            prefix = respin["prefix"]
            titles = respin["titles"][:n]
            while len(titles) < n:
                titles.append(r.choice(self.v.titles))
        else:
            list_kind = "xen" if r.random() < 0.6 else "linux"
            smap = XEN_SUBSYS if list_kind == "xen" else LINUX_SUBSYS
            subsys = r.choice(list(smap))
            title = r.choice(self.v.titles)
            author = self.series_author()
            version = r.choices([1, 2, 3, 4, 5], weights=[60, 18, 10, 7, 5])[0]
            x = r.random()
            n = 1 if x < 0.35 else (r.randint(2, 5) if x < 0.8 else r.randint(6, 12))
            x = r.random()
            if list_kind == "xen":
                prefix = ("PATCH" if x < 0.70 else "XEN PATCH" if x < 0.85 else
                          "PATCH for-4.19" if x < 0.91 else "RFC PATCH" if x < 0.95 else
                          "PATCH RFC" if x < 0.97 else "XEN PATCH for-4.19")
            else:
                prefix = ("PATCH" if x < 0.80 else "PATCH net-next" if x < 0.86 else
                          "PATCH net" if x < 0.89 else "RFC PATCH" if x < 0.96 else "PATCH 6.6.y")
            titles = [title] + [r.choice(self.v.titles) for _ in range(n - 1)]
            if author.charset_kind != "ascii" and r.random() < 0.3:
                titles[0] = titles[0] + " (reported by %s)" % author.first
        smap = XEN_SUBSYS if list_kind == "xen" else LINUX_SUBSYS
        basedir = smap[subsys]
        rec = {"list": list_kind, "subsys": subsys, "title": title, "author": author,
               "version": version, "n": n, "prefix": prefix, "titles": titles}
        has_cover = (n > 1 and r.random() < 0.85) or (n == 1 and r.random() < 0.04)
        vtag = (" v%d" % version) if version > 1 or r.random() < 0.03 else ""
        width = 2 if n >= 10 else 1

        def subj(i):
            if n == 1 and not has_cover:
                return "[%s%s] %s: %s" % (prefix, vtag, subsys, titles[0])
            return "[%s%s %0*d/%d] %s" % (prefix, vtag, width, i, n,
                                          ("%s: %s" % (subsys, titles[i - 1])) if i else
                                          ("%s: %s" % (subsys, title)))

        pid = r.randint(1000, 4000000)
        cc = [p for p in r.sample(self.people["ascii"], r.randint(2, 6)) if p is not author]
        lst, list_id = LISTS[list_kind]
        items = []
        all_stats = []
        # Pre-generate patches.
        patches = []
        for i in range(1, n + 1):
            tl = int(10 + 190 * r.random() ** 1.4)
            dl, st = self.make_diff(basedir, tl)
            all_stats.extend(st)
            patches.append((i, dl, st))
        t0 = self.t
        first_id = None
        in_reply_to_old = respin and respin.get("first_id") and r.random() < 0.25
        if has_cover:
            cid = self.patch_msgid(author, t0, pid, 1)
            first_id = cid
            body = self.paragraphs(1, 3)
            if version > 1:
                ch = ["Changes in v%d:" % version] + [" - " + c for c in dict.fromkeys(r.sample(self.v.changes, r.randint(1, 4)))]
                body.append("\n".join(ch))
            if r.random() < 0.3:
                body.append("Thanks,\n%s" % author.first)
            short = ["%s (%d):" % (author.name, n)] + ["  %s: %s" % (subsys, tt) for tt in titles]
            body.append("\n".join(short))
            merged = {}
            for p_, a_, d_ in all_stats:
                m = merged.setdefault(p_, [0, 0])
                m[0] += a_
                m[1] += d_
            body.append("\n".join(self.diffstat([(p_, a_, d_) for p_, (a_, d_) in merged.items()])))
            text = "\n\n".join(body) + "\n\n" + r.choice(SIGNATURES) + "\n"
            refs = [respin["first_id"]] if in_reply_to_old else []
            items.append(dict(kind="cover", author=author, subject=subj(0), msgid=cid,
                              refs=refs, to=[lst], cc=cc, list_id=list_id, text=text,
                              patchfile=None, patch_text=None))
        rec["first_id"] = first_id
        for i, dl, st in patches:
            mid = self.patch_msgid(author, t0, pid, i + (1 if has_cover else 0))
            if first_id is None:
                first_id = mid
                rec["first_id"] = mid
                refs = [respin["first_id"]] if in_reply_to_old else []
            else:
                refs = ([respin["first_id"]] if in_reply_to_old else []) + [first_id]
            msg = self.paragraphs(1, 5)
            trailers = []
            if r.random() < 0.15:
                trailers.append('Fixes: %012x ("%s: %s")' % (r.getrandbits(48), subsys, r.choice(self.v.titles)))
            if r.random() < 0.1:
                rp = self.person(r.choice(["ascii", "ascii", "latin1", "utf8"]))
                trailers.append("Reported-by: %s <%s>" % (rp.name, rp.email))
            if r.random() < 0.08:
                rp = self.person("ascii")
                trailers.append("Suggested-by: %s <%s>" % (rp.name, rp.email))
            if version > 1 and r.random() < 0.4:
                for _ in range(r.randint(1, 2)):
                    rp = self.person(r.choice(["ascii", "ascii", "ascii", "latin1"]))
                    trailers.append("%s: %s <%s>" % (r.choice(["Reviewed-by", "Acked-by", "Tested-by"]),
                                                     rp.name, rp.email))
            trailers.append("Signed-off-by: %s <%s>" % (author.name, author.email))
            msg.append("\n".join(trailers))
            head = "\n\n".join(msg) + "\n"
            below = ["---"]
            if version > 1 and r.random() < 0.6:
                for vv in range(version, 1, -1):
                    below.append("v%d:" % vv)
                    below.extend(" - " + c for c in dict.fromkeys(r.sample(self.v.changes, r.randint(1, 3))))
                    if r.random() < 0.5:
                        break
                below.append("")
            if r.random() < 0.05:
                below.append("CC: %s <%s>" % (cc[0].name, cc[0].email) if cc else "Compile tested only.")
                below.append("")
            below.extend(self.diffstat(st))
            below.append("")
            patch_text = "\n".join(below + dl) + "\n" + r.choice(SIGNATURES) + "\n"
            fname = "%04d-%s.patch" % (i, re.sub(r"[^A-Za-z0-9]+", "-", "%s %s" % (subsys, titles[i - 1])).strip("-")[:52])
            items.append(dict(kind="patch", author=author, subject=subj(i), msgid=mid,
                              refs=refs, to=[lst], cc=cc, list_id=list_id, text=head + patch_text,
                              head=head, patch_text=patch_text, patchfile=fname))
        self.series_hist.append(rec)
        return items

    # ---- replies --------------------------------------------------------
    def pick_target(self):
        r = self.rng
        w = self.window
        if not w:
            return None
        # Bias towards recent messages.
        for _ in range(4):
            k = int(r.expovariate(1 / 150.0))
            if k < len(w):
                m = w[-1 - k]
                if m.kind == "reply" and r.random() < 0.4:
                    continue  # prefer patches/covers, still allow reply-to-reply
                return m
        return w[-1]

    @staticmethod
    def quote(lines):
        return [(">" + l if l.startswith(">") else ("> " + l if l else ">")) for l in lines]

    def attribution(self, target):
        r = self.rng
        a = target.author
        tm = time.gmtime(target.t + a.tz * 60)
        s = r.randrange(4)
        if s == 0:
            return "On %02d/%02d/%04d %02d:%02d, %s wrote:" % (
                tm.tm_mday, tm.tm_mon, tm.tm_year, tm.tm_hour, tm.tm_min, a.name)
        if s == 1:
            hh = tm.tm_hour % 12 or 12
            return "On %s, %s %02d, %d at %02d:%02d:%02d%s %+05d, %s wrote:" % (
                DAYS[tm.tm_wday], MONTHS[tm.tm_mon - 1], tm.tm_mday, tm.tm_year, hh,
                tm.tm_min, tm.tm_sec, "AM" if tm.tm_hour < 12 else "PM",
                (a.tz // 60) * 100 + a.tz % 60 if a.tz >= 0 else -((-a.tz // 60) * 100 + (-a.tz) % 60),
                a.name)
        if s == 2:
            return "On %s\n%s <%s> wrote:" % (rfc2822_date(target.t, a.tz), a.name, a.email)
        return "Quoting %s (%04d-%02d-%02d %02d:%02d:%02d)" % (
            a.name, tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)

    def make_reply(self, target, author):
        r = self.rng
        v = self.v
        tl = target.lines
        out = [self.attribution(target)]
        trailer = None
        if target.kind == "patch":
            # Quote the start of the commit message.
            try:
                dash = tl.index("---")
            except ValueError:
                dash = min(len(tl), 8)
            hunks = [i for i, l in enumerate(tl) if l.startswith("@@ ")]
            x = r.random()
            if x < 0.25 or not hunks:
                # Ack/review of the whole patch.
                q = tl[:min(dash, r.randint(2, 12))]
                out.extend(self.quote(q))
                out.append("")
                if r.random() < 0.3:
                    out.append(r.choice(v.comments))
                    out.append("")
                trailer = r.choice(["Reviewed-by", "Reviewed-by", "Acked-by", "Acked-by", "Tested-by"])
            else:
                if r.random() < 0.5:
                    out.extend(self.quote(tl[:min(dash, r.randint(2, 14))]))
                    out.append("")
                    out.append(textwrap.fill(" ".join(r.choices(v.comments, k=r.randint(1, 3))), 72))
                    out.append("")
                for h in sorted(r.sample(hunks, min(len(hunks), r.randint(1, 4)))):
                    end = h + 1
                    while end < len(tl) and end - h < 28 and not tl[end].startswith(("@@ ", "diff --git", "-- ")):
                        end += 1
                    cut = r.randint(min(h + 2, end), end)
                    if r.random() < 0.5:
                        # Include the file header too.
                        j = h
                        while j > 0 and not tl[j].startswith("+++ "):
                            j -= 1
                            if h - j > 40:
                                break
                        if tl[j].startswith("+++ ") and tl[j - 1].startswith("--- "):
                            out.extend(self.quote(tl[j - 1:j + 1]))
                    out.extend(self.quote(tl[h:cut]))
                    out.append("")
                    out.append(textwrap.fill(" ".join(r.choices(v.comments, k=r.randint(1, 3))), 72))
                    out.append("")
                    if r.random() < 0.3:
                        out.append("[...]")
                        out.append("")
                if r.random() < 0.25:
                    out.append(r.choice(["With this addressed:", "Preferably with that adjusted:",
                                         "With the nit fixed:", "Otherwise:"]))
                    trailer = r.choice(["Reviewed-by", "Acked-by"])
        elif target.kind == "cover":
            para = []
            for l in tl:
                if not l and para:
                    break
                if l:
                    para.append(l)
            out.extend(self.quote(para))
            out.append("")
            out.append(textwrap.fill(" ".join(r.choices(v.comments, k=r.randint(1, 2))), 72))
            out.append("")
            if r.random() < 0.35:
                out.append("For the series:")
                trailer = r.choice(["Acked-by", "Reviewed-by", "Tested-by"])
        else:
            # Reply to a reply: quote a chunk of it (including its quotes).
            body = [l for l in tl if l != "-- "]
            start = r.randint(0, max(0, min(len(body) - 1, 3)))
            chunk = body[start:start + r.randint(4, 40)]
            out.extend(self.quote(chunk))
            out.append("")
            out.append(textwrap.fill(" ".join(r.choices(v.comments, k=r.randint(1, 3))), 72))
            out.append("")
            if r.random() < 0.1:
                trailer = "Acked-by"
            if r.random() < 0.05:
                out.append(">From what I can tell this was never reached.")  # mangled quote
                out.append("")
        if r.random() < 0.02:
            out.append("From a quick look the rest seems fine.")
            out.append("")
        if trailer:
            scope = ""
            if trailer == "Acked-by" and r.random() < 0.3:
                scope = r.choice([" # x86", " # arm", " # tools", " # CHANGELOG", " # for-4.19"])
            out.append("%s: %s <%s>%s" % (trailer, author.name, author.email, scope))
            out.append("")
        out.append(r.choice([author.first, "Thanks, %s" % author.first, "~" + author.first,
                             "Regards,\n%s" % author.first,
                             "Cheers,\n%s" % author.first]))
        if r.random() < 0.1:
            out.append("")
            out.append("-- ")
            out.append("%s\n%s" % (author.name, r.choice(["Software Engineer", "Kernel Team",
                                                           "Virtualization Platform", "Open Source Group"])))
        return "\n".join(out) + "\n"

    def reply_item(self):
        r = self.rng
        target = self.pick_target()
        if target is None:
            return None
        base = target.subject
        subject = base if base.lower().startswith("re:") else "Re: " + base
        if r.random() < 0.02:
            subject = "RE: " + base if not base.lower().startswith("re:") else base
        # Sometimes the patch author answers a review.
        if target.kind == "reply" and r.random() < 0.4:
            author = None
            for m in reversed(self.window):
                if m.msgid in target.refs and m.kind != "reply":
                    author = m.author
                    break
        else:
            author = None
        if author is None:
            author = self.person("ascii")
        refs = target.refs + [target.msgid]
        if len(refs) > 20:
            refs = refs[:1] + refs[-19:]
        item = dict(kind="reply", author=author, subject=subject, msgid=None,
                    refs=refs, target=target, to=[target.author],
                    cc=[], list_id=None, text=None, patchfile=None, patch_text=None)
        return item

    # ---- emission -------------------------------------------------------
    def choose_enc(self, item):
        x = self.rng.random()
        # Explicit RFC 2047 share is 3.5%: encoded headers also arise from
        # non-ASCII series authors, ISO-8859-1 senders and inherited subjects,
        # which brings messages with encoded From/Subject to ~5-6%.
        if x < 0.715:
            return "plain"
        if x < 0.815:
            return "qp"
        if x < 0.865:
            return "base64"
        if x < 0.915:
            return "latin1"
        if x < 0.95:
            return "rfc2047"
        return "multipart"

    def render(self, item):
        r = self.rng
        enc = self.choose_enc(item)
        kind = item["kind"]
        # Replies: who writes determines the charset kind of the name.
        if kind == "reply":
            if item["author"].charset_kind == "ascii":
                if enc == "rfc2047":
                    item["author"] = self.person(r.choice(["utf8", "utf8", "latin1"]))
                elif enc == "latin1" and r.random() < 0.3:
                    item["author"] = self.person("latin1")
        author = item["author"]
        if kind == "reply":
            target = item["target"]
            item["msgid"] = self.reply_msgid(author)
            item["text"] = self.make_reply(target, author)
            if enc == "latin1" and item["text"].isascii():
                lp = self.person("latin1")
                item["text"] = "(Adding %s, who wrote the original code.)\n\n%s" % (lp.name, item["text"])
            if enc == "multipart" and r.random() < 0.2:
                item["patch_text"] = self.fixup_patch()
                item["patchfile"] = "fixup.patch"
                item["text"] = item["text"].rstrip("\n") + "\n\nSomething like the attached (untested).\n"
        if kind == "patch" and enc == "latin1" and item["text"].isascii():
            rp = self.person("latin1")
            item["head"] = item["head"].replace(
                "Signed-off-by:", "Reported-by: %s <%s>\nSigned-off-by:" % (rp.name, rp.email), 1)
            item["text"] = item["head"] + item["patch_text"]
        item["_list_hint"] = item["target"].lst if kind == "reply" else item["to"][0]
        self.t += r.randint(1, 3) if kind == "patch" else r.randint(20, 900)
        t = self.t
        hdr = self.transport_headers(author, t, item)
        from_charset = "ISO-8859-1" if (enc == "latin1" and author.charset_kind == "latin1") else "UTF-8"
        from_enc = None
        if enc == "rfc2047":
            from_enc = r.choice(["Q", "B"])
        hdr.append("From: " + fmt_addr(author.name, author.email, from_enc, from_charset))
        if kind == "reply":
            tgt = item["target"]
            to = [fmt_addr(tgt.author.name, tgt.author.email)]
            lst = tgt.lst  # keep the list the thread lives on
            cc = [lst] + [fmt_addr(p.name, p.email) for p in r.sample(self.people["ascii"], r.randint(1, 5))
                          if p is not author and p is not tgt.author]
            item["_list"] = lst
        else:
            to = list(item["to"])
            cc = [fmt_addr(p.name, p.email) for p in item["cc"]]
            item["_list"] = item["to"][0]
        hdr.append(fmt_addr_list("To", to))
        if cc:
            hdr.append(fmt_addr_list("Cc", cc))
        subj_enc = r.choice(["Q", "B"]) if enc == "rfc2047" else None
        hdr.append(fmt_subject(item["subject"], subj_enc))
        hdr.append("Date: " + rfc2822_date(t, author.tz))
        hdr.append("Message-ID: " + item["msgid"])
        refs = item["refs"]
        if refs:
            hdr.append("In-Reply-To: " + refs[-1])
            hdr.append("References: " + "\n ".join(refs))
        if kind != "reply":
            hdr.append("X-Mailer: git-send-email 2.43.0")
        else:
            ua = r.random()
            if ua < 0.4:
                hdr.append("User-Agent: Mozilla Thunderbird")
            elif ua < 0.6:
                hdr.append("User-Agent: Mutt/2.2.12 (2023-09-09)")
        if item["_list"].startswith("xen"):
            hdr.append("List-Id: " + LISTS["xen"][1])
        else:
            hdr.append("List-Id: " + LISTS["linux"][1])

        text = item["text"]
        body, mime = self.encode_body(item, text, enc)
        hdr.extend(mime)
        head = "\n".join(hdr) + "\n\n"
        sep = mbox_from_line(author.email, t) + "\n"
        data = sep.encode("ascii") + head.encode("ascii") + mboxrd_escape(body)
        if not data.endswith(b"\n"):
            data += b"\n"
        data += b"\n"
        self.kinds_count[enc] = self.kinds_count.get(enc, 0) + 1
        if "=?" in head:
            self.n_encoded_hdr += 1
        # Remember for replies (decoded text lines).
        lines = text.split("\n")
        if len(lines) > 400:
            lines = lines[:400]
        self.window.append(Msg(item["msgid"], refs, item["subject"], author, t, lines, kind,
                               item["_list"]))
        return data

    def transport_headers(self, author, t, item):
        """Return-Path / Received / DKIM-Signature as found in list archives
        (present on ~70% of messages)."""
        r = self.rng
        if r.random() >= 0.7:
            return []
        local, dom = author.email.split("@")
        relay = "lists.xenproject.org" if item["_list_hint"].startswith("xen") else "smtp.subspace.kernel.org"
        d = rfc2822_date(t + r.randint(1, 40), 0)
        h = ["Return-Path: <%s>" % author.email]
        for i in range(r.randint(1, 3)):
            ip = "192.0.2.%d" % r.randint(1, 254) if i == 0 else "198.51.100.%d" % r.randint(1, 254)
            h.append("Received: from mail-%s.%s (mail-%s.%s [%s])\n\tby %s with esmtps (TLS1.3) tls "
                     "TLS_AES_256_GCM_SHA384\n\t(Exim 4.96)\n\t(envelope-from <%s>)\n\tid 1r%sX-000%d;\n\t%s"
                     % (r.choice(PREFIXES), dom, r.choice(PREFIXES), dom, ip, relay, author.email,
                        "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
                                for _ in range(6)), r.randint(1, 9), d))
        if r.random() < 0.8:
            b64 = base64.b64encode(r.getrandbits(2048).to_bytes(256, "big")).decode()
            bh = base64.b64encode(r.getrandbits(256).to_bytes(32, "big")).decode()
            h.append("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\n"
                     "        d=%s; s=20230601; t=%d; x=%d; darn=%s;\n"
                     "        h=content-transfer-encoding:mime-version:references:in-reply-to\n"
                     "         :message-id:date:subject:cc:to:from:from:to:cc:subject:date\n"
                     "         :message-id:reply-to;\n"
                     "        bh=%s;\n"
                     "        b=%s\n         %s\n         %s\n         %s\n         %s"
                     % (dom, t, t + 604800, relay, bh, b64[:70], b64[70:140], b64[140:210],
                        b64[210:280], b64[280:]))
        return h

    def fixup_patch(self):
        r = self.rng
        smap = XEN_SUBSYS if r.random() < 0.6 else LINUX_SUBSYS
        dl, st = self.make_diff(smap[r.choice(list(smap))], r.randint(10, 40))
        return "\n".join(dl) + "\n"

    def encode_body(self, item, text, enc):
        r = self.rng
        if enc == "multipart":
            b = "------------%s" % "".join(r.choice("0123456789ABCDEFabcdef") for _ in range(24))
            if item.get("patch_text"):
                head = item.get("head", text) if item["kind"] == "patch" else text
                pt = item["patch_text"]
                parts = [
                    "This is a multi-part message in MIME format.",
                    "--" + b,
                    "Content-Type: text/plain; charset=UTF-8",
                    "Content-Transfer-Encoding: 8bit" if not head.isascii() else "Content-Transfer-Encoding: 7bit",
                    "",
                    head.rstrip("\n"),
                    "--" + b,
                    'Content-Type: text/x-patch; charset=UTF-8; name="%s"' % item["patchfile"],
                    'Content-Disposition: attachment; filename="%s"' % item["patchfile"],
                    "Content-Transfer-Encoding: 8bit" if not pt.isascii() else "Content-Transfer-Encoding: 7bit",
                    "",
                    pt.rstrip("\n"),
                    "--" + b + "--",
                    "",
                ]
                mime = ["MIME-Version: 1.0",
                        'Content-Type: multipart/mixed; boundary="%s"' % b]
                return "\n".join(parts).encode("utf-8"), mime
            htmlb = self.to_html(text)
            parts = [
                "This is a multi-part message in MIME format.",
                "--" + b,
                "Content-Type: text/plain; charset=UTF-8; format=flowed",
                "Content-Transfer-Encoding: 8bit" if not text.isascii() else "Content-Transfer-Encoding: 7bit",
                "",
                text.rstrip("\n"),
                "",
                "--" + b,
                "Content-Type: text/html; charset=UTF-8",
                "Content-Transfer-Encoding: 8bit" if not htmlb.isascii() else "Content-Transfer-Encoding: 7bit",
                "",
                htmlb,
                "--" + b + "--",
                "",
            ]
            mime = ["MIME-Version: 1.0",
                    'Content-Type: multipart/alternative; boundary="%s"' % b]
            return "\n".join(parts).encode("utf-8"), mime
        if enc == "qp":
            data = binascii.b2a_qp(text.encode("utf-8"), quotetabs=False, istext=True)
            return data, ["MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8",
                          "Content-Transfer-Encoding: quoted-printable"]
        if enc == "base64":
            data = base64.encodebytes(text.encode("utf-8"))
            return data, ["MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8",
                          "Content-Transfer-Encoding: base64"]
        if enc == "latin1":
            data = text.encode("iso-8859-1", errors="replace")
            return data, ["MIME-Version: 1.0", "Content-Type: text/plain; charset=ISO-8859-1",
                          "Content-Transfer-Encoding: 8bit"]
        data = text.encode("utf-8")
        if text.isascii():
            x = r.random()
            if x < 0.5:
                return data, []
            if x < 0.8:
                return data, ["MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8",
                              "Content-Transfer-Encoding: 7bit"]
            return data, ["MIME-Version: 1.0", "Content-Type: text/plain; charset=us-ascii",
                          "Content-Disposition: inline"]
        return data, ["MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8",
                      "Content-Transfer-Encoding: 8bit"]

    @staticmethod
    def to_html(text):
        out = ['<!DOCTYPE html>', '<html>', '  <head>',
               '    <meta http-equiv="Content-Type" content="text/html; charset=UTF-8">',
               '  </head>', '  <body>']
        inq = False
        for l in text.split("\n"):
            q = l.startswith(">")
            if q and not inq:
                out.append('    <blockquote type="cite">')
                inq = True
            elif not q and inq:
                out.append("    </blockquote>")
                inq = False
            s = l.lstrip(">").lstrip(" ") if q else l
            out.append("    <div>%s</div>" % (html.escape(s) if s else "<br>"))
        if inq:
            out.append("    </blockquote>")
        out.extend(["  </body>", "</html>"])
        return "\n".join(out)

    def run(self, out, n):
        r = self.rng
        written = 0
        total = 0
        n_reply = 0
        while written < n:
            want_reply = self.window and r.random() < 0.4
            if want_reply:
                data = self.render(self.reply_item())
                n_reply += 1
            else:
                if not self.queue:
                    self.queue.extend(self.new_series())
                item = self.queue.popleft()
                data = self.render(item)
            out.write(data)
            total += len(data)
            written += 1
        return written, total, n_reply



def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    t0 = time.perf_counter()
    g = Generator(a.seed)
    with open(a.out, "wb", buffering=1 << 20) as f:
        written, total, n_reply = g.run(f, a.n)
    dt = time.perf_counter() - t0
    enc = ", ".join("%s=%d" % (k, g.kinds_count.get(k, 0))
                    for k in ("plain", "qp", "base64", "latin1", "rfc2047", "multipart"))
    print("gen_archive: %d messages (%d replies), %d bytes (avg %.0f B/msg), %d series "
          "[%s; with RFC 2047 headers=%d] seed=%d in %.1fs -> %s" % (
              written, n_reply, total, total / max(written, 1), g.n_series, enc,
              g.n_encoded_hdr, a.seed, dt, a.out), file=sys.stderr)


if __name__ == "__main__":
    main()
