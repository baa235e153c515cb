#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs each fuzz target for FUZZ_SECONDS (default 60) with cargo-fuzz, which
# it installs (pinned) when missing. The stable toolchain is allowed the
# nightly-only sanitizer flags with RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")/../tests/fuzz"
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz --version 0.12.0
export RUSTC_BOOTSTRAP=1
for t in rule_syntax packet matcher; do
  echo "fuzz: $t for ${FUZZ_SECONDS:-60} s"
  cargo fuzz run --fuzz-dir "$PWD" "$t" -- -max_total_time="${FUZZ_SECONDS:-60}" -max_len=2048
done
