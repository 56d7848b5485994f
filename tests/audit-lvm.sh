#!/bin/bash
# lvmetad-audit with a user's LVM2 2.02.188 on real loop devices, against the stock
# lvmetad and ours: ordinary LVM commands through lvmetad leave nothing to report; changes
# made behind the daemon's back (use_lvmetad=0: an LV added with lvcreate -an -Zn, a PV
# created, a VG removed; then two PVs' devices swapped) are each reported; after
# --repair LVM's own commands through lvmetad see them, without reading any VG from disk,
# and a second audit exits 0.
#
# Usage: LVM2_SRCDIR=/path/to/LVM2.2.02.188 tests/audit-lvm.sh   (unset: SKIP, exit 0)
#   The stock tools are $LVM2_SRCDIR/tools/lvm and daemons/lvmetad/lvmetad, or
#   LVM2_PREFIX/sbin/{lvm,lvmetad}. Needs root and loop devices; uses target/release.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
[ -n "${LVM2_SRCDIR:-}" ] || { echo "SKIP: LVM2_SRCDIR (a built LVM2 2.02.188 tree) is not set"; exit 0; }
if [ -n "${LVM2_PREFIX:-}" ]; then
    LVM=$LVM2_PREFIX/sbin/lvm; STOCK_DAEMON=$LVM2_PREFIX/sbin/lvmetad
else
    LVM=$LVM2_SRCDIR/tools/lvm; STOCK_DAEMON=$LVM2_SRCDIR/daemons/lvmetad/lvmetad
fi
AUDIT=$repo/target/release/lvmetad-audit
for f in "$LVM" "$STOCK_DAEMON" "$AUDIT" "$repo/target/release/lvmetad"; do
    [ -x "$f" ] || { echo "ERROR: $f not found" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for loop devices"; exit 0; }

fails=0
fail() { echo "audit-lvm: FAIL ($daemon): $*" >&2; fails=$((fails + 1)); }

run_with() {
    daemon=$1 dbin=$2
    W=$(mktemp -d)
    LOOPS=()
    for i in 1 2 3 4; do
        truncate -s 16M "$W/pv$i.img"
        LOOPS+=("$(losetup -f --show "$W/pv$i.img")") || { echo "SKIP: no loop device"; exit 0; }
    done
    L1=${LOOPS[0]} L2=${LOOPS[1]} L3=${LOOPS[2]} L4=${LOOPS[3]}
    export LVM_SYSTEM_DIR=$W/conf LVM_LVMETAD_SOCKET=$W/lvmetad.socket LVM_LVMETAD_PIDFILE=$W/lvmetad.pid
    export LVM_SUPPRESS_FD_WARNINGS=1 LC_ALL=C
    mkdir -p "$W/conf" "$W/lock"
    cat > "$W/conf/lvm.conf" <<EOC
devices { dir = "/dev" scan = [ "/dev" ] obtain_device_list_from_udev = 0 external_device_info_source = "none"
          global_filter = [ "a|^$L1\$|", "a|^$L2\$|", "a|^$L3\$|", "a|^$L4\$|", "r|.*|" ] }
global { use_lvmetad = 1 locking_type = 1 locking_dir = "$W/lock" use_lvmpolld = 0 activation = 0 }
activation { udev_sync = 0 udev_rules = 0 verify_udev_operations = 0 monitoring = 0 }
backup { backup = 0 archive = 0 }
EOC
    "$dbin" -f -s "$LVM_LVMETAD_SOCKET" -p "$LVM_LVMETAD_PIDFILE" -l fatal,error &
    dpid=$!
    for _ in $(seq 50); do [ -S "$LVM_LVMETAD_SOCKET" ] && break; sleep 0.1; done
    lvm() { "$LVM" "$@" 2>>"$W/lvm.err"; }
    behind() { "$LVM" "$@" --config 'global { use_lvmetad = 0 }' >/dev/null 2>>"$W/lvm.err"; }
    lvm pvcreate -q "$L1" "$L2" "$L3" >/dev/null
    lvm vgcreate -q vg0 "$L1" "$L2" >/dev/null
    lvm vgcreate -q vg1 "$L3" >/dev/null
    lvm lvcreate -q -an -Zn -L 4M -n lv0 vg0 >/dev/null
    lvm pvscan --cache >/dev/null
    lvm lvs >/dev/null; lvm vgs >/dev/null; lvm pvs >/dev/null
    out=$("$AUDIT" 2>&1); rc=$?
    [ $rc = 0 ] && [ -z "$out" ] || fail "consistent cache after LVM's commands: rc $rc: $out"

    # behind the daemon's back
    behind lvcreate -an -Zn -L 4M -n lv_behind vg0
    behind pvcreate "$L4"
    behind vgremove -f vg1
    u3=$("$LVM" pvs --config 'global { use_lvmetad = 0 }' --noheadings -o pv_uuid "$L3" 2>/dev/null | tr -d ' ')
    u4=$("$LVM" pvs --config 'global { use_lvmetad = 0 }' --noheadings -o pv_uuid "$L4" 2>/dev/null | tr -d ' ')
    u1=$("$LVM" pvs --config 'global { use_lvmetad = 0 }' --noheadings -o pv_uuid "$L1" 2>/dev/null | tr -d ' ')
    out=$("$AUDIT" 2>&1); rc=$?
    [ $rc = 1 ] || fail "audit after changes: rc $rc"
    for want in \
        "  VG vg0 on $L1 (PV $u1) has seqno 3 on disk, lvmetad has seqno 2." \
        "  VG vg1 cached by lvmetad was not found on any device." \
        "  PV $u3 on $L3 is an orphan on disk, lvmetad has it in VG vg1." \
        "  PV $u4 on $L4 is not known to lvmetad."; do
        grep -qxF -- "$want" <<<"$out" || fail "not reported: '$want' in: $out"
    done
    [ "$(wc -l <<<"$out")" = 4 ] || fail "more than the 4 differences: $out"
    out=$("$AUDIT" --repair 2>&1); rc=$?
    [ $rc = 0 ] || fail "repair: rc $rc: $out"
    : > "$W/lvm.err"
    lvs=$(lvm lvs --noheadings -o lv_name vg0 | tr -d ' ' | tr '\n' ' ')
    [ "$lvs" = "lv0 lv_behind " ] || fail "lvs through lvmetad after repair: '$lvs'"
    pvs=$(lvm pvs --noheadings -o pv_name,vg_name | awk '{print $1 ":" $2}' | sort | tr '\n' ' ')
    want=$(printf '%s\n' "$L1:vg0" "$L2:vg0" "$L3:" "$L4:" | sort | tr '\n' ' ')
    [ "$pvs" = "$want" ] || fail "pvs through lvmetad after repair: '$pvs' (want '$want')"
    lvm vgs vg1 >/dev/null 2>&1 && fail "vg1 still served after repair"
    grep -q "from disk because lvmetad metadata is invalid" "$W/lvm.err" && fail "a VG was invalidated: $(cat "$W/lvm.err")"
    out=$("$AUDIT" 2>&1); rc=$?
    [ $rc = 0 ] && [ -z "$out" ] || fail "second audit: rc $rc: $out"

    # two PVs' devices swapped (the loop devices re-attached the other way round)
    losetup -d "$L1"; losetup -d "$L2"
    losetup "$L1" "$W/pv2.img" && losetup "$L2" "$W/pv1.img" || fail "re-attach"
    out=$("$AUDIT" 2>&1); rc=$?
    [ $rc = 1 ] && [ "$(grep -c 'lvmetad has it on device' <<<"$out")" = 2 ] \
        || fail "swapped devices: rc $rc: $out"
    out=$("$AUDIT" --repair 2>&1); rc=$?
    [ $rc = 0 ] || fail "repair after swap: rc $rc: $out"
    pvs=$(lvm pvs --noheadings -o pv_name,pv_uuid "$L1" | awk '{print $2}')
    [ "$pvs" = "$("$LVM" pvs --config 'global { use_lvmetad = 0 }' --noheadings -o pv_uuid "$L1" 2>/dev/null | tr -d ' ')" ] \
        || fail "pvs through lvmetad after the swap repair"
    out=$("$AUDIT" 2>&1); rc=$?
    [ $rc = 0 ] && [ -z "$out" ] || fail "audit after swap repair: rc $rc: $out"

    kill "$dpid"; wait "$dpid" 2>/dev/null
    for l in "${LOOPS[@]}"; do losetup -d "$l"; done
    rm -rf "$W"
    echo "audit-lvm: $daemon lvmetad: done"
}

run_with stock "$STOCK_DAEMON"
run_with ours "$repo/target/release/lvmetad"
[ $fails = 0 ] || { echo "audit-lvm: $fails failures" >&2; exit 1; }
echo "audit-lvm: ok"
