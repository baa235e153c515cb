# SPDX-License-Identifier: GPL-2.0
# The kernel's own YNL CLI (tools/net/ynl/cli.py of Linux 6.12, run by the
# Python of run.py's Python payload: NEEDS in check.py) drives the live
# module knowing only include/dockfw.yaml: a do (rule-add), a dump
# (rule-get), a request the netlink policy refuses (its extended ACK), and
# a subscription to the trace group that receives the events of packets a
# trace filter matches. dockfwctl cross-checks what cli.py saw.
. /scenarios/lib.sh
. /scenarios/uapi.sh
topo_docker 0
insmod $KO
YNL="python3 /ynl/cli.py --spec /ynl/specs/dockfw.yaml --output-json"

uptime_s() { cut -d' ' -f1 /proc/uptime; }

# ynl_facts NAME RC T0: cli.py's exit code, output and errors (base64) and
# the seconds since T0, as FACTs.
ynl_facts() {
	fact "ynl_rc:$1" "$2"
	fact "ynl_out:$1" "$(base64 -w0 < "/tmp/ynl.$1.out")"
	fact "ynl_err:$1" "$(base64 -w0 < "/tmp/ynl.$1.err")"
	fact "ynl_secs:$1" "$(awk -v t0="$3" '{ printf "%.1f", $1 - t0 }' /proc/uptime)"
}

# ynl NAME ARGS...: runs cli.py with ARGS.
ynl() {
	name=$1; shift
	t0=$(uptime_s)
	set +e
	$YNL "$@" > "/tmp/ynl.$name.out" 2> "/tmp/ynl.$name.err"
	rc=$?
	set -e
	ynl_facts "$name" "$rc" "$t0"
}

registered() {
	dockfwctl stats --json | tr -d ' \n' | sed -n 's/.*"hooks_registered":\([0-9]*\).*/\1/p'
}

# A rule from dockfwctl first: cli.py's dump must show it too. At FORWARD
# only, so that the rules leave hooks unregistered (see subscribe below).
ctl seed add forward tcp dport 8081 comment seed accept
# do: a rule in the spec's names (verdict and hooks by their enum names)
# dropping UDP to port 7777 at INPUT; the reply carries its id.
ynl add --do rule-add --json '{"rule": {"proto": 17, "dport-min": 7777, "dport-max": 7777, "hooks": ["input"], "verdict": "drop", "comment": "ynl-cli"}}'
# dump: every rule, as the spec decodes it; dockfwctl's view of the same set.
ynl dump --dump rule-get
ctl list list --json
# Refused by the netlink core's policy validation: verdict 7, above the
# maximum of the verdict's policy (NLA_POLICY_MAX(NLA_U8, 2) in
# src/dockfw_nl_gen.c, generated from the spec's `enum: verdict`). Then the
# rules are dumped again.
ynl refused --do rule-add --json '{"rule": {"proto": 17, "dport-min": 7778, "dport-max": 7778, "verdict": 7}}'
ynl dump_after_refused --dump rule-get

# subscribe: a trace filter (UDP to port 7777) held by another socket,
# which does not listen (dfwprobe nl --hold: the filter lives as long as
# its socket). Its hooks (all five: the match names none) are registered
# only once someone listens: cli.py's join, which the guest waits for by
# watching the module's count of registered hooks grow (the rules need
# only FORWARD and INPUT). cli.py sleeps while c1 sends three datagrams to
# c2:7777 (dropped at c2's INPUT by the rule above), then prints the
# events that arrived.
dfwprobe nl $CMD_TRACE_SET nest:$A_MATCH[ u8:$RA_PROTO=17 u16:$RA_DPORT_MIN=7777 u16:$RA_DPORT_MAX=7777 ] --hold > /tmp/holder.out &
holder=$!
i=0
until grep -q NLOK /tmp/holder.out || [ $i -gt 200 ]; do i=$((i + 1)); sleep 0.05; done
fact holder "$(cat /tmp/holder.out)"
before=$(registered)
t0=$(uptime_s)
set +e
$YNL --subscribe trace --sleep 6 > /tmp/ynl.sub.out 2> /tmp/ynl.sub.err &
sub=$!
set -e
i=0
while [ "$(registered)" = "$before" ] && kill -0 $sub 2>/dev/null && [ $i -lt 600 ]; do
	i=$((i + 1)); sleep 0.1
done
fact registered "$before $(registered)"
fact joined_secs "$(awk -v t0="$t0" '{ printf "%.1f", $1 - t0 }' /proc/uptime)"
in_ns c1 dfwprobe udp-send 172.17.0.3 7777 3 64 > /tmp/sent
fact sent_secs "$(awk -v t0="$t0" '{ printf "%.1f", $1 - t0 }' /proc/uptime)"
fact udp_sent "$(cat /tmp/sent)"
set +e
wait $sub
rc=$?
set -e
ynl_facts sub "$rc" "$t0"
kill $holder
wait $holder 2>/dev/null || true
ctl list_after list --json
