//! The filters of the lvmetad chain that look at a device's type or its first bytes
//! (LVM2 2.02.188 `filter-type.c`, `filter-partitioned.c`, `filter-signature.c`,
//! `filter-md.c`, `filter-mpath.c`; docs/reference/ondisk-and-scan.md B1.2, A5). The ones that read
//! the device run after its first block was read ("filter after scan").

use super::devices::{major, minor};
use std::collections::HashMap;

/// The block device types LVM 2.02.188 accepts (`device-types.h`), matched as prefixes
/// of the /proc/devices names, with their partitions per disk.
pub const MAX_PARTITIONS: &[(&str, u32)] = &[
    ("sd", 16),
    ("ide", 64),
    ("md", 1),
    ("loop", 1),
    ("ramdisk", 1),
    ("device-mapper", 1),
    ("mdp", 1),
    ("dasd", 4),
    ("dac960", 8),
    ("nbd", 16),
    ("ida", 16),
    ("cciss", 16),
    ("ubd", 16),
    ("ataraid", 16),
    ("drbd", 16),
    ("emcpower", 16),
    ("power2", 16),
    ("i2o_block", 16),
    ("iseries/vd", 8),
    ("gnbd", 1),
    ("aoe", 16),
    ("xvd", 16),
    ("vdisk", 8),
    ("ps3disk", 16),
    ("virtblk", 8),
    ("mmc", 16),
    ("blkext", 1),
    ("fio", 16),
    ("mtip32xx", 16),
    ("vtms", 16),
    ("skd", 16),
    ("scm", 8),
    ("bcache", 1),
    ("nvme", 64),
    ("zvol", 16),
    ("VxDMP", 16),
];

/// Block device types of this system (`/proc/devices`), as LVM's `dev_types`.
#[derive(Clone, Debug, Default)]
pub struct DevTypes {
    /// major -> max partitions, for known types (the type filter's table)
    pub parts: HashMap<u64, u32>,
    pub dm_major: Option<u64>,
    pub md_major: Option<u64>,
    pub loop_major: Option<u64>,
    pub scsi_majors: Vec<u64>,
}

impl DevTypes {
    /// From `/proc/devices` text ("Block devices:" section) plus `devices/types` names.
    pub fn from_proc(text: &str, extra: &[String]) -> DevTypes {
        let mut t = DevTypes::default();
        let mut in_block = false;
        for line in text.lines() {
            if line.starts_with("Block devices:") {
                in_block = true;
                continue;
            }
            if !in_block {
                continue;
            }
            let mut it = line.split_whitespace();
            let (Some(m), Some(name)) = (it.next(), it.next()) else {
                continue;
            };
            let Ok(m) = m.parse::<u64>() else { continue };
            match name {
                "device-mapper" => t.dm_major = Some(m),
                "md" => t.md_major = Some(m),
                "loop" => t.loop_major = Some(m),
                "sd" => t.scsi_majors.push(m),
                _ => {}
            }
            if let Some((_, p)) = MAX_PARTITIONS.iter().find(|(n, _)| name.starts_with(n)) {
                t.parts.insert(m, *p);
            } else if extra.iter().any(|e| name.starts_with(e.as_str())) {
                t.parts.insert(m, 1);
            }
        }
        t
    }

    /// The system's types.
    pub fn system(extra: &[String]) -> DevTypes {
        DevTypes::from_proc(
            &std::fs::read_to_string("/proc/devices").unwrap_or_default(),
            extra,
        )
    }

    /// The type filter: the major is a known block type.
    pub fn known(&self, devno: u64) -> bool {
        self.parts.contains_key(&major(devno))
    }

    /// `_is_partitionable()`
    pub fn partitionable(&self, devno: u64, loop_partscan: bool) -> bool {
        let ma = major(devno);
        if Some(ma) == self.dm_major || Some(ma) == self.md_major {
            return true;
        }
        if Some(ma) == self.loop_major && loop_partscan {
            return true;
        }
        let parts = self.parts.get(&ma).copied().unwrap_or(1) as u64;
        parts > 1 && minor(devno) % parts == 0
    }
}

/// Whether a loop device scans partitions (`/sys/dev/block/M:m/loop/partscan`).
pub fn loop_partscan(devno: u64) -> bool {
    super::devices::read_attr(&format!(
        "/sys/dev/block/{}:{}/loop/partscan",
        major(devno),
        minor(devno)
    ))
    .is_some_and(|s| s.trim() == "1")
}

/// `_has_partition_table()`: an msdos partition table in sector 0.
pub fn has_partition_table(sector0: &[u8]) -> bool {
    if sector0.len() < 512 || sector0[510] != 0x55 || sector0[511] != 0xaa {
        return false;
    }
    let mut ret = false;
    for p in 0..4 {
        let e = &sector0[446 + 16 * p..446 + 16 * (p + 1)];
        if e[0] & 0x7f != 0 {
            return false;
        }
        if u32::from_le_bytes([e[12], e[13], e[14], e[15]]) != 0 {
            ret = true;
        }
    }
    ret
}

/// MD superblock magic at the start or 4 KiB (versions 1.1 and 1.2), for devices of at
/// least 256 sectors (`_native_dev_is_md` without the full check).
pub fn is_md_component(head: &[u8], size_bytes: u64) -> bool {
    if size_bytes < 256 * 512 {
        return false;
    }
    let magic = 0xa92b_4efcu32.to_le_bytes();
    let at = |o: usize| head.len() >= o + 4 && head[o..o + 4] == magic;
    at(0) || at(4096)
}

/// What the signature filter rejects (`_ignore_signature`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signature {
    Lvm1,
    GfsPool,
}

/// LVM1 (`HM` + version 1 or 2) or a GFS pool label in the first bytes.
pub fn signature(head: &[u8]) -> Option<Signature> {
    if head.len() >= 4 && head[0] == b'H' && head[1] == b'M' {
        let v = u16::from_le_bytes([head[2], head[3]]);
        if v == 1 || v == 2 {
            return Some(Signature::Lvm1);
        }
    }
    if head.len() >= 276 {
        let magic = u64::from_be_bytes(head[0..8].try_into().unwrap_or([0; 8]));
        let ver = u32::from_be_bytes(head[272..276].try_into().unwrap_or([0; 4]));
        if magic == 0x011670 && ver >> 8 == 0x0401 {
            return Some(Signature::GfsPool);
        }
    }
    None
}

/// A SCSI device (or its whole disk) held by a multipath dm device
/// (`dm/uuid` starting with `mpath-` in a holder).
pub fn is_mpath_component(devno: u64, types: &DevTypes) -> bool {
    if !types.scsi_majors.contains(&major(devno)) {
        return false;
    }
    let base = format!("/sys/dev/block/{}:{}", major(devno), minor(devno));
    let mut dirs = vec![format!("{}/holders", base)];
    // a partition: look at the whole disk's holders too
    if std::path::Path::new(&format!("{}/partition", base)).exists() {
        dirs.push(format!("{}/../holders", base));
    }
    for d in dirs {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for h in rd.flatten() {
            let uuid = std::fs::read_to_string(h.path().join("dm/uuid")).unwrap_or_default();
            if uuid.starts_with("mpath-") {
                return true;
            }
        }
    }
    false
}

/// The deferred filters on a device's first bytes. Returns the reason it is rejected.
pub fn filter_after_scan(
    head: &[u8],
    size_bytes: u64,
    partitionable: bool,
) -> Option<&'static str> {
    if partitionable && has_partition_table(head) {
        return Some("Skipping: Partition table signature found");
    }
    match signature(head) {
        Some(Signature::Lvm1) => return Some("Skipping lvm1 device"),
        Some(Signature::GfsPool) => return Some("Skipping gfs-pool device"),
        None => {}
    }
    if is_md_component(head, size_bytes) {
        return Some("Skipping md component device");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::devices::makedev;

    const PROC: &str = "Character devices:\n  1 mem\n\nBlock devices:\n  7 loop\n  8 sd\n  9 md\n 65 sd\n253 device-mapper\n259 blkext\n";

    #[test]
    fn types_and_partitionable() {
        let t = DevTypes::from_proc(PROC, &[]);
        assert!(t.known(makedev(7, 3)));
        assert!(!t.known(makedev(11, 0)));
        assert!(t.partitionable(makedev(8, 0), false));
        assert!(!t.partitionable(makedev(8, 1), false));
        assert!(t.partitionable(makedev(8, 16), false));
        assert!(t.partitionable(makedev(253, 5), false));
        assert!(t.partitionable(makedev(9, 1), false));
        assert!(!t.partitionable(makedev(7, 0), false));
        assert!(t.partitionable(makedev(7, 0), true));
        assert_eq!(t.scsi_majors, vec![8, 65]);
        let t = DevTypes::from_proc(PROC.replace("8 sd", "8 foo").as_str(), &["foo".into()]);
        assert!(t.known(makedev(8, 0)));
    }

    #[test]
    fn partition_table() {
        let mut s = vec![0u8; 512];
        assert!(!has_partition_table(&s));
        s[510] = 0x55;
        s[511] = 0xaa;
        assert!(!has_partition_table(&s)); // no non-empty entry
        s[446 + 12] = 8;
        assert!(has_partition_table(&s));
        s[446 + 16] = 0x81; // bad boot indicator in entry 1
        assert!(!has_partition_table(&s));
        s[446 + 16] = 0x80;
        assert!(has_partition_table(&s));
        assert_eq!(
            filter_after_scan(&s, 1 << 30, true),
            Some("Skipping: Partition table signature found")
        );
        assert_eq!(filter_after_scan(&s, 1 << 30, false), None);
    }

    #[test]
    fn md_lvm1_pool() {
        let mut h = vec![0u8; 8192];
        h[4096..4100].copy_from_slice(&0xa92b_4efcu32.to_le_bytes());
        assert!(is_md_component(&h, 1 << 20));
        assert!(!is_md_component(&h, 255 * 512));
        let mut l = vec![0u8; 512];
        l[0] = b'H';
        l[1] = b'M';
        l[2] = 2;
        assert_eq!(signature(&l), Some(Signature::Lvm1));
        l[2] = 3;
        assert_eq!(signature(&l), None);
        let mut p = vec![0u8; 512];
        p[0..8].copy_from_slice(&0x011670u64.to_be_bytes());
        p[272..276].copy_from_slice(&0x0004_0103u32.to_be_bytes());
        assert_eq!(signature(&p), Some(Signature::GfsPool));
    }
}
