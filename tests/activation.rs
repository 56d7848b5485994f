//! Socket activation and background-mode descriptor hygiene, with the real daemon binary:
//! under systemd's own `systemd-socket-activate` (a blocking fd 3) and under this test's
//! launcher (a non-blocking fd 3, `LISTEN_PID` set to the child's pid by the shell that
//! execs the daemon). In both the daemon serves our client library, uses no CPU while
//! idle, and leaves the socket file in place after SIGTERM.

mod common;
use common::host::TestHost;
use common::*;
use lvmetad::client::port::Host;
use lvmetad::client::Client;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const LVMETAD: &str = env!("CARGO_BIN_EXE_lvmetad");

/// utime + stime of a process, in clock ticks (/proc/PID/stat fields 14 and 15).
fn cpu_ticks(pid: u32) -> u64 {
    let st = std::fs::read_to_string(format!("/proc/{}/stat", pid)).unwrap();
    let rest = &st[st.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    // rest starts at field 3 (state)
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// The daemon, asked through our client library, answers get_global_info with its pid.
fn serves_client_library(socket: &Path, pid: u32) {
    for _ in 0..3 {
        let host = TestHost::new("activation", 10);
        let mut c = Client::new(host.clone() as Arc<dyn Host>);
        c.set_socket(Some(socket.to_path_buf()));
        assert!(c.connect(0), "connect to {}", socket.display());
        let r = c.get_global_info();
        assert_eq!(r.response(), "OK");
        assert_eq!(r.int("daemon_pid"), Some(pid as i64));
        assert_eq!(r.str("token"), Some("none"));
        c.disconnect();
    }
    // several clients at once, each served
    let conns: Vec<_> = (0..8)
        .map(|_| std::os::unix::net::UnixStream::connect(socket).unwrap())
        .collect();
    for mut s in conns {
        let r = exchange(&mut s, b"request = \"hello\"");
        assert_eq!(
            String::from_utf8_lossy(&r),
            "response = \"OK\"\nprotocol = \"lvmetad\"\nversion = 1\n\n##\n"
        );
    }
}

/// Idle means blocked in poll: over two seconds the daemon uses (almost) no CPU. A loop
/// spinning on accept would use about 200 ticks here.
fn stays_idle(pid: u32) {
    let t0 = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_ticks(pid) - t0;
    assert!(used <= 5, "idle daemon used {} clock ticks in 2 s", used);
}

/// Whether a process's descriptor is non-blocking (/proc/PID/fdinfo/FD, octal flags).
fn fd_nonblocking(pid: u32, fd: RawFd) -> bool {
    let info = std::fs::read_to_string(format!("/proc/{}/fdinfo/{}", pid, fd)).unwrap();
    let flags = info
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .unwrap()
        .trim();
    u32::from_str_radix(flags, 8).unwrap() & libc::O_NONBLOCK as u32 != 0
}

fn sigterm_and_wait(child: &mut Child) -> Option<i32> {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    // a daemon stuck (e.g. blocked in accept) fails the test instead of hanging it
    let t0 = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st.code();
        }
        if t0.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the daemon did not exit after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn wait_connectable(socket: &Path) {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(10) {
        if std::os::unix::net::UnixStream::connect(socket).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("nothing listens on {}", socket.display());
}

fn wait_file(p: &Path) -> String {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(10) {
        if let Ok(s) = std::fs::read_to_string(p) {
            if s.ends_with('\n') {
                return s;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{} not written", p.display());
}

fn is_socket(p: &Path) -> bool {
    std::fs::symlink_metadata(p)
        .map(|m| m.file_type().is_socket())
        .unwrap_or(false)
}

/// The socket systemd would create: bound, listening, mode 0600 (the unit's SocketMode).
fn systemd_like_socket(path: &Path, nonblocking: bool) -> UnixListener {
    let l = UnixListener::bind(path).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    l.set_nonblocking(nonblocking).unwrap();
    l
}

/// Run `lvmetad ARGS` with `fd` as its fd 3, through `sh` so that `LISTEN_PID` is the pid
/// of the process that becomes the daemon (exec keeps it). `listen_pid` replaces `$$`
/// when given.
fn launch(fd: RawFd, env: &[(&str, &str)], listen_pid: Option<&str>, args: &[&str]) -> Child {
    let script = format!(
        "LISTEN_PID={}; export LISTEN_PID; exec \"$0\" \"$@\"",
        listen_pid.unwrap_or("$$")
    );
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(script)
        .arg(LVMETAD)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    // SAFETY: place() only makes async-signal-safe calls.
    unsafe {
        cmd.pre_exec(move || place(&[(fd, 3)]));
    }
    cmd.spawn().unwrap()
}

/// In a child before exec: put a copy of each `src` at its `dst`, inherited across exec.
/// Every source is first copied above 200, so no placement clobbers a later source, and
/// a source already at its place loses its close-on-exec flag as well.
fn place(pairs: &[(RawFd, RawFd)]) -> std::io::Result<()> {
    let mut tmp = [0 as RawFd; 4];
    for (i, (src, _)) in pairs.iter().enumerate() {
        // SAFETY: fcntl is async-signal-safe.
        tmp[i] = unsafe { libc::fcntl(*src, libc::F_DUPFD_CLOEXEC, 200) };
        if tmp[i] < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    for (i, (_, dst)) in pairs.iter().enumerate() {
        // SAFETY: dup2 is async-signal-safe; the copy at dst has no close-on-exec flag.
        if unsafe { libc::dup2(tmp[i], *dst) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

const ACTIVATE: &[(&str, &str)] = &[("SD_ACTIVATION", "1"), ("LISTEN_FDS", "1")];

fn stderr_of(child: &mut Child) -> String {
    use std::io::Read;
    let mut s = String::new();
    child.stderr.take().unwrap().read_to_string(&mut s).unwrap();
    s
}

#[test]
fn under_systemd_socket_activate_blocking_fd3() {
    let tool = "/usr/bin/systemd-socket-activate";
    assert!(
        Path::new(tool).exists(),
        "{} is missing: apt-get install systemd",
        tool
    );
    let dir = TempDir::new("sdact");
    let sock = dir.path().join("lvmetad.socket");
    let pidf = dir.path().join("lvmetad.pid");
    let mut child = Command::new(tool)
        .arg("-l")
        .arg(&sock)
        .args(["-E", "SD_ACTIVATION=1", LVMETAD, "-f", "-s"])
        .arg(&sock)
        .arg("-p")
        .arg(&pidf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // systemd-socket-activate execs the daemon on the first connection: same pid
    wait_connectable(&sock);
    assert_eq!(wait_file(&pidf), format!("{}\n", child.id()));
    assert!(
        !fd_nonblocking(child.id(), 3),
        "systemd-socket-activate passes a blocking fd"
    );
    serves_client_library(&sock, child.id());
    stays_idle(child.id());
    serves_client_library(&sock, child.id());
    assert_eq!(sigterm_and_wait(&mut child), Some(0));
    assert!(is_socket(&sock), "the daemon removed systemd's socket");
    assert!(!pidf.exists());
    let err = stderr_of(&mut child);
    // the daemon never tried to create the socket itself
    assert!(!err.contains("[D] creating"), "{}", err);
}

#[test]
fn under_own_launcher_nonblocking_fd3() {
    let dir = TempDir::new("act");
    let sock = dir.path().join("lvmetad.socket");
    let pidf = dir.path().join("lvmetad.pid");
    let l = systemd_like_socket(&sock, true);
    let mut child = launch(
        l.as_raw_fd(),
        ACTIVATE,
        None,
        &[
            "-f",
            "-s",
            sock.to_str().unwrap(),
            "-p",
            pidf.to_str().unwrap(),
        ],
    );
    assert_eq!(wait_file(&pidf), format!("{}\n", child.id()));
    assert!(fd_nonblocking(child.id(), 3));
    serves_client_library(&sock, child.id());
    stays_idle(child.id());
    serves_client_library(&sock, child.id());
    assert_eq!(sigterm_and_wait(&mut child), Some(0));
    assert!(is_socket(&sock), "the daemon removed systemd's socket");
    // the socket still works: systemd would start the next daemon on it
    let _c = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    assert_eq!(stderr_of(&mut child), "");
}

/// Each unmet condition: the daemon does not take fd 3, tries to create the socket
/// itself, and finds it in use (the test's listener holds it).
#[test]
fn handover_conditions() {
    type Env = &'static [(&'static str, &'static str)];
    let cases: &[(&str, Env, Option<&str>)] = &[
        ("no SD_ACTIVATION", &[("LISTEN_FDS", "1")], None),
        (
            "SD_ACTIVATION=yes",
            &[("SD_ACTIVATION", "yes"), ("LISTEN_FDS", "1")],
            None,
        ),
        ("LISTEN_PID of another process", ACTIVATE, Some("1")),
        ("LISTEN_PID not a number", ACTIVATE, Some("$$x")),
        ("LISTEN_PID empty", ACTIVATE, Some("")),
        (
            "LISTEN_FDS=2",
            &[("SD_ACTIVATION", "1"), ("LISTEN_FDS", "2")],
            None,
        ),
        ("LISTEN_FDS missing", &[("SD_ACTIVATION", "1")], None),
    ];
    for (what, env, pid) in cases {
        let dir = TempDir::new("actc");
        let sock = dir.path().join("lvmetad.socket");
        let pidf = dir.path().join("lvmetad.pid");
        let l = systemd_like_socket(&sock, true);
        let mut child = launch(
            l.as_raw_fd(),
            env,
            *pid,
            &[
                "-f",
                "-s",
                sock.to_str().unwrap(),
                "-p",
                pidf.to_str().unwrap(),
            ],
        );
        let st = child.wait().unwrap();
        assert_eq!(st.code(), Some(1), "{}", what);
        assert_eq!(
            stderr_of(&mut child),
            format!(
                "[D] creating {s}\nSocket {s} already in use\n",
                s = sock.display()
            ),
            "{}",
            what
        );
        assert!(is_socket(&sock));
    }
}

/// fd 3 not a UNIX stream socket on our path: the daemon creates and owns its own socket
/// (and removes it on exit).
#[test]
fn fd3_not_our_socket_is_ignored() {
    let dir = TempDir::new("actw");
    let sock = dir.path().join("lvmetad.socket");
    let pidf = dir.path().join("lvmetad.pid");
    let other = UnixListener::bind(dir.path().join("other.socket")).unwrap();
    let dgram = std::os::unix::net::UnixDatagram::bind(&sock).unwrap();
    std::fs::remove_file(&sock).unwrap();
    let file = std::fs::File::open("/dev/null").unwrap();
    for (what, fd) in [
        ("a stream socket on another path", other.as_raw_fd()),
        ("a datagram socket on our path", dgram.as_raw_fd()),
        ("not a socket", file.as_raw_fd()),
    ] {
        let mut child = launch(
            fd,
            ACTIVATE,
            None,
            &[
                "-f",
                "-s",
                sock.to_str().unwrap(),
                "-p",
                pidf.to_str().unwrap(),
            ],
        );
        wait_file(&pidf);
        wait_connectable(&sock);
        serves_client_library(&sock, child.id());
        assert_eq!(sigterm_and_wait(&mut child), Some(0), "{}", what);
        assert!(!sock.exists(), "{}: own socket not removed", what);
        assert_eq!(
            stderr_of(&mut child),
            format!("[D] creating {}\n", sock.display()),
            "{}",
            what
        );
    }
}

/// Have one request served on the socket and closed, then wait until the daemon `pid`
/// serves no connection (its "lvmetad-client" threads have ended): the probe's descriptor
/// is then closed on the daemon's side too.
fn probe_served(socket: &Path, pid: u32) {
    let mut s = std::os::unix::net::UnixStream::connect(socket).unwrap();
    let r = exchange(&mut s, b"request = \"hello\"\n");
    assert!(r.starts_with(b"response = \"OK\""));
    drop(s);
    wait_client_threads(pid, 0);
}

/// Descriptors of a process, as (fd, link target).
fn fd_table(pid: u32) -> Vec<(RawFd, String)> {
    let mut v: Vec<(RawFd, String)> = std::fs::read_dir(format!("/proc/{}/fd", pid))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let fd = e.file_name().to_str().unwrap().parse().unwrap();
            let t = std::fs::read_link(e.path()).unwrap();
            (fd, t.to_string_lossy().into_owned())
        })
        .collect();
    v.sort();
    v
}

fn socket_inode(fd: RawFd) -> String {
    std::fs::read_link(format!("/proc/self/fd/{}", fd))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

fn kill_pid(pid: u32) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
}

fn wait_gone(p: &Path) {
    let t0 = Instant::now();
    while p.exists() && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!p.exists(), "{} still there", p.display());
}

/// Background mode closes every inherited descriptor above 2: the daemon is left with
/// /dev/null on 0-2, its pidfile and its socket.
#[test]
fn background_mode_closes_inherited_descriptors() {
    let dir = TempDir::new("bgfd");
    let sock = dir.path().join("lvmetad.socket");
    let pidf = dir.path().join("lvmetad.pid");
    let (r, w) = nix::unistd::pipe().unwrap();
    let extra = std::fs::File::open(dir.path()).unwrap();
    let (wfd, xfd) = (w.as_raw_fd(), extra.as_raw_fd());
    let mut cmd = Command::new(LVMETAD);
    cmd.arg("-s").arg(&sock).arg("-p").arg(&pidf);
    // SAFETY: place() only makes async-signal-safe calls.
    unsafe {
        cmd.pre_exec(move || place(&[(wfd, 7), (xfd, 12)]));
    }
    let st = cmd.status().unwrap();
    assert_eq!(st.code(), Some(0));
    let pid: u32 = wait_file(&pidf).trim().parse().unwrap();
    wait_connectable(&sock);
    probe_served(&sock, pid);
    let t = fd_table(pid);
    let fds: Vec<RawFd> = t.iter().map(|(fd, _)| *fd).collect();
    assert_eq!(fds, vec![0, 1, 2, 3, 4], "{:?}", t);
    assert_eq!(t[0].1, "/dev/null");
    assert_eq!(t[1].1, "/dev/null");
    assert_eq!(t[2].1, "/dev/null");
    assert_eq!(t[3].1, pidf.to_str().unwrap());
    assert!(t[4].1.starts_with("socket:["), "{:?}", t);
    drop(w);
    // every write end is closed: the pipe reads end-of-file at once
    let mut buf = [0u8; 1];
    assert_eq!(nix::unistd::read(r.as_raw_fd(), &mut buf).unwrap(), 0);
    kill_pid(pid);
    wait_gone(&pidf);
    assert!(!sock.exists());
}

/// Background mode, socket-activated: `LISTEN_PID` is the pid before the fork (as in
/// libdaemon, the handover happens first), fd 3 is kept, everything else is closed, and
/// the socket survives the daemon.
#[test]
fn background_mode_keeps_passed_socket() {
    let dir = TempDir::new("bgact");
    let sock = dir.path().join("lvmetad.socket");
    let pidf = dir.path().join("lvmetad.pid");
    let l = systemd_like_socket(&sock, true);
    let (r, w) = nix::unistd::pipe().unwrap();
    let wfd = w.as_raw_fd();
    let lfd = l.as_raw_fd();
    let script = "LISTEN_PID=$$; export LISTEN_PID; exec \"$0\" \"$@\"";
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(script)
        .arg(LVMETAD)
        .arg("-s")
        .arg(&sock)
        .arg("-p")
        .arg(&pidf)
        .envs(ACTIVATE.iter().copied())
        .stderr(Stdio::piped());
    // SAFETY: place() only makes async-signal-safe calls.
    unsafe {
        cmd.pre_exec(move || place(&[(lfd, 3), (wfd, 9)]));
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let pid: u32 = wait_file(&pidf).trim().parse().unwrap();
    let t = fd_table(pid);
    let fds: Vec<RawFd> = t.iter().map(|(fd, _)| *fd).collect();
    assert_eq!(fds, vec![0, 1, 2, 3, 4], "{:?}", t);
    assert_eq!(t[3].1, socket_inode(lfd), "fd 3 is the passed socket");
    assert_eq!(t[4].1, pidf.to_str().unwrap());
    drop(w);
    let mut buf = [0u8; 1];
    assert_eq!(nix::unistd::read(r.as_raw_fd(), &mut buf).unwrap(), 0);
    serves_client_library(&sock, pid);
    stays_idle(pid);
    kill_pid(pid);
    wait_gone(&pidf);
    assert!(is_socket(&sock), "the daemon removed systemd's socket");
}
