# SPDX-License-Identifier: GPL-2.0
"""Checks of the filter_published_port scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403


def check(g):
    # The classic mistake: the INPUT rule on port 80 never sees the packet.
    expect_ok(g, "iptables_from_ext", "c1")
    allow, deny = added_id(g, "allow"), added_id(g, "deny")
    expect_ok(g, "allowed", "c1")
    expect("172.16.0.2" in g.outcome("allowed"), "the allowed client is not who c1 saw")
    expect_blocked(g, "refused")
    # Docker keeps working: container to container, host to container,
    # container outbound through MASQUERADE (ext sees the host address).
    expect_ok(g, "c1_to_c2", "c2")
    expect_ok(g, "host_to_c1", "c1")
    expect_ok(g, "c1_outbound", "ext")
    expect("10.0.0.1" in g.outcome("c1_outbound"), "outbound traffic was not masqueraded")
    # Where it was decided: FORWARD, after DNAT, on the original port.
    drop = g.find("the refused SYN dropped at FORWARD", hook="FORWARD", verdict="drop",
                  src=lambda s: s.startswith("10.0.0.2:"))
    expect(drop.rule == str(deny), f"dropped by rule {drop.rule}, want {deny}")
    expect(drop.dst == "172.17.0.2:8080", f"the dropped packet was going to {drop.dst}")
    expect(drop.orig is not None and drop.orig.endswith("->10.0.0.1:80"), f"orig tuple {drop.orig}")
    reached = [e for e in g.events if e.ns == "c1" and e.src.startswith("10.0.0.2:")]
    expect(not reached, f"the refused client reached c1: {reached[:2]}")
    acc = g.find("the allowed SYN at FORWARD", hook="FORWARD", verdict="accept",
                 src=lambda s: s.startswith("172.16.0.2:"), flags="S")
    expect(acc.rule == str(allow), f"allowed by rule {acc.rule}, want {allow}")
    rules = ctl_json(g, "list")
    expect(len(rules) == 2, f"{len(rules)} rules listed, want 2")
    expect(rule_by_id(rules, deny)["packets"] >= 1, "the deny rule counted no packet")
    expect(rule_by_id(rules, allow)["packets"] >= 3, "the allow rule counted fewer packets than a TCP exchange")
