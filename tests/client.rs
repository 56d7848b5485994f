//! The client (src/client) against the real daemon binary and against scripted peers:
//! request bytes equal LVM2 2.02.188's (captures), token/wait/disabled semantics and
//! LVM's messages. Time is a seam: the test host's clock advances when the client sleeps.

mod common;
use common::host::TestHost;
use common::*;
use lvmetad::client::port::Host;
use lvmetad::client::{Client, DaemonReply};
use lvmetad::config::Value;
use lvmetad::protocol::Request;
use std::io::Write;
use std::os::unix::net::UnixListener;
use std::sync::atomic::Ordering;
use std::sync::Arc;

fn filter(strs: &[&str]) -> Vec<Value> {
    strs.iter().map(Value::str).collect()
}

const FILTER1: [&str; 2] = ["a|^/dev/loop4[0-3]$|", "r|.*|"];

fn new_client(host: &Arc<TestHost>, socket: &std::path::Path) -> Client {
    let mut c = Client::new(host.clone() as Arc<dyn Host>);
    c.set_socket(Some(socket.to_path_buf()));
    c.set_token(Some(&filter(&FILTER1)));
    c
}

/// Repopulate the daemon's token the way a rescan does (IP, then the real token).
fn populate(c: &mut Client) {
    let real = c.replace_token(Some("update in progress".into()));
    assert!(c.token_update(None));
    c.replace_token(real);
    assert!(c.token_update(None));
}

fn raw(d: &DaemonProc, body: &str) -> String {
    let mut s = d.connect();
    String::from_utf8_lossy(&exchange(&mut s, body.as_bytes())).into_owned()
}

fn norm_pid(s: &str) -> String {
    s.lines()
        .map(|l| {
            if l.starts_with("pid = ") {
                "pid = <PID>".to_string()
            } else if l.starts_with("pid =") {
                "pid =<PID>".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn request_bytes_match_lvm_captures() {
    // Capture g, connection 1: pvscan --cache as LVM2 2.02.188 sent it. We answer our
    // client's requests with the daemon's recorded replies and compare each request.
    let events = parse_capture(&data_dir().join("captures/g-duplicate-pvs.txt"));
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut last = None;
    for e in events {
        match e {
            Event::Request { conn: 1, bytes, .. } => last = Some(bytes),
            Event::Reply { conn: 1, bytes, .. } => pairs.push((last.take().unwrap(), bytes)),
            _ => {}
        }
    }
    let name_of = |b: &[u8]| {
        let s = String::from_utf8_lossy(b);
        s.lines().next().unwrap().to_string()
    };
    // the requests the client layer makes itself (the pv_found/pv_gone come from the scan)
    let wanted = [
        "request = \"hello\"",
        "request = \"get_global_info\"",
        "request=\"token_update\"",
        "request=\"pv_clear_all\"",
        "request=\"token_update\"",
        "request = \"set_global_info\"",
    ];
    let mut script: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut i = 0;
    for w in wanted {
        while name_of(&pairs[i].0) != w {
            i += 1;
        }
        script.push(pairs[i].clone());
        i += 1;
    }
    let dir = TempDir::new("rec");
    let sock = dir.path().join("s");
    let l = UnixListener::bind(&sock).unwrap();
    let expect = script.clone();
    let server = std::thread::spawn(move || {
        let (mut c, _) = l.accept().unwrap();
        let mut got = Vec::new();
        for (_, reply) in &expect {
            let req = read_reply(&mut c).unwrap();
            got.push(req);
            c.write_all(reply).unwrap();
        }
        got
    });
    let host = TestHost::new("pvscan", 10);
    let mut c = new_client(&host, &sock);
    assert!(c.connect(0));
    assert!(c.token_matches(0));
    // token_matches sent get_global_info; now the rescan's token protocol
    let real = c.replace_token(Some("update in progress".into()));
    assert!(c.token_update(None));
    let r = c.send(Request::PvClearAll, &[]);
    assert!(c.handle_reply(&r, Request::PvClearAll, "", None));
    c.replace_token(real);
    assert!(c.token_update(None));
    c.set_disabled("DUPLICATES");
    let got = server.join().unwrap();
    for (g, (want, _)) in got.iter().zip(script.iter()) {
        assert_eq!(
            norm_pid(&String::from_utf8_lossy(g)),
            norm_pid(&String::from_utf8_lossy(want))
        );
    }
    assert_eq!(got.len(), script.len());
    assert!(host.visible().is_empty(), "{:?}", host.visible());
}

#[test]
fn case1_token_mismatch_then_match_and_disabled_reasons() {
    let d = DaemonProc::start();
    let host = TestHost::new("pvs", 10);
    let mut c = new_client(&host, &d.socket);
    assert!(c.socket_present());
    assert!(c.connect(0));
    assert!(c.used());
    // fresh daemon: token "none" -> initialization needed, still used
    assert!(!c.token_matches(0));
    assert!(c.used());
    populate(&mut c);
    assert!(c.token_matches(0));
    assert!(raw(&d, "request = \"get_global_info\"\ntoken = \"skip\"\n")
        .contains("token = \"filter:3108758531\"\n"));
    // the disabled state and each of its reasons
    assert_eq!(c.is_disabled(), None);
    for (kw, text) in [
        ("DIRECT", "the disable flag was set directly"),
        ("REPAIR", "a repair command was run"),
        ("DUPLICATES", "duplicate PVs were found"),
        ("VGRESTORE", "vgcfgrestore is restoring VG metadata"),
    ] {
        c.set_disabled(kw);
        assert_eq!(c.is_disabled().map(|r| r.as_str()), Some(text));
        c.clear_disabled();
        assert_eq!(c.is_disabled(), None);
    }
    // reasons accumulate; the first in LVM's order wins
    c.set_disabled("DUPLICATES");
    c.set_disabled("REPAIR");
    assert_eq!(
        c.is_disabled().map(|r| r.as_str()),
        Some("a repair command was run")
    );
    assert!(raw(&d, "request = \"get_global_info\"\ntoken = \"skip\"\n")
        .contains("disable_reason = \"REPAIR,DUPLICATES,\"\n"));
    c.clear_disabled();
    // a different global_filter: mismatch, rescan needed, nothing printed
    c.set_token(Some(&filter(&["a|.*/|"])));
    assert!(!c.token_matches(0));
    assert!(c.used());
    assert!(host.visible().is_empty(), "{:?}", host.visible());
    // disconnect: used 0; set_disabled still reaches the daemon on a temporary connection
    c.disconnect();
    assert!(!c.used());
    assert_eq!(c.is_disabled().map(|r| r.as_str()), Some("send error"));
    c.set_disabled("DIRECT");
    assert!(raw(&d, "request = \"get_global_info\"\ntoken = \"skip\"\n")
        .contains("disable_reason = \"DIRECT,\"\n"));
    // clear_disabled does nothing when not used
    c.clear_disabled();
    assert!(raw(&d, "request = \"get_global_info\"\ntoken = \"skip\"\n")
        .contains("global_disable = 1\n"));
}

#[test]
fn token_matches_waits_for_another_update_then_gives_up() {
    let d = DaemonProc::start();
    // another command (pid 999) is repopulating the cache
    let r = raw(&d, "request=\"token_update\"\ntoken=\"update in progress\"\nupdate_timeout=100\npid=999\ncmd=\"pvscan\"\n");
    assert!(r.contains("response = \"OK\""), "{}", r);
    let host = TestHost::new("pvs", 2);
    let mut c = new_client(&host, &d.socket);
    assert!(c.connect(0));
    assert!(!c.token_matches(0));
    assert!(!c.used());
    assert_eq!(host.refreshes.load(Ordering::SeqCst), 1);
    let pid = std::process::id();
    assert_eq!(
        host.visible(),
        vec![
            format!("pvscan[{}] WARNING: lvmetad is being updated, retrying (setup) for 2 more seconds.", pid),
            format!("pvscan[{}] WARNING: Not using lvmetad after 2 sec lvmetad_update_wait_time.", pid),
        ]
    );
}

#[test]
fn send_retries_while_another_command_updates() {
    let d = DaemonProc::start();
    let host = TestHost::new("pvs", 3);
    let mut c = new_client(&host, &d.socket);
    assert!(c.connect(0));
    populate(&mut c);
    raw(
        &d,
        "request=\"token_update\"\ntoken=\"filter:1\"\npid=999\n",
    );
    // pid 999 starts an update: our requests now get token_mismatch (expected IP)
    let r = raw(&d, "request=\"token_update\"\ntoken=\"update in progress\"\nupdate_timeout=100\npid=999\ncmd=\"pvscan\"\n");
    assert!(r.contains("prev_token = \"filter:3108758531\""), "{}", r);
    host.clear();
    let reply = c.send(Request::PvList, &[]);
    assert_eq!(reply.response(), "token_mismatch");
    assert!(!c.handle_reply(&reply, Request::PvList, "", None));
    assert_eq!(
        host.visible(),
        vec![
            "WARNING: lvmetad is being updated, retrying (pv_list) for 3 more seconds.",
            "WARNING: lvmetad is being updated, retrying (pv_list) for 2 more seconds.",
            "WARNING: lvmetad is being updated, retrying (pv_list) for 1 more seconds.",
            "WARNING: Cannot use lvmetad after 3 sec lvmetad_update_wait_time.",
            "WARNING: lvmetad is being updated and cannot be used.",
        ]
    );
    // starting our own update meanwhile: token_updating until we give up
    host.clear();
    let real = c.replace_token(Some("update in progress".into()));
    assert!(!c.token_update(None));
    c.replace_token(real);
    assert_eq!(
        host.visible(),
        vec![
            "lvmetad is being updated, retry for 3 more seconds.",
            "lvmetad is being updated, retry for 2 more seconds.",
            "lvmetad is being updated, retry for 1 more seconds.",
            "lvmetad is being updated, retry for 0 more seconds.",
            "Not using lvmetad after 3 sec lvmetad_update_wait_time, no more try.",
        ]
    );
    // is_updating sees it without waiting
    assert!(c.is_updating(false));
}

#[test]
fn handle_reply_messages() {
    let host = TestHost::new("pvs", 10);
    let c = Client::new(host.clone() as Arc<dyn Host>);
    let reply = |body: &str| DaemonReply {
        error: 0,
        body: body.as_bytes().to_vec(),
        tree: Some(lvmetad::config::parse_str(body).unwrap()),
    };
    let mut found = -1;
    assert!(c.handle_reply(
        &reply("response = \"unknown\"\n"),
        Request::VgLookup,
        "vg0",
        Some(&mut found)
    ));
    assert_eq!(found, 0);
    assert!(c.handle_reply(
        &reply("response = \"multiple\"\n"),
        Request::VgLookup,
        "vg0",
        Some(&mut found)
    ));
    assert_eq!(found, 2);
    assert!(!c.handle_reply(
        &reply("response = \"failed\"\nreason = \"Ignore duplicate PV\"\n"),
        Request::PvFound,
        "",
        None
    ));
    assert!(!c.handle_reply(
        &reply("response = \"token_mismatch\"\nexpected = \"filter:1\"\n"),
        Request::VgList,
        "",
        None
    ));
    assert!(!c.handle_reply(
        &DaemonReply {
            error: libc::ECONNRESET,
            ..Default::default()
        },
        Request::PvGone,
        "",
        None
    ));
    assert_eq!(
        host.visible(),
        vec![
            "Request to update PV in lvmetad gave response failed. Reason: Ignore duplicate PV",
            "WARNING: To avoid corruption, restart lvmetad (or disable with use_lvmetad=0).",
            "WARNING: Cannot use lvmetad while it caches different devices.",
            "lvmetad cannot be used due to error: Connection reset by peer",
            "WARNING: To avoid corruption, restart lvmetad (or disable with use_lvmetad=0).",
        ]
    );
}

#[test]
fn dead_daemon_and_bad_peers() {
    // the daemon dies between two calls
    let d = DaemonProc::start();
    let host = TestHost::new("pvs", 10);
    let mut c = new_client(&host, &d.socket);
    assert!(c.connect(0));
    populate(&mut c);
    drop(d);
    assert!(!c.token_matches(0));
    assert!(!c.used());
    assert_eq!(
        host.visible(),
        vec!["WARNING: Not using lvmetad after send error (104)."]
    );

    // no socket: not connected, nothing printed
    let dir = TempDir::new("bad");
    host.clear();
    let mut c = new_client(&host, &dir.path().join("none"));
    assert!(!c.socket_present());
    assert!(!c.connect(0));
    assert!(host.visible().is_empty());
    // a socket file nobody listens on
    let stale = dir.path().join("stale");
    drop(UnixListener::bind(&stale).unwrap());
    let mut c = new_client(&host, &stale);
    assert!(!c.connect(0));
    assert_eq!(
        host.visible(),
        vec![format!(
            "{}: connect failed: Connection refused",
            stale.display()
        )]
    );
    // is_disabled on a failed handle: libdaemon's internal error, then "send error"
    host.clear();
    assert_eq!(c.is_disabled().map(|r| r.as_str()), Some("send error"));
    assert_eq!(
        host.visible(),
        vec!["Internal error: Daemon send: socket fd cannot be negative -1"]
    );

    // peers that answer hello and then misbehave
    for (name, reply, errno_text) in [
        (
            "truncated",
            &b"response = \"OK\"\nglob"[..],
            "Connection reset by peer",
        ),
        ("garbage", &b"{{{ not config\n##\n"[..], "Protocol error"),
        ("empty", &b"\n##\n"[..], "Protocol error"),
    ] {
        let sock = dir.path().join(name);
        let l = UnixListener::bind(&sock).unwrap();
        let reply = reply.to_vec();
        let t = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            read_reply(&mut s).unwrap();
            s.write_all(b"response = \"OK\"\nprotocol = \"lvmetad\"\nversion = 1\n\n##\n")
                .unwrap();
            read_reply(&mut s).unwrap();
            s.write_all(&reply).unwrap();
        });
        host.clear();
        let mut c = new_client(&host, &sock);
        assert!(c.connect(0));
        let r = c.send(Request::PvList, &[]);
        assert!(!c.handle_reply(&r, Request::PvList, "", None));
        let mut want = vec![format!(
            "lvmetad cannot be used due to error: {}",
            errno_text
        )];
        if name == "truncated" {
            want.insert(
                0,
                "WARNING: lvmetad connection failed, cannot reconnect.".into(),
            );
        }
        assert_eq!(host.visible(), want, "{}", name);
        t.join().unwrap();
    }

    // a peer speaking another protocol
    let sock = dir.path().join("proto");
    let l = UnixListener::bind(&sock).unwrap();
    let t = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        read_reply(&mut s).unwrap();
        s.write_all(b"response = \"OK\"\nprotocol = \"lvmpolld\"\nversion = 1\n\n##\n")
            .unwrap();
    });
    host.clear();
    let mut c = new_client(&host, &sock);
    assert!(!c.connect(0));
    assert_eq!(
        host.visible(),
        vec!["Daemon lvmetad: requested protocol lvmetad != lvmpolld"]
    );
    t.join().unwrap();
}
