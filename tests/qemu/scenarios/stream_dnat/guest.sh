# SPDX-License-Identifier: GPL-2.0
# The DNAT experiment through the netlink trace stream: two listeners at
# once (JSON events, and the --explain summary), several filters each, the
# deciding rule and the conntrack original tuple in every event.
. /scenarios/lib.sh
topo_docker 0
insmod $KO
ctl rule add forward tcp orig-dport 8081 accept
start_trace json --json -f "tcp dport 8081" -f "tcp dport 8080" -f "tcp sport 8080" -f "tcp sport 8081"
start_trace explain --explain -f "tcp dport 8081" -f "tcp dport 8080" -f "tcp sport 8080" -f "tcp sport 8081"
# A third session watching something else must see none of the above.
start_trace other --json udp dport 5353
fact filters_while_tracing "$(trace_filters)"
probe ext_to_published ext connect 10.0.0.1 8081
sleep 0.5
stop_trace json
stop_trace explain
stop_trace other
fact filters_after "$(trace_filters)"
ctl stats stats --json
