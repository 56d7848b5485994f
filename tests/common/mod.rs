//! Shared test helpers: run the real daemon binary on a private socket, read capture files.
#![allow(dead_code)]

pub mod craft;
pub mod host;
pub mod images;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// A private temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "lvmetad-rs-{}-{}-{}",
            tag,
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The bundled daemon binary, running in the foreground on a private socket.
pub struct DaemonProc {
    pub child: Child,
    pub socket: PathBuf,
    pub pidfile: PathBuf,
    pub dir: TempDir,
}

impl DaemonProc {
    pub fn start() -> DaemonProc {
        Self::start_with(&[], &[])
    }

    pub fn start_with(extra_args: &[&str], env: &[(&str, &str)]) -> DaemonProc {
        let dir = TempDir::new("d");
        let socket = dir.path().join("lvmetad.socket");
        let pidfile = dir.path().join("lvmetad.pid");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lvmetad"));
        cmd.arg("-f")
            .arg("-s")
            .arg(&socket)
            .arg("-p")
            .arg(&pidfile)
            .args(extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn lvmetad");
        let d = DaemonProc {
            child,
            socket,
            pidfile,
            dir,
        };
        d.wait_ready();
        d
    }

    pub fn wait_ready(&self) {
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(10) {
            if UnixStream::connect(&self.socket).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("daemon did not start on {}", self.socket.display());
    }

    pub fn connect(&self) -> UnixStream {
        UnixStream::connect(&self.socket).expect("connect")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM and wait; returns the exit status code.
    pub fn stop(mut self) -> Option<i32> {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let st = self.child.wait().ok()?;
        st.code()
    }
}

impl Drop for DaemonProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Wait until the daemon `pid` has at most `n` connection threads alive: a connection's
/// thread handles its close before it ends. The daemon's only other thread is its main
/// thread, so every other task counts; a thread's name would not do, as a new thread
/// names itself only once it runs.
pub fn wait_client_threads(pid: u32, n: usize) {
    let t0 = Instant::now();
    let main = pid.to_string();
    loop {
        let alive = std::fs::read_dir(format!("/proc/{}/task", pid))
            .unwrap()
            .filter_map(|t| t.ok())
            .filter(|t| t.file_name().to_str() != Some(main.as_str()))
            .count();
        if alive <= n {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "{} connection threads still alive",
            alive
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Send one framed message (body given without terminator) and read the reply body.
pub fn exchange(s: &mut UnixStream, body: &[u8]) -> Vec<u8> {
    let mut m = body.to_vec();
    m.extend_from_slice(b"\n##\n");
    s.write_all(&m).unwrap();
    read_reply(s).expect("reply")
}

/// Read one reply, terminator included in the returned bytes.
pub fn read_reply(s: &mut UnixStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.ends_with(b"\n##\n") {
            return Some(buf);
        }
    }
}

pub use lvmetad::protocol::capture::Event;

/// Parse a capture transcript (layout in tests/data/captures/README.md).
pub fn parse_capture(path: &Path) -> Vec<Event> {
    lvmetad::protocol::capture::parse(&std::fs::read(path).unwrap()).unwrap()
}
