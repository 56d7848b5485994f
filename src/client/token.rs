//! The validity token: LVM's CRC-32 over the `devices/global_filter` strings.

use crate::config::Value;

const fn make_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static TABLE: [u32; 256] = make_table();

/// LVM's `calc_crc()`: reflected CRC-32 (0xEDB88320) with no pre- or post-inversion.
pub fn calc_crc(initial: u32, buf: &[u8]) -> u32 {
    let mut crc = initial;
    for &b in buf {
        crc = TABLE[((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

/// `"filter:%u"` of the CRC chained over the leading string values (NULL/empty: 0).
pub fn filter_token(filter: Option<&[Value]>) -> String {
    let mut ft = 0u32;
    if let Some(vs) = filter {
        for v in vs {
            match v {
                Value::Str(s) => ft = calc_crc(ft, s),
                _ => break,
            }
        }
    }
    format!("filter:{}", ft)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(strs: &[&str]) -> String {
        let v: Vec<Value> = strs.iter().map(Value::str).collect();
        filter_token(Some(&v))
    }

    #[test]
    fn reference_values() {
        assert_eq!(filter_token(None), "filter:0");
        assert_eq!(tok(&[]), "filter:0");
        assert_eq!(tok(&["a|.*/|"]), "filter:3239235440");
        assert_eq!(tok(&["a|.*|"]), "filter:2175851276");
        assert_eq!(tok(&["r|/dev/sdb|", "a|.*/|"]), "filter:685427142");
        assert_eq!(tok(&["a|^/dev/loop4[0-3]$|", "r|.*|"]), "filter:3108758531");
        assert_eq!(tok(&["a|^/dev/loop4[0-7]$|", "r|.*|"]), "filter:3836196111");
        assert_eq!(tok(&["a|^/dev/loop7[0-9]$|", "r|.*|"]), "filter:2444165715");
        // stops at the first non-string value
        let v = vec![Value::str("a|.*/|"), Value::Int(1), Value::str("r|.*|")];
        assert_eq!(filter_token(Some(&v)), "filter:3239235440");
    }
}
