# SPDX-License-Identifier: GPL-2.0
"""Checks of the ynl_cli scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403

# The guest runs the kernel's cli.py: run.py appends the Python payload.
NEEDS = ("python",)
TIMEOUT = 240

# NF_INET_* (the event's `hook` is the hook number, no enum in the spec).
PRE_ROUTING, LOCAL_IN, LOCAL_OUT, POST_ROUTING = 0, 1, 3, 4


def ynl(g, name):
    """(exit code, stdout, stderr) of a `ynl NAME ...` call in the guest."""
    import base64
    rc = int(g.fact("ynl_rc:" + name))
    out, err = (base64.b64decode(g.facts.get(f"ynl_{k}:{name}", "")).decode(errors="replace") for k in ("out", "err"))
    return rc, out, err


def ynl_json(g, name):
    import json
    rc, out, err = ynl(g, name)
    expect(rc == 0, f"cli.py ({name}) exited {rc}: {out.strip()} {err.strip()}")
    try:
        return json.loads(out)
    except ValueError as e:
        raise CheckFailed(f"cli.py ({name}) printed no JSON ({e}): {out[:300]!r}")


def rules_of(dump, name):
    """The rules of a dump, hook names sorted (cli.py decodes flags as a set)."""
    expect(isinstance(dump, list) and all("rule" in m for m in dump), f"{name}: not a rule dump: {dump}")
    return [dict(m["rule"], hooks=sorted(m["rule"].get("hooks", []))) for m in dump]


def check(g):
    # do: the reply names the new rule.
    reply = ynl_json(g, "add")
    rid = reply.get("rule-id")
    expect(isinstance(rid, int) and rid >= 1 and reply.get("version") == 1, f"rule-add reply {reply}")
    seed = added_id(g, "seed")

    # dump: both rules, in evaluation order, with the values sent.
    rules = rules_of(ynl_json(g, "dump"), "dump")
    by_id = {r.get("id"): r for r in rules}
    expect(set(by_id) == {seed, rid}, f"dump holds rules {list(by_id)}, want {seed} (dockfwctl) and {rid} (cli.py)")
    mine = by_id[rid]
    want = {"proto": 17, "dport-min": 7777, "dport-max": 7777, "verdict": "drop", "hooks": ["input"],
            "comment": "ynl-cli"}
    expect(all(mine.get(k) == v for k, v in want.items()), f"rule {rid} dumped as {mine}, want {want}")
    s = by_id[seed]
    expect((s.get("proto"), s.get("dport-min"), s.get("verdict"), s.get("hooks"), s.get("comment"))
           == (6, 8081, "accept", ["forward"], "seed"), f"dockfwctl's rule {seed} dumped by cli.py as {s}")
    # Cross-check: dockfwctl lists the same rules, in the same order, and
    # cli.py's rule with what cli.py sent.
    listed = ctl_json(g, "list")
    expect([r["id"] for r in listed] == [r["id"] for r in rules],
           f"dockfwctl lists {[r['id'] for r in listed]}, cli.py dumped {[r['id'] for r in rules]}")
    r = rule_by_id(listed, rid)
    expect((r["action"], r["proto"], r["dport"], r["hooks"], r["comment"])
           == ("drop", 17, {"min": 7777, "max": 7777}, ["input"], "ynl-cli"),
           f"dockfwctl lists cli.py's rule as {r}")

    # The refused request: cli.py prints the NlError (errno and the decoded
    # extended ACK). "integer out of range" is the netlink core's own
    # message: lib/nlattr.c, nla_validate_int_range_unsigned(), sets it
    # with NL_SET_ERR_MSG_ATTR_POL (and -ERANGE) for an integer outside its
    # policy's range; the ACK also points at the attribute and carries the
    # policy (NLMSGERR_ATTR_OFFS, NLMSGERR_ATTR_POLICY), which cli.py
    # decodes by the spec.
    import ast
    rc, out, err = ynl(g, "refused")
    expect(rc == 1 and "Netlink error: Numerical result out of range" in out and "error: -34" in out,
           f"verdict 7: cli.py exited {rc}: {out!r} {err!r}")
    m = re.search(r"extack: (\{.*\})", out)
    expect(m is not None, f"no extended ACK in cli.py's output: {out!r}")
    extack = ast.literal_eval(m.group(1))
    expect(extack.get("msg") == "integer out of range" and extack.get("bad-attr") == ".rule.verdict"
           and extack.get("policy", {}).get("max-value") == 2,
           f"extended ACK {extack}: want the message 'integer out of range', the attribute .rule.verdict "
           f"and the policy's maximum 2 (DOCKFW_VERDICT_LOG)")
    after = rules_of(ynl_json(g, "dump_after_refused"), "dump after the refused request")
    expect(after == rules, f"the refused request changed the rules: {rules} -> {after}")

    # subscribe: the events of the three datagrams, as the spec decodes them.
    expect(g.fact("holder") == "NLOK", f"the trace filter was not installed: {g.fact('holder')}")
    expect(g.fact("udp_sent") == "SENT 3", f"sender: {g.fact('udp_sent')}")
    before, now = g.fact("registered").split()
    expect(int(now) > int(before), f"cli.py's join did not register the filter's hooks ({before} -> {now})")
    msgs = ynl_json(g, "sub")
    expect(isinstance(msgs, list) and all(m.get("name") == "trace-event" for m in msgs),
           f"the subscription printed {msgs!r:.300}")
    events = [m["msg"]["event"] for m in msgs]
    ns = {v: k for k, v in g.netns_names.items()}
    c1, c2 = ns["c1"], ns["c2"]
    sports = {e.get("sport") for e in events}
    for e in events:
        expect((e.get("family"), e.get("proto"), e.get("saddr"), e.get("daddr"), e.get("dport"))
               == (2, 17, "172.17.0.2", "172.17.0.3", 7777) and len(sports) == 1 and e.get("sport"),
               f"event {e}: want IPv4 UDP 172.17.0.2:(one source port) -> 172.17.0.3:7777")
    # Each datagram (its IP id: an skb id is an address, which the next
    # datagram's skb may reuse) crossed c1's LOCAL_OUT and POST_ROUTING,
    # c2's PRE_ROUTING and LOCAL_IN, in that order, and was dropped there
    # by cli.py's rule; the default policy accepted it before.
    want = [(c1, LOCAL_OUT, "accept", None), (c1, POST_ROUTING, "accept", None),
            (c2, PRE_ROUTING, "accept", None), (c2, LOCAL_IN, "drop", rid)]
    paths = {}
    for e in events:  # in the order they arrived
        paths.setdefault(e.get("ip-id"), []).append((e.get("netns"), e.get("hook"), e.get("verdict"), e.get("rule-id")))
    expect(len(paths) == 3 and all(p == want for p in paths.values()),
           f"events per datagram (IP id): {paths}, want 3 datagrams each at {want} (c1={c1}, c2={c2})")
    r = rule_by_id(ctl_json(g, "list_after"), rid)
    expect(r["packets"] == 3, f"cli.py's rule dropped {r['packets']} packets, want the 3 datagrams")
