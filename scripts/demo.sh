#!/usr/bin/env bash
# The main job: the bundled lvmetad on a temporary socket, fed by our pvscan reading real
# LVM2 PV images (tests/data/images), then the seed's cases: a duplicate PV appears
# (lvmetad disabled, reason DUPLICATES), goes away (enabled again), and the global_filter
# changes (token mismatch, rescan). Last, real traffic recorded from LVM2 2.02.188 tools
# is replayed against the daemon. No root needed: image files are named in devices/scan.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${BIN:-$top/target/release}
tmp=$(mktemp -d /tmp/lvmetad-demo.XXXXXX)
sock=$tmp/lvmetad.socket
export LVM_LVMETAD_SOCKET=$sock LVM_SYSTEM_DIR=$tmp/etc LVM_LVMETAD_PIDFILE=$tmp/lvmetad.pid
daemon_pid=
cleanup() {
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
step() { printf '\n\033[1m### %s\033[0m\n' "$*"; }
run() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }
conf() { # conf "IMAGE..." "FILTER ITEMS"
    mkdir -p "$tmp/etc"
    { echo "devices {"
      printf '\tscan = [ '; for i in $1; do printf '"%s/%s.img", ' "$tmp" "$i"; done; echo ']'
      printf '\tglobal_filter = [ %s ]\n' "$2"
      echo "}"
      echo "global { use_lvmetad = 1 lvmetad_update_wait_time = 2 }"; } > "$tmp/etc/lvm.conf"
}
summary() {
    "$bin/lvmetactl" get_global_info | grep -E '^(global_disable|disable_reason|token) '
    echo "PVs cached: $("$bin/lvmetactl" pv_list | grep -c 'format="lvm2"')"
    "$bin/lvmetactl" vg_list | grep 'name=' | sed 's/^\t*/VG /'
}

step "Decompressing five real PV images (LVM2 on-disk format) into $tmp"
cargo run -q --release --manifest-path "$top/Cargo.toml" --example unzstd -- "$tmp" \
    "$top"/tests/data/images/{c04_vg1_pv1,c04_vg1_pv2,c01_orphan_default,c05_vg5_pv1_1mda,c09_dup_a}.img.zst
ls -l "$tmp"/*.img | awk '{print $5, $9}'

step "Starting the bundled lvmetad on $sock"
"$bin/lvmetad" -f -s "$sock" -p "$tmp/lvmetad.pid" -l fatal,error 2>"$tmp/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
run "$bin/lvmetactl" get_global_info

ALL="c04_vg1_pv1 c04_vg1_pv2 c01_orphan_default c05_vg5_pv1_1mda"
FILTER='"a|\\.img$|", "r|.*|"'
step "pvscan --cache of all devices (VG vg1 on two PVs, vg5 with one of its two PVs, one orphan)"
conf "$ALL" "$FILTER"
run "$bin/lvmetad-pvscan" --cache -v
summary
run "$bin/lvmetactl" vg_lookup_name vg1 | head -12

step "Case 2: a duplicate PV appears (c09_dup_a is a copy of the orphan c01) and pvscan --cache runs"
conf "$ALL c09_dup_a" "$FILTER"
run "$bin/lvmetad-pvscan" --cache || true
summary

step "Case 3: pvscan --cache of the duplicate device alone, while lvmetad is disabled"
run "$bin/lvmetad-pvscan" --cache "$tmp/c09_dup_a.img" || true

step "The duplicate is removed; a full pvscan --cache enables lvmetad again"
conf "$ALL" "$FILTER"
run "$bin/lvmetad-pvscan" --cache
summary

step "Case 1: the global_filter changes (orphan rejected): token mismatch, so the next pvscan rescans"
conf "$ALL" '"r|c01|", "a|\\.img$|", "r|.*|"'
run "$bin/lvmetad-pvscan" --cache "$tmp/c04_vg1_pv1.img"
summary

step "Real traffic recorded from LVM2 2.02.188 tools, replayed against a fresh daemon"
kill "$daemon_pid"; wait "$daemon_pid" || true
"$bin/lvmetad" -f -s "$sock" -p "$tmp/lvmetad.pid" -l fatal,error 2>"$tmp/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
caps=$top/tests/data/captures
"$bin/lvmetad-replay" -q "$caps/a-hello-get-global-info.txt"
"$bin/lvmetad-replay" -q --seed "$caps/e-vgcreate-lvcreate.txt" \
    "$caps/e-vgcreate-lvcreate.txt" "$caps/b-pvs-populated.txt" "$caps/c-pvscan-cache-all.txt" \
    "$caps/i-lvmetactl-dump.txt" "$caps/g-duplicate-pvs.txt"
"$bin/lvmetactl" get_global_info | grep -E '^(global_disable|disable_reason) '

step "Stopping the daemon (SIGTERM): it removes its socket and pidfile"
kill "$daemon_pid"; wait "$daemon_pid" || true; daemon_pid=
[ -e "$sock" ] && echo "socket still present!" || echo "socket removed: $sock"
