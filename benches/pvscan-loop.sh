#!/usr/bin/env bash
# Benchmark: full `pvscan --cache` over N loop devices with PVs on them (half of them in
# VGs of 8 PVs), LVM2 2.02.188's `lvm pvscan --cache` vs our `lvmetad-pvscan --cache`,
# same run, same daemon (the stock lvmetad unless DAEMON is given), alternating, ROUNDS
# rounds each; prints median wall times and the ratio. Needs root, REF (stock LVM2
# 2.02.188 prefix, used to create the PVs and as the baseline) and N free loop devices.
#   REF=/path N=256 ROUNDS=5 benches/pvscan-loop.sh
# BASE=/path/to/another/lvmetad-pvscan adds that build (e.g. an older commit's) to the
# same alternating rounds, to compare two of our builds.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
[ -n "${REF:-}" ] || { echo "SKIP: set REF"; exit 0; }
N=${N:-256}; ROUNDS=${ROUNDS:-5}
work=$(mktemp -d /tmp/pvscan-bench.XXXXXX)
loops=(); dpid=
cleanup() {
    [ -n "$dpid" ] && kill $dpid 2>/dev/null; wait 2>/dev/null || true
    for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
. "$top/benches/loops.sh"
t0=$(date +%s.%N)
bench_loops "$work" "$N"
echo "attached $N loop devices in $(echo "$(date +%s.%N) - $t0" | bc) s"
bench_conf "$work"
export LVM_SYSTEM_DIR=$work/etc LVM_SUPPRESS_FD_WARNINGS=1 LC_ALL=C LVM_LVMETAD_SOCKET=$work/s
daemon=${DAEMON:-$REF/sbin/lvmetad}
"$daemon" -f -s "$work/s" -p "$work/p" 2>/dev/null & dpid=$!
for _ in $(seq 100); do [ -S "$work/s" ] && break; sleep 0.05; done
t0=$(date +%s.%N)
"$REF/sbin/lvm" pvcreate -q $(for i in $(seq 0 $((N-1))); do echo "$work/dev/pv$i"; done) >/dev/null 2>&1
half=$((N/2)); g=0
for start in $(seq 0 8 $((half-1))); do
    "$REF/sbin/lvm" vgcreate -q vg$g $(for i in $(seq $start $((start+7))); do echo "$work/dev/pv$i"; done) >/dev/null 2>&1
    g=$((g+1))
done
echo "pvcreate + $g vgcreate in $(echo "$(date +%s.%N) - $t0" | bc) s"
ms() { local a b; a=$(date +%s%N); "$@" >/dev/null 2>&1 || true; b=$(date +%s%N); echo $(( (b-a)/1000000 )); }
lvm_t=(); ours_t=(); base_t=()
for r in $(seq $ROUNDS); do
    lvm_t+=($(ms "$REF/sbin/lvm" pvscan --cache))
    ours_t+=($(ms "$top/target/release/lvmetad-pvscan" --cache))
    [ -n "${BASE:-}" ] && base_t+=($(ms "$BASE" --cache))
done
dump() { python3 - "$work/s" <<'EOP'
import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b'request = "dump"\ntoken = "skip"\n\n##\n'); b=b''
while not b.endswith(b'\n##\n'): b+=s.recv(65536)
sys.stdout.write(b[:-4].decode())
EOP
}
"$REF/sbin/lvm" pvscan --cache >/dev/null 2>&1; dump > "$work/lvm.dump"
"$top/target/release/lvmetad-pvscan" --cache >/dev/null 2>&1; dump > "$work/ours.dump"
if cmp -s "$work/lvm.dump" "$work/ours.dump"; then same=identical; else same=DIFFERENT; fi
if [ -n "${BASE:-}" ]; then
    "$BASE" --cache >/dev/null 2>&1; dump > "$work/base.dump"
    if cmp -s "$work/base.dump" "$work/ours.dump"; then bsame=identical; else bsame=DIFFERENT; fi
fi
if [ -n "${PROFILE:-}" ]; then
    perf record -g -o "$work/perf.data" "$top/target/release/lvmetad-pvscan" --cache >/dev/null 2>&1 || true
    perf report -i "$work/perf.data" --no-children --percent-limit 2 --stdio 2>/dev/null | grep -v "^$" | head -60 > "${PROFILE}"
    strace -c -f -o "${PROFILE}.strace" "$top/target/release/lvmetad-pvscan" --cache >/dev/null 2>&1 || true
fi
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ml=$(med "${lvm_t[@]}"); mo=$(med "${ours_t[@]}")
echo "devices=$N rounds=$ROUNDS daemon=$daemon"
echo "  lvm pvscan --cache     : median ${ml} ms  (all: ${lvm_t[*]})"
echo "  lvmetad-pvscan --cache : median ${mo} ms  (all: ${ours_t[*]})"
echo "  ratio ours/LVM         : $(echo "scale=3; $mo / $ml" | bc)"
echo "  daemon dump after LVM's scan vs after ours: $same ($(wc -l < "$work/lvm.dump") lines)"
if [ -n "${BASE:-}" ]; then
    mb=$(med "${base_t[@]}")
    echo "  BASE $BASE --cache : median ${mb} ms  (all: ${base_t[*]})"
    echo "  ratio ours/BASE        : $(echo "scale=3; $mo / $mb" | bc); dump after BASE vs ours: $bsame"
fi
