# SPDX-License-Identifier: GPL-2.0
# Load and unload dockfw over and over while traffic crosses several
# namespaces, with rules and a trace session present at rmmod time. Size:
# dfwsize=full 100 cycles, small (CI) 12.
# Also: what an open socket does to rmmod. A trace session (a multicast
# listener with filters) does not pin the module: rmmod succeeds, and the
# session learns of it from the generic netlink controller (the family's
# removal) and exits by itself with 3. A dump in progress does: the netlink core
# holds a module reference until the dump ends (or its socket closes), so
# rmmod fails cleanly (EAGAIN, "Resource temporarily unavailable") and
# succeeds once the socket is gone.
. /scenarios/lib.sh
case "${dfwsize:-small}" in full) N=100 ;; *) N=12 ;; esac
fact cycles "$N"
topo_docker 0
add_container c3 172.17.0.4
add_container c4 172.17.0.5
live() { echo $(( $(ls /run/netns | wc -l) + 1 )); }
fact live_netns "$(live)"
# The kernel's own hook lists before the first insmod (see the end).
for ns in init c1 c2 c3 c4 ext; do fact "hooks_before:$ns" "$(hook_count "$ns")"; done
in_ns c2 dfwprobe craft udp-sink 9991 3000 > /tmp/rx.c2 &
rx1=$!
in_ns c4 dfwprobe craft udp-sink 9991 3000 > /tmp/rx.c4 &
rx2=$!
wait_udp c2 9991
wait_udp c4 9991
# Paced senders (bursts of 200 datagrams): an unpaced flood under TCG
# would starve the control processes of the cycles.
# A burst that fails is noted (/tmp/tx.fail) and checked, not ignored.
pace() { while :; do in_ns "$1" dfwprobe udp-send "$2" 9991 200 64 > /dev/null || echo x >> /tmp/tx.fail; sleep 0.02; done; }
pace c1 172.17.0.3 &
tx1=$!
pace c3 172.17.0.5 &
tx2=$!
# (cyc, not i: lib.sh's start_trace uses i.)
cyc=0
bad_hooked=0
rm_fail=0
rm_transient=0
# rmmod, and if it fails, what held the module (its reference count, the
# processes alive) and one more try a second later: a reference that is
# gone by then (none is known; this records it if one appears) is counted
# in rmmod_transient, one that stays in rmmod_failures.
rmmod_cycle() {
	rmmod dockfw 2> /tmp/rmmod.err && return 0
	echo "cycle $cyc: $(cat /tmp/rmmod.err); refcnt $(cat /sys/module/dockfw/refcnt 2>/dev/null)"
	ps -o pid,stat,args | grep -v ' Z ' | tail -n +2
	sleep 1
	if rmmod dockfw 2> /tmp/rmmod.err; then
		rm_transient=$((rm_transient + 1))
	else
		rm_fail=$((rm_fail + 1))
		cat /tmp/rmmod.err
	fi
}
while [ $cyc -lt "$N" ]; do
	insmod $KO trace=1 trace_ports=8080,8081
	[ $cyc = 0 ] && fact hooks_loaded:c4 "$(hook_count c4)"
	h=$(cat /sys/module/dockfw/parameters/hooked_netns)
	[ "$h" = "$(live)" ] || { bad_hooked=$((bad_hooked + 1)); echo "cycle $cyc: hooked $h live $(live)"; }
	dockfwctl add input udp dport 9991 accept > /dev/null
	dockfwctl add forward tcp orig-dport 8081 saddr 10.9.0.0/16 drop > /dev/null
	# Every other cycle a trace session is open when rmmod runs.
	if [ $((cyc % 2)) = 0 ]; then
		start_trace "t$cyc" --json udp dport 5353
	fi
	rmmod_cycle
	if [ $((cyc % 2)) = 0 ]; then
		# The session must end by itself; after 10 s it is killed (137),
		# which the check refuses.
		pid=$(cat "/tmp/t$cyc.pid")
		w=0
		while kill -0 "$pid" 2>/dev/null && [ $w -lt 100 ]; do w=$((w + 1)); sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || :
		set +e
		wait "$pid"
		fact "trace_rc:t$cyc" "$?"
		set -e
		fact "trace_err:t$cyc" "$(base64 -w0 < "/tmp/t$cyc.err")"
	fi
	cyc=$((cyc + 1))
done
fact bad_hooked "$bad_hooked"
fact rmmod_failures "$rm_fail"
fact rmmod_transient "$rm_transient"
# A dump in progress at rmmod time: 5000 rules, a reader that takes the
# first part of the dump and then stops reading (the dump stays open).
insmod $KO trace=1 trace_ports=8080,8081
awk 'BEGIN { for (i = 0; i < 5000; i++) printf "tcp dport %d accept\n", 1000 + i }' > /tmp/many
dockfwctl restore /tmp/many
# First, a reader with 32 KiB reads and a short pause gets every rule once
# and the end of the dump (regression: a part that ended for lack of room
# for a header restarted at the old cursor, an endless dump).
fact dump_small_reader "$(timeout 60 dfwprobe fuzz hold-dump 100 | tail -1)"
dfwprobe fuzz hold-dump 600000 > /tmp/hold.out 2> /tmp/hold.err &
holder=$!
i=0
while ! grep -q HOLDING /tmp/hold.out && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.1; done
fact hold_dump "$(tr '\n' ' ' < /tmp/hold.out)"
set +e
rmmod dockfw 2> /tmp/rmmod_dump.err
fact rmmod_during_dump_rc "$?"
set -e
fact rmmod_during_dump_err "$(tr '\n' ' ' < /tmp/rmmod_dump.err)"
fact loaded_during_dump "$([ -d /sys/module/dockfw ] && echo yes || echo no)"
# Still fully working meanwhile: it answers and counts.
ctl stats_during_dump stats --json
# Closing the dump's socket releases the module.
kill $holder 2>/dev/null || true
wait $holder 2>/dev/null || true
rmmod dockfw
fact loaded_after "$([ -d /sys/module/dockfw ] && echo yes || echo no)"
# (the sender loops were killed by us: their status says nothing)
kill $tx1 $tx2 2>/dev/null || :
wait $tx1 $tx2 2>/dev/null || :
fact tx_failures "$(cat /tmp/tx.fail 2>/dev/null | wc -l)"
wait $rx1 $rx2
fact rx_c2 "$(cat /tmp/rx.c2)"
fact rx_c4 "$(cat /tmp/rx.c4)"
mark after-last-rmmod
# After the last rmmod every namespace lists as many hook functions as
# before the first insmod: a hook left behind by any cycle would be there.
for ns in init c1 c2 c3 c4 ext; do fact "hooks_after:$ns" "$(hook_count "$ns")"; done
probe ext_after ext connect 10.0.0.1 8081
probe c1_to_c2_after c1 connect 172.17.0.3 8080
