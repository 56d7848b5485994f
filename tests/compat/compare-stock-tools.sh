#!/bin/bash
# Run tests/compat/stock-tools.sh once with the stock lvmetad and once with ours (same loop
# devices), normalise what legitimately differs between two runs, and diff the results.
#
# Usage:
#   REF=<stock LVM2 2.02.188 prefix> tests/compat/compare-stock-tools.sh [OUTDIR]
# Environment: DAEMON_A (default $REF/sbin/lvmetad), DAEMON_B (default
# target/release/lvmetad of this crate), UUID_MODE (passed on, default fixed).
# OUTDIR (default /tmp/lvmetad-stock-tools) gets a/ and b/ (raw) and a.norm/ b.norm/.
#
# Normalised: LVM UUIDs (xxxxxx-xxxx-xxxx-xxxx-xxxx-xxxx-xxxxxx) renumbered by order of
# first appearance over the files of a run (in file-name order), LV creation_time and
# creation_host values, daemon_pid and non-zero update_begin in get_global_info replies.
# Not compared: daemon.log (each daemon's own stderr).
# Exit status: 0 if everything compared equal (or skipped), 1 otherwise.

set -u
here=$(cd "$(dirname "$0")" && pwd)
[ -n "${REF:-}" ] || { echo "SKIP: REF (install prefix of the stock LVM2 2.02.188 tools) is not set"; exit 0; }
A=${DAEMON_A:-$REF/sbin/lvmetad}
B=${DAEMON_B:-$here/../../target/release/lvmetad}
OUT=${1:-/tmp/lvmetad-stock-tools}
rm -rf "$OUT/a" "$OUT/b" "$OUT/a.norm" "$OUT/b.norm"
mkdir -p "$OUT"

echo "== run A: $A"
res=$(DAEMON=$A "$here/stock-tools.sh" "$OUT/a") ; echo "$res"
case "$res" in SKIP:*) exit 0 ;; esac
LOOP_DEVS=$(tr '\n' ' ' < "$OUT/a/devices.txt")
echo "== run B: $B (devices $LOOP_DEVS)"
res=$(LOOP_DEVS=$LOOP_DEVS DAEMON=$B "$here/stock-tools.sh" "$OUT/b") ; echo "$res"
case "$res" in SKIP:*) echo "run B skipped: $res"; exit 1 ;; esac

python3 - "$OUT" <<'EOP'
import os, re, sys
out = sys.argv[1]
UUID = re.compile(rb'\b[A-Za-z0-9]{6}-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}-[A-Za-z0-9]{6}\b')
for run in ("a", "b"):
    src, dst = os.path.join(out, run), os.path.join(out, run + ".norm")
    os.makedirs(dst, exist_ok=True)
    ids = {}
    def sub(m):
        u = m.group(0)
        if u not in ids:
            ids[u] = b"UUID-%d" % (len(ids) + 1)
        return ids[u]
    for f in sorted(os.listdir(src)):
        if f in ("daemon.log",) or (f == "dump-errors.log" and os.path.getsize(os.path.join(src, f)) == 0):
            continue
        data = open(os.path.join(src, f), "rb").read()
        data = UUID.sub(sub, data)
        data = re.sub(rb'creation_time ?= ?\d+', b'creation_time=<T>', data)
        data = re.sub(rb'creation_host ?= ?"[^"]*"', b'creation_host=<H>', data)
        data = re.sub(rb'(?m)^daemon_pid = \d+$', b'daemon_pid = <PID>', data)
        data = re.sub(rb'(?m)^update_begin = [1-9]\d*$', b'update_begin = <T>', data)
        open(os.path.join(dst, f), "wb").write(data)
a, b = os.path.join(out, "a.norm"), os.path.join(out, "b.norm")
steps = sorted({f.rsplit(".", 1)[0] for f in os.listdir(a) if f[:2].isdigit()})
bad = 0
for s in steps:
    row = []
    for ext in ("rc", "out", "err", "dump", "info"):
        fa, fb = os.path.join(a, s + "." + ext), os.path.join(b, s + "." + ext)
        same = os.path.exists(fb) and open(fa, "rb").read() == open(fb, "rb").read()
        bad += not same
        row.append("%s=%s" % (ext, "same" if same else "DIFF"))
    print("%-30s %s" % (s, " ".join(row)))
for f in ("devices.txt", "lvm.conf", "daemon-died.txt"):
    ea, eb = os.path.exists(os.path.join(a, f)), os.path.exists(os.path.join(b, f))
    if ea or eb:
        same = ea and eb and open(os.path.join(a, f), "rb").read() == open(os.path.join(b, f), "rb").read()
        bad += not same
        print("%-30s %s" % (f, "same" if same else "DIFF"))
print("RESULT: %s" % ("all equal" if not bad else "%d differences (diff -r %s %s)" % (bad, a, b)))
sys.exit(1 if bad else 0)
EOP
rc=$?
[ $rc = 0 ] || diff -r "$OUT/a.norm" "$OUT/b.norm" | head -200
exit $rc
