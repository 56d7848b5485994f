//! `lvmetad`: the LVM metadata caching daemon, command-line compatible with
//! LVM2 2.02.188's (`-f -l LEVELS -p PIDFILE -s SOCKET -t SECS -V -h`), plus the opt-in
//! `--fast-takeover` (lvmetad(8)).

use lvmetad::daemon::log::Logger;
use lvmetad::daemon::server::{run, Options};
use std::path::PathBuf;

const VERSION: &str = "2.02.188(2) (2021-05-07)";

fn usage(prog: &str) -> String {
    format!(
        "Usage:\n{} [-V] [-h] [-f] [-l level[,level ...]] [-s path] [-t secs]\n\n   \
-V       Show version of lvmetad\n   \
-h       Show this help information\n   \
-f       Don't fork, run in the foreground\n   \
-l       Logging message levels (all,fatal,error,warn,info,wire,debug)\n   \
-p       Set path to the pidfile\n   \
-s       Set path to the socket to listen on\n   \
-t       Time to wait in seconds before shutdown on idle (missing or 0 = inifinite)\n\n",
        prog
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let prog = args.first().cloned().unwrap_or_else(|| "lvmetad".into());
    let mut opts = Options::default();
    let mut log_config = String::new();
    let mut i = 1;
    // getopt("?fhVl:p:s:t:") semantics: clustered flags, attached or separate arguments.
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            break;
        }
        // Not in LVM's getopt string, so not in its help text either (docs/compat.md).
        if a == "--fast-takeover" {
            opts.fast_takeover = true;
            i += 1;
            continue;
        }
        if !a.starts_with('-') || a.len() < 2 {
            i += 1;
            continue;
        }
        let chars: Vec<char> = a[1..].chars().collect();
        let mut j = 0;
        while j < chars.len() {
            let c = chars[j];
            match c {
                'h' => {
                    print!("{}", usage(&prog));
                    std::process::exit(0);
                }
                'f' => opts.foreground = true,
                'V' => {
                    println!("lvmetad version: {}", VERSION);
                    std::process::exit(1);
                }
                'l' | 'p' | 's' | 't' => {
                    let rest: String = chars[j + 1..].iter().collect();
                    let val = if !rest.is_empty() {
                        rest
                    } else if i + 1 < args.len() {
                        i += 1;
                        args[i].clone()
                    } else {
                        eprintln!("{}: option requires an argument -- '{}'", prog, c);
                        eprint!("{}", usage(&prog));
                        std::process::exit(0);
                    };
                    match c {
                        'l' => log_config = val,
                        'p' => opts.pidfile = Some(PathBuf::from(val)),
                        's' => opts.socket_path = PathBuf::from(val),
                        _ => match val.parse::<u64>() {
                            Ok(v) if v < u32::MAX as u64 => opts.idle_timeout = v as u32,
                            _ => {
                                eprintln!("Invalid value of timeout parameter.");
                                std::process::exit(1);
                            }
                        },
                    }
                    j = chars.len();
                    continue;
                }
                '?' => {
                    eprint!("{}", usage(&prog));
                    std::process::exit(0);
                }
                other => {
                    eprintln!("{}: invalid option -- '{}'", prog, other);
                    eprint!("{}", usage(&prog));
                    std::process::exit(0);
                }
            }
            j += 1;
        }
        i += 1;
    }
    opts.log = match Logger::parse(&log_config) {
        Ok(l) => l,
        Err(bad) => {
            eprintln!("Unknown log level: {}", bad);
            std::process::exit(1);
        }
    };
    std::process::exit(run(opts));
}
