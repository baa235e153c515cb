# SPDX-License-Identifier: GPL-2.0
# The same report with Docker's default, the userland proxy on: dockerd
# 20.10 then runs a docker-proxy per published port and the port has two
# paths. From outside, Docker's DNAT still sends the connection through
# FORWARD to the container (INPUT and DOCKER-USER rules on the host port do
# not see it); from the host itself (127.0.0.1) and from containers
# (hairpin to the gateway), the connection ends in the host's LOCAL_IN at
# docker-proxy, which opens a new one to the container. The dockfw rules on
# orig-dport 80 hold on both: an allowed and a refused external namespace
# (FORWARD), an allowed host-local client and a refused container
# (LOCAL_IN), while Docker keeps working.
. /scenarios/lib.sh
. /scenarios/docker.sh
docker_published_setup true
probe_host local_before connect 127.0.0.1 80
ctr_net_probe hairpin_before web2 connect 172.17.0.1 80

# INPUT on the host port: the external connection is DNATed before filter
# INPUT; only the proxied paths meet the rule.
$IPT -A INPUT -p tcp -s 172.16.0.0/24 --dport 80 -j ACCEPT
$IPT -A INPUT -p tcp --dport 80 -j DROP
probe input_rule ext connect 10.0.0.1 80 1500
ctr_net_probe input_rule_hairpin web2 connect 172.17.0.1 80 1500
$IPT -D INPUT -p tcp -s 172.16.0.0/24 --dport 80 -j ACCEPT
$IPT -D INPUT -p tcp --dport 80 -j DROP
# The engine's user rules (DOCKER-USER, or the nftables equivalent) on the
# host port: never match.
user_rule accept 172.16.0.0/24 - 80
user_rule drop - - 80
docker_iptables iptables_docker_user
probe docker_user_rule ext connect 10.0.0.1 80 1500
user_flush

# dockfw on the published port, both paths.
ctl allow add forward input tcp saddr 172.16.0.0/24 orig-dport 80 accept
ctl local add input tcp saddr 127.0.0.0/8 orig-dport 80 accept
ctl deny add forward input tcp orig-dport 80 drop
mark rules
echo 1 > /sys/module/dockfw/parameters/trace
probe allowed ok connect 172.16.0.1 80
probe refused ext connect 10.0.0.1 80 1500
probe_host local_allowed connect 127.0.0.1 80
ctr_net_probe hairpin_refused web2 connect 172.17.0.1 80 1500
echo 0 > /sys/module/dockfw/parameters/trace
mark untraced
# Docker keeps working.
probe web2_published ext connect 10.0.0.1 8082
ctr_probe outbound web connect 10.0.0.2 9000
ctr_net_probe c2c web connect "$(docker_ip web2)" 8080
ctl list list --json
ctl stats stats --json
fact hooked_param "$(cat /sys/module/dockfw/parameters/hooked_netns)"
fact live_netns "$(live_netns | wc -l)"
