//! Metadata areas: `mda_header`, `raw_locn`, the circular text buffer and the text
//! checksum (docs/reference/ondisk-and-scan.md A2; LVM: format-text.c `_raw_read_mda_header`,
//! `read_metadata_location_summary`, config.c `config_file_read_fd`).

use super::device::Dev;
use super::label::{le32, le64};
use super::{disk_crc, push, BlockRead, Log, ScanError};
use crate::client::port::Level;
use crate::config::{parse, Node, ParseError};
use std::fmt;

/// `FMTT_MAGIC`: bytes 4..20 of an mda_header.
pub const FMTT_MAGIC: &[u8; 16] = b" LVM2 x[5A%r0N*>";
/// `FMTT_VERSION`.
pub const FMTT_VERSION: u32 = 1;
/// `MDA_HEADER_SIZE`: the header occupies the first 512 bytes of the area.
pub const MDA_HEADER_SIZE: u64 = 512;
/// `RAW_LOCN_IGNORED`: `raw_locn.flags` bit marking the mda as ignored.
pub const RAW_LOCN_IGNORED: u32 = 0x1;

/// `raw_locn`: where a copy of the metadata text lives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawLocn {
    /// Start of the text, relative to the start of the metadata area.
    pub offset: u64,
    /// Length of the text in bytes (including the trailing NUL LVM writes).
    pub size: u64,
    /// `calc_crc(INITIAL_CRC, text)`.
    pub checksum: u32,
    /// `RAW_LOCN_IGNORED` etc.
    pub flags: u32,
}

impl RawLocn {
    pub fn is_ignored(&self) -> bool {
        self.flags & RAW_LOCN_IGNORED != 0
    }

    fn decode(b: &[u8]) -> RawLocn {
        RawLocn {
            offset: le64(b, 0),
            size: le64(b, 8),
            checksum: le32(b, 16),
            flags: le32(b, 20),
        }
    }
}

/// A validated `mda_header`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MdaHeader {
    /// `checksum_xl` (it matched bytes 4..512).
    pub checksum: u32,
    pub version: u32,
    /// Absolute byte offset of the header (equals the pv_header's mda offset).
    pub start: u64,
    /// Size of the whole area, header included.
    pub size: u64,
    /// Slot 0 (committed metadata) and slot 1 (precommitted), as stored.
    pub raw_locns: [RawLocn; 2],
}

impl MdaHeader {
    /// Decode the 512 header bytes without validating them.
    pub fn decode(b: &[u8; MDA_HEADER_SIZE as usize]) -> MdaHeader {
        MdaHeader {
            checksum: le32(b, 0),
            version: le32(b, 20),
            start: le64(b, 24),
            size: le64(b, 32),
            raw_locns: [RawLocn::decode(&b[40..64]), RawLocn::decode(&b[64..88])],
        }
    }

    /// Validate header bytes read at `start`, in LVM's order: checksum, magic,
    /// version, start.
    pub fn validate(
        b: &[u8; MDA_HEADER_SIZE as usize],
        start: u64,
    ) -> Result<MdaHeader, MdaHeaderError> {
        let h = MdaHeader::decode(b);
        if h.checksum != disk_crc(&b[4..]) {
            return Err(MdaHeaderError::Checksum);
        }
        if &b[4..20] != FMTT_MAGIC {
            return Err(MdaHeaderError::Magic);
        }
        if h.version != FMTT_VERSION {
            return Err(MdaHeaderError::Version(h.version));
        }
        if h.start != start {
            return Err(MdaHeaderError::Start(h.start));
        }
        Ok(h)
    }

    /// Slot 0: the committed metadata.
    pub fn committed(&self) -> &RawLocn {
        &self.raw_locns[0]
    }

    /// Slot 1: the precommitted metadata.
    pub fn precommitted(&self) -> &RawLocn {
        &self.raw_locns[1]
    }

    /// The mda is ignored (slot 0 carries `RAW_LOCN_IGNORED`).
    pub fn is_ignored(&self) -> bool {
        self.raw_locns[0].is_ignored()
    }
}

/// Why an mda_header was rejected (docs/reference/ondisk-and-scan.md A2.1, in validation order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MdaHeaderError {
    /// The 512 bytes could not be read.
    Read,
    Checksum,
    Magic,
    /// `version` is not 1.
    Version(u32),
    /// The `start` field (given) differs from where the header was read.
    Start(u64),
}

impl MdaHeaderError {
    /// LVM's message for this failure of the header at `start` on `dev`.
    pub fn lvm_message(&self, dev: &str, start: u64) -> String {
        match self {
            MdaHeaderError::Read => {
                format!("Failed to read metadata area header on {dev} at {start}")
            }
            MdaHeaderError::Checksum => {
                format!("Incorrect checksum in metadata area header on {dev} at {start}")
            }
            MdaHeaderError::Magic => {
                format!("Wrong magic number in metadata area header on {dev} at {start}")
            }
            MdaHeaderError::Version(v) => {
                format!("Incompatible version {v} metadata area header on {dev} at {start}")
            }
            MdaHeaderError::Start(s) => {
                format!("Incorrect start sector {s} in metadata area header on {dev} at {start}")
            }
        }
    }
}

impl fmt::Display for MdaHeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MdaHeaderError::Read => f.write_str("read failed"),
            MdaHeaderError::Checksum => f.write_str("incorrect checksum"),
            MdaHeaderError::Magic => f.write_str("wrong magic number"),
            MdaHeaderError::Version(v) => write!(f, "incompatible version {v}"),
            MdaHeaderError::Start(s) => write!(f, "incorrect start sector {s}"),
        }
    }
}

pub(crate) fn read_header(
    d: &Dev<'_>,
    start: u64,
    log: &mut Log,
) -> Result<MdaHeader, MdaHeaderError> {
    push(
        log,
        Level::Debug,
        format!("Reading mda header sector from {} at {}", d.name, start),
    );
    let r = match d.read_bytes(start, MDA_HEADER_SIZE, log) {
        None => Err(MdaHeaderError::Read),
        Some(b) => {
            let mut h = [0u8; MDA_HEADER_SIZE as usize];
            h.copy_from_slice(&b);
            MdaHeader::validate(&h, start)
        }
    };
    if let Err(e) = &r {
        push(log, Level::Error, e.lvm_message(d.name, start));
    }
    r
}

/// Read and validate the mda_header at absolute offset `start` (docs/reference/ondisk-and-scan.md A2.1), logging
/// LVM's messages (`"Error reading device ..."` then `"Failed to read metadata area
/// header ..."` for a failed read, or the validation message).
///
/// A header extending past the end of the device is a failed read (LVM's result there
/// depends on stale cache memory; see the module docs of `device`).
pub fn read_mda_header(
    dev: &dyn BlockRead,
    dev_name: &str,
    start: u64,
    log: &mut Log,
) -> Result<MdaHeader, ScanError> {
    let d = match Dev::open(dev, dev_name) {
        Ok(d) => d,
        Err(e) => {
            push(log, Level::Debug, format!("{dev_name}: size: {e}"));
            let error = MdaHeaderError::Read;
            push(log, Level::Error, error.lvm_message(dev_name, start));
            return Err(ScanError::MdaHeader { start, error });
        }
    };
    read_header(&d, start, log).map_err(|error| ScanError::MdaHeader { start, error })
}

/// `wrap` of docs/reference/ondisk-and-scan.md A2.3: how many bytes of the text continue at area offset 512.
/// Computed as LVM does (64-bit sum, result truncated to 32 bits).
pub fn wrap_of(rlocn: &RawLocn, area_size: u64) -> u32 {
    let end = rlocn.offset.wrapping_add(rlocn.size);
    if end > area_size {
        (end - area_size) as u32
    } else {
        0
    }
}

/// Where the two pieces of a metadata text are (absolute offsets), as LVM passes them
/// to `config_file_read_fd`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextPieces {
    pub offset: u64,
    pub size: u32,
    pub offset2: u64,
    pub size2: u32,
}

impl TextPieces {
    /// The pieces of `rlocn` in the area starting at `start` whose header says
    /// `area_size`; `None` when LVM calls it "too large for circular buffer"
    /// (`wrap > offset`).
    pub fn new(start: u64, area_size: u64, rlocn: &RawLocn) -> Option<TextPieces> {
        let wrap = wrap_of(rlocn, area_size);
        if u64::from(wrap) > rlocn.offset {
            return None;
        }
        Some(TextPieces {
            offset: start.wrapping_add(rlocn.offset),
            size: rlocn.size.wrapping_sub(u64::from(wrap)) as u32,
            offset2: start.wrapping_add(MDA_HEADER_SIZE),
            size2: wrap,
        })
    }
}

/// Why a metadata text could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TextError {
    /// `wrap > offset`.
    TooLarge,
    /// A piece could not be read (or extends past the end of the device).
    Read,
    /// The text does not match `raw_locn.checksum`.
    Checksum { expected: u32, computed: u32 },
    /// The text is not valid config syntax (or is empty).
    Parse(ParseError),
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextError::TooLarge => f.write_str("too large for circular buffer"),
            TextError::Read => f.write_str("read failed"),
            TextError::Checksum { expected, computed } => write!(
                f,
                "checksum error (raw_locn says {expected:#010x}, text has {computed:#010x})"
            ),
            TextError::Parse(e) => write!(f, "{e}"),
        }
    }
}

/// Read the pieces and verify the checksum (the read part of `config_file_read_fd`).
/// Logs `"<dev>: Checksum error at offset <offset>"` on a mismatch.
pub(crate) fn read_pieces(
    d: &Dev<'_>,
    p: &TextPieces,
    checksum: u32,
    log: &mut Log,
) -> Result<Vec<u8>, TextError> {
    let mut text = d
        .read_bytes(p.offset, u64::from(p.size), log)
        .ok_or(TextError::Read)?;
    if p.size2 > 0 {
        let more = d
            .read_bytes(p.offset2, u64::from(p.size2), log)
            .ok_or(TextError::Read)?;
        text.extend_from_slice(&more);
    }
    let computed = disk_crc(&text);
    if computed != checksum {
        push(
            log,
            Level::Error,
            format!("{}: Checksum error at offset {}", d.name, p.offset),
        );
        return Err(TextError::Checksum {
            expected: checksum,
            computed,
        });
    }
    Ok(text)
}

/// Parse a metadata text (libdm's parser, without duplicate-node checks; the text
/// ends at its NUL), logging libdm's parse error message.
pub fn parse_text(text: &[u8], log: &mut Log) -> Result<Vec<Node>, TextError> {
    parse(text).map_err(|e| {
        match e.message {
            // libdm fails an empty document without a message
            "empty document" => {}
            m @ ("Failed to read int token." | "Failed to read float token.") => {
                push(log, Level::Error, m)
            }
            m => push(
                log,
                Level::Error,
                format!("Parse error at byte {} (line {}): {}", e.byte, e.line, m),
            ),
        }
        TextError::Parse(e)
    })
}

/// Read the metadata text of `slot` (0 = committed, 1 = precommitted) of a validated
/// header: both pieces of the circular buffer, checksum verified. Returns the `size`
/// bytes of the text (with LVM's trailing NUL). Logs LVM's read and checksum messages.
pub fn read_metadata_text(
    dev: &dyn BlockRead,
    dev_name: &str,
    header: &MdaHeader,
    slot: usize,
    log: &mut Log,
) -> Result<Vec<u8>, TextError> {
    let rlocn = header.raw_locns.get(slot).copied().unwrap_or_default();
    let pieces = TextPieces::new(header.start, header.size, &rlocn).ok_or(TextError::TooLarge)?;
    let d = Dev::open(dev, dev_name).map_err(|_| TextError::Read)?;
    read_pieces(&d, &pieces, rlocn.checksum, log)
}

/// 2.02.188's free space of an mda without metadata: `((mda_size - 512) / 2) >> 9`
/// (`mda_size` from the pv_header; 64-bit wrapping arithmetic, as in LVM).
pub fn free_sectors_empty(mda_size: u64) -> u64 {
    (mda_size.wrapping_sub(MDA_HEADER_SIZE) / 2) >> 9
}

/// 2.02.188's free space of an mda holding `text_size` bytes of metadata (docs/reference/ondisk-and-scan.md A2.2
/// step 3.7): usage = `text_size` rounded up to 512; 0 when twice the usage fills
/// the buffer (`header_size - 512`), else `((buffer - 2*usage) / 2) >> 9`.
pub fn free_sectors_used(header_size: u64, text_size: u64) -> u64 {
    let rounded = text_size.wrapping_add(511);
    let usage = rounded - rounded % 512;
    let buffer = header_size.wrapping_sub(MDA_HEADER_SIZE);
    let twice = usage.wrapping_mul(2);
    if twice >= buffer {
        0
    } else {
        ((buffer - twice) / 2) >> 9
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn header_bytes(start: u64, size: u64, slots: &[RawLocn]) -> [u8; 512] {
        let mut b = [0u8; 512];
        b[4..20].copy_from_slice(FMTT_MAGIC);
        b[20..24].copy_from_slice(&1u32.to_le_bytes());
        b[24..32].copy_from_slice(&start.to_le_bytes());
        b[32..40].copy_from_slice(&size.to_le_bytes());
        for (i, r) in slots.iter().enumerate() {
            let o = 40 + 24 * i;
            b[o..o + 8].copy_from_slice(&r.offset.to_le_bytes());
            b[o + 8..o + 16].copy_from_slice(&r.size.to_le_bytes());
            b[o + 16..o + 20].copy_from_slice(&r.checksum.to_le_bytes());
            b[o + 20..o + 24].copy_from_slice(&r.flags.to_le_bytes());
        }
        let c = disk_crc(&b[4..]);
        b[0..4].copy_from_slice(&c.to_le_bytes());
        b
    }

    #[test]
    fn c04_header_bytes() {
        // docs/reference/ondisk-and-scan.md C2: checksum 0xaa59b29a
        let b = header_bytes(
            4096,
            1044480,
            &[RawLocn {
                offset: 5632,
                size: 2108,
                checksum: 0x4f447841,
                flags: 0,
            }],
        );
        assert_eq!(le32(&b, 0), 0xaa59b29a);
        let h = MdaHeader::validate(&b, 4096).unwrap();
        assert_eq!(h.committed().offset, 5632);
        assert!(!h.is_ignored());
    }

    #[test]
    fn c04_ignored_header() {
        // docs/reference/ondisk-and-scan.md C4: c01's header with the ignore flag set: checksum 0x4524581e
        let b = header_bytes(
            4096,
            1044480,
            &[RawLocn {
                flags: 1,
                ..RawLocn::default()
            }],
        );
        assert_eq!(le32(&b, 0), 0x4524581e);
        assert!(MdaHeader::validate(&b, 4096).unwrap().is_ignored());
    }

    #[test]
    fn validation_order_and_messages() {
        let good = header_bytes(4096, 1044480, &[]);
        let mut bad = good;
        bad[0] ^= 1;
        assert_eq!(
            MdaHeader::validate(&bad, 4096),
            Err(MdaHeaderError::Checksum)
        );
        // magic, version and start errors (each with a fixed-up checksum); a bad magic
        // wins over a bad version
        let fix = |mut b: [u8; 512]| {
            let c = disk_crc(&b[4..]);
            b[0..4].copy_from_slice(&c.to_le_bytes());
            b
        };
        let mut m = good;
        m[5] = b'X';
        m[20] = 2;
        assert_eq!(
            MdaHeader::validate(&fix(m), 4096),
            Err(MdaHeaderError::Magic)
        );
        let mut v = good;
        v[20] = 2;
        v[24] = 1;
        assert_eq!(
            MdaHeader::validate(&fix(v), 4096),
            Err(MdaHeaderError::Version(2))
        );
        assert_eq!(
            MdaHeader::validate(&good, 8192),
            Err(MdaHeaderError::Start(4096))
        );
        assert_eq!(
            MdaHeaderError::Start(4096).lvm_message("/dev/x", 8192),
            "Incorrect start sector 4096 in metadata area header on /dev/x at 8192"
        );
        assert_eq!(
            MdaHeaderError::Version(2).lvm_message("/dev/x", 4096),
            "Incompatible version 2 metadata area header on /dev/x at 4096"
        );
    }

    #[test]
    fn read_failure_messages() {
        let dev = vec![0u8; 2048];
        let mut log = Log::new();
        let e = read_mda_header(&dev, "/dev/x", 4096, &mut log).unwrap_err();
        assert_eq!(
            e,
            ScanError::MdaHeader {
                start: 4096,
                error: MdaHeaderError::Read
            }
        );
        let errors: Vec<_> = log
            .iter()
            .filter(|m| m.level == Level::Error)
            .map(|m| m.text.as_str())
            .collect();
        assert_eq!(
            errors,
            vec![
                "Error reading device /dev/x at 4096 length 512.",
                "Failed to read metadata area header on /dev/x at 4096"
            ]
        );
        // zeros: checksum fails first
        let mut log = Log::new();
        let e = read_mda_header(&dev, "/dev/x", 1024, &mut log).unwrap_err();
        assert!(matches!(
            e,
            ScanError::MdaHeader {
                error: MdaHeaderError::Checksum,
                ..
            }
        ));
        assert_eq!(
            log.last().unwrap().text,
            "Incorrect checksum in metadata area header on /dev/x at 1024"
        );
    }

    #[test]
    fn wrap_and_pieces() {
        // c06: offset 30720, size 2348 in a 32768-byte area -> 2048 + 300
        let r = RawLocn {
            offset: 30720,
            size: 2348,
            ..RawLocn::default()
        };
        assert_eq!(wrap_of(&r, 32768), 300);
        let p = TextPieces::new(4096, 32768, &r).unwrap();
        assert_eq!(
            p,
            TextPieces {
                offset: 34816,
                size: 2048,
                offset2: 4608,
                size2: 300
            }
        );
        let r = RawLocn {
            offset: 512,
            size: 40000,
            ..RawLocn::default()
        };
        assert_eq!(TextPieces::new(4096, 32768, &r), None);
        let r = RawLocn {
            offset: u64::MAX,
            size: u64::MAX,
            ..RawLocn::default()
        };
        let _ = TextPieces::new(u64::MAX, u64::MAX, &r);
    }

    #[test]
    fn free_sectors() {
        assert_eq!(free_sectors_empty(1044480), 1019);
        assert_eq!(free_sectors_used(1044480, 2108), 1014);
        assert_eq!(free_sectors_used(32768, 20000), 0);
        assert_eq!(free_sectors_used(32768, 0), 31);
        let _ = free_sectors_empty(0);
        let _ = free_sectors_used(0, u64::MAX);
        let _ = free_sectors_used(u64::MAX, u64::MAX - 100);
    }

    #[test]
    fn parse_error_messages() {
        let mut log = Log::new();
        assert!(parse_text(b"\0", &mut log).is_err());
        assert!(log.is_empty());
        assert!(parse_text(b"vg {\n a = \n}", &mut log).is_err());
        assert!(log[0].text.starts_with("Parse error at byte "));
    }
}
