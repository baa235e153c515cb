#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Installs everything dockfw needs on a fresh Debian 12 machine: the kernel
# build tool chain (LLVM 14, bindgen-cli pinned, rust-src), QEMU, the guest
# userland (busybox-static, iproute2, iptables-nft) and the Debian kernel
# source. Idempotent: a stamp file records a finished run for these inputs.
set -euo pipefail
cd "$(dirname "$0")/.."

BINDGEN_VERSION=0.73.2
PKGS=(clang lld llvm libclang-dev flex bison bc libelf-dev libssl-dev cpio
      make xz-utils qemu-system-x86 busybox-static iproute2 iptables nftables
      linux-source-6.12 kmod)
STAMP=build/.setup-stamp
want="pkgs=${PKGS[*]} bindgen=$BINDGEN_VERSION"

mkdir -p build
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] \
   && command -v bindgen >/dev/null && command -v clang >/dev/null; then
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
  # linux-source-6.12 lives in bookworm-backports on Debian 12.
  if ! apt-cache policy linux-source-6.12 | grep -q Candidate:\ [0-9]; then
    echo "deb http://deb.debian.org/debian bookworm-backports main" \
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
echo "$want" > "$STAMP"
echo "setup: done"
