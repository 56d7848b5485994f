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
use crate::ondisk::export::without_ignored_keys;
use crate::ondisk::summary::id_read_format;
use crate::ondisk::{scan_pv, Log, PvScan, ScannedPv};
use crate::scan::pvscan::{
    label_scan, pv_areas, read_device, vg_export, visible, DeviceSource, Lookup, ScanDevice,
    ScanEntry,
};
use crate::scan::source::SystemDevices;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// The one format the native host knows.
pub const FMT_LVM2: FmtId = 2;

/// The format's orphan VG, where lvmcache files PVs without a VG.
const ORPHAN_VG: &str = "#orphans_lvm2";

/// The orphan VG's name as lvmcache's VG id (padded with NULs).
fn orphan_vgid() -> [u8; 32] {
    let mut v = [0u8; 32];
    v[..ORPHAN_VG.len()].copy_from_slice(ORPHAN_VG.as_bytes());
    v
}

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
    /// Where each command's devices come from (the system's, unless a test set others).
    sources: Mutex<HashMap<CmdId, Box<dyn DeviceSource + Send>>>,
    /// Commands whose devices were set by the caller (never rebuilt from lvm.conf).
    given: Mutex<HashSet<CmdId>>,
    /// Devices looked up and not read yet, with their I/O.
    opened: Mutex<HashMap<DevId, ScanDevice>>,
    /// What the label scan found on each device (`dev->pvid` and lvmcache's info).
    labels: Mutex<HashMap<DevId, ScanEntry>>,
    /// Devices of the last full label scan of each command that hold a duplicate PV.
    duplicates: Mutex<HashMap<CmdId, Vec<String>>>,
    /// `silent_mode()`.
    silent: AtomicBool,
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
    Vg(Arc<NativeVg>),
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
        self.insert(Object::Vg(Arc::new(vg)))
    }

    pub fn is_vg(&self, h: usize) -> bool {
        matches!(g(&self.handles).get(&h), Some((_, Object::Vg(_))))
    }

    /// A VG handle's VG (shared, not copied).
    pub fn vg(&self, h: VgId) -> Option<Arc<NativeVg>> {
        match g(&self.handles).get(&h) {
            Some((_, Object::Vg(v))) => Some(v.clone()),
            _ => None,
        }
    }

    fn with_vg<R>(&self, h: VgId, f: impl FnOnce(&mut NativeVg) -> R) -> Option<R> {
        match g(&self.handles).get_mut(&h) {
            Some((_, Object::Vg(v))) => Some(f(Arc::make_mut(v))),
            _ => None,
        }
    }

    /// Forget a VG handle (`release_vg`).
    pub fn release(&self, h: usize) {
        g(&self.handles).remove(&h);
    }

    /// Forget everything of a destroyed command context.
    pub fn drop_cmd(&self, cmd: CmdId) {
        let mut gone = HashSet::new();
        g(&self.handles).retain(|h, (_, o)| {
            let keep = match o {
                Object::Dev(d) => d.cmd != cmd,
                Object::Vg(v) => v.cmd != cmd,
            };
            if !keep {
                gone.insert(*h);
            }
            keep
        });
        g(&self.opened).retain(|h, _| !gone.contains(h));
        g(&self.labels).retain(|h, _| !gone.contains(h));
        g(&self.duplicates).remove(&cmd);
        g(&self.sources).remove(&cmd);
        g(&self.given).remove(&cmd);
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
    /// Take `cmd`'s devices from `source` instead of the system (a seam for tests and
    /// for callers with their own device list).
    pub fn set_devices(&self, cmd: CmdId, source: Box<dyn DeviceSource + Send>) {
        g(&self.objects.sources).insert(cmd, source);
        g(&self.objects.given).insert(cmd);
    }

    fn with_source<R>(&self, cmd: CmdId, f: impl FnOnce(&mut dyn DeviceSource) -> R) -> Option<R> {
        let mut sources = g(&self.objects.sources);
        if let std::collections::hash_map::Entry::Vacant(e) = sources.entry(cmd) {
            match SystemDevices::new(&self.cmd(cmd).config) {
                Ok(d) => {
                    e.insert(Box::new(d));
                }
                Err(msgs) => {
                    for m in msgs {
                        self.log(Level::Error, &m);
                    }
                    return None;
                }
            }
        }
        sources.get_mut(&cmd).map(|s| f(&mut **s))
    }

    /// A handle for a device found by the source, keeping its I/O until it is read.
    fn found(&self, cmd: CmdId, d: ScanDevice) -> DevId {
        let h = self.objects.dev_handle(cmd, d.devno, &d.name);
        g(&self.objects.opened).insert(h, d);
        h
    }

    /// Print what the reader logged that LVM shows.
    fn emit(&self, log: &Log) {
        for m in log {
            self.log(m.level, &m.text);
        }
    }

    /// Record a label-scan result: the device's entry, and for a PV lvmcache's info.
    fn record(&self, cmd: CmdId, dev: DevId, entry: ScanEntry) {
        if let ScanEntry::Pv(pv) = &entry {
            let (vgname, vgid) = match pv.best_metadata() {
                Some(m) => (m.summary.name().into_owned(), m.summary.vgid),
                None => (ORPHAN_VG.to_string(), orphan_vgid()),
            };
            let rec = PvRecord {
                pvid: pv.label.pvid,
                vgid,
                vgname,
                dev,
                label_sector: pv.label.sector,
                areas: pv_areas(pv),
            };
            g(&self.objects.cache)
                .entry(cmd)
                .or_default()
                .insert(rec.pvid, rec);
        }
        g(&self.objects.labels).insert(dev, entry);
    }

    /// The device behind a handle, for reading: as looked up, or found again by path.
    fn open_dev(&self, dev: DevId) -> Option<ScanDevice> {
        if let Some(d) = g(&self.objects.opened).remove(&dev) {
            return Some(d);
        }
        let nd = self.objects.dev(dev)?;
        let again = self.with_source(nd.cmd, |s| match s.by_path(&nd.path) {
            Lookup::Found(d) if d.devno == nd.devno => Some(d),
            _ => None,
        });
        if let Some(Some(d)) = again {
            return Some(d);
        }
        match std::fs::File::open(&nd.path) {
            Ok(f) => Some(ScanDevice {
                devno: nd.devno,
                name: nd.path,
                io: Box::new(f),
            }),
            Err(_) => {
                self.log(Level::Error, &format!("{}: open failed", nd.path));
                None
            }
        }
    }

    /// Read a device not read by a label scan yet (`label_scan_devs` of one device).
    fn scan_one(&self, cmd: CmdId, dev: DevId) {
        if g(&self.objects.labels).contains_key(&dev) {
            return;
        }
        if let Some(d) = self.open_dev(dev) {
            let (entry, log) = read_device(&d);
            self.emit(&visible(&log).cloned().collect());
            self.record(cmd, dev, entry);
        }
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
        let d = self.with_source(cmd, |s| match s.by_devno(devno) {
            Lookup::Found(d) => Some(d),
            _ => None,
        })??;
        Some(self.found(cmd, d))
    }

    fn dev_lookup_path(&self, cmd: CmdId, path: &str) -> DevLookup {
        match self.with_source(cmd, |s| s.by_path(path)) {
            Some(Lookup::Found(d)) => DevLookup::Found(self.found(cmd, d)),
            Some(Lookup::Filtered(devno)) => DevLookup::Filtered(devno),
            Some(Lookup::NotFound) | None => DevLookup::NotFound,
        }
    }

    fn label_scan_all(&self, cmd: CmdId) -> Option<Vec<DevId>> {
        // a full scan sees the devices as they are now (`dev_cache_scan`)
        if !g(&self.objects.given).contains(&cmd) {
            g(&self.objects.sources).remove(&cmd);
        }
        let devs = self.with_source(cmd, |s| s.all()).unwrap_or_default();
        let (scanned, log) = label_scan(&devs);
        self.emit(&log);
        let mut dups = Vec::new();
        let mut out = Vec::with_capacity(scanned.len());
        for sd in scanned {
            let h = self.objects.dev_handle(cmd, sd.devno, &sd.name);
            if let ScanEntry::NoInfo {
                duplicate: true, ..
            } = sd.entry
            {
                dups.push(sd.name.clone());
            }
            self.record(cmd, h, sd.entry);
            out.push(h);
        }
        g(&self.objects.duplicates).insert(cmd, dups);
        Some(out)
    }

    fn label_scan_devs(&self, cmd: CmdId, devs: &[DevId]) {
        for &d in devs {
            g(&self.objects.labels).remove(&d);
            self.scan_one(cmd, d);
        }
    }

    fn dev_label(&self, cmd: CmdId, dev: DevId) -> DevLabel {
        self.scan_one(cmd, dev);
        match g(&self.objects.labels).get(&dev) {
            Some(ScanEntry::Pv(pv)) => DevLabel {
                pvid: pv.label.pvid.to_vec(),
                has_info: true,
                has_label: true,
                fmt: FMT_LVM2,
                label_sector: pv.label.sector,
            },
            Some(ScanEntry::NoInfo { pvid, .. }) => DevLabel {
                pvid: pvid.as_bytes().to_vec(),
                ..DevLabel::default()
            },
            None => DevLabel::default(),
        }
    }

    fn dev_read_vg(&self, cmd: CmdId, dev: DevId) -> Option<VgId> {
        // LVM imports the VG from the text, so keys its import does not read are not
        // part of the VG it later exports to lvmetad
        let section = match g(&self.objects.labels).get(&dev) {
            Some(ScanEntry::Pv(pv)) => without_ignored_keys(pv.best_metadata()?.vg_section()?),
            _ => return None,
        };
        let mut log = Log::new();
        let vg = NativeVg::from_section(cmd, &section, &mut log);
        self.emit(&log);
        Some(self.objects.add_vg(vg?))
    }

    fn label_scan_invalidate(&self, dev: DevId) {
        g(&self.objects.labels).remove(&dev);
    }

    fn duplicate_check(&self, cl: &Shared, cmd: CmdId) -> bool {
        let dups = g(&self.objects.duplicates).remove(&cmd).unwrap_or_default();
        if dups.is_empty() {
            return false;
        }
        for d in &dups {
            self.log(
                Level::Warn,
                &format!("WARNING: found device with duplicate {}", d),
            );
        }
        self.log(
            Level::Warn,
            "WARNING: Disabling lvmetad cache which does not support duplicate PVs.",
        );
        let mut c = cl.lock().unwrap_or_else(|e| e.into_inner());
        c.set_disabled(crate::client::DISABLE_REASON_DUPLICATES);
        c.make_unused(Some(cmd));
        true
    }

    fn silent(&self) -> bool {
        self.objects.silent.load(Ordering::Relaxed)
    }

    fn set_silent(&self, silent: bool) {
        self.objects.silent.store(silent, Ordering::Relaxed);
    }

    fn fmt_by_name(&self, _cmd: CmdId, name: &str) -> Option<FmtId> {
        (name == "lvm2").then_some(FMT_LVM2)
    }

    fn fmt_name(&self, _fmt: FmtId) -> String {
        "lvm2".into()
    }

    fn pv_cache_info(&self, cmd: CmdId, pvid: &[u8; 32], dev: DevId) -> Option<PvAreas> {
        // lvmcache's info from the label scan, else the device read now
        if let Some(ScanEntry::Pv(pv)) = g(&self.objects.labels).get(&dev) {
            if &pv.label.pvid == pvid {
                return Some(pv_areas(pv));
            }
        }
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
            name: v.name.clone(),
            id: v.id,
            seqno: v.seqno,
            update_pending: v.update_pending,
            precommit: true,
            system_id: v.system_id.clone(),
            lock_type: v.lock_type.clone(),
            cmd: v.cmd,
        })
    }

    fn vg_set_update_pending(&self, vg: VgId, pending: bool) {
        self.objects.with_vg(vg, |v| v.update_pending = pending);
    }

    fn vg_export(&self, vg: VgId, _committed: bool) -> Option<Node> {
        let v = self.objects.vg(vg)?;
        // export_vg_to_config_tree writes each PV's current device name
        let names: HashMap<String, String> = v
            .pvs
            .iter()
            .filter_map(|np| {
                let (_, name) = self.dev_info(self.pv_dev(v.cmd, np)?)?;
                Some((crate::client::id::format_id(&np.id), name))
            })
            .collect();
        let mut s = vg_export(&v.section, &names);
        s.key = v.section.key.clone();
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
        match self.objects.vg(vg).and_then(|v| v.lock_type.clone()) {
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
            if !crate::client::scan::pv_gone(cl, d.devno, &d.path) {
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
                if !crate::client::scan::pv_gone(cl, d.devno, &d.path) {
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
