#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The Debian 13 build root: a trixie tree made with mmdebstrap from Debian's
# own packages, holding the tool chain that built Debian's stock 7.3 kernel
# (rustc, rust-src, libstd-rust-dev, bindgen, gcc-14; versions pinned in
# scripts/debian/versions.env), linux-source-7.3 and that kernel's headers,
# and what the DKMS package test needs (dkms, dh-dkms). Builds for that
# kernel run inside it (scripts/debian/in-root.sh) because trixie's rustc
# needs a newer glibc than this Debian 12 machine has, and because the Rust
# metadata a module builds against loads only with the rustc that made it.
#
# The root lives in $DOCKFW_CACHE/debian13-root, shared by clones on one
# machine. The apt sources inside it are derived from this machine's own
# (scripts/apt-mirror.py): no mirror host is written in the project's files.
# Idempotent: .dockfw-root records the package list it holds; a longer list
# installs the difference, a different pin rebuilds the root.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/debian/versions.env
CACHE=${DOCKFW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dockfw}
ROOT=$CACHE/debian13-root
PKGS=(rustc="$DEB_RUSTC_VERSION" rust-src="$DEB_RUSTC_VERSION" libstd-rust-dev="$DEB_RUSTC_VERSION"
      bindgen libclang-dev clang "$DEB_CC" make flex bison bc libelf-dev libssl-dev python3
      xz-utils zstd kmod cpio dwarves binutils file ca-certificates openssl
      "$DEB_KSRC=$DEB_KPKG_VERSION" "linux-headers-$DEB_KREL=$DEB_KPKG_VERSION"
      dkms dh-dkms debhelper dpkg-dev fakeroot build-essential)
PIN="suite=$DEB_SUITE rustc=$DEB_RUSTC_VERSION kernel=$DEB_KPKG_VERSION"

mkdir -p "$CACHE"
exec 8>"$CACHE/.debian13-root.lock"
flock 8
if [ -f "$ROOT/.dockfw-root" ] && [ "$(head -1 "$ROOT/.dockfw-root")" = "$PIN" ]; then
  missing=()
  for p in "${PKGS[@]}"; do grep -qxF "$p" "$ROOT/.dockfw-root" || missing+=("$p"); done
  [ "${#missing[@]}" -eq 0 ] && exit 0
  echo "debian-root: adding ${missing[*]}"
  scripts/debian/in-root.sh bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"' apt "${missing[@]}"
  { echo "$PIN"; printf '%s\n' "${PKGS[@]}"; } > "$ROOT/.dockfw-root"
  exit 0
fi
command -v mmdebstrap >/dev/null || {
  [ "$(id -u)" = 0 ] || { echo "debian-root: mmdebstrap is missing (apt-get install mmdebstrap as root)" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap
}
[ "$(id -u)" = 0 ] || { echo "debian-root: must run as root (mmdebstrap, chroot)" >&2; exit 1; }
ARCHIVE=$(scripts/apt-mirror.py archive)
SECURITY=$(scripts/apt-mirror.py security)
start=$(date +%s)
echo "debian-root: building $ROOT ($DEB_SUITE from $ARCHIVE; about 2 minutes, 2.5 GB)"
rm -rf "$ROOT" "$ROOT.tmp"
inc=$(IFS=,; echo "${PKGS[*]}")
mmdebstrap --quiet --variant=apt --components=main --include="$inc" \
  --aptopt='Acquire::Retries "3"' \
  "$DEB_SUITE" "$ROOT.tmp" \
  "deb $ARCHIVE $DEB_SUITE main" "deb $ARCHIVE $DEB_SUITE-updates main" \
  "deb $ARCHIVE $DEB_SUITE-backports main" "deb $SECURITY $DEB_SUITE-security main"
{ echo "$PIN"; printf '%s\n' "${PKGS[@]}"; } > "$ROOT.tmp/.dockfw-root"
mv "$ROOT.tmp" "$ROOT"
echo "debian-root: built in $(( $(date +%s) - start )) s"
