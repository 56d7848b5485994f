#!/usr/bin/env bash
# Full `pvscan --cache` over loop devices holding the fixture PV images: stock LVM2
# 2.02.188 (`lvm pvscan --cache` against the stock lvmetad) vs ours (`lvmetad-pvscan
# --cache` against our lvmetad, and against the stock one). Compares the daemons' dumps
# and the commands' output. Needs root, loop devices and REF (the stock install prefix);
# skips otherwise. Nothing of LVM is stored in the repo.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
[ -n "${REF:-}" ] && [ -x "$REF/sbin/lvm" ] || { echo "SKIP: set REF to a stock LVM2 2.02.188 prefix"; exit 0; }
[ "$(id -u)" = 0 ] && losetup -f >/dev/null 2>&1 || { echo "SKIP: needs root and loop devices"; exit 0; }
work=$(mktemp -d /tmp/pvscan-cmp.XXXXXX)
loops=()
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
cases=${CASES:-"c01_orphan_default c03_orphan_0mda c04_vg1_pv1 c04_vg1_pv2 c05_vg5_pv1_1mda c05_vg5_pv2_0mda c06_vg6_wrapped c08a_vg_foreign_systemid c08b_vg_exported"}
cargo run -q --manifest-path "$top/Cargo.toml" --example unzstd -- "$work" $(for c in $cases; do echo "$top/tests/data/images/$c.img.zst"; done)
re=""
for c in $cases; do
    l=$(losetup -f --show "$work/$c.img")
    loops+=("$l")
    re="$re|${l#/dev/}"
done
re=${re#|}
mkdir -p "$work/etc" "$work/lock"
cat > "$work/etc/lvm.conf" <<EOC
devices { dir = "/dev" scan = [ "/dev" ] obtain_device_list_from_udev = 0
          external_device_info_source = "none" global_filter = [ "a|^/dev/($re)\$|", "r|.*|" ] }
global { use_lvmetad = 1 locking_type = 1 locking_dir = "$work/lock" use_lvmpolld = 0 activation = 0 }
activation { udev_sync = 0 udev_rules = 0 verify_udev_operations = 0 monitoring = 0 }
backup { backup = 0 archive = 0 }
EOC
export LVM_SYSTEM_DIR=$work/etc LVM_SUPPRESS_FD_WARNINGS=1 LC_ALL=C
dump() { python3 - "$1" <<'EOP'
import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b'request = "dump"\ntoken = "skip"\n\n##\n'); b=b''
while not b.endswith(b'\n##\n'): b+=s.recv(65536)
sys.stdout.write(b[:-4].decode())
EOP
}
start() { "$1" -f -s "$2" -p "$2.pid" 2>/dev/null & pids+=($!); for _ in $(seq 100); do [ -S "$2" ] && break; sleep 0.05; done; }
start "$REF/sbin/lvmetad" "$work/c.sock"
start "$top/target/release/lvmetad" "$work/r.sock"
start "$REF/sbin/lvmetad" "$work/c2.sock"
LVM_LVMETAD_SOCKET=$work/c.sock "$REF/sbin/lvm" pvscan --cache > "$work/stock.out" 2>&1 || echo "stock exit $?" >> "$work/stock.out"
LVM_LVMETAD_SOCKET=$work/r.sock "$top/target/release/lvmetad-pvscan" --cache > "$work/ours.out" 2>&1 || echo "ours exit $?" >> "$work/ours.out"
LVM_LVMETAD_SOCKET=$work/c2.sock "$top/target/release/lvmetad-pvscan" --cache > "$work/ours-c.out" 2>&1 || true
dump "$work/c.sock" > "$work/stock.dump"
dump "$work/r.sock" > "$work/ours.dump"
dump "$work/c2.sock" > "$work/ours-c.dump"
rc=0
grep -v "Activation disabled" "$work/stock.out" > "$work/stock.out2" || true
grep -v "Activation disabled" "$work/ours.out" > "$work/ours.out2" || true
diff -u "$work/stock.out2" "$work/ours.out2" && echo "output: identical" || rc=1
diff -u "$work/stock.dump" "$work/ours.dump" && echo "dump, stock pvscan+lvmetad vs ours+ours: identical ($(wc -l < "$work/stock.dump") lines)" || rc=1
diff -u "$work/stock.dump" "$work/ours-c.dump" && echo "dump, stock pvscan+lvmetad vs ours+stock lvmetad: identical" || rc=1
exit $rc
