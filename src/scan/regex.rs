//! The regular-expression dialect of libdevmapper (`dm_regex_create` /
//! `dm_regex_match`), as used by LVM's device filters and `preferred_names`.
//!
//! This is an independent implementation that reproduces libdm 1.02.172
//! (LVM2 2.02.188) behaviour exactly, quirks included. The behaviour was worked
//! out from reading the reference sources and is checked case by case against the
//! real library (`tests/data/regex/libdm-regex-cases.txt`, replayed by
//! `tests/regex_filter.rs`).
//!
//! # How libdm compiles a pattern list
//!
//! The N patterns are not parsed one by one. They are pasted into one expression
//! text, pattern `i` becoming `(.*(` P<sub>i</sub> `)` NUL `)`, the pieces joined
//! by `|`, and that text is parsed as a whole. The NUL byte is an ordinary
//! literal to the parser; it marks "pattern i has matched here". Consequences:
//!
//! * matching is a **search**: a pattern matches when it matches any substring
//!   of the subject (the `.*` prefix), unless anchored with `^` / `$`;
//! * a pattern with unbalanced brackets or parentheses bleeds into the
//!   surrounding text (e.g. an unterminated `[` swallows the following
//!   delimiters and part of the next pattern). Those cases are reproduced
//!   because we build and parse the very same text.
//!
//! # Syntax (what the parser accepts)
//!
//! * any byte other than the specials below is a literal;
//! * `.` is any byte except NUL, `\n` and `\r` (it **does** match the start and
//!   end markers, see anchors);
//! * `[set]`, `[^set]`: byte sets. Inside, `\` escapes the next byte (`\n`,
//!   `\r`, `\t` translate, anything else is literal), `a-z` is a range (given
//!   backwards it is swapped), a `-` right after `[` / `[^` (or after a NUL) is
//!   literal, and the byte after a `-` is taken verbatim as the range end even
//!   if it is `]` (so `[a-]` does not end at that `]`). `]` first in the set
//!   ends it (`[]` is the empty set). A negated set excludes NUL;
//! * `*`, `+`, `?` postfix (may be stacked: `a*?+`);
//! * `|` alternation, `(` `)` grouping;
//! * `^` and `$` are not assertions but the bytes 0x02 / 0x03: the subject is
//!   matched as 0x02, the subject bytes, 0x03. So `^`/`$` only make sense at
//!   the start / end, `.` and negated sets also match them (`a.` matches `"a"`),
//!   and a subject containing 0x02 / 0x03 bytes matches them too;
//! * `\` escapes: `\n`, `\r`, `\t`, anything else is the literal byte (`\^`,
//!   `\$`, `\.` ...).
//!
//! Parsing is lenient and works on the pasted text: a stray `)` closes the
//! wrapper's group early (`a)b` acts like `ab`), an unterminated `[` runs on
//! into the following text, and text the grammar cannot continue with is
//! ignored. Compilation fails (`Parse error in regex`, `Couldn't parse regex`)
//! when what is left is unusable, e.g. for the empty pattern, `*a`, `a|`,
//! `()`, `a(b` or `a[b`. It can also succeed while libdm logs an error: `|a`
//! leaves `(.*|a)`, which matches everything, after logging
//! `missing ')' in regular expression`; such messages are available from
//! [`Regex::log`].
//!
//! libdm then simplifies the tree by factoring common prefixes / suffixes out
//! of alternations. That step is not language-preserving in all cases (it
//! looks through `*`, `+`, `?` when searching for a common prefix, so
//! `(fa)*|fb` behaves like `f(a*|b)`); it is reproduced faithfully.
//!
//! # Matching
//!
//! `dm_regex_match` runs the position automaton over 0x02, the subject (up to
//! its first NUL) and 0x03, and returns the **highest pattern index** that
//! matched anywhere, or -1. When no position can consume the next byte (e.g. a
//! `\n` in the subject that no pattern mentions) the scan stops and the best
//! index seen so far is returned.
//!
//! The simulation here is a linear-time NFA (position set) walk: no
//! backtracking, memory bounded by the limits below (compilation fails with
//! [`RegexError::TooComplex`] instead of exhausting memory).
//!
//! # Deviations (undefined behaviour in libdm)
//!
//! libdm reads pattern bytes as signed `char` inside sets, in ranges and after
//! `\`; bytes >= 0x80 there (and a range ending at 0x7f) corrupt memory or loop
//! forever in libdm. Here they are simply unsigned bytes. Limits
//! ([`MAX_EXPRESSION_BYTES`], [`MAX_NESTING`], [`MAX_FOLLOW_ENTRIES`]) do not
//! exist in libdm.

use std::fmt;

/// Byte standing for the start of the subject (`^`).
pub const HAT_CHAR: u8 = 0x02;
/// Byte standing for the end of the subject (`$`).
pub const DOLLAR_CHAR: u8 = 0x03;
/// Byte marking the end of one pattern inside the combined expression.
const TARGET_TRANS: u8 = 0x00;

/// Longest combined expression text accepted (all patterns plus 7 bytes each).
pub const MAX_EXPRESSION_BYTES: usize = 1 << 20;
/// Deepest parenthesis nesting accepted.
pub const MAX_NESTING: usize = 1000;
/// Largest total size of the automaton's follow sets.
pub const MAX_FOLLOW_ENTRIES: usize = 1 << 23;

/// Why a pattern list could not be compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegexError {
    /// libdm rejects the expression. `log` holds the messages libdm logs, in
    /// order, ending with `"Couldn't parse regex"`.
    Parse { log: Vec<String> },
    /// Refused by this implementation's resource limits (libdm has none).
    TooComplex(&'static str),
}

impl fmt::Display for RegexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegexError::Parse { log } => f.write_str(&log.join(": ")),
            RegexError::TooComplex(what) => write!(f, "Regex too complex: {what}"),
        }
    }
}

impl std::error::Error for RegexError {}

/// A 256-bit byte set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
struct ByteSet([u64; 4]);

impl ByteSet {
    const EMPTY: ByteSet = ByteSet([0; 4]);
    const FULL: ByteSet = ByteSet([u64::MAX; 4]);

    fn single(b: u8) -> ByteSet {
        let mut s = ByteSet::EMPTY;
        s.insert(b);
        s
    }
    fn insert(&mut self, b: u8) {
        self.0[usize::from(b >> 6)] |= 1u64 << (b & 63);
    }
    fn remove(&mut self, b: u8) {
        self.0[usize::from(b >> 6)] &= !(1u64 << (b & 63));
    }
    fn contains(&self, b: u8) -> bool {
        self.0[usize::from(b >> 6)] & (1u64 << (b & 63)) != 0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Cat,
    Star,
    Plus,
    Or,
    Quest,
    Set,
}

/// Syntax tree node; children are arena indices.
#[derive(Clone, Copy, Debug)]
struct Node {
    kind: Kind,
    set: ByteSet,
    left: Option<usize>,
    right: Option<usize>,
}

/// The current token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    /// A byte set (literal, `.`, `[...]`, `^`, `$`, escape) in `Parser::set`.
    Set,
    /// One of `( ) * + ? |`.
    Sym(u8),
    /// End of input, or an unusable token (unterminated `[`).
    End,
}

struct Parser<'a> {
    /// The expression text followed by one NUL (the C string terminator, which
    /// the tokenizer may peek at).
    text: &'a [u8],
    end: usize,
    cursor: usize,
    tok: Tok,
    set: ByteSet,
    nodes: Vec<Node>,
    log: Vec<String>,
    nesting: usize,
    too_deep: bool,
}

impl Parser<'_> {
    fn byte(&self, i: usize) -> u8 {
        self.text.get(i).copied().unwrap_or(0)
    }

    fn single(&mut self, b: u8, at: usize) {
        self.tok = Tok::Set;
        self.cursor = at + 1;
        self.set = ByteSet::single(b);
    }

    fn next_token(&mut self) {
        let mut p = self.cursor;
        if p >= self.end {
            self.tok = Tok::End;
            return;
        }
        match self.text[p] {
            b'[' => {
                p += 1;
                let negated = self.byte(p) == b'^';
                if negated {
                    self.set = ByteSet::FULL;
                    self.set.remove(TARGET_TRANS);
                    p += 1;
                } else {
                    self.set = ByteSet::EMPTY;
                }
                // Previous byte added, for ranges; 0 means "none".
                let mut last: u8 = 0;
                while p < self.end && self.text[p] != b']' {
                    let mut range = false;
                    let c = if self.text[p] == b'\\' {
                        p += 1;
                        escaped(self.byte(p))
                    } else if self.text[p] == b'-' && last != 0 {
                        range = true;
                        p += 1;
                        if p == self.end {
                            // Unreachable for combined expressions, which
                            // always end with ')'. libdm would loop here.
                            self.log.push("Incomplete rangespecification".into());
                            self.tok = Tok::End;
                            return;
                        }
                        self.text[p]
                    } else {
                        self.text[p]
                    };
                    let c = if range {
                        let (lo, hi) = if last > c { (c, last) } else { (last, c) };
                        for b in lo..=hi {
                            if negated {
                                self.set.remove(b);
                            } else {
                                self.set.insert(b);
                            }
                        }
                        hi
                    } else {
                        if negated {
                            self.set.remove(c);
                        } else {
                            self.set.insert(c);
                        }
                        c
                    };
                    p += 1;
                    last = c;
                }
                if p >= self.end {
                    self.tok = Tok::End;
                    return;
                }
                self.tok = Tok::Set;
                self.cursor = p + 1;
            }
            c @ (b'(' | b')' | b'*' | b'+' | b'?' | b'|') => {
                self.tok = Tok::Sym(c);
                self.cursor = p + 1;
            }
            b'^' => self.single(HAT_CHAR, p),
            b'$' => self.single(DOLLAR_CHAR, p),
            b'.' => {
                self.tok = Tok::Set;
                self.cursor = p + 1;
                self.set = ByteSet::FULL;
                self.set.remove(b'\n');
                self.set.remove(b'\r');
                self.set.remove(0);
            }
            b'\\' => {
                p += 1;
                if p >= self.end {
                    self.log
                        .push("Badly quoted character at end of expression".into());
                    self.tok = Tok::End;
                    return;
                }
                let c = escaped(self.text[p]);
                self.single(c, p);
            }
            c => self.single(c, p),
        }
    }

    fn push(&mut self, kind: Kind, left: Option<usize>, right: Option<usize>) -> usize {
        self.nodes.push(Node {
            kind,
            set: ByteSet::EMPTY,
            left,
            right,
        });
        self.nodes.len() - 1
    }

    fn term(&mut self) -> Option<usize> {
        match self.tok {
            Tok::Set => {
                let n = self.push(Kind::Set, None, None);
                self.nodes[n].set = self.set;
                self.next_token();
                Some(n)
            }
            Tok::Sym(b'(') => {
                if self.nesting >= MAX_NESTING {
                    self.too_deep = true;
                    return None;
                }
                self.nesting += 1;
                self.next_token();
                let n = self.or_term();
                self.nesting -= 1;
                if self.tok != Tok::Sym(b')') {
                    self.log.push("missing ')' in regular expression".into());
                    return None;
                }
                self.next_token();
                n
            }
            _ => None,
        }
    }

    fn closure_term(&mut self) -> Option<usize> {
        let mut l = self.term()?;
        loop {
            let kind = match self.tok {
                Tok::Sym(b'*') => Kind::Star,
                Tok::Sym(b'+') => Kind::Plus,
                Tok::Sym(b'?') => Kind::Quest,
                _ => return Some(l),
            };
            l = self.push(kind, Some(l), None);
            self.next_token();
        }
    }

    /// A concatenation: stops (keeping what it has) at `|` or at the first
    /// token that does not start a term.
    fn cat_term(&mut self) -> Option<usize> {
        let mut items = vec![self.closure_term()?];
        while self.tok != Tok::Sym(b'|') {
            match self.closure_term() {
                Some(t) => items.push(t),
                None => break,
            }
        }
        Some(self.fold_right(Kind::Cat, items))
    }

    /// An alternation; any missing operand fails the whole alternation.
    fn or_term(&mut self) -> Option<usize> {
        let mut items = vec![self.cat_term()?];
        while self.tok == Tok::Sym(b'|') {
            self.next_token();
            match self.cat_term() {
                Some(t) => items.push(t),
                None => {
                    // libdm logs this once per enclosing '|' level.
                    for _ in 0..items.len() {
                        self.log.push("Badly formed 'or' expression".into());
                    }
                    return None;
                }
            }
        }
        Some(self.fold_right(Kind::Or, items))
    }

    /// `a b c` becomes `(a (b c))`, like the recursive grammar builds it.
    fn fold_right(&mut self, kind: Kind, items: Vec<usize>) -> usize {
        let mut it = items.into_iter().rev();
        let mut acc = it.next().expect("at least one item");
        for l in it {
            acc = self.push(kind, Some(l), Some(acc));
        }
        acc
    }
}

fn escaped(c: u8) -> u8 {
    match c {
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        c => c,
    }
}

/// The tree simplifier (common prefix / suffix factoring of alternations).
/// `leftmost` selects prefix (true) or suffix (false) mode; in suffix mode
/// "left" and "right" swap roles.
struct Optimiser<'a> {
    nodes: &'a mut Vec<Node>,
}

impl Optimiser<'_> {
    fn near(&self, n: usize, leftmost: bool) -> Option<usize> {
        if leftmost {
            self.nodes[n].left
        } else {
            self.nodes[n].right
        }
    }
    fn far(&self, n: usize, leftmost: bool) -> Option<usize> {
        if leftmost {
            self.nodes[n].right
        } else {
            self.nodes[n].left
        }
    }

    fn depth(&self, mut n: usize, leftmost: bool) -> usize {
        let mut count = 1;
        loop {
            let node = &self.nodes[n];
            if node.kind == Kind::Set || (!leftmost && node.kind == Kind::Or) {
                return count;
            }
            match self.near(n, leftmost) {
                Some(c) => {
                    count += 1;
                    n = c;
                }
                None => return count,
            }
        }
    }

    fn equal(&self, a: usize, b: usize) -> bool {
        let mut stack = vec![(a, b)];
        while let Some((a, b)) = stack.pop() {
            let (x, y) = (&self.nodes[a], &self.nodes[b]);
            if x.kind != y.kind {
                return false;
            }
            match x.kind {
                Kind::Cat | Kind::Or => {
                    stack.push((x.left.unwrap(), y.left.unwrap()));
                    stack.push((x.right.unwrap(), y.right.unwrap()));
                }
                Kind::Star | Kind::Plus | Kind::Quest => {
                    stack.push((x.left.unwrap(), y.left.unwrap()));
                }
                Kind::Set => {
                    // Never merge anything holding a pattern end marker.
                    if x.set.contains(TARGET_TRANS) || x.set != y.set {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// Finds, under the alternation `or`, two concatenations (one each side,
    /// at the same depth along the near-child chain) whose near children are
    /// equal.
    fn find_common(&self, or: usize, leftmost: bool) -> Option<(usize, usize)> {
        let mut left = self.nodes[or].left?;
        let mut right = self.nodes[or].right?;
        let mut ld = self.depth(left, leftmost);
        let mut rd = self.depth(right, leftmost);
        while ld > rd && self.nodes[left].kind != Kind::Or {
            left = self.near(left, leftmost)?;
            ld -= 1;
        }
        while rd > ld && self.nodes[right].kind != Kind::Or {
            right = self.near(right, leftmost)?;
            rd -= 1;
        }
        if ld != rd {
            return None;
        }
        while ld > 0 {
            let (lk, rk) = (self.nodes[left].kind, self.nodes[right].kind);
            if lk == Kind::Cat
                && rk == Kind::Cat
                && self.equal(self.near(left, leftmost)?, self.near(right, leftmost)?)
            {
                return Some((left, right));
            }
            if lk == Kind::Or || rk == Kind::Or {
                break;
            }
            ld -= 1;
            if ld == 0 {
                break;
            }
            left = self.near(left, leftmost)?;
            right = self.near(right, leftmost)?;
        }
        None
    }

    /// Re-associates `a|(b|c)` into `(a|b)|c` (prefix mode) or the mirror.
    fn rotate(&mut self, r: usize, leftmost: bool) -> bool {
        if self.nodes[r].kind != Kind::Or {
            return false;
        }
        let old = match self.far(r, leftmost) {
            Some(o) if self.nodes[o].kind == Kind::Or => o,
            _ => return false,
        };
        if leftmost {
            self.nodes[r].right = self.nodes[old].right;
            self.nodes[old].right = self.nodes[old].left;
            self.nodes[old].left = self.nodes[r].left;
            self.nodes[r].left = Some(old);
        } else {
            self.nodes[r].left = self.nodes[old].left;
            self.nodes[old].left = self.nodes[old].right;
            self.nodes[old].right = self.nodes[r].right;
            self.nodes[r].right = Some(old);
        }
        true
    }

    /// Lifts the common part out: each of the two concatenations is replaced
    /// by its far child, and the result is `common . r` (or `r . common`).
    fn exchange(&mut self, r: usize, lcat: usize, rcat: usize, leftmost: bool) -> usize {
        let new = if leftmost {
            Node {
                kind: Kind::Cat,
                set: ByteSet::EMPTY,
                left: self.nodes[lcat].left,
                right: Some(r),
            }
        } else {
            Node {
                kind: Kind::Cat,
                set: ByteSet::EMPTY,
                left: Some(r),
                right: self.nodes[rcat].right,
            }
        };
        self.nodes.push(new);
        let new = self.nodes.len() - 1;
        let lf = self
            .far(lcat, leftmost)
            .expect("concatenation has two children");
        self.nodes[lcat] = self.nodes[lf];
        let rf = self
            .far(rcat, leftmost)
            .expect("concatenation has two children");
        self.nodes[rcat] = self.nodes[rf];
        new
    }

    /// One bottom-up pass over the tree; returns the (possibly new) root.
    fn pass(&mut self, root: usize, changed: &mut bool) -> usize {
        #[derive(Clone, Copy)]
        enum Slot {
            Root,
            Left(usize),
            Right(usize),
        }
        let mut result = root;
        let mut stack = vec![(root, Slot::Root, false)];
        while let Some((n, slot, children_done)) = stack.pop() {
            if !children_done {
                stack.push((n, slot, true));
                let node = self.nodes[n];
                match node.kind {
                    Kind::Cat | Kind::Or => {
                        stack.push((node.right.unwrap(), Slot::Right(n), false));
                        stack.push((node.left.unwrap(), Slot::Left(n), false));
                    }
                    Kind::Star | Kind::Plus | Kind::Quest => {
                        stack.push((node.left.unwrap(), Slot::Left(n), false));
                    }
                    Kind::Set => {}
                }
                continue;
            }
            let mut r = n;
            if self.nodes[n].kind == Kind::Or {
                for leftmost in [true, false] {
                    if let Some((l, rc)) = self.find_common(n, leftmost) {
                        if !self.rotate(n, leftmost) {
                            r = self.exchange(n, l, rc, leftmost);
                        }
                        *changed = true;
                        break;
                    }
                }
            }
            match slot {
                Slot::Root => result = r,
                Slot::Left(p) => self.nodes[p].left = Some(r),
                Slot::Right(p) => self.nodes[p].right = Some(r),
            }
        }
        result
    }
}

/// A compiled pattern list (the equivalent of `struct dm_regex`).
#[derive(Clone, Debug)]
pub struct Regex {
    patterns: usize,
    /// Byte set of each position (leaf), in left-to-right order.
    sets: Vec<ByteSet>,
    /// For positions whose set holds the end marker: its rank (1-based) among
    /// such positions; 0 otherwise.
    finals: Vec<u32>,
    /// Positions that may follow each position.
    follow: Vec<Vec<u32>>,
    /// Positions that may come first.
    start: Vec<u32>,
    log: Vec<String>,
}

fn union_sorted(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Per-node attributes of the position construction.
struct Attr {
    nullable: bool,
    first: Vec<u32>,
    last: Vec<u32>,
}

impl Regex {
    /// Compiles `patterns` the way `dm_regex_create` does. Each pattern is
    /// taken up to its first NUL byte (C string semantics).
    pub fn new<P: AsRef<[u8]>>(patterns: &[P]) -> Result<Regex, RegexError> {
        let mut text = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            let p = p.as_ref();
            let p = &p[..p.iter().position(|&b| b == 0).unwrap_or(p.len())];
            if text.len() + p.len() + 8 > MAX_EXPRESSION_BYTES {
                return Err(RegexError::TooComplex("expression too long"));
            }
            text.extend_from_slice(b"(.*(");
            text.extend_from_slice(p);
            text.extend_from_slice(b")\0)");
            if i + 1 < patterns.len() {
                text.push(b'|');
            }
        }
        let end = text.len();
        text.push(0);

        let mut ps = Parser {
            text: &text,
            end,
            cursor: 0,
            tok: Tok::End,
            set: ByteSet::EMPTY,
            nodes: Vec::new(),
            log: Vec::new(),
            nesting: 0,
            too_deep: false,
        };
        ps.next_token();
        let root = ps.or_term();
        if ps.too_deep {
            return Err(RegexError::TooComplex("parentheses nested too deeply"));
        }
        let mut log = ps.log;
        let mut nodes = ps.nodes;
        let Some(mut root) = root else {
            log.push("Parse error in regex".into());
            log.push("Couldn't parse regex".into());
            return Err(RegexError::Parse { log });
        };

        let mut opt = Optimiser { nodes: &mut nodes };
        let mut passes = 0usize;
        let pass_limit = 4 * opt.nodes.len() + 16;
        loop {
            let mut changed = false;
            root = opt.pass(root, &mut changed);
            if !changed {
                break;
            }
            passes += 1;
            if passes > pass_limit {
                return Err(RegexError::TooComplex("simplification does not terminate"));
            }
        }

        Self::build(patterns.len(), &nodes, root, log)
    }

    /// Position-automaton construction (nullable / firstpos / lastpos /
    /// followpos) over the final tree.
    fn build(
        patterns: usize,
        nodes: &[Node],
        root: usize,
        log: Vec<String>,
    ) -> Result<Regex, RegexError> {
        // Post-order (left, right, node).
        let mut order = Vec::new();
        let mut stack = vec![(root, false)];
        while let Some((n, done)) = stack.pop() {
            if done {
                order.push(n);
                continue;
            }
            stack.push((n, true));
            if let Some(r) = nodes[n].right {
                stack.push((r, false));
            }
            if let Some(l) = nodes[n].left {
                stack.push((l, false));
            }
        }

        let mut sets = Vec::new();
        let mut finals = Vec::new();
        let mut follow: Vec<Vec<u32>> = Vec::new();
        let mut follow_total = 0usize;
        let mut next_final = 1u32;
        let mut attrs: Vec<Attr> = Vec::new();

        for &n in &order {
            let node = &nodes[n];
            let attr = match node.kind {
                Kind::Set => {
                    let pos = sets.len() as u32;
                    sets.push(node.set);
                    if node.set.contains(TARGET_TRANS) {
                        finals.push(next_final);
                        next_final += 1;
                    } else {
                        finals.push(0);
                    }
                    follow.push(Vec::new());
                    Attr {
                        nullable: false,
                        first: vec![pos],
                        last: vec![pos],
                    }
                }
                Kind::Cat | Kind::Or => {
                    let c2 = attrs.pop().expect("right operand");
                    let c1 = attrs.pop().expect("left operand");
                    if node.kind == Kind::Cat {
                        for &j in &c1.last {
                            let f = &mut follow[j as usize];
                            let before = f.len();
                            *f = union_sorted(f, &c2.first);
                            follow_total += f.len() - before;
                        }
                        Attr {
                            nullable: c1.nullable && c2.nullable,
                            first: if c1.nullable {
                                union_sorted(&c1.first, &c2.first)
                            } else {
                                c1.first
                            },
                            last: if c2.nullable {
                                union_sorted(&c1.last, &c2.last)
                            } else {
                                c2.last
                            },
                        }
                    } else {
                        Attr {
                            nullable: c1.nullable || c2.nullable,
                            first: union_sorted(&c1.first, &c2.first),
                            last: union_sorted(&c1.last, &c2.last),
                        }
                    }
                }
                Kind::Star | Kind::Plus | Kind::Quest => {
                    let c = attrs.pop().expect("operand");
                    if node.kind != Kind::Quest {
                        for &j in &c.last {
                            let f = &mut follow[j as usize];
                            let before = f.len();
                            *f = union_sorted(f, &c.first);
                            follow_total += f.len() - before;
                        }
                    }
                    Attr {
                        nullable: node.kind != Kind::Plus || c.nullable,
                        first: c.first,
                        last: c.last,
                    }
                }
            };
            if follow_total > MAX_FOLLOW_ENTRIES {
                return Err(RegexError::TooComplex("automaton too large"));
            }
            attrs.push(attr);
        }
        let top = attrs.pop().expect("root attributes");
        Ok(Regex {
            patterns,
            sets,
            finals,
            follow,
            start: top.first,
            log,
        })
    }

    /// Number of patterns compiled.
    pub fn pattern_count(&self) -> usize {
        self.patterns
    }

    /// Messages libdm logs (with `log_error`) while compiling this list even
    /// though compilation succeeds, e.g. `missing ')' in regular expression`.
    pub fn log(&self) -> &[String] {
        &self.log
    }

    /// `dm_regex_match`: the highest index of a pattern matching `subject`
    /// (searching, see the module documentation), or `None`. The subject is
    /// taken up to its first NUL byte.
    pub fn find(&self, subject: &[u8]) -> Option<usize> {
        let subject = &subject[..subject
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(subject.len())];
        let npos = self.sets.len();
        let mut seen = vec![false; npos];
        let mut cur: Vec<u32> = self.start.clone();
        let mut next: Vec<u32> = Vec::new();
        let mut best = 0u32;
        let input = std::iter::once(HAT_CHAR)
            .chain(subject.iter().copied())
            .chain(std::iter::once(DOLLAR_CHAR));
        for c in input {
            next.clear();
            let mut moved = false;
            for &p in &cur {
                if self.sets[p as usize].contains(c) {
                    moved = true;
                    for &q in &self.follow[p as usize] {
                        if !seen[q as usize] {
                            seen[q as usize] = true;
                            next.push(q);
                        }
                    }
                }
            }
            if !moved {
                break;
            }
            for &q in &next {
                seen[q as usize] = false;
                best = best.max(self.finals[q as usize]);
            }
            std::mem::swap(&mut cur, &mut next);
        }
        best.checked_sub(1).map(|b| b as usize)
    }

    /// `dm_regex_match` with its C return convention (-1 for no match).
    pub fn match_index(&self, subject: &[u8]) -> i32 {
        self.find(subject).map_or(-1, |i| i as i32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(pats: &[&str], s: &str) -> i32 {
        Regex::new(pats).unwrap().match_index(s.as_bytes())
    }

    #[test]
    fn search_not_anchored() {
        assert_eq!(idx(&["dev"], "/dev/sda"), 0);
        assert_eq!(idx(&["^dev"], "/dev/sda"), -1);
        assert_eq!(idx(&["^/dev"], "/dev/sda"), 0);
        assert_eq!(idx(&["sda$"], "/dev/sda"), 0);
        assert_eq!(idx(&["sd$"], "/dev/sda"), -1);
    }

    #[test]
    fn highest_index_wins() {
        assert_eq!(idx(&["a", "b"], "ab"), 1);
        assert_eq!(idx(&["a", "b"], "a"), 0);
        assert_eq!(idx(&["a", "b", "c"], "xyz"), -1);
    }

    #[test]
    fn dot_and_negated_sets_match_markers() {
        assert_eq!(idx(&["a."], "a"), 0);
        assert_eq!(idx(&["a[^b]"], "a"), 0);
        assert_eq!(idx(&["a.b"], "a"), -1);
        assert_eq!(idx(&["a.b"], "a\nb"), -1);
    }

    #[test]
    fn lenient_parse() {
        // The pattern text is pasted into `(.*(P)\0)`, so a stray ')' closes
        // the wrapper's group and the rest still follows: `a)b` acts as `ab`.
        assert_eq!(idx(&["a)b"], "a"), -1);
        assert_eq!(idx(&["a)b"], "ab"), 0);
        // `|a` leaves `(.*|a)\0`: matches everything, with a logged error.
        let r = Regex::new(&["|a"]).unwrap();
        assert_eq!(r.log(), ["missing ')' in regular expression"]);
        assert_eq!(r.match_index(b"xyz"), 0);
        assert_eq!(idx(&["(|a)"], "a"), -1);
    }

    #[test]
    fn parse_errors() {
        for p in ["", "*a", "a|", "()", "+", "a[b", "a(b"] {
            match Regex::new(&[p]) {
                Err(RegexError::Parse { log }) => {
                    assert_eq!(log.last().unwrap(), "Couldn't parse regex", "{p:?}")
                }
                other => panic!("{p:?}: {other:?}"),
            }
        }
        assert!(Regex::new::<&str>(&[]).is_err());
    }

    #[test]
    fn optimiser_quirk() {
        // libdm turns (fa)*|fb into f(a*|b).
        assert_eq!(idx(&["(fa)*|fb"], "zzz"), -1);
        assert_eq!(idx(&["(fa)*|fb"], "f"), 0);
        assert_eq!(idx(&["(fa)*|fb"], "xfafa"), 0);
    }

    #[test]
    fn sets_and_ranges() {
        assert_eq!(idx(&["^x[a-c]$"], "xb"), 0);
        assert_eq!(idx(&["^x[c-a]$"], "xb"), 0);
        assert_eq!(idx(&["^x[-a]$"], "x-"), 0);
        assert_eq!(idx(&["^x[]$"], "x"), -1);
        assert_eq!(idx(&["^x[^a-c]$"], "xd"), 0);
        assert_eq!(idx(&["^x[^a-c]$"], "xb"), -1);
        // The byte after '-' is the range end even if it is ']'.
        // `[a-]b]` is the set `]`..`a` plus `b`.
        assert_eq!(idx(&["^x[a-]b]$"], "x^"), 0);
        assert_eq!(idx(&["^x[a-]b]$"], "xb"), 0);
        assert_eq!(idx(&["^x[a-]b]$"], "x^b"), -1);
        assert_eq!(idx(&["^x[\\]]$"], "x]"), 0);
        assert_eq!(idx(&["^x[\\n]$"], "x\n"), 0);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let p = "(".repeat(5000) + "a" + &")".repeat(5000);
        assert!(matches!(
            Regex::new(&[p.as_str()]),
            Err(RegexError::TooComplex(_))
        ));
        let p = "(".repeat(500) + "a" + &")".repeat(500);
        assert_eq!(Regex::new(&[p.as_str()]).unwrap().match_index(b"a"), 0);
    }

    #[test]
    fn long_patterns_do_not_overflow_the_stack() {
        let p = "ab".repeat(20000);
        let r = Regex::new(&[p.as_str(), "x|y|z"]).unwrap();
        assert_eq!(r.match_index(b"zz"), 1);
        assert_eq!(r.match_index(b"abab"), -1);
        let p = "ab".repeat(300);
        let r = Regex::new(&[p.as_str(), "x|y|z"]).unwrap();
        assert_eq!(r.match_index(p.as_bytes()), 0);
        let alts: Vec<String> = (0..3000).map(|i| format!("^/dev/sd{i}$")).collect();
        let r = Regex::new(&alts).unwrap();
        assert_eq!(r.match_index(b"/dev/sd2999"), 2999);
        assert_eq!(r.match_index(b"/dev/sd3000"), -1);
    }
}
