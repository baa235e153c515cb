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
                elif len(parts) >= 3:
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
    return g.path_of(syn)


def trace_bridge_nf_off(g):
    bridge_path(g, [])
    # Only the c1<->c2 TCP flow: init_net has IPv6 neighbour discovery of
    # its own on veth-ext, which is not container traffic.
    in_init = [e for e in g.events if e.init and e.proto == "TCP"]
    expect(not in_init, "with bridge-nf-call-iptables=0 init_net must see none of the container traffic, saw:\n" +
           "\n".join("  " + e.line for e in in_init[:5]))
    expect(any(e.ns == "c2" and e.hook == "LOCAL_OUT" and e.flags == "S." for e in g.events),
           "the SYN-ACK from c2 was not traced")


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
    after = g.parse_events(g.dmesg_after("after-rmmod"))
    expect(not after, f"{len(after)} trace lines after rmmod: a hook was left behind")


def trace_ratelimit(g):
    expect(g.fact("udp_received") == "RECEIVED 300", f"the flood lost packets: {g.fact('udp_received')}")
    flood = [e for e in g.events if e.proto == "UDP" and e.dst.endswith(":9999")]
    expect(len(flood) == 20, f"{len(flood)} trace lines for 300 datagrams x 4 hooks, want exactly the burst of 20")
    expect(len(g.events) == 20, f"{len(g.events)} trace lines in all, want only the flood's 20")


CHECKS = {
    "trace_dnat": trace_dnat,
    "trace_bridge_nf_off": trace_bridge_nf_off,
    "trace_bridge_nf_on": trace_bridge_nf_on,
    "netns_lifecycle": netns_lifecycle,
    "trace_ratelimit": trace_ratelimit,
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
