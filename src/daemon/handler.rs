//! Request dispatch and the reply of every lvmetad request (docs/reference/protocol.md section 4).

use super::cache::{
    dev_key, find_cint, pvmeta_to_merge, set_flag, Cache, Stored, Update, VgVersionInfo, ORPHAN,
    VGFL_INVALID,
};
use crate::config::builder::{push_int, push_str};
use crate::config::write::{indent, write_int, write_key, write_node, write_nodes, write_str_line};
use crate::config::{find, find_int, find_str, parse_request, Node};
use crate::protocol::{Lock, Request, PROTOCOL, PROTOCOL_VERSION, TOKEN_UPDATE_IN_PROGRESS};
use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub const GLFL_INVALID: u32 = 0x01;
pub const GLFL_DISABLE: u32 = 0x02;
pub const GLFL_DISABLE_REASON_DIRECT: u32 = 0x04;
pub const GLFL_DISABLE_REASON_DUPLICATES: u32 = 0x10;
pub const GLFL_DISABLE_REASON_VGRESTORE: u32 = 0x20;
pub const GLFL_DISABLE_REASON_REPAIR: u32 = 0x40;
pub const GLFL_DISABLE_REASON_ALL: u32 = GLFL_DISABLE_REASON_DIRECT
    | GLFL_DISABLE_REASON_REPAIR
    | GLFL_DISABLE_REASON_DUPLICATES
    | GLFL_DISABLE_REASON_VGRESTORE;

const TOKEN_MAX: usize = 127;
const CMD_MAX: usize = 31;

/// The token and update bookkeeping (`token_lock` in the C daemon).
#[derive(Clone, Debug, Default)]
pub struct TokenState {
    pub token: Vec<u8>,
    pub update_cmd: Vec<u8>,
    pub update_pid: i32,
    pub update_timeout: i32,
    pub update_begin: u64,
    /// The connection the update in progress began on (0: none, or not known).
    pub update_conn: u64,
}

impl TokenState {
    /// Forget the update in progress and the token: "none", the cache needs populating
    /// (what LVM's daemon does when an update times out).
    fn cancel_update(&mut self) {
        self.token.clear();
        self.update_begin = 0;
        self.update_timeout = 0;
        self.update_pid = 0;
        self.update_cmd.clear();
        self.update_conn = 0;
    }
}

/// The whole daemon state, shared by all connection threads.
pub struct Daemon {
    pub token: Mutex<TokenState>,
    info_lock: Mutex<()>,
    pub cache: RwLock<Cache>,
    pub flags: AtomicU32,
    pub pid: i64,
    clock: Box<dyn Fn() -> u64 + Send + Sync>,
    log: super::log::Logger,
    /// Opt-in (`lvmetad --fast-takeover`): an update whose connection closes before it
    /// ends is cancelled at once instead of after its `update_timeout` (docs/compat.md).
    fast_takeover: bool,
}

/// A reply body (without the terminator).
#[derive(Debug)]
pub struct Response {
    pub body: Vec<u8>,
}

fn monotonic_seconds() -> u64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map(|t| t.tv_sec() as u64)
        .unwrap_or(0)
}

fn simple(resp: &str) -> Vec<u8> {
    let mut b = Vec::with_capacity(128);
    push_str(&mut b, "response", resp.as_bytes());
    b
}

fn reply_fail(reason: &str) -> Vec<u8> {
    let mut b = simple("failed");
    push_str(&mut b, "reason", reason.as_bytes());
    b
}

fn reply_unknown(reason: &str) -> Vec<u8> {
    let mut b = simple("unknown");
    push_str(&mut b, "reason", reason.as_bytes());
    b
}

fn truncate(s: &[u8], n: usize) -> Vec<u8> {
    s[..s.len().min(n)].to_vec()
}

/// Fields every request carries, with the C daemon's defaults.
struct Common<'a> {
    rq: &'a [u8],
    token: &'a [u8],
    pid: i32,
    cmd: &'a [u8],
    update_timeout: i32,
}

fn req_str<'a>(req: Option<&'a [Node]>, path: &str) -> Option<&'a [u8]> {
    req.and_then(|r| find_str(r, path))
}

/// `daemon_request_int()`: a C int.
fn req_int(req: Option<&[Node]>, path: &str, def: i32) -> i32 {
    match req {
        Some(r) => find_cint(r, path, def),
        None => def,
    }
}

impl Daemon {
    pub fn new(log: super::log::Logger) -> Daemon {
        Daemon {
            token: Mutex::new(TokenState::default()),
            info_lock: Mutex::new(()),
            cache: RwLock::new(Cache::default()),
            flags: AtomicU32::new(0),
            pid: std::process::id() as i64,
            clock: Box::new(monotonic_seconds),
            log,
            fast_takeover: false,
        }
    }

    /// Cancel an update as soon as the connection it began on closes (see the field).
    pub fn with_fast_takeover(mut self, on: bool) -> Daemon {
        self.fast_takeover = on;
        self
    }

    /// A connection (numbered as for [`Daemon::handle_on`]) has closed. With the fast
    /// takeover, an update begun on it and not ended is cancelled: the token becomes
    /// "none", as after the update's timeout, so that waiting commands populate the
    /// cache again at once.
    pub fn connection_closed(&self, conn: u64) {
        if !self.fast_takeover || conn == 0 {
            return;
        }
        let mut ts = self.token.lock().unwrap_or_else(|e| e.into_inner());
        if ts.update_conn != conn || ts.token != TOKEN_UPDATE_IN_PROGRESS.as_bytes() {
            return;
        }
        self.log.warn(&format!(
            "token_update cancelled: connection closed during the update of pid {} cmd {} (begin {} len {})",
            ts.update_pid,
            String::from_utf8_lossy(&ts.update_cmd),
            ts.update_begin,
            self.now().wrapping_sub(ts.update_begin) as i32
        ));
        ts.cancel_update();
    }

    /// Replace the monotonic clock (tests).
    pub fn with_clock(mut self, clock: Box<dyn Fn() -> u64 + Send + Sync>) -> Daemon {
        self.clock = clock;
        self
    }

    pub fn with_pid(mut self, pid: i64) -> Daemon {
        self.pid = pid;
        self
    }

    fn now(&self) -> u64 {
        (self.clock)()
    }

    /// Handle one request body (terminator removed) and return the reply body.
    pub fn handle(&self, body: &[u8]) -> Response {
        let mut out = Vec::new();
        self.handle_into(body, &mut out);
        Response { body: out }
    }

    /// Handle one request body (terminator removed); the reply body replaces the
    /// contents of `out` (a connection reuses one buffer for all its replies).
    pub fn handle_into(&self, body: &[u8], out: &mut Vec<u8>) {
        self.handle_on(0, body, out)
    }

    /// [`Daemon::handle_into`] for a request read from connection `conn` (numbered by
    /// the server from 1; 0 is no connection): an update begun by it belongs to `conn`.
    pub fn handle_on(&self, conn: u64, body: &[u8], out: &mut Vec<u8>) {
        out.clear();
        let parsed = match parse_request(body) {
            Ok(t) => Some(t),
            Err(e) if e.message == crate::config::parse::TOO_DEEP => {
                // refused with a reason rather than taken as an empty request
                // (docs/compat.md, "Limits")
                let reason = super::limits::too_deep_reason(&e);
                self.log.error(&reason);
                out.extend_from_slice(&reply_fail(&reason));
                return;
            }
            Err(e) => {
                self.log.error(&format!(
                    "error parsing request: {}: {}",
                    e,
                    String::from_utf8_lossy(&body[..body.len().min(256)])
                ));
                None
            }
        };
        let mut tree = parsed;
        if let Some(t) = &tree {
            self.log.wire_tree("<- ", t);
        }
        let small = self.dispatch(conn, tree.as_deref_mut(), out);
        out.extend_from_slice(&small);
        self.log.wire_text("-> ", out);
    }

    /// The reply to a request: the replies that can be big (lookups, lists, dump) are
    /// written to `out`, the others returned.
    fn dispatch(
        &self,
        conn: u64,
        mut req_nodes: Option<&mut [Node]>,
        out: &mut Vec<u8>,
    ) -> Vec<u8> {
        let r: Option<&[Node]> = req_nodes.as_deref();
        let c = Common {
            rq: req_str(r, "request").unwrap_or(b"NONE"),
            token: req_str(r, "token").unwrap_or(b"NONE"),
            pid: req_int(r, "pid", 0),
            cmd: req_str(r, "cmd").unwrap_or(b"NONE"),
            update_timeout: req_int(r, "update_timeout", 0),
        };
        let req = Request::from_name(c.rq);
        if !matches!(req, Some(Request::Hello | Request::TokenUpdate)) {
            if let Some(mismatch) = self.check_token(&c, req == Some(Request::Dump)) {
                return mismatch;
            }
        }
        let Some(req) = req else {
            return reply_fail("request not implemented");
        };
        let rq = req;
        match req {
            Request::Hello => {
                let mut b = simple("OK");
                push_str(&mut b, "protocol", PROTOCOL.as_bytes());
                push_int(&mut b, "version", PROTOCOL_VERSION);
                b
            }
            Request::TokenUpdate => self.token_update(&mut self.token_lock(rq), &c, conn),
            Request::PvFound => {
                self.pv_found(&mut self.write(rq), req_nodes.as_deref_mut().unwrap())
            }
            Request::PvGone => self.pv_gone(&mut self.write(rq), req_nodes.as_deref().unwrap()),
            Request::VgUpdate => {
                self.vg_update(&mut self.write(rq), req_nodes.as_deref_mut().unwrap())
            }
            Request::VgRemove => self.vg_remove(&mut self.write(rq), req_nodes.as_deref().unwrap()),
            Request::SetVgInfo => {
                self.set_vg_info(&mut self.write(rq), req_nodes.as_deref().unwrap())
            }
            Request::PvClearAll => {
                self.write(rq).clear();
                simple("OK")
            }
            Request::VgClearOutdatedPvs => {
                self.vg_clear_outdated_pvs(&mut self.write(rq), req_nodes.as_deref().unwrap())
            }
            Request::PvLookup => {
                self.pv_lookup(&self.read(rq), req_nodes.as_deref().unwrap(), out);
                Vec::new()
            }
            Request::VgLookup => {
                self.vg_lookup(&self.read(rq), req_nodes.as_deref().unwrap(), out);
                Vec::new()
            }
            Request::PvList => {
                self.pv_list(&self.read(rq), out);
                Vec::new()
            }
            Request::VgList => {
                self.vg_list(&self.read(rq), out);
                Vec::new()
            }
            Request::Dump => {
                self.dump(&self.read(rq), out);
                Vec::new()
            }
            Request::SetGlobalInfo => {
                let _g = self.info(rq);
                self.set_global_info(req_nodes.as_deref())
            }
            Request::GetGlobalInfo => {
                let _g = self.info(rq);
                self.get_global_info()
            }
        }
    }

    /// The token check every request but `hello` and `token_update` passes first
    /// (`dump` is exempt from the token comparison, not from the update owner's check).
    fn check_token(&self, c: &Common, is_dump: bool) -> Option<Vec<u8>> {
        let ts = self.token.lock().unwrap_or_else(|e| e.into_inner());
        if c.token != ts.token.as_slice() && !is_dump && c.token != b"skip" {
            return Some(self.token_mismatch(
                &ts,
                c.token,
                "another command has populated the cache",
            ));
        }
        if c.token == TOKEN_UPDATE_IN_PROGRESS.as_bytes()
            && ts.update_pid != 0
            && c.pid != 0
            && ts.update_pid != c.pid
        {
            return Some(self.token_mismatch(
                &ts,
                c.token,
                "another command has populated the lvmetad cache",
            ));
        }
        None
    }

    // The locks of the protocol table's classes; each checks that the request is of
    // its class.
    fn token_lock(&self, rq: Request) -> MutexGuard<'_, TokenState> {
        debug_assert_eq!(rq.lock(), Lock::Token);
        self.token.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self, rq: Request) -> RwLockWriteGuard<'_, Cache> {
        debug_assert_eq!(rq.lock(), Lock::CacheWrite, "{}", rq.name());
        self.cache.write().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self, rq: Request) -> RwLockReadGuard<'_, Cache> {
        debug_assert_eq!(rq.lock(), Lock::CacheRead, "{}", rq.name());
        self.cache.read().unwrap_or_else(|e| e.into_inner())
    }

    fn info(&self, rq: Request) -> MutexGuard<'_, ()> {
        debug_assert_eq!(rq.lock(), Lock::Info, "{}", rq.name());
        self.info_lock.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn token_mismatch(&self, ts: &TokenState, received: &[u8], reason: &str) -> Vec<u8> {
        self.log.debug(&format!(
            "Cache token mismatch: expected {} received {}",
            String::from_utf8_lossy(&ts.token),
            String::from_utf8_lossy(received)
        ));
        let mut b = simple("token_mismatch");
        push_str(&mut b, "expected", &ts.token);
        push_str(&mut b, "received", received);
        push_int(&mut b, "update_pid", ts.update_pid as i64);
        push_str(&mut b, "reason", reason.as_bytes());
        b
    }

    fn start_update(&self, ts: &mut TokenState, c: &Common, conn: u64) -> Vec<u8> {
        let prev = std::mem::replace(&mut ts.token, truncate(c.token, TOKEN_MAX));
        ts.update_conn = conn;
        ts.update_begin = self.now();
        ts.update_timeout = c.update_timeout;
        ts.update_pid = c.pid;
        ts.update_cmd = truncate(c.cmd, CMD_MAX);
        prev
    }

    fn token_update(&self, ts: &mut TokenState, c: &Common, conn: u64) -> Vec<u8> {
        let prev_ip = ts.token == TOKEN_UPDATE_IN_PROGRESS.as_bytes();
        let this_ip = c.token == TOKEN_UPDATE_IN_PROGRESS.as_bytes();
        let mut prev_token = Vec::new();
        if !prev_ip && this_ip {
            prev_token = self.start_update(ts, c, conn);
            self.log.info(&format!(
                "token_update begin {} timeout {} pid {} cmd {}",
                ts.update_begin,
                ts.update_timeout,
                ts.update_pid,
                String::from_utf8_lossy(&ts.update_cmd)
            ));
        } else if prev_ip && this_ip {
            let gap = self.now().wrapping_sub(ts.update_begin);
            if gap < ts.update_timeout as i64 as u64 {
                let mut b = simple("token_updating");
                push_str(&mut b, "expected", &ts.token);
                push_int(&mut b, "update_pid", ts.update_pid as i64);
                push_str(&mut b, "reason", b"another command has populated the cache");
                return b;
            }
            self.log.warn(&format!(
                "token_update replacing pid {} begin {} len {} cmd {}",
                ts.update_pid,
                ts.update_begin,
                gap as i32,
                String::from_utf8_lossy(&ts.update_cmd)
            ));
            prev_token = self.start_update(ts, c, conn);
        } else if prev_ip && !this_ip {
            if ts.update_pid != c.pid {
                self.log.warn(&format!(
                    "token_update ignored from cancelled update pid {}",
                    c.pid
                ));
                let mut b = simple("token_mismatch");
                push_str(&mut b, "expected", &ts.token);
                push_str(&mut b, "received", c.token);
                push_int(&mut b, "update_pid", ts.update_pid as i64);
                push_str(&mut b, "reason", b"another command has populated the cache");
                return b;
            }
            prev_token = std::mem::replace(&mut ts.token, truncate(c.token, TOKEN_MAX));
            ts.update_begin = 0;
            ts.update_timeout = 0;
            ts.update_pid = 0;
            ts.update_cmd.clear();
            ts.update_conn = 0;
        }
        let mut b = simple("OK");
        push_str(&mut b, "prev_token", &prev_token);
        push_int(&mut b, "update_pid", ts.update_pid as i64);
        b
    }

    fn get_global_info(&self) -> Vec<u8> {
        let flags = self.flags.load(Ordering::SeqCst);
        let mut reason = String::new();
        if flags & GLFL_DISABLE != 0 {
            if flags & GLFL_DISABLE_REASON_DIRECT != 0 {
                reason.push_str("DIRECT,");
            }
            if flags & GLFL_DISABLE_REASON_REPAIR != 0 {
                reason.push_str("REPAIR,");
            }
            if flags & GLFL_DISABLE_REASON_DUPLICATES != 0 {
                reason.push_str("DUPLICATES,");
            }
            if flags & GLFL_DISABLE_REASON_VGRESTORE != 0 {
                reason.push_str("VGRESTORE,");
            }
        }
        if reason.is_empty() {
            reason.push_str("none");
        }
        let mut ts = self.token.lock().unwrap_or_else(|e| e.into_inner());
        if ts.update_begin != 0 && ts.update_timeout != 0 {
            let gap = self.now().wrapping_sub(ts.update_begin);
            if gap >= ts.update_timeout as i64 as u64 {
                self.log.warn(&format!(
                    "global info cancel update after timeout {} len {} begin {} pid {} cmd {}",
                    ts.update_timeout,
                    gap as i32,
                    ts.update_begin,
                    ts.update_pid,
                    String::from_utf8_lossy(&ts.update_cmd)
                ));
                ts.cancel_update();
            }
        }
        let flags = self.flags.load(Ordering::SeqCst);
        let mut b = simple("OK");
        push_int(&mut b, "global_invalid", (flags & GLFL_INVALID != 0) as i64);
        push_int(&mut b, "global_disable", (flags & GLFL_DISABLE != 0) as i64);
        push_str(&mut b, "disable_reason", reason.as_bytes());
        push_int(&mut b, "daemon_pid", self.pid);
        push_str(
            &mut b,
            "token",
            if ts.token.is_empty() {
                b"none"
            } else {
                &ts.token
            },
        );
        push_str(&mut b, "update_cmd", &ts.update_cmd);
        push_int(&mut b, "update_pid", ts.update_pid as i64);
        push_int(&mut b, "update_begin", ts.update_begin as i64);
        push_int(&mut b, "update_timeout", ts.update_timeout as i64);
        b
    }

    fn set_global_info(&self, req: Option<&[Node]>) -> Vec<u8> {
        let gi = req_int(req, "global_invalid", -1);
        let gd = req_int(req, "global_disable", -1);
        let mut reason_flags = 0;
        if let Some(reason) = req_str(req, "disable_reason") {
            let has = |w: &[u8]| reason.windows(w.len()).any(|x| x == w);
            if has(b"DIRECT") {
                reason_flags |= GLFL_DISABLE_REASON_DIRECT;
            }
            if has(b"REPAIR") {
                reason_flags |= GLFL_DISABLE_REASON_REPAIR;
            }
            if has(b"DUPLICATES") {
                reason_flags |= GLFL_DISABLE_REASON_DUPLICATES;
            }
            if has(b"VGRESTORE") {
                reason_flags |= GLFL_DISABLE_REASON_VGRESTORE;
            }
        }
        if gi == 1 {
            self.flags.fetch_or(GLFL_INVALID, Ordering::SeqCst);
        } else if gi == 0 {
            self.flags.fetch_and(!GLFL_INVALID, Ordering::SeqCst);
        }
        if gd == 1 {
            self.flags
                .fetch_or(GLFL_DISABLE | reason_flags, Ordering::SeqCst);
        } else if gd == 0 {
            self.flags
                .fetch_and(!(GLFL_DISABLE | GLFL_DISABLE_REASON_ALL), Ordering::SeqCst);
        }
        simple("OK")
    }

    fn global_invalid(&self) -> bool {
        self.flags.load(Ordering::SeqCst) & GLFL_INVALID != 0
    }

    fn tree_end(&self, b: &mut Vec<u8>) {
        if self.global_invalid() {
            b.extend_from_slice(b"global_invalid {\n}\n");
        }
    }

    fn pv_list(&self, cache: &Cache, b: &mut Vec<u8>) {
        b.reserve(400 * cache.pvid_to_pvmeta.len() + 64);
        b.extend_from_slice(b"response=\"OK\"\nphysical_volumes {\n");
        for (hash, pvid, pvmeta) in cache.pvid_to_pvmeta.iter_hashed() {
            write_pv_entry(cache, b, pvid, hash, pvid, pvmeta, 1);
        }
        b.extend_from_slice(b"}\n");
        self.tree_end(b);
        b.extend_from_slice(b"\n\n");
    }

    fn vg_list(&self, cache: &Cache, b: &mut Vec<u8>) {
        b.reserve(96 * cache.vgid_to_vgname.len() + 64);
        b.extend_from_slice(b"response=\"OK\"\nvolume_groups {\n");
        for (vgid, name) in cache.vgid_to_vgname.iter() {
            b.push(b'\t');
            write_key(b, vgid);
            b.extend_from_slice(b" {\n");
            write_str_line(b, 2, b"name", name);
            b.extend_from_slice(b"\t}\n");
        }
        b.extend_from_slice(b"}\n");
        self.tree_end(b);
        b.extend_from_slice(b"\n\n");
    }

    fn pv_lookup(&self, cache: &Cache, req: &[Node], b: &mut Vec<u8>) {
        let pvid = find_str(req, "uuid");
        let devt = find_cint(req, "device", 0) as i64;
        if pvid.is_none() && devt == 0 {
            return b.extend_from_slice(&reply_fail("need PVID or device"));
        }
        let pvid: &[u8] = match pvid {
            Some(p) => p,
            None => match cache.device_to_pvid.get(&dev_key(devt as u64)) {
                Some(p) => p,
                None => {
                    self.log
                        .warn(&format!("pv_lookup: could not find device {}", devt as u64));
                    return b.extend_from_slice(&reply_unknown("device not found"));
                }
            },
        };
        let hash = cache.pvid_to_pvmeta.hash(pvid);
        let pvmeta = match cache.pvid_to_pvmeta.get_hashed(hash, pvid) {
            Some(m) => m,
            None => return b.extend_from_slice(&reply_unknown("PV not found")),
        };
        b.extend_from_slice(b"response=\"OK\"\n");
        // entry keyed "physical_volume", vgid/vgname from the PV's id
        write_pv_entry(cache, b, b"physical_volume", hash, pvid, pvmeta, 0);
        self.tree_end(b);
        b.extend_from_slice(b"\n\n");
    }

    fn vg_lookup(&self, cache: &Cache, req: &[Node], b: &mut Vec<u8>) {
        let uuid = find_str(req, "uuid");
        let name = find_str(req, "name");
        let (uuid, name): (&[u8], &[u8]) = match (uuid, name) {
            (None, None) => {
                self.log.error("vg_lookup with no uuid or name");
                return b.extend_from_slice(&reply_unknown("VG not found"));
            }
            (None, Some(n)) => {
                let (u, count) = cache.vgname_to_vgid.get_with_count(n);
                match u {
                    Some(_) if count > 1 => {
                        let mut m = simple("multiple");
                        push_str(&mut m, "reason", b"Multiple VGs found with same name");
                        return b.extend_from_slice(&m);
                    }
                    Some(u) => (u, n),
                    None => return b.extend_from_slice(&reply_unknown("VG not found")),
                }
            }
            (Some(u), None) => match cache.vgid_to_vgname.get(u) {
                Some(n) => (u, n),
                None => return b.extend_from_slice(&reply_unknown("VG not found")),
            },
            (Some(u), Some(n)) => {
                let name_lookup = cache.vgid_to_vgname.get(u);
                let pair = cache.vgname_to_vgid.contains_with_val(n, u);
                match name_lookup {
                    Some(nl) if pair => {
                        if nl.as_slice() != n {
                            return b.extend_from_slice(&reply_unknown("VG mapping inconsistent"));
                        }
                    }
                    _ => return b.extend_from_slice(&reply_unknown("VG mapping incomplete")),
                }
                (u, n)
            }
        };
        let meta = match cache.vgid_to_metadata.get(uuid) {
            Some(m) => m.tree(),
            None => return b.extend_from_slice(&reply_unknown("UUID not found")),
        };
        b.reserve(4096);
        b.extend_from_slice(b"response=\"OK\"\n");
        write_str_line(b, 0, b"name", name);
        self.write_vg(cache, b, uuid, meta);
        self.tree_end(b);
        if let Some(info) = cache.vgid_to_info.get(uuid) {
            if info.flags & VGFL_INVALID != 0 {
                b.extend_from_slice(b"vg_invalid {\n}\n");
            }
        }
        b.extend_from_slice(b"\n\n");
    }

    /// The VG metadata of a `vg_lookup` reply, written straight from the stored tree:
    /// what writing a copy changed by lvmetad's `update_pv_status()` (each PV entry gets
    /// its PV's pvmeta merged in and `MISSING` set in its status as needed) and
    /// `chain_outdated_pvs()` (an `outdated_pvs` section first) would give.
    fn write_vg(&self, cache: &Cache, b: &mut Vec<u8>, vgid: &[u8], meta: &Node) {
        if !meta.is_section() {
            // the changes go to children, which a value node does not write
            return write_node(b, meta, 0);
        }
        write_key(b, &meta.key);
        b.extend_from_slice(b" {\n");
        self.write_outdated_pvs(cache, b, vgid);
        let pvs_at = meta
            .children
            .iter()
            .position(|c| c.key == b"physical_volumes");
        for (i, c) in meta.children.iter().enumerate() {
            if Some(i) != pvs_at || !c.is_section() {
                write_node(b, c, 1);
                continue;
            }
            b.push(b'\t');
            write_key(b, &c.key);
            b.extend_from_slice(b" {\n");
            for pv in c.children.iter() {
                self.write_pv_with_status(cache, b, pv);
            }
            b.extend_from_slice(b"\t}\n");
        }
        b.extend_from_slice(b"}\n");
    }

    /// One PV entry of a VG's `physical_volumes` at level 2, as `update_pv_status()`
    /// leaves it.
    fn write_pv_with_status(&self, cache: &Cache, b: &mut Vec<u8>, pv: &Node) {
        let id = match find_str(&pv.children, "id") {
            Some(id) => id,
            None => {
                self.log.error("update_pv_status found no uuid for PV");
                return write_node(b, pv, 2);
            }
        };
        let pvmeta = cache.pvid_to_pvmeta.get(id);
        if !pv.is_section() {
            return write_node(b, pv, 2);
        }
        // set_flag(pv, "status", "MISSING", missing): None when the status stays
        let status = status_with_missing(pv, pvmeta.is_none());
        let status_at = pv.children.iter().position(|c| c.key == b"status");
        indent(b, 2);
        write_key(b, &pv.key);
        b.extend_from_slice(b" {\n");
        if let Some(pm) = pvmeta {
            // merge_pvmeta(): the pvmeta children first, without `id` and `dev_size`
            // (with lvmetad's quirk: never the first, and not right after one dropped)
            for c in pvmeta_to_merge(&pm.children) {
                write_node(b, c, 3);
            }
        }
        match (&status, status_at) {
            (Some(s), None) => {
                // a new status node, inserted first
                write_node(b, s, 3);
                write_nodes(b, &pv.children, 3);
            }
            (Some(s), Some(at)) => {
                for (j, c) in pv.children.iter().enumerate() {
                    write_node(b, if j == at { s } else { c }, 3);
                }
            }
            (None, _) => write_nodes(b, &pv.children, 3),
        }
        indent(b, 2);
        b.extend_from_slice(b"}\n");
    }

    /// `chain_outdated_pvs()`: the pvmeta of the VG's outdated PVs, keyed by PV id, in
    /// a section at the top of the metadata (most recently marked first).
    fn write_outdated_pvs(&self, cache: &Cache, b: &mut Vec<u8>, vgid: &[u8]) {
        let Some(out) = cache.vgid_to_outdated_pvs.get(vgid) else {
            return;
        };
        let Some(vs) =
            find(std::slice::from_ref(out), "outdated_pvs/pv_list").and_then(|n| n.values.as_ref())
        else {
            return;
        };
        let mut found: Vec<&Stored> = Vec::new();
        for v in vs {
            let pvid = match v {
                crate::config::Value::Str(s) => s,
                crate::config::Value::EmptyArray => break,
                _ => continue,
            };
            match cache.pvid_to_pvmeta.get(pvid) {
                Some(pm) => found.push(pm),
                None => self.log.warn(&format!(
                    "metadata for PV {} not found",
                    String::from_utf8_lossy(pvid)
                )),
            }
        }
        b.extend_from_slice(b"\toutdated_pvs {\n");
        for pm in found.iter().rev() {
            let mut c = pm.tree().clone();
            c.key = find_str(std::slice::from_ref(pm.tree()), "pvmeta/id")
                .unwrap_or(b"unknown")
                .into();
            write_node(b, &c, 2);
        }
        b.extend_from_slice(b"\t}\n");
    }

    fn pv_gone(&self, cache: &mut Cache, req: &[Node]) -> Vec<u8> {
        let arg_pvid = find_str(req, "uuid").map(|s| s.to_vec());
        let device = find_cint(req, "device", 0) as i64;
        let mut old_pvid = None;
        if arg_pvid.is_none() && device > 0 {
            old_pvid = cache.device_to_pvid.get(&dev_key(device as u64)).cloned();
        }
        let pvid = match arg_pvid.or(old_pvid) {
            Some(p) => p,
            None => return reply_unknown("device not in cache"),
        };
        if !cache.pvid_to_pvmeta.contains(&pvid) {
            return reply_unknown("PVID does not exist");
        }
        let vgid = cache.pvid_to_vgid.get(&pvid).cloned();
        cache.device_to_pvid.remove(&dev_key(device as u64));
        cache.pvid_to_pvmeta.remove(&pvid);
        if let Some(vgid) = vgid {
            cache.vg_remove_if_missing(&vgid, true);
        }
        simple("OK")
    }

    fn pv_found(&self, cache: &mut Cache, req: &mut [Node]) -> Vec<u8> {
        let arg_pvmeta = match req.iter().position(|n| n.key == b"pvmeta") {
            Some(i) => i,
            None => {
                self.log.error("Ignore PV without PV metadata");
                return reply_fail("Ignore PV without PV metadata");
            }
        };
        let arg_pvid = match find_str(req, "pvmeta/id") {
            Some(p) => p.to_vec(),
            None => {
                self.log.error("Ignore PV without PV UUID");
                return reply_fail("Ignore PV without PV UUID");
            }
        };
        let arg_device = match find_int(std::slice::from_ref(&req[arg_pvmeta]), "pvmeta/device") {
            Some(d) => d as u64,
            None => {
                self.log.error(&format!(
                    "Ignore PV without device pvid {}",
                    String::from_utf8_lossy(&arg_pvid)
                ));
                return reply_fail("Ignore PV without device");
            }
        };
        let vgmeta_idx = req.iter().position(|n| n.key == b"metadata");
        let mut arg_name: Option<Vec<u8>> = None;
        let mut arg_vgid: Option<Vec<u8>> = None;
        let mut arg_seqno = -1;
        if vgmeta_idx.is_some() {
            arg_name = find_str(req, "vgname").map(|s| s.to_vec());
            arg_vgid = find_str(req, "metadata/id").map(|s| s.to_vec());
            arg_seqno = find_cint(req, "metadata/seqno", -1);
            if arg_name.is_none() || arg_vgid.is_none() || arg_seqno < 0 {
                self.log.error(&format!(
                    "Ignore VG metadata from PV {}",
                    String::from_utf8_lossy(&arg_pvid)
                ));
            }
            if arg_name.is_none() {
                return reply_fail("Ignore VG metadata from PV without VG name");
            }
            if arg_vgid.is_none() {
                return reply_fail("Ignore VG metadata from PV without VG vgid");
            }
            if arg_seqno < 0 {
                return reply_fail("Ignore VG metadata from PV without VG seqno");
            }
        }
        // the request is not looked at again: take its pvmeta rather than copy it
        let new_pvmeta = std::mem::take(&mut req[arg_pvmeta]);
        let has_old = cache.pvid_to_pvmeta.contains(&arg_pvid);
        let arg_device_lookup = if has_old {
            cache.device_of(&arg_pvid)
        } else {
            0
        };
        let arg_pvid_lookup = cache.device_to_pvid.get(&dev_key(arg_device)).cloned();
        let mut changed = false;
        let mut prev_pvid_on_dev: Option<Vec<u8>> = None;
        let mut prev_vgid_on_dev: Option<Vec<u8>> = None;

        if arg_pvid_lookup.is_some()
            && arg_device_lookup != 0
            && arg_device == arg_device_lookup
            && arg_pvid_lookup.as_deref() == Some(&arg_pvid[..])
        {
            // same PV, same device
            let old = cache.pvid_to_pvmeta.get(&arg_pvid).unwrap();
            if crate::config::compare_config(
                std::slice::from_ref(old.tree()),
                std::slice::from_ref(&new_pvmeta),
            ) != 0
            {
                changed = true;
            }
            cache
                .pvid_to_pvmeta
                .insert(&arg_pvid, Stored::new(new_pvmeta));
        } else if arg_pvid_lookup.is_none() && arg_device_lookup == 0 {
            changed = true;
            cache
                .device_to_pvid
                .insert(&dev_key(arg_device), arg_pvid.clone());
            cache
                .pvid_to_pvmeta
                .insert(&arg_pvid, Stored::new(new_pvmeta));
        } else if let Some(prev) = arg_pvid_lookup.filter(|p| p.as_slice() != arg_pvid.as_slice()) {
            // new PV on a known device
            changed = true;
            prev_vgid_on_dev = cache.pvid_to_vgid.get(&prev).cloned();
            if cache.pvid_to_pvmeta.contains(&prev) {
                cache.pvid_to_pvmeta.remove(&prev);
                cache.device_to_pvid.remove(&dev_key(arg_device));
                if cache.pvid_to_pvmeta.contains(&arg_pvid) {
                    self.flags.fetch_or(
                        GLFL_DISABLE | GLFL_DISABLE_REASON_DUPLICATES,
                        Ordering::SeqCst,
                    );
                    return reply_fail("Ignore duplicate PV");
                }
            }
            cache
                .device_to_pvid
                .insert(&dev_key(arg_device), arg_pvid.clone());
            cache
                .pvid_to_pvmeta
                .insert(&arg_pvid, Stored::new(new_pvmeta));
            prev_pvid_on_dev = Some(prev);
        } else if arg_device_lookup != 0 && arg_device_lookup != arg_device {
            self.log.info(&format!(
                "pv_found ignore duplicate device {} of existing {} for pvid {}",
                arg_device,
                arg_device_lookup,
                String::from_utf8_lossy(&arg_pvid)
            ));
            self.flags.fetch_or(
                GLFL_DISABLE | GLFL_DISABLE_REASON_DUPLICATES,
                Ordering::SeqCst,
            );
            return reply_fail("Ignore duplicate PV");
        } else {
            self.log.error(&format!(
                "pv_found pvid {} on device {} unknown lookup",
                String::from_utf8_lossy(&arg_pvid),
                arg_device
            ));
            return reply_fail("Ignore PV for unknown state");
        }

        let mut old_seqno = -1;
        if let Some(i) = vgmeta_idx {
            let name = arg_name.clone().unwrap();
            let vgid = arg_vgid.clone().unwrap();
            let r = cache.update_metadata(
                &name,
                &vgid,
                &mut req[i],
                Some(&mut old_seqno),
                Some(&arg_pvid),
            );
            if r != Update::Ok {
                self.log.error(&format!(
                    "Cannot use VG metadata for {} {} from PV {} on {}",
                    String::from_utf8_lossy(&name),
                    String::from_utf8_lossy(&vgid),
                    String::from_utf8_lossy(&arg_pvid),
                    arg_device
                ));
            }
            changed |= old_seqno != arg_seqno;
        } else {
            arg_vgid = cache.pvid_to_vgid.get(&arg_pvid).cloned();
            if let Some(v) = &arg_vgid {
                arg_name = cache.vgid_to_vgname.get(v).cloned();
            }
        }

        let mut vg_status: &[u8] = b"(null)";
        let mut status_seqno = -1;
        match &arg_vgid {
            None => vg_status = b"orphan",
            Some(v) if v.as_slice() == ORPHAN => vg_status = b"orphan",
            Some(v) => match cache.vgid_to_metadata.get(v) {
                None => self.log.error(&format!(
                    "pv_found {} on {} vgid {} no VG metadata found",
                    String::from_utf8_lossy(&arg_pvid),
                    arg_device,
                    String::from_utf8_lossy(v)
                )),
                Some(m) => {
                    vg_status = if cache.vg_is_complete(m) {
                        b"complete"
                    } else {
                        b"partial"
                    };
                    status_seqno = find_cint(std::slice::from_ref(m.tree()), "metadata/seqno", -1);
                }
            },
        }

        if let Some(pv) = &prev_vgid_on_dev {
            if arg_vgid.as_deref() != Some(pv.as_slice()) {
                cache.vg_remove_if_missing(pv, true);
            }
            if let Some(prev_pvid) = &prev_pvid_on_dev {
                cache.pvid_to_vgid.remove(prev_pvid);
            }
        }

        let mut b = simple("OK");
        push_str(&mut b, "status", vg_status);
        push_int(&mut b, "changed", changed as i64);
        push_str(&mut b, "vgid", arg_vgid.as_deref().unwrap_or(ORPHAN));
        push_str(&mut b, "vgname", arg_name.as_deref().unwrap_or(ORPHAN));
        push_int(&mut b, "seqno_before", old_seqno as i64);
        push_int(&mut b, "seqno_after", status_seqno as i64);
        b
    }

    fn vg_update(&self, cache: &mut Cache, req: &mut [Node]) -> Vec<u8> {
        let idx = match req.iter().position(|n| n.key == b"metadata") {
            Some(i) => i,
            None => return simple("OK"),
        };
        let vgid = find_str(req, "metadata/id").map(|s| s.to_vec());
        let vgname = find_str(req, "vgname").map(|s| s.to_vec());
        let fail = |msg: &str, reason: &str| {
            self.log.error(msg);
            self.log.error(
                "lvmetad could not be updated; refusing the request (the C daemon exits here).",
            );
            reply_fail(reason)
        };
        let vgid = match vgid {
            Some(v) => v,
            None => return fail("vg_update failed: need VG UUID", "vg_update: need VG UUID"),
        };
        let vgname = match vgname {
            Some(v) => v,
            None => return fail("vg_update failed: need VG name", "vg_update: need VG name"),
        };
        if find_cint(req, "metadata/seqno", -1) < 0 {
            return fail(
                "vg_update failed: need VG seqno",
                "vg_update: need VG seqno",
            );
        }
        // (read before update_metadata, which may take the metadata out of the request)
        let cache_version =
            find_int(std::slice::from_ref(&req[idx]), "metadata/seqno").unwrap_or(-1);
        if cache.update_metadata(&vgname, &vgid, &mut req[idx], None, None) != Update::Ok {
            return fail(
                "vg_update failed: metadata update failed",
                "vg_update: failed metadata update",
            );
        }
        // vg_info_update
        if cache_version != -1 {
            if let Some(info) = cache.vgid_to_info.get_mut(&vgid) {
                if cache_version >= info.external_version {
                    info.flags &= !VGFL_INVALID;
                }
            }
        }
        simple("OK")
    }

    fn vg_remove(&self, cache: &mut Cache, req: &[Node]) -> Vec<u8> {
        match find_str(req, "uuid") {
            None => reply_fail("need VG UUID"),
            Some(v) => {
                let v = v.to_vec();
                cache.remove_metadata(&v, true);
                simple("OK")
            }
        }
    }

    fn vg_clear_outdated_pvs(&self, cache: &mut Cache, req: &[Node]) -> Vec<u8> {
        match find_str(req, "vgid") {
            None => reply_fail("need VG UUID"),
            Some(v) => {
                let v = v.to_vec();
                cache.vgid_to_outdated_pvs.remove(&v);
                simple("OK")
            }
        }
    }

    fn set_vg_info(&self, cache: &mut Cache, req: &[Node]) -> Vec<u8> {
        let new_version = find_cint(req, "version", -1) as i64;
        if new_version == -1 {
            return simple("OK");
        }
        let mut vgid: Option<Vec<u8>> = None;
        if let Some(u) = find_str(req, "uuid") {
            if cache.vgid_to_metadata.contains(u) {
                vgid = Some(u.to_vec());
            }
        }
        if vgid.is_none() {
            let name = match find_str(req, "name") {
                Some(n) => n,
                None => return simple("OK"),
            };
            let u = match cache.vgname_to_vgid.get(name) {
                Some(u) => u.clone(),
                None => return simple("OK"),
            };
            if !cache.vgid_to_metadata.contains(&u) {
                return simple("OK");
            }
            vgid = Some(u);
        }
        let vgid = vgid.unwrap();
        if new_version != 0 {
            let meta = cache.vgid_to_metadata.get(&vgid).unwrap();
            let cache_version =
                find_int(std::slice::from_ref(meta.tree()), "metadata/seqno").unwrap_or(-1);
            if cache_version != -1 && cache_version >= new_version {
                return simple("OK");
            }
        }
        if !cache.vgid_to_info.contains(&vgid) {
            cache.vgid_to_info.insert(&vgid, VgVersionInfo::default());
        }
        let info = cache.vgid_to_info.get_mut(&vgid).unwrap();
        info.external_version = new_version;
        info.flags |= VGFL_INVALID;
        simple("OK")
    }

    fn dump(&self, cache: &Cache, b: &mut Vec<u8>) {
        b.reserve(420 * cache.pvid_to_pvmeta.len() + 8192 * cache.vgid_to_metadata.len());
        b.extend_from_slice(b"# VG METADATA\n\n");
        for (vgid, m) in cache.vgid_to_metadata.iter() {
            dump_stored(b, vgid, m, "metadata/id");
        }
        b.extend_from_slice(b"\n# PV METADATA\n\n");
        for (pvid, m) in cache.pvid_to_pvmeta.iter() {
            dump_stored(b, pvid, m, "pvmeta/id");
        }
        b.extend_from_slice(b"\n# VGID to VGNAME mapping\n\n");
        dump_pairs(b, "vgid_to_vgname", cache.vgid_to_vgname.iter(), false);
        b.extend_from_slice(b"\n# VGID to outdated PVs mapping\n\n");
        for (_, m) in cache.vgid_to_outdated_pvs.iter() {
            dump_cft(b, m, "outdated_pvs/vgid");
        }
        b.extend_from_slice(b"\n# VGNAME to VGID mapping\n\n");
        dump_pairs(b, "vgname_to_vgid", cache.vgname_to_vgid.iter(), false);
        b.extend_from_slice(b"\n# PVID to VGID mapping\n\n");
        dump_pairs(b, "pvid_to_vgid", cache.pvid_to_vgid.iter(), false);
        b.extend_from_slice(b"\n# DEVICE to PVID mapping\n\n");
        dump_pairs(b, "device_to_pvid", cache.device_to_pvid.iter(), true);
        b.extend_from_slice(b"\n# VGID to INFO version mapping\n\n");
        b.extend_from_slice(b"vgid_to_info {\n");
        for (k, info) in cache.vgid_to_info.iter() {
            b.extend_from_slice(b"    ");
            b.extend_from_slice(k);
            b.extend_from_slice(b" = ");
            write_int(b, info.external_version);
            b.push(b'\n');
        }
        b.extend_from_slice(b"}\n");
        b.extend_from_slice(b"\n# VGID to INFO flags mapping\n\n");
        b.extend_from_slice(b"vgid_to_info {\n");
        for (k, info) in cache.vgid_to_info.iter() {
            b.extend_from_slice(b"    ");
            b.extend_from_slice(k);
            let _ = writeln!(b, " = {:x}", info.flags);
        }
        b.extend_from_slice(b"}\n");
    }
}

/// A PV entry as `pv_list` (level 1, keyed by PV id) and `pv_lookup` (level 0, keyed
/// `physical_volume`) write it: the pvmeta, then the PV's VG if it has one. `hash` is
/// the PV id's hash in the (string-keyed) tables.
fn write_pv_entry(
    cache: &Cache,
    b: &mut Vec<u8>,
    key: &[u8],
    hash: u32,
    pvid: &[u8],
    pvmeta: &Stored,
    level: usize,
) {
    indent(b, level);
    write_key(b, key);
    b.extend_from_slice(b" {\n");
    pvmeta.write_children(b, level + 1);
    if let Some(vgid) = cache.pvid_to_vgid.get_hashed(hash, pvid) {
        if vgid.as_slice() != ORPHAN {
            write_str_line(b, level + 1, b"vgid", vgid);
        }
        if let Some(name) = cache.vgid_to_vgname.get(vgid) {
            write_str_line(b, level + 1, b"vgname", name);
        }
    }
    indent(b, level);
    b.extend_from_slice(b"}\n");
}

/// What `set_flag(pv, "status", "MISSING", missing)` makes of a PV entry's status:
/// `None` when it stays as it is, else the new status node (it replaces the first
/// `status` child, or goes first when there is none).
fn status_with_missing(pv: &Node, missing: bool) -> Option<Node> {
    let old = pv.children.iter().find(|c| c.key == b"status");
    let mut parent = Node::section("", old.into_iter().cloned().collect());
    set_flag(&mut parent, "status", b"MISSING", missing);
    let new = parent.children.into_vec().pop();
    if new.as_ref() == old {
        None
    } else {
        new
    }
}

/// A stored tree in `dump`: its key (which by construction is the id at `id_path`)
/// and its children.
fn dump_stored(b: &mut Vec<u8>, key: &[u8], m: &Stored, id_path: &str) {
    debug_assert_eq!(
        find_str(std::slice::from_ref(m.tree()), id_path),
        Some(key),
        "table key is the stored tree's id"
    );
    if !m.is_section() {
        return dump_cft(b, m, id_path);
    }
    write_key(b, key);
    b.extend_from_slice(b" {\n");
    m.write_children(b, 1);
    b.extend_from_slice(b"}\n");
}

fn dump_cft(b: &mut Vec<u8>, tree: &Node, key_path: &str) {
    let key = find_str(std::slice::from_ref(tree), key_path).unwrap_or(b"unknown");
    if tree.is_section() {
        write_key(b, key);
        b.extend_from_slice(b" {\n");
        write_nodes(b, &tree.children, 1);
        b.extend_from_slice(b"}\n");
    } else {
        let mut t = tree.clone();
        t.key = key.into();
        write_node(b, &t, 0);
    }
}

fn dump_pairs<'a>(
    b: &mut Vec<u8>,
    name: &str,
    it: impl Iterator<Item = (&'a [u8], &'a Vec<u8>)>,
    int_key: bool,
) {
    b.extend_from_slice(name.as_bytes());
    b.extend_from_slice(b" {\n");
    for (k, v) in it {
        b.extend_from_slice(b"    ");
        if int_key {
            let mut x = [0u8; 4];
            x.copy_from_slice(&k[..4]);
            write_int(b, i32::from_ne_bytes(x) as i64);
        } else {
            b.extend_from_slice(k);
        }
        b.extend_from_slice(b" = \"");
        b.extend_from_slice(v);
        b.extend_from_slice(b"\"\n");
    }
    b.extend_from_slice(b"}\n");
}

impl Daemon {
    /// Log an error through the daemon's logger.
    pub fn log_error(&self, m: &str) {
        self.log.error(m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_str;
    use crate::daemon::cache::merge_pvmeta;

    /// vg_lookup as lvmetad does it: copy the metadata, change the copy
    /// (`update_pv_status()`, `chain_outdated_pvs()`), write it.
    fn vg_lookup_by_copy(cache: &Cache, uuid: &[u8], name: &[u8]) -> Vec<u8> {
        let mut md = cache.vgid_to_metadata.get(uuid).unwrap().tree().clone();
        if let Some(pvs) = md
            .children
            .iter_mut()
            .find(|c| c.key == b"physical_volumes")
        {
            for pv in pvs.children.iter_mut() {
                let id = match find_str(&pv.children, "id") {
                    Some(id) => id.to_vec(),
                    None => continue,
                };
                let pvmeta = cache.pvid_to_pvmeta.get(&id);
                set_flag(pv, "status", b"MISSING", pvmeta.is_none());
                if let Some(pm) = pvmeta {
                    merge_pvmeta(pv, &pm.children);
                }
            }
        }
        if let Some(out) = cache.vgid_to_outdated_pvs.get(uuid) {
            if let Some(vs) = find(std::slice::from_ref(out), "outdated_pvs/pv_list")
                .and_then(|n| n.values.as_ref())
            {
                let mut sec = Node::section("outdated_pvs", vec![]);
                for v in vs.iter() {
                    let pvid = match v {
                        crate::config::Value::Str(s) => s,
                        crate::config::Value::EmptyArray => break,
                        _ => continue,
                    };
                    if let Some(pm) = cache.pvid_to_pvmeta.get(pvid) {
                        let mut c = pm.tree().clone();
                        c.key = find_str(std::slice::from_ref(pm.tree()), "pvmeta/id")
                            .unwrap_or(b"unknown")
                            .into();
                        sec.children.insert(0, c);
                    }
                }
                md.children.insert(0, sec);
            }
        }
        let mut b = b"response=\"OK\"\n".to_vec();
        write_node(&mut b, &Node::string("name", name), 0);
        write_node(&mut b, &md, 0);
        b.extend_from_slice(b"\n\n");
        b
    }

    #[test]
    fn vg_lookup_writes_what_changing_a_copy_would() {
        let pvmeta = |id: &str| {
            Stored::new(
                parse_str(&format!(
                    "pvmeta {{ device=1 dev_size=2 format=\"lvm2\" id=\"{}\" mda0 {{ ignore=0 }} }}",
                    id
                ))
                .unwrap()
                .remove(0),
            )
        };
        let metadata = [
            // present and missing PVs with all kinds of status lists
            "metadata { id=\"V\" seqno=1 physical_volumes {
                pv0 { id=\"A\" status=\"ALLOCATABLE\" pe_start=2048 }
                pv1 { id=\"B\" status=\"ALLOCATABLE\" }
                pv2 { id=\"A\" status=[\"ALLOCATABLE\",\"MISSING\"] }
                pv3 { id=\"B\" status=[\"MISSING\",\"ALLOCATABLE\"] }
                pv4 { id=\"A\" status=\"MISSING\" }
                pv5 { id=\"A\" status=[] }
                pv6 { id=\"B\" status=[] }
                pv7 { id=\"A\" }
                pv8 { id=\"B\" }
                pv9 { id=\"B\" status { } }
                pv10 { status=\"x\" }
                pv11 = 1
                pv12 { id=\"A\" status=\"ALLOCATABLE\" status=\"MISSING\" }
                pv13 { id=\"B\" status=1 }
                pv14 { id=\"\" }
            } logical_volumes { lv0 { id=\"L\" } } }",
            // the first physical_volumes is a value: nothing changes
            "metadata { id=\"V\" physical_volumes=1 physical_volumes { pv0 { id=\"B\" } } }",
            "metadata { id=\"V\" seqno=1 }",
            "metadata=5",
        ];
        let outdated = [
            None,
            Some("outdated_pvs { pv_list=[\"A\",\"B\",\"C\"] vgid=\"V\" }"),
            Some("outdated_pvs { pv_list=[] vgid=\"V\" }"),
            Some("outdated_pvs { pv_list { } vgid=\"V\" }"),
        ];
        let d = Daemon::new(super::super::log::Logger::quiet());
        for md in metadata {
            for out in outdated {
                let mut cache = Cache::default();
                cache.pvid_to_pvmeta.insert(b"A", pvmeta("A"));
                cache.pvid_to_pvmeta.insert(b"C", pvmeta("C"));
                let tree = parse_str(md).unwrap().remove(0);
                cache.vgid_to_metadata.insert(b"V", Stored::new(tree));
                cache.vgid_to_vgname.insert(b"V", b"vg".to_vec());
                if let Some(o) = out {
                    let tree = parse_str(o).unwrap().remove(0);
                    cache.vgid_to_outdated_pvs.insert(b"V", tree);
                }
                let req = parse_str("uuid=\"V\"").unwrap();
                let mut ours = Vec::new();
                d.vg_lookup(&cache, &req, &mut ours);
                let want = vg_lookup_by_copy(&cache, b"V", b"vg");
                assert_eq!(
                    String::from_utf8_lossy(&ours),
                    String::from_utf8_lossy(&want),
                    "{} / {:?}",
                    md,
                    out
                );
            }
        }
        // the lists and lookups write what writing the trees would
        let mut cache = Cache::default();
        let tree = parse_str("pvmeta { device=1 id=\"A\" s=\"two\nlines\" }").unwrap();
        cache
            .pvid_to_pvmeta
            .insert(b"A", Stored::new(tree[0].clone()));
        cache.pvid_to_vgid.insert(b"A", b"V".to_vec());
        cache.vgid_to_vgname.insert(b"V", b"vg".to_vec());
        let mut ours = Vec::new();
        d.pv_list(&cache, &mut ours);
        let mut want = b"response=\"OK\"\nphysical_volumes {\n".to_vec();
        let mut entry = tree[0].clone();
        entry.key = "A".into();
        entry.children.push(Node::string("vgid", "V"));
        entry.children.push(Node::string("vgname", "vg"));
        write_node(&mut want, &entry, 1);
        want.extend_from_slice(b"}\n\n\n");
        assert_eq!(ours, want);
    }
}
