# SPDX-License-Identifier: GPL-2.0
# Container to container on one bridge. A rule scoped to the host's FORWARD
# only sees that traffic when br_netfilter hands it to the IPv4 hooks; a
# rule scoped to the destination container's namespace holds either way.
. /scenarios/lib.sh
topo_docker 0
insmod $KO trace=1 trace_icmp=0 trace_ports=8080
ctl host_fwd add forward netns host tcp saddr 172.17.0.2 daddr 172.17.0.3 dport 8080 drop
probe nf_off_c1_to_c2 c1 connect 172.17.0.3 8080 1500
echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables
mark brnf-on
probe nf_on_c1_to_c2 c1 connect 172.17.0.3 8080 1500
probe nf_on_c2_to_c1 c2 connect 172.17.0.2 8080 1500
echo 0 > /proc/sys/net/bridge/bridge-nf-call-iptables
mark brnf-off
ctl flush flush
ctl c2_only add input netns "$(netns_inum c2)" tcp dport 8080 drop
probe ns_c1_to_c2 c1 connect 172.17.0.3 8080 1500
probe ns_c2_to_c1 c2 connect 172.17.0.2 8080
probe ns_ext_to_c1 ext connect 10.0.0.1 8081
# The same rule with br_netfilter on: it still holds, in c2.
echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables
mark ns-brnf-on
probe ns_on_c1_to_c2 c1 connect 172.17.0.3 8080 1500
probe ns_on_c2_to_c1 c2 connect 172.17.0.2 8080
mark ns-brnf-on-end
ctl ns_counters list --json
