# SPDX-License-Identifier: GPL-2.0
"""Helpers of the Docker scenarios (docker_*).

The guests run a Debian build of Docker (20.10 by default, or the engine row
of run.py --engine; see guest/docker.sh): Docker makes
docker0, the containers' namespaces and its own iptables chains. What is
checked: Docker's rules really are in place (read from the guest's
iptables-save), what crossed the network (the probes' OUTCOME lines: who
answered, and whom the server saw as the peer), what dockfw counted (rule
counters, stats) and where it decided (dmesg trace lines, with the
containers' namespaces named from their FACTs).
"""
import base64
import re

from qemucheck import *  # noqa: F401,F403
from qemucheck import expect


def b64fact(g, key):
    return base64.b64decode(g.fact(key)).decode(errors="replace")


def iptables(g, key):
    """{table: [rule lines]} and {table: set of chains} of an iptables-save FACT."""
    rules, chains, table = {}, {}, None
    for line in b64fact(g, key).splitlines():
        if line.startswith("*"):
            table = line[1:]
            rules[table], chains[table] = [], set()
        elif line.startswith(":") and table:
            chains[table].add(line[1:].split()[0])
        elif line.startswith("-A ") and table:
            rules[table].append(line)
    return rules, chains


def expect_rule(rules, table, pattern, what):
    r = re.compile(pattern)
    expect(any(r.fullmatch(l) for l in rules.get(table, [])),
           f"{what}: no {table} rule matching {pattern!r} in the guest's iptables-save:\n  " +
           "\n  ".join(rules.get(table, [])))




def expect_engine(g):
    """The engine row this boot packed (/docker/engine) and that dockerd
    reports its version; returns (row, firewall backend)."""
    row, v = g.fact("docker_engine"), g.fact("docker_version")
    # A row names its engine's version: docker-28.5-nftables runs 28.5.x.
    m = re.fullmatch(r"docker-(\d+\.\d+)(-\w+)?", row)
    expect(m is not None, f"unknown engine row {row!r}")
    expect(v.startswith(m.group(1) + "."), f"dockerd {v}, want {m.group(1)}.x (engine row {row})")
    backend = g.fact("docker_firewall_backend")
    if "ctl_rc:status" in g.facts:
        # dockfwctl status: the engine as its API reports it. Before API
        # 1.49 (Docker 28) there is no FirewallBackend: iptables, unreported.
        st = ctl_json(g, "status")
        e = st.get("engine", {})
        reported = not v.startswith(("20.", "26."))
        expect(e.get("product") == "docker" and e.get("version") == v,
               f"dockfwctl status names the engine {e}, want docker {v}")
        expect(e.get("firewall_backend") == backend and e.get("firewall_backend_reported") == reported,
               f"dockfwctl status: firewall backend {e.get('firewall_backend')!r} (reported "
               f"{e.get('firewall_backend_reported')}), want {backend!r} (reported {reported})")
        warned = any("no DOCKER-USER" in w for w in st.get("warnings", []))
        expect(warned == (backend == "nftables"),
               f"dockfwctl status warnings {st.get('warnings')} for the {backend} backend")
    return row, backend


def expect_docker_chains(g, key, published):
    """Docker's own iptables chains and rules, as dockerd 20.10-28 writes
    them, for the published {host port: container} map."""
    rules, chains = iptables(g, key)
    nft_backend = g.fact("docker_firewall_backend") == "nftables"
    if nft_backend:
        # Debian's Docker 28.5 with DOCKER_FIREWALL_BACKEND=nftables (and
        # --experimental) reports the nftables backend, but its bridge
        # driver still writes its rules with iptables(-nft), without a
        # DOCKER-USER chain; Docker's own `ip docker-bridges` table is
        # Docker 29's, which no Debian suite ships.
        info = g.fact("docker_info_firewall")
        expect('"nftables"' in info, f"docker info reports the firewall backend {info!r}, want nftables")
        expect("table ip docker-bridges" not in nft_ruleset(g, key),
               "Docker's own nftables table appeared: this engine is not the 28.5 the row expects")
        expect("DOCKER-USER" not in chains.get("filter", set()),
               "the nftables backend made a DOCKER-USER chain")
    for c in ("DOCKER", "DOCKER-ISOLATION-STAGE-1", "DOCKER-ISOLATION-STAGE-2") + (() if nft_backend else ("DOCKER-USER",)):
        expect(c in chains.get("filter", set()), f"dockerd made no filter chain {c}: {chains.get('filter')}")
    expect("DOCKER" in chains.get("nat", set()), "dockerd made no nat chain DOCKER")
    if not nft_backend:
        expect_rule(rules, "filter", r"-A FORWARD -j DOCKER-USER", "FORWARD jumps to DOCKER-USER")
    if g.fact("docker_version").startswith("28."):
        # Docker 28 gathers its FORWARD rules in DOCKER-FORWARD, and drops
        # what reaches a container's unpublished port from outside.
        expect_rule(rules, "filter", r"-A FORWARD -j DOCKER-FORWARD", "FORWARD jumps to DOCKER-FORWARD")
        expect_rule(rules, "filter", r"-A DOCKER-FORWARD -j DOCKER-ISOLATION-STAGE-1",
                    "DOCKER-FORWARD jumps to the isolation chain")
        expect_rule(rules, "filter", r"-A DOCKER ! -i docker0 -o docker0 -j DROP",
                    "Docker 28's drop of unpublished container ports")
    else:
        expect_rule(rules, "filter", r"-A FORWARD -j DOCKER-ISOLATION-STAGE-1", "FORWARD jumps to the isolation chain")
    expect_rule(rules, "nat", r"-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER", "nat PREROUTING")
    expect_rule(rules, "nat", r"-A POSTROUTING -s 172\.17\.0\.0/16 ! -o docker0 -j MASQUERADE", "MASQUERADE")
    for hport, name in published.items():
        ip = re.escape(g.fact("ip:" + name))
        expect_rule(rules, "nat", rf"-A DOCKER (! -i docker0 )?-p tcp -m tcp --dport {hport} -j DNAT "
                                  rf"--to-destination {ip}:8080", f"DNAT of :{hport} to {name}")
        expect_rule(rules, "filter", rf"-A DOCKER -d {ip}/32 ! -i docker0 -o docker0 -p tcp -m tcp "
                                     r"--dport 8080 -j ACCEPT", f"the DOCKER accept for {name}")
    return rules


def nft_ruleset(g, key):
    return b64fact(g, key + ":nft")


def expect_user_rule(g, key, ipt_pattern, nft_words, what):
    """The user's rule as the engine's backend holds it (docker.sh
    user_rule): in DOCKER-USER (iptables-save), or in the user's own
    nftables forward chain."""
    if g.fact("docker_firewall_backend") == "nftables":
        rs = nft_ruleset(g, key)
        m = re.search(r"table ip user \{.*?\n\}", rs, re.S)
        expect(m and nft_words in m.group(0), f"{what}: no {nft_words!r} in the user's nftables table:\n" + rs[:3000])
    else:
        rules, _ = iptables(g, key)
        expect_rule(rules, "filter", ipt_pattern, what)


def expect_served(g, name, server, peer):
    """An OUTCOME ok from `server`, which saw the connection come from
    `peer` (an IPv4 address; dfwprobe prints it IPv4-mapped)."""
    expect_ok(g, name, server)
    o = g.outcome(name)
    m = re.search(r" to \[?(?:::ffff:)?([0-9.]+)\]?:\d+$", o)
    expect(m is not None and m.group(1) == peer, f"{name}: {server} saw the peer {m and m.group(1)}, want {peer}: {o!r}")


def rule_id(g, name):
    from qemucheck import added_id
    return added_id(g, name)


def rules_by_id(g, key):
    return {r["id"]: r for r in ctl_json(g, key)}


def events_after(g, marker, until=None):
    window = g.dmesg_after(marker)
    if until:
        i = window.find(f"DFW-MARK {until}")
        expect(i >= 0, f"marker {until!r} not in the kernel log")
        window = window[:i]
    return g.parse_events(window)


def expect_decided(evs, hook, verdict, rule, src_prefix, dst, orig_dst, what, ns="init"):
    """A trace line at (ns, hook) with this verdict by this rule, for a
    packet from src_prefix to dst whose conntrack original destination is
    orig_dst."""
    hits = [e for e in evs if e.hook == hook and e.verdict == verdict and e.src.startswith(src_prefix)]
    expect(hits, f"{what}: no {verdict} at {hook} for a packet from {src_prefix}; decisions seen:\n  " +
           "\n  ".join(e.line for e in evs if e.verdict in ("drop",) or e.rule not in (None, "-"))[:3000])
    e = hits[0]
    expect(e.ns == ns, f"{what}: decided in namespace {e.ns}, want {ns}")
    expect(e.rule == str(rule), f"{what}: decided by rule {e.rule}, want {rule}")
    expect(e.dst == dst, f"{what}: the packet was going to {e.dst}, want {dst}")
    if orig_dst:
        expect(e.orig is not None and e.orig.endswith("->" + orig_dst),
               f"{what}: conntrack original tuple {e.orig}, want ...->{orig_dst}")
    return e


def expect_hooked_in_container(g, evs, name, client, what, inum=None):
    """Trace lines from the container's own namespace (created by Docker
    after insmod; `inum`, or the one the guest named `name`): the
    connection from `client` entered it at PRE_ROUTING and LOCAL_IN on its
    eth0."""
    if inum is None:
        inum = next((k for k, v in g.netns_names.items() if v == name), None)
    expect(inum is not None, f"the guest did not report {name}'s namespace")
    evs = [e for e in evs if e.netns == inum]
    seen = {e.hook for e in evs if e.src.startswith(client + ":")}
    expect({"PRE_ROUTING", "LOCAL_IN"} <= seen,
           f"{what}: dockfw's hooks in {name}'s namespace ({inum}) saw {sorted(seen)} of the "
           f"connection from {client}, want PRE_ROUTING and LOCAL_IN")
    dev = {e.indev for e in evs if e.hook == "LOCAL_IN" and e.src.startswith(client + ":")}
    expect(dev == {"eth0"}, f"{what}: in {name}'s namespace the packets came in on {dev}, want eth0")


def expect_loaded_first(g):
    """dockfw was loaded while only the initial namespace existed: every
    container namespace Docker made later got its hooks from pernet init."""
    m = re.search(r"dockfw: loaded: following (\d+) namespaces", g.dmesg)
    expect(m is not None, "no `dockfw: loaded` line in the kernel log")
    expect(m.group(1) == "1", f"dockfw was loaded with {m.group(1)} namespaces alive, want 1 (before dockerd)")


def expect_not_reached(evs, name, client, what):
    """No trace line of `client`'s packets in namespace `name` (the guest's
    name for it, or its inode number)."""
    reached = [e for e in evs if name in (e.ns, e.netns) and e.src.startswith(client + ":")]
    expect(not reached, f"{what}: the refused client {client} reached {name}: {reached[:2]}")


def expect_namespaces(g, want):
    """Every live namespace is hooked: dockfw's count (stats and parameter)
    equals the namespaces alive in the guest, and `want` of them."""
    st = ctl_json(g, "stats")
    live = int(g.fact("live_netns"))
    expect(live == want, f"{live} namespaces alive, want {want}")
    expect(st["hooked_netns"] == live, f"dockfwctl stats: hooks in {st['hooked_netns']} namespaces, {live} alive")
    expect(int(g.fact("hooked_param")) == live, f"hooked_netns parameter {g.fact('hooked_param')}, {live} alive")
    expect(st["malformed"] == 0, f"{st['malformed']} packets did not parse")
    return st


# --- the scenarios -------------------------------------------------------------

def path_in(evs, first):
    """The hooks one packet crossed: `first` and the later events of its skb
    id, up to its delivery (LOCAL_IN) or the id's next LOCAL_OUT (a new
    packet reusing the skb; see GuestLog.path_of)."""
    i = next(k for k, e in enumerate(evs) if e is first)
    path = [first]
    for e in evs[i + 1:]:
        if e.id == first.id:
            if e.hook == "LOCAL_OUT" or path[-1].hook == "LOCAL_IN":
                break
            path.append(e)
    return path


def expect_hooks(evs, first, want, what):
    got = [(e.ns, e.hook) for e in path_in(evs, first)]
    expect(got == want, f"{what}: hook path\n  got  {got}\n  want {want}")
