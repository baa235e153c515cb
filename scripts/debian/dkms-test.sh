#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The DKMS path a Debian 13 user takes, tested in the Debian 13 root:
# install the two packages (scripts/debian/package.sh), `dkms build` and
# `dkms install` for Debian's $DEB_KREL, and check what came out: a
# dockfw.ko with vermagic $DEB_KREL, signed by dkms' own MOK key (modinfo
# signer and sig_hashalgo), every imported Rust symbol exported by the
# kernel. Then rust-kbuild's refusals: a rustc other than the kernel's and a
# kernel without headers each stop with one line naming the cause. Leaves
# build/dockfw-dkms.ko (decompressed, signature kept) for the QEMU suite.
# Prints `N passed, N failed` last.
#
#   scripts/debian/dkms-test.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
. scripts/debian/versions.env
CACHE=${DOCKFW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dockfw}
ROOT=$CACHE/debian13-root
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' userspace-ctl/Cargo.toml | head -1)
pass=0 fail=0
check() { # NAME OK? DETAIL
  if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "PASS dkms: $1"; else fail=$((fail + 1)); echo "FAIL dkms: $1: $3"; fi
}
inroot() { scripts/debian/in-root.sh "$@"; }

scripts/debian/package.sh >/dev/null || { echo "dkms: building the packages failed"; echo "0 passed, 1 failed"; exit 1; }
# A clean slate: no dockfw from an earlier run in the root.
inroot bash -c 'dpkg -r dockfw-dkms dockfwctl >/dev/null 2>&1; rm -rf /var/lib/dkms/dockfw; true'
out=$(inroot bash -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$0"/build/deb/dockfw-dkms_*.deb "$0"/build/deb/dockfwctl_*.deb 2>&1' "$PWD")
inroot dpkg -s dockfw-dkms >/dev/null 2>&1 && inroot dpkg -s dockfwctl >/dev/null 2>&1
check "both packages install" $? "$out"
out=$(inroot dkms status dockfw 2>&1)
echo "$out" | grep -q "dockfw/$VERSION"
check "dkms knows dockfw/$VERSION" $? "$out"
out=$(inroot bash -c 'dkms build --force dockfw/"$0" -k "$1" 2>&1 && dkms install --force dockfw/"$0" -k "$1" 2>&1' "$VERSION" "$DEB_KREL")
rc=$?
check "dkms build + install -k $DEB_KREL" $rc "$(echo "$out" | tail -20; cat "$ROOT/var/lib/dkms/dockfw/$VERSION/build/make.log" 2>/dev/null | tail -20)"
ko=$(ls "$ROOT/usr/lib/modules/$DEB_KREL/updates/dkms/dockfw.ko"* 2>/dev/null | head -1)
[ -n "$ko" ]
check "installed in /lib/modules/$DEB_KREL/updates/dkms" $? "nothing there"
rm -f build/dockfw-dkms.ko
case "$ko" in
  *.xz) xz -dc "$ko" > build/dockfw-dkms.ko ;;
  *.zst) zstd -qdc "$ko" > build/dockfw-dkms.ko ;;
  ?*) cp "$ko" build/dockfw-dkms.ko ;;
esac
ko=build/dockfw-dkms.ko
vm=$(modinfo -F vermagic "$ko" 2>/dev/null)
[[ $vm == "$DEB_KREL "* ]]
check "vermagic is $DEB_KREL" $? "'$vm'"
signer=$(modinfo -F signer "$ko" 2>/dev/null); algo=$(modinfo -F sig_hashalgo "$ko" 2>/dev/null)
[ -n "$signer" ] && [ "$algo" = sha256 ]
check "signed by dkms' MOK key (signer '$signer', $algo)" $? "signer '$signer', hash '$algo'"
# The key that signed it is dkms' MOK certificate (what `mokutil --import`
# enrols for Secure Boot).
mok=$(inroot bash -c 'openssl x509 -inform DER -in /var/lib/dkms/mok.pub -noout -subject 2>/dev/null')
echo "$mok" | grep -qF "$signer"
check "signer is the subject of /var/lib/dkms/mok.pub" $? "'$mok' vs '$signer'"
undef=$(nm -u "$ko" 2>/dev/null | awk '$2 ~ /^_R/ {print $2}' | sort -u)
missing=$(comm -23 <(echo "$undef") <(awk '{print $2}' "$ROOT/var/cache/dockfw/$DEB_KREL/kbuild/Module.symvers" | sort -u) | grep -c . )
[ -n "$undef" ] && [ "$missing" = 0 ]
check "every imported Rust symbol ($(echo "$undef" | grep -c .)) exported by $DEB_KREL" $? "$missing missing"

# Refusals, one line each, exit 2, nothing built.
out=$(inroot bash -c 'mkdir -p /tmp/fake && printf "#!/bin/sh\necho rustc 1.95.0 \\(fake\\)\n" > /tmp/fake/rustc && chmod +x /tmp/fake/rustc && PATH=/tmp/fake:$PATH /usr/lib/dockfw/rust-kbuild "$0" /tmp/kb 2>&1; echo "rc=$?"' "$DEB_KREL")
echo "$out" | grep -qx "dockfw: rustc: kernel $DEB_KREL was built with 'rustc $DEB_RUSTC_UPSTREAM.*', this system has 'rustc 1.95.0 (fake)'" \
  && echo "$out" | grep -qx "rc=2" && [ "$(echo "$out" | grep -c .)" = 2 ]
check "a foreign rustc is refused in one line" $? "$out"
out=$(inroot bash -c '/usr/lib/dockfw/rust-kbuild 9.9.9-nothing /tmp/kb 2>&1; echo "rc=$?"')
echo "$out" | grep -qx "dockfw: no headers for 9.9.9-nothing (install linux-headers-9.9.9-nothing)" && echo "$out" | grep -qx "rc=2"
check "a kernel without headers is refused in one line" $? "$out"
echo "dkms: $pass passed, $fail failed"
[ "$fail" = 0 ]
