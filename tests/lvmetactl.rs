//! lvmetactl: the bytes it sends equal LVM2 2.02.188's lvmetactl (captures a, i, m),
//! and its output against the bundled daemon.

mod common;
use common::*;
use std::io::Write;
use std::os::unix::net::UnixListener;
use std::process::Command;

/// Requests sent by the stock lvmetactl in a capture, with the pid normalised.
fn captured_requests(name: &str) -> Vec<String> {
    parse_capture(&data_dir().join("captures").join(name))
        .into_iter()
        .filter_map(|e| match e {
            Event::Request { bytes, .. } => Some(norm_pid(&String::from_utf8_lossy(&bytes))),
            _ => None,
        })
        .collect()
}

fn norm_pid(s: &str) -> String {
    s.lines()
        .map(|l| {
            if l.starts_with("pid = ") {
                "pid = <PID>"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Run lvmetactl against a recording peer that answers every request with `reply`.
fn record(args: &[&str]) -> (Vec<String>, String) {
    let dir = TempDir::new("ctl");
    let sock = dir.path().join("s");
    let l = UnixListener::bind(&sock).unwrap();
    let t = std::thread::spawn(move || {
        let (mut c, _) = l.accept().unwrap();
        let mut got = Vec::new();
        let hello_reply = b"response = \"OK\"\nprotocol = \"lvmetad\"\nversion = 1\n\n##\n";
        while let Some(req) = read_reply(&mut c) {
            got.push(norm_pid(&String::from_utf8_lossy(&req)));
            let r: &[u8] = if got.len() == 1 {
                hello_reply
            } else {
                b"response = \"OK\"\n\n##\n"
            };
            c.write_all(r).unwrap();
        }
        got
    });
    let out = Command::new(env!("CARGO_BIN_EXE_lvmetactl"))
        .args(args)
        .env("LVM_LVMETAD_SOCKET", &sock)
        .output()
        .unwrap();
    (
        t.join().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn request_bytes_match_stock_lvmetactl() {
    let (got, _) = record(&["get_global_info"]);
    assert_eq!(got, captured_requests("a-hello-get-global-info.txt"));
    let (got, _) = record(&["dump"]);
    assert_eq!(got, captured_requests("i-lvmetactl-dump.txt"));
    // m: step 1 is `lvmetactl set_global_invalid 1` (hello, set_global_info)
    let m = captured_requests("m-global-invalid.txt");
    let (got, out) = record(&["set_global_invalid", "1"]);
    assert_eq!(got, m[0..2].to_vec());
    assert_eq!(out, "response \"OK\" status \"\" reason \"\"\n");
}

#[test]
fn output_against_the_daemon() {
    let d = DaemonProc::start();
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_lvmetactl"))
            .args(args)
            .env("LVM_LVMETAD_SOCKET", &d.socket)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        )
    };
    let (rc, out) = run(&["get_global_info"]);
    assert_eq!(rc, Some(0));
    assert_eq!(
        out,
        format!("response = \"OK\"\nglobal_invalid = 0\nglobal_disable = 0\ndisable_reason = \"none\"\ndaemon_pid = {}\ntoken = \"none\"\nupdate_cmd = \"\"\nupdate_pid = 0\nupdate_begin = 0\nupdate_timeout = 0\n\n", d.pid())
    );
    assert_eq!(
        run(&["set_global_disable", "1"]).1,
        "response \"OK\" status \"\" reason \"\"\n"
    );
    assert!(run(&["get_global_info"])
        .1
        .contains("disable_reason = \"DIRECT,\"\n"));
    assert_eq!(
        run(&["vg_lookup_name", "nope"]).1,
        "response = \"unknown\"\nreason = \"VG not found\"\n\n"
    );
    assert_eq!(run(&["vg_lock_type", "nope"]).1, "no metadata\n");
    assert_eq!(run(&["bogus"]), (Some(0), "unknown command\n".into()));
    let (rc, out) = run(&[]);
    assert_eq!(rc, Some(255));
    assert!(out.starts_with("lvmetactl dump\n"));
    assert_eq!(
        run(&["set_vg_version", "-", "-", "1"]),
        (Some(255), "name or uuid required\n".into())
    );
}

#[test]
fn no_daemon_is_an_error_not_a_crash() {
    let dir = TempDir::new("nod");
    let o = Command::new(env!("CARGO_BIN_EXE_lvmetactl"))
        .arg("dump")
        .env("LVM_LVMETAD_SOCKET", dir.path().join("none"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot connect to lvmetad"));
}
