# SPDX-License-Identifier: GPL-2.0
# Rule replacement at a high rate while both CPUs carry traffic: two UDP
# senders (c1 on CPU 0 and the host on CPU 1) to c2:9992 and a trickle to c2:9993. Rules 1
# (accept 9992 at input) and 2 (drop 9993 at input) keep their ids in both
# sets, so their counters carry over every replace; the filler rules change.
# Size: dfwsize=full 200000 datagrams per sender, small (CI) 20000.
. /scenarios/lib.sh
case "${dfwsize:-small}" in full) M=200000 ;; *) M=20000 ;; esac
fact per_sender "$M"
topo_docker 0
insmod $KO
{
	echo "id 1 input udp dport 9992 prio 10 accept"
	echo "id 2 input udp dport 9993 prio 10 drop"
	awk 'BEGIN { for (i = 0; i < 50; i++) printf "id %d tcp dport %d comment A accept\n", 100 + i, 30000 + i }'
} > /tmp/setA
{
	echo "id 1 input udp dport 9992 prio 10 accept"
	echo "id 2 input udp dport 9993 prio 10 drop"
	awk 'BEGIN { for (i = 0; i < 50; i++) printf "id %d udp dport %d comment B prio 5 drop\n", 200 + i, 40000 + i }'
} > /tmp/setB
dockfwctl restore /tmp/setA
# c2's UDP: InDatagrams NoPorts InErrors.
snmp_udp() { in_ns c2 cat /proc/net/snmp | awk '/^Udp:/ { n++; if (n == 2) print $2, $3, $4 }'; }
fact udp_before "$(snmp_udp)"
ctl stats_before stats --json
in_ns c2 dfwprobe craft udp-sink 9992 3000 > /tmp/rx &
rx=$!
# Until the sink is bound, or early datagrams find no port.
wait_udp c2 9992
# One sender pinned to each CPU: a veth transmit is received (netif_rx)
# on the sending CPU, so the hooks run on both CPUs at once while the
# replaces publish and free rulesets. /proc/softirqs shows it happened.
fact cpus "$(nproc)"
net_rx() { awk '/NET_RX:/ { $1 = ""; print }' /proc/softirqs; }
fact net_rx_before "$(net_rx)"
in_ns c1 taskset -c 0 dfwprobe udp-send 172.17.0.3 9992 "$M" 64 > /tmp/tx1 &
tx1=$!
taskset -c 1 dfwprobe udp-send 172.17.0.3 9992 "$M" 64 > /tmp/tx2 &
tx2=$!
in_ns c1 dfwprobe udp-send 172.17.0.3 9993 100 64 > /tmp/tx3
replaces=0
fails=0
while kill -0 $tx1 2>/dev/null || kill -0 $tx2 2>/dev/null; do
	dockfwctl replace /tmp/setB > /dev/null || fails=$((fails + 1))
	dockfwctl replace /tmp/setA > /dev/null || fails=$((fails + 1))
	replaces=$((replaces + 2))
done
wait $tx1 $tx2
fact net_rx_after "$(net_rx)"
wait $rx
fact replaces "$replaces"
fact replace_failures "$fails"
fact sent1 "$(cat /tmp/tx1)"
fact sent2 "$(cat /tmp/tx2)"
fact sent3 "$(cat /tmp/tx3)"
fact received "$(cat /tmp/rx)"
fact udp_after "$(snmp_udp)"
ctl stats_after stats --json
ctl list_after list --json
