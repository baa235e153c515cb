# SPDX-License-Identifier: GPL-2.0
# A real Docker engine in the test guest, for the docker_* scenarios.
#
# run.py boots docker_* scenarios with a second initramfs archive holding
# Debian's docker.io 20.10, or the engine row of run.py --engine (dockerd,
# docker, docker-proxy), containerd,
# containerd-shim-runc-v2, runc, tini-static as docker-init, and
# /docker/rootfs.tar: a busybox root filesystem with dfwprobe, imported as
# an image (no registry is reachable). Docker itself makes docker0, the
# veths, the containers' namespaces and its iptables chains (DOCKER,
# DOCKER-USER, DOCKER-ISOLATION-STAGE-1/2, the DNAT and MASQUERADE rules);
# nothing here imitates them.
#
# Source lib.sh first (this file uses fact, in_ns, probe, add_external...):
#
#   . /scenarios/lib.sh
#   . /scenarios/docker.sh
#
# A typical scenario (see docker_published_port.sh):
#
#   insmod $KO trace=0 trace_ports=80,8080   # before dockerd: every container
#                                            # namespace is hooked at creation
#   docker_up --userland-proxy=false
#   docker_image
#   docker_serve web 80                      # docker run -d -p 80:8080 ...
#   docker_external ext 10.0.0.1 10.0.0.2    # a client on its own link
#   probe before ext connect 10.0.0.1 80     # lib.sh: FACT outcome before ...
#   ctr_probe outbound web connect 10.0.0.2 9000
#
# API (every function exits the scenario on failure: scenarios run sh -e):
#
#   docker_up [--userland-proxy=true|false] [DOCKERD-FLAGS...]
#       Mounts what the engine needs (cgroups, see docker_cgroups; a tmpfs
#       on /var/lib; lo up), starts containerd (CRI and the block-device
#       snapshotters disabled), then dockerd with DOCKER_RAMDISK=true (an
#       initramfs root cannot pivot_root), the storage driver
#       $DOCKER_STORAGE (default overlay2, see below), docker0 at
#       172.17.0.1/16 and the given proxy mode (default true, Docker's
#       default), and waits until `docker version` answers. Logs:
#       /tmp/containerd.log, /tmp/dockerd.log (printed if something fails;
#       DOCKER_LOG_LEVEL=debug for more). FACTs: docker_cgroup,
#       docker_version, docker_userland_proxy, containerd_up_secs and
#       docker_up_secs (seconds since docker_up began).
#       Storage: overlay2 on tmpfs works without xattrs (the kernel falls
#       back to index=off, Docker to its naive diff); vfs needs
#       CONFIG_TMPFS_XATTR (it copies security.capability and fails with
#       "operation not supported" at `docker create` otherwise).
#   docker_down
#       Stops dockerd and containerd (not needed at the end of a scenario:
#       the guest just powers off).
#   docker_image [NAME]
#       `docker import` of /docker/rootfs.tar as NAME (default $DOCKER_IMG,
#       "dfwbox"), once per boot. The image has busybox's applets in /bin and
#       /bin/dfwprobe; it has no default command.
#   docker_serve NAME PUBLISH [DOCKER-RUN-FLAGS...]
#       `docker run -d --name NAME [-p PUBLISH:8080] FLAGS $DOCKER_IMG
#       dfwprobe serve 8080 NAME`: a TCP server answering "hello from NAME
#       to PEER:PORT". PUBLISH is a host port, or "-" for none. Waits until
#       the server listens, then records `FACT netns NAME INUM` (so the
#       checks name the container's namespace in trace lines) and
#       `FACT ip:NAME ADDR`.
#   docker_run_idle NAME [DOCKER-RUN-FLAGS...]
#       A container that only sleeps (e.g. to take an IP address); the same
#       FACTs as docker_serve.
#   docker_pid NAME, docker_ip NAME, docker_netns NAME
#       The container's init pid (host view), its IPv4 address on docker0,
#       and its network namespace inode (as dockfw reports `netns=`).
#   in_ctr NAME CMD...
#       Runs a host binary (dfwprobe, ip, cat...) in the container's network
#       namespace only (nsenter -n), like in_ns for `ip netns` namespaces.
#   ctr_probe FACT NAME CMD...
#       `docker exec NAME dfwprobe CMD...` (a client really inside the
#       container: its mount, pid and network namespaces, its cgroup), its
#       OUTCOME recorded like lib.sh's probe.
#   ctr_net_probe FACT NAME CMD...
#       The same with the host's dfwprobe in the container's network
#       namespace only (nsenter -n): the same packets on the wire, without
#       the few seconds a `docker exec` costs a TCG guest.
#   docker_wait_ctr_port NAME PORT
#       Until something listens on PORT in the container's namespace.
#   docker_external NS HOSTIP EXTIP
#       An "external host": namespace NS on its own /24 link to the host
#       (lib.sh's add_external), ARP warmed. Call it after docker_up.
#   docker_iptables FACT
#       `iptables-save` (filter and nat) as a base64 FACT named FACT; the
#       checks read Docker's chains and DNAT rules from it
#       (checks_docker.iptables()).
#   live_netns
#       The inode of every live network namespace, one per line.
#   docker_facts FACT
#       `docker ps` (name, status, ports) and the docker-proxy processes as
#       base64 FACTs FACT:ps and FACT:proxies.
#
# Timing: on a 2-core TCG host the engine answers about 10-15 s after
# docker_up starts; each `docker run` takes a few seconds.
DOCKER_IMG=${DOCKER_IMG:-dfwbox}
# The engine row of this boot (run.py --engine; tests/engines.env): ENGINE
# and FIREWALL_BACKEND (iptables or nftables).
ENGINE=docker-20.10 FIREWALL_BACKEND=iptables
[ -f /docker/engine ] && . /docker/engine

# uptime in centiseconds (busybox sh has integer arithmetic only)
_docker_now() { awk '{ printf "%d\n", $1 * 100 }' /proc/uptime; }

# The cgroup hierarchies runc needs. cgroup v1 (one mount per controller)
# where the kernel has the controller there; 6.12 keeps memory and cpuset v1
# behind MEMCG_V1 and CPUSETS_V1, so with those off the engine runs on the
# unified hierarchy (cgroup2) instead: Docker 20.10 and runc 1.1 support it.
# DOCKER_CGROUP=v1|v2 forces one.
docker_cgroups() {
	mode=${DOCKER_CGROUP:-auto}
	if [ "$mode" = auto ]; then
		if mount -t cgroup -o memory none /mnt 2>/dev/null; then
			umount /mnt
			mode=v1
		else
			mode=v2
		fi
	fi
	if [ "$mode" = v2 ]; then
		mount -t cgroup2 none /sys/fs/cgroup
		# Controllers for the children runc creates (docker/<id>).
		# Every controller the kernel offers; one that cannot be enabled
		# ends the scenario here, not as a puzzling `docker run` failure.
		for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
			echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control || { echo "docker: cannot enable cgroup controller $c"; return 1; }
		done
	else
		mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup
		for c in cpuset cpu,cpuacct memory devices freezer pids blkio; do
			mkdir -p "/sys/fs/cgroup/$c"
			mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c" 2>/dev/null || rmdir "/sys/fs/cgroup/$c"
		done
		ln -s cpu,cpuacct /sys/fs/cgroup/cpu
		ln -s cpu,cpuacct /sys/fs/cgroup/cpuacct
	fi
	fact docker_cgroup "$mode"
}

docker_up() {
	proxy=true
	case "${1:-}" in
	--userland-proxy=*) proxy=${1#*=}; shift ;;
	esac
	t0=$(_docker_now)
	mkdir -p /mnt /var/lib /etc/docker /run/containerd
	docker_cgroups
	mount -t tmpfs -o mode=711 varlib /var/lib
	mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
	[ -e /etc/resolv.conf ] || : > /etc/resolv.conf
	[ -e /etc/hosts ] || echo "127.0.0.1 localhost" > /etc/hosts
	$IP link set lo up
	# Only what dockerd uses: no Kubernetes CRI (it also wants a CNI
	# setup), no snapshotters that need block devices or other filesystems.
	mkdir -p /etc/containerd
	cat > /etc/containerd/config.toml <<-EOF
	version = 2
	disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.devmapper",
	  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
	  "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp",
	  "io.containerd.internal.v1.tracing"]
	EOF
	containerd --config /etc/containerd/config.toml \
		--address /run/containerd/containerd.sock --root /var/lib/containerd \
		--state /run/containerd --log-level warn > /tmp/containerd.log 2>&1 &
	echo $! > /run/containerd.pid
	i=0
	while [ ! -S /run/containerd/containerd.sock ]; do
		i=$((i + 1))
		[ $i -lt 600 ] || { echo "containerd did not start:"; cat /tmp/containerd.log; return 1; }
		sleep 0.1
	done
	fact containerd_up_secs "$(( ($(_docker_now) - t0) / 100 ))"
	# Docker 28's nftables backend (its own `ip docker-bridges` table, no
	# DOCKER-USER chain): the row docker-28.5-nftables. 28.5 takes it from
	# the environment only (29 has --firewall-backend).
	exp=
	if [ "$FIREWALL_BACKEND" = nftables ]; then export DOCKER_FIREWALL_BACKEND=nftables; exp=--experimental; fi
	DOCKER_RAMDISK=true dockerd --containerd=/run/containerd/containerd.sock $exp \
		--storage-driver="${DOCKER_STORAGE:-overlay2}" --data-root=/var/lib/docker --exec-root=/run/docker \
		--host=unix:///run/docker.sock --pidfile=/run/docker.pid \
		--bip=172.17.0.1/16 --userland-proxy="$proxy" \
		--userland-proxy-path=/usr/sbin/docker-proxy --log-level="${DOCKER_LOG_LEVEL:-warn}" "$@" \
		> /tmp/dockerd.log 2>&1 &
	dpid=$!
	# Each docker CLI call costs a TCG guest a few hundred milliseconds of
	# CPU that dockerd needs to start: wait for its socket first, then ask
	# at a slower pace.
	i=0
	while [ ! -S /run/docker.sock ] || ! docker version > /dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 360 ] || ! kill -0 "$dpid" 2>/dev/null; then
			echo "dockerd did not answer:"; tail -40 /tmp/dockerd.log; tail -10 /tmp/containerd.log
			return 1
		fi
		if [ -S /run/docker.sock ]; then sleep 0.5; else sleep 0.1; fi
	done
	fact docker_version "$(docker version --format '{{.Server.Version}}')"
	fact docker_engine "$ENGINE"
	fact docker_firewall_backend "$FIREWALL_BACKEND"
	# What the engine says it uses (API 1.50+: Info.FirewallBackend).
	fact docker_info_firewall "$(docker info --format '{{json .FirewallBackend}}' 2>/dev/null || :)"
	fact docker_userland_proxy "$proxy"
	fact docker_up_secs "$(( ($(_docker_now) - t0) / 100 ))"
}

docker_down() {
	kill "$(cat /run/docker.pid)" 2>/dev/null || true
	i=0
	while [ -e /run/docker.pid ] && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.1; done
	kill "$(cat /run/containerd.pid)" 2>/dev/null || true
}

docker_image() {
	name=${1:-$DOCKER_IMG}
	docker image inspect "$name" > /dev/null 2>&1 || docker import /docker/rootfs.tar "$name" > /dev/null
}

docker_pid() { docker inspect -f '{{.State.Pid}}' "$1"; }
docker_ip() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1"; }
docker_netns() { readlink "/proc/$(docker_pid "$1")/ns/net" | tr -cd 0-9; }
in_ctr() { n=$1; shift; nsenter -t "$(docker_pid "$n")" -n "$@"; }

docker_wait_ctr_port() {
	i=0
	pid=$(docker_pid "$1")
	while ! nsenter -t "$pid" -n cat /proc/net/tcp6 /proc/net/tcp 2>/dev/null | grep -qi ":$(printf %04X "$2") .* 0A "; do
		i=$((i + 1)); [ $i -lt 200 ] || { echo "no listener in container $1 on :$2"; docker logs "$1"; return 1; }
		sleep 0.05
	done
}

# _docker_record NAME: FACTs naming the container's namespace and address.
_docker_record() {
	set -- "$1" $(docker inspect -f '{{.State.Pid}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1")
	fact netns "$1" "$(readlink "/proc/$2/ns/net" | tr -cd 0-9)"
	fact "ip:$1" "$3"
}

# _docker_run ARGS...: docker run -d, with the daemons' last words if it fails.
_docker_run() {
	docker run -d "$@" > /dev/null || {
		echo "docker run $* failed; dockerd and containerd said:"
		tail -20 /tmp/dockerd.log; tail -10 /tmp/containerd.log
		return 1
	}
}

docker_serve() {
	name=$1 pub=$2; shift 2
	if [ "$pub" = - ]; then
		_docker_run --name "$name" "$@" "$DOCKER_IMG" dfwprobe serve 8080 "$name"
	else
		_docker_run --name "$name" -p "$pub:8080" "$@" "$DOCKER_IMG" dfwprobe serve 8080 "$name"
	fi
	docker_wait_ctr_port "$name" 8080
	_docker_record "$name"
}

docker_run_idle() {
	name=$1; shift
	_docker_run --name "$name" "$@" "$DOCKER_IMG" sleep 100000
	_docker_record "$name"
}

ctr_probe() {
	fname=$1 name=$2; shift 2
	out=$(docker exec "$name" dfwprobe "$@" || true)
	fact outcome "$fname" "$out"
}

ctr_net_probe() {
	fname=$1 name=$2; shift 2
	out=$(in_ctr "$name" dfwprobe "$@" || true)
	fact outcome "$fname" "$out"
}

docker_external() {
	add_external "$1" "$2" "$3"
	in_ns "$1" ping -c1 -W2 "$2" > /dev/null
}

# The engine's own place for a user's rules, where users put them: the
# DOCKER-USER chain; with the nftables backend (no DOCKER-USER) a table of
# the user's own, `ip user`, with a forward base chain before the engine's
# (priority filter - 1), as Docker's documentation advises.
#   user_rule accept|drop SRC|- DST|- DPORT   appended after the earlier ones
#   user_flush                                 back to none
_user_n=0
user_rule() {
	v=$1 src=$2 dst=$3 dport=$4
	if [ "$FIREWALL_BACKEND" = nftables ]; then
		if [ $_user_n = 0 ]; then
			nft add table ip user
			nft add chain ip user user_fwd '{ type filter hook forward priority filter - 1; }'
		fi
		m=
		[ "$src" = - ] || m="$m ip saddr $src"
		[ "$dst" = - ] || m="$m ip daddr $dst"
		nft add rule ip user user_fwd $m tcp dport "$dport" "$v"
	else
		m=
		[ "$src" = - ] || m="$m -s $src"
		[ "$dst" = - ] || m="$m -d $dst"
		t=ACCEPT
		[ "$v" = drop ] && t=DROP
		$IPT -I DOCKER-USER $((_user_n + 1)) $m -p tcp --dport "$dport" -j $t
	fi
	_user_n=$((_user_n + 1))
}

user_flush() {
	if [ "$FIREWALL_BACKEND" = nftables ]; then
		[ $_user_n = 0 ] || nft delete table ip user
	else
		$IPT -F DOCKER-USER
		$IPT -A DOCKER-USER -j RETURN
	fi
	_user_n=0
}

docker_iptables() {
	fact "$1" "$($IPT-save 2>/dev/null | base64 -w0)"
	# Docker 28's nftables backend writes its own tables instead.
	fact "$1:nft" "$(nft list ruleset 2>/dev/null | base64 -w0)"
}

# live_netns: the inode of every network namespace alive (held by a
# process or by an `ip netns` name), one per line.
live_netns() {
	{ for p in /proc/[0-9]*/ns/net; do readlink "$p" 2>/dev/null; done | tr -cd '0-9\n'
	  for n in /run/netns/*; do [ -e "$n" ] && stat -L -c %i "$n"; done; } | grep . | sort -u
}

docker_facts() {
	fact "$1:ps" "$(docker ps -a --format '{{.Names}} {{.Status}} {{.Ports}}' | base64 -w0)"
	fact "$1:proxies" "$(ps -o args | grep -E '^(/usr/sbin/)?docker-proxy ' | base64 -w0)"
}

# docker_published_setup PROXY: the published-port story's starting point,
# shared by docker_published_port (PROXY=false) and docker_userland_proxy
# (PROXY=true): dockfw loaded first (dmesg trace off, ports 80 and 8080
# preselected), the engine, `web` published on 80 and `web2` on 8082, two
# external hosts (ext 10.0.0.2 via 10.0.0.1, ok 172.16.0.2 via 172.16.0.1),
# a server on ext:9000 for outbound checks, Docker's rules recorded as facts,
# and one probe from ext to the published port before any rule.
docker_published_setup() {
	fact netns init "$(readlink /proc/self/ns/net | tr -cd 0-9)"
	insmod $KO trace=0 trace_icmp=0 trace_ports=80,8080
	docker_up --userland-proxy="$1"
	docker_image
	docker_serve web 80
	docker_serve web2 8082
	docker_external ext 10.0.0.1 10.0.0.2
	docker_external ok 172.16.0.1 172.16.0.2
	serve ext 9000 ext
	wait_port ext 9000
	docker_iptables iptables
	docker_facts docker
	# What dockfwctl makes of the engine (version, firewall backend, warnings).
	ctl status status --json
	probe before_rules ext connect 10.0.0.1 80
}
