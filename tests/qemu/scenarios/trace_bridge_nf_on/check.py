# SPDX-License-Identifier: GPL-2.0
"""Checks of the trace_bridge_nf_on scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403


def check(g):
    path = bridge_path(g, ["PRE_ROUTING", "FORWARD", "POST_ROUTING"])
    pre, fwd, post = path[2], path[3], path[4]
    # br_netfilter presents the bridge itself as the logical device.
    expect(pre.indev == "docker0", f"init PRE_ROUTING in={pre.indev}, want docker0")
    expect((fwd.indev, fwd.outdev) == ("docker0", "docker0"), f"init FORWARD in/out {fwd.indev}/{fwd.outdev}")
    expect(post.outdev == "docker0", f"init POST_ROUTING out={post.outdev}, want docker0")
    expect(fwd.dst == "172.17.0.3:8080", f"bridged FORWARD saw {fwd.dst}")
