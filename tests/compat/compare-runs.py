#!/usr/bin/env python3
"""Normalise and compare recorded runs of the compat scenario scripts.

Usage: compare-runs.py OUTDIR BASE RUN [RUN...]

OUTDIR/BASE and each OUTDIR/RUN hold the step files of one run (NN-name.{cmd,rc,out,err,
dump,info}, devices.txt, lvm.conf, daemon-died.txt); each is normalised into
OUTDIR/<run>.norm and every RUN is compared with BASE file by file.

Normalised: LVM UUIDs (xxxxxx-xxxx-xxxx-xxxx-xxxx-xxxx-xxxxxx) renumbered by order of first
appearance over the files of a run (in file-name order), LV creation_time and creation_host
values, daemon_pid and non-zero update_begin in get_global_info replies, the pid in
pvscan's "pvscan[PID] ..." lines. Not compared:
daemon.log (each daemon's own stderr).

Prints one line per step (same, or DIFF(parts) per run) and a RESULT line; exit status 0
if every run equals BASE, 1 otherwise.
"""
import os
import re
import sys

UUID = re.compile(rb'\b[A-Za-z0-9]{6}-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}'
                  rb'-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}-[A-Za-z0-9]{6}\b')
PARTS = ("rc", "out", "err", "dump", "info")
EXTRA = ("devices.txt", "lvm.conf", "daemon-died.txt")


def normalise(out, run):
    src, dst = os.path.join(out, run), os.path.join(out, run + ".norm")
    os.makedirs(dst, exist_ok=True)
    for f in os.listdir(dst):
        os.unlink(os.path.join(dst, f))
    ids = {}

    def sub(m):
        u = m.group(0)
        if u not in ids:
            ids[u] = b"UUID-%d" % (len(ids) + 1)
        return ids[u]

    for f in sorted(os.listdir(src)):
        path = os.path.join(src, f)
        if f == "daemon.log" or (f == "dump-errors.log" and os.path.getsize(path) == 0):
            continue
        data = open(path, "rb").read()
        data = UUID.sub(sub, data)
        data = re.sub(rb'creation_time ?= ?\d+', b'creation_time=<T>', data)
        data = re.sub(rb'creation_host ?= ?"[^"]*"', b'creation_host=<H>', data)
        data = re.sub(rb'(?m)^daemon_pid = \d+$', b'daemon_pid = <PID>', data)
        data = re.sub(rb'(?m)^update_begin = [1-9]\d*$', b'update_begin = <T>', data)
        data = re.sub(rb'pvscan\[\d+\]', b'pvscan[<PID>]', data)
        open(os.path.join(dst, f), "wb").write(data)
    return dst


def read(path):
    return open(path, "rb").read() if os.path.exists(path) else None


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    out, base, runs = sys.argv[1], sys.argv[2], sys.argv[3:]
    bdir = normalise(out, base)
    rdirs = [normalise(out, r) for r in runs]
    steps = sorted({f.rsplit(".", 1)[0] for d in [bdir] + rdirs
                    for f in os.listdir(d) if f[:2].isdigit()})
    bad = 0
    width = max([len(s) for s in steps] + [10])
    print("%-*s %s" % (width, "step", " ".join("%-24s" % r for r in runs)))
    for s in steps:
        cells = []
        for rdir in rdirs:
            diff = [p for p in PARTS
                    if read(os.path.join(bdir, s + "." + p)) != read(os.path.join(rdir, s + "." + p))]
            bad += len(diff)
            cells.append("same" if not diff else "DIFF(%s)" % ",".join(diff))
        print("%-*s %s" % (width, s, " ".join("%-24s" % c for c in cells)))
    for f in EXTRA:
        cells = []
        for rdir in rdirs:
            same = read(os.path.join(bdir, f)) == read(os.path.join(rdir, f))
            bad += not same
            cells.append("same" if same else "DIFF")
        if any(read(os.path.join(d, f)) is not None for d in [bdir] + rdirs):
            print("%-*s %s" % (width, f, " ".join("%-24s" % c for c in cells)))
    if bad:
        print("RESULT: %d differences (diff -r %s %s.norm)" % (bad, bdir, os.path.join(out, "<run>")))
    else:
        print("RESULT: all equal")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
