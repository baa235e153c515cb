#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs each fuzz target with cargo-fuzz, which it installs (pinned) when
# missing. The stable toolchain is allowed the nightly-only sanitizer flags
# with RUSTC_BOOTSTRAP=1.
#
#   scripts/fuzz.sh                    FUZZ_SECONDS (default 60) per target
#   FUZZ_RUNS=100000 scripts/fuzz.sh   a fixed number of inputs from a fixed
#                                      seed (1) per target: what `make test`
#                                      runs, a few seconds each
#
# Prints `fuzz: N passed, N failed` last (a target fails when libFuzzer
# finds a crash, a panic or an assertion, i.e. exits non-zero).
set -uo pipefail
cd "$(dirname "$0")/../tests/fuzz"
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz --version 0.12.0 || exit 1
export RUSTC_BOOTSTRAP=1
if [ -n "${FUZZ_RUNS:-}" ]; then
  limit=(-runs="$FUZZ_RUNS" -seed=1)
else
  limit=(-max_total_time="${FUZZ_SECONDS:-60}")
fi
pass=0 fail=0
for t in rule_syntax packet matcher reference; do
  echo "fuzz: $t (${limit[*]})"
  if cargo fuzz run --fuzz-dir "$PWD" "$t" -- "${limit[@]}" -max_len=2048 > "/tmp/dockfw-fuzz-$t.log" 2>&1; then
    pass=$((pass + 1)); echo "PASS fuzz $t: $(grep -E '^Done [0-9]+ runs' "/tmp/dockfw-fuzz-$t.log" | tail -1)"
  else
    fail=$((fail + 1)); echo "FAIL fuzz $t:"; tail -30 "/tmp/dockfw-fuzz-$t.log"
  fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" = 0 ]
