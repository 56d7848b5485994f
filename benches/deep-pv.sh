#!/bin/bash
# A PV whose metadata (valid checksums) holds a path key of SEGMENTS segments in its VG
# section (c05_vg5_pv1_1mda with the key, and c05_vg5_pv2_0mda), on loop devices:
# `pvscan --cache` by LVM2 2.02.188 against its lvmetad, and by lvmetad-pvscan against
# ours. Prints each one's exit status, messages, peak memory, and whether the daemon's
# dump then equals the dump of the same scan of the unmodified images.
# Figures: docs/reliability.md, "Deep input and resource bounds".
#
# Usage (root, loop devices): benches/deep-pv.sh STOCK_LVM STOCK_LVMETAD [OUTDIR]
#   SEGMENTS (default 200000; the metadata area holds up to about 500,000)
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
STOCK_LVM=${1:?usage: $0 STOCK_LVM STOCK_LVMETAD [OUTDIR]}
STOCK_D=${2:?usage: $0 STOCK_LVM STOCK_LVMETAD [OUTDIR]}
OUT=${3:-$(mktemp -d)}
SEGMENTS=${SEGMENTS:-200000}
OUR_D=$repo/target/release/lvmetad
OUR_SCAN=$repo/target/release/lvmetad-pvscan
. "$repo/tests/compat/loop-env.sh"
le_need_root_loops
(cd "$repo" && cargo build -q --release --locked --bins --example unzstd) || exit 2
IMG=$(mktemp -d)
"$repo/target/release/examples/unzstd" "$IMG" \
    "$repo/tests/data/images/c05_vg5_pv1_1mda.img.zst" "$repo/tests/data/images/c05_vg5_pv2_0mda.img.zst" || exit 2
# the key, after the first line of the committed metadata text; checksums made right
python3 - "$IMG/c05_vg5_pv1_1mda.img" "$IMG/deep.img" "$SEGMENTS" <<'EOP'
import binascii, struct, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
b = bytearray(open(src, 'rb').read())
def crc(data):  # LVM's calc_crc with its on-disk seed (no final inversion)
    return ~binascii.crc32(data, ~0xf597a6cf & 0xffffffff) & 0xffffffff
A = 4096
h = b[A:A + 512]
assert h[4:20] == b' LVM2 x[5A%r0N*>' and struct.unpack_from('<I', h, 0)[0] == crc(bytes(h[4:]))
size = struct.unpack_from('<Q', h, 32)[0]
off, ln = struct.unpack_from('<QQ', h, 40)
text = bytes(b[A + off:A + off + ln])
at = text.index(b'\n') + 1
new = text[:at] + b'a/' * (n - 1) + b'x = 1\n' + text[at:]
assert 512 + len(new) <= size
b[A + 512:A + 512 + len(new)] = new
struct.pack_into('<QQI', b, A + 40, 512, len(new), crc(new))
struct.pack_into('<I', b, A, crc(bytes(b[A + 4:A + 512])))
open(dst, 'wb').write(b)
EOP

run() { # NAME DAEMON SCAN...: fresh daemon, the scan, its status/messages/peak memory, the dump
    local name=$1 d=$2
    shift 2
    if [ -n "$DPID" ]; then kill -TERM "$DPID"; wait "$DPID" 2>/dev/null; DPID=; fi
    rm -f "$LVM_LVMETAD_SOCKET"
    le_start_daemon "$d"
    /usr/bin/time -f '%M' -o "$OUT/$name.maxrss" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
    echo $? > "$OUT/$name.rc"
    ask dump | sed -E 's/(update_pid|pid|daemon_pid|update_begin|creation_time) = [0-9]+/\1 = N/' >"$OUT/$name.dump"
    kill -0 "$DPID" 2>/dev/null && echo alive >"$OUT/$name.daemon" || echo DIED >"$OUT/$name.daemon"
}

for kind in clean deep; do
    [ $kind = clean ] && pv1=$IMG/c05_vg5_pv1_1mda.img || pv1=$IMG/deep.img
    DEVS=()
    le_setup_files "$pv1" "$IMG/c05_vg5_pv2_0mda.img"
    le_write_conf
    run "stock-$kind" "$STOCK_D" "$STOCK_LVM" pvscan --cache
    run "ours-$kind" "$OUR_D" "$OUR_SCAN" --cache
    kill -TERM "$DPID"; wait "$DPID" 2>/dev/null; DPID=
    for d in "${DEVS[@]}"; do losetup -d "$d"; done
    rm -rf "$WORK"
done
for who in stock ours; do
    echo "== $who, $SEGMENTS-segment key: exit $(cat "$OUT/$who-deep.rc"), peak RSS $(cat "$OUT/$who-deep.maxrss") kB" \
        "(clean: $(cat "$OUT/$who-clean.maxrss") kB), daemon $(cat "$OUT/$who-deep.daemon")"
    sed 's/^/   | /' "$OUT/$who-deep.err" | head -5
    if cmp -s "$OUT/$who-deep.dump" "$OUT/$who-clean.dump"; then
        echo "   dump equals the clean scan's"
    else
        echo "   dump differs from the clean scan's: diff $OUT/$who-clean.dump $OUT/$who-deep.dump"
    fi
done
rm -rf "$IMG"
