# SPDX-License-Identifier: GPL-2.0
"""Checks of the robust_replace scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403
from robustcheck import *  # noqa: F401,F403

# Guest time limit (seconds) at the small size; run.py scales it.
TIMEOUT = 300


def check(g):
    m = int(g.fact("per_sender"))
    # The test kernel must boot with both CPUs (ACPI), and both must have
    # received a large share of the flood: otherwise this is a one-CPU test.
    expect(g.fact("cpus") == "2", f"guest has {g.fact('cpus')} CPUs, want 2")
    rx0 = list(map(int, g.fact("net_rx_before").split()))
    rx1 = list(map(int, g.fact("net_rx_after").split()))
    per_cpu = [b - a for a, b in zip(rx0, rx1)]
    expect(len(per_cpu) == 2 and min(per_cpu) > 100,
           f"NET_RX softirqs per CPU during the flood: {per_cpu} (each CPU must carry traffic)")
    expect(g.fact("replace_failures") == "0", f"{g.fact('replace_failures')} replaces failed")
    reps = int(g.fact("replaces"))
    expect(reps >= 4, f"only {reps} replaces while traffic flowed")
    rules = {r["id"]: r for r in ctl_json(g, "list_after")}
    expect(1 in rules and 2 in rules, f"rules 1 and 2 did not survive the replaces: {sorted(rules)}")
    in0, np0, err0 = map(int, g.fact("udp_before").split())
    in1, np1, err1 = map(int, g.fact("udp_after").split())
    delivered, errors = in1 - in0, (err1 - err0) + (np1 - np0)
    rx = num(g, "received")
    sent = num(g, "sent1") + num(g, "sent2")
    p1 = rules[1]["packets"]
    # Every datagram the rule counted at c2's LOCAL_IN reached UDP: it was
    # delivered to the socket or dropped by UDP itself (receive buffer full,
    # or no socket yet: InErrors, NoPorts).
    expect(p1 == delivered + errors,
           f"rule 1 counted {p1} packets; c2's UDP took {delivered} and dropped {errors} (sum {delivered + errors})")
    expect(rx == delivered, f"the receiver read {rx} datagrams, UDP delivered {delivered}")
    expect(p1 <= sent and p1 > sent // 2, f"rule 1 counted {p1} of {sent} sent ({m} per sender)")
    expect(rules[1]["bytes"] == p1 * 92, f"rule 1 bytes {rules[1]['bytes']} != {p1} x 92")
    # The only drops are rule 2's, one per datagram to 9993.
    before, after = ctl_json(g, "stats_before"), ctl_json(g, "stats_after")
    sent3 = num(g, "sent3")
    expect(rules[2]["packets"] == sent3, f"rule 2 counted {rules[2]['packets']} of {sent3} datagrams to 9993")
    expect(after["dropped"] - before["dropped"] == sent3,
           f"dockfw dropped {after['dropped'] - before['dropped']} packets, the rules explain {sent3}")
    expect(after["generation"] - before["generation"] == reps,
           f"{reps} replaces bumped the generation by {after['generation'] - before['generation']}")
