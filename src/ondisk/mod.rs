//! The on-disk PV reader: what LVM2 2.02.188's label scan reads from a block device
//! (docs/reference/ondisk-and-scan.md, Part A; worked examples in Part C).
//!
//! Layers, bottom up:
//! * [`device`]: the I/O seam ([`BlockRead`], implemented for [`std::fs::File`], byte
//!   slices and `Vec<u8>`), with LVM's read-failure messages. Every read is bounds-checked
//!   against the device size before anything is allocated, so no on-disk size can make
//!   the reader allocate more than the device holds.
//! * [`label`]: the label search in sectors 0..3, `label_header`, `pv_header` (data and
//!   metadata area lists) and `pv_header_extension` -> [`Label`] ([`read_label`]).
//! * [`mda`]: `mda_header` validation (LVM's order and messages), `raw_locn` slots, the
//!   circular buffer and the metadata text checksum ([`read_mda_header`],
//!   [`read_metadata_text`]).
//! * [`summary`]: the metadata text summary taken during the scan (VG name rules, VG id,
//!   status flags, seqno, system_id, lock_type, creation_host) -> [`VgSummary`].
//! * [`pv`]: one metadata area as the label scan processes it ([`read_mda`] ->
//!   [`MdaInfo`], with `free_sectors` computed as 2.02.188 does), a whole device as
//!   `_text_read` processes it ([`scan_pv`] -> [`PvScan`], with everything `pv_found`'s
//!   `pvmeta` carries: [`PvMeta`]), and the `vg_read` path pvscan uses to read the VG
//!   it sends ([`read_vg_text`]).
//!
//! Messages: every function takes a [`Log`] and appends what LVM would have logged, in
//! LVM's exact wording and at LVM's level ([`crate::client::port::Level`]); the scan layer decides
//! what to print. Nothing here panics on any input: all offsets and sizes coming from
//! the disk are checked (the unit tests and `tests/ondisk.rs` mutate real images to
//! make sure).
//!
//! Where LVM has no defined behaviour (it reads past its 512-byte label buffer, or past
//! the end of the device into stale cache memory), this reader refuses instead; those
//! places are listed on the functions concerned.

#![forbid(unsafe_code)]

pub mod device;
pub mod export;
pub mod label;
pub mod mda;
pub mod pv;
pub mod summary;

pub use device::{read_exact_at, BlockRead};
pub use label::{read_label, DiskLocn, Label, LabelError};
pub use mda::{
    read_mda_header, read_metadata_text, wrap_of, MdaHeader, MdaHeaderError, RawLocn, TextError,
};
pub use pv::{
    read_mda, read_vg_text, scan_pv, MdaInfo, Metadata, MetadataError, PvMeta, PvMetaMda, PvScan,
    ScannedPv, VgText,
};
pub use summary::{parse_vg_summary, validate_name, SummaryError, VgSummary};

use crate::client::port::Level;
use std::fmt;

/// `INITIAL_CRC` (lib/misc/crc.h): the seed of every on-disk checksum.
pub const INITIAL_CRC: u32 = 0xf597_a6cf;
/// One sector (`SECTOR_SIZE`).
pub const SECTOR_SIZE: u64 = 512;
/// `NAME_LEN`: a VG name holds at most `NAME_LEN - 1` characters.
pub const NAME_LEN: usize = 128;
/// `ID_LEN`: PV and VG ids are 32 characters.
pub const ID_LEN: usize = 32;

/// LVM's `calc_crc` with the on-disk seed.
pub fn disk_crc(buf: &[u8]) -> u32 {
    crate::client::token::calc_crc(INITIAL_CRC, buf)
}

/// One message as LVM would log it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub level: Level,
    pub text: String,
}

/// Where the reader puts its messages, in the order LVM logs them.
pub type Log = Vec<Message>;

pub(crate) fn push(log: &mut Log, level: Level, text: impl Into<String>) {
    log.push(Message {
        level,
        text: text.into(),
    });
}

/// Why reading a PV failed. `Display` gives the first (most specific) message LVM logs
/// for it; the full sequence is in the [`Log`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScanError {
    /// The device size could not be found, or the label sectors could not be read
    /// (LVM: debug `"Scan failed to read <dev>."`; the device is skipped).
    Device { detail: String },
    /// A label sector was accepted but its `pv_header` does not fit in the sector
    /// (LVM has no check here and reads past its buffer).
    Label(LabelError),
    /// The `mda_header` at `start` failed validation (docs/reference/ondisk-and-scan.md A2.1).
    MdaHeader { start: u64, error: MdaHeaderError },
    /// The metadata of the mda at `start` failed (docs/reference/ondisk-and-scan.md A2.2 step 3).
    Metadata { start: u64, error: MetadataError },
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScanError::Device { detail } => write!(f, "device read failed: {detail}"),
            ScanError::Label(e) => write!(f, "{e}"),
            ScanError::MdaHeader { start, error } => {
                write!(f, "metadata area header at {start}: {error}")
            }
            ScanError::Metadata { start, error } => {
                write!(f, "metadata area at {start}: {error}")
            }
        }
    }
}

impl std::error::Error for ScanError {}
