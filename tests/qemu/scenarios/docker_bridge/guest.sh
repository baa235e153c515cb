# SPDX-License-Identifier: GPL-2.0
# Container to container on one bridge, with a real engine (the row of
# run.py --engine): two containers on docker0, a TCP connection from
# `left` to `right` traced hook by hook with bridge-nf-call-iptables as
# the engine leaves it (1: Docker loads br_netfilter and turns it on, so
# the bridged frames cross the host's IPv4 hooks) and then 0 (switched at
# L2 only: just the containers' own hooks see them).
. /scenarios/lib.sh
. /scenarios/docker.sh
fact netns init "$(readlink /proc/self/ns/net | tr -cd 0-9)"
insmod $KO trace=0 trace_icmp=0 trace_ports=8080
docker_up --userland-proxy=false
docker_image
docker_serve left -
docker_serve right -
fact bridge_nf_default "$(cat /proc/sys/net/bridge/bridge-nf-call-iptables)"
for nf in 1 0; do
	echo $nf > /proc/sys/net/bridge/bridge-nf-call-iptables
	mark "nf$nf"
	echo 1 > /sys/module/dockfw/parameters/trace
	ctr_net_probe "c2c_nf$nf" left connect "$(docker_ip right)" 8080
	echo 0 > /sys/module/dockfw/parameters/trace
	mark "nf${nf}_end"
done
