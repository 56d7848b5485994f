//! Differential test: replays the recordings in tests/data/differential (hand-made requests
//! and the replies of the stock LVM2 2.02.188 lvmetad, see the README there) against the
//! bundled daemon and requires identical replies, byte for byte.
//!
//! Each transcript is replayed on a freshly started daemon, with its connections opened,
//! used and closed in the recorded order. A `# @sleep step=<s> seconds=<n>` header line
//! makes the replay pause before the first request of step s, as the recorder did.
//!
//! Normalised before comparing (they depend on the process and the clock): a line
//! `daemon_pid = N` and a line `update_begin = N` with N non-zero. Nothing else.
//!
//! One test per transcript, so a failure names its scenario; `all_transcripts_are_listed`
//! makes sure a new recording is not silently left out.

mod common;
use common::*;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

const TERM: &[u8] = b"\n##\n";

fn dir() -> PathBuf {
    data_dir().join("differential")
}

fn normalise(b: &[u8]) -> Vec<u8> {
    lvmetad::protocol::capture::normalise_volatile(b)
}

/// Header information: step descriptions and pauses.
struct Header {
    steps: HashMap<u32, String>,
    sleeps: HashMap<u32, u64>,
}

fn header(name: &str) -> Header {
    let data = std::fs::read(dir().join(name)).unwrap();
    let end = data
        .windows(10)
        .position(|w| w == b"\n--- conn=")
        .expect("no connection in transcript");
    let text = String::from_utf8_lossy(&data[..end]);
    let mut h = Header {
        steps: HashMap::new(),
        sleeps: HashMap::new(),
    };
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("#   step ") {
            let n: u32 = rest.split_whitespace().next().unwrap().parse().unwrap();
            let desc = rest
                .split_once("): ")
                .map(|x| x.1)
                .unwrap_or("")
                .to_string();
            h.steps.insert(n, desc);
        } else if let Some(rest) = line.strip_prefix("# @sleep ") {
            let mut step = None;
            let mut secs = None;
            for w in rest.split_whitespace() {
                if let Some(v) = w.strip_prefix("step=") {
                    step = Some(v.parse().unwrap());
                } else if let Some(v) = w.strip_prefix("seconds=") {
                    secs = Some(v.parse().unwrap());
                }
            }
            h.sleeps.insert(step.unwrap(), secs.unwrap());
        }
    }
    h
}

/// A client connection with the bytes read past the last complete reply.
struct Conn {
    s: UnixStream,
    pending: Vec<u8>,
    dead: bool,
}

impl Conn {
    /// Read exactly one reply (up to and including the first terminator).
    fn reply(&mut self) -> Option<Vec<u8>> {
        if self.dead {
            return None;
        }
        let mut chunk = [0u8; 65536];
        loop {
            if let Some(i) = self.pending.windows(4).position(|w| w == TERM) {
                let rest = self.pending.split_off(i + 4);
                return Some(std::mem::replace(&mut self.pending, rest));
            }
            match self.s.read(&mut chunk) {
                Ok(0) | Err(_) => {
                    self.dead = true;
                    return None;
                }
                Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
            }
        }
    }
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Replay one transcript on a fresh daemon; returns (replies compared, mismatches).
fn replay(name: &str) -> (usize, Vec<String>) {
    let h = header(name);
    let events = parse_capture(&dir().join(name));
    let d = DaemonProc::start();
    let mut conns: HashMap<u32, Conn> = HashMap::new();
    let mut last_req: HashMap<u32, Vec<u8>> = HashMap::new();
    let mut slept: std::collections::HashSet<u32> = Default::default();
    let mut bad = Vec::new();
    let mut n = 0;
    for e in events {
        match e {
            Event::Open(c) => {
                let s = d.connect();
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                conns.insert(
                    c,
                    Conn {
                        s,
                        pending: Vec::new(),
                        dead: false,
                    },
                );
            }
            Event::Close(c) => {
                if let Some(conn) = conns.remove(&c) {
                    if !conn.pending.is_empty() {
                        bad.push(format!(
                            "{}: conn {} closed with unexpected extra reply bytes:\n{}",
                            name,
                            c,
                            show(&conn.pending)
                        ));
                    }
                }
            }
            Event::Request { conn, step, bytes } => {
                if let Some(&secs) = h.sleeps.get(&step) {
                    if slept.insert(step) {
                        std::thread::sleep(Duration::from_secs(secs));
                    }
                }
                let c = conns
                    .get_mut(&conn)
                    .expect("request on a closed connection");
                if !c.dead && c.s.write_all(&bytes).is_err() {
                    c.dead = true;
                }
                last_req.insert(conn, bytes);
            }
            Event::Reply { conn, step, bytes } => {
                n += 1;
                let c = conns.get_mut(&conn).expect("reply on a closed connection");
                let got = c.reply();
                let ok = match &got {
                    Some(g) => normalise(g) == normalise(&bytes),
                    None => false,
                };
                if !ok {
                    bad.push(format!(
                        "{} step {} ({}) reply #{} on conn {}:\n--- request\n{}\n--- expected (stock lvmetad)\n{}\n--- got\n{}",
                        name,
                        step,
                        h.steps.get(&step).map(String::as_str).unwrap_or("?"),
                        n,
                        conn,
                        show(&last_req[&conn]),
                        show(&normalise(&bytes)),
                        match got {
                            Some(g) => show(&normalise(&g)),
                            None => "(no reply: connection closed or 10 s timeout)".to_string(),
                        }
                    ));
                }
            }
        }
    }
    assert!(n > 0, "{} has no replies", name);
    (n, bad)
}

fn check(name: &str) {
    let (n, bad) = replay(name);
    eprintln!(
        "{}: {} replies compared, {} mismatching",
        name,
        n,
        bad.len()
    );
    if !bad.is_empty() {
        panic!(
            "{}: {} of {} replies differ from the stock daemon:\n{}",
            name,
            bad.len(),
            n,
            bad.join("\n=====\n")
        );
    }
}

macro_rules! transcripts {
    ($($test:ident => $file:expr,)*) => {
        $(
            #[test]
            fn $test() {
                check($file);
            }
        )*
        const LISTED: &[&str] = &[$($file),*];
    };
}

transcripts! {
    t01_token_update_rows => "01-token-update-rows.txt",
    t02_token_update_takeover => "02-token-update-takeover.txt",
    t03_token_update_simple_layout => "03-token-update-simple-layout.txt",
    t04_token_mismatch => "04-token-mismatch.txt",
    t05_global_info_expiry => "05-global-info-expiry.txt",
    t06_set_global_info => "06-set-global-info.txt",
    t07_unknown_requests_and_bodies => "07-unknown-requests-and-bodies.txt",
    t08_parser_forms => "08-parser-forms.txt",
    t09_pv_found_validation => "09-pv-found-validation.txt",
    t10_pv_found_orphans => "10-pv-found-orphans.txt",
    t11_pv_found_vg_partial_complete => "11-pv-found-vg-partial-complete.txt",
    t12_pv_found_device_reuse => "12-pv-found-device-reuse.txt",
    t13_pv_found_duplicate => "13-pv-found-duplicate.txt",
    t14_pv_found_outdated => "14-pv-found-outdated.txt",
    t15_pv_found_vg_identity => "15-pv-found-vg-identity.txt",
    t16_vg_update => "16-vg-update.txt",
    t17_vg_lookup => "17-vg-lookup.txt",
    t18_set_vg_info => "18-set-vg-info.txt",
    t19_pv_gone => "19-pv-gone.txt",
    t20_pv_lookup => "20-pv-lookup.txt",
    t21_vg_remove_clear_all => "21-vg-remove-clear-all.txt",
    t22_many_pvs => "22-many-pvs.txt",
    t23_simple_layout_all => "23-simple-layout-all.txt",
    t24_strings_and_escaping => "24-strings-and-escaping.txt",
    t25_odd_metadata => "25-odd-metadata.txt",
    t26_large_messages => "26-large-messages.txt",
    t27_wire_pipelining => "27-wire-pipelining.txt",
}

#[test]
fn all_transcripts_are_listed() {
    let mut files: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|f| f.ends_with(".txt"))
        .collect();
    files.sort();
    let mut listed: Vec<String> = LISTED.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(
        files, listed,
        "tests/data/differential and the list in this file differ"
    );
}

#[test]
fn normalise_touches_only_pid_and_update_begin() {
    let a = b"response = \"OK\"\ndaemon_pid = 12\nupdate_begin = 0\nx = 1\n\n##\n";
    let b = b"response = \"OK\"\ndaemon_pid = 99\nupdate_begin = 0\nx = 1\n\n##\n";
    assert_eq!(normalise(a), normalise(b));
    let c = b"update_begin = 5\n";
    let d = b"update_begin = 0\n";
    assert_ne!(normalise(c), normalise(d));
    assert_ne!(normalise(b"x = 1\n"), normalise(b"x = 2\n"));
}
