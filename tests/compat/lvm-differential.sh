#!/bin/bash
# Differential test of LVM2 2.02.188's tools built against our liblvmetad.so.0 (compat/)
# and of our lvmetad daemon: two scenarios, lvm-scenario.sh ("basic": pvcreate, vgcreate,
# lvcreate -an -Zn, lvrename, vgextend, vgreduce, pvs/vgs/lvs with uuid/seqno/mda
# columns, pvscan --cache of all and of one device, an invalidated lvmetad copy, renames,
# tags, LV resizes, vgscan --cache, a missing PV, vgcfgrestore, global_filter changes, a
# duplicate PV and its removal, vgremove, pvremove) and lvm-images-scenario.sh ("images":
# the recorded PV images: several VGs, 0-mda PV, wrapped metadata, foreign and exported
# VGs, a damaged label), each run four ways on the same loop
# devices:
#
#   stock+stock    stock lvm,  stock lvmetad      (the baseline)
#   stock+ours     stock lvm,  target/release/lvmetad
#   compat+stock   compat/build/lvm (LVM linked to our library), stock lvmetad
#   compat+ours    compat/build/lvm, target/release/lvmetad
#
# and every step's exit status, stdout, stderr and the daemon's dump and global info are
# compared with the baseline (UUIDs, creation times and hosts, pids normalised).
#
# Usage: LVM2_SRCDIR=/path/to/LVM2.2.02.188 tests/compat/lvm-differential.sh [OUTDIR]
#
#   LVM2_SRCDIR  a configured and built LVM2 2.02.188 tree (--enable-lvmetad); unset: SKIP
#                (exit 0). The stock tools are its tools/lvm and daemons/lvmetad/lvmetad,
#                or LVM2_PREFIX/sbin/{lvm,lvmetad} when LVM2_PREFIX (an install prefix) is
#                set. compat/build/lvm is (re)built with make -C compat unless NO_BUILD=1.
#                LVM2 2.02.187 and 2.02.188 trees are accepted.
#   COMPAT_BUILD the compat build directory (default compat/build; one per LVM tree)
#   COMBOS       the combinations to compare with the baseline (default: all three)
#   SCENARIOS    "basic" (lvm-scenario.sh, sparse images) and/or "images"
#                (lvm-images-scenario.sh, the recorded PV images); default both
#   OUTDIR       default /tmp/lvmetad-lvm-differential: OUTDIR/<scenario>/<combination>
#                (raw) and <combination>.norm (normalised)
#
# Needs root and loop devices (skips without them); no device-mapper is used. Exit status
# 0 if every combination matches the baseline (or skipped), 1 on any difference (the
# diffs are printed), 2 on a setup error.

set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

[ -n "${LVM2_SRCDIR:-}" ] || {
    echo "SKIP: LVM2_SRCDIR (a built LVM2 2.02.188 source tree) is not set"
    exit 0
}
if [ -n "${LVM2_PREFIX:-}" ]; then
    STOCK_LVM=$LVM2_PREFIX/sbin/lvm
    STOCK_DAEMON=$LVM2_PREFIX/sbin/lvmetad
else
    STOCK_LVM=$LVM2_SRCDIR/tools/lvm
    STOCK_DAEMON=$LVM2_SRCDIR/daemons/lvmetad/lvmetad
fi
OUR_DAEMON=$repo/target/release/lvmetad
COMPAT_BUILD=${COMPAT_BUILD:-$repo/compat/build}
COMPAT_LVM=$COMPAT_BUILD/lvm
OUT=${1:-/tmp/lvmetad-lvm-differential}
COMBOS=${COMBOS:-stock+ours compat+stock compat+ours}
SCENARIOS=${SCENARIOS:-basic images}

for f in "$STOCK_LVM" "$STOCK_DAEMON"; do
    [ -x "$f" ] || { echo "ERROR: $f not found (is $LVM2_SRCDIR built?)" >&2; exit 2; }
done

if [ "${NO_BUILD:-0}" != 1 ]; then
    echo "== make -C compat LVM2_SRCDIR=$LVM2_SRCDIR"
    make -C "$repo/compat" LVM2_SRCDIR="$LVM2_SRCDIR" BUILD="$COMPAT_BUILD" > "$OUT.build.log" 2>&1 || {
        tail -30 "$OUT.build.log"
        echo "ERROR: make -C compat failed (log: $OUT.build.log)" >&2
        exit 2
    }
    tail -2 "$OUT.build.log"
fi

lvm_of() { case $1 in stock) echo "$STOCK_LVM" ;; compat) echo "$COMPAT_LVM" ;; esac; }
daemon_of() { case $1 in stock) echo "$STOCK_DAEMON" ;; ours) echo "$OUR_DAEMON" ;; esac; }
script_of() { case $1 in basic) echo "$here/lvm-scenario.sh" ;; images) echo "$here/lvm-images-scenario.sh" ;; esac; }

# run SCENARIO COMBINATION: the scenario's results in OUT/SCENARIO/COMBINATION
run() {
    local scen=$1 combo=$2 l d sc res
    l=$(lvm_of "${combo%+*}")
    d=$(daemon_of "${combo#*+}")
    sc=$(script_of "$scen")
    [ -n "$l" ] && [ -n "$d" ] || { echo "ERROR: unknown combination $combo" >&2; exit 2; }
    [ -n "$sc" ] || { echo "ERROR: unknown scenario $scen" >&2; exit 2; }
    [ -x "$l" ] || { echo "ERROR: $l not built" >&2; exit 2; }
    [ -x "$d" ] || { echo "ERROR: $d not built (make build)" >&2; exit 2; }
    echo "== $scen $combo: lvm $l, lvmetad $d"
    res=$(LVM=$l DAEMON=$d "$sc" "$OUT/$scen/$combo")
    echo "$res" | grep -v '^[0-9][0-9] ' | sed 's/^/   /'
    echo "$res" | grep -q '^[0-9][0-9] ' && echo "   $(echo "$res" | grep -c '^[0-9][0-9] ') steps"
    case "$res" in SKIP:*) [ "$combo" = stock+stock ] && return 1
        echo "ERROR: $scen $combo skipped after the baseline ran: $res" >&2; exit 2 ;; esac
    return 0
}

rc=0
for scen in $SCENARIOS; do
    mkdir -p "$OUT/$scen"
    rm -rf "$OUT/$scen"/stock+* "$OUT/$scen"/compat+*
    unset LOOP_DEVS
    run "$scen" stock+stock || { echo "SKIP: $scen (baseline skipped)"; continue; }
    export LOOP_DEVS
    LOOP_DEVS=$(tr '\n' ' ' < "$OUT/$scen/stock+stock/devices.txt")
    for c in $COMBOS; do
        run "$scen" "$c"
    done
    echo
    echo "==== $scen"
    python3 "$here/compare-runs.py" "$OUT/$scen" stock+stock $COMBOS || {
        rc=1
        for c in $COMBOS; do
            echo
            echo "==== diff $scen: stock+stock $c"
            diff -r -u "$OUT/$scen/stock+stock.norm" "$OUT/$scen/$c.norm" | head -400
        done
    }
    echo
done
exit $rc
