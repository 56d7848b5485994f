//! Fault injection against the real daemon binary and real PV images: processes killed
//! mid-update, daemon restarts, stale files, bad replies, signal storms, and device I/O
//! errors injected through the scan's `BlockRead` seam. Each test asserts the exact
//! outcome: LVM's messages, exit statuses, and the daemon's `dump` compared with a clean
//! scan. Time is never asserted; waits are on conditions (or on LVM's own waits of
//! `global/lvmetad_update_wait_time` seconds, kept at 1).

mod common;
use common::host::TestHost;
use common::host::{pvscan_all_devs_in_process, pvscan_cache_in_process};
use common::images::*;
use common::*;
use lvmetad::client::port::Host;
use lvmetad::client::Client;
use lvmetad::ondisk::BlockRead;
use lvmetad::protocol::Request;
use lvmetad::scan::pvscan::{CacheArgs, DeviceSource, Lookup, ScanDevice};
use std::io::{self, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

const IP: &str = "update in progress";

// ---------------------------------------------------------------------------------
// helpers

fn client_for(host: &Arc<TestHost>, socket: &Path) -> Client {
    let mut c = Client::new(host.clone() as Arc<dyn Host>);
    c.set_socket(Some(socket.to_path_buf()));
    c.set_token(Some(&image_filter()));
    c
}

/// The daemon binary on paths of the test's choosing, killed when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start the daemon binary on given paths (the restart cases reuse them).
fn spawn_daemon(socket: &Path, pidfile: &Path) -> Daemon {
    let c = Command::new(env!("CARGO_BIN_EXE_lvmetad"))
        .arg("-f")
        .arg("-s")
        .arg(socket)
        .arg("-p")
        .arg(pidfile)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let c = Daemon(c);
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(10) {
        if let Ok(mut s) = UnixStream::connect(socket) {
            if exchange(&mut s, b"request = \"hello\"\n").starts_with(b"response = \"OK\"") {
                return c;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("daemon did not start on {}", socket.display());
}

fn sigkill(child: &mut Child) {
    child.kill().unwrap();
    let st = child.wait().unwrap();
    assert_eq!(st.signal(), Some(9));
}

/// Device numbers of the PVs in a dump, sorted.
fn pv_devices(dump: &str) -> Vec<u64> {
    let pvs = &dump[dump.find("# PV METADATA").unwrap()..dump.find("# VGID to VGNAME").unwrap()];
    let mut v: Vec<u64> = pvs
        .lines()
        .filter_map(|l| l.strip_prefix("\tdevice="))
        .map(|n| n.parse().unwrap())
        .collect();
    v.sort();
    v
}

fn field<'a>(reply: &'a str, key: &str) -> &'a str {
    reply
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(" = ")))
        .unwrap_or_else(|| panic!("no {} in {}", key, reply))
}

/// A proxy between one client and the daemon. The first request for which `hold`
/// is true is not forwarded: the proxy reports it on the first channel and waits on the
/// second; a message there forwards it and goes on, the sender dropped forwards nothing
/// more (the client is left waiting for a reply).
fn proxy_hold(
    listener: UnixListener,
    daemon: PathBuf,
    hold: fn(&[u8]) -> bool,
) -> (mpsc::Receiver<()>, mpsc::Sender<()>) {
    let (held_tx, held_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let (mut c, _) = listener.accept().unwrap();
        let mut d = UnixStream::connect(&daemon).unwrap();
        let mut holding = true;
        while let Some(req) = read_reply(&mut c) {
            if holding && hold(&req) {
                holding = false;
                held_tx.send(()).unwrap();
                if go_rx.recv().is_err() {
                    // hold the connection until the client is gone
                    let _ = read_reply(&mut c);
                    return;
                }
            }
            d.write_all(&req).unwrap();
            let rep = read_reply(&mut d).unwrap();
            c.write_all(&rep).unwrap();
        }
    });
    (held_rx, go_tx)
}

/// A `pvscan --cache` process killed (SIGKILL) after it started its update and before it
/// cleared the cache: the daemon keeps "update in progress" for that pid. The killed
/// command ran with `lvmetad_update_wait_time = wait` (its update's timeout).
fn kill_a_pvscan_mid_update(set: &ImageSet, d: &DaemonProc, wait: u32) -> u32 {
    let psock = set.dir.path().join(format!("proxy{}", wait));
    let (stopped, never) = proxy_hold(UnixListener::bind(&psock).unwrap(), d.socket.clone(), |r| {
        r.starts_with(b"request=\"pv_clear_all\"")
    });
    drop(never);
    let mut child = set
        .pvscan_cmd(
            &psock,
            &[
                "--cache",
                "--config",
                &format!("global {{ lvmetad_update_wait_time = {} }}", wait),
            ],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    stopped.recv().unwrap();
    let pid = child.id();
    sigkill(&mut child);
    let gi = global_info(&d.socket);
    if wait == 1 && field(&gi, "token") == "\"none\"" {
        // the daemon counts whole seconds: a 1 s update may already have been cancelled
        assert_eq!(field(&gi, "update_pid"), "0");
        return pid;
    }
    assert_eq!(field(&gi, "token"), format!("\"{}\"", IP));
    assert_eq!(field(&gi, "update_pid"), pid.to_string());
    assert_eq!(field(&gi, "update_cmd"), "\"pvscan\"");
    assert_eq!(field(&gi, "update_timeout"), wait.to_string());
    pid
}

// ---------------------------------------------------------------------------------
// killed processes and restarts

/// Spec client.md 7.6 step 2 and 6.5: the next full `pvscan --cache` sees the dead
/// command's "update in progress", waits `lvmetad_update_wait_time` (1 s here), warns
/// as LVM does, takes the update over and leaves the cache a clean scan leaves.
#[test]
fn killed_pvscan_update_is_taken_over_after_the_wait() {
    let set = ImageSet::new(&SET, "global { lvmetad_update_wait_time = 1 }\n");
    let want = clean_dump(&set);
    assert_eq!(pv_devices(&want).len(), 6);
    let d = DaemonProc::start();
    // the killed command's lvmetad_update_wait_time was 0: its update never times out
    // in the daemon, so only another command's takeover ends it
    kill_a_pvscan_mid_update(&set, &d, 0);
    let (rc, out, err) = set.pvscan(&d.socket, &["--cache"]);
    assert_eq!(rc, 0);
    assert_eq!(out, "");
    assert_eq!(
        err,
        "  WARNING: lvmetad is being updated, waiting for 1 more seconds.\n  \
         WARNING: lvmetad update is interrupting another update in progress.\n"
    );
    assert_eq!(dump(&d.socket), want);
    let gi = global_info(&d.socket);
    assert_eq!(field(&gi, "token"), format!("\"{}\"", image_token()));
    assert_eq!(field(&gi, "update_pid"), "0");
}

/// A dead command's update whose timeout (1 s) has passed is cancelled by the daemon at
/// the next `get_global_info`: the next `pvscan --cache` rescans without waiting or
/// warning.
#[test]
fn expired_update_of_a_killed_pvscan_is_cancelled() {
    let set = ImageSet::new(&SET, "global { lvmetad_update_wait_time = 1 }\n");
    let want = clean_dump(&set);
    let d = DaemonProc::start();
    kill_a_pvscan_mid_update(&set, &d, 1);
    // the daemon's update timeout is counted in whole seconds from the update's start,
    // which was before the kill
    std::thread::sleep(Duration::from_millis(1100));
    let (rc, out, err) = set.pvscan(&d.socket, &["--cache"]);
    assert_eq!((rc, out.as_str(), err.as_str()), (0, "", ""));
    assert_eq!(dump(&d.socket), want);
}

/// A dead command's update that has not timed out in the daemon: the next full scan
/// waits, tries to take over, is refused (`token_updating`) until its own wait runs out,
/// and gives up with LVM's messages; the daemon's state is left as it was.
#[test]
fn unexpired_update_of_a_killed_pvscan_makes_the_next_scan_give_up() {
    let set = ImageSet::new(&SET, "");
    let d = DaemonProc::start();
    let pid = kill_a_pvscan_mid_update(&set, &d, 3600);
    let before = global_info(&d.socket);
    let host = TestHost::new("pvscan", 2);
    let mut c = client_for(&host, &d.socket);
    assert!(c.connect(1));
    let cfg = lvmetad::scan::lvmconf::LvmConfig::load(Some(&set.etc), &[]).unwrap();
    let devs = lvmetad::scan::source::SystemDevices::new(&cfg).unwrap();
    let (rc, c) =
        pvscan_cache_in_process(c, host.clone(), 1, Box::new(devs), &CacheArgs::default());
    assert_eq!(rc, 0);
    assert_eq!(
        host.visible(),
        vec![
            "WARNING: lvmetad is being updated, waiting for 2 more seconds.",
            "WARNING: lvmetad is being updated, waiting for 1 more seconds.",
            "WARNING: lvmetad update is interrupting another update in progress.",
            "lvmetad is being updated, retry for 2 more seconds.",
            "lvmetad is being updated, retry for 1 more seconds.",
            "lvmetad is being updated, retry for 0 more seconds.",
            "Not using lvmetad after 2 sec lvmetad_update_wait_time, no more try.",
            "Failed to start lvmetad update.",
            "WARNING: Not using lvmetad because cache update failed.",
        ]
    );
    assert!(!c.used());
    assert_eq!(global_info(&d.socket), before);
    assert!(before.contains(&format!("update_pid = {}\n", pid)));
    // the killed command had not sent anything
    assert_eq!(pv_devices(&dump(&d.socket)), Vec::<u64>::new());
}

/// The socket and pidfile a SIGKILLed daemon leaves behind do not stop a new daemon:
/// it replaces the stale socket, takes the pidfile lock and writes its pid.
#[test]
fn sigkilled_daemon_leaves_socket_and_pidfile_and_a_new_daemon_starts() {
    let dir = TempDir::new("stale");
    let (sock, pidf) = (dir.path().join("s"), dir.path().join("p"));
    let mut old = spawn_daemon(&sock, &pidf);
    let old_pid = old.0.id();
    sigkill(&mut old.0);
    assert!(sock.exists());
    assert_eq!(
        std::fs::read_to_string(&pidf).unwrap(),
        format!("{}\n", old_pid)
    );
    let mut new = spawn_daemon(&sock, &pidf);
    assert_eq!(
        std::fs::read_to_string(&pidf).unwrap(),
        format!("{}\n", new.0.id())
    );
    assert!(global_info(&sock).starts_with("response = \"OK\"\n"));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(new.0.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert_eq!(new.0.wait().unwrap().code(), Some(0));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut new.0.stderr.take().unwrap(), &mut err).unwrap();
    assert!(
        err.contains(&format!("removing stale socket {}\n", sock.display())),
        "{}",
        err
    );
    assert!(!sock.exists() && !pidf.exists());
}

/// LVM's daemon takes the pidfile lock before anything else: a pidfile that cannot be
/// created is `dm_create_lockfile`'s error, "Already running?" and exit status 13, and
/// no socket is made; in the background the waiting parent prints "Already running?".
#[test]
fn pidfile_in_an_unwritable_place() {
    let dir = TempDir::new("pidf");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    for (pidf, why) in [
        (
            dir.path().join("no-dir/lvmetad.pid"),
            "No such file or directory",
        ),
        (file.join("lvmetad.pid"), "Not a directory"),
    ] {
        let sock = dir.path().join("s");
        let o = Command::new(env!("CARGO_BIN_EXE_lvmetad"))
            .arg("-f")
            .arg("-s")
            .arg(&sock)
            .arg("-p")
            .arg(&pidf)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(13));
        assert_eq!(
            String::from_utf8_lossy(&o.stderr),
            format!(
                "Cannot open lockfile [{p}], error was [{why}]\nFailed to acquire lock on {p}. Already running?\n",
                p = pidf.display()
            )
        );
        assert!(!sock.exists());
        // in the background (no -f) the child's messages go to /dev/null; the parent
        // says what went wrong (libdaemon's _daemonise)
        let o = Command::new(env!("CARGO_BIN_EXE_lvmetad"))
            .arg("-s")
            .arg(&sock)
            .arg("-p")
            .arg(&pidf)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(13));
        assert_eq!(
            String::from_utf8_lossy(&o.stderr),
            format!(
                "Failed to acquire lock on {}. Already running?\n",
                pidf.display()
            )
        );
        assert!(!sock.exists());
    }
}

/// The daemon restarted between two commands: the second finds the cache empty
/// (token "none"), an ordinary command is told to rescan, and `pvscan --cache DEV`
/// repopulates everything.
#[test]
fn daemon_restarted_between_two_commands() {
    let set = ImageSet::new(&SET, "");
    let want = clean_dump(&set);
    let dir = TempDir::new("rs");
    let (sock, pidf) = (dir.path().join("s"), dir.path().join("p"));
    let mut d = spawn_daemon(&sock, &pidf);
    assert_eq!(set.pvscan(&sock, &["--cache"]).0, 0);
    assert_eq!(dump(&sock), want);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(d.0.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert_eq!(d.0.wait().unwrap().code(), Some(0));
    let _d = spawn_daemon(&sock, &pidf);
    // an ordinary command: token mismatch, lvmetad still used, nothing printed
    let host = TestHost::new("pvscan", 10);
    let mut c = client_for(&host, &sock);
    assert!(c.connect(1));
    assert!(!c.token_matches(1));
    assert!(c.used());
    assert!(host.visible().is_empty());
    assert!(host
        .all()
        .contains(&"lvmetad initialization needed.".to_string()));
    // pvscan --cache DEV: a full rescan first
    let (rc, out, err) = set.pvscan(&sock, &["--cache", set.path(1)]);
    assert_eq!(rc, 0);
    assert!(
        out.starts_with("  pvscan[") && out.ends_with("] activating all complete VGs for init\n"),
        "{}",
        out
    );
    assert_eq!(err, "");
    assert_eq!(dump(&sock), want);
}

// ---------------------------------------------------------------------------------
// devices through the scan's I/O seam

#[derive(Clone)]
enum Fault {
    None,
    /// Reads fail with EIO where they overlap this range.
    Eio(std::ops::Range<u64>),
    /// At most `n` bytes per read, and every `k`-th read is interrupted (EINTR).
    Short(usize, usize),
    /// The device is gone: every call fails with ENXIO.
    Gone,
    /// The first read reports on the channel and blocks until the gate opens.
    Gate(Arc<Gate>),
}

struct Gate {
    entered: Mutex<Option<mpsc::Sender<()>>>,
    open: Mutex<bool>,
    cv: std::sync::Condvar,
}

impl Gate {
    fn new() -> (Arc<Gate>, mpsc::Receiver<()>) {
        let (tx, rx) = mpsc::channel();
        (
            Arc::new(Gate {
                entered: Mutex::new(Some(tx)),
                open: Mutex::new(false),
                cv: std::sync::Condvar::new(),
            }),
            rx,
        )
    }
    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.cv.notify_all();
    }
}

struct FaultDev {
    data: Arc<Vec<u8>>,
    fault: Fault,
    calls: AtomicUsize,
}

fn enxio() -> io::Error {
    io::Error::from_raw_os_error(libc::ENXIO)
}

impl BlockRead for FaultDev {
    fn size(&self) -> io::Result<u64> {
        match self.fault {
            Fault::Gone => Err(enxio()),
            _ => Ok(self.data.len() as u64),
        }
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        match &self.fault {
            Fault::None => {}
            Fault::Gone => return Err(enxio()),
            Fault::Eio(r) => {
                if off < r.end && off + buf.len() as u64 > r.start {
                    return Err(io::Error::from_raw_os_error(libc::EIO));
                }
            }
            Fault::Short(max, k) => {
                if n % k == 0 {
                    return Err(io::Error::from(io::ErrorKind::Interrupted));
                }
                let len = buf.len().min(*max);
                return self.data.as_slice().read_at(off, &mut buf[..len]);
            }
            Fault::Gate(g) => {
                if let Some(tx) = g.entered.lock().unwrap().take() {
                    tx.send(()).unwrap();
                }
                let mut open = g.open.lock().unwrap();
                while !*open {
                    open = g.cv.wait(open).unwrap();
                }
            }
        }
        self.data.as_slice().read_at(off, buf)
    }
}

/// Devices over image bytes, each with a fault; device numbers 4095:N, names /dev/faultN.
#[derive(Clone)]
struct FaultDevices {
    devs: Vec<(String, u64, Arc<Vec<u8>>, Fault)>,
}

impl FaultDevices {
    fn new(images: &[(&str, Fault)]) -> FaultDevices {
        FaultDevices {
            devs: images
                .iter()
                .enumerate()
                .map(|(i, (name, f))| {
                    (
                        format!("/dev/fault{}", i),
                        lvmetad::scan::devices::makedev(4095, i as u64),
                        image_bytes(name),
                        f.clone(),
                    )
                })
                .collect(),
        }
    }
    fn dev(&self, i: usize) -> ScanDevice {
        let (n, d, b, f) = &self.devs[i];
        ScanDevice {
            devno: *d,
            name: n.clone(),
            io: Box::new(FaultDev {
                data: b.clone(),
                fault: f.clone(),
                calls: AtomicUsize::new(0),
            }),
        }
    }
}

impl DeviceSource for FaultDevices {
    fn all(&mut self) -> Vec<ScanDevice> {
        (0..self.devs.len()).map(|i| self.dev(i)).collect()
    }
    fn by_path(&mut self, path: &str) -> Lookup {
        match self.devs.iter().position(|d| d.0 == path) {
            Some(i) => Lookup::Found(self.dev(i)),
            None => Lookup::NotFound,
        }
    }
    fn by_devno(&mut self, devno: u64) -> Lookup {
        match self.devs.iter().position(|d| d.1 == devno) {
            Some(i) => Lookup::Found(self.dev(i)),
            None => Lookup::NotFound,
        }
    }
}

/// `pvscan --cache [args]` in this process against `socket`: (exit status, messages).
fn scan_in_process(socket: &Path, devs: &mut FaultDevices, args: &[&str]) -> (i32, Vec<String>) {
    scan_in_process_waiting(socket, devs, args, 1)
}

/// The same with `lvmetad_update_wait_time = wait`.
fn scan_in_process_waiting(
    socket: &Path,
    devs: &mut FaultDevices,
    args: &[&str],
    wait: i64,
) -> (i32, Vec<String>) {
    let host = TestHost::new("pvscan", wait);
    let mut c = client_for(&host, socket);
    assert!(c.connect(1));
    let a = CacheArgs {
        devices: args.iter().map(|s| s.to_string()).collect(),
        major_minor: vec![],
    };
    let (rc, _) = pvscan_cache_in_process(c, host.clone(), 1, Box::new(devs.clone()), &a);
    (rc, host.visible())
}

/// EIO on a metadata area header, EIO on the label sectors, a device that is gone
/// (ENXIO) after enumeration, short reads with EINTR: LVM's messages for the device
/// whose metadata could not be read, nothing for the ones that could not be read at all,
/// and the rest of the scan completes: the cache is what a scan of the good devices
/// leaves.
#[test]
fn device_read_errors_during_a_full_scan() {
    let d = DaemonProc::start();
    let mut faulty = FaultDevices::new(&[
        ("c01_orphan_default", Fault::Short(7, 3)),
        ("c04_vg1_pv1", Fault::None),
        ("c04_vg1_pv2", Fault::Eio(4096..4100)),
        ("c06_vg6_wrapped", Fault::Gone),
        ("c05_vg5_pv1_1mda", Fault::Eio(600..601)),
        ("c05_vg5_pv2_0mda", Fault::None),
    ]);
    let (rc, msgs) = scan_in_process(&d.socket, &mut faulty, &[]);
    assert_eq!(rc, 0);
    assert_eq!(
        msgs,
        vec![
            "Error reading device /dev/fault2 at 4096 length 512.",
            "Failed to read metadata area header on /dev/fault2 at 4096",
            "Failed to read mda header from /dev/fault2",
            "Failed to scan VG from /dev/fault2",
        ]
    );
    let got = dump(&d.socket);
    // the same scan of only the devices that could be read
    let clean = DaemonProc::start();
    let mut good = FaultDevices::new(&[
        ("c01_orphan_default", Fault::None),
        ("c04_vg1_pv1", Fault::None),
        ("c04_vg1_pv2", Fault::None),
        ("c06_vg6_wrapped", Fault::None),
        ("c05_vg5_pv1_1mda", Fault::None),
        ("c05_vg5_pv2_0mda", Fault::None),
    ]);
    good.devs
        .retain(|d| ["/dev/fault0", "/dev/fault1", "/dev/fault5"].contains(&d.0.as_str()));
    assert_eq!(scan_in_process(&clean.socket, &mut good, &[]), (0, vec![]));
    assert_eq!(got, dump(&clean.socket));
    let dev = |m| lvmetad::scan::devices::makedev(4095, m);
    assert_eq!(pv_devices(&got), vec![dev(0), dev(1), dev(5)]);

    // the same devices named one by one (the cache is populated now): the unreadable
    // ones are "No PV info found" and dropped from the cache with pv_gone
    for (dev, want) in [
        (
            "/dev/fault3",
            vec!["No PV info found on /dev/fault3 for PVID ."],
        ),
        (
            "/dev/fault4",
            vec!["No PV info found on /dev/fault4 for PVID ."],
        ),
        (
            "/dev/fault2",
            vec![
                "Error reading device /dev/fault2 at 4096 length 512.",
                "Failed to read metadata area header on /dev/fault2 at 4096",
                "Failed to read mda header from /dev/fault2",
                "Failed to scan VG from /dev/fault2",
                "No PV info found on /dev/fault2 for PVID 3QVdVL0eWogWCMV6NFeuBtqG0ZC4BNts.",
            ],
        ),
    ] {
        assert_eq!(
            scan_in_process(&d.socket, &mut faulty, &[dev]),
            (0, want.iter().map(|s| s.to_string()).collect()),
            "{}",
            dev
        );
    }
    assert_eq!(dump(&d.socket), got);
}

/// The daemon is SIGKILLed while a full scan is reading devices (its update started):
/// the scan's next requests fail with LVM's messages and the command stops using
/// lvmetad; the daemon restarted on the stale socket and pidfile is empty, and the next
/// `pvscan --cache DEV` rescans everything.
#[test]
fn daemon_killed_during_a_scan_then_restarted() {
    let set = ImageSet::new(&SET, "");
    let want = clean_dump(&set);
    let dir = TempDir::new("kill");
    let (sock, pidf) = (dir.path().join("s"), dir.path().join("p"));
    let mut daemon = spawn_daemon(&sock, &pidf);
    let (gate, entered) = Gate::new();
    let mut devs = FaultDevices::new(&[
        ("c01_orphan_default", Fault::None),
        ("c04_vg1_pv1", Fault::Gate(gate.clone())),
        ("c04_vg1_pv2", Fault::None),
    ]);
    let s2 = sock.clone();
    // a wait time (the update's timeout) of 60 s: with 1 s, the daemon's whole-second
    // clock may tick over between the update's start and the check below and cancel it
    let scan = std::thread::spawn(move || scan_in_process_waiting(&s2, &mut devs, &[], 60));
    entered.recv().unwrap();
    assert!(global_info(&sock).contains(&format!("token = \"{}\"\n", IP)));
    sigkill(&mut daemon.0);
    gate.open();
    let (rc, msgs) = scan.join().unwrap();
    assert_eq!(rc, 0);
    assert_eq!(
        msgs,
        vec![
            "WARNING: lvmetad connection failed, cannot reconnect.",
            "lvmetad cannot be used due to error: Connection reset by peer",
            "WARNING: lvmetad connection failed, cannot reconnect.",
            "lvmetad cannot be used due to error: Connection reset by peer",
            "WARNING: To avoid corruption, restart lvmetad (or disable with use_lvmetad=0).",
            "WARNING: Not using lvmetad because cache update failed.",
        ]
    );
    let mut daemon = spawn_daemon(&sock, &pidf);
    assert!(global_info(&sock).contains("token = \"none\"\n"));
    let (rc, out, err) = set.pvscan(&sock, &["--cache", set.path(0)]);
    assert_eq!(rc, 0);
    assert!(
        out.ends_with("] activating all complete VGs for init\n"),
        "{}",
        out
    );
    assert_eq!(err, "");
    assert_eq!(dump(&sock), want);
    sigkill(&mut daemon.0);
}

// ---------------------------------------------------------------------------------
// bad replies (tests/client.rs `dead_daemon_and_bad_peers` has the truncated, garbage,
// empty and wrong-protocol replies; these are the others)

/// A peer that answers each request of one connection with the next scripted reply,
/// written `chunk` bytes at a time. Returns the socket path.
fn scripted(dir: &Path, name: &str, replies: Vec<Vec<u8>>, chunk: usize) -> PathBuf {
    let sock = dir.join(name);
    let l = UnixListener::bind(&sock).unwrap();
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        for r in replies {
            if read_reply(&mut s).is_none() {
                return;
            }
            for c in r.chunks(chunk) {
                if s.write_all(c).is_err() {
                    return;
                }
            }
        }
        let _ = read_reply(&mut s);
    });
    sock
}

const HELLO: &[u8] = b"response = \"OK\"\nprotocol = \"lvmetad\"\nversion = 1\n\n##\n";

#[test]
fn bad_replies_give_lvms_messages() {
    let dir = TempDir::new("bad");
    let host = TestHost::new("pvscan", 10);
    let run = |name: &str, replies: Vec<&[u8]>, chunk: usize| {
        let sock = scripted(
            dir.path(),
            name,
            replies.into_iter().map(|r| r.to_vec()).collect(),
            chunk,
        );
        host.clear();
        client_for(&host, &sock)
    };
    // handshake: another version, a failed hello
    let mut c = run(
        "v2",
        vec![b"response = \"OK\"\nprotocol = \"lvmetad\"\nversion = 2\n\n##\n"],
        4096,
    );
    assert!(!c.connect(1));
    assert_eq!(
        host.visible(),
        vec!["Daemon lvmetad: requested protocol version 1 != 2"]
    );
    let mut c = run(
        "nohello",
        vec![b"response = \"failed\"\nreason = \"no\"\n\n##\n"],
        4096,
    );
    assert!(!c.connect(1));
    assert_eq!(host.visible(), vec!["Daemon lvmetad returned error 0"]);
    // get_global_info without a token (an older daemon), and a failed one
    let mut c = run(
        "old",
        vec![HELLO, b"response = \"OK\"\nglobal_invalid = 0\n\n##\n"],
        4096,
    );
    assert!(c.connect(1));
    assert!(!c.token_matches(1));
    assert!(!c.used());
    assert_eq!(
        host.visible(),
        vec!["WARNING: Not using lvmetad with older version."]
    );
    let mut c = run(
        "ggi-failed",
        vec![HELLO, b"response = \"failed\"\n\n##\n"],
        4096,
    );
    assert!(c.connect(1));
    assert!(!c.token_matches(1));
    assert!(!c.used());
    assert_eq!(
        host.visible(),
        vec!["WARNING: Not using lvmetad after response error."]
    );
    // a token_update answered with an unknown response: the update cannot start
    let mut c = run("tu", vec![HELLO, b"response = \"maybe\"\n\n##\n"], 4096);
    assert!(c.connect(1));
    let devs = FaultDevices::new(&[]);
    let (ok, _) = pvscan_all_devs_in_process(c, host.clone(), 1, Box::new(devs), false);
    assert!(!ok);
    assert_eq!(
        host.visible(),
        vec![
            "Failed response from lvmetad for token update.",
            "Failed to start lvmetad update."
        ]
    );
    // a pv_found reply without response or reason
    let mut c = run("noresp", vec![HELLO, b"seqno_before = 1\n\n##\n"], 4096);
    assert!(c.connect(1));
    let r = c.send(Request::PvFound, &[]);
    assert!(!c.handle_reply(&r, Request::PvFound, "PVUUID", None));
    assert_eq!(
        host.visible(),
        vec![
            "Request to update PV PVUUID in lvmetad gave response <missing>. Reason: <missing>",
            "WARNING: To avoid corruption, restart lvmetad (or disable with use_lvmetad=0).",
        ]
    );
    // a reply split into one-byte writes (terminator included) and a 16 MiB reply are
    // read whole
    let ggi = format!(
        "response = \"OK\"\nglobal_invalid = 0\nglobal_disable = 0\ndisable_reason = \"none\"\ndaemon_pid = 1\ntoken = \"{}\"\n\n##\n",
        image_token()
    );
    let mut c = run("bytes", vec![HELLO, ggi.as_bytes()], 1);
    assert!(c.connect(1));
    assert!(c.token_matches(1));
    let mut big = b"response = \"OK\"\nphysical_volumes {\n".to_vec();
    let mut n = 0;
    while big.len() < 16 << 20 {
        big.extend_from_slice(
            format!(
                "\tpv{} {{\n\t\tid = \"{:032}\"\n\t\tdevice = {}\n\t}}\n",
                n, n, n
            )
            .as_bytes(),
        );
        n += 1;
    }
    big.extend_from_slice(b"}\n\n##\n");
    let mut c = run("big", vec![HELLO, &big], 65536);
    assert!(c.connect(1));
    let r = c.send(Request::PvList, &[]);
    assert!(c.handle_reply(&r, Request::PvList, "", None));
    assert_eq!(
        r.int(&format!("physical_volumes/pv{}/device", n - 1)),
        Some(n - 1)
    );
    assert!(host.visible().is_empty(), "{:?}", host.visible());
}

// ---------------------------------------------------------------------------------
// signal storms

static SIGNALS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn count_signal(_: libc::c_int) {
    SIGNALS.fetch_add(1, Ordering::SeqCst);
}

/// SIGUSR2 with a handler installed without SA_RESTART hammers the thread making
/// requests (every blocking read, write, connect and sleep can fail with EINTR), while
/// the daemon is stopped and continued (SIGSTOP/SIGCONT) over and over: every request
/// succeeds, full scans included, and the cache ends as a clean scan leaves it.
#[test]
fn eintr_storm_on_client_and_stop_continue_storm_on_daemon() {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    // SAFETY: the handler only increments an atomic counter.
    unsafe {
        sigaction(
            Signal::SIGUSR2,
            &SigAction::new(
                SigHandler::Handler(count_signal),
                SaFlags::empty(),
                SigSet::empty(),
            ),
        )
        .unwrap();
    }
    let d = DaemonProc::start();
    let want = {
        let clean = DaemonProc::start();
        let mut devs = FaultDevices::new(&SET.map(|n| (n, Fault::None)));
        assert_eq!(scan_in_process(&clean.socket, &mut devs, &[]), (0, vec![]));
        dump(&clean.socket)
    };
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // SAFETY: pthread_self has no preconditions.
    let me = unsafe { libc::pthread_self() } as usize;
    let d2 = done.clone();
    let storm = std::thread::spawn(move || {
        while !d2.load(Ordering::SeqCst) {
            // SAFETY: the target thread (the test's) outlives this thread: it sets
            // `done` and joins this one before returning.
            unsafe { libc::pthread_kill(me as libc::pthread_t, libc::SIGUSR2) };
            std::thread::yield_now();
        }
    });
    let dpid = nix::unistd::Pid::from_raw(d.pid() as i32);
    let d3 = done.clone();
    let stops = Arc::new(AtomicUsize::new(0));
    let stops2 = stops.clone();
    let stopper = std::thread::spawn(move || {
        while !d3.load(Ordering::SeqCst) {
            nix::sys::signal::kill(dpid, Signal::SIGSTOP).unwrap();
            std::thread::sleep(Duration::from_micros(200));
            nix::sys::signal::kill(dpid, Signal::SIGCONT).unwrap();
            std::thread::sleep(Duration::from_micros(500));
            stops2.fetch_add(1, Ordering::SeqCst);
        }
        nix::sys::signal::kill(dpid, Signal::SIGCONT).unwrap();
    });
    let host = TestHost::new("pvscan", 10);
    let start = SIGNALS.load(Ordering::SeqCst);
    let mut requests = 0;
    let mut scans = 0;
    // until enough requests were made under enough signals and stops
    while requests < 3000
        || SIGNALS.load(Ordering::SeqCst) - start < 3000
        || stops.load(Ordering::SeqCst) < 100
        || scans < 3
    {
        // a new connection, a full scan, then ordinary requests
        let mut c = client_for(&host, &d.socket);
        assert!(c.connect(1));
        if requests % 500 == 0 {
            let devs = FaultDevices::new(&SET.map(|n| (n, Fault::None)));
            let (ok, back) = pvscan_all_devs_in_process(c, host.clone(), 1, Box::new(devs), true);
            assert!(ok);
            c = back;
            scans += 1;
        }
        for _ in 0..50 {
            assert!(c.token_matches(1));
            let r = c.send(Request::PvList, &[]);
            assert!(c.handle_reply(&r, Request::PvList, "", None));
            let r = c.send(Request::VgList, &[]);
            assert!(c.handle_reply(&r, Request::VgList, "", None));
            assert_eq!(c.is_disabled(), None);
            requests += 4;
        }
        c.disconnect();
    }
    done.store(true, Ordering::SeqCst);
    storm.join().unwrap();
    stopper.join().unwrap();
    assert!(host.visible().is_empty(), "{:?}", host.visible());
    assert_eq!(dump(&d.socket), want);
}

/// `lvmetad-pvscan --cache` processes stopped and continued (SIGSTOP/SIGCONT) over and
/// over while they scan: each exits 0 without a message, and the cache is a clean
/// scan's.
#[test]
fn stop_continue_storm_on_pvscan_processes() {
    use nix::sys::signal::{kill, Signal};
    use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
    let set = ImageSet::new(&SET, "");
    let want = clean_dump(&set);
    let d = DaemonProc::start();
    for args in [
        vec!["--cache"],
        vec!["--cache", set.path(3)],
        vec!["--cache"],
    ] {
        let mut child = set
            .pvscan_cmd(&d.socket, &args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        // signals only until the process has exited; it is reaped after the storm ends,
        // so its pid cannot be reused while the storm runs
        let storm = std::thread::spawn(move || loop {
            let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
            if !matches!(waitid(Id::Pid(pid), flags), Ok(WaitStatus::StillAlive)) {
                return;
            }
            kill(pid, Signal::SIGSTOP).unwrap();
            std::thread::sleep(Duration::from_micros(300));
            kill(pid, Signal::SIGCONT).unwrap();
            std::thread::sleep(Duration::from_micros(300));
        });
        let (mut out, mut err) = (String::new(), String::new());
        std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        // (how many stops land depends on how fast the process is; not asserted)
        storm.join().unwrap();
        let st = child.wait().unwrap();
        assert_eq!(st.code(), Some(0), "{:?}", args);
        assert_eq!((out.as_str(), err.as_str()), ("", ""));
        assert_eq!(dump(&d.socket), want);
    }
}

/// Spec client.md 7.6 and 6.3: a full scan (wait time 0, so its update never times out)
/// is taken over by another `pvscan --cache` while it reads devices. When it goes on,
/// every request it makes is refused, it says so as LVM does and stops using lvmetad:
/// nothing it sends overwrites the other command's scan.
#[test]
fn scan_taken_over_midway_changes_nothing() {
    let set = ImageSet::new(&SET, "global { lvmetad_update_wait_time = 1 }\n");
    let want = clean_dump(&set);
    let d = DaemonProc::start();
    let (gate, entered) = Gate::new();
    // the slow scan sees different (empty) images under the same device numbers: had
    // any of its requests been applied, the dump would differ
    let mut devs = FaultDevices::new(&[
        ("c01_orphan_default", Fault::Gate(gate.clone())),
        ("c03_orphan_0mda", Fault::None),
    ]);
    let sock = d.socket.clone();
    let slow = std::thread::spawn(move || scan_in_process_waiting(&sock, &mut devs, &[], 0));
    entered.recv().unwrap();
    let (rc, out, err) = set.pvscan(&d.socket, &["--cache"]);
    assert_eq!((rc, out.as_str()), (0, ""));
    assert_eq!(
        err,
        "  WARNING: lvmetad is being updated, waiting for 1 more seconds.\n  \
         WARNING: lvmetad update is interrupting another update in progress.\n"
    );
    assert_eq!(dump(&d.socket), want);
    gate.open();
    let (rc, msgs) = slow.join().unwrap();
    assert_eq!(rc, 0);
    assert_eq!(
        msgs,
        vec![
            "WARNING: lvmetad was updated by another command.",
            "WARNING: lvmetad was updated by another command.",
            "WARNING: Not using lvmetad because cache update failed.",
        ]
    );
    assert_eq!(dump(&d.socket), want);
}

/// Spec client.md 6.4 step 5: a `pvscan --cache` that has sent everything but is taken
/// over before it ends its update gets `token_mismatch` for its closing `token_update`,
/// prints LVM's messages, and the other command's scan completes; nothing lost.
#[test]
fn scan_ending_after_a_takeover_is_refused() {
    let set = ImageSet::new(&SET, "global { lvmetad_update_wait_time = 0 }\n");
    let d = DaemonProc::start();
    let psock = set.dir.path().join("proxy");
    let (held, go) = proxy_hold(UnixListener::bind(&psock).unwrap(), d.socket.clone(), |r| {
        r.starts_with(b"request=\"token_update\"")
            && !r.windows(18).any(|w| w == b"update in progress")
    });
    let first = set
        .pvscan_cmd(&psock, &["--cache"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let first_pid = first.id();
    held.recv().unwrap();
    // the second command takes the update over and stops while reading devices
    let (gate, entered) = Gate::new();
    let devs = FaultDevices::new(&[("c01_orphan_default", Fault::Gate(gate.clone()))]);
    let sock = d.socket.clone();
    let host = TestHost::new("pvscan", 1);
    let h2 = host.clone();
    let second = std::thread::spawn(move || {
        let mut c = client_for(&h2, &sock);
        assert!(c.connect(1));
        let (ok, _) = pvscan_all_devs_in_process(c, h2.clone(), 1, Box::new(devs), true);
        (ok, std::process::id())
    });
    entered.recv().unwrap();
    go.send(()).unwrap();
    let o = first.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let me = std::process::id();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!(
            "  Received token update mismatch expected \"update in progress\" our token \"{}\" update_pid {} our pid {}\n  \
             WARNING: lvmetad was updated by another command (pid {}).\n",
            image_token(),
            me,
            first_pid,
            me
        )
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "  Failed to update lvmetad token after device scan.\n  \
         WARNING: Not using lvmetad because cache update failed.\n"
    );
    gate.open();
    assert!(second.join().unwrap().0);
    assert_eq!(
        host.visible(),
        vec![
            "WARNING: lvmetad is being updated, waiting for 1 more seconds.",
            "WARNING: lvmetad update is interrupting another update in progress.",
        ]
    );
    // the second scan saw only one device: it is what the cache holds
    let mut one = FaultDevices::new(&[("c01_orphan_default", Fault::None)]);
    let clean = DaemonProc::start();
    assert_eq!(scan_in_process(&clean.socket, &mut one, &[]), (0, vec![]));
    assert_eq!(dump(&d.socket), dump(&clean.socket));
}
