#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The whole test suite: host unit tests (cargo test over the module's pure
# files and dockfwctl), then the QEMU scenario suite, then (given a debug
# kernel and module) scenarios on the debug kernel: all of them, or the
# names in DEBUG_SCENARIOS. Prints the combined `N passed, N failed` last
# and fails if anything failed or nothing ran.
#
#   scripts/test-all.sh KERNEL [DEBUG_KERNEL DEBUG_KO]
set -uo pipefail
cd "$(dirname "$0")/.."
KERNEL=${1:-build/linux/arch/x86/boot/bzImage}
log=$(mktemp)
cargo test --locked -p dockfw-host-tests -p dockfwctl 2>&1 | tee "$log"
host_rc=${PIPESTATUS[0]}
hp=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
hf=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
[ "$host_rc" = 0 ] || [ "$hf" -gt 0 ] || hf=1
echo "host: $hp passed, $hf failed"
python3 tests/qemu/run.py --kernel "$KERNEL" 2>&1 | tee "$log"
q=$(grep -E '^qemu: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
qp=$(echo "$q" | awk '{print $2}'); qf=$(echo "$q" | awk '{print $4}')
[ -n "$qp" ] || { qp=0; qf=1; echo "qemu suite did not report a result"; }
dp=0; df=0
if [ -n "${2:-}" ]; then
	# shellcheck disable=SC2086 # a list of names
	python3 tests/qemu/run.py --kernel "$2" --module "$3" --debug ${DEBUG_SCENARIOS:-} 2>&1 | tee "$log"
	d=$(grep -E '^qemu: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	dp=$(echo "$d" | awk '{print $2}'); df=$(echo "$d" | awk '{print $4}')
	[ -n "$dp" ] || { dp=0; df=1; echo "debug qemu suite did not report a result"; }
	echo "debug: $dp passed, $df failed"
fi
rm -f "$log"
tp=$((hp + qp + dp)); tf=$((hf + qf + df))
echo "total: $tp passed, $tf failed"
[ "$tf" = 0 ] && [ "$tp" -gt 0 ]
