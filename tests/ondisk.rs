//! The on-disk PV reader (`lvmetad::ondisk`) against every real PV image in
//! tests/data/images: the manifests' on-disk facts, the `pv_found` messages LVM2
//! 2.02.188 sent for the images (`<case>.lvmetad.txt`), the messages it printed for the
//! corrupted ones, injected I/O errors and short reads, and a few thousand random
//! mutations that must never make the reader panic.

use lvmetad::client::port::Level;
use lvmetad::config::{self, Node, Value};
use lvmetad::ondisk::{
    self, read_label, read_mda, read_mda_header, read_metadata_text, read_vg_text, scan_pv,
    BlockRead, Label, Log, MdaHeaderError, MetadataError, PvScan, ScanError, ScannedPv, TextError,
};
use serde_json::Value as J;
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

// ---------------------------------------------------------------------------------
// fixtures

struct Fixture {
    /// e.g. "c04_vg1_pv1.img"
    image: String,
    manifest: J,
    data: Vec<u8>,
}

impl Fixture {
    fn case(&self) -> &str {
        self.manifest["case"].as_str().unwrap()
    }

    fn expected(&self) -> Option<&J> {
        self.manifest.get("expected")
    }

    fn decoded(&self) -> &J {
        &self.manifest["decoded_by_python"]
    }

    fn is_corruption(&self) -> bool {
        self.manifest.get("corruption").is_some()
    }

    /// The device name LVM had for this image in the `.lvmetad.txt` recording.
    fn dev_name(&self) -> String {
        format!("/dev/loop{}", 70 + self.case_index())
    }

    fn case_index(&self) -> usize {
        self.manifest["case_images"]
            .as_array()
            .unwrap()
            .iter()
            .position(|i| i.as_str() == Some(&self.image))
            .unwrap()
    }
}

fn images_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/images")
}

fn decompress(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let f = std::fs::File::open(path).unwrap();
    let mut r = io::BufReader::new(f);
    let mut dec = ruzstd::decoding::StreamingDecoder::new(&mut r).unwrap();
    let mut out = Vec::new();
    dec.read_to_end(&mut out).unwrap();
    out
}

fn fixtures() -> &'static [Fixture] {
    static F: OnceLock<Vec<Fixture>> = OnceLock::new();
    F.get_or_init(|| {
        let mut names: Vec<String> = std::fs::read_dir(images_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".img.json"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|n| {
                let manifest: J =
                    serde_json::from_slice(&std::fs::read(images_dir().join(&n)).unwrap()).unwrap();
                let image = n.trim_end_matches(".json").to_string();
                let zst = images_dir().join(manifest["compressed_file"].as_str().unwrap());
                let data = decompress(&zst);
                Fixture {
                    image,
                    manifest,
                    data,
                }
            })
            .collect()
    })
}

fn fixture(image: &str) -> &'static Fixture {
    fixtures()
        .iter()
        .find(|f| f.image == image)
        .unwrap_or_else(|| panic!("no fixture {image}"))
}

fn u(j: &J) -> u64 {
    j.as_u64().unwrap_or_else(|| panic!("not an integer: {j}"))
}

fn scan(f: &Fixture) -> (Result<PvScan, ScanError>, Log) {
    let mut log = Log::new();
    let r = scan_pv(&f.data, &f.dev_name(), &mut log);
    (r, log)
}

fn scanned(f: &Fixture) -> (ScannedPv, Log) {
    match scan(f) {
        (Ok(PvScan::Pv(pv)), log) => (pv, log),
        (other, log) => panic!("{}: {other:?}\n{log:#?}", f.image),
    }
}

/// The messages LVM prints by default (errors and warnings).
fn printed(log: &Log) -> Vec<String> {
    log.iter()
        .filter(|m| m.level <= Level::Warn)
        .map(|m| m.text.clone())
        .collect()
}

// ---------------------------------------------------------------------------------
// SHA-256 (for the manifests' image_sha256; small enough to carry here)

fn sha256_hex(data: &[u8]) -> String {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let full = data.len() / 64 * 64;
    let mut tail = data[full..].to_vec();
    tail.push(0x80);
    while tail.len() % 64 != 56 {
        tail.push(0);
    }
    tail.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in data[..full].chunks_exact(64).chain(tail.chunks_exact(64)) {
        let mut w = [0u32; 64];
        for (i, c) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
        }
        // the images are mostly zeros, whose message schedule is all zeros
        let zero = w[..16].iter().all(|&x| x == 0);
        for i in (16..64).filter(|_| !zero) {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let mut v = h;
        for i in 0..64 {
            let s1 = v[4].rotate_right(6) ^ v[4].rotate_right(11) ^ v[4].rotate_right(25);
            let ch = (v[4] & v[5]) ^ (!v[4] & v[6]);
            let t1 = v[7]
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = v[0].rotate_right(2) ^ v[0].rotate_right(13) ^ v[0].rotate_right(22);
            let maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
            let t2 = s0.wrapping_add(maj);
            v = [
                t1.wrapping_add(t2),
                v[0],
                v[1],
                v[2],
                v[3].wrapping_add(t1),
                v[4],
                v[5],
                v[6],
            ];
        }
        for (a, b) in h.iter_mut().zip(v) {
            *a = a.wrapping_add(b);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

/// sha256 of an image: coreutils' `sha256sum` when present (hashing ~300 MiB with the
/// unoptimised code of a debug build takes half a minute), else [`sha256_hex`].
fn image_sha256(data: &[u8]) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    if let Ok(mut child) = child {
        let mut stdin = child.stdin.take().unwrap();
        let fed = std::thread::scope(|s| {
            let w = s.spawn(move || stdin.write_all(data).is_ok());
            let out = child.wait_with_output();
            (w.join().unwrap(), out)
        });
        if let (true, Ok(out)) = fed {
            let text = String::from_utf8_lossy(&out.stdout);
            if out.status.success() && text.len() >= 64 {
                return text[..64].to_string();
            }
        }
    }
    sha256_hex(data)
}

#[test]
fn sha256_known_answers() {
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        sha256_hex(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        sha256_hex(&[b'a'; 1000]),
        "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"
    );
    let img = &fixture("c10e_truncated_2k.img");
    assert_eq!(sha256_hex(&img.data), image_sha256(&img.data));
    assert_eq!(
        sha256_hex(&img.data),
        img.manifest["image_sha256"].as_str().unwrap()
    );
}

// ---------------------------------------------------------------------------------
// every image decodes to the bytes its manifest describes

#[test]
fn every_image_is_present_and_intact() {
    let dir = images_dir();
    let mut zst: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".img.zst"))
        .collect();
    zst.sort();
    let listed: Vec<String> = fixtures()
        .iter()
        .map(|f| format!("{}.zst", f.image))
        .collect();
    assert_eq!(zst, listed, "every image has a manifest and vice versa");
    assert!(fixtures().len() >= 14);
    for f in fixtures() {
        let h = image_sha256(&f.data);
        assert_eq!(f.manifest["image"].as_str(), Some(f.image.as_str()));
        assert_eq!(
            f.data.len() as u64,
            u(&f.manifest["image_size_bytes"]),
            "{}",
            f.image
        );
        assert_eq!(
            h,
            f.manifest["image_sha256"].as_str().unwrap(),
            "{}",
            f.image
        );
    }
}

// ---------------------------------------------------------------------------------
// manifest facts

fn check_label(f: &Fixture, l: &Label) {
    let img = &f.image;
    let dec = f.decoded();
    let dl = &dec["label"];
    let ph = &dec["pv_header"];
    let ext = &dec["pv_header_extension"];
    assert_eq!(l.sector, u(&dl["found_in_sector"]), "{img}");
    assert_eq!(l.sector_xl, u(&dl["sector_xl"]), "{img}");
    assert_eq!(u64::from(l.crc), u(&dl["crc_xl"]), "{img}");
    assert_eq!(u64::from(l.offset_xl), u(&dl["offset_xl"]), "{img}");
    assert!(l.has_label_id);
    assert_eq!(l.pvid_str(), ph["pv_uuid_raw"].as_str().unwrap(), "{img}");
    assert_eq!(l.pv_uuid(), ph["pv_uuid"].as_str().unwrap(), "{img}");
    assert_eq!(l.device_size, u(&ph["device_size_bytes"]), "{img}");
    let locns = |j: &J| -> Vec<(u64, u64)> {
        j.as_array()
            .unwrap()
            .iter()
            .map(|a| (u(&a["offset"]), u(&a["size"])))
            .collect()
    };
    let ours = |v: &[ondisk::DiskLocn]| -> Vec<(u64, u64)> {
        v.iter().map(|d| (d.offset, d.size)).collect()
    };
    assert_eq!(ours(&l.data_areas), locns(&ph["data_areas"]), "{img}");
    assert_eq!(ours(&l.mdas), locns(&ph["metadata_areas"]), "{img}");
    assert_eq!(u64::from(l.ext_version), u(&ext["version"]), "{img}");
    assert_eq!(u64::from(l.ext_flags), u(&ext["flags"]), "{img}");
    assert_eq!(
        ours(&l.bootloader_areas),
        locns(&ext["bootloader_areas"]),
        "{img}"
    );

    if let Some(e) = f.expected() {
        assert_eq!(l.pvid_str(), e["pv_uuid_raw"].as_str().unwrap(), "{img}");
        assert_eq!(l.pv_uuid(), e["pv_uuid"].as_str().unwrap(), "{img}");
        assert_eq!(l.sector, u(&e["label_sector"]), "{img}");
        assert_eq!(u64::from(l.crc), u(&e["label_crc"]), "{img}");
        assert_eq!(l.device_size, u(&e["pv_header_device_size_bytes"]), "{img}");
        assert_eq!(ours(&l.data_areas), locns(&e["data_areas"]), "{img}");
        assert_eq!(l.data_areas[0].offset, u(&e["pe_start_bytes"]), "{img}");
        assert_eq!(
            u64::from(l.ext_version),
            u(&e["pv_header_extension_version"]),
            "{img}"
        );
        assert_eq!(u64::from(l.ext_version), u(&e["pv_ext_version"]), "{img}");
        assert_eq!(
            u64::from(l.ext_flags),
            u(&e["pv_header_extension_flags"]),
            "{img}"
        );
        assert_eq!(l.mdas.len() as u64, u(&e["mda_count"]), "{img}");
        // the PV_EXT_USED flag says whether pvs found the PV in a VG
        assert_eq!(
            l.in_use(),
            !e["vg_name"].as_str().unwrap().is_empty(),
            "{img}"
        );
    }
}

fn check_mdas(f: &Fixture, pv: &ScannedPv) {
    let img = &f.image;
    let e = f.expected().unwrap();
    let emdas = e["mdas"].as_array().unwrap();
    let dmdas = f.decoded()["mdas"].as_array().unwrap();
    assert_eq!(pv.mdas.len(), emdas.len(), "{img}");
    assert_eq!(pv.mdas.len(), dmdas.len(), "{img}");
    let used = pv.mdas.iter().filter(|m| !m.ignored).count() as u64;
    assert_eq!(used, u(&e["mda_used_count"]), "{img}");
    for ((m, em), dm) in pv.mdas.iter().zip(emdas).zip(dmdas) {
        assert_eq!(m.locn.offset, u(&em["offset"]), "{img}");
        assert_eq!(m.locn.size, u(&em["size"]), "{img}");
        assert_eq!(
            u64::from(m.header.checksum),
            u(&em["mda_header_checksum"]),
            "{img}"
        );
        assert_eq!(m.header.start, u(&em["mda_header_start"]), "{img}");
        assert_eq!(m.header.size, u(&em["mda_header_size"]), "{img}");
        assert_eq!(m.header.version, 1);
        assert_eq!(m.ignored, em["ignored"].as_bool().unwrap(), "{img}");
        let rls = em["raw_locn"].as_array().unwrap();
        assert_eq!(rls.len(), 2);
        for (slot, rl) in rls.iter().enumerate() {
            assert_eq!(u(&rl["slot"]), slot as u64);
            let ours = &m.header.raw_locns[slot];
            assert_eq!(ours.offset, u(&rl["offset"]), "{img} slot {slot}");
            assert_eq!(ours.size, u(&rl["size"]), "{img} slot {slot}");
            assert_eq!(
                u64::from(ours.checksum),
                u(&rl["checksum"]),
                "{img} slot {slot}"
            );
            assert_eq!(u64::from(ours.flags), u(&rl["flags"]), "{img} slot {slot}");
            assert_eq!(ours.is_ignored(), slot == 0 && m.ignored);
        }
        // the independent decode agrees, including the text facts
        let dh = &dm["mda_header"];
        assert!(dh["checksum_ok"].as_bool().unwrap());
        assert_eq!(m.header.size, u(&dh["size"]), "{img}");
        let d0 = &dm["raw_locns"][0];
        match &m.metadata {
            None => assert!(d0.get("text_vg_name").is_none(), "{img}"),
            Some(md) => {
                assert_eq!(
                    md.summary.name(),
                    d0["text_vg_name"].as_str().unwrap(),
                    "{img}"
                );
                assert_eq!(u64::from(md.summary.seqno), u(&d0["text_seqno"]), "{img}");
                let lvs: Vec<&str> = d0["text_lv_names"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap())
                    .collect();
                assert_eq!(md.lv_names(), lvs, "{img}");
                assert_eq!(
                    u64::from(ondisk::disk_crc(&md.text)),
                    u(&d0["text_checksum_calculated"]),
                    "{img}"
                );
                assert_eq!(md.wrap != 0, d0["wrapped"].as_bool().unwrap(), "{img}");
                if md.wrap != 0 {
                    assert_eq!(u64::from(md.wrap), u(&d0["wrap_bytes"]), "{img}");
                }
                assert_eq!(md.text.len() as u64, md.rlocn.size);
                assert_eq!(md.text.last(), Some(&0), "LVM's text ends with a NUL");
                assert_eq!(md.offset, m.locn.offset + md.rlocn.offset);
            }
        }
    }
}

fn vg_string<'a>(vg: &'a Node, key: &str) -> Option<&'a [u8]> {
    match vg.child(key)?.first_value()? {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

fn vg_int(vg: &Node, key: &str) -> Option<i64> {
    match vg.child(key)?.first_value()? {
        Value::Int(i) => Some(*i),
        _ => None,
    }
}

fn check_vg(f: &Fixture, pv: &ScannedPv) {
    let img = &f.image;
    let e = f.expected().unwrap();
    let vg_name = e["vg_name"].as_str().unwrap();
    let Some(md) = pv.best_metadata() else {
        // orphans, and PVs without mdas (their VG is known only from another PV)
        assert!(vg_name.is_empty() || pv.mdas.is_empty(), "{img}");
        return;
    };
    let s = &md.summary;
    assert_eq!(s.name(), vg_name, "{img}");
    assert_eq!(s.vg_uuid(), e["vg_uuid"].as_str().unwrap(), "{img}");
    assert_eq!(u64::from(s.seqno), u(&e["vg_seqno"]), "{img}");
    assert_eq!(s.creation_host, b"vm", "{img}");
    let sysid = e["vg_systemid"].as_str().unwrap();
    assert_eq!(
        s.system_id.as_deref().unwrap_or_default(),
        sysid.as_bytes(),
        "{img}"
    );
    assert_eq!(s.is_exported(), e["vg_exported"] == "exported", "{img}");
    assert_eq!(s.lock_type, None);
    let in_metadata: Vec<&str> = e["lv_names_in_metadata"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert_eq!(md.lv_names(), in_metadata, "{img}");
    // lvs lists LVs sorted and hides those of an exported VG
    let mut listed: Vec<&str> = e["lv_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    listed.sort();
    let mut ours = md.lv_names();
    ours.sort();
    if s.is_exported() {
        assert!(listed.is_empty());
    } else {
        assert_eq!(ours, listed, "{img}");
    }
    let vg = md.vg_section().unwrap();
    assert_eq!(
        vg_int(vg, "extent_size").unwrap() as u64,
        u(&e["extent_size_sectors"]),
        "{img}"
    );
    assert_eq!(vg_int(vg, "seqno").unwrap() as u64, u(&e["vg_seqno"]));
    // this PV is listed in its own VG, with the data area's pe_start
    let pvs = vg.child("physical_volumes").unwrap();
    assert_eq!(pvs.children.len() as u64, u(&e["vg_pv_count"]), "{img}");
    let me = pvs
        .children
        .iter()
        .find(|p| vg_string(p, "id") == Some(pv.label.pv_uuid().as_bytes()))
        .unwrap_or_else(|| panic!("{img}: PV not listed in its VG"));
    assert_eq!(
        vg_int(me, "pe_start").unwrap() as u64,
        u(&e["pe_start_sectors"]),
        "{img}"
    );
    assert_eq!(
        vg_int(me, "pe_count").unwrap() as u64,
        u(&e["pe_count"]),
        "{img}"
    );
    assert_eq!(
        vg_int(me, "dev_size").unwrap() as u64 * 512,
        pv.label.device_size,
        "{img}"
    );
}

#[test]
fn manifest_facts_of_every_intact_image() {
    let mut checked = 0;
    for f in fixtures().iter().filter(|f| !f.is_corruption()) {
        let (pv, log) = scanned(f);
        assert!(printed(&log).is_empty(), "{}: {log:#?}", f.image);
        check_label(f, &pv.label);
        check_mdas(f, &pv);
        check_vg(f, &pv);
        // read_label / read_mda on their own give the same
        let mut log2 = Log::new();
        let l = read_label(&f.data, &f.dev_name(), &mut log2)
            .unwrap()
            .unwrap();
        assert_eq!(l, pv.label);
        for (m, locn) in pv.mdas.iter().zip(&l.mdas) {
            assert_eq!(
                &read_mda(&f.data, &f.dev_name(), *locn, &mut log2).unwrap(),
                m
            );
            let h = read_mda_header(&f.data, &f.dev_name(), locn.offset, &mut log2).unwrap();
            assert_eq!(h, m.header);
        }
        assert!(printed(&log2).is_empty());
        checked += 1;
    }
    assert_eq!(checked, 11);
}

/// Every PV whose manifest names a VG is listed in that VG's metadata (also those
/// without metadata areas, c05's second PV).
#[test]
fn vg_membership_across_case_images() {
    for f in fixtures().iter().filter(|f| !f.is_corruption()) {
        let vg_name = f.expected().unwrap()["vg_name"].as_str().unwrap();
        if vg_name.is_empty() {
            continue;
        }
        let (pv, _) = scanned(f);
        let holder = f.manifest["case_images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| scanned(fixture(i.as_str().unwrap())).0)
            .find_map(|p| p.best_metadata().cloned())
            .unwrap();
        assert_eq!(holder.summary.name(), vg_name);
        let pvs = holder
            .vg_section()
            .unwrap()
            .child("physical_volumes")
            .unwrap();
        assert!(
            pvs.children
                .iter()
                .any(|p| vg_string(p, "id") == Some(pv.label.pv_uuid().as_bytes())),
            "{}",
            f.image
        );
    }
}

/// c06: the committed text runs past the end of the 32 KiB area; the unwrapped text is
/// what `pvck --dump metadata` printed, and the two pieces are where the spec says.
#[test]
fn c06_wrapped_text() {
    let f = fixture("c06_vg6_wrapped.img");
    let w = &f.manifest["wrap"];
    let (pv, _) = scanned(f);
    let m = &pv.mdas[0];
    let md = m.metadata.as_ref().unwrap();
    assert_eq!(md.rlocn.offset, u(&w["raw_locn_offset"]));
    assert_eq!(md.rlocn.size, u(&w["raw_locn_size"]));
    assert_eq!(m.header.size, u(&w["mda_header_size"]));
    assert_eq!(
        u64::from(md.wrap),
        u(&w["bytes_after_wrap_at_area_offset_512"])
    );
    let before = u(&w["bytes_before_wrap"]) as usize;
    assert_eq!(before + md.wrap as usize, md.text.len());
    // the pieces straight from the image
    let start = m.locn.offset as usize;
    let p1 = &f.data[start + md.rlocn.offset as usize..][..before];
    let p2 = &f.data[start + 512..][..md.wrap as usize];
    assert_eq!(&md.text[..before], p1);
    assert_eq!(&md.text[before..], p2);
    // pvck's dump: "  metadata text at ... \n  ---\n" + text + "\n  ---\n"
    let out = f.manifest["pvck_dump_metadata"][0]["stdout"]
        .as_str()
        .unwrap();
    assert!(out.starts_with(&format!(
        "  metadata text at {} crc {:#x} # vgname vg6 seqno 47\n",
        md.offset, md.rlocn.checksum
    )));
    let body = out.split_once("  ---\n").unwrap().1;
    let body = body.strip_suffix("\n  ---\n").unwrap();
    assert_eq!(body.as_bytes(), &md.text[..md.text.len() - 1]);
    // the same through read_metadata_text
    let mut log = Log::new();
    let t = read_metadata_text(&f.data, "/dev/loop70", &m.header, 0, &mut log).unwrap();
    assert_eq!(t, md.text);
    // free space: 2348 bytes round up to 2560; (32768 - 512 - 5120) / 2 >> 9 = 26
    assert_eq!(m.free_sectors, 26);
}

/// The VG section on disk equals the `vgcfgbackup` file's (c04, c06).
#[test]
fn vg_section_matches_vgcfgbackup() {
    for (img, backup) in [
        ("c04_vg1_pv1.img", "c04_vg1.vgmeta.txt"),
        ("c06_vg6_wrapped.img", "c06_vg6.vgmeta.txt"),
    ] {
        let f = fixture(img);
        assert_eq!(f.manifest["vgmeta_file"].as_str(), Some(backup));
        let (pv, _) = scanned(f);
        let md = pv.best_metadata().unwrap();
        let text = std::fs::read(images_dir().join(backup)).unwrap();
        let doc = config::parse(&text).unwrap();
        let theirs = doc.iter().find(|n| n.is_section()).unwrap();
        assert_eq!(md.vg_section().unwrap(), theirs, "{img}");
    }
}

/// c04_vg1_pv1's text is the spec's C2 example: 2108 bytes at device byte 9728,
/// ending with "\n\n\0"; free_sectors 1014.
#[test]
fn c04_text_as_in_spec() {
    let f = fixture("c04_vg1_pv1.img");
    let (pv, _) = scanned(f);
    let m = &pv.mdas[0];
    let md = m.metadata.as_ref().unwrap();
    assert_eq!(md.offset, 9728);
    assert_eq!(md.text.len(), 2108);
    assert_eq!(md.rlocn.checksum, 0x4f447841);
    assert!(md
        .text
        .starts_with(b"vg1 {\nid = \"Z7aY8p-H1bc-94SG-dwkH-HFZA-zxsW-vSzhY5\"\n"));
    assert!(md
        .text
        .ends_with(b"creation_time = 1795628679\t# Wed Nov 25 17:44:39 2026\n\n\0"));
    assert_eq!(m.free_sectors, 1014);
    assert_eq!(md.wrap, 0);
    let c01 = scanned(fixture("c01_orphan_default.img")).0;
    assert_eq!(c01.mdas[0].free_sectors, 1019);
    assert!(c01.mdas[0].metadata.is_none());
}

// ---------------------------------------------------------------------------------
// what LVM2 2.02.188 sent and printed (<case>.lvmetad.txt)

struct Recording {
    /// step number -> (command, stderr lines without the indentation)
    steps: BTreeMap<u32, (String, Vec<String>)>,
    /// (request|reply, body)
    messages: Vec<(String, Vec<u8>)>,
}

fn recording(case: &str) -> Recording {
    let raw = std::fs::read(images_dir().join(format!("{case}.lvmetad.txt"))).unwrap();
    let mut steps: BTreeMap<u32, (String, Vec<String>)> = BTreeMap::new();
    let mut cur = None;
    // the first "--- conn=" line (the comment header mentions it too, after "#")
    let first_msg = raw
        .windows(10)
        .position(|w| w == b"\n--- conn=")
        .map_or(raw.len(), |i| i + 1);
    for line in String::from_utf8_lossy(&raw[..first_msg]).lines() {
        if let Some(rest) = line.strip_prefix("#   step ") {
            let (n, cmd) = rest.split_once(": ").unwrap();
            let n: u32 = n.parse().unwrap();
            steps.insert(n, (cmd.to_string(), Vec::new()));
            cur = Some(n);
        } else if let Some(rest) = line.strip_prefix("#     stderr|") {
            steps
                .get_mut(&cur.unwrap())
                .unwrap()
                .1
                .push(rest.trim_start().to_string());
        }
    }
    let mut messages = Vec::new();
    let mut pos = first_msg;
    while let Some(i) = raw[pos..].windows(4).position(|w| w == b"=== ") {
        let hs = pos + i;
        let he = hs + raw[hs..].iter().position(|&c| c == b'\n').unwrap();
        let header = String::from_utf8_lossy(&raw[hs..he]).into_owned();
        let kind = header.split(' ').nth(2).unwrap().to_string();
        let n: usize = header.rsplit_once("bytes=").unwrap().1.parse().unwrap();
        let body = raw[he + 1..he + 1 + n].to_vec();
        assert!(body.ends_with(b"\n##\n"));
        messages.push((kind, body));
        pos = he + 1 + n;
    }
    Recording { steps, messages }
}

fn int_node(k: &str, v: i64) -> Node {
    Node::int(k, v)
}

/// Our `pvmeta` for `device`, in LVM's key order.
fn pvmeta_nodes(pv: &ScannedPv, device: i64) -> Vec<Node> {
    let m = pv.pvmeta();
    let mut out = vec![
        int_node("device", device),
        int_node("dev_size", m.dev_size as i64),
        Node::string("format", m.format),
        int_node("label_sector", m.label_sector as i64),
        Node::string("id", &m.id),
        int_node("ext_version", i64::from(m.ext_version)),
        int_node("ext_flags", i64::from(m.ext_flags)),
    ];
    for (i, a) in m.mdas.iter().enumerate() {
        out.push(Node::section(
            format!("mda{i}"),
            vec![
                int_node("ignore", i64::from(a.ignore)),
                int_node("start", a.start as i64),
                int_node("size", a.size as i64),
                int_node("free_sectors", a.free_sectors as i64),
            ],
        ));
    }
    for (prefix, list) in [("da", &m.das), ("ba", &m.bas)] {
        for (i, a) in list.iter().enumerate() {
            out.push(Node::section(
                format!("{prefix}{i}"),
                vec![
                    int_node("offset", a.offset as i64),
                    int_node("size", a.size as i64),
                ],
            ));
        }
    }
    out
}

/// A VG section without the per-PV `device` hints (LVM re-generates them).
fn without_device_hints(vg: &[Node]) -> Vec<Node> {
    let mut v = vg.to_vec();
    for n in v.iter_mut().filter(|n| n.key == b"physical_volumes") {
        for p in n.children.iter_mut() {
            p.children.retain(|c| c.key != b"device");
        }
    }
    v
}

#[test]
fn pv_found_messages_match_what_lvm_sent() {
    let mut cases: Vec<&str> = fixtures().iter().map(|f| f.case()).collect();
    cases.dedup();
    let mut compared = 0;
    for case in cases {
        let rec = recording(case);
        let images: Vec<&Fixture> = fixtures().iter().filter(|f| f.case() == case).collect();
        let mut found_devices = Vec::new();
        for (kind, body) in &rec.messages {
            if kind != "request" {
                continue;
            }
            let doc = config::parse(body).unwrap();
            if config::find_str(&doc, "request") != Some(b"pv_found") {
                continue;
            }
            let pvmeta = config::find(&doc, "pvmeta").unwrap();
            let device = config::find_int(&pvmeta.children, "device").unwrap();
            let f = images
                .iter()
                .find(|f| 1862 + f.case_index() as i64 == device)
                .unwrap();
            let (pv, _) = scanned(f);
            assert_eq!(
                pvmeta.children,
                pvmeta_nodes(&pv, device),
                "{case} {device}"
            );
            match pv.best_metadata() {
                None => {
                    assert!(config::find(&doc, "vgname").is_none());
                    assert!(config::find(&doc, "metadata").is_none());
                }
                Some(md) => {
                    assert_eq!(
                        config::find_str(&doc, "vgname"),
                        Some(md.summary.vgname.as_slice()),
                        "{case}"
                    );
                    let sent = config::find(&doc, "metadata").unwrap();
                    assert_eq!(
                        without_device_hints(&sent.children),
                        without_device_hints(&md.vg_section().unwrap().children),
                        "{case} {device}"
                    );
                }
            }
            found_devices.push(device);
            compared += 1;
        }
        // which images LVM reported as PVs, and which it did not
        for f in &images {
            let device = 1862 + f.case_index() as i64;
            let reported = found_devices.contains(&device);
            let (r, _) = scan(f);
            match case {
                // the duplicate is dropped by lvmcache, not by the reader
                "c09" => assert_eq!(reported, f.case_index() == 0),
                _ => assert_eq!(reported, matches!(r, Ok(PvScan::Pv(_))), "{}", f.image),
            }
        }
    }
    assert!(compared >= 20, "{compared}");
}

/// What the full `pvscan --cache` printed (apart from the activation warning) is what
/// the reader logs at error/warning level, device by device.
#[test]
fn printed_messages_match_what_lvm_printed() {
    let mut cases: Vec<&str> = fixtures().iter().map(|f| f.case()).collect();
    cases.dedup();
    for case in cases {
        let rec = recording(case);
        let full = rec
            .steps
            .values()
            .find(|(cmd, _)| cmd == "lvm pvscan --cache")
            .unwrap();
        let lvm: Vec<String> = full
            .1
            .iter()
            .filter(|l| !l.starts_with("WARNING: Activation disabled."))
            .cloned()
            .collect();
        let mut ours = Vec::new();
        for f in fixtures().iter().filter(|f| f.case() == case) {
            ours.extend(printed(&scan(f).1));
        }
        match case {
            // duplicate-PV warnings come from lvmcache; the reader prints nothing
            "c09" => {
                assert!(ours.is_empty());
                assert_eq!(
                    lvm,
                    [
                        "WARNING: found device with duplicate /dev/loop71",
                        "WARNING: Disabling lvmetad cache which does not support duplicate PVs.",
                        "WARNING: Scan found duplicate PVs.",
                        "WARNING: Not using lvmetad because cache update failed.",
                    ]
                );
            }
            // the 2048-byte device never reaches the reader: LVM's usable filter drops
            // devices below devices/pv_min_size (2048 KiB) before scanning
            "c10e" => {
                assert!(lvm.is_empty());
                assert!(fixture("c10e_truncated_2k.img").data.len() < 2048 * 1024);
            }
            _ => assert_eq!(ours, lvm, "{case}"),
        }
    }
}

// ---------------------------------------------------------------------------------
// corruptions

fn check_changes(f: &Fixture) {
    for c in f.manifest["corruption"]["changes"].as_array().unwrap() {
        let off = u(&c["offset"]) as usize;
        let len = u(&c["length"]) as usize;
        let hex: String = f.data[off..off + len]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, c["new_hex"].as_str().unwrap());
    }
}

#[test]
fn c10a_bad_label_crc_is_no_label() {
    let f = fixture("c10a_bad_label_crc.img");
    check_changes(f);
    let (r, log) = scan(f);
    assert_eq!(r, Ok(PvScan::NoLabel));
    assert!(printed(&log).is_empty());
    let texts: Vec<(Level, &str)> = log
        .iter()
        .filter(|m| m.level < Level::Debug)
        .map(|m| (m.level, m.text.as_str()))
        .collect();
    assert_eq!(
        texts,
        vec![
            (
                Level::VeryVerbose,
                "Label checksum incorrect on /dev/loop70 - ignoring"
            ),
            (Level::VeryVerbose, "/dev/loop70: No lvm label detected"),
        ]
    );
    // apart from the CRC the label is c04_vg1_pv1's
    let mut sector = [0u8; 512];
    sector.copy_from_slice(&f.data[512..1024]);
    let l = ondisk::label::parse_label_sector(&sector, 1).unwrap();
    let good = read_label(&fixture("c04_vg1_pv1.img").data, "x", &mut Log::new())
        .unwrap()
        .unwrap();
    assert_eq!(l.crc, !good.crc);
    assert_eq!(ondisk::label::label_crc(&sector), good.crc);
    assert_eq!(Label { crc: good.crc, ..l }, good);
}

#[test]
fn c10c_bad_text_crc_fails_the_scan() {
    let f = fixture("c10c_bad_metadata_text_crc.img");
    check_changes(f);
    let (r, log) = scan(f);
    let fault = &f.manifest["decoded_by_python"]["mdas"][0]["raw_locns"][0];
    match r {
        Ok(PvScan::Failed { label, error }) => {
            assert_eq!(label.pvid_str(), "rksstPZgMI1DgOyRHq8X3K52vKMN45M7");
            assert_eq!(
                error,
                ScanError::Metadata {
                    start: 4096,
                    error: MetadataError::Text(TextError::Checksum {
                        expected: u(&fault["checksum"]) as u32,
                        computed: u(&fault["text_checksum_calculated"]) as u32,
                    })
                }
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        printed(&log),
        vec![
            "/dev/loop70: Checksum error at offset 9728",
            "Couldn't read volume group metadata from /dev/loop70.",
            "Metadata location on /dev/loop70 at 9728 has invalid summary for VG.",
            "Failed to read metadata summary from /dev/loop70",
            "Failed to scan VG from /dev/loop70",
        ]
    );
    // the vg_read path fails the same way
    let mut log = Log::new();
    let locn = ondisk::DiskLocn {
        offset: 4096,
        size: 1044480,
    };
    assert!(read_vg_text(&f.data, "/dev/loop70", locn, "vg1", false, &mut log).is_none());
    assert_eq!(
        printed(&log),
        vec![
            "/dev/loop70: Checksum error at offset 9728",
            "Couldn't read volume group metadata from /dev/loop70.",
        ]
    );
}

#[test]
fn c10e_mda_beyond_end_of_device() {
    let f = fixture("c10e_truncated_2k.img");
    assert_eq!(f.data.len(), 2048);
    assert_eq!(f.data[..], fixture("c04_vg1_pv1.img").data[..2048]);
    let (r, log) = scan(f);
    match r {
        Ok(PvScan::Failed { label, error }) => {
            assert_eq!(label.pv_uuid(), "rksstP-ZgMI-1DgO-yRHq-8X3K-52vK-MN45M7");
            assert_eq!(label.device_size, 33554432);
            assert_eq!(
                error,
                ScanError::MdaHeader {
                    start: 4096,
                    error: MdaHeaderError::Read
                }
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        printed(&log),
        vec![
            "Error reading device /dev/loop70 at 4096 length 512.",
            "Failed to read metadata area header on /dev/loop70 at 4096",
            "Failed to read mda header from /dev/loop70",
            "Failed to scan VG from /dev/loop70",
        ]
    );
}

// ---------------------------------------------------------------------------------
// injected I/O faults

/// A device over an image that fails reads overlapping `bad`, returns at most `chunk`
/// bytes per call, and is interrupted every `interrupt`th call.
struct Faulty<'a> {
    data: &'a [u8],
    bad: Option<std::ops::Range<u64>>,
    chunk: usize,
    interrupt: usize,
    calls: std::cell::Cell<usize>,
    eof_at: Option<u64>,
}

impl<'a> Faulty<'a> {
    fn new(data: &'a [u8]) -> Self {
        Faulty {
            data,
            bad: None,
            chunk: usize::MAX,
            interrupt: 0,
            calls: std::cell::Cell::new(0),
            eof_at: None,
        }
    }
}

impl BlockRead for Faulty<'_> {
    fn size(&self) -> io::Result<u64> {
        Ok(self.data.len() as u64)
    }

    fn read_at(&self, off: u64, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.calls.get() + 1;
        self.calls.set(n);
        if self.interrupt != 0 && n % self.interrupt == 0 {
            return Err(io::Error::from(io::ErrorKind::Interrupted));
        }
        if let Some(b) = &self.bad {
            if off < b.end && off + buf.len() as u64 > b.start {
                return Err(io::Error::from_raw_os_error(5)); // EIO
            }
        }
        let mut len = buf.len().min(self.chunk);
        if let Some(e) = self.eof_at {
            if off >= e {
                return Ok(0);
            }
            len = len.min((e - off) as usize);
        }
        self.data.read_at(off, &mut buf[..len])
    }
}

struct NoSize;

impl BlockRead for NoSize {
    fn size(&self) -> io::Result<u64> {
        Err(io::Error::from_raw_os_error(5))
    }
    fn read_at(&self, _: u64, _: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::from_raw_os_error(5))
    }
}

#[test]
fn short_and_interrupted_reads_give_the_same_results() {
    for f in fixtures() {
        let (want, want_log) = scan(f);
        for (chunk, interrupt) in [(1, 0), (7, 3), (100, 2), (4096, 5)] {
            let dev = Faulty {
                chunk,
                interrupt,
                ..Faulty::new(&f.data)
            };
            let mut log = Log::new();
            let got = scan_pv(&dev, &f.dev_name(), &mut log);
            assert_eq!(got, want, "{} chunk {chunk}", f.image);
            assert_eq!(log, want_log, "{}", f.image);
        }
    }
}

#[test]
fn eio_on_label_mda_header_and_text() {
    let f = fixture("c04_vg1_pv1.img");
    let name = "/dev/loop70";

    // the label sectors: the device cannot be scanned at all
    let dev = Faulty {
        bad: Some(600..601),
        ..Faulty::new(&f.data)
    };
    let mut log = Log::new();
    assert!(matches!(
        scan_pv(&dev, name, &mut log),
        Err(ScanError::Device { .. })
    ));
    assert!(printed(&log).is_empty());
    assert!(log
        .iter()
        .any(|m| m.text == "Scan failed to read /dev/loop70."));

    // the mda header
    let dev = Faulty {
        bad: Some(4096..4100),
        ..Faulty::new(&f.data)
    };
    let mut log = Log::new();
    match scan_pv(&dev, name, &mut log).unwrap() {
        PvScan::Failed { error, .. } => assert_eq!(
            error,
            ScanError::MdaHeader {
                start: 4096,
                error: MdaHeaderError::Read
            }
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        printed(&log),
        vec![
            "Error reading device /dev/loop70 at 4096 length 512.",
            "Failed to read metadata area header on /dev/loop70 at 4096",
            "Failed to read mda header from /dev/loop70",
            "Failed to scan VG from /dev/loop70",
        ]
    );

    // the first bytes of the text (the VG name peek)
    let dev = Faulty {
        bad: Some(9728..9729),
        ..Faulty::new(&f.data)
    };
    let mut log = Log::new();
    match scan_pv(&dev, name, &mut log).unwrap() {
        PvScan::Failed { error, .. } => assert_eq!(
            error,
            ScanError::Metadata {
                start: 4096,
                error: MetadataError::NameRead
            }
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        printed(&log),
        vec![
            "Error reading device /dev/loop70 at 9728 length 128.",
            "Can't read metadata location on /dev/loop70 at 9728.",
            "Failed to read metadata summary from /dev/loop70",
            "Failed to scan VG from /dev/loop70",
        ]
    );

    // the end of the text
    let dev = Faulty {
        bad: Some(11000..11001),
        ..Faulty::new(&f.data)
    };
    let mut log = Log::new();
    match scan_pv(&dev, name, &mut log).unwrap() {
        PvScan::Failed { error, .. } => assert_eq!(
            error,
            ScanError::Metadata {
                start: 4096,
                error: MetadataError::Text(TextError::Read)
            }
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        printed(&log),
        vec![
            "Error reading device /dev/loop70 at 9728 length 2108.",
            "Couldn't read volume group metadata from /dev/loop70.",
            "Metadata location on /dev/loop70 at 9728 has invalid summary for VG.",
            "Failed to read metadata summary from /dev/loop70",
            "Failed to scan VG from /dev/loop70",
        ]
    );

    // a device that stops returning data early (EOF inside the text)
    let dev = Faulty {
        eof_at: Some(10000),
        ..Faulty::new(&f.data)
    };
    let mut log = Log::new();
    assert!(matches!(
        scan_pv(&dev, name, &mut log).unwrap(),
        PvScan::Failed {
            error: ScanError::Metadata {
                error: MetadataError::Text(TextError::Read),
                ..
            },
            ..
        }
    ));

    // no size at all
    let mut log = Log::new();
    assert!(matches!(
        scan_pv(&NoSize, name, &mut log),
        Err(ScanError::Device { .. })
    ));
    assert!(matches!(
        read_mda_header(&NoSize, name, 4096, &mut log),
        Err(ScanError::MdaHeader {
            error: MdaHeaderError::Read,
            ..
        })
    ));
}

#[test]
fn reads_from_a_real_file() {
    let f = fixture("c06_vg6_wrapped.img");
    let dir = std::env::temp_dir().join(format!("lvmetad-ondisk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("c06.img");
    std::fs::write(&path, &f.data).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let mut log = Log::new();
    let r = scan_pv(&file, "/dev/loop70", &mut log).unwrap();
    assert_eq!(r, scan(f).0.unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------
// the vg_read path

#[test]
fn read_vg_text_on_every_image_with_metadata() {
    for f in fixtures().iter().filter(|f| !f.is_corruption()) {
        let (pv, _) = scanned(f);
        for m in &pv.mdas {
            let Some(md) = &m.metadata else {
                let mut log = Log::new();
                assert!(read_vg_text(&f.data, "d", m.locn, "vgX", false, &mut log).is_none());
                assert!(printed(&log).is_empty());
                continue;
            };
            let name = md.summary.name().into_owned();
            let mut log = Log::new();
            let t = read_vg_text(&f.data, "/dev/loop70", m.locn, &name, true, &mut log)
                .unwrap_or_else(|| panic!("{} {log:#?}", f.image));
            assert!(printed(&log).is_empty());
            assert!(!t.precommitted, "slot 1 is empty in every image");
            assert_eq!(t.text, md.text);
            assert_eq!(t.config, md.config);
            // any name when none is given
            assert!(read_vg_text(&f.data, "d", m.locn, "", false, &mut log).is_some());
            // the wrong VG
            let mut log = Log::new();
            assert!(read_vg_text(&f.data, "/dev/loop70", m.locn, "vg", false, &mut log).is_none());
            let p = printed(&log);
            assert_eq!(p.len(), 1);
            assert!(
                p[0].starts_with(&format!(
                    "Metadata on /dev/loop70 at {} has wrong VG name \"{name} {{\nid = \"",
                    md.offset
                )),
                "{p:?}"
            );
            assert!(p[0].ends_with("\" expected vg."), "{p:?}");
        }
    }
}

// ---------------------------------------------------------------------------------
// mutations: the reader never panics

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

/// A buffer whose changes are undone after each round.
struct Patched {
    buf: Vec<u8>,
    undo: Vec<(usize, u8)>,
}

impl Patched {
    fn set(&mut self, at: usize, b: u8) {
        if at < self.buf.len() {
            self.undo.push((at, self.buf[at]));
            self.buf[at] = b;
        }
    }
    fn set_bytes(&mut self, at: usize, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            self.set(at + i, b);
        }
    }
    fn get(&self, at: usize, len: usize) -> &[u8] {
        let s = at.min(self.buf.len());
        &self.buf[s..(at + len).min(self.buf.len())]
    }
    fn reset(&mut self) {
        while let Some((at, b)) = self.undo.pop() {
            self.buf[at] = b;
        }
    }
}

fn interesting_u64(rng: &mut Rng, near: u64) -> u64 {
    match rng.below(9) {
        0 => 0,
        1 => 1,
        2 => 511,
        3 => 512,
        4 => u64::MAX,
        5 => u64::MAX - rng.below(4096),
        6 => near.wrapping_add(rng.below(1024)).wrapping_sub(512),
        7 => 1 << rng.below(64),
        _ => rng.next(),
    }
}

#[test]
fn random_mutations_never_panic() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut outcomes = BTreeMap::<String, usize>::new();
    let rounds_per_image = 300;
    let mut total = 0;
    for f in fixtures() {
        let base = scan(f).0;
        let label = match &base {
            Ok(PvScan::Pv(pv)) => Some(pv.label.clone()),
            Ok(PvScan::Failed { label, .. }) => Some(label.clone()),
            _ => None,
        };
        let lsec = label.as_ref().map_or(1, |l| l.sector as usize);
        let mda = label
            .as_ref()
            .and_then(|l| l.mdas.first().copied())
            .unwrap_or(ondisk::DiskLocn {
                offset: 4096,
                size: 1044480,
            });
        let mut p = Patched {
            buf: f.data.clone(),
            undo: Vec::new(),
        };
        for _ in 0..rounds_per_image {
            let ls = lsec * 512;
            let ms = mda.offset as usize;
            // where the committed text is, per the (unmutated) header
            let text_at = ms.wrapping_add(u64::from_le_bytes(
                p.get(ms + 40, 8).try_into().unwrap_or([0; 8]),
            ) as usize);
            let changes = 1 + rng.below(6);
            for _ in 0..changes {
                match rng.below(8) {
                    // random bytes in the label sector, the mda header, the text
                    0 => p.set(ls + rng.below(512) as usize, rng.next() as u8),
                    1 => p.set(ms + rng.below(512) as usize, rng.next() as u8),
                    2 | 3 => p.set(
                        text_at.wrapping_add(rng.below(2500) as usize),
                        rng.next() as u8,
                    ),
                    // structural fields
                    4 => {
                        let field = [20usize, 64, 72, 80, 88, 104, 112, 120, 128, 136]
                            [rng.below(10) as usize];
                        let v = interesting_u64(&mut rng, 512);
                        let bytes = v.to_le_bytes();
                        let n = if field == 20 || field == 136 { 4 } else { 8 };
                        p.set_bytes(ls + field, &bytes[..n]);
                    }
                    5 => {
                        let field =
                            [20usize, 24, 32, 40, 48, 56, 60, 64, 72][rng.below(9) as usize];
                        let v = interesting_u64(&mut rng, mda.size);
                        let bytes = v.to_le_bytes();
                        let n = if matches!(field, 20 | 56 | 60) { 4 } else { 8 };
                        p.set_bytes(ms + field, &bytes[..n]);
                    }
                    // text syntax damage
                    6 => {
                        let chars = b"{}[]=\",#\n\0 -/\\";
                        let c = chars[rng.below(chars.len() as u64) as usize];
                        p.set(text_at.wrapping_add(rng.below(2500) as usize), c);
                    }
                    _ => p.set(rng.below(8192) as usize, rng.next() as u8),
                }
            }
            // often make the damage reach deeper by fixing the checksums
            if rng.below(3) != 0 {
                // text checksum into raw_locn[0], then the header checksum
                let off = u64::from_le_bytes(p.get(ms + 40, 8).try_into().unwrap_or([0; 8]));
                let size = u64::from_le_bytes(p.get(ms + 48, 8).try_into().unwrap_or([0; 8]));
                let start = (ms as u64).saturating_add(off);
                if size < 1 << 20 && start.saturating_add(size) <= p.buf.len() as u64 {
                    let c = ondisk::disk_crc(p.get(start as usize, size as usize));
                    p.set_bytes(ms + 56, &c.to_le_bytes());
                }
            }
            if rng.below(3) != 0 && ms + 512 <= p.buf.len() {
                let c = ondisk::disk_crc(p.get(ms + 4, 508));
                p.set_bytes(ms, &c.to_le_bytes());
            }
            if rng.below(3) != 0 && ls + 512 <= p.buf.len() {
                let c = ondisk::disk_crc(p.get(ls + 20, 492));
                p.set_bytes(ls + 16, &c.to_le_bytes());
            }
            let len = if rng.below(10) == 0 {
                rng.below(p.buf.len() as u64 + 1) as usize
            } else {
                p.buf.len()
            };
            let dev = &p.buf[..len];
            let mut log = Log::new();
            let r = scan_pv(&dev, "/dev/fuzz", &mut log);
            let key = match &r {
                Ok(PvScan::NoLabel) => "no label".to_string(),
                Ok(PvScan::Pv(pv)) => {
                    assert_eq!(pv.mdas.len(), pv.label.mdas.len());
                    let _ = pv.pvmeta();
                    for m in &pv.mdas {
                        if let Some(md) = &m.metadata {
                            assert!(ondisk::validate_name(&md.summary.vgname));
                            assert_eq!(md.text.len() as u64, md.rlocn.size);
                            let name = md.summary.name().into_owned();
                            let _ = read_vg_text(&dev, "/dev/fuzz", m.locn, &name, true, &mut log);
                        }
                    }
                    "pv".to_string()
                }
                Ok(PvScan::Failed { error, .. }) => {
                    assert!(log
                        .iter()
                        .any(|m| m.text == "Failed to scan VG from /dev/fuzz"));
                    format!("failed: {}", error_kind(error))
                }
                Err(e) => format!("error: {}", error_kind(e)),
            };
            if r.is_err() || matches!(r, Ok(PvScan::Failed { .. })) {
                assert!(!printed(&log).is_empty() || matches!(r, Err(ScanError::Device { .. })));
            }
            *outcomes.entry(key).or_default() += 1;
            p.reset();
            total += 1;
        }
        assert_eq!(p.buf, f.data);
    }
    assert!(total >= 4000, "{total}");
    // the mutations reached every layer
    for k in [
        "no label",
        "pv",
        "failed: mda header",
        "failed: metadata text",
        "failed: metadata summary",
    ] {
        assert!(
            outcomes.keys().any(|o| o.starts_with(k)),
            "no mutation ended in {k}: {outcomes:#?}"
        );
    }
}

fn error_kind(e: &ScanError) -> &'static str {
    match e {
        ScanError::Device { .. } => "device",
        ScanError::Label(_) => "label",
        ScanError::MdaHeader { .. } => "mda header",
        ScanError::Metadata { error, .. } => match error {
            MetadataError::Text(_) => "metadata text",
            MetadataError::Summary(_) => "metadata summary",
            _ => "metadata location",
        },
    }
}
