//! Parser for the dm_config text format, with libdm 2.02.188's lexical quirks
//! (see docs/compat.md and the protocol spec, section 2).
//!
//! Built for speed on large messages (a `dump` reply is 4 MB): nodes are built in place
//! on one stack (no recursion, one exact-size allocation per section, see `document`),
//! short keys and strings are copied inline into the node (`Bytes`), and line numbers
//! are only worked out when there is an error to report (`line_at`).

use super::tree::{Bytes, Children, Node, Value, Values};
use std::fmt;

/// A parse error with its position. `byte` and `column` are 1-based.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub byte: usize,
    pub line: usize,
    pub column: usize,
    pub message: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Parse error at byte {} (line {}, column {}): {}",
            self.byte, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for ParseError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    SectionB,
    SectionE,
    ArrayB,
    ArrayE,
    Comma,
    Eq,
    Int,
    Float,
    StringEscaped,
    StringQ,
    StringBare,
    Identifier,
    Eof,
}

struct Parser<'a> {
    s: &'a [u8],
    tb: usize,
    te: usize,
    t: Tok,
    key_is_creation_time: bool,
    /// The current `"` string token contains a backslash.
    escapes: bool,
    /// The current identifier or bare string contains a `/`.
    slash: bool,
    /// Each segment of a path key counts as a level of nesting (see [`parse_request`]).
    count_paths: bool,
}

const SPACE: u8 = 1;
/// Ends an identifier or bare string: white space, `#`, `=`, `{`, `}`.
const DELIM: u8 = 2;
/// Ends the scan of a `"` string: `"` and `\`.
const QUOTE: u8 = 4;

/// Character classes, indexed by byte.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let sp = [b' ', b'\t', b'\n', 0x0b, 0x0c, b'\r'];
    let mut i = 0;
    while i < sp.len() {
        t[sp[i] as usize] = SPACE | DELIM;
        i += 1;
    }
    t[b'#' as usize] = DELIM;
    t[b'=' as usize] = DELIM;
    t[b'{' as usize] = DELIM;
    t[b'}' as usize] = DELIM;
    t[b'"' as usize] = QUOTE;
    t[b'\\' as usize] = QUOTE;
    t
};

fn is_space(c: u8) -> bool {
    CLASS[c as usize] & SPACE != 0
}

/// Parse a document (the "without duplicate node check" flavour used on the wire):
/// every key occurrence becomes its own node, in document order. Input stops at the
/// first NUL byte. An empty document is an error, as in libdm.
pub fn parse(input: &[u8]) -> Result<Vec<Node>, ParseError> {
    parse_with(input, false)
}

/// [`parse`] for a request to the daemon: a path key nests a section per segment, and
/// those levels count towards [`MAX_DEPTH`] like braces do, so no request makes a tree
/// deeper than that. (LVM's own client never sends path keys; metadata read off a disk
/// goes through [`parse`], which accepts path keys of any length, as libdm does.)
pub fn parse_request(input: &[u8]) -> Result<Vec<Node>, ParseError> {
    parse_with(input, true)
}

/// The message of the error for input nested deeper than [`MAX_DEPTH`].
pub const TOO_DEEP: &str = "nesting too deep";

fn parse_with(input: &[u8], count_paths: bool) -> Result<Vec<Node>, ParseError> {
    // `contains` is a fast (word-at-a-time) search, `position` a byte loop
    let end = if input.contains(&0) {
        input.iter().position(|&c| c == 0).unwrap_or(input.len())
    } else {
        input.len()
    };
    let mut p = Parser {
        s: &input[..end],
        tb: 0,
        te: 0,
        t: Tok::Eof,
        key_is_creation_time: false,
        escapes: false,
        slash: false,
        count_paths,
    };
    p.next_token(Tok::SectionE);
    p.document().map_err(|e| *e)
}

/// Parse a `&str` document.
pub fn parse_str(input: &str) -> Result<Vec<Node>, ParseError> {
    parse(input.as_bytes())
}

/// Deepest nesting accepted: a node may sit inside this many sections.
pub const MAX_DEPTH: usize = 512;

/// Errors are boxed inside the parser: the rare error path should not make every
/// `Result` it returns (values, keys) larger.
type PResult<T> = Result<T, Box<ParseError>>;

/// Segments of a path key (a key containing `/`).
fn segments(key: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    key.split(|&c| c == b'/').filter(|s| !s.is_empty())
}

/// Turn a node whose key is a path into one node per segment: the node gets the last
/// segment, nested in a section per leading one (a key made of slashes only gives a
/// node with an empty key, as in libdm).
#[cold]
fn nest(mut node: Node) -> Node {
    let key = std::mem::take(&mut node.key);
    let mut segs = segments(&key).rev();
    node.key = Bytes::from_slice(segs.next().unwrap_or(b""));
    for seg in segs {
        node = Node::section(seg, vec![node]);
    }
    node
}

thread_local! {
    /// The node stack of `document`, kept (empty) between the parses of a thread, so
    /// that a parse does not grow a new one.
    static STACK: std::cell::Cell<Vec<Node>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Largest node stack kept between parses (in nodes).
const STACK_KEPT: usize = 4096;

/// A section whose children are being parsed.
struct Open {
    /// Where the section's node is on the node stack (its children follow it).
    at: usize,
    /// Its key is a path.
    path: bool,
    /// Levels it adds (more than one for a path key when they count).
    levels: usize,
}

impl<'a> Parser<'a> {
    #[cold]
    fn error(&self, message: &'static str) -> Box<ParseError> {
        let pos = self.tb.min(self.s.len());
        let line_start = self.s[..pos]
            .iter()
            .rposition(|&c| c == b'\n')
            .map(|i| i + 1)
            .unwrap_or(0);
        Box::new(ParseError {
            byte: pos + 1,
            line: self.line_at(pos),
            column: pos - line_start + 1,
            message,
        })
    }

    /// The line number libdm reports for the token at `pos`: it counts the newlines it
    /// skips between tokens, not those inside quoted strings. Only errors need it, so it
    /// is found by lexing the text again: every token is lexed right after the previous
    /// one (whatever the parser does with it), so this gives the same tokens.
    fn line_at(&self, pos: usize) -> usize {
        let mut lexer = Parser {
            s: self.s,
            tb: 0,
            te: 0,
            t: Tok::SectionE,
            key_is_creation_time: false,
            escapes: false,
            slash: false,
            count_paths: false,
        };
        let mut line = 1;
        loop {
            let gap_start = lexer.te;
            lexer.next_token(lexer.t);
            let gap = &self.s[gap_start..lexer.tb.min(pos).max(gap_start)];
            line += gap.iter().filter(|&&c| c == b'\n').count();
            if lexer.t == Tok::Eof || lexer.tb >= pos {
                return line;
            }
        }
    }

    /// Skip white space and comments from `te`; the next token starts at `tb`.
    #[inline]
    fn eat_space(&mut self) {
        let s = self.s;
        let mut te = self.te;
        while let Some(&c) = s.get(te) {
            if is_space(c) {
                te += 1;
            } else if c == b'#' {
                te += s[te..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .unwrap_or(s.len() - te);
            } else {
                break;
            }
        }
        self.tb = te;
        self.te = te;
    }

    fn next_token(&mut self, prev: Tok) {
        self.eat_space();
        let s = self.s;
        let n = s.len();
        let mut te = self.tb;
        let c = match s.get(te) {
            Some(&c) => c,
            None => {
                self.t = Tok::Eof;
                return;
            }
        };
        let values_allowed = matches!(prev, Tok::Eq | Tok::ArrayB | Tok::Comma);
        te += 1;
        self.t = match c {
            b'{' => Tok::SectionB,
            b'}' => Tok::SectionE,
            b'[' => Tok::ArrayB,
            b']' => Tok::ArrayE,
            b',' => Tok::Comma,
            b'=' => Tok::Eq,
            b'"' => {
                self.escapes = false;
                loop {
                    match s[te..].iter().position(|&d| CLASS[d as usize] & QUOTE != 0) {
                        None => {
                            te = n;
                            break;
                        }
                        Some(i) if s[te + i] == b'"' => {
                            te += i + 1;
                            break;
                        }
                        Some(i) => {
                            // a backslash: skip it and the byte it escapes
                            self.escapes = true;
                            te = (te + i + 2).min(n);
                        }
                    }
                }
                Tok::StringEscaped
            }
            b'\'' => {
                match s[te..].iter().position(|&d| d == b'\'') {
                    Some(i) => te += i + 1,
                    None => te = n,
                }
                Tok::StringQ
            }
            b'.' | b'0'..=b'9' | b'+' | b'-' if values_allowed => {
                let mut t = if c == b'.' { Tok::Float } else { Tok::Int };
                while let Some(&d) = s.get(te) {
                    if d.is_ascii_digit() {
                        te += 1;
                    } else if d == b'.' && t != Tok::Float {
                        t = Tok::Float;
                        te += 1;
                    } else {
                        break;
                    }
                }
                t
            }
            _ => {
                let mut slash = c == b'/';
                while let Some(&d) = s.get(te) {
                    if CLASS[d as usize] & DELIM != 0 {
                        break;
                    }
                    slash |= d == b'/';
                    te += 1;
                }
                self.slash = slash;
                if values_allowed {
                    Tok::StringBare
                } else {
                    Tok::Identifier
                }
            }
        };
        self.te = te;
    }

    fn expect(&mut self, t: Tok) -> PResult<()> {
        if self.t != t {
            return Err(self.error("unexpected token"));
        }
        self.next_token(t);
        Ok(())
    }

    fn tok(&self) -> &'a [u8] {
        &self.s[self.tb..self.te]
    }

    /// Contents of a quoted string token with the quotes stripped (libdm strips
    /// the first and the last byte of the token, even if it was unterminated).
    #[inline(always)]
    fn string_tok(&self) -> PResult<&'a [u8]> {
        if self.te < self.tb + 2 {
            let mut e = self.error("expected a string token.");
            e.byte += 1;
            return Err(e);
        }
        Ok(&self.s[self.tb + 1..self.te - 1])
    }

    /// The contents of the current `"` string token, unescaped.
    #[inline(always)]
    fn escaped_tok(&self) -> PResult<Bytes> {
        let raw = self.string_tok()?;
        Ok(if self.escapes {
            Bytes::from(unescape_double_quotes(raw))
        } else {
            Bytes::from_range(self.s, self.tb + 1, self.te - 1)
        })
    }

    /// The whole document. Sections are parsed without recursion: the nodes parsed so
    /// far sit on one stack, and a section takes its children off it (in one exact-size
    /// allocation) when it closes.
    fn document(&mut self) -> PResult<Vec<Node>> {
        let mut nodes: Vec<Node> = STACK.take();
        let mut open: Vec<Open> = Vec::new();
        // how many levels the open sections make
        let mut depth = 0usize;
        loop {
            // close the sections that end here; stop at the end of the document
            loop {
                match (open.last(), self.t) {
                    (Some(o), Tok::SectionE) => {
                        let (at, path) = (o.at, o.path);
                        depth -= o.levels;
                        open.pop();
                        self.next_token(Tok::SectionE);
                        let children = Children::from(nodes.split_off(at + 1));
                        let section = nodes.last_mut().expect("the open section");
                        section.children = children;
                        if path {
                            let n = nodes.pop().expect("the open section");
                            nodes.push(nest(n));
                        }
                    }
                    (Some(_), Tok::Eof) => return Err(self.error("unexpected token")),
                    (None, Tok::Eof) => {
                        if nodes.is_empty() {
                            return Err(self.error("empty document"));
                        }
                        if nodes.capacity() > STACK_KEPT {
                            // a big document: hand the stack over rather than copy it
                            // (a copy would double the peak memory of a parse)
                            nodes.shrink_to_fit();
                            return Ok(nodes);
                        }
                        // (moved out, so that the stack keeps its buffer)
                        let mut root = Vec::with_capacity(nodes.len());
                        root.append(&mut nodes);
                        STACK.set(nodes);
                        return Ok(root);
                    }
                    _ => break,
                }
            }
            // one node, at nesting depth open.len(): it goes on the stack at once and
            // is completed there (cheaper than building it and moving it there)
            // (without counted paths, depth is open.len())
            if depth > MAX_DEPTH {
                return Err(self.error(TOO_DEEP));
            }
            let at = nodes.len();
            nodes.push(Node::default());
            let key_at = self.tb;
            let path = self.key_to(&mut nodes[at].key)?;
            let levels = if path && self.count_paths {
                let levels = segments(&nodes[at].key).count().max(1);
                if depth + levels - 1 > MAX_DEPTH {
                    // reported at the key
                    self.tb = key_at;
                    return Err(self.error(TOO_DEEP));
                }
                levels
            } else {
                1
            };
            if self.t == Tok::SectionB {
                self.next_token(Tok::SectionB);
                depth += levels;
                open.push(Open { at, path, levels });
            } else {
                self.expect(Tok::Eq)?;
                let key = &nodes[at].key;
                let last = if path {
                    segments(key).next_back().unwrap_or(key)
                } else {
                    key
                };
                self.key_is_creation_time = last == b"creation_time";
                self.value_to(&mut nodes[at].values)?;
                if path {
                    let n = nodes.pop().expect("the node");
                    nodes.push(nest(n));
                }
            }
        }
    }

    /// The key, written to `dst`; returns whether it is a path (contains a `/`).
    /// Keys and values are written straight into the node rather than returned: moving
    /// these small byte-packed enums around costs more than making them.
    #[inline(always)]
    fn key_to(&mut self, dst: &mut Bytes) -> PResult<bool> {
        let path = match self.t {
            Tok::StringEscaped => {
                *dst = self.escaped_tok()?;
                dst.contains(&b'/')
            }
            Tok::StringQ => {
                *dst = Bytes::from_slice(self.string_tok()?);
                dst.contains(&b'/')
            }
            Tok::Identifier => {
                dst.set_range(self.s, self.tb, self.te);
                self.slash
            }
            _ => return Err(self.error("unexpected token")),
        };
        self.next_token(self.t);
        if dst.is_empty() {
            return Err(self.error("empty section identifier"));
        }
        Ok(path)
    }

    /// The value list of a value node, written to `dst` (which is `None`).
    #[inline(always)]
    fn value_to(&mut self, dst: &mut Option<Values>) -> PResult<()> {
        if self.t != Tok::ArrayB {
            let vs = dst.get_or_insert_with(|| Values::one(Value::EmptyArray));
            return self.scalar_to(&mut vs[0]);
        }
        self.next_token(Tok::ArrayB);
        let mut vs = Vec::new();
        while self.t != Tok::ArrayE {
            vs.push(Value::EmptyArray);
            let last = vs.len() - 1;
            self.scalar_to(&mut vs[last])?;
            if self.t == Tok::Comma {
                self.next_token(Tok::Comma);
            }
        }
        self.next_token(Tok::ArrayE);
        if vs.is_empty() {
            vs.push(Value::EmptyArray);
        }
        *dst = Some(Values::from(vs));
        Ok(())
    }

    /// An INT token's value: C `strtoll(token, NULL, 0)`, which reads on past the token
    /// (`0x1f` is one INT token "0" worth 31). Plain decimal tokens are read directly.
    #[inline(always)]
    fn int_value(&self) -> Option<i64> {
        let tok = self.tok();
        match tok {
            [b'0'] if !matches!(self.s.get(self.te), Some(b'x' | b'X')) => return Some(0),
            [b'1'..=b'9', rest @ ..] if rest.len() < 18 => {
                let mut v = 0i64;
                for &d in tok {
                    v = v * 10 + (d - b'0') as i64;
                }
                return Some(v);
            }
            _ => {}
        }
        strtoll(&self.s[self.tb..])
    }

    /// One value, written to `dst` (an `EmptyArray` placeholder): values are written
    /// in place rather than returned, see `key_to`.
    #[inline(always)]
    fn scalar_to(&mut self, dst: &mut Value) -> PResult<()> {
        match self.t {
            Tok::Int => {
                *dst = Value::Int(match self.int_value() {
                    Some(i) => i,
                    None if self.key_is_creation_time => 1527120000,
                    None => return Err(self.error("Failed to read int token.")),
                })
            }
            Tok::StringBare => set_str(dst, self.s, self.tb, self.te),
            Tok::StringEscaped if !self.escapes => {
                self.string_tok()?;
                set_str(dst, self.s, self.tb + 1, self.te - 1)
            }
            Tok::StringEscaped => *dst = Value::Str(self.escaped_tok()?),
            Tok::StringQ => *dst = Value::Str(Bytes::from_slice(self.string_tok()?)),
            Tok::Float => {
                // libdm keeps FLOAT values in a C float
                *dst = Value::Float(match strtod(&self.s[self.tb..]) {
                    Some(f) => (f as f32) as f64,
                    None => return Err(self.error("Failed to read float token.")),
                })
            }
            _ => return Err(self.error("expected a value")),
        }
        self.next_token(self.t);
        Ok(())
    }
}

/// Make `dst` the string `s[start..end]`, copied in place.
#[inline(always)]
fn set_str(dst: &mut Value, s: &[u8], start: usize, end: usize) {
    *dst = Value::Str(Bytes::new());
    if let Value::Str(b) = dst {
        b.set_range(s, start, end);
    }
}

/// `\"` becomes `"` and `\\` becomes `\`; every other backslash is kept.
pub fn unescape_double_quotes(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' && i + 1 < s.len() && (s[i + 1] == b'"' || s[i + 1] == b'\\') {
            out.push(s[i + 1]);
            i += 2;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// C `strtoll(s, NULL, 0)`: None on overflow (ERANGE).
fn strtoll(s: &[u8]) -> Option<i64> {
    let mut i = 0;
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let mut base = 10u32;
    if i < s.len() && s[i] == b'0' {
        if i + 2 < s.len() && (s[i + 1] == b'x' || s[i + 1] == b'X') && s[i + 2].is_ascii_hexdigit()
        {
            base = 16;
            i += 2;
        } else {
            base = 8;
        }
    }
    // accumulate as negative magnitude to cover i64::MIN
    let mut acc: i128 = 0;
    let mut overflow = false;
    while i < s.len() {
        let d = match (s[i] as char).to_digit(base) {
            Some(d) => d as i128,
            None => break,
        };
        // once out of range, only consume the remaining digits (the i128 would
        // overflow too after 38 of them)
        if !overflow {
            acc = acc * base as i128 + d;
            overflow = acc > (i64::MAX as i128) + 1;
        }
        i += 1;
    }
    if overflow {
        return None;
    }
    let v = if neg { -acc } else { acc };
    if v > i64::MAX as i128 || v < i64::MIN as i128 {
        return None;
    }
    Some(v as i64)
}

/// C `strtod()` for the decimal forms a FLOAT token can start; None on ERANGE.
fn strtod(s: &[u8]) -> Option<f64> {
    let mut i = 0;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        i += 1;
    }
    let mant_start = i;
    let mut digits = 0;
    let mut nonzero = false;
    while i < s.len() && s[i].is_ascii_digit() {
        nonzero |= s[i] != b'0';
        digits += 1;
        i += 1;
    }
    if i < s.len() && s[i] == b'.' {
        i += 1;
        while i < s.len() && s[i].is_ascii_digit() {
            nonzero |= s[i] != b'0';
            digits += 1;
            i += 1;
        }
    }
    if digits == 0 {
        return Some(0.0);
    }
    let _ = mant_start;
    if i < s.len() && (s[i] == b'e' || s[i] == b'E') {
        let mut j = i + 1;
        if j < s.len() && (s[j] == b'+' || s[j] == b'-') {
            j += 1;
        }
        if j < s.len() && s[j].is_ascii_digit() {
            while j < s.len() && s[j].is_ascii_digit() {
                j += 1;
            }
            i = j;
        }
    }
    let text = std::str::from_utf8(&s[..i]).ok()?;
    let text = text.strip_suffix('.').unwrap_or(text);
    let v: f64 = if text.ends_with(['+', '-']) || text.is_empty() {
        0.0
    } else {
        text.parse().ok()?
    };
    if v.is_infinite() || (nonzero && (v == 0.0 || v.is_subnormal())) {
        return None;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tree::find;

    fn one(s: &str) -> Node {
        let mut v = parse_str(s).unwrap();
        assert_eq!(v.len(), 1);
        v.remove(0)
    }

    #[test]
    fn layouts_and_values() {
        let d = parse_str("request=\"x\"\ntoken =\"y\"\npid = 5\n").unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(d[1].key, b"token");
        assert_eq!(
            d[2].values.clone().map(Vec::from),
            Some(vec![Value::Int(5)])
        );
        let d = parse_str("pvmeta  {\n\tdevice =1832\n\tmda0 {\n\t\tignore =0\n\t}\n}\n").unwrap();
        assert_eq!(
            find(&d, "pvmeta/mda0/ignore")
                .unwrap()
                .values
                .clone()
                .map(Vec::from),
            Some(vec![Value::Int(0)])
        );
    }

    #[test]
    fn numbers_follow_strtoll() {
        assert_eq!(
            one("a=010").values.clone().map(Vec::from),
            Some(vec![Value::Int(8)])
        );
        assert_eq!(
            one("a=+5").values.clone().map(Vec::from),
            Some(vec![Value::Int(5)])
        );
        assert_eq!(
            one("a=-").values.clone().map(Vec::from),
            Some(vec![Value::Int(0)])
        );
        assert_eq!(
            one("a=-9223372036854775808").values.clone().map(Vec::from),
            Some(vec![Value::Int(i64::MIN)])
        );
        assert!(parse_str("a=9223372036854775808").is_err());
        // more digits than an i128 holds (found by fuzzing: an overflow panic with
        // overflow checks on); ERANGE, or the creation_time default
        let long = "4567890123456789012345678901234567890123456789012345678901234567890";
        assert!(parse_str(&format!("a={long}\nb=1")).is_err());
        assert!(parse_str(&format!("a=-{long}")).is_err());
        assert!(parse_str(&format!("a=0{}", "1234567".repeat(10))).is_err());
        assert!(parse_str(&format!("a=0x{long}{long}")).is_err());
        assert_eq!(
            one(&format!("creation_time={long}"))
                .values
                .clone()
                .map(Vec::from),
            Some(vec![Value::Int(1527120000)])
        );
        let d = parse_str("creation_time=99999999999999999999\nb=1\nc=[1,99999999999999999999]");
        assert!(d.is_err());
        let d = parse_str("creation_time=99999999999999999999\nb=1\nc=-1").unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(
            d[1].values.clone().map(Vec::from),
            Some(vec![Value::Int(1)])
        );
        assert_eq!(
            one("creation_time=99999999999999999999")
                .values
                .clone()
                .map(Vec::from),
            Some(vec![Value::Int(1527120000)])
        );
        assert_eq!(
            one("a=1.5").values.clone().map(Vec::from),
            Some(vec![Value::Float(1.5)])
        );
        assert_eq!(
            one("a=.5").values.clone().map(Vec::from),
            Some(vec![Value::Float(0.5)])
        );
        // stored as a C float, as libdm does
        assert_eq!(
            one("a=1.1").values.clone().map(Vec::from),
            Some(vec![Value::Float(1.1f32 as f64)])
        );
        assert_eq!(
            one("a=16777217.0").values.clone().map(Vec::from),
            Some(vec![Value::Float(16777216.0)])
        );
        // 0x1f: strtoll reads 31, the tokenizer stops after "0"; the rest is a stray token
        assert!(parse_str("a=0x1f").is_err());
    }

    #[test]
    fn strings_and_arrays() {
        assert_eq!(
            one(r#"a="x\"y\\z\n""#).values.clone().map(Vec::from),
            Some(vec![Value::str(b"x\"y\\z\\n")])
        );
        assert_eq!(
            one("a='q\\'").values.clone().map(Vec::from),
            Some(vec![Value::str(b"q\\")])
        );
        assert_eq!(
            one("a=[]").values.clone().map(Vec::from),
            Some(vec![Value::EmptyArray])
        );
        assert_eq!(
            one("a=[1,2,]").values.clone().map(Vec::from),
            Some(vec![Value::Int(1), Value::Int(2)])
        );
        // commas are optional only where the next element is quoted: after a number
        // or bare string the lexer is not in value position (libdm; docs/reference/README.md lists this difference)
        assert_eq!(
            one("a=[\"x\" \"y\"]").values.clone().map(Vec::from),
            Some(vec![Value::str("x"), Value::str("y")])
        );
        assert!(parse_str("a=[1 2]").is_err());
        assert_eq!(
            one("a=[\"x\"]").values.clone().map(Vec::from),
            Some(vec![Value::str("x")])
        );
        assert_eq!(
            one("a=bare").values.clone().map(Vec::from),
            Some(vec![Value::str("bare")])
        );
    }

    #[test]
    fn paths_comments_dups() {
        let d = parse_str("# c\na/b = 1 # x\na=2\na=3").unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(
            find(&d, "a/b").unwrap().values.clone().map(Vec::from),
            Some(vec![Value::Int(1)])
        );
    }

    #[test]
    fn errors_have_positions() {
        let e = parse_str("").unwrap_err();
        assert_eq!(e.line, 1);
        let e = parse_str("a {\n b = 1\n").unwrap_err();
        assert_eq!(e.line, 3);
        let e = parse_str("a = 1\nb c").unwrap_err();
        assert_eq!((e.line, e.column), (2, 3));
        assert!(parse_str("\"\" = 1").is_err());
        assert!(parse_str("a = }").is_err());
        assert!(parse(b"a = 1\0garbage {").is_ok());
        assert!(parse(b"\0a=1").is_err());
    }

    #[test]
    fn path_keys_count_towards_the_depth_limit_of_requests() {
        // 513 levels: a node inside 512 sections, by braces, by a path, or mixed
        let braces = format!("{}x = 1{}", "a {\n".repeat(512), "}\n".repeat(512));
        let path = format!("{}x = 1", "a/".repeat(512));
        let mixed = format!("{}a/a/x = 1{}", "a {\n".repeat(510), "}\n".repeat(510));
        for ok in [&braces, &path, &mixed] {
            assert_eq!(
                crate::config::deep::depth(&parse_request(ok.as_bytes()).unwrap()),
                513
            );
        }
        let braces = format!("{}x = 1{}", "a {\n".repeat(513), "}\n".repeat(513));
        let path = format!("{}x = 1", "a/".repeat(513));
        let mixed = format!("{}a/a/a/x = 1{}", "a {\n".repeat(510), "}\n".repeat(510));
        let section = format!("{}x {{ }}", "a/".repeat(513));
        for deep in [&braces, &path, &mixed, &section] {
            let e = parse_request(deep.as_bytes()).unwrap_err();
            assert_eq!(e.message, TOO_DEEP);
        }
        // reported at the path key (line 511, column 1)
        let e = parse_request(mixed.as_bytes()).unwrap_err();
        assert_eq!((e.line, e.column, e.byte), (511, 1, 510 * 4 + 1));
        // metadata (parse) takes paths of any length: 200,000 segments (fewer under Miri)
        let n = if cfg!(miri) { 2_000 } else { 200_000 };
        let long = format!("{}x = 1", "a/".repeat(n));
        assert_eq!(
            crate::config::deep::depth(&parse(long.as_bytes()).unwrap()),
            n + 1
        );
        assert_eq!(parse(braces.as_bytes()).unwrap_err().message, TOO_DEEP);
    }
}
