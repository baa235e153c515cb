#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Installs everything dockfw needs on a fresh Debian 12 machine: the kernel
# build tool chain (LLVM 14, bindgen-cli pinned, rust-src), QEMU, the guest
# userland (busybox-static, iproute2, iptables-nft), the Debian kernel
# source, and Debian's Docker engine for the docker_* guest scenarios
# (docker.io 20.10, containerd, runc, tini: fetched with `apt-get download`
# and unpacked with `dpkg -x` into $DOCKFW_CACHE/docker, never installed on
# this machine; build/docker links to it). Idempotent: a stamp file records a
# finished run for these inputs, and the Docker folder records what it holds.
set -euo pipefail
cd "$(dirname "$0")/.."

BINDGEN_VERSION=0.73.2
PKGS=(clang lld llvm libclang-dev flex bison bc libelf-dev libssl-dev cpio
      make xz-utils qemu-system-x86 busybox-static iproute2 iptables nftables
      linux-source-6.12 kmod
      # shared libraries of the unpacked dockerd and runc (run.py copies
      # them into the guest with ldd, so they must exist here)
      libdevmapper1.02.1 libseccomp2 libsystemd0 libcap2 libgcrypt20 liblz4-1
      libselinux1 libudev1 libpcre2-8-0 liblzma5 libzstd1)
# Unpacked, not installed: the guest's Docker engine (see fetch_docker).
DOCKER_DEBS=(docker.io containerd runc tini)
DOCKER_MAJOR=20.10   # the docker.io version of the original reports
CACHE=${DOCKFW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dockfw}
DOCKER_DIR=$CACHE/docker
STAMP=build/.setup-stamp
want="pkgs=${PKGS[*]} bindgen=$BINDGEN_VERSION docker=${DOCKER_DEBS[*]}"

mkdir -p build
# scripts/ynl-check.py loads include/dockfw.yaml with the kernel's own YNL
# library, which needs PyYAML and jsonschema (from PyPI when missing).
python3 -c 'import yaml, jsonschema' 2>/dev/null || python3 -m pip install -q pyyaml jsonschema
# A stamp of an older setup (without docker=...) differs from $want, so such
# a machine runs the whole (quick, already-installed) check once more and
# gets the Docker debs.
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] \
   && command -v bindgen >/dev/null && command -v clang >/dev/null \
   && [ -x build/docker/usr/sbin/dockerd ]; then
  exit 0
fi

need=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing Debian packages: ${need[*]} (run as root or install them)" >&2
    exit 1
  fi
  echo "setup: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # On Debian 12, linux-source-6.12 comes from bookworm-security (6.12 is
  # the LTS kernel Debian 12 gets through its security archive), and QEMU's
  # system emulator from bookworm-backports when the machine image carries
  # backports' qemu-utils (below). Backports is added from the machine's own
  # configured mirror (scripts/apt-mirror.py), never a host named here.
  if ! apt-cache policy qemu-system-x86 | grep -q 'bookworm-backports' \
     || ! apt-cache policy linux-source-6.12 | grep -q 'Candidate: [0-9]'; then
    echo "deb $(scripts/apt-mirror.py archive) bookworm-backports main" \
      > /etc/apt/sources.list.d/dockfw-backports.list
    apt-get update -qq
  fi
  # The machine image may carry qemu-utils from bookworm-backports; QEMU's
  # system emulator and its data packages must then come from the same suite.
  rest=()
  for p in "${need[@]}"; do
    if [ "$p" = qemu-system-x86 ] && dpkg-query -W -f='${Version}' qemu-utils 2>/dev/null | grep -q bpo; then
      apt-get install -y -qq --no-install-recommends -t bookworm-backports qemu-system-x86
    else
      rest+=("$p")
    fi
  done
  [ "${#rest[@]}" -eq 0 ] || apt-get install -y -qq --no-install-recommends "${rest[@]}"
fi

command -v rustup >/dev/null || { echo "setup: rustup not found; dockfw needs a rustup toolchain" >&2; exit 1; }
rustup component list --installed | grep -q '^rust-src' || rustup component add rust-src
if ! bindgen --version 2>/dev/null | grep -q "$BINDGEN_VERSION"; then
  cargo install --locked bindgen-cli --version "$BINDGEN_VERSION"
fi

# fetch_docker: Debian's docker.io, containerd, runc and tini unpacked in
# $DOCKER_DIR/root (dpkg -x), once; $DOCKER_DIR/done names the .debs it was
# made from. build/docker links to the root (run.py reads it from there).
fetch_docker() {
  if [ -f "$DOCKER_DIR/done" ] && [ -x "$DOCKER_DIR/root/usr/sbin/dockerd" ] \
     && [ "$(head -1 "$DOCKER_DIR/done")" = "debs=${DOCKER_DEBS[*]}" ]; then
    ln -sfn "$DOCKER_DIR/root" build/docker
    return 0
  fi
  if ! apt-cache policy docker.io | grep -q "Candidate: [0-9]"; then
    [ "$(id -u)" = 0 ] || { echo "setup: apt knows no docker.io (run apt-get update as root)" >&2; exit 1; }
    apt-get update -qq
  fi
  local ver
  ver=$(apt-cache policy docker.io | sed -n 's/^ *Candidate: //p')
  case "$ver" in
    "$DOCKER_MAJOR".*) ;;
    *) echo "setup: docker.io candidate is '$ver', the guest scenarios need $DOCKER_MAJOR.x (Debian 12)" >&2; exit 1 ;;
  esac
  echo "setup: fetching ${DOCKER_DEBS[*]} for the guest (docker.io $ver)"
  rm -rf "$DOCKER_DIR.tmp"
  mkdir -p "$DOCKER_DIR.tmp/debs" "$DOCKER_DIR.tmp/root"
  # apt-get download writes into the current folder; as root it warns that
  # the _apt user cannot write there, which is harmless.
  (cd "$DOCKER_DIR.tmp/debs" && apt-get download -qq "${DOCKER_DEBS[@]}" 2>&1 | grep -v "unsandboxed as root" || true)
  for p in "${DOCKER_DEBS[@]}"; do
    deb=$(ls "$DOCKER_DIR.tmp/debs/${p}"_*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || { echo "setup: apt-get download $p failed" >&2; exit 1; }
    dpkg -x "$deb" "$DOCKER_DIR.tmp/root"
  done
  { echo "debs=${DOCKER_DEBS[*]}"; (cd "$DOCKER_DIR.tmp/debs" && ls); } > "$DOCKER_DIR.tmp/done"
  rm -rf "$DOCKER_DIR.tmp/debs" "$DOCKER_DIR"
  mv "$DOCKER_DIR.tmp" "$DOCKER_DIR"
  ln -sfn "$DOCKER_DIR/root" build/docker
}
fetch_docker

echo "$want" > "$STAMP"
echo "setup: done"
