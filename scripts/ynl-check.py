#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks include/dockfw.yaml against the kernel's own YNL tooling and
against the module's netlink policies (src/dockfw_nl.c).

1. The kernel's YNL library (tools/net/ynl from Debian's linux-source-6.12,
   unpacked once into $DOCKFW_CACHE/ynl-6.12) loads the spec with its
   genetlink-legacy schema: every operation and attribute set resolves.
2. For the attribute sets `dockfw` and `rule`, every bound the C policy
   puts on an attribute (NLA_POLICY_MIN/MAX/RANGE, a NUL_STRING's .len, a
   binary length range) is the spec's `checks` for it, and the spec states
   no bound the policy does not enforce (an attribute bounded by its
   `enum:` in the spec may be bounded in C by that enum's last value).

Prints `ynl: N passed, N failed` last; exits 1 on a failure.
"""
import os
import re
import subprocess
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CACHE = os.environ.get("DOCKFW_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "dockfw")
TARBALL = os.environ.get("DOCKFW_KERNEL_TARBALL", "/usr/src/linux-source-6.12.tar.xz")
SPEC = os.path.join(TOP, "include/dockfw.yaml")
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(("PASS" if ok else "FAIL") + f" ynl: {name}" + ("" if ok else f": {detail}"))


def ynl_lib():
    """The kernel's tools/net/ynl and netlink schemas, unpacked once."""
    dest = os.path.join(CACHE, "ynl-6.12")
    if not os.path.exists(os.path.join(dest, ".done")):
        os.makedirs(dest, exist_ok=True)
        subprocess.run(["tar", "-xJf", TARBALL, "-C", dest, "--strip-components=1", "--wildcards",
                        "*/tools/net/ynl/*", "*/Documentation/netlink/*.yaml"], check=True)
        open(os.path.join(dest, ".done"), "w").close()
    return dest


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


def main():
    sys.path.insert(0, os.path.join(ynl_lib(), "tools/net/ynl"))
    from lib import SpecFamily  # the kernel's own nlspec
    schema = os.path.join(ynl_lib(), "Documentation/netlink/genetlink-legacy.yaml")
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
    passed = sum(results)
    print(f"ynl: {passed} passed, {len(results) - passed} failed")
    sys.exit(0 if passed == len(results) else 1)


if __name__ == "__main__":
    main()
