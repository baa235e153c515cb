# SPDX-License-Identifier: GPL-2.0
# The failure ufw-docker users meet most: firewall rules written against the
# container's address stop applying when Docker gives the container a new
# one. Here `docker run -p 80:8080 web`, then `docker restart web` (a new
# network namespace), then `docker rm` + `docker run` after another
# container took the old address (a new IP). Three clients: ok (allowed),
# ext (refused by dockfw's rule on the published port) and ext2 (refused by
# a ufw-docker style DOCKER-USER rule on the container's IP:8080). After
# each step dockfw's rules still decide; the IP-based iptables rule misses
# the new address.
. /scenarios/lib.sh
. /scenarios/docker.sh
fact netns init "$(readlink /proc/self/ns/net | tr -cd 0-9)"
insmod $KO trace=0 trace_icmp=0 trace_ports=80,8080
docker_up --userland-proxy=false
docker_image
docker_serve web 80 --init
docker_external ext 10.0.0.1 10.0.0.2
docker_external ok 172.16.0.1 172.16.0.2
docker_external ext2 10.0.1.1 10.0.1.2
ip0=$(docker_ip web)
# ufw-docker's way: a rule on the container's address and port (in
# DOCKER-USER, or the nftables backend's equivalent: docker.sh user_rule).
user_rule drop 10.0.1.0/24 "$ip0/32" 8080
ctl allow add forward input tcp saddr 172.16.0.0/24 orig-dport 80 accept
ctl deny add forward input tcp saddr 10.0.0.0/24 orig-dport 80 drop

# phase STEP: the three clients, the allowed and the dockfw-refused one
# traced between markers.
phase() {
	fact "ip_$1" "$(docker_ip web)"
	fact "netns_$1" "$(docker_netns web)"
	fact "pid_$1" "$(docker_pid web)"
	# Pin this step's namespace (a name for it in /run/netns) so that its
	# inode cannot be reused: each step's namespace must then be a new one.
	$IP netns attach "pin_$1" "$(docker_pid web)"
	mark "$1"
	echo 1 > /sys/module/dockfw/parameters/trace
	probe "allowed_$1" ok connect 172.16.0.1 80
	probe "refused_$1" ext connect 10.0.0.1 80 1500
	echo 0 > /sys/module/dockfw/parameters/trace
	mark "$1-end"
	probe "ext2_$1" ext2 connect 10.0.1.1 80 1500
}
phase start

t=$(_docker_now)
docker restart -t 2 web > /dev/null
docker_wait_ctr_port web 8080
fact restart_secs "$(( ($(_docker_now) - t) / 100 ))"
phase restart

t=$(_docker_now)
docker rm -f web > /dev/null
docker_run_idle squatter
docker_serve web 80 --init
fact rerun_secs "$(( ($(_docker_now) - t) / 100 ))"
fact ip_squatter "$(docker_ip squatter)"
phase rerun

docker_iptables iptables
ctl list list --json
for s in start restart rerun; do $IP netns del "pin_$s"; done
# A removed container's namespace is freed asynchronously: wait until the
# hooks are gone from it before comparing counts.
i=0
while [ "$(cat /sys/module/dockfw/parameters/hooked_netns)" != "$(live_netns | wc -l)" ] && [ $i -lt 100 ]; do
	i=$((i + 1)); sleep 0.1
done
ctl stats stats --json
fact hooked_param "$(cat /sys/module/dockfw/parameters/hooked_netns)"
fact live_netns "$(live_netns | wc -l)"
