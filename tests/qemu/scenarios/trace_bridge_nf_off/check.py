# SPDX-License-Identifier: GPL-2.0
"""Checks of the trace_bridge_nf_off scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403


def check(g):
    bridge_path(g, [])
    # Only the c1<->c2 TCP flow: init_net has IPv6 neighbour discovery of
    # its own on veth-ext, which is not container traffic.
    in_init = [e for e in g.events if e.init and e.proto == "TCP"]
    expect(not in_init, "with bridge-nf-call-iptables=0 init_net must see none of the container traffic, saw:\n" +
           "\n".join("  " + e.line for e in in_init[:5]))
