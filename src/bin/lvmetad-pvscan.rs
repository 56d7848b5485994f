//! `lvmetad-pvscan`: LVM2 2.02.188's `pvscan --cache` run natively by this library.
//!
//! Usage: lvmetad-pvscan --cache [-v...] [--config STRING] [--major M --minor m]... [DEV...]
//! DEV is a path or MAJOR:MINOR. Honours LVM_SYSTEM_DIR (its lvm.conf),
//! LVM_LVMETAD_SOCKET and LVM_LVMETAD_PIDFILE; prints LVM's messages; exit status 0, 5
//! (a failure), or 3 (bad command line).

use lvmetad::client::port::{Host, Level};
use lvmetad::client::Client;
use lvmetad::host::native::{init_connections, print_lvm_style, NativeCmd, NativeHost};
use lvmetad::scan::lock::{Locks, Mode};
use lvmetad::scan::lvmconf::LvmConfig;
use lvmetad::scan::pvscan::{pvscan_cache_locked, CacheArgs};
use lvmetad::scan::source::SystemDevices;
use std::process::exit;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const EINVALID_CMD_LINE: i32 = 3;

fn usage() -> ! {
    eprintln!("  Usage: lvmetad-pvscan --cache [-v] [--config String] [--major Major --minor Minor]... [PV|MAJOR:MINOR ...]");
    exit(EINVALID_CMD_LINE);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut cache = false;
    let mut overrides: Vec<String> = Vec::new();
    let mut cache_args = CacheArgs::default();
    let mut majors: Vec<i64> = Vec::new();
    let mut minors: Vec<i64> = Vec::new();
    let mut verbose = 0;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--cache" => cache = true,
            "--config" => overrides.push(args.next().unwrap_or_else(|| usage())),
            "--major" | "-j" => majors.push(
                args.next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| usage()),
            ),
            "--minor" => minors.push(
                args.next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| usage()),
            ),
            "-h" | "--help" => {
                eprintln!("  lvmetad-pvscan --cache: repopulate lvmetad from the devices (LVM2 2.02.188 pvscan --cache).");
                usage();
            }
            s if s.starts_with("-v") && s[1..].chars().all(|c| c == 'v') => verbose += s.len() - 1,
            "--verbose" => verbose += 1,
            s if s.starts_with("--config=") => overrides.push(s["--config=".len()..].to_string()),
            s if s.starts_with('-') => {
                eprintln!("  lvmetad-pvscan: unrecognized option '{}'", s);
                usage();
            }
            _ => cache_args.devices.push(a),
        }
    }
    if !cache {
        eprintln!("  Only pvscan --cache is implemented by lvmetad-pvscan.");
        usage();
    }
    if majors.len() != minors.len() {
        eprintln!("  Both --major and --minor required to identify devices.");
        exit(EINVALID_CMD_LINE);
    }
    cache_args.major_minor = majors.into_iter().zip(minors).collect();

    let refs: Vec<&str> = overrides.iter().map(|s| s.as_str()).collect();
    let cfg = match LvmConfig::load(None, &refs) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("  {}", e);
            exit(5);
        }
    };
    // LVM prints "Command failed with status code N." only when no error was logged
    let error_logged = Arc::new(AtomicBool::new(false));
    let seen = error_logged.clone();
    let host = Arc::new(NativeHost::new(cfg.clone()).with_sink(Box::new(
        move |l: Level, m: &str| {
            if l == Level::Error {
                seen.store(true, Ordering::Relaxed);
            }
            print_lvm_style(l, m, verbose)
        },
    )));
    host.set_verbosity(verbose);
    host.register(1, Arc::new(NativeCmd::new(cfg.clone(), "pvscan")));
    if cfg.int("global/activation") == Some(0) {
        host.log(
            Level::Warn,
            "WARNING: Activation disabled. No device-mapper interaction will be attempted.",
        );
    }
    let mut client = Client::new(host.clone() as Arc<dyn Host>);
    init_connections(&mut client, &cfg, 1);
    let devices = match SystemDevices::new(&cfg) {
        Ok(d) => d,
        Err(msgs) => {
            for m in msgs {
                host.log(Level::Error, &m);
            }
            exit(5);
        }
    };
    host.set_devices(1, Box::new(devices));
    // init_locking comes after the lvmetad setup, as in lvm_run_command
    let log = |l: Level, m: &str| host.log(l, m);
    let client = Mutex::new(client);
    let code = match Locks::init(&cfg, &log) {
        Some(mut locks) => {
            let code = pvscan_cache_locked(&client, &*host, 1, &cache_args, &mut || {
                locks.lock_global(Mode::Read, &log)
            });
            locks.unlock("P_global", &log);
            code
        }
        None => 5,
    };
    client
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .disconnect();
    if code != 0 && !error_logged.load(Ordering::Relaxed) {
        host.log(
            Level::Error,
            &format!("Command failed with status code {}.", code),
        );
    }
    exit(code);
}
