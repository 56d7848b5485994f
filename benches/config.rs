//! Text-format throughput: `lvmetad::config::parse` and the tree writer on large,
//! realistic inputs. The C counterpart (benches/c/dmconfig_bench.c, libdevmapper's
//! parser and writer) runs on the same files; benches/run-c-comparison.sh runs both.
//!
//!   cargo bench --bench config                 # generate inputs, measure
//!   cargo bench --bench config -- FILE...      # measure these files instead
//!
//! Environment: BENCH_SECS (time per measurement, default 2), BENCH_INPUT_DIR (where the
//! generated inputs go, default target/bench-inputs; nothing there is committed),
//! BENCH_GENERATE_ONLY=1 (write the inputs, print their paths, measure nothing).
//! Every file is measured in a fresh child process, so no measurement inherits the
//! heap of an earlier one (the C side runs one process per file as well).
//!
//! For each file it prints `RESULT rust parse|write NAME BYTES NS_PER_ITER MB_PER_S`
//! and writes the writer's output to NAME.rs.out beside the input, so the C writer's
//! output can be compared byte for byte.

#[path = "common/mod.rs"]
mod common;

use common::*;
use lvmetad::config::{parse, write_nodes};
use lvmetad::daemon::handler::Daemon;
use lvmetad::daemon::log::Logger;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Generate the inputs: the `dump` and `pv_list` replies of the big cache (computed by
/// our daemon core in-process; byte-identical to the C daemon's), one large `vg_update`
/// request and one ordinary `pv_found` request carrying VG metadata.
fn generate(dir: &Path) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).expect("create input dir");
    let big = BigCache::standard();
    let d = Daemon::new(Logger::quiet());
    for r in big.populate_requests() {
        let rep = d.handle(&r).body;
        assert!(
            reply_ok(&rep),
            "populate failed: {}",
            String::from_utf8_lossy(&rep)
        );
    }
    let vg = &big.vgs[0];
    let mut pv_found_args = pvmeta(&vg.pvs[0], true);
    pv_found_args.push_str(&format!("vgname =\"{}\"\n", vg.name));
    pv_found_args.push_str(&vg_metadata(vg, 2, vg.lvs.len()));
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("dump-reply.txt", d.handle(&dump()).body),
        ("pv_list-reply.txt", d.handle(&pv_list()).body),
        ("vg_update-1000pv-3000lv.txt", big_vg_update(1000, 3000)),
        (
            "pv_found-request.txt",
            tree_request("pv_found", &pv_found_args, TOKEN, 4242, "pvscan"),
        ),
    ];
    files
        .into_iter()
        .map(|(name, body)| {
            let p = dir.join(name);
            std::fs::write(&p, &body).expect("write input");
            p
        })
        .collect()
}

/// Median time of one call of `f`, timing batches long enough for the clock.
fn median_ns(secs: f64, mut f: impl FnMut()) -> f64 {
    f(); // warm-up
    let t = Instant::now();
    f();
    let one = t.elapsed().as_nanos().max(1) as f64;
    let batch = ((1e6 / one).ceil() as usize).max(1); // >= ~1 ms per sample
    let budget = Duration::from_secs_f64(secs);
    let t0 = Instant::now();
    let mut samples = Vec::new();
    while samples.len() < 5 || (t0.elapsed() < budget && samples.len() < 100_000) {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        samples.push(t.elapsed().as_nanos() as f64 / batch as f64);
    }
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[samples.len() / 2]
}

fn main() {
    let secs: f64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|s: &f64| *s > 0.0)
        .unwrap_or(2.0);
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if std::env::var_os(CHILD_ENV).is_some() {
        // one file per process: every measurement starts from a fresh heap
        measure(&PathBuf::from(&args[0]), secs);
        return;
    }
    let files: Vec<PathBuf> = if args.is_empty() {
        let dir = std::env::var_os("BENCH_INPUT_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-inputs"));
        let files = generate(&dir);
        if std::env::var_os("BENCH_GENERATE_ONLY").is_some() {
            for f in &files {
                println!("{}", f.display());
            }
            return;
        }
        files
    } else {
        args.iter().map(PathBuf::from).collect()
    };

    println!(
        "config text format: lvmetad::config::parse / write_nodes, BENCH_SECS={}",
        secs
    );
    println!(
        "{:<32} {:>10} {:>12} {:>10} {:>12} {:>10}",
        "input", "bytes", "parse us", "parse MB/s", "write us", "write MB/s"
    );
    let mut results = String::new();
    for f in &files {
        let out = std::process::Command::new(std::env::current_exe().expect("current_exe"))
            .arg(f)
            .env(CHILD_ENV, "1")
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("run measurement");
        assert!(
            out.status.success(),
            "measurement of {} failed",
            f.display()
        );
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if line.starts_with("RESULT") {
                results.push_str(line);
                results.push('\n');
            } else {
                println!("{}", line);
            }
        }
    }
    println!("(parse = parse into a tree and free it; write = write the whole tree into a reused buffer;");
    println!(
        " MB/s = 10^6 bytes of input (parse) or of output (write) per second, median of batches)"
    );
    print!("{}", results);
}

const CHILD_ENV: &str = "LVMETAD_BENCH_CONFIG_CHILD";

fn measure(f: &Path, secs: f64) {
    {
        let input = std::fs::read(f).unwrap_or_else(|e| panic!("{}: {}", f.display(), e));
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let tree = parse(&input).unwrap_or_else(|e| panic!("{}: {}", name, e));
        let parse_ns = median_ns(secs, || {
            let t = parse(std::hint::black_box(&input)).unwrap();
            std::hint::black_box(&t);
            drop(t);
        });
        let mut out = Vec::with_capacity(input.len() * 2);
        write_nodes(&mut out, &tree, 0);
        let out_len = out.len();
        std::fs::write(f.with_file_name(format!("{}.rs.out", name)), &out).expect("write output");
        let write_ns = median_ns(secs, || {
            out.clear();
            write_nodes(&mut out, std::hint::black_box(&tree), 0);
            std::hint::black_box(&out);
        });
        let parse_mbs = input.len() as f64 / parse_ns * 1e3;
        let write_mbs = out_len as f64 / write_ns * 1e3;
        println!(
            "{:<32} {:>10} {:>12.1} {:>10.1} {:>12.1} {:>10.1}",
            name,
            input.len(),
            parse_ns / 1e3,
            parse_mbs,
            write_ns / 1e3,
            write_mbs
        );
        println!(
            "RESULT rust parse {} {} {:.0} {:.2}",
            name,
            input.len(),
            parse_ns,
            parse_mbs
        );
        println!(
            "RESULT rust write {} {} {:.0} {:.2}",
            name, out_len, write_ns, write_mbs
        );
    }
}
