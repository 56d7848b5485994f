//! `pvscan --cache`: the scan that repopulates lvmetad, with LVM2 2.02.188's sequence
//! (`lvmetad_pvscan_all_devs`, `lvmetad_pvscan_single`, `lvmetad_pv_found`,
//! `lvmetad_pv_gone`, `tools/pvscan.c:_pvscan_cache`) and messages.
//! Spec: ondisk-and-scan.md B2-B4, client.md 7.4 and 7.6.
//!
//! Devices come from a [`DeviceSource`] (the real device cache with LVM's filters, or a
//! list of image files in tests); all device reads go through the on-disk reader's
//! `BlockRead` seam.

use crate::client::port::vg::{DiskLoc, MdaLoc, PvAreas};
use crate::client::port::{CmdId, Level};
use crate::client::update::{begin_full_update, enable_after_scan, end_full_update, pvmeta_tree};
use crate::client::{Client, Field};
use crate::config::{Node, Value};
use crate::ondisk::{scan_pv, BlockRead, Log, PvScan, ScannedPv};
use crate::protocol::Request;
use std::collections::HashMap;

/// One device to scan.
pub struct ScanDevice {
    pub devno: u64,
    /// The device's primary name (`dev_name`).
    pub name: String,
    pub io: Box<dyn BlockRead + Send + Sync>,
}

/// Reads a device's first 128 KiB once (LVM reads that block of every device before
/// processing labels) and serves later reads inside it from memory.
struct HeadCache<'a> {
    inner: &'a dyn BlockRead,
    size: Option<u64>,
    head: Vec<u8>,
}

const HEAD_BYTES: u64 = 128 * 1024;

impl<'a> HeadCache<'a> {
    fn new(inner: &'a dyn BlockRead) -> HeadCache<'a> {
        let size = inner.size().ok();
        let mut head = vec![0u8; size.unwrap_or(0).min(HEAD_BYTES) as usize];
        let mut got = 0;
        while got < head.len() {
            match inner.read_at(got as u64, &mut head[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        head.truncate(got);
        HeadCache { inner, size, head }
    }
}

impl BlockRead for HeadCache<'_> {
    fn size(&self) -> std::io::Result<u64> {
        match self.size {
            Some(s) => Ok(s),
            None => self.inner.size(),
        }
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        let end = off.saturating_add(buf.len() as u64);
        if end <= self.head.len() as u64 {
            let o = off as usize;
            buf.copy_from_slice(&self.head[o..o + buf.len()]);
            return Ok(buf.len());
        }
        self.inner.read_at(off, buf)
    }
}

/// How a device named on the command line was found.
pub enum Lookup {
    /// Known and passing the lvmetad filter chain.
    Found(ScanDevice),
    /// Known (this device number) but rejected by a filter.
    Filtered(u64),
    /// No such device.
    NotFound,
}

/// Where devices come from.
pub trait DeviceSource {
    /// Every device passing the lvmetad filter chain, in LVM's scan order.
    fn all(&mut self) -> Vec<ScanDevice>;
    /// A device named by path.
    fn by_path(&mut self, path: &str) -> Lookup;
    /// A device named by number.
    fn by_devno(&mut self, devno: u64) -> Lookup;
}

/// The label scan's view of one device (lvmcache in LVM).
pub enum Entry {
    /// A PV whose scan-cache entry belongs to this device.
    Pv(Box<ScannedPv>),
    /// Not usable as a PV here: no label, a bad label or mda, or a duplicate whose
    /// entry belongs to an earlier device. `pvid` is the raw id recorded on it ("" if
    /// no label was accepted).
    NoInfo { pvid: String, duplicate: bool },
}

/// One scanned device.
pub struct Scanned {
    pub devno: u64,
    pub name: String,
    pub entry: Entry,
}

/// Print the reader's messages that LVM shows (errors and warnings).
fn emit_log(client: &Client, log: &Log) {
    for m in log {
        if m.level <= Level::PrintUnlessSilent {
            client.host().log(m.level, &m.text);
        }
    }
}

/// Read one device's label and metadata. Returns None when LVM would not list it at all.
pub fn scan_device(client: &Client, dev: &ScanDevice) -> Option<Entry> {
    let (e, log) = scan_device_quiet(dev);
    emit_log(client, &log);
    e
}

/// [`scan_device`] without printing: the entry and the messages LVM would print.
fn scan_device_quiet(dev: &ScanDevice) -> (Option<Entry>, Log) {
    let mut log = Log::new();
    let cached = HeadCache::new(&*dev.io);
    let r = scan_pv(&cached, &dev.name, &mut log);
    let e = match r {
        Ok(PvScan::Pv(pv)) => Some(Entry::Pv(Box::new(pv))),
        Ok(PvScan::Failed { label, .. }) => Some(Entry::NoInfo {
            pvid: String::from_utf8_lossy(&label.pvid).into_owned(),
            duplicate: false,
        }),
        Ok(PvScan::NoLabel) | Err(_) => None,
    };
    (e, log)
}

/// Read every device, several at a time (as LVM keeps many reads in flight with aio);
/// results in the devices' order.
fn scan_all_parallel(devs: &[ScanDevice]) -> Vec<(Option<Entry>, Log)> {
    let workers = devs.len().clamp(1, 16);
    if workers == 1 {
        return devs.iter().map(scan_device_quiet).collect();
    }
    let mut out: Vec<Option<(Option<Entry>, Log)>> = (0..devs.len()).map(|_| None).collect();
    std::thread::scope(|sc| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                sc.spawn(move || {
                    (w..devs.len())
                        .step_by(workers)
                        .map(|i| (i, scan_device_quiet(&devs[i])))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            // a worker that panicked loses its devices; they count as unreadable
            if let Ok(v) = h.join() {
                for (i, r) in v {
                    out[i] = Some(r);
                }
            }
        }
    });
    out.into_iter()
        .map(|r| r.unwrap_or((None, Log::new())))
        .collect()
}

/// `label_scan_pvscan_all`: every device in order; duplicates of an earlier device's PV
/// are kept (they get `pv_gone`); non-PVs and failed devices are dropped.
pub fn label_scan_all(client: &Client, devs: &[ScanDevice]) -> Vec<Scanned> {
    let mut seen: HashMap<Vec<u8>, String> = HashMap::new();
    let mut out = Vec::new();
    for (d, (e, log)) in devs.iter().zip(scan_all_parallel(devs)) {
        emit_log(client, &log);
        let entry = match e {
            Some(Entry::Pv(pv)) => {
                let id = pv.label.pvid.to_vec();
                if let Some(first) = seen.get(&id) {
                    client.host().log(
                        Level::Debug,
                        &format!(
                            "PV {} on {} was already found on {}.",
                            pv.label.pv_uuid(),
                            d.name,
                            first
                        ),
                    );
                    Entry::NoInfo {
                        pvid: String::from_utf8_lossy(&id).into_owned(),
                        duplicate: true,
                    }
                } else {
                    seen.insert(id, d.name.clone());
                    Entry::Pv(pv)
                }
            }
            // a failed mda deletes the entry: the device is not listed
            Some(Entry::NoInfo { .. }) | None => continue,
        };
        out.push(Scanned {
            devno: d.devno,
            name: d.name.clone(),
            entry,
        });
    }
    out
}

/// The `pvmeta` section LVM sends for a scanned PV.
pub fn pvmeta_node(devno: u64, pv: &ScannedPv) -> Node {
    pvmeta_tree(
        devno,
        "lvm2",
        pv.label.sector,
        &pv.label.pv_uuid(),
        &pv_areas(pv),
    )
}

/// The VG as `export_vg_to_config_tree` gives it: the VG section's contents with each
/// PV's `device` set to the name of the device holding that PV in this scan (or
/// "[unknown]").
pub fn vg_export(vg_section: &Node, names: &HashMap<String, String>) -> Node {
    let mut meta = vg_section.clone();
    meta.key = "metadata".into();
    if let Some(pvs) = meta
        .children
        .iter_mut()
        .find(|c| c.key == b"physical_volumes")
    {
        for pv in pvs.children.iter_mut() {
            let id = crate::config::find_str(&pv.children, "id")
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .unwrap_or_default();
            let dev = names
                .get(&id)
                .cloned()
                .unwrap_or_else(|| "[unknown]".to_string());
            if let Some(d) = pv.children.iter_mut().find(|c| c.key == b"device") {
                d.values = Some(Value::str(&dev).into());
            } else {
                let at = pv
                    .children
                    .iter()
                    .position(|c| c.key == b"id")
                    .map(|i| i + 1)
                    .unwrap_or(0);
                pv.children.insert(at, Node::string("device", &dev));
            }
        }
    }
    meta
}

/// lvmcache's view of a scanned PV.
pub fn pv_areas(pv: &ScannedPv) -> PvAreas {
    let m = pv.pvmeta();
    PvAreas {
        dev_size: m.dev_size,
        ext_version: m.ext_version,
        ext_flags: m.ext_flags,
        mdas: m
            .mdas
            .iter()
            .map(|x| MdaLoc {
                ignore: x.ignore,
                start: x.start,
                size: x.size,
                free_sectors: x.free_sectors,
            })
            .collect(),
        das: m
            .das
            .iter()
            .map(|x| DiskLoc {
                offset: x.offset,
                size: x.size,
            })
            .collect(),
        bas: m
            .bas
            .iter()
            .map(|x| DiskLoc {
                offset: x.offset,
                size: x.size,
            })
            .collect(),
    }
}

/// Scan state shared by the steps of one command.
pub struct Pvscan<'a> {
    pub client: &'a mut Client,
    pub cmd: CmdId,
    /// Silent mode (`init_silent`): "unless silent" prints are suppressed.
    pub silent: bool,
}

impl<'a> Pvscan<'a> {
    /// A scan for command context `cmd`, not silent.
    pub fn new(client: &'a mut Client, cmd: CmdId) -> Pvscan<'a> {
        Pvscan {
            client,
            cmd,
            silent: false,
        }
    }

    fn log(&self, l: Level, m: &str) {
        if l == Level::PrintUnlessSilent && self.silent {
            self.client.host().log(Level::Verbose, m);
        } else {
            self.client.host().log(l, m);
        }
    }

    /// `lvmetad_pv_gone(devno, name)`
    pub fn pv_gone(&mut self, devno: u64, name: &str) -> bool {
        crate::client::vg::pv_gone_on(self.client, devno, name)
    }

    /// `lvmetad_pv_found()` for a scanned PV, with the VG read from its mdas if any.
    pub fn pv_found(
        &mut self,
        devno: u64,
        pv: &ScannedPv,
        names: &HashMap<String, String>,
    ) -> bool {
        if !self.client.used() || self.client.host().test_mode() {
            return true;
        }
        let pvmeta = pvmeta_node(devno, pv);
        let uuid = pv.label.pv_uuid();
        let vg = pv.best_metadata().and_then(|m| {
            m.vg_section().map(|s| {
                (
                    m.summary.name().to_string(),
                    m.summary.seqno,
                    vg_export(s, names),
                )
            })
        });
        let reply = match &vg {
            Some((name, _, meta)) => self.client.send(
                Request::PvFound,
                &[
                    Field::Tree("pvmeta", &pvmeta),
                    Field::Str("vgname", name.as_bytes()),
                    Field::Tree("metadata", meta),
                ],
            ),
            None => self
                .client
                .send(Request::PvFound, &[Field::Tree("pvmeta", &pvmeta)]),
        };
        let ok = self
            .client
            .handle_reply(&reply, Request::PvFound, &uuid, None);
        if let (true, Some((name, seqno, _))) = (ok, &vg) {
            crate::client::vg::check_pv_found_seqno(&**self.client.host(), &reply, name, *seqno);
        }
        ok
    }

    /// `lvmetad_pvscan_single()` for a device the label scan has seen.
    pub fn pvscan_single(&mut self, s: &Scanned, names: &HashMap<String, String>) -> bool {
        self.client
            .host()
            .log(Level::Debug, &format!("Scan metadata from dev {}", s.name));
        if !self.client.used() {
            self.log(Level::Error, "Cannot proceed since lvmetad is not active.");
            return false;
        }
        match &s.entry {
            Entry::NoInfo { pvid, .. } => {
                self.log(
                    Level::PrintUnlessSilent,
                    &format!("No PV info found on {} for PVID {}.", s.name, pvid),
                );
                self.pv_gone(s.devno, &s.name)
            }
            Entry::Pv(pv) => self.pv_found(s.devno, pv, names),
        }
    }

    /// Read one device and send it (`label_scan_devs` of one device, then
    /// `lvmetad_pvscan_single`).
    pub fn scan_single(&mut self, d: &ScanDevice) -> bool {
        let entry = scan_device(self.client, d).unwrap_or(Entry::NoInfo {
            pvid: String::new(),
            duplicate: false,
        });
        self.send_scanned(d, entry)
    }

    /// `lvmetad_pvscan_single` for a device already read, naming only that device's PV.
    fn send_scanned(&mut self, d: &ScanDevice, entry: Entry) -> bool {
        let names: HashMap<String, String> = match &entry {
            Entry::Pv(pv) => [(pv.label.pv_uuid(), d.name.clone())].into_iter().collect(),
            _ => HashMap::new(),
        };
        let s = Scanned {
            devno: d.devno,
            name: d.name.clone(),
            entry,
        };
        self.pvscan_single(&s, &names)
    }

    /// `lvmetad_pvscan_all_devs()`: repopulate lvmetad from every device.
    pub fn pvscan_all_devs(&mut self, devices: &mut dyn DeviceSource, do_wait: bool) -> bool {
        if !self.client.used() {
            self.log(Level::Error, "Cannot proceed since lvmetad is not active.");
            return false;
        }
        let Some(future) = begin_full_update(self.client, do_wait) else {
            return false;
        };
        self.log(
            Level::Verbose,
            "Scanning all devices to initialize lvmetad.",
        );
        let devs = devices.all();
        let scanned = label_scan_all(self.client, &devs);
        let names: HashMap<String, String> = scanned
            .iter()
            .filter_map(|s| match &s.entry {
                Entry::Pv(pv) => Some((pv.label.pv_uuid(), s.name.clone())),
                _ => None,
            })
            .collect();
        let r = self.client.send(Request::PvClearAll, &[]);
        let mut ret = self.client.handle_reply(&r, Request::PvClearAll, "", None);
        let was_silent = self.silent;
        self.silent = true;
        for s in &scanned {
            ret = self.pvscan_single(s, &names);
            if !ret {
                break;
            }
        }
        self.silent = was_silent;
        if !end_full_update(self.client, future, ret) {
            return false;
        }
        let dups: Vec<&Scanned> = scanned
            .iter()
            .filter(|s| {
                matches!(
                    s.entry,
                    Entry::NoInfo {
                        duplicate: true,
                        ..
                    }
                )
            })
            .collect();
        if !dups.is_empty() {
            for d in &dups {
                self.log(
                    Level::Warn,
                    &format!("WARNING: found device with duplicate {}", d.name),
                );
            }
            self.log(
                Level::Warn,
                "WARNING: Disabling lvmetad cache which does not support duplicate PVs.",
            );
            self.client
                .set_disabled(crate::client::DISABLE_REASON_DUPLICATES);
            self.client.make_unused(Some(self.cmd));
            self.log(Level::Warn, "WARNING: Scan found duplicate PVs.");
            return false;
        }
        enable_after_scan(self.client);
        true
    }
}

/// Arguments of `pvscan --cache`.
#[derive(Clone, Debug, Default)]
pub struct CacheArgs {
    /// Positional arguments: paths or MAJOR:MINOR.
    pub devices: Vec<String>,
    /// `--major`/`--minor` pairs.
    pub major_minor: Vec<(i64, i64)>,
}

/// LVM's exit codes.
pub const ECMD_PROCESSED: i32 = 0;
pub const ECMD_FAILED: i32 = 5;

/// `_pvscan_cache()` for a command whose lvmetad connection is set up. Returns the exit
/// status (0 or 5).
pub fn pvscan_cache(p: &mut Pvscan<'_>, args: &CacheArgs, devices: &mut dyn DeviceSource) -> i32 {
    let pid = std::process::id();
    if !p.client.used() {
        p.log(
            Level::Verbose,
            "Ignoring pvscan --cache because lvmetad is not in use.",
        );
        return ECMD_PROCESSED;
    }
    let dev_arg = args.devices.first().cloned().unwrap_or_default();
    let say_reason = |p: &mut Pvscan<'_>, reason: &str| {
        p.log(
            Level::Warn,
            &format!("WARNING: Not using lvmetad because {}.", reason),
        );
    };
    if args.devices.is_empty() && args.major_minor.is_empty() {
        p.log(Level::Verbose, "Scanning all devices.");
        if !p.pvscan_all_devs(devices, true) {
            p.log(
                Level::Warn,
                "WARNING: Not using lvmetad because cache update failed.",
            );
            p.client.make_unused(Some(p.cmd));
        }
        if p.client.used() {
            if let Some(r) = p.client.is_disabled() {
                say_reason(p, r);
                p.client.make_unused(Some(p.cmd));
            }
        }
        // the exit status stays success, as in LVM
        return ECMD_PROCESSED;
    }
    // devices named: the cache must be populated with our token first
    if !p.client.token_matches(p.cmd) {
        if p.client.used() && !p.pvscan_all_devs(devices, false) {
            p.log(
                Level::Warn,
                "WARNING: Not updating lvmetad because cache update failed.",
            );
            return ECMD_FAILED;
        }
        let disabled = if p.client.used() {
            p.client.is_disabled()
        } else {
            None
        };
        if let Some(r) = disabled {
            say_reason(p, r);
            p.client.make_unused(Some(p.cmd));
            p.log(
                Level::Print,
                &format!(
                    "pvscan[{}] activating all directly (lvmetad disabled from scan) {}",
                    pid, dev_arg
                ),
            );
        } else {
            p.log(
                Level::Print,
                &format!("pvscan[{}] activating all complete VGs for init", pid),
            );
        }
        return ECMD_PROCESSED;
    }
    if let Some(r) = p.client.is_disabled() {
        say_reason(p, r);
        p.client.make_unused(Some(p.cmd));
        p.log(
            Level::Print,
            &format!(
                "pvscan[{}] activating all directly (lvmetad disabled) {}",
                pid, dev_arg
            ),
        );
        return ECMD_PROCESSED;
    }
    p.log(Level::Verbose, "Scanning devices on command line.");
    let mut ret = ECMD_PROCESSED;
    // positional arguments first, then the --major/--minor pairs, each batch looked up,
    // label-scanned, then sent (pvscan.c)
    let mut lookups: Vec<Lookup> = Vec::new();
    for a in &args.devices {
        if a.starts_with('/') {
            match devices.by_path(a) {
                Lookup::NotFound => {
                    p.log(Level::Error, &format!("Physical Volume {} not found.", a));
                    ret = ECMD_FAILED;
                }
                l => lookups.push(l),
            }
        } else {
            match parse_major_minor(a) {
                Some((ma, mi)) => {
                    let d = crate::scan::devices::makedev(ma, mi);
                    lookups.push(match devices.by_devno(d) {
                        Lookup::NotFound => Lookup::Filtered(d),
                        l => l,
                    })
                }
                None => p.log(
                    Level::Warn,
                    &format!("WARNING: Failed to parse major:minor from {}, skipping.", a),
                ),
            }
        }
    }
    process_batch(p, lookups, &mut ret);
    if args.major_minor.is_empty() {
        return ret;
    }
    let mut lookups: Vec<Lookup> = Vec::new();
    for &(ma, mi) in &args.major_minor {
        if ma < 0 || mi < 0 {
            continue;
        }
        let d = crate::scan::devices::makedev(ma as u64, mi as u64);
        lookups.push(match devices.by_devno(d) {
            Lookup::NotFound => Lookup::Filtered(d),
            l => l,
        });
    }
    process_batch(p, lookups, &mut ret);
    let disabled = if p.client.used() {
        p.client.is_disabled()
    } else {
        None
    };
    if let Some(r) = disabled {
        say_reason(p, r);
        p.log(
            Level::Print,
            &format!(
                "pvscan[{}] activating directly (lvmetad disabled in scan) {}",
                pid, dev_arg
            ),
        );
        p.client.make_unused(Some(p.cmd));
    }
    ret
}

/// `_lvmetad_clear_dev()`: drop a device lvmetad may know by number.
fn clear_dev(p: &mut Pvscan<'_>, devno: u64, ret: &mut i32) {
    if !p.pv_gone(devno, "") {
        *ret = ECMD_FAILED;
    }
    p.log(
        Level::Print,
        &format!(
            "Device {}:{} not found. Cleared from lvmetad cache.",
            crate::scan::devices::major(devno),
            crate::scan::devices::minor(devno)
        ),
    );
}

/// Drop the filtered devices, label-scan the found ones, then send each.
fn process_batch(p: &mut Pvscan<'_>, lookups: Vec<Lookup>, ret: &mut i32) {
    let mut queue: Vec<ScanDevice> = Vec::new();
    for l in lookups {
        match l {
            Lookup::Found(d) => queue.push(d),
            Lookup::Filtered(devno) => clear_dev(p, devno, ret),
            Lookup::NotFound => {}
        }
    }
    let entries: Vec<Entry> = queue
        .iter()
        .map(|d| {
            scan_device(p.client, d).unwrap_or(Entry::NoInfo {
                pvid: String::new(),
                duplicate: false,
            })
        })
        .collect();
    for (d, entry) in queue.iter().zip(entries) {
        if !p.send_scanned(d, entry) {
            *ret = ECMD_FAILED;
        }
    }
}

/// `sscanf("%d:%d")`.
pub fn parse_major_minor(s: &str) -> Option<(u64, u64)> {
    let (a, b) = s.split_once(':')?;
    let num = |t: &str| -> Option<u64> {
        let t = t.trim_start();
        let digits: String = t
            .chars()
            .enumerate()
            .take_while(|(i, c)| c.is_ascii_digit() || (*i == 0 && (*c == '+' || *c == '-')))
            .map(|(_, c)| c)
            .collect();
        digits.parse::<i64>().ok().map(|v| v as u64)
    };
    Some((num(a)?, num(b)?))
}
