# SPDX-License-Identifier: GPL-2.0
"""Checks of the robust_packets scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403
from robustcheck import *  # noqa: F401,F403

# Guest time limit (seconds) at the small size; run.py scales it.
TIMEOUT = 200


def check(g):
    sent = dict(re.findall(r"^CRAFT CASE (\S+) (sent|refused \d+)", g.script, re.M))
    expect(set(sent) == set(PACKET_CASES), f"cases reported: {sorted(sent)}")
    window = g.dmesg_after("craft")
    evs = g.parse_events(window[:window.find("DFW-MARK craft-end")])
    rule_udp = g.fact("rule_udp")
    problems = []
    malformed_want = 0
    for name, c in PACKET_CASES.items():
        if "refused" in c:
            # A case the kernel must refuse to send, always (not "skipped
            # when refused"): anything else is a finding.
            if sent[name] != c["refused"]:
                problems.append(f"{name}: {sent[name]!r}, want the kernel's {c['refused']!r}")
            continue
        if sent[name] != "sent":
            problems.append(f"{name}: the kernel refused to send it ({sent[name]})")
            continue
        mine = case_events(evs, c)
        malformed_want += c.get("malformed", 0)
        if c["where"] is None:
            if mine:
                problems.append(f"{name}: traced, but it must not reach a hook that parses it: {mine[0].line}")
            continue
        at = [e for e in mine if e.where() == c["where"]]
        if c["shape"] == "fragment":
            at = [e for e in at if " fragment" in e.line]
        elif c.get("first"):
            at = [e for e in at if " fragment" not in e.line]
        if len(at) != 1:
            problems.append(f"{name}: {len(at)} trace lines at {c['where']}, want 1; its lines: "
                            + "; ".join(e.line for e in mine[:4]))
            continue
        e = at[0]
        want_v, want_r = ("drop", rule_udp) if c["verdict"] == "drop:udp" else ("accept", "-")
        if (e.verdict, e.rule) != (want_v, want_r):
            problems.append(f"{name}: verdict={e.verdict} rule={e.rule}, want {want_v} rule={want_r}: {e.line}")
        shape_ok = {
            "fragment": " fragment" in e.line,
            "truncated": " truncated" in e.line,
            "ports": e.dst.endswith(":7777") or e.dst.endswith(":9"),
            "icmp": "ICMP" in e.proto and "type=" in e.line,
        }[c["shape"]]
        if not shape_ok:
            problems.append(f"{name}: seen as {e.line!r}, want {c['shape']}")
    # No reassembled datagram of the overlapping fragments reached LOCAL_IN.
    over = [e for e in evs if e.hook == "LOCAL_IN" and re.search(r"\bipid=4103\b", e.line)]
    if over:
        problems.append(f"overlapping fragments were reassembled and delivered: {over[0].line}")
    before, after = ctl_json(g, "stats_before"), ctl_json(g, "stats_after")
    got = after["malformed"] - before["malformed"]
    if got != malformed_want:
        problems.append(f"malformed counted {got} times, the corpus explains {malformed_want}")
    drops = after["dropped"] - before["dropped"]
    want_drops = sum(1 for c in PACKET_CASES.values() if c.get("verdict") == "drop:udp")
    if drops != want_drops:
        problems.append(f"dockfw dropped {drops} packets, the rules explain {want_drops}")
    expect(not problems, "hostile packets:\n  " + "\n  ".join(problems))
    # GSO: all bytes crossed, and LOCAL_OUT in c1 saw skbs larger than a
    # segment (the rule's bytes per packet exceed the MTU).
    bulk = int(g.fact("bulk"))
    expect(g.fact("bulk_sent").startswith(f"SENT {bulk} ACKED {bulk}"), f"bulk: {g.fact('bulk_sent')!r}")
    expect(g.fact("bulk_received") == f"RECEIVED {bulk}", f"bulk: {g.fact('bulk_received')!r}")
    rules = {r["id"]: r for r in ctl_json(g, "bulk_list")}
    ro, ri = rules[int(g.fact("rule_out"))], rules[int(g.fact("rule_in"))]
    expect(ro["bytes"] >= bulk and ri["bytes"] >= bulk,
           f"counters below the bytes sent: out {ro['bytes']}, in {ri['bytes']}, sent {bulk}")
    expect(ro["bytes"] / max(ro["packets"], 1) > 1500,
           f"c1 LOCAL_OUT saw {ro['packets']} packets for {ro['bytes']} bytes: no GSO skb went through")
