//! Every lvmetad request, named once: its name on the wire, the daemon lock it runs under,
//! and the action text LVM's client prints when its reply fails
//! (`_lvmetad_handle_reply` in `lvmetad.c`). The client, the daemon's dispatch, lvmetactl
//! and the tests all use this table. Adding a request: docs/architecture.md.

/// What a request holds in the daemon while it runs (`lvmetad-core.c`'s locks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lock {
    /// Nothing: the handshake.
    None,
    /// The token lock only: `token_update` changes the token and the update owner.
    Token,
    /// The cache, exclusively: requests that change PVs or VGs.
    CacheWrite,
    /// The cache, shared: lookups, lists and `dump`.
    CacheRead,
    /// The global-info lock: the daemon's flags.
    Info,
}

/// One request of LVM2 2.02.188's lvmetad protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Request {
    Hello,
    TokenUpdate,
    PvFound,
    PvGone,
    VgUpdate,
    VgRemove,
    SetVgInfo,
    PvClearAll,
    VgClearOutdatedPvs,
    PvLookup,
    VgLookup,
    PvList,
    VgList,
    Dump,
    SetGlobalInfo,
    GetGlobalInfo,
}

/// A request's row of the table.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub request: Request,
    /// The `request = "..."` value.
    pub name: &'static str,
    pub lock: Lock,
    /// What LVM's client calls the request in "Request to ACTION ... in lvmetad ..."
    /// messages; None for requests whose replies it does not check that way.
    pub action: Option<&'static str>,
    /// A failed reply leaves lvmetad's copy possibly wrong, so LVM adds its "restart
    /// lvmetad" warning (`pv_found`, `pv_gone`).
    pub modifies: bool,
}

const fn row(
    request: Request,
    name: &'static str,
    lock: Lock,
    action: Option<&'static str>,
    modifies: bool,
) -> Spec {
    Spec {
        request,
        name,
        lock,
        action,
        modifies,
    }
}

use Lock::*;
use Request::*;

/// The protocol, one row per request.
pub const REQUESTS: [Spec; 16] = [
    row(Hello, "hello", None, Option::None, false),
    row(TokenUpdate, "token_update", Token, Option::None, false),
    row(PvFound, "pv_found", CacheWrite, Some("update PV"), true),
    row(PvGone, "pv_gone", CacheWrite, Some("drop PV"), true),
    row(VgUpdate, "vg_update", CacheWrite, Some("update VG"), false),
    row(VgRemove, "vg_remove", CacheWrite, Some("remove VG"), false),
    row(
        SetVgInfo,
        "set_vg_info",
        CacheWrite,
        Some("set VG info"),
        false,
    ),
    row(
        PvClearAll,
        "pv_clear_all",
        CacheWrite,
        Some("clear info about all PVs"),
        false,
    ),
    row(
        VgClearOutdatedPvs,
        "vg_clear_outdated_pvs",
        CacheWrite,
        Some("clear the list of outdated PVs"),
        false,
    ),
    row(PvLookup, "pv_lookup", CacheRead, Some("lookup PV"), false),
    row(VgLookup, "vg_lookup", CacheRead, Some("lookup VG"), false),
    row(PvList, "pv_list", CacheRead, Some("list PVs"), false),
    row(VgList, "vg_list", CacheRead, Some("list VGs"), false),
    row(Dump, "dump", CacheRead, Option::None, false),
    row(SetGlobalInfo, "set_global_info", Info, Option::None, false),
    row(GetGlobalInfo, "get_global_info", Info, Option::None, false),
];

impl Request {
    /// The request's row.
    pub fn spec(self) -> &'static Spec {
        // The table is in declaration order (checked by a test).
        &REQUESTS[self as usize]
    }

    /// The name on the wire.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn lock(self) -> Lock {
        self.spec().lock
    }

    /// The request a `request = "..."` value names.
    pub fn from_name(name: &[u8]) -> Option<Request> {
        REQUESTS
            .iter()
            .find(|s| s.name.as_bytes() == name)
            .map(|s| s.request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_in_declaration_order_and_names_unique() {
        for (i, s) in REQUESTS.iter().enumerate() {
            assert_eq!(s.request as usize, i, "{}", s.name);
            assert_eq!(Request::from_name(s.name.as_bytes()), Some(s.request));
        }
        assert_eq!(Request::from_name(b"pv_foundx"), Option::None);
        assert_eq!(Request::from_name(b""), Option::None);
    }

    #[test]
    fn lvm_action_texts() {
        assert_eq!(PvFound.spec().action, Some("update PV"));
        assert_eq!(PvGone.spec().action, Some("drop PV"));
        assert!(PvFound.spec().modifies && PvGone.spec().modifies);
        assert_eq!(
            REQUESTS.iter().filter(|s| s.modifies).count(),
            2,
            "only pv_found and pv_gone carry LVM's restart warning"
        );
        assert_eq!(TokenUpdate.spec().action, Option::None);
    }
}
