# SPDX-License-Identifier: GPL-2.0
"""The kernel's YNL tooling (tools/net/ynl: cli.py and its lib/, and the
Documentation/netlink/*.yaml schemas) of Linux 6.12, from Debian's
linux-source-6.12 tarball, unpacked once into $DOCKFW_CACHE/ynl-6.12.
Used by scripts/ynl-check.py (on the host) and by tests/qemu/run.py (the
guest's Python payload: cli.py drives the live module in the ynl_cli
scenario)."""
import os
import subprocess

CACHE = os.environ.get("DOCKFW_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "dockfw")
TARBALL = os.environ.get("DOCKFW_KERNEL_TARBALL", "/usr/src/linux-source-6.12.tar.xz")


def ynl_lib():
    """The kernel's tools/net/ynl and netlink schemas, unpacked once."""
    dest = os.path.join(CACHE, "ynl-6.12")
    if not os.path.exists(os.path.join(dest, ".done")):
        os.makedirs(dest, exist_ok=True)
        subprocess.run(["tar", "-xJf", TARBALL, "-C", dest, "--strip-components=1", "--wildcards",
                        "*/tools/net/ynl/*", "*/Documentation/netlink/*.yaml"], check=True)
        open(os.path.join(dest, ".done"), "w").close()
    return dest


def tools_dir():
    """tools/net/ynl: cli.py and lib/."""
    return os.path.join(ynl_lib(), "tools/net/ynl")


def schema(protocol):
    """The schema a spec of `protocol` (genetlink-legacy, ...) is checked against."""
    return os.path.join(ynl_lib(), "Documentation/netlink", protocol + ".yaml")
