# SPDX-License-Identifier: GPL-2.0
"""Checks of the docker_named scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403
from dockercheck import *  # noqa: F401,F403

# Guest time limit (seconds) at the small size; run.py scales it.
TIMEOUT = 400


def check(g):
    """to-container rules resolved through the engine; `dockfwctl watch`
    moves them when web is removed and recreated at another address, never
    leaves them on the old one (which another container took), and makes
    them inactive when web stops."""
    import json
    from qemucheck import ctl, ctl_ok, stream_events
    ip1, ip2, sq = g.fact("web_ip_1"), g.fact("web_ip_2"), g.fact("squatter_ip")
    expect(ip1 != ip2, f"web came back at its old address {ip1}: the scenario proves nothing")
    expect(sq == ip1, f"the squatter got {sq}, not web's old address {ip1}")
    allow, deny, inns = rule_id(g, "allow"), rule_id(g, "deny"), rule_id(g, "inns")
    ns1, ns2 = int(g.fact("web_netns_1")), int(g.fact("web_netns_2"))
    expect(ns1 != ns2, "web's second life has the same namespace")

    # Resolution at add time; the name shown back; save re-resolvable.
    rc, _, err = ctl(g, "ghost")
    expect(rc == 6 and "no such container: ghost" in err, f"add to-container ghost: exit {rc}, {err.strip()!r}")
    rs = rules_by_id(g, "list1j")
    expect(sorted(rs) == sorted([allow, deny, inns]), f"rules after add: {sorted(rs)}, want {allow}, {deny}, {inns} (ghost added?)")
    expect(rs[inns]["in_container"] == "web" and rs[inns]["netns"] == ns1, f"in-container rule as added: {rs[inns]}")
    for rid in (allow, deny):
        r = rs[rid]
        expect(r["to_container"] == "web" and r["daddr"] == f"{ip1}/32" and not r["inactive"],
               f"rule {rid} as added: {r}")
        expect("to-container web" in r["rule"] and ip1 not in r["rule"], f"rule {rid} text: {r['rule']!r}")
    text = ctl(g, "list1")[1]
    expect(f"to-container web=" + ip1 in text and "to-container web saddr 172.16.0.0/24" in text,
           f"list does not show the name and its address:\n{text}")
    saved = ctl(g, "save")[1]
    expect("to-container web" in saved and ip1 not in saved, f"save prints the address, not the name:\n{saved}")
    expect("in-container web" in saved and str(ns1) not in saved, f"save prints the namespace, not the name:\n{saved}")

    # Traffic with the rules resolved to the first address.
    expect_served(g, "allowed1", "web", "172.16.0.2")
    expect_blocked(g, "refused1")

    # web removed: both rules inactive, no address left in them.
    rs_rm = rules_by_id(g, "list_rm")
    for rid in (allow, deny):
        r = rs_rm[rid]
        expect(r["inactive"] and r["daddr"] is None, f"rule {rid} after docker rm: {r}")
    expect(rs_rm[inns]["inactive"] and rs_rm[inns]["netns"] is None, f"in-container rule after docker rm: {rs_rm[inns]}")
    # The container now holding web's old address is not covered: the
    # external client the drop rule refused for web reaches it, and the
    # drop rule counted nothing meanwhile.
    expect_served(g, "squatter_ext", "squatter", "10.0.0.2")
    rs2 = rules_by_id(g, "list2")
    expect(rs2[deny]["packets"] == rs_rm[deny]["packets"],
           f"the drop rule counted {rs2[deny]['packets'] - rs_rm[deny]['packets']} packets while web was gone")

    # web back at a new address: the rules follow it.
    for rid in (allow, deny):
        r = rs2[rid]
        expect(r["daddr"] == f"{ip2}/32" and not r["inactive"], f"rule {rid} after web came back: {r}")
        expect(r["id"] == rid, "rule ids changed")
    expect(f"to-container web={ip2}" in ctl(g, "list2t")[1], "list does not show the new address")
    expect(rs2[inns]["netns"] == ns2 and not rs2[inns]["inactive"], f"in-container rule after web came back: {rs2[inns]}")
    expect_served(g, "allowed2", "web", "172.16.0.2")
    expect_blocked(g, "refused2")
    expect_served(g, "squatter_ext2", "squatter", "10.0.0.2")
    rs3 = rules_by_id(g, "list3")
    d_allow = rs3[allow]["packets"] - rs2[allow]["packets"]
    d_deny = rs3[deny]["packets"] - rs2[deny]["packets"]
    expect(d_allow >= 3, f"the allow rule counted {d_allow} packets of the allowed connection, fewer than a TCP exchange")
    # refused2's SYN and its retransmission; the squatter's connection (5+
    # packets) must not be among them.
    expect(1 <= d_deny <= 3, f"the drop rule counted {d_deny} packets, want the refused SYN(s) only (1-3)")
    expect(rs3[allow]["bytes"] > rs2[allow]["bytes"], "counters did not move")
    # web's own LOCAL_IN saw the allowed connection (and only it: the
    # refused one was dropped at the host's FORWARD, the squatter's went
    # to another namespace).
    d_ns = rs3[inns]["packets"] - rs2[inns]["packets"]
    expect(3 <= d_ns <= d_allow, f"the in-container rule counted {d_ns} packets, want the allowed connection's ({d_allow})")

    # The trace names web.
    evs, err = stream_events(g, "tr")
    raw = [json.loads(l) for l in base64.b64decode(g.fact("trace_out:tr")).decode().splitlines() if l.strip()]
    expect(raw, f"`dockfwctl trace to-container web` saw nothing: {err}")
    to_web = [d for d in raw if d["daddr"] == ip2]
    expect(to_web and all(d["daddr_container"] == "web" for d in to_web),
           f"trace events to {ip2} do not name web: {[d['daddr_container'] for d in to_web][:5]}")
    in_web = [d for d in raw if not d["netns_init"] and d["netns_container"] == "web"]
    expect(in_web, f"no trace event names web's namespace: {[(d['netns'], d['netns_container']) for d in raw][:8]}")
    expect(not any(d["daddr"] == sq for d in raw), "the trace of web showed traffic to the squatter")

    # docker stop web: inactive; the squatter still reachable.
    rs_stop = rules_by_id(g, "list_stop")
    for rid in (allow, deny):
        r = rs_stop[rid]
        expect(r["inactive"] and r["daddr"] is None and r["to_container"] == "web", f"rule {rid} after docker stop: {r}")
    expect(rs_stop[inns]["inactive"] and rs_stop[inns]["netns"] is None, f"in-container rule after docker stop: {rs_stop[inns]}")
    expect_served(g, "squatter_ext3", "squatter", "10.0.0.2")

    # watch's log: one line per change, old -> new.
    log = b64fact(g, "watch_err")
    # (docker rm -f sends die before destroy: either reason may be logged.)
    for want in (f"to-container web={ip1} -> inactive (",
                 f"inactive -> to-container web={ip2}",
                 f"to-container web={ip2} -> inactive (container web is not running)"):
        n = log.count(want)
        expect(n == 2, f"watch logged {want!r} {n} times, want 2 (one per rule):\n{log}")
    expect(int(g.fact("watch_rc")) == 0, f"watch exited {g.fact('watch_rc')} on SIGTERM:\n{log}")
    expect(log.count(f"in-container web=netns {ns1} -> inactive (") == 1, f"watch did not log the in-container rule going inactive:\n{log}")
    expect(log.count(f"inactive -> in-container web=netns {ns2}") == 1, f"watch did not log the in-container rule following web:\n{log}")
    for k in ("rm", "start", "stop"):
        expect(int(g.fact("watch_ms:" + k)) < 10000, f"watch took {g.fact('watch_ms:' + k)} ms to follow docker {k}")


    # restore and add while web is stopped: inactive with a warning, ids
    # kept; watch --once activates them at web's current address.
    rc, _, err = ctl(g, "restore")
    expect(rc == 0 and err.count("container web is not running") == 3, f"restore with web stopped: exit {rc}: {err!r}")
    rr = rules_by_id(g, "list_restored")
    expect(sorted(rr) == sorted([allow, deny, inns]), f"restore kept ids {sorted(rr)}, want {allow}, {deny}, {inns}")
    expect(all(r["inactive"] and r["daddr"] is None and r["netns"] is None for r in rr.values()),
           f"restored rules of a stopped container are not all inactive: {rr}")
    rc, out, err = ctl(g, "addstopped")
    expect(rc == 0 and "container web is not running" in err and "inactive" in err, f"add with web stopped: exit {rc}: {err!r}")
    added = int(re.search(r"added rule (\d+)", out).group(1))
    ip3, ns3 = g.fact("web_ip_3"), int(g.fact("web_netns_3"))
    rc, _, err = ctl(g, "once")
    expect(rc == 0 and "synced: 4 rule(s) name containers, 4 changed" in err, f"watch --once: exit {rc}: {err!r}")
    ro = rules_by_id(g, "list_once")
    for rid in (allow, deny, added):
        expect(ro[rid]["daddr"] == f"{ip3}/32" and not ro[rid]["inactive"], f"rule {rid} after watch --once: {ro[rid]}")
    expect(ro[inns]["netns"] == ns3 and not ro[inns]["inactive"], f"in-container rule after watch --once: {ro[inns]}")

    # Two networks.
    rc, _, err = ctl(g, "front_missing")
    expect(rc == 6 and "container web is not on network front (its networks: bridge)" in err,
           f"add to-container web@front before connecting: exit {rc}: {err!r}")
    rc, _, err = ctl(g, "ambiguous")
    expect(rc == 6 and "container web is on several networks (bridge, front): name one as web@NETWORK" in err,
           f"add to-container web on two networks: exit {rc}: {err!r}")
    front_ip = g.fact("web_front_ip")
    expect(front_ip.startswith("172.30.0."), f"web's address on front: {front_ip!r}")
    front = int(re.search(r"added rule (\d+)", ctl_ok(g, "front_add")).group(1))
    rc, _, err = ctl(g, "once_front")
    expect(rc == 0 and "several networks (bridge, front)" in err, f"watch --once on two networks: exit {rc}: {err!r}")
    rf = rules_by_id(g, "list_front")
    expect(rf[front]["daddr"] == f"{front_ip}/32" and rf[front]["to_container"] == "web@front", f"web@front rule: {rf[front]}")
    for rid in (allow, deny, added):
        expect(rf[rid]["inactive"] and rf[rid]["daddr"] is None, f"rule {rid} (no @NETWORK) on two networks: {rf[rid]}")
    expect(rf[inns]["netns"] == ns3 and not rf[inns]["inactive"], "in-container needs no network")
    rb = rules_by_id(g, "list_back")
    expect(rb[front]["inactive"] and rb[front]["daddr"] is None, f"web@front after disconnect: {rb[front]}")
    for rid in (allow, deny, added):
        expect(rb[rid]["daddr"] == f"{ip3}/32" and not rb[rid]["inactive"], f"rule {rid} after disconnect: {rb[rid]}")
