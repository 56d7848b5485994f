//! `lvmetad-audit` against the real daemon binary, with PV images recorded from stock
//! LVM2 2.02.188 (tests/data/audit/audit_*: VG avg on two PVs in the states a, b, c, d of
//! record-audit.sh) as image files named in `devices/scan`, changed behind the daemon's
//! back by replacing a file's contents.

mod common;
use common::images::{ask, dump, image_bytes, ImageSet, SET};
use common::*;
use std::process::Command;

const PV1: &str = "I1tXc0-Hp5n-5mL3-EbDk-mBbW-rhff-yecwq3";
const PV2: &str = "2Vd2Vw-1FU0-XDJH-XLQy-m9Yi-kRS6-W3aJJl";

struct Env {
    set: ImageSet,
    locks: TempDir,
    d: DaemonProc,
}

fn state(s: char, i: usize) -> String {
    format!("audit_{}_pv{}", s, i)
}

impl Env {
    /// The images `names` (devices 4095:0...), a daemon filled by `lvmetad-pvscan --cache`.
    fn new(names: &[&str]) -> Env {
        Env::new_with(names, |_| {})
    }

    /// The same, with `before` changing the image files before the scan.
    fn new_with(names: &[&str], before: impl Fn(&ImageSet)) -> Env {
        let locks = TempDir::new("audit-locks");
        let set = ImageSet::new(
            names,
            &format!(
                "global {{ locking_dir = \"{}\" lvmetad_update_wait_time = 0 }}\n",
                locks.path().display()
            ),
        );
        before(&set);
        let d = DaemonProc::start();
        let (rc, out, err) = set.pvscan(&d.socket, &["--cache"]);
        assert_eq!((rc, out.as_str(), err.as_str()), (0, "", ""));
        Env { set, locks, d }
    }

    /// Replace image file `i` with the image `name`, behind the daemon's back.
    fn put(&self, i: usize, name: &str) {
        std::fs::write(&self.set.paths[i], &*image_bytes(name)).unwrap();
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_lvmetad-audit"));
        c.args(args)
            .env("LVM_SYSTEM_DIR", &self.set.etc)
            .env("LVM_LVMETAD_SOCKET", &self.d.socket)
            .env("LVM_LVMETAD_PIDFILE", self.set.dir.path().join("no.pid"));
        c
    }

    fn audit(&self, args: &[&str]) -> (i32, String, String) {
        let o = self.cmd(args).output().unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    }

    fn path(&self, i: usize) -> String {
        self.set.path(i).to_string()
    }

    /// The audit agrees, in text and JSON.
    fn agrees(&self) {
        assert_eq!(self.audit(&[]), (0, String::new(), String::new()));
        assert_eq!(
            self.audit(&["--json"]),
            (
                0,
                "{\"schema\":1,\"status\":0,\"error\":null,\"differences\":[],\"repair\":null}\n"
                    .to_string(),
                String::new()
            )
        );
    }

    /// What lvmetad serves (`pv_list`, `vg_list`, each VG's `vg_lookup`) equals what
    /// a fresh daemon filled by one full scan of the images as they are now serves.
    fn same_as_full_scan(&self, names: &[&str]) {
        let fresh = ImageSet::new(names, "");
        let d = DaemonProc::start();
        let (rc, _, _) = fresh.pvscan(&d.socket, &["--cache"]);
        assert_eq!(rc, 0);
        assert_eq!(served(&self.d.socket), served(&d.socket));
    }
}

fn served(socket: &std::path::Path) -> String {
    let mut out = String::new();
    for r in ["pv_list", "vg_list"] {
        out += &ask(socket, &format!("request = \"{}\"\ntoken = \"skip\"\n", r));
    }
    let vg = ask(
        socket,
        "request = \"vg_lookup\"\ntoken = \"skip\"\nname = \"avg\"\n",
    );
    // lvmetad lists the PVs of the replaced metadata as outdated after a single-device
    // pv_found with a newer seqno (as after LVM's `pvscan --cache DEV`); LVM's next
    // command reading the VG clears the list (vg_clear_outdated_pvs)
    match (vg.find("\toutdated_pvs {\n"), vg.find("\n\t}\n")) {
        (Some(a), Some(b)) if b > a => out + &vg[..a] + &vg[b + 4..],
        _ => out + &vg,
    }
}

/// An exclusive `flock` on a lock file, as an LVM writer holds it.
fn hold(p: &std::path::Path) -> std::fs::File {
    let f = std::fs::File::create(p).unwrap();
    let r = unsafe {
        libc::flock(
            std::os::fd::AsRawFd::as_raw_fd(&f),
            libc::LOCK_EX | libc::LOCK_NB,
        )
    };
    assert_eq!(r, 0);
    f
}

fn avg(s: char) -> [String; 2] {
    [state(s, 1), state(s, 2)]
}

fn names<'a>(v: &'a [String], extra: &[&'a str]) -> Vec<&'a str> {
    v.iter()
        .map(|s| s.as_str())
        .chain(extra.iter().copied())
        .collect()
}

#[test]
fn consistent_cache_many_vgs_no_report() {
    let a = avg('a');
    let all = names(&a, &SET);
    let e = Env::new(&all);
    e.agrees();
    // twice: nothing the audit does changes the cache
    let before = dump(&e.d.socket);
    e.agrees();
    assert_eq!(dump(&e.d.socket), before);
}

#[test]
fn lv_added_behind_the_back_seqno_and_repair() {
    let a = avg('a');
    let e = Env::new(&names(&a, &[]));
    e.put(0, &state('b', 1));
    e.put(1, &state('b', 2));
    let before = dump(&e.d.socket);
    let line = format!(
        "  VG avg on {} (PV {}) has seqno 3 on disk, lvmetad has seqno 2.\n",
        e.path(0),
        PV1
    );
    assert_eq!(e.audit(&[]), (1, line.clone(), String::new()));
    assert_eq!(
        e.audit(&["--json"]).1,
        format!(
            "{{\"schema\":1,\"status\":1,\"error\":null,\"differences\":[{{\"kind\":\"vg_seqno\",\"vg\":\"avg\",\"pv_uuid\":\"{}\",\"device\":\"{}\",\"devno\":\"4095:0\",\"cached\":\"2\",\"on_disk\":\"3\",\"message\":\"{}\"}}],\"repair\":null}}\n",
            PV1,
            e.path(0),
            line.trim()
        )
    );
    // an audit without --repair sends nothing that changes the cache
    assert_eq!(dump(&e.d.socket), before);
    let (rc, out, err) = e.audit(&["--repair"]);
    assert_eq!(
        (rc, out, err),
        (
            0,
            format!(
                "{}  Rescanned device 4095:0 into lvmetad's cache.\n  Rescanned device 4095:1 into lvmetad's cache.\n  lvmetad's cache now agrees with the devices.\n",
                line
            ),
            // LVM's pv_found warning: lvmetad held another seqno before
            "  WARNING: Inconsistent metadata found for VG avg\n".to_string()
        )
    );
    e.agrees();
    e.same_as_full_scan(&names(&avg('b'), &[]));
}

#[test]
fn same_seqno_other_content_is_split_brain() {
    let c = avg('c');
    let e = Env::new(&names(&c, &[]));
    e.put(0, &state('b', 1));
    e.put(1, &state('b', 2));
    let line = format!(
        "  VG avg on {} (PV {}) differs from lvmetad's copy at the same seqno 3.\n",
        e.path(0),
        PV1
    );
    assert_eq!(e.audit(&[]), (1, line.clone(), String::new()));
    let (rc, out, _) = e.audit(&["--repair"]);
    assert_eq!(
        (rc, out),
        (
            0,
            format!(
                "{}  Removed device 4095:0 from lvmetad's cache.\n  Removed device 4095:1 from lvmetad's cache.\n  Rescanned device 4095:0 into lvmetad's cache.\n  Rescanned device 4095:1 into lvmetad's cache.\n  lvmetad's cache now agrees with the devices.\n",
                line
            )
        )
    );
    e.agrees();
    e.same_as_full_scan(&names(&avg('b'), &[]));
}

#[test]
fn older_metadata_on_disk_is_repaired() {
    // vgcfgrestore of an older version behind the daemon's back
    let b = avg('b');
    let e = Env::new(&names(&b, &[]));
    e.put(0, &state('a', 1));
    e.put(1, &state('a', 2));
    assert_eq!(
        e.audit(&[]).1,
        format!(
            "  VG avg on {} (PV {}) has seqno 2 on disk, lvmetad has seqno 3.\n",
            e.path(0),
            PV1
        )
    );
    assert_eq!(e.audit(&["--repair"]).0, 0);
    e.agrees();
    e.same_as_full_scan(&names(&avg('a'), &[]));
}

#[test]
fn pv_created_behind_the_back() {
    let a = avg('a');
    // slot 2 starts as a 2 KiB file: too small to be a device LVM scans
    let e = Env::new(&names(&a, &["c10e_truncated_2k"]));
    e.put(2, "c01_orphan_default");
    let uuid = "tn32zB-xhLR-ExD4-B1SP-LGyC-pV4K-UD6eeR";
    let line = format!("  PV {} on {} is not known to lvmetad.\n", uuid, e.path(2));
    let (rc, out, _) = e.audit(&[]);
    assert_eq!((rc, out.as_str()), (1, line.as_str()));
    let (rc, out, _) = e.audit(&["--repair", "--json"]);
    assert_eq!(
        (rc, out),
        (
            0,
            format!(
                "{{\"schema\":1,\"status\":0,\"error\":null,\"differences\":[{{\"kind\":\"pv_not_cached\",\"vg\":null,\"pv_uuid\":\"{}\",\"device\":\"{}\",\"devno\":\"4095:2\",\"cached\":null,\"on_disk\":null,\"message\":\"{}\"}}],\"repair\":{{\"mode\":\"devices\",\"ok\":true,\"rescanned\":[\"4095:2\"],\"forgotten\":[],\"remaining\":[]}}}}\n",
                uuid,
                e.path(2),
                line.trim()
            )
        )
    );
    e.agrees();
}

#[test]
fn vg_removed_behind_the_back() {
    let a = avg('a');
    let e = Env::new(&names(&a, &[]));
    e.put(0, &state('d', 1));
    e.put(1, &state('d', 2));
    let lines = format!(
        "  VG avg cached by lvmetad was not found on any device.\n  PV {} on {} is an orphan on disk, lvmetad has it in VG avg.\n  PV {} on {} is an orphan on disk, lvmetad has it in VG avg.\n",
        PV2,
        e.path(1),
        PV1,
        e.path(0)
    );
    assert_eq!(e.audit(&[]), (1, lines.clone(), String::new()));
    let (rc, out, _) = e.audit(&["--repair"]);
    assert_eq!(
        (rc, out),
        (
            0,
            format!(
                "{}  Removed device 4095:0 from lvmetad's cache.\n  Removed device 4095:1 from lvmetad's cache.\n  Rescanned device 4095:0 into lvmetad's cache.\n  Rescanned device 4095:1 into lvmetad's cache.\n  lvmetad's cache now agrees with the devices.\n",
                lines
            )
        )
    );
    e.agrees();
    e.same_as_full_scan(&names(&avg('d'), &[]));
}

#[test]
fn pv_devices_swapped() {
    let a = avg('a');
    let e = Env::new(&names(&a, &[]));
    e.put(0, &state('a', 2));
    e.put(1, &state('a', 1));
    let lines = format!(
        "  PV {} on {} in VG avg is device 4095:0, lvmetad has it on device 4095:1.\n  PV {} on {} in VG avg is device 4095:1, lvmetad has it on device 4095:0.\n",
        PV2,
        e.path(0),
        PV1,
        e.path(1)
    );
    assert_eq!(e.audit(&[]), (1, lines.clone(), String::new()));
    let (rc, out, _) = e.audit(&["--repair"]);
    assert_eq!(rc, 0, "{}", out);
    assert!(out.starts_with(&lines), "{}", out);
    e.agrees();
}

#[test]
fn pv_gone_behind_the_back() {
    let a = avg('a');
    let e = Env::new(&names(&a, &["c01_orphan_default"]));
    // the orphan's device is wiped (too small to scan)
    e.put(2, "c10e_truncated_2k");
    let line = "  PV tn32zB-xhLR-ExD4-B1SP-LGyC-pV4K-UD6eeR cached by lvmetad on device 4095:2 was not found on any device.\n";
    assert_eq!(e.audit(&[]), (1, line.to_string(), String::new()));
    let (rc, out, _) = e.audit(&["--repair"]);
    assert_eq!(
        (rc, out),
        (
            0,
            format!(
                "{}  Removed device 4095:2 from lvmetad's cache.\n  lvmetad's cache now agrees with the devices.\n",
                line
            )
        )
    );
    e.agrees();
}

#[test]
fn token_mismatch_repaired_by_full_rescan() {
    let a = avg('a');
    let e = Env::new(&names(&a, &[]));
    // this host's global_filter differs from the one the cache was filled with
    let other = "devices { global_filter = [ \"a|img$|\", \"r|.*|\" ] }";
    let (rc, out, err) = e.audit(&["--config", other]);
    assert_eq!(
        (rc, out.as_str(), err.as_str()),
        (
            1,
            "  lvmetad's token \"filter:1729437436\" does not match this host's global_filter (\"filter:4242400979\").\n",
            ""
        )
    );
    let (rc, out, _) = e.audit(&["--config", other, "--repair"]);
    assert_eq!(
        (rc, out),
        (
            0,
            format!(
                "{}  Repaired lvmetad's cache by rescanning all devices.\n  lvmetad's cache now agrees with the devices.\n",
                "  lvmetad's token \"filter:1729437436\" does not match this host's global_filter (\"filter:4242400979\").\n"
            )
        )
    );
    assert_eq!(e.audit(&["--config", other]).0, 0);
}

#[test]
fn disabled_cache_reported_with_reason_and_repaired() {
    let a = avg('a');
    let e = Env::new(&names(&a, &[]));
    let r = ask(
        &e.d.socket,
        "request = \"set_global_info\"\ntoken = \"skip\"\nglobal_disable = 1\ndisable_reason = \"DIRECT\"\n",
    );
    assert!(r.starts_with("response = \"OK\""), "{}", r);
    let line = "  lvmetad is disabled because the disable flag was set directly.\n";
    assert_eq!(e.audit(&[]), (1, line.to_string(), String::new()));
    let (rc, out, _) = e.audit(&["--repair"]);
    assert_eq!(
        (rc, out),
        (
            0,
            format!(
                "{}  Repaired lvmetad's cache by rescanning all devices.\n  lvmetad's cache now agrees with the devices.\n",
                line
            )
        )
    );
    e.agrees();
}

#[test]
fn update_in_progress_reported() {
    let a = avg('a');
    let e = Env::new(&names(&a, &[]));
    let r = ask(
        &e.d.socket,
        "request = \"token_update\"\ntoken = \"update in progress\"\npid = 1\ncmd = \"test\"\n",
    );
    assert!(r.starts_with("response = \"OK\""), "{}", r);
    let line = "  lvmetad is being updated: its token is \"update in progress\".\n";
    let (rc, out, err) = e.audit(&[]);
    assert_eq!((rc, out.as_str(), err.as_str()), (1, line, ""));
    // the update never finishes (its command died): a full rescan takes over
    let (rc, out, err) = e.audit(&["--repair"]);
    assert_eq!(
        (rc, out, err),
        (
            0,
            format!(
                "{}  Repaired lvmetad's cache by rescanning all devices.\n  lvmetad's cache now agrees with the devices.\n",
                line
            ),
            // LVM's full-update warning (pvscan_all_devs taking over)
            "  WARNING: lvmetad update is interrupting another update in progress.\n".to_string()
        )
    );
    e.agrees();
}

#[test]
fn cannot_audit_exits_2() {
    let a = avg('a');
    let e = Env::new(&names(&a, &[]));
    // no daemon on the socket
    let mut c = e.cmd(&["--json"]);
    c.env("LVM_LVMETAD_SOCKET", e.set.dir.path().join("none.socket"));
    let o = c.output().unwrap();
    let sock = e.set.dir.path().join("none.socket");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!(
            "{{\"schema\":1,\"status\":2,\"error\":\"lvmetad is not in use (socket {}): nothing to audit.\",\"differences\":[],\"repair\":null}}\n",
            sock.display()
        )
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "  WARNING: Failed to connect to lvmetad. Falling back to device scanning.\n  lvmetad is not in use (socket {}): nothing to audit.\n  lvmetad-audit could not audit the cache.\n",
            sock.display()
        )
    );
    // the global lock held by a writer
    let _writer = hold(&e.locks.path().join("P_global"));
    let (rc, out, err) = e.audit(&["--lock-timeout", "0"]);
    assert_eq!(
        (rc, out.as_str(), err),
        (
            2,
            "",
            format!(
                "  {}/P_global: flock failed: Resource temporarily unavailable\n  Unable to obtain global lock within 0 seconds.\n  lvmetad-audit could not audit the cache.\n",
                e.locks.path().display()
            )
        )
    );
    // a bad command line
    assert_eq!(e.audit(&["--bogus"]).0, 2);
}

/// An audit started while an LVM writer holds the lock file `lock` (taken here): once
/// the audit waits for that lock (`-vv` shows its attempt), `writer` runs as the holder
/// would, the lock is released, and the audit's exit status and stdout are returned.
fn audit_across_a_writer(e: &Env, lock: &str, writer: impl FnOnce()) -> (Option<i32>, String) {
    use std::io::BufRead;
    let f = hold(&e.locks.path().join(lock));
    let mut child = e
        .cmd(&["--lock-timeout", "60", "-vv"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let want = format!("Locking {}/{} R", e.locks.path().display(), lock);
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains(&want) {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "audit ended early");
    }
    writer();
    drop(f);
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    let o = child.wait_with_output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

/// `pvscan --cache DEV...` as an LVM writer that holds only a VG's or the orphans' lock
/// runs it (no global lock).
fn writer_pvscan(e: &Env, devs: &[String]) {
    let mut args = vec!["--cache", "--config", "global { locking_type = 0 }"];
    args.extend(devs.iter().map(|d| d.as_str()));
    let (rc, _, _) = e.set.pvscan(&e.d.socket, &args);
    assert_eq!(rc, 0);
}

#[test]
fn vg_being_written_is_compared_after_the_writer() {
    // an LVM writer holds the VG's lock; the audit reads the devices (the old metadata)
    // and waits for the lock (its first attempt at it: the devices were read before);
    // meanwhile the writer writes the new metadata and tells lvmetad, then releases the
    // lock. What the audit read first now differs from the cache: it must read the VG
    // again under the lock and report nothing.
    let a = avg('a');
    let e = Env::new(&names(&a, &[]));
    let got = audit_across_a_writer(&e, "V_avg", || {
        e.put(0, &state('b', 1));
        e.put(1, &state('b', 2));
        writer_pvscan(&e, &[e.path(0), e.path(1)]);
    });
    assert_eq!(got, (Some(0), String::new()));
}

#[test]
fn pv_being_created_is_compared_after_the_writer() {
    // pvcreate holds the orphans' lock (P_orphans) from writing the label to telling
    // lvmetad; an audit that read the new label and the cache without it in between must
    // read both again under that lock
    let a = avg('a');
    let e = Env::new(&names(&a, &["c10e_truncated_2k"]));
    // the label is written, lvmetad not told yet (the writer holds P_orphans from here)
    e.put(2, "c01_orphan_default");
    let got = audit_across_a_writer(&e, "P_orphans", || writer_pvscan(&e, &[e.path(2)]));
    assert_eq!(got, (Some(0), String::new()));
}

#[test]
fn md_components_are_skipped() {
    // the PV of an md array (c01) and its two mirror halves (c09_dup_a/b: byte copies of
    // c01) carrying an md superblock (v1.1, at sector 0): the scan's md filter drops the
    // halves, so they are neither duplicates nor differences
    let a = avg('a');
    let all = names(&a, &["c01_orphan_default", "c09_dup_a", "c09_dup_b"]);
    let half = |set: &ImageSet, i: usize| {
        let mut b = image_bytes("c01_orphan_default").to_vec();
        b[0..4].copy_from_slice(&0xa92b_4efcu32.to_le_bytes());
        std::fs::write(&set.paths[i], &b).unwrap();
    };
    let e = Env::new_with(&all, |set| {
        half(set, 3);
        half(set, 4);
    });
    e.agrees();
    // without its superblock a half is a duplicate of the PV
    e.put(3, "c09_dup_a");
    assert_eq!(
        e.audit(&[]),
        (
            1,
            format!(
                "  PV tn32zB-xhLR-ExD4-B1SP-LGyC-pV4K-UD6eeR on {} was already found on {}.\n",
                e.path(3),
                e.path(2)
            ),
            String::new()
        )
    );
}
