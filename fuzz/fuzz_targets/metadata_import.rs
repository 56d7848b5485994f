//! VG metadata text, arbitrary, as pvscan imports it: the text is put in a metadata area
//! with a valid header and checksum (so the fuzzer is not stopped by CRCs), optionally
//! wrapped around the circular buffer; then the label scan's read (`read_mda`: leading
//! VG name, circular buffer, parse, VG summary), the `vg_read` path pvscan uses for the
//! VG it sends (`read_vg_text`), the VG export (`vg_export`) and the daemon's import of
//! it (`pv_found` with the metadata, then lookups and listings).
//!
//! Input layout: byte 0 = flags (bit 0: wrap the text, bit 1: send the pv_found with
//! a second PV first, bit 2: a vg_update after it), byte 1 = where the wrap falls; the rest is the text (LVM's
//! trailing NUL is added).
//!
//! Checked: never a panic; `read_vg_text` without a name check returns exactly the text
//! and tree `read_mda` read; a summary taken by `read_mda` names a valid VG.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lvmetad::client::{tree_request, Field};
use lvmetad::config::{find_str, Node};
use lvmetad::daemon::log::Logger;
use lvmetad::daemon::Daemon;
use lvmetad::ondisk::mda::FMTT_MAGIC;
use lvmetad::ondisk::{disk_crc, read_mda, read_vg_text, validate_name, DiskLocn};
use lvmetad::protocol::Request;
use lvmetad::scan::pvscan::vg_export;
use std::collections::HashMap;

const START: u64 = 4096;
const PVID: &str = "Fuzzfu-zzFu-zzFu-zzFu-zzFu-zzFu-zzFuzz";

/// A device: zeros up to `START`, then an mda header whose slot 0 holds `text` (at
/// offset 512 of the area, or wrapped so that its first `first` bytes end the area and
/// the rest continues at offset 512).
fn device(text: &[u8], wrap: Option<usize>) -> (Vec<u8>, u64) {
    let total = text.len();
    let (area_data, off_in_data, first) = match wrap {
        Some(first) if first > 0 && first < total => (total + 7, total + 7 - first, first),
        _ => (total, 0, total),
    };
    let area_size = 512 + area_data as u64;
    let mut dev = vec![0u8; START as usize + area_size as usize];
    let a = START as usize;
    let data = a + 512;
    dev[data + off_in_data..data + off_in_data + first].copy_from_slice(&text[..first]);
    dev[data..data + total - first].copy_from_slice(&text[first..]);
    let h = &mut dev[a..a + 512];
    h[4..20].copy_from_slice(FMTT_MAGIC);
    h[20..24].copy_from_slice(&1u32.to_le_bytes());
    h[24..32].copy_from_slice(&START.to_le_bytes());
    h[32..40].copy_from_slice(&area_size.to_le_bytes());
    h[40..48].copy_from_slice(&(512 + off_in_data as u64).to_le_bytes());
    h[48..56].copy_from_slice(&(total as u64).to_le_bytes());
    h[56..60].copy_from_slice(&disk_crc(text).to_le_bytes());
    let c = disk_crc(&h[4..]);
    h[0..4].copy_from_slice(&c.to_le_bytes());
    (dev, area_size)
}

fn pvmeta(device: i64, id: &str, area_size: u64) -> Node {
    let k = |s: &str| format!("{} ", s);
    Node::section(
        "pvmeta",
        vec![
            Node::int(k("device"), device),
            Node::int(k("dev_size"), 1 << 20),
            Node::string(k("format"), "lvm2"),
            Node::int(k("label_sector"), 1),
            Node::string(k("id"), id),
            Node::section(
                "mda0",
                vec![
                    Node::int(k("ignore"), 0),
                    Node::int(k("start"), START as i64),
                    Node::int(k("size"), area_size as i64),
                    Node::int(k("free_sectors"), 0),
                ],
            ),
        ],
    )
}

fn request(id: Request, fields: &[Field<'_>]) -> Vec<u8> {
    tree_request(id, fields, "skip", 0, 1, "fuzz")
}

fuzz_target!(|data: &[u8]| {
    let [flags, at, body @ ..] = data else {
        return;
    };
    let mut text = body.to_vec();
    text.push(0);
    let wrap = (flags & 1 != 0).then(|| (*at as usize * text.len()) / 256);
    let (dev, area_size) = device(&text, wrap);
    let locn = DiskLocn {
        offset: START,
        size: area_size,
    };

    let mut log = Vec::new();
    let scanned = read_mda(&dev, "/dev/fuzz", locn, &mut log);
    let mut log = Vec::new();
    let vg_read = read_vg_text(&dev, "/dev/fuzz", locn, "", false, &mut log);
    let Ok(info) = scanned else {
        return;
    };
    let Some(md) = info.metadata else {
        return;
    };
    let vt = vg_read.expect("read_vg_text fails on metadata read_mda accepted");
    assert_eq!(vt.text, md.text);
    assert_eq!(vt.config, md.config);
    assert!(validate_name(&md.summary.vgname));
    let name = md.summary.name().into_owned();
    let _ = (
        md.summary.vg_uuid(),
        md.summary.is_exported(),
        md.summary.is_clustered(),
        md.lv_names(),
    );
    // the vg_read path with the name check, as pvscan calls it
    let mut log = Vec::new();
    let _ = read_vg_text(&dev, "/dev/fuzz", locn, &name, true, &mut log);

    let Some(vg) = md.vg_section() else {
        return;
    };
    // our PV is the first one the metadata lists (if it lists any)
    let pvid = vg
        .child("physical_volumes")
        .and_then(|pvs| pvs.children.first())
        .and_then(|pv| find_str(&pv.children, "id"))
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .unwrap_or_else(|| PVID.to_string());
    let names: HashMap<String, String> = [(pvid.clone(), "/dev/fuzz".to_string())].into();
    let meta = vg_export(vg, &names);

    let d = Daemon::new(Logger::quiet());
    if flags & 2 != 0 {
        let other = pvmeta(2, PVID, area_size);
        d.handle(&request(
            Request::PvFound,
            &[
                Field::Tree("pvmeta", &other),
                Field::Str("vgname", name.as_bytes()),
                Field::Tree("metadata", &meta),
            ],
        ));
    }
    let pm = pvmeta(1, &pvid, area_size);
    d.handle(&request(
        Request::PvFound,
        &[
            Field::Tree("pvmeta", &pm),
            Field::Str("vgname", name.as_bytes()),
            Field::Tree("metadata", &meta),
        ],
    ));
    let uuid = md.summary.vg_uuid();
    let mut reqs = vec![
        request(Request::VgLookup, &[Field::Str("uuid", uuid.as_bytes())]),
        request(Request::VgLookup, &[Field::Str("name", name.as_bytes())]),
        request(Request::PvList, &[]),
    ];
    if flags & 4 != 0 {
        reqs.push(request(
            Request::VgUpdate,
            &[
                Field::Str("vgname", name.as_bytes()),
                Field::Str("uuid", uuid.as_bytes()),
                Field::Tree("metadata", &meta),
            ],
        ));
    }
    reqs.push(request(Request::PvGone, &[Field::Int("device", 1)]));
    reqs.push(request(Request::VgList, &[]));
    for req in reqs {
        let _ = d.handle(&req);
    }
});
