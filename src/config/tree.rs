//! The dm_config tree: nodes with a key and either a value list or children.
//!
//! Strings are byte strings: the wire format carries arbitrary bytes except NUL. Keys and
//! string values are [`Bytes`] (short ones stored inline), value lists are [`Values`]
//! (one value stored inline): a parsed tree costs few allocations. Both read like the
//! `Vec`s they stand for (see `bytes.rs`).

pub use super::bytes::{Bytes, Children, Values};

/// One value of a value list.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Str(Bytes),
    /// `[]`: stored as a single value, ends a list when written.
    EmptyArray,
}

impl Value {
    pub fn str(s: impl AsRef<[u8]>) -> Value {
        Value::Str(Bytes::from_slice(s.as_ref()))
    }
    fn type_rank(&self) -> u8 {
        match self {
            Value::Int(_) => 0,
            Value::Float(_) => 1,
            Value::Str(_) => 2,
            Value::EmptyArray => 3,
        }
    }
}

/// A node. A node without a value list is a section (even with no children).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Node {
    pub key: Bytes,
    pub values: Option<Values>,
    pub children: Children,
}

impl Node {
    /// A section node with the given children.
    pub fn section(key: impl AsRef<[u8]>, children: Vec<Node>) -> Node {
        Node {
            key: Bytes::from_slice(key.as_ref()),
            values: None,
            children: children.into(),
        }
    }
    /// A value node holding one value.
    pub fn value(key: impl AsRef<[u8]>, v: Value) -> Node {
        Node {
            key: Bytes::from_slice(key.as_ref()),
            values: Some(Values::one(v)),
            children: Children::new(),
        }
    }
    pub fn int(key: impl AsRef<[u8]>, v: i64) -> Node {
        Node::value(key, Value::Int(v))
    }
    pub fn string(key: impl AsRef<[u8]>, v: impl AsRef<[u8]>) -> Node {
        Node::value(key, Value::str(v))
    }
    pub fn array(key: impl AsRef<[u8]>, vs: Vec<Value>) -> Node {
        Node {
            key: Bytes::from_slice(key.as_ref()),
            values: Some(if vs.is_empty() {
                Values::one(Value::EmptyArray)
            } else {
                Values::from(vs)
            }),
            children: Children::new(),
        }
    }
    pub fn is_section(&self) -> bool {
        self.values.is_none()
    }
    /// First value, if this is a value node.
    pub fn first_value(&self) -> Option<&Value> {
        self.values.as_ref().and_then(|v| v.first())
    }
    /// Look up a path below this node (its children).
    pub fn find(&self, path: &str) -> Option<&Node> {
        find(&self.children, path)
    }
    pub fn find_mut(&mut self, path: &str) -> Option<&mut Node> {
        find_mut(&mut self.children, path)
    }
    pub fn child(&self, key: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.key == key.as_bytes())
    }
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// Path lookup among siblings: the first node matching each segment wins.
pub fn find<'a>(nodes: &'a [Node], path: &str) -> Option<&'a Node> {
    let mut level = nodes;
    let mut found: Option<&Node> = None;
    for seg in segments(path) {
        let n = level.iter().find(|n| n.key == seg.as_bytes())?;
        found = Some(n);
        level = &n.children;
    }
    found
}

pub fn find_mut<'a>(nodes: &'a mut [Node], path: &str) -> Option<&'a mut Node> {
    let mut segs = segments(path).peekable();
    let mut level = nodes;
    loop {
        let seg = segs.next()?;
        let n = level.iter_mut().find(|n| n.key == seg.as_bytes())?;
        if segs.peek().is_none() {
            return Some(n);
        }
        level = n.children.as_mut_slice();
    }
}

/// String value at `path`; empty strings are returned (`dm_config_find_str_allow_empty`).
pub fn find_str_allow_empty<'a>(nodes: &'a [Node], path: &str) -> Option<&'a [u8]> {
    match find(nodes, path)?.first_value()? {
        Value::Str(s) => Some(s.as_slice()),
        _ => None,
    }
}

/// String value at `path`; an empty string counts as absent (`dm_config_find_str`).
pub fn find_str<'a>(nodes: &'a [Node], path: &str) -> Option<&'a [u8]> {
    find_str_allow_empty(nodes, path).filter(|s| !s.is_empty())
}

/// Integer value at `path` (only INT values count).
pub fn find_int(nodes: &[Node], path: &str) -> Option<i64> {
    match find(nodes, path)?.first_value()? {
        Value::Int(i) => Some(*i),
        _ => None,
    }
}

fn compare_values(a: &[Value], b: &[Value]) -> i32 {
    for (x, y) in a.iter().zip(b.iter()) {
        let (rx, ry) = (x.type_rank(), y.type_rank());
        if rx != ry {
            return if rx < ry { -1 } else { 1 };
        }
        let r = match (x, y) {
            (Value::Int(p), Value::Int(q)) => p.cmp(q) as i32,
            (Value::Float(p), Value::Float(q)) => {
                if (p - q).abs() < f64::EPSILON {
                    0
                } else if p < q {
                    -1
                } else {
                    1
                }
            }
            (Value::Str(p), Value::Str(q)) => p.cmp(q) as i32,
            _ => 0,
        };
        if r != 0 {
            return r;
        }
    }
    0
}

/// libdaemon's `compare_config()`: keys are never compared; children override values.
/// Returns 0 when the two sibling lists are considered equal. Walks with its own stack
/// (trees from outside can be of any depth).
pub fn compare_config(a: &[Node], b: &[Node]) -> i32 {
    // the lists being compared, and where in them; a nonzero result ends the walk
    let mut stack: Vec<(&[Node], &[Node], usize)> = vec![(a, b, 0)];
    while let Some((a, b, i)) = stack.pop() {
        match (a.get(i), b.get(i)) {
            (None, None) => {}
            (Some(_), None) => return 1,
            (None, Some(_)) => return -1,
            (Some(x), Some(y)) => {
                stack.push((a, b, i + 1));
                if !x.children.is_empty() && !y.children.is_empty() {
                    stack.push((&x.children, &y.children, 0));
                    continue;
                }
                let r = match (&x.values, &y.values) {
                    (Some(p), Some(q)) => compare_values(p, q),
                    (Some(_), None) => 1,
                    (None, Some(_)) => -1,
                    (None, None) => 0,
                };
                if r != 0 {
                    return r;
                }
            }
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_str;

    #[test]
    fn lookup_first_match_and_types() {
        let doc = vec![
            Node::string("a", "x"),
            Node::string("a", "y"),
            Node::section("s", vec![Node::int("n", 5), Node::string("e", "")]),
        ];
        assert_eq!(find_str(&doc, "a"), Some(&b"x"[..]));
        assert_eq!(find_int(&doc, "s/n"), Some(5));
        assert_eq!(find_int(&doc, "a"), None);
        assert_eq!(find_str(&doc, "s/e"), None);
        assert_eq!(find_str_allow_empty(&doc, "s/e"), Some(&b""[..]));
        assert!(find(&doc, "s/missing").is_none());
    }

    #[test]
    fn compare_ignores_keys() {
        let a = vec![Node::int("x", 1)];
        let b = vec![Node::int("y", 1)];
        assert_eq!(compare_config(&a, &b), 0);
        let c = vec![Node::int("x", 2)];
        assert_eq!(compare_config(&a, &c), -1);
        // a longer value list equals its prefix
        let d = vec![Node::array("x", vec![Value::Int(1), Value::Int(9)])];
        assert_eq!(compare_config(&a, &d), 0);
        assert_eq!(compare_config(&a, &[]), 1);
        // children override values; a difference deep down is found
        let p = parse_str("s { t { u = 1 } }\nv = 1").unwrap();
        let q = parse_str("s { t { u = 2 } }\nv = 1").unwrap();
        let r = parse_str("s { t { u = 1 } }\nv = 0").unwrap();
        assert_eq!(compare_config(&p, &q), -1);
        assert_eq!(compare_config(&q, &p), 1);
        assert_eq!(compare_config(&p, &r), 1);
        assert_eq!(compare_config(&p, &p.clone()), 0);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn compare_a_million_levels() {
        let key = "a/".repeat(1_000_000);
        let p = parse_str(&format!("{key}x = 1")).unwrap();
        let q = parse_str(&format!("{key}x = 2")).unwrap();
        assert_eq!(compare_config(&p, &q), -1);
        assert_eq!(compare_config(&p, &p), 0);
    }
}
