# SPDX-License-Identifier: GPL-2.0
# A flood of traced packets cannot fill the log: with a burst of 20 lines per
# (long) window, 300 datagrams x 4 hooks give exactly 20 trace lines, and
# the traffic itself is unharmed.
. /scenarios/lib.sh
topo_docker 0
insmod $KO trace=1 trace_icmp=0 trace_ports=9999 trace_burst=20 trace_interval_ms=600000
in_ns c2 dfwprobe udp-count 9999 3000 > /tmp/count &
counter=$!
wait_udp c2 9999
in_ns c1 dfwprobe udp-send 172.17.0.3 9999 300 64
wait $counter
fact udp_received "$(cat /tmp/count)"
