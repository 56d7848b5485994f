//! `lvmetad-audit`: whether lvmetad's cache agrees with the devices, and `--repair`.
//!
//! Usage: lvmetad-audit [--repair] [--json] [--lock-timeout SECONDS] [-v...] [--config STRING]
//! Honours LVM_SYSTEM_DIR, LVM_LVMETAD_SOCKET and LVM_LVMETAD_PIDFILE like lvmetad-pvscan.
//! Exit status: 0 the cache agrees, 1 differences, 2 could not audit. The logic is
//! `lvmetad::audit`; what it reports: docs/audit.md.

use lvmetad::audit::{json, Audit, Failure, Outcome};
use lvmetad::host::native::NativeHost;
use lvmetad::scan::lvmconf::LvmConfig;
use std::process::exit;
use std::sync::Arc;
use std::time::Duration;

const USAGE: &str =
    "  Usage: lvmetad-audit [--repair] [--json] [--lock-timeout Seconds] [-v] [--config String]";

fn usage() -> ! {
    eprintln!("{}", USAGE);
    exit(2);
}

fn print_report(o: &Outcome) {
    for d in &o.differences {
        println!("  {}", d.message());
    }
    if let Some(r) = &o.repair {
        if r.mode == "full" {
            println!("  Repaired lvmetad's cache by rescanning all devices.");
        } else {
            for d in &r.forgotten {
                println!("  Removed device {} from lvmetad's cache.", d);
            }
            for d in &r.rescanned {
                println!("  Rescanned device {} into lvmetad's cache.", d);
            }
        }
        for d in &r.remaining {
            println!("  After repair: {}", d.message());
        }
        if r.remaining.is_empty() && r.ok {
            println!("  lvmetad's cache now agrees with the devices.");
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut overrides: Vec<String> = Vec::new();
    let mut repair = false;
    let mut as_json = false;
    let mut verbose = 0;
    let mut timeout = Duration::from_secs(30);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--repair" => repair = true,
            "--json" => as_json = true,
            "--config" => overrides.push(args.next().unwrap_or_else(|| usage())),
            "--lock-timeout" => {
                timeout = Duration::from_secs(
                    args.next()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or_else(|| usage()),
                )
            }
            "-h" | "--help" => {
                eprintln!("  lvmetad-audit: compare lvmetad's cache with the devices (and repair it with --repair).");
                usage();
            }
            "--verbose" => verbose += 1,
            s if s.starts_with("-v") && s[1..].chars().all(|c| c == 'v') => verbose += s.len() - 1,
            s if s.starts_with("--config=") => overrides.push(s["--config=".len()..].to_string()),
            s => {
                eprintln!("  lvmetad-audit: unrecognized argument '{}'", s);
                usage();
            }
        }
    }
    let fail = |f: Failure| -> ! {
        if as_json {
            println!("{}", json::failure(&f.0));
        }
        eprintln!("  {}", f.0);
        eprintln!("  lvmetad-audit could not audit the cache.");
        exit(2);
    };
    let refs: Vec<&str> = overrides.iter().map(|s| s.as_str()).collect();
    let cfg = LvmConfig::load(None, &refs).unwrap_or_else(|e| fail(Failure(e.to_string())));
    let host = Arc::new(NativeHost::new(cfg.clone()));
    host.set_verbosity(verbose);
    let mut audit = Audit::new(cfg, host, timeout).unwrap_or_else(|f| fail(f));
    let outcome = audit.run(repair).unwrap_or_else(|f| fail(f));
    audit
        .client
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .disconnect();
    if as_json {
        println!("{}", json::outcome(&outcome));
    } else {
        print_report(&outcome);
    }
    exit(outcome.status());
}
