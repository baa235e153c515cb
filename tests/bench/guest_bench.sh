# SPDX-License-Identifier: GPL-2.0
# The benchmark run inside the guest (installed as /scenarios/bench.sh by
# tests/bench/bench.py, with /scenarios/bench.conf and the rule files in
# /bench/). Prints one `BENCH key=value...` line per measurement; the host
# computes medians, ratios and the report. Asserts nothing about timings.
. /scenarios/lib.sh
. /scenarios/bench.conf
. /scenarios/uapi.sh

# Docker-like topology; bridge-nf-call-iptables=1 as dockerd sets it, so
# that c1 -> c2 crosses the host's FORWARD (and DOCKER-USER) too.
topo_docker 1
echo 1048576 > /proc/sys/net/netfilter/nf_conntrack_max 2>/dev/null || true
echo "1024 65000" > /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
# -p 8081:8080/udp as well, the way dockerd writes it.
$IPT -t nat -A DOCKER ! -i docker0 -p udp --dport 8081 -j DNAT --to-destination 172.17.0.2:8080
$IPT -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p udp --dport 8080 -j ACCEPT
# Every benchmark process on CPU 0: with the guest's two vCPUs (host
# threads under TCG, on a shared host) a sender and a receiver on different
# vCPUs made window rates swing by 100x (a first run after the ACPI change).
# On one CPU, as before, 1/rate is the whole per-packet time of the path.
PIN="taskset -c 0"
# Request/response servers instead of the hello servers.
stop_server c1 8080
stop_server c2 8080
in_ns c1 $PIN dfwprobe rr-serve 8080 &
in_ns c2 $PIN dfwprobe rr-serve 8080 &
wait_port c1 8080
wait_port c2 8080

echo "BENCH info cpus=$(grep -c ^processor /proc/cpuinfo) mem_kb=$(sed -n 's/MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo) kernel=$(uname -r) clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null || echo unknown)"

# path NAME: sets SRC (client namespace), DST (server namespace), HOST, PORT.
path() {
	case $1 in
	dnat) SRC=ext DST=c1 HOST=10.0.0.1 PORT=8081 ;;
	bridge) SRC=c1 DST=c2 HOST=172.17.0.3 PORT=8080 ;;
	esac
}

stat_packets() {
	if [ -d /sys/module/dockfw ]; then
		dockfwctl stats --json | tr -d ' \n' | sed -n 's/.*"packets":\([0-9]*\).*/\1/p'
	else
		echo 0
	fi
}

# measure CFG: every metric on every path, one BENCH line each.
measure() {
	# UPDATES_ONLY=1: the boot that times rule updates on the host's clock.
	[ "${UPDATES_ONLY:-0}" = 1 ] && return 0
	cfg=$1
	for p in $PATHS; do
		path "$p"
		for m in $METRICS; do
			case $m in
			udp)
				in_ns $DST $PIN dfwprobe udp-rx 8080 $WINDOWS $WIN_MS $WARM_MS > /tmp/rx 2>&1 &
				rxpid=$!
				i=0
				while ! grep -q READY /tmp/rx && [ $i -lt 100 ]; do sleep 0.02; i=$((i + 1)); done
				s0=$(stat_packets)
				tx=$(in_ns $SRC $PIN dfwprobe udp-flood $HOST $PORT $FLOOD_MS 64 || true)
				wait $rxpid || true
				s1=$(stat_packets)
				echo "BENCH cfg=$cfg path=$p metric=udp $(grep RATES /tmp/rx | tr ' ' ,) $(echo $tx | tr ' ' ,) hooks=$((s1 - s0))"
				;;
			rr|crr)
				out=$(in_ns $SRC $PIN dfwprobe tcp-$m $HOST $PORT $WINDOWS $WIN_MS $WARM_MS 2>/dev/null || true)
				echo "BENCH cfg=$cfg path=$p metric=$m $(echo "$out" | grep RATES | tr ' ' ,)"
				;;
			esac
		done
	done
}

# jv JSON KEY: a number from `dockfwctl stats --json` output.
jv() {
	echo "$1" | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"
}

# cost CFG: the module's own time per hook call, counted inside the guest
# (hook_cost=1: local_clock and get_cycles around every hook call, summed
# per CPU), over one UDP flood per path. Not during the throughput windows:
# the clock reads cost time themselves.
cost() {
	[ "${UPDATES_ONLY:-0}" = 1 ] && return 0
	cfg=$1
	[ -w /sys/module/dockfw/parameters/hook_cost ] || return 0
	for p in $PATHS; do
		path "$p"
		in_ns $DST $PIN dfwprobe udp-rx 8080 1 $WIN_MS $WARM_MS > /tmp/rx 2>&1 &
		rxpid=$!
		i=0
		while ! grep -q READY /tmp/rx && [ $i -lt 100 ]; do sleep 0.02; i=$((i + 1)); done
		echo 1 > /sys/module/dockfw/parameters/hook_cost
		s0=$(dockfwctl stats --json | tr -d ' \n')
		tx=$(in_ns $SRC $PIN dfwprobe udp-flood $HOST $PORT $((WARM_MS + WIN_MS + 300)) 64 || true)
		s1=$(dockfwctl stats --json | tr -d ' \n')
		echo 0 > /sys/module/dockfw/parameters/hook_cost
		wait $rxpid || true
		echo "BENCH cost cfg=$cfg path=$p calls=$(($(jv "$s1" hook_calls) - $(jv "$s0" hook_calls))) ns=$(($(jv "$s1" hook_ns) - $(jv "$s0" hook_ns))) cycles=$(($(jv "$s1" hook_cycles) - $(jv "$s0" hook_cycles))) slow=$(($(jv "$s1" packets) - $(jv "$s0" packets))) $(echo $tx | tr ' ' ,)"
	done
}

# timed NAME REPS CMD...: wall time of each run of CMD, in microseconds.
timed() {
	name=$1; shift
	out=$(dfwprobe time-cmd "$@" 2> /tmp/timed.err | grep TIMES || echo "TIMES fail")
	echo "BENCH time=$name $(echo "$out" | tr ' ' ,)"
	case $out in *"RC 0"*) ;; *) echo "BENCH error time=$name $(head -c 300 /tmp/timed.err | tr ' \n' '_|')" ;; esac
}

# run_trace NAME ARGS...: a `dockfwctl trace` session in the background,
# output discarded; waits until it is ready.
run_trace() {
	name=$1; shift
	dockfwctl trace "$@" > /dev/null 2> "/tmp/$name.err" &
	echo $! > "/tmp/$name.pid"
	i=0
	while ! grep -q '^tracing:' "/tmp/$name.err"; do
		i=$((i + 1)); [ $i -lt 200 ] || { echo "trace did not start"; cat "/tmp/$name.err"; return 1; }
		sleep 0.05
	done
}
end_trace() {
	kill -INT "$(cat "/tmp/$1.pid")"
	wait "$(cat "/tmp/$1.pid")" || true
}

measure base
insmod $KO
measure dfw-empty
cost dfw-empty
echo "BENCH stats-empty $(dockfwctl stats --json | tr -d ' \n')"

rule_count() {
	dockfwctl stats --json | tr -d ' \n' | sed -n 's/.*"rules":\([0-9]*\).*/\1/p'
}

# dockfw: N rules, the matching rule first, last, or absent. A size the
# module refuses is reported (BENCH skip) and not measured.
largest=0
for n in $SIZES; do
	loaded=0
	for pos in $POSITIONS; do
		timed "restore-$n-$pos" 1 dockfwctl restore /bench/dfw-$n-$pos.rules
		echo "BENCH rules cfg=dfw-$n-$pos $(dockfwctl stats --json | tr -d " \n")"
		if [ "$(rule_count)" != "$n" ]; then
			echo "BENCH skip cfg=dfw-$n-$pos loaded=$(rule_count)"
			continue
		fi
		loaded=1
		measure dfw-$n-$pos
		cost dfw-$n-$pos
	done
	[ $loaded = 1 ] || continue
	largest=$n
	case " $ADD_SIZES " in *" $n "*)
		timed "add-$n" $ADD_REPS dockfwctl add udp dport 7 accept
		# dockfw merges its small delta layer into the base when the
		# delta passes 256 rules (rules::DELTA_MAX): fill the delta up to
		# that bound, then time the add that triggers the merge (the
		# worst single add; the amortised cost is this / 256).
		k=$(( $(rule_count) - n ))
		while [ $k -lt 256 ]; do dockfwctl add udp dport 7 accept > /dev/null; k=$((k + 1)); done
		timed "add-merge-$n" 1 dockfwctl add udp dport 7 accept
		# Deletes: a rule of the delta (just added), and one of the base
		# (the merging add's rule: ids are handed out in sequence).
		id=$(dockfwctl add udp dport 7 accept | sed -n 's/^added rule //p')
		timed "del-delta-$n" 1 dockfwctl del "$id"
		timed "del-base-$n" 1 dockfwctl del "$((id - 1))"
		timed "del-restore-$n" 1 dockfwctl restore /bench/dfw-$n-none.rules
		;;
	esac
done
# If the largest size was refused: the most rules one restore can load
# (bisection to 1 % on prefixes of the largest file), and one add there.
big=${SIZES##* }
if [ -n "$big" ] && [ "$largest" != "$big" ]; then
	lo=$largest hi=$big
	while [ $((hi - lo)) -gt $((big / 100)) ]; do
		mid=$(((lo + hi) / 2))
		head -n $((mid + 1)) /bench/dfw-$big-none.rules > /tmp/prefix.rules
		if dockfwctl restore /tmp/prefix.rules 2> /tmp/restore.err; then lo=$mid; else hi=$mid; fi
	done
	echo "BENCH maxrules ok=$lo refused=$hi error=$(head -c 200 /tmp/restore.err | tr ' \n' '_|')"
	head -n $((lo + 1)) /bench/dfw-$big-none.rules > /tmp/prefix.rules
	head -n $((lo - 9)) /tmp/prefix.rules > /tmp/prefix-10.rules
	dockfwctl restore /tmp/prefix-10.rules
	timed "add-$(rule_count)" $ADD_REPS dockfwctl add udp dport 7 accept
	timed "restore-max-$lo" 1 dockfwctl restore /tmp/prefix.rules
	head -n $(((lo + 1) / 2)) /tmp/prefix.rules > /tmp/prefix-half.rules
	timed "restore-max-$(( (lo + 1) / 2 - 1 ))" 1 dockfwctl restore /tmp/prefix-half.rules
fi
# The same fillers scoped to the forward hook, where DOCKER-USER and the
# nftables chain below sit: the other hook calls take dockfw's fast path.
for n in $FWD_SIZES; do
	timed "restore-fwd-$n-none" 1 dockfwctl restore /bench/dfw-fwd-$n-none.rules
	[ "$(rule_count)" = "$n" ] || { echo "BENCH skip cfg=dfw-fwd-$n-none loaded=$(rule_count)"; continue; }
	measure dfw-fwd-$n-none
	cost dfw-fwd-$n-none
done
dockfwctl flush

if [ "$TRACE" = 1 ]; then
# Trace on with no listener: trace filters matching every packet of the
# test traffic (UDP and TCP), installed by a socket that does not listen on
# the trace group. The hooks see the filters, find nobody listening and
# return Accept before parsing the packet.
dfwprobe nl $CMD_TRACE_SET nest:$A_MATCH[ u8:$RA_PROTO=17 ] --- $CMD_TRACE_SET nest:$A_MATCH[ u8:$RA_PROTO=6 ] --hold > /tmp/nolistener.out &
nl_pid=$!
i=0
until [ "$(grep -c NLOK /tmp/nolistener.out)" = 2 ]; do
	i=$((i + 1)); [ $i -lt 200 ] || { echo "trace filters not installed: $(cat /tmp/nolistener.out)"; exit 1; }
	sleep 0.05
done
echo "BENCH stats-nolistener $(dockfwctl stats --json | tr -d ' \n')"
measure trace-nolistener
cost trace-nolistener
kill $nl_pid
wait $nl_pid 2> /dev/null || true

# The trace stream with a listener: a session whose filter the traffic does
# not match, and one that receives every event of the traffic.
run_trace tr-nomatch --json udp dport 5353
measure trace-nomatch
cost trace-nomatch
end_trace tr-nomatch
run_trace tr-all --json -f 'dport 8080' -f 'dport 8081' -f 'sport 8080' -f 'sport 8081'
measure trace-all
cost trace-all
end_trace tr-all
echo "BENCH stats-trace $(dockfwctl stats --json | tr -d ' \n')"
# The dmesg trace on, with a port filter the traffic does not match.
rmmod dockfw
insmod $KO trace=1 trace_ports=5353 trace_icmp=0
measure dmesg-nomatch
cost dmesg-nomatch
fi
rmmod dockfw
measure base-mid

# iptables: the same rules, linear, in DOCKER-USER.
for n in $IPT_SIZES; do
	for pos in $POSITIONS; do
		# Loading 100 000 iptables rules takes minutes under TCG: above
		# IPT_ALL_POSITIONS_MAX only the worst case (no match) is run.
		[ "$n" -le "$IPT_ALL_POSITIONS_MAX" ] || [ "$pos" = none ] || continue
		timed "ipt-restore-$n-$pos" 1 iptables-restore --noflush /bench/ipt-$n-$pos.rules
		measure ipt-$n-$pos
	done
done
printf '*filter\n-F DOCKER-USER\n-A DOCKER-USER -j RETURN\nCOMMIT\n' | iptables-restore --noflush

# nftables: one rule looking the (protocol, port) pair up in a set.
for n in $NFT_SIZES; do
	for pos in $NFT_POSITIONS; do
		timed "nft-load-$n-$pos" 1 nft -f /bench/nft-$n-$pos.nft
		measure nft-$n-$pos
		nft delete table inet bench 2>/dev/null || true
	done
done

measure base-end
