//! Deep input (issue 13): documents of nested braces and long path keys, through the
//! daemon's request handler and through the on-disk metadata reader, the scan's VG
//! export and the export filter. The input is a small program that writes the
//! document, so that a few bytes make keys of hundreds of thousands of segments.
//!
//! Input: byte 0 = flags (bit 0: a `vg_update` rather than `pv_clear_all`; bit 1:
//! send it twice); then ops of one byte, an argument byte after some:
//! - `0..=63`: open a section `sN {` (N = the op);
//! - `64..=127`: close a section;
//! - `128..=191`: a value `kN = N`;
//! - `192..=223`: a path key of `1 + arg * 64` segments and a value;
//! - `224..=239`: a path key of `arg * 1024` segments opening a section;
//! - `240..=255`: repeat the previous op `arg * 16` times.
//!
//! Checked: never a panic and never a stack overflow (libFuzzer reports one as a
//! crash); a request the daemon parsed makes no tree deeper than the nesting limit; a
//! request beyond it is refused with its reason, and the daemon's state is unchanged;
//! the metadata reader takes path keys of any length (as libdm does), and the export
//! filter's output never holds a key the VG level does not read.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lvmetad::config::deep::depth;
use lvmetad::config::parse::MAX_DEPTH;
use lvmetad::config::{compare_config, parse, parse_request, to_bytes};
use lvmetad::daemon::log::Logger;
use lvmetad::daemon::Daemon;
use lvmetad::ondisk::export::without_ignored_keys;
use lvmetad::ondisk::mda::FMTT_MAGIC;
use lvmetad::ondisk::{disk_crc, read_mda, DiskLocn};
use lvmetad::scan::pvscan::vg_export;
use std::collections::HashMap;

const START: u64 = 4096;
/// Largest document built (a 200,000-segment path key is 400 KB).
const MAX_TEXT: usize = 512 << 10;

fn path(out: &mut Vec<u8>, segments: usize) {
    for i in 0..segments {
        if i > 0 {
            out.push(b'/');
        }
        out.push(b'a' + (i % 26) as u8);
    }
}

/// The document the ops write, with the sections still open closed at the end.
fn document(ops: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut open = 0usize;
    let mut prev: Option<(u8, u8)> = None;
    let mut i = 0;
    while i < ops.len() && out.len() < MAX_TEXT {
        let raw = ops[i];
        let arg = if raw >= 192 {
            ops.get(i + 1).copied().unwrap_or(0)
        } else {
            0
        };
        i += if raw >= 192 { 2 } else { 1 };
        let (op, arg, times) = if raw >= 240 {
            match prev {
                Some((p, a)) => (p, a, arg as usize * 16),
                None => continue,
            }
        } else {
            prev = Some((raw, arg));
            (raw, arg, 1)
        };
        for _ in 0..times {
            if out.len() >= MAX_TEXT {
                break;
            }
            match op {
                0..=63 => {
                    out.extend_from_slice(format!("s{op} {{\n").as_bytes());
                    open += 1;
                }
                64..=127 => {
                    if open > 0 {
                        out.extend_from_slice(b"}\n");
                        open -= 1;
                    }
                }
                128..=191 => out.extend_from_slice(format!("k{op} = {op}\n").as_bytes()),
                192..=223 => {
                    path(&mut out, 1 + arg as usize * 64);
                    out.extend_from_slice(b" = 1\n");
                }
                _ => {
                    path(&mut out, (arg as usize).max(1) * 1024);
                    out.extend_from_slice(b" {\n");
                    open += 1;
                }
            }
        }
    }
    for _ in 0..open {
        out.extend_from_slice(b"}\n");
    }
    out
}

/// A device whose first mda holds `text` (as the `metadata_import` target builds it).
fn device(text: &[u8]) -> (Vec<u8>, u64) {
    let area_size = 512 + text.len() as u64;
    let mut dev = vec![0u8; START as usize + area_size as usize];
    let a = START as usize;
    dev[a + 512..a + 512 + text.len()].copy_from_slice(text);
    let h = &mut dev[a..a + 512];
    h[4..20].copy_from_slice(FMTT_MAGIC);
    h[20..24].copy_from_slice(&1u32.to_le_bytes());
    h[24..32].copy_from_slice(&START.to_le_bytes());
    h[32..40].copy_from_slice(&area_size.to_le_bytes());
    h[40..48].copy_from_slice(&512u64.to_le_bytes());
    h[48..56].copy_from_slice(&(text.len() as u64).to_le_bytes());
    h[56..60].copy_from_slice(&disk_crc(text).to_le_bytes());
    let c = disk_crc(&h[4..]);
    h[0..4].copy_from_slice(&c.to_le_bytes());
    (dev, area_size)
}

fuzz_target!(|data: &[u8]| {
    let [flags, ops @ ..] = data else {
        return;
    };
    let doc = document(ops);

    // the daemon: the document inside a request
    let d = Daemon::new(Logger::quiet());
    let head: &[u8] = if flags & 1 != 0 {
        b"request = \"vg_update\"\ntoken = \"skip\"\nvgname = \"vg\"\nmetadata {\nid = \"V\"\nseqno = 1\n"
    } else {
        b"request = \"pv_clear_all\"\ntoken = \"skip\"\nx {\n"
    };
    let mut req = head.to_vec();
    req.extend_from_slice(&doc);
    req.extend_from_slice(b"}\n");
    let dump0 = d.handle(b"request = \"dump\"\n").body;
    match parse_request(&req) {
        Ok(tree) => assert!(depth(&tree) <= MAX_DEPTH + 1),
        Err(e) if e.message == "nesting too deep" => {
            let r = d.handle(&req).body;
            assert!(
                r.starts_with(b"response = \"failed\"\nreason = \"request nested more than 512")
            );
            assert_eq!(d.handle(b"request = \"dump\"\n").body, dump0);
        }
        Err(_) => {}
    }
    for _ in 0..1 + (flags >> 1 & 1) {
        let _ = d.handle(&req);
    }

    // the metadata reader: the document as a VG section on a device
    let mut text = b"vg {\nid = \"AAAAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAAAA\"\nseqno = 1\nstatus = [\"READ\"]\nextent_size = 8192\n".to_vec();
    text.extend_from_slice(&doc);
    text.extend_from_slice(b"}\ncontents = \"Text Format Volume Group\"\nversion = 1\n\0");
    if let Ok(tree) = parse(&text) {
        // the walks that must not recurse
        let copy = tree.clone();
        assert_eq!(compare_config(&tree, &copy), 0);
        assert!(copy == tree);
        let _ = to_bytes(&copy);
        let _ = depth(&copy);
    }
    let (dev, area_size) = device(&text);
    let mut log = Vec::new();
    let locn = DiskLocn {
        offset: START,
        size: area_size,
    };
    let Ok(info) = read_mda(&dev, "/dev/fuzz", locn, &mut log) else {
        return;
    };
    let Some(md) = info.metadata else {
        return;
    };
    let Some(vg) = md.vg_section() else {
        return;
    };
    let meta = vg_export(vg, &HashMap::new());
    let _ = to_bytes(std::slice::from_ref(&meta));
    let kept = without_ignored_keys(vg);
    for c in kept.children.iter() {
        assert!(
            [
                "id",
                "seqno",
                "status",
                "extent_size",
                "physical_volumes",
                "outdated_pvs",
                "logical_volumes",
                "historical_logical_volumes",
                "format",
                "flags",
                "tags",
                "system_id",
                "max_lv",
                "max_pv",
                "metadata_copies",
                "allocation_policy",
                "profile",
                "lock_type",
                "lock_args"
            ]
            .iter()
            .any(|k| c.key == k.as_bytes()),
            "{:?}",
            c.key
        );
    }
    let _ = to_bytes(std::slice::from_ref(&kept));
});
