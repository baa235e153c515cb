# SPDX-License-Identifier: GPL-2.0
# The nftrace experiment on the published-port path: an external host
# connects to host:8081, Docker's DNAT sends it to c1 (172.17.0.2:8080).
. /scenarios/lib.sh
topo_docker 0
insmod $KO trace=1 trace_icmp=0 trace_ports=8080,8081
fact hooked_netns "$(cat /sys/module/dockfw/parameters/hooked_netns)"
probe ext_to_published ext connect 10.0.0.1 8081
