# SPDX-License-Identifier: GPL-2.0
# dockfw top-level Makefile.
#   make demo   build everything, boot QEMU, run the DNAT experiment, show the trace
#   make test   host unit tests + the QEMU scenario suite
#   make bench  benchmarks (see docs/benchmarks.md)
#   make fuzz   fuzz the rule parser, the packet parser and the matcher
# KDIR may point at any Rust-enabled kernel tree; by default the project
# builds and caches its own test kernel in build/linux.

KDIR ?= $(CURDIR)/build/linux
OWN_KERNEL := $(filter $(CURDIR)/build/linux,$(KDIR))
CARGO ?= cargo

.PHONY: all setup kernel module ctl tools demo test host-test qemu-test bench fuzz clean

all: module ctl tools

setup:
	@scripts/setup.sh

kernel: setup
ifneq ($(OWN_KERNEL),)
	@scripts/build-kernel.sh
endif

module: kernel
	$(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=1 modules

ctl: setup
	$(CARGO) build --release --locked -p dockfwctl

tools: setup
	$(CARGO) build --release --locked -p dfwprobe

host-test: setup
	$(CARGO) test --locked -p dockfw-host-tests -p dockfwctl

qemu-test: all
	python3 tests/qemu/run.py --kernel $(KDIR)/arch/x86/boot/bzImage

test: all
	@scripts/test-all.sh $(KDIR)/arch/x86/boot/bzImage

demo: all
	python3 tests/qemu/run.py --kernel $(KDIR)/arch/x86/boot/bzImage --demo

fuzz: setup
	@scripts/fuzz.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=1 clean
	rm -rf target build/initramfs* build/qemu-logs
