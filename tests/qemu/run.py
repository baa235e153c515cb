#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""dockfw QEMU scenario suite.

Builds an initramfs (busybox, the host's iproute2 and iptables-nft with their
libraries, dockfw.ko, dockfwctl, dfwprobe, the scenario scripts), boots the
test kernel once per scenario under TCG (KVM only if a boot probe works),
and checks each scenario's outcome on the host: what crossed the network
(the probes' OUTCOME lines) and what the kernel logged (the trace lines).
Any WARN/BUG/Oops/KASAN/UBSAN/lockdep/kmemleak text in a guest's log fails
that scenario. Prints `N passed, N failed` last and exits non-zero on failure.

--module picks the dockfw.ko packed (default ./dockfw.ko; the debug kernel
needs build/dockfw-debug.ko). --debug sets dfwdebug=1 on the guest's command
line: guest/init then clears kmemleak before the scenario, and after it
unloads dockfw and scans, reporting what leaked (see guest/init). --size
(or DOCKFW_ROBUST_SIZE) is passed as dfwsize= to the robust_* scenarios:
`small` (CI, the default) or `full` (the sizes of issue 7).

Scenarios named docker_* run a real Docker engine (Debian's docker.io 20.10,
unpacked by scripts/setup.sh into build/docker). Their image is the base
initramfs followed by a second, uncompressed cpio archive (the kernel
unpacks both into the same rootfs) holding dockerd, docker, containerd,
containerd-shim-runc-v2, runc, docker-proxy, docker-init (tini-static) with
their libraries and /docker/rootfs.tar (busybox and dfwprobe) for `docker
import`. It is built once per run, only when a docker_* scenario is
selected, so the other scenarios boot the small image as before.

Scenarios whose check.py says NEEDS = ("python",) get the Python payload
instead, the same way (a second, uncompressed cpio archive): the host's
python3 (the interpreter running run.py) with its libraries, the part of
its standard library and site-packages that the kernel's YNL cli.py
imports (PyYAML, jsonschema: recorded by running those imports on the
host), and /ynl: cli.py and lib/ of Linux 6.12's tools/net/ynl
(scripts/kernel_ynl.py unpacks them from Debian's linux-source-6.12), the
genetlink-legacy schema and /ynl/specs/dockfw.yaml beside it (nlspec looks
for the schema at <dir of the spec>/../<protocol>.yaml). It is cached in
the work dir and rebuilt when any file it packs changes.

--kmods DIR --release KREL boot a distribution's stock kernel (make
KERNEL=debian: Debian 13's own vmlinuz, whose netfilter, bridge, veth and
overlay are modules): DIR is its /lib/modules/KREL tree. The image then
holds the networking part of that tree and kmod as /sbin/modprobe (the
kernel's request_module runs it, so iptables and nft autoload what they
use); /init loads KMODS_PRELOAD first (dfwkmods=) and prints `uname -r`.
Each scenario must then show the guest running KREL and every module it
asked for loaded.

In every guest /init prints /proc/sys/kernel/tainted after the scenario:
only the out-of-tree (O) and unsigned-module (E) bits may be set, so a
warning, a forced load or a proprietary module fails the scenario.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemucheck  # noqa: E402

sys.path.insert(0, os.path.join(TOP, "scripts"))
import kernel_ynl  # noqa: E402  (scripts/kernel_ynl.py)

# scenarios/NAME/{guest.sh,check.py}, found by folder.
SCENARIOS = qemucheck.scenarios()

BUILD = os.path.join(TOP, "build")
# DOCKFW_QEMU_WORK moves the initramfs and the logs elsewhere, so that two
# runs at the same time (a test and a benchmark, two developers) do not
# overwrite each other's image.
WORK = os.environ.get("DOCKFW_QEMU_WORK", BUILD)
ROOT = os.path.join(WORK, "initramfs")
IMAGE = os.path.join(WORK, "initramfs.cpio.gz")
LOGS = os.path.join(WORK, "qemu-logs")
# The Docker payload (see the module docstring).
DOCKER_DEBS = os.path.join(BUILD, "docker")
DOCKER_ROOT = os.path.join(WORK, "docker-root")
DOCKER_IMAGE = os.path.join(WORK, "initramfs-docker.cpio")
DOCKER_BINARIES = {
    # guest path: path inside the unpacked .debs
    "/usr/sbin/dockerd": "usr/sbin/dockerd",
    "/usr/bin/docker": "usr/bin/docker",
    "/usr/bin/containerd": "usr/bin/containerd",
    "/usr/bin/containerd-shim-runc-v2": "usr/bin/containerd-shim-runc-v2",
    "/usr/sbin/runc": "usr/sbin/runc",
    "/usr/sbin/docker-proxy": "usr/sbin/docker-proxy",
    "/usr/bin/docker-init": "usr/bin/tini-static",
}
# The engine matrix (tests/engines.env, make test-engines): run.py --engine
# ROW packs that engine instead of Debian 12's docker.io 20.10. A row is a
# payload (scripts/engines.sh unpacks it) and a firewall backend; runc and
# docker-init stay Debian 12's (see scripts/engines.sh). The guest reads
# the row from /docker/engine (docker.sh: ENGINE, FIREWALL_BACKEND).
ENGINE_ROWS = {
    # row: (payload, firewall backend)
    "docker-20.10": (None, "iptables"),
    "docker-26.1": ("docker-26.1", "iptables"),
    "docker-28.5-iptables": ("docker-28.5", "iptables"),
    "docker-28.5-nftables": ("docker-28.5", "nftables"),
}
# tests/engines.env lists the same rows (for make); they must agree.
_env_rows = re.search(r'^ENGINE_ROWS="([^"]*)"', open(os.path.join(TOP, "tests/engines.env")).read(), re.M)
assert _env_rows and _env_rows.group(1).split() == list(ENGINE_ROWS), \
    "tests/engines.env ENGINE_ROWS and run.py ENGINE_ROWS differ"
ENGINE_BINARIES = ["/usr/sbin/dockerd", "/usr/bin/docker", "/usr/bin/containerd",
                   "/usr/bin/containerd-shim-runc-v2", "/usr/sbin/docker-proxy"]
ENGINE = "docker-20.10"
DOCKER_MEMORY = "2048"
# The Python payload (see the module docstring): built in PYTHON_ROOT,
# cached as PYTHON_PAYLOAD with the key of its inputs beside it.
PYTHON_ROOT = os.path.join(WORK, "python-root")
PYTHON_PAYLOAD = os.path.join(WORK, "python-payload.cpio")
PYTHON_IMAGE = os.path.join(WORK, "initramfs-python.cpio")
YNL_GUEST = "/ynl"

HOST_BINARIES = {
    # guest path: host path
    "/sbin/ip": "/usr/bin/ip" if os.path.exists("/usr/bin/ip") else "/sbin/ip",
    "/sbin/xtables-nft-multi": "/usr/sbin/xtables-nft-multi",
    "/sbin/nft": "/usr/sbin/nft",
    "/bin/dockfwctl": os.path.join(TOP, "target/release/dockfwctl"),
    "/bin/dfwprobe": os.path.join(TOP, "target/release/dfwprobe"),
}
# Loaded by /init on a stock kernel before the scenario: what the suite uses
# that nothing would autoload (br_netfilter's sysctls exist only once it is
# loaded; dockfw.ko, loaded with insmod, needs conntrack's exports), and the
# rest to keep every scenario's first packets off the module loader.
KMODS_PRELOAD = ["nf_conntrack", "nf_nat", "bridge", "br_netfilter", "veth", "overlay", "nfnetlink_hook",
                 "nf_tables", "nft_compat", "nft_ct", "nft_nat", "nft_masq", "nft_chain_nat",
                 "ip_tables", "iptable_filter", "iptable_nat", "ip6_tables", "ip6table_filter",
                 "xt_addrtype", "xt_conntrack", "xt_MASQUERADE", "xt_nat", "xt_LOG", "nf_log_syslog"]
# The parts of a stock /lib/modules/KREL packed into the image (the rest,
# hardware drivers mostly, no guest of the suite loads).
KMODS_TREES = ["kernel/net", "kernel/lib", "kernel/crypto", "kernel/fs/overlayfs", "kernel/arch/x86/crypto",
               "kernel/drivers/net/veth.ko", "kernel/drivers/net/dummy.ko", "kernel/drivers/net/tun.ko",
               "kernel/drivers/net/macvlan.ko", "kernel/drivers/net/ipvlan", "kernel/drivers/net/vxlan",
               "kernel/drivers/net/geneve.ko", "kernel/drivers/net/udp_tunnel.ko"]
# Taint bits a loaded dockfw.ko is allowed to set: TAINT_OOT_MODULE (O,
# 4096) and TAINT_UNSIGNED_MODULE (E, 8192, kernels with module signing).
TAINT_ALLOWED = 4096 | 8192
XTABLES_LINKS = ["iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save"]
SPLAT = re.compile(
    r"WARNING:|BUG:|Oops|KASAN|UBSAN|Kernel panic|general protection fault|"
    r"possible circular locking|possible recursive locking|inconsistent lock state|"
    r"suspicious RCU usage|lockdep|kmemleak: .*suspected|unreferenced object 0x|"
    r"ref_tracker: .*leaked|RCU stall|rcu_sched self-detected|ODEBUG:|"
    r"Call Trace:|sleeping function called from invalid context|DFW-KMEMLEAK-FOUND|DFW-RMMOD-FAILED"
)

# Boot banners of the debug kernel that name a checker without reporting
# anything.
BENIGN = re.compile(r"RCU lockdep checking is enabled|ODEBUG: .*(selftest passed|objects replaced)|"
                    r"kmemleak: Kernel memory leak detector initialized")


def splat_report(out, context=45):
    """The first kernel report of a guest's console output, whole (its
    header, stack and registers, up to `context` lines) so that the run's
    own output is enough to diagnose it, then every other line that names a
    report. Empty if the log is clean."""
    lines = out.splitlines()
    hits = [i for i, l in enumerate(lines) if SPLAT.search(l) and not BENIGN.search(l)]
    if not hits:
        return []
    first = hits[0]
    block = lines[first:first + context]
    others = [lines[i] for i in hits if i >= first + context]
    if others:
        block += [f"... and {len(others)} more report line(s), first ones:"] + others[:10]
    return block


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def libs_of(path):
    out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
    libs = []
    for line in out.splitlines():
        m = re.search(r"(/\S+) \(0x", line)
        if m:
            libs.append(m.group(1))
    return libs


def copy_with_libs(src, dst_rel, root=None, have=None):
    """Copies src to dst_rel under root (default ROOT) with the libraries ldd
    names, except those already present under `have` (an image that is
    unpacked first)."""
    root = root or ROOT
    dst = os.path.join(root, dst_rel.lstrip("/"))
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copy2(src, dst)
    missing = [l for l in subprocess.run(["ldd", src], capture_output=True, text=True).stdout.splitlines()
               if "not found" in l]
    if missing:
        sys.exit(f"run.py: {src} needs libraries this machine lacks: {missing} (scripts/setup.sh installs them)")
    for lib in libs_of(src):
        real = os.path.realpath(lib)
        for p in {lib, real}:
            d = os.path.join(root, p.lstrip("/"))
            if have and os.path.exists(os.path.join(have, p.lstrip("/"))):
                continue
            if not os.path.exists(d):
                os.makedirs(os.path.dirname(d), exist_ok=True)
                shutil.copy2(real, d)


def uapi_shell():
    """Shell variables for the uAPI's enums and numbers (DOCKFW_RA_VERDICT ->
    RA_VERDICT=3), so guest scripts never copy a number: printed by
    dfwprobe from the header it was built with (the crate dockfw_uapi,
    userspace-ctl/uapi-parse: the one parser of the header, shared with
    dockfwctl's build)."""
    r = subprocess.run([os.path.join(TOP, "target/release/dfwprobe"), "uapi-shell"],
                       capture_output=True, text=True)
    if r.returncode != 0 or "RA_VERDICT=" not in r.stdout:
        sys.exit(f"run.py: dfwprobe uapi-shell failed: {r.stderr.strip()}")
    return r.stdout


def pack_kmods(kmods):
    """The networking part of a stock kernel's module tree (KMODS_TREES)
    and its modules.* indexes under /lib/modules/KREL, and kmod as
    modprobe (busybox's applet cannot read the compressed modules)."""
    rel = os.path.basename(os.path.realpath(kmods))
    dst = os.path.join(ROOT, "lib/modules", rel)
    os.makedirs(dst, exist_ok=True)
    for f in os.listdir(kmods):
        if f.startswith("modules."):
            shutil.copy2(os.path.join(kmods, f), dst)
    import glob
    for t in KMODS_TREES:
        for src in glob.glob(os.path.join(kmods, t)) + glob.glob(os.path.join(kmods, t + ".*")):
            d = os.path.join(dst, os.path.relpath(src, kmods))
            if os.path.isdir(src):
                shutil.copytree(src, d, dirs_exist_ok=True)
            else:
                os.makedirs(os.path.dirname(d), exist_ok=True)
                shutil.copy2(src, d)
    copy_with_libs("/usr/bin/kmod", "/bin/kmod")
    for name in ["modprobe", "lsmod", "modinfo", "depmod"]:
        link = os.path.join(ROOT, "sbin", name)
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink("/bin/kmod", link)


def build_initramfs(module, kmods=None):
    if os.path.exists(ROOT):
        shutil.rmtree(ROOT)
    for d in ["bin", "sbin", "usr/bin", "usr/sbin", "lib/modules", "proc", "sys", "dev", "etc",
              "scenarios", "tmp", "run", "var", "lib64"]:
        os.makedirs(os.path.join(ROOT, d), exist_ok=True)
    os.symlink("../run", os.path.join(ROOT, "var/run"))
    bb = "/bin/busybox"
    shutil.copy2(bb, os.path.join(ROOT, "bin/busybox"))
    ours = {os.path.basename(k) for k in HOST_BINARIES} | set(XTABLES_LINKS)
    applets = subprocess.run([bb, "--list-full"], capture_output=True, text=True).stdout.split()
    for a in applets:
        name = os.path.basename(a)
        if name in ours or name == "busybox":
            continue
        link = os.path.join(ROOT, a)
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if not os.path.lexists(link):
            os.symlink("/bin/busybox", link)
    for guest, host in HOST_BINARIES.items():
        if not os.path.exists(host):
            sys.exit(f"run.py: {host} is missing (run `make all`, or scripts/setup.sh)")
        copy_with_libs(host, guest)
    for name in XTABLES_LINKS:
        os.symlink("xtables-nft-multi", os.path.join(ROOT, "sbin", name))
    # iptables-nft loads its matches and targets as shared objects.
    xt = "/usr/lib/x86_64-linux-gnu/xtables"
    shutil.copytree(xt, os.path.join(ROOT, xt.lstrip("/")), dirs_exist_ok=True)
    for so in os.listdir(xt):
        for lib in libs_of(os.path.join(xt, so)):
            d = os.path.join(ROOT, lib.lstrip("/"))
            if not os.path.exists(d):
                os.makedirs(os.path.dirname(d), exist_ok=True)
                shutil.copy2(os.path.realpath(lib), d)
    with open(os.path.join(ROOT, "etc/passwd"), "w") as f:
        f.write("root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n")
    with open(os.path.join(ROOT, "etc/group"), "w") as f:
        f.write("root:x:0:\nnogroup:x:65534:\n")
    open(os.path.join(ROOT, "etc/protocols"), "w").write(
        "ip 0 IP\nicmp 1 ICMP\ntcp 6 TCP\nudp 17 UDP\nipv6-icmp 58 IPv6-ICMP\n")
    shutil.copy2(module, os.path.join(ROOT, "lib/modules/dockfw.ko"))
    if kmods:
        pack_kmods(kmods)
    shutil.copy2(os.path.join(TOP, "tests/qemu/guest/init"), os.path.join(ROOT, "init"))
    os.chmod(os.path.join(ROOT, "init"), 0o755)
    shutil.copy2(os.path.join(TOP, "tests/qemu/guest/lib.sh"), os.path.join(ROOT, "scenarios/lib.sh"))
    shutil.copy2(os.path.join(TOP, "tests/qemu/guest/docker.sh"), os.path.join(ROOT, "scenarios/docker.sh"))
    with open(os.path.join(ROOT, "scenarios/uapi.sh"), "w") as f:
        f.write(uapi_shell())
    # The guest runs /scenarios/NAME.sh (guest/init).
    for name in SCENARIOS:
        shutil.copy2(os.path.join(qemucheck.SCENARIO_DIR, name, "guest.sh"), os.path.join(ROOT, "scenarios", name + ".sh"))
    cpio = subprocess.Popen("find . -print0 | cpio --null -o -H newc --quiet | gzip -1",
                            shell=True, cwd=ROOT, stdout=open(IMAGE, "wb"))
    if cpio.wait() != 0:
        sys.exit("run.py: building the initramfs failed")


def container_rootfs_tar(path):
    """The image of the guest's containers, for `docker import`: the static
    busybox with its applets as links, and dfwprobe with its libraries."""
    import tarfile
    tmp = os.path.join(WORK, "container-rootfs")
    if os.path.exists(tmp):
        shutil.rmtree(tmp)
    for d in ["bin", "proc", "sys", "dev", "etc", "tmp", "run", "var"]:
        os.makedirs(os.path.join(tmp, d), exist_ok=True)
    shutil.copy2("/bin/busybox", os.path.join(tmp, "bin/busybox"))
    for a in subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True).stdout.split():
        if a != "busybox":
            os.symlink("busybox", os.path.join(tmp, "bin", a))
    copy_with_libs(os.path.join(TOP, "target/release/dfwprobe"), "/bin/dfwprobe", root=tmp)
    for name, text in [("passwd", "root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n"),
                       ("group", "root:x:0:\nnogroup:x:65534:\n"), ("hosts", ""), ("resolv.conf", ""),
                       ("hostname", "")]:
        open(os.path.join(tmp, "etc", name), "w").write(text)
    with tarfile.open(path, "w") as t:
        for entry in sorted(os.listdir(tmp)):
            t.add(os.path.join(tmp, entry), arcname=entry)
    shutil.rmtree(tmp)


def base_then(out):
    """Starts an image in `out` (a binary file) with the base image,
    padded for a second archive: the kernel looks for the next archive's
    magic at a 4-byte aligned offset; zeros between archives are skipped."""
    with open(IMAGE, "rb") as base:
        shutil.copyfileobj(base, out)
    out.write(b"\0" * (-out.tell() % 512))
    out.flush()


def build_docker_image():
    """The base image followed by the Docker payload as a second cpio
    archive, uncompressed: decompressing ~190 MB under TCG would cost more
    boot time than reading it."""
    if not os.path.exists(os.path.join(DOCKER_DEBS, "usr/sbin/dockerd")):
        sys.exit(f"run.py: {DOCKER_DEBS} has no dockerd (run scripts/setup.sh: it unpacks Debian's docker.io there)")
    if os.path.exists(DOCKER_ROOT):
        shutil.rmtree(DOCKER_ROOT)
    os.makedirs(os.path.join(DOCKER_ROOT, "docker"))
    payload, backend = ENGINE_ROWS[ENGINE]
    engine_root = None
    if payload:
        r = subprocess.run([os.path.join(TOP, "scripts/engines.sh"), payload], stdout=subprocess.PIPE, text=True)
        if r.returncode != 0:
            sys.exit(f"run.py: scripts/engines.sh {payload} failed")
        engine_root = r.stdout.strip().splitlines()[-1]
    for guest, deb in DOCKER_BINARIES.items():
        src = os.path.join(engine_root if engine_root and guest in ENGINE_BINARIES else DOCKER_DEBS, deb)
        copy_with_libs(src, guest, root=DOCKER_ROOT, have=ROOT)
    with open(os.path.join(DOCKER_ROOT, "docker/engine"), "w") as f:
        f.write(f"ENGINE={ENGINE}\nFIREWALL_BACKEND={backend}\n")
    container_rootfs_tar(os.path.join(DOCKER_ROOT, "docker/rootfs.tar"))
    with open(DOCKER_IMAGE, "wb") as out:
        base_then(out)
        cpio = subprocess.Popen("find . -print0 | cpio --null -o -H newc --quiet", shell=True,
                                cwd=DOCKER_ROOT, stdout=out)
        if cpio.wait() != 0:
            sys.exit("run.py: building the Docker payload failed")
    shutil.rmtree(DOCKER_ROOT)  # 200 MB, in the image now


# What the guest's cli.py imports: run on the host by the interpreter the
# payload packs, it loads cli.py's imports (its main() runs only as
# __main__) and the spec with its schema check (jsonschema's own imports),
# then prints every module file it loaded and the import path.
PY_RECORD = r"""
import json, runpy, sys
tools, spec, schema = sys.argv[1:4]
sys.path.insert(0, tools)
runpy.run_path(tools + "/cli.py")
from lib import SpecFamily
SpecFamily(spec, schema_path=schema)
files = sorted({m.__file__ for m in list(sys.modules.values()) if getattr(m, "__file__", None)})
print(json.dumps({"files": files, "path": [p for p in sys.path if p.startswith("/") and p != tools]}))
"""
# Never packed from a package: test suites, stubs, byte code for -O/-OO.
PY_SKIP_DIRS = {"test", "tests", "idle_test"}
PY_SKIP_FILES = re.compile(r"\.opt-[12]\.pyc$|\.pyi$")


def python_manifest():
    """{guest path: host path} of the Python payload. Standard library and
    site-packages are packed per top-level module or package: every package
    cli.py's imports touched, whole (a submodule imported later, lazily, is
    there too) but for tests; every plain module with its byte code. The
    interpreter and the extension modules come with the libraries ldd
    names that the base image (ROOT, built first) lacks, at their host
    paths (the interpreter finds its prefix from its own path, so the
    guest's sys.path is the host's); /usr/bin/python3 links to it. The
    ynl files go to /ynl (see the module docstring)."""
    import json
    tools = kernel_ynl.tools_dir()
    spec = os.path.join(TOP, "include/dockfw.yaml")
    proto = re.search(r"^protocol:\s*(\S+)", open(spec).read(), re.M).group(1)
    schema = kernel_ynl.schema(proto)
    exe = os.path.realpath(sys.executable)
    rec = subprocess.run([exe, "-E", "-c", PY_RECORD, tools, spec, schema], capture_output=True, text=True)
    if rec.returncode != 0:
        sys.exit(f"run.py: {exe} cannot load the kernel's cli.py with the spec (PyYAML and jsonschema: "
                 f"scripts/setup.sh installs them):\n{rec.stderr}")
    rec = json.loads(rec.stdout)
    files = {}
    tag = sys.implementation.cache_tag

    def add_module(path):
        if os.path.isdir(path):
            for d, dirs, names in os.walk(path):
                dirs[:] = sorted(x for x in dirs if x not in PY_SKIP_DIRS)
                for n in names:
                    if not PY_SKIP_FILES.search(n):
                        files[os.path.join(d, n)] = os.path.join(d, n)
            return
        files[path] = path
        stem, ext = os.path.splitext(os.path.basename(path))
        pyc = os.path.join(os.path.dirname(path), "__pycache__", f"{stem}.{tag}.pyc")
        if ext == ".py" and os.path.exists(pyc):
            files[pyc] = pyc

    roots = sorted(rec["path"], key=len, reverse=True)
    for f in rec["files"]:
        if f.startswith(tools + "/"):
            continue
        root = next((r for r in roots if f.startswith(r + "/")), None)
        if root is None:
            sys.exit(f"run.py: cli.py's import {f} is outside {exe}'s import path {rec['path']}")
        add_module(os.path.join(root, os.path.relpath(f, root).split("/")[0]))
    files[exe] = exe
    for elf in [exe] + [f for f in files if f.endswith(".so")]:
        for lib in libs_of(elf):
            for g in {lib, os.path.realpath(lib)}:
                # libc and the like: the base image (ROOT, unpacked first) has them.
                if not os.path.exists(os.path.join(ROOT, g.lstrip("/"))):
                    files[g] = os.path.realpath(lib)
    files[YNL_GUEST + "/cli.py"] = os.path.join(tools, "cli.py")
    for n in sorted(os.listdir(os.path.join(tools, "lib"))):
        if n.endswith(".py"):
            files[f"{YNL_GUEST}/lib/{n}"] = os.path.join(tools, "lib", n)
    files[f"{YNL_GUEST}/{proto}.yaml"] = schema
    files[f"{YNL_GUEST}/specs/dockfw.yaml"] = spec
    return files, exe


def is_elf(path):
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


def python_payload():
    """The Python payload's cpio archive (PYTHON_PAYLOAD), built again only
    when a file it packs changed (its path, size or mtime: the key). ELF
    files are packed without their debug sections (strip --strip-debug:
    pyenv's libpython alone carries 16 MiB of them). 21.7 MiB (702 files)
    for pyenv's CPython 3.11.7: libpython 6.2 MiB, standard library 8.4
    MiB (sources and byte code) and 2.4 MiB of its extension modules,
    site-packages 4.8 MiB (PyYAML with its libyaml extension, jsonschema
    and what it imports), libraries the base image lacks 1.5 MiB, /ynl
    0.2 MiB. Building it takes about 2 s, checking the cache under 1 s."""
    import hashlib
    import json
    files, exe = python_manifest()
    stats = sorted((g, h, os.stat(h).st_size, os.stat(h).st_mtime_ns) for g, h in files.items())
    key = hashlib.sha256(json.dumps(["v1", exe, stats]).encode()).hexdigest()
    keyfile = PYTHON_PAYLOAD + ".key"
    if os.path.exists(PYTHON_PAYLOAD) and os.path.exists(keyfile) and open(keyfile).read() == key:
        return False
    if os.path.exists(PYTHON_ROOT):
        shutil.rmtree(PYTHON_ROOT)
    for g, h in files.items():
        dst = os.path.join(PYTHON_ROOT, g.lstrip("/"))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if is_elf(h) and subprocess.run(["strip", "--strip-debug", "-o", dst, h]).returncode == 0:
            shutil.copystat(h, dst)
        else:
            shutil.copy2(h, dst)
    os.makedirs(os.path.join(PYTHON_ROOT, "usr/bin"), exist_ok=True)
    os.symlink(exe, os.path.join(PYTHON_ROOT, "usr/bin/python3"))
    # cli.py's own lib/ compiled here (the guest would compile it at every
    # run: / is writable, but each boot starts from the image).
    sh(exe, "-m", "compileall", "-q", os.path.join(PYTHON_ROOT, YNL_GUEST.lstrip("/"), "lib"))
    with open(PYTHON_PAYLOAD + ".tmp", "wb") as out:
        cpio = subprocess.Popen("find . -print0 | cpio --null -o -H newc --quiet", shell=True,
                                cwd=PYTHON_ROOT, stdout=out)
        if cpio.wait() != 0:
            sys.exit("run.py: building the Python payload failed")
    os.replace(PYTHON_PAYLOAD + ".tmp", PYTHON_PAYLOAD)
    open(keyfile, "w").write(key)
    shutil.rmtree(PYTHON_ROOT)
    return True


def build_python_image():
    """The base image followed by the Python payload."""
    built = python_payload()
    with open(PYTHON_IMAGE, "wb") as out:
        base_then(out)
        with open(PYTHON_PAYLOAD, "rb") as p:
            shutil.copyfileobj(p, out)
    return built


def is_docker(scenario):
    return scenario.startswith("docker_")


def needs(scenario):
    """What a scenario's image holds beyond the base one: "docker" (the
    docker_* scenarios), and what its check.py lists in NEEDS ("python")."""
    m = SCENARIOS.get(scenario)
    return ({"docker"} if is_docker(scenario) else set()) | set(getattr(m, "NEEDS", ()))


def image_for(scenario):
    n = needs(scenario)
    return DOCKER_IMAGE if "docker" in n else PYTHON_IMAGE if "python" in n else IMAGE


# Extra kernel command-line words (dfwdebug=1, dfwsize=...): unknown
# `key=value` parameters reach /init, and so the scenarios, as variables.
EXTRA_CMDLINE = []


# The emulated CPU under TCG: everything QEMU can emulate, except the two
# "fast string" features. With ERMS/FSRM advertised, the kernel's memcpy and
# memset (and glibc's) become `rep movsb`/`rep stosb`, which TCG executes one
# byte per loop iteration through its soft MMU: copying a 400-byte rule cost
# ~5 us, and memory-copy-heavy paths (rule uploads, skb copies, dockerd)
# looked 2-3x slower than their share of real hardware time. Without them
# the guest copies with wide moves, which TCG runs at its ordinary rate.
# Behaviour is unchanged (they are performance hints); see docs/benchmarks.md.
TCG_CPU = "max,-fsrm,-erms"


def qemu_cmd(kernel, scenario, accel):
    docker = is_docker(scenario)
    return ["qemu-system-x86_64", "-accel", accel, "-cpu", TCG_CPU if accel == "tcg" else "host",
            "-m", DOCKER_MEMORY if docker else "1024", "-smp", "2", "-nographic", "-no-reboot", "-net", "none",
            "-kernel", kernel, "-initrd", image_for(scenario),
            # no_timer_check: under TCG on a loaded host the IO-APIC timer
            # check can miss its ticks and panic ("IO-APIC + timer doesn't
            # work!"); the kernel skips it for virtual machines it knows.
            # no5lvl: 4-level paging even when the emulated CPU offers LA57.
            # With 5-level paging, 6.12's KASAN derives its shadow bounds
            # from the LA57 bit in boot_cpu_data, which identify_cpu()
            # clears and sets again at boot; an interrupt taking a lock in
            # that window is reported as a wild-memory-access
            # (handle_edge_irq -> do_raw_spin_lock from identify_cpu), a
            # false positive known upstream ("kasan: Fix false-positive
            # wild-memory-access on x86 under 5-level paging", LKML 2026-06).
            # The guest /init prints which paging mode it got; run.py checks.
            "-append", f"console=ttyS0 loglevel=4 panic=-1 oops=panic printk.devkmsg=on no_timer_check no5lvl dfwtest={scenario} " +
            # dockerd and its containers log more: keep the whole boot in the ring.
            ("log_buf_len=4M " if docker else "") + " ".join(EXTRA_CMDLINE)]


def boot(kernel, scenario, accel, timeout):
    start = time.time()
    try:
        p = subprocess.run(qemu_cmd(kernel, scenario, accel), capture_output=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        out = p.stdout.decode(errors="replace")
        timed_out = False
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace")
        timed_out = True
    return out, timed_out, time.time() - start


def pick_accel(kernel):
    """KVM only if a real boot works within a short time; TCG otherwise."""
    if os.environ.get("DOCKFW_ACCEL"):
        return os.environ["DOCKFW_ACCEL"]
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg"
    out, timed_out, _ = boot(kernel, "probe", "kvm", 20)
    return "kvm" if (not timed_out and "==DFW-SCENARIO-EXIT==" in out) else "tcg"


def timeouts():
    """Per-scenario guest time limits declared by the checks (`TIMEOUT`)."""
    return {n: m.TIMEOUT for n, m in SCENARIOS.items() if hasattr(m, "TIMEOUT")}


def stock_kernel_errors(out, release):
    """What a stock-kernel guest must show: it runs `release`, and every
    module /init preloaded is loaded."""
    errors = []
    m = re.search(r"^DFW-UNAME (\S+)", out, re.M)
    if not m or m.group(1) != release:
        errors.append(f"guest runs {m.group(1) if m else 'an unknown kernel'}, not {release}")
    failed = re.findall(r"^DFW-MODPROBE-FAILED (\S+)", out, re.M)
    if failed:
        errors.append(f"modprobe failed in the guest: {failed}")
    return errors


def taint_errors(out):
    m = re.search(r"^DFW-TAINTED (\d+)", out, re.M)
    if not m:
        return ["guest did not report /proc/sys/kernel/tainted"]
    bad = int(m.group(1)) & ~TAINT_ALLOWED
    return [f"kernel tainted {m.group(1)}: bits {bad:#x} beyond out-of-tree/unsigned"] if bad else []


def run(kernel, names, demo=False, module=None, timeout_scale=1.0, kmods=None, release=None):
    build_initramfs(module or os.path.join(TOP, "dockfw.ko"), kmods)
    if kmods:
        EXTRA_CMDLINE.append("dfwkmods=" + ",".join(KMODS_PRELOAD))
    if any(is_docker(n) for n in names):
        t0 = time.time()
        build_docker_image()
        print(f"qemu: Docker payload built in {time.time() - t0:.1f}s "
              f"({os.path.getsize(DOCKER_IMAGE) >> 20} MiB image)", flush=True)
    both = [n for n in names if needs(n) >= {"docker", "python"}]
    if both:
        sys.exit(f"run.py: {both} need both the Docker and the Python payload: one image holds one")
    if any("python" in needs(n) for n in names):
        t0 = time.time()
        built = build_python_image()
        print(f"qemu: Python payload {'built' if built else 'cached'} in {time.time() - t0:.1f}s "
              f"({os.path.getsize(PYTHON_PAYLOAD) / 2**20:.1f} MiB payload, "
              f"{os.path.getsize(PYTHON_IMAGE) / 2**20:.1f} MiB image)", flush=True)
    os.makedirs(LOGS, exist_ok=True)
    accel = pick_accel(kernel)
    print(f"qemu: accelerator {accel}", flush=True)
    passed = failed = 0
    for name in names:
        limit = timeouts().get(name, 120) * timeout_scale
        out, timed_out, secs = boot(kernel, name, accel, limit)
        if "DFW-PAGING" not in out and not splat_report(out):
            # /init never ran: the kernel hung or reset while booting,
            # before dockfw.ko was loaded (the scenario loads it), so no
            # code of ours was involved. Seen once in ~60 TCG boots of
            # Debian's stock kernel on a loaded host. Boot once more, and
            # say so; a second such boot fails the scenario. A boot that
            # printed a kernel report is never retried: the report fails it.
            print(f"NOTE {name}: the guest never reached /init in {secs:.0f}s "
                  f"(log tail: {out[-120:]!r}); booting it once more", flush=True)
            with open(os.path.join(LOGS, f"{name}.first-boot.log"), "w") as f:
                f.write(out)
            out, timed_out, secs = boot(kernel, name, accel, limit)
        with open(os.path.join(LOGS, f"{name}.log"), "w") as f:
            f.write(out)
        errors = []
        if timed_out:
            errors.append("guest timed out")
        g = qemucheck.GuestLog(out)
        if g.exit_code is None:
            errors.append("scenario did not finish (crash or hang?)")
        elif g.exit_code != 0:
            errors.append(f"guest script exited {g.exit_code}:\n" + g.script_tail())
        splat = splat_report(out)
        if splat:
            errors.append("kernel splat in guest log:\n    " + "\n    ".join(splat))
        if g.exit_code is not None:
            errors += taint_errors(out)
            if release:
                errors += stock_kernel_errors(out, release)
        if "DFW-PAGING 4-level" not in out:
            errors.append("guest did not report 4-level paging (no5lvl, see qemu_cmd): "
                          "its KASAN can report false wild-memory-accesses at boot")
        if g.exit_code == 0:
            try:
                SCENARIOS[name].check(g)
            except qemucheck.CheckFailed as e:
                errors.append(str(e))
            except Exception as e:  # a check that breaks fails its scenario, not the suite
                errors.append(f"check crashed: {e!r}")
        if demo:
            qemucheck.show_demo(g)
        status = "PASS" if not errors else "FAIL"
        print(f"{status} {name} ({secs:.1f}s, log {os.path.relpath(os.path.join(LOGS, name + '.log'), TOP)})", flush=True)
        for e in errors:
            print("    " + e.replace("\n", "\n    "))
        passed += not errors
        failed += bool(errors)
    print(f"qemu: {passed} passed, {failed} failed")
    return passed, failed


def sha256_of(path):
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernel", default=os.path.join(BUILD, "linux/arch/x86/boot/bzImage"))
    ap.add_argument("--demo", action="store_true", help="run the DNAT experiment and show its trace")
    ap.add_argument("--module", default=os.path.join(TOP, "dockfw.ko"), help="the dockfw.ko to pack")
    ap.add_argument("--debug", action="store_true",
                    help="debug kernel: dfwdebug=1 (rmmod + kmemleak scan after each scenario), longer timeouts")
    ap.add_argument("--size", default=os.environ.get("DOCKFW_ROBUST_SIZE", "small"), choices=["small", "full"],
                    help="robust_* scenario sizes (dfwsize=)")
    ap.add_argument("--kmods", help="a stock kernel's /lib/modules/KREL tree to pack (see the module docstring)")
    ap.add_argument("--release", help="the `uname -r` the guest must report (with --kmods)")
    ap.add_argument("--engine", default="docker-20.10", choices=list(ENGINE_ROWS),
                    help="the container engine of the docker_* scenarios (tests/engines.env)")
    ap.add_argument("scenarios", nargs="*", help="scenario names (default: all)")
    a = ap.parse_args()
    global ENGINE, DOCKER_IMAGE, LOGS
    ENGINE = a.engine
    if ENGINE != "docker-20.10":
        DOCKER_IMAGE = os.path.join(WORK, f"initramfs-{ENGINE}.cpio")
        LOGS = os.path.join(WORK, f"qemu-logs-{ENGINE}")
        print(f"qemu: engine {ENGINE}", flush=True)
    if not os.path.exists(a.module):
        sys.exit(f"run.py: module {a.module} not found")
    EXTRA_CMDLINE.append(f"dfwsize={a.size}")
    scale = 1.0
    if a.debug:
        EXTRA_CMDLINE.append("dfwdebug=1")
        scale *= 4
    if a.size == "full":
        scale *= 10
    names = a.scenarios or (["trace_dnat"] if a.demo else list(SCENARIOS))
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        sys.exit(f"run.py: unknown scenario(s) {unknown}; known: {list(SCENARIOS)}")
    if bool(a.kmods) != bool(a.release):
        sys.exit("run.py: --kmods and --release go together")
    if a.kmods:
        print(f"qemu: kernel {a.kernel} sha256 {sha256_of(a.kernel)}, release {a.release}", flush=True)
    passed, failed = run(a.kernel, names, a.demo, a.module, scale, a.kmods, a.release)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or not passed else 0)


if __name__ == "__main__":
    main()
