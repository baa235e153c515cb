# SPDX-License-Identifier: GPL-2.0
"""Checks of the docker_published_port scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403
from dockercheck import *  # noqa: F401,F403

# Guest time limit (seconds) at the small size; run.py scales it.
TIMEOUT = 480


def check(g):
    row, backend = expect_engine(g)
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
    expect_user_rule(g, "iptables_docker_user", r"-A DOCKER-USER -p tcp -m tcp --dport 80 -j DROP",
                     "tcp dport 80 drop", "the engine's user rule")
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

    # A dockfw accept lets a packet past dockfw only: ext straight to web's
    # address, accepted by dockfw at the host's PRE_ROUTING, then Docker's
    # own verdict: up to 26 its DOCKER chain accepts the container port from
    # anywhere; Docker 28 drops it in raw PREROUTING (after dockfw's hook at
    # NF_IP_PRI_FIRST), so no FORWARD.
    direct = rule_id(g, "direct")
    devs = events_after(g, "direct", "direct_end")
    syns = [e for e in devs if e.ns == "init" and e.flags == "S" and e.src.startswith("10.0.0.2:")
            and e.dst == f"{web}:8080"]
    expect(any(e.hook == "PRE_ROUTING" and e.verdict == "accept" and e.rule == str(direct) for e in syns),
           f"the direct SYN was not accepted by dockfw rule {direct} at the host's PRE_ROUTING: "
           + "; ".join(e.line for e in syns)[:2000])
    forwarded = any(e.hook == "FORWARD" for e in syns)
    if g.fact("docker_version").startswith("28."):
        expect_blocked(g, "direct")
        expect(not forwarded, "Docker 28's raw drop: the direct SYN still reached the host's FORWARD")
    else:
        expect_served(g, "direct", "web", "10.0.0.2")
        expect(forwarded, "the direct SYN served by web was not traced at the host's FORWARD")

    # What dockfw counted.
    rs = rules_by_id(g, "list")
    expect(len(rs) == 3, f"{len(rs)} rules listed, want 3")
    expect(rs[deny]["packets"] >= 1, "the deny rule counted no packet")
    expect(rs[allow]["packets"] >= 3, f"the allow rule counted {rs[allow]['packets']} packets, fewer than a TCP exchange")
    st = expect_namespaces(g, 5)  # init, web, web2, ext, ok
    expect(st["dropped"] == rs[deny]["packets"],
           f"dockfw dropped {st['dropped']} packets, the deny rule counted {rs[deny]['packets']}")
