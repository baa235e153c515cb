#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# dkms' MAKE step for dockfw: a build tree with the kernel's Rust metadata
# (made once per kernel by rust-kbuild, cached in /var/cache/dockfw), then
# an ordinary out-of-tree module build against it.
#
#   dkms-build.sh KERNELRELEASE
set -e
KREL=${1:?usage: dkms-build.sh KERNELRELEASE}
KBUILD=$(/usr/lib/dockfw/rust-kbuild "$KREL" "/var/cache/dockfw/$KREL" | tail -1)
exec make -C "$KBUILD" M="$(pwd)" modules
