# SPDX-License-Identifier: GPL-2.0
"""Host-side checks of the Docker scenarios (docker_*.sh, issue 5).

The guests run Debian's docker.io 20.10 (see guest/docker.sh): Docker makes
docker0, the containers' namespaces and its own iptables chains. What is
checked: Docker's rules really are in place (read from the guest's
iptables-save), what crossed the network (the probes' OUTCOME lines: who
answered, and whom the server saw as the peer), what dockfw counted (rule
counters, stats) and where it decided (dmesg trace lines, with the
containers' namespaces named from their FACTs).
"""
import base64
import re

from checks import CheckFailed, ctl_json, expect, expect_blocked, expect_ok  # noqa: F401

# Guest time limits (seconds). A docker_* boot-to-result takes 40-90 s
# under TCG on 2 cores; the limits leave room for a loaded machine.
TIMEOUTS = {
    "docker_published_port": 300,
    "docker_userland_proxy": 300,
    "docker_ip_change": 300,
}


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


def expect_docker_chains(g, key, published):
    """Docker's own chains and rules, as dockerd 20.10 writes them, for the
    published {host port: container} map."""
    rules, chains = iptables(g, key)
    for c in ("DOCKER", "DOCKER-USER", "DOCKER-ISOLATION-STAGE-1", "DOCKER-ISOLATION-STAGE-2"):
        expect(c in chains.get("filter", set()), f"dockerd made no filter chain {c}: {chains.get('filter')}")
    expect("DOCKER" in chains.get("nat", set()), "dockerd made no nat chain DOCKER")
    expect_rule(rules, "filter", r"-A FORWARD -j DOCKER-USER", "FORWARD jumps to DOCKER-USER")
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


def expect_served(g, name, server, peer):
    """An OUTCOME ok from `server`, which saw the connection come from
    `peer` (an IPv4 address; dfwprobe prints it IPv4-mapped)."""
    expect_ok(g, name, server)
    o = g.outcome(name)
    m = re.search(r" to \[?(?:::ffff:)?([0-9.]+)\]?:\d+$", o)
    expect(m is not None and m.group(1) == peer, f"{name}: {server} saw the peer {m and m.group(1)}, want {peer}: {o!r}")


def rule_id(g, name):
    from checks import added_id
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


def expect_hooked_in_container(g, evs, name, client, what):
    """Trace lines from the container's own namespace (created by Docker
    after insmod): the connection from `client` entered it at PRE_ROUTING
    and LOCAL_IN on its eth0."""
    inum = next((k for k, v in g.netns_names.items() if v == name), None)
    expect(inum is not None, f"the guest did not report {name}'s namespace")
    seen = {e.hook for e in evs if e.ns == name and e.src.startswith(client + ":")}
    expect({"PRE_ROUTING", "LOCAL_IN"} <= seen,
           f"{what}: dockfw's hooks in {name}'s namespace ({inum}) saw {sorted(seen)} of the "
           f"connection from {client}, want PRE_ROUTING and LOCAL_IN")
    dev = {e.indev for e in evs if e.ns == name and e.hook == "LOCAL_IN" and e.src.startswith(client + ":")}
    expect(dev == {"eth0"}, f"{what}: in {name}'s namespace the packets came in on {dev}, want eth0")


def expect_not_reached(evs, name, client, what):
    reached = [e for e in evs if e.ns == name and e.src.startswith(client + ":")]
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

def docker_published_port(g):
    expect(g.fact("docker_version").startswith("20.10."), f"dockerd {g.fact('docker_version')}, want 20.10.x")
    expect(g.fact("docker_userland_proxy") == "false", "the daemon runs with the userland proxy")
    expect_docker_chains(g, "iptables", {80: "web", 8082: "web2"})
    expect(b64fact(g, "docker:proxies").strip() == "", "docker-proxy runs although the userland proxy is off")
    ps = b64fact(g, "docker:ps")
    for want in ("web Up", "0.0.0.0:80->8080/tcp", "web2 Up", "0.0.0.0:8082->8080/tcp"):
        expect(want in ps, f"docker ps does not show {want!r}:\n{ps}")
    web, web2 = g.fact("ip:web"), g.fact("ip:web2")
    expect(web != web2 and web.startswith("172.17.") and web2.startswith("172.17."), f"container IPs {web} {web2}")

    # The original failure, with Docker's own chains.
    expect_served(g, "before_rules", "web", "10.0.0.2")
    expect_served(g, "input_rule", "web", "10.0.0.2")
    rules, _ = iptables(g, "iptables_docker_user")
    expect_rule(rules, "filter", r"-A DOCKER-USER -p tcp -m tcp --dport 80 -j DROP", "the DOCKER-USER rule")
    expect_served(g, "docker_user_rule", "web", "10.0.0.2")
    expect_blocked(g, "docker_user_8080")

    # dockfw on the published port.
    allow, deny = rule_id(g, "allow"), rule_id(g, "deny")
    expect_served(g, "allowed", "web", "172.16.0.2")
    expect_blocked(g, "refused")
    expect_served(g, "ok_to_web2", "web2", "172.16.0.2")
    evs = events_after(g, "rules", "untraced")
    expect_decided(evs, "FORWARD", "drop", deny, "10.0.0.2:", f"{web}:8080", "10.0.0.1:80",
                   "the refused SYN (DNATed by Docker)")
    expect_decided(evs, "FORWARD", "accept", allow, "172.16.0.2:", f"{web}:8080", "172.16.0.1:80",
                   "the allowed SYN")
    expect_not_reached(evs, "web", "10.0.0.2", "after the rules")
    expect_hooked_in_container(g, evs, "web", "172.16.0.2", "the allowed connection")

    # Docker keeps working.
    expect_served(g, "web2_published", "web2", "10.0.0.2")
    expect_served(g, "outbound", "ext", "10.0.0.1")      # MASQUERADEd to the host's address
    expect_served(g, "c2c", "web2", web)
    expect_served(g, "c2c_back", "web", web2)
    expect_served(g, "host_to_web", "web", "172.17.0.1")

    # What dockfw counted.
    rs = rules_by_id(g, "list")
    expect(len(rs) == 2, f"{len(rs)} rules listed, want 2")
    expect(rs[deny]["packets"] >= 1, "the deny rule counted no packet")
    expect(rs[allow]["packets"] >= 3, f"the allow rule counted {rs[allow]['packets']} packets, fewer than a TCP exchange")
    st = expect_namespaces(g, 5)  # init, web, web2, ext, ok
    expect(st["dropped"] == rs[deny]["packets"],
           f"dockfw dropped {st['dropped']} packets, the deny rule counted {rs[deny]['packets']}")


def docker_userland_proxy(g):
    expect(g.fact("docker_version").startswith("20.10."), f"dockerd {g.fact('docker_version')}, want 20.10.x")
    expect(g.fact("docker_userland_proxy") == "true", "the daemon runs without the userland proxy")
    rules = expect_docker_chains(g, "iptables", {80: "web", 8082: "web2"})
    # With the proxy, Docker leaves traffic from docker0 and to 127/8 alone.
    expect_rule(rules, "nat", r"-A DOCKER -i docker0 -j RETURN", "the docker0 RETURN of proxy mode")
    proxies = b64fact(g, "docker:proxies")
    for port in (80, 8082):
        expect(re.search(rf"docker-proxy .*-host-port {port} .*-container-port 8080", proxies),
               f"no docker-proxy for host port {port}:\n{proxies}")
    web, web2 = g.fact("ip:web"), g.fact("ip:web2")

    # Two paths to the published port.
    expect_served(g, "before_rules", "web", "10.0.0.2")         # DNAT: web sees the client
    expect_served(g, "local_before", "web", "172.17.0.1")       # docker-proxy
    expect_served(g, "hairpin_before", "web", "172.17.0.1")     # docker-proxy
    # The original failure: INPUT does not protect the DNAT path (it does
    # stop the proxied one, which shows the rule was live).
    expect_served(g, "input_rule", "web", "10.0.0.2")
    expect_blocked(g, "input_rule_hairpin")
    rules, _ = iptables(g, "iptables_docker_user")
    expect_rule(rules, "filter", r"-A DOCKER-USER -p tcp -m tcp --dport 80 -j DROP", "the DOCKER-USER rule")
    expect_served(g, "docker_user_rule", "web", "10.0.0.2")

    # dockfw holds on both paths.
    allow, local, deny = rule_id(g, "allow"), rule_id(g, "local"), rule_id(g, "deny")
    expect_served(g, "allowed", "web", "172.16.0.2")
    expect_blocked(g, "refused")
    expect_served(g, "local_allowed", "web", "172.17.0.1")
    expect_blocked(g, "hairpin_refused")
    evs = events_after(g, "rules", "untraced")
    expect_decided(evs, "FORWARD", "accept", allow, "172.16.0.2:", f"{web}:8080", "172.16.0.1:80",
                   "the allowed external SYN")
    expect_decided(evs, "FORWARD", "drop", deny, "10.0.0.2:", f"{web}:8080", "10.0.0.1:80",
                   "the refused external SYN")
    expect_decided(evs, "LOCAL_IN", "accept", local, "127.0.0.1:", "127.0.0.1:80", "127.0.0.1:80",
                   "the host-local SYN to docker-proxy")
    expect_decided(evs, "LOCAL_IN", "drop", deny, f"{web2}:", "172.17.0.1:80", "172.17.0.1:80",
                   "the container's SYN to docker-proxy")
    expect_not_reached(evs, "web", "10.0.0.2", "after the rules")
    expect_hooked_in_container(g, evs, "web", "172.16.0.2", "the allowed connection")
    expect_hooked_in_container(g, evs, "web", "172.17.0.1", "docker-proxy's connection")

    # Docker keeps working.
    expect_served(g, "web2_published", "web2", "10.0.0.2")
    expect_served(g, "outbound", "ext", "10.0.0.1")
    expect_served(g, "c2c", "web2", web)

    rs = rules_by_id(g, "list")
    expect(len(rs) == 3, f"{len(rs)} rules listed, want 3")
    expect(rs[deny]["packets"] >= 2, f"the deny rule counted {rs[deny]['packets']} packets (two refused clients)")
    for rid, name in ((allow, "allow"), (local, "local")):
        expect(rs[rid]["packets"] >= 3, f"the {name} rule counted {rs[rid]['packets']} packets")
    st = expect_namespaces(g, 5)  # init, web, web2, ext, ok
    expect(st["dropped"] == rs[deny]["packets"],
           f"dockfw dropped {st['dropped']} packets, the deny rule counted {rs[deny]['packets']}")


CHECKS = {
    "docker_published_port": docker_published_port,
    "docker_userland_proxy": docker_userland_proxy,
}
