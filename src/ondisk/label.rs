//! The PV label: search in sectors 0..3, `label_header`, `pv_header`,
//! `pv_header_extension` (docs/reference/ondisk-and-scan.md A1; LVM: label.c `_find_lvm_header`, text_label.c
//! `_text_read`).

use super::device::Dev;
use super::{disk_crc, push, BlockRead, Log, ScanError, ID_LEN, SECTOR_SIZE};
use crate::client::id::format_id;
use crate::client::port::Level;
use std::fmt;

/// `LABEL_ID`: the first 8 bytes of a label sector.
pub const LABEL_ID: &[u8; 8] = b"LABELONE";
/// The text format's label type (`LVM2_LABEL`), bytes 24..31 of the label sector.
pub const LVM2_LABEL: &[u8; 8] = b"LVM2 001";
/// `LABEL_SCAN_SECTORS`: the label is searched in sectors 0..3.
pub const LABEL_SCAN_SECTORS: u64 = 4;
/// `LABEL_SIZE`: one label is one sector.
pub const LABEL_SIZE: usize = 512;
/// `PV_EXT_USED`: pv_header_extension flag "PV belongs to a VG".
pub const PV_EXT_USED: u32 = 0x1;

/// `disk_locn`: an area of the device, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DiskLocn {
    /// Byte offset from the start of the device.
    pub offset: u64,
    /// Size in bytes (0 for a data area means "to the end of the device").
    pub size: u64,
}

/// An accepted PV label: label_header, pv_header and pv_header_extension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// The sector (0..3) the label was found in (`label_sector` in `pv_found`).
    pub sector: u64,
    /// Whether the sector starts with `LABELONE`. LVM also accepts a sector that only
    /// has the `LVM2 001` type (docs/reference/ondisk-and-scan.md A1.1 step 4); then `sector_xl`/`crc` were not checked.
    pub has_label_id: bool,
    /// `sector_xl` as stored.
    pub sector_xl: u64,
    /// `crc_xl` as stored (it matched the sector when `has_label_id`).
    pub crc: u32,
    /// `offset_xl`: where the pv_header starts within the sector.
    pub offset_xl: u32,
    /// `pv_uuid` as stored: 32 bytes, no dashes (LVM's "pvid").
    pub pvid: [u8; ID_LEN],
    /// `device_size_xl`: device size in bytes when the label was written.
    pub device_size: u64,
    /// Data areas (pe_start, size 0 = to the end of the device).
    pub data_areas: Vec<DiskLocn>,
    /// Metadata areas (absolute offset of each mda_header, size of the area).
    pub mdas: Vec<DiskLocn>,
    /// pv_header_extension version (0: no extension).
    pub ext_version: u32,
    /// pv_header_extension flags (0 when there is no extension).
    pub ext_flags: u32,
    /// Bootloader areas (only with an extension).
    pub bootloader_areas: Vec<DiskLocn>,
}

impl Label {
    /// The PV id as stored (lossy UTF-8; real ids are ASCII).
    pub fn pvid_str(&self) -> String {
        String::from_utf8_lossy(&self.pvid).into_owned()
    }

    /// The PV id in LVM's printed form, 6-4-4-4-4-4-6 groups joined by `-`.
    pub fn pv_uuid(&self) -> String {
        format_id(&self.pvid)
    }

    /// `PV_EXT_USED` is set.
    pub fn in_use(&self) -> bool {
        self.ext_flags & PV_EXT_USED != 0
    }
}

/// A label sector LVM would accept but whose pv_header does not fit in the sector.
/// LVM reads such headers past the end of its 512-byte buffer; this reader rejects them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelError {
    /// `offset_xl` leaves no room for the pv_header inside the sector.
    HeaderOffset { sector: u64, offset_xl: u32 },
    /// A `disk_locn` list (or the extension) runs past the end of the sector.
    Unterminated { sector: u64, list: &'static str },
}

impl fmt::Display for LabelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelError::HeaderOffset { sector, offset_xl } => write!(
                f,
                "pv_header offset {offset_xl} lies outside the label sector {sector}"
            ),
            LabelError::Unterminated { sector, list } => write!(
                f,
                "{list} list of the pv_header in sector {sector} runs past the end of the sector"
            ),
        }
    }
}

/// Little-endian u32 at `at` (callers guarantee `at + 4 <= b.len()`).
pub(crate) fn le32(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

/// Little-endian u64 at `at` (callers guarantee `at + 8 <= b.len()`).
pub(crate) fn le64(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// CRC of a label sector as LVM computes it: bytes 20..512.
pub fn label_crc(sector: &[u8; LABEL_SIZE]) -> u32 {
    disk_crc(&sector[20..])
}

/// Walk one `disk_locn` list starting at `*pos`, up to and including its terminator
/// (an entry with offset 0).
fn disk_locns(
    s: &[u8; LABEL_SIZE],
    pos: &mut usize,
    sector: u64,
    list: &'static str,
) -> Result<Vec<DiskLocn>, LabelError> {
    let mut out = Vec::new();
    loop {
        if *pos + 16 > LABEL_SIZE {
            return Err(LabelError::Unterminated { sector, list });
        }
        let offset = le64(s, *pos);
        let size = le64(s, *pos + 8);
        *pos += 16;
        if offset == 0 {
            return Ok(out);
        }
        out.push(DiskLocn { offset, size });
    }
}

/// Decode an accepted label sector (`_text_read`): pv_header at `offset_xl`, the data
/// area list, the metadata area list, then the extension.
pub fn parse_label_sector(s: &[u8; LABEL_SIZE], sector: u64) -> Result<Label, LabelError> {
    let offset_xl = le32(s, 20);
    // uuid (32) + device_size (8) must fit; the lists are checked as they are walked.
    if offset_xl as usize > LABEL_SIZE - 40 {
        return Err(LabelError::HeaderOffset { sector, offset_xl });
    }
    let h = offset_xl as usize;
    let mut pvid = [0u8; ID_LEN];
    pvid.copy_from_slice(&s[h..h + ID_LEN]);
    let device_size = le64(s, h + 32);
    let mut pos = h + 40;
    let data_areas = disk_locns(s, &mut pos, sector, "data area")?;
    let mdas = disk_locns(s, &mut pos, sector, "metadata area")?;
    if pos + 4 > LABEL_SIZE {
        return Err(LabelError::Unterminated {
            sector,
            list: "pv_header_extension",
        });
    }
    let ext_version = le32(s, pos);
    let (ext_flags, bootloader_areas) = if ext_version == 0 {
        (0, Vec::new())
    } else {
        if pos + 8 > LABEL_SIZE {
            return Err(LabelError::Unterminated {
                sector,
                list: "pv_header_extension",
            });
        }
        let flags = le32(s, pos + 4);
        let mut p = pos + 8;
        (flags, disk_locns(s, &mut p, sector, "bootloader area")?)
    };
    Ok(Label {
        sector,
        has_label_id: &s[0..8] == LABEL_ID,
        sector_xl: le64(s, 8),
        crc: le32(s, 16),
        offset_xl,
        pvid,
        device_size,
        data_areas,
        mdas,
        ext_version,
        ext_flags,
        bootloader_areas,
    })
}

/// Find the label sector among `sectors` (sector 0 first), logging as
/// `_find_lvm_header` does. Returns the accepted sector number.
pub(crate) fn find_label(
    dev_name: &str,
    sectors: &[[u8; LABEL_SIZE]],
    log: &mut Log,
) -> Option<u64> {
    let mut found: Option<u64> = None;
    for (i, s) in sectors.iter().enumerate() {
        let sector = i as u64;
        if &s[0..8] == LABEL_ID {
            if found.is_some() {
                push(
                    log,
                    Level::Error,
                    format!("Ignoring additional label on {dev_name} at sector {sector}"),
                );
            }
            let sector_xl = le64(s, 8);
            if sector_xl != sector {
                push(
                    log,
                    Level::Warn,
                    format!(
                        "{dev_name}: Label for sector {sector_xl} found at sector {sector} - ignoring."
                    ),
                );
                continue;
            }
            if label_crc(s) != le32(s, 16) {
                push(
                    log,
                    Level::VeryVerbose,
                    format!("Label checksum incorrect on {dev_name} - ignoring"),
                );
                continue;
            }
            if found.is_some() {
                continue;
            }
        }
        if &s[24..32] == LVM2_LABEL {
            push(
                log,
                Level::VeryVerbose,
                format!("{dev_name}: lvm2 label detected at sector {sector}"),
            );
            if found.is_some() {
                push(
                    log,
                    Level::Error,
                    format!("Ignoring additional label on {dev_name} at sector {sector}"),
                );
                continue;
            }
            found = Some(sector);
        }
    }
    found
}

/// Read the label of a device (docs/reference/ondisk-and-scan.md A1).
///
/// * `Ok(None)`: no LVM label in sectors 0..3 (LVM: very verbose
///   `"<dev>: No lvm label detected"`, which is logged).
/// * `Ok(Some(label))`: the first accepted sector, decoded.
/// * `Err(ScanError::Device)`: the size could not be found or the sectors could not be
///   read (LVM: the scan of this device fails, debug `"Scan failed to read <dev>."`).
/// * `Err(ScanError::Label)`: the accepted sector's pv_header does not fit in it.
///
/// Only whole sectors inside the device are examined (a device shorter than 512 bytes
/// cannot be read at all; LVM's minimum block-cache read is one sector).
pub fn read_label(
    dev: &dyn BlockRead,
    dev_name: &str,
    log: &mut Log,
) -> Result<Option<Label>, ScanError> {
    let scan_failed = |log: &mut Log, detail: String| {
        push(
            log,
            Level::Debug,
            format!("Scan failed to read {dev_name}."),
        );
        ScanError::Device { detail }
    };
    let d = match Dev::open(dev, dev_name) {
        Ok(d) => d,
        Err(e) => return Err(scan_failed(log, format!("{dev_name}: size: {e}"))),
    };
    let nsect = (d.size / SECTOR_SIZE).min(LABEL_SCAN_SECTORS);
    if nsect == 0 {
        return Err(scan_failed(
            log,
            format!(
                "{dev_name}: device is shorter than one sector ({} bytes)",
                d.size
            ),
        ));
    }
    let buf = match d.read_exact(0, nsect * SECTOR_SIZE) {
        Ok(b) => b,
        Err(e) => return Err(scan_failed(log, format!("{dev_name}: {e}"))),
    };
    let sectors: Vec<[u8; LABEL_SIZE]> = buf
        .chunks_exact(LABEL_SIZE)
        .map(|c| {
            let mut s = [0u8; LABEL_SIZE];
            s.copy_from_slice(c);
            s
        })
        .collect();
    let Some(sector) = find_label(dev_name, &sectors, log) else {
        push(
            log,
            Level::VeryVerbose,
            format!("{dev_name}: No lvm label detected"),
        );
        return Ok(None);
    };
    match parse_label_sector(&sectors[sector as usize], sector) {
        Ok(label) => {
            if label.ext_version != 0 {
                push(
                    log,
                    Level::Debug,
                    format!(
                        "{dev_name}: PV header extension version {} found",
                        label.ext_version
                    ),
                );
            }
            Ok(Some(label))
        }
        Err(e) => {
            push(log, Level::Error, format!("{dev_name}: {e}."));
            Err(ScanError::Label(e))
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A label sector laid out as LVM writes it (offset_xl 32).
    pub(crate) fn make_sector(
        sector: u64,
        das: &[DiskLocn],
        mdas: &[DiskLocn],
        ext: Option<(u32, u32)>,
    ) -> [u8; LABEL_SIZE] {
        let mut s = [0u8; LABEL_SIZE];
        s[0..8].copy_from_slice(LABEL_ID);
        s[8..16].copy_from_slice(&sector.to_le_bytes());
        s[20..24].copy_from_slice(&32u32.to_le_bytes());
        s[24..32].copy_from_slice(LVM2_LABEL);
        s[32..64].copy_from_slice(b"tn32zBxhLRExD4B1SPLGyCpV4KUD6eeR");
        s[64..72].copy_from_slice(&(16u64 << 20).to_le_bytes());
        let mut p = 72;
        for l in das.iter().chain([DiskLocn::default()].iter()) {
            s[p..p + 8].copy_from_slice(&l.offset.to_le_bytes());
            s[p + 8..p + 16].copy_from_slice(&l.size.to_le_bytes());
            p += 16;
        }
        for l in mdas.iter().chain([DiskLocn::default()].iter()) {
            s[p..p + 8].copy_from_slice(&l.offset.to_le_bytes());
            s[p + 8..p + 16].copy_from_slice(&l.size.to_le_bytes());
            p += 16;
        }
        if let Some((v, f)) = ext {
            s[p..p + 4].copy_from_slice(&v.to_le_bytes());
            s[p + 4..p + 8].copy_from_slice(&f.to_le_bytes());
        }
        let crc = label_crc(&s);
        s[16..20].copy_from_slice(&crc.to_le_bytes());
        s
    }

    fn device(sectors: &[(u64, [u8; LABEL_SIZE])]) -> Vec<u8> {
        let mut d = vec![0u8; 8192];
        for (n, s) in sectors {
            let o = *n as usize * LABEL_SIZE;
            d[o..o + LABEL_SIZE].copy_from_slice(s);
        }
        d
    }

    const DA: DiskLocn = DiskLocn {
        offset: 1 << 20,
        size: 0,
    };
    const MDA: DiskLocn = DiskLocn {
        offset: 4096,
        size: 1044480,
    };

    #[test]
    fn c01_layout() {
        let s = make_sector(1, &[DA], &[MDA], Some((2, 0)));
        let d = device(&[(1, s)]);
        let mut log = Log::new();
        let l = read_label(&d, "/dev/x", &mut log).unwrap().unwrap();
        assert_eq!(l.sector, 1);
        assert_eq!(l.data_areas, vec![DA]);
        assert_eq!(l.mdas, vec![MDA]);
        assert_eq!((l.ext_version, l.ext_flags), (2, 0));
        assert_eq!(l.pv_uuid(), "tn32zB-xhLR-ExD4-B1SP-LGyC-pV4K-UD6eeR");
        assert!(log.iter().all(|m| m.level > Level::Warn));
    }

    #[test]
    fn no_extension_and_no_mdas() {
        let s = make_sector(0, &[DA], &[], None);
        let l = parse_label_sector(&s, 0).unwrap();
        assert!(l.mdas.is_empty());
        assert_eq!((l.ext_version, l.ext_flags), (0, 0));
        assert!(l.bootloader_areas.is_empty());
    }

    #[test]
    fn wrong_sector_and_bad_crc_are_skipped() {
        let wrong = make_sector(2, &[DA], &[MDA], Some((2, 0)));
        let mut bad = make_sector(1, &[DA], &[MDA], Some((2, 0)));
        bad[16] ^= 0xff;
        let d = device(&[(0, wrong), (1, bad)]);
        let mut log = Log::new();
        assert!(read_label(&d, "/dev/x", &mut log).unwrap().is_none());
        let texts: Vec<_> = log.iter().map(|m| (m.level, m.text.as_str())).collect();
        assert_eq!(
            texts,
            vec![
                (
                    Level::Warn,
                    "/dev/x: Label for sector 2 found at sector 0 - ignoring."
                ),
                (
                    Level::VeryVerbose,
                    "Label checksum incorrect on /dev/x - ignoring"
                ),
                (Level::VeryVerbose, "/dev/x: No lvm label detected"),
            ]
        );
    }

    #[test]
    fn additional_labels() {
        let a = make_sector(0, &[DA], &[MDA], Some((2, 0)));
        let b = make_sector(2, &[DA], &[], Some((2, 1)));
        let mut c = [0u8; LABEL_SIZE];
        c[24..32].copy_from_slice(LVM2_LABEL);
        let d = device(&[(0, a), (2, b), (3, c)]);
        let mut log = Log::new();
        let l = read_label(&d, "/dev/x", &mut log).unwrap().unwrap();
        assert_eq!(l.sector, 0);
        let errors: Vec<_> = log
            .iter()
            .filter(|m| m.level == Level::Error)
            .map(|m| m.text.as_str())
            .collect();
        // sector 2 (LABELONE) is reported before its checks, sector 3 (type only) when
        // the labeller accepts it
        assert_eq!(
            errors,
            vec![
                "Ignoring additional label on /dev/x at sector 2",
                "Ignoring additional label on /dev/x at sector 3",
            ]
        );
    }

    #[test]
    fn type_only_sector_is_accepted() {
        let mut s = make_sector(3, &[DA], &[], Some((1, 0)));
        s[0..8].copy_from_slice(b"NOTLABEL");
        s[16] ^= 1; // CRC is not checked without LABELONE
        let d = device(&[(3, s)]);
        let l = read_label(&d, "/dev/x", &mut Log::new()).unwrap().unwrap();
        assert_eq!(l.sector, 3);
        assert!(!l.has_label_id);
        assert_eq!(l.ext_version, 1);
    }

    #[test]
    fn header_must_fit_in_sector() {
        let mut s = make_sector(1, &[DA], &[MDA], Some((2, 0)));
        s[20..24].copy_from_slice(&480u32.to_le_bytes());
        assert!(matches!(
            parse_label_sector(&s, 1),
            Err(LabelError::HeaderOffset { .. })
        ));
        // lists that never terminate
        let mut s = make_sector(1, &[DA], &[MDA], Some((2, 0)));
        for b in s[72..].iter_mut() {
            *b = 0x11;
        }
        assert!(matches!(
            parse_label_sector(&s, 1),
            Err(LabelError::Unterminated {
                list: "data area",
                ..
            })
        ));
        let crc = label_crc(&s);
        s[16..20].copy_from_slice(&crc.to_le_bytes());
        let d = device(&[(1, s)]);
        let mut log = Log::new();
        assert!(matches!(
            read_label(&d, "/dev/x", &mut log),
            Err(ScanError::Label(_))
        ));
    }

    #[test]
    fn tiny_devices() {
        let mut log = Log::new();
        let empty: Vec<u8> = Vec::new();
        assert!(matches!(
            read_label(&empty, "/dev/x", &mut log),
            Err(ScanError::Device { .. })
        ));
        // only sector 0 present: sector 1 is not examined
        let s = make_sector(1, &[DA], &[MDA], Some((2, 0)));
        let mut d = device(&[(1, s)]);
        d.truncate(1000);
        assert!(read_label(&d, "/dev/x", &mut log).unwrap().is_none());
        d.resize(1024, 0);
        d[512..1024].copy_from_slice(&s);
        assert!(read_label(&d, "/dev/x", &mut log).unwrap().is_some());
    }
}
