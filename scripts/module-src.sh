#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Copies the module's sources (Kbuild, src/, include/: what an out-of-tree
# build needs, and the YNL spec) into DEST, emptied first, so a module can
# be built against another kernel (the debug kernel, Debian's, a mutant,
# the DKMS package) while the work tree's objects stay those of the
# project's own kernel. Generated bindings are left out: each build makes
# its own.
#
#   scripts/module-src.sh DEST
set -euo pipefail
DEST=${1:?usage: module-src.sh DEST}
cd "$(dirname "$0")/.."
rm -rf "$DEST" && mkdir -p "$DEST"
find Kbuild src include \( -name '*.rs' -o -name '*.c' -o -name '*.h' -o -name Kbuild -o -name '*.yaml' \) \
  ! -name bindings_generated.rs | cpio -pdm --quiet "$(realpath "$DEST")"
