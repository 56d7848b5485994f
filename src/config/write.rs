//! The tree writer, byte-identical to libdm 2.02.188's `dm_config_write_node()`
//! as libdaemon uses it (every line followed by "\n", no format flags).

use super::tree::{Node, Value};
use std::io::Write;

pub const MAX_INDENT: usize = 32;

const TABS: [u8; MAX_INDENT] = [b'\t'; MAX_INDENT];

/// `level` tabs, at most [`MAX_INDENT`] (libdm's cap).
pub fn indent(out: &mut Vec<u8>, level: usize) {
    out.extend_from_slice(&TABS[..level.min(MAX_INDENT)]);
}

const DIGIT_PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Append `v` in decimal (C `%" PRId64 "`), without going through `core::fmt`.
pub fn write_int(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    write_uint(out, v.unsigned_abs());
}

/// Append `v` in decimal.
pub fn write_uint(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    while v >= 100 {
        let d = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[d..d + 2]);
    }
    if v >= 10 {
        let d = v as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[d..d + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + v as u8;
    }
    out.extend_from_slice(&buf[i..]);
}

/// Append `s` with every `"` and `\` preceded by a backslash.
pub fn escape_double_quotes(out: &mut Vec<u8>, s: &[u8]) {
    if !s.iter().any(|&c| c == b'"' || c == b'\\') {
        out.extend_from_slice(s);
        return;
    }
    for &c in s {
        if c == b'"' || c == b'\\' {
            out.push(b'\\');
        }
        out.push(c);
    }
}

fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Str(s) => {
            out.push(b'"');
            escape_double_quotes(out, s);
            out.push(b'"');
        }
        Value::Float(f) => write_float(out, *f),
        Value::Int(i) => write_int(out, *i),
        Value::EmptyArray => out.extend_from_slice(b"[]"),
    }
}

/// C `printf("%f")`.
pub fn write_float(out: &mut Vec<u8>, f: f64) {
    if f.is_nan() {
        out.extend_from_slice(if f.is_sign_negative() {
            b"-nan"
        } else {
            b"nan"
        });
    } else if f.is_infinite() {
        out.extend_from_slice(if f < 0.0 { b"-inf" } else { b"inf" });
    } else {
        let _ = write!(out, "{:.6}", f);
    }
}

/// A key as libdm writes it: quoted (and escaped) when it contains `#`, `"` or `!`.
pub fn write_key(out: &mut Vec<u8>, key: &[u8]) {
    if key.iter().any(|&c| c == b'#' || c == b'"' || c == b'!') {
        out.push(b'"');
        escape_double_quotes(out, key);
        out.push(b'"');
    } else {
        out.extend_from_slice(key);
    }
}

/// One `key="value"` line at nesting `level`: what [`write_node`] writes for a node
/// holding one string.
pub fn write_str_line(out: &mut Vec<u8>, level: usize, key: &[u8], val: &[u8]) {
    indent(out, level);
    write_key(out, key);
    out.extend_from_slice(b"=\"");
    escape_double_quotes(out, val);
    out.extend_from_slice(b"\"\n");
}

/// Write `nodes` (a sibling list) at nesting `level`. Walks with its own stack (trees
/// from outside can be of any depth).
pub fn write_nodes(out: &mut Vec<u8>, nodes: &[Node], level: usize) {
    // the lists being written and where in them; a section's children are written
    // before its closing brace
    let mut stack: Vec<(&[Node], usize)> = vec![(nodes, 0)];
    while let Some((list, i)) = stack.pop() {
        let depth = level + stack.len();
        let Some(n) = list.get(i) else {
            if !stack.is_empty() {
                // the end of a section's children
                indent(out, depth - 1);
                out.extend_from_slice(b"}\n");
            }
            continue;
        };
        stack.push((list, i + 1));
        indent(out, depth);
        write_key(out, &n.key);
        match &n.values {
            None => {
                out.extend_from_slice(b" {\n");
                stack.push((&n.children, 0));
            }
            Some(vs) => write_values(out, vs),
        }
    }
}

/// Write one node (without its siblings) at nesting `level`.
pub fn write_node(out: &mut Vec<u8>, n: &Node, level: usize) {
    write_nodes(out, std::slice::from_ref(n), level)
}

/// `=` and a value list, and the end of the line.
fn write_values(out: &mut Vec<u8>, vs: &[Value]) {
    out.push(b'=');
    if vs.len() > 1 {
        out.push(b'[');
        let mut first = true;
        for v in vs {
            if matches!(v, Value::EmptyArray) {
                break;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            write_value(out, v);
        }
        out.push(b']');
    } else if let Some(v) = vs.first() {
        write_value(out, v);
    }
    out.push(b'\n');
}

/// Convenience: the whole document as bytes.
pub fn to_bytes(nodes: &[Node]) -> Vec<u8> {
    let mut out = Vec::new();
    write_nodes(&mut out, nodes, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse::parse_str;

    #[test]
    fn derived_example() {
        let doc = vec![
            Node::string("response", "OK"),
            Node::section(
                "a",
                vec![
                    Node::int("n", 5),
                    Node::array("l", vec![Value::str("x"), Value::str("y")]),
                    Node::array("e", vec![]),
                    Node::section("s", vec![]),
                ],
            ),
        ];
        assert_eq!(
            to_bytes(&doc),
            b"response=\"OK\"\na {\n\tn=5\n\tl=[\"x\",\"y\"]\n\te=[]\n\ts {\n\t}\n}\n".to_vec()
        );
    }

    #[test]
    fn quirks() {
        // one-element arrays lose their brackets; EMPTY_ARRAY ends a list
        let d = parse_str("s=[\"A\"]\nk=[]").unwrap();
        assert_eq!(to_bytes(&d), b"s=\"A\"\nk=[]\n".to_vec());
        let n = Node {
            key: "p".into(),
            values: Some(vec![Value::str("A"), Value::EmptyArray].into()),
            children: Default::default(),
        };
        assert_eq!(to_bytes(&[n]), b"p=[\"A\"]\n".to_vec());
        // keys with # " ! are quoted; string escapes only " and backslash
        let n = Node::string("a#b", "q\"\\\n");
        assert_eq!(to_bytes(&[n]), b"\"a#b\"=\"q\\\"\\\\\n\"\n".to_vec());
        let mut out = Vec::new();
        write_str_line(&mut out, 2, b"a#b", b"q\"\\\n");
        assert_eq!(out, b"\t\t\"a#b\"=\"q\\\"\\\\\n\"\n".to_vec());
        let n = Node::value("f", Value::Float(1.5));
        assert_eq!(to_bytes(&[n]), b"f=1.500000\n".to_vec());
    }

    #[test]
    fn integers() {
        for v in [
            0,
            1,
            9,
            10,
            99,
            100,
            12345,
            -1,
            -10,
            1028644667392,
            i64::MAX,
            i64::MIN,
        ] {
            let mut out = Vec::new();
            write_int(&mut out, v);
            assert_eq!(out, v.to_string().into_bytes());
        }
    }

    #[test]
    fn indent_capped_at_32() {
        let mut n = Node::int("x", 1);
        for _ in 0..40 {
            n = Node::section("s", vec![n]);
        }
        let b = to_bytes(&[n]);
        let max_tabs = b
            .split(|&c| c == b'\n')
            .map(|l| l.iter().take_while(|&&c| c == b'\t').count())
            .max()
            .unwrap();
        assert_eq!(max_tabs, 32);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn writes_a_million_levels() {
        let key = "a/".repeat(1_000_000);
        let d = parse_str(&format!("{key}x = 1\ny = 2")).unwrap();
        let b = to_bytes(&d);
        let lines: Vec<&[u8]> = b.split(|&c| c == b'\n').collect();
        assert_eq!(lines.len(), 2_000_003);
        assert_eq!(lines[0], b"a {");
        assert_eq!(lines[40], [&[b'\t'; 32][..], b"a {"].concat());
        assert_eq!(lines[1_000_000], [&[b'\t'; 32][..], b"x=1"].concat());
        assert_eq!(lines[2_000_000], b"}");
        assert_eq!(lines[2_000_001], b"y=2");
    }
}
