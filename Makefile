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
# KDIR may point at any Rust-enabled kernel tree; by default the project
# builds and caches its own test kernel in build/linux.

KDIR ?= $(CURDIR)/build/linux
OWN_KERNEL := $(filter $(CURDIR)/build/linux,$(KDIR))
CARGO ?= cargo

.PHONY: all setup kernel module ctl tools demo test host-test qemu-test bench fuzz clean \
	kernel-debug module-debug test-debug

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
	@rm -rf build/debug-src && mkdir -p build/debug-src
	@find Kbuild src include \( -name '*.rs' -o -name '*.c' -o -name '*.h' -o -name Kbuild \) \
		! -name bindings_generated.rs | cpio -pdm --quiet build/debug-src
	$(MAKE) -C $(DEBUG_KDIR) M=$(CURDIR)/build/debug-src LLVM=1 modules
	cp build/debug-src/dockfw.ko $(DEBUG_KO)

test-debug: module-debug ctl tools
	python3 tests/qemu/run.py --kernel $(DEBUG_KDIR)/arch/x86/boot/bzImage --module $(DEBUG_KO) --debug

ctl: setup
	$(CARGO) build --release --locked -p dockfwctl

tools: setup
	$(CARGO) build --release --locked -p dfwprobe

host-test: setup
	$(CARGO) test --locked -p dockfw-host-tests -p dockfwctl

qemu-test: all
	python3 tests/qemu/run.py --kernel $(KDIR)/arch/x86/boot/bzImage

# The debug kernel (see test-debug) runs in `make test`, and so in CI, at a
# reduced size: DEBUG=subset (the default) runs there the scenarios that
# stress the module's own lifecycle, netlink input, packet parsing and
# concurrency; DEBUG=1 the whole suite (about 85 minutes on 2 cores); DEBUG=0 none.
DEBUG ?= subset
DEBUG_SUBSET := filter_bad_input robust_nl_fuzz robust_packets robust_replace robust_modload hooks_on_demand
ifneq ($(filter 1 subset,$(DEBUG)),)
test: all module-debug
	@DEBUG_SCENARIOS="$(if $(filter subset,$(DEBUG)),$(DEBUG_SUBSET))" \
		scripts/test-all.sh $(KDIR)/arch/x86/boot/bzImage $(DEBUG_KDIR)/arch/x86/boot/bzImage $(DEBUG_KO)
else
test: all
	@scripts/test-all.sh $(KDIR)/arch/x86/boot/bzImage
endif

demo: all
	python3 tests/qemu/run.py --kernel $(KDIR)/arch/x86/boot/bzImage --demo

bench: all
	python3 tests/bench/bench.py --kernel $(KDIR)/arch/x86/boot/bzImage

fuzz: setup
	@scripts/fuzz.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=1 clean
	rm -rf target build/initramfs* build/qemu-logs
