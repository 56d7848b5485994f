//! libdaemon's transport: messages framed by `"\n##\n"` over a UNIX stream socket,
//! read and write loops that survive EINTR/EAGAIN and short reads and writes, and a
//! client connection with the `hello` handshake.

use crate::config::{find_int, find_str_allow_empty, parse, Node, ParseError};
use std::fmt;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::path::Path;

/// The message terminator.
pub const TERMINATOR: &[u8] = b"\n##\n";

/// Default limit on one incoming message (a deliberate addition: libdaemon has none).
pub const DEFAULT_MAX_MESSAGE: usize = 128 << 20;

/// Why a message could not be read, written or understood.
#[derive(Debug)]
pub enum WireError {
    /// An I/O error (errno).
    Io(io::Error),
    /// End of file before a complete message (libdaemon reports ECONNRESET).
    Eof,
    /// The peer sent more than the limit without a terminator.
    TooLarge(usize),
    /// The reply body does not parse (libdaemon reports EPROTO).
    Parse(ParseError),
}

impl WireError {
    /// The errno libdaemon's client would put in `reply.error`.
    pub fn errno(&self) -> i32 {
        match self {
            WireError::Io(e) => e.raw_os_error().unwrap_or(libc::EIO),
            WireError::Eof => libc::ECONNRESET,
            WireError::TooLarge(_) => libc::EMSGSIZE,
            WireError::Parse(_) => libc::EPROTO,
        }
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Io(e) => write!(f, "{}", e),
            WireError::Eof => write!(f, "connection closed before a complete message"),
            WireError::TooLarge(n) => write!(f, "message exceeds the {} byte limit", n),
            WireError::Parse(e) => write!(f, "{}", e),
        }
    }
}

impl std::error::Error for WireError {}

impl From<io::Error> for WireError {
    fn from(e: io::Error) -> Self {
        WireError::Io(e)
    }
}

fn wait_fd<F: AsFd>(fd: &F, write: bool) {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let flags = if write {
        PollFlags::POLLOUT
    } else {
        PollFlags::POLLIN
    };
    let mut fds = [PollFd::new(fd.as_fd(), flags)];
    let _ = poll(&mut fds, PollTimeout::NONE);
}

/// Size of the reads of [`read_message`].
const CHUNK: usize = 16384;

thread_local! {
    /// The read buffer of [`read_message`], zeroed once per thread rather than for
    /// every message.
    static READ_CHUNK: std::cell::RefCell<Box<[u8]>> =
        std::cell::RefCell::new(vec![0; CHUNK].into_boxed_slice());
}

/// Read one message into `buf` (cleared first); the terminator is removed.
///
/// As in libdaemon, the terminator is only recognised at the end of the data read so
/// far. EINTR, EAGAIN and EIO wait for readability and retry; EOF is [`WireError::Eof`].
pub fn read_message<R: Read + AsFd>(
    r: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> Result<(), WireError> {
    buf.clear();
    READ_CHUNK.with_borrow_mut(|chunk| loop {
        match r.read(chunk) {
            Ok(0) => return Err(WireError::Eof),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.ends_with(TERMINATOR) {
                    buf.truncate(buf.len() - TERMINATOR.len());
                    return Ok(());
                }
                if buf.len() > max {
                    return Err(WireError::TooLarge(max));
                }
            }
            Err(e)
                if e.kind() == io::ErrorKind::Interrupted
                    || e.kind() == io::ErrorKind::WouldBlock
                    || e.raw_os_error() == Some(libc::EIO) =>
            {
                if e.kind() != io::ErrorKind::Interrupted {
                    wait_fd(r, false);
                }
            }
            Err(e) => return Err(WireError::Io(e)),
        }
    })
}

/// Reads messages from one peer with libdaemon's exact read sizes (`buffer_read()`):
/// a first read of at most 32 bytes, then reads filling a buffer that grows by
/// max(capacity, 1024) whenever fewer than 32 bytes are free. The terminator is only
/// recognised at the end of the data read so far, so when a peer pipelines two messages
/// the split (or merge) falls where the C daemon's does. Used by the daemon, one per
/// connection: its buffer is kept (and so zeroed only when it grows) between messages.
#[derive(Debug, Default)]
pub struct LibdaemonReader {
    buf: Vec<u8>,
}

impl LibdaemonReader {
    pub fn new() -> LibdaemonReader {
        LibdaemonReader::default()
    }

    /// Read one message; returns its body (terminator removed).
    pub fn read<R: Read + AsFd>(&mut self, r: &mut R, max: usize) -> Result<&[u8], WireError> {
        let n = read_libdaemon(r, &mut self.buf, max)?;
        Ok(&self.buf[..n])
    }

    /// Free the buffer if a message made it larger than `keep` bytes.
    pub fn shrink(&mut self, keep: usize) {
        if self.buf.len() > keep {
            self.buf = Vec::new();
        }
    }
}

/// Read one message with libdaemon's read sizes (see [`LibdaemonReader`]) into `buf`
/// (cleared first); the terminator is removed.
pub fn read_message_libdaemon<R: Read + AsFd>(
    r: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> Result<(), WireError> {
    buf.clear();
    let n = read_libdaemon(r, buf, max);
    buf.truncate(*n.as_ref().unwrap_or(&0));
    n.map(|_| ())
}

/// The message goes to `buf[..n]`, `n` returned. `buf.len()` is how much of it is
/// initialized: it only ever grows, so reading a message zeroes nothing already zeroed.
fn read_libdaemon<R: Read + AsFd>(
    r: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> Result<usize, WireError> {
    let mut allocated: usize = 32;
    let mut used = 0usize;
    loop {
        if buf.len() < allocated {
            buf.resize(allocated, 0);
        }
        match r.read(&mut buf[used..allocated]) {
            Ok(0) => return Err(WireError::Eof),
            Ok(n) => {
                used += n;
                if used >= 4 && &buf[used - 4..used] == TERMINATOR {
                    return Ok(used - 4);
                }
                if used > max {
                    return Err(WireError::TooLarge(max));
                }
                if allocated - used < 32 {
                    allocated += allocated.max(1024);
                }
            }
            Err(e)
                if e.kind() == io::ErrorKind::Interrupted
                    || e.kind() == io::ErrorKind::WouldBlock
                    || e.raw_os_error() == Some(libc::EIO) =>
            {
                if e.kind() != io::ErrorKind::Interrupted {
                    wait_fd(r, false);
                }
            }
            Err(e) => return Err(WireError::Io(e)),
        }
    }
}

/// Write `body` followed by the terminator, completing short writes and retrying
/// EINTR/EAGAIN/EIO after waiting for writability.
pub fn write_message<W: Write + AsFd>(w: &mut W, body: &[u8]) -> Result<(), WireError> {
    write_all(w, body)?;
    write_all(w, TERMINATOR)
}

/// Write a buffer that already ends with the terminator.
pub fn write_all<W: Write + AsFd>(w: &mut W, mut data: &[u8]) -> Result<(), WireError> {
    while !data.is_empty() {
        match w.write(data) {
            Ok(n) => data = &data[n..],
            Err(e)
                if e.kind() == io::ErrorKind::Interrupted
                    || e.kind() == io::ErrorKind::WouldBlock
                    || e.raw_os_error() == Some(libc::EIO) =>
            {
                if e.kind() != io::ErrorKind::Interrupted {
                    wait_fd(w, true);
                }
            }
            Err(e) => return Err(WireError::Io(e)),
        }
    }
    Ok(())
}

/// libdaemon's `daemon_reply`: the errno of the exchange (0 when it succeeded), the body
/// as received (terminator removed) and its tree (None when it did not parse: EPROTO).
#[derive(Debug, Default, Clone)]
pub struct Reply {
    pub error: i32,
    pub body: Vec<u8>,
    pub tree: Option<Vec<Node>>,
}

impl Reply {
    /// A reply that never arrived: only an errno.
    pub fn from_error(error: i32) -> Reply {
        Reply {
            error,
            ..Default::default()
        }
    }

    /// The reply of a read as `daemon_send` makes it: the read's errno, else the parsed
    /// body, or EPROTO with the body kept when it does not parse.
    pub fn from_read(read: Result<(), WireError>, body: Vec<u8>) -> Reply {
        match read {
            Err(e) => Reply::from_error(e.errno()),
            Ok(()) => match parse(&body) {
                Ok(t) => Reply {
                    error: 0,
                    body,
                    tree: Some(t),
                },
                Err(_) => Reply {
                    error: libc::EPROTO,
                    body,
                    tree: None,
                },
            },
        }
    }

    /// `daemon_reply_str()` (empty strings allowed); absent without a tree or when not
    /// UTF-8.
    pub fn str(&self, path: &str) -> Option<&str> {
        self.bytes(path).and_then(|s| std::str::from_utf8(s).ok())
    }

    /// A string field's bytes.
    pub fn bytes(&self, path: &str) -> Option<&[u8]> {
        self.tree
            .as_ref()
            .and_then(|t| find_str_allow_empty(t, path))
    }

    pub fn int(&self, path: &str) -> Option<i64> {
        self.tree.as_ref().and_then(|t| find_int(t, path))
    }

    /// The `response` field, empty when missing.
    pub fn response(&self) -> &str {
        self.str("response").unwrap_or("")
    }
}

/// Why opening a daemon connection failed (`daemon_open`'s failure points).
#[derive(Debug)]
pub enum OpenError {
    /// The path does not fit `sun_path`.
    PathTooLong,
    /// `connect()` failed with this errno.
    Connect(i32),
    /// The `hello` exchange failed (errno, 0 for a non-OK response).
    Hello(i32),
    /// The daemon speaks another protocol (the name it gave).
    Protocol(String),
    /// The daemon speaks another version of the protocol.
    Version(i64),
}

impl OpenError {
    /// The errno a caller keeps as the handle's error (`daemon_handle.error`).
    pub fn errno(&self) -> i32 {
        match self {
            OpenError::Connect(e) | OpenError::Hello(e) => *e,
            _ => 0,
        }
    }
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::PathTooLong => write!(f, "Daemon socket path too long"),
            OpenError::Connect(e) => write!(f, "connect failed: {}", strerror(*e)),
            OpenError::Hello(e) => write!(f, "hello failed (error {})", e),
            OpenError::Protocol(p) => write!(f, "incorrect protocol {}", p),
            OpenError::Version(v) => write!(f, "incorrect protocol version {}", v),
        }
    }
}

impl std::error::Error for OpenError {}

/// `strerror()` text of an errno, without Rust's " (os error N)".
pub fn strerror(e: i32) -> String {
    let t = io::Error::from_raw_os_error(e).to_string();
    match t.rfind(" (os error ") {
        Some(i) => t[..i].to_string(),
        None => t,
    }
}

/// A client connection to a libdaemon server: the one connection implementation, used
/// by the lvmetad client (which adds LVM's messages), lvmetactl and the replay tool.
pub struct Connection {
    stream: UnixStream,
    buf: Vec<u8>,
}

impl Connection {
    /// Connect without the handshake.
    pub fn connect(path: &Path) -> Result<Connection, OpenError> {
        if path.as_os_str().len() >= 108 {
            return Err(OpenError::PathTooLong);
        }
        let stream = UnixStream::connect(path)
            .map_err(|e| OpenError::Connect(e.raw_os_error().unwrap_or(libc::EIO)))?;
        Ok(Connection {
            stream,
            buf: Vec::new(),
        })
    }

    /// The `hello` handshake for `protocol` version `version`.
    pub fn handshake(&mut self, protocol: &str, version: i64) -> Result<(), OpenError> {
        let r = self.exchange(b"request = \"hello\"\n");
        if r.error != 0 || r.str("response").unwrap_or("unknown") != "OK" {
            return Err(OpenError::Hello(r.error));
        }
        let proto = r.str("protocol");
        if proto != Some(protocol) {
            return Err(OpenError::Protocol(proto.unwrap_or("").to_string()));
        }
        let v = r.int("version").unwrap_or(0);
        if v != version {
            return Err(OpenError::Version(v));
        }
        Ok(())
    }

    /// Connect and perform the handshake.
    pub fn open(path: &Path, protocol: &str, version: i64) -> Result<Connection, OpenError> {
        let mut c = Connection::connect(path)?;
        c.handshake(protocol, version)?;
        Ok(c)
    }

    pub fn stream(&self) -> &UnixStream {
        &self.stream
    }

    /// `daemon_send`: write the body and the terminator (a failed write is recorded),
    /// then read and parse the reply regardless.
    pub fn exchange(&mut self, body: &[u8]) -> Reply {
        let mut out = Vec::with_capacity(body.len() + TERMINATOR.len());
        out.extend_from_slice(body);
        out.extend_from_slice(TERMINATOR);
        let written = write_all(&mut self.stream, &out);
        let mut buf = std::mem::take(&mut self.buf);
        let read = read_message(&mut self.stream, &mut buf, usize::MAX);
        let body = buf.clone();
        self.buf = buf;
        let mut reply = Reply::from_read(read, body);
        // a failed write is the error only when the read itself went through
        if let (Err(e), 0) = (written, reply.error) {
            reply.error = e.errno();
        }
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(miri, ignore)] // sockets
    fn framing_roundtrip_and_eof() {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        write_message(&mut a, b"x = 1\n").unwrap();
        let mut buf = Vec::new();
        read_message(&mut b, &mut buf, 1000).unwrap();
        assert_eq!(buf, b"x = 1\n");
        a.write_all(b"partial").unwrap();
        drop(a);
        let e = read_message(&mut b, &mut buf, 1000).unwrap_err();
        assert_eq!(e.errno(), libc::ECONNRESET);
    }

    #[test]
    #[cfg_attr(miri, ignore)] // sockets
    fn libdaemon_read_schedule_splits_pipelined_messages_like_c() {
        // the first message is exactly 32 bytes: the C daemon's first read ends on its
        // terminator, so the two are handled separately
        let (mut a, mut b) = UnixStream::pair().unwrap();
        a.write_all(b"request= \"vg_list\"\ntoken=\"sk\n##\nrequest = \"pv_list\"\n\n##\n")
            .unwrap();
        let mut buf = Vec::new();
        read_message_libdaemon(&mut b, &mut buf, 1 << 20).unwrap();
        assert_eq!(buf, b"request= \"vg_list\"\ntoken=\"sk");
        read_message_libdaemon(&mut b, &mut buf, 1 << 20).unwrap();
        assert_eq!(buf, b"request = \"pv_list\"\n");
        // otherwise they merge (the terminator is only looked for at the end)
        a.write_all(b"x=1\n##\ny=2\n\n##\n").unwrap();
        read_message_libdaemon(&mut b, &mut buf, 1 << 20).unwrap();
        assert_eq!(buf, b"x=1\n##\ny=2\n");
        // the same with a reader kept between messages (its buffer is reused)
        let mut reader = LibdaemonReader::new();
        a.write_all(b"request= \"vg_list\"\ntoken=\"sk\n##\nrequest = \"pv_list\"\n\n##\n")
            .unwrap();
        assert_eq!(
            reader.read(&mut b, 1 << 20).unwrap(),
            b"request= \"vg_list\"\ntoken=\"sk"
        );
        assert_eq!(
            reader.read(&mut b, 1 << 20).unwrap(),
            b"request = \"pv_list\"\n"
        );
        let big = vec![b'x'; 5000];
        a.write_all(&big).unwrap();
        a.write_all(TERMINATOR).unwrap();
        assert_eq!(reader.read(&mut b, 1 << 20).unwrap(), &big[..]);
        a.write_all(b"y=1\n##\n").unwrap();
        assert_eq!(reader.read(&mut b, 1 << 20).unwrap(), b"y=1");
        drop(a);
        assert_eq!(
            reader.read(&mut b, 1 << 20).unwrap_err().errno(),
            libc::ECONNRESET
        );
    }

    #[test]
    #[cfg_attr(miri, ignore)] // sockets
    fn size_limit() {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let t = std::thread::spawn(move || {
            let _ = a.write_all(&vec![b'a'; 5000]);
        });
        let mut buf = Vec::new();
        assert!(matches!(
            read_message(&mut b, &mut buf, 1000),
            Err(WireError::TooLarge(1000))
        ));
        drop(b);
        t.join().unwrap();
    }

    #[test]
    #[cfg_attr(miri, ignore)] // sockets
    fn terminator_split_across_reads() {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let t = std::thread::spawn(move || {
            for piece in [&b"a=1\n#"[..], b"#", b"\n"] {
                a.write_all(piece).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        });
        let mut buf = Vec::new();
        read_message(&mut b, &mut buf, 1000).unwrap();
        assert_eq!(buf, b"a=1");
        t.join().unwrap();
    }

    /// A stream arriving in pieces of the given sizes (0: EINTR), as writes arrive on
    /// a socket: a read never crosses into the next piece. No sockets, so this runs
    /// under Miri too. It has no descriptor: the readers only poll after EAGAIN, which
    /// it never reports.
    struct Pieces<'a> {
        data: &'a [u8],
        sizes: &'a [usize],
        k: usize,
        left: usize,
    }

    impl<'a> Pieces<'a> {
        fn new(data: &'a [u8], sizes: &'a [usize]) -> Pieces<'a> {
            Pieces {
                data,
                sizes,
                k: 0,
                left: 0,
            }
        }
    }

    impl Read for Pieces<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.left == 0 {
                self.left = self.sizes[self.k % self.sizes.len()];
                self.k += 1;
                if self.left == 0 {
                    return Err(io::ErrorKind::Interrupted.into());
                }
            }
            let n = self.left.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            self.left -= n;
            Ok(n)
        }
    }

    impl AsFd for Pieces<'_> {
        fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
            unreachable!("never polled")
        }
    }

    #[test]
    fn framing_in_pieces_without_sockets() {
        let stream = [
            &b"a=1"[..],
            TERMINATOR,
            b"request = \"pv_list\"",
            TERMINATOR,
            TERMINATOR,
            b"x=2",
        ]
        .concat();
        // the client's reader: a message ends where a read ends with the terminator
        let mut r = Pieces::new(&stream, &[3, 0, 2, 2, 10, 13, 4, 3]);
        let mut buf = Vec::new();
        read_message(&mut r, &mut buf, 1000).unwrap();
        assert_eq!(buf, b"a=1");
        read_message(&mut r, &mut buf, 1000).unwrap();
        assert_eq!(buf, b"request = \"pv_list\"");
        read_message(&mut r, &mut buf, 1000).unwrap();
        assert_eq!(buf, b"");
        let e = read_message(&mut r, &mut buf, 1000).unwrap_err();
        assert_eq!(e.errno(), libc::ECONNRESET);
        // all in one piece: the terminators in the middle are data
        let mut r = Pieces::new(&stream[..stream.len() - 3], &[usize::MAX]);
        read_message(&mut r, &mut buf, 1000).unwrap();
        assert_eq!(buf, &stream[..stream.len() - 7]);

        // the daemon's reads: 32 bytes first, then a growing buffer, kept between
        // messages
        let long = [&[b'y'; 3000][..], TERMINATOR, b"z=1", TERMINATOR].concat();
        let mut r = Pieces::new(&long, &[3004, 0, 7]);
        let mut reader = LibdaemonReader::new();
        assert_eq!(reader.read(&mut r, 1 << 20).unwrap(), &[b'y'; 3000][..]);
        assert_eq!(reader.read(&mut r, 1 << 20).unwrap(), b"z=1");
        assert_eq!(
            reader.read(&mut r, 1 << 20).unwrap_err().errno(),
            libc::ECONNRESET
        );
        let mut r = Pieces::new(&long, &[5]);
        assert!(matches!(
            read_message_libdaemon(&mut r, &mut buf, 100),
            Err(WireError::TooLarge(100))
        ));
    }
}
