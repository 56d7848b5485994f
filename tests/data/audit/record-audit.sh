#!/bin/sh
# Records the audit image pairs (tests/data/audit) with a stock LVM2 2.02.188 build (REF=its prefix) on loop
# devices: VG "avg" on two 16 MiB PVs in four states. Run as root; writes OUT (default: this
# directory). See README.md here.
#   a  vgcreate avg + lvcreate -an -Zn -L 4M -n lv0            (seqno 2)
#   b  a + lvcreate -an -Zn -L 4M -n lv1                       (seqno 3)
#   c  a + lvcreate -an -Zn -L 8M -n lv2  (same seqno as b, other content)
#   d  a + vgremove -f avg                                     (two orphan PVs)
set -eu
REF=${REF:?set REF to an LVM2 2.02.188 install prefix}
OUT=${OUT:-$(cd "$(dirname "$0")" && pwd)}
W=$(mktemp -d)
trap 'for l in $L1 $L2; do losetup -d $l 2>/dev/null || true; done; kill $DP 2>/dev/null || true; rm -rf "$W"' EXIT
L1= L2= DP=
export LVM_SYSTEM_DIR=$W/conf LVM_LVMETAD_SOCKET=$W/lvmetad.socket LVM_LVMETAD_PIDFILE=$W/lvmetad.pid
export LVM_SUPPRESS_FD_WARNINGS=1 LC_ALL=C
mkdir -p $W/conf $W/lock
truncate -s 16M $W/pv1.img $W/pv2.img
L1=$(losetup -f --show $W/pv1.img); L2=$(losetup -f --show $W/pv2.img)
cat > $W/conf/lvm.conf <<EOC
devices { dir = "/dev" scan = [ "/dev" ] obtain_device_list_from_udev = 0
          external_device_info_source = "none" global_filter = [ "a|^$L1\$|", "a|^$L2\$|", "r|.*|" ] }
global { use_lvmetad = 1 locking_type = 1 locking_dir = "$W/lock" use_lvmpolld = 0 activation = 0 }
activation { udev_sync = 0 udev_rules = 0 verify_udev_operations = 0 monitoring = 0 }
backup { backup = 0 archive = 0 }
EOC
$REF/sbin/lvmetad -f -s $LVM_LVMETAD_SOCKET -p $LVM_LVMETAD_PIDFILE -l fatal,error &
DP=$!
sleep 1
lvm() { $REF/sbin/lvm "$@" 2>&1 | grep -v 'Activation disabled' || true; }
save() { for i in 1 2; do cp --sparse=always $W/pv$i.img $W/$1_pv$i.img; done; }
lvm pvcreate $L1 $L2
lvm vgcreate avg $L1 $L2
lvm lvcreate -an -Zn -L 4M -n lv0 avg
sync; save a
lvm lvcreate -an -Zn -L 4M -n lv1 avg
sync; save b
# back to state a (the devices' bytes), rescan, then the other changes
for i in 1 2; do eval dd if=$W/a_pv$i.img of=\$L$i bs=1M conv=fsync,notrunc status=none; done
lvm pvscan --cache
lvm lvcreate -an -Zn -L 8M -n lv2 avg
sync; save c
for i in 1 2; do eval dd if=$W/a_pv$i.img of=\$L$i bs=1M conv=fsync,notrunc status=none; done
lvm pvscan --cache
lvm vgremove -f avg
sync; save d
lvm vgs -o vg_name,vg_seqno,lv_count
for s in a b c d; do for i in 1 2; do zstd -q -19 -f $W/${s}_pv$i.img -o "$OUT/audit_${s}_pv$i.img.zst"; done; done
ls -l "$OUT"
