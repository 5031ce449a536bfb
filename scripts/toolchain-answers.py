#!/usr/bin/env python3
"""Answer the toolchain probes a tree asks, with the real compilers of THIS machine.

Development-time only: patchbot never runs probes. This script does, so run it
only on trees you trust (a `success,...` probe is a shell command from the tree).

    patchbot kconfig --tree ~/src/xen --json | scripts/toolchain-answers.py

reads the "guessed" probes of every result and prints TOML lines for a
`[toolchains.NAME.probes]` table (answers y/n), the way the tree's
Kconfig.include would compute them with CC=gcc and LD=ld:
  cc-option,FLAGS   gcc -Werror FLAGS -E -x c /dev/null -o /dev/null
  ld-option,FLAGS   ld -v FLAGS
  as-instr,INSTR    printf "%b\\n" "INSTR" | gcc -c -x assembler -o /dev/null -
  success,CMD       sh -c CMD       (failure: the opposite)
Set CC/LD in the environment to answer for another compiler (a cross compiler:
CC=aarch64-linux-gnu-gcc LD=aarch64-linux-gnu-ld); in `success`/`failure` commands
the words `gcc` and `ld` (the profile's CC and LD, as the tree saw them) are
replaced by them, so the probe asks the target's tools.
"""
import json
import os
import subprocess
import sys


def ok(cmd, stdin=None):
    r = subprocess.run(cmd, input=stdin, shell=isinstance(cmd, str), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return r.returncode == 0


def retarget(cmd, cc, ld):
    """Replace the command words `gcc`/`ld` with the target's tools."""
    out = []
    for tok in cmd.split(" "):
        out.append(cc if tok == "gcc" else ld if tok == "ld" else tok)
    return " ".join(out)


def answer(probe, cc, ld):
    name, _, arg = probe.partition(",")
    arg_cmd = retarget(arg, cc, ld)
    if name == "cc-option":
        return ok(f"{cc} -Werror {arg} -E -x c /dev/null -o /dev/null")
    if name == "ld-option":
        return ok(f"{ld} -v {arg}")
    if name == "as-instr":
        return ok(f"printf '%b\\n' {json.dumps(arg)} | {cc} -c -x assembler -o /dev/null -")
    if name == "success":
        return ok(arg_cmd)
    if name == "failure":
        return not ok(arg_cmd)
    return None


def main():
    cc = os.environ.get("CC", "gcc")
    ld = os.environ.get("LD", "ld")
    data = json.load(sys.stdin)
    probes = sorted({g for r in data.get("results", []) for g in r.get("guessed", [])})
    for p in probes:
        a = answer(p, cc, ld)
        if a is None:
            print(f"# not a probe: {p}", file=sys.stderr)
            continue
        print(f"{json.dumps(p)} = \"{'y' if a else 'n'}\"")


if __name__ == "__main__":
    main()
