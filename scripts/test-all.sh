#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The whole test suite: host unit tests (cargo test over the module's pure
# files and dockfwctl), then each QEMU suite asked for, and the combined
# `N passed, N failed` last; fails if anything failed or nothing ran.
#
#   scripts/test-all.sh [SUITE...]
#
# A SUITE is `LABEL:RUN_PY_ARGS`, e.g.
#   "qemu:--kernel build/linux/arch/x86/boot/bzImage"
#   "debug:--kernel K --module build/dockfw-debug.ko --debug robust_packets"
# (arguments split on spaces), or `LABEL=COMMAND`, a test program of its own
# that ends with `N passed, N failed` (scripts/debian/dkms-test.sh). A
# suite that exits non-zero counts as failed even if its summary line says
# otherwise, and one that prints no summary counts one failure: no path
# through here is silent.
set -uo pipefail
cd "$(dirname "$0")/.."
# The older form, KERNEL [DEBUG_KERNEL DEBUG_KO] (with DEBUG_SCENARIOS),
# still works: it names the same two suites.
if [ $# -gt 0 ] && [[ $1 != *:* ]]; then
	set -- "qemu:--kernel $1" ${2:+"debug:--kernel $2 --module $3 --debug ${DEBUG_SCENARIOS:-}"}
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --locked -p dockfw-host-tests -p dockfwctl -p dockfw-uapi 2>&1 | tee "$log"
host_rc=${PIPESTATUS[0]}
tp=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
tf=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
[ "$host_rc" = 0 ] || [ "$tf" -gt 0 ] || tf=1
echo "host: $tp passed, $tf failed"
summary="host $tp/$tf"
for suite in "$@"; do
	if [[ $suite =~ ^[a-z0-9-]+= ]]; then
		label=${suite%%=*}
		# shellcheck disable=SC2086 # a command line, split on spaces
		${suite#*=} 2>&1 | tee "$log"
	else
		label=${suite%%:*}
		# shellcheck disable=SC2086 # the suite's arguments, split on spaces
		python3 tests/qemu/run.py ${suite#*:} 2>&1 | tee "$log"
	fi
	rc=${PIPESTATUS[0]}
	s=$(grep -E '^([a-z]+: )?[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1 | sed 's/^[a-z]*: //')
	sp=$(echo "$s" | awk '{print $1}'); sf=$(echo "$s" | awk '{print $3}')
	if [ -z "$sp" ]; then
		sp=0; sf=1; echo "$label: no result line (exit $rc)"
	elif [ "$rc" != 0 ] && [ "$sf" = 0 ]; then
		sf=1; echo "$label: exited $rc although it reported no failure"
	fi
	echo "$label: $sp passed, $sf failed"
	summary="$summary, $label $sp/$sf"
	tp=$((tp + sp)); tf=$((tf + sf))
done
echo "suites (passed/failed): $summary"
echo "total: $tp passed, $tf failed"
[ "$tf" = 0 ] && [ "$tp" -gt 0 ]
