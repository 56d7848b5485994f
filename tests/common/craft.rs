//! Crafted PV images: a fixture image whose committed metadata text is changed, with
//! the text checksum, the raw location and the mda header checksum made right again,
//! so that LVM (and our reader) take the new text as valid metadata.

use lvmetad::ondisk::disk_crc;

/// Where the fixtures keep their first metadata area header (sector 8).
const MDA_AT: usize = 4096;

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// The committed metadata text of `image` (first mda; the text must not wrap).
pub fn metadata_text(image: &[u8]) -> Vec<u8> {
    let h = &image[MDA_AT..MDA_AT + 512];
    assert_eq!(&h[4..20], b"\x20LVM2\x20x[5A%r0N*>", "mda header magic");
    let (off, size) = (le64(h, 40) as usize, le64(h, 48) as usize);
    image[MDA_AT + off..MDA_AT + off + size].to_vec()
}

/// `image` with its committed metadata text replaced by `text` (written right after the
/// mda header), and every checksum over it made right.
pub fn with_metadata_text(image: &[u8], text: &[u8]) -> Vec<u8> {
    let mut img = image.to_vec();
    let area = le64(&img[MDA_AT..], 32) as usize;
    assert!(
        512 + text.len() <= area,
        "metadata text too large for the area"
    );
    img[MDA_AT + 512..MDA_AT + 512 + text.len()].copy_from_slice(text);
    let h = &mut img[MDA_AT..MDA_AT + 512];
    h[40..48].copy_from_slice(&512u64.to_le_bytes());
    h[48..56].copy_from_slice(&(text.len() as u64).to_le_bytes());
    h[56..60].copy_from_slice(&disk_crc(text).to_le_bytes());
    let crc = disk_crc(&h[4..]);
    h[0..4].copy_from_slice(&crc.to_le_bytes());
    img
}

/// `image` with `line` added to its VG section, after the section's first line.
pub fn with_vg_line(image: &[u8], line: &[u8]) -> Vec<u8> {
    let text = metadata_text(image);
    let at = text.iter().position(|&c| c == b'\n').unwrap() + 1;
    let mut new = text[..at].to_vec();
    new.extend_from_slice(line);
    new.push(b'\n');
    new.extend_from_slice(&text[at..]);
    with_metadata_text(image, &new)
}

/// A path key of `n` segments (`a/a/.../x`).
pub fn path_key(n: usize) -> Vec<u8> {
    let mut k = b"a/".repeat(n - 1);
    k.push(b'x');
    k
}
