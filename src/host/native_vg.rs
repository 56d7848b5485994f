//! The native VG layer: what LVM's lvmcache, device cache and format code do for
//! `lvmetad.c`, done by the library itself for command contexts made by
//! `lvmetad_cmd_create` (devices from `SystemDevices`, labels and metadata from the
//! on-disk reader, an in-library cache of PVs per command).
//!
//! Objects handed out (devices, VGs) are registered here; a handle is the address of a
//! one-byte allocation kept alive by the registry, so it never collides with a pointer
//! of LVM's and is freed when the object is released or its command destroyed.
//!
//! Differences from LVM's internals (documented in docs/host-interface.md): the VG is
//! kept as lvmetad's config tree (no LV/segment model); `vg_rescan` re-reads the VG's
//! own devices only (LVM falls back to a full label scan when PVs were added or none
//! holds the VG) and does not compare equal-seqno copies; `seed_infos` lists PVs once
//! per command.

use super::native::NativeHost;
use crate::client::port::vg::*;
use crate::client::port::{CmdId, Host, Level};
use crate::client::vg::{self as cvg, Shared};
use crate::config::{find_int, find_str, Node, Value};
use crate::ondisk::summary::id_read_format;
use crate::ondisk::{scan_pv, Log, PvScan, ScannedPv};
use crate::scan::pvscan::{pv_areas, DeviceSource, Lookup};
use crate::scan::source::SystemDevices;
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

/// The one format the native host knows.
pub const FMT_LVM2: FmtId = 2;

/// A device handed out to C or to the VG layer.
#[derive(Clone, Debug)]
pub struct NativeDev {
    pub cmd: CmdId,
    pub devno: u64,
    pub path: String,
}

/// A PV of a native VG.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NativePv {
    pub id: [u8; 32],
    /// lvmetad's `device` hint (0 if none).
    pub devno: u64,
    pub missing: bool,
}

/// A VG as the native host holds it: lvmetad's view of its metadata.
#[derive(Clone, Debug)]
pub struct NativeVg {
    pub cmd: CmdId,
    pub name: String,
    pub id: [u8; 32],
    pub seqno: u32,
    pub update_pending: bool,
    pub system_id: Option<String>,
    pub lock_type: Option<String>,
    /// The VG section, keyed by the VG name.
    pub section: Node,
    pub pvs: Vec<NativePv>,
    pub outdated: Vec<NativePv>,
}

impl NativeVg {
    /// A VG from its metadata section (keyed by its name). None (with LVM's messages in
    /// `log`) when the id is missing or malformed.
    pub fn from_section(cmd: CmdId, section: &Node, log: &mut Log) -> Option<NativeVg> {
        let ch = &section.children[..];
        let id = id_read_format(find_str(ch, "id")?, log)?;
        let pvs_of = |list: &str, log: &mut Log| -> Vec<NativePv> {
            section
                .child(list)
                .map(|l| {
                    l.children
                        .iter()
                        .filter_map(|pv| {
                            let id = id_read_format(find_str(&pv.children, "id")?, log)?;
                            Some(NativePv {
                                id,
                                devno: find_int(&pv.children, "device").unwrap_or(0) as u64,
                                missing: false,
                            })
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let s = |k: &str| find_str(ch, k).map(|v| String::from_utf8_lossy(v).into_owned());
        Some(NativeVg {
            cmd,
            name: String::from_utf8_lossy(&section.key).into_owned(),
            id,
            seqno: find_int(ch, "seqno").unwrap_or(0) as u32,
            update_pending: false,
            system_id: s("system_id"),
            lock_type: s("lock_type"),
            pvs: pvs_of("physical_volumes", log),
            outdated: pvs_of("outdated_pvs", log),
            section: section.clone(),
        })
    }

    /// A VG from metadata text as LVM writes it (`vgname { ... }` first, then
    /// `contents`, `version`, ... which are ignored).
    pub fn from_text(cmd: CmdId, text: &[u8], log: &mut Log) -> Option<NativeVg> {
        let doc = crate::config::parse(text).ok()?;
        let section = doc.iter().find(|n| n.is_section())?;
        NativeVg::from_section(cmd, section, log)
    }
}

/// An entry of a caller's list: a name, and the VG id for vgnameid lists.
pub type ListItem = (String, Option<[u8; 32]>);

/// Registries of the native host's objects and its per-command PV cache.
#[derive(Default)]
pub struct NativeObjects {
    handles: Mutex<HashMap<usize, (Box<u8>, Object)>>,
    sources: Mutex<HashMap<CmdId, SystemDevices>>,
    cache: Mutex<HashMap<CmdId, HashMap<[u8; 32], PvRecord>>>,
    seeded: Mutex<HashSet<CmdId>>,
    lists: Mutex<HashMap<ListId, Vec<ListItem>>>,
    /// Where list appends go instead of `lists` (the C ABI links real `dm_list`s).
    list_hook: std::sync::RwLock<Option<ListHook>>,
}

/// Appends `(cmd, list, name, vgid)` to a caller's list: `str_list_add` without a vgid,
/// `vgnameid_list` with one. Returns false on failure.
pub type ListHook = fn(CmdId, ListId, &str, Option<&[u8; 32]>) -> bool;

enum Object {
    Dev(NativeDev),
    Vg(Box<NativeVg>),
}

fn g<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl NativeObjects {
    fn insert(&self, o: Object) -> usize {
        let b = Box::new(0u8);
        let h = &*b as *const u8 as usize;
        g(&self.handles).insert(h, (b, o));
        h
    }

    /// A handle for a device of `cmd` (the same handle for the same device).
    pub fn dev_handle(&self, cmd: CmdId, devno: u64, path: &str) -> usize {
        let found = g(&self.handles).iter().find_map(|(h, (_, o))| match o {
            Object::Dev(d) if d.cmd == cmd && d.devno == devno && d.path == path => Some(*h),
            _ => None,
        });
        found.unwrap_or_else(|| {
            self.insert(Object::Dev(NativeDev {
                cmd,
                devno,
                path: path.to_string(),
            }))
        })
    }

    pub fn dev(&self, h: usize) -> Option<NativeDev> {
        match g(&self.handles).get(&h) {
            Some((_, Object::Dev(d))) => Some(d.clone()),
            _ => None,
        }
    }

    /// Register a VG; the caller releases it with [`NativeObjects::release`].
    pub fn add_vg(&self, vg: NativeVg) -> VgId {
        self.insert(Object::Vg(Box::new(vg)))
    }

    pub fn is_vg(&self, h: usize) -> bool {
        matches!(g(&self.handles).get(&h), Some((_, Object::Vg(_))))
    }

    pub fn vg(&self, h: VgId) -> Option<NativeVg> {
        match g(&self.handles).get(&h) {
            Some((_, Object::Vg(v))) => Some((**v).clone()),
            _ => None,
        }
    }

    fn with_vg<R>(&self, h: VgId, f: impl FnOnce(&mut NativeVg) -> R) -> Option<R> {
        match g(&self.handles).get_mut(&h) {
            Some((_, Object::Vg(v))) => Some(f(v)),
            _ => None,
        }
    }

    /// Forget a VG handle (`release_vg`).
    pub fn release(&self, h: usize) {
        g(&self.handles).remove(&h);
    }

    /// Forget everything of a destroyed command context.
    pub fn drop_cmd(&self, cmd: CmdId) {
        g(&self.handles).retain(|_, (_, o)| match o {
            Object::Dev(d) => d.cmd != cmd,
            Object::Vg(v) => v.cmd != cmd,
        });
        g(&self.sources).remove(&cmd);
        g(&self.cache).remove(&cmd);
        g(&self.seeded).remove(&cmd);
    }

    /// The PVs the native cache holds for `cmd`, by id.
    pub fn cached_pvs(&self, cmd: CmdId) -> HashMap<[u8; 32], PvRecord> {
        g(&self.cache).get(&cmd).cloned().unwrap_or_default()
    }

    /// Send list appends to `hook` instead of recording them.
    pub fn set_list_hook(&self, hook: ListHook) {
        *self.list_hook.write().unwrap_or_else(|e| e.into_inner()) = Some(hook);
    }

    fn hook(&self) -> Option<ListHook> {
        *self.list_hook.read().unwrap_or_else(|e| e.into_inner())
    }

    /// What the native list operations appended to `list` (name, VG id for vgnameids).
    pub fn list(&self, list: ListId) -> Vec<ListItem> {
        g(&self.lists).get(&list).cloned().unwrap_or_default()
    }
}

impl NativeHost {
    fn with_source<R>(&self, cmd: CmdId, f: impl FnOnce(&mut SystemDevices) -> R) -> Option<R> {
        let mut sources = g(&self.objects.sources);
        if let std::collections::hash_map::Entry::Vacant(e) = sources.entry(cmd) {
            match SystemDevices::new(&self.cmd(cmd).config) {
                Ok(d) => {
                    e.insert(d);
                }
                Err(msgs) => {
                    for m in msgs {
                        self.log(Level::Error, &m);
                    }
                    return None;
                }
            }
        }
        sources.get_mut(&cmd).map(f)
    }

    /// Read the PV on a device (None if it holds none).
    fn read_pv(&self, dev: &NativeDev) -> Option<ScannedPv> {
        let f = std::fs::File::open(&dev.path).ok()?;
        let mut log = Log::new();
        let r = scan_pv(&f, &dev.path, &mut log);
        for m in &log {
            if m.level <= Level::Warn {
                self.log(m.level, &m.text);
            }
        }
        match r {
            Ok(PvScan::Pv(pv)) => Some(pv),
            _ => None,
        }
    }

    fn cfg_str(&self, cmd: CmdId, path: &str) -> Option<String> {
        match self.cmd(cmd).config.find(path)?.first_value()? {
            Value::Str(s) => Some(String::from_utf8_lossy(s).into_owned()),
            _ => None,
        }
    }

    fn pv_dev(&self, cmd: CmdId, pv: &NativePv) -> Option<DevId> {
        let cached = g(&self.objects.cache)
            .get(&cmd)
            .and_then(|c| c.get(&pv.id))
            .map(|r| r.dev);
        cached.filter(|&d| d != 0).or_else(|| {
            (pv.devno != 0)
                .then(|| self.dev_by_devt(cmd, pv.devno))
                .flatten()
        })
    }
}

impl VgHost for NativeHost {
    fn dev_info(&self, dev: DevId) -> Option<(u64, String)> {
        self.objects.dev(dev).map(|d| (d.devno, d.path))
    }

    fn dev_by_devt(&self, cmd: CmdId, devno: u64) -> Option<DevId> {
        let name = self.with_source(cmd, |s| match s.by_devno(devno) {
            Lookup::Found(d) => Some(d.name),
            _ => None,
        })??;
        Some(self.objects.dev_handle(cmd, devno, &name))
    }

    fn fmt_by_name(&self, _cmd: CmdId, name: &str) -> Option<FmtId> {
        (name == "lvm2").then_some(FMT_LVM2)
    }

    fn fmt_name(&self, _fmt: FmtId) -> String {
        "lvm2".into()
    }

    fn pv_cache_info(&self, cmd: CmdId, pvid: &[u8; 32], dev: DevId) -> Option<PvAreas> {
        if let Some(d) = self.objects.dev(dev) {
            if let Some(pv) = self.read_pv(&d) {
                if &pv.label.pvid == pvid {
                    return Some(pv_areas(&pv));
                }
            }
        }
        g(&self.objects.cache)
            .get(&cmd)
            .and_then(|c| c.get(pvid))
            .filter(|r| r.dev == dev)
            .map(|r| r.areas.clone())
    }

    fn lvmcache_add_pv(&self, cmd: CmdId, _fmt: FmtId, pv: &PvRecord) -> bool {
        g(&self.objects.cache)
            .entry(cmd)
            .or_default()
            .insert(pv.pvid, pv.clone());
        true
    }

    fn seed_infos(&self, cl: &Shared, cmd: CmdId) {
        if g(&self.objects.seeded).insert(cmd) {
            cvg::pv_list_to_lvmcache(cl, self, cmd);
        }
    }

    fn vg_info(&self, vg: VgId) -> Option<VgInfo> {
        self.objects.vg(vg).map(|v| VgInfo {
            name: v.name,
            id: v.id,
            seqno: v.seqno,
            update_pending: v.update_pending,
            precommit: true,
            system_id: v.system_id,
            lock_type: v.lock_type,
            cmd: v.cmd,
        })
    }

    fn vg_set_update_pending(&self, vg: VgId, pending: bool) {
        self.objects.with_vg(vg, |v| v.update_pending = pending);
    }

    fn vg_export(&self, vg: VgId, _committed: bool) -> Option<Node> {
        let v = self.objects.vg(vg)?;
        let mut s = v.section;
        // export_vg_to_config_tree writes each PV's current device name
        if let Some(pvs) = s.children.iter_mut().find(|c| c.key == b"physical_volumes") {
            for (pv, np) in pvs.children.iter_mut().zip(v.pvs.iter()) {
                let name = self
                    .pv_dev(v.cmd, np)
                    .and_then(|d| self.dev_info(d))
                    .map(|(_, n)| n)
                    .unwrap_or_else(|| "[unknown]".into());
                if let Some(d) = pv.children.iter_mut().find(|c| c.key == b"device") {
                    d.values = Some(Value::str(&name).into());
                }
            }
        }
        Some(s)
    }

    fn vg_pvs(&self, vg: VgId, _committed: bool) -> Vec<VgPv> {
        let Some(v) = self.objects.vg(vg) else {
            return Vec::new();
        };
        v.pvs
            .iter()
            .map(|pv| {
                let dev = self.pv_dev(v.cmd, pv).unwrap_or(0);
                let label_sector = g(&self.objects.cache)
                    .get(&v.cmd)
                    .and_then(|c| c.get(&pv.id))
                    .map(|r| r.label_sector)
                    .unwrap_or(1);
                VgPv {
                    id: pv.id,
                    dev,
                    fmt: FMT_LVM2,
                    label_sector,
                }
            })
            .collect()
    }

    fn vg_import(
        &self,
        cmd: CmdId,
        _fmt: FmtId,
        _name: &str,
        _vgid: Option<&[u8; 32]>,
        section: &Node,
    ) -> Option<VgId> {
        let mut log = Log::new();
        let vg = NativeVg::from_section(cmd, section, &mut log);
        for m in &log {
            self.log(m.level, &m.text);
        }
        Some(self.objects.add_vg(vg?))
    }

    fn vg_lockd(&self, _cmd: CmdId, vg: VgId) -> Lockd {
        match self.objects.vg(vg).and_then(|v| v.lock_type) {
            Some(t) if t == "sanlock" || t == "dlm" => Lockd::Yes,
            _ => Lockd::No,
        }
    }

    fn vg_rescan(
        &self,
        cl: &Shared,
        cmd: CmdId,
        vg: VgId,
        _vgid: Option<&[u8; 32]>,
    ) -> Option<VgId> {
        let old = self.objects.vg(vg)?;
        self.log(
            Level::Debug,
            &format!("Rescan VG {} to update lvmetad.", old.name),
        );
        self.seed_infos(cl, cmd);
        let mut scan: Vec<NativeDev> = Vec::new();
        let mut drop: Vec<NativeDev> = Vec::new();
        let mut saved: Option<(NativeVg, NativeDev)> = None;
        for pv in &old.pvs {
            let Some(d) = self.pv_dev(cmd, pv).and_then(|h| self.objects.dev(h)) else {
                continue;
            };
            let Some(disk) = self.read_pv(&d) else {
                drop.push(d);
                continue;
            };
            let Some(meta) = disk.best_metadata() else {
                drop.push(d);
                continue;
            };
            scan.push(d.clone());
            let Some(section) = meta.vg_section() else {
                continue;
            };
            let mut log = Log::new();
            let Some(copy) = NativeVg::from_section(cmd, section, &mut log) else {
                continue;
            };
            if copy.name != old.name {
                continue;
            }
            match &saved {
                None => saved = Some((copy, d)),
                Some((s, sd)) if s.seqno != copy.seqno => {
                    self.log(
                        Level::Warn,
                        &format!(
                            "WARNING: inconsistent metadata for VG {} on devices {} seqno {} and {} seqno {}.",
                            old.name, sd.path, s.seqno, d.path, copy.seqno
                        ),
                    );
                    self.log(
                        Level::Warn,
                        "WARNING: temporarily disable lvmetad to repair metadata.",
                    );
                    if copy.seqno > s.seqno {
                        saved = Some((copy, d));
                    }
                }
                Some(_) => {}
            }
        }
        self.objects.release(vg);
        let Some((new, _)) = saved else {
            self.log(
                Level::Error,
                &format!("VG {} not found after rescanning devices.", old.name),
            );
            return None;
        };
        for d in &drop {
            if !cvg::pv_gone(cl, d.devno, &d.path) {
                self.log(
                    Level::Error,
                    &format!("Failed to remove {} from lvmetad.", d.path),
                );
            }
        }
        let seqno = new.seqno;
        let h = self.objects.add_vg(new);
        if seqno != old.seqno {
            for d in &scan {
                if !cvg::pv_gone(cl, d.devno, &d.path) {
                    self.log(
                        Level::Error,
                        &format!("Failed to remove {} from lvmetad.", d.path),
                    );
                }
            }
            self.vg_set_update_pending(h, true);
            if !cvg::vg_update_finish(cl, self, h) {
                self.log(Level::Error, "Failed to update lvmetad with new VG meta");
            }
        }
        Some(h)
    }

    fn vg_finish_lookup(&self, cmd: CmdId, vg: VgId) -> bool {
        let Some(v) = self.objects.vg(vg) else {
            return false;
        };
        let mark = |pvs: &[NativePv]| -> Vec<NativePv> {
            pvs.iter()
                .map(|pv| NativePv {
                    missing: self.pv_dev(cmd, pv).is_none(),
                    ..pv.clone()
                })
                .collect()
        };
        let (pvs, outdated) = (mark(&v.pvs), mark(&v.outdated));
        // lvmcache_update_vg: the VG's PVs now belong to it in the cache
        if let Some(c) = g(&self.objects.cache).get_mut(&cmd) {
            for pv in &v.pvs {
                if let Some(r) = c.get_mut(&pv.id) {
                    r.vgname = v.name.clone();
                    r.vgid = v.id;
                }
            }
        }
        self.objects.with_vg(vg, |v| {
            v.pvs = pvs;
            v.outdated = outdated;
        });
        true
    }

    fn vg_release(&self, vg: VgId) {
        self.objects.release(vg);
    }

    fn cmd_system_id(&self, cmd: CmdId) -> Option<String> {
        match self.cfg_str(cmd, "global/system_id_source").as_deref() {
            Some("lvmlocal") => self.cfg_str(cmd, "local/system_id"),
            _ => None,
        }
    }

    fn system_id_allowed(&self, cmd: CmdId, system_id: Option<&str>) -> bool {
        let Some(s) = system_id.filter(|s| !s.is_empty()) else {
            return true;
        };
        let Some(ours) = self.cmd_system_id(cmd) else {
            return false;
        };
        if ours == s {
            return true;
        }
        self.cmd(cmd)
            .config
            .array("local/extra_system_ids")
            .unwrap_or_default()
            .iter()
            .any(|v| matches!(v, Value::Str(x) if &x[..] == s.as_bytes()))
    }

    fn str_list_add(&self, cmd: CmdId, list: ListId, name: &str) -> bool {
        if let Some(h) = self.objects.hook() {
            return h(cmd, list, name, None);
        }
        let mut l = g(&self.objects.lists);
        let e = l.entry(list).or_default();
        if !e.iter().any(|(n, _)| n == name) {
            e.push((name.to_string(), None));
        }
        true
    }

    fn vgnameid_add(&self, cmd: CmdId, list: ListId, name: &str, vgid: &[u8; 32]) -> bool {
        if let Some(h) = self.objects.hook() {
            return h(cmd, list, name, Some(vgid));
        }
        g(&self.objects.lists)
            .entry(list)
            .or_default()
            .push((name.to_string(), Some(*vgid)));
        true
    }
}
