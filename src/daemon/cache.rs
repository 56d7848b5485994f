//! The daemon's cache: PV and VG tables and the rules that update them, following
//! LVM2 2.02.188's lvmetad (docs/reference/protocol.md sections 4 and 5).

use super::hash::DmHash;
use crate::config::write::{write_nodes, MAX_INDENT};
use crate::config::{compare_config, find, find_int, find_str, Node, Value, Values};
use std::ops::Deref;

pub const ORPHAN: &[u8] = b"#orphan";
pub const VGFL_INVALID: u32 = 1;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VgVersionInfo {
    pub external_version: i64,
    pub flags: u32,
}

/// What `_update_metadata` concluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Update {
    Ok,
    /// The new metadata was not used (pv_found still answers OK).
    Ignored,
    /// The C daemon exits here; we refuse the request instead.
    Abort(&'static str),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    UpdateOnly,
    RemoveEmpty,
    MarkOutdated,
}

/// A stored tree (a PV's pvmeta, a VG's metadata) together with its children as text,
/// written once when it is stored: the big replies (`pv_list`, `dump`, `pv_lookup`)
/// are mostly these, and copying text is much cheaper than writing a tree.
/// The tree is not changed while stored (it dereferences to a `&Node`).
#[derive(Clone, Debug)]
pub struct Stored {
    tree: Node,
    /// `write_nodes(&tree.children, 1)`.
    text: Box<[u8]>,
    /// How deep the children nest (1: no sections among them); 0 when the text
    /// cannot be re-indented by adding tabs (a key or string contains a newline).
    depth: usize,
}

impl Stored {
    pub fn new(tree: Node) -> Stored {
        let mut text = Vec::new();
        write_nodes(&mut text, &tree.children, 1);
        let depth = plain_depth(&tree.children).unwrap_or(0);
        Stored {
            tree,
            text: text.into_boxed_slice(),
            depth,
        }
    }

    pub fn tree(&self) -> &Node {
        &self.tree
    }

    /// Append what `write_nodes(&self.children, level)` would (`level` >= 1).
    pub fn write_children(&self, out: &mut Vec<u8>, level: usize) {
        if level == 1 {
            out.extend_from_slice(&self.text);
        } else if self.depth > 0 && self.depth + level - 1 <= MAX_INDENT {
            // every line one or more tabs deeper; no line reaches libdm's indent cap
            let tabs = &TABS[..level - 1];
            let mut rest = &self.text[..];
            while !rest.is_empty() {
                let end = line_end(rest);
                out.extend_from_slice(tabs);
                out.extend_from_slice(&rest[..end]);
                rest = &rest[end..];
            }
        } else {
            write_nodes(out, &self.tree.children, level);
        }
    }
}

impl Deref for Stored {
    type Target = Node;
    fn deref(&self) -> &Node {
        &self.tree
    }
}

const TABS: [u8; MAX_INDENT] = [b'\t'; MAX_INDENT];

/// Length of the first line of `text`, with its newline (all of `text` if none).
/// Searched eight bytes at a time: a byte equal to '\n' is one whose `x ^ '\n'` is
/// zero, which the bit trick below flags exactly (no carries between bytes).
fn line_end(text: &[u8]) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while let Some(w) = text.get(i..i + 8) {
        let t = u64::from_le_bytes(w.try_into().expect("8 bytes")) ^ (LO * b'\n' as u64);
        let zero = !(((t & !HI) + !HI) | t) & HI;
        if zero != 0 {
            return i + (zero.trailing_zeros() / 8) as usize + 1;
        }
        i += 8;
    }
    text[i..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(text.len(), |k| i + k + 1)
}

/// The nesting depth of `nodes` (1 for plain values), or None when a key or string
/// value contains a newline (then lines of the written text are not one per node).
/// Walks with its own stack: stored trees can be deep.
fn plain_depth(nodes: &[Node]) -> Option<usize> {
    let mut depth = 0;
    let mut stack: Vec<(&[Node], usize)> = vec![(nodes, 1)];
    while let Some((level, d)) = stack.pop() {
        for n in level {
            if n.key.contains(&b'\n') {
                return None;
            }
            if let Some(vs) = &n.values {
                if vs
                    .iter()
                    .any(|v| matches!(v, Value::Str(s) if s.contains(&b'\n')))
                {
                    return None;
                }
            }
            depth = depth.max(d);
            if n.is_section() {
                stack.push((&n.children, d + 1));
            }
        }
    }
    Some(depth)
}

/// The eight tables.
#[derive(Clone, Debug)]
pub struct Cache {
    pub pvid_to_pvmeta: DmHash<Stored>,
    pub device_to_pvid: DmHash<Vec<u8>>,
    pub vgid_to_metadata: DmHash<Stored>,
    pub vgid_to_vgname: DmHash<Vec<u8>>,
    pub vgid_to_outdated_pvs: DmHash<Node>,
    pub vgid_to_info: DmHash<VgVersionInfo>,
    pub vgname_to_vgid: DmHash<Vec<u8>>,
    pub pvid_to_vgid: DmHash<Vec<u8>>,
}

impl Default for Cache {
    fn default() -> Self {
        Cache {
            pvid_to_pvmeta: DmHash::new_str(),
            device_to_pvid: DmHash::new_bin(),
            vgid_to_metadata: DmHash::new_str(),
            vgid_to_vgname: DmHash::new_str(),
            vgid_to_outdated_pvs: DmHash::new_str(),
            vgid_to_info: DmHash::new_str(),
            vgname_to_vgid: DmHash::new_str(),
            pvid_to_vgid: DmHash::new_str(),
        }
    }
}

/// The device key: a 64-bit device number in host byte order.
pub fn dev_key(d: u64) -> [u8; 8] {
    d.to_ne_bytes()
}

/// C `dm_config_find_int()`: the int64 value truncated to a C int.
pub fn find_cint(nodes: &[Node], path: &str, def: i32) -> i32 {
    find_int(nodes, path).map(|v| v as i32).unwrap_or(def)
}

/// The PV entries of a stored metadata tree (root node `metadata`).
pub fn pv_entries(meta: &Node) -> &[Node] {
    match find(std::slice::from_ref(meta), "metadata/physical_volumes") {
        Some(n) => &n.children,
        None => &[],
    }
}

/// The ids of the PV entries that carry a (non-empty) string `id`.
pub fn pv_ids(meta: &Node) -> Vec<Vec<u8>> {
    pv_entries(meta)
        .iter()
        .filter_map(|pv| find_str(&pv.children, "id").map(|s| s.to_vec()))
        .collect()
}

/// `filter_metadata()`: drop advisory `device` hints from PV entries.
pub fn filter_metadata(meta: &mut Node) {
    // lookup "metadata/physical_volumes" among the node itself
    if meta.key != b"metadata" {
        return;
    }
    if let Some(pvs) = meta
        .children
        .iter_mut()
        .find(|c| c.key == b"physical_volumes")
    {
        for pv in pvs.children.iter_mut() {
            pv.children.edit(drop_following_device);
        }
    }
}

fn drop_following_device(children: &mut Vec<Node>) {
    // C: for item in list: if item->sib is "device", unlink it; item = item->sib.
    let mut i = 0;
    while i + 1 < children.len() {
        if children[i + 1].key == b"device" {
            children.remove(i + 1);
        }
        i += 1;
    }
}

/// The pvmeta children `merge_pvmeta()` puts into a PV entry: all but `id` and
/// `dev_size`, with lvmetad's "look at the next node" quirk: the first child is never
/// dropped, and a child right after a dropped one is kept.
pub fn pvmeta_to_merge(children: &[Node]) -> impl Iterator<Item = &Node> {
    let mut dropped = false;
    children.iter().enumerate().filter_map(move |(j, c)| {
        dropped = j > 0 && !dropped && (c.key == b"id" || c.key == b"dev_size");
        (!dropped).then_some(c)
    })
}

/// `merge_pvmeta()`: the pvmeta children minus `id`/`dev_size` (with the quirk), prepended.
pub fn merge_pvmeta(pv: &mut Node, pvmeta_children: &[Node]) {
    let mut copy: Vec<Node> = pvmeta_to_merge(pvmeta_children).cloned().collect();
    copy.extend(pv.children.take());
    pv.children = copy.into();
}

/// libdaemon's `set_flag()` on the `field` value list of `parent`.
pub fn set_flag(parent: &mut Node, field: &str, flag: &[u8], want: bool) {
    let idx = parent
        .children
        .iter()
        .position(|c| c.key == field.as_bytes());
    let mut pos: Option<usize> = None; // index of matching value or EMPTY_ARRAY stop
    if let Some(i) = idx {
        if let Some(vs) = &parent.children[i].values {
            for (j, v) in vs.iter().enumerate() {
                match v {
                    Value::EmptyArray => {
                        pos = Some(j);
                        break;
                    }
                    Value::Str(s) if s.as_slice() == flag => {
                        pos = Some(j);
                        break;
                    }
                    _ => {}
                }
            }
        }
    }
    match (pos, want) {
        (Some(_), true) | (None, false) => {}
        (Some(j), false) => {
            let vs = parent.children[idx.unwrap()].values.as_mut().unwrap();
            if j > 0 {
                vs.remove(j);
            } else if vs.len() > 1 {
                vs.remove(0);
            } else {
                vs[0] = Value::EmptyArray;
            }
        }
        (None, true) => {
            let i = match idx {
                Some(i) => i,
                None => {
                    parent.children.insert(
                        0,
                        Node {
                            key: field.into(),
                            values: Some(Value::EmptyArray.into()),
                            children: Default::default(),
                        },
                    );
                    0
                }
            };
            let node = &mut parent.children[i];
            let vs = node.values.get_or_insert_with(Values::new);
            vs.insert(0, Value::str(flag));
        }
    }
}

impl Cache {
    pub fn clear(&mut self) {
        *self = Cache::default();
    }

    fn pvmeta_device(&self, pvid: &[u8]) -> u64 {
        self.pvid_to_pvmeta
            .get(pvid)
            .and_then(|m| find_int(std::slice::from_ref(m.tree()), "pvmeta/device"))
            .map(|v| v as u64)
            .unwrap_or(0)
    }

    /// `mark_outdated_pv()`
    fn mark_outdated_pv(&mut self, vgid: &[u8], pvid: &[u8]) {
        let pvmeta = match self.pvid_to_pvmeta.get(pvid) {
            Some(m) => std::slice::from_ref(m.tree()),
            None => return,
        };
        let ign0 = find_int(pvmeta, "pvmeta/mda0/ignore").unwrap_or(1);
        let ign1 = find_int(pvmeta, "pvmeta/mda1/ignore").unwrap_or(1);
        if ign0 != 0 && ign1 != 0 {
            return;
        }
        if !self.vgid_to_outdated_pvs.contains(vgid) {
            let tree = Node::section(
                "outdated_pvs",
                vec![Node::array("pv_list", vec![]), Node::string("vgid", vgid)],
            );
            self.vgid_to_outdated_pvs.insert(vgid, tree);
        }
        let tree = self.vgid_to_outdated_pvs.get_mut(vgid).unwrap();
        let list = tree
            .children
            .iter_mut()
            .find(|c| c.key == b"pv_list")
            .unwrap();
        let vs = list.values.get_or_insert_with(Values::new);
        if vs
            .iter()
            .any(|v| matches!(v, Value::Str(s) if s.as_slice() == pvid))
        {
            return;
        }
        vs.insert(0, Value::str(pvid));
    }

    /// `_update_pvid_to_vgid()` for the PVs of a VG (`pv_ids` of its metadata).
    fn update_pvid_to_vgid(&mut self, pvids: Vec<Vec<u8>>, vgid: &[u8], mode: Mode) {
        let mut to_check: DmHash<()> = DmHash::new_str();
        for pvid in pvids {
            if mode == Mode::RemoveEmpty {
                if let Some(old) = self.pvid_to_vgid.get(&pvid) {
                    if !to_check.contains(old) {
                        let old = old.clone();
                        to_check.insert(&old, ());
                    }
                }
            }
            if mode == Mode::MarkOutdated {
                self.mark_outdated_pv(vgid, &pvid);
            }
            self.pvid_to_vgid.insert(&pvid, vgid.to_vec());
        }
        let check: Vec<Vec<u8>> = to_check.iter().map(|(k, _)| k.to_vec()).collect();
        for v in check {
            self.vg_remove_if_missing(&v, false);
        }
    }

    /// `remove_metadata()`
    pub fn remove_metadata(&mut self, vgid: &[u8], update_pvids: bool) {
        let name = self.vgid_to_vgname.get(vgid).cloned();
        self.vgid_to_info.remove(vgid);
        let meta = self.vgid_to_metadata.remove(vgid);
        self.vgid_to_vgname.remove(vgid);
        self.vgid_to_outdated_pvs.remove(vgid);
        if let Some(name) = name {
            self.vgname_to_vgid.remove_with_val(&name, &vgid.to_vec());
        }
        if update_pvids {
            if let Some(meta) = meta {
                self.update_pvid_to_vgid(pv_ids(&meta), ORPHAN, Mode::UpdateOnly);
            }
        }
    }

    /// `vg_remove_if_missing()`
    pub fn vg_remove_if_missing(&mut self, vgid: &[u8], update_pvids: bool) {
        let meta = match self.vgid_to_metadata.get(vgid) {
            Some(m) => m,
            None => return,
        };
        let present = pv_ids(meta).iter().any(|pvid| {
            self.pvid_to_vgid.get(pvid).map(|v| v.as_slice()) == Some(vgid)
                && self.pvid_to_pvmeta.contains(pvid)
        });
        if !present {
            self.remove_metadata(vgid, update_pvids);
        }
    }

    fn purge_metadata(&mut self, name: &[u8], vgid: &[u8]) {
        self.remove_metadata(vgid, true);
        self.vgname_to_vgid.remove_with_val(name, &vgid.to_vec());
    }

    fn add_new(&mut self, name: &[u8], vgid: &[u8], meta: Node) {
        let pvids = pv_ids(&meta);
        self.vgid_to_metadata.insert(vgid, Stored::new(meta));
        self.vgid_to_vgname.insert(vgid, name.to_vec());
        self.vgname_to_vgid
            .insert_allow_multiple(name, vgid.to_vec());
        self.update_pvid_to_vgid(pvids, vgid, Mode::RemoveEmpty);
    }

    /// `_update_metadata()`. `seqno_before` receives what pv_found reports. When the new
    /// metadata is stored, it is taken out of `new_metadata` (left empty).
    pub fn update_metadata(
        &mut self,
        name: &[u8],
        vgid: &[u8],
        new_metadata: &mut Node,
        seqno_before: Option<&mut i32>,
        pvid: Option<&[u8]>,
    ) -> Update {
        let name_lookup = self.vgid_to_vgname.get(vgid).cloned();
        let pair = self.vgname_to_vgid.contains_with_val(name, &vgid.to_vec());
        let has_meta = self.vgid_to_metadata.contains(vgid);

        let mut new_name = false; // "new_name && new_vgid" = add new; new_name alone = rename
        let mut add_new = false;
        let mut needs_repair = false;
        let mut old_name: Option<Vec<u8>> = None;
        let mut have_old = false;

        if name_lookup.is_none() && !pair {
            add_new = true;
        } else if let Some(nl) = name_lookup.as_ref().filter(|nl| nl.as_slice() != name) {
            if pair {
                needs_repair = true;
            } else {
                new_name = true;
                old_name = Some(nl.clone());
                if !has_meta {
                    needs_repair = true;
                } else {
                    have_old = true;
                }
            }
        } else if !pair || name_lookup.is_none() || !has_meta {
            needs_repair = true;
        } else {
            have_old = true;
        }

        filter_metadata(new_metadata);
        let nm = std::slice::from_ref(&*new_metadata);
        let new_seq = find_cint(nm, "metadata/seqno", -1);
        let mut old_seq = -1;
        if have_old {
            let om = self.vgid_to_metadata.get(vgid).unwrap();
            old_seq = find_cint(std::slice::from_ref(om.tree()), "metadata/seqno", -1);
        }
        if let Some(r) = seqno_before {
            *r = if have_old { old_seq } else { new_seq };
        }
        if new_seq <= 0 {
            return if pvid.is_some() {
                Update::Ignored
            } else {
                Update::Abort("vg_update: failed metadata update")
            };
        }
        match find_str(nm, "metadata/id") {
            Some(id) if id == vgid => {}
            _ => {
                return if pvid.is_some() {
                    Update::Ignored
                } else {
                    Update::Abort("vg_update: failed metadata update")
                }
            }
        }
        if needs_repair {
            return if pvid.is_some() {
                Update::Ignored
            } else {
                Update::Abort("vg_update: failed metadata update")
            };
        }
        if let Some(p) = pvid {
            if old_seq > 0 && new_seq < old_seq {
                self.mark_outdated_pv(vgid, p);
                return Update::Ignored;
            }
            if old_seq > 0 && new_seq > old_seq {
                let old = pv_ids(self.vgid_to_metadata.get(vgid).unwrap());
                self.update_pvid_to_vgid(old, vgid, Mode::MarkOutdated);
            }
        }
        let purge = |c: &mut Cache, have_old: &mut bool, old_seq: &mut i32| {
            c.purge_metadata(name, vgid);
            *have_old = false;
            *old_seq = -1;
        };
        if have_old && old_seq <= 0 {
            purge(self, &mut have_old, &mut old_seq);
            add_new = true;
        }
        if new_seq == old_seq && have_old {
            let differs = {
                let om = self.vgid_to_metadata.get(vgid).unwrap();
                compare_config(
                    std::slice::from_ref(new_metadata),
                    std::slice::from_ref(om.tree()),
                ) != 0
            };
            if differs {
                if pvid.is_some() {
                    return Update::Ignored;
                }
                purge(self, &mut have_old, &mut old_seq);
                add_new = true;
            }
        }
        if pvid.is_none() && new_seq < old_seq {
            purge(self, &mut have_old, &mut old_seq);
            add_new = true;
        }

        if add_new {
            self.add_new(name, vgid, std::mem::take(new_metadata));
            return Update::Ok;
        }
        if new_name {
            let old = pv_ids(self.vgid_to_metadata.get(vgid).unwrap());
            self.update_pvid_to_vgid(old, ORPHAN, Mode::UpdateOnly);
            self.vgid_to_info.remove(vgid);
            self.vgid_to_outdated_pvs.remove(vgid);
            self.vgid_to_metadata.remove(vgid);
            self.vgid_to_vgname.remove(vgid);
            if let Some(on) = &old_name {
                self.vgname_to_vgid.remove_with_val(on, &vgid.to_vec());
            }
            let new_ids = pv_ids(new_metadata);
            self.vgid_to_metadata
                .insert(vgid, Stored::new(std::mem::take(new_metadata)));
            self.vgid_to_vgname.insert(vgid, name.to_vec());
            self.vgname_to_vgid
                .insert_allow_multiple(name, vgid.to_vec());
            self.update_pvid_to_vgid(new_ids, vgid, Mode::RemoveEmpty);
            return Update::Ok;
        }
        if old_seq == new_seq {
            return Update::Ok;
        }
        let old = self.vgid_to_metadata.remove(vgid).unwrap();
        self.update_pvid_to_vgid(pv_ids(&old), ORPHAN, Mode::UpdateOnly);
        let new_ids = pv_ids(new_metadata);
        self.vgid_to_metadata
            .insert(vgid, Stored::new(std::mem::take(new_metadata)));
        self.update_pvid_to_vgid(new_ids, vgid, Mode::RemoveEmpty);
        Update::Ok
    }

    /// Whether every PV listed in the VG has pvmeta.
    pub fn vg_is_complete(&self, meta: &Node) -> bool {
        pv_ids(meta).iter().all(|p| self.pvid_to_pvmeta.contains(p))
    }

    /// The device a stored PV is on (0 if unknown).
    pub fn device_of(&self, pvid: &[u8]) -> u64 {
        self.pvmeta_device(pvid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse_str, to_bytes};

    #[test]
    fn line_ends() {
        let text = b"\ta=1\n\tlonger_key=\"some value\"\n\tb {\n\t\tc=2\n\t}\nno newline";
        let mut rest = &text[..];
        let mut lines = Vec::new();
        while !rest.is_empty() {
            let end = line_end(rest);
            lines.push(&rest[..end]);
            rest = &rest[end..];
        }
        let want: Vec<&[u8]> = text.split_inclusive(|&c| c == b'\n').collect();
        assert_eq!(lines, want);
        for b in 0..=255u8 {
            let t = [b'x', b'x', b'x', b, b'x', b'x', b'x', b'x', b'x', b'\n'];
            assert_eq!(line_end(&t), if b == b'\n' { 4 } else { 10 });
        }
    }

    #[test]
    fn stored_text_at_any_level() {
        let tree = parse_str(
            "pvmeta { device=1 id=\"x\" mda0 { ignore=0 size=1044480 } s=\"multi\nline\" }",
        )
        .unwrap()
        .remove(0);
        let plain = parse_str("pvmeta { device=1 id=\"x\" mda0 { ignore=0 size=1044480 } }")
            .unwrap()
            .remove(0);
        let mut deep = Node::int("x", 1);
        for _ in 0..35 {
            deep = Node::section("s", vec![deep]);
        }
        for t in [tree, plain, Node::section("d", vec![deep])] {
            let st = Stored::new(t.clone());
            for level in 1..40 {
                let mut ours = Vec::new();
                st.write_children(&mut ours, level);
                let mut want = Vec::new();
                write_nodes(&mut want, &t.children, level);
                assert_eq!(ours, want, "level {}", level);
            }
        }
    }

    #[test]
    fn merge_quirk_drops_id_and_dev_size() {
        let pm = parse_str(
            "pvmeta { device=1 dev_size=2 format=\"lvm2\" label_sector=1 id=\"x\" ext_version=2 }",
        )
        .unwrap();
        let mut pv = Node::section("pv0", vec![Node::string("id", "x")]);
        merge_pvmeta(&mut pv, &pm[0].children);
        let keys: Vec<_> = pv
            .children
            .iter()
            .map(|c| String::from_utf8(c.key.to_vec()).unwrap())
            .collect();
        assert_eq!(
            keys,
            ["device", "format", "label_sector", "ext_version", "id"]
        );
        // two consecutive droppable nodes: only the first goes
        let pm = parse_str("p { a=1 id=2 dev_size=3 b=4 }").unwrap();
        let mut pv = Node::section("pv0", vec![]);
        merge_pvmeta(&mut pv, &pm[0].children);
        assert_eq!(pv.children.len(), 3);
    }

    #[test]
    fn merge_quirk_matches_lvmetad_loop() {
        // lvmetad's loop: look at the node after `i`, unlink it if droppable, step on
        fn lvmetad(keys: &[&str]) -> Vec<String> {
            let mut v: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            let mut i = 0;
            while i + 1 < v.len() {
                if v[i + 1] == "id" || v[i + 1] == "dev_size" {
                    v.remove(i + 1);
                }
                if i + 1 >= v.len() {
                    break;
                }
                i += 1;
            }
            v
        }
        let alphabet = ["id", "dev_size", "a", "b"];
        for n in 0..7u32 {
            for code in 0..4u32.pow(n) {
                let keys: Vec<&str> = (0..n)
                    .map(|d| alphabet[(code / 4u32.pow(d) % 4) as usize])
                    .collect();
                let nodes: Vec<Node> = keys.iter().map(|k| Node::int(k, 1)).collect();
                let ours: Vec<String> = pvmeta_to_merge(&nodes)
                    .map(|c| String::from_utf8(c.key.to_vec()).unwrap())
                    .collect();
                assert_eq!(ours, lvmetad(&keys), "{:?}", keys);
            }
        }
    }

    #[test]
    fn set_flag_rules() {
        let mut pv = parse_str("pv0 { id=\"x\" status=\"ALLOCATABLE\" }")
            .unwrap()
            .remove(0);
        set_flag(&mut pv, "status", b"MISSING", true);
        assert_eq!(
            to_bytes(&pv.children),
            b"id=\"x\"\nstatus=[\"MISSING\",\"ALLOCATABLE\"]\n".to_vec()
        );
        set_flag(&mut pv, "status", b"MISSING", false);
        assert_eq!(
            to_bytes(&pv.children),
            b"id=\"x\"\nstatus=\"ALLOCATABLE\"\n".to_vec()
        );
        let mut pv = parse_str("pv0 { id=\"x\" }").unwrap().remove(0);
        set_flag(&mut pv, "status", b"MISSING", true);
        assert_eq!(
            to_bytes(&pv.children),
            b"status=[\"MISSING\"]\nid=\"x\"\n".to_vec()
        );
        let mut pv = parse_str("pv0 { status=\"MISSING\" }").unwrap().remove(0);
        set_flag(&mut pv, "status", b"MISSING", false);
        assert_eq!(to_bytes(&pv.children), b"status=[]\n".to_vec());
    }

    #[test]
    fn filter_metadata_quirk() {
        let mut m = parse_str("metadata { physical_volumes { pv0 { device=\"/dev/a\" id=\"x\" device=\"/dev/b\" } pv1 { id=\"y\" device=\"d\" device=\"e\" s=1 } } }").unwrap().remove(0);
        filter_metadata(&mut m);
        assert_eq!(
            to_bytes(&[m]),
            b"metadata {\n\tphysical_volumes {\n\t\tpv0 {\n\t\t\tdevice=\"/dev/a\"\n\t\t\tid=\"x\"\n\t\t}\n\t\tpv1 {\n\t\t\tid=\"y\"\n\t\t\tdevice=\"e\"\n\t\t\ts=1\n\t\t}\n\t}\n}\n".to_vec()
        );
    }
}
