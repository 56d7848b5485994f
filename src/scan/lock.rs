//! LVM's file-based locking (`locking_type` 1) as LVM2 2.02.188's tools take it:
//! `flock` on `P_global` (the global lock) and `V_<vgname>` (a VG's lock) in
//! `global/locking_dir`, shared for readers and exclusive for writers, blocking unless
//! `global/wait_for_locks = 0`, with `global/prioritise_write_locks` honoured through
//! the `:aux` file. `pvscan --cache` takes the global lock for writing; readers that must
//! not see a half-done change take it (and the VG's) for reading. Messages are LVM's.

use crate::client::port::Level;
use crate::scan::lvmconf::LvmConfig;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// LVM's default `global/locking_dir`.
pub const DEFAULT_LOCKING_DIR: &str = "/run/lock/lvm";

/// A lock's mode (`LCK_READ`, `LCK_WRITE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Read,
    Write,
}

/// The locking a command's configuration selects (`init_locking`).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    /// `flock` files in this directory.
    File(PathBuf),
    /// Locking type 0 or 5: nothing is locked.
    None,
    /// Locking type 4: read locks succeed without a file, write locks are refused.
    ReadOnly,
}

/// A command's locks: taken with [`Locks::lock_global`] / [`Locks::lock_vg`], released by
/// [`Locks::unlock`] or when dropped (LVM's `fin_locking`).
pub struct Locks {
    kind: Kind,
    blocking: bool,
    prioritise_write: bool,
    held: Vec<(PathBuf, File)>,
}

/// Where messages go (the command's host).
pub type Log<'a> = &'a dyn Fn(Level, &str);

fn errno_text(e: &std::io::Error) -> String {
    crate::wire::strerror(e.raw_os_error().unwrap_or(libc::EIO))
}

impl Locks {
    /// `init_locking` for the command's configuration, with LVM's messages. None when
    /// the locking cannot be set up (LVM's command then fails).
    pub fn init(cfg: &LvmConfig, log: Log<'_>) -> Option<Locks> {
        let blocking = cfg.bool_or_default("global/wait_for_locks").unwrap_or(true);
        let prioritise_write = cfg
            .bool_or_default("global/prioritise_write_locks")
            .unwrap_or(true);
        let file = |log: Log<'_>| -> Option<Kind> {
            log(
                Level::VeryVerbose,
                &format!(
                    "{}File-based locking selected.",
                    if blocking { "" } else { "Non-blocking " }
                ),
            );
            let dir = match cfg.find("global/locking_dir").and_then(|n| n.first_value()) {
                Some(crate::config::Value::Str(s)) => {
                    PathBuf::from(String::from_utf8_lossy(s).into_owned())
                }
                _ => PathBuf::from(DEFAULT_LOCKING_DIR),
            };
            if std::fs::create_dir_all(&dir).is_err() {
                log(Level::Error, "File-based locking initialisation failed.");
                return None;
            }
            Some(Kind::File(dir))
        };
        let kind = match cfg.int_or_default("global/locking_type").unwrap_or(1) {
            0 => {
                log(
                    Level::Warn,
                    "WARNING: Locking disabled. Be careful! This could corrupt your metadata.",
                );
                Kind::None
            }
            1 => file(log)?,
            3 => {
                log(
                    Level::Warn,
                    "WARNING: Using locking_type=1, ignoring locking_type=3.",
                );
                log(
                    Level::Warn,
                    "WARNING: See lvmlockd(8) for information on using cluster/clvm VGs.",
                );
                file(log)?
            }
            4 => {
                log(
                    Level::Verbose,
                    "Read-only locking selected. Only read operations permitted.",
                );
                Kind::ReadOnly
            }
            5 => {
                log(Level::Verbose, "Locking disabled for read-only access.");
                Kind::None
            }
            _ => {
                log(Level::Error, "Unknown locking type requested.");
                return None;
            }
        };
        Some(Locks {
            kind,
            blocking,
            prioritise_write,
            held: Vec::new(),
        })
    }

    /// File locks in `dir` (a seam for tests and callers without lvm.conf).
    pub fn in_dir(dir: &Path, blocking: bool) -> Locks {
        Locks {
            kind: Kind::File(dir.to_path_buf()),
            blocking,
            prioritise_write: true,
            held: Vec::new(),
        }
    }

    /// The global lock (`lock_vol(cmd, VG_GLOBAL, ...)`, file `P_global`).
    pub fn lock_global(&mut self, mode: Mode, log: Log<'_>) -> bool {
        self.lock("P_global", mode, log)
    }

    /// The orphan PVs' lock (`VG_ORPHANS`, file `P_orphans`), taken by pvcreate/pvremove.
    pub fn lock_orphans(&mut self, mode: Mode, log: Log<'_>) -> bool {
        self.lock("P_orphans", mode, log)
    }

    /// A VG's lock (file `V_<vgname>`).
    pub fn lock_vg(&mut self, vgname: &str, mode: Mode, log: Log<'_>) -> bool {
        self.lock(&format!("V_{}", vgname), mode, log)
    }

    fn lock(&mut self, file: &str, mode: Mode, log: Log<'_>) -> bool {
        let dir = match &self.kind {
            Kind::None => return true,
            Kind::ReadOnly if mode == Mode::Read => return true,
            Kind::ReadOnly => {
                log(
                    Level::Error,
                    "Read-only locking type set. Write locks are prohibited.",
                );
                return false;
            }
            Kind::File(d) => d.clone(),
        };
        let path = dir.join(file);
        log(
            Level::VeryVerbose,
            &format!(
                "Locking {} {}{}",
                path.display(),
                if mode == Mode::Write { 'W' } else { 'R' },
                if self.blocking { 'B' } else { ' ' }
            ),
        );
        let got = if self.prioritise_write {
            // the aux file lets a waiting writer in before later readers
            let aux = PathBuf::from(format!("{}:aux", path.display()));
            match do_flock(&aux, Mode::Write, true, log) {
                Some(a) if mode == Mode::Write => {
                    let r = do_flock(&path, mode, self.blocking, log);
                    undo_flock(&aux, a);
                    r
                }
                Some(a) => {
                    undo_flock(&aux, a);
                    do_flock(&path, mode, self.blocking, log)
                }
                None => None,
            }
        } else {
            do_flock(&path, mode, self.blocking, log)
        };
        match got {
            Some(f) => {
                self.held.push((path, f));
                true
            }
            None => false,
        }
    }

    /// Release a lock taken by this command (`LCK_UNLOCK`); true if it was held.
    pub fn unlock(&mut self, file_name: &str, log: Log<'_>) -> bool {
        let Some(i) = self
            .held
            .iter()
            .position(|(p, _)| p.file_name().is_some_and(|n| n == file_name))
        else {
            return false;
        };
        let (path, f) = self.held.remove(i);
        log(Level::VeryVerbose, &format!("Unlocking {}", path.display()));
        unlock_and_undo(&path, f);
        true
    }

    /// The lock files this command holds.
    pub fn held(&self) -> Vec<PathBuf> {
        self.held.iter().map(|(p, _)| p.clone()).collect()
    }
}

impl Drop for Locks {
    fn drop(&mut self) {
        for (path, f) in self.held.drain(..).rev() {
            unlock_and_undo(&path, f);
        }
    }
}

fn flock(f: &File, op: libc::c_int) -> std::io::Result<()> {
    // SAFETY: flock on a descriptor this File owns.
    if unsafe { libc::flock(f.as_raw_fd(), op) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// `_do_flock`: open (creating) and lock, until the file locked is still the one at the
/// path (another command may have removed it meanwhile).
fn do_flock(path: &Path, mode: Mode, blocking: bool, log: Log<'_>) -> Option<File> {
    let mut op = if mode == Mode::Write {
        libc::LOCK_EX
    } else {
        libc::LOCK_SH
    };
    if !blocking {
        op |= libc::LOCK_NB;
    }
    loop {
        let f = match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .mode(0o777)
            .open(path)
        {
            Ok(f) => f,
            Err(e) => {
                log(
                    Level::Error,
                    &format!("{}: open failed: {}", path.display(), errno_text(&e)),
                );
                return None;
            }
        };
        let r = loop {
            match flock(&f, op) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                r => break r,
            }
        };
        if let Err(e) = r {
            log(
                Level::Error,
                &format!("{}: flock failed: {}", path.display(), errno_text(&e)),
            );
            return None;
        }
        let same = match (std::fs::metadata(path), f.metadata()) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        };
        if same {
            return Some(f);
        }
        if !blocking {
            return None;
        }
    }
}

/// `_undo_flock`: remove the file if no one else holds it, then close it.
fn undo_flock(path: &Path, f: File) {
    if flock(&f, libc::LOCK_EX | libc::LOCK_NB).is_ok() {
        if let (Ok(a), Ok(b)) = (std::fs::metadata(path), f.metadata()) {
            if a.dev() == b.dev() && a.ino() == b.ino() {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

fn unlock_and_undo(path: &Path, f: File) {
    let _ = flock(&f, libc::LOCK_UN | libc::LOCK_NB);
    undo_flock(path, f);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quiet(_: Level, _: &str) {}

    #[test]
    #[cfg_attr(miri, ignore)] // files
    fn readers_share_writers_exclude_and_files_are_removed() {
        let dir = std::env::temp_dir().join(format!("lvmlock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut a = Locks::in_dir(&dir, false);
        let mut b = Locks::in_dir(&dir, false);
        assert!(a.lock_global(Mode::Read, &quiet));
        assert!(b.lock_global(Mode::Read, &quiet));
        let msgs = std::cell::RefCell::new(Vec::new());
        let log = |l: Level, m: &str| msgs.borrow_mut().push((l, m.to_string()));
        let mut c = Locks::in_dir(&dir, false);
        assert!(!c.lock_global(Mode::Write, &log));
        let p = dir.join("P_global");
        assert_eq!(
            msgs.borrow().last().unwrap(),
            &(
                Level::Error,
                format!(
                    "{}: flock failed: Resource temporarily unavailable",
                    p.display()
                )
            )
        );
        assert!(a.unlock("P_global", &quiet));
        drop(b);
        assert!(c.lock_global(Mode::Write, &quiet));
        assert!(c.lock_vg("vg0", Mode::Write, &quiet));
        assert!(dir.join("V_vg0").exists());
        drop(c);
        assert!(!dir.join("P_global").exists() && !dir.join("V_vg0").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
