//! The lvmetad client: connection lifecycle, the validity token, the "update in progress"
//! waits and the disabled state, with LVM2 2.02.188's `lib/cache/lvmetad.c` semantics and
//! messages (docs/reference/client.md sections 3, 4, 6 and 7).
//!
//! Everything here is safe Rust; `crate::ffi` exposes it through LVM's C ABI.

pub mod id;
pub mod port;
pub mod scan;
pub mod token;
pub mod update;
pub mod vg;
pub mod wait;

use crate::client::port::{CmdId, Host, Level};
use crate::config::builder::{push_int, push_str};
use crate::config::{to_bytes, Node, Value};
use crate::protocol::TOKEN_UPDATE_IN_PROGRESS as IP;
use crate::protocol::{Request, PROTOCOL, PROTOCOL_VERSION};
use crate::wire::{strerror, Connection, OpenError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Default socket (LVM's `DEFAULT_RUN_DIR "/lvmetad.socket"`).
pub const LVMETAD_SOCKET: &str = "/run/lvm/lvmetad.socket";
/// Default pidfile.
pub const LVMETAD_PIDFILE: &str = "/run/lvmetad.pid";

/// Disable reasons (`LVMETAD_DISABLE_REASON_*`).
pub const DISABLE_REASON_DIRECT: &str = "DIRECT";
pub const DISABLE_REASON_DUPLICATES: &str = "DUPLICATES";
pub const DISABLE_REASON_VGRESTORE: &str = "VGRESTORE";
pub const DISABLE_REASON_REPAIR: &str = "REPAIR";

/// Why lvmetad is disabled, in LVM's words (`lvmetad_is_disabled`'s `reason`): a static
/// string, NUL-terminated for C callers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reason(&'static std::ffi::CStr);

impl Reason {
    pub fn as_str(self) -> &'static str {
        self.0.to_str().unwrap_or("<unknown>")
    }
    pub fn as_cstr(self) -> &'static std::ffi::CStr {
        self.0
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Reason {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// libdaemon's `daemon_reply`, as the client reads it: the wire layer's reply.
pub use crate::wire::Reply as DaemonReply;

/// One request-specific field.
#[derive(Debug, Clone)]
pub enum Field<'a> {
    Str(&'a str, &'a [u8]),
    Int(&'a str, i64),
    /// A section (`"key = %t"`): the node's children travel under `key`.
    Tree(&'a str, &'a Node),
}

/// The state of the long-lived handle (`_lvmetad`).
enum Handle {
    /// Never opened: the C handle is zeroed (fd 0).
    Never,
    /// Open, with the connection.
    Open(Connection),
    /// Closed by disconnect: a stale fd.
    Closed,
    /// A failed open: fd -1.
    Failed,
}

/// How [`Client::token_update_or_adopt`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUpdate {
    /// The daemon took the token.
    Done,
    /// Another command's update ended meanwhile with the token this one would set.
    Adopted,
    /// LVM's failure (messages logged).
    Failed,
}

/// The client's module state (`lvmetad.c` statics).
pub struct Client {
    host: Arc<dyn Host>,
    handle: Handle,
    use_: bool,
    connected: bool,
    was_connected: bool,
    daemon_pid: i64,
    token: Option<String>,
    socket: Option<PathBuf>,
    cmd: CmdId,
    update_timeout: i64,
    pid: u32,
    buf: Vec<u8>,
    /// `used()`, readable without the client's lock: LVM's `refresh_filters`, called
    /// by `make_unused` while the client is locked, asks `lvmetad_used()`.
    used_now: Arc<AtomicBool>,
    /// `token_matches` saw the daemon's token not "update in progress" (an update seen
    /// in progress later began after that: `update::begin_full_update_or_adopt`).
    idle_seen: bool,
}

/// Open a connection and run the handshake (`lvmetad_open` / `daemon_open`) with
/// libdaemon's messages. Returns the connection, or the handle error (errno, 0 if none).
fn daemon_open(host: &dyn Host, path: &str) -> Result<Connection, i32> {
    host.log(
        Level::Debug,
        &format!(
            "{}: Opening daemon socket to lvmetad for protocol {} version {}.",
            path, PROTOCOL, PROTOCOL_VERSION
        ),
    );
    let opened = Connection::connect(Path::new(path)).and_then(|mut c| {
        host.log(Level::Debug, "Sending daemon lvmetad: hello");
        c.handshake(PROTOCOL, PROTOCOL_VERSION).map(|()| c)
    });
    opened.map_err(|e| {
        let msg = match &e {
            OpenError::PathTooLong => format!("{}: Daemon socket path too long.", path),
            OpenError::Connect(n) => format!("{}: connect failed: {}", path, strerror(*n)),
            OpenError::Hello(n) => format!("Daemon lvmetad returned error {}", n),
            OpenError::Protocol(p) => {
                format!("Daemon lvmetad: requested protocol {} != {}", PROTOCOL, p)
            }
            OpenError::Version(v) => format!(
                "Daemon lvmetad: requested protocol version {} != {}",
                PROTOCOL_VERSION, *v as i32
            ),
        };
        host.log(Level::Error, &msg);
        e.errno()
    })
}

/// Build a tree-form request the way `daemon_request_make`/`_extend` lay it out.
pub fn tree_request(
    id: Request,
    fields: &[Field<'_>],
    token: &str,
    update_timeout: i64,
    pid: u32,
    cmd: &str,
) -> Vec<u8> {
    let mut doc = Vec::with_capacity(fields.len() + 5);
    doc.push(Node::string("request", id.name()));
    for f in fields {
        doc.push(match f {
            Field::Str(k, v) => Node::string(format!("{} ", k), v),
            Field::Int(k, v) => Node::int(format!("{} ", k), *v),
            Field::Tree(k, n) => Node {
                key: format!("{} ", k).into(),
                values: n.values.clone(),
                children: n.children.clone(),
            },
        });
    }
    doc.push(Node::string("token ", token));
    doc.push(Node::int("update_timeout ", update_timeout));
    doc.push(Node::int("pid ", pid as i64));
    doc.push(Node::string("cmd ", cmd));
    to_bytes(&doc)
}

impl Client {
    pub fn new(host: Arc<dyn Host>) -> Client {
        Client {
            host,
            handle: Handle::Never,
            use_: false,
            connected: false,
            was_connected: false,
            daemon_pid: 0,
            token: None,
            socket: None,
            cmd: 0,
            update_timeout: 0,
            pid: std::process::id(),
            buf: Vec::new(),
            used_now: Arc::new(AtomicBool::new(false)),
            idle_seen: false,
        }
    }

    /// A live copy of `used()` (`use_`) that can be read while the client is locked.
    pub fn used_flag(&self) -> Arc<AtomicBool> {
        self.used_now.clone()
    }

    fn set_state(&mut self, connected: bool, use_: bool) {
        self.connected = connected;
        self.use_ = use_;
        self.used_now.store(use_, Ordering::SeqCst);
    }

    pub fn host(&self) -> &Arc<dyn Host> {
        &self.host
    }

    /// Replace the host (the C glue registers LVM's).
    pub fn set_host(&mut self, host: Arc<dyn Host>) {
        self.host = host;
    }

    fn log(&self, l: Level, m: &str) {
        self.host.log(l, m)
    }

    /// The token as sent (`"none"` when unset).
    pub fn token(&self) -> &str {
        self.token.as_deref().unwrap_or("none")
    }

    /// The daemon's pid as last reported by `get_global_info`.
    pub fn daemon_pid(&self) -> i64 {
        self.daemon_pid
    }

    /// `lvmetad_used()`
    pub fn used(&self) -> bool {
        self.use_
    }

    /// `lvmetad_set_socket()`
    pub fn set_socket(&mut self, path: Option<PathBuf>) {
        self.socket = path;
    }

    pub fn socket_path(&self) -> PathBuf {
        self.socket
            .clone()
            .unwrap_or_else(|| PathBuf::from(LVMETAD_SOCKET))
    }

    /// `lvmetad_socket_present()`
    pub fn socket_present(&self) -> bool {
        let p = self.socket_path();
        match nix::unistd::access(&p, nix::unistd::AccessFlags::F_OK) {
            Ok(()) => true,
            Err(e) => {
                if e != nix::errno::Errno::ENOENT {
                    self.log(
                        Level::Error,
                        &format!("{}: access failed: {}", p.display(), strerror(e as i32)),
                    );
                }
                false
            }
        }
    }

    /// `lvmetad_pidfile_present()`
    pub fn pidfile_present(&self) -> bool {
        let p = std::env::var_os("LVM_LVMETAD_PIDFILE")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(LVMETAD_PIDFILE));
        nix::unistd::access(&p, nix::unistd::AccessFlags::F_OK).is_ok()
    }

    /// `lvmetad_set_token()`: CRC of the leading string values of `devices/global_filter`.
    pub fn set_token(&mut self, filter: Option<&[Value]>) {
        self.token = Some(token::filter_token(filter));
    }

    /// `lvmetad_release_token()`
    pub fn release_token(&mut self) {
        self.token = None;
    }

    /// Replace the token, returning the previous one (the scan sets
    /// "update in progress" for the duration of a rescan, then restores it).
    pub fn replace_token(&mut self, token: Option<String>) -> Option<String> {
        std::mem::replace(&mut self.token, token)
    }

    /// The process id sent as `pid` (tests may pretend to be another process).
    pub fn set_pid(&mut self, pid: u32) {
        self.pid = pid;
    }

    /// `lvmetad_connect()`
    pub fn connect(&mut self, cmd: CmdId) -> bool {
        if !self.socket_present() {
            self.log(
                Level::Debug,
                "Failed to connect to lvmetad: socket not present.",
            );
            self.set_state(false, false);
            self.cmd = 0;
            return false;
        }
        self.update_timeout = self
            .host
            .config_int(cmd, "global/lvmetad_update_wait_time", 10);
        let path = self.socket_path();
        // the previous handle is overwritten, not closed (a leak in C; dropped here)
        match daemon_open(&*self.host, &path.to_string_lossy()) {
            Ok(s) => {
                self.log(
                    Level::Debug,
                    &format!(
                        "Successfully connected to lvmetad on fd {}.",
                        std::os::fd::AsRawFd::as_raw_fd(s.stream())
                    ),
                );
                self.handle = Handle::Open(s);
                self.set_state(true, true);
                self.cmd = cmd;
                true
            }
            Err(e) => {
                self.handle = Handle::Failed;
                self.log(
                    Level::Debug,
                    &format!("Failed to connect to lvmetad: {}", strerror(e)),
                );
                self.set_state(false, false);
                self.cmd = 0;
                false
            }
        }
    }

    /// `lvmetad_disconnect()`
    pub fn disconnect(&mut self) {
        if self.connected {
            self.handle = Handle::Closed;
            self.was_connected = true;
        }
        self.set_state(false, false);
        self.cmd = 0;
    }

    /// `lvmetad_make_unused()`
    pub fn make_unused(&mut self, cmd: Option<CmdId>) {
        self.disconnect();
        if let Some(c) = cmd {
            if !self.host.refresh_filters(c) {
                self.log(Level::Debug, "<backtrace>");
            }
        }
    }

    /// Send on the long-lived handle without the connected check (as the C code does
    /// for `get_global_info`); a closed or never-opened handle is a send error.
    fn send_on_handle(&mut self, body: &[u8]) -> DaemonReply {
        match &mut self.handle {
            Handle::Open(s) => s.exchange(body),
            Handle::Failed => {
                self.host.log(
                    Level::Error,
                    "Internal error: Daemon send: socket fd cannot be negative -1",
                );
                DaemonReply::from_error(libc::EINVAL)
            }
            Handle::Never | Handle::Closed => DaemonReply::from_error(libc::EBADF),
        }
    }

    fn simple_request(&self, id: Request, fields: &[Field<'_>]) -> Vec<u8> {
        let mut b = Vec::with_capacity(128);
        push_str(&mut b, "request", id.name().as_bytes());
        push_str(&mut b, "token", b"skip");
        for f in fields {
            match f {
                Field::Str(k, v) => push_str(&mut b, k, v),
                Field::Int(k, v) => push_int(&mut b, k, *v),
                Field::Tree(..) => {}
            }
        }
        push_int(&mut b, "pid", self.pid as i64);
        push_str(&mut b, "cmd", self.host.cmd_name().as_bytes());
        b
    }

    /// A simple-form request with the skip token on the main handle (libdaemon's
    /// `daemon_send_simple`), as the global-state requests are sent.
    pub fn send_skip(&mut self, id: Request, fields: &[Field<'_>]) -> DaemonReply {
        let body = self.simple_request(id, fields);
        self.send_on_handle(&body)
    }

    /// `get_global_info` with the skip token, on the main handle.
    pub fn get_global_info(&mut self) -> DaemonReply {
        let body = self.simple_request(Request::GetGlobalInfo, &[]);
        self.send_on_handle(&body)
    }

    /// LVM's delay between two retries: 1 s plus a random part below 1 s.
    fn random_delay(&self) -> Duration {
        let r = self.host.random(self.cmd, 1_000_000);
        Duration::from_micros(1_000_000 + r as u64)
    }

    /// Sleep LVM's delay `d` (or the rest of it), waking early when the daemon's update
    /// has ended (`wait::Pacer`).
    fn pace(&mut self, pacer: &mut wait::Pacer, d: Duration) {
        let host = self.host.clone();
        pacer.sleep(&*host, d, &mut || self.update_ended());
    }

    /// Polled while waiting: whether the daemon's token is no longer "update in
    /// progress" (or the daemon cannot say, which the next attempt reports).
    fn update_ended(&mut self) -> bool {
        let reply = self.get_global_info();
        reply.error != 0 || reply.response() != "OK" || reply.str("token") != Some(IP)
    }

    /// `_lvmetad_send()`: a tree-form request with the common header, retried while
    /// another command is updating the cache (up to `lvmetad_update_wait_time`).
    pub fn send(&mut self, id: Request, fields: &[Field<'_>]) -> DaemonReply {
        if !self.connected || !self.use_ {
            return DaemonReply::from_error(libc::ECONNRESET);
        }
        let wait_sec = self.update_timeout as u32;
        let mut wait_start = 0u64;
        let mut pacer = wait::Pacer::new();
        loop {
            let body = tree_request(
                id,
                fields,
                self.token(),
                wait_sec as i64,
                self.pid,
                &self.host.cmd_name(),
            );
            let reply = self.send_on_handle(&body);
            if reply.error == libc::ECONNRESET {
                self.log(
                    Level::Warn,
                    "WARNING: lvmetad connection failed, cannot reconnect.",
                );
            }
            if id == Request::TokenUpdate || reply.error != 0 {
                return reply;
            }
            if reply.response() == "token_mismatch" {
                let daemon_in_update = reply.str("expected") == Some(IP);
                let we_in_update = self.token() == IP;
                if daemon_in_update && !we_in_update {
                    let mut delay = Duration::ZERO;
                    if pacer.due() {
                        let now = self.host.monotonic_seconds();
                        if now == 0 {
                            return reply;
                        }
                        if wait_start == 0 {
                            wait_start = now;
                        }
                        if wait_sec == 0 || now - wait_start >= wait_sec as u64 {
                            self.log(
                                Level::Warn,
                                &format!(
                                    "WARNING: Cannot use lvmetad after {} sec lvmetad_update_wait_time.",
                                    wait_sec
                                ),
                            );
                            return reply;
                        }
                        self.log(
                            Level::Warn,
                            &format!(
                                "WARNING: lvmetad is being updated, retrying ({}) for {} more seconds.",
                                id.name(),
                                wait_sec as u64 - (now - wait_start)
                            ),
                        );
                        delay = self.random_delay();
                    }
                    self.pace(&mut pacer, delay);
                    continue;
                }
            }
            return reply;
        }
    }

    /// `_lvmetad_handle_reply()`: success or failure of a reply, with LVM's messages.
    /// `found` receives 1 (found), 0 (unknown) or 2 (multiple) where lookups allow it.
    pub fn handle_reply(
        &self,
        reply: &DaemonReply,
        id: Request,
        object: &str,
        found: Option<&mut i32>,
    ) -> bool {
        let spec = id.spec();
        let mut modifies = spec.modifies;
        let action = spec.action.unwrap_or_else(|| {
            self.log(
                Level::Error,
                &format!("Internal error: Unchecked lvmetad message {}.", spec.name),
            );
            "action unknown"
        });
        let obj = if object.is_empty() {
            String::new()
        } else {
            format!("{} ", object)
        };
        let fail = |modifies: bool| {
            if modifies {
                self.log(
                    Level::Warn,
                    "WARNING: To avoid corruption, restart lvmetad (or disable with use_lvmetad=0).",
                );
            }
            false
        };
        if reply.error != 0 {
            self.log(
                Level::Error,
                &format!(
                    "lvmetad cannot be used due to error: {}",
                    strerror(reply.error)
                ),
            );
            return fail(modifies);
        }
        let response = reply.response();
        if response == "token_mismatch" {
            let expected = reply.str("expected").unwrap_or("");
            let update_pid = reply.int("update_pid").unwrap_or(0) as i32;
            self.log(
                Level::Debug,
                &format!(
                    "lvmetad token mismatch, expected \"{}\" our token \"{}\"",
                    expected,
                    self.token()
                ),
            );
            let daemon_in_update = expected == IP;
            let we_in_update = self.token() == IP;
            if daemon_in_update && we_in_update {
                if update_pid as u32 != self.pid {
                    self.log(
                        Level::Warn,
                        &format!(
                            "WARNING: lvmetad is being updated by another command (pid {}).",
                            update_pid
                        ),
                    );
                } else {
                    self.log(
                        Level::Error,
                        &format!(
                            "Internal error: lvmetad update by pid {} matches our own pid {}",
                            update_pid, self.pid
                        ),
                    );
                }
                modifies = false;
            } else if daemon_in_update {
                self.log(
                    Level::Warn,
                    "WARNING: lvmetad is being updated and cannot be used.",
                );
            } else if we_in_update {
                self.log(
                    Level::Warn,
                    "WARNING: lvmetad was updated by another command.",
                );
                modifies = false;
            } else {
                self.log(
                    Level::Warn,
                    "WARNING: Cannot use lvmetad while it caches different devices.",
                );
            }
            return fail(modifies);
        }
        if response == "OK" {
            if let Some(f) = found {
                *f = 1;
            }
            return true;
        }
        if let Some(f) = found {
            if response == "unknown" {
                self.log(
                    Level::VeryVerbose,
                    &format!(
                        "Request to {} {}in lvmetad did not find any matching object.",
                        action, obj
                    ),
                );
                *f = 0;
                return true;
            }
            if response == "multiple" {
                self.log(
                    Level::VeryVerbose,
                    &format!(
                        "Request to {} {}in lvmetad found multiple matching objects.",
                        action, obj
                    ),
                );
                *f = 2;
                return true;
            }
        }
        self.log(
            Level::Error,
            &format!(
                "Request to {} {}in lvmetad gave response {}. Reason: {}",
                action,
                obj,
                reply.str("response").unwrap_or("<missing>"),
                reply.str("reason").unwrap_or("<missing>")
            ),
        );
        fail(modifies)
    }

    /// `_token_update()`: send the current token as the daemon's new token.
    pub fn token_update(&mut self, replaced_update: Option<&mut bool>) -> bool {
        self.token_update_or_adopt(replaced_update, None) == TokenUpdate::Done
    }

    /// [`Client::token_update`]; when starting an update (`adopt` = the token this
    /// command would set at its end) and another command's update ends meanwhile with
    /// that token, `Adopted` instead of starting this one (the caller knows that update
    /// began after it saw the cache unpopulated: docs/compat.md).
    pub fn token_update_or_adopt(
        &mut self,
        mut replaced_update: Option<&mut bool>,
        adopt: Option<&str>,
    ) -> TokenUpdate {
        let wait_sec = self.update_timeout as u32;
        let mut wait_start = 0u64;
        let mut pacer = wait::Pacer::new();
        loop {
            self.log(
                Level::Debug,
                &format!("Sending lvmetad token_update {}", self.token()),
            );
            let reply = self.send(Request::TokenUpdate, &[]);
            if let Some(r) = replaced_update.as_deref_mut() {
                *r = false;
            }
            if reply.error != 0 {
                self.log(
                    Level::Warn,
                    &format!(
                        "WARNING: lvmetad token update error: {}",
                        strerror(reply.error)
                    ),
                );
                return TokenUpdate::Failed;
            }
            let update_pid = reply.int("update_pid").unwrap_or(0) as i32;
            let response = reply.response().to_string();
            if response == "token_updating" {
                let mut delay = Duration::ZERO;
                if pacer.due() {
                    let now = self.host.monotonic_seconds();
                    if now == 0 {
                        self.log(Level::PrintUnlessSilent, "_monotonic_seconds error");
                        return TokenUpdate::Failed;
                    }
                    if wait_start == 0 {
                        wait_start = now;
                    }
                    if now - wait_start > wait_sec as u64 {
                        self.log(
                            Level::PrintUnlessSilent,
                            &format!(
                                "Not using lvmetad after {} sec lvmetad_update_wait_time, no more try.",
                                wait_sec
                            ),
                        );
                        return TokenUpdate::Failed;
                    }
                    self.log(
                        Level::Warn,
                        &format!(
                            "lvmetad is being updated, retry for {} more seconds.",
                            (wait_sec as u64).wrapping_sub(now - wait_start) as u32
                        ),
                    );
                    delay = self.random_delay();
                }
                let host = self.host.clone();
                let mut ended_with: Option<String> = None;
                pacer.sleep(&*host, delay, &mut || {
                    let reply = self.get_global_info();
                    if reply.error != 0 || reply.response() != "OK" {
                        return true;
                    }
                    match reply.str("token") {
                        Some(t) if t == IP => false,
                        t => {
                            ended_with = t.map(str::to_string);
                            true
                        }
                    }
                });
                if let (Some(ours), Some(theirs)) = (adopt, ended_with.as_deref()) {
                    if ours == theirs {
                        return TokenUpdate::Adopted;
                    }
                }
                continue;
            }
            if response == "token_mismatch" {
                self.log(
                    Level::PrintUnlessSilent,
                    &format!(
                        "Received token update mismatch expected \"{}\" our token \"{}\" update_pid {} our pid {}",
                        reply.str("expected").unwrap_or(""),
                        self.token(),
                        update_pid,
                        self.pid
                    ),
                );
                if self.token() != IP && update_pid as u32 != self.pid {
                    self.log(
                        Level::PrintUnlessSilent,
                        &format!(
                            "WARNING: lvmetad was updated by another command (pid {}).",
                            update_pid
                        ),
                    );
                } else {
                    self.log(
                        Level::Error,
                        &format!(
                            "Internal error: lvmetad token update mismatch pid {} matches our own pid {}",
                            update_pid, self.pid
                        ),
                    );
                }
                return TokenUpdate::Failed;
            }
            if response != "OK" {
                self.log(
                    Level::Error,
                    "Failed response from lvmetad for token update.",
                );
                return TokenUpdate::Failed;
            }
            if let Some(r) = replaced_update {
                if reply.str("prev_token") == Some(IP) && update_pid as u32 != self.pid {
                    *r = true;
                }
            }
            return TokenUpdate::Done;
        }
    }

    /// Whether `token_matches` has seen the daemon's token not "update in progress".
    pub fn idle_seen(&self) -> bool {
        self.idle_seen
    }

    /// `_lvmetad_is_updating()`: whether the daemon's token is "update in progress",
    /// optionally waiting up to `lvmetad_update_wait_time` for it to change.
    pub fn is_updating(&mut self, do_wait: bool) -> bool {
        let wait_sec = self.update_timeout as u32;
        let mut wait_start = 0u64;
        let mut pacer = wait::Pacer::new();
        loop {
            let reply = self.get_global_info();
            if reply.error != 0 || reply.response() != "OK" {
                return false;
            }
            match reply.str("token") {
                Some(t) if t == IP => {
                    if !do_wait {
                        return true;
                    }
                    if pacer.due() {
                        let now = self.host.monotonic_seconds();
                        if now == 0 {
                            return true;
                        }
                        if wait_start == 0 {
                            wait_start = now;
                        }
                        if now - wait_start >= wait_sec as u64 {
                            return true;
                        }
                        self.log(
                            Level::Warn,
                            &format!(
                                "WARNING: lvmetad is being updated, waiting for {} more seconds.",
                                wait_sec as u64 - (now - wait_start)
                            ),
                        );
                    }
                    self.pace(&mut pacer, Duration::from_secs(1));
                }
                _ => return false,
            }
        }
    }

    /// `lvmetad_token_matches()`: whether the daemon's cache was populated with our
    /// global_filter. Waits while another command updates it. On failure the client
    /// stops using lvmetad (`make_unused`); callers tell "must rescan" from "gave up"
    /// by `used()`.
    pub fn token_matches(&mut self, cmd: CmdId) -> bool {
        let wait_sec = self.update_timeout as u32;
        let mut wait_start = 0u64;
        let mut last_warn = 0u64;
        let mut waited = false;
        let mut pacer = wait::Pacer::new();
        loop {
            let reply = self.get_global_info();
            if reply.error != 0 {
                self.log(
                    Level::Warn,
                    &format!(
                        "WARNING: Not using lvmetad after send error ({}).",
                        reply.error
                    ),
                );
                break;
            }
            if reply.response() != "OK" {
                self.log(
                    Level::Warn,
                    "WARNING: Not using lvmetad after response error.",
                );
                break;
            }
            let daemon_token = match reply.str("token") {
                Some(t) => t.to_string(),
                None => {
                    self.log(
                        Level::Warn,
                        "WARNING: Not using lvmetad with older version.",
                    );
                    break;
                }
            };
            self.daemon_pid = reply.int("daemon_pid").unwrap_or(0);
            if daemon_token == IP {
                let mut delay = Duration::ZERO;
                if pacer.due() {
                    let now = self.host.monotonic_seconds();
                    if now == 0 {
                        break;
                    }
                    if wait_start == 0 {
                        wait_start = now;
                    }
                    if now - wait_start > wait_sec as u64 {
                        self.log(
                            Level::Warn,
                            &format!(
                                "pvscan[{}] WARNING: Not using lvmetad after {} sec lvmetad_update_wait_time.",
                                self.pid, wait_sec
                            ),
                        );
                        break;
                    }
                    if now - last_warn >= 10 {
                        last_warn = now;
                        self.log(
                            Level::Warn,
                            &format!(
                                "pvscan[{}] WARNING: lvmetad is being updated, retrying (setup) for {} more seconds.",
                                self.pid,
                                wait_sec as u64 - (now - wait_start)
                            ),
                        );
                    }
                    delay = self.random_delay();
                }
                waited = true;
                self.pace(&mut pacer, delay);
                continue;
            }
            // the cache was seen not being updated: any update seen later began after this
            self.idle_seen = true;
            if daemon_token == "none" {
                self.log(Level::Debug, "lvmetad initialization needed.");
                return false;
            }
            if daemon_token != self.token() {
                self.log(
                    Level::Debug,
                    "lvmetad initialization needed for different filter.",
                );
                return false;
            }
            self.log(
                Level::Debug,
                if waited {
                    "lvmetad initialized during wait."
                } else {
                    "lvmetad initialized previously."
                },
            );
            return true;
        }
        self.make_unused(Some(cmd));
        false
    }

    /// `lvmetad_is_disabled()`: `Some(reason)` when lvmetad is disabled (or its state
    /// cannot be read), with LVM's reason texts.
    pub fn is_disabled(&mut self) -> Option<Reason> {
        let reply = self.get_global_info();
        if reply.error != 0 {
            return Some(Reason(c"send error"));
        }
        if reply.response() != "OK" {
            return Some(Reason(c"response error"));
        }
        if reply.int("global_disable").unwrap_or(0) != 0 {
            return Some(Reason(match reply.str("disable_reason") {
                None => c"<not set>",
                Some(r) if r.contains(DISABLE_REASON_DIRECT) => {
                    c"the disable flag was set directly"
                }
                Some(r) if r.contains(DISABLE_REASON_REPAIR) => c"a repair command was run",
                Some(r) if r.contains(DISABLE_REASON_DUPLICATES) => c"duplicate PVs were found",
                Some(r) if r.contains(DISABLE_REASON_VGRESTORE) => {
                    c"vgcfgrestore is restoring VG metadata"
                }
                Some(_) => c"<unknown>",
            }));
        }
        None
    }

    fn report_set_global(&self, reply: &DaemonReply) {
        if reply.error != 0 {
            self.log(
                Level::Error,
                &format!("Failed to send message to lvmetad {}", reply.error),
            );
        }
        if reply.response() != "OK" {
            self.log(Level::Error, "Failed response from lvmetad.");
        }
    }

    /// `lvmetad_set_disabled()`
    pub fn set_disabled(&mut self, reason: &str) {
        let body = self.simple_request(
            Request::SetGlobalInfo,
            &[
                Field::Int("global_disable", 1),
                Field::Str("disable_reason", reason.as_bytes()),
            ],
        );
        if !self.use_ {
            if !self.was_connected {
                return;
            }
            let path = self.socket_path();
            let mut s = match daemon_open(&*self.host, &path.to_string_lossy()) {
                Ok(s) => s,
                Err(_) => {
                    self.log(Level::Warn, "Failed to connect to lvmetad to disable.");
                    return;
                }
            };
            self.log(
                Level::Debug,
                &format!("Sending lvmetad disabled {}", reason),
            );
            let reply = s.exchange(&body);
            self.report_set_global(&reply);
            return;
        }
        self.log(
            Level::Debug,
            &format!("Sending lvmetad disabled {}", reason),
        );
        let reply = self.send_on_handle(&body);
        self.report_set_global(&reply);
    }

    /// `lvmetad_clear_disabled()`
    pub fn clear_disabled(&mut self) {
        if !self.use_ {
            return;
        }
        self.log(Level::Debug, "Sending lvmetad enabled");
        let body = self.simple_request(Request::SetGlobalInfo, &[Field::Int("global_disable", 0)]);
        let reply = self.send_on_handle(&body);
        self.report_set_global(&reply);
    }

    /// Raw access for the layers above (scan, VG operations): send a simple-form body.
    pub fn send_simple_raw(&mut self, body: &[u8]) -> DaemonReply {
        let _ = &self.buf;
        self.send_on_handle(body)
    }
}
