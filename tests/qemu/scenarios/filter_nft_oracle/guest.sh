# SPDX-License-Identifier: GPL-2.0
# An independent oracle for matching, in the kernel: random rules (fixed
# seed), each written twice, as a dockfw `input` rule scoped to c2's
# namespace with action `log`
# (which counts and goes on) and as nftables rules in c2's namespace that
# add to a named counter; then varied traffic into c2 (TCP and UDP from two
# source addresses to two destinations, open, closed, DNATed and untracked
# ports, ICMP, the replies of c2's own connections). Both see the same
# packets at LOCAL_IN; the check wants every rule's packet and byte counts
# equal. The translation (one rule's meaning in nftables' terms):
#   tcp/udp/icmp         meta l4proto X
#   saddr/daddr P        ip saddr/daddr P
#   sport/dport R        meta l4proto { tcp, udp } th sport/dport R
#   iif NAME / NAME+     iifname "NAME" / "NAME*"
#   ct S,...             ct state { S, ... } (dockfw's untracked: no entry,
#                        which nftables calls untracked or invalid)
#   orig-daddr/-dport    rules on one counter, by conntrack direction:
#                        original: ct original ip daddr / proto-dst (one rule
#                        per port-bearing protocol); reply, untracked,
#                        invalid: the packet's own ip daddr / th dport
. /scenarios/lib.sh
topo_docker 0
SEED=${dfwseed:-20261206}
N=48
fact seed "$SEED"
# IPv4 only in c2 (no neighbour discovery or MLD arriving between the
# two counter reads at the end).
in_ns c2 sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6'
$IP -n c1 addr add 172.17.1.5/16 dev eth0
$IP -n c2 addr add 172.17.2.3/16 dev eth0
# c2: port 7777 (on either address) DNATed to 172.17.0.3:8080; UDP 9000
# not tracked (raw table).
in_ns c2 nft -f - <<'NFT'
table ip setup {
	chain pre_raw { type filter hook prerouting priority raw; udp dport 9000 notrack; }
	chain pre_nat { type nat hook prerouting priority dstnat; tcp dport 7777 dnat to 172.17.0.3:8080; }
}
NFT
# The rules, both ways. awk's rand() from a fixed seed: the same rules on
# every run of one seed.
# dockfw's rules apply in every namespace: each is scoped to c2's, where
# the nftables table is.
awk -v seed="$SEED" -v n="$N" -v c2="$(netns_inum c2)" '
function pick(s,   a, k) { k = split(s, a, " "); return a[int(rand() * k) + 1] }
function chance(p) { return rand() < p }
BEGIN {
	srand(seed)
	print "table inet oracle {" > "/tmp/oracle.nft"
	for (i = 1; i <= n; i++) print "\tcounter r" i " { }" > "/tmp/oracle.nft"
	print "\tchain input { type filter hook input priority filter;" > "/tmp/oracle.nft"
	for (i = 1; i <= n; i++) {
		d = "input netns " c2; m = ""; proto = ""
		if (chance(0.5)) { proto = pick("tcp udp icmp"); d = d " " proto; m = m " meta l4proto " proto }
		if (chance(0.3)) { p = pick("172.17.0.0/16 172.17.0.2/32 172.17.1.0/24 172.17.0.0/24 10.0.0.0/8"); d = d " saddr " p; m = m " ip saddr " p }
		if (chance(0.3)) { p = pick("172.17.0.3/32 172.17.2.0/24 172.17.0.0/16 172.17.0.0/24"); d = d " daddr " p; m = m " ip daddr " p }
		ports = (proto == "" || proto == "tcp" || proto == "udp")
		l4 = (proto == "" ? " meta l4proto { tcp, udp }" : "")
		if (ports && chance(0.25)) { r = pick("8080 1-1024 30000-65535 32768-60999"); d = d " sport " r; m = m l4 " th sport " r }
		if (ports && chance(0.5)) { r = pick("53 80 443 7777 8080 9000 9999 1-1024 8000-9999 30000-65535"); d = d " dport " r; m = m l4 " th dport " r }
		if (chance(0.15)) { f = pick("eth0 et+ veth+"); d = d " iif " f; g = f; sub(/\+$/, "*", g); m = m " iifname \"" g "\"" }
		if (chance(0.3)) {
			k = 0; s = ""; t = ""
			split("new established related untracked", st, " ")
			for (j = 1; j <= 4; j++) if (chance(0.5)) { s = s (k ? "," : "") st[j]; t = t (k ? ", " : "") st[j] (st[j] == "untracked" ? ", invalid" : ""); k++ }
			if (k) { d = d " ct " s; m = m " ct state { " t " }" }
		}
		od = ""; op = ""
		if (chance(0.3)) { od = pick("172.17.0.3/32 172.17.2.0/24 172.17.0.0/16"); d = d " orig-daddr " od }
		if (chance(0.35)) { op = pick("7777 8080 80 1-1024 8000-9999 30000-65535"); d = d " orig-dport " op }
		print d " comment r" i " log" > "/tmp/oracle.dfw"
		if (od == "" && op == "") { print "\t\t" m " counter name r" i > "/tmp/oracle.nft"; continue }
		orig = (od != "" ? " ct original ip daddr " od : "") (op != "" ? " ct original proto-dst " op : "")
		own = (od != "" ? " ip daddr " od : "") (op != "" ? " meta l4proto { tcp, udp } th dport " op : "")
		# (nftables needs the protocol to read the port of a tuple: one rule per
		# port-bearing protocol; an ICMP tuple has no port, never in R.)
		if (op == "") print "\t\t" m " ct direction original" orig " counter name r" i > "/tmp/oracle.nft"
		else {
			np = split(proto == "" ? "tcp udp" : (proto == "icmp" ? "" : proto), pp, " ")
			for (j = 1; j <= np; j++) print "\t\t" m " meta l4proto " pp[j] " ct direction original" orig " counter name r" i > "/tmp/oracle.nft"
		}
		print "\t\t" m " ct direction reply" own " counter name r" i > "/tmp/oracle.nft"
		print "\t\t" m " ct state { untracked, invalid }" own " counter name r" i > "/tmp/oracle.nft"
	}
	print "\t}\n}" > "/tmp/oracle.nft"
}'
fact dfw_rules "$(base64 -w0 < /tmp/oracle.dfw)"
fact nft_rules "$(base64 -w0 < /tmp/oracle.nft)"
insmod $KO
ctl restore restore /tmp/oracle.dfw
in_ns c2 nft -f /tmp/oracle.nft
for p in 53 80 443 9000 9999; do in_ns c2 dfwprobe udp-count "$p" 30000 > /dev/null & done
wait_udp c2 9999
# send FROM: c1's traffic with source address FROM (its route's preferred
# source), to both of c2's addresses.
send() {
	$IP -n c1 route replace 172.17.0.0/16 dev eth0 src "$1"
	for dst in 172.17.0.3 172.17.2.3; do
		for p in 53 80 443 9000 9999 31000; do in_ns c1 dfwprobe udp-send "$dst" "$p" 2 40 > /dev/null; done
		for p in 8080 7777 443; do in_ns c1 dfwprobe connect "$dst" "$p" 1000 > /dev/null || :; done
		in_ns c1 ping -c1 -W1 "$dst" > /dev/null || :
	done
}
send 172.17.0.2
send 172.17.1.5
# c2's own connections out: their replies come in reply direction.
in_ns c2 dfwprobe connect 172.17.0.2 8080 1000 > /dev/null || :
in_ns c2 ping -c1 -W1 172.17.0.2 > /dev/null || :
sleep 0.5
ctl counters list --json
fact nft_counters "$(in_ns c2 nft list counters table inet oracle | tr -d '\n\t' | base64 -w0)"
