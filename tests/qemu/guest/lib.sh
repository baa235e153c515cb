# SPDX-License-Identifier: GPL-2.0
# Shared helpers of the guest scenarios: a Docker-like topology built by hand
# (bridge docker0 172.17.0.1/16, containers as namespaces on veth pairs, an
# external host on a second link, Docker's nat and filter rules for
# `-p 8081:8080`), and FACT lines the host-side checks read.
# Busybox sh runs its own applets first: iproute2 and iptables are called by
# full path.
IP=/sbin/ip
IPT=/sbin/iptables
KO=/lib/modules/dockfw.ko

fact() { echo "FACT $*"; }
mark() { echo "DFW-MARK $*" > /dev/kmsg; }
netns_inum() { $IP netns exec "$1" readlink /proc/self/ns/net | tr -cd 0-9; }
in_ns() { ns=$1; shift; $IP netns exec "$ns" "$@"; }

# hook_count NS: how many hook functions the kernel itself lists in NS
# (`nft list hooks`, nfnetlink_hook: every family and hook point), whoever
# registered them. Independent of dockfw's own counters and of its name.
hook_count() {
	if [ "$1" = init ]; then nft list hooks; else in_ns "$1" nft list hooks; fi 2>/dev/null |
		awk '$1 ~ /^[-+]?[0-9]+$/ { n++ } END { print n + 0 }'
}

# udp_snmp NS FIELD...: the kernel's own UDP counters (/proc/net/snmp: Udp
# InDatagrams, OutDatagrams, RcvbufErrors, ...) in NS, space-separated.
udp_snmp() {
	ns=$1; shift
	in_ns "$ns" cat /proc/net/snmp | awk -v want="$*" '
		$1 == "Udp:" && !h { for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next }
		$1 == "Udp:" { n = split(want, w, " "); for (i = 1; i <= n; i++) printf "%s%s", $col[w[i]], (i < n ? " " : "\n") }'
}

# softnet_drops: packets the kernel dropped because a CPU's input backlog
# (net.core.netdev_max_backlog) was full, summed over CPUs (second column
# of /proc/net/softnet_stat, hex; global, not per namespace). A veth hands
# each packet to its peer through that backlog, before any netfilter hook,
# so an unpaced flood on a loaded host can lose some there: not dockfw's
# doing (its own drops are NF_DROP, in its `dropped` counter, never here).
softnet_drops() {
	s=0
	while read -r _ d _; do s=$((s + 0x$d)); done < /proc/net/softnet_stat
	echo "$s"
}

# add_container NAME IP: a namespace whose eth0 is a veth on docker0.
add_container() {
	$IP netns add "$1"
	$IP link add "veth-$1" type veth peer name eth0 netns "$1"
	$IP link set "veth-$1" master docker0 up
	$IP -n "$1" addr add "$2/16" dev eth0
	$IP -n "$1" link set eth0 up
	$IP -n "$1" link set lo up
	$IP -n "$1" route add default via 172.17.0.1
	fact netns "$1" "$(netns_inum "$1")"
}

# add_external NAME HOSTIP EXTIP: an "external host" on its own link.
add_external() {
	$IP netns add "$1"
	$IP link add "veth-$1" type veth peer name eth0 netns "$1"
	$IP addr add "$2/24" dev "veth-$1"
	$IP link set "veth-$1" up
	$IP -n "$1" addr add "$3/24" dev eth0
	$IP -n "$1" link set eth0 up
	$IP -n "$1" link set lo up
	$IP -n "$1" route add default via "$2"
	fact netns "$1" "$(netns_inum "$1")"
}

# The rules dockerd 20.10 installs for `docker run -p HPORT:CPORT` on CIP.
docker_rules() {
	hport=$1 cip=$2 cport=$3
	$IPT -t nat -N DOCKER
	$IPT -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
	$IPT -t nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
	$IPT -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
	$IPT -t nat -A POSTROUTING -s "$cip/32" -d "$cip/32" -p tcp --dport "$cport" -j MASQUERADE
	$IPT -t nat -A DOCKER -i docker0 -j RETURN
	$IPT -t nat -A DOCKER ! -i docker0 -p tcp --dport "$hport" -j DNAT --to-destination "$cip:$cport"
	$IPT -N DOCKER
	$IPT -N DOCKER-USER
	$IPT -N DOCKER-ISOLATION-STAGE-1
	$IPT -N DOCKER-ISOLATION-STAGE-2
	$IPT -P FORWARD DROP
	$IPT -A FORWARD -j DOCKER-USER
	$IPT -A FORWARD -j DOCKER-ISOLATION-STAGE-1
	$IPT -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
	$IPT -A FORWARD -o docker0 -j DOCKER
	$IPT -A FORWARD -i docker0 ! -o docker0 -j ACCEPT
	$IPT -A FORWARD -i docker0 -o docker0 -j ACCEPT
	$IPT -A DOCKER -d "$cip/32" ! -i docker0 -o docker0 -p tcp --dport "$cport" -j ACCEPT
	$IPT -A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
	$IPT -A DOCKER-ISOLATION-STAGE-1 -j RETURN
	$IPT -A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
	$IPT -A DOCKER-ISOLATION-STAGE-2 -j RETURN
	$IPT -A DOCKER-USER -j RETURN
}

# topo_docker BRNF [HPORT]: docker0, containers c1 (serves :8080) and c2,
# external host ext (10.0.0.2 via 10.0.0.1), `-p HPORT:8080` to c1 (default
# 8081); net.bridge.bridge-nf-call-iptables and -ip6tables set to BRNF.
topo_docker() {
	fact netns init "$(readlink /proc/self/ns/net | tr -cd 0-9)"
	echo 1 > /proc/sys/net/ipv4/ip_forward
	# br_netfilter has one switch per family: bridged IPv6 follows
	# bridge-nf-call-ip6tables (default 1), not the IPv4 switch.
	echo "$1" > /proc/sys/net/bridge/bridge-nf-call-iptables
	echo "$1" > /proc/sys/net/bridge/bridge-nf-call-ip6tables
	$IP link add docker0 type bridge
	$IP addr add 172.17.0.1/16 dev docker0
	$IP link set docker0 up
	add_container c1 172.17.0.2
	add_container c2 172.17.0.3
	add_external ext 10.0.0.1 10.0.0.2
	docker_rules "${2:-8081}" 172.17.0.2 8080
	serve c1 8080 c1
	serve c2 8080 c2
	# Warm ARP and the bridge's FDB so the traced packets are unicast (a
	# flooded frame is cloned, and a clone is another skb).
	in_ns c1 ping -c1 -W2 172.17.0.1 >/dev/null
	in_ns c2 ping -c1 -W2 172.17.0.1 >/dev/null
	in_ns ext ping -c1 -W2 10.0.0.1 >/dev/null
	in_ns c1 ping -c1 -W2 172.17.0.3 >/dev/null
	wait_port c1 8080
	wait_port c2 8080
}

# serve NS PORT NAME: a TCP server in NS answering "hello from NAME". The
# process itself is backgrounded (not a subshell) so stop_server can kill it.
serve() {
	$IP netns exec "$1" dfwprobe serve "$2" "$3" &
	echo $! > "/tmp/server.$1.$2"
}
stop_server() {
	pid=$(cat "/tmp/server.$1.$2")
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

# wait_port NS PORT: until a listener shows up (servers start in background).
wait_port() {
	i=0
	while ! in_ns "$1" cat /proc/net/tcp6 /proc/net/tcp 2>/dev/null | grep -qi ":$(printf %04X "$2") .* 0A "; do
		i=$((i + 1)); [ $i -lt 100 ] || { echo "no listener on $1:$2"; return 1; }
		sleep 0.05
	done
}

# wait_udp NS PORT: until a UDP socket is bound to PORT in NS. A fixed
# sleep after starting a receiver is not enough on the debug kernel, where
# the first datagrams then find no socket (NoPorts) and a count comes short.
wait_udp() {
	i=0
	while ! in_ns "$1" cat /proc/net/udp6 /proc/net/udp 2>/dev/null | grep -qi ":$(printf %04X "$2") "; do
		i=$((i + 1)); [ $i -lt 400 ] || { echo "no UDP socket on $1:$2"; return 1; }
		sleep 0.05
	done
}

# probe_host NAME CMD...: the same from the host's own namespace.
probe_host() {
	name=$1; shift
	out=$(dfwprobe "$@" || true)
	fact outcome "$name" "$out"
}

# ctl NAME ARGS...: runs dockfwctl, records its exit code, and its output
# and errors base64-encoded (one line each), as FACTs.
ctl() {
	name=$1; shift
	set +e
	dockfwctl "$@" > /tmp/ctl.out 2> /tmp/ctl.err
	rc=$?
	set -e
	fact "ctl_rc:$name" "$rc"
	fact "ctl_out:$name" "$(base64 -w0 < /tmp/ctl.out)"
	fact "ctl_err:$name" "$(base64 -w0 < /tmp/ctl.err)"
}

# probe NAME NS CMD...: runs dfwprobe in NS and records its OUTCOME.
# dfwprobe exits non-zero when the connection fails (that is often the
# point); its OUTCOME line says how, and the checks compare that line
# exactly ("OUTCOME ok hello from c1 ...", "OUTCOME timeout"), so a probe
# that crashed or never ran (no line) fails them.
probe() {
	name=$1 ns=$2; shift 2
	out=$(in_ns "$ns" dfwprobe "$@" || true)
	fact outcome "$name" "$out"
}

# start_trace NAME ARGS...: runs `dockfwctl trace ARGS...` in the background
# (its stdout in /tmp/NAME.out, stderr in /tmp/NAME.err, pid in
# /tmp/NAME.pid) and waits until it says it is ready.
start_trace() {
	name=$1; shift
	dockfwctl trace "$@" > "/tmp/$name.out" 2> "/tmp/$name.err" &
	echo $! > "/tmp/$name.pid"
	i=0
	while ! grep -q '^tracing:' "/tmp/$name.err"; do
		i=$((i + 1))
		if [ $i -gt 200 ] || ! kill -0 "$(cat "/tmp/$name.pid")" 2>/dev/null; then
			echo "trace $name did not start:"; cat "/tmp/$name.err"; return 1
		fi
		sleep 0.05
	done
}

# stop_trace NAME [SIGNAL]: stops it (default INT, like Ctrl-C), then
# records its exit code, output and summary (base64) as FACTs.
stop_trace() {
	pid=$(cat "/tmp/$1.pid")
	kill "-${2:-INT}" "$pid"
	set +e
	wait "$pid"
	rc=$?
	set -e
	fact "trace_rc:$1" "$rc"
	fact "trace_out:$1" "$(base64 -w0 < "/tmp/$1.out")"
	fact "trace_err:$1" "$(base64 -w0 < "/tmp/$1.err")"
}

# trace_filters: how many trace filters the module holds now.
trace_filters() {
	dockfwctl stats --json | tr -d ' \n' | sed -n 's/.*"trace_filters":\([0-9]*\).*/\1/p'
}

# hold_filter: starts a socket that installs a UDP trace filter and keeps
# it without listening on the trace group (its pid in $holder), and waits
# until the filter is in place.
hold_filter() {
	. /scenarios/uapi.sh
	dfwprobe nl $CMD_TRACE_SET nest:$A_MATCH[ u8:$RA_PROTO=17 ] --hold > /tmp/holder.out &
	holder=$!
	i=0
	until grep -q NLOK /tmp/holder.out || [ $i -gt 200 ]; do i=$((i + 1)); sleep 0.05; done
}
