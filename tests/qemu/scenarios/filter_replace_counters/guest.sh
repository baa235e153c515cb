# SPDX-License-Identifier: GPL-2.0
# Counters match the packets sent; replace is atomic under traffic; a dump
# of 20 000 rules is complete; flush empties the set.
. /scenarios/lib.sh
topo_docker 0
insmod $KO
# 1. counters: a LOCAL_IN-only rule counts each datagram once, in c2.
ctl count add input udp dport 9999 accept
in_ns c2 dfwprobe udp-count 9999 2500 > /tmp/count &
counter=$!
wait_udp c2 9999
in_ns c1 dfwprobe udp-send 172.17.0.3 9999 200 64
wait $counter
fact udp_received "$(cat /tmp/count)"
ctl counters list --json
ctl flush1 flush
# 2. atomic replace under traffic: the drop rule comes first in the file, so
# a loader that flushed and re-added rule by rule would drop some datagrams.
cat > /tmp/setA <<'RULES'
# set A
input udp prio 20 drop
input udp dport 9998 prio 10 accept
RULES
cat > /tmp/setB <<'RULES'
# set B
input udp prio 20 comment B drop
input udp sport 0-65535 dport 9998 prio 10 comment B accept
RULES
ctl restoreA restore /tmp/setA
ctl stats_before stats --json
$IP netns exec c2 dfwprobe udp-count 9998 600000 > /tmp/count2 &
counter=$!
wait_udp c2 9998
# The kernel's own UDP counters on both ends judge the replaces (not
# dockfw's): every datagram c1 sent must reach c2's UDP layer (received,
# or refused for a full socket buffer: InErrors, which counts RcvbufErrors
# too), none lost
# to a drop rule on the way.
fact snmp_c1_before "$(udp_snmp c1 OutDatagrams)"
fact snmp_c2_before "$(udp_snmp c2 InDatagrams InErrors RcvbufErrors)"
fact backlog_before "$(softnet_drops)"
$IP netns exec c1 dfwprobe udp-send 172.17.0.3 9998 100000000 64 > /dev/null &
sender=$!
i=0
fails=0
while [ $i -lt 25 ]; do
	dockfwctl replace /tmp/setB >/dev/null || fails=$((fails + 1))
	dockfwctl replace /tmp/setA >/dev/null || fails=$((fails + 1))
	i=$((i + 1))
done
kill $sender
# (the sender was killed by us: its status says nothing)
wait $sender 2>/dev/null || :
# Datagrams still in flight reach c2 within this.
sleep 0.5
fact snmp_c1_after "$(udp_snmp c1 OutDatagrams)"
fact snmp_c2_after "$(udp_snmp c2 InDatagrams InErrors RcvbufErrors)"
fact backlog_after "$(softnet_drops)"
fact replace_failures "$fails"
ctl stats_after stats --json
ctl after_replace save
kill $counter 2>/dev/null || true
# 3. twenty thousand rules (past kmalloc's 4 MiB: the ruleset is kvmalloc'd),
# restored atomically and dumped back.
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "tcp dport %d comment r%d accept\n", 20000 + i, i }' > /tmp/big
ctl big_restore restore /tmp/big
dockfwctl list --json > /tmp/big.json
fact big_json_bytes "$(wc -c < /tmp/big.json)"
fact big_ids "$(grep -o '"id": *[0-9]*' /tmp/big.json | wc -l)"
fact big_saved "$(dockfwctl save | grep -c '^id ')"
fact big_first_last "$(dockfwctl save | grep '^id ' | sed -n '1p;$p' | tr '\n' '|')"
# The whole dump, line by line, against the file restored: the same rules
# in the same order, and ids strictly ascending.
dockfwctl save | grep '^id ' > /tmp/big.saved
fact big_diff "$(sed 's/^id [0-9]* //' /tmp/big.saved | diff /tmp/big - | grep -c '^[<>]' || :)"
fact big_ids_ascending "$(awk '{ if (NR > 1 && $2 <= last) bad++; last = $2 } END { print (NR == 20000 && !bad) ? "yes" : "no" }' /tmp/big.saved)"
ctl stats_big stats --json
ctl flush2 flush
ctl empty list --json
ctl stats_empty stats --json
