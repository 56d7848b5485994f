//! The daemon's resource bounds (docs/reliability.md, "Resource bounds"; the limits and
//! their settings: docs/compat.md, "Limits"):
//!
//! - at most [`Limits::max_connections`] clients are served at once; the others wait in
//!   the listen backlog until one goes (or, when asked for, are closed at once);
//! - the requests being read or handled hold at most [`Limits::max_buffered`] bytes in
//!   total; a connection whose request would go beyond that is closed;
//! - when `accept` fails for want of descriptors or memory the daemon says so once and
//!   waits for a client to go (or a growing delay) instead of retrying at once.

use super::log::Logger;
use crate::config::parse::{ParseError, MAX_DEPTH};
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// Default cap on clients served at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 5000;

/// Default cap on the bytes of all requests held at once.
pub const DEFAULT_MAX_BUFFERED: usize = 256 << 20;

/// Request and reply buffers larger than this are freed after their message.
pub const KEEP_BUFFER: usize = 1 << 20;

/// The settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Clients served at once (`LVMETAD_RS_MAX_CONNECTIONS`).
    pub max_connections: usize,
    /// Close the connections beyond `max_connections` at once instead of leaving them
    /// in the backlog (`LVMETAD_RS_REFUSE_EXCESS=1`). LVM takes a connection closed
    /// before its `hello` is answered for "lvmetad not running", so this is opt-in.
    pub refuse_excess: bool,
    /// Bytes of requests held at once, all connections together
    /// (`LVMETAD_RS_MAX_BUFFERED`).
    pub max_buffered: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            refuse_excess: false,
            max_buffered: DEFAULT_MAX_BUFFERED,
        }
    }
}

impl Limits {
    /// The defaults, changed by the `LVMETAD_RS_*` variables of the environment
    /// (unparsable values are ignored; a cap of 0 is taken as 1).
    pub fn from_env() -> Limits {
        let num = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|s| s.trim().parse::<usize>().ok())
                .map(|n| n.max(1))
        };
        let d = Limits::default();
        Limits {
            max_connections: num("LVMETAD_RS_MAX_CONNECTIONS").unwrap_or(d.max_connections),
            refuse_excess: std::env::var("LVMETAD_RS_REFUSE_EXCESS").is_ok_and(|v| v == "1"),
            max_buffered: num("LVMETAD_RS_MAX_BUFFERED").unwrap_or(d.max_buffered),
        }
    }
}

/// The reason given for a request nested deeper than the parser takes.
pub fn too_deep_reason(e: &ParseError) -> String {
    format!(
        "request nested more than {} levels deep (line {})",
        MAX_DEPTH, e.line
    )
}

/// Raise the soft limit on open files towards the hard one, so that the connection cap
/// and not the descriptor limit (1024 by default) bounds the clients served. Returns
/// the soft limit in force.
pub fn raise_nofile(limits: &Limits) -> u64 {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct passed.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } != 0 {
        return 0;
    }
    // a descriptor per client and a few for the daemon itself
    let want = (limits.max_connections as u64 + 64).min(rl.rlim_max);
    if want > rl.rlim_cur {
        let new = libc::rlimit {
            rlim_cur: want,
            rlim_max: rl.rlim_max,
        };
        // SAFETY: setrlimit reads the struct passed.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &new) } == 0 {
            return want;
        }
    }
    rl.rlim_cur
}

/// Whether a client is waiting to be accepted on `listener`.
pub fn pending(listener: &impl AsFd) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
    matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
}

/// Wakes the accepting thread when a client goes (its descriptor and slot are free).
#[derive(Default)]
pub struct Gate {
    gone: Mutex<u64>,
    cv: Condvar,
}

impl Gate {
    /// A client has gone.
    pub fn notify(&self) {
        let mut g = self.gone.lock().unwrap_or_else(|e| e.into_inner());
        *g += 1;
        self.cv.notify_all();
    }

    /// How many clients have gone so far (pass it to [`Gate::wait`]).
    pub fn gone(&self) -> u64 {
        *self.gone.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wait until a client goes after `since` (a [`Gate::gone`] count), or `timeout`.
    pub fn wait(&self, since: u64, timeout: Duration) {
        let g = self.gone.lock().unwrap_or_else(|e| e.into_inner());
        let _ = self.cv.wait_timeout_while(g, timeout, |g| *g == since);
    }
}

/// What the accepting thread does when `accept` fails for want of resources.
#[derive(Default)]
pub struct AcceptBackoff {
    /// The current run of failures has been logged.
    logged: bool,
    /// Delay before the next try (grows while failures go on).
    delay_ms: u64,
}

/// Longest wait between two tries (a client going ends the wait at once).
const MAX_DELAY_MS: u64 = 1000;

impl AcceptBackoff {
    /// Whether `e` is a lack of descriptors or memory, which retrying at once will not
    /// cure.
    pub fn is_exhaustion(e: &io::Error) -> bool {
        matches!(
            e.raw_os_error(),
            Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
        )
    }

    /// `accept` failed with `e` (see [`AcceptBackoff::is_exhaustion`]): log it once per
    /// run of failures; returns how long to wait before trying again.
    pub fn failed(&mut self, log: &Logger, e: &io::Error) -> Duration {
        if !self.logged {
            log.error(&format!(
                "Failed to accept connection: {}.",
                super::server::strerror(e)
            ));
            self.logged = true;
        }
        self.delay_ms = (self.delay_ms * 2).clamp(10, MAX_DELAY_MS);
        Duration::from_millis(self.delay_ms)
    }

    /// `accept` worked: the end of a run of failures.
    pub fn succeeded(&mut self, log: &Logger) {
        if self.logged {
            log.info("Accepting connections again.");
        }
        self.logged = false;
        self.delay_ms = 0;
    }
}

/// The bytes of requests held by all connections.
pub struct Budget {
    used: AtomicUsize,
    max: usize,
}

impl Budget {
    pub fn new(max: usize) -> Budget {
        Budget {
            used: AtomicUsize::new(0),
            max,
        }
    }

    /// Take `n` bytes; false (and nothing taken) when that would pass the cap.
    pub fn take(&self, n: usize) -> bool {
        let mut cur = self.used.load(Ordering::Relaxed);
        loop {
            let Some(new) = cur.checked_add(n).filter(|&v| v <= self.max) else {
                return false;
            };
            match self
                .used
                .compare_exchange_weak(cur, new, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(v) => cur = v,
            }
        }
    }

    /// Give `n` bytes back.
    pub fn give(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }

    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    pub fn max(&self) -> usize {
        self.max
    }
}

/// A connection's stream that charges what is read to a [`Budget`]; a read that would
/// pass the cap fails with `ENOBUFS` (the connection is then closed). What it holds is
/// given back by [`Metered::settle`] once the request has been answered.
pub struct Metered<'a> {
    stream: &'a UnixStream,
    budget: &'a Budget,
    held: usize,
}

impl<'a> Metered<'a> {
    pub fn new(stream: &'a UnixStream, budget: &'a Budget) -> Metered<'a> {
        Metered {
            stream,
            budget,
            held: 0,
        }
    }

    /// The request read so far is done with: give its bytes back.
    pub fn settle(&mut self) {
        self.budget.give(self.held);
        self.held = 0;
    }

    /// Whether `e` is this stream's over-budget error.
    pub fn is_over_budget(e: &io::Error) -> bool {
        e.raw_os_error() == Some(libc::ENOBUFS)
    }
}

impl Drop for Metered<'_> {
    fn drop(&mut self) {
        self.settle();
    }
}

impl Read for Metered<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (&*self.stream).read(buf)?;
        if !self.budget.take(n) {
            return Err(io::Error::from_raw_os_error(libc::ENOBUFS));
        }
        self.held += n;
        Ok(n)
    }
}

impl AsFd for Metered<'_> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.stream.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_takes_up_to_its_cap() {
        let b = Budget::new(10);
        assert!(b.take(6));
        assert!(!b.take(5));
        assert!(b.take(4));
        assert_eq!(b.used(), 10);
        b.give(6);
        assert!(b.take(5));
        assert!(!b.take(usize::MAX));
        assert_eq!(b.used(), 9);
    }

    #[test]
    fn backoff_grows_and_resets() {
        let log = Logger::quiet();
        let mut a = AcceptBackoff::default();
        let e = io::Error::from_raw_os_error(libc::EMFILE);
        assert!(AcceptBackoff::is_exhaustion(&e));
        assert!(!AcceptBackoff::is_exhaustion(
            &io::Error::from_raw_os_error(libc::ECONNABORTED)
        ));
        let waits: Vec<u64> = (0..9)
            .map(|_| a.failed(&log, &e).as_millis() as u64)
            .collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        a.succeeded(&log);
        assert_eq!(a.failed(&log, &e), Duration::from_millis(10));
    }
}
