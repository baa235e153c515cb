# SPDX-License-Identifier: GPL-2.0
"""Helpers of the robustness scenarios (robust_*).

Sizes come from dfwsize= on the guest's command line (run.py --size, or
DOCKFW_ROBUST_SIZE): `small` for CI, `full` for the sizes of the issue
(1000 namespaces, 100 load/unload cycles, 2 x 200 000 datagrams, 5000
fuzzed requests per run, a 64 MiB transfer). On the debug kernel (run.py
--debug) guest/init adds rmmod + a kmemleak scan after every scenario and
run.py fails any KASAN, lockdep, RCU, kmemleak or ref_tracker report.
"""
import re

from qemucheck import *  # noqa: F401,F403
from qemucheck import ctl, expect


def num(g, key):
    v = g.fact(key).split()
    expect(v and v[-1].isdigit(), f"{key}: not a number: {g.fact(key)!r}")
    return int(v[-1])


FUZZ = re.compile(r"FUZZ sent=(\d+) acked=(\d+) data=(\d+) errors=(\d+) noreply=(\d+) updates=(\d+) "
                  r"violations=(\d+) checked=(\d+) snapshots=(\w+) errnos=([0-9:,]+|-)")
# What a refusal may say: EPERM, ENOENT, E2BIG, EBUSY, EINVAL, ERANGE,
# EMSGSIZE, EOPNOTSUPP, ENOSPC (too many rules), ENOMEM never expected.
ALLOWED_ERRNOS = {1, 2, 7, 16, 22, 28, 34, 90, 95}


def fuzz_result(g, who):
    text = g.fact("fuzz:" + who)
    viol = [l for l in text.split("|") if l.startswith("VIOLATION")]
    expect(not viol, f"fuzz as {who}: {len(viol)} violations:\n  " + "\n  ".join(viol[:10]))
    m = FUZZ.search(text)
    expect(m is not None, f"fuzz as {who} printed no summary: {text[:300]!r}")
    r = dict(zip(["sent", "acked", "data", "errors", "noreply", "updates", "violations", "checked"],
                 map(int, m.groups()[:8])))
    r["snapshots"] = m.group(9)
    r["errnos"] = {} if m.group(10) == "-" else {int(k): int(v) for k, v in
                                                (x.split(":") for x in m.group(10).split(","))}
    bad = set(r["errnos"]) - ALLOWED_ERRNOS
    expect(not bad, f"fuzz as {who}: unexpected errnos {sorted(bad)} ({r['errnos']})")
    return r


# The documented verdict of each crafted packet (tests/guest-tools/src/craft.rs).
#   where: the (namespace, hook) whose trace line is checked; None: the
#   packet must appear in no trace line at all.
#   verdict: "drop:udp" (the UDP port rule), "accept" (default policy).
#   shape: "fragment", "truncated", "ports", "icmp" (how the hook saw it).
#   malformed: how many times the hooks count it as malformed.
PACKET_CASES = {
    # A first fragment has its transport header: port rules apply.
    "v4_frag_first": dict(id="4101", where=("init", "PRE_ROUTING"), verdict="drop:udp", shape="ports"),
    # A later fragment carries no ports: port rules do not match it.
    "v4_frag_later": dict(id="4102", where=("init", "PRE_ROUTING"), verdict="accept", shape="fragment"),
    # Overlapping fragments: each judged on its own; the stack discards the
    # datagram (no LOCAL_IN for it).
    "v4_overlap_a": dict(id="4103", where=("init", "PRE_ROUTING"), verdict="accept", shape="ports", first=True),
    "v4_overlap_b": dict(id="4103", where=("init", "PRE_ROUTING"), verdict="accept", shape="fragment"),
    # IP options: the ports are read after IHL*4 bytes.
    "v4_options": dict(id="4104", where=("init", "PRE_ROUTING"), verdict="drop:udp", shape="ports"),
    # A cut TCP header has no flags and so no ports for the rules: accepted
    # (TCP drops it).
    "v4_tcp_truncated": dict(id="4105", where=("init", "PRE_ROUTING"), verdict="accept", shape="truncated"),
    # ICMP errors: dockfw does not look at the quoted header.
    "v4_icmp_error": dict(id="4106", where=("init", "PRE_ROUTING"), verdict="accept", shape="icmp"),
    # Bogus headers: not parsed, counted as malformed (c1 LOCAL_OUT and
    # POST_ROUTING), accepted, never traced; ip_rcv drops them at the host.
    # The kernel (6.12 and 7.3 alike) refuses an IHL below 5 from a raw
    # socket (EINVAL) before any hook, and ip_rcv (or br_netfilter's
    # validation) drops one received before PRE_ROUTING: no path brings it
    # to a hook. The case checks exactly that refusal; the parser's answer
    # to such a header is the host test ipv4_truncated_and_bogus_headers.
    "v4_bad_ihl": dict(id="4107", where=None, refused="refused 22"),
    "v4_bad_version": dict(id="4108", where=None, malformed=2),
    # Total length beyond the frame: ip_rcv drops it before any hook.
    "v4_totlen_long": dict(id="4109", where=None),
    # Total length shorter: the stack trims, 2 bytes of UDP remain.
    "v4_totlen_short": dict(id="4110", where=("init", "PRE_ROUTING"), verdict="accept", shape="truncated"),
    # IPv6 extension headers are walked: the port rule matches.
    "v6_ext_chain": dict(src="2001:db8::6201", where=("init", "PRE_ROUTING"), verdict="drop:udp", shape="ports"),
    # A chain of 40 headers is walked to its end too (no fixed cap that a
    # long chain could use to hide its ports): the port rule drops it.
    "v6_ext_long": dict(src="2001:db8::6202", where=("init", "PRE_ROUTING"), verdict="drop:udp", shape="ports"),
    # A header claiming more than the packet holds: the transport header
    # is beyond the end, so the packet is "truncated": accepted, no ports.
    "v6_ext_truncated": dict(src="2001:db8::6203", where=("init", "PRE_ROUTING"), verdict="accept",
                             shape="truncated"),
    "v6_frag_first": dict(src="2001:db8::6204", where=("init", "PRE_ROUTING"), verdict="drop:udp", shape="ports"),
    "v6_frag_later": dict(src="2001:db8::6205", where=("init", "PRE_ROUTING"), verdict="accept", shape="fragment"),
    "v6_icmp_error": dict(src="2001:db8::6206", where=("init", "PRE_ROUTING"), verdict="accept", shape="icmp"),
    # Payload length beyond the frame: ipv6_rcv drops it before any hook.
    "v6_plen_long": dict(src="2001:db8::6207", where=None),
}


def case_events(evs, c):
    if "id" in c:
        return [e for e in evs if e.family == "ipv4" and re.search(rf"\bipid={c['id']}\b", e.line)]
    return [e for e in evs if c["src"] + "]" in e.line or c["src"] + " " in e.line]
