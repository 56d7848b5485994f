#!/usr/bin/env python3
"""Record differential transcripts: hand-made lvmetad requests and the exact reply bytes.

Usage:
  record-differential.py --daemon /path/to/lvmetad [--out DIR] [--only NAME ...] [--list]
  record-differential.py --daemon /path/to/lvmetad --probe-abort

Every scenario starts a fresh daemon (`lvmetad -f -s SOCKET -p PIDFILE`) on a private
socket in a temporary directory, opens one or more client connections, sends the scenario's
requests one at a time (each request is written in one piece, then exactly one reply is
read) and writes a transcript in the layout of tests/data/captures (see the README there,
"Transcript layout") to DIR/<scenario>.txt. DIR defaults to tests/data/differential.

A scenario may ask for a pause before one of its steps; the transcript header then holds a
line `# @sleep step=<s> seconds=<n>` that tests/differential.rs obeys when replaying.

--probe-abort does not write transcripts: it sends the vg_update requests that make the
stock daemon exit and prints what happened (reply or EOF, exit status, files left behind).

Only the Python 3 standard library is used.
"""

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

TERM = b"\n##\n"
TOK = "filter:3108758531"
IP = "update in progress"

# ---------------------------------------------------------------------------------------
# Request text builders
# ---------------------------------------------------------------------------------------


class Raw:
    """A value written verbatim (e.g. `[]`)."""

    def __init__(self, text):
        self.text = text


EMPTY = Raw("[]")


class Sec:
    """A section: an ordered list of (key, value-or-Sec)."""

    def __init__(self, children):
        self.children = list(children)


def fmt_val(v):
    if isinstance(v, Raw):
        return v.text
    if isinstance(v, bool):
        raise TypeError("bool value")
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ",".join(fmt_val(x) for x in v) + "]"
    raise TypeError(repr(v))


def sec_lines(children, depth, eq):
    out = ""
    ind = "\t" * depth
    for k, v in children:
        if isinstance(v, Sec):
            out += "%s%s {\n" % (ind, k) + sec_lines(v.children, depth + 1, eq) + "%s}\n" % ind
        else:
            out += "%s%s%s%s\n" % (ind, k, eq, fmt_val(v))
    return out


def t_kv(k, v):
    """Tree-form top-level value node as daemon_request_extend writes it: `k =v`."""
    return "%s =%s\n" % (k, fmt_val(v))


def t_pvmeta(children):
    """Tree-form `pvmeta  {` section: children `key =value` at every depth."""
    return "pvmeta  {\n" + sec_lines(children, 1, " =") + "}\n"


def t_meta(children):
    """Tree-form `metadata  {` section: children (parsed from exported text) `key=value`."""
    return "metadata  {\n" + sec_lines(children, 1, "=") + "}\n"


def s_sec(key, children):
    """Simple-layout section: `key {`, children `key = value`."""
    return "%s {\n" % key + sec_lines(children, 1, " = ") + "}\n"


def s_kv(k, v):
    return "%s = %s\n" % (k, fmt_val(v))


def tree(req, *nodes, token=TOK, timeout=10, pid=4242, cmd="pvscan", tail=True):
    """A request the way lib/cache/lvmetad.c builds it (daemon_request_make + extend)."""
    out = 'request="%s"\n' % req if req is not None else ""
    out += "".join(nodes)
    if tail:
        if token is not None:
            out += t_kv("token", token)
        if timeout is not None:
            out += t_kv("update_timeout", timeout)
        if pid is not None:
            out += t_kv("pid", pid)
        if cmd is not None:
            out += t_kv("cmd", cmd)
    return out.encode()


def simple(req, *fields, token="skip", pid=1, cmd="x", tail=True):
    """A request the way daemon_send_simple()/lvmetactl build it: `k = "v"` lines.
    fields are (key, value) pairs or already-rendered strings (sections)."""
    out = 'request = "%s"\n' % req if req is not None else ""
    for f in fields:
        out += f if isinstance(f, str) else s_kv(*f)
    if tail:
        if token is not None:
            out += s_kv("token", token)
        if pid is not None:
            out += s_kv("pid", pid)
        if cmd is not None:
            out += s_kv("cmd", cmd)
    return out.encode()


def ggi(pid=1, cmd="x"):
    return simple("get_global_info", pid=pid, cmd=cmd)


def dump():
    return b'request = "dump"\ntoken = "skip"\n'


# ---------------------------------------------------------------------------------------
# Test data: ids, PV descriptions, VG metadata
# ---------------------------------------------------------------------------------------

ALNUM = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def uid(tag):
    """A deterministic LVM-style id (32 characters grouped 6-4-4-4-4-4-6)."""
    r = random.Random("lvmetad-differential:" + tag)
    s = "".join(r.choice(ALNUM) for _ in range(32))
    parts = [s[0:6], s[6:10], s[10:14], s[14:18], s[18:22], s[22:26], s[26:32]]
    return "-".join(parts)


def dev(minor):
    return (7 << 8) | minor


def pvm(device, pvid, dev_size=33554432, mda_ignore=0, free=1016, mdas=1, extra=(), omit=()):
    """pvmeta children in lvmetad_pv_found() order."""
    ch = [
        ("device", device),
        ("dev_size", dev_size),
        ("format", "lvm2"),
        ("label_sector", 1),
        ("id", pvid),
        ("ext_version", 2),
        ("ext_flags", 1),
    ]
    for i in range(mdas):
        ch.append(("mda%d" % i, Sec([("ignore", mda_ignore), ("start", 4096 if i == 0 else 32505856),
                                       ("size", 1044480), ("free_sectors", free)])))
    ch.append(("da0", Sec([("offset", 1048576), ("size", 0)])))
    ch.extend(extra)
    return [c for c in ch if c[0] not in omit]


def pv_entry(pvid, path=None, status="ALLOCATABLE", pe_count=7, device_first=False, extra=()):
    ch = []
    if device_first and path:
        ch.append(("device", path))
    ch.append(("id", pvid))
    if path and not device_first:
        ch.append(("device", path))
    if status is not None:
        ch.append(("status", status))
    ch += [("flags", EMPTY), ("dev_size", 65536), ("pe_start", 2048), ("pe_count", pe_count)]
    ch.extend(extra)
    return Sec(ch)


def lv_section(lvs):
    out = []
    for name, lvid, pvname in lvs:
        out.append((name, Sec([
            ("id", lvid),
            ("status", ["READ", "WRITE", "VISIBLE"]),
            ("flags", EMPTY),
            ("creation_time", 1700000000),
            ("creation_host", "recorder"),
            ("segment_count", 1),
            ("segment1", Sec([
                ("start_extent", 0),
                ("extent_count", 2),
                ("type", "striped"),
                ("stripe_count", 1),
                ("stripes", [pvname, 0]),
            ])),
        ])))
    return Sec(out)


def vgm(vgid, seqno, pvs, lvs=(), extent_size=8192, extra=(), omit=()):
    """VG metadata children. pvs: list of Sec (pv entries) or (pvid, path) tuples."""
    entries = []
    for i, p in enumerate(pvs):
        if isinstance(p, tuple):
            p = pv_entry(*p)
        entries.append(("pv%d" % i, p))
    ch = [
        ("id", vgid),
        ("seqno", seqno),
        ("format", "lvm2"),
        ("status", ["RESIZEABLE", "READ", "WRITE"]),
        ("flags", EMPTY),
        ("extent_size", extent_size),
        ("max_lv", 0),
        ("max_pv", 0),
        ("metadata_copies", 0),
        ("physical_volumes", Sec(entries)),
    ]
    if lvs:
        ch.append(("logical_volumes", lv_section(lvs)))
    ch.extend(extra)
    return [c for c in ch if c[0] not in omit]


def pv_found(pvmeta, vgname=None, meta=None, token=TOK, pid=4242, cmd="pvscan"):
    nodes = [t_pvmeta(pvmeta)]
    if meta is not None:
        if vgname is not None:
            nodes.append(t_kv("vgname", vgname))
        nodes.append(t_meta(meta))
    return tree("pv_found", *nodes, token=token, pid=pid, cmd=cmd)


def vg_update(vgname, meta, token=TOK, pid=4242, cmd="vgchange"):
    return tree("vg_update", t_kv("vgname", vgname), t_meta(meta), token=token, pid=pid, cmd=cmd)


# ---------------------------------------------------------------------------------------
# Scenario description
# ---------------------------------------------------------------------------------------


class Scenario:
    def __init__(self, name, title, covers):
        self.name = name
        self.title = title
        self.covers = covers
        self.steps = []  # (description, [(conn, body)], sleep_before)
        self._sleep = 0

    def sleep(self, seconds):
        self._sleep = seconds

    def send(self, desc, body, conn=1, raw=False, replies=1):
        """One request. raw: body is written verbatim (terminators included by the caller);
        replies: how many replies the daemon sends back for it."""
        self.steps.append((desc, [(conn, body, raw, replies)], self._sleep))
        self._sleep = 0


    def set_token(self, token=TOK, pid=1, conn=1, cmd="pvscan"):
        self.send("token_update to %r, pid %d (start an update)" % (IP, pid),
                  tree("token_update", token=IP, pid=pid, cmd=cmd), conn)
        self.send("token_update to %r, pid %d (finish it: token installed)" % (token, pid),
                  tree("token_update", token=token, pid=pid, cmd=cmd), conn)


SCENARIOS = []


def scenario(fn):
    SCENARIOS.append(fn)
    return fn


# ---------------------------------------------------------------------------------------
# The scenarios
# ---------------------------------------------------------------------------------------


@scenario
def s01():
    s = Scenario("01-token-update-rows", "token_update: every row of the token state machine",
                 "not updating + non-IP token (no-op), start, token_updating, finish by another "
                 "pid (token_mismatch), ownership check (token IP from another pid, pid 0), "
                 "finish by the same pid, non-IP token while a token is set; get_global_info "
                 "after each change")
    s.send("hello", b'request = "hello"\n')
    s.send("get_global_info on a fresh daemon", ggi())
    s.send("token_update %r pid 100 while not updating (no-op, prev_token \"\")" % TOK,
           tree("token_update", token=TOK, pid=100))
    s.send("get_global_info: token still none", ggi())
    s.send("token_update IP pid 100 update_timeout 10 (start)", tree("token_update", token=IP, pid=100))
    s.send("get_global_info during the update", ggi())
    s.send("token_update IP pid 200 (token_updating)", tree("token_update", token=IP, pid=200))
    s.send("token_update %r pid 200 (finish by another pid: token_mismatch)" % TOK,
           tree("token_update", token=TOK, pid=200))
    s.send("pv_list token IP pid 200 (ownership token_mismatch)", tree("pv_list", token=IP, pid=200))
    s.send("pv_list token IP pid 0 (not rejected)", tree("pv_list", token=IP, pid=0))
    s.send("pv_list token IP without pid field (not rejected)", tree("pv_list", token=IP, pid=None))
    s.send("dump token IP pid 200 (ownership token_mismatch)",
           tree("dump", token=IP, pid=200, cmd="lvmetactl"))
    s.send("pv_list token %r pid 100 during the update (token_mismatch expected IP)" % TOK,
           tree("pv_list", token=TOK, pid=100))
    s.send("get_global_info token IP pid 100 (owner)", simple("get_global_info", token=IP, pid=100))
    s.send("token_update %r pid 100 (finish by the owner)" % TOK, tree("token_update", token=TOK, pid=100))
    s.send("get_global_info: token set", ggi())
    s.send("token_update \"filter:7\" pid 100 while not updating (no-op)",
           tree("token_update", token="filter:7", pid=100))
    s.send("token_update \"\" (empty token = absent = \"NONE\") while not updating",
           tree("token_update", token="", pid=100))
    s.send("get_global_info: token unchanged", ggi())
    s.send("pv_list with the token", tree("pv_list", pid=100))
    s.send("pv_list with token \"filter:7\" (token_mismatch)", tree("pv_list", token="filter:7", pid=100))
    s.send("dump", dump())
    return s


@scenario
def s02():
    s = Scenario("02-token-update-takeover", "token_update: take-over of a running update, odd timeouts, "
                 "truncation", "stored update_timeout 0 (immediate take-over, prev_token IP), late "
                 "finish by the replaced pid, update_timeout -1 (never times out), pid 0 as owner, "
                 "update_cmd truncated to 31 bytes, token truncated to 127 bytes")
    s.send("token_update IP pid 100 update_timeout 0", tree("token_update", token=IP, pid=100, timeout=0))
    s.send("get_global_info (timeout 0 never expires here)", ggi())
    s.send("token_update IP pid 200 update_timeout 10 (take-over)", tree("token_update", token=IP, pid=200))
    s.send("get_global_info", ggi())
    s.send("token_update %r pid 100 (replaced pid: token_mismatch)" % TOK, tree("token_update", token=TOK, pid=100))
    s.send("pv_clear_all token IP pid 100 (ownership token_mismatch)", tree("pv_clear_all", token=IP, pid=100))
    s.send("token_update %r pid 200 (finish)" % TOK, tree("token_update", token=TOK, pid=200))
    s.send("token_update IP pid 300 update_timeout -1", tree("token_update", token=IP, pid=300, timeout=-1))
    s.send("token_update IP pid 400 (token_updating: -1 compares as huge unsigned)",
           tree("token_update", token=IP, pid=400))
    s.send("get_global_info (update_timeout = -1)", ggi())
    s.send("token_update \"filter:2\" pid 300 (finish)", tree("token_update", token="filter:2", pid=300))
    s.send("token_update IP without pid, cmd of 40 characters",
           tree("token_update", token=IP, pid=None, cmd="c" * 20 + "d" * 20))
    s.send("get_global_info (update_pid 0, update_cmd truncated)", ggi())
    s.send("pv_list token IP pid 77 (update_pid 0: not rejected)", tree("pv_list", token=IP, pid=77))
    s.send("token_update %r pid 77 (update_pid 0 != 77: token_mismatch)" % TOK,
           tree("token_update", token=TOK, pid=77))
    long_tok = "filter:" + "".join(str(i % 10) for i in range(193))  # 200 bytes
    s.send("token_update with a 200-byte token, no pid (finish by pid 0; stored truncated)",
           tree("token_update", token=long_tok, pid=None))
    s.send("get_global_info (token truncated to 127 bytes)", ggi())
    s.send("pv_list with the 200-byte token (token_mismatch)", tree("pv_list", token=long_tok))
    s.send("pv_list with its first 127 bytes (accepted)", tree("pv_list", token=long_tok[:127]))
    s.send("token_update IP, pid 2^32+5 (C int: 5), no cmd field (\"NONE\")",
           tree("token_update", token=IP, pid=2 ** 32 + 5, cmd=None))
    s.send("get_global_info (update_pid 5, update_cmd NONE)", ggi())
    s.send("pv_list token IP pid 5 (owner)", tree("pv_list", token=IP, pid=5))
    s.send("pv_list token IP pid 2^32+6 (C int 6: ownership mismatch)", tree("pv_list", token=IP, pid=2 ** 32 + 6))
    s.send("token_update IP pid 6 update_timeout 2^32 (C int 0: immediate take-over)",
           tree("token_update", token=IP, pid=6, timeout=2 ** 32))
    s.send("get_global_info (update_timeout 0)", ggi())
    s.send("token_update 127-byte token, pid 6 (finish)", tree("token_update", token=long_tok[:127], pid=6))
    s.send("dump", dump())
    return s


@scenario
def s03():
    s = Scenario("03-token-update-simple-layout", "token_update and friends in the simple `k = \"v\"` "
                 "layout, on two connections", "the same state machine driven with "
                 "daemon_send_simple-style requests, a second client connection doing the "
                 "conflicting requests")
    def tu(token, pid, timeout=10, cmd="pvscan"):
        return simple("token_update", ("update_timeout", timeout), token=token, pid=pid, cmd=cmd)
    s.send("conn 1: hello", b'request = "hello"\n', 1)
    s.send("conn 2: hello", b'request = "hello"\n', 2)
    s.send("conn 1: token_update IP pid 100", tu(IP, 100), 1)
    s.send("conn 2: token_update IP pid 200 (token_updating)", tu(IP, 200), 2)
    s.send("conn 2: vg_list token IP pid 200 (ownership mismatch)", simple("vg_list", token=IP, pid=200), 2)
    s.send("conn 2: dump token IP pid 200 (ownership mismatch)", simple("dump", token=IP, pid=200), 2)
    s.send("conn 2: dump token \"bogus\" (answered)", simple("dump", token="bogus", pid=200), 2)
    s.send("conn 1: pv_clear_all token IP pid 100", simple("pv_clear_all", token=IP, pid=100), 1)
    s.send("conn 1: pv_found (simple layout) token IP pid 100",
           simple("pv_found", s_sec("pvmeta", pvm(dev(40), uid("s03-pv1"))), token=IP, pid=100), 1)
    s.send("conn 2: token_update %r pid 200 (token_mismatch)" % TOK, tu(TOK, 200), 2)
    s.send("conn 1: token_update %r pid 100 (finish)" % TOK, tu(TOK, 100), 1)
    s.send("conn 2: get_global_info", ggi(), 2)
    s.send("conn 2: pv_list (simple layout, token)", simple("pv_list", token=TOK), 2)
    s.send("conn 2: token_update \"filter:9\" (no-op)", tu("filter:9", 200), 2)
    s.send("conn 1: dump", dump(), 1)
    return s


@scenario
def s04():
    s = Scenario("04-token-mismatch", "token checks on a fresh and on a populated daemon",
                 "every request kind with a wrong token (token_mismatch, expected \"\" on a fresh "
                 "daemon), `skip`, missing token (\"NONE\"), dump exempt from the equality check")
    s.send("pv_list tree form token %r (fresh: expected \"\")" % TOK, tree("pv_list", pid=4242, cmd="pvs"))
    s.send("vg_list tree form", tree("vg_list", cmd="pvs"))
    s.send("pv_found tree form", pv_found(pvm(dev(40), uid("s04-pv1"))))
    s.send("vg_lookup tree form", tree("vg_lookup", t_kv("name", "vg0"), cmd="vgs"))
    s.send("get_global_info with token \"bogus\"", simple("get_global_info", token="bogus"))
    s.send("get_global_info without a token field (\"NONE\")", simple("get_global_info", token=None))
    s.send("set_global_info with token \"bogus\"", simple("set_global_info", ("global_disable", 1),
                                                            ("disable_reason", "DIRECT"), token="bogus"))
    s.send("get_global_info (unchanged)", ggi())
    s.send("dump with token \"bogus\" (answered)", simple("dump", token="bogus"))
    s.send("dump without token (answered)", b'request = "dump"\n')
    s.send("pv_list with token \"skip\" (accepted)", simple("pv_list", token="skip"))
    s.set_token()
    s.send("pv_list token \"none\" (what a command without a token sends)", tree("pv_list", token="none"))
    s.send("pv_found token \"filter:1\"", pv_found(pvm(dev(40), uid("s04-pv1")), token="filter:1"))
    s.send("vg_update token \"filter:1\" (rejected before any checks)",
           vg_update("vg0", vgm(uid("s04-vg0"), 1, [(uid("s04-pv1"), "/dev/loop40")]), token="filter:1"))
    s.send("vg_update with missing vgname but wrong token (token_mismatch, not an abort)",
           tree("vg_update", t_meta(vgm(uid("s04-vg0"), 1, [])), token="filter:1"))
    s.send("pv_gone token IP (token_mismatch)", tree("pv_gone", t_kv("device", dev(40)), token=IP))
    s.send("set_vg_info token \"\" (empty = absent = \"NONE\")",
           tree("set_vg_info", t_kv("version", 1), t_kv("name", "vg0"), token=""))
    s.send("pv_list with the token", tree("pv_list"))
    s.send("get_global_info with the token (accepted)", simple("get_global_info", token=TOK))
    s.send("dump token \"filter:1\"", simple("dump", token="filter:1"))
    return s


@scenario
def s05():
    s = Scenario("05-global-info-expiry", "get_global_info cancels a stuck update; token_update "
                 "takes over a timed-out update", "update_timeout 1 + 2 s pause; update_timeout 3 "
                 "checked immediately (still running) and after a 4 s pause; late finish by the "
                 "cancelled pid is a no-op; take-over of a timed-out update by token_update")
    s.send("token_update IP pid 100 update_timeout 1", tree("token_update", token=IP, pid=100, timeout=1))
    s.sleep(2)
    s.send("get_global_info after 2 s (update cancelled, token none)", ggi())
    s.send("token_update %r pid 100 (cancelled pid: no-op)" % TOK, tree("token_update", token=TOK, pid=100))
    s.send("get_global_info (token still none)", ggi())
    s.send("token_update IP pid 101 update_timeout 3", tree("token_update", token=IP, pid=101, timeout=3))
    s.send("get_global_info at once (update still running)", ggi())
    s.send("token_update IP pid 102 (token_updating)", tree("token_update", token=IP, pid=102))
    s.sleep(4)
    s.send("token_update IP pid 102 after 4 s (take-over, prev_token IP)",
           tree("token_update", token=IP, pid=102, timeout=10))
    s.send("get_global_info (pid 102 updating, timeout 10)", ggi())
    s.send("token_update %r pid 101 (replaced pid: token_mismatch)" % TOK,
           tree("token_update", token=TOK, pid=101))
    s.send("token_update %r pid 102 (finish)" % TOK, tree("token_update", token=TOK, pid=102))
    s.send("get_global_info", ggi())
    s.send("dump", dump())
    return s


@scenario
def s06():
    s = Scenario("06-set-global-info", "set_global_info: every disable_reason combination, "
                 "global_invalid", "each reason alone, combinations in any order, unknown / empty / "
                 "missing reason, accumulation, global_disable 2 and 0, global_invalid 1/0/2, the "
                 "`global_invalid {}` section in pv_list, vg_list, pv_lookup, vg_lookup; simple and "
                 "tree layouts")
    def sgi(*fields, token="skip"):
        return simple("set_global_info", *fields, token=token, cmd="lvmetactl")
    def off():
        return sgi(("global_disable", 0))
    for reason in ["DIRECT", "REPAIR", "DUPLICATES", "VGRESTORE"]:
        s.send("set_global_info global_disable 1 reason %r" % reason,
               sgi(("global_disable", 1), ("disable_reason", reason)))
        s.send("get_global_info", ggi())
        s.send("set_global_info global_disable 0", off())
    names = ["DIRECT", "REPAIR", "DUPLICATES", "VGRESTORE"]
    combos = []
    for mask in range(3, 16):
        chosen = [n for i, n in enumerate(names) if mask & (1 << i)]
        if len(chosen) > 1:
            combos.append(",".join(reversed(chosen)) if mask % 2 else " ".join(chosen))
    for reason in combos + ["xyz", "", "directREPAIRx", "DUPLICATE", "DIRECTDIRECT"]:
        s.send("set_global_info global_disable 1 reason %r" % reason,
               sgi(("global_disable", 1), ("disable_reason", reason)))
        s.send("get_global_info", ggi())
        s.send("set_global_info global_disable 0", off())
    s.send("set_global_info global_disable 1 without reason", sgi(("global_disable", 1)))
    s.send("get_global_info", ggi())
    s.send("set_global_info global_disable 1 reason REPAIR (accumulates)",
           sgi(("global_disable", 1), ("disable_reason", "REPAIR")))
    s.send("set_global_info global_disable 1 reason VGRESTORE (accumulates)",
           sgi(("global_disable", 1), ("disable_reason", "VGRESTORE")))
    s.send("get_global_info", ggi())
    s.send("set_global_info global_disable 2 reason DIRECT (no change)",
           sgi(("global_disable", 2), ("disable_reason", "DIRECT")))
    s.send("set_global_info reason DIRECT without global_disable (no change)",
           sgi(("disable_reason", "DIRECT")))
    s.send("get_global_info", ggi())
    s.send("set_global_info global_disable 0 (clears flag and all reasons)", off())
    s.send("get_global_info", ggi())
    s.send("set_global_info global_disable 0 reason DIRECT (reason ignored)",
           sgi(("global_disable", 0), ("disable_reason", "DIRECT")))
    s.send("set_global_info global_disable \"1\" (string: ignored)", sgi(("global_disable", "1"),
                                                                            ("disable_reason", "DIRECT")))
    s.send("get_global_info", ggi())
    s.send("set_global_info global_invalid 1", sgi(("global_invalid", 1)))
    s.send("get_global_info", ggi())
    s.send("set_global_info global_invalid 2 (no change)", sgi(("global_invalid", 2)))
    s.send("get_global_info", ggi())
    s.send("set_global_info global_invalid 0 global_disable 1 reason DIRECT together",
           sgi(("global_invalid", 0), ("global_disable", 1), ("disable_reason", "DIRECT")))
    s.send("get_global_info", ggi())
    s.send("set_global_info tree form global_invalid 1, global_disable 0",
           tree("set_global_info", t_kv("global_invalid", 1), t_kv("global_disable", 0), token="skip"))
    s.send("get_global_info", ggi())
    s.send("set_global_info tree form global_disable 1 reason \"DUPLICATES\"",
           tree("set_global_info", t_kv("global_disable", 1), t_kv("disable_reason", "DUPLICATES"),
                token="skip"))
    s.send("get_global_info", ggi())
    # global_invalid {} in list/lookup replies
    s.set_token()
    pv1, pv2, vgid = uid("s06-pv1"), uid("s06-pv2"), uid("s06-vg")
    s.send("pv_found pv1 (orphan)", pv_found(pvm(dev(40), pv1)))
    s.send("vg_update vg6 seqno 1 on pv1, pv2", vg_update("vg6", vgm(vgid, 1, [(pv1, "/dev/loop40"),
                                                                              (pv2, "/dev/loop41")])))
    s.send("pv_list (global_invalid section)", tree("pv_list", cmd="pvs"))
    s.send("vg_list (global_invalid section)", tree("vg_list", cmd="vgs"))
    s.send("pv_lookup by uuid (global_invalid section)", tree("pv_lookup", t_kv("uuid", pv1), cmd="pvs"))
    s.send("vg_lookup by name (global_invalid section)", tree("vg_lookup", t_kv("name", "vg6"), cmd="vgs"))
    s.send("set_global_info global_invalid 1 with the daemon token", sgi(("global_invalid", 1), token=TOK))
    s.send("set_global_info with token \"filter:1\" (token_mismatch)",
           sgi(("global_invalid", 0), token="filter:1"))
    s.send("get_global_info", ggi())
    s.send("pv_clear_all (flags survive)", tree("pv_clear_all"))
    s.send("get_global_info", ggi())
    s.send("pv_list", tree("pv_list", cmd="pvs"))
    s.send("dump", dump())
    return s


@scenario
def s07():
    s = Scenario("07-unknown-requests-and-bodies", "unknown request names, bodies that do not parse, "
                 "hello variants", "frobnicate, HELLO, pv_add, vg_by_uuid, a request without "
                 "`request`, `request = \"\"`, an integer request, each with skip and with a wrong "
                 "token; garbage and empty bodies (request/token \"NONE\"); hello with extra fields "
                 "and in tree form; first fresh, then with a token set")
    def unknown_set(tag):
        s.send("%s: frobnicate with skip" % tag, simple("frobnicate"))
        s.send("%s: HELLO with skip" % tag, simple("HELLO"))
        s.send("%s: pv_add with skip" % tag, simple("pv_add", ("uuid", "x")))
        s.send("%s: vg_by_uuid with skip (tree form)" % tag, tree("vg_by_uuid", t_kv("uuid", "x"), token="skip"))
        s.send("%s: no request field, token skip" % tag, b'token = "skip"\npid = 1\n')
        s.send("%s: request = \"\" with skip" % tag, b'request = ""\ntoken = "skip"\n')
        s.send("%s: request = 5 with skip" % tag, b'request = 5\ntoken = "skip"\n')
        s.send("%s: frobnicate with token \"wrong\"" % tag, simple("frobnicate", token="wrong"))
        s.send("%s: HELLO without token" % tag, simple("HELLO", token=None))
        s.send("%s: pv_add tree form with %r" % (tag, TOK), tree("pv_add", t_kv("uuid", "x")))
        s.send("%s: no request field, no token" % tag, b'pid = 1\ncmd = "x"\n')
        s.send("%s: garbage body" % tag, b'this is { not a valid [ config')
        s.send("%s: empty body" % tag, b'')
        s.send("%s: body of blanks only" % tag, b'   \n\t\n')
        s.send("%s: body with an unterminated section" % tag, b'request = "pv_list"\ntoken = "skip"\npvmeta {\n')
        s.send("%s: hello with extra fields" % tag,
               b'request = "hello"\ntoken = "xyz"\npid = 5\ncmd = "x"\nfoo = [1,2,3]\n')
        s.send("%s: hello in tree form" % tag, tree("hello", token="bogus"))
    s.send("hello", b'request = "hello"\n')
    unknown_set("fresh")
    s.set_token()
    unknown_set("token set")
    s.send("dump", dump())
    return s


@scenario
def s08():
    s = Scenario("08-parser-forms", "request text forms the dm_config parser accepts",
                 "all three layouts, comments, duplicate keys (first wins), single quotes, "
                 "escapes, octal/+ integers, strings where integers are expected, path keys, "
                 "one-element arrays (stored as scalars), empty arrays, floats inside stored "
                 "pvmeta, stray `0x` integers (parse error)")
    s.set_token()
    pv1 = uid("s08-pv1")
    s.send("vg_list with `k=v` (no blanks)", b'request="vg_list"\ntoken="' + TOK.encode() + b'"\n')
    s.send("vg_list with comments", b'# a comment\nrequest = "vg_list" # trailing\ntoken = "skip" #\n')
    s.send("duplicate request keys (first wins: pv_list)",
           b'request = "pv_list"\nrequest = "vg_list"\ntoken = "skip"\n')
    s.send("duplicate token keys (first wins: wrong token)",
           b'request = "pv_list"\ntoken = "bad"\ntoken = "skip"\n')
    s.send("single-quoted request name", b"request = 'vg_list'\ntoken = 'skip'\n")
    s.send("everything on one line", b'request = "vg_list" token = "skip" pid = 1')
    s.send("request name as a one-element array (string getter takes the first value)",
           b'request = ["vg_list"]\ntoken = "skip"\n')
    s.send("token as an array of two strings", b'request = "vg_list"\ntoken = ["skip", "x"]\n')
    s.send("set_global_info global_disable = 01 (octal 1)",
           b'request = "set_global_info"\ntoken = "skip"\nglobal_disable = 01\ndisable_reason = "REPAIR"\n')
    s.send("get_global_info", ggi())
    s.send("set_global_info global_disable = +0", b'request = "set_global_info"\ntoken = "skip"\nglobal_disable = +0\n')
    s.send("set_global_info global_invalid = 1.0 (float: ignored)",
           b'request = "set_global_info"\ntoken = "skip"\nglobal_invalid = 1.0\n')
    s.send("set_global_info global_invalid = 0x1 (parse error)",
           b'request = "set_global_info"\ntoken = "skip"\nglobal_invalid = 0x1\n')
    s.send("set_global_info global_invalid = 010 (octal 8: no change)",
           b'request = "set_global_info"\ntoken = "skip"\nglobal_invalid = 010\n')
    s.send("get_global_info", ggi())
    s.send("path key `a/b` at top level", b'request = "vg_list"\ntoken = "skip"\nx/y/z = 1\n')
    s.send("pv_found written with path keys pvmeta/id and pvmeta/device",
           ('request = "pv_found"\npvmeta/id = "%s"\npvmeta/device = %d\ntoken = "skip"\n'
            % (pv1, dev(40))).encode())
    s.send("pv_lookup by uuid", simple("pv_lookup", ("uuid", pv1)))
    pv2 = uid("s08-pv2")
    odd = [("device", dev(41)), ("id", pv2), ("ratio", Raw("1.5")), ("neg", -3),
           ("list", ["a", 1, Raw("2.25")]), ("one", ["x"]), ("empty", EMPTY),
           ("esc", 'q"uo\\te'), ("nl", "a\\nb"), ("sq", Raw("'single'")),
           ("weird#key", 1), ("sub", Sec([("deep", Sec([("deeper", 1)])), ("e", Sec([]))]))]
    s.send("pv_found whose pvmeta holds floats, arrays, escapes, a quoted odd key, nested "
           "and empty sections", simple("pv_found", s_sec("pvmeta", [
               (k if k != "weird#key" else '"weird#key"', v) for k, v in odd]), token=TOK))
    s.send("pv_lookup by uuid (how the daemon writes them back)", simple("pv_lookup", ("uuid", pv2)))
    s.send("pv_lookup device given as a string (absent)", b'request = "pv_lookup"\ndevice = "1833"\ntoken = "skip"\n')
    s.send("pv_lookup device = +1833", b'request = "pv_lookup"\ndevice = +1833\ntoken = "skip"\n')
    s.send("pv_lookup device = 03451 (octal 1833)", b'request = "pv_lookup"\ndevice = 03451\ntoken = "skip"\n')
    s.send("dump", dump())
    return s


@scenario
def s09():
    s = Scenario("09-pv-found-validation", "pv_found: the six validation failures",
                 "no pvmeta, pvmeta without id, without device (absent / string / float), metadata "
                 "without vgname, without metadata/id, without or with negative seqno; the cache is "
                 "unchanged afterwards")
    s.set_token()
    pv = uid("s09-pv1")
    vgid = uid("s09-vg")
    meta_ok = vgm(vgid, 1, [(pv, "/dev/loop40")])
    s.send("pv_found without pvmeta", tree("pv_found"))
    s.send("pv_found with only metadata", tree("pv_found", t_kv("vgname", "vg9"), t_meta(meta_ok)))
    s.send("pv_found pvmeta = 5 (value, not a section)", tree("pv_found", t_kv("pvmeta", 5)))
    s.send("pv_found pvmeta without id", pv_found(pvm(dev(40), pv, omit=("id",))))
    s.send("pv_found pvmeta with empty id", pv_found([("device", dev(40)), ("id", "")]))
    s.send("pv_found pvmeta with integer id", pv_found([("device", dev(40)), ("id", 5)]))
    s.send("pv_found pvmeta without device", pv_found(pvm(dev(40), pv, omit=("device",))))
    s.send("pv_found pvmeta device as a string", pv_found([("id", pv), ("device", "1832")]))
    s.send("pv_found pvmeta device as a float", pv_found([("id", pv), ("device", Raw("1832.0"))]))
    s.send("pv_found with metadata but no vgname", pv_found(pvm(dev(40), pv), None, meta_ok))
    s.send("pv_found with metadata and empty vgname", pv_found(pvm(dev(40), pv), "", meta_ok))
    s.send("pv_found with metadata without id", pv_found(pvm(dev(40), pv), "vg9",
                                                         vgm(vgid, 1, [(pv, None)], omit=("id",))))
    s.send("pv_found with metadata without seqno", pv_found(pvm(dev(40), pv), "vg9",
                                                            vgm(vgid, 1, [(pv, None)], omit=("seqno",))))
    s.send("pv_found with metadata seqno -1", pv_found(pvm(dev(40), pv), "vg9", vgm(vgid, -1, [(pv, None)])))
    s.send("pv_found with metadata seqno \"1\" (string)", pv_found(pvm(dev(40), pv), "vg9",
                                                                   vgm(vgid, "1", [(pv, None)])))
    s.send("pv_found with metadata no vgname and no id (vgname reported first)",
           pv_found(pvm(dev(40), pv), None, vgm(vgid, 1, [], omit=("id",))))
    s.send("pv_found with metadata no id and seqno -1 (vgid reported first)",
           pv_found(pvm(dev(40), pv), "vg9", vgm(vgid, -1, [], omit=("id",))))
    s.send("pv_list (empty)", tree("pv_list"))
    s.send("dump (empty)", dump())
    return s


@scenario
def s10():
    s = Scenario("10-pv-found-orphans", "pv_found of orphan PVs (no VG metadata)",
                 "new orphan (changed 1), identical repeat (changed 0), repeat with another "
                 "dev_size (changed 1, stored verbatim), repeat with a renamed key but equal values "
                 "(compare ignores keys: changed 0), a minimal pvmeta, seqno 0 metadata on a PV, "
                 "pv_list, pv_lookup, dump")
    s.set_token()
    pv1, pv2, pv3 = uid("s10-pv1"), uid("s10-pv2"), uid("s10-pv3")
    s.send("pv_found pv1 on 1832 (new orphan)", pv_found(pvm(dev(40), pv1)))
    s.send("pv_found pv1 on 1832 again, identical (changed 0)", pv_found(pvm(dev(40), pv1)))
    s.send("pv_found pv1 on 1832 with dev_size 65536 (changed 1)", pv_found(pvm(dev(40), pv1, dev_size=65536)))
    renamed = [("fmt" if k == "format" else k, v) for k, v in pvm(dev(40), pv1, dev_size=65536)]
    s.send("pv_found pv1 with key `format` renamed `fmt`, same values (changed 0)", pv_found(renamed))
    s.send("pv_found pv1 with one more trailing node (changed 1)",
           pv_found(pvm(dev(40), pv1, dev_size=65536, extra=[("ba0", Sec([("offset", 0), ("size", 0)]))])))
    s.send("pv_found pv2 on 1833 minimal pvmeta (device, id only)", pv_found([("device", dev(41)), ("id", pv2)]))
    s.send("pv_found pv2 again with id first (values compared in order: changed 1)",
           pv_found([("id", pv2), ("device", dev(41))]))
    s.send("pv_found pv3 on 1834 with VG metadata seqno 0 (metadata refused: status (null))",
           pv_found(pvm(dev(42), pv3), "vg10", vgm(uid("s10-vg"), 0, [(pv3, "/dev/loop42")])))
    s.send("pv_list", tree("pv_list", cmd="pvs"))
    s.send("pv_lookup pv1 by uuid", tree("pv_lookup", t_kv("uuid", pv1), cmd="pvs"))
    s.send("pv_lookup by device 1833", tree("pv_lookup", t_kv("device", dev(41)), cmd="pvs"))
    s.send("vg_list", tree("vg_list", cmd="vgs"))
    s.send("dump", dump())
    return s


@scenario
def s11():
    s = Scenario("11-pv-found-vg-partial-complete", "pv_found with VG metadata: partial, complete, "
                 "repeats", "first PV of a 3-PV VG (partial), second (partial), third (complete), "
                 "equal repeats with metadata (changed 0) and without metadata (seqno_before -1), "
                 "a PV whose mda is ignored, vg_lookup with merged pvmeta, pv_list, vg_list, dump")
    s.set_token()
    pv1, pv2, pv3 = uid("s11-pv1"), uid("s11-pv2"), uid("s11-pv3")
    vgid = uid("s11-vg")
    meta = vgm(vgid, 2, [(pv1, "/dev/loop40"), (pv2, "/dev/loop41"), (pv3, "/dev/loop42")],
               lvs=[("lv0", uid("s11-lv0"), "pv0")])
    s.send("token_update IP pid 10 (rescan starts)", tree("token_update", token=IP, pid=10))
    s.send("pv_clear_all", tree("pv_clear_all", token=IP, pid=10))
    s.send("pv_found pv1 with metadata seqno 2 (partial)", pv_found(pvm(dev(40), pv1), "vg11", meta, token=IP, pid=10))
    s.send("pv_found pv2 with the same metadata (partial)", pv_found(pvm(dev(41), pv2), "vg11", meta, token=IP, pid=10))
    s.send("pv_found pv3 with mda0 ignore=1 and no metadata (complete)",
           pv_found(pvm(dev(42), pv3, mda_ignore=1), token=IP, pid=10))
    s.send("token_update %r pid 10 (rescan ends)" % TOK, tree("token_update", token=TOK, pid=10))
    s.send("pv_found pv1 again, identical with metadata (changed 0)", pv_found(pvm(dev(40), pv1), "vg11", meta))
    s.send("pv_found pv2 again without metadata (seqno_before -1)", pv_found(pvm(dev(41), pv2)))
    s.send("pv_found pv2 with free_sectors changed (changed 1)", pv_found(pvm(dev(41), pv2, free=900), "vg11", meta))
    s.send("vg_lookup by name", tree("vg_lookup", t_kv("name", "vg11"), cmd="vgs"))
    s.send("vg_lookup by uuid and name", tree("vg_lookup", t_kv("uuid", vgid), t_kv("name", "vg11"), cmd="vgs"))
    s.send("pv_list", tree("pv_list", cmd="pvs"))
    s.send("vg_list", tree("vg_list", cmd="vgs"))
    s.send("pv_gone pv3 by device (VG partial again)", tree("pv_gone", t_kv("device", dev(42))))
    s.send("pv_found pv1 without metadata (partial)", pv_found(pvm(dev(40), pv1)))
    s.send("vg_lookup by uuid (pv3 MISSING)", tree("vg_lookup", t_kv("uuid", vgid), cmd="vgs"))
    s.send("dump", dump())
    return s


@scenario
def s12():
    s = Scenario("12-pv-found-device-reuse", "pv_found row 3: a new PV on a device that held another PV",
                 "orphan replaced by a new orphan; the only PV of a VG replaced (VG dropped, its "
                 "pvid_to_vgid entry removed); a PV of a 2-PV VG replaced by a PV of another VG; "
                 "the new pvid already present on another device (previous PV removed, then "
                 "`Ignore duplicate PV`, DUPLICATES flag); device mapping left behind by pv_gone "
                 "by uuid")
    s.set_token()
    a, b, c, d, e, f, g = (uid("s12-" + x) for x in "abcdefg")
    vg1, vg2, vg3 = uid("s12-vg1"), uid("s12-vg2"), uid("s12-vg3")
    s.send("pv_found A on 1832 (orphan)", pv_found(pvm(dev(40), a)))
    s.send("pv_found B on 1832 (new PV on a known device: A dropped)", pv_found(pvm(dev(40), b)))
    s.send("dump", dump())
    s.send("pv_found C on 1833 with vg1 metadata (C only)",
           pv_found(pvm(dev(41), c), "vg1", vgm(vg1, 1, [(c, "/dev/loop41")])))
    s.send("pv_found D on 1833, orphan (C dropped, vg1 removed)", pv_found(pvm(dev(41), d)))
    s.send("vg_list (vg1 gone)", tree("vg_list"))
    s.send("dump", dump())
    m2 = vgm(vg2, 3, [(e, "/dev/loop42"), (f, "/dev/loop43")])
    s.send("pv_found E on 1834 with vg2 (E, F)", pv_found(pvm(dev(42), e), "vg2", m2))
    s.send("pv_found F on 1835 with vg2", pv_found(pvm(dev(43), f), "vg2", m2))
    s.send("pv_found G on 1835 with vg3 metadata (G only): F replaced",
           pv_found(pvm(dev(43), g), "vg3", vgm(vg3, 1, [(g, "/dev/loop43")])))
    s.send("vg_lookup vg2 (F missing)", tree("vg_lookup", t_kv("name", "vg2")))
    s.send("dump", dump())
    s.send("pv_found E on 1835 (E already on 1834): G dropped, then duplicate",
           pv_found(pvm(dev(43), e), "vg2", m2))
    s.send("get_global_info (DUPLICATES)", ggi())
    s.send("pv_list", tree("pv_list"))
    s.send("vg_list", tree("vg_list"))
    s.send("dump", dump())
    s.send("pv_gone by uuid B (device 1832 mapping stays)", tree("pv_gone", t_kv("uuid", b)))
    s.send("pv_found A on 1832 (row 3, previous PV has no pvmeta)", pv_found(pvm(dev(40), a)))
    s.send("pv_gone by uuid A", tree("pv_gone", t_kv("uuid", a)))
    s.send("pv_found D on 1832 (D known on 1833; previous PV A has no pvmeta: D moves)",
           pv_found(pvm(dev(40), d)))
    s.send("pv_lookup by device 1833", tree("pv_lookup", t_kv("device", dev(41))))
    s.send("pv_lookup by device 1832", tree("pv_lookup", t_kv("device", dev(40))))
    s.send("dump", dump())
    return s


@scenario
def s13():
    s = Scenario("13-pv-found-duplicate", "pv_found row 4: a known PV seen on another device",
                 "same pvid on a second device (with and without VG metadata) → `Ignore duplicate "
                 "PV`, DUPLICATES flag, cache unchanged; row 5 (`Ignore PV for unknown state`) with "
                 "device 0; the original device still works")
    s.set_token()
    a, b, z = uid("s13-a"), uid("s13-b"), uid("s13-z")
    vgid = uid("s13-vg")
    m = vgm(vgid, 1, [(a, "/dev/loop40"), (b, "/dev/loop41")])
    s.send("pv_found A on 1832 with vg13", pv_found(pvm(dev(40), a), "vg13", m))
    s.send("pv_found B on 1833 with vg13", pv_found(pvm(dev(41), b), "vg13", m))
    s.send("pv_found A on 1835 (duplicate)", pv_found(pvm(dev(43), a)))
    s.send("get_global_info", ggi())
    s.send("pv_found B on 1836 with metadata (duplicate)", pv_found(pvm(dev(44), b), "vg13", m))
    s.send("pv_lookup A", tree("pv_lookup", t_kv("uuid", a)))
    s.send("pv_lookup device 1835 (not found)", tree("pv_lookup", t_kv("device", dev(43))))
    s.send("pv_found A on 1832 again (still fine, complete)", pv_found(pvm(dev(40), a), "vg13", m))
    s.send("pv_found Z on device 0 (new)", pv_found(pvm(0, z)))
    s.send("pv_found Z on device 0 again (unknown state)", pv_found(pvm(0, z)))
    s.send("pv_lookup device 0 (need PVID or device)", tree("pv_lookup", t_kv("device", 0)))
    s.send("pv_found Z on 1837 (old device 0 counts as none: new PV, mapping 0 stays)", pv_found(pvm(dev(45), z)))
    s.send("set_global_info global_disable 0", simple("set_global_info", ("global_disable", 0)))
    s.send("get_global_info", ggi())
    s.send("dump", dump())
    return s


@scenario
def s14():
    s = Scenario("14-pv-found-outdated", "pv_found with older and newer VG metadata; outdated PVs",
                 "an older copy of a VG on a returning PV (outdated_pvs in vg_lookup and dump, "
                 "order of several), a PV with ignored mda (not marked), vg_clear_outdated_pvs "
                 "(vgid / uuid instead / none / unknown), a newer copy found later (old PVs "
                 "marked outdated, metadata replaced)")
    s.set_token()
    a, b, c, d = (uid("s14-" + x) for x in "abcd")
    vgid = uid("s14-vg")
    def m(seq, pvs=(a, b, c)):
        return vgm(vgid, seq, [(p, "/dev/loop4%d" % i) for i, p in enumerate(pvs)])
    s.send("vg_update vg14 seqno 3 (A, B, C)", vg_update("vg14", m(3)))
    s.send("pv_found A with seqno 3 (partial)", pv_found(pvm(dev(40), a), "vg14", m(3)))
    s.send("pv_found B with older seqno 2 (outdated)", pv_found(pvm(dev(41), b), "vg14", m(2)))
    s.send("pv_found C with older seqno 1 (outdated)", pv_found(pvm(dev(42), c), "vg14", m(1)))
    s.send("pv_found C again with seqno 1 (already listed)", pv_found(pvm(dev(42), c), "vg14", m(1)))
    s.send("pv_found D (mda ignored) with older seqno 2 (not marked)",
           pv_found(pvm(dev(43), d, mda_ignore=1), "vg14", m(2, (a, b, c, d))))
    s.send("vg_lookup by uuid (outdated_pvs first)", tree("vg_lookup", t_kv("uuid", vgid), cmd="vgs"))
    s.send("dump (outdated mapping)", dump())
    s.send("vg_clear_outdated_pvs with uuid instead of vgid (failed)", tree("vg_clear_outdated_pvs", t_kv("uuid", vgid)))
    s.send("vg_clear_outdated_pvs without field (failed)", tree("vg_clear_outdated_pvs"))
    s.send("vg_clear_outdated_pvs unknown vgid (OK)", tree("vg_clear_outdated_pvs", t_kv("vgid", "nope")))
    s.send("vg_clear_outdated_pvs vgid", tree("vg_clear_outdated_pvs", t_kv("vgid", vgid)))
    s.send("vg_lookup by uuid (no outdated_pvs)", tree("vg_lookup", t_kv("uuid", vgid), cmd="vgs"))
    s.send("pv_found B with seqno 2 again (outdated again)", pv_found(pvm(dev(41), b), "vg14", m(2)))
    s.send("pv_gone B by device (outdated entry skipped in vg_lookup)", tree("pv_gone", t_kv("device", dev(41))))
    s.send("vg_lookup by name", tree("vg_lookup", t_kv("name", "vg14"), cmd="vgs"))
    s.send("dump", dump())
    # newer copy found later
    e, f = uid("s14-e"), uid("s14-f")
    vg2 = uid("s14-vg2")
    def m2(seq):
        return vgm(vg2, seq, [(e, "/dev/loop44"), (f, "/dev/loop45")])
    s.send("pv_found E with vg14b seqno 1", pv_found(pvm(dev(44), e), "vg14b", m2(1)))
    s.send("pv_found F with newer seqno 2 (E and F marked outdated, metadata replaced)",
           pv_found(pvm(dev(45), f), "vg14b", m2(2)))
    s.send("vg_lookup vg14b", tree("vg_lookup", t_kv("name", "vg14b"), cmd="vgs"))
    s.send("pv_found E with seqno 2 (equal now)", pv_found(pvm(dev(44), e), "vg14b", m2(2)))
    s.send("vg_update vg14b seqno 3 (outdated list kept)", vg_update("vg14b", m2(3)))
    s.send("vg_lookup vg14b", tree("vg_lookup", t_kv("name", "vg14b"), cmd="vgs"))
    s.send("vg_remove vg14 (drops its outdated list)", tree("vg_remove", t_kv("uuid", vgid)))
    s.send("dump", dump())
    return s


@scenario
def s15():
    s = Scenario("15-pv-found-vg-identity", "pv_found with metadata that renames a VG, reuses a name, "
                 "or differs at equal seqno", "same vgid new name (rename through pv_found, equal "
                 "and higher seqno), a second vgid with an existing name (both kept), equal seqno "
                 "with different content (ignored), status \"(null)\" for a PV whose VG has no "
                 "metadata")
    s.set_token()
    a, b, c, q1, q2 = (uid("s15-" + x) for x in ("a", "b", "c", "q1", "q2"))
    vga, vgb, vgx, vgy = uid("s15-vga"), uid("s15-vgb"), uid("s15-vgx"), uid("s15-vgy")
    s.send("pv_found A with vgA seqno 1", pv_found(pvm(dev(40), a), "vgA", vgm(vga, 1, [(a, "/dev/loop40")])))
    s.send("pv_found A with same vgid, name vgA2, seqno 1 (rename)",
           pv_found(pvm(dev(40), a), "vgA2", vgm(vga, 1, [(a, "/dev/loop40")])))
    s.send("vg_list", tree("vg_list"))
    s.send("pv_found A with name vgA3, seqno 2 (rename and newer)",
           pv_found(pvm(dev(40), a), "vgA3", vgm(vga, 2, [(a, "/dev/loop40")])))
    s.send("pv_found A with vgA3 seqno 2 but different extent_size (ignored, changed 0)",
           pv_found(pvm(dev(40), a), "vgA3", vgm(vga, 2, [(a, "/dev/loop40")], extent_size=4096)))
    s.send("vg_lookup vgA3", tree("vg_lookup", t_kv("name", "vgA3")))
    s.send("pv_found B with another vgid named vgA3 (second VG of that name)",
           pv_found(pvm(dev(41), b), "vgA3", vgm(vgb, 5, [(b, "/dev/loop41")])))
    s.send("vg_lookup vgA3 by name (multiple)", tree("vg_lookup", t_kv("name", "vgA3")))
    s.send("vg_lookup by uuid of the first", tree("vg_lookup", t_kv("uuid", vga)))
    s.send("vg_lookup by uuid of the second", tree("vg_lookup", t_kv("uuid", vgb)))
    s.send("vg_list", tree("vg_list"))
    s.send("pv_found C with the second vgid named vgA2, seqno 6 (rename of the second vgA3)",
           pv_found(pvm(dev(42), c), "vgA2", vgm(vgb, 6, [(b, "/dev/loop41"), (c, "/dev/loop42")])))
    s.send("vg_list", tree("vg_list"))
    s.send("dump", dump())
    # (null) status
    s.send("vg_update vgX listing Q1, Q2 (neither present)",
           vg_update("vgX", vgm(vgx, 1, [(q1, "/dev/loop46"), (q2, "/dev/loop47")])))
    s.send("vg_update vgY listing Q1 (vgX dropped, Q2 still mapped to vgX)",
           vg_update("vgY", vgm(vgy, 1, [(q1, "/dev/loop46")])))
    s.send("pv_found Q2 without metadata (status (null))", pv_found(pvm(dev(47), q2)))
    s.send("pv_found Q2 again (changed 0)", pv_found(pvm(dev(47), q2)))
    s.send("pv_list", tree("pv_list"))
    s.send("dump", dump())
    return s


@scenario
def s16():
    s = Scenario("16-vg-update", "vg_update: new VG, same/different content at equal seqno, lower and "
                 "higher seqno, rename, second VG with an existing name, PVs moving between VGs",
                 "metadata sanitising (PV `device` hints), one-element arrays, MISSING status "
                 "handling in vg_lookup, vg_update without metadata, vg_lookup by name → multiple")
    s.set_token()
    a, b, c, d = (uid("s16-" + x) for x in "abcd")
    v1, v2, v3 = uid("s16-vg1"), uid("s16-vg2"), uid("s16-vg3")
    s.send("vg_update without metadata (OK, no-op)", tree("vg_update", t_kv("vgname", "vg1")))
    pvs1 = [pv_entry(a, "/dev/loop40", status=["ALLOCATABLE"]),
            pv_entry(b, "/dev/loop41", device_first=True, status=["MISSING", "ALLOCATABLE"]),
            pv_entry(c, None, status=None),
            pv_entry(d, "/dev/loop43", status="MISSING", extra=[("device", "/dev/x"), ("device", "/dev/y")]),
            pv_entry(uid("s16-e"), "/dev/loop44", status=EMPTY)]
    s.send("vg_update vg1 seqno 1 (new VG; device hints, status arrays)", vg_update("vg1", vgm(v1, 1, pvs1)))
    s.send("vg_lookup vg1 (no PV present: MISSING everywhere)", tree("vg_lookup", t_kv("name", "vg1"), cmd="vgs"))
    s.send("pv_found A (already mapped to vg1 by the metadata: partial)", pv_found(pvm(dev(40), a)))
    s.send("pv_found B", pv_found(pvm(dev(41), b)))
    s.send("pv_found C", pv_found(pvm(dev(42), c, mdas=2)))
    s.send("pv_found D", pv_found([("device", dev(43)), ("id", d), ("dev_size", 5), ("dev_size", 6), ("x", 1)]))
    s.send("vg_lookup vg1 (pvmeta merged, MISSING removed)", tree("vg_lookup", t_kv("name", "vg1"), cmd="vgs"))
    s.send("vg_update vg1 seqno 1 identical (no-op)", vg_update("vg1", vgm(v1, 1, pvs1)))
    s.send("vg_update vg1 seqno 1 with different content (purge and re-add)",
           vg_update("vg1", vgm(v1, 1, pvs1, extent_size=4096)))
    s.send("vg_lookup vg1", tree("vg_lookup", t_kv("uuid", v1), cmd="vgs"))
    s.send("vg_update vg1 seqno 3 (A, B only)", vg_update("vg1", vgm(v1, 3, [(a, "/dev/loop40"), (b, "/dev/loop41")])))
    s.send("dump (C, D orphaned)", dump())
    s.send("vg_update vg1 lower seqno 2 (purge and re-add)", vg_update("vg1", vgm(v1, 2, [(a, "/dev/loop40")])))
    s.send("dump", dump())
    s.send("vg_update vg1 renamed vg1r, seqno 4", vg_update("vg1r", vgm(v1, 4, [(a, "/dev/loop40"), (b, "/dev/loop41")])))
    s.send("vg_lookup old name vg1 (unknown)", tree("vg_lookup", t_kv("name", "vg1"), cmd="vgs"))
    s.send("vg_lookup new name vg1r", tree("vg_lookup", t_kv("name", "vg1r"), cmd="vgs"))
    s.send("vg_update second VG named vg1r (other vgid), on C", vg_update("vg1r", vgm(v2, 1, [(c, "/dev/loop42")])))
    s.send("vg_lookup vg1r by name (multiple)", tree("vg_lookup", t_kv("name", "vg1r"), cmd="vgs"))
    s.send("vg_lookup by uuid of the second", tree("vg_lookup", t_kv("uuid", v2), cmd="vgs"))
    s.send("vg_list", tree("vg_list", cmd="vgs"))
    s.send("vg_update vg3 claiming B (B moves; vg1r keeps A)", vg_update("vg3", vgm(v3, 1, [(b, "/dev/loop41")])))
    s.send("vg_update vg3 seqno 2 claiming B and A (vg1r has no PV left: removed)",
           vg_update("vg3", vgm(v3, 2, [(b, "/dev/loop41"), (a, "/dev/loop40")])))
    s.send("vg_list", tree("vg_list", cmd="vgs"))
    s.send("vg_lookup vg1r by name (one left)", tree("vg_lookup", t_kv("name", "vg1r"), cmd="vgs"))
    s.send("vg_update vg3 seqno 3 with trailing top-level node after metadata",
           tree("vg_update", t_kv("vgname", "vg3"), t_meta(vgm(v3, 3, [(b, "/dev/loop41")])),
                t_kv("extra", "x")))
    s.send("vg_update vg3 seqno 4294967300 (seqno read as C int: 4)",
           vg_update("vg3", vgm(v3, 4294967300, [(b, "/dev/loop41")])))
    s.send("vg_lookup vg3", tree("vg_lookup", t_kv("name", "vg3"), cmd="vgs"))
    s.send("vg_update vg3 seqno 5", vg_update("vg3", vgm(v3, 5, [(b, "/dev/loop41")])))
    s.send("pv_list", tree("pv_list", cmd="pvs"))
    s.send("dump", dump())
    return s


@scenario
def s17():
    s = Scenario("17-vg-lookup", "vg_lookup resolution and failures",
                 "by name, by uuid, both, neither, empty strings, wrong pair (mapping incomplete), "
                 "unknown name / uuid, names differing in case, simple and tree layouts")
    s.set_token()
    a = uid("s17-a")
    v1, v2 = uid("s17-vg1"), uid("s17-vg2")
    s.send("vg_update vg1", vg_update("vg1", vgm(v1, 1, [(a, "/dev/loop40")])))
    s.send("vg_update vg2 (no PVs)", vg_update("vg2", vgm(v2, 7, [])))
    s.send("pv_found A", pv_found(pvm(dev(40), a)))
    s.send("vg_lookup by name", tree("vg_lookup", t_kv("name", "vg1")))
    s.send("vg_lookup by uuid", tree("vg_lookup", t_kv("uuid", v1)))
    s.send("vg_lookup by both", tree("vg_lookup", t_kv("uuid", v1), t_kv("name", "vg1")))
    s.send("vg_lookup neither", tree("vg_lookup"))
    s.send("vg_lookup with empty strings", tree("vg_lookup", t_kv("uuid", ""), t_kv("name", "")))
    s.send("vg_lookup uuid of vg1 with name vg2 (mapping incomplete)", tree("vg_lookup", t_kv("uuid", v1), t_kv("name", "vg2")))
    s.send("vg_lookup uuid of vg1 with unknown name", tree("vg_lookup", t_kv("uuid", v1), t_kv("name", "nope")))
    s.send("vg_lookup unknown uuid with name vg1", tree("vg_lookup", t_kv("uuid", "nope"), t_kv("name", "vg1")))
    s.send("vg_lookup unknown name", tree("vg_lookup", t_kv("name", "nope")))
    s.send("vg_lookup unknown uuid", tree("vg_lookup", t_kv("uuid", "nope")))
    s.send("vg_lookup name VG1 (case-sensitive)", tree("vg_lookup", t_kv("name", "VG1")))
    s.send("vg_lookup vg2 by name (empty physical_volumes)", tree("vg_lookup", t_kv("name", "vg2")))
    s.send("vg_lookup simple layout by uuid", simple("vg_lookup", ("uuid", v2)))
    s.send("vg_lookup simple layout, name empty, uuid given", simple("vg_lookup", ("name", ""), ("uuid", v1)))
    s.send("vg_lookup name as integer (absent)", b'request = "vg_lookup"\nname = 1\ntoken = "skip"\n')
    s.send("dump", dump())
    return s


@scenario
def s18():
    s = Scenario("18-set-vg-info", "set_vg_info and the vg_invalid flag",
                 "no version, -1, lower/equal (no-op), higher (vg_invalid {} in vg_lookup, "
                 "vgid_to_info in dump), vg_update clearing the flag, version 0, by name only, "
                 "unknown uuid with known name, two VGs with one name, rename and vg_remove "
                 "dropping the record")
    s.set_token()
    a = uid("s18-a")
    v1, v2 = uid("s18-vg1"), uid("s18-vg2")
    def svi(*nodes):
        return tree("set_vg_info", *nodes, cmd="lvcreate")
    s.send("vg_update vg1 seqno 2", vg_update("vg1", vgm(v1, 2, [(a, "/dev/loop40")])))
    s.send("set_vg_info without version", svi(t_kv("uuid", v1), t_kv("name", "vg1")))
    s.send("set_vg_info version -1", svi(t_kv("name", "vg1"), t_kv("uuid", v1), t_kv("version", -1)))
    s.send("set_vg_info version 1 (lower)", svi(t_kv("name", "vg1"), t_kv("uuid", v1), t_kv("version", 1)))
    s.send("set_vg_info version 2 (equal)", svi(t_kv("name", "vg1"), t_kv("uuid", v1), t_kv("version", 2)))
    s.send("dump (no vgid_to_info)", dump())
    s.send("set_vg_info version 3 (higher: invalid)", svi(t_kv("name", "vg1"), t_kv("uuid", v1), t_kv("version", 3)))
    s.send("vg_lookup vg1 (vg_invalid)", tree("vg_lookup", t_kv("name", "vg1")))
    s.send("dump (version 3, flags 1)", dump())
    s.send("vg_update vg1 seqno 3 (clears the flag)", vg_update("vg1", vgm(v1, 3, [(a, "/dev/loop40")])))
    s.send("vg_lookup vg1", tree("vg_lookup", t_kv("name", "vg1")))
    s.send("dump (flags 0, record kept)", dump())
    s.send("set_vg_info version 0 (invalidate unconditionally)", svi(t_kv("uuid", v1), t_kv("version", 0)))
    s.send("dump", dump())
    s.send("vg_update vg1 seqno 4 (clears: 4 >= 0)", vg_update("vg1", vgm(v1, 4, [(a, "/dev/loop40")])))
    s.send("set_vg_info by name only, version 10", svi(t_kv("name", "vg1"), t_kv("version", 10)))
    s.send("vg_update vg1 seqno 5 (5 < 10: flag stays)", vg_update("vg1", vgm(v1, 5, [(a, "/dev/loop40")])))
    s.send("vg_lookup vg1 by uuid (still invalid)", tree("vg_lookup", t_kv("uuid", v1)))
    s.send("dump", dump())
    s.send("set_vg_info unknown uuid + known name, version 20 (falls back to the name)",
           svi(t_kv("uuid", "nope"), t_kv("name", "vg1"), t_kv("version", 20)))
    s.send("set_vg_info unknown uuid, no name (no-op)", svi(t_kv("uuid", "nope"), t_kv("version", 30)))
    s.send("set_vg_info unknown name (no-op)", svi(t_kv("name", "nope"), t_kv("version", 30)))
    s.send("set_vg_info version 4294967297 (C int: 1, lower: no-op)",
           svi(t_kv("uuid", v1), t_kv("version", 4294967297)))
    s.send("set_vg_info simple layout version 21", simple("set_vg_info", ("uuid", v1), ("name", "-"), ("version", 21)))
    s.send("dump", dump())
    s.send("vg_update second VG named vg1 (other vgid) seqno 1", vg_update("vg1", vgm(v2, 1, [])))
    s.send("set_vg_info by name only, version 2 (the most recently added vg1)",
           svi(t_kv("name", "vg1"), t_kv("version", 2)))
    s.send("vg_lookup second vg1 by uuid", tree("vg_lookup", t_kv("uuid", v2)))
    s.send("dump", dump())
    s.send("vg_update first vg1 renamed vg1r seqno 6 (rename drops its record)",
           vg_update("vg1r", vgm(v1, 6, [(a, "/dev/loop40")])))
    s.send("vg_remove second vg1 (drops its record)", tree("vg_remove", t_kv("uuid", v2)))
    s.send("dump", dump())
    return s


@scenario
def s19():
    s = Scenario("19-pv-gone", "pv_gone by device, by uuid, unknown",
                 "no fields, unknown device, unknown uuid, known device (then repeated), by uuid "
                 "(device mapping left, VG of its only PV removed and PVs orphaned), device of a "
                 "PV removed by uuid (`PVID does not exist`), uuid + device, string / negative "
                 "device, VG with remaining PVs kept")
    s.set_token()
    a, b, c, d = (uid("s19-" + x) for x in "abcd")
    v1, v2 = uid("s19-vg1"), uid("s19-vg2")
    s.send("pv_found A on 1832 (orphan)", pv_found(pvm(dev(40), a)))
    s.send("pv_found B on 1833 with vg1 (B only)", pv_found(pvm(dev(41), b), "vg1", vgm(v1, 1, [(b, "/dev/loop41")])))
    m2 = vgm(v2, 1, [(c, "/dev/loop42"), (d, "/dev/loop43")])
    s.send("pv_found C on 1834 with vg2 (C, D)", pv_found(pvm(dev(42), c), "vg2", m2))
    s.send("pv_found D on 1835 with vg2", pv_found(pvm(dev(43), d), "vg2", m2))
    s.send("pv_gone without fields", tree("pv_gone"))
    s.send("pv_gone device 9999", tree("pv_gone", t_kv("device", 9999)))
    s.send("pv_gone unknown uuid", tree("pv_gone", t_kv("uuid", "nope")))
    s.send("pv_gone device \"1832\" (string: absent)", tree("pv_gone", t_kv("device", "1832")))
    s.send("pv_gone device -1832", tree("pv_gone", t_kv("device", -1832)))
    s.send("pv_gone device 1832 (A)", tree("pv_gone", t_kv("device", dev(40))))
    s.send("pv_gone device 1832 again", tree("pv_gone", t_kv("device", dev(40))))
    s.send("pv_gone uuid B (vg1 removed, B orphaned, device mapping stays)", tree("pv_gone", t_kv("uuid", b)))
    s.send("dump", dump())
    s.send("pv_gone device 1833 (mapping to B, no pvmeta)", tree("pv_gone", t_kv("device", dev(41))))
    s.send("pv_gone device 1834 (C; vg2 kept for D)", tree("pv_gone", t_kv("device", dev(42))))
    s.send("vg_lookup vg2 (C missing)", tree("vg_lookup", t_kv("name", "vg2")))
    s.send("pv_gone uuid D with device 1834 (D removed, mapping 1835 stays, vg2 removed)",
           tree("pv_gone", t_kv("uuid", d), t_kv("device", dev(42))))
    s.send("vg_list", tree("vg_list"))
    s.send("pv_list", tree("pv_list"))
    s.send("pv_gone simple layout device 1835", simple("pv_gone", ("device", dev(43))))
    s.send("dump", dump())
    return s


@scenario
def s20():
    s = Scenario("20-pv-lookup", "pv_lookup by uuid / device / neither / unknown; 32-bit device truncation",
                 "orphan and VG member replies, uuid given with a wrong device (device ignored), "
                 "device numbers >= 2^31 (stored in full by pv_found, truncated to a C int by "
                 "pv_lookup/pv_gone and in the dump), >= 2^32 aliasing a small device, a PV whose "
                 "pvid_to_vgid is #orphan")
    s.set_token()
    a, b, c, h1, h2 = (uid("s20-" + x) for x in ("a", "b", "c", "h1", "h2"))
    v1 = uid("s20-vg1")
    big1 = 2 ** 31 + 1832          # 2147485480
    big2 = 2 ** 32 + 1834          # 4294969130, low 32 bits 1834
    s.send("pv_found A on 1832 (orphan)", pv_found(pvm(dev(40), a)))
    s.send("pv_found B on 1833 with vg1", pv_found(pvm(dev(41), b), "vg1", vgm(v1, 1, [(b, "/dev/loop41"), (c, None)])))
    s.send("pv_found H1 on device 2^31+1832", pv_found(pvm(big1, h1)))
    s.send("pv_found H2 on device 2^32+1834", pv_found(pvm(big2, h2)))
    s.send("pv_lookup A by uuid", tree("pv_lookup", t_kv("uuid", a), cmd="pvs"))
    s.send("pv_lookup B by uuid", tree("pv_lookup", t_kv("uuid", b), cmd="pvs"))
    s.send("pv_lookup by device 1833", tree("pv_lookup", t_kv("device", dev(41)), cmd="pvs"))
    s.send("pv_lookup by uuid A and device 1833 (device ignored)",
           tree("pv_lookup", t_kv("uuid", a), t_kv("device", dev(41)), cmd="pvs"))
    s.send("pv_lookup neither", tree("pv_lookup", cmd="pvs"))
    s.send("pv_lookup empty uuid, no device", tree("pv_lookup", t_kv("uuid", ""), cmd="pvs"))
    s.send("pv_lookup unknown uuid", tree("pv_lookup", t_kv("uuid", "nope"), cmd="pvs"))
    s.send("pv_lookup unknown device 1836", tree("pv_lookup", t_kv("device", dev(44)), cmd="pvs"))
    s.send("pv_lookup uuid C (listed in vg1, no pvmeta)", tree("pv_lookup", t_kv("uuid", c), cmd="pvs"))
    s.send("pv_lookup H1 by device 2^31+1832 (truncated: not found)", tree("pv_lookup", t_kv("device", big1), cmd="pvs"))
    s.send("pv_lookup by device -2147481816 (same low 32 bits)", tree("pv_lookup", t_kv("device", big1 - 2 ** 32), cmd="pvs"))
    s.send("pv_lookup H1 by uuid", tree("pv_lookup", t_kv("uuid", h1), cmd="pvs"))
    s.send("pv_lookup by device 2^32+1834 (truncated to 1834: not found)", tree("pv_lookup", t_kv("device", big2), cmd="pvs"))
    s.send("pv_lookup by device 2^32+1832 (truncated to 1832: finds A)", tree("pv_lookup", t_kv("device", 2 ** 32 + 1832), cmd="pvs"))
    s.send("pv_gone by device 2^31+1832 (truncated, not > 0: not in cache)", tree("pv_gone", t_kv("device", big1)))
    s.send("pv_gone by device 2^32+1834 (truncated to 1834: not in cache)", tree("pv_gone", t_kv("device", big2)))
    s.send("dump (device_to_pvid keys printed as C int)", dump())
    s.send("vg_remove vg1 (B becomes #orphan in pvid_to_vgid)", tree("vg_remove", t_kv("uuid", v1)))
    s.send("pv_lookup B (no vgid line)", tree("pv_lookup", t_kv("uuid", b), cmd="pvs"))
    s.send("pv_found B again without metadata (#orphan)", pv_found(pvm(dev(41), b)))
    s.send("pv_lookup simple layout device 1833", simple("pv_lookup", ("device", dev(41))))
    s.send("pv_gone H1 by uuid", tree("pv_gone", t_kv("uuid", h1)))
    s.send("pv_list", tree("pv_list", cmd="pvs"))
    s.send("dump", dump())
    return s


@scenario
def s21():
    s = Scenario("21-vg-remove-clear-all", "vg_remove, vg_clear_outdated_pvs and pv_clear_all",
                 "vg_remove without uuid / with vgid instead / unknown / known (PVs #orphan), "
                 "vg_clear_outdated_pvs on a fresh cache, pv_clear_all emptying every table but "
                 "keeping token, update state and global flags")
    s.set_token()
    a, b = uid("s21-a"), uid("s21-b")
    v1 = uid("s21-vg1")
    m = vgm(v1, 2, [(a, "/dev/loop40"), (b, "/dev/loop41")])
    s.send("vg_clear_outdated_pvs vgid (nothing to clear)", tree("vg_clear_outdated_pvs", t_kv("vgid", v1)))
    s.send("pv_found A with vg1", pv_found(pvm(dev(40), a), "vg1", m))
    s.send("pv_found B with vg1 seqno 1 (outdated)", pv_found(pvm(dev(41), b), "vg1", vgm(v1, 1, [(a, None), (b, None)])))
    s.send("set_vg_info vg1 version 9", tree("set_vg_info", t_kv("uuid", v1), t_kv("version", 9)))
    s.send("vg_remove without uuid", tree("vg_remove"))
    s.send("vg_remove with vgid instead of uuid", tree("vg_remove", t_kv("vgid", v1)))
    s.send("vg_remove unknown uuid", tree("vg_remove", t_kv("uuid", "nope")))
    s.send("dump", dump())
    s.send("vg_remove vg1", tree("vg_remove", t_kv("uuid", v1)))
    s.send("vg_lookup vg1 (unknown)", tree("vg_lookup", t_kv("name", "vg1")))
    s.send("pv_list (no vgid)", tree("pv_list"))
    s.send("pv_found A without metadata (orphan reply)", pv_found(pvm(dev(40), a)))
    s.send("dump (#orphan in pvid_to_vgid, no info, no outdated)", dump())
    s.send("vg_remove simple layout, same uuid again", simple("vg_remove", ("uuid", v1)))
    s.send("vg_update vg1 again", vg_update("vg1", m))
    s.send("set_global_info global_disable 1 DIRECT, global_invalid 1",
           simple("set_global_info", ("global_invalid", 1), ("global_disable", 1), ("disable_reason", "DIRECT")))
    s.send("token_update IP pid 55", tree("token_update", token=IP, pid=55))
    s.send("pv_clear_all by the updater", tree("pv_clear_all", token=IP, pid=55))
    s.send("get_global_info (flags and update state kept)", ggi())
    s.send("dump (empty)", dump())
    s.send("pv_clear_all simple layout with skip", simple("pv_clear_all"))
    s.send("token_update %r pid 55" % TOK, tree("token_update", token=TOK, pid=55))
    s.send("pv_list", tree("pv_list"))
    s.send("vg_list", tree("vg_list"))
    return s


@scenario
def s22():
    s = Scenario("22-many-pvs", "40 PVs and 7 VGs: hash-chain order of pv_list, vg_list and dump",
                 "40 pv_found (devices 7:0..7:39 and a few large device numbers), 7 vg_update "
                 "(two VGs named vg2), 3 pv_gone, one PV re-added, a vg_remove, a rename; "
                 "pv_list, vg_list, dump after each phase")
    s.set_token()
    pvids = [uid("s22-pv%d" % i) for i in range(40)]
    devs = [dev(i) for i in range(36)] + [2 ** 20 + 5, 64768, 2049, 66305]
    s.send("token_update IP pid 22", tree("token_update", token=IP, pid=22))
    s.send("pv_clear_all", tree("pv_clear_all", token=IP, pid=22))
    for i in range(40):
        s.send("pv_found pv%d on %d" % (i, devs[i]), pv_found(pvm(devs[i], pvids[i]), token=IP, pid=22))
    s.send("token_update %r pid 22" % TOK, tree("token_update", token=TOK, pid=22))
    s.send("pv_list", tree("pv_list", cmd="pvs"))
    vgs = [("vg0", 0, 5), ("vg1", 5, 10), ("vg2", 10, 14), ("vg2", 14, 18), ("vgdata", 18, 24),
           ("vg_home", 24, 27), ("big-vg-name-" + "x" * 20, 27, 33)]
    vgids = []
    for n, (name, lo, hi) in enumerate(vgs):
        vgid = uid("s22-vg%d" % n)
        vgids.append(vgid)
        s.send("vg_update %s on pv%d..pv%d" % (name, lo, hi - 1),
               vg_update(name, vgm(vgid, 1 + n, [(pvids[i], "/dev/x%d" % i) for i in range(lo, hi)])))
    s.send("vg_list", tree("vg_list", cmd="vgs"))
    s.send("pv_list", tree("pv_list", cmd="pvs"))
    s.send("dump", dump())
    for i in (3, 17, 38):
        s.send("pv_gone device %d" % devs[i], tree("pv_gone", t_kv("device", devs[i])))
    s.send("pv_found pv17 again", pv_found(pvm(devs[17], pvids[17])))
    s.send("vg_remove vgdata", tree("vg_remove", t_kv("uuid", vgids[4])))
    s.send("vg_update vg0 renamed vg0new seqno 9", vg_update("vg0new", vgm(vgids[0], 9, [(pvids[i], None) for i in range(5)])))
    s.send("vg_list", tree("vg_list", cmd="vgs"))
    s.send("pv_list", tree("pv_list", cmd="pvs"))
    s.send("vg_lookup vg2 (multiple)", tree("vg_lookup", t_kv("name", "vg2"), cmd="vgs"))
    s.send("dump", dump())
    return s


@scenario
def s23():
    s = Scenario("23-simple-layout-all", "every request in the simple `k = \"v\"` layout",
                 "pv_found / vg_update with `pvmeta {` and `metadata {` sections written as "
                 "`key = value`, lookups, set_vg_info, pv_gone, vg_remove, lists and dump, with "
                 "token `skip` and with the daemon token")
    a, b = uid("s23-a"), uid("s23-b")
    v1 = uid("s23-vg1")
    meta = vgm(v1, 1, [(a, "/dev/loop40"), (b, "/dev/loop41")], lvs=[("lv0", uid("s23-lv0"), "pv0")])
    s.send("hello", b'request = "hello"\n')
    s.send("token_update IP (simple)", simple("token_update", ("update_timeout", 10), token=IP, pid=5))
    s.send("token_update token (simple)", simple("token_update", ("update_timeout", 10), token=TOK, pid=5))
    s.send("pv_found A with metadata (simple)",
           simple("pv_found", s_sec("pvmeta", pvm(dev(40), a)), ("vgname", "vg1"), s_sec("metadata", meta), token=TOK))
    s.send("pv_found B (simple, skip)", simple("pv_found", s_sec("pvmeta", pvm(dev(41), b))))
    s.send("vg_update vg1 seqno 2 (simple)",
           simple("vg_update", ("vgname", "vg1"), s_sec("metadata", vgm(v1, 2, [(a, "/dev/loop40"), (b, "/dev/loop41")]))))
    s.send("vg_lookup by name (simple)", simple("vg_lookup", ("name", "vg1")))
    s.send("vg_lookup by uuid and name (simple)", simple("vg_lookup", ("uuid", v1), ("name", "vg1"), token=TOK))
    s.send("pv_lookup by uuid (simple)", simple("pv_lookup", ("uuid", a)))
    s.send("pv_lookup by device (simple)", simple("pv_lookup", ("device", dev(41))))
    s.send("pv_list (simple)", simple("pv_list"))
    s.send("vg_list (simple)", simple("vg_list"))
    s.send("set_vg_info version 3 (simple)", simple("set_vg_info", ("name", "vg1"), ("uuid", v1), ("version", 3)))
    s.send("vg_lookup (vg_invalid)", simple("vg_lookup", ("uuid", v1)))
    s.send("vg_clear_outdated_pvs (simple)", simple("vg_clear_outdated_pvs", ("vgid", v1)))
    s.send("pv_gone device 1833 (simple)", simple("pv_gone", ("device", dev(41))))
    s.send("dump (simple, pid and cmd)", simple("dump", cmd="lvmetactl"))
    s.send("vg_remove (simple)", simple("vg_remove", ("uuid", v1)))
    s.send("pv_clear_all (simple, token)", simple("pv_clear_all", token=TOK))
    s.send("dump", dump())
    return s


@scenario
def s24():
    s = Scenario("24-strings-and-escaping", "strings with quotes, backslashes, newlines and non-ASCII "
                 "bytes travelling through the daemon", "simple replies insert strings raw "
                 "(token_mismatch, get_global_info, pv_found vgname), the tree writer escapes `\"` "
                 "and `\\` (vg_list, vg_lookup, pv_list), dump pairs are raw; unescaping of requests; "
                 "unterminated strings; keys that need quoting")
    q = 'fil"ter\\x'        # fil"ter\x
    s.send("token_update IP pid 1, cmd with a quote and a backslash",
           tree("token_update", token=IP, pid=1, cmd='pv"scan\\'))
    s.send("get_global_info (update_cmd written raw)", ggi())
    s.send("token_update to a token holding a quote and a backslash", tree("token_update", token=q, pid=1))
    s.send("get_global_info (token written raw)", ggi())
    s.send("pv_list with token \"other\" (expected written raw)", tree("pv_list", token="other"))
    s.send("pv_list with the escaped token (accepted)", tree("pv_list", token=q))
    s.send("pv_list with a token containing a raw newline and a tab",
           tree("pv_list", token="a\nb\tc"))
    s.send("pv_list with \\n written as backslash-n (kept verbatim)",
           b'request = "pv_list"\ntoken = "a\\nb"\n')
    a, b, c = uid("s24-a"), uid("s24-b"), uid("s24-c")
    names = ['v"g\\1', "vg \xfc\xdf \u2603", "vg\nnl"]
    vgids = [uid("s24-vg%d" % i) for i in range(3)]
    for i, (pv, name) in enumerate(zip((a, b, c), names)):
        s.send("pv_found with VG name %s" % ascii(name),
               pv_found(pvm(dev(40 + i), pv), name, vgm(vgids[i], 1, [(pv, "/dev/loop4%d" % i)]), token=q))
    s.send("vg_list (names escaped by the tree writer)", tree("vg_list", token=q))
    s.send("vg_lookup by the name with a quote", tree("vg_lookup", t_kv("name", names[0]), token=q))
    s.send("vg_lookup by the non-ASCII name", tree("vg_lookup", t_kv("name", names[1]), token=q))
    s.send("vg_lookup by the name with a newline (simple layout)",
           b'request = "vg_lookup"\nname = "vg\nnl"\ntoken = "skip"\n')
    s.send("pv_list", tree("pv_list", token=q))
    s.send("vg_lookup unterminated uuid string at end of body",
           ('request = "vg_lookup"\ntoken = "skip"\nuuid = "%s' % vgids[2]).encode())
    s.send("vg_lookup single-quoted name with a backslash (no escapes in single quotes)",
           b"request = 'vg_lookup'\ntoken = 'skip'\nname = 'v\"g\\1'\n")
    s.send("pv_found whose pvmeta has keys needing quotes and a raw-newline string",
           b'request = "pv_found"\npvmeta {\n\tdevice = 1999\n\tid = "odd-keys"\n\t"k!ey" = 1\n'
           b'\t"k\\"q" = 2\n\t"a b" = 3\n\t"t\\\\b" = 4\n\t"h#sh" = "x\ny"\n}\ntoken = "skip"\n')
    s.send("pv_lookup odd-keys", simple("pv_lookup", ("uuid", "odd-keys")))
    s.send("dump (pairs written raw)", dump())
    return s


@scenario
def s25():
    s = Scenario("25-odd-metadata", "unusual but parseable pvmeta and VG metadata",
                 "device numbers -1, 2^32-1, 2^63-1, -2^63; seqno above 2^32 (C int truncation) "
                 "and 2^31 (negative: refused); PV entries without id, with integer id, as values, "
                 "duplicated; physical_volumes as a value; metadata without PVs; status arrays with "
                 "MISSING in the middle / absent / empty; the merge_pvmeta `id`/`dev_size` quirk and "
                 "the filter_metadata `device` quirk with repeated nodes; duplicate keys and a second "
                 "metadata section; sections nested deeper than 32 levels; creation_time out of range")
    P = b'request = "pv_found"\ntoken = "skip"\n'
    s.send("pv_found device -1", P + b'pvmeta { device = -1 id = "P1" }')
    s.send("pv_lookup device -1", b'request = "pv_lookup"\ntoken = "skip"\ndevice = -1')
    s.send("pv_found device 2^63-1", P + b'pvmeta { device = 9223372036854775807 id = "P2" }')
    s.send("pv_lookup device 2^63-1 (C int -1: finds P1)", b'request = "pv_lookup"\ntoken = "skip"\ndevice = 9223372036854775807')
    s.send("pv_found device -2^63", P + b'pvmeta { device = -9223372036854775808 id = "P3" }')
    s.send("pv_found device 2^32-1", P + b'pvmeta { device = 4294967295 id = "P4" }')
    s.send("pv_gone device 2^32-1 (C int -1: not > 0)", b'request = "pv_gone"\ntoken = "skip"\ndevice = 4294967295')
    s.send("pv_found device 2^64 (out of range: parse error)", P + b'pvmeta { device = 18446744073709551616 id = "P0" }')
    s.send("pv_found with seqno 2^32+1 (read as 1)",
           P + b'pvmeta { device = 5 id = "P5" }\nvgname = "v1"\nmetadata { id = "V1" seqno = 4294967297 physical_volumes { pv0 { id = "P5" } } }')
    s.send("pv_found with seqno 2^31 (negative as C int: refused)",
           P + b'pvmeta { device = 6 id = "P6" }\nvgname = "v1"\nmetadata { id = "V1" seqno = 2147483648 physical_volumes { pv0 { id = "P5" } } }')
    s.send("pv_found with seqno 1 (equal to the truncated cached seqno)",
           P + b'pvmeta { device = 6 id = "P6" }\nvgname = "v1"\nmetadata { id = "V1" seqno = 1 physical_volumes { pv0 { id = "P5" } pv1 { id = "P6" } } }')
    s.send("vg_lookup v1", b'request = "vg_lookup"\ntoken = "skip"\nname = "v1"')
    s.send("pv_found with odd PV entries",
           P + b'pvmeta { device = 7 id = "P7" }\nvgname = "v2"\nmetadata { id = "V2" seqno = 3 physical_volumes { pv0 { id = 5 } pv1 { x = 1 } pv2 = 3 pv3 { id = "P7" } pv3 { id = "P7" } } }')
    s.send("vg_lookup v2", b'request = "vg_lookup"\ntoken = "skip"\nname = "v2"')
    s.send("pv_found with physical_volumes = 5",
           P + b'pvmeta { device = 8 id = "P8" }\nvgname = "v3"\nmetadata { id = "V3" seqno = 1 physical_volumes = 5 }')
    s.send("vg_lookup v3", b'request = "vg_lookup"\ntoken = "skip"\nname = "v3"')
    s.send("pv_found with vgname but no metadata (vgname ignored)",
           P + b'pvmeta { device = 9 id = "P9" }\nvgname = "v4"')
    s.send("pv_found with metadata = 5 (a value)",
           P + b'pvmeta { device = 10 id = "P10" }\nvgname = "v4"\nmetadata = 5')
    s.send("pv_found with metadata holding only id and seqno",
           P + b'pvmeta { device = 10 id = "P10" }\nvgname = "v4"\nmetadata { id = "V4" seqno = 1 }')
    s.send("vg_lookup v4", b'request = "vg_lookup"\ntoken = "skip"\nname = "v4"')
    s.send("pv_found with status arrays",
           P + b'pvmeta { device = 11 id = "P11" }\nvgname = "v5"\nmetadata { id = "V5" seqno = 1 physical_volumes { '
           b'pv0 { id = "P11" status = ["A","MISSING","B"] } pv1 { id = "PX" status = ["A","B"] } pv2 { id="PY" status = [] } '
           b'pv3 { id="PZ" flags = 1 } pv4 { id = "P11" status = ["MISSING"] } pv5 { id = "P11" status = ["MISSING", "C"] } } }')
    s.send("vg_lookup v5", b'request = "vg_lookup"\ntoken = "skip"\nname = "v5"')
    s.send("pv_found with repeated id/dev_size in pvmeta and repeated device hints",
           P + b'pvmeta { id = "P12" device = 12 dev_size = 1 id = "zz" x = 1}\nvgname = "v6"\nmetadata { id = "V6" seqno = 1 '
           b'physical_volumes { pv0 { id = "P12" device = "/a" device = "/b" device = "/c" z = 1 } pv1 { device = "/d" id = "P13" } } }')
    s.send("pv_found P13 with dev_size before device and id twice",
           P + b'pvmeta { dev_size = 9 device = 13 id = "P13" id = "P13" dev_size = 2 y = 2 }')
    s.send("vg_lookup v6", b'request = "vg_lookup"\ntoken = "skip"\nname = "v6"')
    s.send("pv_found with duplicate keys inside metadata and a second metadata section",
           P + b'pvmeta { device = 14 id = "P14" }\nvgname = "v7"\nmetadata { id = "V7" seqno = 1 seqno = 2 id = "V8" '
           b'physical_volumes { pv0 { id = "P14" } } }\nmetadata { id = "V9" }')
    s.send("vg_lookup V7", b'request = "vg_lookup"\ntoken = "skip"\nuuid = "V7"')
    s.send("vg_update V7 seqno 3 with an empty logical_volumes section",
           b'request = "vg_update"\ntoken = "skip"\nvgname = "v7"\nmetadata { id = "V7" seqno = 3 physical_volumes { pv0 { id = "P14" } } logical_volumes { } }')
    s.send("vg_lookup V7", b'request = "vg_lookup"\ntoken = "skip"\nuuid = "V7"')
    deep = "".join("s%d { " % i for i in range(36)) + "v = 1 " + "} " * 36
    s.send("pv_found with a section nested 36 deep", P + ('pvmeta { device = 15 id = "PD" %s }' % deep).encode())
    s.send("pv_lookup PD (indentation capped)", b'request = "pv_lookup"\ntoken = "skip"\nuuid = "PD"')
    s.send("vg_update with creation_time out of range at the top of metadata (replaced)",
           b'request = "vg_update"\ntoken = "skip"\nvgname = "v9"\nmetadata { id = "V9" seqno = 1 creation_time = 99999999999999999999 }')
    s.send("vg_update with creation_time out of range both ways inside an LV",
           b'request = "vg_update"\ntoken = "skip"\nvgname = "v9"\nmetadata { id = "V9" seqno = 2 logical_volumes { lv { creation_time = 99999999999999999999 creation_time = -99999999999999999999 } } }')
    s.send("vg_lookup v9", b'request = "vg_lookup"\ntoken = "skip"\nname = "v9"')
    s.send("dump", dump())
    return s


@scenario
def s26():
    s = Scenario("26-large-messages", "messages far above one read buffer",
                 "a vg_update of about 90 KB (200 PVs, 200 LVs), pv_found for every fourth PV, "
                 "vg_lookup / pv_list / dump replies of comparable size")
    s.set_token()
    n = 200
    pvids = [uid("s26-pv%d" % i) for i in range(n)]
    vgid = uid("s26-vg")
    lvs = [("lv%d" % i, uid("s26-lv%d" % i), "pv%d" % (i % n)) for i in range(n)]
    meta = vgm(vgid, 1, [(p, "/dev/disk%d" % i) for i, p in enumerate(pvids)], lvs=lvs)
    s.send("vg_update vgbig (200 PVs, 200 LVs)", vg_update("vgbig", meta))
    for i in range(0, n, 4):
        s.send("pv_found pv%d" % i, pv_found(pvm(dev(0) + 1000 + i, pvids[i])))
    s.send("vg_lookup vgbig", tree("vg_lookup", t_kv("name", "vgbig"), cmd="vgs"))
    s.send("pv_list", tree("pv_list", cmd="pvs"))
    s.send("dump", dump())
    return s


@scenario
def s27():
    s = Scenario("27-wire-pipelining", "two messages in one write",
                 "the daemon only looks for the terminator at the end of what one read() returned; "
                 "its first read of a message asks for at most 32 bytes, the next for 1024 more. "
                 "(a) two messages in one write, first terminator not at byte 32: read as ONE "
                 "message (the `##` line is a comment, duplicate keys: the first wins), one reply. "
                 "(b) first message exactly 32 bytes including its terminator, second in the same "
                 "write: two messages, two replies. (c) the same 32-byte first message alone")
    m32 = b'request= "vg_list"\ntoken="skip"'[:28]
    assert len(m32 + TERM) == 32
    s.send("(a) pv_list + vg_list in one write (one merged request, one reply)",
           simple("pv_list", token="skip", pid=None, cmd=None) + TERM +
           simple("vg_list", token="skip", pid=None, cmd=None) + TERM, raw=True)
    s.send("(a) get_global_info + set_global_info in one write",
           simple("get_global_info") + TERM + simple("set_global_info", ("global_invalid", 1)) + TERM, raw=True)
    s.send("get_global_info (global_invalid still 0)", ggi())
    s.send("(c) the 32-byte message alone (unterminated string token)", m32 + TERM, raw=True, conn=2)
    s.send("(b) on a new connection: 32-byte message + pv_list in one write (two replies)",
           m32 + TERM + simple("pv_list", token="skip", pid=None, cmd=None) + TERM, raw=True, replies=2, conn=3)
    s.send("dump", dump())
    return s


# ---------------------------------------------------------------------------------------
# Running a daemon and recording
# ---------------------------------------------------------------------------------------


class Daemon:
    def __init__(self, binary, extra=()):
        self.dir = tempfile.mkdtemp(prefix="lvmetad-diff-")
        self.socket = os.path.join(self.dir, "lvmetad.socket")
        self.pidfile = os.path.join(self.dir, "lvmetad.pid")
        self.log = open(os.path.join(self.dir, "daemon.log"), "wb")
        self.proc = subprocess.Popen([binary, "-f", "-s", self.socket, "-p", self.pidfile] + list(extra),
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                                     env=dict(os.environ, LC_ALL="C"))
        t0 = time.time()
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("daemon exited at start with %s" % self.proc.returncode)
            try:
                c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                c.connect(self.socket)
                c.close()
                break
            except OSError:
                if time.time() - t0 > 10:
                    raise RuntimeError("daemon did not start")
                time.sleep(0.01)

    def connect(self):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(20)
        c.connect(self.socket)
        return c

    def stop(self):
        alive = self.proc.poll() is None
        if alive:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.log.close()
        with open(os.path.join(self.dir, "daemon.log"), "rb") as f:
            log = f.read()
        shutil.rmtree(self.dir, ignore_errors=True)
        return alive, rc, log


def read_one_reply(cb):
    """Read exactly one reply (up to and including the first terminator) from [sock, leftover]."""
    while TERM not in cb[1]:
        chunk = cb[0].recv(65536)
        if not chunk:
            return None
        cb[1] += chunk
    i = cb[1].index(TERM) + len(TERM)
    rep, cb[1] = cb[1][:i], cb[1][i:]
    return rep


def read_reply(c):
    buf = b""
    while True:
        chunk = c.recv(65536)
        if not chunk:
            return None if not buf else buf  # EOF
        buf += chunk
        if buf.endswith(TERM):
            return buf


LAYOUT_NOTE = """#
# Layout of this file
#   Every line before the first "--- conn=" line is a comment (starts with "#").
#   Each message is: one header line, then the message bytes exactly as they crossed the
#   socket, then one extra "\\n" that is not part of the message.
#   Header: "=== <k> <request|reply> conn=<c> step=<s> bytes=<N>"
#     request = client -> lvmetad, reply = lvmetad -> client;
#     conn numbers the client connections of this file in the order they were opened;
#     step refers to the numbered steps listed above;
#     N counts every byte of the message INCLUDING the 4-byte terminator "\\n##\\n",
#     so a reader can take exactly N bytes after the header's newline.
#   Every message below ends with the terminator "\\n##\\n";
#   in the text that shows up as a line holding only "##" (after the body's own last "\\n").
#   "--- conn=<c> opened/closed" lines mark connection open and close.
#   "# @sleep step=<s> seconds=<n>": the recorder paused n seconds before step s (a replay
#   must do the same).
"""


def record(sc, binary, label):
    d = Daemon(binary)
    conns = {}
    events = []
    k = 0
    try:
        for si, (desc, msgs, pause) in enumerate(sc.steps, 1):
            if pause:
                time.sleep(pause)
            for conn, body, raw, replies in msgs:
                if conn not in conns:
                    conns[conn] = [d.connect(), b""]
                    events.append(b"--- conn=%d opened\n" % conn)
                if raw:
                    msg = body
                else:
                    msg = body + TERM
                    if TERM in body:
                        raise RuntimeError("%s step %d: body contains the terminator" % (sc.name, si))
                conns[conn][0].sendall(msg)
                k += 1
                events.append(b"=== %d request conn=%d step=%d bytes=%d\n" % (k, conn, si, len(msg)) + msg + b"\n")
                for _ in range(replies):
                    rep = read_one_reply(conns[conn])
                    if rep is None:
                        raise RuntimeError("%s step %d (%s): no reply (EOF)" % (sc.name, si, desc))
                    k += 1
                    events.append(b"=== %d reply conn=%d step=%d bytes=%d\n" % (k, conn, si, len(rep)) + rep + b"\n")
                if conns[conn][1]:
                    raise RuntimeError("%s step %d: more reply bytes than expected" % (sc.name, si))
        time.sleep(0.05)
        for conn in sorted(conns):
            c = conns[conn][0]
            c.setblocking(False)
            try:
                extra = c.recv(65536)
            except BlockingIOError:
                extra = None
            if extra:
                raise RuntimeError("%s: unexpected extra reply bytes on conn %d" % (sc.name, conn))
            c.close()
            events.append(b"--- conn=%d closed\n" % conn)
    finally:
        alive, rc, log = d.stop()
    if not alive:
        raise RuntimeError("%s: daemon died during the scenario (status %s)\n%s" % (sc.name, rc, log.decode(errors="replace")[-2000:]))
    hdr = []
    hdr.append("# Differential recording: hand-made requests sent to %s" % label)
    hdr.append("# on a private socket; every reply is recorded byte for byte as it came back.")
    hdr.append("# Recorder: tests/compat/record-differential.py (see README.md beside this file).")
    hdr.append("# A fresh daemon was started for this file: lvmetad -f -s <socket> -p <pidfile>.")
    hdr.append("# daemon_pid and non-zero update_begin values depend on the process and the clock.")
    hdr.append("#")
    hdr.append("# Scenario %s: %s." % (sc.name, sc.title))
    for line in wrap("Covers: " + sc.covers + ".", 86):
        hdr.append("# " + line)
    hdr.append("#")
    hdr.append("# Steps (one request each unless stated):")
    for si, (desc, msgs, pause) in enumerate(sc.steps, 1):
        conns_used = sorted(set(m[0] for m in msgs))
        hdr.append("#   step %d (conn %s): %s" % (si, ",".join(map(str, conns_used)), desc))
    sleeps = [(si, p) for si, (_, _, p) in enumerate(sc.steps, 1) if p]
    if sleeps:
        hdr.append("#")
    for si, p in sleeps:
        hdr.append("# @sleep step=%d seconds=%d" % (si, p))
    text = ("\n".join(hdr) + "\n" + LAYOUT_NOTE + "\n").encode() + b"".join(events)
    return text, log


def wrap(text, width):
    words, lines, cur = text.split(), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = (cur + " " + w) if cur else w
    if cur:
        lines.append(cur)
    return lines


# ---------------------------------------------------------------------------------------
# The requests that make the stock daemon exit (not recorded as transcripts)
# ---------------------------------------------------------------------------------------

ABORT_CASES = [
    ("vg_update without vgname", lambda: tree("vg_update", t_meta(vgm(uid("ab-vg"), 1, [])), token="skip")),
    ("vg_update without metadata/id", lambda: tree("vg_update", t_kv("vgname", "vg0"),
                                                   t_meta(vgm(uid("ab-vg"), 1, [], omit=("id",))), token="skip")),
    ("vg_update with seqno 0", lambda: vg_update("vg0", vgm(uid("ab-vg"), 0, []), token="skip")),
    ("vg_update without seqno", lambda: vg_update("vg0", vgm(uid("ab-vg"), 1, [], omit=("seqno",)), token="skip")),
    ("vg_update with seqno -1", lambda: vg_update("vg0", vgm(uid("ab-vg"), -1, []), token="skip")),
    ("vg_update with seqno 2^32 (C int 0)", lambda: vg_update("vg0", vgm(uid("ab-vg"), 2 ** 32, []), token="skip")),
]


def probe_abort(binary):
    for name, mk in ABORT_CASES:
        d = Daemon(binary)
        c = d.connect()
        c.sendall(simple("get_global_info") + TERM)
        read_reply(c)
        c.sendall(mk() + TERM)
        rep = read_reply(c)
        time.sleep(0.5)
        status = d.proc.poll()
        left = [os.path.basename(p) for p in (d.socket, d.pidfile) if os.path.exists(p)]
        c.close()
        alive, rc, log = d.stop()
        print("%s: reply=%r daemon_exit_status=%r files_left=%s" % (name, rep, status, left))
        tail = [l for l in log.decode(errors="replace").splitlines() if l.strip()][-3:]
        for l in tail:
            print("    log: " + l)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "differential"))
    ap.add_argument("--label", default=None, help="daemon description written into the headers")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--probe-abort", action="store_true")
    a = ap.parse_args()
    if a.probe_abort:
        probe_abort(a.daemon)
        return
    label = a.label or "the lvmetad at %s" % a.daemon
    os.makedirs(a.out, exist_ok=True)
    total = 0
    for fn in SCENARIOS:
        sc = fn()
        if a.list:
            print("%s: %d steps" % (sc.name, len(sc.steps)))
            continue
        if a.only and sc.name not in a.only and not any(sc.name.startswith(o) for o in a.only):
            continue
        text, _ = record(sc, a.daemon, label)
        path = os.path.join(a.out, sc.name + ".txt")
        with open(path, "wb") as f:
            f.write(text)
        n = sum(len(m) for _, m, _ in sc.steps)
        total += n
        print("%s: %d requests -> %s" % (sc.name, n, os.path.normpath(path)))
    if not a.list:
        print("total %d request/reply pairs" % total)


if __name__ == "__main__":
    main()
