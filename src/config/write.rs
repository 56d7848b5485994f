//! The tree writer, byte-identical to libdm 2.02.188's `dm_config_write_node()`
//! as libdaemon uses it (every line followed by "\n", no format flags).

use super::tree::{Node, Value};
use std::io::Write;

const MAX_INDENT: usize = 32;

/// Append `s` with every `"` and `\` preceded by a backslash.
pub fn escape_double_quotes(out: &mut Vec<u8>, s: &[u8]) {
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
        Value::Int(i) => {
            let _ = write!(out, "{}", i);
        }
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

fn write_key(out: &mut Vec<u8>, key: &[u8]) {
    if key.iter().any(|&c| c == b'#' || c == b'"' || c == b'!') {
        out.push(b'"');
        escape_double_quotes(out, key);
        out.push(b'"');
    } else {
        out.extend_from_slice(key);
    }
}

/// Write `nodes` (a sibling list) at nesting `level`.
pub fn write_nodes(out: &mut Vec<u8>, nodes: &[Node], level: usize) {
    for n in nodes {
        write_node(out, n, level);
    }
}

/// Write one node (without its siblings) at nesting `level`.
pub fn write_node(out: &mut Vec<u8>, n: &Node, level: usize) {
    let l = level.min(MAX_INDENT);
    for _ in 0..l {
        out.push(b'\t');
    }
    write_key(out, &n.key);
    match &n.values {
        None => {
            out.extend_from_slice(b" {\n");
            write_nodes(out, &n.children, level + 1);
            for _ in 0..l {
                out.push(b'\t');
            }
            out.extend_from_slice(b"}\n");
        }
        Some(vs) => {
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
    }
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
            key: b"p".to_vec(),
            values: Some(vec![Value::str("A"), Value::EmptyArray]),
            children: vec![],
        };
        assert_eq!(to_bytes(&[n]), b"p=[\"A\"]\n".to_vec());
        // keys with # " ! are quoted; string escapes only " and backslash
        let n = Node::string("a#b", "q\"\\\n");
        assert_eq!(to_bytes(&[n]), b"\"a#b\"=\"q\\\"\\\\\n\"\n".to_vec());
        let n = Node::value("f", Value::Float(1.5));
        assert_eq!(to_bytes(&[n]), b"f=1.500000\n".to_vec());
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
}
