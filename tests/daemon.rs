//! The daemon binary under bad input, concurrency and its command line.
//! Every test talks to the real `lvmetad` binary over a real UNIX socket.

mod common;
use common::*;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const GGI: &[u8] = b"request = \"get_global_info\"\ntoken = \"skip\"\npid = 1\ncmd = \"x\"\n";

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn assert_alive(d: &DaemonProc) {
    let mut c = d.connect();
    let r = s(&exchange(&mut c, b"request = \"hello\"\n"));
    assert_eq!(
        r,
        "response = \"OK\"\nprotocol = \"lvmetad\"\nversion = 1\n\n##\n"
    );
}

#[test]
fn garbage_and_empty_requests_are_token_mismatch_none() {
    let d = DaemonProc::start();
    let mut c = d.connect();
    let want = "response = \"token_mismatch\"\nexpected = \"\"\nreceived = \"NONE\"\nupdate_pid = 0\nreason = \"another command has populated the cache\"\n\n##\n";
    for body in [
        &b"\x01\x02garbage {{ ]] = = \xff"[..],
        b"",
        b"request = ",
        b"a {",
        b"\"\" = 1",
    ] {
        assert_eq!(s(&exchange(&mut c, body)), want, "body {:?}", body);
    }
    assert_alive(&d);
}

#[test]
fn unknown_requests_fail_or_mismatch() {
    let d = DaemonProc::start();
    let mut c = d.connect();
    for body in [
        &b"request = \"frobnicate\"\ntoken = \"skip\"\n"[..],
        b"request = \"HELLO\"\ntoken = \"skip\"\n",
        b"request = \"pv_add\"\ntoken = \"skip\"\n",
        b"token = \"skip\"\n",
    ] {
        assert_eq!(
            s(&exchange(&mut c, body)),
            "response = \"failed\"\nreason = \"request not implemented\"\n\n##\n"
        );
    }
    assert_eq!(
        s(&exchange(&mut c, b"request = \"frobnicate\"\ntoken = \"x\"\n")),
        "response = \"token_mismatch\"\nexpected = \"\"\nreceived = \"x\"\nupdate_pid = 0\nreason = \"another command has populated the cache\"\n\n##\n"
    );
}

#[test]
fn vg_update_with_missing_fields_is_refused_and_daemon_keeps_serving() {
    // The C daemon exits here (protocol.md 4.12); ours answers failed (docs/compat.md).
    let d = DaemonProc::start();
    let mut c = d.connect();
    let cases: [(&[u8], &str); 4] = [
        (b"request=\"vg_update\"\ntoken=\"skip\"\nmetadata {\n\tid=\"V\"\n\tseqno=1\n}\n", "vg_update: need VG name"),
        (b"request=\"vg_update\"\ntoken=\"skip\"\nvgname=\"vg\"\nmetadata {\n\tseqno=1\n}\n", "vg_update: need VG UUID"),
        (b"request=\"vg_update\"\ntoken=\"skip\"\nvgname=\"vg\"\nmetadata {\n\tid=\"V\"\n}\n", "vg_update: need VG seqno"),
        (b"request=\"vg_update\"\ntoken=\"skip\"\nvgname=\"vg\"\nmetadata {\n\tid=\"V\"\n\tseqno=0\n}\n", "vg_update: failed metadata update"),
    ];
    for (body, reason) in cases {
        assert_eq!(
            s(&exchange(&mut c, body)),
            format!("response = \"failed\"\nreason = \"{}\"\n\n##\n", reason)
        );
    }
    // nothing was stored
    let dump = s(&exchange(
        &mut c,
        b"request = \"vg_list\"\ntoken = \"skip\"\n",
    ));
    assert_eq!(dump, "response=\"OK\"\nvolume_groups {\n}\n\n\n\n##\n");
    assert_alive(&d);
}

#[test]
fn unterminated_request_does_not_block_others_and_disconnect_mid_request_is_harmless() {
    let d = DaemonProc::start();
    let mut hang = d.connect();
    hang.write_all(b"request = \"get_global_info\"\ntoken = \"skip\"\n\n#")
        .unwrap();
    // another client is served while the first one is stuck mid-message
    assert_alive(&d);
    drop(hang); // disconnect mid-request
    let mut half = d.connect();
    half.write_all(b"request=\"pv_found\"\npvmeta {\n\tdevice=1\n")
        .unwrap();
    drop(half);
    assert_alive(&d);
}

#[test]
fn oversized_request_closes_only_that_connection() {
    let d = DaemonProc::start_with(&[], &[("LVMETAD_RS_MAX_REQUEST", "65536")]);
    let mut keep = d.connect();
    assert!(s(&exchange(&mut keep, GGI)).starts_with("response = \"OK\""));
    let mut big = d.connect();
    let chunk = vec![b'a'; 8192];
    let mut sent = 0;
    while sent < 200_000 {
        if big.write_all(&chunk).is_err() {
            break;
        }
        sent += chunk.len();
    }
    big.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = [0u8; 16];
    match big.read(&mut buf) {
        Ok(0) => {}
        Ok(n) => panic!("unexpected {} reply bytes", n),
        Err(e) => assert_eq!(e.raw_os_error(), Some(libc::ECONNRESET), "{}", e),
    }
    // the other connection and new ones still work
    assert!(s(&exchange(&mut keep, GGI)).starts_with("response = \"OK\""));
    assert_alive(&d);
}

#[test]
fn sixty_four_concurrent_clients() {
    let d = DaemonProc::start();
    let sock = d.socket.clone();
    let threads: Vec<_> = (0..64)
        .map(|i| {
            let sock = sock.clone();
            std::thread::spawn(move || {
                let mut c = UnixStream::connect(&sock).unwrap();
                let pvid = format!("PV{:04}-aaaa-bbbb-cccc-dddd-eeee-ffffff", i);
                let body = format!(
                    "request=\"pv_found\"\npvmeta {{\n\tdevice={}\n\tid=\"{}\"\n}}\ntoken=\"skip\"\npid={}\n",
                    1000 + i,
                    pvid,
                    i + 1
                );
                let r = s(&exchange(&mut c, body.as_bytes()));
                assert_eq!(r, "response = \"OK\"\nstatus = \"orphan\"\nchanged = 1\nvgid = \"#orphan\"\nvgname = \"#orphan\"\nseqno_before = -1\nseqno_after = -1\n\n##\n");
                for _ in 0..50 {
                    let r = s(&exchange(&mut c, GGI));
                    assert!(r.starts_with("response = \"OK\"\nglobal_invalid = 0\n"), "{}", r);
                }
                let r = s(&exchange(
                    &mut c,
                    format!("request=\"pv_lookup\"\nuuid=\"{}\"\ntoken=\"skip\"\n", pvid).as_bytes(),
                ));
                assert!(r.contains(&format!("\n\tdevice={}\n", 1000 + i)), "{}", r);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut c = d.connect();
    let list = s(&exchange(
        &mut c,
        b"request = \"pv_list\"\ntoken = \"skip\"\n",
    ));
    assert_eq!(list.matches("\t\tdevice=").count(), 64);
}

fn lvmetad() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lvmetad"))
}

#[test]
fn version_and_help() {
    let o = lvmetad().arg("-V").output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(s(&o.stdout), "lvmetad version: 2.02.188(2) (2021-05-07)\n");
    let o = lvmetad().arg("-h").output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(s(&o.stdout).starts_with("Usage:\n"));
    assert!(s(&o.stdout).contains(
        "   -t       Time to wait in seconds before shutdown on idle (missing or 0 = inifinite)\n"
    ));
    let o = lvmetad().args(["-t", "abc"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(s(&o.stderr), "Invalid value of timeout parameter.\n");
}

#[test]
fn pidfile_lock_and_socket_in_use() {
    let d = DaemonProc::start();
    // same pidfile: exit 13
    let other = d.dir.path().join("other.socket");
    let o = lvmetad()
        .arg("-f")
        .arg("-s")
        .arg(&other)
        .arg("-p")
        .arg(&d.pidfile)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(13));
    assert!(s(&o.stderr).contains(&format!(
        "Cannot lock lockfile [{}], error was [Resource temporarily unavailable]",
        d.pidfile.display()
    )));
    // same socket, other pidfile: exit 1
    let o = lvmetad()
        .arg("-f")
        .arg("-s")
        .arg(&d.socket)
        .arg("-p")
        .arg(d.dir.path().join("other.pid"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(s(&o.stderr).contains(&format!("Socket {} already in use", d.socket.display())));
    assert_alive(&d);
    let pid = std::fs::read_to_string(&d.pidfile).unwrap();
    assert_eq!(pid, format!("{}\n", d.pid()));
}

#[test]
fn sigterm_removes_socket_and_pidfile() {
    let d = DaemonProc::start();
    let (sock, pidf) = (d.socket.clone(), d.pidfile.clone());
    let dir = TempDir::new("keep");
    let _keep = dir.path();
    assert_eq!(d.stop(), Some(0));
    assert!(!sock.exists());
    assert!(!pidf.exists());
}

#[test]
fn idle_timeout_exits() {
    let d = DaemonProc::start_with(&["-t", "1"], &[]);
    let t0 = Instant::now();
    let mut child = d;
    loop {
        if let Some(st) = child.child.try_wait().unwrap() {
            assert_eq!(st.code(), Some(0));
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "did not exit on idle"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!child.socket.exists());
}

#[test]
fn stale_socket_file_is_replaced() {
    let dir = TempDir::new("stale");
    let sock = dir.path().join("s");
    // a socket file nobody listens on
    drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
    assert!(sock.exists());
    // the daemon only removes a socket with no group/other permission bits
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o700)).unwrap();
    let mut child = lvmetad()
        .arg("-f")
        .arg("-s")
        .arg(&sock)
        .arg("-p")
        .arg(dir.path().join("p"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    let mut ok = false;
    while t0.elapsed() < Duration::from_secs(5) {
        if let Ok(mut c) = UnixStream::connect(&sock) {
            ok = s(&exchange(&mut c, b"request = \"hello\"\n")).starts_with("response = \"OK\"");
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    assert!(ok);
    assert!(s(&out.stderr).contains(&format!("removing stale socket {}", sock.display())));
}

#[test]
fn background_mode_forks_and_parent_exits_zero() {
    let dir = TempDir::new("bg");
    let sock = dir.path().join("s");
    let pidf = dir.path().join("p");
    let st = lvmetad()
        .arg("-s")
        .arg(&sock)
        .arg("-p")
        .arg(&pidf)
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(0));
    // the parent returns only once the child is ready
    let mut c = UnixStream::connect(&sock).unwrap();
    assert!(s(&exchange(&mut c, GGI)).starts_with("response = \"OK\""));
    let pid: i32 = std::fs::read_to_string(&pidf)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    drop(c);
    let t0 = Instant::now();
    while sock.exists() && t0.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!sock.exists());
}
