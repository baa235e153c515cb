#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# dockfw-rust-kbuild: makes a Debian kernel's headers able to build an
# out-of-tree Rust module.
#
# Debian's linux-headers packages ship no Rust build metadata (rust/*.rmeta,
# the proc-macro crates, scripts/target.json), although the kernel exports
# its `core` and `kernel` crates' symbols. This script regenerates that
# metadata from the same kernel's linux-source package, with the headers'
# own .config and the very rustc, bindgen and gcc that built the kernel,
# checks that the result is the kernel's (rustc/bindgen/gcc version text,
# generated autoconf.h and rustc_cfg byte-identical to the headers'), and
# assembles a private build tree: a copy of the headers with the metadata
# added. `make -C OUT/kbuild M=DIR modules` then builds against it. Nothing
# under /usr/src or /lib/modules is modified.
#
# Used by `make KERNEL=debian` (inside the Debian 13 build root) and by the
# dockfw-dkms package on a user's machine (as /usr/lib/dockfw/rust-kbuild).
#
#   rust-kbuild.sh KERNELRELEASE OUT
#
# Prints the build tree's path last. Every refusal is one line, "dockfw:
# ..." naming what is missing or different, and exits 2. Idempotent:
# OUT/kbuild/.dockfw-kbuild records what it was made from.
set -euo pipefail
KREL=${1:?usage: rust-kbuild.sh KERNELRELEASE OUT}
OUT=${2:?usage: rust-kbuild.sh KERNELRELEASE OUT}
fail() { echo "dockfw: $*" >&2; exit 2; }

HEADERS=/usr/src/linux-headers-$KREL
[ -d "$HEADERS" ] || HEADERS=$(readlink -f "/lib/modules/$KREL/build" 2>/dev/null || true)
[ -n "$HEADERS" ] && [ -f "$HEADERS/.config" ] || fail "no headers for $KREL (install linux-headers-$KREL)"
CONFIG=$HEADERS/.config
conf() { sed -n "s/^$1=\"\{0,1\}\([^\"]*\)\"\{0,1\}\$/\1/p" "$CONFIG"; }
[ "$(conf CONFIG_RUST)" = y ] || fail "kernel $KREL has no CONFIG_RUST: it cannot load Rust modules"
grep -q '^CONFIG_MODVERSIONS=y' "$CONFIG" && fail "kernel $KREL has CONFIG_MODVERSIONS: unsupported"

# The tool chain must be the kernel's own: Rust metadata only loads with the
# rustc that produced it, and the exported symbol names depend on it.
want=$(conf CONFIG_RUSTC_VERSION_TEXT)
have=$(rustc --version 2>/dev/null || echo "no rustc")
[ "$want" = "$have" ] || fail "rustc: kernel $KREL was built with '$want', this system has '$have'"
want=$(conf CONFIG_BINDGEN_VERSION_TEXT)
have=$(bindgen --version 2>/dev/null | head -1 || echo "no bindgen")
[ "$want" = "$have" ] || fail "bindgen: kernel $KREL was built with '$want', this system has '$have'"
want=$(conf CONFIG_CC_VERSION_TEXT)
CC=${want%% *}
have=$("$CC" --version 2>/dev/null | head -1 || echo "no $CC")
[ "$want" = "$have" ] || fail "C compiler: kernel $KREL was built with '$want', this system has '$have'"
SYSROOT=$(rustc --print sysroot)
[ -f "$SYSROOT/lib/rustlib/src/rust/library/core/src/lib.rs" ] || fail "rust-src: no core library source under $SYSROOT (install rust-src)"
series=$(echo "$KREL" | sed -n 's/^\([0-9]*\.[0-9]*\).*/\1/p')
TARBALL=/usr/src/linux-source-$series.tar.xz
[ -f "$TARBALL" ] || fail "no $TARBALL (install linux-source-$series, the source of kernel $KREL)"

made_from="krel=$KREL config=$(sha256sum < "$CONFIG" | cut -c1-16) symvers=$(sha256sum < "$HEADERS/Module.symvers" | cut -c1-16) src=$(stat -c '%s %Y' "$TARBALL") rustc=$(rustc --version)"
if [ -f "$OUT/kbuild/.dockfw-kbuild" ] && [ "$(cat "$OUT/kbuild/.dockfw-kbuild")" = "$made_from" ]; then
  echo "$OUT/kbuild"
  exit 0
fi

start=$(date +%s)
echo "rust-kbuild: regenerating the Rust metadata of $KREL from $TARBALL (about 3 minutes on 2 cores)" >&2
mkdir -p "$OUT"
rm -rf "$OUT/src" "$OUT/obj" "$OUT/kbuild.tmp"
mkdir -p "$OUT/src" "$OUT/obj"
tar -xJf "$TARBALL" -C "$OUT/src" --strip-components=1
cp "$CONFIG" "$OUT/obj/.config"
# The variables Debian's headers set for module builds (.kernelvariables):
# x86, gcc-14 as x86_64-linux-gnu-gcc-14, the package's KERNELRELEASE.
kmake() {
  make -s -C "$OUT/src" O="$OUT/obj" ARCH=x86 CROSS_COMPILE=x86_64-linux-gnu- CC="$CC" HOSTCC="${CC#x86_64-linux-gnu-}" \
    KERNELRELEASE="$KREL" -j"$(nproc)" "$@"
}
kmake olddefconfig >&2
cmp -s "$OUT/obj/.config" "$CONFIG" || fail "olddefconfig changed the headers' .config: linux-source does not match kernel $KREL"
kmake modules_prepare >&2
for f in include/generated/autoconf.h include/generated/rustc_cfg include/generated/utsrelease.h; do
  cmp -s "$OUT/obj/$f" "$HEADERS/$f" || fail "generated $f differs from the headers': linux-source does not match kernel $KREL"
done
ls "$OUT"/obj/rust/libkernel.rmeta "$OUT"/obj/scripts/target.json >/dev/null 2>&1 \
  || fail "modules_prepare made no rust/libkernel.rmeta or scripts/target.json"

# The build tree: the headers (their Makefile points at the common headers
# under /usr/src, read only) with KBUILD_OUTPUT moved here, the kbuild
# scripts copied in place of the link (target.json goes there), and the
# regenerated crates' metadata in rust/.
mkdir -p "$OUT/kbuild.tmp"
cp -a "$HEADERS/." "$OUT/kbuild.tmp/"
rm -f "$OUT/kbuild.tmp/scripts"
cp -a "$(readlink -f "$HEADERS/scripts")" "$OUT/kbuild.tmp/scripts"
# Other links of the headers (tools/, for objtool) are relative: point them
# at what they name.
for l in "$HEADERS"/*; do
  [ -L "$l" ] && [ "$(basename "$l")" != scripts ] && ln -sfn "$(readlink -f "$l")" "$OUT/kbuild.tmp/$(basename "$l")"
done
cp "$OUT/obj/scripts/target.json" "$OUT/kbuild.tmp/scripts/"
mkdir -p "$OUT/kbuild.tmp/rust"
cp "$OUT"/obj/rust/*.rmeta "$OUT"/obj/rust/*.so "$OUT/kbuild.tmp/rust/"
sed -i "s|^KBUILD_OUTPUT=.*|KBUILD_OUTPUT=$OUT/kbuild|" "$OUT/kbuild.tmp/Makefile"
rm -rf "$OUT/kbuild" "$OUT/src" "$OUT/obj"
mv "$OUT/kbuild.tmp" "$OUT/kbuild"
echo "$made_from" > "$OUT/kbuild/.dockfw-kbuild"
echo "rust-kbuild: ready in $(( $(date +%s) - start )) s" >&2
echo "$OUT/kbuild"
