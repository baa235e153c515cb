# SPDX-License-Identifier: GPL-2.0
"""Checks of the docker_userland_proxy scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403
from dockercheck import *  # noqa: F401,F403

# Guest time limit (seconds) at the small size; run.py scales it.
TIMEOUT = 480


def check(g):
    row, backend = expect_engine(g)
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
    expect_user_rule(g, "iptables_docker_user", r"-A DOCKER-USER -p tcp -m tcp --dport 80 -j DROP",
                     "tcp dport 80 drop", "the engine's user rule")
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
