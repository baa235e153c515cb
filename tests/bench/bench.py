#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""dockfw benchmarks (`make bench`).

Boots the test kernel once in QEMU (reusing tests/qemu/run.py for the
initramfs and the QEMU command line) and runs tests/bench/guest_bench.sh,
which measures, in that one boot, the baseline (no module) and every
configuration: dockfw without rules, with 10..100 000 rules (matching rule
first, last, absent), the trace stream and the dmesg trace, the same
policies as iptables rules in DOCKER-USER and as an nftables set lookup.
The host takes medians, spreads and ratios to the baseline and writes
build/bench/results.json, docs/benchmarks.md (tables and the targets of the
issue) and docs/bench-rules.svg (tests/bench/plot.py).

BENCH_QUICK=1 (or --quick) runs a reduced matrix for development. Never
asserts timings: it exits non-zero only if the run itself failed.
"""
import argparse
import gzip
import inspect
import io
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "qemu"))
sys.path.insert(0, HERE)
import run  # noqa: E402  (tests/qemu/run.py)
import plot  # noqa: E402
import report  # noqa: E402

OUT = os.path.join(TOP, "build", "bench")

FULL = dict(WINDOWS=5, WIN_MS=300, WARM_MS=200, PATHS="dnat bridge", METRICS="udp rr crr",
            SIZES="10 100 1000 10000 100000", POSITIONS="first last none",
            IPT_SIZES="10 100 1000 10000 100000", NFT_SIZES="10 100 1000 10000 100000",
            NFT_POSITIONS="match none", ADD_SIZES="10 100000", ADD_REPS=7, IPT_ALL_POSITIONS_MAX=10000,
            FWD_SIZES="10000", TRACE=1)
QUICK = dict(WINDOWS=3, WIN_MS=200, WARM_MS=100, PATHS="dnat bridge", METRICS="udp rr crr",
             SIZES="10 1000", POSITIONS="first none", IPT_SIZES="10 1000", NFT_SIZES="10 1000",
             NFT_POSITIONS="match none", ADD_SIZES="10 1000", ADD_REPS=3, IPT_ALL_POSITIONS_MAX=100,
             FWD_SIZES="1000", TRACE=1)

# Ports of the filler rules: below the guest's ephemeral range (60000+, set
# by guest_bench.sh) so that no filler matches a reply, and never the test
# ports. 100 000 rules need two rules per port: udp and tcp.
FILL_PORTS = [p for p in range(1, 60000) if p not in (8080, 8081)]


def fillers(n):
    return [("udp" if i < len(FILL_PORTS) else "tcp", FILL_PORTS[i % len(FILL_PORTS)]) for i in range(n)]


def dockfw_rules(n, pos, hook=""):
    """n rules; the matching one (`dport 8080`, any protocol) first or last
    by priority, or absent. `hook`: scope the fillers to one hook (as
    DOCKER-USER and the nftables chain are: FORWARD only)."""
    lines = ["# dockfw ruleset"]
    k = n - 1 if pos != "none" else n
    if pos == "first":
        lines.append("dport 8080 prio 1 accept")
    h = f"{hook} " if hook else ""
    lines += [f"{h}{p} dport {port} accept" for p, port in fillers(k)]
    if pos == "last":
        lines.append("dport 8080 prio 2000 accept")
    return "\n".join(lines) + "\n"


def ipt_rules(n, pos):
    match = ["-A DOCKER-USER -p udp --dport 8080 -j ACCEPT", "-A DOCKER-USER -p tcp --dport 8080 -j ACCEPT"]
    k = n - 2 if pos != "none" else n
    lines = ["*filter", "-F DOCKER-USER"]
    if pos == "first":
        lines += match
    lines += [f"-A DOCKER-USER -p {p} --dport {port} -j ACCEPT" for p, port in fillers(k)]
    if pos == "last":
        lines += match
    lines += ["-A DOCKER-USER -j RETURN", "COMMIT"]
    return "\n".join(lines) + "\n"


def nft_rules(n, pos):
    els = [f"{p} . {port}" for p, port in fillers(n - 2 if pos == "match" else n)]
    if pos == "match":
        els += ["udp . 8080", "tcp . 8080"]
    return ("table inet bench {\n"
            "  set ports {\n    type inet_proto . inet_service\n"
            f"    elements = {{ {', '.join(els)} }}\n  }}\n"
            "  chain forward_ports {\n    type filter hook forward priority -1; policy accept;\n"
            "    meta l4proto . th dport @ports accept\n  }\n}\n")


def cpio_newc(files):
    """A gzip'd newc archive of {path: (mode, bytes)}; directories included."""
    out = io.BytesIO()
    ino = 300000

    def entry(name, mode, data):
        nonlocal ino
        ino += 1
        nb = name.encode() + b"\0"
        hdr = "070701" + "".join(f"{x:08x}" for x in
                                 [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0])
        out.write(hdr.encode() + nb)
        out.write(b"\0" * ((4 - (110 + len(nb)) % 4) % 4))
        out.write(data)
        out.write(b"\0" * ((4 - len(data) % 4) % 4))

    dirs = sorted({os.path.dirname(p) for p in files} - {""})
    for d in dirs:
        entry(d, 0o40755, b"")
    for p, (mode, data) in files.items():
        entry(p, 0o100000 | mode, data)
    entry("TRAILER!!!", 0, b"")
    return gzip.compress(out.getvalue(), 1)


def build_image(conf, module):
    """run.py's initramfs (in a directory of our own, so that a test run at
    the same time is not disturbed), plus a second archive with the bench
    script, its configuration and the rule files, concatenated (the kernel
    unpacks both)."""
    run.ROOT = os.path.join(OUT, "initramfs")
    run.IMAGE = os.path.join(OUT, "initramfs.cpio.gz")
    if inspect.signature(run.build_initramfs).parameters:
        run.build_initramfs(module)
    else:
        run.build_initramfs()
    files = {"scenarios/bench.sh": (0o755, open(os.path.join(HERE, "guest_bench.sh"), "rb").read())}
    c = dict(conf)
    c["FLOOD_MS"] = c["WARM_MS"] + c["WINDOWS"] * c["WIN_MS"] + 500
    files["scenarios/bench.conf"] = (0o644, "".join(f'{k}="{v}"\n' for k, v in c.items()).encode())
    for n in map(int, conf["SIZES"].split()):
        for pos in conf["POSITIONS"].split():
            files[f"bench/dfw-{n}-{pos}.rules"] = (0o644, dockfw_rules(n, pos).encode())
        files[f"bench/dfw-{n}-none.rules"] = (0o644, dockfw_rules(n, "none").encode())
    for n in map(int, conf.get("FWD_SIZES", "").split()):
        files[f"bench/dfw-fwd-{n}-none.rules"] = (0o644, dockfw_rules(n, "none", "forward").encode())
    for n in map(int, conf["IPT_SIZES"].split()):
        for pos in conf["POSITIONS"].split():
            if n > conf["IPT_ALL_POSITIONS_MAX"] and pos != "none":
                continue
            files[f"bench/ipt-{n}-{pos}.rules"] = (0o644, ipt_rules(n, pos).encode())
    for n in map(int, conf["NFT_SIZES"].split()):
        for pos in conf["NFT_POSITIONS"].split():
            files[f"bench/nft-{n}-{pos}.nft"] = (0o644, nft_rules(n, pos).encode())
    image = os.path.join(OUT, "bench-initramfs.cpio.gz")
    with open(image, "wb") as f:
        f.write(open(run.IMAGE, "rb").read())
        f.write(cpio_newc(files))
    run.IMAGE = image


# Under TCG the guest's clock is, by default, the host's: a window of
# 300 ms holds as many packets as the host happened to emulate in that time,
# so every figure moved with the host's load, its frequency and the
# scheduling of QEMU's threads (a noise floor of 38-182 % on the baseline,
# even on an idle host). With `-icount shift=N` QEMU derives the guest's
# clock from the number of guest instructions executed, 2^N ns each, and
# runs the vCPUs in one thread: a rate becomes "packets per 10^9 / 2^N
# instructions", repeatable to about 1 % whatever the host is doing.
# `sleep=off`: when every vCPU idles, guest time jumps to the next timer
# instead of following the host's clock. Shift 2 (250 M instructions per
# guest second) keeps guest time close to real time on this host.
ICOUNT_SHIFT = 2


def boot(kernel, timeout, log, icount=-1):
    accel = run.pick_accel(kernel)
    cmd = run.qemu_cmd(kernel, "bench", accel)
    if accel == "tcg" and icount >= 0:
        cmd[cmd.index("-accel") + 2:cmd.index("-accel") + 2] = ["-icount", f"shift={icount},sleep=off"]
    cmd[cmd.index("-m") + 1] = "2048"  # 100 000 iptables rules need room
    print(f"bench: accelerator {accel}; log {log}", flush=True)
    lines = []
    start = time.time()
    with open(log, "w") as f:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, errors="replace")
        for line in p.stdout:
            f.write(line)
            lines.append(line.rstrip("\r\n"))
            if line.startswith("BENCH ") and not line.startswith("BENCH stats"):
                print(f"  [{time.time() - start:5.0f}s] {line.strip()[6:][:150]}", flush=True)
            if time.time() - start > timeout:
                p.kill()
                print("bench: guest timed out", flush=True)
                break
        p.wait()
    return lines, accel, time.time() - start


def parse(lines):
    """BENCH lines -> {"rates": {(cfg, path, metric): [...]}, ...}."""
    res = {"rates": {}, "sent": {}, "hooks": {}, "times": {}, "rc": {}, "stats": {}, "info": {}, "rulestats": {}}
    for line in lines:
        if not line.startswith("BENCH "):
            continue
        toks = line.split()[1:]
        if not toks:
            continue
        if toks[0] in ("skip", "maxrules", "error"):
            kv = dict(t.split("=", 1) for t in toks[1:] if "=" in t)
            if toks[0] == "skip":
                res.setdefault("skipped", {})[kv.get("cfg", "?")] = kv.get("loaded")
            elif toks[0] == "maxrules":
                res["maxrules"] = {"ok": int(kv.get("ok", 0)), "refused": int(kv.get("refused", 0)),
                                   "error": kv.get("error", "").replace("|", " ").replace("_", " ").strip()}
            else:
                res.setdefault("errors", {})[kv.get("time", "?")] = " ".join(toks[2:]).replace("|", " ").replace("_", " ")
            continue
        if toks[0] == "cost":
            kv = dict(t.split("=", 1) for t in toks[1:] if "=" in t)
            sent = next((int(t.split(",")[1]) for t in toks if t.startswith("SENT,")), 0)
            try:
                res.setdefault("cost", {})[f'{kv["cfg"]}|{kv["path"]}'] = {
                    "calls": int(kv["calls"]), "ns": int(kv["ns"]), "cycles": int(kv["cycles"]),
                    "slow": int(kv.get("slow", 0)), "sent": sent}
            except (KeyError, ValueError):
                pass
            continue
        if toks[0] == "info":
            res["info"] = dict(t.split("=", 1) for t in toks[1:])
            continue
        if toks[0].startswith("stats-"):
            try:
                res["stats"][toks[0]] = json.loads(toks[1])
            except (IndexError, ValueError):
                pass
            continue
        if toks[0] == "rules":
            try:
                res["rulestats"][toks[1].split("=")[1]] = json.loads(toks[2])
            except (IndexError, ValueError):
                pass
            continue
        kv = {}
        for t in toks:
            if "=" in t:
                k, v = t.split("=", 1)
                kv[k] = v
            elif t.startswith("RATES,"):
                kv["rates"] = [float(x) for x in t.split(",")[1:] if re.match(r"^[0-9.]+$", x)]
            elif t.startswith("SENT,"):
                kv["sent"] = int(t.split(",")[1])
            elif t.startswith("TIMES,"):
                parts = t.split(",")[1:]
                kv["times"] = [int(x) / 1e6 for x in parts[:parts.index("RC")]] if "RC" in parts else []
                kv["rc"] = int(parts[-1]) if "RC" in parts else -1
        if "time" in kv:
            res["times"][kv["time"]] = kv.get("times", [])
            res["rc"][kv["time"]] = kv.get("rc", -1)
        elif "cfg" in kv:
            key = f'{kv["cfg"]}|{kv["path"]}|{kv["metric"]}'
            res["rates"][key] = kv.get("rates", [])
            if "sent" in kv:
                res["sent"][key] = kv["sent"]
            if "hooks" in kv:
                res["hooks"][key] = int(kv["hooks"])
    return res


def kernel_config(kernel):
    """The debug options of the guest kernel that slow it down."""
    cfg = os.path.join(os.path.dirname(kernel), "..", "..", "..", ".config")
    want = re.compile(r"^CONFIG_(KASAN|KCSAN|LOCKDEP|PROVE_LOCKING|DEBUG_ATOMIC_SLEEP|RUST_OVERFLOW_CHECKS|"
                      r"RUST_DEBUG_ASSERTIONS|DEBUG_KMEMLEAK|UBSAN|SLUB_DEBUG_ON|DEBUG_PAGEALLOC|HZ|PREEMPT\w*)=(.*)$")
    try:
        return [l.strip() for l in open(cfg) if want.match(l.strip())]
    except OSError:
        return []


def machine():
    cpu = "unknown"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    qemu = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    busy = subprocess.run(["pgrep", "-f", "make.*bzImage|clang"], capture_output=True, text=True).stdout.split()
    # Other QEMU guests (ours is not running when this is called).
    busy += [f"qemu:{p}" for p in subprocess.run(["pgrep", "-f", "^qemu-system"], capture_output=True,
                                                  text=True).stdout.split()]
    return {"cpu": cpu, "cores": os.cpu_count(), "host_kernel": platform.release(), "qemu": qemu,
            "load_during_run": busy, "loadavg": open("/proc/loadavg").read().split()[:3],
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def update_boot(data, conf, a):
    """Boots the guest on the host's clock to time the rule updates; adds
    the boot to data["times_real_boots"] and judges on pick_updates()."""
    upd = dict(conf, SIZES=conf["ADD_SIZES"] or conf["SIZES"].split()[-1], POSITIONS="none", IPT_SIZES="",
               NFT_SIZES="", FWD_SIZES="", TRACE=0, UPDATES_ONLY=1)
    build_image(upd, a.module)
    if "times_real_boots" not in data and data.get("times_real"):
        # Results from before boots were kept: the one boot they had.
        data["times_real_boots"] = [{"times": data["times_real"], "rc": data["rc_real"], "at": "the main run"}]
    n = len(data.get("times_real_boots", []))
    ulines, _, usecs = boot(a.kernel, 1800, os.path.join(OUT, f"guest-updates{'-' + str(n) if n else ''}.log"), -1)
    u = parse(ulines)
    ok = any(l.startswith("==DFW-SCENARIO-EXIT== 0") for l in ulines)
    if ok:
        data.setdefault("times_real_boots", []).append(
            {"times": u["times"], "rc": u["rc"], "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())})
        pick_updates(data)
    return ok, ulines, usecs


def pick_updates(data):
    """The update boot the report judges on: the one whose restore of the
    largest set was fastest. On the host's clock other work on the host
    (or its hypervisor) only ever adds time, so the fastest boot is the best
    estimate of what the code itself takes; the report lists every boot."""
    def key(b):
        xs = [x for k, v in b["times"].items() if k.startswith("restore-") and k.split("-")[1].isdigit()
              and int(k.split("-")[1]) == max(int(j.split("-")[1]) for j in b["times"] if j.startswith("restore-")
                                               and j.split("-")[1].isdigit()) for x in v]
        return statistics.median(xs) if xs else float("inf")
    best = min(data["times_real_boots"], key=key)
    data["times_real"], data["rc_real"] = best["times"], best["rc"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernel", default=os.path.join(TOP, "build/linux/arch/x86/boot/bzImage"))
    ap.add_argument("--module", default=os.path.join(TOP, "dockfw.ko"), help="the dockfw.ko to load")
    ap.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK", "") not in ("", "0"))
    ap.add_argument("--icount", type=int, default=int(os.environ.get("BENCH_ICOUNT", ICOUNT_SHIFT)), metavar="SHIFT",
                    help="under TCG, run the guest on QEMU's instruction counter: guest time advances 2^SHIFT ns per "
                         f"instruction executed (default {ICOUNT_SHIFT}); -1: on the host's clock")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override one setting of the matrix (e.g. SIZES='10 1000', IPT_SIZES='', TRACE=0)")
    ap.add_argument("--report-only", metavar="RESULTS_JSON", help="rewrite the docs from saved results")
    ap.add_argument("--updates-again", metavar="RESULTS_JSON",
                    help="one more boot on the host's clock timing the rule updates of saved results (see pick_updates)")
    ap.add_argument("--docs", default=os.path.join(TOP, "docs"), help="where benchmarks.md and the SVG go")
    a = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    if a.report_only:
        data = json.load(open(a.report_only))
    elif a.updates_again:
        data = json.load(open(a.updates_again))
        ok, _, _ = update_boot(data, data["conf"], a)
        if not ok:
            sys.exit("bench: the update boot did not finish cleanly")
        json.dump(data, open(os.path.join(OUT, "results.json"), "w"), indent=1)
    else:
        conf = dict(QUICK if a.quick else FULL)
        for kv in a.set:
            k, _, v = kv.partition("=")
            if k not in conf:
                ap.error(f"--set {kv}: no setting {k!r} (settings: {', '.join(conf)})")
            conf[k] = type(conf[k])(v) if v or isinstance(conf[k], str) else v
        busy_before = machine()["load_during_run"]
        build_image(conf, a.module)
        lines, accel, secs = boot(a.kernel, 5400, os.path.join(OUT, "guest.log"), a.icount)
        data = parse(lines)
        m = machine()
        m["load_during_run"] = sorted(set(m["load_during_run"]) | set(busy_before))
        m["kernel_config"] = kernel_config(a.kernel)
        m["source"] = subprocess.run(["git", "-C", TOP, "describe", "--always", "--dirty"],
                                     capture_output=True, text=True).stdout.strip()
        done = any(l.startswith("==DFW-SCENARIO-EXIT== 0") for l in lines)
        if accel == "tcg" and a.icount >= 0 and done:
            # Rule updates are judged in wall time: a second, short boot on
            # the host's clock times them (restore, add, del at the smallest
            # and largest size), without the throughput windows.
            ok, ulines, usecs = update_boot(data, conf, a)
            done = ok
            lines = ulines if not done else lines
            secs += usecs
        data.update(conf=conf, quick=a.quick, accel=accel, cpu_model=run.TCG_CPU if accel == "tcg" else "host",
                    icount=a.icount if accel == "tcg" and a.icount >= 0 else None,
                    wall_s=round(secs), machine=m)
        data["complete"] = done
        if not done:
            tail = [l for l in lines if not l.startswith("BENCH")][-25:]
            print("bench: the guest script did not finish cleanly:\n  " + "\n  ".join(tail))
        json.dump(data, open(os.path.join(OUT, "results.json"), "w"), indent=1)
        print(f"bench: results in {os.path.join(OUT, 'results.json')} ({secs:.0f}s)")
    os.makedirs(a.docs, exist_ok=True)
    summary = report.write(data, os.path.join(a.docs, "benchmarks.md"))
    plot.write(data, os.path.join(a.docs, "bench-rules.svg"))
    print(summary)
    sys.exit(0 if data.get("complete", True) else 1)


if __name__ == "__main__":
    main()
