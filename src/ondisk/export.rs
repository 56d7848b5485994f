//! What LVM sends lvmetad for a VG it read off a disk: not the metadata text's VG
//! section as it stands, but its export of the VG it imported from that text
//! (`lvmetad_pv_found` → `export_vg_to_config_tree`). A key LVM2 2.02.188's text import
//! does not read never reaches lvmetad. [`without_ignored_keys`] gives the VG section
//! with those keys dropped, so that what we send holds what LVM's export holds (a key
//! crafted into the metadata, however long or deep, is not sent).
//!
//! The keys each level's import reads (LVM2 2.02.188, `import_vsn1.c` and the segment
//! types' `text_import`), kept in their order on disk; only the first of two nodes with
//! the same key is kept (the import looks a key up and finds the first):
//!
//! - VG: `id seqno format status flags tags system_id extent_size max_lv max_pv
//!   metadata_copies allocation_policy profile lock_type lock_args` and the sections
//!   `physical_volumes outdated_pvs logical_volumes historical_logical_volumes`;
//! - PV (a section of `physical_volumes` or `outdated_pvs`): `id status flags dev_size
//!   pe_start pe_count ba_start ba_size tags`, and `device` (the import skips it but
//!   the export writes it; the scan sets it to the device it read);
//! - LV (a section of `logical_volumes`): `id status flags creation_time creation_host
//!   lock_args allocation_policy profile read_ahead tags segment_count minor major`,
//!   and every section (each is a segment);
//! - historical LV: `id name creation_time removal_time origin descendants`;
//! - segment: `start_extent extent_count reshape_count data_copies type tags` and the
//!   keys of its type (below); a segment of a type LVM does not know keeps all it
//!   holds (LVM's "unknown" segment type keeps and writes it back whole).
//!
//! Value nodes where a section is read (and the reverse) are dropped: the import
//! reads neither.

use crate::config::{Node, Value};

const VG: &[&str] = &[
    "id",
    "seqno",
    "format",
    "status",
    "flags",
    "tags",
    "system_id",
    "extent_size",
    "max_lv",
    "max_pv",
    "metadata_copies",
    "allocation_policy",
    "profile",
    "lock_type",
    "lock_args",
];

const PV: &[&str] = &[
    "id", "device", "status", "flags", "dev_size", "pe_start", "pe_count", "ba_start", "ba_size",
    "tags",
];

const LV: &[&str] = &[
    "id",
    "status",
    "flags",
    "creation_time",
    "creation_host",
    "lock_args",
    "allocation_policy",
    "profile",
    "read_ahead",
    "tags",
    "segment_count",
    "minor",
    "major",
];

const HISTORICAL_LV: &[&str] = &[
    "id",
    "name",
    "creation_time",
    "removal_time",
    "origin",
    "descendants",
];

const SEGMENT: &[&str] = &[
    "start_extent",
    "extent_count",
    "reshape_count",
    "data_copies",
    "type",
    "tags",
];

/// What a segment of a type reads beyond [`SEGMENT`]: its values, and whether its
/// sections are thin-pool messages or cache policy settings. None: a type LVM does not
/// know (everything is kept).
struct SegType {
    values: &'static [&'static str],
    sections: Sections,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sections {
    None,
    /// thin-pool: every section is a message (`create` or `delete`).
    Messages,
    /// cache-pool: `policy_settings`, kept whole.
    PolicySettings,
}

fn seg_type(name: &[u8]) -> Option<SegType> {
    // the type may carry flags after a '+'
    let name = name.split(|&c| c == b'+').next().unwrap_or(name);
    let (values, sections): (&'static [&'static str], Sections) = match name {
        b"striped" | b"linear" => (&["stripe_count", "stripe_size", "stripes"], Sections::None),
        b"mirror" => (
            &[
                "mirror_count",
                "extents_moved",
                "region_size",
                "mirror_log",
                "mirrors",
            ],
            Sections::None,
        ),
        b"thin-pool" => (
            &[
                "metadata",
                "pool",
                "transaction_id",
                "chunk_size",
                "discards",
                "zero_new_blocks",
                "crop_metadata",
            ],
            Sections::Messages,
        ),
        b"thin" => (
            &[
                "thin_pool",
                "transaction_id",
                "origin",
                "merge",
                "device_id",
                "external_origin",
            ],
            Sections::None,
        ),
        b"cache-pool" => (
            &[
                "data",
                "metadata",
                "chunk_size",
                "cache_mode",
                "policy",
                "metadata_format",
            ],
            Sections::PolicySettings,
        ),
        b"cache" => (&["cache_pool", "origin", "cleaner"], Sections::None),
        b"snapshot" => (
            &["chunk_size", "merging_store", "cow_store", "origin"],
            Sections::None,
        ),
        b"error" | b"zero" | b"free" => (&[], Sections::None),
        n if n.starts_with(b"raid") => (
            &[
                "device_count",
                "stripe_count",
                "region_size",
                "stripe_size",
                "data_copies",
                "writebehind",
                "min_recovery_rate",
                "max_recovery_rate",
                "data_offset",
                "raids",
                "raid0_lvs",
            ],
            Sections::None,
        ),
        _ => return None,
    };
    Some(SegType { values, sections })
}

/// Copy of `n` without children (its key and values).
fn bare(n: &Node) -> Node {
    Node {
        key: n.key.clone(),
        values: n.values.clone(),
        children: Default::default(),
    }
}

/// The value nodes of `children` whose key is in `keys`, first occurrence only, plus
/// what `section` makes of each section it accepts (None: dropped), in their order.
fn filter<'a>(
    children: &'a [Node],
    keys: &[&str],
    mut section: impl FnMut(&'a Node) -> Option<Node>,
) -> Vec<Node> {
    let mut seen: Vec<&[u8]> = Vec::new();
    let mut out = Vec::new();
    for c in children {
        if c.is_section() {
            if let Some(n) = section(c) {
                out.push(n);
            }
        } else if keys.iter().any(|k| c.key == k.as_bytes()) && !seen.contains(&&c.key[..]) {
            seen.push(&c.key);
            out.push(bare(c));
        }
    }
    out
}

fn with_children(n: &Node, children: Vec<Node>) -> Node {
    let mut m = bare(n);
    m.children = children.into();
    m
}

/// A section of sections (`physical_volumes`, ...): each inner section through `each`;
/// value nodes dropped.
fn sections_of(n: &Node, each: impl Fn(&Node) -> Node) -> Node {
    with_children(
        n,
        n.children
            .iter()
            .filter(|c| c.is_section())
            .map(each)
            .collect(),
    )
}

fn pv(n: &Node) -> Node {
    with_children(n, filter(&n.children, PV, |_| None))
}

fn historical_lv(n: &Node) -> Node {
    with_children(n, filter(&n.children, HISTORICAL_LV, |_| None))
}

fn lv(n: &Node) -> Node {
    with_children(n, filter(&n.children, LV, |s| Some(segment(s))))
}

fn segment(n: &Node) -> Node {
    let ty = n
        .children
        .iter()
        .find(|c| c.key == b"type")
        .and_then(|c| match c.first_value() {
            Some(Value::Str(s)) => Some(s.to_vec()),
            _ => None,
        });
    let Some(t) = ty.as_deref().map_or(
        Some(SegType {
            values: &[],
            sections: Sections::None,
        }),
        seg_type,
    ) else {
        // a type LVM does not know: kept whole
        return n.clone();
    };
    let mut keys: Vec<&str> = SEGMENT.to_vec();
    keys.extend_from_slice(t.values);
    let mut policy_seen = false;
    let children = filter(&n.children, &keys, |s| match t.sections {
        Sections::None => None,
        Sections::Messages => Some(with_children(
            s,
            filter(&s.children, &["create", "delete"], |_| None),
        )),
        Sections::PolicySettings if s.key == b"policy_settings" && !policy_seen => {
            policy_seen = true;
            Some(s.clone())
        }
        Sections::PolicySettings => None,
    });
    with_children(n, children)
}

/// The VG section `vg` (the metadata text's section named after the VG, as parsed)
/// with every key LVM2 2.02.188's text import ignores dropped, at the VG, PV, LV and
/// segment levels (see the module documentation). Nothing else changes: the key of
/// `vg` and the order of what is kept stay as they are.
pub fn without_ignored_keys(vg: &Node) -> Node {
    let mut sections_seen: Vec<&[u8]> = Vec::new();
    let children = filter(&vg.children, VG, |c| {
        if sections_seen.contains(&&c.key[..]) {
            return None;
        }
        sections_seen.push(&c.key);
        match &c.key[..] {
            b"physical_volumes" | b"outdated_pvs" => Some(sections_of(c, pv)),
            b"logical_volumes" => Some(sections_of(c, lv)),
            b"historical_logical_volumes" => Some(sections_of(c, historical_lv)),
            _ => None,
        }
    });
    with_children(vg, children)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse_str, to_bytes};

    fn filtered(text: &str) -> String {
        let doc = parse_str(text).unwrap();
        String::from_utf8(to_bytes(&[without_ignored_keys(&doc[0])])).unwrap()
    }

    #[test]
    fn keeps_what_the_import_reads() {
        let vg = "vg {\nid=\"I\"\nseqno=3\nformat=\"lvm2\"\nstatus=[\"READ\",\"WRITE\"]\nflags=[]\n\
                  extent_size=8192\nmax_lv=0\nmax_pv=0\nmetadata_copies=0\n\
                  physical_volumes {\npv0 {\nid=\"P\"\ndevice=\"/dev/x\"\nstatus=[\"ALLOCATABLE\"]\n\
                  flags=[]\ndev_size=100\npe_start=2048\npe_count=10\n}\n}\n\
                  logical_volumes {\nlv {\nid=\"L\"\nstatus=[\"READ\"]\nflags=[]\n\
                  creation_time=1\ncreation_host=\"h\"\nsegment_count=1\n\
                  segment1 {\nstart_extent=0\nextent_count=1\ntype=\"striped\"\n\
                  stripe_count=1\nstripes=[\"pv0\",0]\n}\n}\n}\n}\n";
        assert_eq!(
            filtered(vg),
            String::from_utf8(to_bytes(&parse_str(vg).unwrap())).unwrap()
        );
    }

    #[test]
    fn drops_what_the_import_ignores() {
        let deep = format!(
            "{}x = 1",
            "a/".repeat(if cfg!(miri) { 2_000 } else { 200_000 })
        );
        let got = filtered(&format!(
            "vg {{\nid=\"I\"\n{deep}\nseqno=3\nseqno=4\nextra {{ y = 1 }}\nnote=\"n\"\n\
             physical_volumes {{\nstray=1\npv0 {{\nid=\"P\"\nfoo=2\nsub {{ z = 1 }}\npe_count=1\n}}\n}}\n\
             physical_volumes {{ pv9 {{ id=\"Q\" }} }}\n\
             logical_volumes {{\nlv {{\nid=\"L\"\nbar=1\nsegment1 {{\nstart_extent=0\ntype=\"striped\"\n\
             stripes=[\"pv0\",0]\nmirrors=[\"x\"]\n{deep}\n}}\n}}\n\
             t {{\nsegment1 {{\ntype=\"thin-pool\"\npool=\"p\"\nstripes=[]\n\
             message1 {{\ncreate=\"a\"\nq=1\n}}\n}}\n}}\n\
             c {{\nsegment1 {{\ntype=\"cache-pool\"\npolicy=\"smq\"\n\
             policy_settings {{\nmigration_threshold=2048\n}}\nother {{ w = 1 }}\n}}\n}}\n\
             u {{\nsegment1 {{\ntype=\"mystery\"\nanything=1\nsub {{ k = 2 }}\n}}\n}}\n}}\n\
             historical_logical_volumes {{\nh {{\nid=\"H\"\nname=\"h\"\nzzz=1\n}}\n}}\n}}\n"
        ));
        assert_eq!(
            got,
            "vg {\n\tid=\"I\"\n\tseqno=3\n\
             \tphysical_volumes {\n\t\tpv0 {\n\t\t\tid=\"P\"\n\t\t\tpe_count=1\n\t\t}\n\t}\n\
             \tlogical_volumes {\n\t\tlv {\n\t\t\tid=\"L\"\n\t\t\tsegment1 {\n\
             \t\t\t\tstart_extent=0\n\t\t\t\ttype=\"striped\"\n\t\t\t\tstripes=[\"pv0\",0]\n\
             \t\t\t}\n\t\t}\n\
             \t\tt {\n\t\t\tsegment1 {\n\t\t\t\ttype=\"thin-pool\"\n\t\t\t\tpool=\"p\"\n\
             \t\t\t\tmessage1 {\n\t\t\t\t\tcreate=\"a\"\n\t\t\t\t}\n\t\t\t}\n\t\t}\n\
             \t\tc {\n\t\t\tsegment1 {\n\t\t\t\ttype=\"cache-pool\"\n\t\t\t\tpolicy=\"smq\"\n\
             \t\t\t\tpolicy_settings {\n\t\t\t\t\tmigration_threshold=2048\n\t\t\t\t}\n\
             \t\t\t}\n\t\t}\n\
             \t\tu {\n\t\t\tsegment1 {\n\t\t\t\ttype=\"mystery\"\n\t\t\t\tanything=1\n\
             \t\t\t\tsub {\n\t\t\t\t\tk=2\n\t\t\t\t}\n\t\t\t}\n\t\t}\n\t}\n\
             \thistorical_logical_volumes {\n\t\th {\n\t\t\tid=\"H\"\n\t\t\tname=\"h\"\n\
             \t\t}\n\t}\n}\n"
        );
    }

    #[test]
    fn raid_and_typed_segments() {
        let got = filtered(
            "vg { logical_volumes { r { segment1 { type=\"raid1\" region_size=1024 raids=[\"a\",\"b\"] \
             stripes=[\"x\"] } } s { segment1 { type=\"snapshot\" origin=\"o\" cow_store=\"c\" \
             chunk_size=8 pool=\"p\" } } } }",
        );
        assert_eq!(
            got,
            "vg {\n\tlogical_volumes {\n\t\tr {\n\t\t\tsegment1 {\n\t\t\t\ttype=\"raid1\"\n\
             \t\t\t\tregion_size=1024\n\t\t\t\traids=[\"a\",\"b\"]\n\t\t\t}\n\t\t}\n\
             \t\ts {\n\t\t\tsegment1 {\n\t\t\t\ttype=\"snapshot\"\n\t\t\t\torigin=\"o\"\n\
             \t\t\t\tcow_store=\"c\"\n\t\t\t\tchunk_size=8\n\t\t\t}\n\t\t}\n\t}\n}\n"
        );
    }
}
