# SPDX-License-Identifier: GPL-2.0
"""Checks of the robust_persist scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403
from robustcheck import *  # noqa: F401,F403

# Guest time limit (seconds) at the small size; run.py scales it.
TIMEOUT = 200


def check(g):
    canon = g.fact("canon").strip("|").split("|")
    body = [l for l in canon if l and not l.startswith("#")]
    expect(len(body) == 6, f"save printed {len(body)} rules for the 6 restored:\n  " + "\n  ".join(canon))
    expect(g.fact("roundtrip") == "yes", "restore of a saved file does not save back identically")
    steps = ["initial", "after_syntax", "after_bad_restore", "after_bad_verdict", "after_bad_batch",
             "after_bad_del", "after_bad_policy", "reloaded"]
    for s in steps:
        expect(g.fact("same:" + s) == "yes", f"{s}: the rules differ from the saved set")
        expect_blocked(g, "ext:" + s)
        expect_ok(g, "c1c2:" + s, "c2")
    for name, code in [("rej_syntax", 2), ("rej_restore", 2), ("rej_del", 1)]:
        rc = ctl(g, name)[0]
        expect(rc == code, f"{name}: dockfwctl exited {rc}, want {code}")
    for name, want in (("nl:rej_verdict", "NLERR 34 integer out of range"),
                       ("nl:rej_policy", "NLERR 34 integer out of range"),
                       ("nl:rej_batch", "NLOK|NLERR 22 port range maximum without a minimum|NLOK|")):
        expect(g.fact(name) == want, f"{name}: {g.fact(name)!r}, want {want!r}")
    # After reload, the drop is by the saved rule id, at FORWARD.
    no_ext = next(l for l in body if "no_ext" in l)
    rid = re.match(r"id (\d+) ", no_ext).group(1)
    after = g.parse_events(g.dmesg_after("reloaded"))
    drops = [e for e in after if e.verdict == "drop"]
    expect(drops and all((e.hook, e.rule) == ("FORWARD", rid) for e in drops),
           f"after reload, drops should be FORWARD by rule {rid}: {drops[:3]}")
