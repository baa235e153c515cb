# SPDX-License-Identifier: GPL-2.0
# Hooks on demand: dockfw registers a netfilter hook at a (family, hook)
# point, in every namespace, only while a rule, a trace filter, the drop
# policy or a switch (trace, hook_cost) needs it there. After each change
# the kernel's own list of hooks (`nft list hooks`, nfnetlink_hook) is read
# in every namespace, and traffic shows the rules hold.
. /scenarios/lib.sh
topo_docker 0
NSS="init c1 c2 ext"

# nft_hooks NS: the hook points where a dockfw function is registered in
# NS, as the kernel lists them ("ip:forward ip6:input"), sorted.
nft_hooks() {
	if [ "$1" = init ]; then nft list hooks; else in_ns "$1" nft list hooks; fi 2>/dev/null |
		awk '$1 == "family" { f = $2 } $1 == "hook" { h = $2 } /\[dockfw\]/ { print f ":" h }' |
		sort | tr '\n' ' '
}

# snap STEP: every namespace's dockfw hooks and the module's own counts.
snap() {
	for ns in $NSS; do
		fact "hooks:$1:$ns" "$(nft_hooks "$ns")"
	done
	s=$(dockfwctl stats --json | tr -d ' \n')
	fact "registered:$1" "$(echo "$s" | sed -n 's/.*"hooks_registered":\([0-9]*\).*/\1/p')"
	fact "netns:$1" "$(echo "$s" | sed -n 's/.*"hooked_netns":\([0-9]*\).*/\1/p')"
}

# Control: the kernel lists the hooks it has at all (conntrack's, and the
# filter FORWARD chain Docker's iptables-nft rules made), so an empty list of
# dockfw's means something.
fact nft_control "$(nft list hooks 2>&1 | grep -c -e 'ipv4_conntrack_in' -e 'chain ip filter FORWARD' || true)"

insmod $KO
snap loaded
probe loaded_ext_to_published ext connect 10.0.0.1 8081

# A rule on the published port at IPv4 FORWARD (after Docker's DNAT).
ctl fwd add forward ip tcp saddr 10.0.0.2 orig-dport 8081 drop
fwd_id=$(sed -n 's/^added rule \([0-9]*\)$/\1/p' /tmp/ctl.out)
snap fwd
probe fwd_ext_to_published ext connect 10.0.0.1 8081 1500
probe fwd_c1_to_c2 c1 connect 172.17.0.3 8080

# A namespace created now gets the hooks in use at once.
add_container late 172.17.0.9
NSS="$NSS late"
snap late

# A second rule at LOCAL_OUT: every namespace gets that hook too.
ctl out add output ip tcp daddr 172.17.0.3 dport 8080 drop
snap out
probe out_c1_to_c2 c1 connect 172.17.0.3 8080 1500

# Deleting the FORWARD rule releases FORWARD everywhere; LOCAL_OUT stays.
ctl del_fwd del "$fwd_id"
snap del_fwd
probe del_ext_to_published ext connect 10.0.0.1 8081
probe del_c1_to_c2 c1 connect 172.17.0.3 8080 1500

ctl flush flush
snap flush
probe flush_c1_to_c2 c1 connect 172.17.0.3 8080

# The drop policy needs every hook; accept releases them.
ctl drop policy drop
snap drop
probe drop_c1_to_c2 c1 connect 172.17.0.3 8080 1500
ctl accept policy accept
snap accept
probe accept_c1_to_c2 c1 connect 172.17.0.3 8080

# A trace session's filter registers only the hooks it can match at, for as
# long as its socket lives.
start_trace t1 --json input ip tcp dport 8080
snap trace
probe trace_c1_to_c2 c1 connect 172.17.0.3 8080
stop_trace t1
snap trace_gone

# Trace filters held by a socket that does not listen register nothing; a
# session joining the trace group registers the hooks of every installed
# filter (the holder's UDP filter: every hook point), and leaving releases
# them while the holder's filter stays.
hold_filter
fact holder_filters "$(trace_filters)"
snap holder
start_trace t2 --json input ip tcp dport 8080
snap holder_listened
stop_trace t2
fact holder_filters_after "$(trace_filters)"
snap holder_alone
kill $holder
wait $holder 2>/dev/null || true

# The switches: a write first registers (or releases) every hook. A bad
# value is refused and changes nothing.
echo 1 > /sys/module/dockfw/parameters/hook_cost
snap hook_cost
echo 0 > /sys/module/dockfw/parameters/hook_cost
if echo bogus > /sys/module/dockfw/parameters/trace 2>/dev/null; then fact bogus_rc 0; else fact bogus_rc 1; fi
fact trace_after_bogus "$(cat /sys/module/dockfw/parameters/trace)"
snap bogus
echo 1 > /sys/module/dockfw/parameters/trace
snap trace_on
mark trace-on
probe trace_on_c1_to_c2 c1 connect 172.17.0.3 8080
mark trace-off
echo 0 > /sys/module/dockfw/parameters/trace
snap trace_off

# A rule added again, then the module removed: no hook of ours is left.
ctl again add forward ip tcp saddr 10.0.0.2 orig-dport 8081 drop
snap again
rmmod dockfw
for ns in $NSS; do
	fact "hooks:rmmod:$ns" "$(nft_hooks "$ns")"
done
probe rmmod_ext_to_published ext connect 10.0.0.1 8081
