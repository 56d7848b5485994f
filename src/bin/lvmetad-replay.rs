//! `lvmetad-replay`: send the requests of a recorded lvmetad transcript to a daemon and
//! show each exchange, marking replies identical to the recorded ones.
//!
//! Usage: lvmetad-replay [-s SOCKET] [-q] [--seed CAPTURE] CAPTURE...
//! `--seed CAPTURE` first installs the PVs of the first `pv_list` reply in CAPTURE with
//! that capture's cache token (the state a recorded session had before it).
//! (`-s` defaults to `LVM_LVMETAD_SOCKET`, then /run/lvm/lvmetad.socket.) Exit status 0
//! when every reply was received; identical replies are counted, differences shown.

use lvmetad::config::{find_str_allow_empty, parse};
use lvmetad::daemon::server::DEFAULT_SOCKET;
use lvmetad::protocol::capture::{self, Event};
use lvmetad::wire::{read_message, write_all};
use std::collections::HashMap;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

fn summary(body: &[u8]) -> String {
    let t = match parse(body) {
        Ok(t) => t,
        Err(_) => return "(raw)".into(),
    };
    let g = |k: &str| find_str_allow_empty(&t, k).map(|v| String::from_utf8_lossy(v).into_owned());
    let mut s = g("request")
        .or_else(|| g("response"))
        .unwrap_or_else(|| "(dump)".into());
    for k in ["status", "reason", "token", "cmd", "expected"] {
        if let Some(v) = g(k) {
            s.push_str(&format!(" {}=\"{}\"", k, v));
        }
    }
    s
}

fn seed_from(socket: &std::path::Path, f: &std::path::Path) -> Result<(), String> {
    let data = std::fs::read(f).map_err(|e| e.to_string())?;
    let events = capture::parse(&data).map_err(|e| e.to_string())?;
    let list = capture::first_reply_to(&events, "pv_list").ok_or("no pv_list reply")?;
    let token = capture::session_token(&events).ok_or("no cache token")?;
    let reqs = capture::seed_requests(&list, &[], &token).map_err(|e| e.to_string())?;
    let mut c = lvmetad::wire::Connection::connect(socket).map_err(|e| e.to_string())?;
    for r in reqs {
        let reply = c.exchange(&r);
        if reply.error != 0 {
            return Err(lvmetad::wire::strerror(reply.error));
        }
        if reply.response() != "OK" {
            return Err(String::from_utf8_lossy(&reply.body).into_owned());
        }
    }
    Ok(())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut socket: PathBuf = std::env::var_os("LVM_LVMETAD_SOCKET")
        .map(PathBuf::from)
        .unwrap_or_else(|| DEFAULT_SOCKET.into());
    let mut quiet = false;
    let mut files = Vec::new();
    let mut seed: Option<PathBuf> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "-s" => socket = args.next().map(PathBuf::from).unwrap_or(socket),
            "-q" => quiet = true,
            "--seed" => seed = args.next().map(PathBuf::from),
            "-h" | "--help" => {
                println!("Usage: lvmetad-replay [-s SOCKET] [-q] [--seed CAPTURE] CAPTURE...");
                return;
            }
            _ => files.push(PathBuf::from(a)),
        }
    }
    if files.is_empty() && seed.is_none() {
        eprintln!("Usage: lvmetad-replay [-s SOCKET] [-q] [--seed CAPTURE] CAPTURE...");
        std::process::exit(2);
    }
    if let Some(f) = &seed {
        if let Err(e) = seed_from(&socket, f) {
            eprintln!("{}: {}", f.display(), e);
            std::process::exit(1);
        }
        println!(
            "== seeded the cache from the pv_list reply in {}",
            f.display()
        );
    }
    let (mut same, mut total) = (0, 0);
    for f in &files {
        let data = match std::fs::read(f) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{}: {}", f.display(), e);
                std::process::exit(1);
            }
        };
        let events = match capture::parse(&data) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("{}: {}", f.display(), e);
                std::process::exit(1);
            }
        };
        println!("== {}", f.file_name().unwrap_or_default().to_string_lossy());
        let mut conns: HashMap<u32, UnixStream> = HashMap::new();
        let mut last: HashMap<u32, Vec<u8>> = HashMap::new();
        for e in events {
            match e {
                Event::Open(c) => match UnixStream::connect(&socket) {
                    Ok(s) => {
                        conns.insert(c, s);
                    }
                    Err(e) => {
                        eprintln!("cannot connect to {}: {}", socket.display(), e);
                        std::process::exit(1);
                    }
                },
                Event::Close(c) => {
                    conns.remove(&c);
                }
                Event::Request { conn, bytes, .. } => {
                    let s = conns
                        .get_mut(&conn)
                        .expect("request on a closed connection");
                    if let Err(e) = write_all(s, &bytes) {
                        eprintln!("write: {}", e);
                        std::process::exit(1);
                    }
                    if !quiet {
                        println!("  -> {}", summary(&bytes[..bytes.len().saturating_sub(4)]));
                    }
                    last.insert(conn, bytes);
                }
                Event::Reply { conn, bytes, .. } => {
                    let s = conns.get_mut(&conn).expect("reply on a closed connection");
                    let mut got = Vec::new();
                    if let Err(e) = read_message(s, &mut got, usize::MAX) {
                        eprintln!("read: {}", e);
                        std::process::exit(1);
                    }
                    got.extend_from_slice(b"\n##\n");
                    total += 1;
                    let ident =
                        capture::normalise_volatile(&got) == capture::normalise_volatile(&bytes);
                    if ident {
                        same += 1;
                    }
                    if !quiet {
                        println!(
                            "  <- {}  [{}]",
                            summary(&got[..got.len() - 4]),
                            if ident {
                                "as recorded"
                            } else {
                                "differs from recording"
                            }
                        );
                    }
                }
            }
        }
    }
    if total == 0 {
        return;
    }
    println!(
        "{} of {} replies identical to the recording (daemon_pid and update_begin normalised)",
        same, total
    );
}
