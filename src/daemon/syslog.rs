//! The syslog outlet, as LVM2 2.02.188's libdaemon has it: `openlog("lvmetad", LOG_PID,
//! LOG_DAEMON)` on first use, fatal messages at `LOG_CRIT`, errors at `LOG_ERR`. The daemon
//! always sends those two levels here, whatever `-l` selects for stderr.

use super::log::Level;
use std::ffi::CString;
use std::sync::Once;

/// syslog priority of a daemon log level (libdaemon's mapping).
pub fn priority(l: Level) -> libc::c_int {
    match l {
        Level::Fatal => libc::LOG_CRIT,
        Level::Error => libc::LOG_ERR,
        Level::Warn => libc::LOG_WARNING,
        Level::Info => libc::LOG_INFO,
        Level::Wire | Level::Debug => libc::LOG_DEBUG,
    }
}

/// Send one message through the C library's `syslog()` (which writes to `/dev/log`).
pub fn send(l: Level, msg: &str) {
    static OPEN: Once = Once::new();
    OPEN.call_once(|| {
        // SAFETY: the identity is a static C string, valid for the whole process.
        unsafe { libc::openlog(c"lvmetad".as_ptr(), libc::LOG_PID, libc::LOG_DAEMON) }
    });
    // a message with a NUL in it is cut there, as C would see it
    let text = match CString::new(msg) {
        Ok(c) => c,
        Err(e) => {
            let n = e.nul_position();
            CString::new(&msg.as_bytes()[..n]).unwrap_or_default()
        }
    };
    // SAFETY: a constant "%s" format with one valid C string argument.
    unsafe { libc::syslog(priority(l), c"%s".as_ptr(), text.as_ptr()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_match_libdaemon() {
        assert_eq!(priority(Level::Fatal), 2);
        assert_eq!(priority(Level::Error), 3);
        assert_eq!(priority(Level::Warn), 4);
        assert_eq!(priority(Level::Info), 6);
        assert_eq!(priority(Level::Debug), 7);
        assert_eq!(libc::LOG_DAEMON, 3 << 3);
    }
}
