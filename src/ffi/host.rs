//! Routing of host operations: native command contexts made by `lvmetad_cmd_create`, or
//! LVM's own through the C host table registered by compat glue.

use crate::host::native::NativeHost;
use crate::host::{CmdId, Host, Level};
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};
use std::sync::{Arc, RwLock};

/// Version of `struct lvmetad_host_ops` this library understands.
pub const LVMETAD_HOST_ABI_VERSION: u32 = 1;

/// The C host table (`include/lvmetad-compat.h`). Every pointer may be NULL, in which
/// case the native behaviour is used for that operation.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct lvmetad_host_ops {
    /// Must be `LVMETAD_HOST_ABI_VERSION`.
    pub abi_version: u32,
    /// Passed back as the first argument of every callback.
    pub baton: *mut c_void,
    /// `find_config_tree_int(cmd, path)`, `def` when unset.
    pub config_int:
        Option<unsafe extern "C" fn(*mut c_void, *mut c_void, *const c_char, i64) -> i64>,
    /// `get_cmd_name()`: a NUL-terminated string owned by the host.
    pub cmd_name: Option<unsafe extern "C" fn(*mut c_void) -> *const c_char>,
    /// Print one message at `level` (0 error, 1 warn, 2 print, 3 print unless silent,
    /// 4 verbose, 5 very verbose, 6 debug).
    pub log: Option<unsafe extern "C" fn(*mut c_void, c_int, *const c_char)>,
    /// `refresh_filters(cmd)`: 1 success, 0 failure.
    pub refresh_filters: Option<unsafe extern "C" fn(*mut c_void, *mut c_void) -> c_int>,
    /// `lvm_even_rand(&cmd->rand_seed, max)`.
    pub random: Option<unsafe extern "C" fn(*mut c_void, *mut c_void, u32) -> u32>,
    /// `test_mode()`.
    pub test_mode: Option<unsafe extern "C" fn(*mut c_void) -> c_int>,
}

// SAFETY: the table is plain data; the host promises its callbacks may be called from
// the thread that calls the lvmetad functions (LVM is single-threaded).
unsafe impl Send for lvmetad_host_ops {}
unsafe impl Sync for lvmetad_host_ops {}

pub fn level_code(l: Level) -> c_int {
    match l {
        Level::Error => 0,
        Level::Warn => 1,
        Level::Print => 2,
        Level::PrintUnlessSilent => 3,
        Level::Verbose => 4,
        Level::VeryVerbose => 5,
        Level::Debug => 6,
    }
}

/// The host the client talks to.
pub struct Dispatch {
    pub native: Arc<NativeHost>,
    pub c: RwLock<Option<lvmetad_host_ops>>,
}

impl Dispatch {
    fn c_for(&self, cmd: CmdId) -> Option<lvmetad_host_ops> {
        if cmd != 0 && self.native.is_registered(cmd) {
            return None;
        }
        *self.c.read().unwrap_or_else(|e| e.into_inner())
    }
    fn c_any(&self) -> Option<lvmetad_host_ops> {
        *self.c.read().unwrap_or_else(|e| e.into_inner())
    }
}

impl Host for Dispatch {
    fn config_int(&self, cmd: CmdId, path: &str, default: i64) -> i64 {
        if let Some(ops) = self.c_for(cmd) {
            if let (Some(f), Ok(p)) = (ops.config_int, CString::new(path)) {
                // SAFETY: callback and baton come from the registered table; the path is
                // a valid NUL-terminated string for the duration of the call.
                return unsafe { f(ops.baton, cmd as *mut c_void, p.as_ptr(), default) };
            }
        }
        self.native.config_int(cmd, path, default)
    }
    fn cmd_name(&self) -> String {
        if let Some(ops) = self.c_any() {
            if let Some(f) = ops.cmd_name {
                // SAFETY: the host returns NULL or a NUL-terminated string it owns.
                let p = unsafe { f(ops.baton) };
                if !p.is_null() {
                    // SAFETY: checked non-NULL above; NUL-terminated by contract.
                    return unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
                }
            }
        }
        self.native.cmd_name()
    }
    fn log(&self, level: Level, msg: &str) {
        if let Some(ops) = self.c_any() {
            if let Some(f) = ops.log {
                let m = CString::new(msg.replace('\0', " ")).unwrap_or_default();
                // SAFETY: valid string for the duration of the call.
                unsafe { f(ops.baton, level_code(level), m.as_ptr()) };
                return;
            }
        }
        self.native.log(level, msg)
    }
    fn refresh_filters(&self, cmd: CmdId) -> bool {
        if let Some(ops) = self.c_for(cmd) {
            if let Some(f) = ops.refresh_filters {
                // SAFETY: LVM's own cmd pointer handed back to LVM's callback.
                return unsafe { f(ops.baton, cmd as *mut c_void) } != 0;
            }
        }
        self.native.refresh_filters(cmd)
    }
    fn random(&self, cmd: CmdId, max: u32) -> u32 {
        if let Some(ops) = self.c_for(cmd) {
            if let Some(f) = ops.random {
                // SAFETY: as above.
                return unsafe { f(ops.baton, cmd as *mut c_void, max) };
            }
        }
        self.native.random(cmd, max)
    }
    fn test_mode(&self) -> bool {
        if let Some(ops) = self.c_any() {
            if let Some(f) = ops.test_mode {
                // SAFETY: as above.
                return unsafe { f(ops.baton) } != 0;
            }
        }
        false
    }
}
