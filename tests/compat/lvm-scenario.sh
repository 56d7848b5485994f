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

le_scenario_args "$@"

le_setup 5
D0=${DEVS[0]} D1=${DEVS[1]} D2=${DEVS[2]} D3=${DEVS[3]} D4=${DEVS[4]}
le_write_conf
le_start_daemon "$DAEMON"

# The step files name the binary "lvm", the same for every run.
lvm() { "$LVM" "$@"; }

# Fixed PV UUIDs: the daemon orders pv_list and dump by a hash of the PV UUID.
U0=AAAAAA-0000-1111-2222-3333-4444-000000
U1=BBBBBB-0000-1111-2222-3333-4444-111111
U2=CCCCCC-0000-1111-2222-3333-4444-222222
U3=DDDDDD-0000-1111-2222-3333-4444-333333
PVCOLS=+pv_uuid,pv_mda_count,pv_mda_free,pv_mda_used_count,dev_size
VGCOLS=+vg_uuid,vg_seqno,vg_mda_count,vg_mda_used_count,vg_mda_free
LVCOLS=+lv_uuid,seg_count

step pvcreate-0          lvm  pvcreate --uuid $U0 --norestorefile "$D0"
step pvcreate-1          lvm  pvcreate --uuid $U1 --norestorefile "$D1"
step pvcreate-2          lvm  pvcreate --uuid $U2 --norestorefile "$D2"
step pvcreate-3          lvm  pvcreate --uuid $U3 --norestorefile --metadatacopies 2 "$D3"
step pvs-orphans         lvm  pvs -o $PVCOLS
step vgcreate            lvm  vgcreate vg0 "$D0" "$D1"
step vgs                 lvm  vgs -o $VGCOLS
step lvcreate            lvm  lvcreate -an -Zn -L 8M -n lv0 vg0
step lvs                 lvm  lvs -o $LVCOLS
step lvrename            lvm  lvrename vg0 lv0 lv1
step lvs-renamed         lvm  lvs -o $LVCOLS
step vgextend            lvm  vgextend vg0 "$D2" "$D3"
step vgs-extended        lvm  vgs -o $VGCOLS
step pvs-extended        lvm  pvs -o $PVCOLS
step vgreduce            lvm  vgreduce vg0 "$D2"
step vgs-reduced         lvm  vgs -o $VGCOLS
step pvs-reduced         lvm  pvs -o $PVCOLS
step pvscan-cache        lvm  pvscan --cache
step pvscan-cache-dev    lvm  pvscan --cache "$D1"
step pvs                 lvm  pvs -o $PVCOLS
step vgs-after-scan      lvm  vgs -o $VGCOLS
step lvs-after-scan      lvm  lvs -o $LVCOLS
# lvmetad's copy of vg0 marked invalid (set_vg_info with a seqno ahead of it, what a
# command that died between writing and vg_update leaves): the next reader warns and
# rereads vg0 from disk, and the next write replaces lvmetad's copy
invalidate_vg() {
    local uuid seqno
    uuid=$(lvm vgs --noheadings -o vg_uuid vg0 2>/dev/null | tr -d ' ')
    seqno=$(lvm vgs --noheadings -o vg_seqno vg0 2>/dev/null | tr -d ' ')
    ask set_vg_info 'name = "vg0"' "uuid = \"$uuid\"" "version = $((seqno + 1))" |
        grep -q 'response = "OK"'
}
step invalidate-vg       invalidate_vg
step vgs-invalid         lvm  vgs -o $VGCOLS
step lvs-invalid         lvm  lvs -o $LVCOLS
step lvcreate-2          lvm  lvcreate -an -Zn -L 4M -n lv2 vg0
step vgs-revalidated     lvm  vgs -o $VGCOLS
# metadata-only changes of one VG: rename and back, tags, LV resize and removal
step vgrename            lvm  vgrename vg0 vgA
step vgs-renamed         lvm  vgs -o $VGCOLS
step vgrename-back       lvm  vgrename vgA vg0
step vgchange-addtag     lvm  vgchange --addtag vgtag vg0
step lvchange-addtag     lvm  lvchange --addtag lvtag vg0/lv1
step pvchange-addtag     lvm  pvchange --addtag pvtag "$D0"
step vgs-tags            lvm  vgs -o +vg_tags,vg_seqno
step lvs-tags            lvm  lvs -o +lv_tags
step pvs-tags            lvm  pvs -o +pv_tags
step lvextend            lvm  lvextend -L +4M vg0/lv1
step lvreduce            lvm  lvreduce -f -L -4M vg0/lv1
step lvremove            lvm  lvremove -f vg0/lv2
step lvs-resized         lvm  lvs -o $LVCOLS
# one device by number, and vgscan's rescan
majmin=$(cat "/sys/class/block/$(basename "$D1")/dev")
step pvscan-cache-majmin lvm  pvscan --cache --major "${majmin%:*}" --minor "${majmin#*:}"
step vgscan-cache        lvm  vgscan --cache
# a PV of vg0 hidden by the filter: the VG is partial
step filter-without-d1   le_write_conf "$D0" "$D2" "$D3" "$D4"
step vgs-missing-pv      lvm  vgs -o $VGCOLS
step pvs-missing-pv      lvm  pvs -o $PVCOLS
step lvs-missing-pv      lvm  lvs -o $LVCOLS
step filter-with-d1      le_write_conf
step vgs-pv-back         lvm  vgs -o $VGCOLS
# vgcfgrestore disables lvmetad (VGRESTORE) and repopulates it
step vgcfgbackup         lvm  vgcfgbackup -f "$WORK/vg0.backup" vg0
step vgcfgrestore        lvm  vgcfgrestore -f "$WORK/vg0.backup" vg0
step vgs-restored        lvm  vgs -o $VGCOLS
step pvscan-cache-after-restore lvm pvscan --cache
# global_filter change: the token no longer matches, the next command rescans
step filter-without-d2   le_write_conf "$D0" "$D1" "$D3" "$D4"
step pvs-filter-changed  lvm  pvs -o $PVCOLS
step vgs-filter-changed  lvm  vgs -o $VGCOLS
step filter-restored     le_write_conf
step pvs-filter-restored lvm  pvs -o $PVCOLS
# duplicate PV: D1's label and metadata copied onto D4
step dd-duplicate        dd if="$D1" of="$D4" bs=1M count=2 conv=fsync status=none
step pvscan-cache-dup-dev lvm pvscan --cache "$D4"
step pvs-dup-dev         lvm  pvs -o $PVCOLS
step pvscan-cache-dup    lvm  pvscan --cache
step pvs-dup             lvm  pvs -o $PVCOLS
step vgs-dup             lvm  vgs -o $VGCOLS
step dd-zero-duplicate   dd if=/dev/zero of="$D4" bs=1M count=2 conv=fsync status=none
step pvscan-cache-undup  lvm  pvscan --cache
step pvs-undup           lvm  pvs -o $PVCOLS
step vgs-undup           lvm  vgs -o $VGCOLS
step vgremove            lvm  vgremove -f vg0
step pvremove            lvm  pvremove "$D0" "$D1" "$D2" "$D3"
step pvs-end             lvm  pvs -o $PVCOLS

le_daemon_check
exit 0
