//! A device as the label scan processes it (docs/reference/ondisk-and-scan.md A2.2, B4.1; LVM: text_label.c
//! `_text_read` / `_read_mda_header_and_metadata`, format-text.c
//! `read_metadata_location_summary`, `_vg_read_raw_area`).

use super::device::Dev;
use super::label::{read_label, DiskLocn, Label};
use super::mda::{
    free_sectors_empty, free_sectors_used, parse_text, read_header, read_pieces, MdaHeader,
    RawLocn, TextError, TextPieces,
};
use super::summary::{leading_vg_name, parse_vg_summary, validate_name, SummaryError, VgSummary};
use super::{push, BlockRead, Log, ScanError, NAME_LEN};
use crate::client::port::Level;
use crate::config::Node;
use std::fmt;

/// The committed metadata of an mda, as the scan read it.
#[derive(Clone, Debug, PartialEq)]
pub struct Metadata {
    /// Slot 0 of the header.
    pub rlocn: RawLocn,
    /// Absolute byte offset of the text (`start + rlocn.offset`).
    pub offset: u64,
    /// Bytes of the text that continue at area offset 512 (0: not wrapped).
    pub wrap: u32,
    /// The whole text, unwrapped: `rlocn.size` bytes including the trailing NUL.
    pub text: Vec<u8>,
    /// What the scan keeps of it.
    pub summary: VgSummary,
    /// The parsed text (top-level nodes: the VG section, then `contents`, `version`, ...).
    pub config: Vec<Node>,
}

impl Metadata {
    /// The VG section (the first top-level section).
    pub fn vg_section(&self) -> Option<&Node> {
        self.config.iter().find(|n| n.is_section())
    }

    /// Names of the sections under `logical_volumes`, in text order.
    pub fn lv_names(&self) -> Vec<String> {
        self.vg_section()
            .and_then(|vg| vg.child("logical_volumes"))
            .map(|lvs| {
                lvs.children
                    .iter()
                    .filter(|n| n.is_section())
                    .map(|n| String::from_utf8_lossy(&n.key).into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// One metadata area after the label scan processed it successfully.
#[derive(Clone, Debug, PartialEq)]
pub struct MdaInfo {
    /// The area as listed in the pv_header (`start` and `size` of `pvmeta`'s `mdaN`).
    pub locn: DiskLocn,
    /// The validated header.
    pub header: MdaHeader,
    /// Slot 0 carries `RAW_LOCN_IGNORED`; nothing else was read.
    pub ignored: bool,
    /// `free_sectors` as 2.02.188 computes it during the scan (0 for an ignored mda).
    pub free_sectors: u64,
    /// The committed metadata; `None` when ignored or when slot 0's offset is 0
    /// (an orphan PV as pvcreate writes it).
    pub metadata: Option<Metadata>,
}

/// Why the metadata of an mda failed (docs/reference/ondisk-and-scan.md A2.2 step 3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetadataError {
    /// The 128 bytes at the start of the text could not be read
    /// (`"Can't read metadata location on <dev> at <abs>."`).
    NameRead,
    /// The text does not begin with a valid VG name
    /// (`"... begins with invalid VG name."`).
    LeadingName,
    /// `wrap > offset` (`"... is too large for circular buffer."`).
    TooLarge,
    /// Reading, checksumming or parsing the text failed
    /// (`"Couldn't read volume group metadata from <dev>."`, then
    /// `"... has invalid summary for VG."`).
    Text(TextError),
    /// `_read_vgsummary` failed (`"... has invalid summary for VG."`).
    Summary(SummaryError),
    /// The VG section's name is not a valid VG name (`"... has invalid VG name."`).
    VgName,
}

impl fmt::Display for MetadataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetadataError::NameRead => f.write_str("cannot read metadata location"),
            MetadataError::LeadingName => f.write_str("begins with invalid VG name"),
            MetadataError::TooLarge => f.write_str("too large for circular buffer"),
            MetadataError::Text(e) => write!(f, "{e}"),
            MetadataError::Summary(e) => write!(f, "invalid summary for VG: {e}"),
            MetadataError::VgName => f.write_str("invalid VG name"),
        }
    }
}

/// `read_metadata_location_summary` after the header was read: `Ok(None)` for the
/// "zero offset" case. `free` is updated as LVM updates `mdac->free_sectors`.
fn location_summary(
    d: &Dev<'_>,
    locn: DiskLocn,
    h: &MdaHeader,
    free: &mut u64,
    log: &mut Log,
) -> Result<Option<Metadata>, MetadataError> {
    let name = d.name;
    *free = free_sectors_empty(locn.size);
    let rlocn = *h.committed();
    let abs = locn.offset.wrapping_add(rlocn.offset);
    if rlocn.offset == 0 {
        push(
            log,
            Level::Debug,
            format!("Metadata location on {name} at {abs} has offset 0."),
        );
        return Ok(None);
    }
    let Some(buf) = d.read_bytes_upto(abs, NAME_LEN, log) else {
        push(
            log,
            Level::Error,
            format!("Can't read metadata location on {name} at {abs}."),
        );
        return Err(MetadataError::NameRead);
    };
    if !validate_name(leading_vg_name(&buf)) {
        push(
            log,
            Level::Error,
            format!("Metadata location on {name} at {abs} begins with invalid VG name."),
        );
        return Err(MetadataError::LeadingName);
    }
    let Some(pieces) = TextPieces::new(locn.offset, h.size, &rlocn) else {
        push(
            log,
            Level::Error,
            format!("Metadata location on {name} at {abs} is too large for circular buffer."),
        );
        return Err(MetadataError::TooLarge);
    };
    let invalid_summary = |log: &mut Log| {
        push(
            log,
            Level::Error,
            format!("Metadata location on {name} at {abs} has invalid summary for VG."),
        )
    };
    push(
        log,
        Level::Debug,
        format!(
            "Reading metadata summary from {name} at {} size {} (+{})",
            pieces.offset, pieces.size as i32, pieces.size2 as i32
        ),
    );
    let parsed = read_pieces(d, &pieces, rlocn.checksum, log)
        .and_then(|text| parse_text(&text, log).map(|cfg| (text, cfg)));
    let (text, config) = match parsed {
        Ok(x) => x,
        Err(e) => {
            push(
                log,
                Level::Error,
                format!("Couldn't read volume group metadata from {name}."),
            );
            invalid_summary(log);
            return Err(MetadataError::Text(e));
        }
    };
    let summary = match parse_vg_summary(&config, log) {
        Ok(s) => s,
        Err(e) => {
            invalid_summary(log);
            return Err(MetadataError::Summary(e));
        }
    };
    if !validate_name(&summary.vgname) {
        push(
            log,
            Level::Error,
            format!("Metadata location on {name} at {abs} has invalid VG name."),
        );
        return Err(MetadataError::VgName);
    }
    push(
        log,
        Level::Debug,
        format!(
            "Found metadata summary on {name} at {abs} size {} for VG {}",
            rlocn.size,
            summary.name()
        ),
    );
    *free = free_sectors_used(h.size, rlocn.size);
    Ok(Some(Metadata {
        rlocn,
        offset: abs,
        wrap: pieces.size2,
        text,
        summary,
        config,
    }))
}

fn read_mda_dev(d: &Dev<'_>, locn: DiskLocn, log: &mut Log) -> Result<MdaInfo, ScanError> {
    let name = d.name;
    let start = locn.offset;
    let header = match read_header(d, start, log) {
        Ok(h) => h,
        Err(error) => {
            push(
                log,
                Level::Error,
                format!("Failed to read mda header from {name}"),
            );
            return Err(ScanError::MdaHeader { start, error });
        }
    };
    if header.is_ignored() {
        push(
            log,
            Level::Debug,
            format!("Ignoring mda on device {name} at offset {start}"),
        );
        return Ok(MdaInfo {
            locn,
            header,
            ignored: true,
            free_sectors: 0,
            metadata: None,
        });
    }
    let mut free = 0;
    match location_summary(d, locn, &header, &mut free, log) {
        Ok(metadata) => Ok(MdaInfo {
            locn,
            header,
            ignored: false,
            free_sectors: free,
            metadata,
        }),
        Err(error) => {
            push(
                log,
                Level::Error,
                format!("Failed to read metadata summary from {name}"),
            );
            Err(ScanError::Metadata { start, error })
        }
    }
}

/// Process one metadata area as the label scan does (`_read_mda_header_and_metadata`):
/// validate the header, honour the ignored flag, read and check the committed text and
/// take its summary. On failure logs LVM's messages up to and including
/// `"Failed to read mda header from <dev>"` / `"Failed to read metadata summary from
/// <dev>"` (the caller adds `"Failed to scan VG from <dev>"`, see [`scan_pv`]).
pub fn read_mda(
    dev: &dyn BlockRead,
    dev_name: &str,
    mda: DiskLocn,
    log: &mut Log,
) -> Result<MdaInfo, ScanError> {
    match Dev::open(dev, dev_name) {
        Ok(d) => read_mda_dev(&d, mda, log),
        Err(e) => {
            push(log, Level::Debug, format!("{dev_name}: size: {e}"));
            let error = super::mda::MdaHeaderError::Read;
            push(log, Level::Error, error.lvm_message(dev_name, mda.offset));
            push(
                log,
                Level::Error,
                format!("Failed to read mda header from {dev_name}"),
            );
            Err(ScanError::MdaHeader {
                start: mda.offset,
                error,
            })
        }
    }
}

/// `pv_found`'s `mdaN` section (docs/reference/ondisk-and-scan.md B4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PvMetaMda {
    pub ignore: bool,
    pub start: u64,
    pub size: u64,
    pub free_sectors: u64,
}

/// `pv_found`'s `pvmeta` section without `device` (the scan layer knows the dev_t).
/// LVM re-reads each mda header just before writing `mdaN` and sends an empty `mdaN`
/// if that fails; a scan layer wanting that can call [`super::read_mda_header`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PvMeta {
    /// From the pv_header, in bytes.
    pub dev_size: u64,
    /// Always `"lvm2"`.
    pub format: &'static str,
    pub label_sector: u64,
    /// Dashed PV uuid.
    pub id: String,
    pub ext_version: u32,
    pub ext_flags: u32,
    pub mdas: Vec<PvMetaMda>,
    pub das: Vec<DiskLocn>,
    pub bas: Vec<DiskLocn>,
}

/// A device whose label and every metadata area were processed successfully.
#[derive(Clone, Debug, PartialEq)]
pub struct ScannedPv {
    pub label: Label,
    /// One per pv_header mda, in pv_header order.
    pub mdas: Vec<MdaInfo>,
}

impl ScannedPv {
    /// Everything `pvmeta` carries except `device`.
    pub fn pvmeta(&self) -> PvMeta {
        PvMeta {
            dev_size: self.label.device_size,
            format: "lvm2",
            label_sector: self.label.sector,
            id: self.label.pv_uuid(),
            ext_version: self.label.ext_version,
            ext_flags: self.label.ext_flags,
            mdas: self
                .mdas
                .iter()
                .map(|m| PvMetaMda {
                    ignore: m.ignored,
                    start: m.locn.offset,
                    size: m.locn.size,
                    free_sectors: m.free_sectors,
                })
                .collect(),
            das: self.label.data_areas.clone(),
            bas: self.label.bootloader_areas.clone(),
        }
    }

    /// The metadata pvscan would send (docs/reference/ondisk-and-scan.md B3.4 step 3): among the non-ignored mdas
    /// with metadata, the highest seqno, the first one on ties.
    pub fn best_metadata(&self) -> Option<&Metadata> {
        let mut best: Option<&Metadata> = None;
        for m in self.mdas.iter().filter_map(|m| m.metadata.as_ref()) {
            if best.map_or(true, |b| m.summary.seqno > b.summary.seqno) {
                best = Some(m);
            }
        }
        best
    }
}

/// The result of scanning one device.
#[derive(Clone, Debug, PartialEq)]
pub enum PvScan {
    /// No LVM label in sectors 0..3: not a PV.
    NoLabel,
    /// A label was found but an mda failed: LVM drops the PV from its cache and the
    /// device is not reported (`"Failed to scan VG from <dev>"` was logged). A bad first
    /// mda hides a good second one.
    Failed { label: Label, error: ScanError },
    /// A PV.
    Pv(ScannedPv),
}

/// Scan one device as `_text_read` does: the label, then each mda in pv_header order,
/// stopping at the first failure.
///
/// `Err` is returned when the device could not be read at all or the label's pv_header
/// does not fit in its sector (see [`read_label`]); LVM skips such a device.
pub fn scan_pv(dev: &dyn BlockRead, dev_name: &str, log: &mut Log) -> Result<PvScan, ScanError> {
    let Some(label) = read_label(dev, dev_name, log)? else {
        return Ok(PvScan::NoLabel);
    };
    let d = match Dev::open(dev, dev_name) {
        Ok(d) => d,
        Err(e) => {
            return Err(ScanError::Device {
                detail: format!("{dev_name}: size: {e}"),
            })
        }
    };
    let mut mdas = Vec::with_capacity(label.mdas.len());
    for &locn in &label.mdas {
        match read_mda_dev(&d, locn, log) {
            Ok(m) => mdas.push(m),
            Err(error) => {
                push(
                    log,
                    Level::Error,
                    format!("Failed to scan VG from {dev_name}"),
                );
                return Ok(PvScan::Failed { label, error });
            }
        }
    }
    Ok(PvScan::Pv(ScannedPv { label, mdas }))
}

/// Metadata text read by the `vg_read` path.
#[derive(Clone, Debug, PartialEq)]
pub struct VgText {
    /// The slot used (the precommitted one only when asked for and usable).
    pub rlocn: RawLocn,
    pub precommitted: bool,
    /// Absolute offset of the text.
    pub offset: u64,
    pub wrap: u32,
    pub text: Vec<u8>,
    pub config: Vec<Node>,
}

/// The text part of `_vg_read_raw_area`, the read pvscan uses for the VG it sends to
/// lvmetad (docs/reference/ondisk-and-scan.md B3.4 step 3): header, slot choice (slot 1 only when `precommitted`,
/// non-empty and different from slot 0), no metadata (offset and size 0) -> `None`,
/// VG name check at the start of the text (skipped when `vgname` is empty or the mda
/// is ignored), circular buffer, checksum and parse. Failures log LVM's messages and
/// give `None`. Building the VG from the config tree is left to the caller, as is
/// LVM's side effect on a wrong VG name (its lvmcache entry becomes an orphan).
pub fn read_vg_text(
    dev: &dyn BlockRead,
    dev_name: &str,
    mda: DiskLocn,
    vgname: &str,
    precommitted: bool,
    log: &mut Log,
) -> Option<VgText> {
    let not_found = |log: &mut Log| {
        push(
            log,
            Level::Debug,
            format!("VG {vgname} not found on {dev_name}"),
        )
    };
    let header = match Dev::open(dev, dev_name) {
        Ok(d) => read_header(&d, mda.offset, log).ok(),
        Err(_) => {
            let e = super::mda::MdaHeaderError::Read;
            push(log, Level::Error, e.lvm_message(dev_name, mda.offset));
            None
        }
    };
    let Some(h) = header else {
        push(
            log,
            Level::Error,
            format!("Failed to read vg {vgname} from {dev_name}"),
        );
        return None;
    };
    let d = Dev::open(dev, dev_name).ok()?;
    let slot0 = *h.committed();
    let slot1 = *h.precommitted();
    let use_pre = precommitted && slot1.size != 0 && slot1.offset != slot0.offset;
    let rlocn = if use_pre { slot1 } else { slot0 };
    if rlocn.offset == 0 && rlocn.size == 0 {
        not_found(log);
        return None;
    }
    let abs = mda.offset.wrapping_add(rlocn.offset);
    if !vgname.is_empty() && !slot0.is_ignored() {
        // LVM reads NAME_LEN bytes into a zeroed NAME_LEN + 2 buffer.
        let Some(mut buf) = d.read_bytes_upto(abs, NAME_LEN, log) else {
            push(
                log,
                Level::Error,
                format!("Failed to read metadata location vg {dev_name} at {abs}"),
            );
            not_found(log);
            return None;
        };
        buf.extend_from_slice(&[0, 0]);
        let n = vgname.len();
        let matches = n < buf.len()
            && &buf[..n] == vgname.as_bytes()
            && (matches!(buf[n], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b'{'));
        if !matches {
            let shown = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
            push(
                log,
                Level::Error,
                format!(
                    "Metadata on {dev_name} at {abs} has wrong VG name \"{}\" expected {vgname}.",
                    String::from_utf8_lossy(&buf[..shown])
                ),
            );
            not_found(log);
            return None;
        }
    }
    let Some(pieces) = TextPieces::new(mda.offset, h.size, &rlocn) else {
        push(
            log,
            Level::Error,
            format!(
                "Metadata for VG {vgname} on {dev_name} at {abs} size {} is too large for circular buffer.",
                rlocn.size
            ),
        );
        return None;
    };
    push(
        log,
        Level::Debug,
        format!(
            "Reading metadata from {dev_name} at {} size {} (+{})",
            pieces.offset, pieces.size as i32, pieces.size2 as i32
        ),
    );
    let parsed = read_pieces(&d, &pieces, rlocn.checksum, log)
        .and_then(|text| parse_text(&text, log).map(|cfg| (text, cfg)));
    let (text, config) = match parsed {
        Ok(x) => x,
        Err(_) => {
            push(
                log,
                Level::Error,
                format!("Couldn't read volume group metadata from {dev_name}."),
            );
            return None;
        }
    };
    push(
        log,
        Level::Debug,
        format!(
            "Found metadata on {dev_name} at {abs} size {} for VG {vgname}",
            rlocn.size
        ),
    );
    Some(VgText {
        rlocn,
        precommitted: use_pre,
        offset: abs,
        wrap: pieces.size2,
        text,
        config,
    })
}

#[cfg(test)]
mod tests {
    use super::super::label::tests::make_sector;
    use super::super::mda::tests::header_bytes;
    use super::super::mda::MdaHeaderError;
    use super::*;

    const VGID: &str = "Z7aY8p-H1bc-94SG-dwkH-HFZA-zxsW-vSzhY5";

    /// A PV with the given mdas (offset, size) whose slot 0 points at `texts` (area
    /// offset, text bytes without the NUL; `None`: no metadata), `flags` in slot 0.
    /// (mda offset, mda size, slot-0 text, slot-0 flags)
    type MdaSpec<'a> = (u64, u64, Option<(u64, &'a str)>, u32);

    fn device(mdas: &[MdaSpec<'_>]) -> Vec<u8> {
        let mut d = vec![0u8; 4 << 20];
        let locns: Vec<DiskLocn> = mdas
            .iter()
            .map(|&(offset, size, _, _)| DiskLocn { offset, size })
            .collect();
        let da = DiskLocn {
            offset: 3 << 20,
            size: 0,
        };
        d[512..1024].copy_from_slice(&make_sector(1, &[da], &locns, Some((2, 1))));
        for &(start, size, text, flags) in mdas {
            let mut rl = RawLocn {
                flags,
                ..RawLocn::default()
            };
            if let Some((off, t)) = text {
                let mut bytes = t.as_bytes().to_vec();
                bytes.push(0);
                rl.offset = off;
                rl.size = bytes.len() as u64;
                rl.checksum = super::super::disk_crc(&bytes);
                // place it circularly
                for (i, b) in bytes.iter().enumerate() {
                    let mut o = off + i as u64;
                    if o >= size {
                        o = o - size + 512;
                    }
                    d[(start + o) as usize] = *b;
                }
            }
            let h = header_bytes(start, size, &[rl]);
            d[start as usize..start as usize + 512].copy_from_slice(&h);
        }
        d
    }

    fn text(vg: &str, seqno: u32) -> String {
        format!(
            "{vg} {{\nid = \"{VGID}\"\nseqno = {seqno}\nformat = \"lvm2\"\n\
             status = [\"RESIZEABLE\", \"READ\", \"WRITE\"]\nflags = []\n\
             physical_volumes {{\n}}\n}}\n\
             contents = \"Text Format Volume Group\"\nversion = 1\n\
             creation_host = \"h\"\t# Linux h\n"
        )
    }

    fn run(d: &[u8]) -> (Result<PvScan, ScanError>, Vec<String>) {
        let mut log = Log::new();
        let r = scan_pv(&d, "/dev/t", &mut log);
        let printed = log
            .into_iter()
            .filter(|m| m.level <= Level::Warn)
            .map(|m| m.text)
            .collect();
        (r, printed)
    }

    fn ok(r: Result<PvScan, ScanError>) -> ScannedPv {
        match r {
            Ok(PvScan::Pv(p)) => p,
            other => panic!("{other:?}"),
        }
    }

    fn failed(r: Result<PvScan, ScanError>) -> ScanError {
        match r {
            Ok(PvScan::Failed { error, .. }) => error,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ignored_mda_as_in_spec_c4() {
        let d = device(&[(4096, 1044480, None, 1)]);
        let (r, p) = run(&d);
        assert!(p.is_empty());
        let pv = ok(r);
        assert_eq!(
            pv.pvmeta().mdas,
            vec![PvMetaMda {
                ignore: true,
                start: 4096,
                size: 1044480,
                free_sectors: 0
            }]
        );
        assert!(pv.best_metadata().is_none());
        // an ignored mda with metadata is not read either
        let t = text("vg1", 3);
        let d = device(&[(4096, 1044480, Some((512, &t)), 1)]);
        let pv = ok(run(&d).0);
        assert!(pv.mdas[0].ignored && pv.mdas[0].metadata.is_none());
    }

    #[test]
    fn two_mdas_highest_seqno_wins() {
        let a = text("vg1", 3);
        let b = text("vg1", 5);
        let d = device(&[
            (4096, 65536, Some((512, &a)), 0),
            (1 << 20, 65536, Some((1024, &b)), 0),
        ]);
        let (r, p) = run(&d);
        assert!(p.is_empty(), "{p:?}");
        let pv = ok(r);
        assert_eq!(pv.best_metadata().unwrap().summary.seqno, 5);
        let m = pv.pvmeta();
        assert_eq!(m.mdas.len(), 2);
        // (65536 - 512 - 2 * 512) / 2 >> 9 = 62
        assert_eq!(m.mdas[0].free_sectors, 62);
        assert_eq!(m.mdas[1].start, 1 << 20);
        assert_eq!(
            m.das,
            vec![DiskLocn {
                offset: 3 << 20,
                size: 0
            }]
        );
        assert_eq!(m.ext_flags, 1);
    }

    #[test]
    fn bad_first_mda_hides_good_second() {
        let b = text("vg1", 5);
        let mut d = device(&[
            (4096, 65536, None, 0),
            (1 << 20, 65536, Some((1024, &b)), 0),
        ]);
        d[4096 + 10] ^= 1; // breaks the first header's magic and checksum
        let (r, p) = run(&d);
        assert_eq!(
            failed(r),
            ScanError::MdaHeader {
                start: 4096,
                error: MdaHeaderError::Checksum
            }
        );
        assert_eq!(
            p,
            vec![
                "Incorrect checksum in metadata area header on /dev/t at 4096",
                "Failed to read mda header from /dev/t",
                "Failed to scan VG from /dev/t",
            ]
        );
    }

    #[test]
    fn wrapped_text() {
        let t = text("vg1", 9);
        let d = device(&[(4096, 8192, Some((8192 - 100, &t)), 0)]);
        let (r, p) = run(&d);
        assert!(p.is_empty(), "{p:?}");
        let pv = ok(r);
        let md = pv.mdas[0].metadata.as_ref().unwrap();
        assert_eq!(md.wrap as usize, t.len() + 1 - 100);
        assert_eq!(&md.text[..t.len()], t.as_bytes());
        assert_eq!(md.summary.seqno, 9);
        // (8192 - 512 - 2 * 512) / 2 >> 9 = 6
        assert_eq!(pv.mdas[0].free_sectors, 6);
    }

    #[test]
    fn metadata_errors_and_messages() {
        // leading name invalid
        let t = text("-vg", 1);
        let (r, p) = run(&device(&[(4096, 65536, Some((512, &t)), 0)]));
        assert_eq!(
            failed(r),
            ScanError::Metadata {
                start: 4096,
                error: MetadataError::LeadingName
            }
        );
        assert_eq!(
            p,
            vec![
                "Metadata location on /dev/t at 4608 begins with invalid VG name.",
                "Failed to read metadata summary from /dev/t",
                "Failed to scan VG from /dev/t",
            ]
        );
        // valid leading word, invalid section name
        let t = format!("x = 1\n{}", text("-vg", 1));
        let (r, p) = run(&device(&[(4096, 65536, Some((512, &t)), 0)]));
        assert_eq!(
            failed(r),
            ScanError::Metadata {
                start: 4096,
                error: MetadataError::VgName
            }
        );
        assert_eq!(
            p[0],
            "Metadata location on /dev/t at 4608 has invalid VG name."
        );
        // parse error
        let t = "vg1 {\nid = \n}\n";
        let (r, p) = run(&device(&[(4096, 65536, Some((512, t)), 0)]));
        assert!(matches!(
            failed(r),
            ScanError::Metadata {
                error: MetadataError::Text(TextError::Parse(_)),
                ..
            }
        ));
        assert!(p[0].starts_with("Parse error at byte "), "{p:?}");
        assert_eq!(p[1], "Couldn't read volume group metadata from /dev/t.");
        assert_eq!(
            p[2],
            "Metadata location on /dev/t at 4608 has invalid summary for VG."
        );
        // summary error
        let t = "vg1 {\nseqno = 1\n}\n";
        let (r, p) = run(&device(&[(4096, 65536, Some((512, t)), 0)]));
        assert_eq!(
            failed(r),
            ScanError::Metadata {
                start: 4096,
                error: MetadataError::Summary(SummaryError::Uuid)
            }
        );
        assert_eq!(
            p,
            vec![
                "Couldn't find uuid.",
                "Couldn't read uuid for volume group vg1.",
                "Metadata location on /dev/t at 4608 has invalid summary for VG.",
                "Failed to read metadata summary from /dev/t",
                "Failed to scan VG from /dev/t",
            ]
        );
    }

    #[test]
    fn too_large_for_circular_buffer() {
        // offset 512, size claims more than the area: wrap = 512 + n - S > 512
        let mut d = device(&[(4096, 8192, None, 0)]);
        let rl = RawLocn {
            offset: 512,
            size: 9000,
            checksum: 0,
            flags: 0,
        };
        d[4096..4096 + 512].copy_from_slice(&header_bytes(4096, 8192, &[rl]));
        d[4096 + 512..4096 + 516].copy_from_slice(b"vg1 ");
        let (r, p) = run(&d);
        assert_eq!(
            failed(r),
            ScanError::Metadata {
                start: 4096,
                error: MetadataError::TooLarge
            }
        );
        assert_eq!(
            p[0],
            "Metadata location on /dev/t at 4608 is too large for circular buffer."
        );
        let mut log = Log::new();
        let locn = DiskLocn {
            offset: 4096,
            size: 8192,
        };
        assert!(read_vg_text(&d, "/dev/t", locn, "vg1", false, &mut log).is_none());
        assert_eq!(
            log.iter().find(|m| m.level == Level::Error).unwrap().text,
            "Metadata for VG vg1 on /dev/t at 4608 size 9000 is too large for circular buffer."
        );
    }

    #[test]
    fn precommitted_slot() {
        let a = text("vg1", 3);
        let b = text("vg1", 4);
        let mut d = device(&[(4096, 65536, Some((512, &a)), 0)]);
        let mut bb = b.as_bytes().to_vec();
        bb.push(0);
        d[4096 + 1024..4096 + 1024 + bb.len()].copy_from_slice(&bb);
        let slots = [
            RawLocn {
                offset: 512,
                size: a.len() as u64 + 1,
                checksum: super::super::disk_crc(&[a.as_bytes(), b"\0"].concat()),
                flags: 0,
            },
            RawLocn {
                offset: 1024,
                size: bb.len() as u64,
                checksum: super::super::disk_crc(&bb),
                flags: 0,
            },
        ];
        d[4096..4096 + 512].copy_from_slice(&header_bytes(4096, 65536, &slots));
        let locn = DiskLocn {
            offset: 4096,
            size: 65536,
        };
        let mut log = Log::new();
        let t = read_vg_text(&d, "/dev/t", locn, "vg1", true, &mut log).unwrap();
        assert!(t.precommitted);
        assert_eq!(t.text, bb);
        let t = read_vg_text(&d, "/dev/t", locn, "vg1", false, &mut log).unwrap();
        assert!(!t.precommitted);
        // the scan only ever looks at slot 0
        assert_eq!(ok(run(&d).0).best_metadata().unwrap().summary.seqno, 3);
    }

    #[test]
    fn zero_offset_is_an_orphan() {
        let (r, p) = run(&device(&[(4096, 1044480, None, 0)]));
        assert!(p.is_empty());
        let pv = ok(r);
        assert!(pv.mdas[0].metadata.is_none());
        assert_eq!(pv.mdas[0].free_sectors, 1019);
    }
}
