# SPDX-License-Identifier: GPL-2.0
# Hostile packets through the hooks: the corpus of `dfwprobe craft`
# (tests/guest-tools/src/craft.rs), sent once each from c1, and a large TCP
# transfer c1 -> c2 whose skbs are GSO (non-linear, up to 64 KiB) at c1's
# LOCAL_OUT. Documented verdicts are in tests/qemu/robustcheck.py (PACKET_CASES).
# On the debug kernel, KASAN watches every read the hooks make.
. /scenarios/lib.sh
case "${dfwsize:-small}" in full) BULK=67108864 ;; *) BULK=4194304 ;; esac
topo_docker 0
insmod $KO trace=1 trace_burst=100000
r1=$(dockfwctl add prerouting netns host udp dport 7777 drop | sed -n 's/.*added rule \([0-9]*\).*/\1/p')
r2=$(dockfwctl add prerouting netns host tcp dport 7777 drop | sed -n 's/.*added rule \([0-9]*\).*/\1/p')
fact rule_udp "$r1"
fact rule_tcp "$r2"
ctl stats_before stats --json
mac=$(cat /sys/class/net/docker0/address)
mark craft
in_ns c1 dfwprobe craft eth0 "$mac" 172.17.0.1 > /tmp/craft.out
sed 's/^/CRAFT /' /tmp/craft.out
sleep 0.5
mark craft-end
ctl stats_after stats --json
# GSO: trace off (thousands of packets), counters on.
echo 0 > /sys/module/dockfw/parameters/trace
c1=$(netns_inum c1)
c2=$(netns_inum c2)
ro=$(dockfwctl add output netns "$c1" tcp dport 7778 accept | sed -n 's/.*added rule \([0-9]*\).*/\1/p')
ri=$(dockfwctl add input netns "$c2" tcp dport 7778 accept | sed -n 's/.*added rule \([0-9]*\).*/\1/p')
fact rule_out "$ro"
fact rule_in "$ri"
in_ns c2 dfwprobe craft bulk-serve 7778 > /tmp/bulk.rx &
srv=$!
wait_port c2 7778
fact bulk "$BULK"
fact bulk_sent "$(in_ns c1 dfwprobe craft bulk-send 172.17.0.3 7778 "$BULK")"
wait $srv
fact bulk_received "$(cat /tmp/bulk.rx)"
ctl bulk_list list --json
