//! Compact storage for a tree's parts: byte strings (keys and string values), value
//! lists and child lists.
//!
//! A parsed tree is mostly small nodes, and the time to parse (and free) a large message
//! goes to allocating and touching memory more than to reading the text. So a [`Node`]
//! is kept at 48 bytes with everything small stored in place:
//!
//! - [`Bytes`] (16 bytes) holds up to [`INLINE`] bytes inline: almost every key and most
//!   string values of LVM metadata ("id", "dev_size", "ALLOCATABLE", "pv0"...). Longer
//!   strings go to the heap behind a thin pointer: up to [`MID`] bytes (UUIDs are 38) in
//!   one fixed-size allocation, longer ones in two.
//! - [`Values`] (16 bytes) holds one value inline (the usual case), a list on the heap.
//! - [`Children`] (16 bytes) is empty without allocating (every value node), one
//!   exact-size heap slice otherwise.
//!
//! They dereference to `[u8]`, `[Value]` and `[Node]`, have the `Vec` methods that
//! change a length, and compare equal to the plain types (`b"id"`, `&[u8]`, `Vec<u8>`;
//! `Vec<Value>`; `Vec<Node>`), so code that reads or edits a tree uses them as it would
//! use `Vec`s.

use super::tree::{Node, Value};
use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, DerefMut};

/// Longest byte string kept inline (the whole `Bytes` is 16 bytes).
pub const INLINE: usize = 14;

/// Longest byte string kept in one fixed-size heap array.
pub const MID: usize = 40;

/// An immutable-length byte string; short ones are stored inline.
#[derive(Clone)]
pub struct Bytes(Repr);

#[derive(Clone)]
enum Repr {
    Inline {
        len: u8,
        data: [u8; INLINE],
    },
    /// A thin pointer keeps `Bytes` (and so `Value`) at 16 bytes: an array...
    Mid {
        len: u8,
        data: Box<[u8; MID]>,
    },
    /// ...or, for longer strings, a box holding the boxed slice.
    Heap(Box<Box<[u8]>>),
}

impl Bytes {
    /// The empty string.
    pub const fn new() -> Bytes {
        Bytes(Repr::Inline {
            len: 0,
            data: [0; INLINE],
        })
    }

    /// A copy of `s`.
    pub fn from_slice(s: &[u8]) -> Bytes {
        if s.len() <= INLINE {
            let mut data = [0; INLINE];
            data[..s.len()].copy_from_slice(s);
            Bytes(Repr::Inline {
                len: s.len() as u8,
                data,
            })
        } else {
            Bytes::long(s)
        }
    }

    /// A copy of `buf[start..end]`. When `buf` goes on far enough, a whole fixed-size
    /// window is copied (the bytes past `end` are kept but never looked at), which is
    /// cheaper than copying a short slice of variable length.
    #[inline(always)]
    pub fn from_range(buf: &[u8], start: usize, end: usize) -> Bytes {
        let len = end - start;
        if len <= INLINE {
            if let Some(window) = buf.get(start..start + INLINE) {
                return Bytes(Repr::Inline {
                    len: len as u8,
                    data: window.try_into().expect("window size"),
                });
            }
        } else if len <= MID {
            if let Some(window) = buf.get(start..start + MID) {
                return Bytes(Repr::Mid {
                    len: len as u8,
                    data: Box::new(window.try_into().expect("window size")),
                });
            }
        }
        Bytes::from_slice(&buf[start..end])
    }

    /// Make this string a copy of `buf[start..end]`; in place when both are short
    /// (cheaper than making a new `Bytes` and moving it here).
    #[inline(always)]
    pub fn set_range(&mut self, buf: &[u8], start: usize, end: usize) {
        let n = end - start;
        if let (Repr::Inline { len, data }, true) = (&mut self.0, n <= INLINE) {
            if let Some(window) = buf.get(start..start + INLINE) {
                *len = n as u8;
                data.copy_from_slice(window);
                return;
            }
        }
        *self = Bytes::from_range(buf, start, end);
    }

    fn long(s: &[u8]) -> Bytes {
        if s.len() <= MID {
            let mut data = Box::new([0; MID]);
            data[..s.len()].copy_from_slice(s);
            Bytes(Repr::Mid {
                len: s.len() as u8,
                data,
            })
        } else {
            Bytes(Repr::Heap(Box::new(s.into())))
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, data } => &data[..*len as usize],
            Repr::Mid { len, data } => &data[..*len as usize],
            Repr::Heap(b) => b,
        }
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        match &mut self.0 {
            Repr::Inline { len, data } => &mut data[..*len as usize],
            Repr::Mid { len, data } => &mut data[..*len as usize],
            Repr::Heap(b) => b,
        }
    }
}

impl Default for Bytes {
    fn default() -> Bytes {
        Bytes::new()
    }
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl DerefMut for Bytes {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.as_mut_slice()
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Borrow<[u8]> for Bytes {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl From<&[u8]> for Bytes {
    fn from(s: &[u8]) -> Bytes {
        Bytes::from_slice(s)
    }
}

impl<const N: usize> From<&[u8; N]> for Bytes {
    fn from(s: &[u8; N]) -> Bytes {
        Bytes::from_slice(s)
    }
}

impl From<&str> for Bytes {
    fn from(s: &str) -> Bytes {
        Bytes::from_slice(s.as_bytes())
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Bytes {
        if v.len() <= MID {
            Bytes::from_slice(&v)
        } else {
            Bytes(Repr::Heap(Box::new(v.into_boxed_slice())))
        }
    }
}

impl From<String> for Bytes {
    fn from(s: String) -> Bytes {
        Bytes::from(s.into_bytes())
    }
}

impl From<&Vec<u8>> for Bytes {
    fn from(v: &Vec<u8>) -> Bytes {
        Bytes::from_slice(v)
    }
}

impl From<Bytes> for Vec<u8> {
    fn from(b: Bytes) -> Vec<u8> {
        match b.0 {
            Repr::Heap(b) => (*b).into_vec(),
            _ => b.as_slice().to_vec(),
        }
    }
}

impl PartialEq for Bytes {
    fn eq(&self, o: &Bytes) -> bool {
        self.as_slice() == o.as_slice()
    }
}

impl Eq for Bytes {}

impl PartialOrd for Bytes {
    fn partial_cmp(&self, o: &Bytes) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Bytes {
    fn cmp(&self, o: &Bytes) -> std::cmp::Ordering {
        self.as_slice().cmp(o.as_slice())
    }
}

impl Hash for Bytes {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.as_slice().hash(h)
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b{:?}", String::from_utf8_lossy(self))
    }
}

macro_rules! bytes_eq {
    ($($t:ty),*) => {$(
        impl PartialEq<$t> for Bytes {
            fn eq(&self, o: &$t) -> bool {
                self.as_slice() == AsRef::<[u8]>::as_ref(o)
            }
        }
        impl PartialEq<Bytes> for $t {
            fn eq(&self, o: &Bytes) -> bool {
                AsRef::<[u8]>::as_ref(self) == o.as_slice()
            }
        }
    )*};
}

bytes_eq!([u8], &[u8], Vec<u8>, str, &str);

impl<const N: usize> PartialEq<[u8; N]> for Bytes {
    fn eq(&self, o: &[u8; N]) -> bool {
        self.as_slice() == o
    }
}

impl<const N: usize> PartialEq<&[u8; N]> for Bytes {
    fn eq(&self, o: &&[u8; N]) -> bool {
        self.as_slice() == *o
    }
}

/// A value list: one value inline (the usual case) or a vector on the heap.
#[derive(Clone)]
pub struct Values(ValuesRepr);

#[derive(Clone)]
enum ValuesRepr {
    One(Value),
    /// Boxed: a thin pointer keeps `Values` at 16 bytes.
    #[allow(clippy::box_collection)]
    Many(Box<Vec<Value>>),
}

impl Values {
    /// An empty list.
    pub fn new() -> Values {
        Values(ValuesRepr::Many(Box::default()))
    }

    /// A list of one value.
    pub fn one(v: Value) -> Values {
        Values(ValuesRepr::One(v))
    }

    pub fn as_slice(&self) -> &[Value] {
        match &self.0 {
            ValuesRepr::One(v) => std::slice::from_ref(v),
            ValuesRepr::Many(vs) => vs,
        }
    }

    pub fn as_mut_slice(&mut self) -> &mut [Value] {
        match &mut self.0 {
            ValuesRepr::One(v) => std::slice::from_mut(v),
            ValuesRepr::Many(vs) => vs,
        }
    }

    /// The list as a vector, for changes of its length.
    fn vec_mut(&mut self) -> &mut Vec<Value> {
        if let ValuesRepr::One(_) = self.0 {
            let ValuesRepr::One(v) =
                std::mem::replace(&mut self.0, ValuesRepr::Many(Box::default()))
            else {
                unreachable!()
            };
            self.0 = ValuesRepr::Many(Box::new(vec![v]));
        }
        match &mut self.0 {
            ValuesRepr::Many(vs) => vs,
            ValuesRepr::One(_) => unreachable!(),
        }
    }

    pub fn push(&mut self, v: Value) {
        if self.is_empty() {
            self.0 = ValuesRepr::One(v);
        } else {
            self.vec_mut().push(v);
        }
    }

    /// Insert at `index` (`Vec::insert`).
    pub fn insert(&mut self, index: usize, v: Value) {
        if self.is_empty() && index == 0 {
            self.0 = ValuesRepr::One(v);
        } else {
            self.vec_mut().insert(index, v);
        }
    }

    /// Remove and return the value at `index` (`Vec::remove`).
    pub fn remove(&mut self, index: usize) -> Value {
        self.vec_mut().remove(index)
    }

    pub fn clear(&mut self) {
        *self = Values::new();
    }

    pub fn into_vec(self) -> Vec<Value> {
        match self.0 {
            ValuesRepr::One(v) => vec![v],
            ValuesRepr::Many(vs) => *vs,
        }
    }
}

impl Default for Values {
    fn default() -> Values {
        Values::new()
    }
}

impl Deref for Values {
    type Target = [Value];
    fn deref(&self) -> &[Value] {
        self.as_slice()
    }
}

impl DerefMut for Values {
    fn deref_mut(&mut self) -> &mut [Value] {
        self.as_mut_slice()
    }
}

impl From<Vec<Value>> for Values {
    fn from(mut vs: Vec<Value>) -> Values {
        if vs.len() == 1 {
            Values::one(vs.pop().expect("one value"))
        } else {
            Values(ValuesRepr::Many(Box::new(vs)))
        }
    }
}

impl From<Value> for Values {
    fn from(v: Value) -> Values {
        Values::one(v)
    }
}

impl From<Values> for Vec<Value> {
    fn from(vs: Values) -> Vec<Value> {
        vs.into_vec()
    }
}

impl FromIterator<Value> for Values {
    fn from_iter<I: IntoIterator<Item = Value>>(it: I) -> Values {
        Values::from(it.into_iter().collect::<Vec<Value>>())
    }
}

impl<'a> IntoIterator for &'a Values {
    type Item = &'a Value;
    type IntoIter = std::slice::Iter<'a, Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl PartialEq for Values {
    fn eq(&self, o: &Values) -> bool {
        self.as_slice() == o.as_slice()
    }
}

impl PartialEq<Vec<Value>> for Values {
    fn eq(&self, o: &Vec<Value>) -> bool {
        self.as_slice() == o.as_slice()
    }
}

impl PartialEq<[Value]> for Values {
    fn eq(&self, o: &[Value]) -> bool {
        self.as_slice() == o
    }
}

impl fmt::Debug for Values {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

/// A node's children: no allocation while empty, one exact-size heap slice otherwise.
///
/// Dereferences to `[Node]`; the `Vec` methods that change the length are provided
/// (they reallocate, which is fine for the few edits trees get after parsing).
///
/// Dropping, cloning and comparing recurse at most a few levels: a tree of any depth
/// can be freed, copied and compared on a small stack (see `deep.rs`).
#[derive(Default)]
pub struct Children(Option<Box<[Node]>>);

impl Drop for Children {
    fn drop(&mut self) {
        if let Some(list) = self.0.take() {
            super::deep::drop_children(list);
        }
    }
}

impl Clone for Children {
    fn clone(&self) -> Children {
        match &self.0 {
            None => Children(None),
            Some(list) => Children(Some(super::deep::clone_children(list))),
        }
    }
}

impl Children {
    pub const fn new() -> Children {
        Children(None)
    }

    /// Children from an exact-size slice (none when it is empty).
    pub(super) fn from_box(list: Box<[Node]>) -> Children {
        Children(if list.is_empty() { None } else { Some(list) })
    }

    /// Take the slice out, leaving no children.
    pub(super) fn take_box(&mut self) -> Option<Box<[Node]>> {
        self.0.take()
    }

    pub fn as_slice(&self) -> &[Node] {
        self.0.as_deref().unwrap_or(&[])
    }

    pub fn as_mut_slice(&mut self) -> &mut [Node] {
        match &mut self.0 {
            Some(v) => v,
            None => &mut [],
        }
    }

    pub fn into_vec(mut self) -> Vec<Node> {
        self.0.take().map(<[Node]>::into_vec).unwrap_or_default()
    }

    /// Take the children out as a `Vec`, leaving none.
    pub fn take(&mut self) -> Vec<Node> {
        std::mem::take(self).into_vec()
    }

    /// Change the list as a `Vec`.
    pub fn edit<R>(&mut self, f: impl FnOnce(&mut Vec<Node>) -> R) -> R {
        let mut v = self.take();
        let r = f(&mut v);
        *self = Children::from(v);
        r
    }

    pub fn push(&mut self, n: Node) {
        self.edit(|v| v.push(n))
    }

    pub fn insert(&mut self, index: usize, n: Node) {
        self.edit(|v| v.insert(index, n))
    }

    pub fn remove(&mut self, index: usize) -> Node {
        self.edit(|v| v.remove(index))
    }

    pub fn retain(&mut self, f: impl FnMut(&Node) -> bool) {
        self.edit(|v| v.retain(f))
    }

    pub fn truncate(&mut self, len: usize) {
        self.edit(|v| v.truncate(len))
    }

    pub fn clear(&mut self) {
        self.0 = None;
    }

    /// Remove `range` and return what it held (eagerly, unlike `Vec::drain`).
    pub fn drain(&mut self, range: impl std::ops::RangeBounds<usize>) -> std::vec::IntoIter<Node> {
        self.edit(|v| v.drain(range).collect::<Vec<Node>>().into_iter())
    }

    /// Move all of `other` to the end.
    pub fn append(&mut self, other: &mut Children) {
        let more = other.take();
        self.edit(|v| v.extend(more))
    }
}

impl Deref for Children {
    type Target = [Node];
    fn deref(&self) -> &[Node] {
        self.as_slice()
    }
}

impl DerefMut for Children {
    fn deref_mut(&mut self) -> &mut [Node] {
        self.as_mut_slice()
    }
}

impl From<Vec<Node>> for Children {
    fn from(v: Vec<Node>) -> Children {
        if v.is_empty() {
            Children(None)
        } else {
            Children(Some(v.into_boxed_slice()))
        }
    }
}

impl From<Children> for Vec<Node> {
    fn from(c: Children) -> Vec<Node> {
        c.into_vec()
    }
}

impl FromIterator<Node> for Children {
    fn from_iter<I: IntoIterator<Item = Node>>(it: I) -> Children {
        Children::from(it.into_iter().collect::<Vec<Node>>())
    }
}

impl Extend<Node> for Children {
    fn extend<I: IntoIterator<Item = Node>>(&mut self, it: I) {
        self.edit(|v| v.extend(it))
    }
}

impl IntoIterator for Children {
    type Item = Node;
    type IntoIter = std::vec::IntoIter<Node>;
    fn into_iter(self) -> Self::IntoIter {
        self.into_vec().into_iter()
    }
}

impl<'a> IntoIterator for &'a Children {
    type Item = &'a Node;
    type IntoIter = std::slice::Iter<'a, Node>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a> IntoIterator for &'a mut Children {
    type Item = &'a mut Node;
    type IntoIter = std::slice::IterMut<'a, Node>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl PartialEq for Children {
    fn eq(&self, o: &Children) -> bool {
        super::deep::eq_children(self, o)
    }
}

impl PartialEq<Vec<Node>> for Children {
    fn eq(&self, o: &Vec<Node>) -> bool {
        super::deep::eq_children(self, o)
    }
}

impl fmt::Debug for Children {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(std::mem::size_of::<Bytes>(), 16);
        assert_eq!(std::mem::size_of::<Value>(), 16);
        assert_eq!(std::mem::size_of::<Option<Values>>(), 16);
        assert_eq!(std::mem::size_of::<Children>(), 16);
        assert_eq!(std::mem::size_of::<Node>(), 48);
    }

    #[test]
    fn bytes_inline_and_heap() {
        for n in [0, 1, INLINE, INLINE + 1, MID, MID + 1, 100] {
            let s: Vec<u8> = (0..n as u8).collect();
            let b = Bytes::from(s.clone());
            assert_eq!(b, s);
            assert_eq!(b.len(), n);
            assert_eq!(Vec::<u8>::from(b.clone()), s);
            assert_eq!(Bytes::from_slice(&s), b);
            let mut buf = vec![b'x'; 3];
            buf.extend_from_slice(&s);
            buf.extend_from_slice(b"yyyyyyyyyyyyyyyyyyyy");
            assert_eq!(Bytes::from_range(&buf, 3, 3 + n), b);
            assert_eq!(Bytes::from_range(&buf[..3 + n], 3, 3 + n), b);
        }
        assert_eq!(Bytes::from("id"), b"id");
        assert!(Bytes::from("a").cmp(&Bytes::from("b")).is_lt());
    }

    #[test]
    fn values_behave_like_a_vec() {
        let mut v = Values::new();
        assert!(v.is_empty());
        v.push(Value::Int(1));
        assert_eq!(v, vec![Value::Int(1)]);
        v.insert(0, Value::Int(0));
        v.push(Value::Int(2));
        assert_eq!(v, vec![Value::Int(0), Value::Int(1), Value::Int(2)]);
        assert_eq!(v.remove(1), Value::Int(1));
        v[0] = Value::EmptyArray;
        assert_eq!(v.into_vec(), vec![Value::EmptyArray, Value::Int(2)]);
        let mut v = Values::from(vec![Value::Int(7)]);
        assert_eq!(v.remove(0), Value::Int(7));
        assert!(v.is_empty());
        v.insert(0, Value::Int(8));
        assert_eq!(v, vec![Value::Int(8)]);
    }

    #[test]
    fn children_behave_like_a_vec() {
        let mut c = Children::new();
        assert!(c.is_empty());
        assert_eq!(c, Children::from(Vec::new()));
        c.push(Node::int("a", 1));
        c.insert(0, Node::int("b", 2));
        let keys: Vec<&[u8]> = c.iter().map(|n| &n.key[..]).collect();
        assert_eq!(keys, [&b"b"[..], b"a"]);
        assert_eq!(c.clone().into_vec().len(), 2);
        c.retain(|n| n.key != b"b");
        assert_eq!(c.len(), 1);
        c.extend(vec![Node::int("c", 3), Node::int("d", 4)]);
        assert_eq!(c.drain(..2).count(), 2);
        assert_eq!(c.remove(0).key, b"d");
        assert_eq!(c, Children::new());
        c.push(Node::int("e", 5));
        assert_eq!(c.into_iter().count(), 1);
    }
}
