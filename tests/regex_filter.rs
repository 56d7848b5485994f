//! The libdm regex dialect and LVM's regex device filter.
//!
//! `libdm_recorded_cases` replays results recorded from the reference
//! libdevmapper (tests/data/regex/); the rest check filter-level behaviour
//! (filter-regex.c) on top of it.

use lvmetad::config::Value;
use lvmetad::scan::filter_regex::{promote_alias, Decision, RegexFilter};
use lvmetad::scan::regex::{Regex, RegexError};

fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            match b.get(i + 1) {
                Some(b'\\') => {
                    out.push(b'\\');
                    i += 2;
                }
                Some(b'x') => {
                    let hex = std::str::from_utf8(&b[i + 2..i + 4]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 4;
                }
                other => panic!("bad escape {other:?} in {s:?}"),
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// One recorded block: the patterns and our compile result.
type Block = (Vec<Vec<u8>>, Result<Regex, RegexError>);

#[test]
fn libdm_recorded_cases() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/regex/libdm-regex-cases.txt"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut current: Option<Block> = None;
    let (mut blocks, mut errs, mut matches) = (0usize, 0usize, 0usize);
    let mut failures = Vec::new();
    for (lineno, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        match fields[0] {
            "R" => {
                blocks += 1;
                let pats: Vec<Vec<u8>> = fields[1..fields.len() - 1]
                    .iter()
                    .map(|p| unescape(p))
                    .collect();
                let want_ok = match fields[fields.len() - 1] {
                    "OK" => true,
                    "ERR" => false,
                    s => panic!("line {}: bad status {s}", lineno + 1),
                };
                let got = Regex::new(&pats);
                if !want_ok {
                    errs += 1;
                }
                if got.is_ok() != want_ok {
                    failures.push(format!(
                        "line {}: compile {:?}: libdm {} ours {:?}",
                        lineno + 1,
                        pats.iter()
                            .map(|p| String::from_utf8_lossy(p).into_owned())
                            .collect::<Vec<_>>(),
                        fields[fields.len() - 1],
                        got.as_ref().err()
                    ));
                }
                current = Some((pats, got));
            }
            "M" => {
                matches += 1;
                let want: i32 = fields[1].parse().unwrap();
                let subject = unescape(fields[2]);
                let (pats, rx) = current.as_ref().expect("M before R");
                if let Ok(rx) = rx {
                    let got = rx.match_index(&subject);
                    if got != want {
                        failures.push(format!(
                            "line {}: {:?} on {:?}: libdm {want} ours {got}",
                            lineno + 1,
                            pats.iter()
                                .map(|p| String::from_utf8_lossy(p).into_owned())
                                .collect::<Vec<_>>(),
                            String::from_utf8_lossy(&subject)
                        ));
                    }
                } else {
                    failures.push(format!("line {}: match line for failed regex", lineno + 1));
                }
            }
            other => panic!("line {}: unknown record {other:?}", lineno + 1),
        }
    }
    assert!(
        blocks >= 1500 && matches >= 15000,
        "{blocks} blocks, {matches} matches"
    );
    assert!(errs > 0);
    assert!(
        failures.is_empty(),
        "{} of {} blocks / {} matches differ from libdm:\n{}",
        failures.len(),
        blocks,
        matches,
        failures
            .iter()
            .take(60)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn filter(items: &[&str]) -> RegexFilter {
    RegexFilter::from_items(items).unwrap()
}

fn pass(f: &RegexFilter, names: &[&str]) -> bool {
    f.passes(names)
}

#[test]
fn fixture_loop4_filter() {
    let f = filter(&["a|^/dev/loop4[0-3]$|", "r|.*|"]);
    for ok in ["/dev/loop40", "/dev/loop41", "/dev/loop42", "/dev/loop43"] {
        assert!(pass(&f, &[ok]), "{ok}");
        assert_eq!(f.check(&[ok]), Decision::Accept { alias: 0, item: 0 });
    }
    for bad in [
        "/dev/loop4",
        "/dev/loop44",
        "/dev/loop400",
        "/dev/loop40p1",
        "/dev/xloop40",
        "/dev/loop7",
        "/dev/sda",
        "",
    ] {
        assert!(!pass(&f, &[bad]), "{bad}");
        assert_eq!(f.check(&[bad]), Decision::Reject);
    }
}

#[test]
fn fixture_loop7_filter() {
    let f = filter(&["a|^/dev/loop7[0-9]$|", "r|.*|"]);
    for i in 0..10 {
        assert!(pass(&f, &[&format!("/dev/loop7{i}")]));
    }
    assert!(!pass(&f, &["/dev/loop7"]));
    assert!(!pass(&f, &["/dev/loop80"]));
    assert!(!pass(&f, &["/dev/loop700"]));
}

#[test]
fn default_filter_accepts_everything_with_a_slash() {
    let f = filter(&["a|.*/|"]);
    assert_eq!(
        f.check(&["/dev/sda"]),
        Decision::Accept { alias: 0, item: 0 }
    );
    assert!(pass(&f, &["/dev/mapper/vg-lv"]));
    // No slash: no match at all, which also passes.
    assert_eq!(f.check(&["sda"]), Decision::NoMatch);
    assert!(pass(&f, &["sda"]));
}

#[test]
fn unmatched_devices_pass() {
    let f = filter(&["r|/dev/cdrom|"]);
    assert!(!pass(&f, &["/dev/cdrom"]));
    assert!(!pass(&f, &["/dev/cdrom1"]));
    assert_eq!(f.check(&["/dev/sda"]), Decision::NoMatch);
    assert!(pass(&f, &["/dev/sda"]));
    // A device without names passes.
    assert_eq!(f.check::<&str>(&[]), Decision::NoMatch);
}

#[test]
fn unanchored_search() {
    let f = filter(&["a|/dev/sd.*|", "r|.*|"]);
    assert!(pass(&f, &["/dev/sda"]));
    assert!(pass(&f, &["/dev/sdb1"]));
    assert!(pass(&f, &["/x/dev/sdq"])); // substring match
    assert!(!pass(&f, &["/dev/hda"]));
    let f = filter(&["r|sd|"]);
    assert!(!pass(&f, &["/dev/sda"]));
    assert!(!pass(&f, &["/dev/disk/by-id/usb-sdcard"]));
}

#[test]
fn anchors() {
    let f = filter(&["r|^/dev/disk/by-id/.*|"]);
    assert!(!pass(&f, &["/dev/disk/by-id/ata-X"]));
    assert_eq!(f.check(&["/x/dev/disk/by-id/ata-X"]), Decision::NoMatch);
    let f = filter(&["a|sda$|", "r|.*|"]);
    assert!(pass(&f, &["/dev/sda"]));
    assert!(!pass(&f, &["/dev/sda1"]));
    // Anchors in the middle can never match ($ and ^ are end/start markers).
    let f = filter(&["a|/dev/$sda|", "a|/dev/^sda|", "r|.*|"]);
    assert!(!pass(&f, &["/dev/sda"]));
    assert!(!pass(&f, &["/dev/$sda"]));
    assert!(!pass(&f, &["/dev/^sda"]));
    // Escaped, they are literal characters.
    let f = filter(&["a|/dev/\\$sda|", "r|.*|"]);
    assert!(pass(&f, &["/dev/$sda"]));
    assert!(!pass(&f, &["/dev/sda"]));
}

#[test]
fn first_matching_item_wins() {
    let f = filter(&["r|/dev/sda1|", "a|/dev/sd|", "r|.*|"]);
    assert_eq!(f.check(&["/dev/sda1"]), Decision::Reject);
    assert_eq!(
        f.check(&["/dev/sda2"]),
        Decision::Accept { alias: 0, item: 1 }
    );
    assert_eq!(f.match_name(b"/dev/sda1"), Some((0, false)));
    assert_eq!(f.match_name(b"/dev/sdb"), Some((1, true)));
    assert_eq!(f.match_name(b"/dev/hda"), Some((2, false)));
    // Reordered, the broad accept wins.
    let f = filter(&["a|/dev/sd|", "r|/dev/sda1|", "r|.*|"]);
    assert!(pass(&f, &["/dev/sda1"]));
    // Duplicate regexes: the first one decides.
    let f = filter(&["a|x|", "r|x|"]);
    assert!(pass(&f, &["x"]));
    let f = filter(&["r|x|", "a|x|"]);
    assert!(!pass(&f, &["x"]));
}

#[test]
fn alternation_and_classes() {
    let f = filter(&["a|^/dev/(sd|hd)[a-c]$|", "r|.*|"]);
    for ok in ["/dev/sda", "/dev/hdc", "/dev/sdb"] {
        assert!(pass(&f, &[ok]), "{ok}");
    }
    for bad in ["/dev/sdd", "/dev/vda", "/dev/sda1", "/dev/sd"] {
        assert!(!pass(&f, &[bad]), "{bad}");
    }
    // The delimiter only has to end the item: '|' inside is alternation.
    let f = filter(&["a|^/dev/sda$|^/dev/sdb$|", "r|.*|"]);
    assert!(pass(&f, &["/dev/sda"]));
    assert!(pass(&f, &["/dev/sdb"]));
    assert!(!pass(&f, &["/dev/sdc"]));
    // Negated class.
    let f = filter(&["a|^/dev/sd[^a]$|", "r|.*|"]);
    assert!(pass(&f, &["/dev/sdb"]));
    assert!(!pass(&f, &["/dev/sda"]));
    // ...which also matches the end marker, like '.' does (but then `$`
    // has nothing left to match).
    assert!(!pass(&f, &["/dev/sd"]));
    let f = filter(&["a|^/dev/sd[^a]|", "r|.*|"]);
    assert!(pass(&f, &["/dev/sd"]));
    let f = filter(&["a|^/dev/sd.|", "r|.*|"]);
    assert!(pass(&f, &["/dev/sd"]));
    // '+', '?', '*'.
    let f = filter(&["a|^/dev/nvme[0-9]+n[0-9]+(p[0-9]+)?$|", "r|.*|"]);
    assert!(pass(&f, &["/dev/nvme0n1"]));
    assert!(pass(&f, &["/dev/nvme10n2p33"]));
    assert!(!pass(&f, &["/dev/nvmen1"]));
    assert!(!pass(&f, &["/dev/nvme0n1p"]));
}

#[test]
fn dot_does_not_match_newline() {
    let f = filter(&["a|^/dev/s.a$|", "r|.*|"]);
    assert!(pass(&f, &["/dev/sda"]));
    assert!(!pass(&f, &["/dev/s\na"]));
    assert!(!pass(&f, &["/dev/s\ra"]));
    let f = filter(&["a|^/dev/s\\na$|", "r|.*|"]);
    assert!(pass(&f, &["/dev/s\na"]));
    // Matching stops at a newline nothing can consume: text after it is
    // never searched.
    let f = filter(&["r|sdb|"]);
    assert_eq!(f.check(&["/dev/sda\n/dev/sdb"]), Decision::NoMatch);
    assert_eq!(f.check(&["/dev/sdb\n/dev/sda"]), Decision::Reject);
}

#[test]
fn other_delimiters() {
    for item in [
        "a(^/dev/sda$)",
        "a[^/dev/sda$]",
        "a{^/dev/sda$}",
        "a#^/dev/sda$#",
        "a/^\\/dev\\/sda$/",
        "aX^/dev/sda$X",
        "a)^/dev/sda$)",
    ] {
        let f = filter(&[item, "r|.*|"]);
        assert!(pass(&f, &["/dev/sda"]), "{item}");
        assert!(!pass(&f, &["/dev/sdb"]), "{item}");
    }
    // Brackets inside bracket-delimited items.
    let f = filter(&["a[^/dev/sd[ab]$]", "r|.*|"]);
    assert!(pass(&f, &["/dev/sdb"]));
    assert!(!pass(&f, &["/dev/sdc"]));
}

#[test]
fn aliases() {
    let f = filter(&["a|^/dev/disk/by-id/|", "r|.*|"]);
    // Rejected through the first name, accepted through the second: accept,
    // and the accepted name becomes the preferred one.
    let names = ["/dev/sda", "/dev/disk/by-id/ata-X", "/dev/block/8:0"];
    assert_eq!(f.check(&names), Decision::Accept { alias: 1, item: 0 });
    let mut v = names.to_vec();
    promote_alias(&mut v, 1);
    assert_eq!(v, ["/dev/disk/by-id/ata-X", "/dev/sda", "/dev/block/8:0"]);
    // All names rejected.
    assert_eq!(f.check(&["/dev/sda", "/dev/block/8:0"]), Decision::Reject);

    // Reject beats no-match across names; accept beats both.
    let f = filter(&["r|^/dev/sda$|"]);
    assert_eq!(f.check(&["/dev/x", "/dev/sda"]), Decision::Reject);
    assert_eq!(f.check(&["/dev/x", "/dev/y"]), Decision::NoMatch);
    let f = filter(&["r|^/dev/sda$|", "a|^/dev/disk/|"]);
    assert_eq!(
        f.check(&["/dev/sda", "/dev/x", "/dev/disk/by-id/a"]),
        Decision::Accept { alias: 2, item: 1 }
    );
    // A reject on a later name does not undo an earlier accept.
    assert_eq!(
        f.check(&["/dev/disk/by-id/a", "/dev/sda"]),
        Decision::Accept { alias: 0, item: 1 }
    );
    assert!(f.passes(&[b"/dev/disk/x".as_slice(), b"/dev/sda".as_slice()]));
}

#[test]
fn from_config_values() {
    let f = RegexFilter::new(&[Value::str("a|^/dev/loop4[0-3]$|"), Value::str("r|.*|")]).unwrap();
    assert!(f.passes(&["/dev/loop42"]));
    assert!(!f.passes(&["/dev/loop45"]));
    assert_eq!(f.items().len(), 2);
    assert!(f.log().is_empty());

    let e = RegexFilter::new(&[Value::str("a|x|"), Value::Int(1)]).unwrap_err();
    assert_eq!(e.messages, ["Filter patterns must be enclosed in quotes."]);
    // Types are checked before any pattern.
    let e = RegexFilter::new(&[Value::str("bad"), Value::Float(1.5)]).unwrap_err();
    assert_eq!(e.messages, ["Filter patterns must be enclosed in quotes."]);
    let e = RegexFilter::new(&[Value::EmptyArray]).unwrap_err();
    assert_eq!(e.messages, ["Filter patterns must be enclosed in quotes."]);
}

#[test]
fn malformed_items() {
    let cases: &[(&str, &str)] = &[
        ("x|a|", "Pattern must begin with 'a' or 'r'."),
        ("A|a|", "Pattern must begin with 'a' or 'r'."),
        ("", "Pattern must begin with 'a' or 'r'."),
        (" a|x|", "Pattern must begin with 'a' or 'r'."),
        ("a|x", "Invalid separator at end of regex."),
        ("a|x|y", "Invalid separator at end of regex."),
        ("a(x(", "Invalid separator at end of regex."),
        ("a[x[", "Invalid separator at end of regex."),
        ("a{x{", "Invalid separator at end of regex."),
        ("a|", "Invalid separator at end of regex."),
        ("r", "Invalid separator at end of regex."),
        ("a|x| ", "Invalid separator at end of regex."),
    ];
    for (item, msg) in cases {
        let e = RegexFilter::from_items(&["a|ok|", item, "x"]).unwrap_err();
        assert_eq!(
            e.messages,
            [
                msg.to_string(),
                format!("Invalid filter pattern \"{item}\".")
            ],
            "{item:?}"
        );
        assert!(!e.too_complex);
        assert_eq!(
            e.to_string(),
            format!("{msg}\nInvalid filter pattern \"{item}\".")
        );
    }
}

#[test]
fn regexes_libdm_cannot_parse() {
    for items in [
        &["a||"][..],
        &["a|*|"],
        &["a|x|", "r|+|"],
        &["a|(|"],
        &["a|x||"],
        &["a|()|"],
    ] {
        let e = RegexFilter::from_items(items).unwrap_err();
        assert_eq!(
            e.messages.last().map(String::as_str),
            Some("Couldn't parse regex"),
            "{items:?}"
        );
        assert!(e.messages.iter().any(|m| m == "Parse error in regex"));
    }
    // An empty list cannot be compiled either.
    assert!(RegexFilter::from_items::<&str>(&[]).is_err());
}

#[test]
fn lenient_regexes_still_work() {
    // libdm logs an error for these but builds the filter.
    let f = filter(&["a||x|", "r|.*|"]);
    assert_eq!(f.log(), ["missing ')' in regular expression"]);
    // `|x` leaves `.*` as an alternative: everything is accepted.
    assert!(pass(&f, &["/dev/anything"]));
}

#[test]
fn unterminated_bracket_bleeds_into_next_item() {
    // libdm pastes the regexes into one text; an unterminated '[' runs on
    // into the next item (compiled in reverse order).
    let f = filter(&["r|x]y|", "a|[ab|"]);
    // libdm sees `(.*([ab)\0)|(.*(x]y)\0)`: the set `[ab)\0)|(.*(x]` holds
    // the first end marker, so the accept item (compiled first) "matches"
    // every name, and `<set>y` reaches the reject item's end marker.
    assert_eq!(f.match_name(b"a"), Some((1, true)));
    assert_eq!(f.match_name(b"zz"), Some((1, true)));
    assert_eq!(f.match_name(b""), Some((1, true)));
    assert_eq!(f.match_name(b"zy"), Some((1, true)));
    assert_eq!(f.match_name(b"ay"), Some((0, false)));
    assert_eq!(f.match_name(b"*y"), Some((0, false)));
    assert_eq!(f.match_name(b"xy"), Some((0, false)));
}

#[test]
fn regex_engine_api() {
    let r = Regex::new(&["^/dev/sd", "^/dev/sda$"]).unwrap();
    assert_eq!(r.pattern_count(), 2);
    assert_eq!(r.find(b"/dev/sda"), Some(1));
    assert_eq!(r.find(b"/dev/sdb"), Some(0));
    assert_eq!(r.find(b"/dev/hda"), None);
    assert_eq!(r.match_index(b"/dev/hda"), -1);
    // C string semantics: the subject ends at its first NUL.
    assert_eq!(r.find(b"/dev/sda\0x"), Some(1));
    // Bytes >= 0x80 are ordinary bytes.
    let r = Regex::new(&[b"^/dev/\xc3\xa9$".as_slice()]).unwrap();
    assert_eq!(r.find(b"/dev/\xc3\xa9"), Some(0));
    assert_eq!(r.find(b"/dev/e"), None);
}

#[test]
fn pathological_patterns_are_bounded() {
    // Classic backtracking killers run in linear time.
    let r = Regex::new(&["^(a*)*b$", "^(a|a)*c$", "(a|aa)+$"]).unwrap();
    let s = vec![b'a'; 5000];
    assert_eq!(r.match_index(&s), 2);
    // Huge nesting is refused rather than overflowing the stack.
    let deep = "(".repeat(20000) + &")".repeat(20000);
    let e = RegexFilter::from_items(&[format!("a|{deep}|")]).unwrap_err();
    assert!(e.too_complex);
    // Very long expressions are refused.
    let long = "a".repeat(2 << 20);
    assert!(matches!(
        Regex::new(&[long.as_str()]),
        Err(RegexError::TooComplex(_))
    ));
}
