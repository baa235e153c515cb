#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Prints the Debian archive URIs this machine's apt is configured with.

The project names no mirror host in any file: the scripts that need another
suite (bookworm-backports for linux-source-6.12, trixie and trixie-backports
for the Debian 13 build root) take the URIs from the machine's own apt
sources (deb822 `*.sources` files and one-line `*.list` entries alike).

    scripts/apt-mirror.py archive     the URI of the main archive
    scripts/apt-mirror.py security    the URI of the security archive

Exits 1 with a message naming the files read when none is configured.
"""
import glob
import re
import sys


def entries():
    """(uri, suites) of every enabled `deb` source."""
    out = []
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        for stanza in re.split(r"\n\s*\n", open(path).read()):
            fields = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line or line[0].isspace():
                    continue
                k, v = line.split(":", 1)
                fields[k.strip().lower()] = v.split()
            if "deb" not in fields.get("types", []) or fields.get("enabled", ["yes"])[0] == "no":
                continue
            for uri in fields.get("uris", []):
                out.append((uri, fields.get("suites", [])))
    for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
        try:
            lines = open(path).read().splitlines()
        except OSError:
            continue
        for line in lines:
            line = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
            if len(line) >= 3 and line[0] == "deb":
                out.append((line[1], [line[2]]))
    return out


def main():
    want = sys.argv[1] if len(sys.argv) > 1 else "archive"
    for uri, suites in entries():
        # Only Debian's own archives: a suite named after a Debian release.
        for s in suites:
            base, _, kind = s.partition("-")
            if not re.fullmatch(r"[a-z]+", base) or base in ("nodistro", "stable", "focal", "jammy", "noble"):
                continue
            if want == "security" and kind == "security":
                print(uri.rstrip("/"))
                return
            if want == "archive" and kind in ("", "updates", "backports") and "security" not in uri:
                print(uri.rstrip("/"))
                return
    sys.exit(f"apt-mirror: no Debian {want} archive in /etc/apt/sources.list(.d): configure apt first")


if __name__ == "__main__":
    main()
