//! systemd socket activation and descriptor hygiene, as LVM2 2.02.188's libdaemon does them
//! (docs/deploy.md, "Socket activation").
//!
//! The listening socket is taken over from systemd only when every condition holds:
//! `SD_ACTIVATION=1`, `LISTEN_PID` a number equal to our pid, `LISTEN_FDS=1`, and fd 3
//! a UNIX stream socket bound to the configured path. The three variables are removed
//! from the environment whether or not the handover succeeds. A handed-over socket is
//! served as it is (blocking or not), kept open when a background daemon closes what it
//! inherited, and never unlinked: it belongs to systemd.

use std::ffi::OsStr;
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixListener;
use std::path::Path;

/// The first (and only) descriptor systemd passes.
pub const LISTEN_FD: RawFd = 3;

const SD_ACTIVATION: &str = "SD_ACTIVATION";
const LISTEN_PID: &str = "LISTEN_PID";
const LISTEN_FDS: &str = "LISTEN_FDS";

/// C `strtoul(s, &end, 10)` followed by libdaemon's checks (no error, the whole string
/// consumed): leading white space and one sign are accepted, a minus negates modulo
/// 2^64, overflow is an error. An empty string gives 0.
fn strtoul_whole(s: &[u8]) -> Option<u64> {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = &s[i..];
    if digits.is_empty() {
        // no conversion: strtoul leaves the end pointer at the start of the string,
        // which is "whole" only when the string is empty
        return if s.is_empty() { Some(0) } else { None };
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

fn env_bytes(name: &str) -> Option<Vec<u8>> {
    std::env::var_os(name).map(|v| v.as_bytes().to_vec())
}

/// Whether `fd` is a UNIX stream socket whose address starts with `path` (libdaemon
/// compares the configured path's bytes with the start of `sun_path`, and requires the
/// address to be at least one byte longer).
fn is_our_socket(fd: RawFd, path: &Path) -> bool {
    // SAFETY: fstat/getsockopt/getsockname write into properly sized local buffers.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::fstat(fd, &mut st) < 0 || st.st_mode & libc::S_IFMT != libc::S_IFSOCK {
            return false;
        }
        let mut ty: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        if libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            &mut ty as *mut libc::c_int as *mut libc::c_void,
            &mut len,
        ) < 0
            || len as usize != std::mem::size_of::<libc::c_int>()
            || ty != libc::SOCK_STREAM
        {
            return false;
        }
        let mut sa: libc::sockaddr_un = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
        if libc::getsockname(
            fd,
            &mut sa as *mut libc::sockaddr_un as *mut libc::sockaddr,
            &mut len,
        ) < 0
            || (len as usize) < std::mem::size_of::<libc::sa_family_t>()
            || sa.sun_family != libc::AF_UNIX as libc::sa_family_t
        {
            return false;
        }
        let want = path.as_os_str().as_bytes();
        let base = std::mem::offset_of!(libc::sockaddr_un, sun_path);
        if (len as usize) < base + want.len() + 1 || want.len() > sa.sun_path.len() {
            return false;
        }
        sa.sun_path[..want.len()]
            .iter()
            .zip(want)
            .all(|(&a, &b)| a as u8 == b)
    }
}

fn handover_ok(socket_path: &Path) -> bool {
    if env_bytes(SD_ACTIVATION).as_deref() != Some(b"1") {
        return false;
    }
    let pid = match env_bytes(LISTEN_PID).and_then(|v| strtoul_whole(&v)) {
        Some(p) => p,
        None => return false,
    };
    if pid == 0 || nix::unistd::getpid().as_raw() != pid as libc::pid_t {
        return false;
    }
    if env_bytes(LISTEN_FDS).and_then(|v| strtoul_whole(&v)) != Some(1) {
        return false;
    }
    is_our_socket(LISTEN_FD, socket_path)
}

/// libdaemon's `_systemd_handover`: the listening socket systemd passed, if it is ours.
/// Call once, before any thread is started and before daemonising.
pub fn systemd_handover(socket_path: &Path) -> Option<UnixListener> {
    let ok = handover_ok(socket_path);
    for v in [SD_ACTIVATION, LISTEN_PID, LISTEN_FDS] {
        std::env::remove_var(OsStr::new(v));
    }
    if !ok {
        return None;
    }
    // SAFETY: fd 3 was checked to be an open socket, and nothing else owns it.
    let l = unsafe { UnixListener::from_raw_fd(LISTEN_FD) };
    // like libdaemon, the listening socket is close-on-exec from here on
    // SAFETY: F_SETFD on an open descriptor.
    unsafe {
        libc::fcntl(l.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC);
    }
    Some(l)
}

/// Whether accepting on `l` can block (a handed-over socket may be blocking; ours never
/// is). Such a listener is accepted from once per readiness report, so the daemon never
/// waits in `accept` and never spins.
pub fn is_blocking(l: &UnixListener) -> bool {
    // SAFETY: F_GETFL on an open descriptor.
    let fl = unsafe { libc::fcntl(l.as_raw_fd(), libc::F_GETFL) };
    fl >= 0 && fl & libc::O_NONBLOCK == 0
}

/// Close every descriptor above 2 (the background daemon's hygiene), except fd 3 when
/// it is the socket systemd passed. Must run before any thread is started.
pub fn close_inherited_fds(keep_listen_fd: bool) {
    let first: libc::c_uint = if keep_listen_fd { 4 } else { 3 };
    // close_range(2) (Linux 5.9); older kernels fall back to walking the descriptors.
    // SAFETY: closing descriptors this single-threaded process no longer uses.
    let r = unsafe { libc::syscall(libc::SYS_close_range, first, libc::c_uint::MAX, 0) };
    if r == 0 {
        return;
    }
    let mut fds: Vec<RawFd> = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
        fds.extend(
            dir.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<RawFd>().ok())),
        );
        // the directory's own descriptor is closed by now and is harmless to close again
    } else {
        let mut rl = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit fills a local struct.
        let max = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } == 0 {
            rl.rlim_cur.min(1 << 20) as RawFd
        } else {
            256
        };
        fds.extend(0..max);
    }
    for fd in fds {
        if fd > 2 && !(keep_listen_fd && fd == LISTEN_FD) {
            // SAFETY: see above.
            unsafe {
                libc::close(fd);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::strtoul_whole;

    #[test]
    fn strtoul_like_c() {
        assert_eq!(strtoul_whole(b"1"), Some(1));
        assert_eq!(strtoul_whole(b"  42"), Some(42));
        assert_eq!(strtoul_whole(b"+7"), Some(7));
        assert_eq!(strtoul_whole(b"-1"), Some(u64::MAX));
        assert_eq!(strtoul_whole(b""), Some(0));
        assert_eq!(strtoul_whole(b"12 "), None);
        assert_eq!(strtoul_whole(b"x"), None);
        assert_eq!(strtoul_whole(b" "), None);
        assert_eq!(strtoul_whole(b"1x"), None);
        assert_eq!(strtoul_whole(b"99999999999999999999"), None);
    }
}
