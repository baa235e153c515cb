#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Kernel-side mutation testing: each mutant is dockfw.ko built with one
# deliberate break (Kbuild DOCKFW_MUTANT=NAME, a `dockfw_mutant` cfg in the
# source; tagged `modinfo dockfw_mutant=NAME`), booted with the scenarios
# that should notice. A mutant is caught when at least one of them fails.
# First, the shipped build is checked to carry no mutant tag.
# Prints `mutants: N passed, N failed` (passed = caught) and fails if any
# mutant survived.
#
#   scripts/mutants-kernel.sh [KDIR]      default build/linux
set -uo pipefail
cd "$(dirname "$0")/.."
KDIR=${1:-build/linux}
KERNEL=$KDIR/arch/x86/boot/bzImage
# NAME: scenarios that must catch it (what the break means is at its
# `dockfw_mutant` site in src/).
declare -A MUTANTS=(
  [ignore_orig]="filter_published_port"          # rules blind to conntrack's original tuple
  [first_rule_only]="filter_published_port"      # every rule but the first ignored
  [count_nothing]="filter_replace_counters"      # per-rule counters never count
  [policy_accept]="hooks_on_demand"              # the drop policy accepts
  [skip_netns]="netns_lifecycle"                 # a namespace created after load gets no hooks
)
caught=0 missed=0
tag=$(modinfo -F dockfw_mutant dockfw.ko 2>/dev/null)
if [ -f dockfw.ko ] && [ -z "$tag" ]; then
  echo "PASS mutants: the shipped dockfw.ko carries no mutant"; caught=$((caught + 1))
else
  echo "FAIL mutants: dockfw.ko missing or tagged dockfw_mutant='$tag'"; missed=$((missed + 1))
fi
W=build/mutants
for m in $(echo "${!MUTANTS[@]}" | tr ' ' '\n' | sort); do
  rm -rf "$W/$m"
  scripts/module-src.sh "$W/$m/src"
  if ! make -s -C "$KDIR" M="$PWD/$W/$m/src" LLVM=1 DOCKFW_MUTANT="$m" modules > "$W/$m/build.log" 2>&1; then
    echo "FAIL mutant $m: did not build"; tail -5 "$W/$m/build.log"; missed=$((missed + 1)); continue
  fi
  ko=$W/$m/src/dockfw.ko
  if [ "$(modinfo -F dockfw_mutant "$ko")" != "$m" ]; then
    echo "FAIL mutant $m: the build is not tagged as that mutant"; missed=$((missed + 1)); continue
  fi
  # shellcheck disable=SC2086 # the scenario list
  DOCKFW_QEMU_WORK=$PWD/$W/$m/work python3 tests/qemu/run.py --kernel "$KERNEL" --module "$ko" ${MUTANTS[$m]} \
    > "$W/$m/run.log" 2>&1
  failed=$(grep -E '^FAIL ' "$W/$m/run.log" | awk '{print $2}' | tr '\n' ' ')
  if [ -n "$failed" ]; then
    echo "PASS mutant $m: caught by $failed"; caught=$((caught + 1))
  else
    echo "FAIL mutant $m: survived ${MUTANTS[$m]}"; missed=$((missed + 1))
  fi
done
echo "mutants: $caught passed, $missed failed"
[ "$missed" = 0 ]
