//! Device enumeration as LVM2 2.02.188 does it without udev (`dev-cache.c`): walk the
//! scan directories, keep block devices, group paths by device number into aliases in
//! LVM's preference order, and iterate in LVM's scan order (the device btree keyed by
//! the byte-swapped low 32 bits of `dev_t`), plus sysfs lookups (presence, size). Device
//! types and the other filters are in `filters.rs`.
//!
//! Extension: regular files named in `devices/scan` become devices too, so everything can
//! be tried without root (docs/scan.md). Such a file gets the device number
//! `makedev(IMAGE_MAJOR, n)` where n is its position among those files: stable across
//! runs and never a real block device (Linux assigns no block major 4095).

use nix::dir::{Dir, Type};
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{fstatat, FileStat, Mode, SFlag};
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Major number given to regular image files named in the configuration.
pub const IMAGE_MAJOR: u64 = 4095;

/// Linux `makedev` / `major` / `minor` (glibc encoding).
pub fn makedev(major: u64, minor: u64) -> u64 {
    ((major & 0xffff_f000) << 32)
        | ((major & 0xfff) << 8)
        | ((minor & 0xffff_ff00) << 12)
        | (minor & 0xff)
}
pub fn major(dev: u64) -> u64 {
    ((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff)
}
pub fn minor(dev: u64) -> u64 {
    ((dev >> 12) & 0xffff_ff00) | (dev & 0xff)
}

/// LVM's scan order key: the low 32 bits of `dev_t` with their bytes reversed.
pub fn scan_key(dev: u64) -> u32 {
    (dev as u32).swap_bytes()
}

/// One device with its paths, the preferred one first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub devno: u64,
    pub aliases: Vec<PathBuf>,
    /// A regular image file (extension), not a block device.
    pub is_image: bool,
}

impl Device {
    /// `dev_name()`: the preferred alias.
    pub fn name(&self) -> String {
        self.aliases
            .first()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|| "[unknown]".into())
    }
}

fn components(p: &Path) -> usize {
    p.to_string_lossy().matches('/').count()
}

/// `_compare_paths()`: true when `a` is preferred over `b` (built-in rules only).
pub fn prefer(a: &Path, b: &Path) -> bool {
    let sa = a.to_string_lossy();
    let sb = b.to_string_lossy();
    if sa.starts_with("/dev/") && sb.starts_with("/dev/") {
        for prefix in ["/dev/block/", "/dev/dm-", "/dev/disk/", "/dev/mapper/"] {
            let (ma, mb) = (sa.starts_with(prefix), sb.starts_with(prefix));
            if ma != mb {
                return !ma;
            }
            if ma && mb {
                break;
            }
        }
    }
    let (ca, cb) = (components(a), components(b));
    if ca != cb {
        return ca < cb;
    }
    // after the common prefix, a path whose first differing component is a symlink wins
    let (pa, pb): (Vec<_>, Vec<_>) = (a.components().collect(), b.components().collect());
    let mut prefix = PathBuf::new();
    for (x, y) in pa.iter().zip(pb.iter()) {
        if x != y {
            let la = fs::symlink_metadata(prefix.join(x))
                .map(|m| m.file_type().is_symlink())
                .unwrap_or(false);
            let lb = fs::symlink_metadata(prefix.join(y))
                .map(|m| m.file_type().is_symlink())
                .unwrap_or(false);
            if la != lb {
                return la;
            }
            break;
        }
        prefix.push(x);
    }
    sa.as_bytes() < sb.as_bytes()
}

/// What one directory entry is to the walk.
#[derive(Debug, PartialEq, Eq)]
enum Entry {
    /// A directory (not a symlink to one): walked.
    Dir,
    /// A block device node, or a symlink to one: an alias of this device number.
    Block(u64),
    Other,
}

fn kind_of(st: &FileStat) -> Option<Type> {
    match SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) {
        SFlag::S_IFDIR => Some(Type::Directory),
        SFlag::S_IFBLK => Some(Type::BlockDevice),
        SFlag::S_IFLNK => Some(Type::Symlink),
        _ => None,
    }
}

/// Classify an entry from its dirent type `ty` (`None`: the filesystem gave none) with
/// as few stats as that allows: `stat(false)` is the entry's lstat, `stat(true)` its
/// target's stat. A directory costs none, a node or a symlink one, an untyped entry
/// at most two.
fn classify(ty: Option<Type>, stat: &dyn Fn(bool) -> Option<FileStat>) -> Entry {
    let (kind, own) = match ty {
        Some(t) => (t, None),
        None => match stat(false) {
            Some(st) => match kind_of(&st) {
                Some(k) => (k, Some(st)),
                None => return Entry::Other,
            },
            None => return Entry::Other,
        },
    };
    let block = match kind {
        Type::Directory => return Entry::Dir,
        Type::BlockDevice => own.or_else(|| stat(false)),
        Type::Symlink => stat(true),
        _ => None,
    };
    match block {
        Some(st) if kind_of(&st) == Some(Type::BlockDevice) => Entry::Block(st.st_rdev),
        _ => Entry::Other,
    }
}

/// The device cache: devices by number, iterated in LVM's order.
#[derive(Clone, Debug, Default)]
pub struct DevCache {
    devs: BTreeMap<(u32, u64), Device>,
}

impl DevCache {
    /// Add one path for `devno`, keeping aliases in preference order.
    pub fn add(&mut self, devno: u64, path: PathBuf, is_image: bool) {
        let d = self
            .devs
            .entry((scan_key(devno), devno))
            .or_insert_with(|| Device {
                devno,
                aliases: Vec::new(),
                is_image,
            });
        if d.aliases.contains(&path) {
            return;
        }
        // LVM compares a new path with the current first alias only: preferred -> head,
        // otherwise tail (dev-cache.c:_add_alias).
        match d.aliases.first() {
            Some(first) if prefer(&path, first) => d.aliases.insert(0, path),
            _ => d.aliases.push(path),
        }
    }

    /// Walk `dirs` recursively (directory symlinks are not followed) and add every
    /// block device node.
    pub fn scan_dirs(&mut self, dirs: &[PathBuf]) {
        for d in dirs {
            self.walk(d, 0);
        }
    }

    fn walk(&mut self, dir: &Path, depth: usize) {
        if depth > 32 {
            return;
        }
        let md = match fs::symlink_metadata(dir) {
            Ok(m) => m,
            Err(_) => return,
        };
        if md.file_type().is_block_device() {
            self.add(md.rdev(), dir.to_path_buf(), false);
            return;
        }
        if !md.is_dir() {
            // a symlink to a block device counts as an alias
            if md.file_type().is_symlink() {
                if let Ok(t) = fs::metadata(dir) {
                    if t.file_type().is_block_device() {
                        self.add(t.rdev(), dir.to_path_buf(), false);
                    }
                }
            }
            return;
        }
        // One pass over the directory: the names with their dirent types, sorted by
        // bytes (`alphasort` in the C locale), then one stat per device entry, relative
        // to the directory's descriptor (a symlink's target, or a node's own rdev). The
        // descriptor stays open while subdirectories are walked: one per level, at most
        // 34 at the depth limit.
        let mut d = match Dir::open(
            dir,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) {
            Ok(d) => d,
            Err(_) => return,
        };
        let fd = d.as_raw_fd();
        let mut entries: Vec<(OsString, Option<Type>)> = d
            .iter()
            .filter_map(Result::ok)
            .filter(|e| !matches!(e.file_name().to_bytes(), b"." | b".."))
            .map(|e| {
                let name = OsStr::from_bytes(e.file_name().to_bytes()).to_owned();
                (name, e.file_type())
            })
            .collect();
        entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        for (name, ty) in entries {
            let stat = |follow: bool| {
                let flags = if follow {
                    AtFlags::empty()
                } else {
                    AtFlags::AT_SYMLINK_NOFOLLOW
                };
                fstatat(Some(fd), name.as_os_str(), flags).ok()
            };
            match classify(ty, &stat) {
                Entry::Dir => self.walk(&dir.join(&name), depth + 1),
                Entry::Block(rdev) => self.add(rdev, dir.join(&name), false),
                Entry::Other => {}
            }
        }
    }

    /// Add regular image files (extension); position n gets makedev(IMAGE_MAJOR, n).
    pub fn add_images(&mut self, files: &[PathBuf]) {
        for (n, f) in files.iter().enumerate() {
            if fs::metadata(f).map(|m| m.is_file()).unwrap_or(false) {
                self.add(makedev(IMAGE_MAJOR, n as u64), f.clone(), true);
            }
        }
    }

    /// Devices in LVM's scan order.
    pub fn iter(&self) -> impl Iterator<Item = &Device> {
        self.devs.values()
    }

    pub fn get(&self, devno: u64) -> Option<&Device> {
        self.devs.get(&(scan_key(devno), devno))
    }

    /// The device a path names (any of its aliases).
    pub fn by_path(&self, p: &Path) -> Option<&Device> {
        self.devs
            .values()
            .find(|d| d.aliases.iter().any(|a| a == p))
    }

    pub fn len(&self) -> usize {
        self.devs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.devs.is_empty()
    }
}

/// Whether sysfs knows the block device (`/sys/dev/block/M:m`).
pub fn in_sysfs(devno: u64) -> bool {
    Path::new(&format!("/sys/dev/block/{}:{}", major(devno), minor(devno))).exists()
}

/// Size in bytes of a block device from sysfs (`size` is in 512-byte sectors).
pub fn sysfs_size(devno: u64) -> Option<u64> {
    let p = format!("/sys/dev/block/{}:{}/size", major(devno), minor(devno));
    read_attr(&p)
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(|s| s * 512)
}

/// The text of a sysfs attribute. sysfs hands out an attribute whole on the first read,
/// so a read that leaves room in the buffer has it all: no `fstat` to size the buffer
/// and no second read to see the end, as `fs::read_to_string` does (two of the five
/// system calls per attribute, twice per device in a scan).
pub fn read_attr(path: &str) -> Option<String> {
    use std::io::Read;
    let mut f = fs::File::open(path).ok()?;
    let mut buf = [0u8; 256];
    let n = loop {
        match f.read(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => break r.ok()?,
        }
    };
    let mut text = buf[..n].to_vec();
    if n == buf.len() {
        f.read_to_end(&mut text).ok()?;
    }
    String::from_utf8(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(miri, ignore)] // files
    fn attributes_read_whole() {
        // sysfs attributes, as read_to_string reads them
        let mut seen = 0;
        for e in fs::read_dir("/sys/block").unwrap().flatten() {
            for attr in ["size", "dev", "uevent"] {
                let p = e.path().join(attr);
                let p = p.to_str().unwrap();
                // other tests attach and detach loop devices meanwhile: compare only
                // what stayed the same around the read
                let before = fs::read_to_string(p).ok();
                let got = read_attr(p);
                if before == fs::read_to_string(p).ok() {
                    assert_eq!(got, before, "{}", p);
                    seen += 1;
                }
            }
        }
        assert!(seen > 0);
        // longer than the first read: the rest is read too
        let f = std::env::temp_dir().join(format!("lvmetad-attr-{}", std::process::id()));
        let long: String = (0..100).map(|i| format!("line {}\n", i)).collect();
        fs::write(&f, &long).unwrap();
        assert_eq!(
            read_attr(f.to_str().unwrap()).as_deref(),
            Some(long.as_str())
        );
        fs::remove_file(&f).unwrap();
        assert_eq!(read_attr("/sys/dev/block/4095:0/size"), None);
    }

    /// The walk over a directory with every kind of entry; run as root (mknod). Each
    /// entry is also classified as a filesystem without dirent types makes the walk do.
    #[test]
    #[cfg_attr(miri, ignore)] // mknod, fstatat
    fn walk_keeps_block_nodes_and_symlinks_to_them() {
        use nix::sys::stat::mknod;
        use std::os::unix::fs::symlink;
        let t = std::env::temp_dir().join(format!("lvmetad-walk-{}", std::process::id()));
        let _ = fs::remove_dir_all(&t);
        fs::create_dir_all(t.join("sub")).unwrap();
        let blk = |p: &Path, min| {
            mknod(
                p,
                SFlag::S_IFBLK,
                Mode::from_bits_truncate(0o600),
                makedev(7, min),
            )
        };
        blk(&t.join("b0"), 0).expect("mknod (tests run as root)");
        blk(&t.join("sub/b1"), 1).unwrap();
        mknod(
            &t.join("chr"),
            SFlag::S_IFCHR,
            Mode::from_bits_truncate(0o600),
            makedev(1, 3),
        )
        .unwrap();
        symlink("b0", t.join("a0")).unwrap(); // alias of 7:0, same depth
        symlink("../b0", t.join("sub/z0")).unwrap(); // alias of 7:0, deeper
        symlink("sub", t.join("dirlink")).unwrap(); // a directory symlink: not followed
        symlink("nowhere", t.join("dangling")).unwrap();
        symlink("chr", t.join("chrlink")).unwrap();
        fs::write(t.join("file"), b"x").unwrap();

        let mut c = DevCache::default();
        c.scan_dirs(std::slice::from_ref(&t));
        let got: Vec<(u64, Vec<PathBuf>)> =
            c.iter().map(|d| (d.devno, d.aliases.clone())).collect();
        assert_eq!(
            got,
            vec![
                (
                    makedev(7, 0),
                    vec![t.join("a0"), t.join("b0"), t.join("sub/z0")]
                ),
                (makedev(7, 1), vec![t.join("sub/b1")]),
            ]
        );

        let untyped = |name: &str| {
            let p = t.join(name);
            classify(None, &|follow| {
                let flags = if follow {
                    AtFlags::empty()
                } else {
                    AtFlags::AT_SYMLINK_NOFOLLOW
                };
                fstatat(None, &p, flags).ok()
            })
        };
        assert_eq!(untyped("b0"), Entry::Block(makedev(7, 0)));
        assert_eq!(untyped("a0"), Entry::Block(makedev(7, 0)));
        assert_eq!(untyped("sub"), Entry::Dir);
        for other in ["dirlink", "dangling", "chr", "chrlink", "file", "missing"] {
            assert_eq!(untyped(other), Entry::Other, "{}", other);
        }
        fs::remove_dir_all(&t).unwrap();
    }

    #[test]
    fn dev_t_encoding_and_scan_order() {
        assert_eq!(makedev(7, 40), 1832);
        assert_eq!(makedev(7, 1), 1793);
        assert_eq!((major(1862), minor(1862)), (7, 70));
        let big = makedev(259, 300);
        assert_eq!((major(big), minor(big)), (259, 300));
        // docs/reference/ondisk-and-scan.md B1.1 example: 7:0 < 8:0 < 7:1 < 8:16
        let order = [makedev(7, 0), makedev(8, 0), makedev(7, 1), makedev(8, 16)];
        let mut sorted = order;
        sorted.sort_by_key(|&d| scan_key(d));
        assert_eq!(sorted, order);
    }

    #[test]
    fn alias_preference() {
        assert!(prefer(
            Path::new("/dev/sda"),
            Path::new("/dev/disk/by-id/x")
        ));
        assert!(prefer(
            Path::new("/dev/vg/lv"),
            Path::new("/dev/mapper/vg-lv")
        ));
        assert!(!prefer(
            Path::new("/dev/block/7:0"),
            Path::new("/dev/loop0")
        ));
        assert!(prefer(Path::new("/dev/a"), Path::new("/dev/b")));
        assert!(prefer(Path::new("/x/y"), Path::new("/x/y/z")));
        let mut c = DevCache::default();
        c.add(1, "/dev/disk/by-id/x".into(), false);
        c.add(1, "/dev/sda".into(), false);
        c.add(1, "/dev/block/8:0".into(), false);
        assert_eq!(
            c.get(1).unwrap().aliases,
            vec![
                PathBuf::from("/dev/sda"),
                PathBuf::from("/dev/disk/by-id/x"),
                PathBuf::from("/dev/block/8:0")
            ]
        );
        // only the first alias is compared: a later, better path than the second one
        // still goes to the tail
        let mut c = DevCache::default();
        c.add(2, "/dev/a".into(), false);
        c.add(2, "/dev/disk/z".into(), false);
        c.add(2, "/dev/block/1:2".into(), false);
        c.add(2, "/dev/b".into(), false);
        assert_eq!(
            c.get(2).unwrap().aliases.last().unwrap(),
            &PathBuf::from("/dev/b")
        );
    }

    #[test]
    fn image_devices_are_stable() {
        let dir = std::env::temp_dir().join(format!("devs-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let a = dir.join("a.img");
        let b = dir.join("b.img");
        fs::write(&a, b"x").unwrap();
        fs::write(&b, b"y").unwrap();
        let mut c = DevCache::default();
        c.add_images(&[a.clone(), b.clone()]);
        let devs: Vec<_> = c.iter().map(|d| (d.devno, d.name())).collect();
        assert_eq!(devs.len(), 2);
        assert_eq!(c.by_path(&b).unwrap().devno, makedev(IMAGE_MAJOR, 1));
        assert_eq!(major(makedev(IMAGE_MAJOR, 1)), IMAGE_MAJOR);
        fs::remove_dir_all(&dir).unwrap();
    }
}
