# SPDX-License-Identifier: GPL-2.0
"""Checks of the filter_ipv6 scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403


def check(g):
    expect_ok(g, "v6_before", "c2")
    expect("fd00::2" in g.outcome("v6_before"), f"c2 did not see c1's IPv6 address: {g.outcome('v6_before')}")
    rid = added_id(g, "v6_drop")
    expect_blocked(g, "v6_after")
    expect_ok(g, "v4_after", "c2")
    syn = g.find("the IPv6 SYN before the rule", family="ipv6", ns="c1", hook="LOCAL_OUT", dst="[fd00::3]:8080", flags="S")
    expect_path(g, syn, [("c1", "LOCAL_OUT"), ("c1", "POST_ROUTING"), ("c2", "PRE_ROUTING"), ("c2", "LOCAL_IN")],
                "IPv6 SYN c1 -> c2")
    drop = g.find("the IPv6 drop", family="ipv6", verdict="drop")
    expect((drop.ns, drop.hook, drop.rule) == ("c1", "LOCAL_OUT", str(rid)),
           f"the ip6 rule dropped at {drop.ns} {drop.hook} by rule {drop.rule}: the first hook is c1 LOCAL_OUT")
    v4 = [e for e in g.events if e.family == "ipv4" and e.verdict == "drop"]
    expect(not v4, f"the ip6 rule dropped IPv4 packets: {v4[:2]}")
    rules = ctl_json(g, "list")
    expect(rules[0]["packets"] >= 1 and rules[0]["family"] in ("ipv6", "ip6"), f"rule listed as {rules[0]}")
