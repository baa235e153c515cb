# SPDX-License-Identifier: GPL-2.0
"""What the scenarios' checks share: the guest log parsed (FACTs, OUTCOMEs,
dmesg trace lines as events, the netlink trace stream), `expect` and the
common assertions. Each scenario is a folder scenarios/NAME/ holding
`guest.sh` (run in the guest) and `check.py` (its `check(g)`, an
optional `TIMEOUT` in seconds, and an optional `NEEDS`: ("python",) has
run.py append the Python payload to the guest's image); `scenarios()`
finds them. Helpers of one
group live beside this module (robustcheck.py, dockercheck.py); no helper
module imports a scenario.

A guest run yields the scenario's own output (FACT and OUTCOME lines) and the
full kernel log. Trace lines are parsed into events; one packet's path is the
run of events with the same skb id, split where a new locally generated
packet starts (LOCAL_OUT) since a freed skb's memory, and so its id, can be
reused by the next packet.
"""
import importlib.util
import os
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
        """The events of the packet `first` belongs to, in log order. An skb
        id is its address: once a packet is delivered (LOCAL_IN, the last
        hook it can cross) or a new one is sent (LOCAL_OUT), a later event
        with that id is another packet in the same memory (a bridge's copy
        or clone of a later frame can land there without a LOCAL_OUT)."""
        same = [e for e in self.events if e.id == first.id]
        segs, cur = [], []
        for e in same:
            if cur and (e.hook == "LOCAL_OUT" or cur[-1].hook == "LOCAL_IN"):
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


def drops_only_at(g, start, end, ns, hook, rule):
    """The trace events between two marks; every drop among them is by
    `rule` at `ns` `hook` (and there is one)."""
    window = g.dmesg_after(start)
    evs = g.parse_events(window[:window.find(f"DFW-MARK {end}")])
    drops = [e for e in evs if e.verdict == "drop"]
    expect(drops and all((e.ns, e.hook, e.rule) == (ns, hook, str(rule)) for e in drops),
           f"between {start} and {end}, drops should be {ns} {hook} by rule {rule}: {drops[:3]}")
    return evs


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


# An attribute sent to an operation without a request policy: refused by
# dockfw on a 6.x genl core, by the core itself on later ones (the check
# picks by the guest's kernel release).
NO_ATTRS = ("takes no attributes", "Unknown attribute type")
BAD_INPUT = {
    # name: (errno, words of the extended-ack message, or NO_ATTRS; None =
    # no message)
    "add_no_rule": (22, "missing DOCKFW_A_RULE"),
    "add_no_verdict": (22, "needs a verdict"),
    "add_unknown_top": (22, "Unknown attribute type"),
    "add_unknown_nested": (22, "Unknown attribute type"),
    "add_verdict_range": (34, "integer out of range"),
    "add_hooks_zero": (22, "names no hook"),  # netlink.rs: the flags mask allows 0
    "add_hooks_range": (22, "reserved bit set"),  # nlattr.c: NLA_POLICY_MASK of the hook flags
    "add_saddr_short": (22, "must be 4 or 16 bytes"),  # netlink.rs: the generator has no length range
    "add_saddr_long": (22, "must be 4 or 16 bytes"),
    "add_saddr_5": (22, "must be 4 or 16 bytes"),
    "add_prefix_no_addr": (22, "prefix length without an address"),
    "add_prefix_too_long": (22, "prefix length longer"),
    "add_port_wrong_type": (22, "invalid attribute length"),
    "add_port_max_only": (22, "maximum without a minimum"),
    "add_port_inverted": (22, "minimum above maximum"),
    "add_ports_icmp": (22, "ports only exist"),
    "add_ifname_long": (22, "Attribute failed policy validation"),
    "add_netns_both": (22, "not both"),
    "add_counter_in_req": (22, "counters are reply-only"),  # netlink.rs: the rule set serves replies too
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
    # An op without a request policy: 6.12's genl core does not parse its
    # attributes at all (dockfw_nl.c refuses them); later cores parse them
    # against maxattr 0 and refuse them first (nlattr.c).
    "flush_unknown": (22, NO_ATTRS),
    "stats_unknown": (22, NO_ATTRS),
    "policy_get_unknown": (22, NO_ATTRS),
    "del_stats_attr": (22, "Unknown attribute type"),  # nlattr.c: above rule-del's maxattr
    "dump_unknown": (22, NO_ATTRS),  # a dump without a request policy
    "unknown_cmd": (95, None),
    "nobody_stats": (1, None),
    "nobody_add": (1, None),
    "nobody_flush": (1, None),
    "replace_bad_batch": (34, "integer out of range"),
}


# --- hooks on demand ----------------------------------------------------------

NFT_HOOKS = ("prerouting", "input", "forward", "output", "postrouting")
ALL_HOOKS = {f"{f}:{h}" for f in ("ip", "ip6") for h in NFT_HOOKS}


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


SCENARIO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios")


def scenarios():
    """{name: module} of every scenarios/NAME/check.py, in name order. A
    check that fails to import stops the suite (no scenario is dropped
    silently)."""
    out = {}
    for name in sorted(os.listdir(SCENARIO_DIR)):
        path = os.path.join(SCENARIO_DIR, name, "check.py")
        if not os.path.isfile(path):
            continue
        if not os.path.isfile(os.path.join(SCENARIO_DIR, name, "guest.sh")):
            raise SystemExit(f"scenario {name}: check.py without guest.sh")
        spec = importlib.util.spec_from_file_location(f"scenario_{name}", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        if not callable(getattr(mod, "check", None)):
            raise SystemExit(f"scenario {name}: check.py defines no check(g)")
        out[name] = mod
    return out

