# SPDX-License-Identifier: GPL-2.0
# Namespace churn under load: create and destroy many namespaces (each with
# a veth on docker0, brought up and used once) while dockfw is loaded and a
# UDP flood runs between c1 and c2. Size: dfwsize=full 1000 namespaces,
# small (CI) 60.
. /scenarios/lib.sh
case "${dfwsize:-small}" in full) N=1000 ;; *) N=60 ;; esac
fact churn_n "$N"
topo_docker 0
# hook_cost=1: every hook call is counted (stats hook_calls), also the ones
# that return on the fast path (no rule is loaded: `packets` counts only
# calls that had work to do).
insmod $KO hook_cost=1
live() { echo $(( $(ls /run/netns | wc -l) + 1 )); }
hooked() { cat /sys/module/dockfw/parameters/hooked_netns; }
in_ns c2 dfwprobe craft udp-sink 9990 3000 > /tmp/flood.rx &
rx=$!
wait_udp c2 9990
# Bursts of 500 datagrams back to back: an unpaced sender under TCG would
# starve the commands that do the churn.
# A burst that fails is noted (/tmp/tx.fail) and checked, not ignored.
( while :; do in_ns c1 dfwprobe udp-send 172.17.0.3 9990 500 64 > /dev/null || echo x >> /tmp/tx.fail; sleep 0.01; done ) &
tx=$!
# Ten at a time: all ten alive together (hooked == live is checked then),
# each answering a ping through docker0, then all destroyed.
i=0
bad=0
pings_failed=0
while [ $i -lt "$N" ]; do
	j=0
	while [ $j -lt 10 ] && [ $((i + j)) -lt "$N" ]; do
		n=$((i + j))
		$IP netns add "ch$n"
		$IP link add "vch$n" type veth peer name eth0 netns "ch$n"
		$IP link set "vch$n" master docker0 up
		$IP -n "ch$n" addr add "172.17.$((100 + n / 250)).$((n % 250 + 2))/16" dev eth0
		$IP -n "ch$n" link set eth0 up
		j=$((j + 1))
	done
	if [ "$(hooked)" != "$(live)" ]; then
		bad=$((bad + 1))
		echo "batch $i: hooked $(hooked) live $(live)"
	fi
	# One of them talks to the host: its hooks run before it goes away.
	in_ns "ch$i" ping -c1 -W2 172.17.0.1 > /dev/null 2>&1 || { pings_failed=$((pings_failed + 1)); echo "ping from ch$i failed"; }
	j=0
	while [ $j -lt 10 ] && [ $((i + j)) -lt "$N" ]; do
		$IP netns del "ch$((i + j))"
		j=$((j + 1))
	done
	i=$((i + 10))
done
fact batches_mismatched "$bad"
fact pings_failed "$pings_failed"
# (the sender loop was killed by us: its status says nothing)
kill $tx 2>/dev/null || :
wait $tx 2>/dev/null || :
fact tx_failures "$(cat /tmp/tx.fail 2>/dev/null | wc -l)"
wait $rx
fact flood_received "$(cat /tmp/flood.rx)"
# Destruction is asynchronous (cleanup_net runs from a workqueue).
i=0
while [ "$(hooked)" != "$(live)" ] && [ $i -lt 600 ]; do
	i=$((i + 1)); sleep 0.1
done
fact live_netns "$(live)"
fact hooked_param "$(hooked)"
ctl stats stats --json
probe c1_to_c2_after c1 connect 172.17.0.3 8080
