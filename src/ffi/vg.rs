//! C ABI of the VG layer: the `lvmetad.h` functions that move VGs and PVs between lvmetad
//! and the caller (LVM2 2.02.188 signatures), plus native VG handles for C programs
//! without LVM (`lvmetad_vg_create`, `lvmetad_vg_release`, `lvmetad_vg_seqno`,
//! `lvmetad_vg_export`). Each call goes to the native host when its object is one of the
//! library's (a context from `lvmetad_cmd_create`, a VG or device it handed out) and to
//! the registered C host table otherwise.

use super::host::CHost;
use super::types::{cmd_context, dm_list, id};
use super::{cstr, log, precondition_failed, report_panic, GLOBALS};
use crate::client::port::vg::{ListId, VgHost};
use crate::client::port::{CmdId, Level};
use crate::client::vg as cvg;
use crate::host::native::NativeHost;
use crate::host::native_vg::NativeVg;
use crate::ondisk::Log;
use std::ffi::CString;
use std::os::raw::{c_char, c_int};

pub use super::scan::{device, volume_group};

/// Which host serves an object.
pub(super) enum Route {
    Native(&'static NativeHost),
    C(Box<CHost>),
}

impl Route {
    pub(super) fn host(&self) -> &dyn VgHost {
        match self {
            Route::Native(n) => *n,
            Route::C(c) => &**c,
        }
    }
}

fn native() -> &'static NativeHost {
    &GLOBALS.dispatch.native
}

/// The registered version-2 table, if any (no message).
pub(super) fn c_host() -> Option<CHost> {
    GLOBALS
        .dispatch
        .table()
        .filter(|t| t.v2.vg_info.is_some())
        .map(CHost)
}

fn c_route(func: &str) -> Option<Route> {
    match GLOBALS.dispatch.table() {
        Some(t) if t.v2.vg_info.is_some() => Some(Route::C(Box::new(CHost(t)))),
        _ => {
            precondition_failed(func, "a native object or a registered version-2 host");
            None
        }
    }
}

/// The host for a command context.
pub(super) fn for_cmd(cmd: CmdId, func: &str) -> Option<Route> {
    if native().is_registered(cmd) {
        return Some(Route::Native(native()));
    }
    c_route(func)
}

/// The host for a VG.
pub(super) fn for_vg(vg: usize, func: &str) -> Option<Route> {
    if native().objects.is_vg(vg) {
        return Some(Route::Native(native()));
    }
    c_route(func)
}

/// The host for a device.
pub(super) fn for_dev(dev: usize, func: &str) -> Option<Route> {
    if native().objects.dev(dev).is_some() {
        return Some(Route::Native(native()));
    }
    c_route(func)
}

/// Memory the library allocated for a native context's list entries (LVM allocates
/// them from `cmd->mem`); freed by `lvmetad_cmd_destroy`.
pub(super) struct ListEntry {
    _node: Box<ListNode>,
    _strings: Vec<CString>,
}

/// `struct dm_str_list` / `struct vgnameid_list`: a list link and one or two strings.
#[repr(C)]
struct ListNode {
    list: dm_list,
    first: *const c_char,
    second: *const c_char,
}

// SAFETY: the entries are only reached through the arena's mutex and the caller's list.
unsafe impl Send for ListEntry {}

/// Append to a caller's `dm_list` for a native context: a `struct dm_str_list` (no
/// vgid; skipped when the name is already there, as `str_list_add` does) or a
/// `struct vgnameid_list`.
fn native_list_add(cmd: CmdId, list: ListId, name: &str, vgid: Option<&[u8; 32]>) -> bool {
    if list == 0 {
        return false;
    }
    let head = list as *mut dm_list;
    let Ok(n) = CString::new(name) else {
        return false;
    };
    // SAFETY: the caller passes an initialised dm_list whose entries are of the kind
    // this list holds (documented in the header); only their first string is read.
    unsafe {
        if vgid.is_none() {
            let mut e = (*head).n;
            while !e.is_null() && e != head {
                let s = (*(e as *const ListNode)).first;
                if !s.is_null() && std::ffi::CStr::from_ptr(s).to_bytes() == name.as_bytes() {
                    return true;
                }
                e = (*e).n;
            }
        }
    }
    let mut strings = vec![n];
    let second = match vgid {
        Some(v) => {
            // the raw 32 id bytes, NUL-terminated (ids never contain NUL)
            let Ok(c) = CString::new(v.to_vec()) else {
                return false;
            };
            strings.push(c);
            strings[1].as_ptr()
        }
        None => std::ptr::null(),
    };
    let mut node = Box::new(ListNode {
        list: dm_list {
            n: std::ptr::null_mut(),
            p: std::ptr::null_mut(),
        },
        first: strings[0].as_ptr(),
        second,
    });
    let elem = &mut node.list as *mut dm_list;
    // SAFETY: dm_list_add(head, elem): head is the caller's initialised list head.
    unsafe {
        (*elem).n = head;
        (*elem).p = (*head).p;
        (*(*head).p).n = elem;
        (*head).p = elem;
    }
    GLOBALS
        .arena
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(cmd)
        .or_default()
        .push(ListEntry {
            _node: node,
            _strings: strings,
        });
    true
}

/// The native list hook the globals install.
pub(super) fn native_list_add_hook() -> crate::host::native_vg::ListHook {
    native_list_add
}

fn raw_id(p: *const c_char) -> Option<[u8; 32]> {
    if p.is_null() {
        return None;
    }
    let mut v = [0u8; 32];
    // SAFETY: LVM passes a 32-byte struct id here (not NUL-terminated).
    unsafe { std::ptr::copy_nonoverlapping(p as *const u8, v.as_mut_ptr(), 32) };
    Some(v)
}

macro_rules! vg_fn {
    ($name:literal, $vg:ident, $f:path) => {
        ffi_fn!($name, 0, {
            if $vg.is_null() {
                precondition_failed($name, "!vg.is_null()");
                return 0;
            }
            let Some(r) = for_vg($vg as usize, $name) else {
                return 0;
            };
            $f(&GLOBALS.client, r.host(), $vg as usize) as c_int
        })
    };
}

/// Announce new metadata of `vg` to lvmetad before it is committed
/// (`lvmetad_vg_update_pending`): 1 ok, 0 failed.
#[no_mangle]
pub extern "C" fn lvmetad_vg_update_pending(vg: *mut volume_group) -> c_int {
    vg_fn!("lvmetad_vg_update_pending", vg, cvg::vg_update_pending)
}

/// Send `vg`'s committed metadata and its PVs to lvmetad (`lvmetad_vg_update_finish`).
/// Does nothing (1) unless an update is pending.
#[no_mangle]
pub extern "C" fn lvmetad_vg_update_finish(vg: *mut volume_group) -> c_int {
    vg_fn!("lvmetad_vg_update_finish", vg, cvg::vg_update_finish)
}

/// Mark `vg` invalid in lvmetad before it is removed (`lvmetad_vg_remove_pending`).
#[no_mangle]
pub extern "C" fn lvmetad_vg_remove_pending(vg: *mut volume_group) -> c_int {
    vg_fn!("lvmetad_vg_remove_pending", vg, cvg::vg_remove_pending)
}

/// Remove `vg` from lvmetad (`lvmetad_vg_remove_finish`).
#[no_mangle]
pub extern "C" fn lvmetad_vg_remove_finish(vg: *mut volume_group) -> c_int {
    vg_fn!("lvmetad_vg_remove_finish", vg, cvg::vg_remove_finish)
}

/// Forget `vg`'s outdated PVs in lvmetad (`lvmetad_vg_clear_outdated_pvs`).
#[no_mangle]
pub extern "C" fn lvmetad_vg_clear_outdated_pvs(vg: *mut volume_group) -> c_int {
    vg_fn!(
        "lvmetad_vg_clear_outdated_pvs",
        vg,
        cvg::vg_clear_outdated_pvs
    )
}

/// Load every PV lvmetad knows into the command's cache (`lvmetad_pv_list_to_lvmcache`).
#[no_mangle]
pub extern "C" fn lvmetad_pv_list_to_lvmcache(cmd: *mut cmd_context) -> c_int {
    ffi_fn!("lvmetad_pv_list_to_lvmcache", 0, {
        let Some(r) = for_cmd(cmd as usize, "lvmetad_pv_list_to_lvmcache") else {
            return 0;
        };
        cvg::pv_list_to_lvmcache(&GLOBALS.client, r.host(), cmd as usize) as c_int
    })
}

/// Look a PV up by id and load it into the command's cache (`lvmetad_pv_lookup`).
/// `*found` (may be NULL) is set to 1 when lvmetad knows it, 0 when not.
#[no_mangle]
pub unsafe extern "C" fn lvmetad_pv_lookup(
    cmd: *mut cmd_context,
    pvid: id,
    found: *mut c_int,
) -> c_int {
    ffi_fn!("lvmetad_pv_lookup", 0, {
        let Some(r) = for_cmd(cmd as usize, "lvmetad_pv_lookup") else {
            return 0;
        };
        let raw: [u8; 32] = pvid.uuid.map(|b| b as u8);
        let (ok, f) = cvg::pv_lookup(
            &GLOBALS.client,
            r.host(),
            cmd as usize,
            cvg::PvKey::Id(&raw),
        );
        if !found.is_null() {
            // SAFETY: checked non-NULL; an int of the caller.
            unsafe { *found = f };
        }
        ok as c_int
    })
}

/// Look the PV on `dev` up and load it into the command's cache
/// (`lvmetad_pv_lookup_by_dev`).
#[no_mangle]
pub unsafe extern "C" fn lvmetad_pv_lookup_by_dev(
    cmd: *mut cmd_context,
    dev: *mut device,
    found: *mut c_int,
) -> c_int {
    ffi_fn!("lvmetad_pv_lookup_by_dev", 0, {
        check!("lvmetad_pv_lookup_by_dev", !dev.is_null(), 0);
        let Some(r) = for_cmd(cmd as usize, "lvmetad_pv_lookup_by_dev") else {
            return 0;
        };
        let (ok, f) = cvg::pv_lookup(
            &GLOBALS.client,
            r.host(),
            cmd as usize,
            cvg::PvKey::Dev(dev as usize),
        );
        if !found.is_null() {
            // SAFETY: checked non-NULL.
            unsafe { *found = f };
        }
        ok as c_int
    })
}

/// Look every VG up, filling the command's cache (`lvmetad_vg_list_to_lvmcache`).
#[no_mangle]
pub extern "C" fn lvmetad_vg_list_to_lvmcache(cmd: *mut cmd_context) -> c_int {
    ffi_fn!("lvmetad_vg_list_to_lvmcache", 0, {
        let Some(r) = for_cmd(cmd as usize, "lvmetad_vg_list_to_lvmcache") else {
            return 0;
        };
        cvg::vg_list_to_lvmcache(&GLOBALS.client, r.host(), cmd as usize) as c_int
    })
}

/// Append every VG's name and id to `vgnameids` (`lvmetad_get_vgnameids`). The entries
/// are `struct vgnameid_list { struct dm_list list; const char *vg_name; const char
/// *vgid; }`; for a native context they are owned by the context (freed by
/// `lvmetad_cmd_destroy`), for LVM's by `cmd->mem`.
#[no_mangle]
pub extern "C" fn lvmetad_get_vgnameids(cmd: *mut cmd_context, vgnameids: *mut dm_list) -> c_int {
    ffi_fn!("lvmetad_get_vgnameids", 0, {
        check!("lvmetad_get_vgnameids", !vgnameids.is_null(), 0);
        let Some(r) = for_cmd(cmd as usize, "lvmetad_get_vgnameids") else {
            return 0;
        };
        cvg::get_vgnameids(&GLOBALS.client, r.host(), cmd as usize, vgnameids as usize) as c_int
    })
}

/// The VG named `vgname` and/or with the raw 32-byte id `vgid` from lvmetad
/// (`lvmetad_vg_lookup`), re-read from disk when lvmetad marks it invalid. NULL when not
/// found. The caller owns the VG: `release_vg` for LVM's, `lvmetad_vg_release` for a
/// native context's.
#[no_mangle]
pub unsafe extern "C" fn lvmetad_vg_lookup(
    cmd: *mut cmd_context,
    vgname: *const c_char,
    vgid: *const c_char,
) -> *mut volume_group {
    ffi_fn!("lvmetad_vg_lookup", std::ptr::null_mut(), {
        let Some(r) = for_cmd(cmd as usize, "lvmetad_vg_lookup") else {
            return std::ptr::null_mut();
        };
        // SAFETY: NULL or a NUL-terminated string.
        let name = unsafe { cstr(vgname) }.map(|b| String::from_utf8_lossy(b).into_owned());
        let id = raw_id(vgid);
        cvg::vg_lookup(
            &GLOBALS.client,
            r.host(),
            cmd as usize,
            name.as_deref(),
            id.as_ref(),
        )
        .unwrap_or(0) as *mut volume_group
    })
}

/// Whether lvmetad's copy of the VG has a system id this host may not use
/// (`lvmetad_vg_is_foreign`). `vgid` is the raw 32-byte id.
#[no_mangle]
pub unsafe extern "C" fn lvmetad_vg_is_foreign(
    cmd: *mut cmd_context,
    vgname: *const c_char,
    vgid: *const c_char,
) -> c_int {
    ffi_fn!("lvmetad_vg_is_foreign", 0, {
        check!("lvmetad_vg_is_foreign", !vgid.is_null(), 0);
        let Some(r) = for_cmd(cmd as usize, "lvmetad_vg_is_foreign") else {
            return 0;
        };
        // SAFETY: NULL or a NUL-terminated string.
        let name = unsafe { cstr(vgname) }
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let id = raw_id(vgid).unwrap_or([0; 32]);
        cvg::vg_is_foreign(&GLOBALS.client, r.host(), cmd as usize, &name, &id) as c_int
    })
}

/// Rescan when another host invalidated lvmetad's global cache (lvmlockd only;
/// `lvmetad_validate_global_cache`).
#[no_mangle]
pub extern "C" fn lvmetad_validate_global_cache(cmd: *mut cmd_context, force: c_int) {
    ffi_fn!("lvmetad_validate_global_cache", (), {
        let Some(r) = for_cmd(cmd as usize, "lvmetad_validate_global_cache") else {
            return;
        };
        let all = || super::scan::lvmetad_pvscan_all_devs(cmd, 1, std::ptr::null_mut()) != 0;
        cvg::validate_global_cache(&GLOBALS.client, r.host(), cmd as usize, force != 0, &all)
    })
}

/// A native VG from metadata text as LVM writes it (`vgname { id = ... seqno = ...
/// physical_volumes { ... } ... }`), for `lvmetad_vg_update_pending`/`_finish` and
/// `lvmetad_vg_remove_*` from a native context. NULL if the text is not VG metadata.
/// Owned by the caller: free with `lvmetad_vg_release` (or `lvmetad_cmd_destroy`).
#[no_mangle]
pub unsafe extern "C" fn lvmetad_vg_create(
    cmd: *mut cmd_context,
    metadata: *const c_char,
) -> *mut volume_group {
    ffi_fn!("lvmetad_vg_create", std::ptr::null_mut(), {
        check!(
            "lvmetad_vg_create",
            native().is_registered(cmd as usize),
            std::ptr::null_mut()
        );
        check!(
            "lvmetad_vg_create",
            !metadata.is_null(),
            std::ptr::null_mut()
        );
        // SAFETY: checked non-NULL; NUL-terminated by contract.
        let text = unsafe { cstr(metadata) }.unwrap_or_default();
        let mut l = Log::new();
        let vg = NativeVg::from_text(cmd as usize, text, &mut l);
        for m in &l {
            log(m.level, &m.text);
        }
        match vg {
            Some(v) => native().objects.add_vg(v) as *mut volume_group,
            None => {
                log(
                    Level::Error,
                    "lvmetad_vg_create: no VG metadata in the text",
                );
                std::ptr::null_mut()
            }
        }
    })
}

/// Free a native VG (from `lvmetad_vg_lookup` or `lvmetad_vg_create` with a native
/// context). Pointers the library did not hand out are refused with a logged error.
#[no_mangle]
pub extern "C" fn lvmetad_vg_release(vg: *mut volume_group) {
    ffi_fn!("lvmetad_vg_release", (), {
        check!("lvmetad_vg_release", native().objects.is_vg(vg as usize));
        native().objects.release(vg as usize)
    })
}

/// The sequence number of a native VG; -1 for anything else.
#[no_mangle]
pub extern "C" fn lvmetad_vg_seqno(vg: *const volume_group) -> i64 {
    ffi_fn!("lvmetad_vg_seqno", -1, {
        check!("lvmetad_vg_seqno", native().objects.is_vg(vg as usize), -1);
        native()
            .objects
            .vg(vg as usize)
            .map_or(-1, |v| v.seqno as i64)
    })
}

/// A native VG's metadata as text (its VG section, with each PV's current device
/// name). malloc()ed: the caller frees it with free(). NULL for anything else.
#[no_mangle]
pub extern "C" fn lvmetad_vg_export(vg: *const volume_group) -> *mut c_char {
    ffi_fn!("lvmetad_vg_export", std::ptr::null_mut(), {
        check!(
            "lvmetad_vg_export",
            native().objects.is_vg(vg as usize),
            std::ptr::null_mut()
        );
        let Some(n) = native().vg_export(vg as usize, false) else {
            return std::ptr::null_mut();
        };
        let t = crate::config::to_bytes(std::slice::from_ref(&n));
        // SAFETY: malloc of len+1 bytes, filled and NUL-terminated below.
        unsafe {
            let p = libc::malloc(t.len() + 1) as *mut u8;
            if p.is_null() {
                return std::ptr::null_mut();
            }
            std::ptr::copy_nonoverlapping(t.as_ptr(), p, t.len());
            *p.add(t.len()) = 0;
            p as *mut c_char
        }
    })
}
