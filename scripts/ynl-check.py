#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks include/dockfw.yaml against the kernel's own YNL tooling and
against the module's netlink policies (src/dockfw_nl.c).

1. The kernel's YNL library (tools/net/ynl from Debian's linux-source-6.12,
   unpacked once into $DOCKFW_CACHE/ynl-6.12 by scripts/kernel_ynl.py)
   loads the spec with its genetlink-legacy schema: every operation and
   attribute set resolves.
2. For the attribute sets `dockfw` and `rule`, every bound the C policy
   puts on an attribute (NLA_POLICY_MIN/MAX/RANGE, a NUL_STRING's .len, a
   binary length range) is the spec's `checks` for it, and the spec states
   no bound the policy does not enforce (an attribute bounded by its
   `enum:` in the spec may be bounded in C by that enum's last value).

Prints `ynl: N passed, N failed` last; exits 1 on a failure.
"""
import os
import re
import sys

from kernel_ynl import schema as ynl_schema, tools_dir  # scripts/kernel_ynl.py

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SPEC = os.path.join(TOP, "include/dockfw.yaml")
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(("PASS" if ok else "FAIL") + f" ynl: {name}" + ("" if ok else f": {detail}"))


def c_bounds(text, array):
    """{ATTR: {check: value}} from one nla_policy array of dockfw_nl.c."""
    body = re.search(rf"{array}\[[^]]*\] = \{{(.*?)\n\}};", text, re.S).group(1)
    consts = {"IFNAMSIZ": 16}
    hdr = open(os.path.join(TOP, "include/uapi/linux/dockfw.h")).read()
    for enum in re.findall(r"enum \w+ \{(.*?)\};", hdr, re.S):
        v = -1
        for m in re.finditer(r"(DOCKFW_\w+)\s*(?:=\s*([^,/\n]+))?,", enum):
            v = eval(m.group(2), {}, consts) if m.group(2) else v + 1
            consts[m.group(1)] = v
    val = lambda s: eval(s.strip(), {}, consts)  # noqa: E731
    out = {}
    for m in re.finditer(r"\[(DOCKFW_\w+)\]\s*=\s*(.*?),\n", body + ",\n", re.S):
        attr, rhs = m.group(1), " ".join(m.group(2).split())
        b = {}
        if mm := re.match(r"NLA_POLICY_MIN\(\w+, (.+)\)$", rhs):
            b["min"] = val(mm.group(1))
        elif mm := re.match(r"NLA_POLICY_MAX\(\w+, (.+)\)$", rhs):
            b["max"] = val(mm.group(1))
        elif mm := re.match(r"NLA_POLICY_RANGE\((\w+), (.+), (.+)\)$", rhs):
            lo, hi = val(mm.group(2)), val(mm.group(3))
            b.update({"min-len": lo, "max-len": hi} if mm.group(1) == "NLA_BINARY" else {"min": lo, "max": hi})
        elif mm := re.search(r"NLA_NUL_STRING, \.len = (\w+)", rhs):
            b["max-len"] = val(mm.group(1))
        out[attr] = b
    return out


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
    import yaml
    spec = yaml.safe_load(open(SPEC))
    enums = {d["name"]: d for d in spec["definitions"] if d.get("type") == "enum"}
    c = open(os.path.join(TOP, "src/dockfw_nl.c")).read()
    for set_name, array, prefix in (("dockfw", "dockfw_genl_policy", "DOCKFW_A_"),
                                    ("rule", "dockfw_rule_policy", "DOCKFW_RA_")):
        want = c_bounds(c, array)
        aset = next(s for s in spec["attribute-sets"] if s["name"] == set_name)
        bad = []
        for a in aset["attributes"]:
            cname = prefix + a["name"].upper().replace("-", "_")
            have = dict(a.get("checks", {}))
            c_has = want.get(cname, {})
            # An enum in the spec bounds the value by itself: C may spell
            # that bound as the enum's last value.
            if "enum" in a and "max" in c_has and "max" not in have and not a.get("enum-as-flags"):
                last = len(enums[a["enum"]]["entries"]) - 1 + enums[a["enum"]].get("value-start", 0)
                if c_has["max"] == last:
                    have["max"] = last
            if have != c_has:
                bad.append(f"{a['name']}: spec checks {have or 'none'}, C policy {c_has or 'none'}")
        check(f"attribute set {set_name}: the spec's checks are {array}'s bounds", not bad, "; ".join(bad))
    if fam is not None:
        decode_check(schema)
    passed = sum(results)
    print(f"ynl: {passed} passed, {len(results) - passed} failed")
    sys.exit(0 if passed == len(results) else 1)


if __name__ == "__main__":
    main()
