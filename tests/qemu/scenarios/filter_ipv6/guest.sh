# SPDX-License-Identifier: GPL-2.0
# IPv6 goes through the same hooks and rules: c1 -> c2 over fd00::/64 on
# docker0 is traced with family=ipv6 and filtered by an ip6 rule, while the
# same flow over IPv4 is untouched.
. /scenarios/lib.sh
topo_docker 0
for c in c1:2 c2:3; do
	$IP -n "${c%%:*}" addr add "fd00::${c##*:}/64" dev eth0 nodad
done
in_ns c1 ping -c1 -W2 fd00::3 >/dev/null
insmod $KO trace=1 trace_icmp=0 trace_ports=8080
probe v6_before c1 connect fd00::3 8080
ctl v6_drop add ip6 tcp daddr fd00::3 dport 8080 drop
probe v6_after c1 connect fd00::3 8080 1500
probe v4_after c1 connect 172.17.0.3 8080
ctl list list --json
