//! Races: many `pvscan --cache` processes (full and single-device) and VG updates at
//! once against one daemon binary, on image files (docs/scan.md), repeated. Every round
//! must end with the daemon's `dump` equal to the serial run's, the real token in place,
//! no update left in progress, every process exiting normally with LVM's exit status,
//! and every line printed being one of LVM's messages for these situations.

mod common;
use common::images::*;
use common::*;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Output, Stdio};

const ROUNDS: usize = 20;
const FULL_SCANS: usize = 8;

/// Lines with every number replaced by N.
fn numbers_out(s: &str) -> Vec<String> {
    s.lines()
        .map(|l| {
            let mut o = String::new();
            let mut in_num = false;
            for ch in l.chars() {
                if ch.is_ascii_digit() {
                    if !in_num {
                        o.push('N');
                    }
                    in_num = true;
                } else {
                    in_num = false;
                    o.push(ch);
                }
            }
            o
        })
        .collect()
}

/// What LVM prints when its pvscan races another (wait time 0), numbers replaced.
const KNOWN: &[&str] = &[
    "  WARNING: lvmetad update is interrupting another update in progress.",
    "  WARNING: lvmetad update in progress, retrying update.",
    "  WARNING: lvmetad update in progress, skipping update.",
    "  WARNING: lvmetad is being updated by another command (pid N).",
    "  WARNING: lvmetad was updated by another command (pid N).",
    "  WARNING: lvmetad was updated by another command.",
    "  Received token update mismatch expected \"update in progress\" our token \"filter:N\" update_pid N our pid N",
    "  Received token update mismatch expected \"filter:N\" our token \"filter:N\" update_pid N our pid N",
    "  WARNING: Not using lvmetad because cache update failed.",
    "  WARNING: Not updating lvmetad because cache update failed.",
    "  WARNING: Cannot use lvmetad after N sec lvmetad_update_wait_time.",
    "  WARNING: lvmetad is being updated and cannot be used.",
    "  pvscan[N] WARNING: lvmetad is being updated, retrying (setup) for N more seconds.",
    "  pvscan[N] WARNING: Not using lvmetad after N sec lvmetad_update_wait_time.",
    "  pvscan[N] activating all complete VGs for init",
    "  Failed to start lvmetad update.",
    "  Failed to update lvmetad token after device scan.",
    "  WARNING: To avoid corruption, restart lvmetad (or disable with use_lvmetad=N).",
    "  Command failed with status code N.",
];

/// The VG sections of a dump's "VG METADATA", as `vg_update` requests (same seqno: the
/// update a command makes when it rewrites what is on disk).
fn vg_updates(dump: &str, token: &str) -> Vec<String> {
    let vgs = &dump[dump.find("# VG METADATA").unwrap()..dump.find("# PV METADATA").unwrap()];
    let mut out = Vec::new();
    let mut block: Option<Vec<&str>> = None;
    for l in vgs.lines() {
        match &mut block {
            None if l.ends_with(" {") && !l.starts_with('\t') => block = Some(Vec::new()),
            Some(b) if l == "}" => {
                let inner = b.join("\n");
                let name = dump
                    .lines()
                    .skip_while(|x| !x.starts_with("vgid_to_vgname {"))
                    .find_map(|x| {
                        let id = inner.lines().next()?.trim().strip_prefix("id=")?;
                        x.trim()
                            .strip_prefix(&format!("{} = ", id.trim_matches('"')))
                    })
                    .unwrap_or_else(|| panic!("no name for {}", inner));
                out.push(format!(
                    "request = \"vg_update\"\nvgname = {}\nmetadata {{\n{}\n}}\ntoken = \"{}\"\npid = 4242\ncmd = \"vgchange\"\n",
                    name, inner, token
                ));
                block = None;
            }
            Some(b) => b.push(l),
            None => {}
        }
    }
    out
}

/// (exit status, or -1000 - the signal that killed it; stdout; stderr)
fn output_of(o: &Output) -> (i32, String, String) {
    use std::os::unix::process::ExitStatusExt;
    (
        o.status
            .code()
            .unwrap_or_else(|| -1000 - o.status.signal().unwrap_or(0)),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn response(reply: &str) -> &str {
    reply
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("response = "))
        .unwrap_or(reply)
}

fn run_vg_updates(socket: &Path, bodies: &[String], rounds: usize) -> Vec<String> {
    let mut r = Vec::new();
    for _ in 0..rounds {
        for b in bodies {
            r.push(response(&ask(socket, b)).to_string());
        }
    }
    r
}

#[test]
fn concurrent_scans_and_vg_updates_end_like_the_serial_run() {
    let set = ImageSet::new(&SET, "global { lvmetad_update_wait_time = 0 }\n");
    let token = lvmetad::client::token::filter_token(Some(
        &["a|\\.img$|", "r|.*|"].map(lvmetad::config::Value::str),
    ));
    let singles: [Vec<&str>; 3] = [
        vec!["--cache", set.path(1)],
        vec!["--cache", set.path(4)],
        vec!["--cache", "--major", "4095", "--minor", "3"],
    ];

    // the serial run: a full scan, then each single-device scan and the VG updates,
    // none of which changes anything
    let d = DaemonProc::start();
    assert_eq!(
        set.pvscan(&d.socket, &["--cache"]),
        (0, String::new(), String::new())
    );
    let want = dump(&d.socket);
    let want_info = global_info(&d.socket);
    assert!(
        want_info.contains(&format!(
            "token = \"{}\"\nupdate_cmd = \"\"\nupdate_pid = 0\n",
            token
        )),
        "{}",
        want_info
    );
    for s in &singles {
        assert_eq!(set.pvscan(&d.socket, s), (0, String::new(), String::new()));
    }
    let updates = vg_updates(&want, &token);
    assert_eq!(updates.len(), 3);
    assert_eq!(run_vg_updates(&d.socket, &updates, 1), vec!["\"OK\""; 3]);
    assert_eq!(dump(&d.socket), want);
    drop(d);

    let mut seen: BTreeSet<String> = BTreeSet::new();
    for round in 0..ROUNDS {
        let d = DaemonProc::start();
        let mut procs = Vec::new();
        let mut order: Vec<usize> = (0..FULL_SCANS + singles.len()).collect();
        if round % 2 == 1 {
            // odd rounds: the single-device scans start first (they find no token and
            // rescan everything themselves)
            order.rotate_left(FULL_SCANS);
        }
        for i in order {
            let args: Vec<&str> = if i < FULL_SCANS {
                vec!["--cache"]
            } else {
                singles[i - FULL_SCANS].clone()
            };
            let child = set
                .pvscan_cmd(&d.socket, &args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            procs.push((args.len() == 1, child));
        }
        let sock = d.socket.clone();
        let bodies = updates.clone();
        let vg = std::thread::spawn(move || run_vg_updates(&sock, &bodies, 5));
        for (full, child) in procs {
            let (rc, out, err) = output_of(&child.wait_with_output().unwrap());
            if full {
                assert_eq!(rc, 0, "round {}: {}{}", round, out, err);
            } else {
                assert!(
                    rc == 0 || rc == 5,
                    "round {}: exit {} {}{}",
                    round,
                    rc,
                    out,
                    err
                );
            }
            for l in numbers_out(&out).into_iter().chain(numbers_out(&err)) {
                seen.insert(l);
            }
        }
        for r in vg.join().unwrap() {
            assert!(
                r == "\"OK\"" || r == "\"token_mismatch\"",
                "round {}: vg_update {}",
                round,
                r
            );
        }
        assert_eq!(dump(&d.socket), want, "round {}", round);
        assert_eq!(global_info(&d.socket), want_info, "round {}", round);
    }
    let unknown: Vec<&String> = seen
        .iter()
        .filter(|l| !KNOWN.contains(&l.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "not LVM's messages for this: {:#?}\nall: {:#?}",
        unknown,
        seen
    );
    eprintln!("messages seen: {:#?}", seen);
}
