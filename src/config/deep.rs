//! Walks over trees of any depth without recursion.
//!
//! Trees come from outside: a request to the daemon, metadata read off a disk. A path
//! key (`a/b/c = 1`) nests one section per segment, so a few hundred kilobytes of text
//! make a tree hundreds of thousands of levels deep. Every walk that can meet such a
//! tree (dropping, cloning, comparing, writing, measuring) keeps its own stack on the
//! heap instead of recursing; dropping and cloning recurse for the first few levels
//! (all of an LVM tree, without allocating a stack) and go on with their own stack
//! below (docs/reliability.md, "Deep input and resource bounds").

use super::bytes::Children;
use super::tree::Node;

/// How deep `nodes` nest: 0 for an empty list, 1 when no node has children, one more
/// per level of sections below.
pub fn depth(nodes: &[Node]) -> usize {
    let mut max = 0;
    let mut stack: Vec<(&[Node], usize)> = vec![(nodes, 1)];
    while let Some((level, d)) = stack.pop() {
        if level.is_empty() {
            continue;
        }
        max = max.max(d);
        for n in level {
            if !n.children.is_empty() {
                stack.push((&n.children, d + 1));
            }
        }
    }
    max
}

/// Levels walked by plain recursion before a walk switches to its own stack: enough
/// for every tree LVM makes (no allocation for the stack), few enough frames for any
/// thread.
const RECURSE: usize = 16;

/// Free the children of `list`: each node is freed only after its own children were
/// moved out, so no drop recurses more than [`RECURSE`] levels.
pub(super) fn drop_children(list: Box<[Node]>) {
    drop_shallow(list, RECURSE)
}

fn drop_shallow(mut list: Box<[Node]>, budget: usize) {
    if budget == 0 {
        return drop_deep(list);
    }
    for n in list.iter_mut() {
        if let Some(kids) = n.children.take_box() {
            drop_shallow(kids, budget - 1);
        }
    }
}

fn drop_deep(list: Box<[Node]>) {
    let mut stack = vec![list];
    while let Some(mut level) = stack.pop() {
        for n in level.iter_mut() {
            if let Some(kids) = n.children.take_box() {
                stack.push(kids);
            }
        }
    }
}

/// A copy of `list`: by plain recursion for [`RECURSE`] levels, below that built
/// bottom-up with a stack of partly copied levels.
pub(super) fn clone_children(list: &[Node]) -> Box<[Node]> {
    clone_shallow(list, RECURSE)
}

fn clone_shallow(list: &[Node], budget: usize) -> Box<[Node]> {
    if budget == 0 {
        return clone_deep(list);
    }
    list.iter()
        .map(|n| Node {
            key: n.key.clone(),
            values: n.values.clone(),
            children: if n.children.is_empty() {
                Children::new()
            } else {
                Children::from_box(clone_shallow(&n.children, budget - 1))
            },
        })
        .collect()
}

fn clone_deep(list: &[Node]) -> Box<[Node]> {
    // one partly copied level: the source, and the copies made so far
    struct Level<'a> {
        src: &'a [Node],
        done: Vec<Node>,
    }
    let mut stack = vec![Level {
        src: list,
        done: Vec::with_capacity(list.len()),
    }];
    loop {
        let top = stack.last_mut().expect("a level");
        let i = top.done.len();
        if i == top.src.len() {
            let level = stack.pop().expect("a level");
            let copied = level.done.into_boxed_slice();
            match stack.last_mut() {
                // the node whose children these are is the last one copied above
                Some(up) => {
                    up.done.last_mut().expect("the parent").children = Children::from_box(copied)
                }
                None => return copied,
            }
            continue;
        }
        let n = &top.src[i];
        top.done.push(Node {
            key: n.key.clone(),
            values: n.values.clone(),
            children: Children::new(),
        });
        if !n.children.is_empty() {
            let src = &n.children[..];
            stack.push(Level {
                src,
                done: Vec::with_capacity(src.len()),
            });
        }
    }
}

/// Whether two lists are equal node by node (keys, values, children).
pub(super) fn eq_children(a: &[Node], b: &[Node]) -> bool {
    let mut stack: Vec<(&[Node], &[Node])> = vec![(a, b)];
    while let Some((a, b)) = stack.pop() {
        if a.len() != b.len() {
            return false;
        }
        for (x, y) in a.iter().zip(b) {
            if x.key != y.key || x.values != y.values {
                return false;
            }
            if !x.children.is_empty() || !y.children.is_empty() {
                stack.push((&x.children, &y.children));
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse_str, to_bytes, Value};

    /// A chain `n` sections deep ending in `x = 1`.
    fn chain(n: usize) -> Node {
        let mut node = Node::int("x", 1);
        for _ in 0..n {
            node = Node::section("s", vec![node]);
        }
        node
    }

    #[test]
    fn depth_counts_levels() {
        assert_eq!(depth(&[]), 0);
        assert_eq!(depth(&[Node::int("a", 1)]), 1);
        let d = parse_str("a { b { c = 1 } }\nd = 2\ne { }").unwrap();
        assert_eq!(depth(&d), 3);
        assert_eq!(depth(&[chain(7)]), 8);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn clone_eq_and_drop_of_a_million_levels() {
        // far beyond any stack: 1,000,000 levels
        let a = chain(1_000_000);
        let b = a.clone();
        assert!(a == b);
        assert_eq!(depth(std::slice::from_ref(&b)), 1_000_001);
        let mut c = chain(1_000_000);
        // change the innermost value
        let mut n = &mut c;
        while !n.children.is_empty() {
            n = &mut n.children[0];
        }
        n.values = Some(Value::Int(2).into());
        assert!(a != c);
        drop((a, b, c));
    }

    #[test]
    fn both_sides_of_the_recursion_budget() {
        // 40 levels with siblings: recursion for 16, the own stack below
        let mut n = Node::int("x", 1);
        for i in 0..40 {
            n = Node::section("s", vec![Node::int("a", i), n, Node::string("b", "v")]);
        }
        let m = n.clone();
        assert!(m == n);
        assert_eq!(
            to_bytes(std::slice::from_ref(&m)),
            to_bytes(std::slice::from_ref(&n))
        );
        assert_eq!(depth(std::slice::from_ref(&m)), 41);
        drop((m, n));
    }

    #[test]
    fn clone_keeps_order_and_shape() {
        let d =
            parse_str("a { b = 1 c { d = \"x\" } e = [1,2] }\nf { }\ng/h/i = 3\nj = 4").unwrap();
        let e = d.clone();
        assert_eq!(to_bytes(&e), to_bytes(&d));
        assert!(e == d);
        let mut f = d.clone();
        f[0].children[1].children[0].key = "D".into();
        assert!(f != d);
    }
}
