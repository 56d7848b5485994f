#!/usr/bin/env bash
# The boot storm: a fresh daemon, then one `pvscan --cache MAJ:MIN` per device, all at
# once (as udev's 69-dm-lvm-metad.rules start them), on N loop devices with PVs (half
# of them in VGs of 8). Each run must end in the state of one full scan (the daemon's
# dump compared with the dump after one `pvscan --cache` on a fresh daemon of the same
# kind) and every line printed must be one of LVM's messages for these situations.
#
#   MODE=native   lvmetad-pvscan + our lvmetad   vs  stock lvm + stock lvmetad
#   MODE=compat   LVM's lvm built by compat/ (linked against liblvmetad.so.0) + our
#                 lvmetad  vs  stock lvm + stock lvmetad   (needs LVM2_SRCDIR)
#
# Rounds alternate stock/ours; medians of wall time (first start to last exit) and of
# the CPU all commands used (user+sys, from the children's rusage) are printed with
# their ratio, and the counts of LVM's wait messages (lines per run, summed).
#   REF=/path/to/2.02.188/prefix [LVM2_SRCDIR=/path/to/LVM2.2.02.188] MODE=native \
#     N=256 ROUNDS=3 benches/boot-storm.sh          (root, N free loop devices)
# REF defaults to $LVM2_SRCDIR's built tree (tools/lvm, daemons/lvmetad/lvmetad).
# A/B: PVSCAN= and OUR_D= replace our binaries; for MODE=compat, LD_LIBRARY_PATH= a
# directory with another liblvmetad.so.0 (it takes precedence over the lvm's RUNPATH).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
MODE=${MODE:-native}; N=${N:-256}; ROUNDS=${ROUNDS:-3}
if [ -n "${REF:-}" ]; then
    STOCK_LVM=$REF/sbin/lvm; STOCK_D=$REF/sbin/lvmetad
elif [ -n "${LVM2_SRCDIR:-}" ]; then
    STOCK_LVM=$LVM2_SRCDIR/tools/lvm; STOCK_D=$LVM2_SRCDIR/daemons/lvmetad/lvmetad
else
    echo "SKIP: set REF (stock LVM2 2.02.188 prefix) or LVM2_SRCDIR"; exit 0
fi
case $MODE in
native) OURS_CMD=("${PVSCAN:-$top/target/release/lvmetad-pvscan}" --cache) ;;
compat)
    [ -n "${LVM2_SRCDIR:-}" ] || { echo "SKIP: MODE=compat needs LVM2_SRCDIR"; exit 0; }
    env -u LD_LIBRARY_PATH make -s -C "$top/compat" LVM2_SRCDIR="$LVM2_SRCDIR" >/dev/null
    OURS_CMD=("$top/compat/build/lvm" pvscan --cache) ;;
*) echo "MODE is native or compat"; exit 2 ;;
esac
OUR_D=${OUR_D:-$top/target/release/lvmetad}
[ -x "$OUR_D" ] && [ -x "${OURS_CMD[0]}" ] || { echo "run make first"; exit 2; }
work=$(mktemp -d /tmp/boot-storm.XXXXXX)
loops=(); dpid=
cleanup() {
    [ -n "$dpid" ] && kill "$dpid" 2>/dev/null; wait 2>/dev/null || true
    for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/img" "$work/etc" "$work/lock" "$work/dev" "$work/out"
devnums=()
. "$top/benches/loops.sh"
bench_loops "$work" "$N"
for l in "${loops[@]}"; do
    devnums+=("$(printf '%d:%d' "0x$(stat -L -c %t "$l")" "0x$(stat -L -c %T "$l")")")
done
bench_conf "$work"
bench_dm_once "$work"
# the preload goes to each lvm, never to lvmetad-pvscan or the daemons
ours_preload=${LD_PRELOAD:-}; [ "$MODE" = compat ] && ours_preload=$lvm_preload
export LVM_SYSTEM_DIR=$work/etc LVM_SUPPRESS_FD_WARNINGS=1 LC_ALL=C LVM_LVMETAD_SOCKET=$work/s
start_daemon() {
    [ -n "$dpid" ] && { kill "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null || true; }
    rm -f "$work/s"
    "$1" -f -s "$work/s" -p "$work/p" 2>/dev/null & dpid=$!
    for _ in $(seq 200); do [ -S "$work/s" ] && break; sleep 0.02; done
}
start_daemon "$STOCK_D"
LD_PRELOAD=$lvm_preload "$STOCK_LVM" pvcreate -q "$work"/dev/pv* >/dev/null 2>&1
g=0
for start in $(seq 0 8 $((N/2-1))); do
    LD_PRELOAD=$lvm_preload "$STOCK_LVM" vgcreate -q vg$g $(for i in $(seq $start $((start+7))); do echo "$work/dev/pv$i"; done) >/dev/null 2>&1
    g=$((g+1))
done
dump() { python3 - "$work/s" <<'EOP'
import socket,sys,re
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b'request = "dump"\ntoken = "skip"\n\n##\n'); b=b''
while not b.endswith(b'\n##\n'): b+=s.recv(65536)
t=b[:-4].decode()
# volatile: pids and times of the last update
t=re.sub(r'(update_pid|update_begin|daemon_pid|update_timeout) = \d+', r'\1 = N', t)
t=re.sub(r'update_cmd = "[^"]*"', 'update_cmd = ""', t)
sys.stdout.write(t)
EOP
}
# the reference state: one full scan on a fresh daemon of each kind
start_daemon "$STOCK_D"; LD_PRELOAD=$lvm_preload "$STOCK_LVM" pvscan --cache >/dev/null 2>&1; dump > "$work/ref-stock"
start_daemon "$OUR_D"; LD_PRELOAD=$ours_preload "${OURS_CMD[@]}" >/dev/null 2>&1; dump > "$work/ref-ours"

# one storm: prints "wall_ms cpu_ms"; outputs in $work/out/$1.*
storm() {
    local tag=$1; shift
    rm -f "$work/out/$tag".*
    python3 - "$work/out/$tag" "$@" -- "${devnums[@]}" <<'EOP'
import os, sys, time
argv = sys.argv[2:]
sep = argv.index('--')
cmd, devs = argv[:sep], argv[sep+1:]
out = sys.argv[1]
t0 = time.monotonic()
pids = {}
# posix_spawn (vfork-like): a forking Python would copy its page tables per command and
# stretch the start of the storm over the commands' own run time
for i, d in enumerate(devs):
    pid = os.posix_spawn(cmd[0], cmd + [d], os.environ, file_actions=[
        (os.POSIX_SPAWN_OPEN, 1, f"{out}.{i}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
        (os.POSIX_SPAWN_DUP2, 1, 2)])
    pids[pid] = i
rc = {}
cpu = 0.0
while pids:
    pid, st, ru = os.wait4(-1, 0)
    cpu += ru.ru_utime + ru.ru_stime
    rc[pids.pop(pid)] = os.waitstatus_to_exitcode(st)
wall = time.monotonic() - t0
bad = [i for i, c in rc.items() if c != 0]
with open(f"{out}.status", "w") as f:
    f.write(" ".join(f"{i}:{rc[i]}" for i in sorted(bad)))
print(int(wall * 1000), int(cpu * 1000))
EOP
}
KNOWN='^  (pvscan\[N\] activating all complete VGs for init|WARNING: Activation disabled\. No device-mapper interaction will be attempted\.|lvmetad is being updated, retry for N more seconds\.|pvscan\[N\] WARNING: lvmetad is being updated, retrying \(setup\) for N more seconds\.|WARNING: lvmetad is being updated, retrying \([a-z_]+\) for N more seconds\.|WARNING: lvmetad update in progress, (retrying|skipping) update\.)$'
check() { # tag, reference dump -> "same|DIFFERENT unknown-lines wait-lines"
    local tag=$1 ref=$2 same unknown waits
    dump > "$work/out/$tag.dump"
    if cmp -s "$work/out/$tag.dump" "$ref"; then same=same; else same=DIFFERENT; fi
    cat "$work/out/$tag".[0-9]* | sed -E 's/[0-9]+/N/g' > "$work/out/$tag.lines"
    unknown=$(grep -cvE "$KNOWN" "$work/out/$tag.lines" || true)
    waits=$(grep -cE 'retry|waiting|retrying' "$work/out/$tag.lines" || true)
    [ -s "$work/out/$tag.status" ] && same="$same exit:$(cat "$work/out/$tag.status")"
    [ "$unknown" = 0 ] || { echo "unknown lines in $tag:" >&2; grep -vE "$KNOWN" "$work/out/$tag.lines" | sort | uniq -c >&2; }
    echo "$same $unknown $waits"
}
sw=(); sc=(); ow=(); oc=(); notes=()
for r in $(seq "$ROUNDS"); do
    start_daemon "$STOCK_D"
    read -r w c < <(LD_PRELOAD=$lvm_preload storm "stock$r" "$STOCK_LVM" pvscan --cache)
    read -r same unk waits < <(check "stock$r" "$work/ref-stock")
    sw+=("$w"); sc+=("$c"); notes+=("stock round $r: ${w} ms, cpu ${c} ms, state $same, unknown lines $unk, wait lines $waits")
    start_daemon "$OUR_D"
    read -r w c < <(LD_PRELOAD=$ours_preload storm "ours$r" "${OURS_CMD[@]}")
    read -r same unk waits < <(check "ours$r" "$work/ref-ours")
    ow+=("$w"); oc+=("$c"); notes+=("ours  round $r: ${w} ms, cpu ${c} ms, state $same, unknown lines $unk, wait lines $waits")
done
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%s\n' "${notes[@]}"
msw=$(med "${sw[@]}"); mow=$(med "${ow[@]}"); msc=$(med "${sc[@]}"); moc=$(med "${oc[@]}")
echo "MODE=$MODE devices=$N rounds=$ROUNDS cpus=$(nproc); $dm_note"
echo "  stock lvm + stock lvmetad : median wall ${msw} ms, cpu ${msc} ms"
echo "  ours ($MODE) + our lvmetad: median wall ${mow} ms, cpu ${moc} ms"
echo "  ratio ours/stock: wall $(echo "scale=3; $mow / $msw" | bc), cpu $(echo "scale=3; $moc / $msc" | bc); cpu floor of ours on $(nproc) cpus: $(echo "scale=0; $moc / $(nproc)" | bc) ms"
