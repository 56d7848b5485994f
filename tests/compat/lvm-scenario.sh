#!/bin/bash
# One run of the LVM differential scenario: an lvm binary against an lvmetad binary on
# five loop devices, every command's stdout, stderr, exit status and the daemon's dump
# and global info after it recorded (see loop-env.sh for the files).
#
# Usage: LVM=<lvm binary> DAEMON=<lvmetad binary> tests/compat/lvm-scenario.sh OUTDIR
# LOOP_DEVS (five free loop devices) makes two runs use the same device names/numbers.
# Run by tests/compat/lvm-differential.sh; skips (exit 0) without root or loop devices.

set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/loop-env.sh"

LVM=${LVM:?set LVM to the lvm binary}
DAEMON=${DAEMON:?set DAEMON to the lvmetad binary}
OUT=${1:?usage: LVM=... DAEMON=... $0 OUTDIR}
[ -x "$LVM" ] || { echo "ERROR: LVM $LVM is not executable" >&2; exit 2; }
[ -x "$DAEMON" ] || { echo "ERROR: DAEMON $DAEMON is not executable" >&2; exit 2; }
le_need_root_loops

le_setup 5
D0=${DEVS[0]} D1=${DEVS[1]} D2=${DEVS[2]} D3=${DEVS[3]} D4=${DEVS[4]}
le_write_conf
le_start_daemon "$DAEMON"

# Fixed PV UUIDs: the daemon orders pv_list and dump by a hash of the PV UUID.
U0=AAAAAA-0000-1111-2222-3333-4444-000000
U1=BBBBBB-0000-1111-2222-3333-4444-111111
U2=CCCCCC-0000-1111-2222-3333-4444-222222
U3=DDDDDD-0000-1111-2222-3333-4444-333333
PVCOLS=+pv_uuid,pv_mda_count,pv_mda_free,pv_mda_used_count,dev_size
VGCOLS=+vg_uuid,vg_seqno,vg_mda_count,vg_mda_used_count,vg_mda_free
LVCOLS=+lv_uuid,seg_count

step pvcreate-0          $LVM pvcreate --uuid $U0 --norestorefile "$D0"
step pvcreate-1          $LVM pvcreate --uuid $U1 --norestorefile "$D1"
step pvcreate-2          $LVM pvcreate --uuid $U2 --norestorefile "$D2"
step pvcreate-3          $LVM pvcreate --uuid $U3 --norestorefile --metadatacopies 2 "$D3"
step pvs-orphans         $LVM pvs -o $PVCOLS
step vgcreate            $LVM vgcreate vg0 "$D0" "$D1"
step vgs                 $LVM vgs -o $VGCOLS
step lvcreate            $LVM lvcreate -an -Zn -L 8M -n lv0 vg0
step lvs                 $LVM lvs -o $LVCOLS
step lvrename            $LVM lvrename vg0 lv0 lv1
step lvs-renamed         $LVM lvs -o $LVCOLS
step vgextend            $LVM vgextend vg0 "$D2" "$D3"
step vgs-extended        $LVM vgs -o $VGCOLS
step pvs-extended        $LVM pvs -o $PVCOLS
step vgreduce            $LVM vgreduce vg0 "$D2"
step vgs-reduced         $LVM vgs -o $VGCOLS
step pvs-reduced         $LVM pvs -o $PVCOLS
step pvscan-cache        $LVM pvscan --cache
step pvscan-cache-dev    $LVM pvscan --cache "$D1"
step pvs                 $LVM pvs -o $PVCOLS
step vgs-after-scan      $LVM vgs -o $VGCOLS
step lvs-after-scan      $LVM lvs -o $LVCOLS
# global_filter change: the token no longer matches, the next command rescans
step filter-without-d2   le_write_conf "$D0" "$D1" "$D3" "$D4"
step pvs-filter-changed  $LVM pvs -o $PVCOLS
step vgs-filter-changed  $LVM vgs -o $VGCOLS
step filter-restored     le_write_conf
step pvs-filter-restored $LVM pvs -o $PVCOLS
# duplicate PV: D1's label and metadata copied onto D4
step dd-duplicate        dd if="$D1" of="$D4" bs=1M count=2 conv=fsync status=none
step pvscan-cache-dup    $LVM pvscan --cache
step pvs-dup             $LVM pvs -o $PVCOLS
step vgs-dup             $LVM vgs -o $VGCOLS
step dd-zero-duplicate   dd if=/dev/zero of="$D4" bs=1M count=2 conv=fsync status=none
step pvscan-cache-undup  $LVM pvscan --cache
step pvs-undup           $LVM pvs -o $PVCOLS
step vgs-undup           $LVM vgs -o $VGCOLS
step vgremove            $LVM vgremove -f vg0
step pvremove            $LVM pvremove "$D0" "$D1" "$D2" "$D3"
step pvs-end             $LVM pvs -o $PVCOLS

le_daemon_check
exit 0
