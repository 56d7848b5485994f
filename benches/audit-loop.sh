#!/usr/bin/env bash
# Benchmark: lvmetad-audit of N PVs on loop devices (half of them in VGs of 8 PVs) vs
# lvmetad-pvscan --cache of the same devices, same run, same daemon (ours unless DAEMON is
# given), alternating, ROUNDS rounds each, on a consistent cache; prints the median wall
# times and the ratio, and checks that every audit exited 0. Needs root, REF (a stock
# LVM2 2.02.188 prefix, used to create the PVs) and N free loop devices.
#   REF=/path N=900 ROUNDS=5 benches/audit-loop.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
[ -n "${REF:-}" ] || { echo "SKIP: set REF"; exit 0; }
N=${N:-900}; ROUNDS=${ROUNDS:-5}
work=$(mktemp -d /tmp/audit-bench.XXXXXX)
loops=(); dpid=
cleanup() {
    [ -n "$dpid" ] && kill $dpid 2>/dev/null; wait 2>/dev/null || true
    for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
. "$top/benches/loops.sh"
bench_loops "$work" "$N"
bench_conf "$work"
export LVM_SYSTEM_DIR=$work/etc LVM_SUPPRESS_FD_WARNINGS=1 LC_ALL=C LVM_LVMETAD_SOCKET=$work/s
daemon=${DAEMON:-$top/target/release/lvmetad}
"$daemon" -f -s "$work/s" -p "$work/p" 2>/dev/null & dpid=$!
for _ in $(seq 100); do [ -S "$work/s" ] && break; sleep 0.05; done
"$REF/sbin/lvm" pvcreate -q $(for i in $(seq 0 $((N-1))); do echo "$work/dev/pv$i"; done) >/dev/null 2>&1
half=$((N/2)); g=0
for start in $(seq 0 8 $((half-8))); do
    "$REF/sbin/lvm" vgcreate -q vg$g $(for i in $(seq $start $((start+7))); do echo "$work/dev/pv$i"; done) >/dev/null 2>&1
    g=$((g+1))
done
"$top/target/release/lvmetad-pvscan" --cache >/dev/null 2>&1
ms() { local a b; a=$(date +%s%N); "$@" >/dev/null 2>&1 || echo "rc=$? from $*" >> "$work/rcs"; b=$(date +%s%N); echo $(( (b-a)/1000000 )); }
scan_t=(); audit_t=()
for r in $(seq $ROUNDS); do
    scan_t+=($(ms "$top/target/release/lvmetad-pvscan" --cache))
    audit_t+=($(ms "$top/target/release/lvmetad-audit"))
done
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms_=$(med "${scan_t[@]}"); ma=$(med "${audit_t[@]}")
echo "devices=$N vgs=$g rounds=$ROUNDS daemon=$daemon"
echo "  lvmetad-pvscan --cache : median ${ms_} ms  (all: ${scan_t[*]})"
echo "  lvmetad-audit          : median ${ma} ms  (all: ${audit_t[*]})"
echo "  ratio audit/pvscan     : $(echo "scale=3; $ma / $ms_" | bc)"
if [ -s "$work/rcs" ]; then echo "  FAILED runs:"; cat "$work/rcs"; exit 1; fi
echo "  every run exited 0"
