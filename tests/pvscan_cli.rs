//! The `lvmetad-pvscan` front end on image files named in devices/scan, against the
//! bundled daemon: exit codes, LVM's messages, the cache it leaves.

mod common;
use common::*;
use std::process::Command;

fn pvscan(d: &DaemonProc, etc: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_lvmetad-pvscan"))
        .args(args)
        .env("LVM_SYSTEM_DIR", etc)
        .env("LVM_LVMETAD_SOCKET", &d.socket)
        .env("LVM_LVMETAD_PIDFILE", &d.pidfile)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn scan_images_and_single_devices() {
    let d = DaemonProc::start();
    let set = images::ImageSet::new(
        &["c04_vg1_pv1", "c04_vg1_pv2", "c10e_truncated_2k"],
        "global { activation = 0 }\n",
    );
    let (dir, imgs, etc) = (&set.dir, &set.paths, set.etc.clone());
    let scan: Vec<String> = imgs
        .iter()
        .map(|p| format!("\"{}\"", p.display()))
        .collect();
    // single device on a fresh daemon: token mismatch -> full rescan
    let (rc, out, err) = pvscan(&d, &etc, &["--cache", imgs[0].to_str().unwrap()]);
    assert_eq!(rc, 0, "{}{}", out, err);
    assert!(out.starts_with("  pvscan["), "{}", out);
    assert!(
        out.ends_with("] activating all complete VGs for init\n"),
        "{}",
        out
    );
    assert_eq!(
        err,
        "  WARNING: Activation disabled. No device-mapper interaction will be attempted.\n"
    );
    let mut c = d.connect();
    let vgs = String::from_utf8_lossy(&exchange(
        &mut c,
        b"request = \"vg_list\"\ntoken = \"skip\"\n",
    ))
    .into_owned();
    assert!(vgs.contains("name=\"vg1\""), "{}", vgs);
    // the 2 KiB image is below pv_min_size: filtered, cleared from the cache
    let (rc, out, _) = pvscan(&d, &etc, &["--cache", imgs[2].to_str().unwrap()]);
    assert_eq!(rc, 0);
    assert_eq!(
        out,
        "  Device 4095:2 not found. Cleared from lvmetad cache.\n"
    );
    // filters on the first bytes: an md superblock, an LVM1 label
    for (n, patch) in [
        (3usize, &[0xfcu8, 0x4e, 0x2b, 0xa9][..]),
        (4, &b"HM\x01\x00"[..]),
    ] {
        let p = dir.path().join(format!("sig{}.img", n));
        let mut b = std::fs::read(&imgs[0]).unwrap();
        b[..patch.len()].copy_from_slice(patch);
        std::fs::write(&p, b).unwrap();
    }
    let mut scan2 = scan.clone();
    scan2.push(format!("\"{}\"", dir.path().join("sig3.img").display()));
    scan2.push(format!("\"{}\"", dir.path().join("sig4.img").display()));
    std::fs::write(
        etc.join("lvm.conf"),
        format!(
            "devices {{ scan = [ {} ] global_filter = [ \"a|\\\\.img$|\", \"r|.*|\" ] }}\nglobal {{ activation = 0 }}\n",
            scan2.join(", ")
        ),
    )
    .unwrap();
    for n in [3, 4] {
        let (rc, out, _) = pvscan(&d, &etc, &["--cache", &format!("4095:{}", n)]);
        assert_eq!(rc, 0);
        // token of the new config differs: a full rescan first
        let _ = out;
    }
    let (rc, out, _) = pvscan(
        &d,
        &etc,
        &["--cache", dir.path().join("sig3.img").to_str().unwrap()],
    );
    assert_eq!(
        (rc, out.as_str()),
        (
            0,
            "  Device 4095:3 not found. Cleared from lvmetad cache.\n"
        )
    );
    let (rc, out, _) = pvscan(&d, &etc, &["--cache", "4095:4"]);
    assert_eq!(
        (rc, out.as_str()),
        (
            0,
            "  Device 4095:4 not found. Cleared from lvmetad cache.\n"
        )
    );
    // MAJOR:MINOR of an image, and a device that does not exist
    let (rc, out, _) = pvscan(&d, &etc, &["--cache", "4095:1"]);
    assert_eq!((rc, out.as_str()), (0, ""));
    let (rc, _, err) = pvscan(&d, &etc, &["--cache", "/nonexistent/dev"]);
    assert_eq!(rc, 5);
    assert!(
        err.contains("  Physical Volume /nonexistent/dev not found.\n"),
        "{}",
        err
    );
    // an error was logged: LVM adds no "Command failed with status code 5."
    assert!(
        err.ends_with("  Physical Volume /nonexistent/dev not found.\n"),
        "{}",
        err
    );
    // command line errors
    let (rc, _, err) = pvscan(&d, &etc, &["--cache", "--major", "7"]);
    assert_eq!(rc, 3);
    assert!(err.contains("Both --major and --minor required to identify devices."));
    let (rc, _, _) = pvscan(&d, &etc, &["--bogus"]);
    assert_eq!(rc, 3);
    // a broken global_filter is LVM's error
    let (rc, _, err) = pvscan(
        &d,
        &etc,
        &[
            "--cache",
            "--config",
            "devices { global_filter = [ \"x|a|\" ] }",
        ],
    );
    assert_eq!(rc, 5);
    assert!(
        err.contains("Pattern must begin with 'a' or 'r'."),
        "{}",
        err
    );
}
