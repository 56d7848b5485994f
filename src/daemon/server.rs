//! The daemon process: socket, pidfile lock, one thread per client, signals, idle exit.
//! Mirrors libdaemon's server (`daemon-server.c`) in LVM2 2.02.188.

use super::handler::Daemon;
use super::limits::{self, AcceptBackoff, Budget, Gate, Limits, Metered};
use super::log::Logger;
use crate::wire::{write_all, LibdaemonReader, WireError, DEFAULT_MAX_MESSAGE, TERMINATOR};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Exit status when the pidfile is locked by another instance.
pub const EXIT_ALREADYRUNNING: i32 = 13;

/// Compiled-in defaults, as a normal LVM2 build has them.
pub const DEFAULT_SOCKET: &str = "/run/lvm/lvmetad.socket";
pub const DEFAULT_PIDFILE: &str = "/run/lvmetad.pid";

/// Daemon options (the command line of `lvmetad`).
#[derive(Clone, Debug)]
pub struct Options {
    pub socket_path: PathBuf,
    pub pidfile: Option<PathBuf>,
    pub foreground: bool,
    pub log: Logger,
    /// Idle exit after this many idle rounds of a second (0 = never).
    pub idle_timeout: u32,
    /// Largest request accepted on a connection.
    pub max_request: usize,
    /// Caps on clients and buffered requests (src/daemon/limits.rs).
    pub limits: Limits,
    /// `--fast-takeover`: cancel an update when its connection closes before it ends.
    pub fast_takeover: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            socket_path: std::env::var_os("LVM_LVMETAD_SOCKET")
                .map(PathBuf::from)
                .unwrap_or_else(|| DEFAULT_SOCKET.into()),
            pidfile: Some(
                std::env::var_os("LVM_LVMETAD_PIDFILE")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| DEFAULT_PIDFILE.into()),
            ),
            foreground: false,
            log: Logger::quiet(),
            idle_timeout: 0,
            max_request: max_request_from_env(),
            limits: Limits::from_env(),
            fast_takeover: false,
        }
    }
}

/// `LVMETAD_RS_MAX_REQUEST` (bytes) overrides the request size limit.
pub fn max_request_from_env() -> usize {
    std::env::var("LVMETAD_RS_MAX_REQUEST")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_MAX_MESSAGE)
}

static SHUTDOWN: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    SHUTDOWN.store(true, Ordering::SeqCst);
}

fn install_signals() {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let act = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    let ign = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
    for s in [
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGTERM,
        Signal::SIGALRM,
    ] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            let _ = sigaction(s, &act);
        }
    }
    // SAFETY: ignoring a signal installs no handler code.
    unsafe {
        let _ = sigaction(Signal::SIGPIPE, &ign);
    }
}

/// Take the pidfile lock (`dm_create_lockfile`): a POSIX write lock, pid written.
fn create_lockfile(path: &Path) -> Result<File, String> {
    let f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        // never through a symbolic link (LVM follows one; docs/compat.md)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                return format!(
                    "Cannot open lockfile [{}]: it is a symbolic link, refusing to follow it",
                    path.display()
                );
            }
            format!(
                "Cannot open lockfile [{}], error was [{}]",
                path.display(),
                strerror(&e)
            )
        })?;
    let lock = libc::flock {
        l_type: libc::F_WRLCK as _,
        l_whence: libc::SEEK_SET as _,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    };
    let mut retries = 0;
    loop {
        // SAFETY: F_SETLK with a valid flock struct on an open fd.
        let r = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_SETLK, &lock) };
        if r == 0 {
            break;
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EACCES) | Some(libc::EAGAIN) if retries < 20 => {
                retries += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
            Some(libc::EACCES) | Some(libc::EAGAIN) => {
                return Err(format!(
                    "Cannot lock lockfile [{}], error was [{}]",
                    path.display(),
                    strerror(&e)
                ))
            }
            _ => return Err("process is already running".into()),
        }
    }
    f.set_len(0).map_err(|e| {
        let _ = std::fs::remove_file(path);
        format!(
            "Cannot truncate pidfile [{}], error was [{}]",
            path.display(),
            strerror(&e)
        )
    })?;
    use std::io::Write;
    (&f).write_all(format!("{}\n", std::process::id()).as_bytes())
        .map_err(|e| {
            let _ = std::fs::remove_file(path);
            format!(
                "Cannot write pid to pidfile [{}], error was [{}]",
                path.display(),
                strerror(&e)
            )
        })?;
    Ok(f)
}

/// C `strerror()` text for an error.
pub fn strerror(e: &io::Error) -> String {
    // std formats OS errors as "<strerror text> (os error N)"
    let t = e.to_string();
    match (e.raw_os_error(), t.rfind(" (os error ")) {
        (Some(_), Some(i)) => t[..i].to_string(),
        _ => t,
    }
}

/// Bind the listening socket (`_open_socket`), removing a stale socket file.
fn open_socket(path: &Path) -> Result<UnixListener, String> {
    eprintln!("[D] creating {}", path.display());
    if path.as_os_str().len() >= 108 {
        return Err(format!("{}: daemon socket path too long.", path.display()));
    }
    // SAFETY: umask only changes this process's file mode mask.
    let old = unsafe { libc::umask(0o077) };
    let r = (|| match UnixListener::bind(path) {
        Ok(l) => Ok(l),
        Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
            let md = std::fs::symlink_metadata(path)
                .map_err(|e| format!("stat failed: {}", strerror(&e)))?;
            if !md.file_type().is_socket() {
                return Err(format!("{}: not a socket", path.display()));
            }
            if md.uid() != nix::unistd::geteuid().as_raw() || md.mode() & 0o077 != 0 {
                return Err(format!("{}: unrecognised permissions", path.display()));
            }
            if UnixStream::connect(path).is_ok() {
                return Err(format!("Socket {} already in use", path.display()));
            }
            eprintln!("removing stale socket {}", path.display());
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("unlink failed: {}", strerror(&e))),
            }
            UnixListener::bind(path)
                .map_err(|e| format!("local socket bind failed after unlink: {}", strerror(&e)))
        }
        Err(e) => Err(format!("can't bind local socket: {}", strerror(&e))),
    })();
    // SAFETY: restores the previous mask.
    unsafe {
        libc::umask(old);
    }
    let l = r?;
    l.set_nonblocking(true)
        .map_err(|e| format!("setting O_NONBLOCK failed: {}", strerror(&e)))?;
    Ok(l)
}

/// Fork; the parent waits for the child to be ready (SIGTERM from it) or to exit, and
/// then exits, saying why a child that failed did (libdaemon's `_daemonise`).
fn daemonise(pidfile: Option<&Path>) -> Result<(), i32> {
    use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
    use nix::unistd::{fork, ForkResult};
    install_signals();
    // SAFETY: called before any thread is started, so the child is a full copy.
    match unsafe { fork() } {
        Err(e) => {
            eprintln!("fork failed:: {}", e);
            Err(1)
        }
        Ok(ForkResult::Parent { child }) => loop {
            if SHUTDOWN.load(Ordering::SeqCst) {
                std::process::exit(0);
            }
            match waitpid(child, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(_, code)) => {
                    // the child's own messages went to /dev/null
                    match (code, pidfile) {
                        (EXIT_ALREADYRUNNING, Some(p)) => eprintln!(
                            "Failed to acquire lock on {}. Already running?",
                            p.display()
                        ),
                        _ => eprintln!("Child exited with code {}", code),
                    }
                    std::process::exit(code);
                }
                Ok(WaitStatus::Signaled(..)) => std::process::exit(1),
                _ => std::thread::sleep(Duration::from_millis(250)),
            }
        },
        Ok(ForkResult::Child) => {
            let _ = std::env::set_current_dir("/");
            if let Ok(null) = OpenOptions::new().read(true).write(true).open("/dev/null") {
                for fd in 0..3 {
                    let _ = nix::unistd::dup2(null.as_raw_fd(), fd);
                }
            }
            let _ = nix::unistd::setsid();
            Ok(())
        }
    }
}

/// Serve one connection until the peer goes away. The request and reply buffers are
/// kept between messages, unless a message made them larger than
/// [`limits::KEEP_BUFFER`]; what a request holds counts towards `budget`.
fn client_thread(daemon: Arc<Daemon>, conn: u64, stream: UnixStream, max: usize, budget: &Budget) {
    // However the thread ends, even by a panic outside a request's handling, the
    // daemon hears that the connection closed (the fast takeover depends on it).
    struct Closed<'a>(&'a Daemon, u64);
    impl Drop for Closed<'_> {
        fn drop(&mut self) {
            self.0.connection_closed(self.1);
        }
    }
    let _closed = Closed(&daemon, conn);
    let mut reader = LibdaemonReader::new();
    let mut reply = Vec::with_capacity(1024);
    let mut metered = Metered::new(&stream, budget);
    loop {
        let body = match reader.read(&mut metered, max) {
            Ok(body) => body,
            Err(WireError::TooLarge(n)) => {
                daemon.log_error(&format!(
                    "request exceeds {} bytes without a terminator; closing the connection",
                    n
                ));
                break;
            }
            Err(WireError::Io(e)) if Metered::is_over_budget(&e) => {
                daemon.log_error(&format!(
                    "requests being read exceed {} bytes in total; closing the connection",
                    budget.max()
                ));
                break;
            }
            Err(_) => break,
        };
        // A bug must not take the daemon down: answer this request as failed.
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            daemon.handle_on(conn, body, &mut reply)
        }))
        .is_err()
        {
            daemon.log_error("internal error while handling a request");
            reply.clear();
            reply.extend_from_slice(b"response = \"failed\"\nreason = \"internal error\"\n");
        }
        reply.extend_from_slice(TERMINATOR);
        // Like libdaemon, a failed reply write is ignored; the next read ends the thread.
        let _ = write_all(&mut &stream, &reply);
        metered.settle();
        reader.shrink(limits::KEEP_BUFFER);
        if reply.capacity() > limits::KEEP_BUFFER {
            reply = Vec::with_capacity(1024);
        }
    }
}

/// Run the daemon with `opts`; returns the process exit status.
pub fn run(mut opts: Options) -> i32 {
    std::env::set_var("LC_ALL", "C");
    // socket activation and descriptor hygiene: src/daemon/activation.rs
    let mut activated = super::activation::systemd_handover(&opts.socket_path);
    let systemd_socket = activated.is_some();
    if !opts.foreground {
        if let Err(code) = daemonise(opts.pidfile.as_deref()) {
            return code;
        }
        super::activation::close_inherited_fds(systemd_socket);
    }
    opts.log = opts.log.with_syslog();
    let _lock = match &opts.pidfile {
        Some(p) => match create_lockfile(p) {
            Ok(f) => Some(f),
            Err(msg) => {
                eprintln!("{}", msg);
                eprintln!(
                    "Failed to acquire lock on {}. Already running?",
                    p.display()
                );
                opts.log.to_syslog(
                    super::log::Level::Error,
                    &format!(
                        "Failed to acquire lock on {}. Already running?\n",
                        p.display()
                    ),
                );
                return EXIT_ALREADYRUNNING;
            }
        },
        None => None,
    };
    install_signals();
    let listener = match activated
        .take()
        .map_or_else(|| open_socket(&opts.socket_path), Ok)
    {
        Ok(l) => l,
        Err(msg) => {
            eprintln!("{}", msg);
            if let Some(p) = &opts.pidfile {
                let _ = std::fs::remove_file(p);
            }
            return 1;
        }
    };
    if !opts.foreground {
        let _ = nix::sys::signal::kill(nix::unistd::getppid(), nix::sys::signal::Signal::SIGTERM);
    }
    let daemon = Arc::new(Daemon::new(opts.log).with_fast_takeover(opts.fast_takeover));
    let active = Arc::new(AtomicUsize::new(0));
    let lim = &opts.limits;
    limits::raise_nofile(lim);
    let gate = Arc::new(Gate::default());
    let budget = Arc::new(Budget::new(lim.max_buffered));
    let mut backoff = AcceptBackoff::default();
    let mut threads: Vec<std::thread::JoinHandle<()>> = Vec::new();
    let mut idle_rounds = 0u32;
    // connection numbers for the fast takeover (Daemon::handle_on); 0 is none
    let mut next_conn = 0u64;
    let accept_once = super::activation::is_blocking(&listener);
    loop {
        threads.retain(|t| !t.is_finished());
        if SHUTDOWN.load(Ordering::SeqCst) && active.load(Ordering::SeqCst) == 0 {
            opts.log.info("lvmetad shutdown requested");
            break;
        }
        // at the cap, the next clients wait in the listen backlog until one goes
        let gone = gate.gone();
        if !lim.refuse_excess && active.load(Ordering::SeqCst) >= lim.max_connections {
            gate.wait(gone, Duration::from_secs(1));
            continue;
        }
        let ready = {
            use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
            let mut fds = [PollFd::new(
                std::os::fd::AsFd::as_fd(&listener),
                PollFlags::POLLIN,
            )];
            matches!(poll(&mut fds, PollTimeout::from(1000u16)), Ok(n) if n > 0)
        };
        let mut wait = None;
        if ready && !SHUTDOWN.load(Ordering::SeqCst) {
            loop {
                let at_cap = active.load(Ordering::SeqCst) >= lim.max_connections;
                if at_cap && !lim.refuse_excess {
                    break;
                }
                match listener.accept() {
                    Ok((stream, _)) if at_cap => {
                        backoff.succeeded(&opts.log);
                        opts.log.error(&format!(
                            "Refusing connection: {} clients already connected.",
                            lim.max_connections
                        ));
                        drop(stream);
                    }
                    Ok((stream, _)) => {
                        backoff.succeeded(&opts.log);
                        idle_rounds = 0;
                        let _ = stream.set_nonblocking(false);
                        let d = Arc::clone(&daemon);
                        let a = Arc::clone(&active);
                        let max = opts.max_request;
                        let (g, b) = (Arc::clone(&gate), Arc::clone(&budget));
                        a.fetch_add(1, Ordering::SeqCst);
                        next_conn += 1;
                        let conn = next_conn;
                        let spawned = std::thread::Builder::new()
                            .name("lvmetad-client".into())
                            .stack_size(256 << 10)
                            .spawn(move || {
                                struct Done(Arc<AtomicUsize>, Arc<Gate>);
                                impl Drop for Done {
                                    fn drop(&mut self) {
                                        self.0.fetch_sub(1, Ordering::SeqCst);
                                        self.1.notify();
                                    }
                                }
                                let _done = Done(a, g);
                                client_thread(d, conn, stream, max, &b);
                            });
                        match spawned {
                            Ok(h) => threads.push(h),
                            Err(e) => {
                                active.fetch_sub(1, Ordering::SeqCst);
                                opts.log
                                    .error(&format!("Failed to create client thread: {}.", e));
                            }
                        }
                        if accept_once {
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    // out of descriptors or memory: say so once, wait for a client to
                    // go (or a growing delay) rather than try again at once
                    Err(e) if AcceptBackoff::is_exhaustion(&e) => {
                        // (Linux takes the descriptor before it looks for a client:
                        // with none waiting this is not a failure)
                        if limits::pending(&listener) {
                            wait = Some(backoff.failed(&opts.log, &e));
                        }
                        break;
                    }
                    Err(e) => {
                        opts.log
                            .error(&format!("Failed to accept connection: {}.", strerror(&e)));
                        break;
                    }
                }
            }
        }
        if let Some(d) = wait {
            gate.wait(gone, d);
        }
        threads.retain(|t| !t.is_finished());
        if opts.idle_timeout > 0 && active.load(Ordering::SeqCst) == 0 {
            idle_rounds += 1;
            if idle_rounds >= opts.idle_timeout {
                opts.log
                    .info(&format!("Inactive for {} seconds. Exiting.", idle_rounds));
                break;
            }
        }
    }
    opts.log
        .info("lvmetad waiting for client threads to finish");
    for t in threads {
        let _ = t.join();
    }
    if systemd_socket {
        // systemd owns a socket it passed: never unlink it
    } else if let Err(e) = std::fs::remove_file(&opts.socket_path) {
        eprintln!("unlink error: {}", strerror(&e));
    }
    opts.log.info("lvmetad shutting down");
    if let Some(p) = &opts.pidfile {
        if let Err(e) = std::fs::remove_file(p) {
            eprintln!("unlink failed: {}", strerror(&e));
        }
    }
    0
}
