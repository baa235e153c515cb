# SPDX-License-Identifier: GPL-2.0
"""Checks of the filter_bridge scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403


def check(g):
    host_rule = added_id(g, "host_fwd")
    expect_ok(g, "nf_off_c1_to_c2", "c2")
    expect_blocked(g, "nf_on_c1_to_c2")
    expect_ok(g, "nf_on_c2_to_c1", "c1")
    drops_only_at(g, "brnf-on", "brnf-off", "init", "FORWARD", host_rule)
    c2_rule = added_id(g, "c2_only")
    expect_blocked(g, "ns_c1_to_c2")
    expect_ok(g, "ns_c2_to_c1", "c1")
    expect_ok(g, "ns_ext_to_c1", "c1")
    d = g.find("the drop in c2's LOCAL_IN", hook="LOCAL_IN", verdict="drop", rule=str(c2_rule))
    expect(d.ns == "c2", f"the namespace-scoped rule dropped in {d.ns}")
    # Either way, as the README says: with bridge-nf-call-iptables 1 the
    # same rule still refuses c1 -> c2 in c2's LOCAL_IN, and only there.
    expect_blocked(g, "ns_on_c1_to_c2")
    expect_ok(g, "ns_on_c2_to_c1", "c1")
    on = drops_only_at(g, "ns-brnf-on", "ns-brnf-on-end", "c2", "LOCAL_IN", c2_rule)
    expect(any(e.ns == "init" and e.hook == "FORWARD" for e in on),
           "br_netfilter on, yet the host's FORWARD saw none of the bridged traffic")
    counted = [r["packets"] for r in ctl_json(g, "ns_counters") if r["id"] == c2_rule]
    expect(counted and counted[0] >= 2, f"the c2 rule counted {counted} packets, want a SYN of each phase at least")
