# SPDX-License-Identifier: GPL-2.0
"""Checks of the filter_replace_counters scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403


def check(g):
    expect(g.fact("udp_received") == "RECEIVED 200", f"udp: {g.fact('udp_received')}")
    rules = ctl_json(g, "counters")
    expect(len(rules) == 1, f"{len(rules)} rules")
    # 200 datagrams of 64 bytes: each counted once (LOCAL_IN in c2), with
    # the IP length 20 + 8 + 64.
    expect((rules[0]["packets"], rules[0]["bytes"]) == (200, 200 * 92),
           f"counters {rules[0]['packets']} packets / {rules[0]['bytes']} bytes, want 200 / {200 * 92}")
    expect(g.fact("replace_failures") == "0", f"{g.fact('replace_failures')} replaces failed")
    before, after = ctl_json(g, "stats_before"), ctl_json(g, "stats_after")
    expect(after["packets"] - before["packets"] > 500, "no real traffic flowed during the replaces")
    expect(after["dropped"] == before["dropped"],
           f"{after['dropped'] - before['dropped']} datagrams dropped during atomic replaces")
    # The same from the kernel's own counters: c1's UDP sent = c2's UDP
    # layer reached, delivered (InDatagrams) or refused (InErrors, which
    # includes the RcvbufErrors of a full socket buffer).
    sent = int(g.fact("snmp_c1_after")) - int(g.fact("snmp_c1_before"))
    b = [int(x) for x in g.fact("snmp_c2_before").split()]
    a = [int(x) for x in g.fact("snmp_c2_after").split()]
    reached = (a[0] + a[1]) - (b[0] + b[1])
    backlog = backlog_drops(g)
    expect(sent > 500, f"c1 sent only {sent} datagrams during the replaces (/proc/net/snmp)")
    expect(reached + backlog == sent, f"c1 sent {sent} datagrams, c2's UDP saw {reached} (in, errors, rcvbuf deltas "
                                      f"{[x - y for x, y in zip(a, b)]}) and the input backlogs dropped {backlog}: "
                                      f"{sent - reached - backlog} lost during atomic replaces")
    expect(after["generation"] - before["generation"] == 50, "50 replaces should bump the generation by 50")
    saved = ctl_ok(g, "after_replace")
    body = [l for l in saved.splitlines() if l and not l.startswith("#")]
    expect(len(body) == 2 and not any("comment B" in l for l in body), f"set A expected last, saved:\n{saved}")
    expect(g.fact("big_ids") == "20000", f"list --json showed {g.fact('big_ids')} rules, want 20000")
    expect(g.fact("big_saved") == "20000", f"save printed {g.fact('big_saved')} rules")
    first, last = g.fact("big_first_last").strip("|").split("|")
    expect(first.endswith("tcp dport 20000 comment r0 accept") and last.endswith("tcp dport 39999 comment r19999 accept"),
           f"dump order: first {first!r} last {last!r}")
    expect(g.fact("big_diff") == "0", f"save differs from the restored file in {g.fact('big_diff')} lines")
    expect(g.fact("big_ids_ascending") == "yes", "save's 20000 ids are not strictly ascending")
    expect(ctl_json(g, "stats_big")["rules"] == 20000, "stats does not count 20000 rules")
    expect(ctl_json(g, "empty") == [], "flush left rules behind")
    expect(ctl_json(g, "stats_empty")["rules"] == 0, "stats counts rules after flush")
