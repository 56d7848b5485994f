//! The system's devices as `pvscan --cache` sees them: the device cache (scan dirs,
//! aliases, LVM's order) through the lvmetad filter chain. Implemented here: sysfs,
//! `devices/global_filter` (regex), type (/proc/devices), and the usable filter's size
//! check (`devices/pv_min_size`). Not yet: the partitioned, signature, md-component and
//! multipath filters (docs/scan.md).
//!
//! Extension: a regular file listed in `devices/scan` is a device (an image file); it
//! skips the sysfs and type filters.

use super::devices::{in_sysfs, known_majors, major, sysfs_size, DevCache, Device};
use super::filter_regex::{promote_alias, Decision, RegexFilter};
use super::pvscan::{DeviceSource, Lookup, ScanDevice};
use crate::host::config::LvmConfig;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Devices of this system.
pub struct SystemDevices {
    cache: DevCache,
    filter: Option<RegexFilter>,
    majors: Vec<u64>,
    min_size: u64,
    sysfs_scan: bool,
}

impl SystemDevices {
    /// Build from the configuration. Returns LVM's error lines when the global_filter is
    /// invalid.
    pub fn new(cfg: &LvmConfig) -> Result<SystemDevices, Vec<String>> {
        let filter = match cfg
            .find("devices/global_filter")
            .and_then(|n| n.values.clone())
        {
            Some(v) => Some(RegexFilter::new(&v).map_err(|e| {
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
            majors: known_majors(&types),
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

    /// The lvmetad filter chain; on acceptance, the device (with its preferred name).
    fn accept(&self, d: &Device) -> Option<Device> {
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
        if !d.is_image && !self.majors.contains(&major(d.devno)) {
            return None;
        }
        if Self::size_of(&d).unwrap_or(0) < self.min_size {
            return None;
        }
        Some(d)
    }

    fn open(d: &Device) -> Option<ScanDevice> {
        let f = std::fs::File::open(d.aliases.first()?).ok()?;
        Some(ScanDevice {
            devno: d.devno,
            name: d.name(),
            io: Box::new(f),
        })
    }

    /// The device cache (all known devices, unfiltered).
    pub fn cache(&self) -> &DevCache {
        &self.cache
    }
}

impl DeviceSource for SystemDevices {
    fn all(&mut self) -> Vec<ScanDevice> {
        let devs: Vec<Device> = self.cache.iter().cloned().collect();
        devs.iter()
            .filter_map(|d| self.accept(d))
            .filter_map(|d| Self::open(&d))
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
            Some(d) => match self.accept(&d).and_then(|d| Self::open(&d)) {
                Some(s) => Lookup::Found(s),
                None => Lookup::Filtered(d.devno),
            },
        }
    }

    fn by_devno(&mut self, devno: u64) -> Lookup {
        match self.cache.get(devno).cloned() {
            None => Lookup::NotFound,
            Some(d) => match self.accept(&d).and_then(|d| Self::open(&d)) {
                Some(s) => Lookup::Found(s),
                None => Lookup::Filtered(d.devno),
            },
        }
    }
}
