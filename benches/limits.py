#!/usr/bin/env python3
"""The figures of docs/reliability.md, "Deep input and resource bounds": our lvmetad
and LVM2 2.02.188's, side by side in one run.

  deepest path key accepted in a request (pv_clear_all at the top level, and a
      vg_update with the key inside its metadata, sent twice)
  peak memory (VmHWM) after one request of N MiB of `a=1` lines
  idle clients held (RSS, threads)
  CPU used while out of descriptors (ticks over 2 s)

Usage (root): benches/limits.py OUR_LVMETAD [STOCK_LVMETAD]
  e.g. benches/limits.py target/release/lvmetad /path/to/LVM2.2.02.188/daemons/lvmetad/lvmetad
Environment: CLIENTS (default 5000), MIB (default 32).
"""
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time

CLIENTS = int(os.environ.get("CLIENTS", "5000"))
MIB = int(os.environ.get("MIB", "32"))


class Daemon:
    def __init__(self, binary):
        self.dir = tempfile.mkdtemp(prefix="limits-")
        self.sock = os.path.join(self.dir, "s")
        self.p = subprocess.Popen(
            [binary, "-f", "-s", self.sock, "-p", os.path.join(self.dir, "p")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(500):
            if os.path.exists(self.sock):
                try:
                    self.connect().close()
                    return
                except OSError:
                    pass
            time.sleep(0.01)
        raise RuntimeError("daemon did not start")

    def connect(self):
        s = socket.socket(socket.AF_UNIX)
        s.connect(self.sock)
        return s

    def alive(self):
        return self.p.poll() is None

    def status(self, name):
        for line in open(f"/proc/{self.p.pid}/status"):
            if line.startswith(name + ":"):
                return int(line.split()[1])
        return None

    def ticks(self):
        f = open(f"/proc/{self.p.pid}/stat").read().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12])

    def stop(self):
        if self.alive():
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def ask(s, body):
    s.sendall(body + b"\n##\n")
    r = b""
    while not r.endswith(b"\n##\n"):
        d = s.recv(1 << 20)
        if not d:
            return None
        r += d
    return r


def key(n):
    return b"a/" * (n - 1) + b"x"


def survives(binary, n, where):
    """Whether the daemon answers a request with an n-segment path key and still
    serves; the reply's first line."""
    d = Daemon(binary)
    try:
        s = d.connect()
        if where == "top":
            body = b'request = "pv_clear_all"\ntoken = "skip"\n' + key(n) + b" = 1\n"
            reps = 1
        else:
            body = (b'request = "vg_update"\ntoken = "skip"\nvgname = "vg"\nmetadata {\n'
                    b'id = "V"\nseqno = 1\n' + key(n) + b" = 1\n}\n")
            reps = 2
        r = None
        for _ in range(reps):
            try:
                r = ask(s, body)
            except OSError:
                r = None
            if r is None:
                break
        s.close()
        h = d.connect()
        ok = r is not None and d.alive() and ask(h, b'request = "hello"') is not None
        h.close()
        return ok, (r or b"(no reply)").split(b"\n")[0].decode()
    except OSError:
        return False, "(connection failed)"
    finally:
        d.stop()


def deepest(binary, where):
    rows = []
    for n in [512, 513, 514, 3000, 4012, 10_000, 100_000, 400_000, 1_000_000, 4_000_000]:
        ok, first = survives(binary, n, where)
        rows.append((n, ok, first))
        if not ok:
            break
    return rows


def peak_memory(binary):
    d = Daemon(binary)
    try:
        s = d.connect()
        ask(s, b'request = "hello"')
        before = d.status("VmHWM")
        body = b'request = "pv_clear_all"\ntoken = "skip"\n' + b"a=1\n" * (MIB << 18)
        r = ask(s, body)
        ask(s, b'request = "hello"')
        s.close()
        return before, d.status("VmHWM"), d.status("VmRSS"), (r or b"(none)").split(b"\n")[0].decode()
    finally:
        d.stop()


def idle_clients(binary):
    d = Daemon(binary)
    held = []
    try:
        for _ in range(CLIENTS):
            s = d.connect()
            s.sendall(b'request = "hello"\n##\n')
            held.append(s)
        answered = 0
        for s in held:
            s.settimeout(30)
            try:
                r = b""
                while not r.endswith(b"\n##\n"):
                    c = s.recv(4096)
                    if not c:
                        break
                    r += c
                answered += r.endswith(b"\n##\n")
            except OSError:
                pass
        return answered, d.status("Threads"), d.status("VmRSS"), d.alive()
    finally:
        for s in held:
            s.close()
        d.stop()


def out_of_fds(binary):
    d = Daemon(binary)
    held = []
    try:
        time.sleep(0.2)
        fds = [int(f) for f in os.listdir(f"/proc/{d.p.pid}/fd")]
        lim = max(fds) + 3
        subprocess.run(["prlimit", f"--pid={d.p.pid}", f"--nofile={lim}:{lim}"], check=True)
        for _ in range(lim - len(fds)):
            s = d.connect()
            ask(s, b'request = "hello"')
            held.append(s)
        extra = d.connect()
        extra.sendall(b'request = "hello"\n##\n')
        time.sleep(0.5)
        t0 = d.ticks()
        time.sleep(2)
        used = d.ticks() - t0
        held.pop().close()
        extra.settimeout(10)
        try:
            served = extra.recv(100).startswith(b"response")
        except OSError:
            served = False
        extra.close()
        return used, served
    finally:
        for s in held:
            s.close()
        d.stop()


def main():
    bins = [("ours", sys.argv[1])]
    if len(sys.argv) > 2:
        bins.append(("stock", sys.argv[2]))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, CLIENTS + 1000), hard))
    hz = os.sysconf("SC_CLK_TCK")
    for name, b in bins:
        print(f"== {name}: {b}")
        for where in ["top", "metadata"]:
            for n, ok, first in deepest(b, where):
                print(f"  path key, {where:8} {n:>9} segments: {'survives' if ok else 'DIED'}: {first}")
        before, peak, after, first = peak_memory(b)
        print(f"  {MIB} MiB request of a=1 lines: VmHWM {before} -> {peak} kB "
              f"(+{(peak - before) / 1024:.0f} MiB, {(peak - before) / (MIB * 1024):.1f}x), "
              f"RSS after {after} kB; reply {first}")
        answered, threads, rss, alive = idle_clients(b)
        print(f"  {CLIENTS} idle clients: {answered} answered, {threads} threads, RSS {rss} kB, "
              f"alive {alive}")
        used, served = out_of_fds(b)
        print(f"  out of descriptors: {used} ticks in 2 s ({100 * used / (2 * hz):.0f}% of a core); "
              f"served again after one client left: {served}")


main()
