//! A model of libdevmapper's fixed-size hash table (32 slots, chained), kept so that
//! listings come out in exactly the order LVM2 2.02.188's lvmetad produces.
//!
//! Semantics kept: the slot is libdm's hash of the key bytes (string keys include their
//! terminating NUL) masked to 32 slots; a new key is appended to its slot's chain; an
//! existing key has its value replaced in place; `insert_allow_multiple` prepends to the
//! chain; removal unlinks the first match. Iteration is slot by slot, in chain order.

const SLOTS: usize = 32;

static PERM: [u8; 256] = [
    1, 14, 110, 25, 97, 174, 132, 119, 138, 170, 125, 118, 27, 233, 140, 51, 87, 197, 177, 107,
    234, 169, 56, 68, 30, 7, 173, 73, 188, 40, 36, 65, 49, 213, 104, 190, 57, 211, 148, 223, 48,
    115, 15, 2, 67, 186, 210, 28, 12, 181, 103, 70, 22, 58, 75, 78, 183, 167, 238, 157, 124, 147,
    172, 144, 176, 161, 141, 86, 60, 66, 128, 83, 156, 241, 79, 46, 168, 198, 41, 254, 178, 85,
    253, 237, 250, 154, 133, 88, 35, 206, 95, 116, 252, 192, 54, 221, 102, 218, 255, 240, 82, 106,
    158, 201, 61, 3, 89, 9, 42, 155, 159, 93, 166, 80, 50, 34, 175, 195, 100, 99, 26, 150, 16, 145,
    4, 33, 8, 189, 121, 64, 77, 72, 208, 245, 130, 122, 143, 55, 105, 134, 29, 164, 185, 194, 193,
    239, 101, 242, 5, 171, 126, 11, 74, 59, 137, 228, 108, 191, 232, 139, 6, 24, 81, 20, 127, 17,
    91, 92, 251, 151, 225, 207, 21, 98, 113, 112, 84, 226, 18, 214, 199, 187, 13, 32, 94, 220, 224,
    212, 247, 204, 196, 43, 249, 236, 45, 244, 111, 182, 153, 136, 129, 90, 217, 202, 19, 165, 231,
    71, 230, 142, 96, 227, 62, 179, 246, 114, 162, 53, 160, 215, 205, 180, 47, 109, 44, 38, 31,
    149, 135, 0, 216, 52, 63, 23, 37, 69, 39, 117, 146, 184, 163, 200, 222, 235, 248, 243, 219, 10,
    152, 131, 123, 229, 203, 76, 120, 209,
];

/// libdm's hash of `key` (followed by a NUL byte when `nul` is set).
pub fn dm_hash(key: &[u8], nul: bool) -> u32 {
    let mut h: u32 = 0;
    let mut step = |c: u8| {
        h = (h << 4).wrapping_add(PERM[c as usize] as u32);
        let g = h & 0xf0000;
        if g != 0 {
            h ^= g >> 16;
            h ^= g >> 5;
        }
    };
    for &c in key {
        step(c);
    }
    if nul {
        step(0);
    }
    h
}

/// Ordered hash table. Keys are stored without the NUL; `nul` says whether the
/// hashed key includes one (string tables) or not (binary keys).
///
/// Each slot keeps the full 32-bit hash of every entry beside it, in a vector of its
/// own: with 32 slots an 11,000-entry table has chains of ~340, and a lookup compares
/// the hashes (cheap and contiguous) and the key bytes only where the hash matches.
#[derive(Clone, Debug)]
pub struct DmHash<V> {
    slots: Vec<Slot<V>>,
    nul: bool,
    len: usize,
}

#[derive(Clone, Debug)]
struct Slot<V> {
    /// `hashes[i]` is the hash of `entries[i].0`.
    hashes: Vec<u32>,
    entries: Vec<(Box<[u8]>, V)>,
}

impl<V> Slot<V> {
    /// Index of the first entry for `key` at or after `from`.
    fn find(&self, h: u32, key: &[u8], from: usize) -> Option<usize> {
        let mut i = from;
        while let Some(k) = self.hashes[i..].iter().position(|&x| x == h) {
            i += k;
            if &*self.entries[i].0 == key {
                return Some(i);
            }
            i += 1;
        }
        None
    }

    fn insert(&mut self, at: usize, h: u32, key: &[u8], val: V) {
        self.hashes.insert(at, h);
        self.entries.insert(at, (key.into(), val));
    }

    fn remove(&mut self, at: usize) -> V {
        self.hashes.remove(at);
        self.entries.remove(at).1
    }
}

impl<V> DmHash<V> {
    /// A table with string keys.
    pub fn new_str() -> Self {
        Self::with_nul(true)
    }
    /// A table with binary keys.
    pub fn new_bin() -> Self {
        Self::with_nul(false)
    }
    fn with_nul(nul: bool) -> Self {
        DmHash {
            slots: (0..SLOTS)
                .map(|_| Slot {
                    hashes: Vec::new(),
                    entries: Vec::new(),
                })
                .collect(),
            nul,
            len: 0,
        }
    }
    /// The hash of `key` in this table (string tables hash the terminating NUL too).
    pub fn hash(&self, key: &[u8]) -> u32 {
        dm_hash(key, self.nul)
    }
    fn slot(&self, h: u32) -> &Slot<V> {
        &self.slots[h as usize & (SLOTS - 1)]
    }
    fn slot_mut(&mut self, h: u32) -> &mut Slot<V> {
        &mut self.slots[h as usize & (SLOTS - 1)]
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.get_hashed(self.hash(key), key)
    }
    /// `get` with the key's hash already known (from [`DmHash::hash`] or
    /// [`DmHash::iter_hashed`] of a table of the same kind).
    pub fn get_hashed(&self, h: u32, key: &[u8]) -> Option<&V> {
        debug_assert_eq!(h, self.hash(key));
        let slot = self.slot(h);
        slot.find(h, key, 0).map(|i| &slot.entries[i].1)
    }
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        let h = self.hash(key);
        let slot = self.slot_mut(h);
        let i = slot.find(h, key, 0)?;
        Some(&mut slot.entries[i].1)
    }
    pub fn contains(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }
    /// Insert or replace in place.
    pub fn insert(&mut self, key: &[u8], val: V) {
        let h = self.hash(key);
        let slot = self.slot_mut(h);
        match slot.find(h, key, 0) {
            Some(i) => slot.entries[i].1 = val,
            None => {
                let end = slot.entries.len();
                slot.insert(end, h, key, val);
                self.len += 1;
            }
        }
    }
    /// Insert a further entry for `key`, at the head of its slot's chain.
    pub fn insert_allow_multiple(&mut self, key: &[u8], val: V) {
        let h = self.hash(key);
        self.slot_mut(h).insert(0, h, key, val);
        self.len += 1;
    }
    /// Remove the first entry for `key`; returns its value.
    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        let h = self.hash(key);
        let slot = self.slot_mut(h);
        let i = slot.find(h, key, 0)?;
        let v = slot.remove(i);
        self.len -= 1;
        Some(v)
    }
    /// Entries in libdm's iteration order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &V)> {
        self.slots
            .iter()
            .flat_map(|s| s.entries.iter().map(|(k, v)| (&**k, v)))
    }
    /// Entries in libdm's iteration order, with their hashes.
    pub fn iter_hashed(&self) -> impl Iterator<Item = (u32, &[u8], &V)> {
        self.slots.iter().flat_map(|s| {
            s.hashes
                .iter()
                .zip(s.entries.iter())
                .map(|(&h, (k, v))| (h, &**k, v))
        })
    }
    /// First value for `key` and how many entries have that key.
    pub fn get_with_count(&self, key: &[u8]) -> (Option<&V>, usize) {
        let h = self.hash(key);
        let slot = self.slot(h);
        let mut first = None;
        let mut n = 0;
        let mut from = 0;
        while let Some(i) = slot.find(h, key, from) {
            n += 1;
            first = first.or(Some(&slot.entries[i].1));
            from = i + 1;
        }
        (first, n)
    }
}

impl<V> DmHash<V> {
    /// Index of the first (key, val) pair in the slot of hash `h`.
    fn find_pair<Q: ?Sized>(&self, h: u32, key: &[u8], val: &Q) -> Option<usize>
    where
        V: PartialEq<Q>,
    {
        let slot = self.slot(h);
        let mut from = 0;
        while let Some(i) = slot.find(h, key, from) {
            if slot.entries[i].1 == *val {
                return Some(i);
            }
            from = i + 1;
        }
        None
    }
    /// Whether the pair (key, val) is present.
    pub fn contains_with_val<Q: ?Sized>(&self, key: &[u8], val: &Q) -> bool
    where
        V: PartialEq<Q>,
    {
        self.find_pair(self.hash(key), key, val).is_some()
    }
    /// Remove the first (key, val) pair.
    pub fn remove_with_val<Q: ?Sized>(&mut self, key: &[u8], val: &Q) -> bool
    where
        V: PartialEq<Q>,
    {
        let h = self.hash(key);
        match self.find_pair(h, key, val) {
            Some(i) => {
                self.slot_mut(h).remove(i);
                self.len -= 1;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_slots_match_capture() {
        // docs/reference/protocol.md appendix: devices 1832, 1834, 1833 fall in slots 0, 2, 25
        let slot = |d: u64| dm_hash(&d.to_le_bytes(), false) & 31;
        assert_eq!(slot(1832), 0);
        assert_eq!(slot(1834), 2);
        assert_eq!(slot(1833), 25);
    }

    #[test]
    fn order_semantics() {
        let mut h: DmHash<u32> = DmHash::new_str();
        h.insert(b"a", 1);
        h.insert(b"b", 2);
        h.insert(b"a", 3);
        assert_eq!(h.get(b"a"), Some(&3));
        assert_eq!(h.len(), 2);
        h.insert_allow_multiple(b"a", 9);
        assert_eq!(h.get_with_count(b"a"), (Some(&9), 2));
        assert!(h.remove_with_val(b"a", &3));
        assert_eq!(h.get(b"a"), Some(&9));
        assert_eq!(h.remove(b"a"), Some(9));
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn many_entries_and_collisions() {
        // 11,000 keys in 32 slots: chains of hundreds, with equal hashes now and then
        let mut h: DmHash<usize> = DmHash::new_str();
        let keys: Vec<Vec<u8>> = (0..11000).map(|i| format!("k{}", i).into_bytes()).collect();
        for (i, k) in keys.iter().enumerate() {
            h.insert(k, i);
        }
        assert_eq!(h.len(), 11000);
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(h.get(k), Some(&i));
            assert_eq!(h.get_hashed(h.hash(k), k), Some(&i));
        }
        let order: Vec<usize> = h.iter().map(|(_, v)| *v).collect();
        let hashed: Vec<(u32, usize)> = h
            .iter_hashed()
            .map(|(x, k, v)| {
                assert_eq!(x, h.hash(k));
                (x, *v)
            })
            .collect();
        assert_eq!(order, hashed.iter().map(|p| p.1).collect::<Vec<_>>());
        // iteration is slot by slot, in insertion order within a slot
        let slots: Vec<u32> = hashed.iter().map(|p| p.0 & 31).collect();
        assert!(slots.windows(2).all(|w| w[0] <= w[1]));
        for k in keys.iter().step_by(3) {
            assert!(h.remove(k).is_some());
        }
        assert_eq!(h.len(), 11000 - 3667);
        assert!(h.get(b"k0").is_none());
        assert_eq!(h.get(b"k1"), Some(&1));
    }
}
