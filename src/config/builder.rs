//! libdaemon's printf-style message builder (`buffer_append_vf()`): `key = "value"\n`
//! and `key = 123\n`. Strings are inserted raw, without escaping, exactly as libdaemon does.

/// One item of a simple message.
#[derive(Clone, Copy, Debug)]
pub enum Item<'a> {
    Str(&'a str, &'a [u8]),
    Int(&'a str, i64),
}

/// Append `key = "value"\n` (value not escaped).
pub fn push_str(buf: &mut Vec<u8>, key: &str, val: &[u8]) {
    buf.extend_from_slice(key.as_bytes());
    buf.extend_from_slice(b" = \"");
    buf.extend_from_slice(val);
    buf.extend_from_slice(b"\"\n");
}

/// Append `key = N\n`.
pub fn push_int(buf: &mut Vec<u8>, key: &str, val: i64) {
    buf.extend_from_slice(key.as_bytes());
    buf.extend_from_slice(b" = ");
    super::write::write_int(buf, val);
    buf.push(b'\n');
}

/// A whole simple message: `first_key = "first_val"` then the items.
pub fn simple(first_key: &str, first_val: &[u8], items: &[Item<'_>]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(64);
    push_str(&mut buf, first_key, first_val);
    for it in items {
        match *it {
            Item::Str(k, v) => push_str(&mut buf, k, v),
            Item::Int(k, v) => push_int(&mut buf, k, v),
        }
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn hello_reply() {
        let b = simple(
            "response",
            b"OK",
            &[Item::Str("protocol", b"lvmetad"), Item::Int("version", 1)],
        );
        assert_eq!(
            b,
            b"response = \"OK\"\nprotocol = \"lvmetad\"\nversion = 1\n".to_vec()
        );
    }
}
