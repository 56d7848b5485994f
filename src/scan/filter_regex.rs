//! LVM's regex device filter (`devices/global_filter`, `devices/filter`),
//! reproducing LVM2 2.02.188 `lib/filters/filter-regex.c`.
//!
//! # Configuration syntax
//!
//! The setting is an array of strings (any non-string value:
//! `Filter patterns must be enclosed in quotes.`; all values are type-checked
//! before any pattern is looked at). Each string is
//! `<a|r><open><regex><close>`:
//!
//! * the first byte is `a` (accept) or `r` (reject), otherwise
//!   `Pattern must begin with 'a' or 'r'.`;
//! * the second byte opens the regex; `(`, `[`, `{` are closed by `)`, `]`,
//!   `}`, any other byte by itself;
//! * the **last** byte must be the closing delimiter, otherwise
//!   `Invalid separator at end of regex.`; the regex is everything between.
//!   Only the last byte is checked, so the delimiter may appear inside the
//!   regex: `a|sd(a|b)|` is the regex `sd(a|b)`.
//!
//! A bad item logs its specific message followed by
//! `Invalid filter pattern "<item>".`; items are checked in configuration
//! order and the first bad one stops. The regexes are then compiled together
//! (see [`super::regex`]); a regex libdm cannot parse (e.g. the empty one in
//! `a||`) fails with libdm's messages, ending with `Couldn't parse regex`. LVM
//! then reports `Failed to create global regex device filter` (or
//! `Failed to create regex device filter`) and the command fails; that last
//! message belongs to the caller.
//!
//! # Decision
//!
//! Regexes search anywhere in a path unless anchored with `^` / `$`. For one
//! path, the deciding item is the **first item in the list** whose regex
//! matches (LVM compiles the list back to front because libdm reports the
//! highest-numbered match). A device is checked through all its names
//! (aliases, in dev-cache order, the preferred name first):
//!
//! * the first name decided by an `a` item accepts the device at once; if it
//!   is not the first name, LVM makes it the device's preferred name (unless
//!   `devices/preferred_names` is set) — see [`Decision::Accept`] and
//!   [`promote_alias`];
//! * a name decided by an `r` item marks the device rejected, but the next
//!   names are still tried (a later name may still be accepted);
//! * a name matched by no item is ignored.
//!
//! If no name was accepted the device is rejected when some name hit an `r`
//! item (LVM debug message `<dev>: Skipping (regex)`), and **passes** when no
//! name matched anything. A device without names passes.

use std::fmt;

use super::regex::{Regex, RegexError};
use crate::config::Value;

/// LVM's messages.
pub const MSG_NOT_QUOTED: &str = "Filter patterns must be enclosed in quotes.";
pub const MSG_BAD_START: &str = "Pattern must begin with 'a' or 'r'.";
pub const MSG_BAD_SEPARATOR: &str = "Invalid separator at end of regex.";

/// A filter setting LVM refuses. `messages` are the error lines LVM logs, in
/// order; the caller's own `Failed to create ... regex device filter` is not
/// included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    pub messages: Vec<String>,
    /// Set when the regexes were refused by this implementation's resource
    /// limits rather than by LVM's rules.
    pub too_complex: bool,
}

impl fmt::Display for FilterError {
    /// The messages, one per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.messages.join("\n"))
    }
}

impl std::error::Error for FilterError {}

/// The outcome of the filter for one device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Name number `alias` (index into the names given) was accepted by item
    /// number `item` (index into the configured list). When `alias > 0` LVM
    /// makes that name the preferred one ([`promote_alias`]) unless
    /// `devices/preferred_names` is configured.
    Accept { alias: usize, item: usize },
    /// No name was accepted and at least one was rejected.
    Reject,
    /// No name matched any item: the device passes.
    NoMatch,
}

impl Decision {
    /// Whether the device passes the filter.
    pub fn passes(&self) -> bool {
        !matches!(self, Decision::Reject)
    }
}

/// A compiled regex filter.
#[derive(Clone, Debug)]
pub struct RegexFilter {
    engine: Regex,
    /// Per configured item (configuration order): accept (`a`) or reject.
    accept: Vec<bool>,
    /// The configured items, verbatim.
    items: Vec<Vec<u8>>,
}

/// Splits one item into (accept, regex).
fn extract(item: &[u8]) -> Result<(bool, &[u8]), &'static str> {
    let accept = match item.first() {
        Some(b'a') => true,
        Some(b'r') => false,
        _ => return Err(MSG_BAD_START),
    };
    // libdm reads past the end of a one-byte item (undefined behaviour); the
    // outcome there is effectively always a separator error.
    let open = *item.get(1).ok_or(MSG_BAD_SEPARATOR)?;
    let close = match open {
        b'(' => b')',
        b'[' => b']',
        b'{' => b'}',
        c => c,
    };
    match &item[2..] {
        [regex @ .., last] if *last == close => Ok((accept, regex)),
        _ => Err(MSG_BAD_SEPARATOR),
    }
}

fn c_str(s: &[u8]) -> &[u8] {
    &s[..s.iter().position(|&b| b == 0).unwrap_or(s.len())]
}

impl RegexFilter {
    /// Builds the filter from the setting's value list (`regex_filter_create`).
    pub fn new(values: &[Value]) -> Result<RegexFilter, FilterError> {
        let mut items = Vec::with_capacity(values.len());
        for v in values {
            match v {
                Value::Str(s) => items.push(s.as_slice()),
                _ => {
                    return Err(FilterError {
                        messages: vec![MSG_NOT_QUOTED.to_string()],
                        too_complex: false,
                    })
                }
            }
        }
        RegexFilter::from_items(&items)
    }

    /// Builds the filter from the item strings, e.g. `["a|^/dev/sd|", "r|.*|"]`.
    pub fn from_items<S: AsRef<[u8]>>(items: &[S]) -> Result<RegexFilter, FilterError> {
        let count = items.len();
        let mut accept = Vec::with_capacity(count);
        let mut regexes: Vec<&[u8]> = Vec::with_capacity(count);
        for item in items {
            let item = c_str(item.as_ref());
            match extract(item) {
                Ok((a, r)) => {
                    accept.push(a);
                    regexes.push(r);
                }
                Err(msg) => {
                    return Err(FilterError {
                        messages: vec![
                            msg.to_string(),
                            format!(
                                "Invalid filter pattern \"{}\".",
                                String::from_utf8_lossy(item)
                            ),
                        ],
                        too_complex: false,
                    })
                }
            }
        }
        // The matcher reports the highest-numbered match, and the first item
        // must win: compile the list back to front.
        regexes.reverse();
        let engine = Regex::new(&regexes).map_err(|e| match e {
            RegexError::Parse { log } => FilterError {
                messages: log,
                too_complex: false,
            },
            RegexError::TooComplex(_) => FilterError {
                messages: vec![e.to_string()],
                too_complex: true,
            },
        })?;
        Ok(RegexFilter {
            engine,
            accept,
            items: items.iter().map(|s| c_str(s.as_ref()).to_vec()).collect(),
        })
    }

    /// The configured items.
    pub fn items(&self) -> &[Vec<u8>] {
        &self.items
    }

    /// Error messages libdm logged although the regexes compiled (LVM prints
    /// them; the filter still works), e.g. `missing ')' in regular expression`.
    pub fn log(&self) -> &[String] {
        self.engine.log()
    }

    /// The item deciding `name`: `(item index, accept)`, or `None` when no
    /// item matches.
    pub fn match_name(&self, name: &[u8]) -> Option<(usize, bool)> {
        let m = self.engine.find(name)?;
        let item = self.accept.len() - 1 - m;
        Some((item, self.accept[item]))
    }

    /// Decides a device from all its names, in dev-cache alias order.
    pub fn check<N: AsRef<[u8]>>(&self, names: &[N]) -> Decision {
        let mut rejected = false;
        for (alias, name) in names.iter().enumerate() {
            match self.match_name(name.as_ref()) {
                Some((item, true)) => return Decision::Accept { alias, item },
                Some((_, false)) => rejected = true,
                None => {}
            }
        }
        if rejected {
            Decision::Reject
        } else {
            Decision::NoMatch
        }
    }

    /// Whether a device with these names (alias order) passes.
    pub fn passes<N: AsRef<[u8]>>(&self, names: &[N]) -> bool {
        self.check(names).passes()
    }
}

/// `dev_set_preferred_name`: moves alias `index` to the front, keeping the
/// order of the others.
pub fn promote_alias<T>(aliases: &mut [T], index: usize) {
    if index < aliases.len() {
        aliases[..=index].rotate_right(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extract_items() {
        assert_eq!(extract(b"a|x|"), Ok((true, &b"x"[..])));
        assert_eq!(extract(b"r(x)"), Ok((false, &b"x"[..])));
        assert_eq!(extract(b"a[x]"), Ok((true, &b"x"[..])));
        assert_eq!(extract(b"a{x}"), Ok((true, &b"x"[..])));
        assert_eq!(extract(b"a)x)"), Ok((true, &b"x"[..])));
        assert_eq!(extract(b"a|x|y|"), Ok((true, &b"x|y"[..])));
        assert_eq!(extract(b"a||"), Ok((true, &b""[..])));
        assert_eq!(extract(b"a(x("), Err(MSG_BAD_SEPARATOR));
        assert_eq!(extract(b"a|x"), Err(MSG_BAD_SEPARATOR));
        assert_eq!(extract(b"a|"), Err(MSG_BAD_SEPARATOR));
        assert_eq!(extract(b"a"), Err(MSG_BAD_SEPARATOR));
        assert_eq!(extract(b"x|a|"), Err(MSG_BAD_START));
        assert_eq!(extract(b"A|a|"), Err(MSG_BAD_START));
        assert_eq!(extract(b""), Err(MSG_BAD_START));
    }

    #[test]
    fn promote() {
        let mut v = vec![1, 2, 3, 4];
        promote_alias(&mut v, 2);
        assert_eq!(v, [3, 1, 2, 4]);
        promote_alias(&mut v, 0);
        assert_eq!(v, [3, 1, 2, 4]);
        promote_alias(&mut v, 9);
        assert_eq!(v, [3, 1, 2, 4]);
    }
}
