#!/bin/bash
# The second LVM differential scenario: LVM's tools on the recorded PV images of
# tests/data/images (copies on loop devices): several VGs with fixed UUIDs, a VG whose
# second PV has no metadata area, wrapped metadata, a foreign and an exported VG, orphan
# PVs with and without an mda, and a copy of a PV with a damaged label (the other damaged
# copies keep the PV's UUID, so they would make it a duplicate and lvmetad unused).
# Records every step as lvm-scenario.sh does.
#
# Usage: LVM=<lvm binary> DAEMON=<lvmetad binary> tests/compat/lvm-images-scenario.sh OUTDIR
# LOOP_DEVS (ten free loop devices) makes two runs use the same devices. Needs root,
# loop devices and zstd; skips (exit 0) otherwise.

set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/loop-env.sh"

le_scenario_args "$@"
command -v zstd >/dev/null || le_skip "zstd not available (to unpack the images)"

img=$here/../data/images
le_setup_files "$img"/c01_orphan_default.img.zst "$img"/c03_orphan_0mda.img.zst \
    "$img"/c04_vg1_pv1.img.zst "$img"/c04_vg1_pv2.img.zst \
    "$img"/c05_vg5_pv1_1mda.img.zst "$img"/c05_vg5_pv2_0mda.img.zst \
    "$img"/c06_vg6_wrapped.img.zst "$img"/c08a_vg_foreign_systemid.img.zst \
    "$img"/c08b_vg_exported.img.zst "$img"/c10a_bad_label_crc.img.zst
D_ORPHAN=${DEVS[0]} D_VG1_2=${DEVS[3]} D_VG5_2=${DEVS[5]}
le_write_conf
le_start_daemon "$DAEMON"

lvm() { "$LVM" "$@"; }
PVCOLS=+pv_uuid,pv_mda_count,pv_mda_free,pv_mda_used_count,dev_size,pv_tags
VGCOLS=+vg_uuid,vg_seqno,vg_mda_count,vg_mda_used_count,vg_systemid,vg_tags
LVCOLS=+lv_uuid,segtype,stripes,lv_tags

step pvscan-cache        lvm  pvscan --cache
step pvs                 lvm  pvs -o $PVCOLS
step vgs                 lvm  vgs -o $VGCOLS
step lvs                 lvm  lvs -a -o $LVCOLS
step vgs-foreign         lvm  vgs --foreign -o $VGCOLS
step lvs-foreign         lvm  lvs --foreign -o $LVCOLS
step pvscan-cache-dev    lvm  pvscan --cache "$D_VG1_2"
step pvscan-cache-0mda   lvm  pvscan --cache "$D_VG5_2"
step vgck-vg1            lvm  vgck vg1
step vgchange-tag-vg1    lvm  vgchange --addtag t1 vg1
step vgchange-tag-vg5    lvm  vgchange --addtag t5 vg5
step vgchange-tag-vg6    lvm  vgchange --addtag t6 vg6
step vgchange-tag-foreign lvm vgchange --addtag t8 vg8foreign
step vgimport            lvm  vgimport vg8exp
step vgs-after           lvm  vgs -o $VGCOLS
step lvcreate-vg1        lvm  lvcreate -an -Zn -l 1 -n lvnew vg1
step lvs-after           lvm  lvs -a -o $LVCOLS
step vgextend-vg5        lvm  vgextend vg5 "$D_ORPHAN"
step vgreduce-vg5        lvm  vgreduce vg5 "$D_ORPHAN"
step pvscan-cache-again  lvm  pvscan --cache
step pvs-end             lvm  pvs -o $PVCOLS
step vgs-end             lvm  vgs -o $VGCOLS

le_daemon_check
exit 0
