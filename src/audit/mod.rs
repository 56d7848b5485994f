//! `lvmetad-audit`: compare what lvmetad serves with what is on the devices, and repair
//! the cache with the requests LVM itself sends.
//!
//! - The devices are read by the one read-only label scan
//!   ([`crate::scan::pvscan::label_scan`]) over the system's devices and LVM's filters
//!   ([`crate::scan::source::SystemDevices`]): exactly what `lvmetad-pvscan` reads.
//! - lvmetad's state is read through the protocol (`get_global_info`, `pv_list`,
//!   `vg_list`, `vg_lookup`) by [`crate::client::Client`].
//! - LVM's file locks ([`crate::scan::lock`]) are taken as LVM's readers take them: the
//!   global lock shared for the whole audit, each VG's lock shared while that VG is
//!   compared. A VG that differs is read again (devices and cache) under its lock, so a
//!   change LVM was making meanwhile is not reported half-done.
//! - Repair goes through `crate::client::scan` with the native host: `pvscan_single` /
//!   `pv_gone` for the devices that differ, or `pvscan_all_devs` (a full `pvscan
//!   --cache`) when the token does not match, the cache is disabled or an update never
//!   finished. Nothing is ever written to a device, and no VG is invalidated.
//!
//! What is compared and reported, the output and the JSON schema: docs/audit.md.

pub mod json;

use crate::client::id::format_id;
use crate::client::port::vg::VgHost;
use crate::client::port::{Host, Level};
use crate::client::scan::{pv_gone, pvscan_all_devs, pvscan_single};
use crate::client::token::filter_token;
use crate::client::vg::Shared;
use crate::client::{Client, Field};
use crate::config::{find, find_int, find_str, Node, Value};
use crate::host::native::NativeHost;
use crate::protocol::{Request, TOKEN_UPDATE_IN_PROGRESS};
use crate::scan::devices::{major, minor};
use crate::scan::lock::{Locks, Mode};
use crate::scan::lvmconf::LvmConfig;
use crate::scan::pvscan::{
    label_scan, read_device, vg_export, DeviceSource, ScanDevice, ScanEntry, Scanned,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// LVM's name of the orphan PVs' lock (`VG_ORPHANS`); no VG can be named so.
const ORPHANS: &str = "#orphans";

/// The command id the audit registers with the native host.
pub const CMD: crate::client::port::CmdId = 1;

/// What kind of difference (the `kind` of the JSON schema).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// The daemon's token is "update in progress" (after `lvmetad_update_wait_time`).
    UpdateInProgress,
    /// lvmetad is disabled; `cached` holds LVM's reason text.
    Disabled,
    /// The daemon's token is not this host's `global_filter` token.
    TokenMismatch,
    /// A PV on a device that lvmetad does not know.
    PvNotCached,
    /// A PV lvmetad knows that is on no device.
    PvGone,
    /// A PV lvmetad knows on another device number.
    PvDeviceChanged,
    /// A PV in another VG (or orphan) on disk than in lvmetad.
    PvVgChanged,
    /// A PV found on more than one device.
    DuplicatePv,
    /// A VG on disk that lvmetad does not know.
    VgNotCached,
    /// A VG lvmetad knows that is on no device.
    VgGone,
    /// A VG whose on-disk seqno differs from lvmetad's.
    VgSeqno,
    /// A VG whose metadata differs from lvmetad's at the same seqno (split brain).
    VgContent,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::UpdateInProgress => "update_in_progress",
            Kind::Disabled => "disabled",
            Kind::TokenMismatch => "token_mismatch",
            Kind::PvNotCached => "pv_not_cached",
            Kind::PvGone => "pv_gone",
            Kind::PvDeviceChanged => "pv_device_changed",
            Kind::PvVgChanged => "pv_vg_changed",
            Kind::DuplicatePv => "duplicate_pv",
            Kind::VgNotCached => "vg_not_cached",
            Kind::VgGone => "vg_gone",
            Kind::VgSeqno => "vg_seqno",
            Kind::VgContent => "vg_content",
        }
    }

    /// A difference of the whole cache (repaired by a full rescan).
    pub fn is_global(self) -> bool {
        matches!(
            self,
            Kind::UpdateInProgress | Kind::Disabled | Kind::TokenMismatch
        )
    }
}

/// One difference between the devices and lvmetad.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    pub kind: Kind,
    /// The VG's name (on disk, else in lvmetad), when a VG is involved.
    pub vg: Option<String>,
    /// The PV's uuid (dashed), when a PV is involved.
    pub pv_uuid: Option<String>,
    /// The device's path, when there is one.
    pub device: Option<String>,
    /// The device number on disk, when a device is involved.
    pub devno: Option<u64>,
    /// What lvmetad has (seqno, device number `M:m`, VG name, token, reason).
    pub cached: Option<String>,
    /// What the devices have.
    pub on_disk: Option<String>,
}

fn mm(devno: u64) -> String {
    format!("{}:{}", major(devno), minor(devno))
}

impl Difference {
    fn new(kind: Kind) -> Difference {
        Difference {
            kind,
            vg: None,
            pv_uuid: None,
            device: None,
            devno: None,
            cached: None,
            on_disk: None,
        }
    }

    /// The report line (without LVM's two-space indent).
    pub fn message(&self) -> String {
        let vg = self.vg.as_deref().unwrap_or("");
        let pv = self.pv_uuid.as_deref().unwrap_or("");
        let dev = self.device.as_deref().unwrap_or("[unknown]");
        let cached = self.cached.as_deref().unwrap_or("");
        let disk = self.on_disk.as_deref().unwrap_or("");
        let in_vg = if vg.is_empty() {
            String::new()
        } else {
            format!(" in VG {}", vg)
        };
        match self.kind {
            Kind::UpdateInProgress => {
                "lvmetad is being updated: its token is \"update in progress\".".into()
            }
            Kind::Disabled => format!("lvmetad is disabled because {}.", cached),
            Kind::TokenMismatch => format!(
                "lvmetad's token \"{}\" does not match this host's global_filter (\"{}\").",
                cached, disk
            ),
            Kind::PvNotCached => format!("PV {} on {}{} is not known to lvmetad.", pv, dev, in_vg),
            Kind::PvGone => format!(
                "PV {}{} cached by lvmetad on device {} was not found on any device.",
                pv, in_vg, cached
            ),
            Kind::PvDeviceChanged => format!(
                "PV {} on {}{} is device {}, lvmetad has it on device {}.",
                pv, dev, in_vg, disk, cached
            ),
            Kind::PvVgChanged => format!(
                "PV {} on {} is {} on disk, lvmetad has it {}.",
                pv,
                dev,
                if disk.is_empty() {
                    "an orphan".to_string()
                } else {
                    format!("in VG {}", disk)
                },
                if cached.is_empty() {
                    "as an orphan".to_string()
                } else {
                    format!("in VG {}", cached)
                }
            ),
            Kind::DuplicatePv => format!("PV {} on {} was already found on {}.", pv, dev, disk),
            Kind::VgNotCached => {
                format!("VG {} on {} (PV {}) is not known to lvmetad.", vg, dev, pv)
            }
            Kind::VgGone => format!("VG {} cached by lvmetad was not found on any device.", vg),
            Kind::VgSeqno => format!(
                "VG {} on {} (PV {}) has seqno {} on disk, lvmetad has seqno {}.",
                vg, dev, pv, disk, cached
            ),
            Kind::VgContent => format!(
                "VG {} on {} (PV {}) differs from lvmetad's copy at the same seqno {}.",
                vg, dev, pv, disk
            ),
        }
    }
}

/// The devices' side: what the label scan found.
#[derive(Default)]
struct DiskPv {
    uuid: String,
    devno: u64,
    name: String,
    /// The VG (id) holding the PV, from its own metadata or another PV's.
    vgid: Option<String>,
}

struct DiskVg {
    name: String,
    seqno: u32,
    section: Node,
    /// The PV uuids the metadata lists.
    pv_ids: Vec<String>,
}

#[derive(Default)]
struct DiskView {
    pvs: BTreeMap<String, DiskPv>,
    vgs: BTreeMap<String, DiskVg>,
    /// (uuid, duplicate device, first device)
    dups: Vec<(String, String, String)>,
    /// PV uuid -> device name, for the export.
    names: HashMap<String, String>,
}

fn disk_view(devs: &[ScanDevice]) -> DiskView {
    build_view(&label_scan(devs).0)
}

fn build_view(scanned: &[Scanned]) -> DiskView {
    let mut v = DiskView::default();
    let mut first: HashMap<String, String> = HashMap::new();
    for s in scanned {
        match &s.entry {
            ScanEntry::Pv(pv) => {
                let uuid = pv.label.pv_uuid();
                first.insert(pv.label.pvid_str(), s.name.clone());
                let mut vgid = None;
                if let Some(m) = pv.best_metadata() {
                    let id = m.summary.vg_uuid();
                    vgid = Some(id.clone());
                    if let Some(sec) = m.vg_section() {
                        let newer = v.vgs.get(&id).map_or(true, |g| m.summary.seqno > g.seqno);
                        if newer {
                            v.vgs.insert(
                                id,
                                DiskVg {
                                    name: m.summary.name().into_owned(),
                                    seqno: m.summary.seqno,
                                    section: sec.clone(),
                                    pv_ids: pv_ids(sec),
                                },
                            );
                        }
                    }
                }
                v.names.insert(uuid.clone(), s.name.clone());
                v.pvs.insert(
                    uuid.clone(),
                    DiskPv {
                        uuid,
                        devno: s.devno,
                        name: s.name.clone(),
                        vgid,
                    },
                );
            }
            ScanEntry::NoInfo {
                pvid,
                duplicate: true,
            } => {
                let uuid = format_id_str(pvid);
                let f = first.get(pvid).cloned().unwrap_or_default();
                v.dups.push((uuid, s.name.clone(), f));
            }
            ScanEntry::NoInfo { .. } => {}
        }
    }
    // PVs without metadata of their own belong to the VG whose metadata lists them
    let members: Vec<(String, String)> = v
        .vgs
        .iter()
        .flat_map(|(id, g)| g.pv_ids.iter().map(move |p| (p.clone(), id.clone())))
        .collect();
    for (pv, vgid) in members {
        if let Some(p) = v.pvs.get_mut(&pv) {
            if p.vgid.is_none() {
                p.vgid = Some(vgid);
            }
        }
    }
    v
}

fn format_id_str(raw: &str) -> String {
    let b = raw.as_bytes();
    if b.len() == 32 {
        let mut a = [0u8; 32];
        a.copy_from_slice(b);
        format_id(&a)
    } else {
        raw.to_string()
    }
}

fn pv_ids(section: &Node) -> Vec<String> {
    section
        .child("physical_volumes")
        .map(|pvs| {
            pvs.children
                .iter()
                .filter_map(|p| find_str(&p.children, "id"))
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// lvmetad's side.
struct CachedPv {
    devno: u64,
    vgid: Option<String>,
}

#[derive(Default)]
struct CacheView {
    pvs: BTreeMap<String, CachedPv>,
    /// VG id -> name
    vgs: BTreeMap<String, String>,
}

/// Why an audit could not be done (exit status 2).
#[derive(Debug)]
pub struct Failure(pub String);

fn request(
    cl: &Shared,
    id: Request,
    fields: &[Field<'_>],
) -> Result<crate::client::DaemonReply, Failure> {
    let mut c = cl.lock().unwrap_or_else(|e| e.into_inner());
    let r = c.send(id, fields);
    if !c.handle_reply(&r, id, "", None) {
        return Err(Failure(format!(
            "Failed to read lvmetad's state ({}).",
            id.name()
        )));
    }
    Ok(r)
}

fn cache_view(cl: &Shared) -> Result<CacheView, Failure> {
    let mut v = CacheView::default();
    let r = request(cl, Request::PvList, &[])?;
    let tree = r.tree.as_deref().unwrap_or(&[]);
    if let Some(pvs) = find(tree, "physical_volumes") {
        for p in pvs.children.iter() {
            let Some(id) = find_str(&p.children, "id") else {
                continue;
            };
            let vgid =
                find_str(&p.children, "vgid").map(|s| String::from_utf8_lossy(s).into_owned());
            v.pvs.insert(
                String::from_utf8_lossy(id).into_owned(),
                CachedPv {
                    devno: find_int(&p.children, "device").unwrap_or(0) as u64,
                    vgid,
                },
            );
        }
    }
    let r = request(cl, Request::VgList, &[])?;
    let tree = r.tree.as_deref().unwrap_or(&[]);
    if let Some(vgs) = find(tree, "volume_groups") {
        for g in vgs.children.iter() {
            let name = find_str(&g.children, "name").unwrap_or(b"");
            v.vgs.insert(
                String::from_utf8_lossy(&g.key).into_owned(),
                String::from_utf8_lossy(name).into_owned(),
            );
        }
    }
    Ok(v)
}

/// lvmetad's metadata of a VG (`vg_lookup` by id and name): None when it has none.
fn cached_metadata(cl: &Shared, vgid: &str, name: &str) -> Result<Option<Node>, Failure> {
    let mut c = cl.lock().unwrap_or_else(|e| e.into_inner());
    let r = c.send(
        Request::VgLookup,
        &[
            Field::Str("uuid", vgid.as_bytes()),
            Field::Str("name", name.as_bytes()),
        ],
    );
    let mut found = 0;
    if !c.handle_reply(&r, Request::VgLookup, vgid, Some(&mut found)) {
        return Err(Failure(
            "Failed to read lvmetad's state (vg_lookup).".into(),
        ));
    }
    if found != 1 {
        return Ok(None);
    }
    Ok(find(r.tree.as_deref().unwrap_or(&[]), "metadata")
        .filter(|n| n.is_section())
        .cloned())
}

/// The keys lvmetad merges into each PV entry of a VG from the PV's `pvmeta` (besides
/// `id` and `dev_size`, which it leaves out): they are not part of the VG metadata.
fn is_pvmeta_key(n: &Node) -> bool {
    let k: &[u8] = &n.key;
    let indexed = |p: &[u8]| k.starts_with(p) && k[p.len()..].iter().all(|c| c.is_ascii_digit());
    (k == b"device" && matches!(n.first_value(), Some(Value::Int(_))))
        || k == b"format"
        || k == b"label_sector"
        || k == b"ext_version"
        || k == b"ext_flags"
        || indexed(b"mda")
        || indexed(b"da")
        || indexed(b"ba")
}

/// A VG's metadata with what lvmetad adds taken out (`outdated_pvs`, the PVs' merged
/// pvmeta, the `MISSING` status flag) and the device name hints dropped (each LVM
/// command writes the name it knows the device by).
fn normalise(meta: &Node) -> Node {
    let mut m = meta.clone();
    m.key = "metadata".into();
    let kept: Vec<Node> = m
        .children
        .iter()
        .filter(|c| c.key != b"outdated_pvs")
        .cloned()
        .collect();
    m.children = kept.into();
    if let Some(pvs) = m.children.iter_mut().find(|c| c.key == b"physical_volumes") {
        for pv in pvs.children.iter_mut() {
            let kept: Vec<Node> = pv
                .children
                .iter()
                .filter(|c| !is_pvmeta_key(c) && c.key != b"device")
                .map(|c| {
                    let mut c = c.clone();
                    if c.key == b"status" {
                        if let Some(vs) = &c.values {
                            let v: Vec<Value> = vs
                                .iter()
                                .filter(|v| !matches!(v, Value::Str(s) if s.as_ref() == b"MISSING"))
                                .cloned()
                                .collect();
                            c.values = Some(if v.is_empty() {
                                crate::config::Values::one(Value::EmptyArray)
                            } else {
                                v.into()
                            });
                        }
                    }
                    c
                })
                .collect();
            pv.children = kept.into();
        }
    }
    m
}

/// The audit's command: configuration, host, client, locks.
pub struct Audit {
    pub cfg: LvmConfig,
    pub host: std::sync::Arc<NativeHost>,
    pub client: Shared,
    /// How long to wait for a lock.
    pub lock_timeout: Duration,
    locks: Locks,
}

/// What a run found and did.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// The differences found.
    pub differences: Vec<Difference>,
    /// After `--repair`: what was done and the differences left.
    pub repair: Option<Repaired>,
}

/// A repair.
#[derive(Clone, Debug, Default)]
pub struct Repaired {
    /// "full" (a full rescan) or "devices".
    pub mode: &'static str,
    /// Devices rescanned (`pvscan_single`) and forgotten (`pv_gone`), by number.
    pub rescanned: Vec<String>,
    pub forgotten: Vec<String>,
    /// Whether every request succeeded.
    pub ok: bool,
    /// The differences of the audit run after the repair.
    pub remaining: Vec<Difference>,
}

impl Outcome {
    /// 0: the cache agrees (after repair, if asked), 1: differences.
    pub fn status(&self) -> i32 {
        let left = match &self.repair {
            Some(r) => !r.remaining.is_empty() || !r.ok,
            None => !self.differences.is_empty(),
        };
        i32::from(left)
    }
}

impl Audit {
    /// Set up as `lvmetad-pvscan` does: the client connected as LVM's `_init_lvmetad`
    /// does it, locks as `init_locking`. Fails when lvmetad is not in use or not
    /// reachable, or the locking cannot be set up.
    pub fn new(
        cfg: LvmConfig,
        host: std::sync::Arc<NativeHost>,
        lock_timeout: Duration,
    ) -> Result<Audit, Failure> {
        let log = |l: Level, m: &str| host.log(l, m);
        // poll the locks without blocking until the timeout
        let mut lock_cfg = cfg.clone();
        lock_cfg
            .push_override("global { wait_for_locks = 0 }")
            .map_err(|e| Failure(e.to_string()))?;
        let locks = Locks::init(&lock_cfg, &log)
            .ok_or_else(|| Failure("Locking type could not be initialised.".into()))?;
        host.register(
            CMD,
            std::sync::Arc::new(crate::host::native::NativeCmd::new(
                cfg.clone(),
                "lvmetad-audit",
            )),
        );
        let mut client = Client::new(host.clone() as std::sync::Arc<dyn Host>);
        crate::host::native::init_connections(&mut client, &cfg, CMD);
        if !client.used() {
            return Err(Failure(format!(
                "lvmetad is not in use (socket {}): nothing to audit.",
                client.socket_path().display()
            )));
        }
        Ok(Audit {
            cfg,
            host,
            client: std::sync::Mutex::new(client),
            lock_timeout,
            locks,
        })
    }

    fn client(&self) -> std::sync::MutexGuard<'_, Client> {
        self.client.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Take a lock, retrying without blocking until the timeout.
    fn take(&mut self, vg: Option<&str>, mode: Mode) -> Result<(), Failure> {
        let start = Instant::now();
        let last = std::cell::RefCell::new(String::new());
        let host = self.host.clone();
        loop {
            let quiet = |l: Level, m: &str| {
                if l <= Level::Warn {
                    *last.borrow_mut() = m.to_string();
                } else {
                    host.log(l, m);
                }
            };
            let ok = match vg {
                None => self.locks.lock_global(mode, &quiet),
                Some(ORPHANS) => self.locks.lock_orphans(mode, &quiet),
                Some(n) => self.locks.lock_vg(n, mode, &quiet),
            };
            if ok {
                return Ok(());
            }
            if start.elapsed() >= self.lock_timeout {
                let l = last.borrow();
                if !l.is_empty() {
                    self.host.log(Level::Error, &l);
                }
                return Err(Failure(match vg {
                    None => format!(
                        "Unable to obtain global lock within {} seconds.",
                        self.lock_timeout.as_secs()
                    ),
                    Some(n) => format!(
                        "Can't get lock for {} within {} seconds.",
                        n,
                        self.lock_timeout.as_secs()
                    ),
                }));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn release(&mut self, vg: Option<&str>) {
        let host = self.host.clone();
        let log = |l: Level, m: &str| host.log(l, m);
        let file = match vg {
            None => "P_global".to_string(),
            Some(ORPHANS) => "P_orphans".to_string(),
            Some(n) => format!("V_{}", n),
        };
        self.locks.unlock(&file, &log);
    }

    /// The cache-wide differences: update in progress, disabled, token mismatch.
    fn global(&mut self) -> Vec<Difference> {
        let mut out = Vec::new();
        let mut c = self.client();
        if c.is_updating(true) {
            out.push(Difference::new(Kind::UpdateInProgress));
            return out;
        }
        if let Some(r) = c.is_disabled() {
            let mut d = Difference::new(Kind::Disabled);
            d.cached = Some(r.as_str().to_string());
            out.push(d);
        }
        let reply = c.get_global_info();
        let ours = filter_token(self.cfg.array("devices/global_filter").as_deref());
        let theirs = reply.str("token").unwrap_or("none").to_string();
        if theirs != ours && theirs != TOKEN_UPDATE_IN_PROGRESS {
            let mut d = Difference::new(Kind::TokenMismatch);
            d.cached = Some(theirs);
            d.on_disk = Some(ours);
            out.push(d);
        }
        out
    }

    /// Audit once, under the global lock (shared). With `devs`, read those devices
    /// instead of the system's (a seam for tests).
    pub fn audit(&mut self, source: &mut dyn DeviceSource) -> Result<Vec<Difference>, Failure> {
        self.take(None, Mode::Read)?;
        let r = self.audit_locked(source);
        self.release(None);
        r
    }

    fn audit_locked(&mut self, source: &mut dyn DeviceSource) -> Result<Vec<Difference>, Failure> {
        let global = self.global();
        if !global.is_empty() {
            // the cache is not usable as it is: its contents are not compared
            return Ok(global);
        }
        let devs = source.all();
        let mut disk = disk_view(&devs);
        let mut cache = cache_view(&self.client)?;
        let mut out = Vec::new();
        for (uuid, dev, first) in &disk.dups {
            let mut d = Difference::new(Kind::DuplicatePv);
            d.pv_uuid = Some(uuid.clone());
            d.device = Some(dev.clone());
            d.on_disk = Some(first.clone());
            out.push(d);
        }
        // every VG by name, each compared under its lock
        let mut names: BTreeMap<String, ()> = BTreeMap::new();
        for g in disk.vgs.values() {
            names.insert(g.name.clone(), ());
        }
        for n in cache.vgs.values() {
            names.insert(n.clone(), ());
        }
        for name in names.keys() {
            self.take(Some(name), Mode::Read)?;
            let mut diffs = self.compare_vg(name, &disk, &cache);
            if let Ok(ref d) = diffs {
                if !d.is_empty() {
                    // read both sides again under the lock before reporting
                    reread(&mut disk, &devs, name, &cache);
                    cache = cache_view(&self.client)?;
                    diffs = self.compare_vg(name, &disk, &cache);
                }
            }
            self.release(Some(name));
            out.extend(diffs?);
        }
        // the orphans under their lock, read again before a difference is reported
        self.take(Some(ORPHANS), Mode::Read)?;
        let mut diffs = self.compare_orphans(&disk, &cache);
        if !diffs.is_empty() {
            let which: BTreeSet<u64> = diffs
                .iter()
                .flat_map(|d| {
                    let cached = d.pv_uuid.as_ref().and_then(|u| cache.pvs.get(u));
                    d.devno.into_iter().chain(cached.map(|c| c.devno))
                })
                .collect();
            reread_devices(&mut disk, &devs, &which, None);
            cache = match cache_view(&self.client) {
                Ok(c) => c,
                Err(e) => {
                    self.release(Some(ORPHANS));
                    return Err(e);
                }
            };
            diffs = self.compare_orphans(&disk, &cache);
        }
        self.release(Some(ORPHANS));
        out.extend(diffs);
        Ok(out)
    }

    fn compare_vg(
        &self,
        name: &str,
        disk: &DiskView,
        cache: &CacheView,
    ) -> Result<Vec<Difference>, Failure> {
        let mut out = Vec::new();
        let disk_ids: Vec<&String> = disk
            .vgs
            .iter()
            .filter(|(_, g)| g.name == name)
            .map(|(id, _)| id)
            .collect();
        let cache_ids: Vec<&String> = cache
            .vgs
            .iter()
            .filter(|(_, n)| n.as_str() == name)
            .map(|(id, _)| id)
            .collect();
        let mut ids: BTreeSet<&String> = disk_ids.iter().copied().collect();
        ids.extend(cache_ids.iter().copied());
        for id in ids {
            let first_pv = |g: &DiskVg| -> (Option<String>, Option<String>, Option<u64>) {
                let p = g.pv_ids.iter().find_map(|u| disk.pvs.get(u));
                (
                    p.map(|p| p.uuid.clone()),
                    p.map(|p| p.name.clone()),
                    p.map(|p| p.devno),
                )
            };
            match (disk.vgs.get(id), cache.vgs.contains_key(id)) {
                (Some(g), false) => {
                    let mut d = Difference::new(Kind::VgNotCached);
                    d.vg = Some(name.to_string());
                    (d.pv_uuid, d.device, d.devno) = first_pv(g);
                    d.on_disk = Some(g.seqno.to_string());
                    out.push(d);
                }
                (None, true) => {
                    let mut d = Difference::new(Kind::VgGone);
                    d.vg = Some(name.to_string());
                    out.push(d);
                }
                (Some(g), true) => {
                    let meta = cached_metadata(&self.client, id, name)?;
                    let cached_seqno = meta
                        .as_ref()
                        .and_then(|m| find_int(&m.children, "seqno"))
                        .unwrap_or(-1);
                    let mut d = Difference::new(Kind::VgSeqno);
                    d.vg = Some(name.to_string());
                    (d.pv_uuid, d.device, d.devno) = first_pv(g);
                    d.on_disk = Some(g.seqno.to_string());
                    if cached_seqno != g.seqno as i64 {
                        d.cached = Some(cached_seqno.to_string());
                        out.push(d);
                    } else if let Some(m) = meta {
                        let ours = normalise(&vg_export(&g.section, &disk.names));
                        if normalise(&m) != ours {
                            d.kind = Kind::VgContent;
                            d.cached = Some(cached_seqno.to_string());
                            out.push(d);
                        }
                    }
                }
                (None, false) => {}
            }
        }
        // the PVs of this VG on either side
        let in_vg = |v: &Option<String>, vgs: &dyn Fn(&str) -> bool| v.as_deref().is_some_and(vgs);
        let disk_named = |id: &str| disk.vgs.get(id).is_some_and(|g| g.name == name);
        let cache_named = |id: &str| cache.vgs.get(id).is_some_and(|n| n == name);
        let mut uuids: BTreeSet<&String> = BTreeSet::new();
        for (u, p) in &disk.pvs {
            if in_vg(&p.vgid, &disk_named) {
                uuids.insert(u);
            }
        }
        for (u, p) in &cache.pvs {
            if in_vg(&p.vgid, &cache_named) {
                uuids.insert(u);
            }
        }
        for u in uuids {
            out.extend(compare_pv(u, disk, cache));
        }
        Ok(out)
    }

    fn compare_orphans(&self, disk: &DiskView, cache: &CacheView) -> Vec<Difference> {
        let orphan_disk = |p: &DiskPv| {
            p.vgid
                .as_ref()
                .map_or(true, |id| !disk.vgs.contains_key(id))
        };
        let orphan_cache = |p: &CachedPv| {
            p.vgid
                .as_ref()
                .map_or(true, |id| !cache.vgs.contains_key(id))
        };
        let mut uuids: BTreeSet<&String> = BTreeSet::new();
        for (u, p) in &disk.pvs {
            if orphan_disk(p) && cache.pvs.get(u).map_or(true, orphan_cache) {
                uuids.insert(u);
            }
        }
        for (u, p) in &cache.pvs {
            if orphan_cache(p) && disk.pvs.get(u).map_or(true, orphan_disk) {
                uuids.insert(u);
            }
        }
        uuids
            .into_iter()
            .flat_map(|u| compare_pv(u, disk, cache))
            .collect()
    }

    /// The system's devices through LVM's filters, as `lvmetad-pvscan` reads them.
    pub fn system_devices(&self) -> Result<crate::scan::source::SystemDevices, Failure> {
        crate::scan::source::SystemDevices::new(&self.cfg).map_err(|msgs| {
            for m in &msgs[..msgs.len().saturating_sub(1)] {
                self.host.log(Level::Error, m);
            }
            Failure(msgs.last().cloned().unwrap_or_default())
        })
    }

    /// Audit the system's devices; with `repair`, bring the cache back to them and audit
    /// again.
    pub fn run(&mut self, repair: bool) -> Result<Outcome, Failure> {
        let differences = self.audit(&mut self.system_devices()?)?;
        let mut out = Outcome {
            differences,
            repair: None,
        };
        if !repair || out.differences.is_empty() {
            return Ok(out);
        }
        self.take(None, Mode::Write)?;
        let r = self
            .system_devices()
            .and_then(|mut s| self.repair(&out.differences, &mut s));
        self.release(None);
        let mut r = r?;
        r.remaining = self.audit(&mut self.system_devices()?)?;
        out.repair = Some(r);
        Ok(out)
    }

    /// Repair under the global lock (exclusive, held by the caller).
    fn repair(
        &mut self,
        diffs: &[Difference],
        source: &mut dyn DeviceSource,
    ) -> Result<Repaired, Failure> {
        let host = self.host.clone();
        let vg_host: &dyn VgHost = &*host;
        if diffs
            .iter()
            .any(|d| d.kind.is_global() || d.kind == Kind::DuplicatePv)
        {
            let ok = pvscan_all_devs(&self.client, vg_host, CMD, true, 0);
            if let Some(r) = self.client().is_disabled() {
                host.log(
                    Level::Warn,
                    &format!("WARNING: Not using lvmetad because {}.", r),
                );
            }
            return Ok(Repaired {
                mode: "full",
                ok,
                ..Default::default()
            });
        }
        // per device: read both sides again now that no one can write
        let devs = source.all();
        let disk = disk_view(&devs);
        let cache = cache_view(&self.client)?;
        let present: BTreeSet<u64> = devs.iter().map(|d| d.devno).collect();
        let mut gone_first: BTreeSet<u64> = BTreeSet::new();
        let mut rescan: BTreeSet<u64> = BTreeSet::new();
        let vg_cached_devs = |vgname: &str| -> Vec<u64> {
            cache
                .pvs
                .values()
                .filter(|p| {
                    p.vgid
                        .as_ref()
                        .and_then(|id| cache.vgs.get(id))
                        .is_some_and(|n| n == vgname)
                })
                .map(|p| p.devno)
                .collect()
        };
        let vg_disk_devs = |vgname: &str| -> Vec<u64> {
            disk.pvs
                .values()
                .filter(|p| {
                    p.vgid
                        .as_ref()
                        .and_then(|id| disk.vgs.get(id))
                        .is_some_and(|g| g.name == vgname)
                })
                .map(|p| p.devno)
                .collect()
        };
        for d in diffs {
            let vg = d.vg.as_deref().unwrap_or("");
            match d.kind {
                Kind::PvNotCached => rescan.extend(d.devno),
                Kind::PvVgChanged => {
                    // lvmetad keeps a known PV in its VG when it is found without
                    // metadata: it is forgotten first
                    if let Some(c) = d.pv_uuid.as_ref().and_then(|u| cache.pvs.get(u)) {
                        gone_first.insert(c.devno);
                        rescan.insert(c.devno);
                    }
                    rescan.extend(d.devno);
                }
                Kind::PvGone => {
                    if let Some(c) = d.pv_uuid.as_ref().and_then(|u| cache.pvs.get(u)) {
                        rescan.insert(c.devno);
                    }
                }
                Kind::PvDeviceChanged => {
                    // lvmetad takes a known PV on another device for a duplicate: the
                    // PVs it has on both devices are forgotten first
                    if let Some(c) = d.pv_uuid.as_ref().and_then(|u| cache.pvs.get(u)) {
                        gone_first.insert(c.devno);
                        rescan.insert(c.devno);
                    }
                    if let Some(n) = d.devno {
                        if cache.pvs.values().any(|p| p.devno == n) {
                            gone_first.insert(n);
                        }
                        rescan.insert(n);
                    }
                }
                Kind::VgNotCached => rescan.extend(vg_disk_devs(vg)),
                Kind::VgGone => {
                    gone_first.extend(vg_cached_devs(vg));
                    rescan.extend(vg_cached_devs(vg));
                }
                Kind::VgSeqno | Kind::VgContent => {
                    let newer = d.kind == Kind::VgSeqno
                        && d.on_disk.as_deref().and_then(|s| s.parse::<i64>().ok())
                            > d.cached.as_deref().and_then(|s| s.parse::<i64>().ok());
                    if !newer {
                        // lvmetad keeps what it has at the same or a higher seqno: the
                        // VG's PVs are forgotten first, then found again
                        gone_first.extend(vg_cached_devs(vg));
                    }
                    rescan.extend(vg_cached_devs(vg));
                    rescan.extend(vg_disk_devs(vg));
                }
                Kind::UpdateInProgress
                | Kind::Disabled
                | Kind::TokenMismatch
                | Kind::DuplicatePv => {}
            }
        }
        let mut rep = Repaired {
            mode: "devices",
            ok: true,
            ..Default::default()
        };
        for &devno in &gone_first {
            rep.ok &= pv_gone(&self.client, devno, &mm(devno));
            rep.forgotten.push(mm(devno));
        }
        for &devno in &rescan {
            let dev = if present.contains(&devno) {
                vg_host.dev_by_devt(CMD, devno)
            } else {
                None
            };
            match dev {
                Some(d) => {
                    vg_host.label_scan_devs(CMD, &[d]);
                    rep.ok &= pvscan_single(&self.client, vg_host, CMD, d, 0, 0);
                    vg_host.label_scan_invalidate(d);
                    rep.rescanned.push(mm(devno));
                }
                None => {
                    if !gone_first.contains(&devno) {
                        rep.ok &= pv_gone(&self.client, devno, &mm(devno));
                        rep.forgotten.push(mm(devno));
                    }
                }
            }
        }
        Ok(rep)
    }
}

/// Read the devices of VG `name` (on disk or in the cache) again, and replace what the
/// view had of them.
fn reread(disk: &mut DiskView, devs: &[ScanDevice], name: &str, cache: &CacheView) {
    let mut which: BTreeSet<u64> = BTreeSet::new();
    for p in disk.pvs.values() {
        if p.vgid
            .as_ref()
            .and_then(|id| disk.vgs.get(id))
            .is_some_and(|g| g.name == name)
        {
            which.insert(p.devno);
        }
    }
    for p in cache.pvs.values() {
        if p.vgid
            .as_ref()
            .and_then(|id| cache.vgs.get(id))
            .is_some_and(|n| n == name)
        {
            which.insert(p.devno);
        }
    }
    reread_devices(disk, devs, &which, Some(name));
}

/// Read the devices `which` again and replace what the view had of them (and of the VG
/// `name`, when given).
fn reread_devices(
    disk: &mut DiskView,
    devs: &[ScanDevice],
    which: &BTreeSet<u64>,
    name: Option<&str>,
) {
    let scanned: Vec<Scanned> = devs
        .iter()
        .filter(|d| which.contains(&d.devno))
        .map(|d| {
            // opened again: the first read's descriptor serves its head from memory,
            // which a writer may have changed since
            let fresh = crate::scan::probe::open_device(std::path::Path::new(&d.name)).map(|f| {
                ScanDevice {
                    devno: d.devno,
                    name: d.name.clone(),
                    io: Box::new(f),
                }
            });
            Scanned {
                devno: d.devno,
                name: d.name.clone(),
                entry: read_device(fresh.as_ref().unwrap_or(d)).0,
            }
        })
        .collect();
    let sub = build_view(&scanned);
    disk.pvs.retain(|_, p| !which.contains(&p.devno));
    if let Some(name) = name {
        disk.vgs.retain(|_, g| g.name != name);
    }
    for (id, g) in sub.vgs {
        let newer = disk.vgs.get(&id).map_or(true, |o| g.seqno > o.seqno);
        if newer {
            disk.vgs.insert(id, g);
        }
    }
    // a PV without metadata keeps the VG that lists it
    for (u, mut p) in sub.pvs {
        if p.vgid.is_none() {
            p.vgid = disk
                .vgs
                .iter()
                .find(|(_, g)| g.pv_ids.contains(&u))
                .map(|(id, _)| id.clone());
        }
        disk.pvs.insert(u, p);
    }
    disk.names.extend(sub.names);
}

fn compare_pv(uuid: &str, disk: &DiskView, cache: &CacheView) -> Vec<Difference> {
    let mut out = Vec::new();
    let dvg = |p: &DiskPv| {
        p.vgid
            .as_ref()
            .and_then(|id| disk.vgs.get(id))
            .map(|g| g.name.clone())
    };
    let cvg = |p: &CachedPv| p.vgid.as_ref().and_then(|id| cache.vgs.get(id)).cloned();
    match (disk.pvs.get(uuid), cache.pvs.get(uuid)) {
        (Some(p), None) => {
            let mut d = Difference::new(Kind::PvNotCached);
            d.vg = dvg(p);
            d.pv_uuid = Some(uuid.to_string());
            d.device = Some(p.name.clone());
            d.devno = Some(p.devno);
            out.push(d);
        }
        (None, Some(c)) => {
            let mut d = Difference::new(Kind::PvGone);
            d.vg = cvg(c);
            d.pv_uuid = Some(uuid.to_string());
            d.cached = Some(mm(c.devno));
            out.push(d);
        }
        (Some(p), Some(c)) => {
            if p.devno != c.devno {
                let mut d = Difference::new(Kind::PvDeviceChanged);
                d.vg = dvg(p);
                d.pv_uuid = Some(uuid.to_string());
                d.device = Some(p.name.clone());
                d.devno = Some(p.devno);
                d.on_disk = Some(mm(p.devno));
                d.cached = Some(mm(c.devno));
                out.push(d);
            }
            let (a, b) = (dvg(p), cvg(c));
            if a != b {
                let mut d = Difference::new(Kind::PvVgChanged);
                d.vg = a.clone().or(b.clone());
                d.pv_uuid = Some(uuid.to_string());
                d.device = Some(p.name.clone());
                d.devno = Some(p.devno);
                d.on_disk = a;
                d.cached = b;
                out.push(d);
            }
        }
        (None, None) => {}
    }
    out
}
