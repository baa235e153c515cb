# SPDX-License-Identifier: GPL-2.0
"""Checks of the stream_bridge scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403


def check(g):
    expect_ok(g, "off_c1_to_c2", "c2")
    expect_ok(g, "on_c1_to_c2", "c2")
    for name, init in [("off", []), ("on", ["PRE_ROUTING", "FORWARD", "POST_ROUTING"])]:
        evs, _ = stream_events(g, name)
        s = Stream(g, evs)
        syn = s.find(f"the SYN c1 -> c2 (br_netfilter {name})", ns="c1", hook="LOCAL_OUT", dst="172.17.0.3:8080", flags="S")
        want = [("c1", "LOCAL_OUT"), ("c1", "POST_ROUTING")] + [("init", h) for h in init] + \
               [("c2", "PRE_ROUTING"), ("c2", "LOCAL_IN")]
        expect_path(s, syn, want, f"bridge-nf-call-iptables {name}")
