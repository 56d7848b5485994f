//! `lvmetad-pvscan --cache` takes LVM's global lock where LVM2 2.02.188's `pvscan --cache`
//! does (`lock_vol(VG_GLOBAL, LCK_VG_READ)` in `_pvscan_cache`: a shared `flock` on
//! `P_global` in `global/locking_dir`, before anything is scanned or sent). A command
//! holding the global lock for writing (vgcreate, vgremove, ...) is simulated by the test
//! holding `P_global` exclusively.

mod common;
use common::images::{clean_dump, dump, global_info, ImageSet};
use common::*;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

/// Images in devices/scan, locks in a private locking_dir (plus `global` settings).
fn set_with_locks(global: &str) -> (ImageSet, std::path::PathBuf) {
    let set = ImageSet::new(&images::SET, "");
    let lockdir = set.dir.path().join("lock");
    let conf = set.etc.join("lvm.conf");
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str(&format!(
        "global {{ locking_dir = \"{}\" {} }}\n",
        lockdir.display(),
        global
    ));
    std::fs::write(&conf, text).unwrap();
    std::fs::create_dir_all(&lockdir).unwrap();
    (set, lockdir)
}

/// `P_global` opened and locked exclusively by this process (as a writer would hold it).
fn hold_global(lockdir: &Path) -> std::fs::File {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(lockdir.join("P_global"))
        .unwrap();
    // SAFETY: flock on a descriptor the File owns.
    assert_eq!(unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) }, 0);
    f
}

/// Whether `/proc/locks` lists `pid` waiting (`->`) for a lock on `inode`.
fn waits_on(pid: u32, inode: u64) -> bool {
    let locks = std::fs::read_to_string("/proc/locks").unwrap();
    locks.lines().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        // "N: -> FLOCK ADVISORY READ PID MAJ:MIN:INODE START END"
        f.len() >= 7
            && f[1] == "->"
            && f[2] == "FLOCK"
            && f[5] == pid.to_string()
            && f[6].rsplit(':').next() == Some(&inode.to_string())
    })
}

#[test]
fn pvscan_waits_for_then_takes_the_global_lock() {
    use std::os::unix::fs::MetadataExt;
    let d = DaemonProc::start();
    let (set, lockdir) = set_with_locks("");
    let before_info = global_info(&d.socket);
    let before_dump = dump(&d.socket);
    let held = hold_global(&lockdir);
    let inode = held.metadata().unwrap().ino();
    let mut child = set
        .pvscan_cmd(&d.socket, &["--cache"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // the kernel shows the command blocked on P_global (a generous bound, not a timing check)
    let t0 = Instant::now();
    while !waits_on(child.id(), inode) {
        assert!(
            child.try_wait().unwrap().is_none(),
            "pvscan ended while the lock was held"
        );
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "pvscan never waited on P_global"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // nothing was sent while it waits: no update started, no PV stored
    assert_eq!(global_info(&d.socket), before_info);
    assert_eq!(dump(&d.socket), before_dump);
    assert!(!dump(&d.socket).contains("pvmeta"));
    // the writer finishes: pvscan takes the lock, scans, and ends as one clean scan does
    // SAFETY: unlocking a descriptor the File owns.
    assert_eq!(unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_UN) }, 0);
    drop(held);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned()
        ),
        (Some(0), String::new(), String::new())
    );
    assert_eq!(dump(&d.socket), clean_dump(&set));
    // released and removed on exit, as LVM's file locking does
    assert!(!lockdir.join("P_global").exists());
}

#[test]
fn pvscan_without_the_global_lock_fails_with_lvms_messages() {
    let d = DaemonProc::start();
    let (set, lockdir) = set_with_locks("wait_for_locks = 0");
    let before_dump = dump(&d.socket);
    let held = hold_global(&lockdir);
    let (rc, out, err) = set.pvscan(&d.socket, &["--cache"]);
    assert_eq!(rc, 5);
    assert_eq!(out, "");
    assert_eq!(
        err,
        format!(
            "  {}: flock failed: Resource temporarily unavailable\n  \
             Unable to obtain global lock.\n",
            lockdir.join("P_global").display()
        )
    );
    assert_eq!(dump(&d.socket), before_dump);
    drop(held);
    // with the lock free the same command succeeds
    let (rc, out, err) = set.pvscan(&d.socket, &["--cache"]);
    assert_eq!((rc, out.as_str(), err.as_str()), (0, "", ""));
    assert_eq!(dump(&d.socket), clean_dump(&set));
}

#[test]
fn read_only_locking_still_scans_and_locking_type_0_warns() {
    // locking_type 4: read locks are granted without a file, so pvscan --cache runs
    let d = DaemonProc::start();
    let (set, lockdir) = set_with_locks("locking_type = 4");
    let _held = hold_global(&lockdir);
    let (rc, out, err) = set.pvscan(&d.socket, &["--cache"]);
    assert_eq!((rc, out.as_str(), err.as_str()), (0, "", ""));
    assert_eq!(dump(&d.socket), clean_dump(&set));
    // locking_type 0: no lock, LVM's warning
    let d = DaemonProc::start();
    let (set, lockdir) = set_with_locks("locking_type = 0");
    let _held = hold_global(&lockdir);
    let (rc, out, err) = set.pvscan(&d.socket, &["--cache"]);
    assert_eq!(
        (rc, out.as_str(), err.as_str()),
        (
            0,
            "",
            "  WARNING: Locking disabled. Be careful! This could corrupt your metadata.\n"
        )
    );
}
