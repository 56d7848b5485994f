//! Routing of host operations: native command contexts made by `lvmetad_cmd_create`, or
//! LVM's own through the C host table registered by compat glue.

use crate::client::port::vg::*;
use crate::client::port::{CmdId, Host, Level};
use crate::client::vg::Shared;
use crate::config::Node;
use crate::host::native::NativeHost;
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};
use std::sync::{Arc, RwLock};

/// Call a callback of the registered table: every call the library makes into LVM's
/// host goes through here.
///
/// SAFETY (of every expansion): the callback and its baton come from the table the host
/// registered, which `lvmetad_host_register` copied; the registration contract is that
/// every non-NULL entry is a function of the declared type, valid while the table is
/// registered. Handles passed back (`cmd`, `vg`, `dev`, `fmt`) are the host's own
/// pointers, unchanged. Every other pointer argument points at a local of the caller or
/// at a string the library owns, valid for the duration of the call.
macro_rules! host_call {
    ($f:ident ( $($a:expr),* $(,)? )) => {
        // SAFETY: see the macro's documentation.
        unsafe { $f($($a),*) }
    };
}

/// The newest version of `struct lvmetad_host_ops` (versions 1 and 2 are accepted too).
pub const LVMETAD_HOST_ABI_VERSION: u32 = 3;

/// Version 1's table, which versions 2 and 3 extend (`include/lvmetad-compat.h`). Every
/// pointer may be NULL, in which case the native behaviour is used for that operation.
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
    pub c: RwLock<Option<HostTable>>,
}

impl Dispatch {
    fn c_for(&self, cmd: CmdId) -> Option<lvmetad_host_ops> {
        if cmd != 0 && self.native.is_registered(cmd) {
            return None;
        }
        self.c_any()
    }
    fn c_any(&self) -> Option<lvmetad_host_ops> {
        self.table().map(|t| t.v1)
    }
    /// The registered C table, if any.
    pub fn table(&self) -> Option<HostTable> {
        *self.c.read().unwrap_or_else(|e| e.into_inner())
    }
}

impl Host for Dispatch {
    fn config_int(&self, cmd: CmdId, path: &str, default: i64) -> i64 {
        if let Some(ops) = self.c_for(cmd) {
            if let (Some(f), Ok(p)) = (ops.config_int, CString::new(path)) {
                // SAFETY: callback and baton come from the registered table; the path is
                // a valid NUL-terminated string for the duration of the call.
                return host_call!(f(ops.baton, cmd as *mut c_void, p.as_ptr(), default));
            }
        }
        self.native.config_int(cmd, path, default)
    }
    fn cmd_name(&self) -> String {
        if let Some(ops) = self.c_any() {
            if let Some(f) = ops.cmd_name {
                let p = host_call!(f(ops.baton));
                if !p.is_null() {
                    // SAFETY: checked non-NULL; `cmd_name` returns a NUL-terminated
                    // string the host owns (compat header contract).
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
                host_call!(f(ops.baton, level_code(level), m.as_ptr()));
                return;
            }
        }
        self.native.log(level, msg)
    }
    fn refresh_filters(&self, cmd: CmdId) -> bool {
        if let Some(ops) = self.c_for(cmd) {
            if let Some(f) = ops.refresh_filters {
                // SAFETY: LVM's own cmd pointer handed back to LVM's callback.
                return host_call!(f(ops.baton, cmd as *mut c_void)) != 0;
            }
        }
        self.native.refresh_filters(cmd)
    }
    fn random(&self, cmd: CmdId, max: u32) -> u32 {
        if let Some(ops) = self.c_for(cmd) {
            if let Some(f) = ops.random {
                // SAFETY: as above.
                return host_call!(f(ops.baton, cmd as *mut c_void, max));
            }
        }
        self.native.random(cmd, max)
    }
    fn sleep_until(
        &self,
        d: std::time::Duration,
        ready: &mut dyn FnMut() -> bool,
    ) -> std::time::Duration {
        crate::client::wait::poll_sleep(d, ready)
    }
    fn test_mode(&self) -> bool {
        if let Some(ops) = self.c_any() {
            if let Some(f) = ops.test_mode {
                // SAFETY: as above.
                return host_call!(f(ops.baton)) != 0;
            }
        }
        false
    }
}

// ---- version 2: the VG layer -------------------------------------------------------

/// Areas per kind in [`lvmetad_host_pv`].
pub const LVMETAD_HOST_MAX_AREAS: usize = 8;

/// `struct lvmetad_host_mda`
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct lvmetad_host_mda {
    pub ignore: c_int,
    pub start: u64,
    pub size: u64,
    pub free_sectors: u64,
}

/// `struct lvmetad_host_area`
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct lvmetad_host_area {
    pub offset: u64,
    pub size: u64,
}

/// `struct lvmetad_host_pv`
#[repr(C)]
#[derive(Clone, Copy)]
pub struct lvmetad_host_pv {
    pub pvid: [u8; 32],
    pub vgid: [u8; 32],
    pub vgname: *const c_char,
    pub dev: *mut c_void,
    pub label_sector: u64,
    pub dev_size: u64,
    pub ext_version: u32,
    pub ext_flags: u32,
    pub n_mdas: c_int,
    pub n_das: c_int,
    pub n_bas: c_int,
    pub mdas: [lvmetad_host_mda; LVMETAD_HOST_MAX_AREAS],
    pub das: [lvmetad_host_area; LVMETAD_HOST_MAX_AREAS],
    pub bas: [lvmetad_host_area; LVMETAD_HOST_MAX_AREAS],
}

impl Default for lvmetad_host_pv {
    fn default() -> Self {
        lvmetad_host_pv {
            pvid: [0; 32],
            vgid: [0; 32],
            vgname: std::ptr::null(),
            dev: std::ptr::null_mut(),
            label_sector: 0,
            dev_size: 0,
            ext_version: 0,
            ext_flags: 0,
            n_mdas: 0,
            n_das: 0,
            n_bas: 0,
            mdas: [Default::default(); LVMETAD_HOST_MAX_AREAS],
            das: [Default::default(); LVMETAD_HOST_MAX_AREAS],
            bas: [Default::default(); LVMETAD_HOST_MAX_AREAS],
        }
    }
}

/// `struct lvmetad_host_vg`
#[repr(C)]
#[derive(Clone, Copy)]
pub struct lvmetad_host_vg {
    pub name: *const c_char,
    pub id: [u8; 32],
    pub seqno: u32,
    pub update_pending: c_int,
    pub precommit: c_int,
    pub system_id: *const c_char,
    pub lock_type: *const c_char,
    pub cmd: *mut c_void,
}

/// `struct lvmetad_host_vg_pv`
#[repr(C)]
#[derive(Clone, Copy)]
pub struct lvmetad_host_vg_pv {
    pub id: [u8; 32],
    pub dev: *mut c_void,
    pub fmt: *mut c_void,
    pub label_sector: u64,
}

type B = *mut c_void;
type P = *mut c_void;

/// The version-2 operations, after version 1's (layout of `struct lvmetad_host_ops`).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct lvmetad_host_ops_v2 {
    pub dev_info: Option<unsafe extern "C" fn(B, P, *mut u64, *mut *const c_char) -> c_int>,
    pub dev_by_devt: Option<unsafe extern "C" fn(B, P, u64) -> P>,
    pub dev_is_mpath_component: Option<unsafe extern "C" fn(B, P, P) -> c_int>,
    pub dev_label: Option<
        unsafe extern "C" fn(
            B,
            P,
            P,
            *mut c_char,
            *mut c_int,
            *mut c_int,
            *mut P,
            *mut u64,
        ) -> c_int,
    >,
    pub dev_read_vg: Option<unsafe extern "C" fn(B, P, P) -> P>,
    pub label_scan_all:
        Option<unsafe extern "C" fn(B, P, Option<unsafe extern "C" fn(P, P)>, P) -> c_int>,
    pub label_scan_invalidate: Option<unsafe extern "C" fn(B, P)>,
    pub duplicate_check: Option<unsafe extern "C" fn(B, P) -> c_int>,
    pub silent_mode: Option<unsafe extern "C" fn(B) -> c_int>,
    pub set_silent: Option<unsafe extern "C" fn(B, c_int)>,
    pub sigint_caught: Option<unsafe extern "C" fn(B) -> c_int>,
    pub fmt_by_name: Option<unsafe extern "C" fn(B, P, *const c_char) -> P>,
    pub fmt_name: Option<unsafe extern "C" fn(B, P) -> *const c_char>,
    pub pv_cache_info:
        Option<unsafe extern "C" fn(B, P, *const u8, P, *mut lvmetad_host_pv) -> c_int>,
    pub lvmcache_add_pv: Option<unsafe extern "C" fn(B, P, P, *const lvmetad_host_pv) -> c_int>,
    pub seed_infos: Option<unsafe extern "C" fn(B, P)>,
    pub vg_info: Option<unsafe extern "C" fn(B, P, *mut lvmetad_host_vg) -> c_int>,
    pub vg_set_update_pending: Option<unsafe extern "C" fn(B, P, c_int)>,
    pub vg_export: Option<unsafe extern "C" fn(B, P, c_int) -> *mut c_char>,
    pub vg_fix_mda_ignored: Option<unsafe extern "C" fn(B, P)>,
    pub vg_pvs: Option<
        unsafe extern "C" fn(
            B,
            P,
            c_int,
            Option<unsafe extern "C" fn(P, *const lvmetad_host_vg_pv) -> c_int>,
            P,
        ) -> c_int,
    >,
    pub vg_import:
        Option<unsafe extern "C" fn(B, P, P, *const c_char, *const u8, *const c_char) -> P>,
    pub vg_lockd: Option<unsafe extern "C" fn(B, P, P) -> c_int>,
    pub vg_rescan: Option<unsafe extern "C" fn(B, P, P, *const u8) -> P>,
    pub vg_finish_lookup: Option<unsafe extern "C" fn(B, P, P) -> c_int>,
    pub vg_release: Option<unsafe extern "C" fn(B, P)>,
    pub cmd_system_id: Option<unsafe extern "C" fn(B, P) -> *const c_char>,
    pub system_id_allowed: Option<unsafe extern "C" fn(B, P, *const c_char) -> c_int>,
    pub lvmlockd_use: Option<unsafe extern "C" fn(B) -> c_int>,
    pub str_list_add: Option<unsafe extern "C" fn(B, P, P, *const c_char) -> c_int>,
    pub vgnameid_add: Option<unsafe extern "C" fn(B, P, P, *const c_char, *const u8) -> c_int>,
}

/// A version-3 table: its size first, then version 2's table.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct lvmetad_host_ops_v3 {
    /// `sizeof(struct lvmetad_host_ops)` as the host compiled it.
    pub size: usize,
    pub v1: lvmetad_host_ops,
    pub v2: lvmetad_host_ops_v2,
}

/// Why a host table was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum TableError {
    /// An `abi_version` this library does not know.
    Version(u32),
    /// A version-3 table whose size is less than version 3 needs.
    TooShort { size: usize, need: usize },
}

impl std::fmt::Display for TableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TableError::Version(v) => write!(
                f,
                "host table ABI version {} is not supported (1 to {})",
                v, LVMETAD_HOST_ABI_VERSION
            ),
            TableError::TooShort { size, need } => write!(
                f,
                "host table of {} bytes is shorter than version 3 needs ({} bytes)",
                size, need
            ),
        }
    }
}

/// Copy a table the host registers. Versions 1 and 2 begin with `abi_version`; version
/// 3 begins with its size (a `size_t` whose first 32 bits are never 1 or 2 for a real
/// table), then `abi_version`.
///
/// # Safety
/// `ops` is non-NULL and points at a table of the layout its first field declares:
/// version 1's or 2's struct when that field is 1 or 2, else at least a `size_t` and a
/// `uint32_t`, and `size` readable bytes when the second is 3.
pub unsafe fn read_table(ops: *const c_void) -> Result<HostTable, TableError> {
    let zero_v2 = lvmetad_host_ops_v2::default();
    // SAFETY: every version's table starts with at least 4 readable bytes.
    let first = unsafe { std::ptr::read_unaligned(ops as *const u32) };
    match first {
        1 => Ok(HostTable {
            // SAFETY: a version-1 table, as declared.
            v1: unsafe { std::ptr::read_unaligned(ops as *const lvmetad_host_ops) },
            v2: zero_v2,
        }),
        2 => {
            // SAFETY: a version-2 table: version 1's struct, then version 2's.
            let (v1, v2) = unsafe {
                let v1 = std::ptr::read_unaligned(ops as *const lvmetad_host_ops);
                let rest = (ops as *const u8).add(std::mem::size_of::<lvmetad_host_ops>());
                (
                    v1,
                    std::ptr::read_unaligned(rest as *const lvmetad_host_ops_v2),
                )
            };
            Ok(HostTable { v1, v2 })
        }
        _ => {
            // SAFETY: not version 1 or 2, so a size and a version come first.
            let (size, version) = unsafe {
                let size = std::ptr::read_unaligned(ops as *const usize);
                let v = (ops as *const u8).add(std::mem::offset_of!(lvmetad_host_ops_v3, v1));
                (size, std::ptr::read_unaligned(v as *const u32))
            };
            if version != 3 {
                return Err(TableError::Version(version));
            }
            let need = std::mem::size_of::<lvmetad_host_ops_v3>();
            if size < need {
                return Err(TableError::TooShort { size, need });
            }
            // SAFETY: a version-3 table of at least `need` bytes, by its own size.
            let t = unsafe { std::ptr::read_unaligned(ops as *const lvmetad_host_ops_v3) };
            Ok(HostTable { v1: t.v1, v2: t.v2 })
        }
    }
}

/// A registered table: version 1's part and (zeroed for version-1 tables) version 2's.
#[derive(Clone, Copy)]
pub struct HostTable {
    pub v1: lvmetad_host_ops,
    pub v2: lvmetad_host_ops_v2,
}

// SAFETY: plain data, see lvmetad_host_ops.
unsafe impl Send for HostTable {}
unsafe impl Sync for HostTable {}

/// LVM's VG layer through a registered version-2 table.
pub struct CHost(pub HostTable);

fn p(x: usize) -> *mut c_void {
    x as *mut c_void
}

/// A host-owned C string as text (None for NULL).
///
/// # Safety
/// `s` is NULL or a NUL-terminated string valid for the duration of the call.
unsafe fn text(s: *const c_char) -> Option<String> {
    if s.is_null() {
        None
    } else {
        // SAFETY: see above.
        Some(unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned())
    }
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

unsafe extern "C" fn collect_dev(ctx: *mut c_void, dev: *mut c_void) {
    // SAFETY: ctx is the Vec passed by label_scan_all below, alive for the call.
    let v = unsafe { &mut *(ctx as *mut Vec<DevId>) };
    v.push(dev as usize);
}

unsafe extern "C" fn collect_pv(ctx: *mut c_void, pv: *const lvmetad_host_vg_pv) -> c_int {
    if pv.is_null() {
        return 0;
    }
    // SAFETY: ctx is the Vec passed by vg_pvs below; pv points at a valid record.
    let (v, pv) = unsafe { (&mut *(ctx as *mut Vec<VgPv>), &*pv) };
    v.push(VgPv {
        id: pv.id,
        dev: pv.dev as usize,
        fmt: pv.fmt as usize,
        label_sector: pv.label_sector,
    });
    1
}

impl CHost {
    fn b(&self) -> *mut c_void {
        self.0.v1.baton
    }
}

// Calls into the host go through `host_call!`; strings the host returns are read with
// `text`, whose SAFETY each use states.
impl VgHost for CHost {
    fn dev_info(&self, dev: DevId) -> Option<(u64, String)> {
        let f = self.0.v2.dev_info?;
        let (mut devno, mut name) = (0u64, std::ptr::null::<c_char>());
        if dev == 0 || host_call!(f(self.b(), p(dev), &mut devno, &mut name)) == 0 {
            return None;
        }
        // SAFETY: `dev_info` sets `name` to NULL or the device's name, owned by LVM.
        Some((devno, unsafe { text(name) }.unwrap_or_default()))
    }
    fn dev_by_devt(&self, cmd: CmdId, devno: u64) -> Option<DevId> {
        let f = self.0.v2.dev_by_devt?;
        let d = host_call!(f(self.b(), p(cmd), devno)) as usize;
        (d != 0).then_some(d)
    }
    fn dev_is_mpath_component(&self, cmd: CmdId, dev: DevId) -> bool {
        match self.0.v2.dev_is_mpath_component {
            Some(f) => host_call!(f(self.b(), p(cmd), p(dev))) != 0,
            None => false,
        }
    }
    fn fmt_by_name(&self, cmd: CmdId, name: &str) -> Option<FmtId> {
        let f = self.0.v2.fmt_by_name?;
        let n = cstring(name);
        let r = host_call!(f(self.b(), p(cmd), n.as_ptr())) as usize;
        (r != 0).then_some(r)
    }
    fn fmt_name(&self, fmt: FmtId) -> String {
        match self.0.v2.fmt_name {
            Some(f) if fmt != 0 => {
                let name = host_call!(f(self.b(), p(fmt)));
                // SAFETY: `fmt_name` returns the format's name, owned by LVM.
                unsafe { text(name) }.unwrap_or_default()
            }
            _ => String::new(),
        }
    }
    fn pv_cache_info(&self, cmd: CmdId, pvid: &[u8; 32], dev: DevId) -> Option<PvAreas> {
        let f = self.0.v2.pv_cache_info?;
        let mut pv = lvmetad_host_pv::default();
        if host_call!(f(self.b(), p(cmd), pvid.as_ptr(), p(dev), &mut pv)) == 0 {
            return None;
        }
        let n = |x: c_int| (x.max(0) as usize).min(LVMETAD_HOST_MAX_AREAS);
        Some(PvAreas {
            dev_size: pv.dev_size,
            ext_version: pv.ext_version,
            ext_flags: pv.ext_flags,
            mdas: pv.mdas[..n(pv.n_mdas)]
                .iter()
                .map(|m| MdaLoc {
                    ignore: m.ignore != 0,
                    start: m.start,
                    size: m.size,
                    free_sectors: m.free_sectors,
                })
                .collect(),
            das: pv.das[..n(pv.n_das)]
                .iter()
                .map(|a| DiskLoc {
                    offset: a.offset,
                    size: a.size,
                })
                .collect(),
            bas: pv.bas[..n(pv.n_bas)]
                .iter()
                .map(|a| DiskLoc {
                    offset: a.offset,
                    size: a.size,
                })
                .collect(),
        })
    }
    fn lvmcache_add_pv(&self, cmd: CmdId, fmt: FmtId, rec: &PvRecord) -> bool {
        let Some(f) = self.0.v2.lvmcache_add_pv else {
            return false;
        };
        let vgname = cstring(&rec.vgname);
        let mut pv = lvmetad_host_pv {
            pvid: rec.pvid,
            vgid: rec.vgid,
            vgname: vgname.as_ptr(),
            dev: p(rec.dev),
            label_sector: rec.label_sector,
            dev_size: rec.areas.dev_size,
            ext_version: rec.areas.ext_version,
            ext_flags: rec.areas.ext_flags,
            ..Default::default()
        };
        let a = &rec.areas;
        pv.n_mdas = a.mdas.len().min(LVMETAD_HOST_MAX_AREAS) as c_int;
        for (d, m) in pv.mdas.iter_mut().zip(&a.mdas) {
            *d = lvmetad_host_mda {
                ignore: m.ignore as c_int,
                start: m.start,
                size: m.size,
                free_sectors: m.free_sectors,
            };
        }
        pv.n_das = a.das.len().min(LVMETAD_HOST_MAX_AREAS) as c_int;
        for (d, l) in pv.das.iter_mut().zip(&a.das) {
            *d = lvmetad_host_area {
                offset: l.offset,
                size: l.size,
            };
        }
        pv.n_bas = a.bas.len().min(LVMETAD_HOST_MAX_AREAS) as c_int;
        for (d, l) in pv.bas.iter_mut().zip(&a.bas) {
            *d = lvmetad_host_area {
                offset: l.offset,
                size: l.size,
            };
        }
        host_call!(f(self.b(), p(cmd), p(fmt), &pv)) != 0
    }
    fn seed_infos(&self, _cl: &Shared, cmd: CmdId) {
        if let Some(f) = self.0.v2.seed_infos {
            host_call!(f(self.b(), p(cmd)))
        }
    }
    fn vg_info(&self, vg: VgId) -> Option<VgInfo> {
        let f = self.0.v2.vg_info?;
        let mut i = lvmetad_host_vg {
            name: std::ptr::null(),
            id: [0; 32],
            seqno: 0,
            update_pending: 0,
            precommit: 0,
            system_id: std::ptr::null(),
            lock_type: std::ptr::null(),
            cmd: std::ptr::null_mut(),
        };
        if vg == 0 || host_call!(f(self.b(), p(vg), &mut i)) == 0 {
            return None;
        }
        Some(VgInfo {
            // SAFETY (the three strings): `vg_info` fills them with NULL or strings of
            // the VG, owned by LVM while the VG lives.
            name: unsafe { text(i.name) }.unwrap_or_default(),
            id: i.id,
            seqno: i.seqno,
            update_pending: i.update_pending != 0,
            precommit: i.precommit != 0,
            system_id: unsafe { text(i.system_id) },
            lock_type: unsafe { text(i.lock_type) },
            cmd: i.cmd as usize,
        })
    }
    fn vg_set_update_pending(&self, vg: VgId, pending: bool) {
        if let Some(f) = self.0.v2.vg_set_update_pending {
            host_call!(f(self.b(), p(vg), pending as c_int))
        }
    }
    fn vg_export(&self, vg: VgId, committed: bool) -> Option<Node> {
        let f = self.0.v2.vg_export?;
        let t = host_call!(f(self.b(), p(vg), committed as c_int));
        if t.is_null() {
            return None;
        }
        // SAFETY: a malloc()ed NUL-terminated string the host hands over to us.
        let bytes = unsafe { CStr::from_ptr(t) }.to_bytes().to_vec();
        unsafe { libc::free(t as *mut c_void) };
        let doc = crate::config::parse(&bytes).ok()?;
        doc.into_iter().find(|n| n.is_section())
    }
    fn vg_fix_mda_ignored(&self, vg: VgId) {
        if let Some(f) = self.0.v2.vg_fix_mda_ignored {
            host_call!(f(self.b(), p(vg)))
        }
    }
    fn vg_pvs(&self, vg: VgId, committed: bool) -> Vec<VgPv> {
        let mut out: Vec<VgPv> = Vec::new();
        if let Some(f) = self.0.v2.vg_pvs {
            host_call!(f(
                self.b(),
                p(vg),
                committed as c_int,
                Some(collect_pv),
                &mut out as *mut Vec<VgPv> as *mut c_void,
            ));
        }
        out
    }
    fn vg_import(
        &self,
        cmd: CmdId,
        fmt: FmtId,
        name: &str,
        vgid: Option<&[u8; 32]>,
        section: &Node,
    ) -> Option<VgId> {
        let f = self.0.v2.vg_import?;
        let n = cstring(name);
        let t = CString::new(crate::config::to_bytes(std::slice::from_ref(section))).ok()?;
        let id = vgid.map_or(std::ptr::null(), |v| v.as_ptr());
        let r = host_call!(f(self.b(), p(cmd), p(fmt), n.as_ptr(), id, t.as_ptr())) as usize;
        (r != 0).then_some(r)
    }
    fn vg_lockd(&self, cmd: CmdId, vg: VgId) -> Lockd {
        match self
            .0
            .v2
            .vg_lockd
            .map(|f| host_call!(f(self.b(), p(cmd), p(vg))))
        {
            Some(2) => Lockd::Rescan,
            Some(1) => Lockd::Yes,
            _ => Lockd::No,
        }
    }
    fn vg_rescan(
        &self,
        _cl: &Shared,
        cmd: CmdId,
        vg: VgId,
        vgid: Option<&[u8; 32]>,
    ) -> Option<VgId> {
        let Some(f) = self.0.v2.vg_rescan else {
            self.vg_release(vg);
            return None;
        };
        let id = vgid.map_or(std::ptr::null(), |v| v.as_ptr());
        let r = host_call!(f(self.b(), p(cmd), p(vg), id)) as usize;
        (r != 0).then_some(r)
    }
    fn vg_finish_lookup(&self, cmd: CmdId, vg: VgId) -> bool {
        match self.0.v2.vg_finish_lookup {
            Some(f) => host_call!(f(self.b(), p(cmd), p(vg))) != 0,
            None => false,
        }
    }
    fn vg_release(&self, vg: VgId) {
        if let (Some(f), true) = (self.0.v2.vg_release, vg != 0) {
            host_call!(f(self.b(), p(vg)))
        }
    }
    fn cmd_system_id(&self, cmd: CmdId) -> Option<String> {
        let f = self.0.v2.cmd_system_id?;
        let id = host_call!(f(self.b(), p(cmd)));
        // SAFETY: `cmd_system_id` returns NULL or `cmd->system_id`, owned by LVM.
        unsafe { text(id) }.filter(|s| !s.is_empty())
    }
    fn system_id_allowed(&self, cmd: CmdId, system_id: Option<&str>) -> bool {
        let Some(f) = self.0.v2.system_id_allowed else {
            return system_id.map_or(true, |s| s.is_empty());
        };
        let s = system_id.map(cstring);
        let ptr = s.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
        host_call!(f(self.b(), p(cmd), ptr)) != 0
    }
    fn lvmlockd_use(&self) -> bool {
        self.0
            .v2
            .lvmlockd_use
            .is_some_and(|f| host_call!(f(self.b())) != 0)
    }
    fn str_list_add(&self, cmd: CmdId, list: ListId, name: &str) -> bool {
        let Some(f) = self.0.v2.str_list_add else {
            return false;
        };
        let n = cstring(name);
        host_call!(f(self.b(), p(cmd), p(list), n.as_ptr())) != 0
    }
    fn vgnameid_add(&self, cmd: CmdId, list: ListId, name: &str, vgid: &[u8; 32]) -> bool {
        let Some(f) = self.0.v2.vgnameid_add else {
            return false;
        };
        let n = cstring(name);
        host_call!(f(self.b(), p(cmd), p(list), n.as_ptr(), vgid.as_ptr())) != 0
    }
    fn label_scan_all(&self, cmd: CmdId) -> Option<Vec<DevId>> {
        let f = self.0.v2.label_scan_all?;
        let mut out: Vec<DevId> = Vec::new();
        let ok = host_call!(f(
            self.b(),
            p(cmd),
            Some(collect_dev),
            &mut out as *mut Vec<DevId> as *mut c_void,
        ));
        (ok != 0).then_some(out)
    }
    fn dev_label(&self, cmd: CmdId, dev: DevId) -> DevLabel {
        let Some(f) = self.0.v2.dev_label else {
            return DevLabel::default();
        };
        let mut pvid = [0 as c_char; 33];
        let (mut info, mut label, mut fmt, mut sector) = (0, 0, std::ptr::null_mut(), 0u64);
        let ok = host_call!(f(
            self.b(),
            p(cmd),
            p(dev),
            pvid.as_mut_ptr(),
            &mut info,
            &mut label,
            &mut fmt,
            &mut sector,
        ));
        if ok == 0 {
            return DevLabel::default();
        }
        pvid[32] = 0;
        DevLabel {
            // SAFETY: a local buffer, NUL-terminated just above.
            pvid: unsafe { CStr::from_ptr(pvid.as_ptr()) }.to_bytes().to_vec(),
            has_info: info != 0,
            has_label: label != 0,
            fmt: fmt as usize,
            label_sector: sector,
        }
    }
    fn dev_read_vg(&self, cmd: CmdId, dev: DevId) -> Option<VgId> {
        let f = self.0.v2.dev_read_vg?;
        let r = host_call!(f(self.b(), p(cmd), p(dev))) as usize;
        (r != 0).then_some(r)
    }
    fn label_scan_invalidate(&self, dev: DevId) {
        if let Some(f) = self.0.v2.label_scan_invalidate {
            host_call!(f(self.b(), p(dev)))
        }
    }
    fn duplicate_check(&self, _cl: &Shared, cmd: CmdId) -> bool {
        self.0
            .v2
            .duplicate_check
            .is_some_and(|f| host_call!(f(self.b(), p(cmd))) != 0)
    }
    fn silent(&self) -> bool {
        self.0
            .v2
            .silent_mode
            .is_some_and(|f| host_call!(f(self.b())) != 0)
    }
    fn set_silent(&self, silent: bool) {
        if let Some(f) = self.0.v2.set_silent {
            host_call!(f(self.b(), silent as c_int))
        }
    }
    fn sigint_caught(&self) -> bool {
        self.0
            .v2
            .sigint_caught
            .is_some_and(|f| host_call!(f(self.b())) != 0)
    }
}
