#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs a command inside the Debian 13 build root (scripts/debian/root.sh),
# in a private mount namespace: /proc, /dev, the project's work tree (at the
# same path) and the cache are bind-mounted for the command and vanish with
# it, so nothing is left mounted on this machine whatever happens.
#
#   scripts/debian/in-root.sh COMMAND [ARG...]
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${DOCKFW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dockfw}
ROOT=$CACHE/debian13-root
[ -f "$ROOT/.dockfw-root" ] || { echo "in-root: no build root at $ROOT (scripts/debian/root.sh makes it)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "in-root: must run as root (chroot)" >&2; exit 1; }
# The inner script gets its arguments positionally: no quoting games.
exec unshare --mount --propagation private -- /bin/bash -c '
  set -e
  ROOT=$1 TOP=$2 CACHE=$3; shift 3
  mount --rbind /proc "$ROOT/proc"
  mount --rbind /dev "$ROOT/dev"
  mount -t tmpfs tmp "$ROOT/tmp"
  # Name resolution as this machine has it now (the root keeps the copy
  # mmdebstrap made, which a later machine may not share).
  [ -f /etc/resolv.conf ] && [ -f "$ROOT/etc/resolv.conf" ] && mount --bind /etc/resolv.conf "$ROOT/etc/resolv.conf"
  mkdir -p "$ROOT$TOP" "$ROOT$CACHE"
  mount --bind "$TOP" "$ROOT$TOP"
  mount --bind "$CACHE" "$ROOT$CACHE"
  cd "$ROOT$TOP"
  exec chroot "$ROOT" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    DOCKFW_CACHE="$CACHE" /bin/bash -c "cd \"\$0\" && exec \"\$@\"" "$TOP" "$@"
' in-root "$ROOT" "$TOP" "$CACHE" "$@"
