#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Kernel-side mutation testing: each mutant is dockfw.ko built with one
# deliberate break (Kbuild DOCKFW_MUTANT=NAME, a `dockfw_mutant` cfg in the
# source; tagged `modinfo dockfw_mutant=NAME`), booted with the scenarios
# that should notice. A mutant is caught when one of them fails with the
# message expected of that break.
# First, the shipped build is checked to carry no mutant tag.
# Prints `mutants: N passed, N failed` (passed = caught) and fails if any
# mutant survived.
#
#   scripts/mutants-kernel.sh [KDIR]      default build/linux
set -uo pipefail
cd "$(dirname "$0")/.."
KDIR=${1:-build/linux}
KERNEL=$KDIR/arch/x86/boot/bzImage
# NAME: "SCENARIOS|REASON": the scenarios that must catch it, and what their
# failure must say (an extended regular expression over the failed checks'
# messages), so that a mutant is caught for the reason it was made, not by a
# scenario that failed for another (a hang, a flaky peer). What each break
# means is at its `dockfw_mutant` site in src/.
declare -A MUTANTS=(
  # rules blind to conntrack's original tuple: the orig-dport drop misses
  [ignore_orig]="filter_published_port|^    refused: expected the connection to be dropped"
  # every rule but the first ignored: the same drop rule (not first) misses
  [first_rule_only]="filter_published_port|^    refused: expected the connection to be dropped"
  # per-rule counters never count
  [count_nothing]="filter_replace_counters|^    counters 0 packets / 0 bytes, want [1-9]"
  # the drop policy accepts
  [policy_accept]="hooks_on_demand|^    drop_c1_to_c2: expected the connection to be dropped"
  # a namespace created after load gets no hooks
  [skip_netns]="netns_lifecycle|^    hooks seen in the late namespace: \\[\\]"
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
  scenarios=${MUTANTS[$m]%%|*} reason=${MUTANTS[$m]#*|}
  # shellcheck disable=SC2086 # the scenario list
  DOCKFW_QEMU_WORK=$PWD/$W/$m/work python3 tests/qemu/run.py --kernel "$KERNEL" --module "$ko" $scenarios \
    > "$W/$m/run.log" 2>&1
  failed=$(grep -E '^FAIL ' "$W/$m/run.log" | awk '{print $2}' | tr '\n' ' ')
  if [ -z "$failed" ]; then
    echo "FAIL mutant $m: survived $scenarios"; missed=$((missed + 1))
  elif grep -qE "$reason" "$W/$m/run.log"; then
    echo "PASS mutant $m: caught by $failed($(grep -E "$reason" "$W/$m/run.log" | head -1 | sed 's/^ *//'))"
    caught=$((caught + 1))
  else
    echo "FAIL mutant $m: $failed failed, but not saying /$reason/:"
    grep -A3 '^FAIL ' "$W/$m/run.log" | head -8; missed=$((missed + 1))
  fi
done
echo "mutants: $caught passed, $missed failed"
[ "$missed" = 0 ]
