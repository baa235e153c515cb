# SPDX-License-Identifier: GPL-2.0
# The same with bridge-nf-call-iptables=1: br_netfilter runs init_net's IPv4
# hooks on the bridged frames, between the two containers' hooks.
. /scenarios/lib.sh
topo_docker 1
insmod $KO trace=1 trace_ports=8080
probe c1_to_c2 c1 connect 172.17.0.3 8080
