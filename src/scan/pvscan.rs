//! The label scan and `pvscan --cache`.
//!
//! - The label scan reads devices and returns what it found (labels, metadata areas, the
//!   VG metadata) without sending anything: [`label_scan`] for a full scan (LVM's
//!   `label_scan_pvscan_all`: duplicates marked, non-PVs dropped) and [`read_device`] for
//!   one device. The native host serves `VgHost`'s label-scan operations from it, and
//!   read-only callers (an audit) use it directly.
//! - [`pvscan_cache`] is `tools/pvscan.c:_pvscan_cache` over the host ports; what it sends
//!   goes through the one implementation of the scan operations in `crate::client::scan`.
//!
//! Devices come from a [`DeviceSource`] (the real device cache with LVM's filters, or a
//! list of image files in tests); all device reads go through the on-disk reader's
//! `BlockRead` seam. Sequence and messages: docs/scan.md.

use crate::client::port::vg::{DevLookup, DiskLoc, MdaLoc, PvAreas, VgHost};
use crate::client::port::{CmdId, Host, Level};
use crate::client::scan::{pv_gone, pvscan_all_devs, pvscan_single};
use crate::client::vg::Shared;
use crate::config::{Node, Value};
use crate::ondisk::{scan_pv, BlockRead, Log, PvScan, ScannedPv};
use std::collections::HashMap;

/// One device to scan.
pub struct ScanDevice {
    pub devno: u64,
    /// The device's primary name (`dev_name`).
    pub name: String,
    pub io: Box<dyn BlockRead + Send + Sync>,
}

/// Reads a device's first bytes once (what the label, the pv_header and the usual first
/// mda header need; `crate::scan::probe`) and serves later reads inside them from memory.
struct HeadCache<'a> {
    inner: &'a dyn BlockRead,
    size: Option<u64>,
    head: Vec<u8>,
}

const HEAD_BYTES: u64 = crate::scan::probe::PROBE_BYTES as u64;

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
        match super::probe::from_head(&self.head, off, buf) {
            Some(n) => Ok(n),
            None => self.inner.read_at(off, buf),
        }
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
pub enum ScanEntry {
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
    pub entry: ScanEntry,
}

/// The reader's messages that LVM shows (errors and warnings), in order.
pub fn visible(log: &Log) -> impl Iterator<Item = &crate::ondisk::Message> {
    log.iter().filter(|m| m.level <= Level::PrintUnlessSilent)
}

/// Read one device's label and metadata (`label_scan_devs` of one device): the entry,
/// `NoInfo` with an empty id when it holds no PV, and the messages LVM would print.
pub fn read_device(dev: &ScanDevice) -> (ScanEntry, Log) {
    let (e, log) = scan_device_quiet(dev);
    (
        e.unwrap_or(ScanEntry::NoInfo {
            pvid: String::new(),
            duplicate: false,
        }),
        log,
    )
}

/// Read one device. None when LVM would not list it at all.
fn scan_device_quiet(dev: &ScanDevice) -> (Option<ScanEntry>, Log) {
    let mut log = Log::new();
    let cached = HeadCache::new(&*dev.io);
    let r = scan_pv(&cached, &dev.name, &mut log);
    let e = match r {
        Ok(PvScan::Pv(pv)) => Some(ScanEntry::Pv(Box::new(pv))),
        Ok(PvScan::Failed { label, .. }) => Some(ScanEntry::NoInfo {
            pvid: String::from_utf8_lossy(&label.pvid).into_owned(),
            duplicate: false,
        }),
        Ok(PvScan::NoLabel) | Err(_) => None,
    };
    (e, log)
}

/// Read every device, several at a time (as LVM keeps many reads in flight with aio);
/// results in the devices' order.
fn scan_all_parallel(devs: &[ScanDevice]) -> Vec<(Option<ScanEntry>, Log)> {
    // a worker that panicked loses its devices; they count as unreadable
    super::probe::map_parallel(devs, |d| Some(scan_device_quiet(d)))
        .into_iter()
        .map(|r| r.unwrap_or((None, Log::new())))
        .collect()
}

/// `label_scan_pvscan_all`, read-only: every device in order; duplicates of an earlier
/// device's PV are kept (they get `pv_gone`); non-PVs and failed devices are dropped.
/// Returns what was found and the messages LVM prints meanwhile (reader messages and
/// the debug line of each duplicate), in order. Nothing is sent anywhere.
pub fn label_scan(devs: &[ScanDevice]) -> (Vec<Scanned>, Log) {
    let mut seen: HashMap<Vec<u8>, String> = HashMap::new();
    let mut out = Vec::new();
    let mut messages = Log::new();
    for (d, (e, log)) in devs.iter().zip(scan_all_parallel(devs)) {
        messages.extend(
            log.into_iter()
                .filter(|m| m.level <= Level::PrintUnlessSilent),
        );
        let entry = match e {
            Some(ScanEntry::Pv(pv)) => {
                let id = pv.label.pvid.to_vec();
                if let Some(first) = seen.get(&id) {
                    messages.push(crate::ondisk::Message {
                        level: Level::Debug,
                        text: format!(
                            "PV {} on {} was already found on {}.",
                            pv.label.pv_uuid(),
                            d.name,
                            first
                        ),
                    });
                    ScanEntry::NoInfo {
                        pvid: String::from_utf8_lossy(&id).into_owned(),
                        duplicate: true,
                    }
                } else {
                    seen.insert(id, d.name.clone());
                    ScanEntry::Pv(pv)
                }
            }
            // a failed mda deletes the entry: the device is not listed
            Some(ScanEntry::NoInfo { .. }) | None => continue,
        };
        out.push(Scanned {
            devno: d.devno,
            name: d.name.clone(),
            entry,
        });
    }
    (out, messages)
}

/// The VG as `export_vg_to_config_tree` gives it: the VG section's contents with each
/// PV's `device` set to the name of the device holding that PV in this scan (or
/// "\[unknown\]").
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

/// `_pvscan_cache()` for a command whose lvmetad connection is set up, over the host
/// ports: `h` finds and reads the devices, `cl` talks to lvmetad. Returns the exit
/// status (0 or 5). Takes no lock: see [`pvscan_cache_locked`].
pub fn pvscan_cache(cl: &Shared, h: &dyn VgHost, cmd: CmdId, args: &CacheArgs) -> i32 {
    pvscan_cache_locked(cl, h, cmd, args, &mut || true)
}

/// [`pvscan_cache`] taking LVM's global lock where `_pvscan_cache` does (after the
/// "lvmetad is not in use" check, before anything is scanned or sent): `global_lock`
/// takes it (`lock_vol(VG_GLOBAL, LCK_VG_READ)`) and returns false when it cannot. The
/// caller releases it after the return (`unlock_vg`).
pub fn pvscan_cache_locked(
    cl: &Shared,
    h: &dyn VgHost,
    cmd: CmdId,
    args: &CacheArgs,
    global_lock: &mut dyn FnMut() -> bool,
) -> i32 {
    let host: std::sync::Arc<dyn Host> = lock(cl).host().clone();
    let log = |l: Level, m: &str| host.log(l, m);
    let used = || lock(cl).used();
    let pid = std::process::id();
    if !used() {
        log(
            Level::Verbose,
            "Ignoring pvscan --cache because lvmetad is not in use.",
        );
        return ECMD_PROCESSED;
    }
    if !global_lock() {
        log(Level::Error, "Unable to obtain global lock.");
        return ECMD_FAILED;
    }
    let dev_arg = args.devices.first().cloned().unwrap_or_default();
    let say_reason = |reason: crate::client::Reason| {
        log(
            Level::Warn,
            &format!("WARNING: Not using lvmetad because {}.", reason),
        );
    };
    let make_unused = || lock(cl).make_unused(Some(cmd));
    // the reason the cache is disabled, while it is in use
    let disabled = || {
        let mut c = lock(cl);
        if c.used() {
            c.is_disabled()
        } else {
            None
        }
    };
    if args.devices.is_empty() && args.major_minor.is_empty() {
        log(Level::Verbose, "Scanning all devices.");
        if !pvscan_all_devs(cl, h, cmd, true, 0) {
            log(
                Level::Warn,
                "WARNING: Not using lvmetad because cache update failed.",
            );
            make_unused();
        }
        if let Some(r) = disabled() {
            say_reason(r);
            make_unused();
        }
        // the exit status stays success, as in LVM
        return ECMD_PROCESSED;
    }
    // devices named: the cache must be populated with our token first
    let token_ok = lock(cl).token_matches(cmd);
    if !token_ok {
        if used() && !pvscan_all_devs(cl, h, cmd, false, 0) {
            log(
                Level::Warn,
                "WARNING: Not updating lvmetad because cache update failed.",
            );
            return ECMD_FAILED;
        }
        if let Some(r) = disabled() {
            say_reason(r);
            make_unused();
            log(
                Level::Print,
                &format!(
                    "pvscan[{}] activating all directly (lvmetad disabled from scan) {}",
                    pid, dev_arg
                ),
            );
        } else {
            log(
                Level::Print,
                &format!("pvscan[{}] activating all complete VGs for init", pid),
            );
        }
        return ECMD_PROCESSED;
    }
    let is_disabled = lock(cl).is_disabled();
    if let Some(r) = is_disabled {
        say_reason(r);
        make_unused();
        log(
            Level::Print,
            &format!(
                "pvscan[{}] activating all directly (lvmetad disabled) {}",
                pid, dev_arg
            ),
        );
        return ECMD_PROCESSED;
    }
    log(Level::Verbose, "Scanning devices on command line.");
    let mut ret = ECMD_PROCESSED;
    // positional arguments first, then the --major/--minor pairs, each batch looked up,
    // label-scanned, then sent (pvscan.c)
    let by_devno = |devno: u64| match h.dev_by_devt(cmd, devno) {
        Some(d) => DevLookup::Found(d),
        None => DevLookup::Filtered(devno),
    };
    let mut lookups: Vec<DevLookup> = Vec::new();
    for a in &args.devices {
        if a.starts_with('/') {
            match h.dev_lookup_path(cmd, a) {
                DevLookup::NotFound => {
                    log(Level::Error, &format!("Physical Volume {} not found.", a));
                    ret = ECMD_FAILED;
                }
                l => lookups.push(l),
            }
        } else {
            match parse_major_minor(a) {
                Some((ma, mi)) => lookups.push(by_devno(crate::scan::devices::makedev(ma, mi))),
                None => log(
                    Level::Warn,
                    &format!("WARNING: Failed to parse major:minor from {}, skipping.", a),
                ),
            }
        }
    }
    process_batch(cl, h, cmd, lookups, &mut ret);
    if args.major_minor.is_empty() {
        return ret;
    }
    let lookups: Vec<DevLookup> = args
        .major_minor
        .iter()
        .filter(|&&(ma, mi)| ma >= 0 && mi >= 0)
        .map(|&(ma, mi)| by_devno(crate::scan::devices::makedev(ma as u64, mi as u64)))
        .collect();
    process_batch(cl, h, cmd, lookups, &mut ret);
    if let Some(r) = disabled() {
        say_reason(r);
        log(
            Level::Print,
            &format!(
                "pvscan[{}] activating directly (lvmetad disabled in scan) {}",
                pid, dev_arg
            ),
        );
        make_unused();
    }
    ret
}

fn lock(cl: &Shared) -> std::sync::MutexGuard<'_, crate::client::Client> {
    cl.lock().unwrap_or_else(|e| e.into_inner())
}

/// Drop the filtered devices (`_lvmetad_clear_dev`), label-scan the found ones, then
/// send each (`lvmetad_pvscan_single`).
fn process_batch(cl: &Shared, h: &dyn VgHost, cmd: CmdId, lookups: Vec<DevLookup>, ret: &mut i32) {
    let mut queue = Vec::new();
    for l in lookups {
        match l {
            DevLookup::Found(d) => queue.push(d),
            DevLookup::Filtered(devno) => {
                if !pv_gone(cl, devno, "") {
                    *ret = ECMD_FAILED;
                }
                let host = lock(cl).host().clone();
                host.log(
                    Level::Print,
                    &format!(
                        "Device {}:{} not found. Cleared from lvmetad cache.",
                        crate::scan::devices::major(devno),
                        crate::scan::devices::minor(devno)
                    ),
                );
            }
            DevLookup::NotFound => {}
        }
    }
    h.label_scan_devs(cmd, &queue);
    for d in queue {
        if !pvscan_single(cl, h, cmd, d, 0, 0) {
            *ret = ECMD_FAILED;
        }
        h.label_scan_invalidate(d);
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
