//! The VG layer of the client: the `lvmetad.h` functions that move VGs and PVs between
//! lvmetad and LVM's in-memory state (docs/reference/client.md 6.6, 6.9, 7.3-7.6), written over
//! the [`VgHost`] operations so that the same logic serves LVM's own objects (through
//! the C host table) and the library's native ones.
//!
//! The client is passed as a `Mutex` and locked only around exchanges with the daemon:
//! host operations may call back into the library (LVM's `_lvmetad_pvscan_vg` calls
//! `lvmetad_pv_gone_by_dev` and `lvmetad_vg_update_finish`, its duplicate check calls
//! `lvmetad_set_disabled`), so no lock is held while they run.

use super::id::{format_id, read_id};
use super::scan::pv_found;
use super::{Client, Field};
use crate::client::port::vg::{
    DevId, DiskLoc, FmtId, ListId, Lockd, MdaLoc, PvAreas, PvRecord, VgHost, VgId, VgInfo,
};
use crate::client::port::{CmdId, Host, Level};
use crate::config::{find_int, find_str, Node};
use crate::protocol::Request;
use std::sync::{Arc, Mutex, MutexGuard};

/// The shared client state.
pub type Shared = Mutex<Client>;

pub(super) fn lock(cl: &Shared) -> MutexGuard<'_, Client> {
    cl.lock().unwrap_or_else(|e| e.into_inner())
}

pub(super) fn host_of(cl: &Shared) -> Arc<dyn Host> {
    lock(cl).host().clone()
}

pub(super) fn used_and_writable(c: &Client) -> bool {
    c.used() && !c.host().test_mode()
}

/// A raw id from a text id (`id_read_format`), printing LVM's message on failure.
fn parse_id(h: &dyn Host, text: &[u8]) -> Option<[u8; 32]> {
    read_id(text).map_err(|e| h.log(Level::Error, &e)).ok()
}

pub(super) fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `set_vg_info` for the VG: `version` is the announced seqno, or 0 for a pending
/// removal (either way the daemon marks its copy invalid).
fn set_vg_info(c: &mut Client, info: &VgInfo, version: i64) -> bool {
    let uuid = format_id(&info.id);
    let r = c.send(
        Request::SetVgInfo,
        &[
            Field::Str("name", info.name.as_bytes()),
            Field::Str("uuid", uuid.as_bytes()),
            Field::Int("version", version),
        ],
    );
    c.handle_reply(&r, Request::SetVgInfo, &info.name, None)
}

/// `lvmetad_vg_update_pending(vg)`: announce new metadata (`set_vg_info`).
pub fn vg_update_pending(cl: &Shared, h: &dyn VgHost, vg: VgId) -> bool {
    let mut c = lock(cl);
    if !used_and_writable(&c) {
        return true;
    }
    let Some(info) = h.vg_info(vg) else {
        return false;
    };
    c.host().log(
        Level::Debug,
        &format!(
            "Sending lvmetad pending VG {} (seqno {})",
            info.name, info.seqno
        ),
    );
    if !set_vg_info(&mut c, &info, info.seqno as i64) {
        return false;
    }
    drop(c);
    h.vg_set_update_pending(vg, true);
    true
}

/// `lvmetad_vg_update_finish(vg)`: send the committed metadata (`vg_update`), then
/// `pv_found` for each of its PVs with a device.
pub fn vg_update_finish(cl: &Shared, h: &dyn VgHost, vg: VgId) -> bool {
    let Some(info) = h.vg_info(vg) else {
        return false;
    };
    if !info.update_pending || !info.precommit {
        return true;
    }
    let host = host_of(cl);
    {
        let mut c = lock(cl);
        if !used_and_writable(&c) {
            return true;
        }
        let Some(mut meta) = h.vg_export(vg, true) else {
            host.log(Level::Error, "Failed to export VG to config tree.");
            return false;
        };
        meta.key = "metadata".into();
        host.log(
            Level::Debug,
            &format!(
                "Sending lvmetad updated metadata for VG {} (seqno {})",
                info.name, info.seqno
            ),
        );
        let r = c.send(
            Request::VgUpdate,
            &[
                Field::Str("vgname", info.name.as_bytes()),
                Field::Tree("metadata", &meta),
            ],
        );
        if !c.handle_reply(&r, Request::VgUpdate, &info.name, None) {
            return false;
        }
    }
    h.vg_fix_mda_ignored(vg);
    for pv in h.vg_pvs(vg, true) {
        if pv.dev == 0 {
            continue;
        }
        if !pv_found(
            cl,
            h,
            info.cmd,
            &pv.id,
            pv.dev,
            pv.fmt,
            pv.label_sector,
            0,
            0,
            0,
        ) {
            return false;
        }
    }
    h.vg_set_update_pending(vg, false);
    true
}

/// `lvmetad_vg_remove_pending(vg)`: mark the VG invalid before its mdas are wiped.
pub fn vg_remove_pending(cl: &Shared, h: &dyn VgHost, vg: VgId) -> bool {
    let mut c = lock(cl);
    if !used_and_writable(&c) {
        return true;
    }
    let Some(info) = h.vg_info(vg) else {
        return false;
    };
    set_vg_info(&mut c, &info, 0)
}

/// `lvmetad_vg_remove_finish(vg)`: forget the VG (`vg_remove`).
pub fn vg_remove_finish(cl: &Shared, h: &dyn VgHost, vg: VgId) -> bool {
    let mut c = lock(cl);
    if !used_and_writable(&c) {
        return true;
    }
    let Some(info) = h.vg_info(vg) else {
        return false;
    };
    h.vg_set_update_pending(vg, false);
    let uuid = format_id(&info.id);
    c.host().log(
        Level::Debug,
        &format!("Telling lvmetad to remove VGID {} ({})", uuid, info.name),
    );
    let r = c.send(Request::VgRemove, &[Field::Str("uuid", uuid.as_bytes())]);
    c.handle_reply(&r, Request::VgRemove, &info.name, None)
}

/// `lvmetad_vg_clear_outdated_pvs(vg)` (no used check, as in LVM).
pub fn vg_clear_outdated_pvs(cl: &Shared, h: &dyn VgHost, vg: VgId) -> bool {
    let Some(info) = h.vg_info(vg) else {
        return false;
    };
    let uuid = format_id(&info.id);
    let mut c = lock(cl);
    let r = c.send(
        Request::VgClearOutdatedPvs,
        &[Field::Str("vgid", uuid.as_bytes())],
    );
    c.handle_reply(&r, Request::VgClearOutdatedPvs, &info.name, None)
}

/// `_pv_populate_lvmcache()`: one PV node of a reply into lvmcache.
pub fn pv_populate(
    host: &dyn Host,
    h: &dyn VgHost,
    cmd: CmdId,
    node: &Node,
    fmt: FmtId,
    fallback: u64,
) -> bool {
    let ch = &node.children[..];
    let id = find_str(ch, "id");
    let vgid = find_str(ch, "vgid");
    let vgname = find_str(ch, "vgname");
    let format = find_str(ch, "format");
    // dm_config_find_int: a C int, widened to dev_t
    let device = find_int(ch, "device").unwrap_or(0) as i32 as i64 as u64;
    let dev_size = find_int(ch, "dev_size").unwrap_or(0) as u64;
    let label_sector = find_int(ch, "label_sector").unwrap_or(0) as u64;
    let ext_flags = find_int(ch, "ext_flags").unwrap_or(0) as u32;
    let ext_version = find_int(ch, "ext_version").unwrap_or(0) as u32;
    let id_text = id.map(lossy).unwrap_or_else(|| "(null)".into());

    let mut fmt = fmt;
    if fmt == 0 {
        if let Some(f) = format {
            fmt = h.fmt_by_name(cmd, &lossy(f)).unwrap_or(0);
        }
    }
    if fmt == 0 {
        host.log(
            Level::Error,
            &format!("PV {} not recognised. Is the device missing?", id_text),
        );
        return false;
    }
    let mut dev = h.dev_by_devt(cmd, device);
    if dev.is_none() && fallback != 0 {
        dev = h.dev_by_devt(cmd, fallback);
    }
    let Some(dev) = dev else {
        host.log(
            Level::Warn,
            &format!(
                "WARNING: Device for PV {} not found or rejected by a filter.",
                id_text
            ),
        );
        return false;
    };
    let pvid = match id {
        Some(t) => parse_id(host, t),
        None => None,
    };
    let Some(pvid) = pvid else {
        host.log(
            Level::Error,
            &format!("Missing or ill-formatted PVID for PV: {}.", id_text),
        );
        return false;
    };
    let orphan = format!("#orphans_{}", h.fmt_name(fmt));
    let vgid = match vgid {
        Some(t) => match parse_id(host, t) {
            Some(v) => v,
            None => return false,
        },
        None => {
            let mut v = [0u8; 32];
            let n = orphan.len().min(31);
            v[..n].copy_from_slice(&orphan.as_bytes()[..n]);
            v
        }
    };
    let vgname = vgname.map(lossy).unwrap_or_else(|| orphan.clone());
    let mut areas = PvAreas {
        dev_size,
        ext_version,
        ext_flags,
        ..Default::default()
    };
    let mut complete = true;
    for i in 0.. {
        let Some(m) = node.child(&format!("mda{}", i)) else {
            break;
        };
        let g = |k: &str| find_int(&m.children, k).unwrap_or(0);
        areas.mdas.push(MdaLoc {
            ignore: g("ignore") != 0,
            start: g("start") as u64,
            size: g("size") as u64,
            free_sectors: g("free_sectors") as u64,
        });
    }
    'areas: for (prefix, list) in [("da", &mut areas.das), ("ba", &mut areas.bas)] {
        for i in 0.. {
            let Some(a) = node.child(&format!("{}{}", prefix, i)) else {
                break;
            };
            match (
                find_int(&a.children, "offset"),
                find_int(&a.children, "size"),
            ) {
                (Some(offset), Some(size)) => list.push(DiskLoc {
                    offset: offset as u64,
                    size: size as u64,
                }),
                _ => {
                    complete = false;
                    break 'areas;
                }
            }
        }
    }
    let rec = PvRecord {
        pvid,
        vgid,
        vgname,
        dev,
        label_sector,
        areas,
    };
    h.lvmcache_add_pv(cmd, fmt, &rec) && complete
}

/// A list request (`pv_list`, `vg_list`) checked by `_lvmetad_handle_reply`.
enum Listed {
    /// lvmetad is not used (only when the caller checks).
    Unused,
    Failed,
    Reply(super::DaemonReply),
}

fn list_request(cl: &Shared, id: Request, check_used: bool) -> Listed {
    let mut c = lock(cl);
    if check_used && !c.used() {
        return Listed::Unused;
    }
    let r = c.send(id, &[]);
    if !c.handle_reply(&r, id, "", None) {
        return Listed::Failed;
    }
    Listed::Reply(r)
}

/// `lvmetad_pv_list_to_lvmcache(cmd)`: every PV lvmetad knows into lvmcache.
pub fn pv_list_to_lvmcache(cl: &Shared, h: &dyn VgHost, cmd: CmdId) -> bool {
    let host = host_of(cl);
    let reply = match list_request(cl, Request::PvList, true) {
        Listed::Unused => return true,
        Listed::Failed => return false,
        Listed::Reply(r) => r,
    };
    if let Some(pvs) = reply
        .tree
        .as_deref()
        .and_then(|t| crate::config::find(t, "physical_volumes"))
    {
        for pv in pvs.children.iter() {
            pv_populate(&*host, h, cmd, pv, 0, 0);
        }
    }
    true
}

/// `lvmetad_pv_lookup` / `lvmetad_pv_lookup_by_dev`: `by` is the PV's id or its device.
pub enum PvKey<'a> {
    Id(&'a [u8; 32]),
    Dev(DevId),
}

/// Look one PV up in lvmetad and put it into lvmcache. Returns (ok, found).
pub fn pv_lookup(cl: &Shared, h: &dyn VgHost, cmd: CmdId, key: PvKey<'_>) -> (bool, i32) {
    let host = host_of(cl);
    let mut found = 0;
    let (reply, fallback) = {
        let mut c = lock(cl);
        if !c.used() {
            return (false, found);
        }
        match key {
            PvKey::Id(id) => {
                let uuid = format_id(id);
                let r = c.send(Request::PvLookup, &[Field::Str("uuid", uuid.as_bytes())]);
                if !c.handle_reply(&r, Request::PvLookup, "", Some(&mut found)) {
                    return (false, found);
                }
                (r, 0)
            }
            PvKey::Dev(dev) => {
                let Some((devno, name)) = h.dev_info(dev) else {
                    return (false, found);
                };
                let r = c.send(Request::PvLookup, &[Field::Int("device", devno as i64)]);
                if !c.handle_reply(&r, Request::PvLookup, &name, Some(&mut found)) {
                    return (false, found);
                }
                (r, devno)
            }
        }
    };
    if found == 0 {
        return (true, found);
    }
    let Some(pv) = reply
        .tree
        .as_deref()
        .and_then(|t| crate::config::find(t, "physical_volume"))
    else {
        return (false, found);
    };
    (pv_populate(&*host, h, cmd, pv, 0, fallback), found)
}

/// `lvmetad_vg_lookup(cmd, vgname, vgid)`: the VG from lvmetad, its PVs put into
/// lvmcache; re-read from disk when lvmetad marks it invalid. The caller releases it.
pub fn vg_lookup(
    cl: &Shared,
    h: &dyn VgHost,
    cmd: CmdId,
    vgname: Option<&str>,
    vgid: Option<&[u8; 32]>,
) -> Option<VgId> {
    let host = host_of(cl);
    let uuid = vgid.map(format_id);
    let mut found = 0;
    let reply = {
        let mut c = lock(cl);
        if !c.used() {
            return None;
        }
        let (fields, object): (Vec<Field<'_>>, String) = match (&uuid, vgname) {
            (Some(u), Some(n)) => (
                vec![
                    Field::Str("uuid", u.as_bytes()),
                    Field::Str("name", n.as_bytes()),
                ],
                u.clone(),
            ),
            (Some(u), None) => (vec![Field::Str("uuid", u.as_bytes())], u.clone()),
            (None, Some(n)) => (vec![Field::Str("name", n.as_bytes())], n.to_string()),
            (None, None) => {
                host.log(
                    Level::Error,
                    "Internal error: VG name required (VGID not available)",
                );
                return None;
            }
        };
        host.log(
            Level::Debug,
            &format!(
                "Asking lvmetad for VG {} {}",
                uuid.as_deref().unwrap_or("(null)"),
                vgname.unwrap_or("(null)")
            ),
        );
        let r = c.send(Request::VgLookup, &fields);
        if !c.handle_reply(&r, Request::VgLookup, &object, Some(&mut found)) || found == 0 {
            return None;
        }
        r
    };
    if found == 2 {
        if let Some(n) = vgname {
            host.log(
                Level::Error,
                &format!("Multiple VGs found with the same name: {}.", n),
            );
            host.log(
                Level::Error,
                "See the --select option with VG UUID (vg_uuid).",
            );
            return None;
        }
    }
    let tree = reply.tree.as_deref().unwrap_or(&[]);
    let Some(meta) = crate::config::find(tree, "metadata").filter(|n| n.is_section()) else {
        host.log(
            Level::Error,
            "Internal error: metadata config node not found.",
        );
        return None;
    };
    let name = reply.str("name").unwrap_or("").to_string();
    let format = find_str(&meta.children, "format")
        .map(lossy)
        .unwrap_or_else(|| "lvm2".to_string());
    let Some(fmt) = h.fmt_by_name(cmd, &format) else {
        host.log(
            Level::Error,
            &format!(
                "Internal error: We do not know the format ({}) reported by lvmetad.",
                format
            ),
        );
        return None;
    };
    for list in ["physical_volumes", "outdated_pvs"] {
        if let Some(pvs) = meta.child(list) {
            for pv in pvs.children.iter() {
                pv_populate(&*host, h, cmd, pv, fmt, 0);
            }
        }
    }
    let mut section = meta.clone();
    section.key = name.as_str().into();
    let vg = h.vg_import(cmd, fmt, &name, vgid, &section)?;
    let rescan = match h.vg_lockd(cmd, vg) {
        Lockd::Rescan => true,
        lockd => {
            if crate::config::find(tree, "vg_invalid").is_some() {
                if lockd == Lockd::No {
                    host.log(
                        Level::Warn,
                        &format!(
                            "WARNING: Reading VG {} from disk because lvmetad metadata is invalid.",
                            vgname.unwrap_or("(null)")
                        ),
                    );
                }
                true
            } else {
                false
            }
        }
    };
    let vg = if rescan {
        h.vg_rescan(cl, cmd, vg, vgid)?
    } else {
        vg
    };
    if !h.vg_finish_lookup(cmd, vg) {
        h.vg_release(vg);
        return None;
    }
    Some(vg)
}

/// `lvmetad_vg_list_to_lvmcache(cmd)`: look every VG up, for lvmcache's sake.
pub fn vg_list_to_lvmcache(cl: &Shared, h: &dyn VgHost, cmd: CmdId) -> bool {
    let host = host_of(cl);
    let reply = match list_request(cl, Request::VgList, true) {
        Listed::Unused => return true,
        Listed::Failed => return false,
        Listed::Reply(r) => r,
    };
    let ids: Vec<[u8; 32]> = reply
        .tree
        .as_deref()
        .and_then(|t| crate::config::find(t, "volume_groups"))
        .map(|vgs| {
            vgs.children
                .iter()
                .filter_map(|n| parse_id(&*host, &n.key))
                .collect()
        })
        .unwrap_or_default();
    for id in ids {
        if let Some(vg) = vg_lookup(cl, h, cmd, None, Some(&id)) {
            h.vg_release(vg);
        }
    }
    true
}

/// `lvmetad_get_vgnameids(cmd, list)`: append every VG's name and id to `list`.
pub fn get_vgnameids(cl: &Shared, h: &dyn VgHost, cmd: CmdId, list: ListId) -> bool {
    let host = host_of(cl);
    let Listed::Reply(reply) = list_request(cl, Request::VgList, false) else {
        return false;
    };
    let Some(vgs) = reply
        .tree
        .as_deref()
        .and_then(|t| crate::config::find(t, "volume_groups"))
    else {
        return true;
    };
    for n in vgs.children.iter() {
        let Some(id) = parse_id(&*host, &n.key) else {
            continue;
        };
        let Some(name) = find_str(&n.children, "name") else {
            host.log(Level::Error, "vg_list no name found.");
            return false;
        };
        if !h.vgnameid_add(cmd, list, &lossy(name), &id) {
            host.log(Level::Error, "vgnameid_list allocation failed.");
            return false;
        }
    }
    true
}

/// `lvmetad_vg_is_foreign(cmd, vgname, vgid)`: the VG's system id in lvmetad is not
/// ours.
pub fn vg_is_foreign(
    cl: &Shared,
    h: &dyn VgHost,
    cmd: CmdId,
    vgname: &str,
    vgid: &[u8; 32],
) -> bool {
    let uuid = format_id(vgid);
    let reply = {
        let mut c = lock(cl);
        c.host()
            .log(Level::Debug, "Sending lvmetad vg_clear_outdated_pvs");
        c.send(
            Request::VgLookup,
            &[
                Field::Str("uuid", uuid.as_bytes()),
                Field::Str("name", vgname.as_bytes()),
            ],
        )
    };
    let sys = reply
        .tree
        .as_deref()
        .and_then(|t| crate::config::find(t, "metadata"))
        .and_then(|m| find_str(&m.children, "system_id"))
        .map(lossy);
    !h.system_id_allowed(cmd, sys.as_deref())
}

/// `lvmetad_validate_global_cache(cmd, force)` (lvmlockd): rescan when another host
/// invalidated the global cache. `pvscan_all` is `lvmetad_pvscan_all_devs(cmd, 1, NULL)`.
pub fn validate_global_cache(
    cl: &Shared,
    h: &dyn VgHost,
    cmd: CmdId,
    force: bool,
    pvscan_all: &dyn Fn() -> bool,
) {
    let host = host_of(cl);
    if !h.lvmlockd_use() {
        host.log(
            Level::Error,
            "Internal error: validate global cache without lvmlockd",
        );
        return;
    }
    if !lock(cl).used() {
        return;
    }
    if !force {
        let r = lock(cl).get_global_info();
        if r.error != 0 {
            host.log(
                Level::Error,
                &format!(
                    "lvmetad_validate_global_cache get_global_info error {}",
                    r.error
                ),
            );
        } else if r.response() != "OK" {
            host.log(
                Level::Error,
                "lvmetad_validate_global_cache get_global_info not ok",
            );
        } else if r.int("global_invalid").unwrap_or(-1) == 0 {
            return;
        }
    }
    host.log(Level::Debug, "Validating global lvmetad cache");
    if !pvscan_all() {
        host.log(
            Level::Warn,
            "WARNING: Not using lvmetad because cache update failed.",
        );
        lock(cl).make_unused(Some(cmd));
        return;
    }
    {
        let mut c = lock(cl);
        if let Some(reason) = c.is_disabled() {
            host.log(
                Level::Warn,
                &format!("WARNING: Not using lvmetad because {}.", reason),
            );
            c.make_unused(Some(cmd));
            return;
        }
        let r = c.send_skip(Request::SetGlobalInfo, &[Field::Int("global_invalid", 0)]);
        if r.error != 0 {
            host.log(
                Level::Error,
                &format!(
                    "lvmetad_validate_global_cache set_global_info error {}",
                    r.error
                ),
            );
        }
        if r.response() != "OK" {
            host.log(
                Level::Error,
                "lvmetad_validate_global_cache set_global_info not ok",
            );
        }
    }
    h.seed_infos(cl, cmd);
}
