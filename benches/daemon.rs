//! Daemon benchmark: our lvmetad against the stock C one (when `LVMETAD_C` names it),
//! side by side in one run, plus a kernel-bound echo peer as the ceiling.
//!
//!   cargo bench --bench daemon
//!   LVMETAD_C=/path/to/stock/sbin/lvmetad cargo bench --bench daemon
//!
//! Environment:
//!   LVMETAD_RS   our daemon binary (default: the one cargo built for this bench)
//!   LVMETAD_C    a stock LVM2 2.02.188 lvmetad; unset = ours only
//!   BENCH_SECS   seconds per throughput measurement (default 3; e.g. 0.2 for a smoke test)
//!   BENCH_PROFILE=REQUEST  instead of the benchmark: load the big cache into our daemon,
//!                print its pid, wait BENCH_PROFILE_WAIT seconds (default 2; attach
//!                `perf record -g -p PID` meanwhile), then send REQUEST (get_global_info,
//!                pv_lookup, vg_lookup, pv_list, dump or populate) in a loop for BENCH_SECS
//!
//! Every daemon runs in the foreground on a private socket in a temporary directory.
//! Clients run closed-loop, each on its own connection, in this process; the machine's
//! cores are shared by clients and daemon. Each figure is the best of two rounds that
//! alternate between the daemons (see `best_of_rounds`).

#[path = "common/mod.rs"]
mod common;

use common::*;
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const ECHO_ENV: &str = "LVMETAD_BENCH_ECHO_SOCKET";
const ECHO_REPLY_ENV: &str = "LVMETAD_BENCH_ECHO_REPLY";

// ---------------------------------------------------------------- client side

/// Most bytes one read of a reply asks for (more than a UNIX socket buffer holds).
const READ_CHUNK: usize = 256 << 10;

/// Read one framed reply into `buf` (terminator kept). Returns false on EOF.
/// A read asks for 4 KiB, then as much as has been read so far (up to `READ_CHUNK`),
/// and only that room is zeroed: zeroing all of `buf`'s spare capacity before every
/// read cost the client more than some daemons' whole reply for the 4 MB ones.
fn read_reply(s: &mut UnixStream, buf: &mut Vec<u8>) -> bool {
    buf.clear();
    loop {
        let len = buf.len();
        buf.resize(len + len.clamp(4096, READ_CHUNK), 0);
        let n = match s.read(&mut buf[len..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => 0,
            Err(_) => {
                buf.truncate(len);
                return false;
            }
        };
        buf.truncate(len + n);
        if n == 0 && len == buf.len() {
            return false;
        }
        if buf.ends_with(TERMINATOR) {
            return true;
        }
    }
}

fn exchange(s: &mut UnixStream, framed_req: &[u8], buf: &mut Vec<u8>) {
    s.write_all(framed_req).expect("write request");
    assert!(read_reply(s, buf), "daemon closed the connection");
}

fn connect(sock: &Path) -> UnixStream {
    UnixStream::connect(sock).unwrap_or_else(|e| panic!("connect {}: {}", sock.display(), e))
}

// ---------------------------------------------------------------- processes

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("lvmetad-bench-{}-{}", tag, std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A server process under test (a daemon or the echo peer).
struct Server {
    name: String,
    child: Child,
    sock: PathBuf,
    _dir: TempDir,
}

impl Server {
    fn daemon(name: &str, bin: &Path) -> Server {
        let dir = TempDir::new(name);
        let sock = dir.0.join("lvmetad.socket");
        let pidfile = dir.0.join("lvmetad.pid");
        let child = Command::new(bin)
            .arg("-f")
            .arg("-s")
            .arg(&sock)
            .arg("-p")
            .arg(&pidfile)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {}", bin.display(), e));
        Server::ready(name, child, sock, dir)
    }

    fn echo(reply: &[u8]) -> Server {
        let dir = TempDir::new("echo");
        let sock = dir.0.join("echo.socket");
        let child = Command::new(std::env::current_exe().expect("current_exe"))
            .env(ECHO_ENV, &sock)
            .env(
                ECHO_REPLY_ENV,
                std::str::from_utf8(reply).expect("utf8 reply"),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start echo peer");
        Server::ready("echo", child, sock, dir)
    }

    fn ready(name: &str, mut child: Child, sock: PathBuf, dir: TempDir) -> Server {
        let t0 = Instant::now();
        while UnixStream::connect(&sock).is_err() {
            if let Ok(Some(st)) = child.try_wait() {
                panic!("{} exited during startup: {}", name, st);
            }
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "{} did not start",
                name
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        Server {
            name: name.into(),
            child,
            sock,
            _dir: dir,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// utime + stime of the whole process (all threads, live and exited), in seconds.
    fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        // fields after the ")" of comm: state is field 3, utime 14, stime 15
        let rest = &stat[stat.rfind(')').map(|i| i + 2).unwrap_or(0)..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        let ut: f64 = f.get(11).and_then(|s| s.parse().ok()).unwrap_or(0.0);
        let st: f64 = f.get(12).and_then(|s| s.parse().ok()).unwrap_or(0.0);
        (ut + st) / tick
    }

    /// A `VmXXX:` figure of /proc/PID/status, in KiB.
    fn vm_kib(&self, field: &str) -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        s.lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

fn ticks_to_secs(t: f64) -> f64 {
    t / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// Busy CPU seconds of the whole machine (all CPUs) from /proc/stat.
fn machine_busy_seconds() -> f64 {
    let s = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let f: Vec<f64> = s
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    let busy: f64 = f
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4 && *i < 8)
        .map(|(_, v)| v)
        .sum();
    ticks_to_secs(busy)
}

/// utime + stime of this process (all threads), in seconds.
fn self_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = &stat[stat.rfind(')').map(|i| i + 2).unwrap_or(0)..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ut: f64 = f.get(11).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    let st: f64 = f.get(12).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    ticks_to_secs(ut + st)
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let t0 = Instant::now();
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => return,
                Ok(None) if t0.elapsed() < Duration::from_secs(5) => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return;
                }
            }
        }
    }
}

/// The echo peer: accept, one thread per connection (as both daemons do), read until
/// the data ends with the terminator, answer with a fixed reply. No parsing.
fn echo_main(sock: &str, reply: &str) {
    let listener = UnixListener::bind(sock).expect("bind echo socket");
    let reply = Arc::new(framed(reply.as_bytes()));
    for s in listener.incoming() {
        let mut s = match s {
            Ok(s) => s,
            Err(_) => continue,
        };
        let reply = Arc::clone(&reply);
        std::thread::spawn(move || {
            let mut buf = Vec::with_capacity(4096);
            let mut chunk = [0u8; 4096];
            loop {
                let n = match s.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                buf.extend_from_slice(&chunk[..n]);
                if buf.ends_with(TERMINATOR) {
                    buf.clear();
                    if s.write_all(&reply).is_err() {
                        return;
                    }
                }
            }
        });
    }
}

// ---------------------------------------------------------------- measurements

struct Throughput {
    rps: f64,
    cpu_us_per_req: f64,
}

/// Closed loop: `clients` threads, each on its own connection, send requests from
/// `reqs` (round robin, each thread starting at a different offset) for `secs`.
fn throughput(srv: &Server, reqs: &Arc<Vec<Vec<u8>>>, clients: usize, secs: f64) -> Throughput {
    let barrier = Arc::new(Barrier::new(clients + 1));
    let dur = Duration::from_secs_f64(secs);
    let mut handles = Vec::new();
    for c in 0..clients {
        let reqs = Arc::clone(reqs);
        let barrier = Arc::clone(&barrier);
        let mut s = connect(&srv.sock);
        handles.push(std::thread::spawn(move || {
            let mut buf = Vec::with_capacity(65536);
            let mut i = c * 7919;
            // warm the connection (the daemon's thread, its buffers)
            exchange(&mut s, &reqs[i % reqs.len()], &mut buf);
            barrier.wait();
            let t0 = Instant::now();
            let mut n = 0u64;
            while t0.elapsed() < dur {
                for _ in 0..16 {
                    exchange(&mut s, &reqs[i % reqs.len()], &mut buf);
                    i += 1;
                    n += 1;
                }
            }
            (n, t0.elapsed())
        }));
    }
    let cpu0 = srv.cpu_seconds();
    barrier.wait();
    let t0 = Instant::now();
    let mut total = 0u64;
    for h in handles {
        let (n, _) = h.join().expect("client thread");
        total += n;
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = srv.cpu_seconds() - cpu0;
    Throughput {
        rps: total as f64 / wall,
        cpu_us_per_req: cpu * 1e6 / total as f64,
    }
}

/// Measurements are taken in `ROUNDS` rounds, alternating between the servers (ours, C,
/// ours, C...), each round a share of the time; the best round of each server counts.
/// This keeps a burst of unrelated load on the machine from landing on one side only.
const ROUNDS: usize = 2;

fn best_of_rounds<T>(
    servers: &[Server],
    mut run: impl FnMut(&Server) -> T,
    better: impl Fn(&T, &T) -> bool,
) -> Vec<T> {
    let mut best: Vec<Option<T>> = servers.iter().map(|_| None).collect();
    for _ in 0..ROUNDS {
        for (i, s) in servers.iter().enumerate() {
            let r = run(s);
            if best[i].as_ref().map_or(true, |b| better(&r, b)) {
                best[i] = Some(r);
            }
        }
    }
    best.into_iter().map(|b| b.unwrap()).collect()
}

struct Latency {
    median_ms: f64,
    min_ms: f64,
    reply_bytes: usize,
    reply: Vec<u8>,
}

/// Request → complete reply, one connection, repeated; median and minimum.
fn latency(srv: &Server, req: &[u8], secs: f64) -> Latency {
    let mut s = connect(&srv.sock);
    let req = framed(req);
    let mut buf = Vec::new();
    exchange(&mut s, &req, &mut buf); // warm-up
    let budget = Duration::from_secs_f64(secs);
    let t0 = Instant::now();
    let mut times = Vec::new();
    while times.len() < 3 || (times.len() < 51 && t0.elapsed() < budget) {
        let t = Instant::now();
        exchange(&mut s, &req, &mut buf);
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Latency {
        median_ms: times[times.len() / 2],
        min_ms: times[0],
        reply_bytes: buf.len(),
        reply: buf,
    }
}

/// Send every populate request, in order, on one connection; returns requests/s.
fn populate(srv: &Server, reqs: &[Vec<u8>]) -> f64 {
    let mut s = connect(&srv.sock);
    let mut buf = Vec::new();
    let t0 = Instant::now();
    for r in reqs {
        let m = framed(r);
        exchange(&mut s, &m, &mut buf);
        let body = &buf[..buf.len() - TERMINATOR.len()];
        if !reply_ok(body) {
            panic!(
                "{}: request failed:\n{}\nreply:\n{}",
                srv.name,
                String::from_utf8_lossy(r),
                String::from_utf8_lossy(body)
            );
        }
    }
    reqs.len() as f64 / t0.elapsed().as_secs_f64()
}

// ---------------------------------------------------------------- report

enum Better {
    Higher,
    Lower,
}

struct Row {
    metric: String,
    ours: f64,
    c: Option<f64>,
    better: Better,
    decimals: usize,
}

fn fmt_num(v: f64, d: usize) -> String {
    let s = format!("{:.*}", d, v);
    // thousands separators on the integer part
    let (int, frac) = match s.find('.') {
        Some(i) => (&s[..i], &s[i..]),
        None => (&s[..], ""),
    };
    let mut out = String::new();
    for (k, ch) in int.chars().enumerate() {
        if k > 0 && (int.len() - k) % 3 == 0 && ch != '-' {
            out.push(',');
        }
        out.push(ch);
    }
    out + frac
}

fn print_table(rows: &[Row], have_c: bool) {
    println!();
    if have_c {
        println!(
            "{:<46} {:>14} {:>14} {:>8}  ratio is",
            "metric", "ours", "C", "ratio"
        );
    } else {
        println!("{:<46} {:>14}", "metric", "ours");
    }
    for r in rows {
        if have_c {
            let c = r.c.unwrap_or(f64::NAN);
            let (ratio, what) = match r.better {
                Better::Higher => (r.ours / c, "ours/C (higher = ours better)"),
                Better::Lower => (c / r.ours, "C/ours (higher = ours better)"),
            };
            println!(
                "{:<46} {:>14} {:>14} {:>7.2}x  {}",
                r.metric,
                fmt_num(r.ours, r.decimals),
                fmt_num(c, r.decimals),
                ratio,
                what
            );
        } else {
            println!("{:<46} {:>14}", r.metric, fmt_num(r.ours, r.decimals));
        }
    }
}

fn main() {
    if let Ok(sock) = std::env::var(ECHO_ENV) {
        let reply = std::env::var(ECHO_REPLY_ENV).unwrap_or_default();
        echo_main(&sock, &reply);
        return;
    }

    let secs: f64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|s: &f64| *s > 0.0)
        .unwrap_or(3.0);
    let ours_bin = std::env::var_os("LVMETAD_RS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_lvmetad")));
    let c_bin = std::env::var_os("LVMETAD_C")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from);

    let ncpu = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    println!("lvmetad daemon benchmark");
    println!(
        "  BENCH_SECS={} per throughput point; {} CPUs shared by clients and daemons",
        secs, ncpu
    );
    println!("  ours: {}", ours_bin.display());
    match &c_bin {
        Some(c) => println!("  C:    {}", c.display()),
        None => println!("  C:    not measured (set LVMETAD_C to a stock lvmetad to compare)"),
    }

    if let Ok(what) = std::env::var("BENCH_PROFILE") {
        profile_loop(&ours_bin, &what, secs);
        return;
    }

    let run_t0 = Instant::now();
    let busy0 = machine_busy_seconds();
    let self0 = self_cpu_seconds();
    let mut servers: Vec<Server> = vec![Server::daemon("ours", &ours_bin)];
    if let Some(c) = &c_bin {
        servers.push(Server::daemon("C", c));
    }
    let have_c = servers.len() > 1;
    let rss_empty: Vec<u64> = servers.iter().map(|s| s.vm_kib("VmRSS:")).collect();

    // --- the big cache, identical in every daemon
    let big = BigCache::standard();
    let pop = big.populate_requests();
    let npvs = big.all_pvs().count();
    println!(
        "  big cache: {} orphan PVs + {} VGs x {} PVs ({} PVs), loaded by {} requests",
        big.orphans.len(),
        big.vgs.len(),
        big.vgs[0].pvs.len(),
        npvs,
        pop.len()
    );
    let pop_rate: Vec<f64> = servers.iter().map(|s| populate(s, &pop)).collect();
    let rss_loaded: Vec<u64> = servers.iter().map(|s| s.vm_kib("VmRSS:")).collect();

    // the reply our daemon gives to get_global_info sizes the echo peer's reply
    let mut gg_reply = Vec::new();
    exchange(
        &mut connect(&servers[0].sock),
        &framed(&get_global_info()),
        &mut gg_reply,
    );
    gg_reply.truncate(gg_reply.len() - TERMINATOR.len());
    let echo = Server::echo(&gg_reply);

    let gg = Arc::new(vec![framed(&get_global_info())]);
    let mut rng = Rng::new(7);
    let mut pv_reqs: Vec<Vec<u8>> = big.all_pvs().map(|p| framed(&pv_lookup(&p.id))).collect();
    for i in (1..pv_reqs.len()).rev() {
        pv_reqs.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let pv_reqs = Arc::new(pv_reqs);
    let vg_reqs = Arc::new(
        big.vgs
            .iter()
            .map(|v| framed(&vg_lookup(v)))
            .collect::<Vec<_>>(),
    );

    let mut rows: Vec<Row> = Vec::new();
    let push_pair = |rows: &mut Vec<Row>, metric: String, v: Vec<f64>, better: Better, d: usize| {
        rows.push(Row {
            metric,
            ours: v[0],
            c: v.get(1).copied(),
            better,
            decimals: d,
        });
    };

    let mut echo_rps = Vec::new();
    let mut gg_rps: Vec<Vec<f64>> = Vec::new();
    for (label, reqs) in [
        ("get_global_info", &gg),
        ("pv_lookup (uuid, big cache)", &pv_reqs),
        ("vg_lookup (uuid+name, big cache)", &vg_reqs),
    ] {
        for clients in [1usize, 8] {
            let res = best_of_rounds(
                &servers,
                |s| throughput(s, reqs, clients, secs / ROUNDS as f64),
                |a, b| a.rps > b.rps,
            );
            push_pair(
                &mut rows,
                format!(
                    "{} req/s, {} client{}",
                    label,
                    clients,
                    if clients > 1 { "s" } else { "" }
                ),
                res.iter().map(|r| r.rps).collect(),
                Better::Higher,
                0,
            );
            push_pair(
                &mut rows,
                "  daemon CPU us/request".to_string(),
                res.iter().map(|r| r.cpu_us_per_req).collect(),
                Better::Lower,
                2,
            );
            if label == "get_global_info" {
                gg_rps.push(res.iter().map(|r| r.rps).collect());
                echo_rps.extend(best_of_rounds(
                    std::slice::from_ref(&echo),
                    |s| throughput(s, &gg, clients, secs / ROUNDS as f64),
                    |a, b| a.rps > b.rps,
                ));
            }
        }
    }

    // --- big replies
    let lat_secs = (secs * 0.8).max(0.2);
    let mut replies: Vec<Vec<Vec<u8>>> = vec![Vec::new(); servers.len()];
    for (label, req) in [("pv_list", pv_list()), ("dump", dump())] {
        let res = best_of_rounds(
            &servers,
            |s| latency(s, &req, lat_secs / ROUNDS as f64),
            |a, b| a.median_ms < b.median_ms,
        );
        push_pair(
            &mut rows,
            format!(
                "{} median ms ({:.1} MB reply)",
                label,
                res[0].reply_bytes as f64 / 1e6
            ),
            res.iter().map(|r| r.median_ms).collect(),
            Better::Lower,
            2,
        );
        push_pair(
            &mut rows,
            format!("  {} min ms", label),
            res.iter().map(|r| r.min_ms).collect(),
            Better::Lower,
            2,
        );
        for (i, r) in res.into_iter().enumerate() {
            replies[i].push(r.reply);
        }
    }

    push_pair(
        &mut rows,
        "populate req/s (pv_found/vg_update, 1 conn)".into(),
        pop_rate,
        Better::Higher,
        0,
    );
    let kib = |v: &[u64]| v.iter().map(|k| *k as f64 / 1024.0).collect::<Vec<f64>>();
    push_pair(
        &mut rows,
        "RSS MiB, empty daemon".into(),
        kib(&rss_empty),
        Better::Lower,
        1,
    );
    push_pair(
        &mut rows,
        format!("RSS MiB, big cache ({} PVs) loaded", npvs),
        kib(&rss_loaded),
        Better::Lower,
        1,
    );
    let rss_end: Vec<u64> = servers.iter().map(|s| s.vm_kib("VmRSS:")).collect();
    let hwm_end: Vec<u64> = servers.iter().map(|s| s.vm_kib("VmHWM:")).collect();
    push_pair(
        &mut rows,
        "RSS MiB, big cache, after all requests".into(),
        kib(&rss_end),
        Better::Lower,
        1,
    );
    push_pair(
        &mut rows,
        "peak RSS (VmHWM) MiB".into(),
        kib(&hwm_end),
        Better::Lower,
        1,
    );

    // CPU used on this machine by anything but this benchmark and its servers
    let ours_cpu = self_cpu_seconds() - self0
        + servers.iter().map(|s| s.cpu_seconds()).sum::<f64>()
        + echo.cpu_seconds();
    let background = (machine_busy_seconds() - busy0 - ours_cpu).max(0.0);
    let wall = run_t0.elapsed().as_secs_f64();

    print_table(&rows, have_c);

    println!();
    println!(
        "kernel-bound ceiling: echo peer (same framing, fixed {}-byte reply, no parsing, thread per connection)",
        gg_reply.len() + TERMINATOR.len()
    );
    for (k, clients) in [1usize, 8].iter().enumerate() {
        let e = &echo_rps[k];
        let mut line = format!(
            "  {} client{}: echo {} req/s ({:.2} us CPU/req); ours {:.0}% of it",
            clients,
            if *clients > 1 { "s" } else { "" },
            fmt_num(e.rps, 0),
            e.cpu_us_per_req,
            100.0 * gg_rps[k][0] / e.rps
        );
        if have_c {
            line += &format!(", C {:.0}% of it", 100.0 * gg_rps[k][1] / e.rps);
        }
        println!("{}", line);
    }
    if have_c {
        for (k, label) in ["pv_list", "dump"].iter().enumerate() {
            let same = replies[0][k] == replies[1][k];
            println!(
                "  {} replies of ours and C byte-identical: {}",
                label,
                if same { "yes" } else { "NO" }
            );
        }
    } else {
        println!("  (C daemon not measured: LVMETAD_C unset)");
    }
    println!(
        "run took {:.0} s; other processes used {:.1} CPU-seconds meanwhile ({:.0}% of one core on average; high values mean noisy numbers)",
        wall,
        background,
        100.0 * background / wall
    );
}

/// `BENCH_PROFILE`: a steady load of one request kind on our daemon, for a profiler.
fn profile_loop(bin: &Path, what: &str, secs: f64) {
    let srv = Server::daemon("ours", bin);
    let big = BigCache::standard();
    let pop = big.populate_requests();
    let reqs: Vec<Vec<u8>> = match what {
        "get_global_info" => vec![get_global_info()],
        "pv_lookup" => big.all_pvs().map(|p| pv_lookup(&p.id)).collect(),
        "vg_lookup" => big.vgs.iter().map(vg_lookup).collect(),
        "pv_list" => vec![pv_list()],
        "dump" => vec![dump()],
        "populate" => pop.clone(),
        other => panic!("BENCH_PROFILE: unknown request {}", other),
    };
    if what != "populate" {
        populate(&srv, &pop);
    }
    let wait: f64 = std::env::var("BENCH_PROFILE_WAIT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    println!("daemon pid {}", srv.pid());
    let _ = std::io::stdout().flush();
    std::thread::sleep(Duration::from_secs_f64(wait));
    let reqs: Vec<Vec<u8>> = reqs.iter().map(|r| framed(r)).collect();
    let mut s = connect(&srv.sock);
    let mut buf = Vec::new();
    let t0 = Instant::now();
    let mut n = 0usize;
    while t0.elapsed().as_secs_f64() < secs {
        exchange(&mut s, &reqs[n % reqs.len()], &mut buf);
        n += 1; // "populate" starts over with token_update + pv_clear_all
    }
    println!("{} x {} in {:.2} s", n, what, t0.elapsed().as_secs_f64());
}
