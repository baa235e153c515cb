#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds the test kernel from Debian's linux-source-6.12 tarball: tinyconfig
# plus tests/kernel.config, LLVM=1, Rust on. The tree is cached outside the
# work tree, in $DOCKFW_CACHE (default ~/.cache/dockfw) under a name made of
# a hash of its inputs (the tarball, the fragment, and RECIPE below), so a
# fresh clone on the same machine (CI) reuses it, and any change of input
# builds a new one. build/linux (ignored) is a symlink to the tree in use.
#
#   scripts/build-kernel.sh [FRAGMENT]     default tests/kernel.config
#
# FRAGMENT may pull in another fragment of the same folder with a line
# `# dockfw-include: NAME` (tests/kernel-debug.config includes kernel.config);
# the expanded text is what is merged, checked and hashed. The link is
# build/linux for kernel.config and build/linux-SUFFIX for kernel-SUFFIX.config
# (build/linux-debug). One tree is kept per fragment name: building one
# fragment never prunes the tree of another.
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
TARBALL=${DOCKFW_KERNEL_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
FRAG=$(realpath "${1:-$TOP/tests/kernel.config}")
[ -f "$FRAG" ] || { echo "build-kernel: fragment $FRAG not found" >&2; exit 1; }
FRAGNAME=$(basename "$FRAG")
case "$FRAGNAME" in
  kernel.config) LINK=build/linux ;;
  kernel-*.config) LINK=build/linux-${FRAGNAME#kernel-}; LINK=${LINK%.config} ;;
  *) LINK=build/linux-${FRAGNAME%.config} ;;
esac
CACHE=${DOCKFW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dockfw}
JOBS=$(nproc)

[ -f "$TARBALL" ] || { echo "build-kernel: $TARBALL not found (run scripts/setup.sh)" >&2; exit 1; }
# The fragment with its `# dockfw-include: NAME` lines expanded (one level).
expand_fragment() {
  local line inc
  while IFS= read -r line; do
    case "$line" in
      "# dockfw-include: "*)
        inc=$(dirname "$1")/${line#\# dockfw-include: }
        [ -f "$inc" ] || { echo "build-kernel: $1 includes missing $inc" >&2; return 1; }
        cat "$inc" ;;
      *) printf '%s\n' "$line" ;;
    esac
  done < "$1"
}
mkdir -p "$CACHE" build
# One build at a time per fragment: `make module` from a second shell while
# a tree is being built would otherwise see it unfinished, delete it and
# start over under the first build's feet. The second caller waits here,
# then finds the tree done. Trees of other fragments are never touched by
# this build (see the pruning at the end), so their builds need not wait.
exec 9>"$CACHE/.build-$FRAGNAME.lock"
if ! flock -n 9; then
  echo "build-kernel: another build is running in $CACHE; waiting for it" >&2
  flock 9
fi
EXPANDED=$(mktemp)
trap 'rm -f "$EXPANDED"' EXIT
expand_fragment "$FRAG" > "$EXPANDED"
# Bump RECIPE when a change of this script changes the kernel it builds
# (make flags, config steps); edits that do not (messages, caching) keep it,
# so they do not throw away a 10-20 minute build.
RECIPE=1
inputs=$( { stat -c '%n %s %Y' "$TARBALL"; sha256sum < "$EXPANDED"; echo "recipe $RECIPE"; } | sha256sum | cut -c1-16)
KDIR=$CACHE/linux-$inputs
if [ -f "$KDIR/.dockfw-done" ] && [ -f "$KDIR/arch/x86/boot/bzImage" ] && [ -f "$KDIR/Module.symvers" ]; then
  ln -sfn "$KDIR" "$LINK"
  echo "build-kernel: cached kernel $KDIR is up to date"
  exit 0
fi

start=$(date +%s)
echo "build-kernel: building $KDIR from $FRAGNAME (about 10 minutes on 2 cores, 20 for the debug kernel)"
rm -rf "$KDIR" "$KDIR.tmp"
mkdir -p "$KDIR.tmp"
tar -xf "$TARBALL" -C "$KDIR.tmp" --strip-components=1
# Marked before the build, so that a concurrent build of another fragment
# does not take this tree for one of its own and prune it.
echo "$FRAGNAME" > "$KDIR.tmp/.dockfw-fragment"
mv "$KDIR.tmp" "$KDIR"
cd "$KDIR"
make -s LLVM=1 rustavailable
make -s LLVM=1 tinyconfig
scripts/kconfig/merge_config.sh -m .config "$EXPANDED" >/dev/null
make -s LLVM=1 olddefconfig
# An unmet dependency drops an option silently: refuse to build a kernel that
# is not the one the fragment asks for.
missing=0
while IFS= read -r line; do
  case "$line" in
    CONFIG_*=y) grep -qx "$line" .config || { echo "build-kernel: $line did not stick" >&2; missing=1; } ;;
    "# CONFIG_"*" is not set") opt=${line#\# }; opt=${opt%% *}
      if grep -qx "$opt=y" .config; then echo "build-kernel: $opt is still set" >&2; missing=1; fi ;;
  esac
done < "$EXPANDED"
[ "$missing" = 0 ] || exit 1
make -s LLVM=1 -j"$JOBS" bzImage modules_prepare
# Module.symvers is only written by a modules pass; without it modpost
# reports every kernel symbol an out-of-tree module uses as undefined.
make -s LLVM=1 -j"$JOBS" modules
touch .dockfw-done
cd "$TOP"
ln -sfn "$KDIR" "$LINK"
# Keep the disk in check: older trees of the same fragment (other inputs) go;
# trees of other fragments stay. A tree without a marker predates the marker
# and was built from kernel.config.
for d in "$CACHE"/linux-*; do
  [ -d "$d" ] && [ "$d" != "$KDIR" ] || continue
  case "$d" in *.tmp) continue ;; esac
  other=$(cat "$d/.dockfw-fragment" 2>/dev/null || echo kernel.config)
  if [ "$other" = "$FRAGNAME" ]; then rm -rf "$d"; fi
done
echo "build-kernel: built in $(( $(date +%s) - start )) s"
