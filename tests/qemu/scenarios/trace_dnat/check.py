# SPDX-License-Identifier: GPL-2.0
"""Checks of the trace_dnat scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403


def check(g):
    expect_ok(g, "ext_to_published", "c1")
    expect(g.fact("hooked_netns") == "4", f"hooks in {g.fact('hooked_netns')} namespaces, want 4 (init, c1, c2, ext)")
    syn = g.find("the SYN to host:8081 in init_net PRE_ROUTING", ns="init", hook="PRE_ROUTING",
                 dst="10.0.0.1:8081", flags="S")
    expect(syn.indev == "veth-ext", f"SYN came in on {syn.indev}, want veth-ext")
    want = [("ext", "LOCAL_OUT"), ("ext", "POST_ROUTING"), ("init", "PRE_ROUTING"), ("init", "FORWARD"),
            ("init", "POST_ROUTING"), ("c1", "PRE_ROUTING"), ("c1", "LOCAL_IN")]
    path = g.path_of(syn)
    expect_path(g, syn, want, "SYN ext -> host:8081")
    fwd = path[3]
    # After nat PREROUTING the destination is the container: what filter
    # FORWARD (and DOCKER-USER) sees; only conntrack remembers port 8081.
    expect(fwd.dst == "172.17.0.2:8080", f"FORWARD saw {fwd.dst}, want the DNAT target 172.17.0.2:8080")
    expect(fwd.outdev == "docker0", f"FORWARD out={fwd.outdev}, want docker0")
    expect(fwd.ct == "new" and fwd.dnat == "1", f"FORWARD conntrack: ct={fwd.ct} dnat={fwd.dnat}")
    expect(fwd.orig is not None and fwd.orig.endswith("->10.0.0.1:8081"),
           f"FORWARD orig tuple {fwd.orig}, want the published 10.0.0.1:8081")
    expect(path[4].dst == "172.17.0.2:8080" and path[4].outdev == "docker0", f"POST_ROUTING: {path[4]}")
    expect(path[5].dst == "172.17.0.2:8080" and path[5].indev == "eth0", f"c1 PRE_ROUTING: {path[5]}")
    # The reply: leaves c1 from 8080, is un-DNATed after init POST_ROUTING.
    synack = g.find("the SYN-ACK from c1", ns="c1", hook="LOCAL_OUT", src="172.17.0.2:8080", flags="S.")
    want = [("c1", "LOCAL_OUT"), ("c1", "POST_ROUTING"), ("init", "PRE_ROUTING"), ("init", "FORWARD"),
            ("init", "POST_ROUTING"), ("ext", "PRE_ROUTING"), ("ext", "LOCAL_IN")]
    rpath = g.path_of(synack)
    expect_path(g, synack, want, "SYN-ACK c1 -> ext")
    expect(rpath[2].indev == "docker0", f"reply entered init_net on {rpath[2].indev}, want docker0")
    expect(rpath[4].src == "172.17.0.2:8080", f"init POST_ROUTING (before NAT) saw src {rpath[4].src}")
    expect(rpath[5].src == "10.0.0.1:8081", f"ext saw the reply from {rpath[5].src}, want 10.0.0.1:8081")
