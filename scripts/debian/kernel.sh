#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Debian 13's stock kernel for `make KERNEL=debian`: everything the module
# build and the QEMU suite need, fetched from Debian's archive and cached in
# $DOCKFW_CACHE/debian-$DEB_KREL (versions in scripts/debian/versions.env):
#
#   pkg/      linux-binary-$DEB_KREL and linux-modules-$DEB_KREL unpacked
#             with dpkg -x (never installed on this machine): the vmlinuz
#             QEMU boots, byte for byte the package's (its md5sums entry is
#             checked here and its sha256 printed), and /lib/modules
#   kbuild/   the kernel's headers with its Rust metadata regenerated
#             (scripts/debian/rust-kbuild.sh, run in the Debian 13 root)
#
# Then builds build/dockfw-debian.ko against kbuild/ inside the root, in a
# copy of the sources (build/debian-src), and checks that every Rust symbol
# the module imports is one Debian's kernel exports (Module.symvers). Each
# refusal is one line that names the check.
#
#   scripts/debian/kernel.sh          fetch, prepare, build the module
set -euo pipefail
cd "$(dirname "$0")/../.."
TOP=$PWD
. scripts/debian/versions.env
CACHE=${DOCKFW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dockfw}
KC=$CACHE/debian-$DEB_KREL
fail() { echo "debian-kernel: $*" >&2; exit 1; }

scripts/debian/root.sh
mkdir -p "$KC" build
exec 7>"$KC/.lock"
flock 7

# 1. The kernel's own packages, unpacked.
KPKGS=("linux-binary-$DEB_KREL" "linux-modules-$DEB_KREL")
if [ ! -f "$KC/pkg/.done" ] || [ "$(cat "$KC/pkg/.done")" != "$DEB_KPKG_VERSION" ]; then
  echo "debian-kernel: fetching ${KPKGS[*]} $DEB_KPKG_VERSION"
  rm -rf "$KC/debs" "$KC/pkg"
  mkdir -p "$KC/debs" "$KC/pkg"
  scripts/debian/in-root.sh bash -c 'apt-get update -qq && cd "$0" && apt-get download -qq "${@/%/='"$DEB_KPKG_VERSION"'}" 2>&1 | grep -v "unsandboxed" || true' "$KC/debs" "${KPKGS[@]}"
  for p in "${KPKGS[@]}"; do
    deb=$(ls "$KC/debs/${p}_"*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || fail "apt-get download $p=$DEB_KPKG_VERSION fetched nothing (is $DEB_KPKG_VERSION still in $DEB_SUITE-backports?)"
    dpkg -x "$deb" "$KC/pkg"
  done
  # The package ships no modules.dep: its postinst runs depmod. Do the same
  # on the unpacked tree, with Debian 13's own depmod.
  scripts/debian/in-root.sh depmod -b "$KC/pkg/usr" "$DEB_KREL"
  [ -s "$KC/pkg/usr/lib/modules/$DEB_KREL/modules.dep" ] || fail "depmod made no modules.dep"
  echo "$DEB_KPKG_VERSION" > "$KC/pkg/.done"
fi
VMLINUZ=$KC/pkg/usr/lib/modules/$DEB_KREL/vmlinuz
[ -f "$VMLINUZ" ] || VMLINUZ=$KC/pkg/boot/vmlinuz-$DEB_KREL
[ -f "$VMLINUZ" ] || fail "no vmlinuz in linux-binary-$DEB_KREL"
# The package's own checksum of the file (DEBIAN/md5sums) against the file
# QEMU will boot: this is Debian's kernel, not one rebuilt from source.
deb=$(ls "$KC/debs/linux-binary-${DEB_KREL}_"*.deb | head -1)
rel=${VMLINUZ#"$KC/pkg/"}
want=$(dpkg-deb -I "$deb" md5sums | awk -v f="$rel" '$2 == f {print $1}')
have=$(md5sum < "$VMLINUZ" | cut -d' ' -f1)
[ -n "$want" ] && [ "$want" = "$have" ] || fail "vmlinuz md5 $have differs from the package's md5sums entry '$want'"
ln -sfn "$VMLINUZ" build/debian-vmlinuz
ln -sfn "$KC/pkg/usr/lib/modules/$DEB_KREL" build/debian-modules
echo "debian-kernel: vmlinuz $DEB_KREL sha256 $(sha256sum < "$VMLINUZ" | cut -d' ' -f1) (md5 $have, as in the package's md5sums)"

# 2. The headers with regenerated Rust metadata.
KBUILD=$(scripts/debian/in-root.sh scripts/debian/rust-kbuild.sh "$DEB_KREL" "$KC" | tail -1)

# 3. dockfw.ko for that kernel, built in the root from a copy of the
# sources (the work tree's objects stay those of the project's own kernel).
rm -rf build/debian-src && mkdir -p build/debian-src
find Kbuild src include \( -name '*.rs' -o -name '*.c' -o -name '*.h' -o -name Kbuild \) \
  ! -name bindings_generated.rs | cpio -pdm --quiet build/debian-src
scripts/debian/in-root.sh make -s -C "$KBUILD" M="$TOP/build/debian-src" modules
KO=build/debian-src/dockfw.ko
[ -f "$KO" ] || fail "the module build made no dockfw.ko"
# Every Rust-mangled symbol the module imports must be exported under the
# very same name by Debian's kernel (its Module.symvers): the proof that
# the regenerated metadata is the kernel's own.
undef=$(nm -u "$KO" | awk '{print $2}' | grep '^_R' | sort -u || true)
missing=$(comm -23 <(echo "$undef") <(awk '{print $2}' "$KBUILD/Module.symvers" | sort -u) | grep . || true)
[ -z "$missing" ] || fail "dockfw.ko imports Rust symbols Debian's kernel does not export: $(echo $missing | head -c 400)"
echo "debian-kernel: dockfw.ko imports $(echo "$undef" | grep -c . ) Rust symbols, all exported by $DEB_KREL's Module.symvers"
cp "$KO" build/dockfw-debian.ko
echo "debian-kernel: build/dockfw-debian.ko ($(modinfo -F vermagic build/dockfw-debian.ko))"
