//! Reader for the protocol transcripts in `tests/data/captures` (layout in that folder's
//! README): `--- conn=N opened|closed` lines and `=== k request|reply conn=c step=s bytes=N`
//! headers each followed by exactly N message bytes and one newline.

use super::Request;
use std::fmt;

/// One event of a transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Open(u32),
    Close(u32),
    Request {
        conn: u32,
        step: u32,
        bytes: Vec<u8>,
    },
    Reply {
        conn: u32,
        step: u32,
        bytes: Vec<u8>,
    },
}

/// A malformed transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureError(pub String);

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad capture: {}", self.0)
    }
}

impl std::error::Error for CaptureError {}

/// Parse a transcript. The `#` comment header before the first `--- conn=` is skipped.
pub fn parse(data: &[u8]) -> Result<Vec<Event>, CaptureError> {
    let err = |m: &str| CaptureError(m.to_string());
    let start = if data.starts_with(b"--- conn=") {
        0
    } else {
        data.windows(10)
            .position(|w| w == b"\n--- conn=")
            .ok_or_else(|| err("no connection"))?
            + 1
    };
    let mut i = start;
    let mut out = Vec::new();
    while i < data.len() {
        let eol = i + data[i..]
            .iter()
            .position(|&c| c == b'\n')
            .ok_or_else(|| err("unterminated line"))?;
        let line = std::str::from_utf8(&data[i..eol]).map_err(|_| err("non-UTF-8 header"))?;
        i = eol + 1;
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let kv = |k: &str| -> Result<u32, CaptureError> {
            words
                .iter()
                .find_map(|w| w.strip_prefix(k))
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| CaptureError(format!("missing {} in {:?}", k, line)))
        };
        match words.first().copied() {
            Some("---") => {
                let c = kv("conn=")?;
                match words.get(2).copied() {
                    Some("opened") => out.push(Event::Open(c)),
                    Some("closed") => out.push(Event::Close(c)),
                    _ => return Err(CaptureError(format!("bad line {:?}", line))),
                }
            }
            Some("===") => {
                let n = kv("bytes=")? as usize;
                if i + n > data.len() {
                    return Err(err("truncated message"));
                }
                let bytes = data[i..i + n].to_vec();
                i += n;
                if data.get(i) == Some(&b'\n') {
                    i += 1;
                }
                let (conn, step) = (kv("conn=")?, kv("step=")?);
                match words.get(2).copied() {
                    Some("request") => out.push(Event::Request { conn, step, bytes }),
                    Some("reply") => out.push(Event::Reply { conn, step, bytes }),
                    _ => return Err(CaptureError(format!("bad line {:?}", line))),
                }
            }
            _ => return Err(CaptureError(format!("bad line {:?}", line))),
        }
    }
    Ok(out)
}

/// A message with the values that depend on the process or the clock replaced: the
/// digits of `daemon_pid = N` and of a non-zero `update_begin = N` (CLOCK_MONOTONIC
/// seconds). Nothing else is touched. Used to compare replies with recordings.
pub fn normalise_volatile(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    for line in b.split_inclusive(|&c| c == b'\n') {
        let digits_after = |p: &[u8]| -> bool {
            line.starts_with(p) && {
                let rest = &line[p.len()..];
                let rest = rest.strip_suffix(b"\n").unwrap_or(rest);
                !rest.is_empty() && rest.iter().all(|c| c.is_ascii_digit())
            }
        };
        if digits_after(b"daemon_pid = ") {
            out.extend_from_slice(b"daemon_pid = <PID>\n");
        } else if digits_after(b"update_begin = ") && line != b"update_begin = 0\n" {
            out.extend_from_slice(b"update_begin = <T>\n");
        } else {
            out.extend_from_slice(line);
        }
    }
    out
}

/// Requests that install a cache state seen in recorded replies: every PV of a `pv_list`
/// reply (its stored pvmeta, in the reply's order, so hash chains come out in the same
/// order) and each given VG `(name, metadata)`, inside a token update that ends with
/// `token`. Used to rebuild the state a capture starts from.
pub fn seed_requests(
    pv_list_reply: &[u8],
    vgs: &[(Vec<u8>, crate::config::Node)],
    token: &[u8],
) -> Result<Vec<Vec<u8>>, CaptureError> {
    use crate::config::{find, to_bytes, Node};
    let req = |name: &str, nodes: Vec<Node>, token: &[u8]| {
        let mut doc = vec![Node::string("request", name)];
        doc.extend(nodes);
        doc.push(Node::string("token", token));
        doc.push(Node::int("update_timeout", 10));
        doc.push(Node::int("pid", 1));
        doc.push(Node::string("cmd", "seed"));
        to_bytes(&doc)
    };
    let ip = super::TOKEN_UPDATE_IN_PROGRESS.as_bytes();
    let reply = crate::config::parse(pv_list_reply)
        .map_err(|e| CaptureError(format!("pv_list reply: {}", e)))?;
    let pvs = find(&reply, "physical_volumes")
        .ok_or_else(|| CaptureError("no physical_volumes in the pv_list reply".into()))?;
    let mut out = vec![
        req(Request::TokenUpdate.name(), vec![], ip),
        req(Request::PvClearAll.name(), vec![], ip),
    ];
    for pv in &pvs.children {
        let children: Vec<Node> = pv
            .children
            .iter()
            .filter(|c| c.key != b"vgid" && c.key != b"vgname")
            .cloned()
            .collect();
        out.push(req(
            Request::PvFound.name(),
            vec![Node::section("pvmeta", children)],
            ip,
        ));
    }
    for (name, meta) in vgs {
        out.push(req(
            Request::VgUpdate.name(),
            vec![Node::string("vgname", name), meta.clone()],
            ip,
        ));
    }
    out.push(req(Request::TokenUpdate.name(), vec![], token));
    Ok(out)
}

/// The first reply to a request named `request` in a transcript (terminator removed).
pub fn first_reply_to(events: &[Event], request: &str) -> Option<Vec<u8>> {
    let a = format!("request=\"{}\"", request);
    let b = format!("request = \"{}\"", request);
    let mut last: Option<&[u8]> = None;
    for e in events {
        match e {
            Event::Request { bytes, .. } => last = Some(bytes),
            Event::Reply { bytes, .. } => {
                if let Some(r) = last {
                    if r.starts_with(a.as_bytes()) || r.starts_with(b.as_bytes()) {
                        return Some(bytes[..bytes.len().saturating_sub(4)].to_vec());
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// The first cache token (`filter:...`) a tree-form request of the transcript carries.
pub fn session_token(events: &[Event]) -> Option<Vec<u8>> {
    for e in events {
        if let Event::Request { bytes, .. } = e {
            if let Ok(t) = crate::config::parse(&bytes[..bytes.len().saturating_sub(4)]) {
                if let Some(tok) = crate::config::find_str(&t, "token") {
                    if tok.starts_with(b"filter:") {
                        return Some(tok.to_vec());
                    }
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parses_and_rejects() {
        let t = b"# x\n--- conn=1 opened\n=== 1 request conn=1 step=1 bytes=5\na\n##\n\n--- conn=1 closed\n";
        let e = parse(t).unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(
            e[1],
            Event::Request {
                conn: 1,
                step: 1,
                bytes: b"a\n##\n".to_vec()
            }
        );
        assert!(parse(b"--- conn=1 opened\n=== 1 request conn=1 step=1 bytes=99\nab").is_err());
        assert!(parse(b"nothing").is_err());
    }
}
