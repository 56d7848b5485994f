//! LVM's 32-character ids (PV and VG uuids) in their printed and raw forms, as
//! `id_write_format` and `id_read_format` (lib/uuid) handle them. Used by the client for
//! the ids it sends and by the on-disk reader for the ids it finds.

/// Length of a raw id.
pub const ID_LEN: usize = 32;

/// `id_write_format`: 32 id bytes as 38 characters in groups of 6-4-4-4-4-4-6. The same
/// form serves PV and VG ids.
pub fn format_id(id: &[u8; ID_LEN]) -> String {
    const GROUPS: [usize; 7] = [6, 4, 4, 4, 4, 4, 6];
    let mut out = String::with_capacity(ID_LEN + 6);
    let mut pos = 0;
    for (i, g) in GROUPS.iter().enumerate() {
        if i > 0 {
            out.push('-');
        }
        out.push_str(&String::from_utf8_lossy(&id[pos..pos + g]));
        pos += g;
    }
    out
}

/// LVM's id alphabet (uuid.c `_c`).
pub fn is_id_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'!' || c == b'#'
}

/// `id_read_format`: drop every `-`, require exactly 32 characters of the id alphabet.
/// On failure, the error message LVM logs (at error level).
pub fn read_id(s: &[u8]) -> Result<[u8; ID_LEN], String> {
    let mut id = [0u8; ID_LEN];
    let mut out = 0;
    for &c in s.iter().filter(|&&c| c != b'-') {
        if out >= ID_LEN {
            return Err("Too many characters to be uuid.".into());
        }
        id[out] = c;
        out += 1;
    }
    if out != ID_LEN {
        return Err("Couldn't read uuid: incorrect number of characters.".into());
    }
    if let Some(&c) = id.iter().find(|&&c| !is_id_char(c)) {
        return Err(format!("UUID contains invalid character '{}'", c as char));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_groups_6_4_4_4_4_4_6() {
        let id = *b"z0Ghvd47K54JSwPmlQeVSyICr4RHlk2L";
        assert_eq!(format_id(&id), "z0Ghvd-47K5-4JSw-PmlQ-eVSy-ICr4-RHlk2L");
    }

    #[test]
    fn read_is_the_inverse_and_reports_like_lvm() {
        let id = *b"z0Ghvd47K54JSwPmlQeVSyICr4RHlk2L";
        assert_eq!(read_id(format_id(&id).as_bytes()), Ok(id));
        assert_eq!(
            read_id(b"abc").unwrap_err(),
            "Couldn't read uuid: incorrect number of characters."
        );
        assert_eq!(
            read_id(&[b'a'; 33]).unwrap_err(),
            "Too many characters to be uuid."
        );
        assert_eq!(
            read_id(b"z0Ghvd47K54JSwPmlQeVSyICr4RHlk2%").unwrap_err(),
            "UUID contains invalid character '%'"
        );
    }
}
