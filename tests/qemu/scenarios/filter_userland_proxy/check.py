# SPDX-License-Identifier: GPL-2.0
"""Checks of the filter_userland_proxy scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403


def check(g):
    expect_ok(g, "before_rules", "c1")
    expect("172.17.0.1" in g.outcome("before_rules"), "the connection did not go through the host proxy")
    allow, deny = added_id(g, "allow"), added_id(g, "deny")
    expect_ok(g, "allowed", "c1")
    expect_blocked(g, "refused")
    expect_ok(g, "published_still_open", "c1")
    drop = g.find("the refused SYN dropped at LOCAL_IN", hook="LOCAL_IN", verdict="drop",
                  src=lambda s: s.startswith("10.0.0.2:"))
    expect(drop.ns == "init" and drop.dst == "10.0.0.1:80" and drop.rule == str(deny),
           f"drop at {drop.ns} {drop.dst} by rule {drop.rule}")
    acc = g.find("the allowed SYN at LOCAL_IN", hook="LOCAL_IN", verdict="accept",
                 src=lambda s: s.startswith("172.16.0.2:"), flags="S")
    expect(acc.rule == str(allow), f"allowed by rule {acc.rule}, want {allow}")
