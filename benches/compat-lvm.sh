#!/bin/bash
# End-to-end speed of LVM2 2.02.188's own tools with our client library: the stock `lvm`
# and the compat-built one (compat/build/lvm, LVM linked against liblvmetad.so.0), each
# against the stock lvmetad and against ours, on the same loop devices holding one VG
# (NPV PVs, one LV). Per command (vgs, pvs, lvs, pvscan --cache), the four combinations
# run in alternating rounds; the median of ROUNDS wall times is printed, with the ratio to
# stock lvm + stock lvmetad measured in the same run.
#
# Usage: LVM2_SRCDIR=/path/to/LVM2.2.02.188 benches/compat-lvm.sh   (root, loop devices)
#   NPV (default 8), ROUNDS (default 15); skips without LVM2_SRCDIR.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
[ -n "${LVM2_SRCDIR:-}" ] || { echo "SKIP: LVM2_SRCDIR is not set"; exit 0; }
. "$repo/tests/compat/loop-env.sh"
le_need_root_loops
NPV=${NPV:-8}
ROUNDS=${ROUNDS:-15}
STOCK_LVM=$LVM2_SRCDIR/tools/lvm
STOCK_D=$LVM2_SRCDIR/daemons/lvmetad/lvmetad
make -s -C "$repo/compat" LVM2_SRCDIR="$LVM2_SRCDIR" >/dev/null || exit 2
COMPAT_LVM=$repo/compat/build/lvm
OUR_D=$repo/target/release/lvmetad
OUT=$(mktemp -d)
le_setup "$NPV"
le_write_conf

daemon() { # start daemon binary $1 (stopping the previous one) and populate it
    if [ -n "$DPID" ]; then kill -TERM "$DPID"; wait "$DPID" 2>/dev/null; DPID=; fi
    rm -f "$LVM_LVMETAD_SOCKET"
    le_start_daemon "$1"
    "$STOCK_LVM" pvscan --cache >/dev/null 2>&1
}

daemon "$STOCK_D"
"$STOCK_LVM" pvcreate -q "${DEVS[@]}" >/dev/null 2>&1
"$STOCK_LVM" vgcreate -q vgb "${DEVS[@]}" >/dev/null 2>&1
"$STOCK_LVM" lvcreate -q -an -Zn -L 8M -n lvb vgb >/dev/null 2>&1

now() { date +%s%N; }
declare -A T
combos="stock+stock stock+ours compat+stock compat+ours"
cmds="vgs pvs lvs pvscan_cache"
for r in $(seq "$ROUNDS"); do
    for c in $combos; do
        case $c in stock+*) L=$STOCK_LVM ;; *) L=$COMPAT_LVM ;; esac
        case $c in *+stock) daemon "$STOCK_D" ;; *) daemon "$OUR_D" ;; esac
        for k in $cmds; do
            case $k in pvscan_cache) args="pvscan --cache" ;; *) args=$k ;; esac
            t0=$(now)
            $L $args >/dev/null 2>&1 || echo "WARN: $c $k failed" >&2
            t1=$(now)
            T[$c,$k]="${T[$c,$k]:-} $(( (t1 - t0) / 1000 ))"
        done
    done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-14s' "median ms"
for c in $combos; do printf '%16s' "$c"; done
echo
for k in $cmds; do
    base=$(echo "${T[stock+stock,$k]}" | median)
    printf '%-14s' "$k"
    for c in $combos; do
        m=$(echo "${T[$c,$k]}" | median)
        printf '%9.2f %5.2fx' "$(echo "$m/1000" | bc -l)" "$(echo "$m/$base" | bc -l)"
    done
    echo
done
echo "($NPV PVs, $ROUNDS rounds, $(nproc) CPUs)"
rm -rf "$OUT"
