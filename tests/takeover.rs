//! `lvmetad --fast-takeover` (docs/compat.md): an update whose connection closes before
//! the update ends is cancelled at once, as LVM's daemon cancels one after its
//! `update_timeout`; without the flag the daemon keeps LVM's behaviour. Real daemon
//! binary, real socket, real images; waits are on conditions, never on time.

mod common;
use common::images::*;
use common::*;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

const BEGIN: &[u8] = b"request = \"token_update\"\ntoken = \"update in progress\"\nupdate_timeout = 60\npid = 4242\ncmd = \"pvscan\"\n";

/// Begin an update on a connection of its own, close it, and wait until the daemon's
/// thread for it has ended (it handles the close before it ends).
fn begin_and_close(d: &DaemonProc) {
    let mut s = d.connect();
    let reply = String::from_utf8_lossy(&exchange(&mut s, BEGIN)).into_owned();
    assert!(reply.starts_with("response = \"OK\"\n"), "{}", reply);
    assert!(global_info(&d.socket).contains("token = \"update in progress\""));
    drop(s);
    wait_client_threads(d.pid(), 0);
}

fn field<'a>(info: &'a str, key: &str) -> &'a str {
    info.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(" = "))
        .unwrap_or_else(|| panic!("no {} in {}", key, info))
}

#[test]
fn an_abandoned_update_is_cancelled_only_with_the_flag() {
    // LVM's behaviour: the update stays in progress (until its 60 s are over)
    let d = DaemonProc::start();
    begin_and_close(&d);
    let info = global_info(&d.socket);
    assert_eq!(field(&info, "token"), "\"update in progress\"");
    assert_eq!(field(&info, "update_pid"), "4242");
    assert_eq!(field(&info, "update_cmd"), "\"pvscan\"");

    // with the flag: cancelled as after a timeout, "none" = to be populated
    let d = DaemonProc::start_with(&["--fast-takeover"], &[]);
    begin_and_close(&d);
    let info = global_info(&d.socket);
    assert_eq!(field(&info, "token"), "\"none\"");
    assert_eq!(field(&info, "update_pid"), "0");
    assert_eq!(field(&info, "update_cmd"), "\"\"");
    assert_eq!(field(&info, "update_begin"), "0");
    assert_eq!(field(&info, "update_timeout"), "0");
}

#[test]
fn only_the_connection_that_began_the_update_cancels_it() {
    let d = DaemonProc::start_with(&["--fast-takeover"], &[]);
    let mut owner = d.connect();
    assert!(String::from_utf8_lossy(&exchange(&mut owner, BEGIN)).starts_with("response = \"OK\""));
    // other connections come and go, asking and even trying to begin an update
    for _ in 0..3 {
        let mut s = d.connect();
        let r = String::from_utf8_lossy(&exchange(&mut s, BEGIN)).into_owned();
        assert!(r.starts_with("response = \"token_updating\""), "{}", r);
    }
    wait_client_threads(d.pid(), 1);
    assert_eq!(
        field(&global_info(&d.socket), "token"),
        "\"update in progress\""
    );
    // an update that ended before its connection closed is left alone
    let end = b"request = \"token_update\"\ntoken = \"filter:1\"\nupdate_timeout = 60\npid = 4242\ncmd = \"pvscan\"\n";
    assert!(String::from_utf8_lossy(&exchange(&mut owner, end)).starts_with("response = \"OK\""));
    drop(owner);
    wait_client_threads(d.pid(), 0);
    assert_eq!(field(&global_info(&d.socket), "token"), "\"filter:1\"");
}

/// A full `lvmetad-pvscan --cache` waiting for an update whose command died: with the
/// flag it takes over when the connection closes and leaves one clean scan's state,
/// with LVM's one waiting message.
#[test]
fn a_waiting_pvscan_takes_over_when_the_updater_goes() {
    let set = ImageSet::new(&SET, "");
    let clean = clean_dump(&set);
    let d = DaemonProc::start_with(&["--fast-takeover"], &[]);
    let mut updater = d.connect();
    assert!(
        String::from_utf8_lossy(&exchange(&mut updater, BEGIN)).starts_with("response = \"OK\"")
    );
    let mut pvscan = set
        .pvscan_cmd(&d.socket, &["--cache"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(pvscan.stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    assert_eq!(
        first,
        "  WARNING: lvmetad is being updated, waiting for 10 more seconds.\n"
    );
    drop(updater); // the updating command is gone
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    let out = pvscan.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert_eq!(rest, "");
    assert_eq!(dump(&d.socket), clean);
}

/// An update that replaced a timed-out one belongs to the connection that replaced it:
/// closing the first updater's connection leaves it alone, closing its own cancels it.
#[test]
fn a_replaced_update_belongs_to_the_connection_that_replaced_it() {
    let d = DaemonProc::start_with(&["--fast-takeover"], &[]);
    // update_timeout = 0: over as soon as it began, so the next begin replaces it
    let first = b"request = \"token_update\"\ntoken = \"update in progress\"\nupdate_timeout = 0\npid = 1111\ncmd = \"first\"\n";
    let mut a = d.connect();
    assert!(String::from_utf8_lossy(&exchange(&mut a, first)).starts_with("response = \"OK\""));
    let mut b = d.connect();
    let r = String::from_utf8_lossy(&exchange(&mut b, BEGIN)).into_owned();
    assert!(r.starts_with("response = \"OK\"\n"), "{}", r);
    assert_eq!(field(&global_info(&d.socket), "update_pid"), "4242");

    drop(a);
    wait_client_threads(d.pid(), 1);
    let info = global_info(&d.socket);
    assert_eq!(field(&info, "token"), "\"update in progress\"");
    assert_eq!(field(&info, "update_pid"), "4242");
    assert_eq!(field(&info, "update_cmd"), "\"pvscan\"");

    drop(b);
    wait_client_threads(d.pid(), 0);
    let info = global_info(&d.socket);
    assert_eq!(field(&info, "token"), "\"none\"");
    assert_eq!(field(&info, "update_pid"), "0");
}
