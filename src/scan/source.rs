//! The system's devices as `pvscan --cache` sees them: the device cache (scan dirs,
//! aliases, LVM's order) through the lvmetad filter chain, in LVM's order: sysfs,
//! `devices/global_filter` (regex), type (/proc/devices), the usable filter's size check
//! (`devices/pv_min_size`), multipath components, then, on the device's first bytes,
//! partitioned, signature (LVM1/pool) and md components (`src/scan/filters.rs`).
//!
//! Extension: a regular file listed in `devices/scan` is a device (an image file); it
//! skips the sysfs and type filters.

use super::devices::{in_sysfs, major, sysfs_size, DevCache, Device};
use super::filter_regex::{promote_alias, Decision, RegexFilter};
use super::filters::{
    has_partition_table, is_md_component, is_mpath_component, loop_partscan, signature, DevTypes,
};
use super::pvscan::{DeviceSource, Lookup, ScanDevice};
use crate::scan::lvmconf::LvmConfig;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Devices of this system.
pub struct SystemDevices {
    cache: DevCache,
    filter: Option<RegexFilter>,
    types: DevTypes,
    md_component_detection: bool,
    mpath_component_detection: bool,
    min_size: u64,
    sysfs_scan: bool,
}

impl SystemDevices {
    /// Build from the configuration. Returns LVM's error lines when the global_filter is
    /// invalid.
    pub fn new(cfg: &LvmConfig) -> Result<SystemDevices, Vec<String>> {
        let filter = match cfg
            .find("devices/global_filter")
            .and_then(|n| n.values.as_deref())
        {
            Some(v) => Some(RegexFilter::new(v).map_err(|e| {
                let mut m = e.messages;
                m.push("Failed to create global regex device filter".into());
                m
            })?),
            None => None,
        };
        let scan: Vec<PathBuf> = cfg
            .array("devices/scan")
            .unwrap_or_default()
            .iter()
            .filter_map(|v| match v {
                crate::config::Value::Str(s) => {
                    Some(PathBuf::from(String::from_utf8_lossy(s).into_owned()))
                }
                _ => None,
            })
            .collect();
        let (files, dirs): (Vec<PathBuf>, Vec<PathBuf>) = scan
            .into_iter()
            .partition(|p| std::fs::metadata(p).map(|m| m.is_file()).unwrap_or(false));
        let mut cache = DevCache::default();
        cache.scan_dirs(&dirs);
        cache.add_images(&files);
        let types: Vec<String> = cfg
            .array("devices/types")
            .unwrap_or_default()
            .iter()
            .filter_map(|v| match v {
                crate::config::Value::Str(s) => Some(String::from_utf8_lossy(s).into_owned()),
                _ => None,
            })
            .collect();
        Ok(SystemDevices {
            cache,
            filter,
            types: DevTypes::system(&types),
            md_component_detection: cfg.bool("devices/md_component_detection").unwrap_or(true),
            mpath_component_detection: cfg
                .bool("devices/multipath_component_detection")
                .unwrap_or(true),
            min_size: cfg.int("devices/pv_min_size").unwrap_or(2048).max(0) as u64 * 1024,
            sysfs_scan: cfg.bool("devices/sysfs_scan").unwrap_or(true),
        })
    }

    fn size_of(d: &Device) -> Option<u64> {
        if d.is_image {
            return std::fs::metadata(d.aliases.first()?).ok().map(|m| m.len());
        }
        sysfs_size(d.devno).or_else(|| {
            let f = std::fs::File::open(d.aliases.first()?).ok()?;
            crate::ondisk::BlockRead::size(&f).ok()
        })
    }

    /// The lvmetad filter chain; on acceptance, the device (with its preferred name) and
    /// its open descriptor with the bytes the filters read.
    fn accept(&self, d: &Device) -> Option<(Device, super::probe::Probed)> {
        let mut d = d.clone();
        if !d.is_image && self.sysfs_scan && !in_sysfs(d.devno) {
            return None;
        }
        if let Some(f) = &self.filter {
            match f.check(
                &d.aliases
                    .iter()
                    .map(|p| p.to_string_lossy().into_owned().into_bytes())
                    .collect::<Vec<_>>(),
            ) {
                Decision::Reject => return None,
                Decision::Accept { alias, .. } if alias > 0 => promote_alias(&mut d.aliases, alias),
                _ => {}
            }
        }
        if !d.is_image && !self.types.known(d.devno) {
            return None;
        }
        let size = Self::size_of(&d).unwrap_or(0);
        if size < self.min_size {
            return None;
        }
        if !d.is_image && self.mpath_component_detection && is_mpath_component(d.devno, &self.types)
        {
            return None;
        }
        // the filters that read the device ("filter after scan")
        let partitionable = !d.is_image
            && self.types.partitionable(
                d.devno,
                Some(major(d.devno)) == self.types.loop_major && loop_partscan(d.devno),
            );
        // one descriptor for the filters, the label and the metadata: a block device's
        // page cache is dropped when its last opener closes it
        let f = super::probe::open_device(d.aliases.first()?)?;
        let mut head = vec![0u8; super::probe::PROBE_BYTES];
        let n = crate::ondisk::BlockRead::read_at(&f, 0, &mut head).unwrap_or(0);
        head.truncate(n);
        if partitionable && has_partition_table(&head) {
            return None;
        }
        if signature(&head).is_some() {
            return None;
        }
        if self.md_component_detection && is_md_component(&head, size) {
            return None;
        }
        Some((d, super::probe::Probed::new(f, head)))
    }

    fn open(accepted: (Device, super::probe::Probed)) -> ScanDevice {
        let (d, io) = accepted;
        ScanDevice {
            devno: d.devno,
            name: d.name(),
            io: Box::new(io),
        }
    }

    /// The device cache (all known devices, unfiltered).
    pub fn cache(&self) -> &DevCache {
        &self.cache
    }
}

impl DeviceSource for SystemDevices {
    fn all(&mut self) -> Vec<ScanDevice> {
        let devs: Vec<Device> = self.cache.iter().cloned().collect();
        // the filters wait on each device's first read: several devices at a time
        super::probe::map_parallel(&devs, |d| self.accept(d))
            .into_iter()
            .flatten()
            .map(Self::open)
            .collect()
    }

    fn by_path(&mut self, path: &str) -> Lookup {
        let p = Path::new(path);
        let dev = self.cache.by_path(p).cloned().or_else(|| {
            // a block device node outside the scan dirs
            let md = std::fs::metadata(p).ok()?;
            if md.file_type().is_block_device() {
                self.cache.add(md.rdev(), p.to_path_buf(), false);
                self.cache.get(md.rdev()).cloned()
            } else {
                None
            }
        });
        match dev {
            None => Lookup::NotFound,
            Some(d) => match self.accept(&d).map(Self::open) {
                Some(s) => Lookup::Found(s),
                None => Lookup::Filtered(d.devno),
            },
        }
    }

    fn by_devno(&mut self, devno: u64) -> Lookup {
        match self.cache.get(devno).cloned() {
            None => Lookup::NotFound,
            Some(d) => match self.accept(&d).map(Self::open) {
                Some(s) => Lookup::Found(s),
                None => Lookup::Filtered(d.devno),
            },
        }
    }
}
