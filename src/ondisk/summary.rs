//! The metadata text summary taken during the label scan (docs/reference/ondisk-and-scan.md A4.3, A4.4; LVM:
//! import_vsn1.c `_read_vgsummary`, lvm-string.c `validate_name`, uuid.c
//! `id_read_format`, flags.c `read_flags`).

use super::{push, Log, ID_LEN, NAME_LEN};
use crate::client::id::{format_id, read_id};
use crate::client::port::Level;
use crate::config::{Node, Value};
use std::borrow::Cow;
use std::fmt;

/// VG status bits (lib/metadata/metadata-exported.h, metadata.h).
pub const VG_PARTIAL: u64 = 0x1;
pub const VG_EXPORTED: u64 = 0x2;
pub const VG_RESIZEABLE: u64 = 0x4;
pub const VG_READ: u64 = 0x100;
pub const VG_WRITE: u64 = 0x200;
pub const VG_CLUSTERED: u64 = 0x400;
pub const VG_SHARED: u64 = 0x800;
pub const VG_PVMOVE: u64 = 0x2000;
pub const VG_WRITE_LOCKED: u64 = 0x0020_0000_0000_0000;

/// The VG flag words (flags.c `_vg_flags`): word, bit, allowed in `status`
/// (STATUS_FLAG) or only in `flags` (COMPATIBLE_FLAG).
const VG_FLAG_WORDS: &[(&str, u64, bool)] = &[
    ("EXPORTED", VG_EXPORTED, true),
    ("RESIZEABLE", VG_RESIZEABLE, true),
    ("PVMOVE", VG_PVMOVE, true),
    ("READ", VG_READ, true),
    ("WRITE", VG_WRITE, true),
    ("WRITE_LOCKED", VG_WRITE_LOCKED, false),
    ("CLUSTERED", VG_CLUSTERED, true),
    ("SHARED", VG_SHARED, true),
];

/// What `_read_vgsummary` extracts from the metadata text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VgSummary {
    /// The key of the first top-level section (bytes as written; valid names are ASCII).
    pub vgname: Vec<u8>,
    /// The VG id, dashes removed (32 characters of LVM's id alphabet).
    pub vgid: [u8; ID_LEN],
    /// Status bits from `status` and `flags` (`VG_*`).
    pub status: u64,
    /// `system_id`, when present as a string.
    pub system_id: Option<Vec<u8>>,
    /// `lock_type`, when present as a string.
    pub lock_type: Option<Vec<u8>>,
    /// `seqno` (read as LVM does: the integer truncated to 32 bits).
    pub seqno: u32,
    /// Top-level `creation_host`, empty when absent.
    pub creation_host: Vec<u8>,
}

impl VgSummary {
    /// The VG name as text.
    pub fn name(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.vgname)
    }

    /// The VG id in LVM's printed (dashed) form.
    pub fn vg_uuid(&self) -> String {
        format_id(&self.vgid)
    }

    pub fn is_exported(&self) -> bool {
        self.status & VG_EXPORTED != 0
    }

    pub fn is_clustered(&self) -> bool {
        self.status & VG_CLUSTERED != 0
    }
}

/// Why `_read_vgsummary` failed (`Display`: LVM's message, `<vg>` filled in by the log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SummaryError {
    /// `"Couldn't find volume group in file."`
    NoVg,
    /// `"Couldn't read uuid for volume group <vg>."`
    Uuid,
    /// `"Couldn't find status flags for volume group <vg>."`
    Status,
    /// `"Couldn't read seqno for volume group <vg>."`
    Seqno,
}

impl fmt::Display for SummaryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SummaryError::NoVg => "no volume group section",
            SummaryError::Uuid => "bad or missing VG uuid",
            SummaryError::Status => "bad or missing VG status flags",
            SummaryError::Seqno => "missing VG seqno",
        })
    }
}

/// `validate_name`: non-empty, not starting with `-`, not `.`/`..`, only
/// `A-Z a-z 0-9 . _ - +`, at most `NAME_LEN - 1` characters.
pub fn validate_name(n: &[u8]) -> bool {
    if n.is_empty() || n[0] == b'-' || n == b"." || n == b".." {
        return false;
    }
    n.iter()
        .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'+'))
        && n.len() < NAME_LEN
}

/// `id_read_format` with LVM's message logged on failure.
pub fn id_read_format(s: &[u8], log: &mut Log) -> Option<[u8; ID_LEN]> {
    read_id(s).map_err(|e| push(log, Level::Error, e)).ok()
}

/// libdm's single-segment lookup among siblings: the first match wins and every later
/// match logs `"WARNING: Ignoring duplicate config node: <key> (seeking <key>)"`
/// (the metadata text is parsed without duplicate checks, so duplicates survive).
pub fn lookup<'a>(nodes: &'a [Node], key: &str, log: &mut Log) -> Option<&'a Node> {
    let mut found = None;
    for n in nodes.iter().filter(|n| n.key == key.as_bytes()) {
        if found.is_none() {
            found = Some(n);
        } else {
            push(
                log,
                Level::Warn,
                format!("WARNING: Ignoring duplicate config node: {key} (seeking {key})"),
            );
        }
    }
    found
}

/// `dm_config_get_str`: the first value when it is a string.
fn get_str<'a>(nodes: &'a [Node], key: &str, log: &mut Log) -> Option<&'a [u8]> {
    match lookup(nodes, key, log)?.first_value()? {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

/// `dm_config_get_list`: the value list of a value node.
fn get_list<'a>(nodes: &'a [Node], key: &str, log: &mut Log) -> Option<&'a [Value]> {
    lookup(nodes, key, log)?
        .values
        .as_deref()
        .filter(|v| !v.is_empty())
}

/// `read_flags` for VG flags; `status_words` selects the STATUS_FLAG words (the
/// `status` list) or the COMPATIBLE_FLAG words (the `flags` list).
fn read_vg_flags(values: &[Value], status_words: bool, log: &mut Log) -> Option<u64> {
    let mut bits = 0u64;
    if matches!(values.first(), Some(Value::EmptyArray)) {
        return Some(0);
    }
    for v in values {
        let Value::Str(word) = v else {
            push(log, Level::Error, "Status value is not a string.");
            return None;
        };
        let known = VG_FLAG_WORDS
            .iter()
            .find(|(w, _, st)| *st == status_words && w.as_bytes() == word.as_slice());
        if let Some((_, bit, _)) = known {
            bits |= bit;
        }
        if word.as_slice() == b"PARTIAL" {
            bits |= VG_PARTIAL;
        } else if known.is_none() && status_words {
            push(
                log,
                Level::Error,
                format!("Unknown status flag '{}'.", String::from_utf8_lossy(word)),
            );
            return None;
        }
    }
    Some(bits)
}

/// `_read_flag_config(vgn, VG_FLAGS)`: `status` required, `flags` optional.
fn read_flag_config(vg: &[Node], log: &mut Log) -> Option<u64> {
    let Some(status) = get_list(vg, "status", log) else {
        push(log, Level::Error, "Could not find status flags.");
        return None;
    };
    let Some(mut bits) = read_vg_flags(status, true, log) else {
        push(log, Level::Error, "Could not read status flags.");
        return None;
    };
    if let Some(flags) = get_list(vg, "flags", log) {
        match read_vg_flags(flags, false, log) {
            Some(b) => bits |= b,
            None => {
                push(log, Level::Error, "Could not read flags.");
                return None;
            }
        }
    }
    Some(bits)
}

/// `_read_vgsummary`: the summary of a parsed metadata text (`doc` = its top-level
/// nodes). The `contents`/`version` check is skipped, as LVM skips it whenever lvmetad
/// is in use. The VG name is *not* validated here (the caller does, with its own
/// message).
pub fn parse_vg_summary(doc: &[Node], log: &mut Log) -> Result<VgSummary, SummaryError> {
    let creation_host = get_str(doc, "creation_host", log)
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    let Some(vgn) = doc.iter().find(|n| n.is_section()) else {
        push(log, Level::Error, "Couldn't find volume group in file.");
        return Err(SummaryError::NoVg);
    };
    let vgname = vgn.key.to_vec();
    let name = String::from_utf8_lossy(&vgname).into_owned();
    let vg = &vgn.children[..];

    let vgid = match get_str(vg, "id", log) {
        None => {
            push(log, Level::Error, "Couldn't find uuid.");
            None
        }
        Some(s) => {
            let id = id_read_format(s, log);
            if id.is_none() {
                push(log, Level::Error, "Invalid uuid.");
            }
            id
        }
    };
    let Some(vgid) = vgid else {
        push(
            log,
            Level::Error,
            format!("Couldn't read uuid for volume group {name}."),
        );
        return Err(SummaryError::Uuid);
    };

    let Some(status) = read_flag_config(vg, log) else {
        push(
            log,
            Level::Error,
            format!("Couldn't find status flags for volume group {name}."),
        );
        return Err(SummaryError::Status);
    };

    let system_id = get_str(vg, "system_id", log).map(<[u8]>::to_vec);
    let lock_type = get_str(vg, "lock_type", log).map(<[u8]>::to_vec);

    let seqno = match lookup(vg, "seqno", log).and_then(Node::first_value) {
        Some(Value::Int(i)) => *i as u32,
        _ => {
            push(
                log,
                Level::Error,
                format!("Couldn't read seqno for volume group {name}."),
            );
            return Err(SummaryError::Seqno);
        }
    };

    Ok(VgSummary {
        vgname,
        vgid,
        status,
        system_id,
        lock_type,
        seqno,
        creation_host,
    })
}

/// The VG name at the start of a metadata text as `read_metadata_location_summary`
/// takes it: up to the first NUL, whitespace or `{`, at most `NAME_LEN - 1` bytes.
pub fn leading_vg_name(buf: &[u8]) -> &[u8] {
    let len = buf
        .iter()
        .take(NAME_LEN - 1)
        .position(|&c| c == 0 || c.is_ascii_whitespace() || c == 0x0b || c == b'{')
        .unwrap_or_else(|| buf.len().min(NAME_LEN - 1));
    &buf[..len]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    fn summary(text: &str) -> (Result<VgSummary, SummaryError>, Vec<String>) {
        let doc = parse(text.as_bytes()).unwrap();
        let mut log = Log::new();
        let r = parse_vg_summary(&doc, &mut log);
        (r, log.into_iter().map(|m| m.text).collect())
    }

    const GOOD: &str = "vg1 {\nid = \"Z7aY8p-H1bc-94SG-dwkH-HFZA-zxsW-vSzhY5\"\nseqno = 4\n\
        status = [\"RESIZEABLE\", \"READ\", \"WRITE\"]\nflags = []\n}\n\
        contents = \"Text Format Volume Group\"\nversion = 1\ncreation_host = \"vm\"\n";

    #[test]
    fn names() {
        assert!(validate_name(b"vg1"));
        assert!(validate_name(b"a.b_c-d+e"));
        assert!(validate_name(b"..."));
        assert!(!validate_name(b""));
        assert!(!validate_name(b"-vg"));
        assert!(!validate_name(b"."));
        assert!(!validate_name(b".."));
        assert!(!validate_name(b"vg 1"));
        assert!(!validate_name(b"vg/1"));
        assert!(!validate_name("vgé".as_bytes()));
        assert!(validate_name(&[b'a'; 127]));
        assert!(!validate_name(&[b'a'; 128]));
    }

    #[test]
    fn leading_name() {
        assert_eq!(leading_vg_name(b"vg1 {\nid"), b"vg1");
        assert_eq!(leading_vg_name(b"vg1{"), b"vg1");
        assert_eq!(leading_vg_name(b"vg1\0xx"), b"vg1");
        assert_eq!(leading_vg_name(b"\tvg1"), b"");
        assert_eq!(leading_vg_name(&[b'a'; 200]).len(), 127);
        assert_eq!(leading_vg_name(b"abc"), b"abc");
    }

    #[test]
    fn good_summary() {
        let (r, log) = summary(GOOD);
        let s = r.unwrap();
        assert!(log.is_empty());
        assert_eq!(s.name(), "vg1");
        assert_eq!(&s.vgid, b"Z7aY8pH1bc94SGdwkHHFZAzxsWvSzhY5");
        assert_eq!(s.vg_uuid(), "Z7aY8p-H1bc-94SG-dwkH-HFZA-zxsW-vSzhY5");
        assert_eq!(s.seqno, 4);
        assert_eq!(s.status, VG_RESIZEABLE | VG_READ | VG_WRITE);
        assert_eq!(s.creation_host, b"vm");
        assert_eq!(s.system_id, None);
    }

    #[test]
    fn summary_errors() {
        let (r, log) = summary("a = 1\n");
        assert_eq!(r, Err(SummaryError::NoVg));
        assert_eq!(log, vec!["Couldn't find volume group in file."]);

        let (r, log) = summary("vg { id = \"abc\" }");
        assert_eq!(r, Err(SummaryError::Uuid));
        assert_eq!(
            log,
            vec![
                "Couldn't read uuid: incorrect number of characters.",
                "Invalid uuid.",
                "Couldn't read uuid for volume group vg."
            ]
        );

        let (r, log) = summary("vg { id = \"Z7aY8p-H1bc-94SG-dwkH-HFZA-zxsW-vSzhY5\" seqno = 1 }");
        assert_eq!(r, Err(SummaryError::Status));
        assert_eq!(
            log,
            vec![
                "Could not find status flags.",
                "Couldn't find status flags for volume group vg."
            ]
        );

        let (r, log) = summary(
            "vg { id = \"Z7aY8p-H1bc-94SG-dwkH-HFZA-zxsW-vSzhY5\" status = [\"WRITE_LOCKED\"] }",
        );
        assert_eq!(r, Err(SummaryError::Status));
        assert_eq!(log[0], "Unknown status flag 'WRITE_LOCKED'.");

        let (r, log) = summary(
            "vg { id = \"Z7aY8p-H1bc-94SG-dwkH-HFZA-zxsW-vSzhY5\" status = [] seqno = \"1\" }",
        );
        assert_eq!(r, Err(SummaryError::Seqno));
        assert_eq!(log, vec!["Couldn't read seqno for volume group vg."]);

        let (r, log) = summary("vg { id = \"Z7aY8p-H1bc-94SG-dwkH-HFZA-zxsW-vSzhY$\" }");
        assert_eq!(r, Err(SummaryError::Uuid));
        assert_eq!(log[0], "UUID contains invalid character '$'");
    }

    #[test]
    fn flags_and_optional_keys() {
        let (r, log) = summary(
            "vg { id = \"Z7aY8pH1bc94SGdwkHHFZAzxsWvSzhY5\" status = [\"EXPORTED\", \"PARTIAL\"] \
             flags = [\"WRITE_LOCKED\", \"whatever\"] system_id = \"other\" lock_type = \"dlm\" \
             seqno = 4294967297 seqno = 7 }",
        );
        let s = r.unwrap();
        assert_eq!(s.status, VG_EXPORTED | VG_PARTIAL | VG_WRITE_LOCKED);
        assert!(s.is_exported());
        assert_eq!(s.system_id.as_deref(), Some(&b"other"[..]));
        assert_eq!(s.lock_type.as_deref(), Some(&b"dlm"[..]));
        assert_eq!(s.seqno, 1);
        assert_eq!(
            log,
            vec!["WARNING: Ignoring duplicate config node: seqno (seeking seqno)"]
        );
    }
}
