//! C ABI of the scan layer: `lvmetad_pvscan_all_devs`, `lvmetad_pvscan_single`,
//! `lvmetad_pv_found`, `lvmetad_pv_gone`, `lvmetad_pv_gone_by_dev` with LVM2 2.02.188's
//! signatures, for native command contexts (`lvmetad_cmd_create`), plus
//! `lvmetad_dev_get` which gives a native `struct device *`.
//!
//! Native mode limits (documented in the header): `found_vgnames`/`changed_vgnames` are
//! not filled (pass NULL), and `lvmetad_pv_found` takes no `vg` (pass NULL; the VG is
//! read from the device, as `lvmetad_pvscan_single` does). LVM's own contexts and
//! devices need the C host glue of the VG layer.

use super::types::{cmd_context, dm_list, id};
use super::vg::{for_cmd, for_dev, Route};
use super::{cstr, log, precondition_failed, report_panic, GLOBALS};
use crate::client::port::vg::VgHost;
use crate::client::port::Level;
use crate::client::scan as cscan;
use crate::host::native_vg::FMT_LVM2;
use crate::scan::pvscan::{DeviceSource, Lookup};
use crate::scan::source::SystemDevices;
use std::os::raw::{c_char, c_int};

/// LVM's `struct device` (opaque; for native contexts, made by `lvmetad_dev_get`).
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct device {
    _private: [u8; 0],
}

/// LVM's `struct format_type` (opaque).
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct format_type {
    _private: [u8; 0],
}

/// LVM's `struct volume_group` (opaque).
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct volume_group {
    _private: [u8; 0],
}

fn native_devices(cmd: usize) -> Option<SystemDevices> {
    let c = GLOBALS.dispatch.native.cmd(cmd);
    match SystemDevices::new(&c.config) {
        Ok(d) => Some(d),
        Err(msgs) => {
            for m in msgs {
                log(Level::Error, &m);
            }
            None
        }
    }
}

/// The device at `path` (a device node, one of its aliases, or an image file named in
/// `devices/scan`) as the native context `cmd` sees it. Returns NULL when there is no
/// such device. The handle is owned by `cmd` and freed by `lvmetad_cmd_destroy`.
#[no_mangle]
pub unsafe extern "C" fn lvmetad_dev_get(
    cmd: *mut cmd_context,
    path: *const c_char,
) -> *mut device {
    ffi_fn!("lvmetad_dev_get", std::ptr::null_mut(), {
        check!(
            "lvmetad_dev_get",
            GLOBALS.dispatch.native.is_registered(cmd as usize),
            std::ptr::null_mut()
        );
        check!("lvmetad_dev_get", !path.is_null(), std::ptr::null_mut());
        // SAFETY: checked non-NULL; NUL-terminated by contract.
        let p = String::from_utf8_lossy(unsafe { cstr(path) }.unwrap_or_default()).into_owned();
        let Some(mut devs) = native_devices(cmd as usize) else {
            return std::ptr::null_mut();
        };
        let devno = match devs.by_path(&p) {
            Lookup::Found(d) => d.devno,
            Lookup::Filtered(n) => n,
            Lookup::NotFound => return std::ptr::null_mut(),
        };
        GLOBALS
            .dispatch
            .native
            .objects
            .dev_handle(cmd as usize, devno, &p) as *mut device
    })
}

fn dev_info(dev: *mut device) -> Option<(usize, u64, String)> {
    GLOBALS
        .dispatch
        .native
        .objects
        .dev(dev as usize)
        .map(|d| (d.cmd, d.devno, d.path))
}

/// Repopulate lvmetad from every device (`lvmetad_pvscan_all_devs`): 1 on success, 0 on
/// failure (including duplicate PVs, which disable lvmetad with reason DUPLICATES).
/// `found_vgnames` must be NULL for native contexts.
#[no_mangle]
pub extern "C" fn lvmetad_pvscan_all_devs(
    cmd: *mut cmd_context,
    do_wait: c_int,
    found_vgnames: *mut dm_list,
) -> c_int {
    ffi_fn!("lvmetad_pvscan_all_devs", 0, {
        let Some(route) = for_cmd(cmd as usize, "lvmetad_pvscan_all_devs") else {
            return 0;
        };
        if matches!(route, Route::Native(_)) && !found_vgnames.is_null() {
            precondition_failed("lvmetad_pvscan_all_devs", "found_vgnames.is_null()");
        }
        let list = match route {
            Route::Native(_) => 0,
            Route::C(_) => found_vgnames as usize,
        };
        cscan::pvscan_all_devs(
            &GLOBALS.client,
            route.host(),
            cmd as usize,
            do_wait != 0,
            list,
        ) as c_int
    })
}

/// Scan one device into lvmetad (`lvmetad_pvscan_single`): `pv_found` for a PV,
/// `pv_gone` otherwise. 1 on success. For native contexts the device is read now and the
/// list arguments must be NULL.
#[no_mangle]
pub extern "C" fn lvmetad_pvscan_single(
    cmd: *mut cmd_context,
    dev: *mut device,
    found_vgnames: *mut dm_list,
    changed_vgnames: *mut dm_list,
) -> c_int {
    ffi_fn!("lvmetad_pvscan_single", 0, {
        let Some(route) = for_cmd(cmd as usize, "lvmetad_pvscan_single") else {
            return 0;
        };
        let (found, changed) = match route {
            Route::C(_) => (found_vgnames as usize, changed_vgnames as usize),
            Route::Native(n) => {
                if !found_vgnames.is_null() || !changed_vgnames.is_null() {
                    precondition_failed("lvmetad_pvscan_single", "vgname lists are NULL");
                }
                if dev_info(dev).is_none() {
                    precondition_failed(
                        "lvmetad_pvscan_single",
                        "dev is a device from lvmetad_dev_get",
                    );
                    return 0;
                }
                // no label scan precedes a C caller's call: read the device afresh
                n.label_scan_invalidate(dev as usize);
                (0, 0)
            }
        };
        cscan::pvscan_single(
            &GLOBALS.client,
            route.host(),
            cmd as usize,
            dev as usize,
            found,
            changed,
        ) as c_int
    })
}

/// Tell lvmetad about the PV `pvid` on `dev` (`lvmetad_pv_found`). Native contexts: `fmt`
/// is ignored, the lists must be NULL, and with `vg` NULL the VG is read from the device
/// (as `lvmetad_pvscan_single` does). 1 on success.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn lvmetad_pv_found(
    cmd: *mut cmd_context,
    pvid: *const id,
    dev: *mut device,
    fmt: *const format_type,
    label_sector: u64,
    vg: *mut volume_group,
    found_vgnames: *mut dm_list,
    changed_vgnames: *mut dm_list,
) -> c_int {
    ffi_fn!("lvmetad_pv_found", 0, {
        check!("lvmetad_pv_found", !pvid.is_null(), 0);
        // SAFETY: checked non-NULL; a 32-byte struct id.
        let want: [u8; 32] = unsafe { (*pvid).uuid }.map(|b| b as u8);
        let Some(route) = for_dev(dev as usize, "lvmetad_pv_found") else {
            return 0;
        };
        let fmt = if fmt.is_null() {
            FMT_LVM2
        } else {
            fmt as usize
        };
        let (cmd, dev, vg) = (cmd as usize, dev as usize, vg as usize);
        let lists = match route {
            Route::C(_) => (found_vgnames as usize, changed_vgnames as usize),
            Route::Native(_) => (0, 0),
        };
        if matches!(route, Route::Native(_)) && vg == 0 {
            let Ok(ok) = cscan::pv_found_on_device(&GLOBALS.client, route.host(), cmd, &want, dev)
            else {
                precondition_failed("lvmetad_pv_found", "pvid is the PV on dev");
                return 0;
            };
            return ok as c_int;
        }
        cscan::pv_found(
            &GLOBALS.client,
            route.host(),
            cmd,
            &want,
            dev,
            fmt,
            label_sector,
            vg,
            lists.0,
            lists.1,
        ) as c_int
    })
}

/// Tell lvmetad the device `devno` is gone (`lvmetad_pv_gone`). `pv_name` (may be NULL)
/// only appears in messages. 1 on success (also when lvmetad did not know the device).
#[no_mangle]
pub unsafe extern "C" fn lvmetad_pv_gone(devno: libc::dev_t, pv_name: *const c_char) -> c_int {
    ffi_fn!("lvmetad_pv_gone", 0, {
        // SAFETY: NULL or a NUL-terminated string.
        let name = unsafe { cstr(pv_name) }
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        cscan::pv_gone(&GLOBALS.client, devno, &name) as c_int
    })
}

/// `lvmetad_pv_gone` for a device handle (`lvmetad_pv_gone_by_dev`).
#[no_mangle]
pub extern "C" fn lvmetad_pv_gone_by_dev(dev: *mut device) -> c_int {
    ffi_fn!("lvmetad_pv_gone_by_dev", 0, {
        let native_dev = GLOBALS.dispatch.native.objects.dev(dev as usize).is_some();
        if let (false, Some(h)) = (native_dev, super::vg::c_host()) {
            let Some((devno, name)) = VgHost::dev_info(&h, dev as usize) else {
                precondition_failed("lvmetad_pv_gone_by_dev", "dev is a device of the host");
                return 0;
            };
            return cscan::pv_gone(&GLOBALS.client, devno, &name) as c_int;
        }
        let Some((_, devno, path)) = dev_info(dev) else {
            precondition_failed(
                "lvmetad_pv_gone_by_dev",
                "dev is a device from lvmetad_dev_get",
            );
            return 0;
        };
        cscan::pv_gone(&GLOBALS.client, devno, &path) as c_int
    })
}
