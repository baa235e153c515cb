# SPDX-License-Identifier: GPL-2.0
# The userland-proxy path: host port 80 is served by a proxy in init_net
# (like docker-proxy) that forwards to c1:8080, so the connection ends in
# the host's LOCAL_IN, not FORWARD. The same dockfw rules hold there.
. /scenarios/lib.sh
topo_docker 0 8081
add_external ok 172.16.0.1 172.16.0.2
in_ns ok ping -c1 -W2 172.16.0.1 >/dev/null
dfwprobe proxy 80 172.17.0.2 8080 &
wait_port_host() { i=0; while ! grep -qi ":0050 .* 0A " /proc/net/tcp6 /proc/net/tcp; do i=$((i+1)); [ $i -lt 100 ] || return 1; sleep 0.05; done; }
wait_port_host
probe before_rules ext connect 10.0.0.1 80
insmod $KO trace=1 trace_icmp=0 trace_ports=80
ctl allow add forward input tcp saddr 172.16.0.0/24 orig-dport 80 accept
ctl deny add forward input tcp orig-dport 80 drop
probe allowed ok connect 172.16.0.1 80
probe refused ext connect 10.0.0.1 80 1500
probe published_still_open ext connect 10.0.0.1 8081
ctl list list --json
