//! The VG layer's host operations: what `lvmetad.c`'s VG functions reach in LVM
//! (devices, formats, lvmcache, VG import/export and rereads, system ids, the caller's
//! lists), as one trait with two implementations: the native one
//! (`crate::host::native_vg`, the library's own devices, on-disk reader and an in-library
//! cache) and LVM's own through the C host table (`crate::ffi::host`). Objects are opaque
//! handles (`usize`, 0 = none) only ever given back to the host that made them.
//! Reference: docs/reference/client.md sections 6-8.

use super::CmdId;
use crate::client::vg::Shared;
use crate::config::Node;

/// A `struct volume_group *` (0 = none).
pub type VgId = usize;
/// A `struct device *` (0 = none).
pub type DevId = usize;
/// A `struct format_type *` (0 = none).
pub type FmtId = usize;
/// A `struct dm_list *` of the caller (0 = none).
pub type ListId = usize;

/// A metadata area as `mda_export_text` writes it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MdaLoc {
    pub ignore: bool,
    pub start: u64,
    pub size: u64,
    pub free_sectors: u64,
}

/// A data or bootloader area.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskLoc {
    pub offset: u64,
    pub size: u64,
}

/// What lvmcache holds of a PV (the pvmeta of `pv_found`, the input of `lvmcache_add`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PvAreas {
    pub dev_size: u64,
    pub ext_version: u32,
    pub ext_flags: u32,
    pub mdas: Vec<MdaLoc>,
    pub das: Vec<DiskLoc>,
    pub bas: Vec<DiskLoc>,
}

/// A PV as lvmetad describes it, for `lvmcache_add` (`_pv_populate_lvmcache`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PvRecord {
    pub pvid: [u8; 32],
    /// The VG id bytes, or the format's orphan VG name padded with NULs.
    pub vgid: [u8; 32],
    pub vgname: String,
    pub dev: DevId,
    pub label_sector: u64,
    pub areas: PvAreas,
}

/// What the library reads of a VG.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VgInfo {
    pub name: String,
    pub id: [u8; 32],
    pub seqno: u32,
    pub update_pending: bool,
    /// The VG's format supports precommitted metadata (`FMT_PRECOMMIT`).
    pub precommit: bool,
    pub system_id: Option<String>,
    pub lock_type: Option<String>,
    pub cmd: CmdId,
}

/// One PV of a VG.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VgPv {
    pub id: [u8; 32],
    pub dev: DevId,
    pub fmt: FmtId,
    pub label_sector: u64,
}

/// What the label scan left for a device (`dev->pvid`, lvmcache's info and label).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DevLabel {
    pub pvid: Vec<u8>,
    pub has_info: bool,
    pub has_label: bool,
    pub fmt: FmtId,
    pub label_sector: u64,
}

/// A device named on a command line, as the device cache and its filters answer
/// (`dev_cache_get(name, cmd->lvmetad_filter)` in `pvscan --cache`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DevLookup {
    /// Known and passing the filters.
    Found(DevId),
    /// Known (this device number) but rejected by a filter.
    Filtered(u64),
    /// No such device.
    NotFound,
}

/// A VG's lvmlockd state as `lvmetad_vg_lookup` weighs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lockd {
    /// Not a lockd VG.
    No,
    /// A lockd VG (sanlock, dlm): lvmetad's copy is not re-read for `vg_invalid`.
    Yes,
    /// A lockd VG the command must re-read from disk.
    Rescan,
}

/// Operations of the VG layer. Every method has the semantics of the LVM function named
/// in its documentation; handles are opaque.
pub trait VgHost {
    /// `dev->dev`, `dev_name(dev)`.
    fn dev_info(&self, dev: DevId) -> Option<(u64, String)>;
    /// `dev_cache_get_by_devt(devno, cmd->filter)`.
    fn dev_by_devt(&self, cmd: CmdId, devno: u64) -> Option<DevId>;
    /// `udev_dev_is_mpath_component(dev)`.
    fn dev_is_mpath_component(&self, _cmd: CmdId, _dev: DevId) -> bool {
        false
    }
    /// `get_format_by_name(cmd, name)`.
    fn fmt_by_name(&self, cmd: CmdId, name: &str) -> Option<FmtId>;
    /// `fmt->name`.
    fn fmt_name(&self, fmt: FmtId) -> String;
    /// lvmcache's info for a PV on a device (None when lvmcache has none).
    fn pv_cache_info(&self, cmd: CmdId, pvid: &[u8; 32], dev: DevId) -> Option<PvAreas>;
    /// `lvmcache_add` and the info's label, size, areas and extension fields.
    fn lvmcache_add_pv(&self, cmd: CmdId, fmt: FmtId, pv: &PvRecord) -> bool;
    /// `lvmcache_seed_infos_from_lvmetad(cmd)` (may call `pv_list_to_lvmcache`).
    fn seed_infos(&self, cl: &Shared, cmd: CmdId);

    /// The VG's fields.
    fn vg_info(&self, vg: VgId) -> Option<VgInfo>;
    /// `vg->lvmetad_update_pending = pending`.
    fn vg_set_update_pending(&self, vg: VgId, pending: bool);
    /// The exported VG (`export_vg_to_config_tree` of the committed copy when
    /// `committed` and there is one): its VG section, keyed by the VG name.
    fn vg_export(&self, vg: VgId, committed: bool) -> Option<Node>;
    /// Copy the VG's mda ignored flags to lvmcache's infos.
    fn vg_fix_mda_ignored(&self, _vg: VgId) {}
    /// The VG's PVs (of the committed copy when `committed`).
    fn vg_pvs(&self, vg: VgId, committed: bool) -> Vec<VgPv>;
    /// Import a VG from lvmetad's reply: `section` is the reply's metadata renamed to
    /// the VG's name.
    fn vg_import(
        &self,
        cmd: CmdId,
        fmt: FmtId,
        name: &str,
        vgid: Option<&[u8; 32]>,
        section: &Node,
    ) -> Option<VgId>;
    /// The VG's lvmlockd state.
    fn vg_lockd(&self, cmd: CmdId, vg: VgId) -> Lockd;
    /// Re-read the VG from its devices (`_lvmetad_pvscan_vg`); `vg` is released.
    /// Native hosts update lvmetad through `cl`; LVM's glue calls the library's
    /// exported functions, which lock it themselves.
    fn vg_rescan(&self, cl: &Shared, cmd: CmdId, vg: VgId, vgid: Option<&[u8; 32]>)
        -> Option<VgId>;
    /// Attach lvmcache's devices and mdas to the looked-up VG's PVs, update lvmcache's
    /// VG summary, mark partial LVs.
    fn vg_finish_lookup(&self, cmd: CmdId, vg: VgId) -> bool;
    /// `release_vg(vg)`.
    fn vg_release(&self, vg: VgId);

    /// `cmd->system_id`.
    fn cmd_system_id(&self, cmd: CmdId) -> Option<String>;
    /// `is_system_id_allowed(cmd, system_id)`.
    fn system_id_allowed(&self, cmd: CmdId, system_id: Option<&str>) -> bool;
    /// `lvmlockd_use()`.
    fn lvmlockd_use(&self) -> bool {
        false
    }
    /// `str_list_add(cmd->mem, list, name)`.
    fn str_list_add(&self, cmd: CmdId, list: ListId, name: &str) -> bool;
    /// Append a `struct vgnameid_list` to `list`.
    fn vgnameid_add(&self, cmd: CmdId, list: ListId, name: &str, vgid: &[u8; 32]) -> bool;

    // The label scan, for hosts that scan for the library (LVM's own).
    /// `label_scan_pvscan_all`: the devices, in order (None: not provided by the host).
    fn label_scan_all(&self, _cmd: CmdId) -> Option<Vec<DevId>> {
        None
    }
    /// What the label scan recorded for a device.
    fn dev_label(&self, _cmd: CmdId, _dev: DevId) -> DevLabel {
        DevLabel::default()
    }
    /// The highest-seqno VG in the device's mdas.
    fn dev_read_vg(&self, _cmd: CmdId, _dev: DevId) -> Option<VgId> {
        None
    }
    /// `label_scan_invalidate(dev)`.
    fn label_scan_invalidate(&self, _dev: DevId) {}
    /// `label_scan_devs` of the given devices (as `pvscan --cache DEV...` does before
    /// sending each).
    fn label_scan_devs(&self, _cmd: CmdId, _devs: &[DevId]) {}
    /// A device named by path on a command line.
    fn dev_lookup_path(&self, _cmd: CmdId, _path: &str) -> DevLookup {
        DevLookup::NotFound
    }
    /// `lvmcache_pvscan_duplicate_check` then `lvmcache_found_duplicate_pvs`: true when
    /// the last full label scan found duplicate PVs (the host has then warned, and
    /// disabled and stopped using lvmetad through `cl`).
    fn duplicate_check(&self, _cl: &Shared, _cmd: CmdId) -> bool {
        false
    }
    /// `silent_mode()`.
    fn silent(&self) -> bool {
        false
    }
    /// `init_silent()`.
    fn set_silent(&self, _silent: bool) {}
    /// `sigint_caught()`.
    fn sigint_caught(&self) -> bool {
        false
    }
}
