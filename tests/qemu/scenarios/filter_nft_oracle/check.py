# SPDX-License-Identifier: GPL-2.0
"""Checks of the filter_nft_oracle scenario (guest.sh beside this file)."""
from qemucheck import *  # noqa: F401,F403


def check(g):
    """dockfw's per-rule counters against nftables' over the same packets:
    the same random rules (see the scenario for the translation)."""
    import base64
    rules = base64.b64decode(g.fact("dfw_rules")).decode().splitlines()
    nft_text = base64.b64decode(g.fact("nft_rules")).decode()
    n = len(rules)
    expect(ctl(g, "restore")[0] == 0, f"dockfwctl restore refused the rules: {ctl(g, 'restore')[2]!r}")
    dfw = {r["comment"]: (r["packets"], r["bytes"]) for r in ctl_json(g, "counters")}
    raw = base64.b64decode(g.fact("nft_counters")).decode()
    nft = {m[0]: (int(m[1]), int(m[2])) for m in re.findall(r"counter (r\d+) \{\s*packets (\d+) bytes (\d+)", raw)}
    expect(len(dfw) == n and len(nft) == n, f"{len(dfw)} dockfw and {len(nft)} nftables counters for {n} rules")
    diffs = [f"r{i}: dockfw {dfw.get(f'r{i}')} nftables {nft.get(f'r{i}')}  [{rules[i - 1]}]"
             for i in range(1, n + 1) if dfw.get(f"r{i}") != nft.get(f"r{i}")]
    expect(not diffs, f"{len(diffs)} of {n} rules counted differently (packets, bytes):\n  " + "\n  ".join(diffs)
           + "\nnftables rules:\n" + nft_text)
    # The draw must make the comparison worth something: many rules match,
    # and not all the same packets.
    hit = [k for k, v in nft.items() if v[0] > 0]
    expect(len(hit) >= n // 3, f"only {len(hit)} of {n} rules matched any packet")
    expect(len({v[0] for v in nft.values()}) >= 6, f"the rules' counts hardly differ: {sorted(nft.values())}")
    expect(len(hit) < n, "every rule matched something: the rules hardly discriminate")
