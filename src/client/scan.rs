//! The scan operations of `lvmetad.h`, written once over the host ports:
//! `lvmetad_pv_found`, `lvmetad_pv_gone`, `lvmetad_pvscan_single` and
//! `lvmetad_pvscan_all_devs`, with LVM2 2.02.188's sequence and messages. The native host
//! (`crate::host`, our device scan and on-disk reader) and LVM's own (the C host table)
//! supply devices, labels and VGs through `VgHost`; `lvmetad-pvscan` and LVM-linked
//! callers run this same code.

use super::id::format_id;
use super::port::vg::{DevId, FmtId, ListId, VgHost, VgId};
use super::port::{CmdId, Host, Level};
use super::update::{
    begin_full_update_or_adopt, enable_after_scan, end_full_update, pvmeta_tree, FullUpdate,
};
use super::vg::{host_of, lock, lossy, used_and_writable, Shared};
use super::{Client, Field};
use crate::protocol::Request;

/// `log_print_unless_silent`: a print, or a verbose line while the host is silent
/// (`init_silent(1)` during a full scan).
fn print_unless_silent(host: &dyn Host, h: &dyn VgHost, msg: &str) {
    let level = if h.silent() {
        Level::Verbose
    } else {
        Level::PrintUnlessSilent
    };
    host.log(level, msg);
}

/// `lvmetad_pv_found()`: tell lvmetad about the PV `pvid` on `dev` (with the VG `vg`
/// read from it, when not 0); names of VGs that became complete (and changed) go to
/// the caller's lists (0 = none).
#[allow(clippy::too_many_arguments)]
pub fn pv_found(
    cl: &Shared,
    h: &dyn VgHost,
    cmd: CmdId,
    pvid: &[u8; 32],
    dev: DevId,
    fmt: FmtId,
    label_sector: u64,
    vg: VgId,
    found_vgnames: ListId,
    changed_vgnames: ListId,
) -> bool {
    let host = host_of(cl);
    if !used_and_writable(&lock(cl)) {
        return true;
    }
    let uuid = format_id(pvid);
    let Some((devno, devname)) = h.dev_info(dev) else {
        return false;
    };
    let areas = h.pv_cache_info(cmd, pvid, dev).unwrap_or_default();
    let pvmeta = pvmeta_tree(devno, &h.fmt_name(fmt), label_sector, &uuid, &areas);
    let vginfo = if vg != 0 { h.vg_info(vg) } else { None };
    if vg != 0 && vginfo.is_none() {
        return false;
    }
    let reply = match &vginfo {
        Some(info) => {
            let Some(mut meta) = h.vg_export(vg, false) else {
                return false;
            };
            meta.key = "metadata".into();
            host.log(
                Level::Debug,
                &format!(
                    "Telling lvmetad to store PV {} ({}) in VG {}",
                    devname, uuid, info.name
                ),
            );
            lock(cl).send(
                Request::PvFound,
                &[
                    Field::Tree("pvmeta", &pvmeta),
                    Field::Str("vgname", info.name.as_bytes()),
                    Field::Tree("metadata", &meta),
                ],
            )
        }
        None => {
            host.log(
                Level::Debug,
                &format!("Telling lvmetad to store PV {} ({})", devname, uuid),
            );
            lock(cl).send(Request::PvFound, &[Field::Tree("pvmeta", &pvmeta)])
        }
    };
    let result = lock(cl).handle_reply(&reply, Request::PvFound, &uuid, None);
    if let (Some(info), true) = (&vginfo, result) {
        check_pv_found_seqno(&*host, &reply, &info.name, info.seqno);
    }
    if !result || found_vgnames == 0 {
        return result;
    }
    let status = reply.str("status");
    let vgname = reply.str("vgname");
    let changed = reply.int("changed").unwrap_or(0);
    if let Some(info) = &vginfo {
        let vg_sys = info.system_id.as_deref().unwrap_or("");
        let cmd_sys = h.cmd_system_id(cmd).unwrap_or_default();
        if !vg_sys.is_empty() && !cmd_sys.is_empty() && vg_sys != cmd_sys {
            host.log(
                Level::Debug,
                &format!("Ignore foreign VG {} on {}", info.name, devname),
            );
            return result;
        }
    }
    if let (Some(name), Some("complete")) = (vgname, status) {
        host.log(
            Level::Debug,
            &format!("VG {} is complete in lvmetad with dev {}.", name, devname),
        );
        if !h.str_list_add(cmd, found_vgnames, name) {
            host.log(Level::Error, "str_list_add failed");
        }
        if changed_vgnames != 0 && changed != 0 {
            host.log(Level::Debug, &format!("VG {} is changed in lvmetad.", name));
            if !h.str_list_add(cmd, changed_vgnames, name) {
                host.log(Level::Error, "str_list_add failed");
            }
        }
    }
    result
}

/// After a successful `pv_found` with a VG: warn unless lvmetad now holds the VG's
/// seqno and held it before.
pub fn check_pv_found_seqno(host: &dyn Host, reply: &super::DaemonReply, vgname: &str, seqno: u32) {
    let after = reply.int("seqno_after").unwrap_or(-1) as i32;
    let before = reply.int("seqno_before").unwrap_or(-1) as i32;
    if after != seqno as i32 || after != before {
        host.log(
            Level::Warn,
            &format!("WARNING: Inconsistent metadata found for VG {}", vgname),
        );
    }
}

/// `lvmetad_pv_gone(devno, name)`.
pub fn pv_gone(cl: &Shared, devno: u64, name: &str) -> bool {
    pv_gone_on(&mut lock(cl), devno, name)
}

/// [`pv_gone`] on a client the caller holds (the scan layer).
pub fn pv_gone_on(c: &mut Client, devno: u64, name: &str) -> bool {
    if !used_and_writable(c) {
        return true;
    }
    c.host().log(
        Level::Debug,
        &format!("Telling lvmetad to forget any PV on {}", name),
    );
    let r = c.send(Request::PvGone, &[Field::Int("device", devno as i64)]);
    let mut found = 0;
    c.handle_reply(&r, Request::PvGone, name, Some(&mut found))
}

/// `lvmetad_pvscan_single()` for a host that did the label scan: `pv_found` with the
/// VG read from the device, or `pv_gone` when it holds no PV.
pub fn pvscan_single(
    cl: &Shared,
    h: &dyn VgHost,
    cmd: CmdId,
    dev: DevId,
    found_vgnames: ListId,
    changed_vgnames: ListId,
) -> bool {
    let host = host_of(cl);
    let Some((devno, name)) = h.dev_info(dev) else {
        return false;
    };
    host.log(Level::Debug, &format!("Scan metadata from dev {}", name));
    if !lock(cl).used() {
        host.log(Level::Error, "Cannot proceed since lvmetad is not active.");
        return false;
    }
    if h.dev_is_mpath_component(cmd, dev) {
        host.log(Level::Debug, "Ignore multipath component for pvscan.");
        return true;
    }
    let l = h.dev_label(cmd, dev);
    if !l.has_info || !l.has_label {
        let msg = if !l.has_info {
            format!("No PV info found on {} for PVID {}.", name, lossy(&l.pvid))
        } else {
            format!("No PV label found for {}.", name)
        };
        print_unless_silent(&*host, h, &msg);
        return pv_gone(cl, devno, &name);
    }
    let mut pvid = [0u8; 32];
    let n = l.pvid.len().min(32);
    pvid[..n].copy_from_slice(&l.pvid[..n]);
    let vg = h.dev_read_vg(cmd, dev).unwrap_or(0);
    let ok = pv_found(
        cl,
        h,
        cmd,
        &pvid,
        dev,
        l.fmt,
        l.label_sector,
        vg,
        found_vgnames,
        changed_vgnames,
    );
    if vg != 0 {
        h.vg_release(vg);
    }
    ok
}

/// `lvmetad_pvscan_all_devs()` for a host that does the label scan.
pub fn pvscan_all_devs(
    cl: &Shared,
    h: &dyn VgHost,
    cmd: CmdId,
    do_wait: bool,
    found_vgnames: ListId,
) -> bool {
    let host = host_of(cl);
    if !lock(cl).used() {
        host.log(Level::Error, "Cannot proceed since lvmetad is not active.");
        return false;
    }
    // a full update another command did meanwhile is not repeated (docs/compat.md)
    let begun = begin_full_update_or_adopt(&mut lock(cl), do_wait, true);
    let future = match begun {
        FullUpdate::Started(future) => future,
        FullUpdate::Adopted => {
            return found_vgnames == 0 || complete_vgs_from_cache(cl, h, cmd, found_vgnames)
        }
        FullUpdate::NotStarted => return false,
    };
    host.log(
        Level::Verbose,
        "Scanning all devices to initialize lvmetad.",
    );
    let devs = h.label_scan_all(cmd).unwrap_or_default();
    let mut ret = {
        let mut c = lock(cl);
        let r = c.send(Request::PvClearAll, &[]);
        c.handle_reply(&r, Request::PvClearAll, "", None)
    };
    let was_silent = h.silent();
    h.set_silent(true);
    for dev in devs {
        if h.sigint_caught() {
            ret = false;
            break;
        }
        ret = pvscan_single(cl, h, cmd, dev, found_vgnames, 0);
        h.label_scan_invalidate(dev);
        if !ret {
            break;
        }
    }
    h.set_silent(was_silent);
    if !end_full_update(&mut lock(cl), future, ret) {
        return false;
    }
    if h.duplicate_check(cl, cmd) {
        host.log(Level::Warn, "WARNING: Scan found duplicate PVs.");
        return false;
    }
    enable_after_scan(&mut lock(cl));
    true
}

/// The device holds another PV than the caller named (nothing was sent).
#[derive(Debug, PartialEq, Eq)]
pub struct OtherPv;

/// `lvmetad_pv_found` for a caller without a VG of its own (the C ABI's native
/// contexts): the device's label and VG as the host's label scan reads them now. A
/// device without a PV label fails with LVM's message.
pub fn pv_found_on_device(
    cl: &Shared,
    h: &dyn VgHost,
    cmd: CmdId,
    pvid: &[u8; 32],
    dev: DevId,
) -> Result<bool, OtherPv> {
    h.label_scan_invalidate(dev);
    let l = h.dev_label(cmd, dev);
    if !l.has_label {
        let name = h.dev_info(dev).map(|(_, n)| n).unwrap_or_default();
        host_of(cl).log(Level::Error, &format!("No PV label found for {}.", name));
        return Ok(false);
    }
    if l.pvid[..] != pvid[..] {
        return Err(OtherPv);
    }
    let vg = h.dev_read_vg(cmd, dev).unwrap_or(0);
    let ok = pv_found(cl, h, cmd, pvid, dev, l.fmt, l.label_sector, vg, 0, 0);
    if vg != 0 {
        h.vg_release(vg);
    }
    Ok(ok)
}

/// After adopting another command's full update: the names the scan would have added to
/// `found_vgnames` (each VG that `pv_found` would have reported complete, foreign VGs
/// left out, in the order the scan would have completed them: by the highest device
/// number of their PVs), from the cache the update left: `vg_list`, then `vg_lookup` of
/// each VG (a PV the cache has no device for is `MISSING` there).
fn complete_vgs_from_cache(cl: &Shared, h: &dyn VgHost, cmd: CmdId, found_vgnames: ListId) -> bool {
    let host = host_of(cl);
    let mut c = lock(cl);
    let r = c.send(Request::VgList, &[]);
    if !c.handle_reply(&r, Request::VgList, "", None) {
        return false;
    }
    let vgs: Vec<(String, String)> = r
        .tree
        .as_deref()
        .and_then(|t| crate::config::find(t, "volume_groups"))
        .map(|n| {
            n.children
                .iter()
                .map(|vg| {
                    let name = crate::config::find_str(&vg.children, "name").unwrap_or_default();
                    (
                        String::from_utf8_lossy(&vg.key).into_owned(),
                        String::from_utf8_lossy(name).into_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let cmd_sys = h.cmd_system_id(cmd).unwrap_or_default();
    let mut complete: Vec<(u64, String)> = Vec::new();
    for (uuid, name) in vgs {
        let r = c.send(
            Request::VgLookup,
            &[
                Field::Str("uuid", uuid.as_bytes()),
                Field::Str("name", name.as_bytes()),
            ],
        );
        if !c.handle_reply(&r, Request::VgLookup, &name, None) {
            return false;
        }
        let Some(meta) = r
            .tree
            .as_deref()
            .and_then(|t| crate::config::find(t, "metadata"))
        else {
            continue;
        };
        let sys = crate::config::find_str(&meta.children, "system_id").unwrap_or_default();
        if !sys.is_empty() && !cmd_sys.is_empty() && sys != cmd_sys.as_bytes() {
            continue;
        }
        let pvs = crate::config::find(&meta.children, "physical_volumes");
        let mut last = 0u64;
        let mut all_present = true;
        for pv in pvs.map(|p| p.children.as_slice()).unwrap_or_default() {
            let missing = crate::config::find(&pv.children, "status")
                .and_then(|n| n.values.as_deref())
                .is_some_and(|v| {
                    v.iter()
                        .any(|x| matches!(x, crate::config::Value::Str(s) if &s[..] == b"MISSING"))
                });
            if missing {
                all_present = false;
                break;
            }
            last = last.max(crate::config::find_int(&pv.children, "device").unwrap_or(0) as u64);
        }
        if all_present {
            complete.push((last, name));
        }
    }
    drop(c);
    complete.sort();
    for (_, name) in complete {
        if !h.str_list_add(cmd, found_vgnames, &name) {
            host.log(Level::Error, "str_list_add failed");
        }
    }
    true
}
