# SPDX-License-Identifier: GPL-2.0
"""Checks of the trace_ratelimit scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403


def check(g):
    expect(g.fact("udp_received") == "RECEIVED 300", f"the flood lost packets: {g.fact('udp_received')}")
    flood = [e for e in g.events if e.proto == "UDP" and e.dst.endswith(":9999")]
    expect(len(flood) == 20, f"{len(flood)} trace lines for 300 datagrams x 4 hooks, want exactly the burst of 20")
    expect(len(g.events) == 20, f"{len(g.events)} trace lines in all, want only the flood's 20")
