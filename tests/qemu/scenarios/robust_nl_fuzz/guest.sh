# SPDX-License-Identifier: GPL-2.0
# Hostile netlink: `dfwprobe fuzz` (tests/guest-tools/src/fuzz.rs) sends
# random and mutated requests to every command of the real family, as an
# unprivileged user, from inside a container's namespace, and as root.
# Size: dfwsize=full 5000 requests per run, small (CI) 400.
. /scenarios/lib.sh
case "${dfwsize:-small}" in full) N=5000 ;; *) N=400 ;; esac
fact requests "$N"
topo_docker 0
insmod $KO
cat > /tmp/seed <<'RULES'
forward tcp orig-dport 8081 saddr 10.0.0.0/24 comment seed drop
input udp dport 53 accept
ip6 tcp dport 443 iif eth+ prio 5 log
RULES
dockfwctl restore /tmp/seed
dockfwctl save > /tmp/before
gen() { dockfwctl stats --json | tr -d ' \n' | sed -n 's/.*"generation":\([0-9]*\).*/\1/p'; }
fact gen_before "$(gen)"
fam=$(dfwprobe fuzz family)
fact family "$fam"
# 1. unprivileged: every request refused, nothing changes.
fact "fuzz:nobody" "$(dfwprobe as-nobody /bin/dfwprobe fuzz 11 "$N" "$fam" | tr '\n' '|')"
dockfwctl save > /tmp/after_nobody
fact unchanged_nobody "$(cmp -s /tmp/before /tmp/after_nobody && echo yes || echo no)"
fact gen_nobody "$(gen)"
# 2. root inside a container namespace: the family is not there.
fact "fuzz:container" "$(in_ns c1 dfwprobe fuzz 22 "$N" "$fam" | tr '\n' '|')"
dockfwctl save > /tmp/after_container
fact unchanged_container "$(cmp -s /tmp/before /tmp/after_container && echo yes || echo no)"
fact gen_container "$(gen)"
# 3. root in the initial namespace: the fuzzer snapshots the state around
# every request itself (see fuzz.rs); accepted updates are counted.
fact "fuzz:root" "$(dfwprobe fuzz 33 "$N" | tr '\n' '|')"
fact "fuzz:root2" "$(dfwprobe fuzz 44 "$N" | tr '\n' '|')"
# The fuzzer's trace filters went with its socket.
fact filters_after "$(trace_filters)"
# The module still works: the seed set back, and it filters.
dockfwctl policy accept
dockfwctl restore /tmp/seed
dockfwctl save | sed 's/^id [0-9]* //' > /tmp/restored
sed 's/^id [0-9]* //' /tmp/before > /tmp/before_noid
fact same_rules_again "$(cmp -s /tmp/before_noid /tmp/restored && echo yes || echo no)"
probe ext_blocked ext connect 10.0.0.1 8081 1000
probe c1_to_c2 c1 connect 172.17.0.3 8080
