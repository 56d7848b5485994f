//! Reading devices once. The filters that look at a device's first bytes (partition
//! table, signatures, md superblock) and the label scan share one descriptor and one
//! read of the head ([`Probed`]): a block device's page cache is dropped when its last
//! opener closes it, so opening it again for the scan would read the same sectors from
//! the device twice. Readahead is turned off on that descriptor (`POSIX_FADV_RANDOM`):
//! a scan needs a few KiB of each device (label, mda header, metadata text), and the
//! kernel would otherwise read up to `read_ahead_kb` behind every small read.

use crate::ondisk::BlockRead;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;

/// How much of each device the filters read: sector 0 (partition table), the LVM1/pool
/// and md signatures near the start, and LVM's label sectors 0-3 with the pv_header,
/// and the usual first metadata area header at 4 KiB.
pub const PROBE_BYTES: usize = 8192;

/// Open a device (or image file) for reading, without readahead.
/// A scan holds one descriptor per device until it is done: out of descriptors (the
/// usual soft limit is 1,024), the soft limit is raised to the hard one and the open
/// tried again, so no device is dropped for want of a descriptor.
pub fn open_device(path: &Path) -> Option<File> {
    let f = match File::open(path) {
        Err(e) if e.raw_os_error() == Some(libc::EMFILE) && raise_nofile() => {
            File::open(path).ok()?
        }
        r => r.ok()?,
    };
    // SAFETY: an advice call on a descriptor the File owns; a failure only leaves the
    // default readahead.
    unsafe {
        libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_RANDOM);
    }
    Some(f)
}

/// Raise the soft limit of open files to the hard limit; false when it already was.
fn raise_nofile() -> bool {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit on a local struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) != 0 || rl.rlim_cur >= rl.rlim_max {
            return false;
        }
        rl.rlim_cur = rl.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &rl) == 0
    }
}

/// An open device with the bytes already read from its start; later reads inside them
/// are served from memory, others go to the device.
pub struct Probed {
    file: File,
    head: Vec<u8>,
}

impl Probed {
    pub fn new(file: File, head: Vec<u8>) -> Probed {
        Probed { file, head }
    }
}

impl BlockRead for Probed {
    fn size(&self) -> std::io::Result<u64> {
        self.file.size()
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        match from_head(&self.head, off, buf) {
            Some(n) => Ok(n),
            None => self.file.read_at(off, buf),
        }
    }
}

/// A read served from `head` (the device's first bytes, already read) when it lies
/// inside them; None when the device must be read.
pub fn from_head(head: &[u8], off: u64, buf: &mut [u8]) -> Option<usize> {
    let end = off.checked_add(buf.len() as u64)?;
    if end > head.len() as u64 {
        return None;
    }
    let o = off as usize;
    buf.copy_from_slice(&head[o..o + buf.len()]);
    Some(buf.len())
}

/// Most threads used to wait on device reads at once.
pub const MAX_WORKERS: usize = 16;

/// `f` over `items` on up to [`MAX_WORKERS`] threads (each device read waits on the
/// device, not the CPU); the results in the items' order. A worker that panics loses its
/// items' results (None).
pub fn map_parallel<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> Option<R> + Sync,
) -> Vec<Option<R>> {
    let workers = items.len().clamp(1, MAX_WORKERS);
    if workers == 1 {
        return items.iter().map(&f).collect();
    }
    let mut out: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    let f = &f;
    std::thread::scope(|sc| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                sc.spawn(move || {
                    (w..items.len())
                        .step_by(workers)
                        .map(|i| (i, f(&items[i])))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            if let Ok(v) = h.join() {
                for (i, r) in v {
                    out[i] = r;
                }
            }
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_map_keeps_the_order() {
        let v: Vec<u32> = (0..100).collect();
        let r = map_parallel(&v, |&x| if x % 3 == 0 { None } else { Some(x * 2) });
        for (i, x) in r.iter().enumerate() {
            assert_eq!(*x, if i % 3 == 0 { None } else { Some(i as u32 * 2) });
        }
        assert!(map_parallel::<u32, u32>(&[], |&x| Some(x)).is_empty());
    }

    #[test]
    #[cfg_attr(miri, ignore)] // files
    fn probed_reads_serve_the_head_from_memory_and_the_rest_from_the_file() {
        let p = std::env::temp_dir().join(format!("probe-{}", std::process::id()));
        let data: Vec<u8> = (0..20000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&p, &data).unwrap();
        let f = open_device(&p).unwrap();
        // a head that differs from the file shows where each read came from
        let pr = Probed::new(f, vec![7u8; 100]);
        let mut b = [0u8; 10];
        assert_eq!(pr.read_at(90, &mut b).unwrap(), 10);
        assert_eq!(b, [7u8; 10]);
        assert_eq!(pr.read_at(95, &mut b).unwrap(), 10);
        assert_eq!(&b[..], &data[95..105]);
        assert_eq!(pr.size().unwrap(), 20000);
        std::fs::remove_file(&p).unwrap();
    }
}
