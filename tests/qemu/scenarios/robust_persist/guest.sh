# SPDX-License-Identifier: GPL-2.0
# Nothing lost: a rule set loaded with restore is dumped back identical;
# after each rejected update the previous rules still apply (traffic says
# so); after rmmod + insmod + restore the same rules apply again.
. /scenarios/lib.sh
. /scenarios/uapi.sh
topo_docker 0
insmod $KO
cat > /tmp/rules <<'RULES'
# every kind of match, once
forward tcp orig-dport 8081 saddr 10.0.0.0/24 comment no_ext drop
input output udp dport 53 sport 1024-65535 accept
prerouting ip6 tcp dport 443 daddr 2001:db8::/32 iif eth+ prio 5 log
forward tcp dport 8080 oif docker0 ct established,related prio 900 accept
icmp daddr 172.17.0.0/16 netns host accept
proto 132 orig-daddr 10.0.0.1 comment sctp drop
RULES
dockfwctl restore /tmp/rules
dockfwctl save > /tmp/canon
fact canon "$(tr '\n' '|' < /tmp/canon)"
# The canonical file (with ids) restores to itself, byte for byte.
dockfwctl flush
dockfwctl restore /tmp/canon
dockfwctl save > /tmp/again
fact roundtrip "$(cmp -s /tmp/canon /tmp/again && echo yes || echo no)"
check() {
	dockfwctl save > /tmp/now
	fact "same:$1" "$(cmp -s /tmp/canon /tmp/now && echo yes || echo no)"
	probe "ext:$1" ext connect 10.0.0.1 8081 1000
	probe "c1c2:$1" c1 connect 172.17.0.3 8080
}
check initial
# Rejected updates, each followed by the same check.
ctl rej_syntax add tcp dport 99999 accept
check after_syntax
printf 'tcp dport 1 accept\ntcp dport 2 frob accept\n' > /tmp/bad
ctl rej_restore restore /tmp/bad
check after_bad_restore
fact "nl:rej_verdict" "$(dfwprobe nl $CMD_RULE_ADD nest:$A_RULE[ u8:$RA_VERDICT=9 ])"
check after_bad_verdict
# One socket: BEGIN, a batch whose second rule the kernel refuses (a port
# maximum without a minimum), ABORT.
fact "nl:rej_batch" "$(dfwprobe nl $CMD_REPLACE u8:$A_PHASE=$REPLACE_BEGIN \
	--- $CMD_REPLACE u8:$A_PHASE=$REPLACE_APPEND nest:$A_RULES[ nest:$A_RULE[ u8:$RA_VERDICT=$VERDICT_DROP ] nest:$A_RULE[ u8:$RA_VERDICT=$VERDICT_ACCEPT u16:$RA_DPORT_MAX=1 ] ] \
	--- $CMD_REPLACE u8:$A_PHASE=$REPLACE_ABORT | tr '\n' '|')"
check after_bad_batch
ctl rej_del del 4242
check after_bad_del
fact "nl:rej_policy" "$(dfwprobe nl $CMD_POLICY_SET u8:$A_POLICY=$VERDICT_LOG)"
check after_bad_policy
# Unload, load, restore the saved file: the same rules, the same verdicts.
rmmod dockfw
insmod $KO trace=1 trace_ports=8081,8080
dockfwctl restore /tmp/canon
mark reloaded
check reloaded
