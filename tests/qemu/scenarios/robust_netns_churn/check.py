# SPDX-License-Identifier: GPL-2.0
"""Checks of the robust_netns_churn scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403
from robustcheck import *  # noqa: F401,F403

# Guest time limit (seconds) at the small size; run.py scales it.
TIMEOUT = 300


def check(g):
    n = int(g.fact("churn_n"))
    expect(g.fact("batches_mismatched") == "0",
           f"{g.fact('batches_mismatched')} batches where hooked_netns != live namespaces (of {n // 10})")
    live = int(g.fact("live_netns"))
    expect(live == 4, f"{live} namespaces alive at the end, want 4 (init, c1, c2, ext)")
    expect(int(g.fact("hooked_param")) == live,
           f"hooked_netns (parameter) {g.fact('hooked_param')} after {n} namespaces came and went, want {live}")
    st = ctl_json(g, "stats")
    expect(st["hooked_netns"] == live, f"dockfwctl stats hooked_netns {st['hooked_netns']}, want {live}")
    # hook_cost=1 wants every hook (10 per namespace); the namespaces that
    # went away took theirs with them.
    expect(st["hooks_registered"] == 10 * live,
           f"dockfwctl stats hooks_registered {st['hooks_registered']}, want 10 in each of {live} namespaces")
    expect(st["dropped"] == 0, f"dockfw dropped {st['dropped']} packets with no rule loaded")
    expect(st["malformed"] == 0, f"{st['malformed']} packets did not parse")
    rx = num(g, "flood_received")
    expect(rx > 1000, f"the flood delivered only {rx} datagrams during the churn")
    expect(g.fact("pings_failed") == "0", f"{g.fact('pings_failed')} pings from a fresh namespace to the host failed")
    expect(g.fact("tx_failures") == "0", f"{g.fact('tx_failures')} bursts of the flood sender failed")
    # With no rule every call takes the fast path and `packets` stays 0;
    # the scenario loads dockfw with hook_cost=1, which counts every call.
    expect(st["hook_calls"] >= rx, f"the hooks ran {st['hook_calls']} times, fewer than the {rx} datagrams the flood delivered")
    expect(st["packets"] == 0, f"{st['packets']} hook calls went past the fast path with no rule, filter or trace")
    expect_ok(g, "c1_to_c2_after", "c2")
