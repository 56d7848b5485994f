//! The C ABI: LVM2 2.02.188 `lvmetad.h` functions plus the native-context and host
//! registration extensions. Thin: checks pointers, converts, calls `crate::client`.
//!
//! Every exported symbol is listed once, in [`EXPORTED_SYMBOLS`]; `tests/symbols.rs`
//! compares that list with `nm -D` of the built library.

#![allow(clippy::missing_safety_doc)]

pub mod host;
pub mod types;

use crate::client::port::{Host, Level};
use crate::client::Client;
use crate::host::native::{init_connections, NativeCmd, NativeHost};
use crate::scan::lvmconf::LvmConfig;
use host::{lvmetad_host_ops, Dispatch};
use std::ffi::CStr;
use std::os::raw::{c_char, c_int};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, RwLock};
use types::{cmd_context, dm_config_value, DM_CFG_STRING};

/// Where an exported symbol comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A function of LVM2 2.02.188's `lvmetad.h`, with its signature and semantics.
    Lvm,
    /// Ours (`include/lvmetad.h`): native contexts, devices and VGs.
    Extension,
    /// Ours, for LVM's glue (`include/lvmetad-compat.h`).
    Compat,
}

/// One exported symbol.
#[derive(Clone, Copy, Debug)]
pub struct Symbol {
    pub name: &'static str,
    pub origin: Origin,
    pub note: &'static str,
}

/// Every symbol the library exports (C users: `include/lvmetad.h` and
/// `include/lvmetad-compat.h`), in one place.
pub const EXPORTED_SYMBOLS: &[Symbol] = &[
    Symbol {
        name: "lvmetad_connect",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_disconnect",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_make_unused",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_used",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_set_socket",
        origin: Origin::Lvm,
        note: "copies the string",
    },
    Symbol {
        name: "lvmetad_socket_present",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_pidfile_present",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_set_token",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_release_token",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_token_matches",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_is_disabled",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_set_disabled",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_clear_disabled",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_cmd_create",
        origin: Origin::Extension,
        note: "native command context",
    },
    Symbol {
        name: "lvmetad_cmd_destroy",
        origin: Origin::Extension,
        note: "",
    },
    Symbol {
        name: "lvmetad_cmd_init_connections",
        origin: Origin::Extension,
        note: "LVM's `_init_lvmetad` for a native context",
    },
    Symbol {
        name: "lvmetad_set_verbosity",
        origin: Origin::Extension,
        note: "native message level",
    },
    Symbol {
        name: "lvmetad_pvscan_all_devs",
        origin: Origin::Lvm,
        note: "src/ffi/scan.rs; native or LVM host",
    },
    Symbol {
        name: "lvmetad_pvscan_single",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_pv_found",
        origin: Origin::Lvm,
        note: "native with `vg` NULL: VG read from the device",
    },
    Symbol {
        name: "lvmetad_pv_gone",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_pv_gone_by_dev",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_vg_update_pending",
        origin: Origin::Lvm,
        note: "src/ffi/vg.rs",
    },
    Symbol {
        name: "lvmetad_vg_update_finish",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_vg_remove_pending",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_vg_remove_finish",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_vg_clear_outdated_pvs",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_pv_list_to_lvmcache",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_pv_lookup",
        origin: Origin::Lvm,
        note: "`struct id` by value",
    },
    Symbol {
        name: "lvmetad_pv_lookup_by_dev",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_vg_list_to_lvmcache",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_get_vgnameids",
        origin: Origin::Lvm,
        note: "native entries owned by the context",
    },
    Symbol {
        name: "lvmetad_vg_lookup",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_vg_is_foreign",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_validate_global_cache",
        origin: Origin::Lvm,
        note: "",
    },
    Symbol {
        name: "lvmetad_vg_create",
        origin: Origin::Extension,
        note: "native VG from metadata text",
    },
    Symbol {
        name: "lvmetad_vg_release",
        origin: Origin::Extension,
        note: "native `release_vg`",
    },
    Symbol {
        name: "lvmetad_vg_seqno",
        origin: Origin::Extension,
        note: "",
    },
    Symbol {
        name: "lvmetad_vg_export",
        origin: Origin::Extension,
        note: "malloc()ed text",
    },
    Symbol {
        name: "lvmetad_dev_get",
        origin: Origin::Extension,
        note: "a native `struct device *` by path",
    },
    Symbol {
        name: "lvmetad_host_register",
        origin: Origin::Compat,
        note: "C host table",
    },
    Symbol {
        name: "lvmetad_host_unregister",
        origin: Origin::Compat,
        note: "",
    },
];

/// The library's one global state: the client (`lvmetad.c`'s statics), the hosts, and
/// the memory handed to C for native contexts' list entries.
struct Globals {
    dispatch: Arc<Dispatch>,
    client: Mutex<Client>,
    /// List entries made for native contexts (LVM allocates them from `cmd->mem`),
    /// freed with their context.
    arena: Mutex<std::collections::HashMap<usize, Vec<vg::ListEntry>>>,
    /// The client's `used()`, read by `lvmetad_used` without the lock (LVM's
    /// refresh_filters asks it from inside `lvmetad_make_unused`).
    used: Arc<std::sync::atomic::AtomicBool>,
}

static GLOBALS: LazyLock<Globals> = LazyLock::new(|| {
    let native = Arc::new(NativeHost::new(LvmConfig::empty()));
    let dispatch = Arc::new(Dispatch {
        native,
        c: RwLock::new(None),
    });
    let client = Mutex::new(Client::new(dispatch.clone() as Arc<dyn Host>));
    dispatch
        .native
        .objects
        .set_list_hook(vg::native_list_add_hook());
    let used = client.lock().unwrap_or_else(|e| e.into_inner()).used_flag();
    Globals {
        dispatch,
        client,
        arena: Default::default(),
        used,
    }
});

impl Globals {
    /// Forget a native context: its configuration, devices, VGs, cache and list entries.
    /// False when `cmd` is not (or no longer) registered; of several threads destroying
    /// one context, exactly one gets true.
    fn destroy_cmd(&self, cmd: usize) -> bool {
        if self.dispatch.native.destroy(cmd).is_none() {
            return false;
        }
        self.arena
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&cmd);
        true
    }
}

fn client() -> MutexGuard<'static, Client> {
    GLOBALS.client.lock().unwrap_or_else(|e| e.into_inner())
}

fn log(level: Level, msg: &str) {
    GLOBALS.dispatch.log(level, msg)
}

/// Log a failed precondition, librsvg style.
fn precondition_failed(func: &str, cond: &str) {
    log(
        Level::Error,
        &format!("Internal error: {}: assertion '{}' failed", func, cond),
    );
}

fn report_panic(func: &str) {
    log(
        Level::Error,
        &format!("Internal error: {}: panic caught at the C boundary", func),
    );
}

/// Run a body, catching any panic: it is logged and `$err` returned.
macro_rules! ffi_fn {
    ($name:literal, $err:expr, $body:expr) => {{
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| $body)) {
            Ok(v) => v,
            Err(_) => {
                report_panic($name);
                $err
            }
        }
    }};
}

/// Return `$ret` (after logging) unless `$cond` holds.
macro_rules! check {
    ($name:literal, $cond:expr) => {
        if !($cond) {
            precondition_failed($name, stringify!($cond));
            return;
        }
    };
    ($name:literal, $cond:expr, $ret:expr) => {
        if !($cond) {
            precondition_failed($name, stringify!($cond));
            return $ret;
        }
    };
}

// after the macros above, which they use
pub mod scan;
pub mod vg;

fn cmd_id(cmd: *mut cmd_context) -> usize {
    cmd as usize
}

/// A NUL-terminated C string as bytes (`None` for NULL).
unsafe fn cstr<'a>(p: *const c_char) -> Option<&'a [u8]> {
    if p.is_null() {
        None
    } else {
        // SAFETY: the caller passes a valid NUL-terminated string (C contract).
        Some(unsafe { CStr::from_ptr(p) }.to_bytes())
    }
}

/// Connect to lvmetad (`lvmetad_connect`). Returns 1 when connected, 0 otherwise.
/// `cmd` supplies `global/lvmetad_update_wait_time`; NULL uses the default (10).
#[no_mangle]
pub extern "C" fn lvmetad_connect(cmd: *mut cmd_context) -> c_int {
    ffi_fn!("lvmetad_connect", 0, client().connect(cmd_id(cmd)) as c_int)
}

/// Close the connection (`lvmetad_disconnect`); the token and socket path are kept.
#[no_mangle]
pub extern "C" fn lvmetad_disconnect() {
    ffi_fn!("lvmetad_disconnect", (), client().disconnect())
}

/// Stop using lvmetad and refresh `cmd`'s filters (`lvmetad_make_unused`). `cmd` may be
/// NULL (no filter refresh).
#[no_mangle]
pub extern "C" fn lvmetad_make_unused(cmd: *mut cmd_context) {
    ffi_fn!("lvmetad_make_unused", (), {
        let c = if cmd.is_null() {
            None
        } else {
            Some(cmd_id(cmd))
        };
        client().make_unused(c)
    })
}

/// 1 when this process uses lvmetad (`lvmetad_used`).
#[no_mangle]
pub extern "C" fn lvmetad_used() -> c_int {
    ffi_fn!(
        "lvmetad_used",
        0,
        GLOBALS.used.load(std::sync::atomic::Ordering::SeqCst) as c_int
    )
}

/// Set the socket path (`lvmetad_set_socket`). The string is copied; NULL selects the
/// default `/run/lvm/lvmetad.socket`.
#[no_mangle]
pub unsafe extern "C" fn lvmetad_set_socket(path: *const c_char) {
    ffi_fn!("lvmetad_set_socket", (), {
        // SAFETY: NULL or a NUL-terminated string.
        let p = unsafe { cstr(path) }.map(|b| {
            use std::os::unix::ffi::OsStrExt;
            PathBuf::from(std::ffi::OsStr::from_bytes(b))
        });
        client().set_socket(p)
    })
}

/// 1 when the socket file exists (`lvmetad_socket_present`).
#[no_mangle]
pub extern "C" fn lvmetad_socket_present() -> c_int {
    ffi_fn!(
        "lvmetad_socket_present",
        0,
        client().socket_present() as c_int
    )
}

/// 1 when the pidfile (`LVM_LVMETAD_PIDFILE`, default `/run/lvmetad.pid`) exists.
#[no_mangle]
pub extern "C" fn lvmetad_pidfile_present() -> c_int {
    ffi_fn!(
        "lvmetad_pidfile_present",
        0,
        client().pidfile_present() as c_int
    )
}

/// Longest value list walked in `lvmetad_set_token` (a guard against cycles).
const MAX_FILTER_VALUES: usize = 1 << 20;

/// Compute the validity token from the `devices/global_filter` value list
/// (`lvmetad_set_token`): the CRC of the leading string values. NULL gives `filter:0`.
/// The list is only read.
#[no_mangle]
pub unsafe extern "C" fn lvmetad_set_token(filter: *const dm_config_value) {
    ffi_fn!("lvmetad_set_token", (), {
        let mut vals = Vec::new();
        let mut v = filter;
        let mut n = 0;
        while !v.is_null() && n < MAX_FILTER_VALUES {
            // SAFETY: a non-NULL element of a libdevmapper value list.
            let e = unsafe { &*v };
            if e.type_ != DM_CFG_STRING {
                break;
            }
            // SAFETY: a STRING value holds a NUL-terminated string (or NULL).
            match unsafe { cstr(e.v.str_) } {
                Some(s) => vals.push(crate::config::Value::str(s)),
                None => break,
            }
            v = e.next;
            n += 1;
        }
        client().set_token(if filter.is_null() { None } else { Some(&vals) })
    })
}

/// Forget the token (`lvmetad_release_token`).
#[no_mangle]
pub extern "C" fn lvmetad_release_token() {
    ffi_fn!("lvmetad_release_token", (), client().release_token())
}

/// 1 when the daemon's cache was populated with our token (`lvmetad_token_matches`).
/// Waits while another command updates it. On 0, `lvmetad_used()` tells whether the
/// caller must rescan (still used) or lvmetad was given up (not used).
#[no_mangle]
pub extern "C" fn lvmetad_token_matches(cmd: *mut cmd_context) -> c_int {
    ffi_fn!(
        "lvmetad_token_matches",
        0,
        client().token_matches(cmd_id(cmd)) as c_int
    )
}

/// 1 when lvmetad is disabled or its state cannot be read (`lvmetad_is_disabled`);
/// then `*reason` (if `reason` is not NULL) points at a static string owned by the
/// library, never to be freed.
#[no_mangle]
pub unsafe extern "C" fn lvmetad_is_disabled(
    cmd: *mut cmd_context,
    reason: *mut *const c_char,
) -> c_int {
    let _ = cmd;
    ffi_fn!("lvmetad_is_disabled", 1, {
        match client().is_disabled() {
            Some(r) => {
                if !reason.is_null() {
                    // SAFETY: non-NULL out pointer from the caller.
                    unsafe { *reason = r.as_cstr().as_ptr() };
                }
                1
            }
            None => 0,
        }
    })
}

/// Tell the daemon to disable the cache with `reason` (`DIRECT`, `DUPLICATES`,
/// `VGRESTORE`, `REPAIR`) (`lvmetad_set_disabled`). `reason` must not be NULL.
#[no_mangle]
pub unsafe extern "C" fn lvmetad_set_disabled(cmd: *mut cmd_context, reason: *const c_char) {
    let _ = cmd;
    ffi_fn!("lvmetad_set_disabled", (), {
        check!("lvmetad_set_disabled", !reason.is_null());
        // SAFETY: checked non-NULL; NUL-terminated by contract.
        let r = String::from_utf8_lossy(unsafe { cstr(reason) }.unwrap_or_default()).into_owned();
        client().set_disabled(&r)
    })
}

/// Tell the daemon to enable the cache again (`lvmetad_clear_disabled`).
#[no_mangle]
pub extern "C" fn lvmetad_clear_disabled(cmd: *mut cmd_context) {
    let _ = cmd;
    ffi_fn!("lvmetad_clear_disabled", (), client().clear_disabled())
}

/// Create a native command context: configuration from `system_dir`/lvm.conf
/// (NULL: `LVM_SYSTEM_DIR`, else /etc/lvm) with `config` applied on top like LVM's
/// `--config` (may be NULL), and the command name `cmd_name` (NULL: "lvm").
/// Returns NULL (after printing the error) when the configuration cannot be read.
/// The caller owns the result and frees it with `lvmetad_cmd_destroy`.
#[no_mangle]
pub unsafe extern "C" fn lvmetad_cmd_create(
    system_dir: *const c_char,
    config: *const c_char,
    cmd_name: *const c_char,
) -> *mut cmd_context {
    ffi_fn!("lvmetad_cmd_create", std::ptr::null_mut(), {
        use std::os::unix::ffi::OsStrExt;
        // SAFETY: each argument is NULL or a NUL-terminated string.
        let dir = unsafe { cstr(system_dir) }.map(|b| Path::new(std::ffi::OsStr::from_bytes(b)));
        // SAFETY: as above.
        let cfg = unsafe { cstr(config) }.map(|b| String::from_utf8_lossy(b).into_owned());
        // SAFETY: as above.
        let name = unsafe { cstr(cmd_name) }
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_else(|| "lvm".into());
        let overrides: Vec<&str> = cfg.iter().map(|s| s.as_str()).collect();
        let conf = match LvmConfig::load(dir, &overrides) {
            Ok(c) => c,
            Err(e) => {
                log(Level::Error, &e.to_string());
                return std::ptr::null_mut();
            }
        };
        let native = Arc::new(NativeCmd::new(conf, &name));
        // The handle is a heap cell whose address identifies the context.
        let handle = Box::into_raw(Box::new(0u8)) as *mut cmd_context;
        GLOBALS.dispatch.native.register(handle as usize, native);
        handle
    })
}

/// Free a context made by `lvmetad_cmd_create`. Pointers the library did not create
/// (and NULL) are refused with a logged error.
#[no_mangle]
pub unsafe extern "C" fn lvmetad_cmd_destroy(cmd: *mut cmd_context) {
    ffi_fn!("lvmetad_cmd_destroy", (), {
        // only the thread that takes the handle out of the registry frees it
        check!("lvmetad_cmd_destroy", GLOBALS.destroy_cmd(cmd as usize));
        // SAFETY: registered handles were made by Box::into_raw in lvmetad_cmd_create,
        // and this thread alone removed this one from the registry.
        drop(unsafe { Box::from_raw(cmd as *mut u8) });
    })
}

/// LVM's connection set-up for a native context (`toolcontext.c:_init_lvmetad`):
/// disconnect, socket from `LVM_LVMETAD_SOCKET`, token from `devices/global_filter`,
/// then connect unless `global/use_lvmetad` is off or `locking_type` is 3, with LVM's
/// warnings. Returns 1 (0 only on an internal error).
#[no_mangle]
pub extern "C" fn lvmetad_cmd_init_connections(cmd: *mut cmd_context) -> c_int {
    ffi_fn!("lvmetad_cmd_init_connections", 0, {
        check!(
            "lvmetad_cmd_init_connections",
            GLOBALS.dispatch.native.is_registered(cmd as usize),
            0
        );
        let native = GLOBALS.dispatch.native.cmd(cmd as usize);
        init_connections(&mut client(), &native.config, cmd as usize) as c_int
    })
}

/// Message level of the native host, like LVM's `-v` count (0: errors, warnings,
/// prints; 1: verbose; 2: very verbose; 3: debug).
#[no_mangle]
pub extern "C" fn lvmetad_set_verbosity(level: c_int) {
    GLOBALS.dispatch.native.set_verbosity(level.max(0) as usize);
}

/// Register LVM's host table (compat glue). The table is copied. Returns 1, or 0 (with
/// a logged error) when `ops` is NULL, of an unknown ABI version, or a version-3 table
/// shorter than version 3 needs.
#[no_mangle]
pub unsafe extern "C" fn lvmetad_host_register(ops: *const lvmetad_host_ops) -> c_int {
    ffi_fn!("lvmetad_host_register", 0, {
        check!("lvmetad_host_register", !ops.is_null(), 0);
        // SAFETY: checked non-NULL; the caller's table has the layout it declares.
        match unsafe { host::read_table(ops as *const std::ffi::c_void) } {
            Ok(t) => {
                *GLOBALS
                    .dispatch
                    .c
                    .write()
                    .unwrap_or_else(|e| e.into_inner()) = Some(t);
                1
            }
            Err(e) => {
                log(
                    Level::Error,
                    &format!("Internal error: lvmetad_host_register: {}", e),
                );
                0
            }
        }
    })
}

/// Forget the registered host table.
#[no_mangle]
pub extern "C" fn lvmetad_host_unregister() {
    ffi_fn!("lvmetad_host_unregister", (), {
        *GLOBALS
            .dispatch
            .c
            .write()
            .unwrap_or_else(|e| e.into_inner()) = None;
    })
}

/// The pointer handling of the C ABI without sockets or files (also run under Miri:
/// `make miri`). One test: the functions share the library's global client and host.
#[cfg(test)]
mod tests {
    use super::scan::{lvmetad_pv_found, lvmetad_pv_gone_by_dev};
    use super::types::{dm_config_value_v, id, DM_CFG_INT};
    use super::*;
    use std::os::raw::c_void;

    static LOGGED: Mutex<Vec<(c_int, String)>> = Mutex::new(Vec::new());

    unsafe extern "C" fn log_cb(baton: *mut c_void, level: c_int, msg: *const c_char) {
        assert_eq!(baton as usize, 0x5eed);
        // SAFETY: the library passes a NUL-terminated string valid for the call.
        let m = unsafe { CStr::from_ptr(msg) }
            .to_string_lossy()
            .into_owned();
        LOGGED.lock().unwrap().push((level, m));
    }

    unsafe extern "C" fn name_cb(_: *mut c_void) -> *const c_char {
        c"fuzzcmd".as_ptr()
    }

    fn null<T>() -> *mut T {
        std::ptr::null_mut()
    }

    fn take_log() -> Vec<(c_int, String)> {
        std::mem::take(&mut *LOGGED.lock().unwrap())
    }

    fn string_value(s: &CStr, next: *mut dm_config_value) -> dm_config_value {
        dm_config_value {
            type_: DM_CFG_STRING,
            v: dm_config_value_v { str_: s.as_ptr() },
            next,
            format_flags: 0,
        }
    }

    #[test]
    fn pointers_are_checked_and_converted() {
        // cstr
        // SAFETY: NULL and valid NUL-terminated strings.
        unsafe {
            assert_eq!(cstr(std::ptr::null()), None);
            assert_eq!(cstr(c"".as_ptr()), Some(&b""[..]));
            assert_eq!(cstr(c"a b".as_ptr()), Some(&b"a b"[..]));
        }

        // the host table: NULL and a wrong version are refused, a good one is copied
        // SAFETY: NULL, then pointers to live tables.
        unsafe {
            assert_eq!(lvmetad_host_register(std::ptr::null()), 0);
            let mut ops = lvmetad_host_ops {
                abi_version: 1,
                baton: std::ptr::without_provenance_mut(0x5eed),
                config_int: None,
                cmd_name: Some(name_cb),
                log: Some(log_cb),
                refresh_filters: None,
                random: None,
                test_mode: None,
            };
            // this struct has version 1's layout: only its fields may be read
            ops.abi_version = 1;
            assert_eq!(lvmetad_host_register(&ops), 1);
            take_log();
            // version 3 tables: an unknown version and a short one are refused
            let mut v3 = host::lvmetad_host_ops_v3 {
                size: std::mem::size_of::<host::lvmetad_host_ops_v3>(),
                v1: ops,
                v2: Default::default(),
            };
            v3.v1.abi_version = 4;
            assert_eq!(lvmetad_host_register(&v3 as *const _ as *const _), 0);
            v3.v1.abi_version = 3;
            v3.size = 16;
            assert_eq!(lvmetad_host_register(&v3 as *const _ as *const _), 0);
            assert_eq!(
                take_log(),
                [
                    (0, "Internal error: lvmetad_host_register: host table ABI version 4 is not supported (1 to 3)".to_string()),
                    (
                        0,
                        format!(
                            "Internal error: lvmetad_host_register: host table of 16 bytes \
                             is shorter than version 3 needs ({} bytes)",
                            std::mem::size_of::<host::lvmetad_host_ops_v3>()
                        )
                    ),
                ]
            );
        } // the caller's table is gone: the library uses its copy from here on
        take_log();
        assert_eq!(GLOBALS.dispatch.cmd_name(), "fuzzcmd");

        // the token from a libdevmapper value list: the leading strings only
        let mut tail = dm_config_value {
            type_: DM_CFG_INT,
            v: dm_config_value_v { i: 7 },
            next: std::ptr::null_mut(),
            format_flags: 0,
        };
        let mut second = string_value(c"r|.*|", &mut tail);
        let first = string_value(c"a|^/dev/sda$|", &mut second);
        // SAFETY: a well-formed list on the stack.
        unsafe { lvmetad_set_token(&first) };
        let want = crate::client::token::filter_token(Some(&[
            crate::config::Value::str(b"a|^/dev/sda$|"),
            crate::config::Value::str(b"r|.*|"),
        ]));
        assert_eq!(client().token(), want);
        // a STRING value with a NULL string ends the list
        let nul = dm_config_value {
            type_: DM_CFG_STRING,
            v: dm_config_value_v {
                str_: std::ptr::null(),
            },
            next: std::ptr::null_mut(),
            format_flags: 0,
        };
        let first = string_value(c"r|.*|", &nul as *const _ as *mut _);
        // SAFETY: as above.
        unsafe { lvmetad_set_token(&first) };
        assert_eq!(
            client().token(),
            crate::client::token::filter_token(Some(&[crate::config::Value::str(b"r|.*|")]))
        );
        // SAFETY: NULL is allowed.
        unsafe { lvmetad_set_token(std::ptr::null()) };
        assert_eq!(client().token(), "filter:0");
        lvmetad_release_token();
        assert_eq!(client().token(), "none");

        // never connected: "send error", given as a static C string (or not at all)
        let mut reason: *const c_char = std::ptr::null();
        // SAFETY: a valid out pointer, then NULL.
        unsafe {
            assert_eq!(lvmetad_is_disabled(std::ptr::null_mut(), &mut reason), 1);
            assert_eq!(CStr::from_ptr(reason), c"send error");
            assert_eq!(
                lvmetad_is_disabled(std::ptr::null_mut(), std::ptr::null_mut()),
                1
            );
        }
        // NULL and foreign pointers are refused with LVM-style internal errors
        take_log();
        // SAFETY: the functions check these pointers before using them.
        unsafe {
            lvmetad_set_disabled(std::ptr::null_mut(), std::ptr::null());
            lvmetad_cmd_destroy(std::ptr::without_provenance_mut(0x1000));
            lvmetad_cmd_destroy(std::ptr::null_mut());
            assert!(scan::lvmetad_dev_get(
                std::ptr::without_provenance_mut(0x1000),
                c"/dev/x".as_ptr()
            )
            .is_null());
            let pvid = id {
                uuid: [b'x' as i8; 32],
            };
            let (c, p) = (std::ptr::null(), &pvid as *const id);
            assert_eq!(
                lvmetad_pv_found(null(), c, null(), null(), 1, null(), null(), null()),
                0
            );
            let vg = std::ptr::without_provenance_mut(0x1000);
            assert_eq!(
                lvmetad_pv_found(null(), p, null(), null(), 1, vg, null(), null()),
                0
            );
        }
        assert_eq!(
            lvmetad_pv_gone_by_dev(std::ptr::without_provenance_mut(0x1000)),
            0
        );
        assert_eq!(
            lvmetad_cmd_init_connections(std::ptr::without_provenance_mut(0x1000)),
            0
        );
        let log: Vec<String> = take_log()
            .into_iter()
            .map(|(l, m)| {
                assert_eq!(l, 0);
                m
            })
            .collect();
        assert_eq!(
            log,
            [
                "Internal error: lvmetad_set_disabled: assertion '!reason.is_null()' failed",
                "Internal error: lvmetad_cmd_destroy: assertion 'GLOBALS.destroy_cmd(cmd as usize)' failed",
                "Internal error: lvmetad_cmd_destroy: assertion 'GLOBALS.destroy_cmd(cmd as usize)' failed",
                "Internal error: lvmetad_dev_get: assertion 'GLOBALS.dispatch.native.is_registered(cmd as usize)' failed",
                "Internal error: lvmetad_pv_found: assertion '!pvid.is_null()' failed",
                "Internal error: lvmetad_pv_found: assertion 'a native object or a registered version-2 host' failed",
                "Internal error: lvmetad_pv_gone_by_dev: assertion 'dev is a device from lvmetad_dev_get' failed",
                "Internal error: lvmetad_cmd_init_connections: assertion 'GLOBALS.dispatch.native.is_registered(cmd as usize)' failed",
            ]
        );

        lvmetad_host_unregister();
        assert_eq!(GLOBALS.dispatch.cmd_name(), "lvm");
    }
}
