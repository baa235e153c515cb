# SPDX-License-Identifier: GPL-2.0
# Container to container through the stream, br_netfilter off then on.
. /scenarios/lib.sh
topo_docker 0
insmod $KO
start_trace off --json tcp dport 8080
probe off_c1_to_c2 c1 connect 172.17.0.3 8080
sleep 0.3
stop_trace off
echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables
start_trace on --json tcp dport 8080
probe on_c1_to_c2 c1 connect 172.17.0.3 8080
sleep 0.3
stop_trace on
