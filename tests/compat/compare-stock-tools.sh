#!/bin/bash
# Run tests/compat/stock-tools.sh once with the stock lvmetad and once with ours (same loop
# devices), normalise what legitimately differs between two runs, and diff the results.
#
# Usage:
#   REF=<stock LVM2 2.02.188 prefix> tests/compat/compare-stock-tools.sh [OUTDIR]
# Environment: DAEMON_A (default $REF/sbin/lvmetad), DAEMON_B (default
# target/release/lvmetad of this crate), UUID_MODE (passed on, default fixed).
# OUTDIR (default /tmp/lvmetad-stock-tools) gets a/ and b/ (raw) and a.norm/ b.norm/.
#
# Normalisation and comparison: compare-runs.py (UUIDs renumbered by order of appearance,
# creation_time/creation_host, daemon_pid, update_begin; daemon.log not compared).
# Exit status: 0 if everything compared equal (or skipped), 1 otherwise.

set -u
here=$(cd "$(dirname "$0")" && pwd)
[ -n "${REF:-}" ] || { echo "SKIP: REF (install prefix of the stock LVM2 2.02.188 tools) is not set"; exit 0; }
A=${DAEMON_A:-$REF/sbin/lvmetad}
B=${DAEMON_B:-$here/../../target/release/lvmetad}
OUT=${1:-/tmp/lvmetad-stock-tools}
rm -rf "$OUT/a" "$OUT/b" "$OUT/a.norm" "$OUT/b.norm"
mkdir -p "$OUT"

echo "== run A: $A"
res=$(DAEMON=$A "$here/stock-tools.sh" "$OUT/a") ; echo "$res"
case "$res" in SKIP:*) exit 0 ;; esac
LOOP_DEVS=$(tr '\n' ' ' < "$OUT/a/devices.txt")
echo "== run B: $B (devices $LOOP_DEVS)"
res=$(LOOP_DEVS=$LOOP_DEVS DAEMON=$B "$here/stock-tools.sh" "$OUT/b") ; echo "$res"
case "$res" in SKIP:*) echo "run B skipped: $res"; exit 1 ;; esac

python3 "$here/compare-runs.py" "$OUT" a b
rc=$?
[ $rc = 0 ] || diff -r "$OUT/a.norm" "$OUT/b.norm" | head -200
exit $rc
