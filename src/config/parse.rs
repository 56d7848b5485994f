//! Parser for the dm_config text format, with libdm 2.02.188's lexical quirks
//! (see docs/compat.md and the protocol spec, section 2).

use super::tree::{Node, Value};
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
    line: usize,
    key_is_creation_time: bool,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Parse a document (the "without duplicate node check" flavour used on the wire):
/// every key occurrence becomes its own node, in document order. Input stops at the
/// first NUL byte. An empty document is an error, as in libdm.
pub fn parse(input: &[u8]) -> Result<Vec<Node>, ParseError> {
    let end = input.iter().position(|&c| c == 0).unwrap_or(input.len());
    let mut p = Parser {
        s: &input[..end],
        tb: 0,
        te: 0,
        t: Tok::Eof,
        line: 1,
        key_is_creation_time: false,
    };
    p.next_token(Tok::SectionE);
    let mut root = Vec::new();
    while p.t != Tok::Eof {
        p.section(&mut root, 0)?;
    }
    if root.is_empty() {
        return Err(p.error("empty document"));
    }
    Ok(root)
}

/// Parse a `&str` document.
pub fn parse_str(input: &str) -> Result<Vec<Node>, ParseError> {
    parse(input.as_bytes())
}

const MAX_DEPTH: usize = 512;

impl<'a> Parser<'a> {
    fn error(&self, message: &'static str) -> ParseError {
        let pos = self.tb.min(self.s.len());
        let line_start = self.s[..pos]
            .iter()
            .rposition(|&c| c == b'\n')
            .map(|i| i + 1)
            .unwrap_or(0);
        ParseError {
            byte: pos + 1,
            line: self.line,
            column: pos - line_start + 1,
            message,
        }
    }

    fn at(&self, i: usize) -> u8 {
        self.s[i]
    }

    fn eat_space(&mut self) {
        let n = self.s.len();
        while self.tb != n {
            if self.te < n && self.at(self.te) == b'#' {
                while self.te < n && self.at(self.te) != b'\n' {
                    self.te += 1;
                }
            } else if self.te >= n || !is_space(self.at(self.te)) {
                break;
            }
            while self.te < n && is_space(self.at(self.te)) {
                if self.at(self.te) == b'\n' {
                    self.line += 1;
                }
                self.te += 1;
            }
            self.tb = self.te;
        }
    }

    fn next_token(&mut self, prev: Tok) {
        let n = self.s.len();
        self.tb = self.te;
        self.eat_space();
        if self.tb >= n {
            self.t = Tok::Eof;
            return;
        }
        let values_allowed = matches!(prev, Tok::Eq | Tok::ArrayB | Tok::Comma);
        let mut te = self.te;
        let c = self.at(te);
        self.t = Tok::Int;
        match c {
            b'{' => {
                self.t = Tok::SectionB;
                te += 1;
            }
            b'}' => {
                self.t = Tok::SectionE;
                te += 1;
            }
            b'[' => {
                self.t = Tok::ArrayB;
                te += 1;
            }
            b']' => {
                self.t = Tok::ArrayE;
                te += 1;
            }
            b',' => {
                self.t = Tok::Comma;
                te += 1;
            }
            b'=' => {
                self.t = Tok::Eq;
                te += 1;
            }
            b'"' => {
                self.t = Tok::StringEscaped;
                te += 1;
                while te < n && self.at(te) != b'"' {
                    if self.at(te) == b'\\' && te + 1 < n {
                        te += 1;
                    }
                    te += 1;
                }
                if te < n {
                    te += 1;
                }
            }
            b'\'' => {
                self.t = Tok::StringQ;
                te += 1;
                while te < n && self.at(te) != b'\'' {
                    te += 1;
                }
                if te < n {
                    te += 1;
                }
            }
            b'.' | b'0'..=b'9' | b'+' | b'-' if values_allowed => {
                if c == b'.' {
                    self.t = Tok::Float;
                }
                te += 1;
                while te < n {
                    let d = self.at(te);
                    if d.is_ascii_digit() {
                        te += 1;
                        continue;
                    }
                    if d == b'.' && self.t != Tok::Float {
                        self.t = Tok::Float;
                        te += 1;
                        continue;
                    }
                    break;
                }
            }
            _ => {
                while te < n {
                    let d = self.at(te);
                    if is_space(d) || d == b'#' || d == b'=' || d == b'{' || d == b'}' {
                        break;
                    }
                    te += 1;
                }
                self.t = if values_allowed {
                    Tok::StringBare
                } else {
                    Tok::Identifier
                };
            }
        }
        self.te = te;
    }

    fn expect(&mut self, t: Tok) -> Result<(), ParseError> {
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
    fn string_tok(&self) -> Result<&'a [u8], ParseError> {
        if self.te < self.tb + 2 {
            let mut e = self.error("expected a string token.");
            e.byte += 1;
            return Err(e);
        }
        Ok(&self.s[self.tb + 1..self.te - 1])
    }

    fn section(&mut self, parent: &mut Vec<Node>, depth: usize) -> Result<(), ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        let key: Vec<u8> = match self.t {
            Tok::StringEscaped => {
                let k = unescape_double_quotes(self.string_tok()?);
                self.expect(Tok::StringEscaped)?;
                k
            }
            Tok::StringQ => {
                let k = self.string_tok()?.to_vec();
                self.expect(Tok::StringQ)?;
                k
            }
            _ => {
                let k = self.tok().to_vec();
                self.expect(Tok::Identifier)?;
                k
            }
        };
        if key.is_empty() {
            return Err(self.error("empty section identifier"));
        }
        // A key containing '/' is a path: make one node per segment.
        let segs: Vec<&[u8]> = key
            .split(|&c| c == b'/')
            .filter(|s| !s.is_empty())
            .collect();
        let mut node = if self.t == Tok::SectionB {
            self.expect(Tok::SectionB)?;
            let mut children = Vec::new();
            while self.t != Tok::SectionE {
                if self.t == Tok::Eof {
                    return Err(self.error("unexpected token"));
                }
                self.section(&mut children, depth + 1)?;
            }
            self.expect(Tok::SectionE)?;
            Node {
                key: Vec::new(),
                values: None,
                children,
            }
        } else {
            self.expect(Tok::Eq)?;
            let last = segs.last().copied().unwrap_or(&key[..]);
            self.key_is_creation_time = last == b"creation_time";
            let values = self.value()?;
            Node {
                key: Vec::new(),
                values: Some(values),
                children: Vec::new(),
            }
        };
        if segs.is_empty() {
            // A key made of slashes only: libdm creates a node with an empty key.
            node.key = Vec::new();
            parent.push(node);
            return Ok(());
        }
        node.key = segs[segs.len() - 1].to_vec();
        for seg in segs[..segs.len() - 1].iter().rev() {
            node = Node::section(seg, vec![node]);
        }
        parent.push(node);
        Ok(())
    }

    fn value(&mut self) -> Result<Vec<Value>, ParseError> {
        if self.t == Tok::ArrayB {
            self.expect(Tok::ArrayB)?;
            let mut vs = Vec::new();
            while self.t != Tok::ArrayE {
                vs.push(self.scalar()?);
                if self.t == Tok::Comma {
                    self.expect(Tok::Comma)?;
                }
            }
            self.expect(Tok::ArrayE)?;
            if vs.is_empty() {
                vs.push(Value::EmptyArray);
            }
            Ok(vs)
        } else {
            Ok(vec![self.scalar()?])
        }
    }

    fn scalar(&mut self) -> Result<Value, ParseError> {
        let v = match self.t {
            Tok::Int => {
                let v = match strtoll(&self.s[self.tb..]) {
                    Some(i) => i,
                    None if self.key_is_creation_time => 1527120000,
                    None => return Err(self.error("Failed to read int token.")),
                };
                self.expect(Tok::Int)?;
                Value::Int(v)
            }
            Tok::Float => {
                // libdm keeps FLOAT values in a C float
                let v = match strtod(&self.s[self.tb..]) {
                    Some(f) => (f as f32) as f64,
                    None => return Err(self.error("Failed to read float token.")),
                };
                self.expect(Tok::Float)?;
                Value::Float(v)
            }
            Tok::StringQ => {
                let v = self.string_tok()?.to_vec();
                self.expect(Tok::StringQ)?;
                Value::Str(v)
            }
            Tok::StringBare => {
                let v = self.tok().to_vec();
                self.expect(Tok::StringBare)?;
                Value::Str(v)
            }
            Tok::StringEscaped => {
                let v = unescape_double_quotes(self.string_tok()?);
                self.expect(Tok::StringEscaped)?;
                Value::Str(v)
            }
            _ => return Err(self.error("expected a value")),
        };
        Ok(v)
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
        acc = acc * base as i128 + d;
        if acc > (i64::MAX as i128) + 1 {
            overflow = true;
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
        assert_eq!(d[2].values, Some(vec![Value::Int(5)]));
        let d = parse_str("pvmeta  {\n\tdevice =1832\n\tmda0 {\n\t\tignore =0\n\t}\n}\n").unwrap();
        assert_eq!(
            find(&d, "pvmeta/mda0/ignore").unwrap().values,
            Some(vec![Value::Int(0)])
        );
    }

    #[test]
    fn numbers_follow_strtoll() {
        assert_eq!(one("a=010").values, Some(vec![Value::Int(8)]));
        assert_eq!(one("a=+5").values, Some(vec![Value::Int(5)]));
        assert_eq!(one("a=-").values, Some(vec![Value::Int(0)]));
        assert_eq!(
            one("a=-9223372036854775808").values,
            Some(vec![Value::Int(i64::MIN)])
        );
        assert!(parse_str("a=9223372036854775808").is_err());
        assert_eq!(
            one("creation_time=99999999999999999999").values,
            Some(vec![Value::Int(1527120000)])
        );
        assert_eq!(one("a=1.5").values, Some(vec![Value::Float(1.5)]));
        assert_eq!(one("a=.5").values, Some(vec![Value::Float(0.5)]));
        // stored as a C float, as libdm does
        assert_eq!(one("a=1.1").values, Some(vec![Value::Float(1.1f32 as f64)]));
        assert_eq!(
            one("a=16777217.0").values,
            Some(vec![Value::Float(16777216.0)])
        );
        // 0x1f: strtoll reads 31, the tokenizer stops after "0"; the rest is a stray token
        assert!(parse_str("a=0x1f").is_err());
    }

    #[test]
    fn strings_and_arrays() {
        assert_eq!(
            one(r#"a="x\"y\\z\n""#).values,
            Some(vec![Value::str(b"x\"y\\z\\n")])
        );
        assert_eq!(one("a='q\\'").values, Some(vec![Value::str(b"q\\")]));
        assert_eq!(one("a=[]").values, Some(vec![Value::EmptyArray]));
        assert_eq!(
            one("a=[1,2,]").values,
            Some(vec![Value::Int(1), Value::Int(2)])
        );
        // commas are optional only where the next element is quoted: after a number
        // or bare string the lexer is not in value position (libdm; the spec says otherwise)
        assert_eq!(
            one("a=[\"x\" \"y\"]").values,
            Some(vec![Value::str("x"), Value::str("y")])
        );
        assert!(parse_str("a=[1 2]").is_err());
        assert_eq!(one("a=[\"x\"]").values, Some(vec![Value::str("x")]));
        assert_eq!(one("a=bare").values, Some(vec![Value::str("bare")]));
    }

    #[test]
    fn paths_comments_dups() {
        let d = parse_str("# c\na/b = 1 # x\na=2\na=3").unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(find(&d, "a/b").unwrap().values, Some(vec![Value::Int(1)]));
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
}
