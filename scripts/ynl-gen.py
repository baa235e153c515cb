#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Generates the family's C from its spec, include/dockfw.yaml, with the
kernel's own generator (tools/net/ynl/ynl-gen-c.py of Debian's
linux-source-6.12), as in-tree families do (net/handshake/genl.c from
Documentation/netlink/specs/handshake.yaml):

  include/uapi/linux/dockfw.h   --mode uapi: commands, attributes, enums
  src/dockfw_nl_gen.h, .c       --mode kernel: the per-operation request
                                policies and the split-ops table, which
                                names the handlers the module exports
                                (dockfw_nl_<op>_doit / _dumpit)

The outputs are committed. `ynl-gen.py` rewrites them; `ynl-gen.py --check`
(run by scripts/ynl-check.py, so by `make test`) fails when regenerating
would change them, i.e. when someone edited a generated file or the spec
without regenerating. Exit 0 / 1.

The generator finds the tree root by walking up from the spec to a
MAINTAINERS file and the schema next to the spec's directory; the spec is
run from a scratch tree laid out that way, so the files say
"auto-generated from: include/dockfw.yaml".
"""
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile

from kernel_ynl import ynl_lib  # scripts/kernel_ynl.py: the kernel's YNL tree, unpacked once

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUTPUTS = {
    # output path (in the repo): generator arguments
    "include/uapi/linux/dockfw.h": ["--mode", "uapi", "--header"],
    "src/dockfw_nl_gen.h": ["--mode", "kernel", "--header"],
    "src/dockfw_nl_gen.c": ["--mode", "kernel", "--source"],
}


def generate(dest):
    """Writes every output under `dest` (same relative paths)."""
    lib = ynl_lib()
    gen = os.path.join(lib, "tools/net/ynl/ynl-gen-c.py")
    with tempfile.TemporaryDirectory() as tree:
        open(os.path.join(tree, "MAINTAINERS"), "w").close()
        shutil.copy(os.path.join(lib, "Documentation/netlink/genetlink-legacy.yaml"), tree)
        os.makedirs(os.path.join(tree, "include"))
        spec = os.path.join(tree, "include/dockfw.yaml")
        shutil.copy(os.path.join(TOP, "include/dockfw.yaml"), spec)
        for rel, args in OUTPUTS.items():
            out = os.path.join(dest, rel)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            # The generator names the header it includes after the output's
            # basename (dockfw_nl_gen.c includes "dockfw_nl_gen.h").
            r = subprocess.run([sys.executable, gen, "--spec", spec, *args, "-o", out],
                               capture_output=True, text=True)
            if r.returncode != 0 or not os.path.exists(out):
                sys.exit(f"ynl-gen: {rel}: the kernel's ynl-gen-c.py failed:\n{r.stderr.strip()}")


def main():
    check = "--check" in sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        generate(tmp)
        stale = [rel for rel in OUTPUTS
                 if not os.path.exists(os.path.join(TOP, rel))
                 or not filecmp.cmp(os.path.join(tmp, rel), os.path.join(TOP, rel), shallow=False)]
        if check:
            for rel in stale:
                d = subprocess.run(["diff", "-u", os.path.join(TOP, rel), os.path.join(tmp, rel)],
                                   capture_output=True, text=True).stdout
                print(f"ynl-gen: {rel} differs from what include/dockfw.yaml generates:\n{d[:3000]}")
            sys.exit(1 if stale else 0)
        for rel in stale:
            shutil.copy(os.path.join(tmp, rel), os.path.join(TOP, rel))
            print(f"ynl-gen: wrote {rel}")


if __name__ == "__main__":
    main()
