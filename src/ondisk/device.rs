//! The I/O seam: everything the reader reads goes through [`BlockRead`].
//!
//! LVM reads through its block cache (`bcache`, 128 KiB blocks). Reads that fail make
//! `dev_read_bytes` log `"Error reading device <dev> at <start> length <len>."`; the
//! callers then log their own message. This module reproduces that, with one rule LVM
//! does not have: a read that would extend past the end of the device fails (LVM's
//! block cache accepts a short block read of at least one sector and hands out
//! whatever memory lies beyond it, so for such reads LVM has no defined result).

use super::{push, Log};
use crate::client::port::Level;
use std::fs::File;
use std::io::{self, Seek, SeekFrom};

/// A readable block device (or an image of one).
///
/// `read_at` has `pread` semantics: it may return fewer bytes than asked for (the reader
/// then asks again for the rest) and returns `Ok(0)` at or past the end of the data.
/// `ErrorKind::Interrupted` is retried; every other error fails the read.
pub trait BlockRead {
    /// Size of the device in bytes.
    fn size(&self) -> io::Result<u64>;
    /// Read up to `buf.len()` bytes at byte offset `off`.
    fn read_at(&self, off: u64, buf: &mut [u8]) -> io::Result<usize>;
}

impl BlockRead for File {
    /// Regular files: their length; block devices (whose metadata length is 0): the
    /// position of their end.
    fn size(&self) -> io::Result<u64> {
        let md = self.metadata()?;
        if md.is_file() {
            return Ok(md.len());
        }
        let mut f: &File = self;
        f.seek(SeekFrom::End(0))
    }

    fn read_at(&self, off: u64, buf: &mut [u8]) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(self, buf, off)
    }
}

impl BlockRead for [u8] {
    fn size(&self) -> io::Result<u64> {
        Ok(self.len() as u64)
    }

    fn read_at(&self, off: u64, buf: &mut [u8]) -> io::Result<usize> {
        let len = self.len() as u64;
        if off >= len {
            return Ok(0);
        }
        let start = off as usize;
        let n = buf.len().min(self.len() - start);
        buf[..n].copy_from_slice(&self[start..start + n]);
        Ok(n)
    }
}

impl BlockRead for Vec<u8> {
    fn size(&self) -> io::Result<u64> {
        self.as_slice().size()
    }

    fn read_at(&self, off: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.as_slice().read_at(off, buf)
    }
}

impl<T: BlockRead + ?Sized> BlockRead for &T {
    fn size(&self) -> io::Result<u64> {
        (**self).size()
    }

    fn read_at(&self, off: u64, buf: &mut [u8]) -> io::Result<usize> {
        (**self).read_at(off, buf)
    }
}

/// Read exactly `buf.len()` bytes at `off`, asking again after short reads.
/// A read that returns 0 before the buffer is full fails with `UnexpectedEof`.
pub fn read_exact_at(dev: &dyn BlockRead, off: u64, buf: &mut [u8]) -> io::Result<()> {
    let mut done = 0usize;
    while done < buf.len() {
        let pos = off
            .checked_add(done as u64)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "offset overflow"))?;
        match dev.read_at(pos, &mut buf[done..]) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "short read: {} bytes remaining at offset {}",
                        buf.len() - done,
                        pos
                    ),
                ))
            }
            // A reader claiming more than it was given is treated as having filled the rest.
            Ok(n) => done += n.min(buf.len() - done),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A device being scanned: the I/O object, its name (for messages) and its size.
pub(crate) struct Dev<'a> {
    pub io: &'a dyn BlockRead,
    pub name: &'a str,
    pub size: u64,
}

impl<'a> Dev<'a> {
    pub fn open(io: &'a dyn BlockRead, name: &'a str) -> io::Result<Dev<'a>> {
        Ok(Dev {
            io,
            name,
            size: io.size()?,
        })
    }

    /// Exactly `len` bytes at `off`; fails without reading (or allocating) when the
    /// range extends past the end of the device.
    pub fn read_exact(&self, off: u64, len: u64) -> io::Result<Vec<u8>> {
        if off.checked_add(len).map_or(true, |e| e > self.size) {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "{} bytes at {} extend past the end of the device ({} bytes)",
                    len, off, self.size
                ),
            ));
        }
        // len <= size, and the whole device is addressable, so this fits in usize
        // on every platform where the device could be read at all.
        let len = usize::try_from(len)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "read too large"))?;
        let mut buf = vec![0u8; len];
        read_exact_at(self.io, off, &mut buf)?;
        Ok(buf)
    }

    /// LVM's `dev_read_bytes`: on failure logs
    /// `"Error reading device <dev> at <start> length <len>."` (length printed as
    /// a 32-bit value, as LVM does) and returns `None`.
    pub fn read_bytes(&self, off: u64, len: u64, log: &mut Log) -> Option<Vec<u8>> {
        match self.read_exact(off, len) {
            Ok(b) => Some(b),
            Err(e) => {
                self.read_failed(off, len, &e, log);
                None
            }
        }
    }

    /// Up to `len` bytes at `off`, the part past the end of the device reading as
    /// zeros; fails (with `dev_read_bytes`' message) only when `off` itself is at or
    /// past the end, or on an I/O error. Used for LVM's fixed-size peeks (the 128-byte
    /// VG name read), which LVM's block cache serves even at the very end of a device.
    pub fn read_bytes_upto(&self, off: u64, len: usize, log: &mut Log) -> Option<Vec<u8>> {
        if off >= self.size {
            let e = io::Error::new(io::ErrorKind::UnexpectedEof, "offset past end of device");
            self.read_failed(off, len as u64, &e, log);
            return None;
        }
        let avail = (self.size - off).min(len as u64);
        let mut buf = self.read_bytes(off, avail, log)?;
        buf.resize(len, 0);
        Some(buf)
    }

    fn read_failed(&self, off: u64, len: u64, e: &io::Error, log: &mut Log) {
        push(
            log,
            Level::Debug,
            format!(
                "{}: read of {} bytes at {} failed: {}",
                self.name, len, off, e
            ),
        );
        push(
            log,
            Level::Error,
            format!(
                "Error reading device {} at {} length {}.",
                self.name, off, len as u32
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Chunky<'a>(&'a [u8], usize);
    impl BlockRead for Chunky<'_> {
        fn size(&self) -> io::Result<u64> {
            Ok(self.0.len() as u64)
        }
        fn read_at(&self, off: u64, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.1);
            self.0.read_at(off, &mut buf[..n])
        }
    }

    #[test]
    fn slice_reads_stop_at_end() {
        let d: &[u8] = &[1, 2, 3, 4];
        let mut b = [0u8; 8];
        assert_eq!(d.read_at(2, &mut b).unwrap(), 2);
        assert_eq!(&b[..2], &[3, 4]);
        assert_eq!(d.read_at(4, &mut b).unwrap(), 0);
        assert_eq!(d.read_at(u64::MAX, &mut b).unwrap(), 0);
    }

    #[test]
    fn short_reads_are_continued() {
        let data: Vec<u8> = (0..=255u8).collect();
        let c = Chunky(&data, 7);
        let mut b = [0u8; 100];
        read_exact_at(&c, 10, &mut b).unwrap();
        assert_eq!(b[0], 10);
        assert_eq!(b[99], 109);
    }

    #[test]
    fn reads_past_end_fail_with_lvm_message() {
        let data = vec![0u8; 1024];
        let dev = Dev::open(&data, "/dev/x").unwrap();
        let mut log = Log::new();
        assert!(dev.read_bytes(1000, 100, &mut log).is_none());
        assert_eq!(
            log.last().unwrap().text,
            "Error reading device /dev/x at 1000 length 100."
        );
        assert!(dev.read_bytes(u64::MAX, 2, &mut log).is_none());
        assert_eq!(dev.read_bytes(1000, 24, &mut log).unwrap().len(), 24);
        let b = dev.read_bytes_upto(1000, 128, &mut log).unwrap();
        assert_eq!(b.len(), 128);
        assert!(dev.read_bytes_upto(1024, 128, &mut log).is_none());
    }
}
