//! `lvmetactl`: LVM2 2.02.188's debugging client for lvmetad, same commands and output.
//!
//! Differences (docs/compat.md): the socket is taken from `LVM_LVMETAD_SOCKET` when set
//! (the C tool always uses the compiled-in default), and a missing daemon is reported
//! and exits 1 instead of crashing.

use lvmetad::config::builder::{push_int, push_str};
use lvmetad::daemon::server::DEFAULT_SOCKET;
use lvmetad::protocol::Request;
use lvmetad::protocol::{PROTOCOL, PROTOCOL_VERSION};
use lvmetad::wire::Connection;
use std::path::PathBuf;
use std::process::exit;

/// C `atoi()`.
fn atoi(s: &str) -> i64 {
    let s = s.trim_start();
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for c in rest.bytes() {
        if !c.is_ascii_digit() {
            break;
        }
        v = v.wrapping_mul(10).wrapping_add((c - b'0') as i64);
    }
    let v = if neg { -v } else { v };
    v as i32 as i64
}

enum F<'a> {
    S(&'a str, &'a str),
    I(&'a str, i64),
}

fn request(id: Request, fields: &[F]) -> Vec<u8> {
    let mut b = Vec::new();
    push_str(&mut b, "request", id.name().as_bytes());
    for f in fields {
        match f {
            F::S(k, v) => push_str(&mut b, k, v.as_bytes()),
            F::I(k, v) => push_int(&mut b, k, *v),
        }
    }
    push_str(&mut b, "token", b"skip");
    push_int(&mut b, "pid", std::process::id() as i64);
    push_str(&mut b, "cmd", b"lvmetactl");
    b
}

fn usage() -> ! {
    for l in [
        "lvmetactl dump",
        "lvmetactl pv_list",
        "lvmetactl vg_list",
        "lvmetactl get_global_info",
        "lvmetactl vg_lookup_name <name>",
        "lvmetactl vg_lookup_uuid <uuid>",
        "lvmetactl pv_lookup_uuid <uuid>",
        "lvmetactl set_global_invalid 0|1",
        "lvmetactl set_global_disable 0|1",
        "lvmetactl set_vg_version <uuid> <name> <version>",
        "lvmetactl vg_lock_type <uuid>",
    ] {
        println!("{}", l);
    }
    exit(255);
}

fn need(args: &[String], n: usize, msg: &str) {
    if args.len() < n {
        println!("{}", msg);
        exit(255);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 2 {
        usage();
    }
    let cmd = args[1].as_str();
    let known = [
        "dump",
        "pv_list",
        "vg_list",
        "get_global_info",
        "set_global_invalid",
        "set_global_disable",
        "set_vg_version",
        "vg_lookup_name",
        "vg_lookup_uuid",
        "vg_lock_type",
        "pv_lookup_uuid",
    ];
    let socket = std::env::var_os("LVM_LVMETAD_SOCKET")
        .map(PathBuf::from)
        .unwrap_or_else(|| DEFAULT_SOCKET.into());
    let mut conn = match Connection::open(&socket, PROTOCOL, PROTOCOL_VERSION) {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "lvmetactl: cannot connect to lvmetad at {}: {}",
                socket.display(),
                e
            );
            exit(1);
        }
    };
    if !known.contains(&cmd) {
        println!("unknown command");
        exit(0);
    }
    // the reply's bytes, also when they do not parse (printed as the daemon sent them)
    let raw = |body: Vec<u8>, conn: &mut Connection| {
        let r = conn.exchange(&body);
        if r.error != 0 && r.error != libc::EPROTO {
            eprintln!("lvmetactl: {}", lvmetad::wire::strerror(r.error));
            exit(1);
        }
        r.body
    };
    let print_raw = |b: Vec<u8>| {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(&b);
        let _ = out.write_all(b"\n");
    };
    let print_reply = |b: Vec<u8>| {
        let t = lvmetad::config::parse(&b).unwrap_or_default();
        let g = |k: &str| {
            String::from_utf8_lossy(lvmetad::config::find_str_allow_empty(&t, k).unwrap_or(b""))
                .into_owned()
        };
        println!(
            "response \"{}\" status \"{}\" reason \"{}\"",
            g("response"),
            g("status"),
            g("reason")
        );
    };
    match cmd {
        "dump" | "pv_list" | "vg_list" | "get_global_info" => {
            let id = Request::from_name(cmd.as_bytes()).expect("a request of the table");
            print_raw(raw(request(id, &[]), &mut conn))
        }
        "set_global_invalid" => {
            need(&args, 3, "set_global_invalid 0|1");
            let v = atoi(&args[2]);
            print_reply(raw(
                request(Request::SetGlobalInfo, &[F::I("global_invalid", v)]),
                &mut conn,
            ))
        }
        "set_global_disable" => {
            need(&args, 3, "set_global_disable 0|1");
            let v = atoi(&args[2]);
            print_reply(raw(
                request(
                    Request::SetGlobalInfo,
                    &[F::I("global_disable", v), F::S("disable_reason", "DIRECT")],
                ),
                &mut conn,
            ))
        }
        "set_vg_version" => {
            need(&args, 5, "set_vg_version <uuid> <name> <ver>");
            let uuid = Some(args[2].as_str()).filter(|u| *u != "-");
            let name = Some(args[3].as_str()).filter(|n| *n != "-");
            let ver = atoi(&args[4]);
            let mut f = Vec::new();
            if let Some(u) = uuid {
                f.push(F::S("uuid", u));
            }
            if let Some(n) = name {
                f.push(F::S("name", n));
            }
            if f.is_empty() {
                println!("name or uuid required");
                exit(255);
            }
            f.push(F::I("version", ver));
            print_reply(raw(request(Request::SetVgInfo, &f), &mut conn))
        }
        "vg_lookup_name" => {
            need(&args, 3, "vg_lookup_name <name>");
            print_raw(raw(
                request(Request::VgLookup, &[F::S("name", &args[2])]),
                &mut conn,
            ))
        }
        "vg_lookup_uuid" => {
            need(&args, 3, "vg_lookup_uuid <uuid>");
            print_raw(raw(
                request(Request::VgLookup, &[F::S("uuid", &args[2])]),
                &mut conn,
            ))
        }
        "pv_lookup_uuid" => {
            need(&args, 3, "pv_lookup_uuid <uuid>");
            print_raw(raw(
                request(Request::PvLookup, &[F::S("uuid", &args[2])]),
                &mut conn,
            ))
        }
        "vg_lock_type" => {
            need(&args, 3, "vg_lock_type <uuid>");
            let b = raw(
                request(Request::VgLookup, &[F::S("uuid", &args[2])]),
                &mut conn,
            );
            let t = lvmetad::config::parse(&b).unwrap_or_default();
            match lvmetad::config::find(&t, "metadata") {
                None => println!("no metadata"),
                Some(m) => {
                    match lvmetad::config::find_str(std::slice::from_ref(m), "metadata/lock_type") {
                        None => println!("no lock_type"),
                        Some(lt) => println!("lock_type {}", String::from_utf8_lossy(lt)),
                    }
                }
            }
        }
        _ => unreachable!(),
    }
}
