# SPDX-License-Identifier: GPL-2.0
# The original report, with a real Docker engine (userland proxy off; the
# engine row of run.py --engine, Debian 12's 20.10 by default):
# `docker run -p 80:8080`. Docker's own DNAT sends the connection to the
# container before filter INPUT sees it, and a DOCKER-USER rule on the host
# port never matches either (it sees 172.17.0.x:8080). The dockfw rule on
# the published port (orig-dport 80) lets 172.16.0.0/24 in and refuses the
# rest, while Docker keeps working: a second container on its own published
# port, outbound traffic through Docker's MASQUERADE, container to container.
# dockfw is loaded before dockerd starts, so the containers' namespaces are
# created by Docker after the module: their hooks come from pernet init.
. /scenarios/lib.sh
. /scenarios/docker.sh
docker_published_setup false

# What users write first: INPUT on the host port. DNAT happened in
# PREROUTING, so filter INPUT never sees the packet.
$IPT -A INPUT -p tcp -s 172.16.0.0/24 --dport 80 -j ACCEPT
$IPT -A INPUT -p tcp --dport 80 -j DROP
probe input_rule ext connect 10.0.0.1 80 1500
$IPT -D INPUT -p tcp -s 172.16.0.0/24 --dport 80 -j ACCEPT
$IPT -D INPUT -p tcp --dport 80 -j DROP
# Then Docker's documented place for user rules (docker.sh's user_rule:
# DOCKER-USER, or with the nftables backend a forward chain of the user's
# own before the engine's), still on the host port: it sees the
# container's address and port.
user_rule accept 172.16.0.0/24 - 80
user_rule drop - - 80
docker_iptables iptables_docker_user
probe docker_user_rule ext connect 10.0.0.1 80 1500
# Control: the rules are traversed (a rule on the container port 8080
# does stop ext), so the probe above could have failed.
user_rule drop 10.0.0.0/24 - 8080
probe docker_user_8080 ext connect 10.0.0.1 80 1500
user_flush

# dockfw on the published port.
ctl allow add forward input tcp saddr 172.16.0.0/24 orig-dport 80 accept
ctl deny add forward input tcp orig-dport 80 drop
mark rules
echo 1 > /sys/module/dockfw/parameters/trace
probe allowed ok connect 172.16.0.1 80
probe refused ext connect 10.0.0.1 80 1500
echo 0 > /sys/module/dockfw/parameters/trace
mark untraced
probe ok_to_web2 ok connect 172.16.0.1 8082
# Docker keeps working.
probe web2_published ext connect 10.0.0.1 8082
ctr_probe outbound web connect 10.0.0.2 9000
ctr_net_probe c2c web connect "$(docker_ip web2)" 8080
ctr_net_probe c2c_back web2 connect "$(docker_ip web)" 8080
probe_host host_to_web connect "$(docker_ip web)" 8080
# What a dockfw accept means against the engine's own drop: ext straight
# to web's address and container port (routed through the host, no DNAT),
# accepted by a dockfw rule at every hook. Docker up to 26 accepts it too
# (its DOCKER chain accepts the published container port from anywhere);
# Docker 28 drops it in its raw PREROUTING rule, after dockfw's accept.
in_ns ext $IP route add 172.17.0.0/16 via 10.0.0.1
ctl direct add tcp saddr 10.0.0.0/24 daddr "$(docker_ip web)" dport 8080 accept
mark direct
echo 1 > /sys/module/dockfw/parameters/trace
probe direct ext connect "$(docker_ip web)" 8080 1500
echo 0 > /sys/module/dockfw/parameters/trace
mark direct_end
ctl list list --json
ctl stats stats --json
fact hooked_param "$(cat /sys/module/dockfw/parameters/hooked_netns)"
fact live_netns "$(live_netns | wc -l)"
