# SPDX-License-Identifier: GPL-2.0
# The seed story: `-p 80:8080`. An INPUT rule on port 80 does not protect the
# container (the packet is DNATed to 8080 before filter INPUT/FORWARD). The
# dockfw rule on the original port does: 172.16.0.0/24 gets in, others not,
# and the rest of Docker keeps working.
. /scenarios/lib.sh
topo_docker 0 80
add_external ok 172.16.0.1 172.16.0.2
in_ns ok ping -c1 -W2 172.16.0.1 >/dev/null
serve ext 9000 ext
wait_port ext 9000
# What users write first, and why they come to dockfw.
$IPT -A INPUT -p tcp -s 172.16.0.0/24 --dport 80 -j ACCEPT
$IPT -A INPUT -p tcp --dport 80 -j REJECT
probe iptables_from_ext ext connect 10.0.0.1 80
insmod $KO trace=1 trace_icmp=0 trace_ports=80,8080
ctl allow add forward input tcp saddr 172.16.0.0/24 orig-dport 80 accept
ctl deny add forward input tcp orig-dport 80 drop
probe allowed ok connect 172.16.0.1 80
probe refused ext connect 10.0.0.1 80 1500
probe c1_to_c2 c1 connect 172.17.0.3 8080
probe_host host_to_c1 connect 172.17.0.2 8080
probe c1_outbound c1 connect 10.0.0.2 9000
ctl list list --json
