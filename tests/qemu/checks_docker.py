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

# Guest time limits (seconds). A docker_* boot-to-result takes 35-70 s
# under TCG on 2 otherwise idle cores, but over 250 s when three other
# guests and compilers share them: the limits leave room for that.
TIMEOUTS = {
    "docker_published_port": 480,
    "docker_userland_proxy": 480,
    "docker_ip_change": 480,
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
    id, up to the id's next LOCAL_OUT (a new packet reusing the skb)."""
    i = next(k for k, e in enumerate(evs) if e is first)
    path = [first]
    for e in evs[i + 1:]:
        if e.id == first.id:
            if e.hook == "LOCAL_OUT":
                break
            path.append(e)
    return path


def expect_hooks(evs, first, want, what):
    got = [(e.ns, e.hook) for e in path_in(evs, first)]
    expect(got == want, f"{what}: hook path\n  got  {got}\n  want {want}")


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
    expect_loaded_first(g)
    expect_hooked_in_container(g, evs, "web", "172.16.0.2", "the allowed connection")
    # Hook by hook, against the real engine. The SYN: out of ok, DNATed in
    # the host's PRE_ROUTING (FORWARD already sees web:8080), into web.
    syn = next((e for e in evs if e.ns == "ok" and e.hook == "LOCAL_OUT" and e.flags == "S"
                and e.dst == "172.16.0.1:80"), None)
    expect(syn is not None, "the allowed SYN was not traced leaving ok")
    expect_hooks(evs, syn, [("ok", "LOCAL_OUT"), ("ok", "POST_ROUTING"), ("init", "PRE_ROUTING"),
                                ("init", "FORWARD"), ("init", "POST_ROUTING"), ("web", "PRE_ROUTING"),
                                ("web", "LOCAL_IN")], "the allowed SYN, real Docker")
    # The SYN-ACK: Docker turns bridge-nf-call-iptables on, so the frame
    # from web's veth meets the host's PRE_ROUTING twice: as a bridged
    # frame (br_netfilter's pass, before conntrack has seen it) and again
    # at the IP layer of docker0, where it is routed (conntrack's reply
    # tuple attached by then), then un-DNATed after POST_ROUTING.
    synack = next((e for e in evs if e.ns == "web" and e.hook == "LOCAL_OUT" and e.flags == "S."
                   and e.src == f"{web}:8080"), None)
    expect(synack is not None, "the SYN-ACK was not traced leaving web")
    expect_hooks(evs, synack, [("web", "LOCAL_OUT"), ("web", "POST_ROUTING"), ("init", "PRE_ROUTING"),
                                   ("init", "PRE_ROUTING"), ("init", "FORWARD"), ("init", "POST_ROUTING"),
                                   ("ok", "PRE_ROUTING"), ("ok", "LOCAL_IN")], "the SYN-ACK, real Docker")
    pre = [e for e in path_in(evs, synack) if e.hook == "PRE_ROUTING" and e.ns == "init"]
    expect(not pre[0].ct and pre[1].ct and "reply" in pre[1].ct,
           f"the SYN-ACK's two host PRE_ROUTING passes: ct {pre[0].ct!r} then {pre[1].ct!r}, "
           "want none (bridge pass) then the reply direction (IP pass)")
    back = [e for e in path_in(evs, synack) if e.ns == "ok"]
    expect(all(e.src == "172.16.0.1:80" for e in back), f"un-DNAT: ok saw the SYN-ACK from {back[0].src}")

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
    # Docker 20.10 runs one proxy per published port and host address
    # family: 0.0.0.0 and ::, each to the container's 8080.
    for port in (80, 8082):
        hosts = sorted(re.findall(rf"docker-proxy -proto tcp -host-ip (\S+) -host-port {port} "
                                  rf"-container-ip \S+ -container-port 8080", proxies))
        expect(hosts == ["0.0.0.0", "::"], f"docker-proxy processes for host port {port}: {hosts}, "
                                           f"want one on 0.0.0.0 and one on ::\n{proxies}")
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
    expect_loaded_first(g)
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


def docker_ip_change(g):
    allow, deny = rule_id(g, "allow"), rule_id(g, "deny")
    steps = ["start", "restart", "rerun"]
    expect_loaded_first(g)
    ips = {s: g.fact("ip_" + s) for s in steps}
    nss = {s: int(g.fact("netns_" + s)) for s in steps}
    # Each step runs a new container process in a new namespace (an inode
    # number can come back once the old namespace is freed: compare pids).
    pids = {s: g.fact("pid_" + s) for s in steps}
    expect(len(set(pids.values())) == 3, f"the container's process did not change at each step: {pids}")
    # Each step's namespace stayed pinned (ip netns attach), so no inode
    # could come back: three distinct namespaces, each the one traced.
    expect(len(set(nss.values())) == 3, f"the container's namespace did not change at each step: {nss}")
    expect(ips["rerun"] != ips["start"], f"docker rm + run kept the address {ips['start']}: the test proves nothing")
    expect(g.fact("ip_squatter") == ips["start"],
           f"the squatter got {g.fact('ip_squatter')}, not web's old {ips['start']}")
    for s in steps:
        ip = ips[s]
        expect_served(g, f"allowed_{s}", "web", "172.16.0.2")
        expect_blocked(g, f"refused_{s}")
        evs = events_after(g, s, f"{s}-end")
        expect_decided(evs, "FORWARD", "accept", allow, "172.16.0.2:", f"{ip}:8080", "172.16.0.1:80",
                       f"after {s}: the allowed SYN")
        expect_decided(evs, "FORWARD", "drop", deny, "10.0.0.2:", f"{ip}:8080", "10.0.0.1:80",
                       f"after {s}: the refused SYN")
        expect_hooked_in_container(g, evs, "web", "172.16.0.2", f"after {s}", nss[s])
        expect_not_reached(evs, nss[s], "10.0.0.2", f"after {s}")
    # The ufw-docker failure: the rule on the old address held until the
    # address changed.
    expect_blocked(g, "ext2_start")
    expect_blocked(g, "ext2_restart")
    expect_served(g, "ext2_rerun", "web", "10.0.1.2")
    rules, _ = iptables(g, "iptables")
    expect_rule(rules, "nat", rf"-A DOCKER -p tcp -m tcp --dport 80 -j DNAT --to-destination "
                              rf"{re.escape(ips['rerun'])}:8080", "Docker's DNAT to the new address")
    expect_rule(rules, "filter", rf"-A DOCKER-USER -s 10\.0\.1\.0/24 -d {re.escape(ips['start'])}/32 -p tcp -m tcp "
                                 r"--dport 8080 -j DROP", "the ufw-docker style rule")
    rs = rules_by_id(g, "list")
    expect(rs[deny]["packets"] >= 3, f"the deny rule counted {rs[deny]['packets']} packets over three steps")
    expect(rs[allow]["packets"] >= 9, f"the allow rule counted {rs[allow]['packets']} packets over three steps")
    expect_namespaces(g, 6)  # init, web, squatter, ext, ok, ext2


CHECKS = {
    "docker_published_port": docker_published_port,
    "docker_userland_proxy": docker_userland_proxy,
    "docker_ip_change": docker_ip_change,
}


# --- docker_named: rules that name a container, kept current by `watch` ------

def docker_named(g):
    """to-container rules resolved through the engine; `dockfwctl watch`
    moves them when web is removed and recreated at another address, never
    leaves them on the old one (which another container took), and makes
    them inactive when web stops."""
    import json
    from checks import ctl, ctl_ok, stream_events
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

CHECKS["docker_named"] = docker_named
TIMEOUTS["docker_named"] = 400
