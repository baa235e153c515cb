# SPDX-License-Identifier: GPL-2.0
"""Host-side checks of the QEMU scenarios.

A guest run yields the scenario's own output (FACT and OUTCOME lines) and the
full kernel log. Trace lines are parsed into events; one packet's path is the
run of events with the same skb id, split where a new locally generated
packet starts (LOCAL_OUT) since a freed skb's memory, and so its id, can be
reused by the next packet.
"""
import re


class CheckFailed(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise CheckFailed(msg)


TRACE = re.compile(
    r"dockfw: trace id=(?P<id>[0-9a-f]+) hook=(?P<hook>\w+) family=(?P<family>\w+) "
    r"netns=(?P<netns>\d+) init=(?P<init>[01]) dev=(?P<dev>\S+) in=(?P<in>\S+) out=(?P<out>\S+) "
    r"(?P<proto>\S+) (?P<src>\S+) -> (?P<dst>\S+)(?: \[(?P<flags>[^\]]*)\])?(?P<rest>.*)$"
)


class Event:
    def __init__(self, m, names):
        d = m.groupdict()
        self.id, self.hook, self.family = d["id"], d["hook"], d["family"]
        self.netns = int(d["netns"])
        self.ns = names.get(self.netns, str(self.netns))
        self.init = d["init"] == "1"
        self.dev = d["dev"]
        self.indev = d["in"].split("@")[0]
        self.outdev = d["out"].split("@")[0]
        self.proto, self.src, self.dst = d["proto"], d["src"], d["dst"]
        self.flags = d["flags"]
        rest = d["rest"]
        kv = dict(re.findall(r"(\w+)=(\S+)", rest))
        self.ct = kv.get("ct")
        self.orig = kv.get("orig")
        self.dnat = kv.get("dnat")
        self.verdict = kv.get("verdict")
        self.rule = kv.get("rule")
        self.line = m.group(0)

    def where(self):
        return (self.ns, self.hook)

    def __repr__(self):
        return f"{self.ns}:{self.hook} {self.proto} {self.src}->{self.dst} [{self.flags}]"


class GuestLog:
    def __init__(self, out):
        self.raw = out
        self.exit_code = None
        m = re.search(r"==DFW-SCENARIO-EXIT== (\d+)", out)
        if m:
            self.exit_code = int(m.group(1))
        begin = out.find("==DFW-SCENARIO-BEGIN==")
        end = out.find("==DFW-DMESG-BEGIN==")
        self.script = out[begin:end] if begin >= 0 else out
        dm = re.search(r"==DFW-DMESG-BEGIN==(.*)==DFW-DMESG-END==", out, re.S)
        self.dmesg = dm.group(1) if dm else ""
        self.facts = {}
        self.netns_names = {}
        for line in self.script.splitlines():
            line = line.strip()
            if line.startswith("FACT "):
                parts = line.split(" ", 3)
                if parts[1] == "netns" and len(parts) == 4 and parts[3].isdigit():
                    self.netns_names[int(parts[3])] = parts[2]
                elif parts[1] == "outcome" and len(parts) == 4:
                    self.facts["outcome:" + parts[2]] = parts[3]
                elif len(parts) >= 2:
                    # An empty value (e.g. no output) is still reported.
                    self.facts[parts[1]] = " ".join(parts[2:])
        self.events = self.parse_events(self.dmesg)

    def parse_events(self, text):
        evs = []
        for line in text.splitlines():
            m = TRACE.search(line)
            if m:
                evs.append(Event(m, self.netns_names))
        return evs

    def dmesg_after(self, marker):
        i = self.dmesg.find(f"DFW-MARK {marker}")
        expect(i >= 0, f"marker {marker!r} not in the kernel log")
        return self.dmesg[i:]

    def script_tail(self):
        return "\n".join(self.script.splitlines()[-15:])

    def fact(self, key):
        expect(key in self.facts, f"the guest did not report {key!r}")
        return self.facts[key]

    def outcome(self, name):
        return self.fact("outcome:" + name)

    def path_of(self, first):
        """The events of the packet `first` belongs to, in log order."""
        same = [e for e in self.events if e.id == first.id]
        segs, cur = [], []
        for e in same:
            if e.hook == "LOCAL_OUT" and cur:
                segs.append(cur)
                cur = []
            cur.append(e)
        segs.append(cur)
        for s in segs:
            if any(e is first for e in s):
                return s
        raise CheckFailed("internal: event not in its own path")

    def find(self, what, **kw):
        for e in self.events:
            if all(getattr(e, k) == v if not callable(v) else v(getattr(e, k)) for k, v in kw.items()):
                return e
        raise CheckFailed(f"no trace line for {what}; trace lines seen:\n" +
                          "\n".join("  " + e.line for e in self.events[:40]))


def expect_path(g, first, want, what):
    got = [e.where() for e in g.path_of(first)]
    expect(got == want, f"{what}: hook path\n  got  {got}\n  want {want}")


def expect_ok(g, name, server):
    o = g.outcome(name)
    expect(o.startswith(f"OUTCOME ok hello from {server} "), f"{name}: expected a reply from {server}, got {o!r}")


# --- the scenarios -------------------------------------------------------------

def trace_dnat(g):
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


def bridge_path(g, init_hooks):
    expect_ok(g, "c1_to_c2", "c2")
    syn = g.find("the SYN c1 -> c2", ns="c1", hook="LOCAL_OUT", dst="172.17.0.3:8080", flags="S")
    want = [("c1", "LOCAL_OUT"), ("c1", "POST_ROUTING")] + [("init", h) for h in init_hooks] + \
           [("c2", "PRE_ROUTING"), ("c2", "LOCAL_IN")]
    expect_path(g, syn, want, "SYN c1 -> c2 over docker0")
    # The reply path, c2 -> c1: the SYN-ACK crosses the same hooks the other
    # way, through the host's only when br_netfilter hands it over.
    synack = g.find("the SYN-ACK c2 -> c1", ns="c2", hook="LOCAL_OUT", src="172.17.0.3:8080", flags="S.")
    back = [("c2", "LOCAL_OUT"), ("c2", "POST_ROUTING")] + [("init", h) for h in init_hooks] + \
           [("c1", "PRE_ROUTING"), ("c1", "LOCAL_IN")]
    expect_path(g, synack, back, "SYN-ACK c2 -> c1 over docker0")
    return g.path_of(syn)


def trace_bridge_nf_off(g):
    bridge_path(g, [])
    # Only the c1<->c2 TCP flow: init_net has IPv6 neighbour discovery of
    # its own on veth-ext, which is not container traffic.
    in_init = [e for e in g.events if e.init and e.proto == "TCP"]
    expect(not in_init, "with bridge-nf-call-iptables=0 init_net must see none of the container traffic, saw:\n" +
           "\n".join("  " + e.line for e in in_init[:5]))


def trace_bridge_nf_on(g):
    path = bridge_path(g, ["PRE_ROUTING", "FORWARD", "POST_ROUTING"])
    pre, fwd, post = path[2], path[3], path[4]
    # br_netfilter presents the bridge itself as the logical device.
    expect(pre.indev == "docker0", f"init PRE_ROUTING in={pre.indev}, want docker0")
    expect((fwd.indev, fwd.outdev) == ("docker0", "docker0"), f"init FORWARD in/out {fwd.indev}/{fwd.outdev}")
    expect(post.outdev == "docker0", f"init POST_ROUTING out={post.outdev}, want docker0")
    expect(fwd.dst == "172.17.0.3:8080", f"bridged FORWARD saw {fwd.dst}")


def netns_lifecycle(g):
    n0 = int(g.fact("hooked_after_insmod"))
    expect(n0 == 4, f"after insmod hooks in {n0} namespaces, want 4")
    expect(int(g.fact("hooked_after_late")) == n0 + 1, "a namespace created after insmod was not hooked")
    expect(int(g.fact("hooked_after_del")) == n0, "a deleted namespace still counts as hooked")
    expect_ok(g, "c1_to_late", "late")
    late = [e.hook for e in g.events if e.ns == "late"]
    expect("PRE_ROUTING" in late and "LOCAL_IN" in late and "LOCAL_OUT" in late,
           f"hooks seen in the late namespace: {sorted(set(late))}")
    expect(g.fact("module_gone") == "yes", "dockfw still in /sys/module after rmmod")
    expect_ok(g, "ext_after_rmmod", "c1")
    expect_ok(g, "c1_to_c2_after_rmmod", "c2")
    # "No hook left behind", from the kernel's own hook lists: in every
    # namespace, as many hook functions after rmmod as before insmod, and
    # more while loaded (so the count does see dockfw's).
    for ns in ["init", "c1", "c2", "ext"]:
        before, loaded, after = (int(g.fact(f"hooks_{when}:{ns}"))
                                 for when in ["before_insmod", "before_rmmod", "after_rmmod"])
        expect(loaded > before, f"{ns}: {loaded} hooks listed while loaded, {before} before insmod: "
                                "the kernel's list does not show dockfw's")
        expect(after == before, f"{ns}: {after} hooks listed after rmmod, {before} before insmod: "
                                "a hook was left behind")


def trace_ratelimit(g):
    expect(g.fact("udp_received") == "RECEIVED 300", f"the flood lost packets: {g.fact('udp_received')}")
    flood = [e for e in g.events if e.proto == "UDP" and e.dst.endswith(":9999")]
    expect(len(flood) == 20, f"{len(flood)} trace lines for 300 datagrams x 4 hooks, want exactly the burst of 20")
    expect(len(g.events) == 20, f"{len(g.events)} trace lines in all, want only the flood's 20")


# --- filtering --------------------------------------------------------------

def ctl(g, name):
    """(exit code, stdout, stderr) of a `ctl NAME ...` call in the guest."""
    rc = int(g.fact("ctl_rc:" + name))
    import base64
    out = base64.b64decode(g.facts.get("ctl_out:" + name, "")).decode(errors="replace")
    err = base64.b64decode(g.facts.get("ctl_err:" + name, "")).decode(errors="replace")
    return rc, out, err


def ctl_ok(g, name):
    rc, out, err = ctl(g, name)
    expect(rc == 0, f"dockfwctl ({name}) failed with {rc}: {err.strip()}")
    return out


def ctl_json(g, name):
    import json
    out = ctl_ok(g, name)
    try:
        return json.loads(out)
    except ValueError as e:
        raise CheckFailed(f"dockfwctl ({name}) printed no JSON ({e}): {out[:200]!r}")


def backlog_drops(g):
    """Packets the kernel's input backlogs dropped between the facts
    backlog_before and backlog_after (guest lib.sh softnet_drops): lost
    before any netfilter hook, so not dockfw's. Reported when not zero."""
    n = int(g.fact("backlog_after")) - int(g.fact("backlog_before"))
    if n:
        print(f"NOTE: {n} packets dropped by full input backlogs (/proc/net/softnet_stat) on a loaded host")
    return n


def expect_blocked(g, name):
    o = g.outcome(name)
    expect(o == "OUTCOME timeout", f"{name}: expected the connection to be dropped (timeout), got {o!r}")


def rule_by_id(rules, rid):
    for r in rules:
        if r.get("id") == rid:
            return r
    raise CheckFailed(f"rule {rid} not in the list: {rules}")


def added_id(g, name):
    import re as _re
    m = _re.search(r"added rule (\d+)", ctl_ok(g, name))
    expect(m is not None, f"dockfwctl add ({name}) did not report the new rule id")
    return int(m.group(1))


def filter_published_port(g):
    # The classic mistake: the INPUT rule on port 80 never sees the packet.
    expect_ok(g, "iptables_from_ext", "c1")
    allow, deny = added_id(g, "allow"), added_id(g, "deny")
    expect_ok(g, "allowed", "c1")
    expect("172.16.0.2" in g.outcome("allowed"), "the allowed client is not who c1 saw")
    expect_blocked(g, "refused")
    # Docker keeps working: container to container, host to container,
    # container outbound through MASQUERADE (ext sees the host address).
    expect_ok(g, "c1_to_c2", "c2")
    expect_ok(g, "host_to_c1", "c1")
    expect_ok(g, "c1_outbound", "ext")
    expect("10.0.0.1" in g.outcome("c1_outbound"), "outbound traffic was not masqueraded")
    # Where it was decided: FORWARD, after DNAT, on the original port.
    drop = g.find("the refused SYN dropped at FORWARD", hook="FORWARD", verdict="drop",
                  src=lambda s: s.startswith("10.0.0.2:"))
    expect(drop.rule == str(deny), f"dropped by rule {drop.rule}, want {deny}")
    expect(drop.dst == "172.17.0.2:8080", f"the dropped packet was going to {drop.dst}")
    expect(drop.orig is not None and drop.orig.endswith("->10.0.0.1:80"), f"orig tuple {drop.orig}")
    reached = [e for e in g.events if e.ns == "c1" and e.src.startswith("10.0.0.2:")]
    expect(not reached, f"the refused client reached c1: {reached[:2]}")
    acc = g.find("the allowed SYN at FORWARD", hook="FORWARD", verdict="accept",
                 src=lambda s: s.startswith("172.16.0.2:"), flags="S")
    expect(acc.rule == str(allow), f"allowed by rule {acc.rule}, want {allow}")
    rules = ctl_json(g, "list")
    expect(len(rules) == 2, f"{len(rules)} rules listed, want 2")
    expect(rule_by_id(rules, deny)["packets"] >= 1, "the deny rule counted no packet")
    expect(rule_by_id(rules, allow)["packets"] >= 3, "the allow rule counted fewer packets than a TCP exchange")


def filter_userland_proxy(g):
    expect_ok(g, "before_rules", "c1")
    expect("172.17.0.1" in g.outcome("before_rules"), "the connection did not go through the host proxy")
    allow, deny = added_id(g, "allow"), added_id(g, "deny")
    expect_ok(g, "allowed", "c1")
    expect_blocked(g, "refused")
    expect_ok(g, "published_still_open", "c1")
    drop = g.find("the refused SYN dropped at LOCAL_IN", hook="LOCAL_IN", verdict="drop",
                  src=lambda s: s.startswith("10.0.0.2:"))
    expect(drop.ns == "init" and drop.dst == "10.0.0.1:80" and drop.rule == str(deny),
           f"drop at {drop.ns} {drop.dst} by rule {drop.rule}")
    acc = g.find("the allowed SYN at LOCAL_IN", hook="LOCAL_IN", verdict="accept",
                 src=lambda s: s.startswith("172.16.0.2:"), flags="S")
    expect(acc.rule == str(allow), f"allowed by rule {acc.rule}, want {allow}")


def drops_only_at(g, start, end, ns, hook, rule):
    """The trace events between two marks; every drop among them is by
    `rule` at `ns` `hook` (and there is one)."""
    window = g.dmesg_after(start)
    evs = g.parse_events(window[:window.find(f"DFW-MARK {end}")])
    drops = [e for e in evs if e.verdict == "drop"]
    expect(drops and all((e.ns, e.hook, e.rule) == (ns, hook, str(rule)) for e in drops),
           f"between {start} and {end}, drops should be {ns} {hook} by rule {rule}: {drops[:3]}")
    return evs


def filter_bridge(g):
    host_rule = added_id(g, "host_fwd")
    expect_ok(g, "nf_off_c1_to_c2", "c2")
    expect_blocked(g, "nf_on_c1_to_c2")
    expect_ok(g, "nf_on_c2_to_c1", "c1")
    drops_only_at(g, "brnf-on", "brnf-off", "init", "FORWARD", host_rule)
    c2_rule = added_id(g, "c2_only")
    expect_blocked(g, "ns_c1_to_c2")
    expect_ok(g, "ns_c2_to_c1", "c1")
    expect_ok(g, "ns_ext_to_c1", "c1")
    d = g.find("the drop in c2's LOCAL_IN", hook="LOCAL_IN", verdict="drop", rule=str(c2_rule))
    expect(d.ns == "c2", f"the namespace-scoped rule dropped in {d.ns}")
    # Either way, as the README says: with bridge-nf-call-iptables 1 the
    # same rule still refuses c1 -> c2 in c2's LOCAL_IN, and only there.
    expect_blocked(g, "ns_on_c1_to_c2")
    expect_ok(g, "ns_on_c2_to_c1", "c1")
    on = drops_only_at(g, "ns-brnf-on", "ns-brnf-on-end", "c2", "LOCAL_IN", c2_rule)
    expect(any(e.ns == "init" and e.hook == "FORWARD" for e in on),
           "br_netfilter on, yet the host's FORWARD saw none of the bridged traffic")
    counted = [r["packets"] for r in ctl_json(g, "ns_counters") if r["id"] == c2_rule]
    expect(counted and counted[0] >= 2, f"the c2 rule counted {counted} packets, want a SYN of each phase at least")


def filter_nft_oracle(g):
    """dockfw's per-rule counters against nftables' over the same packets:
    the same random rules (see the scenario for the translation)."""
    import base64
    rules = base64.b64decode(g.fact("dfw_rules")).decode().splitlines()
    nft_text = base64.b64decode(g.fact("nft_rules")).decode()
    n = len(rules)
    expect(ctl(g, "restore")[0] == 0, f"dockfwctl restore refused the rules: {ctl(g, 'restore')[2]!r}")
    dfw = {r["comment"]: (r["packets"], r["bytes"]) for r in ctl_json(g, "counters")}
    raw = base64.b64decode(g.fact("nft_counters")).decode()
    nft = {m[0]: (int(m[1]), int(m[2])) for m in re.findall(r"counter (r\d+) \{\s*packets (\d+) bytes (\d+)", raw)}
    expect(len(dfw) == n and len(nft) == n, f"{len(dfw)} dockfw and {len(nft)} nftables counters for {n} rules")
    diffs = [f"r{i}: dockfw {dfw.get(f'r{i}')} nftables {nft.get(f'r{i}')}  [{rules[i - 1]}]"
             for i in range(1, n + 1) if dfw.get(f"r{i}") != nft.get(f"r{i}")]
    expect(not diffs, f"{len(diffs)} of {n} rules counted differently (packets, bytes):\n  " + "\n  ".join(diffs)
           + "\nnftables rules:\n" + nft_text)
    # The draw must make the comparison worth something: many rules match,
    # and not all the same packets.
    hit = [k for k, v in nft.items() if v[0] > 0]
    expect(len(hit) >= n // 3, f"only {len(hit)} of {n} rules matched any packet")
    expect(len({v[0] for v in nft.values()}) >= 6, f"the rules' counts hardly differ: {sorted(nft.values())}")
    expect(len(hit) < n, "every rule matched something: the rules hardly discriminate")


def filter_replace_counters(g):
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


def filter_ipv6(g):
    expect_ok(g, "v6_before", "c2")
    expect("fd00::2" in g.outcome("v6_before"), f"c2 did not see c1's IPv6 address: {g.outcome('v6_before')}")
    rid = added_id(g, "v6_drop")
    expect_blocked(g, "v6_after")
    expect_ok(g, "v4_after", "c2")
    syn = g.find("the IPv6 SYN before the rule", family="ipv6", ns="c1", hook="LOCAL_OUT", dst="[fd00::3]:8080", flags="S")
    expect_path(g, syn, [("c1", "LOCAL_OUT"), ("c1", "POST_ROUTING"), ("c2", "PRE_ROUTING"), ("c2", "LOCAL_IN")],
                "IPv6 SYN c1 -> c2")
    drop = g.find("the IPv6 drop", family="ipv6", verdict="drop")
    expect((drop.ns, drop.hook, drop.rule) == ("c1", "LOCAL_OUT", str(rid)),
           f"the ip6 rule dropped at {drop.ns} {drop.hook} by rule {drop.rule}: the first hook is c1 LOCAL_OUT")
    v4 = [e for e in g.events if e.family == "ipv4" and e.verdict == "drop"]
    expect(not v4, f"the ip6 rule dropped IPv4 packets: {v4[:2]}")
    rules = ctl_json(g, "list")
    expect(rules[0]["packets"] >= 1 and rules[0]["family"] in ("ipv6", "ip6"), f"rule listed as {rules[0]}")


# --- the netlink trace stream ---------------------------------------------------

class StreamEvent:
    """A `dockfwctl trace --json` event, shaped like a dmesg `Event`."""

    def __init__(self, d, names):
        self.d = d
        self.id = "%08x" % d["skb_id"]
        self.hook = d["hook"]
        self.ns = "init" if d["netns_init"] else names.get(d["netns"], str(d["netns"]))
        self.family = d["family"]

        def ep(a, p):
            if a is None:
                return None
            a = f"[{a}]" if ":" in a else a
            return f"{a}:{p}" if p is not None else a
        self.src, self.dst = ep(d["saddr"], d["sport"]), ep(d["daddr"], d["dport"])
        self.flags = d["tcp_flags"]
        self.indev, self.outdev = d["iif"] or "-", d["oif"] or "-"
        self.verdict, self.rule = d["verdict"], d["rule_id"]

    def where(self):
        return (self.ns, self.hook)

    def __repr__(self):
        return f"{self.ns}:{self.hook} {self.src}->{self.dst} [{self.flags}]"


def trace_run(g, name):
    """(exit code, events, stderr) of a `start_trace NAME` session."""
    import base64
    import json
    rc = int(g.fact("trace_rc:" + name))
    out = base64.b64decode(g.fact("trace_out:" + name)).decode(errors="replace")
    err = base64.b64decode(g.fact("trace_err:" + name)).decode(errors="replace")
    return rc, out, err


def stream_events(g, name):
    import json
    rc, out, err = trace_run(g, name)
    expect(rc == 0, f"trace {name} exited {rc}: {err}")
    evs = []
    for line in out.splitlines():
        try:
            evs.append(StreamEvent(json.loads(line), g.netns_names))
        except (ValueError, KeyError) as e:
            raise CheckFailed(f"trace {name}: not a JSON event ({e}): {line[:120]!r}")
    return evs, err


class Stream(GuestLog):
    """A view of a guest log whose `events` are the stream's."""

    def __init__(self, g, events):
        self.__dict__.update(g.__dict__)
        self.events = events


def stream_dnat(g):
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


def stream_bridge(g):
    expect_ok(g, "off_c1_to_c2", "c2")
    expect_ok(g, "on_c1_to_c2", "c2")
    for name, init in [("off", []), ("on", ["PRE_ROUTING", "FORWARD", "POST_ROUTING"])]:
        evs, _ = stream_events(g, name)
        s = Stream(g, evs)
        syn = s.find(f"the SYN c1 -> c2 (br_netfilter {name})", ns="c1", hook="LOCAL_OUT", dst="172.17.0.3:8080", flags="S")
        want = [("c1", "LOCAL_OUT"), ("c1", "POST_ROUTING")] + [("init", h) for h in init] + \
               [("c2", "PRE_ROUTING"), ("c2", "LOCAL_IN")]
        expect_path(s, syn, want, f"bridge-nf-call-iptables {name}")


def stream_lifecycle(g):
    import base64
    expect(g.fact("nobody_rc") == "4", f"an unprivileged listener exited {g.fact('nobody_rc')}, want 4")
    err = base64.b64decode(g.fact("nobody_err")).decode()
    expect("permission denied" in err.lower(), f"unprivileged trace: {err!r}")
    expect(g.fact("filters_intr") == "1" and g.fact("filters_after_intr") == "0", "Ctrl-C did not clear the filter")
    rc, _, err = trace_run(g, "intr")
    expect(rc == 0 and re.search(r"^0 events, 0 lost", err, re.M), f"after Ctrl-C: rc {rc}, {err!r}")
    expect(g.fact("filters_killed") == "2", f"{g.fact('filters_killed')} filters while the killed session ran")
    # 137 = killed by the script's SIGKILL, which says only that the session
    # was still running then (had it failed on its own, rc would be its exit
    # code); what the kernel did about it is the next check.
    expect(g.fact("trace_rc:killed") == "137",
           f"the session ended by itself (rc {g.fact('trace_rc:killed')}) before it was SIGKILLed")
    expect(g.fact("filters_after_kill") == "0", "the kernel kept a SIGKILLed session's filters")
    before, after = ctl_json(g, "stats_before"), ctl_json(g, "stats_flood")
    expect(after["trace_lost"] - before["trace_lost"] > 0, f"a listener that stopped reading lost nothing? {after}")
    expect(after["dropped"] == before["dropped"], "the trace flood made dockfw drop packets")
    expect(g.fact("udp_sent") == "SENT 20000", f"sender: {g.fact('udp_sent')}")
    rec = int(g.fact("udp_received").split()[1])
    expect(rec > 0, "nothing arrived while traced")
    # Not dropped, from the kernel's own counters: all 20000 datagrams
    # reached c2's UDP layer (delivered, refused for a full buffer, or past
    # the end of the receiver's count: NoPorts).
    b = [int(x) for x in g.fact("snmp_c2_before").split()]
    a = [int(x) for x in g.fact("snmp_c2_after").split()]
    backlog = backlog_drops(g)
    expect(sum(a) - sum(b) + backlog == 20000,
           f"c2's UDP saw {sum(a) - sum(b)} of the 20000 traced datagrams (InDatagrams, InErrors, NoPorts deltas "
           f"{[x - y for x, y in zip(a, b)]}) and the input backlogs dropped {backlog}: "
           f"{20000 - sum(a) + sum(b) - backlog} unaccounted for")
    expect(g.fact("filters_after_slow") == "0", "the slow session's filter outlived it")
    # The late session: one datagram, sent right after it was ready, while
    # a silent filter holder had made the hooks cache "nobody listens".
    expect(g.fact("silent_filters") == "1", f"{g.fact('silent_filters')} filters held by the silent socket, want 1")
    evs, _ = stream_events(g, "late")
    mine = [e for e in evs if e.dst and e.dst.endswith(":9997")]
    expect(any(e.ns == "c1" and e.hook == "LOCAL_OUT" for e in mine),
           f"the late session missed the datagram's first hook (c1 LOCAL_OUT): {mine}")


BAD_INPUT = {
    # name: (errno, words of the extended-ack message; None = any message)
    "add_no_rule": (22, "missing DOCKFW_A_RULE"),
    "add_no_verdict": (22, "needs a verdict"),
    "add_unknown_top": (22, "Unknown attribute type"),
    "add_unknown_nested": (22, "Unknown attribute type"),
    "add_verdict_range": (34, "integer out of range"),
    "add_hooks_zero": (34, "integer out of range"),
    "add_hooks_range": (34, "integer out of range"),
    "add_saddr_short": (34, "binary attribute size out of range"),
    "add_saddr_long": (34, "binary attribute size out of range"),
    "add_saddr_5": (22, "must be 4 or 16 bytes"),
    "add_prefix_no_addr": (22, "prefix length without an address"),
    "add_prefix_too_long": (22, "prefix length longer"),
    "add_port_wrong_type": (22, "invalid attribute length"),
    "add_port_max_only": (22, "maximum without a minimum"),
    "add_port_inverted": (22, "minimum above maximum"),
    "add_ports_icmp": (22, "ports only exist"),
    "add_ifname_long": (22, "Attribute failed policy validation"),
    "add_netns_both": (22, "not both"),
    "add_counter_in_req": (22, "counters are reply-only"),
    "add_with_id": (22, "assigned by the kernel"),
    "add_comment_space": (22, "comment must be"),
    "add_rule_not_nested": (22, "NLA_F_NESTED is missing"),
    "del_missing": (2, "no rule with this id"),
    "del_zero": (34, "integer out of range"),
    "del_no_id": (22, "missing DOCKFW_A_RULE_ID"),
    "get_missing": (2, "no rule with this id"),
    "policy_log": (34, "integer out of range"),
    "policy_missing": (22, "missing DOCKFW_A_POLICY"),
    "replace_no_phase": (22, "missing DOCKFW_A_PHASE"),
    "replace_bad_phase": (34, "integer out of range"),
    "commit_no_begin": (22, "no replace in progress"),
    "append_no_begin": (22, "no replace in progress"),
    "add_comment_long": (22, "Attribute failed policy validation"),
    "flush_unknown": (22, "Unknown attribute type"),
    "stats_unknown": (22, "Unknown attribute type"),
    "policy_get_unknown": (22, "Unknown attribute type"),
    "del_stats_attr": (22, "stats are reply-only"),
    "unknown_cmd": (95, None),
    "nobody_stats": (1, None),
    "nobody_add": (1, None),
    "nobody_flush": (1, None),
    "replace_bad_batch": (34, "integer out of range"),
}


def filter_bad_input(g):
    errors = []
    for name, (errno, words) in BAD_INPUT.items():
        got = g.fact("nl:" + name)
        m = re.match(r"NLERR (\d+) ?(.*)$", got)
        # None: the kernel sends no extended-ack message for this refusal
        # (genetlink's unknown command, its CAP_NET_ADMIN check), so there
        # must be none; otherwise the message must say `words`.
        msg_ok = m and (m.group(2) == "" if words is None else words in m.group(2))
        if not m or int(m.group(1)) != errno or not msg_ok:
            errors.append(f"{name}: got {got!r}, want errno {errno} with "
                          + (f"{words!r}" if words is not None else "no message"))
    for name in ["replace_begin", "replace_abort"]:
        if g.fact("nl:" + name) != "NLOK":
            errors.append(f"{name}: {g.fact('nl:' + name)!r}, want NLOK")
    expect(not errors, "bad input not refused as expected:\n  " + "\n  ".join(errors))
    seq = g.fact("stage_seq").strip("|").split("|")
    expect(len(seq) == 3 and seq[:2] == ["NLOK", "NLOK"] and seq[2] == "NLERR 34 integer out of range",
           f"BEGIN, a good batch, a policy-refused batch on one held socket: {seq}")
    expect(g.fact("unchanged_mid") == "yes", "the live rules changed while a replace with a refused batch was staged")
    expect(g.fact("unchanged_after_stager") == "yes", "the live rules changed when a staged replace's socket closed")
    expect(g.fact("unchanged") == "yes", "rejected requests changed the rules; now:\n" + g.fact("saved_after"))
    saved = g.fact("saved_after")
    expect("tcp dport 8081 comment keep accept" in saved and "input saddr 10.9.0.0/16 drop" in saved,
           f"the seeded rules are not intact: {saved}")
    rc, _, err = ctl(g, "parse_error")
    expect(rc == 2 and "not a port" in err and "^" in err, f"parse error: rc {rc}, {err!r}")
    rc, _, err = ctl(g, "missing_action")
    expect(rc == 2 and "missing action" in err, f"missing action: rc {rc}, {err!r}")
    rc, _, err = ctl(g, "del_missing")
    expect(rc == 1 and "no rule with this id" in err, f"del of a missing rule: rc {rc}, {err!r}")
    expect(g.fact("ctl_rc:nobody_list") == "4", f"unprivileged dockfwctl exited {g.fact('ctl_rc:nobody_list')}, want 4")
    expect(g.fact("ctl_rc:in_container") == "3", f"dockfwctl in a container netns exited {g.fact('ctl_rc:in_container')}, want 3")
    rc, _, err = ctl(g, "restore_bad")
    expect(rc == 2 and "/tmp/badfile:2:" in err, f"bad restore file: rc {rc}, {err!r}")
    expect_ok(g, "still_filtering", "c1")
    seq = g.fact("replace_seq").strip("|").split("|")
    expect(len(seq) == 5 and seq[:2] == ["NLOK", "NLOK"] and seq[3:] == ["NLOK", "NLOK"]
           and seq[2].startswith("NLERR 22 port range minimum above maximum"),
           f"one-socket replace with a bad middle batch: {seq}")
    saved = [l for l in g.fact("saved_seq").strip("|").split("|") if l]
    ports = sorted(re.search(r"dport (\d+)", l).group(1) for l in saved)
    expect(ports == ["1", "3"] and all(re.fullmatch(r"id \d+ udp dport \d+ accept", l) for l in saved),
           f"the commit after a refused batch published {saved}, want the udp dport 1 and 3 rules")


# --- hooks on demand ----------------------------------------------------------

NFT_HOOKS = ("prerouting", "input", "forward", "output", "postrouting")
ALL_HOOKS = {f"{f}:{h}" for f in ("ip", "ip6") for h in NFT_HOOKS}


def hooks_on_demand(g):
    expect(g.fact("nft_control") == "2", f"`nft list hooks` in init listed {g.fact('nft_control')} of conntrack's "
           "PRE_ROUTING hook and Docker's filter FORWARD chain, want both: the kernel's hook list cannot be read")
    m = re.search(r"dockfw: loaded: following (\d+) namespaces, (\d+) hooks registered", g.dmesg)
    expect(m and m.groups() == ("4", "0"), f"load message: {m.group(0) if m else None!r}, want 4 namespaces, 0 hooks")

    def hooks(step, ns):
        # Every dockfw entry the kernel lists, duplicates kept: a hook point
        # registered twice shows twice and fails "exactly once" below.
        return sorted(g.fact(f"hooks:{step}:{ns}").split())

    def step(name, want, nss=("init", "c1", "c2", "ext")):
        """Every namespace has exactly `want` (nft's view), each hook point
        once; the module's own count agrees with the kernel's lists."""
        for ns in nss:
            have = hooks(name, ns)
            expect(have == sorted(want), f"after {name}: dockfw hooks in {ns} are {have or 'none'}, "
                                         f"want {sorted(want) or 'none'}, each once")
        if name == "rmmod":
            return
        reg = int(g.fact(f"registered:{name}"))
        expect(reg == len(want) * len(nss), f"after {name}: stats hooks_registered {reg}, the kernel lists "
                                            f"{len(want) * len(nss)}")
        expect(int(g.fact(f"netns:{name}")) == len(nss), f"after {name}: hooked_netns {g.fact(f'netns:{name}')}, "
                                                         f"want {len(nss)}")

    five = ("init", "c1", "c2", "ext", "late")
    step("loaded", set())
    expect_ok(g, "loaded_ext_to_published", "c1")
    ctl_ok(g, "fwd")
    step("fwd", {"ip:forward"})
    expect_blocked(g, "fwd_ext_to_published")
    expect_ok(g, "fwd_c1_to_c2", "c2")
    step("late", {"ip:forward"}, five)
    ctl_ok(g, "out")
    step("out", {"ip:forward", "ip:output"}, five)
    expect_blocked(g, "out_c1_to_c2")
    ctl_ok(g, "del_fwd")
    step("del_fwd", {"ip:output"}, five)
    expect_ok(g, "del_ext_to_published", "c1")
    expect_blocked(g, "del_c1_to_c2")
    ctl_ok(g, "flush")
    step("flush", set(), five)
    expect_ok(g, "flush_c1_to_c2", "c2")
    ctl_ok(g, "drop")
    step("drop", ALL_HOOKS, five)
    expect_blocked(g, "drop_c1_to_c2")
    ctl_ok(g, "accept")
    step("accept", set(), five)
    expect_ok(g, "accept_c1_to_c2", "c2")
    step("trace", {"ip:input"}, five)
    expect_ok(g, "trace_c1_to_c2", "c2")
    evs, _ = stream_events(g, "t1")
    expect(any(e.ns == "c2" and e.hook == "LOCAL_IN" and e.dst == "172.17.0.3:8080" for e in evs),
           f"the trace session saw no c2 LOCAL_IN event of c1 -> c2:8080 ({len(evs)} events)")
    expect(all(e.hook == "LOCAL_IN" for e in evs), f"the input filter saw {sorted({e.hook for e in evs})}")
    step("trace_gone", set(), five)
    expect(g.fact("holder_filters") == "1", f"{g.fact('holder_filters')} trace filters with the holder, want 1")
    step("holder", set(), five)
    step("holder_listened", ALL_HOOKS, five)
    expect(g.fact("holder_filters_after") == "1",
           f"{g.fact('holder_filters_after')} trace filters after the session left, want the holder's 1")
    step("holder_alone", set(), five)
    step("hook_cost", ALL_HOOKS, five)
    expect(g.fact("bogus_rc") == "1", "writing 'bogus' to the trace parameter succeeded")
    expect(g.fact("trace_after_bogus") == "N", f"trace is {g.fact('trace_after_bogus')} after a refused write")
    step("bogus", set(), five)
    step("trace_on", ALL_HOOKS, five)
    on = g.dmesg_after("trace-on")
    on = on[:on.find("DFW-MARK trace-off")]
    seen = {(e.ns, e.hook) for e in g.parse_events(on) if "8080" in e.dst}
    want = {("c1", "LOCAL_OUT"), ("c1", "POST_ROUTING"), ("c2", "PRE_ROUTING"), ("c2", "LOCAL_IN")}
    expect(want <= seen, f"trace=1 printed {sorted(seen)} for c1 -> c2:8080, missing {sorted(want - seen)}")
    step("trace_off", set(), five)
    ctl_ok(g, "again")
    step("again", {"ip:forward"}, five)
    step("rmmod", set(), five)
    expect_ok(g, "rmmod_ext_to_published", "c1")


CHECKS = {
    "trace_dnat": trace_dnat,
    "trace_bridge_nf_off": trace_bridge_nf_off,
    "trace_bridge_nf_on": trace_bridge_nf_on,
    "netns_lifecycle": netns_lifecycle,
    "trace_ratelimit": trace_ratelimit,
    "filter_published_port": filter_published_port,
    "filter_userland_proxy": filter_userland_proxy,
    "filter_bridge": filter_bridge,
    "filter_replace_counters": filter_replace_counters,
    "filter_bad_input": filter_bad_input,
    "filter_ipv6": filter_ipv6,
    "filter_nft_oracle": filter_nft_oracle,
    "stream_dnat": stream_dnat,
    "stream_bridge": stream_bridge,
    "stream_lifecycle": stream_lifecycle,
    "hooks_on_demand": hooks_on_demand,
}


def show_demo(g):
    """The DNAT experiment, grouped per packet, for a person to read."""
    print("\n=== dockfw trace of `ext -> host:8081` with Docker's DNAT to c1 (172.17.0.2:8080) ===")
    print("Every hook each packet crossed, in every namespace. Note FORWARD: filter")
    print("rules there see 172.17.0.2:8080; only conntrack's orig tuple still says 8081.")
    print("namespaces: " + ", ".join(f"{v}={k}" for k, v in sorted(g.netns_names.items(), key=lambda x: x[1])))
    seen = set()
    for e in g.events:
        if (e.id, id(g.path_of(e)[0])) in seen:
            continue
        path = g.path_of(e)
        seen.add((e.id, id(path[0])))
        flags = f" [{e.flags}]" if e.flags is not None else ""
        print(f"\npacket id={e.id}: {e.proto} {e.src} -> {e.dst}{flags}")
        for x in path:
            ct = f"  ct={x.ct} orig={x.orig} dnat={x.dnat}" if x.ct else ""
            print(f"  {x.ns:>5} {x.hook:<13} in={x.indev:<9} out={x.outdev:<9} {x.src} -> {x.dst}{ct}")
    print(f"\nclient outcome: {g.facts.get('outcome:ext_to_published')}")

# Scenario groups kept in modules of their own register here. Imported
# unconditionally: a group that fails to import stops the suite instead of
# silently dropping its scenarios.
import checks_robust  # noqa: E402
import checks_docker  # noqa: E402
CHECKS.update(checks_robust.CHECKS)
CHECKS.update(checks_docker.CHECKS)
