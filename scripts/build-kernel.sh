#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds the test kernel from Debian's linux-source-6.12 tarball into
# build/linux (an ignored folder): tinyconfig plus tests/kernel.config, with
# LLVM=1 and Rust on. The result is cached: an inputs file records the
# tarball, the fragment and this script, and the build is skipped when none
# of them changed and the artefacts are there.
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
TARBALL=${DOCKFW_KERNEL_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
FRAG=$TOP/tests/kernel.config
KDIR=$TOP/build/linux
JOBS=$(nproc)

[ -f "$TARBALL" ] || { echo "build-kernel: $TARBALL not found (run scripts/setup.sh)" >&2; exit 1; }
inputs=$( { stat -c '%n %s %Y' "$TARBALL"; sha256sum "$FRAG" "$0"; } | sha256sum | cut -d' ' -f1)
if [ -f "$KDIR/.dockfw-inputs" ] && [ "$(cat "$KDIR/.dockfw-inputs")" = "$inputs" ] \
   && [ -f "$KDIR/arch/x86/boot/bzImage" ] && [ -f "$KDIR/Module.symvers" ]; then
  echo "build-kernel: cached kernel in build/linux is up to date"
  exit 0
fi

start=$(date +%s)
if [ ! -f "$KDIR/Makefile" ] || \
   [ "$(cat "$KDIR/.dockfw-tarball" 2>/dev/null)" != "$(stat -c '%n %s %Y' "$TARBALL")" ]; then
  echo "build-kernel: unpacking $TARBALL"
  rm -rf "$KDIR" build/linux.tmp
  mkdir -p build/linux.tmp
  tar -xf "$TARBALL" -C build/linux.tmp --strip-components=1
  mv build/linux.tmp "$KDIR"
  stat -c '%n %s %Y' "$TARBALL" > "$KDIR/.dockfw-tarball"
fi
rm -f "$KDIR/.dockfw-inputs"
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
echo "$inputs" > .dockfw-inputs
echo "build-kernel: built in $(( $(date +%s) - start )) s"
