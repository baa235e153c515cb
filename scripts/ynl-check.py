#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks include/dockfw.yaml, the family's source of truth, with the
kernel's own YNL tooling.

1. The kernel's YNL library (tools/net/ynl from Debian's linux-source-6.12,
   unpacked once into $DOCKFW_CACHE/ynl-6.12 by scripts/kernel_ynl.py)
   loads the spec with its genetlink-legacy schema: every operation and
   attribute set resolves.
2. What the kernel's generator makes of the spec today is what is
   committed: the uAPI header and the module's policies and ops table
   (scripts/ynl-gen.py --check; a stale file fails, with its diff).

Prints `ynl: N passed, N failed` last; exits 1 on a failure.
"""
import os
import subprocess
import sys

from kernel_ynl import schema as ynl_schema, tools_dir  # scripts/kernel_ynl.py

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SPEC = os.path.join(TOP, "include/dockfw.yaml")
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(("PASS" if ok else "FAIL") + f" ynl: {name}" + ("" if ok else f": {detail}"))


def decode_check(schema):
    """3. What the kernel's YNL prints for a rule and an event built here
    on the wire: addresses as text (display-hint), the hook mask as hook
    names (the `hook` flags enum), the conntrack state as its name. The
    family object is made without a socket (nothing here talks to a
    kernel): the spec, and YnlFamily's own attribute decoder."""
    import struct
    from lib.ynl import NlAttrs, YnlFamily
    from lib.nlspec import SpecFamily

    fam = object.__new__(YnlFamily)
    SpecFamily.__init__(fam, SPEC, schema_path=schema)
    fam.process_unknown = False
    fam.include_raw = False

    def attr(ty, b):
        n = 4 + len(b)
        return struct.pack("HH", n, ty) + b + bytes((4 - n % 4) % 4)

    r, e = fam.attr_sets["rule"], fam.attr_sets["event"]
    rule = (attr(r["saddr"].value, bytes([10, 0, 0, 2])) + attr(r["hooks"].value, struct.pack("I", 0b10100))
            + attr(r["orig-daddr"].value, bytes.fromhex("20010db8" + "00" * 11 + "01")))
    ev = (attr(e["saddr"].value, bytes([172, 17, 0, 2])) + attr(e["ct-state"].value, struct.pack("I", 2))
          + attr(e["orig-daddr"].value, bytes([10, 0, 0, 1])))
    try:
        got_r, got_e = fam._decode(NlAttrs(rule), "rule"), fam._decode(NlAttrs(ev), "event")
    except Exception as x:  # what the kernel's cli.py would print
        check("the kernel's YNL decodes a rule and an event", False, repr(x))
        return
    want_r = {"saddr": "10.0.0.2", "hooks": {"forward", "postrouting"}, "orig-daddr": "2001:db8::1"}
    want_e = {"saddr": "172.17.0.2", "ct-state": {"established"}, "orig-daddr": "10.0.0.1"}
    norm = lambda d: {k: set(v) if isinstance(v, (list, set)) else v for k, v in d.items()}  # noqa: E731
    check("the kernel's YNL prints addresses as text and hooks and conntrack states by name",
          norm(got_r) == want_r and norm(got_e) == want_e, f"rule {got_r}, event {got_e}")


def main():
    sys.path.insert(0, tools_dir())
    from lib import SpecFamily  # the kernel's own nlspec
    schema = ynl_schema("genetlink-legacy")
    try:
        fam = SpecFamily(SPEC, schema_path=schema)
        check(f"the kernel's YNL library loads the spec ({len(fam.ops)} operations, "
              f"{len(fam.attr_sets)} attribute sets)", len(fam.ops) > 0)
    except Exception as e:  # what the kernel's tools would print
        check("the kernel's YNL library loads the spec", False, repr(e))
        fam = None
    r = subprocess.run([sys.executable, os.path.join(TOP, "scripts/ynl-gen.py"), "--check"],
                       capture_output=True, text=True)
    check("the committed uAPI header and kernel policies/ops are what the spec generates",
          r.returncode == 0, (r.stdout + r.stderr).strip())
    if fam is not None:
        decode_check(schema)
    passed = sum(results)
    print(f"ynl: {passed} passed, {len(results) - passed} failed")
    sys.exit(0 if passed == len(results) else 1)


if __name__ == "__main__":
    main()
