# SPDX-License-Identifier: GPL-2.0
"""Checks of the docker_bridge scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403
from dockercheck import *  # noqa: F401,F403

# Guest time limit (seconds) at the small size; run.py scales it.
TIMEOUT = 360


def check(g):
    expect_engine(g)
    expect(g.fact("bridge_nf_default") == "1",
           f"bridge-nf-call-iptables is {g.fact('bridge_nf_default')} after the engine started, want 1")
    left, right = g.fact("ip:left"), g.fact("ip:right")
    for nf, host in (("1", ["PRE_ROUTING", "FORWARD", "POST_ROUTING"]), ("0", [])):
        what = f"bridge-nf-call-iptables={nf}"
        expect_served(g, f"c2c_nf{nf}", "right", left)
        evs = events_after(g, f"nf{nf}", f"nf{nf}_end")
        syn = next((e for e in evs if e.ns == "left" and e.hook == "LOCAL_OUT" and e.flags == "S"
                    and e.dst == f"{right}:8080"), None)
        expect(syn is not None, f"{what}: the SYN was not traced leaving left")
        expect_hooks(evs, syn, [("left", "LOCAL_OUT"), ("left", "POST_ROUTING")] + [("init", h) for h in host]
                     + [("right", "PRE_ROUTING"), ("right", "LOCAL_IN")], f"{what}: the SYN left -> right")
        synack = next((e for e in evs if e.ns == "right" and e.hook == "LOCAL_OUT" and e.flags == "S."
                       and e.src == f"{right}:8080"), None)
        expect(synack is not None, f"{what}: the SYN-ACK was not traced leaving right")
        expect_hooks(evs, synack, [("right", "LOCAL_OUT"), ("right", "POST_ROUTING")] + [("init", h) for h in host]
                     + [("left", "PRE_ROUTING"), ("left", "LOCAL_IN")], f"{what}: the SYN-ACK right -> left")
        if host:
            fwd = next(e for e in path_in(evs, syn) if e.hook == "FORWARD")
            # br_netfilter presents the bridge as both devices.
            expect((fwd.indev, fwd.outdev) == ("docker0", "docker0"),
                   f"{what}: the host's FORWARD saw in/out {fwd.indev}/{fwd.outdev}, want docker0/docker0")
