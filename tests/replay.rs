//! Replays every capture in tests/data/captures (recorded from LVM2 2.02.188 tools and
//! lvmetad) against the bundled daemon and requires the captured replies byte for byte.
//!
//! Normalised (they depend on the process and the clock, not on the protocol):
//! `daemon_pid = N` (the daemon's process id) and a non-zero `update_begin = N`
//! (CLOCK_MONOTONIC seconds when an update started). Nothing else is touched.
//!
//! Daemon state before each capture (captures/README.md, "The session, in order"):
//! - first session: one daemon runs (a), then a reconstruction of the state `pvcreate` of
//!   loop40..42 left (three orphan PVs, token set), then (e), (b), (b) again for the
//!   uncaptured identical `pvs` of step 5, (c), (i) and (g), in this order, each starting
//!   from what the previous left. The reconstruction takes the stored pvmeta of each PV
//!   from the `pv_list` reply in (e) and sends one `pv_found` per PV (in that reply's
//!   order) inside a token update with the session's token.
//! - second session: a new daemon starts from a reconstruction of the state before (j)
//!   (PVs from the `pv_list` reply in (j), VG vg1 from its first `vg_lookup` reply with the
//!   merged pvmeta fields stripped from each PV entry, installed with `vg_update`), then
//!   runs (j), (k), (m) and (o) in order.

mod common;
use common::*;
use lvmetad::config::{find, parse, Node};
use lvmetad::protocol::capture::{first_reply_to, seed_requests};
use std::os::unix::net::UnixStream;

const TOKEN1: &str = "filter:3108758531";
const TOKEN2: &str = "filter:3836196111";

fn normalise(b: &[u8]) -> String {
    String::from_utf8_lossy(&lvmetad::protocol::capture::normalise_volatile(b)).into_owned()
}

/// Replay one capture; returns the mismatches found (empty = all replies identical).
fn replay(d: &DaemonProc, name: &str) -> Vec<String> {
    let events = parse_capture(&data_dir().join("captures").join(name));
    let mut conns: std::collections::HashMap<u32, UnixStream> = Default::default();
    let mut pending: std::collections::HashMap<u32, Vec<u8>> = Default::default();
    let mut bad = Vec::new();
    let mut n = 0;
    for e in events {
        match e {
            Event::Open(c) => {
                conns.insert(c, d.connect());
            }
            Event::Close(c) => {
                conns.remove(&c);
            }
            Event::Request { conn, bytes, .. } => {
                use std::io::Write;
                let s = conns.get_mut(&conn).unwrap();
                s.write_all(&bytes).unwrap();
                pending.insert(conn, bytes);
            }
            Event::Reply { conn, step, bytes } => {
                n += 1;
                let s = conns.get_mut(&conn).unwrap();
                let got = read_reply(s).unwrap_or_default();
                if normalise(&got) != normalise(&bytes) {
                    bad.push(format!(
                        "{} step {} reply #{}: request\n{}\nexpected\n{}\ngot\n{}",
                        name,
                        step,
                        n,
                        String::from_utf8_lossy(&pending[&conn]),
                        normalise(&bytes),
                        normalise(&got)
                    ));
                }
            }
        }
    }
    assert!(n > 0, "{} has no replies", name);
    eprintln!(
        "{}: {} replies compared, {} mismatching",
        name,
        n,
        bad.len()
    );
    bad
}

fn events(name: &str) -> Vec<Event> {
    parse_capture(&data_dir().join("captures").join(name))
}

/// Install PVs (from a pv_list reply) and VGs (name, metadata) as the cache content.
fn reconstruct(d: &DaemonProc, token: &str, pv_list: &[u8], vgs: &[(Vec<u8>, Node)]) {
    let mut s = d.connect();
    for r in seed_requests(pv_list, vgs, token.as_bytes()).unwrap() {
        let reply = String::from_utf8_lossy(&exchange(&mut s, &r)).into_owned();
        assert!(
            reply.starts_with("response = \"OK\""),
            "reconstruction step failed: {}",
            reply
        );
    }
}

/// The stored metadata of a VG, recovered from a vg_lookup reply: drop `outdated_pvs`
/// and, in every PV entry, the pvmeta fields the daemon merged in front of `id`.
fn metadata_from_lookup(reply: &[u8]) -> (Vec<u8>, Node) {
    let t = parse(reply).unwrap();
    let name = lvmetad::config::find_str(&t, "name").unwrap().to_vec();
    let mut meta = find(&t, "metadata").unwrap().clone();
    meta.children.retain(|c| c.key != b"outdated_pvs");
    for c in meta.children.iter_mut() {
        if c.key == b"physical_volumes" {
            for pv in c.children.iter_mut() {
                let at = pv.children.iter().position(|n| n.key == b"id").unwrap();
                pv.children.drain(..at);
            }
        }
    }
    (name, meta)
}

fn check(bad: Vec<String>) {
    if !bad.is_empty() {
        panic!(
            "{} mismatching replies:\n{}",
            bad.len(),
            bad.join("\n-----\n")
        );
    }
}

#[test]
fn first_session_captures_replay_byte_for_byte() {
    let d = DaemonProc::start();
    let mut bad = replay(&d, "a-hello-get-global-info.txt");
    let pv_list = first_reply_to(&events("e-vgcreate-lvcreate.txt"), "pv_list").unwrap();
    reconstruct(&d, TOKEN1, &pv_list, &[]);
    for c in [
        "e-vgcreate-lvcreate.txt",
        "b-pvs-populated.txt",
        "b-pvs-populated.txt",
        "c-pvscan-cache-all.txt",
        "i-lvmetactl-dump.txt",
        "g-duplicate-pvs.txt",
    ] {
        bad.extend(replay(&d, c));
    }
    check(bad);
}

#[test]
fn second_session_captures_replay_byte_for_byte() {
    let d = DaemonProc::start();
    let j = events("j-vg-changes.txt");
    let pv_list = first_reply_to(&j, "pv_list").unwrap();
    let vg = metadata_from_lookup(&first_reply_to(&j, "vg_lookup").unwrap());
    reconstruct(&d, TOKEN2, &pv_list, &[vg]);
    let mut bad = Vec::new();
    for c in [
        "j-vg-changes.txt",
        "k-pvscan-cache-nonpv-gone-devno.txt",
        "m-global-invalid.txt",
        "o-foreign-exported-vg.txt",
    ] {
        bad.extend(replay(&d, c));
    }
    check(bad);
}
