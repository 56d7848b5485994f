#!/usr/bin/env bash
# Full `pvscan --cache` scaling: for each N in NS, N loop devices of 8 MiB with a PV each
# (half of them in VGs of 8 PVs), and, alternating, ROUNDS times each:
#   stock: LVM2 2.02.188 `lvm pvscan --cache` into the stock lvmetad
#   ours : `lvmetad-pvscan --cache` into our lvmetad
#   ours->stock: `lvmetad-pvscan --cache` into the stock lvmetad
# Medians of wall time and of the command's CPU (user+sys), the ratio ours/stock, the
# per-device slope between the two largest N, and checks that both leave identical
# daemon dumps and print the same lines. Then the stock daemon's own cost: the requests
# of one stock `pvscan --cache` (recorded through a relaying proxy) replayed on one
# connection, back to back, into a fresh stock lvmetad and a fresh lvmetad of ours
# (the replaying client is Python; its own cost is in both figures).
#   REF=/path/to/2.02.188/prefix NS="64 256 900" ROUNDS=5 benches/full-scan.sh
# (root; N free loop devices; REF defaults to $LVM2_SRCDIR's built tree)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
NS=${NS:-64 256 900}; ROUNDS=${ROUNDS:-5}
if [ -n "${REF:-}" ]; then
    STOCK_LVM=$REF/sbin/lvm; STOCK_D=$REF/sbin/lvmetad
elif [ -n "${LVM2_SRCDIR:-}" ]; then
    STOCK_LVM=$LVM2_SRCDIR/tools/lvm; STOCK_D=$LVM2_SRCDIR/daemons/lvmetad/lvmetad
else
    echo "SKIP: set REF (stock LVM2 2.02.188 prefix) or LVM2_SRCDIR"; exit 0
fi
OURS=${OURS:-$top/target/release/lvmetad-pvscan}
OUR_D=${OUR_D:-$top/target/release/lvmetad}
work=$(mktemp -d /tmp/full-scan.XXXXXX)
loops=(); pids=()
. "$top/benches/loops.sh"
detach_all() {
    for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null || true; done
    # free loop devices stay in sysfs, where LVM looks at every one: remove them
    python3 -c '
import fcntl, os, sys
fd = os.open("/dev/loop-control", os.O_RDWR)
for d in sys.argv[1:]:
    try: fcntl.ioctl(fd, 0x4C81, int(d[len("/dev/loop"):]))
    except OSError: pass' "${loops[@]}" 2>/dev/null || true
    loops=()
}
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    detach_all
    rm -rf "$work"
}
trap cleanup EXIT
export LVM_SUPPRESS_FD_WARNINGS=1 LC_ALL=C
run() { # wall_ms cpu_ms of a command (output to $OUTF)
    python3 - "$OUTF" "$@" <<'EOP'
import os, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
o = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
t0 = time.monotonic()
pid = os.fork()
if pid == 0:
    os.dup2(o, 1); os.dup2(o, 2); os.execv(cmd[0], cmd)
_, _, ru = os.wait4(pid, 0)
w = time.monotonic() - t0
print(f"{w*1000:.1f} {(ru.ru_utime+ru.ru_stime)*1000:.1f}")
EOP
}
dump() { python3 - "$1" <<'EOP'
import socket,sys,re
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b'request = "dump"\ntoken = "skip"\n\n##\n'); b=b''
while not b.endswith(b'\n##\n'): b+=s.recv(65536)
sys.stdout.write(re.sub(r'(update_pid|update_begin|daemon_pid) = \d+', r'\1 = N', b[:-4].decode()))
EOP
}
start_daemon() { # binary socket
    rm -f "$2"
    "$1" -f -s "$2" -p "$2.pid" 2>/dev/null & pids+=($!)
    for _ in $(seq 200); do [ -S "$2" ] && break; sleep 0.02; done
}
bench_dm_once "$work"
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A RES
for N in $NS; do
    W=$work/n$N
    bench_loops "$W" "$N"
    bench_conf "$W"
    export LVM_SYSTEM_DIR=$W/etc
    start_daemon "$STOCK_D" "$W/s1"; start_daemon "$OUR_D" "$W/s2"
    LVM_LVMETAD_SOCKET=$W/s1 LD_PRELOAD=$lvm_preload "$STOCK_LVM" pvcreate -q "$W"/dev/pv* >/dev/null 2>&1
    for start in $(seq 0 8 $((N/2-1))); do
        LVM_LVMETAD_SOCKET=$W/s1 LD_PRELOAD=$lvm_preload "$STOCK_LVM" vgcreate -q vg$((start/8)) \
            $(for i in $(seq "$start" $((start+7))); do echo "$W/dev/pv$i"; done) >/dev/null 2>&1
    done
    sw=(); sc=(); ow=(); oc=(); xw=(); xc=()
    for r in $(seq "$ROUNDS"); do
        OUTF=$W/out.stock; read -r w c < <(LVM_LVMETAD_SOCKET=$W/s1 LD_PRELOAD=$lvm_preload run "$STOCK_LVM" pvscan --cache); sw+=("$w"); sc+=("$c")
        OUTF=$W/out.ours; read -r w c < <(LVM_LVMETAD_SOCKET=$W/s2 run "$OURS" --cache); ow+=("$w"); oc+=("$c")
        OUTF=$W/out.x; read -r w c < <(LVM_LVMETAD_SOCKET=$W/s1 run "$OURS" --cache); xw+=("$w"); xc+=("$c")
    done
    dump "$W/s1" > "$W/d1"; dump "$W/s2" > "$W/d2"
    same=DIFFERENT; cmp -s "$W/d1" "$W/d2" && same=identical
    outs=DIFFERENT; cmp -s "$W/out.stock" "$W/out.ours" && outs=identical
    # the stock daemon's own cost: record one stock scan's requests, replay them
    start_daemon "$STOCK_D" "$W/s3"
    python3 - "$W/s4" "$W/s3" "$W/reqs" <<'EOP' & pids+=($!)
import os, socket, sys, threading, pickle
lst, dst, out = sys.argv[1:4]
srv = socket.socket(socket.AF_UNIX); srv.bind(lst); srv.listen(8)
reqs = []
def relay(c):
    d = socket.socket(socket.AF_UNIX); d.connect(dst); buf = b''
    while True:
        b = c.recv(65536)
        if not b: break
        buf += b
        while b'\n##\n' in buf:
            m, buf = buf.split(b'\n##\n', 1); m += b'\n##\n'; reqs.append(m); d.sendall(m)
            r = b''
            while not r.endswith(b'\n##\n'): r += d.recv(65536)
            c.sendall(r)
    pickle.dump(reqs, open(out, 'wb'))
while True:
    c, _ = srv.accept(); threading.Thread(target=relay, args=(c,)).start()
EOP
    for _ in $(seq 200); do [ -S "$W/s4" ] && break; sleep 0.02; done
    LVM_LVMETAD_SOCKET=$W/s4 LD_PRELOAD=$lvm_preload "$STOCK_LVM" pvscan --cache >/dev/null 2>&1
    sleep 0.2
    start_daemon "$STOCK_D" "$W/s5"; start_daemon "$OUR_D" "$W/s6"
    replay() { python3 - "$1" "$W/reqs" <<'EOP'
import pickle, socket, sys, time
reqs = [r for r in pickle.load(open(sys.argv[2], 'rb')) if b'request = "hello"' not in r[:40]]
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b'request = "hello"\nprotocol = "lvmetad"\nversion = 1\n\n##\n')
b = b''
while not b.endswith(b'\n##\n'): b += s.recv(65536)
t0 = time.monotonic()
for m in reqs:
    s.sendall(m); b = b''
    while not b.endswith(b'\n##\n'): b += s.recv(65536)
print(f"{(time.monotonic()-t0)*1000:.1f} {len(reqs)}")
EOP
    }
    read -r rs nreq < <(replay "$W/s5"); read -r ro _ < <(replay "$W/s6")
    RES[$N]="$(med "${sw[@]}") $(med "${sc[@]}") $(med "${ow[@]}") $(med "${oc[@]}") $(med "${xw[@]}") $(med "${xc[@]}") $same $outs $rs $ro $nreq"
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=()
    detach_all
done
printf '%6s | %-22s | %-22s | %-7s | %-22s | %s\n' PVs "stock->stock wall/cpu" "ours->ours wall/cpu" ratio "ours->stock wall/cpu" "dump, output; replay of stock's requests (n) into stock / ours"
prev=; for N in $NS; do
    read -r a ac b bc x xc same outs rs ro n <<< "${RES[$N]}"
    printf '%6s | %8s ms %8s ms | %8s ms %8s ms | %5.2fx | %8s ms %8s ms | %s, %s; %s ms / %s ms (%s)\n' \
        "$N" "$a" "$ac" "$b" "$bc" "$(echo "$b / $a" | bc -l)" "$x" "$xc" "$same" "$outs" "$rs" "$ro" "$n"
done
set -- $NS; while [ $# -gt 2 ]; do shift; done
if [ $# -eq 2 ]; then
    read -r a1 _ b1 _ x1 _ <<< "${RES[$1]}"; read -r a2 _ b2 _ x2 _ <<< "${RES[$2]}"
    d=$(($2 - $1))
    echo "per additional device ($1 -> $2 PVs): stock $(echo "scale=3; ($a2 - $a1) / $d" | bc) ms, ours $(echo "scale=3; ($b2 - $b1) / $d" | bc) ms, ours into stock $(echo "scale=3; ($x2 - $x1) / $d" | bc) ms"
fi
echo "rounds=$ROUNDS cpus=$(nproc) ours=$OURS; $dm_note"
