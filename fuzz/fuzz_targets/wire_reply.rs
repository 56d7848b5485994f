//! The client's side of the wire on arbitrary bytes from the "socket": libdaemon framing
//! (`read_message`, and the daemon's `LibdaemonReader` / `read_message_libdaemon` on the
//! same stream), then each reply parsed into a `wire::Reply` as `Connection::exchange`
//! does and checked by `Client::handle_reply` and the field reads the client makes.
//!
//! The stream arrives in pieces chosen by the input (split and merged messages, EINTR
//! and EAGAIN in between), from an in-memory reader. Input layout: byte 0 = number of
//! piece-size bytes (low 4 bits), a small size limit (bit 7), whether our token is
//! "update in progress" (bit 6); then the piece sizes; the rest is the stream.
//! Run with `-max_len=4096` or so: large replies are `config_parse`'s business.
//!
//! Checked: never a panic; every message returned is the next piece of the stream
//! followed by the terminator; `handle_reply` accepts exactly what LVM accepts (no
//! error and `response = "OK"`, or `unknown`/`multiple` when a lookup asks).
#![no_main]
use libfuzzer_sys::fuzz_target;
use lvmetad::client::Client;
use lvmetad::host::native::NativeHost;
use lvmetad::protocol::Request;
use lvmetad::protocol::TOKEN_UPDATE_IN_PROGRESS;
use lvmetad::wire::{read_message, read_message_libdaemon, LibdaemonReader, Reply, TERMINATOR};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::{Arc, OnceLock};

/// Any descriptor that is always readable: the readers poll it after EAGAIN/EIO.
fn dev_null() -> &'static File {
    static F: OnceLock<File> = OnceLock::new();
    F.get_or_init(|| File::open("/dev/null").expect("/dev/null"))
}

/// The stream in pieces: size byte 0 = EINTR, 1 = EAGAIN (never twice in a row, so
/// the stream always moves on), 255 = everything left, otherwise at most that many
/// bytes.
struct Pieces<'a> {
    data: &'a [u8],
    pos: usize,
    sizes: &'a [u8],
    k: usize,
    last_err: bool,
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let s = if self.sizes.is_empty() {
            255
        } else {
            self.sizes[self.k % self.sizes.len()]
        };
        self.k += 1;
        let s = if self.last_err { s.max(2) } else { s };
        self.last_err = s < 2;
        match s {
            0 => return Err(io::ErrorKind::Interrupted.into()),
            1 => return Err(io::ErrorKind::WouldBlock.into()),
            _ => {}
        }
        let left = self.data.len() - self.pos;
        let n = if s == 255 { left } else { left.min(s as usize) }.min(buf.len());
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl AsFd for Pieces<'_> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        dev_null().as_fd()
    }
}

/// A lookup, a request that modifies the cache, and one handle_reply does not know.
const IDS: &[Request] = &[Request::VgLookup, Request::PvFound, Request::GetGlobalInfo];

thread_local! {
    /// Two clients, one of them holding the "update in progress" token.
    static CLIENTS: [Client; 2] = [false, true].map(|in_update| {
        let host = NativeHost::default().with_sink(Box::new(|_, _| {}));
        let mut c = Client::new(Arc::new(host));
        if in_update {
            c.replace_token(Some(TOKEN_UPDATE_IN_PROGRESS.to_string()));
        }
        c
    });
}

fn check_reply(client: &Client, reply: &Reply) {
    for k in [
        "response",
        "reason",
        "token",
        "expected",
        "prev_token",
        "disable_reason",
        "protocol",
    ] {
        let _ = reply.str(k);
    }
    for k in [
        "update_pid",
        "daemon_pid",
        "global_disable",
        "seqno_after",
        "seqno_before",
        "version",
    ] {
        let _ = reply.int(k);
    }
    for id in IDS {
        let accepted = reply.error == 0 && reply.response() == "OK";
        assert_eq!(client.handle_reply(reply, *id, "obj", None), accepted);
        let mut found = -1;
        let ok = client.handle_reply(reply, *id, "", Some(&mut found));
        let expect = match (reply.error, reply.response()) {
            (0, "OK") => Some(1),
            (0, "unknown") => Some(0),
            (0, "multiple") => Some(2),
            _ => None,
        };
        assert_eq!(ok, expect.is_some());
        assert_eq!(found, expect.unwrap_or(-1));
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&b0, rest)) = data.split_first() else {
        return;
    };
    let nsizes = ((b0 & 0x0f) as usize).min(rest.len());
    let (sizes, stream) = rest.split_at(nsizes);
    let max = if b0 & 0x80 != 0 { 256 } else { usize::MAX };

    let in_update = usize::from(b0 & 0x40 != 0);

    // the client: read_message, then parse as exchange() does
    let mut r = Pieces {
        data: stream,
        pos: 0,
        sizes,
        k: 0,
        last_err: false,
    };
    let mut buf = Vec::new();
    let mut at = 0;
    for _ in 0..16 {
        let res = read_message(&mut r, &mut buf, max);
        if res.is_ok() {
            assert_eq!(&stream[at..at + buf.len()], &buf[..]);
            assert_eq!(&stream[at + buf.len()..r.pos], TERMINATOR);
            at = r.pos;
        }
        let failed = res.is_err();
        let reply = Reply::from_read(res, buf.clone());
        CLIENTS.with(|c| check_reply(&c[in_update], &reply));
        // the handshake's reading of it (wire::Connection)
        let _ = (
            reply.str("response"),
            reply.str("protocol"),
            reply.int("version"),
        );
        if failed {
            break;
        }
    }

    // the daemon's reads of the same stream, with libdaemon's read sizes
    for reuse in [true, false] {
        let mut r = Pieces {
            data: stream,
            pos: 0,
            sizes,
            k: 0,
            last_err: false,
        };
        let mut reader = LibdaemonReader::new();
        let mut at = 0;
        for _ in 0..16 {
            let msg = if reuse {
                reader.read(&mut r, max).map(|m| m.to_vec())
            } else {
                read_message_libdaemon(&mut r, &mut buf, max).map(|()| buf.clone())
            };
            match msg {
                Ok(m) => {
                    assert_eq!(&stream[at..at + m.len()], &m[..]);
                    assert_eq!(&stream[at + m.len()..r.pos], TERMINATOR);
                    at = r.pos;
                }
                Err(e) => {
                    let _ = e.errno();
                    break;
                }
            }
        }
    }
});
