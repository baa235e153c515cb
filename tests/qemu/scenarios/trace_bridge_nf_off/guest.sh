# SPDX-License-Identifier: GPL-2.0
# Container to container on one bridge with bridge-nf-call-iptables=0: the
# frames are switched at L2, so only the containers' own hooks see them.
. /scenarios/lib.sh
topo_docker 0
insmod $KO trace=1 trace_ports=8080
probe c1_to_c2 c1 connect 172.17.0.3 8080
