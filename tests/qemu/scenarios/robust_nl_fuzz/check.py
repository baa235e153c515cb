# SPDX-License-Identifier: GPL-2.0
"""Checks of the robust_nl_fuzz scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403
from robustcheck import *  # noqa: F401,F403

# Guest time limit (seconds) at the small size; run.py scales it.
TIMEOUT = 300


def check(g):
    n = int(g.fact("requests"))
    gen0 = g.fact("gen_before")
    nobody = fuzz_result(g, "nobody")
    expect(nobody["updates"] == 0 and nobody["acked"] == 0 and nobody["data"] == 0,
           f"an unprivileged fuzzer got answers: {nobody}")
    # EPERM for every known command; unknown commands (EOPNOTSUPP) and
    # broken genl headers (EINVAL) are refused before the permission check.
    expect(set(nobody["errnos"]) <= {1, 22, 95} and nobody["errnos"].get(1, 0) > n // 2,
           f"unprivileged requests must get EPERM: {nobody['errnos']}")
    expect(nobody["errors"] + nobody["noreply"] == n, f"unprivileged: {nobody}")
    expect(g.fact("unchanged_nobody") == "yes" and g.fact("gen_nobody") == gen0,
           "the unprivileged fuzzer changed the rules or the generation")
    cont = fuzz_result(g, "container")
    expect(cont["updates"] == 0 and cont["acked"] == 0 and cont["data"] == 0,
           f"the fuzzer in a container namespace got answers: {cont}")
    expect(set(cont["errnos"]) <= {1, 2, 95}, f"container namespace: {cont['errnos']}")
    expect(g.fact("unchanged_container") == "yes" and g.fact("gen_container") == gen0,
           "the fuzzer in a container namespace changed the rules")
    for who in ("root", "root2"):
        r = fuzz_result(g, who)
        expect(r["snapshots"] == "yes", f"fuzz as {who} could not read the state")
        expect(r["checked"] > n // 2, f"fuzz as {who}: only {r['checked']} requests checked against the state")
        expect(r["errors"] > n // 4, f"fuzz as {who}: only {r['errors']} refusals, the corpus is too tame: {r}")
        expect(r["acked"] + r["data"] > 0, f"fuzz as {who}: nothing was accepted, the corpus is too wild: {r}")
    expect(g.fact("filters_after") == "0", f"{g.fact('filters_after')} trace filters outlived the fuzzer's socket")
    expect(g.fact("same_rules_again") == "yes", "restoring the seed after the fuzzing gave other rules")
    expect_blocked(g, "ext_blocked")
    expect_ok(g, "c1_to_c2", "c2")
