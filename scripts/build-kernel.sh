#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds the test kernel from Debian's linux-source-6.12 tarball: tinyconfig
# plus tests/kernel.config, LLVM=1, Rust on. The tree is cached outside the
# work tree, in $DOCKFW_CACHE (default ~/.cache/dockfw) under a name made of
# a hash of its inputs (the tarball, the fragment, this script), so a fresh
# clone on the same machine (CI) reuses it, and any change of input builds a
# new one. build/linux (ignored) is a symlink to the tree in use.
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
TARBALL=${DOCKFW_KERNEL_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
FRAG=$TOP/tests/kernel.config
CACHE=${DOCKFW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dockfw}
JOBS=$(nproc)

[ -f "$TARBALL" ] || { echo "build-kernel: $TARBALL not found (run scripts/setup.sh)" >&2; exit 1; }
inputs=$( { stat -c '%n %s %Y' "$TARBALL"; sha256sum < "$FRAG"; sha256sum < "$0"; } | sha256sum | cut -c1-16)
KDIR=$CACHE/linux-$inputs
mkdir -p "$CACHE" build
if [ -f "$KDIR/.dockfw-done" ] && [ -f "$KDIR/arch/x86/boot/bzImage" ] && [ -f "$KDIR/Module.symvers" ]; then
  ln -sfn "$KDIR" build/linux
  echo "build-kernel: cached kernel $KDIR is up to date"
  exit 0
fi

start=$(date +%s)
echo "build-kernel: building $KDIR (about 10 minutes on 2 cores)"
rm -rf "$KDIR" "$KDIR.tmp"
mkdir -p "$KDIR.tmp"
tar -xf "$TARBALL" -C "$KDIR.tmp" --strip-components=1
mv "$KDIR.tmp" "$KDIR"
cd "$KDIR"
make -s LLVM=1 rustavailable
make -s LLVM=1 tinyconfig
scripts/kconfig/merge_config.sh -m .config "$FRAG" >/dev/null
make -s LLVM=1 olddefconfig
# An unmet dependency drops an option silently: refuse to build a kernel that
# is not the one the fragment asks for.
missing=0
while IFS= read -r line; do
  case "$line" in CONFIG_*=y) grep -qx "$line" .config || { echo "build-kernel: $line did not stick" >&2; missing=1; } ;; esac
done < "$FRAG"
[ "$missing" = 0 ] || exit 1
make -s LLVM=1 -j"$JOBS" bzImage modules_prepare
# Module.symvers is only written by a modules pass; without it modpost
# reports every kernel symbol an out-of-tree module uses as undefined.
make -s LLVM=1 -j"$JOBS" modules
touch .dockfw-done
cd "$TOP"
ln -sfn "$KDIR" build/linux
# Keep the disk in check: older trees (other inputs) go.
for d in "$CACHE"/linux-*; do
  [ "$d" = "$KDIR" ] || rm -rf "$d"
done
echo "build-kernel: built in $(( $(date +%s) - start )) s"
