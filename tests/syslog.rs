//! The syslog outlet against a real receiver. The C library's `syslog()` writes to
//! `/dev/log`; the daemon runs in a private mount namespace whose `/dev` is a directory
//! of this test holding `null` (the real /dev/null, bind-mounted) and `log`, a datagram
//! socket the test reads. Fatal and error messages reach syslog whatever `-l` says, as
//! `<PRI>TIMESTAMP lvmetad[PID]: MESSAGE` with facility daemon; nothing else does.

mod common;
use common::*;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixDatagram;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const LVMETAD: &str = env!("CARGO_BIN_EXE_lvmetad");

/// LOG_DAEMON (3 << 3) | LOG_ERR (3)
const PRI_DAEMON_ERR: &str = "<27>";

struct FakeDev {
    dir: TempDir,
    log: UnixDatagram,
}

impl FakeDev {
    fn new() -> FakeDev {
        let dir = TempDir::new("syslog");
        let dev = dir.path().join("dev");
        std::fs::create_dir(&dev).unwrap();
        std::fs::File::create(dev.join("null")).unwrap();
        let log = UnixDatagram::bind(dev.join("log")).unwrap();
        log.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        FakeDev { dir, log }
    }

    /// `lvmetad ARGS` inside a private mount namespace with our /dev.
    fn spawn(&self, args: &[&str]) -> Child {
        let dev = self.dir.path().join("dev");
        let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).unwrap();
        let (null_src, null_dst, dev_src) =
            (c(Path::new("/dev/null")), c(&dev.join("null")), c(&dev));
        let mut cmd = Command::new(LVMETAD);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // SAFETY: unshare and mount are plain system calls, async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                let err = || Err(std::io::Error::last_os_error());
                let none = std::ptr::null();
                if libc::unshare(libc::CLONE_NEWNS) < 0 {
                    return err();
                }
                if libc::mount(
                    none,
                    c"/".as_ptr(),
                    none,
                    libc::MS_REC | libc::MS_PRIVATE,
                    std::ptr::null(),
                ) < 0
                {
                    return err();
                }
                if libc::mount(
                    null_src.as_ptr(),
                    null_dst.as_ptr(),
                    none,
                    libc::MS_BIND,
                    std::ptr::null(),
                ) < 0
                {
                    return err();
                }
                if libc::mount(
                    dev_src.as_ptr(),
                    c"/dev".as_ptr(),
                    none,
                    libc::MS_BIND | libc::MS_REC,
                    std::ptr::null(),
                ) < 0
                {
                    return err();
                }
                Ok(())
            });
        }
        cmd.spawn()
            .expect("lvmetad in a private mount namespace (needs root)")
    }

    /// Every datagram that arrives until none has come for a while.
    fn drain(&self) -> Vec<String> {
        let mut v = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.log.recv(&mut buf) {
            v.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        v
    }

    /// The next datagram (waits up to 10 s).
    fn next(&self) -> String {
        let t0 = Instant::now();
        let mut buf = [0u8; 4096];
        loop {
            match self.log.recv(&mut buf) {
                Ok(n) => return String::from_utf8_lossy(&buf[..n]).into_owned(),
                Err(_) if t0.elapsed() < Duration::from_secs(10) => continue,
                Err(e) => panic!("no syslog message: {}", e),
            }
        }
    }
}

/// `<PRI>Mmm dd hh:mm:ss ` then the rest, checked exactly.
fn assert_syslog(got: &str, pri: &str, rest: &str) {
    assert!(got.starts_with(pri), "{:?}", got);
    let ts = &got[pri.len()..pri.len() + 16];
    let b = ts.as_bytes();
    assert!(
        b[3] == b' ' && b[6] == b' ' && b[9] == b':' && b[12] == b':' && b[15] == b' ',
        "timestamp {:?} in {:?}",
        ts,
        got
    );
    assert_eq!(&got[pri.len() + 16..], rest);
}

fn wait_socket(p: &Path) {
    let t0 = Instant::now();
    while std::os::unix::net::UnixStream::connect(p).is_err() {
        assert!(t0.elapsed() < Duration::from_secs(10), "no daemon");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn errors_go_to_syslog_at_daemon_err() {
    let dev = FakeDev::new();
    let sock = dev.dir.path().join("lvmetad.socket");
    let pidf = dev.dir.path().join("lvmetad.pid");
    let (s, p) = (sock.to_str().unwrap(), pidf.to_str().unwrap());
    // -l selects stderr only: warnings and info are on there, never in syslog
    let mut d = dev.spawn(&["-f", "-s", s, "-p", p, "-l", "warn,info"]);
    wait_socket(&sock);
    let pid = d.id();
    let mut c = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    let r = exchange(&mut c, b"request = \"vg_lookup\"\ntoken = \"skip\"");
    assert!(r.starts_with(b"response = \"unknown\""), "{:?}", r);
    assert_syslog(
        &dev.next(),
        PRI_DAEMON_ERR,
        &format!("lvmetad[{}]: vg_lookup with no uuid or name", pid),
    );

    // a second daemon on the same pidfile: its lock error goes to syslog too
    let mut d2 = dev.spawn(&["-f", "-s", s, "-p", p]);
    let pid2 = d2.id();
    assert_eq!(d2.wait().unwrap().code(), Some(13));
    assert_syslog(
        &dev.next(),
        PRI_DAEMON_ERR,
        &format!(
            "lvmetad[{}]: Failed to acquire lock on {}. Already running?\n",
            pid2, p
        ),
    );

    drop(c);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert_eq!(d.wait().unwrap().code(), Some(0));
    // the info messages of the shutdown went to stderr only
    use std::io::Read;
    let mut err = String::new();
    d.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(err.contains("I: lvmetad shutting down\n"), "{}", err);
    assert_eq!(dev.drain(), Vec::<String>::new());
}

/// In background mode (stderr is /dev/null) the error still reaches syslog, from the
/// daemon child.
#[test]
fn background_daemon_errors_reach_syslog() {
    let dev = FakeDev::new();
    let sock = dev.dir.path().join("lvmetad.socket");
    let pidf = dev.dir.path().join("lvmetad.pid");
    let (s, p) = (sock.to_str().unwrap(), pidf.to_str().unwrap());
    let mut parent = dev.spawn(&["-s", s, "-p", p]);
    assert_eq!(parent.wait().unwrap().code(), Some(0));
    wait_socket(&sock);
    let pid: u32 = std::fs::read_to_string(&pidf)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut c = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    exchange(&mut c, b"request = \"vg_lookup\"\ntoken = \"skip\"");
    assert_syslog(
        &dev.next(),
        PRI_DAEMON_ERR,
        &format!("lvmetad[{}]: vg_lookup with no uuid or name", pid),
    );
    drop(c);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let t0 = Instant::now();
    while pidf.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "daemon did not exit"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(dev.drain(), Vec::<String>::new());
}
