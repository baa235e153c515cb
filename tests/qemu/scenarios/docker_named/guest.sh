# SPDX-License-Identifier: GPL-2.0
# Rules that name a container (issue 5), against a real Docker 20.10 engine:
# `to-container web` is resolved through the engine's API when the rule is
# added, `dockfwctl watch` (in the background, as the service would run)
# follows the engine's events and moves the rules when web is removed,
# another container takes its old address, and web comes back with a new
# one; `docker stop web` makes them inactive. The checks look at what
# crossed the network and at the kernel's counters.
. /scenarios/lib.sh
. /scenarios/docker.sh
fact netns init "$(readlink /proc/self/ns/net | tr -cd 0-9)"
insmod $KO trace=0
docker_up --userland-proxy=false
docker_image
docker_serve web 80
fact web_ip_1 "$(docker_ip web)"
fact web_netns_1 "$(docker_netns web)"
docker_external ext 10.0.0.1 10.0.0.2
docker_external ok 172.16.0.1 172.16.0.2

# wait_list NAME PATTERN COUNT: until `dockfwctl list` shows PATTERN on
# COUNT lines (at most 20 s); FACT watch_ms:NAME says how long it took.
wait_list() {
	t0=$(_docker_now)
	i=0
	while [ "$(dockfwctl list | grep -c -- "$2")" -lt "$3" ]; do
		i=$((i + 1))
		if [ $i -gt 400 ]; then
			echo "watch did not update the rules ($1: want $3 x '$2'):"
			dockfwctl list; cat /tmp/watch.err
			return 1
		fi
		sleep 0.05
	done
	fact "watch_ms:$1" "$(( ($(_docker_now) - t0) * 10 ))"
}

# The issue's rule, by name: only 172.16.0.0/24 reaches web's published
# port; everything else forwarded to web is dropped.
ctl allow add forward tcp orig-dport 80 to-container web saddr 172.16.0.0/24 accept
ctl deny add forward tcp to-container web drop
# A rule in web's own namespace (its hooks run there): counts what web
# receives on 8080.
ctl inns add input tcp dport 8080 in-container web accept
# An unknown container: refused, nothing added.
ctl ghost add forward to-container ghost drop
ctl list1 list
ctl list1j list --json
ctl save save
dockfwctl save > /tmp/saved.txt
probe allowed1 ok connect 172.16.0.1 80
probe refused1 ext connect 10.0.0.1 80 1500

# The service.
dockfwctl watch -v > /tmp/watch.out 2> /tmp/watch.err &
echo $! > /tmp/watch.pid
i=0
while ! grep -q 'synced:' /tmp/watch.err; do
	i=$((i + 1)); [ $i -lt 200 ] || { echo "watch did not start:"; cat /tmp/watch.err; exit 1; }
	sleep 0.05
done

# web goes away: its rules must not stay on an address Docker hands out again.
docker rm -f web > /dev/null
wait_list rm "# inactive" 3
ctl list_rm list --json
# Another container takes web's old address (published on 81): web's drop
# rule does not cover it.
docker_serve squatter 81
fact squatter_ip "$(docker_ip squatter)"
probe squatter_ext ext connect 10.0.0.1 81 1500
# web again, at a new address.
docker_serve web 80
fact web_ip_2 "$(docker_ip web)"
fact web_netns_2 "$(docker_netns web)"
wait_list start "to-container web=$(docker_ip web)" 2
wait_list start_ns "in-container web=netns $(docker_netns web)" 1
ctl list2 list --json
ctl list2t list
start_trace tr --json to-container web
probe allowed2 ok connect 172.16.0.1 80
probe refused2 ext connect 10.0.0.1 80 1500
probe squatter_ext2 ext connect 10.0.0.1 81 1500
sleep 0.5
stop_trace tr
ctl list3 list --json

# docker stop web: inactive again.
docker stop -t 1 web > /dev/null
wait_list stop "# inactive" 3
ctl list_stop list --json
probe squatter_ext3 ext connect 10.0.0.1 81 1500

kill -TERM "$(cat /tmp/watch.pid)"
set +e
wait "$(cat /tmp/watch.pid)"
fact watch_rc "$?"
set -e
fact watch_err "$(base64 -w0 < /tmp/watch.err)"

# Without the service: restore re-resolves the saved names (web is
# stopped: inactive, with a warning), so does add; `watch --once`
# activates them all once web runs again.
ctl restore restore /tmp/saved.txt
ctl list_restored list --json
ctl addstopped add forward udp to-container web drop
docker start web > /dev/null
docker_wait_ctr_port web 8080
fact web_ip_3 "$(docker_ip web)"
fact web_netns_3 "$(docker_netns web)"
ctl once watch --once
ctl list_once list --json
ctl stats stats --json

# A second network: `to-container web` becomes ambiguous (watch makes it
# inactive rather than guess), `web@front` names web's address there.
docker network create --subnet 172.30.0.0/24 front > /dev/null
ctl front_missing add forward tcp to-container web@front drop
docker network connect front web
ctl ambiguous add forward tcp to-container web drop
ctl front_add add forward tcp to-container web@front drop
fact web_front_ip "$(docker inspect -f '{{(index .NetworkSettings.Networks "front").IPAddress}}' web)"
ctl once_front watch --once
ctl list_front list --json
docker network disconnect front web
ctl once_back watch --once
ctl list_back list --json
