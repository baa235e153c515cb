# SPDX-License-Identifier: GPL-2.0
"""Checks of the docker_ip_change scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403
from dockercheck import *  # noqa: F401,F403

# Guest time limit (seconds) at the small size; run.py scales it.
TIMEOUT = 480


def check(g):
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
    expect_user_rule(g, "iptables", rf"-A DOCKER-USER -s 10\.0\.1\.0/24 -d {re.escape(ips['start'])}/32 -p tcp -m tcp "
                                    r"--dport 8080 -j DROP",
                     f"ip saddr 10.0.1.0/24 ip daddr {ips['start']} tcp dport 8080 drop", "the ufw-docker style rule")
    rs = rules_by_id(g, "list")
    expect(rs[deny]["packets"] >= 3, f"the deny rule counted {rs[deny]['packets']} packets over three steps")
    expect(rs[allow]["packets"] >= 9, f"the allow rule counted {rs[allow]['packets']} packets over three steps")
    expect_namespaces(g, 6)  # init, web, squatter, ext, ok, ext2
