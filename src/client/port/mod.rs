//! The host ports: what the lvmetad client needs from the program around it. [`Host`]
//! covers LVM's configuration, command identity, logging, filters, randomness and
//! sleeping; [`vg::VgHost`] covers the VG layer (devices, formats, lvmcache, VG
//! import/export, the label scan).
//!
//! Two adapters implement them: the native host (`crate::host`: our lvm.conf reader,
//! device scan and on-disk reader) and LVM's own through the C host table registered by
//! glue compiled inside an LVM tree (`crate::ffi::host`). Design: docs/host-interface.md.

pub mod vg;

use std::time::Duration;

/// Identity of a command context as the host knows it (a C `struct cmd_context *`
/// turned into an integer; 0 means none). The client never dereferences it.
pub type CmdId = usize;

/// LVM's message levels, as `log_*` macros print them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// `log_error`: stderr, counts as a command error.
    Error,
    /// `log_warn`: stderr.
    Warn,
    /// `log_print`: stdout.
    Print,
    /// `log_print_unless_silent`: stdout unless silent.
    PrintUnlessSilent,
    /// `log_verbose` (-v).
    Verbose,
    /// `log_very_verbose` (-vv).
    VeryVerbose,
    /// `log_debug` / `log_debug_lvmetad`.
    Debug,
}

/// Operations the client reaches in the program around it.
pub trait Host: Send + Sync {
    /// An integer setting (`find_config_tree_int`), with LVM's default when unset.
    fn config_int(&self, cmd: CmdId, path: &str, default: i64) -> i64;
    /// The command's name (`get_cmd_name()`), sent as `cmd` in every request.
    fn cmd_name(&self) -> String;
    /// Emit one message at `level`.
    fn log(&self, level: Level, msg: &str);
    /// Rebuild the command's device filters (`refresh_filters`).
    fn refresh_filters(&self, cmd: CmdId) -> bool;
    /// A random number in [0, max) from the command's seed (`lvm_even_rand`).
    fn random(&self, cmd: CmdId, max: u32) -> u32;
    /// Sleep (a seam for tests).
    fn sleep(&self, d: Duration) {
        std::thread::sleep(d)
    }
    /// Sleep `d`, or less when `ready` (asked now and then) says the wait is over:
    /// returns what was left of `d` then, or zero. By default a plain [`Host::sleep`];
    /// the native and C hosts poll (`crate::client::wait`).
    fn sleep_until(&self, d: Duration, ready: &mut dyn FnMut() -> bool) -> Duration {
        let _ = ready;
        self.sleep(d);
        Duration::ZERO
    }
    /// CLOCK_MONOTONIC whole seconds; 0 when unavailable.
    fn monotonic_seconds(&self) -> u64 {
        nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
            .map(|t| t.tv_sec() as u64)
            .unwrap_or(0)
    }
    /// `test_mode()`: nothing may be changed.
    fn test_mode(&self) -> bool {
        false
    }
}
