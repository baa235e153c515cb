#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The container engines of the engine matrix (make test-engines): Debian's
# own packages of each engine version, fetched with `apt-get download` in
# the Debian 13 build root (scripts/debian/root.sh; its apt uses this
# machine's mirror) and unpacked with `dpkg -x` into
# $DOCKFW_CACHE/engines/PAYLOAD/root, never installed. run.py --engine ROW
# packs a payload into the guest like the default engine's (build/docker,
# Debian 12's docker.io 20.10 from scripts/setup.sh).
#
#   payload      suite   packages
#   docker-26.1  trixie  docker.io docker-cli containerd
#   docker-28.5  forky   docker.io docker-cli containerd
#
# runc and docker-init (tini) stay Debian 12's in every row (build/docker):
# trixie's and forky's runc need glibc 2.38 and the guest's userland is
# Debian 12's (2.36); the engine (dockerd, its firewall backend, its
# proxy, containerd) is what the matrix varies, and it drives runc 1.1.
#
# Versions are pinned (tests/engines.env). forky is read with
# Check-Valid-Until off: a mirror snapshot's Release file of the testing
# suite expires within weeks, its packages do not change under a pin.
#
# Usage: scripts/engines.sh PAYLOAD...   Prints each payload's root.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/engines.env
CACHE=${DOCKFW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dockfw}

fetch() { # PAYLOAD SUITE=PKG=VER...
	local payload=$1; shift
	local dir=$CACHE/engines/$payload want="$*"
	if [ -f "$dir/done" ] && [ "$(head -1 "$dir/done")" = "$want" ]; then
		echo "$dir/root"
		return 0
	fi
	scripts/debian/root.sh >&2
	echo "engines: fetching $payload ($want)" >&2
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp/debs" "$dir.tmp/root"
	# trixie from the build root's own apt; another suite from an apt state of
	# its own in the payload's folder (the root's lists stay trixie's).
	scripts/debian/in-root.sh bash -c '
		set -e
		out=$0
		mirror=$(sed -n "s/^URIs: //p" /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
		[ -n "$mirror" ] || mirror=$(awk "/^deb /{print \$2; exit}" /etc/apt/sources.list)
		for spec in "$@"; do
			suite=${spec%%=*} pv=${spec#*=}
			if [ "$suite" = trixie ]; then
				# The build root'"'"'s own apt: trixie with its security and
				# point-release updates.
				(cd "$out" && apt-get -q download "$pv" 2>&1 | grep -v "unsandboxed\|^Get:\|^Fetched" || true)
				continue
			fi
			st=$out/../apt-$suite
			mkdir -p "$st/lists/partial"
			echo "deb $mirror $suite main" > "$st/sources.list"
			O=(-o Dir::Etc::sourcelist="$st/sources.list" -o Dir::Etc::sourceparts=- \
			   -o Dir::State::Lists="$st/lists" -o Acquire::Check-Valid-Until=false)
			[ -f "$st/updated" ] || { apt-get -qq "${O[@]}" update; : > "$st/updated"; }
			(cd "$out" && apt-get -qq "${O[@]}" download "$pv" 2>&1 | grep -v unsandboxed || true)
		done' "$dir.tmp/debs" "$@"
	for spec in "$@"; do
		local pv=${spec#*=} deb
		deb=$(ls "$dir.tmp/debs/${pv%%=*}"_*.deb 2>/dev/null | head -1)
		[ -n "$deb" ] || { echo "engines: $payload: apt-get download $pv failed" >&2; exit 1; }
		dpkg -x "$deb" "$dir.tmp/root"
	done
	{ echo "$want"; (cd "$dir.tmp/debs" && ls); } > "$dir.tmp/done"
	rm -rf "$dir.tmp/debs" "$dir.tmp"/apt-* "$dir"
	mv "$dir.tmp" "$dir"
	echo "$dir/root"
}

for payload in "$@"; do
	case $payload in
	docker-26.1)
		fetch "$payload" "trixie=docker.io=$DOCKER_26_1" "trixie=docker-cli=$DOCKER_26_1" \
			"trixie=containerd=$CONTAINERD_TRIXIE" ;;
	docker-28.5)
		fetch "$payload" "forky=docker.io=$DOCKER_28_5" "forky=docker-cli=$DOCKER_28_5" \
			"forky=containerd=$CONTAINERD_FORKY" ;;
	*) echo "engines: unknown payload $payload (docker-26.1, docker-28.5)" >&2; exit 2 ;;
	esac
done
