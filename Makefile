# SPDX-License-Identifier: GPL-2.0
# dockfw top-level Makefile.
#   make demo   build everything, boot QEMU, run the DNAT experiment, show the trace
#   make test   host unit tests + the QEMU scenario suite + the module-stressing
#               scenarios on the debug kernel (DEBUG=0: without them, DEBUG=1:
#               the whole suite there too)
#   make test-debug  the QEMU suite on the debug kernel (KASAN, lockdep,
#               kmemleak...: tests/kernel-debug.config) with build/dockfw-debug.ko
#   make bench  benchmarks (see docs/benchmarks.md)
#   make fuzz   fuzz the rule parser, the packet parser and the matcher
#               (FUZZ_SECONDS per target; make test runs them briefly)
#   make mutants-kernel  deliberate breaks of the module, each must be caught
#   make demo KERNEL=debian, make test KERNEL=debian
#               the same on Debian 13's own, unmodified 7.3 kernel
#               (trixie-backports): its packages fetched and unpacked, the
#               module built in a Debian 13 root with the kernel's own tool
#               chain (scripts/debian/), the whole suite booted on its vmlinuz
# KDIR may point at any Rust-enabled kernel tree; by default the project
# builds and caches its own test kernel in build/linux.

KDIR ?= $(CURDIR)/build/linux
OWN_KERNEL := $(filter $(CURDIR)/build/linux,$(KDIR))
CARGO ?= cargo

.PHONY: all setup kernel module ctl tools demo test host-test qemu-test bench fuzz clean regen \
	kernel-debug module-debug test-debug debian test-debian test-engines mutants-kernel mutants

all: module ctl tools

setup:
	@scripts/setup.sh

kernel: setup
ifneq ($(OWN_KERNEL),)
	@scripts/build-kernel.sh
endif

module: kernel
	$(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=1 modules

# The debug kernel (build/linux-debug) and the module built against it. The
# module is built in a copy of its sources (build/debug-src), so the work
# tree's dockfw.ko and objects stay those of the normal kernel.
DEBUG_KDIR := $(CURDIR)/build/linux-debug
DEBUG_KO := $(CURDIR)/build/dockfw-debug.ko

kernel-debug: setup
	@scripts/build-kernel.sh tests/kernel-debug.config

module-debug: kernel-debug
	@scripts/module-src.sh build/debug-src
	$(MAKE) -C $(DEBUG_KDIR) M=$(CURDIR)/build/debug-src LLVM=1 modules
	cp build/debug-src/dockfw.ko $(DEBUG_KO)

test-debug: module-debug ctl tools
	python3 tests/qemu/run.py --kernel $(DEBUG_KDIR)/arch/x86/boot/bzImage --module $(DEBUG_KO) --debug

ctl: setup
	$(CARGO) build --release --locked -p dockfwctl

tools: setup
	$(CARGO) build --release --locked -p dfwprobe

host-test: setup
	$(CARGO) test --locked -p dockfw-host-tests -p dockfwctl -p dockfw-uapi

qemu-test: all
	python3 tests/qemu/run.py --kernel $(KDIR)/arch/x86/boot/bzImage

# Debian 13's stock kernel (scripts/debian/versions.env pins it): its
# vmlinuz and modules unpacked, and build/dockfw-debian.ko built against it
# (scripts/debian/kernel.sh; first run about 8 minutes: the Debian 13 root,
# the packages, the Rust metadata; then seconds).
DEBIAN_KREL := $(shell sed -n 's/^DEB_KREL=//p' scripts/debian/versions.env)
DEBIAN_RUN := --kernel $(CURDIR)/build/debian-vmlinuz --module $(CURDIR)/build/dockfw-debian.ko \
	--kmods $(CURDIR)/build/debian-modules --release $(DEBIAN_KREL)

debian: setup
	@scripts/debian/kernel.sh

# The suites `make test` runs. The debug kernel (see test-debug) runs at a
# reduced size: DEBUG=subset (the default) runs there the scenarios that
# stress the module's own lifecycle, netlink input, packet parsing and
# concurrency; DEBUG=1 the whole suite (about 85 minutes on 2 cores); DEBUG=0
# none. Debian's stock kernel likewise: DEBIAN=subset (the default) runs
# one scenario of each kind there (trace, filter, stream, hooks, robustness;
# real Docker in the engine slice below), DEBIAN=1 all of them (`make test KERNEL=debian` runs only
# those, with the host tests), DEBIAN=0 none.
DEBUG ?= subset
DEBUG_SUBSET := filter_bad_input robust_nl_fuzz robust_packets robust_replace robust_modload hooks_on_demand
DEBIAN ?= subset
DEBIAN_SUBSET := trace_dnat filter_published_port filter_userland_proxy filter_bad_input filter_nft_oracle stream_dnat \
	hooks_on_demand robust_modload
SUITE_OWN := "qemu:--kernel $(KDIR)/arch/x86/boot/bzImage"
SUITE_DEBUG := "debug:--kernel $(DEBUG_KDIR)/arch/x86/boot/bzImage --module $(DEBUG_KO) --debug \
	$(if $(filter subset,$(DEBUG)),$(DEBUG_SUBSET))"
SUITE_DEBIAN := "debian:$(DEBIAN_RUN) $(if $(filter subset,$(DEBIAN)),$(DEBIAN_SUBSET))"
# The DKMS path (scripts/debian/dkms-test.sh: the two packages installed in
# the Debian 13 root, dkms build/install for Debian's kernel, signature,
# refusals), then the module dkms built and signed, booted on Debian's kernel.
SUITE_DKMS := "dkms=scripts/debian/dkms-test.sh" \
	"debian-dkms:$(subst dockfw-debian.ko,dockfw-dkms.ko,$(DEBIAN_RUN)) trace_dnat filter_published_port"

# The engine matrix (tests/engines.env; scripts/engines.sh fetches the
# engines from Debian's trixie and forky): the docker_* scenarios against
# each engine row, on Debian 13's stock kernel (it has every netfilter
# module the engines load). `make test` runs a representative slice,
# ENGINES=slice (the default: docker_published_port on every row: the
# published port from outside, the engine's own user rule shown failing,
# dockfw's rule holding, the hook order of request and reply); ENGINES=1
# every docker_* scenario on every row (`make test-engines`); ENGINES=0 none.
ENGINES ?= slice
ENGINE_ROWS := $(shell sed -n 's/^ENGINE_ROWS="\(.*\)"/\1/p' tests/engines.env)
ENGINE_SCENARIOS := docker_published_port docker_userland_proxy docker_named docker_ip_change docker_bridge
SUITE_ENGINES = $(foreach r,$(ENGINE_ROWS),"engine-$(r):$(DEBIAN_RUN) --engine $(r) \
	$(if $(filter slice,$(ENGINES)),docker_published_port,$(ENGINE_SCENARIOS))")

# Kernel-side mutation testing (scripts/mutants-kernel.sh): five deliberate
# breaks of the module, each built and booted with the scenarios that must
# notice; about 2 minutes. `make test` runs it too (MUTANTS=0 skips it).
MUTANTS ?= 1
SUITE_MUTANTS := "mutants=scripts/mutants-kernel.sh $(KDIR)"
# The fuzz targets, briefly and reproducibly (100 000 inputs each from seed
# 1, seconds once built; the first run installs cargo-fuzz, about 2 minutes).
SUITE_FUZZ := "fuzz=env FUZZ_RUNS=100000 scripts/fuzz.sh"
# include/dockfw.yaml loaded by the kernel's own YNL library, the files
# generated from it checked fresh, a rule and an event decoded by the
# kernel's YNL (scripts/ynl-check.py). `make regen` rewrites the generated
# files after a spec change (scripts/ynl-gen.py).
SUITE_YNL := "ynl=python3 scripts/ynl-check.py"

regen:
	python3 scripts/ynl-gen.py

mutants-kernel: all
	@scripts/mutants-kernel.sh $(KDIR)

# Host-side mutation testing: cargo-mutants (pinned) over the pure core (the
# crate dockfw-pure, src/pure: model.rs, packet.rs, rules.rs, rule_syntax.rs,
# dmesg_filter.rs: 693 mutants) and what the host tests compile of the module
# besides (src/ruleset.rs, against tests/host/kernel-shim), every mutant
# judged by the host tests; report in
# mutants.out/. All of it takes over an hour on 2 cores, so it is not part
# of `make test`; MUTANTS_ARGS narrows it, e.g.
#   make mutants MUTANTS_ARGS="--file src/pure/rules.rs"
# (cargo-mutants 27.1 runs its unmutated baseline with the tests of the
# packages it mutates: narrowed to src/pure files, that is dockfw-pure's,
# none, so check `make host-test` passes first; every mutant is still
# judged by the host tests.)
mutants: setup
	@command -v cargo-mutants >/dev/null || cargo install --locked cargo-mutants --version 27.1.0
	cargo mutants --package dockfw-pure --package dockfw-host-tests --test-package dockfw-host-tests \
		-j 2 --timeout 120 $(MUTANTS_ARGS)

ifeq ($(KERNEL),debian)
test: ctl tools debian
	@scripts/test-all.sh "debian:$(DEBIAN_RUN)" $(SUITE_DKMS)

demo: ctl tools debian
	python3 tests/qemu/run.py $(DEBIAN_RUN) --demo
else
test: all $(if $(filter 1 subset,$(DEBUG)),module-debug) $(if $(filter 1 subset,$(DEBIAN)),debian) \
		$(if $(filter 1 slice,$(ENGINES)),debian)
	@scripts/test-all.sh $(SUITE_OWN) \
		$(if $(filter 1 subset,$(DEBUG)),$(SUITE_DEBUG)) \
		$(if $(filter 1 subset,$(DEBIAN)),$(SUITE_DEBIAN) $(SUITE_DKMS)) \
		$(if $(filter 1 slice,$(ENGINES)),$(SUITE_ENGINES)) \
		$(if $(filter 1,$(MUTANTS)),$(SUITE_MUTANTS)) $(SUITE_FUZZ) $(SUITE_YNL)

demo: all
	python3 tests/qemu/run.py --kernel $(KDIR)/arch/x86/boot/bzImage --demo
endif

test-debian:
	$(MAKE) test KERNEL=debian

# Every docker_* scenario against every engine row (ENGINES=1), with the
# host tests.
test-engines: ctl tools debian
	@scripts/test-all.sh $(SUITE_ENGINES)
test-engines: ENGINES = 1

bench: all
	python3 tests/bench/bench.py --kernel $(KDIR)/arch/x86/boot/bzImage

fuzz: setup
	@scripts/fuzz.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=1 clean
	rm -rf target build/initramfs* build/qemu-logs
