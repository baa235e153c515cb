# SPDX-License-Identifier: GPL-2.0
# Who may listen, and filters that never outlive their tool: an unprivileged
# caller is refused; Ctrl-C clears the filters; so does SIGKILL (the kernel
# drops them when the socket closes); a slow listener loses events, counted,
# while the traffic it watches is unharmed.
. /scenarios/lib.sh
topo_docker 0
insmod $KO
fact nobody_rc "$(dfwprobe as-nobody /bin/dockfwctl trace --timeout 2 >/dev/null 2>/tmp/nobody.err; echo $?)"
fact nobody_err "$(base64 -w0 < /tmp/nobody.err)"
start_trace intr tcp dport 8080
fact filters_intr "$(trace_filters)"
stop_trace intr INT
fact filters_after_intr "$(trace_filters)"
start_trace killed -f "tcp dport 8080" -f "udp"
fact filters_killed "$(trace_filters)"
stop_trace killed KILL
i=0
while [ "$(trace_filters)" != 0 ] && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.05; done
fact filters_after_kill "$(trace_filters)"
# A listener that stops reading: its stdout is a pipe nobody drains.
mkfifo /tmp/slow.fifo
dockfwctl trace --json udp dport 9999 > /tmp/slow.fifo 2> /tmp/slow.err &
slow=$!
exec 9< /tmp/slow.fifo
i=0
while ! grep -q '^tracing:' /tmp/slow.err && [ $i -lt 200 ]; do i=$((i + 1)); sleep 0.05; done
ctl stats_before stats --json
fact snmp_c2_before "$(udp_snmp c2 InDatagrams InErrors NoPorts)"
fact backlog_before "$(softnet_drops)"
$IP netns exec c2 dfwprobe udp-count 9999 4000 > /tmp/count &
counter=$!
wait_udp c2 9999
in_ns c1 dfwprobe udp-send 172.17.0.3 9999 20000 64 > /tmp/sent
wait $counter
fact udp_sent "$(cat /tmp/sent)"
fact udp_received "$(cat /tmp/count)"
fact snmp_c2_after "$(udp_snmp c2 InDatagrams InErrors NoPorts)"
fact backlog_after "$(softnet_drops)"
ctl stats_flood stats --json
kill -KILL $slow
wait $slow 2>/dev/null || true
exec 9<&-
i=0
while [ "$(trace_filters)" != 0 ] && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.05; done
fact filters_after_slow "$(trace_filters)"
# A session that starts while another socket holds trace filters without
# listening. With nobody on the trace group the filters' hooks are not even
# registered; the new session joins the group (which registers them) and
# then installs its filter, which must make its very first packet an event.
hold_filter
silent=$holder
fact silent_filters "$(trace_filters)"
# Traffic the silent filter matches: nobody listens, so its hooks are not registered.
in_ns c1 dfwprobe udp-send 172.17.0.3 9998 200 64 > /dev/null
start_trace late --json udp dport 9997
in_ns c1 dfwprobe udp-send 172.17.0.3 9997 1 64 > /dev/null
sleep 0.5
stop_trace late INT
kill $silent
wait $silent 2>/dev/null || true
