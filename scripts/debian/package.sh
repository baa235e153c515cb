#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The two Debian packages, built in the Debian 13 root with dpkg-buildpackage
# from contrib/debian (dh + dh-dkms): dockfw-dkms (the module's sources,
# dkms.conf, /usr/lib/dockfw/rust-kbuild) and dockfwctl (the binary cargo
# built, target/release/dockfwctl, and the watch service unit). Output in
# build/deb/.
#
#   scripts/debian/package.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' userspace-ctl/Cargo.toml | head -1)
[ -x target/release/dockfwctl ] || { echo "package: build dockfwctl first (make ctl)" >&2; exit 1; }
D=build/deb/dockfw-$VERSION
rm -rf build/deb
scripts/module-src.sh "$D"
mkdir -p "$D/dkms"
cp -r contrib/debian "$D/debian"
cp contrib/dkms/dkms.conf "$D/debian/dockfw-dkms.dkms"
cp contrib/dkms/dkms-build.sh "$D/dkms/"
cp scripts/debian/rust-kbuild.sh target/release/dockfwctl contrib/systemd/dockfwctl-watch.service "$D/"
cat > "$D/debian/changelog" <<EOT
dockfw ($VERSION) unstable; urgency=medium

  * Built from the dockfw tree ($(git rev-parse --short HEAD 2>/dev/null || echo unknown)).

 -- dockfw developers <dockfw@localhost>  $(date -R)
EOT
scripts/debian/in-root.sh bash -c 'cd "$0" && dpkg-buildpackage -b -us -uc -tc >/dev/null 2>build.err || { cat build.err >&2; exit 1; }' "$PWD/$D"
ls build/deb/*.deb
