# SPDX-License-Identifier: GPL-2.0
"""Checks of the stream_dnat scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403


def check(g):
    expect_ok(g, "ext_to_published", "c1")
    rule = added_id(g, "rule")
    evs, err = stream_events(g, "json")
    expect(re.search(r"^\d+ events, 0 lost", err, re.M), f"trace summary: {err!r}")
    s = Stream(g, evs)
    syn = s.find("the SYN in the stream", ns="init", hook="PRE_ROUTING", dst="10.0.0.1:8081", flags="S")
    want = [("ext", "LOCAL_OUT"), ("ext", "POST_ROUTING"), ("init", "PRE_ROUTING"), ("init", "FORWARD"),
            ("init", "POST_ROUTING"), ("c1", "PRE_ROUTING"), ("c1", "LOCAL_IN")]
    path = s.path_of(syn)
    expect_path(s, syn, want, "SYN through the stream")
    fwd = path[3].d
    expect((fwd["daddr"], fwd["dport"], fwd["orig_daddr"], fwd["orig_dport"]) == ("172.17.0.2", 8080, "10.0.0.1", 8081),
           f"FORWARD event: {fwd['daddr']}:{fwd['dport']} orig {fwd['orig_daddr']}:{fwd['orig_dport']}")
    expect(fwd["ct_state"] == "new" and fwd["ct_dnat"] and not fwd["ct_reply"], f"FORWARD conntrack: {fwd}")
    expect((fwd["verdict"], fwd["rule_id"]) == ("accept", rule), f"FORWARD decided by {fwd['rule_id']}, want rule {rule}")
    others = [e for e in path if e is not path[3]]
    expect(all(e.rule is None and e.verdict == "accept" for e in others), "only FORWARD matches the rule (forward hook)")
    ts = [e.d["ts_ns"] for e in path]
    expect(ts == sorted(ts), "event timestamps go backwards along one packet's path")
    synack = s.find("the SYN-ACK", ns="c1", hook="LOCAL_OUT", src="172.17.0.2:8080", flags="S.")
    rpath = s.path_of(synack)
    expect([e.where() for e in rpath] == [("c1", "LOCAL_OUT"), ("c1", "POST_ROUTING"), ("init", "PRE_ROUTING"),
                                          ("init", "FORWARD"), ("init", "POST_ROUTING"), ("ext", "PRE_ROUTING"),
                                          ("ext", "LOCAL_IN")], f"reply path {rpath}")
    expect(rpath[3].d["ct_reply"] and rpath[5].src == "10.0.0.1:8081", f"reply: {rpath[3].d} then {rpath[5]}")
    # The summary a person reads instead of reconstructing it by hand.
    rc, out, err = trace_run(g, "explain")
    expect(rc == 0, f"--explain exited {rc}: {err}")
    for line in ["flow TCP 10.0.0.2:", "  request: ext:LOCAL_OUT -> ext:POST_ROUTING -> host:PRE_ROUTING -> host:FORWARD "
                 "-> host:POST_ROUTING -> c1:PRE_ROUTING -> c1:LOCAL_IN\n",
                 "  DNAT: 10.0.0.1:8081 -> 172.17.0.2:8080 between host:PRE_ROUTING and host:FORWARD\n",
                 "  reply: c1:LOCAL_OUT -> c1:POST_ROUTING -> host:PRE_ROUTING -> host:FORWARD -> host:POST_ROUTING "
                 "-> ext:PRE_ROUTING -> ext:LOCAL_IN\n",
                 f"  decided by: rule {rule} (accept) at host:FORWARD\n"]:
        expect(line in out, f"--explain lacks {line!r}:\n{out[-1500:]}")
    other, err = stream_events(g, "other")
    expect(not other and err.splitlines()[-1].startswith("0 events"),
           f"a session tracing udp 5353 saw {len(other)} events of the others")
    expect(g.fact("filters_while_tracing") == "9", f"{g.fact('filters_while_tracing')} filters, want 4 + 4 + 1")
    expect(g.fact("filters_after") == "0", "filters left after every session stopped")
    st = ctl_json(g, "stats")
    expect(st["trace_events"] > 0 and st["trace_lost"] == 0, f"kernel trace stats {st}")
