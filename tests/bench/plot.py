# SPDX-License-Identifier: GPL-2.0
"""docs/bench-rules.svg: UDP throughput against the number of rules for
dockfw, iptables (DOCKER-USER) and nftables (set), with the baseline, drawn
as hand-written SVG (no plotting dependency). Log-scale x (rules), log-scale
y (packets per second), medians with min..max bars.

    python3 tests/bench/plot.py build/bench/results.json docs/bench-rules.svg
"""
import json
import math
import statistics
import sys

SERIES = [("dfw", "dockfw (port index)", "#1f77b4", "SIZES"),
          ("ipt", "iptables DOCKER-USER (linear)", "#d62728", "IPT_SIZES"),
          ("nft", "nftables set lookup", "#2ca02c", "NFT_SIZES")]
W, H = 760, 440
L, R, T, B = 80, 230, 40, 60


def points(data, prefix, key, path, pos):
    out = []
    for n in [int(x) for x in data["conf"].get(key, "").split()]:
        xs = data["rates"].get(f"{prefix}-{n}-{pos}|{path}|udp", [])
        if xs:
            out.append((n, statistics.median(xs), min(xs), max(xs)))
    return out


def write(data, path, net_path="dnat"):
    series = [(label, color, points(data, p, key, net_path, "none")) for p, label, color, key in SERIES]
    base = data["rates"].get(f"base|{net_path}|udp", [])
    ys = [v for _, _, pts in series for pt in pts for v in pt[1:] if v > 0] + [v for v in base if v > 0]
    xs = [pt[0] for _, _, pts in series for pt in pts]
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           'font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>']
    title = "UDP 64 B throughput vs number of rules (path: ext -> DNAT -> c1, no rule matches)"
    svg.append(f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="14">{title}</text>')
    if not ys or not xs:
        svg.append(f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle">no data</text></svg>')
        open(path, "w").write("\n".join(svg) + "\n")
        return
    ylo = 10 ** math.floor(math.log10(min(ys)))
    yhi = 10 ** math.ceil(math.log10(max(ys)))
    xlo = 10 ** math.floor(math.log10(min(xs)))
    xhi = 10 ** math.ceil(math.log10(max(xs)))
    pw, ph = W - L - R, H - T - B

    def X(n):
        return L + pw * (math.log10(n) - math.log10(xlo)) / max(1e-9, math.log10(xhi) - math.log10(xlo))

    def Y(v):
        return T + ph * (1 - (math.log10(v) - math.log10(ylo)) / max(1e-9, math.log10(yhi) - math.log10(ylo)))

    # Axes and grid.
    svg.append(f'<rect x="{L}" y="{T}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
    e = int(math.log10(xlo))
    while 10 ** e <= xhi:
        x = X(10 ** e)
        svg.append(f'<line x1="{x:.1f}" y1="{T}" x2="{x:.1f}" y2="{T + ph}" stroke="#ddd"/>')
        svg.append(f'<text x="{x:.1f}" y="{T + ph + 18}" text-anchor="middle">{10 ** e:,}</text>')
        e += 1
    e = int(math.log10(ylo))
    while 10 ** e <= yhi:
        y = Y(10 ** e)
        svg.append(f'<line x1="{L}" y1="{y:.1f}" x2="{L + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        svg.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">{10 ** e:,}</text>')
        e += 1
    svg.append(f'<text x="{L + pw / 2}" y="{H - 15}" text-anchor="middle">rules (log scale)</text>')
    svg.append(f'<text x="18" y="{T + ph / 2}" text-anchor="middle" transform="rotate(-90 18 {T + ph / 2})">'
               'packets/s received (log scale)</text>')
    legend = []
    if base:
        b = statistics.median(base)
        y = Y(b)
        svg.append(f'<line x1="{L}" y1="{y:.1f}" x2="{L + pw}" y2="{y:.1f}" stroke="#000" stroke-dasharray="6,4"/>')
        legend.append(("baseline (no module)", "#000", True))
    for label, color, pts in series:
        if not pts:
            continue
        d = " ".join(f"{'M' if i == 0 else 'L'}{X(n):.1f},{Y(m):.1f}" for i, (n, m, _, _) in enumerate(pts))
        svg.append(f'<path d="{d}" fill="none" stroke="{color}" stroke-width="2"/>')
        for n, m, lo, hi in pts:
            svg.append(f'<line x1="{X(n):.1f}" y1="{Y(lo):.1f}" x2="{X(n):.1f}" y2="{Y(hi):.1f}" stroke="{color}"/>')
            svg.append(f'<circle cx="{X(n):.1f}" cy="{Y(m):.1f}" r="3.5" fill="{color}"><title>{label}: {n} rules, '
                       f'{m:.0f} pkt/s ({lo:.0f}..{hi:.0f})</title></circle>')
        legend.append((label, color, False))
    for i, (label, color, dashed) in enumerate(legend):
        y = T + 10 + 22 * i
        x = L + pw + 14
        dash = ' stroke-dasharray="6,4"' if dashed else ""
        svg.append(f'<line x1="{x}" y1="{y}" x2="{x + 24}" y2="{y}" stroke="{color}" stroke-width="2"{dash}/>')
        svg.append(f'<text x="{x + 30}" y="{y + 4}">{label}</text>')
    svg.append(f'<text x="{L + pw + 14}" y="{T + 10 + 22 * len(legend) + 10}" font-size="10" fill="#555">'
               'median, bars: min..max</text>')
    svg.append("</svg>")
    open(path, "w").write("\n".join(svg) + "\n")


if __name__ == "__main__":
    write(json.load(open(sys.argv[1])), sys.argv[2])
