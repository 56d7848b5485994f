//! The cache-update steps a scan performs on the client: the "update in progress" token
//! dance around a full scan (`lvmetad_pvscan_all_devs` in LVM's `lvmetad.c`) and the
//! `pvmeta` section every `pv_found` carries. The scan layer drives them.

use super::port::vg::PvAreas;
use super::port::Level;
use super::{Client, TokenUpdate};
use crate::config::Node;
use crate::protocol::TOKEN_UPDATE_IN_PROGRESS as IP;

/// Steps 2-5 of `lvmetad_pvscan_all_devs`: wait for another command's update (when
/// `do_wait`), set the "update in progress" token, retry once when another command took
/// the update at the same time. Returns the token to restore after the scan, or None
/// (with LVM's messages) when the update was not started.
pub fn begin_full_update(client: &mut Client, do_wait: bool) -> Option<Option<String>> {
    match begin_full_update_or_adopt(client, do_wait, false) {
        FullUpdate::Started(future) => Some(future),
        FullUpdate::Adopted | FullUpdate::NotStarted => None,
    }
}

/// How [`begin_full_update_or_adopt`] ended.
#[derive(Debug, PartialEq, Eq)]
pub enum FullUpdate {
    /// This command's update began: the token to restore after the scan.
    Started(Option<String>),
    /// Another command's full update, begun after this command saw the cache not being
    /// updated, ended with this command's token: the cache holds what this command's
    /// scan would send, so it does not repeat it.
    Adopted,
    /// Not started (LVM's messages logged).
    NotStarted,
}

/// [`begin_full_update`]; with `may_adopt` (a command that only needs the cache
/// populated with its token: `do_wait` is false and no VG names are collected), it
/// returns `Adopted` when, while it waits to start, another command's update that began
/// after this command's `token_matches` saw the cache idle ends with this command's
/// token. LVM's commands that arrive a moment later find the token matching and do not
/// rescan either; the same holds for those that lost the race (docs/compat.md).
pub fn begin_full_update_or_adopt(
    client: &mut Client,
    do_wait: bool,
    may_adopt: bool,
) -> FullUpdate {
    let log = |c: &Client, l: Level, m: &str| c.host().log(l, m);
    let mut retried = false;
    loop {
        let mut replacing = false;
        if do_wait && client.is_updating(true) {
            log(
                client,
                Level::Warn,
                "WARNING: lvmetad update is interrupting another update in progress.",
            );
            replacing = true;
        }
        let future = client.replace_token(Some(IP.to_string()));
        let adopt = match &future {
            Some(t) if may_adopt && !do_wait && client.idle_seen() => Some(t.clone()),
            _ => None,
        };
        let mut replaced = false;
        match client.token_update_or_adopt(Some(&mut replaced), adopt.as_deref()) {
            TokenUpdate::Done => {}
            TokenUpdate::Adopted => {
                client.replace_token(future);
                return FullUpdate::Adopted;
            }
            TokenUpdate::Failed => {
                log(client, Level::Error, "Failed to start lvmetad update.");
                client.replace_token(future);
                return FullUpdate::NotStarted;
            }
        }
        if !replacing && replaced {
            client.replace_token(future);
            if do_wait && !retried {
                log(
                    client,
                    Level::Warn,
                    "WARNING: lvmetad update in progress, retrying update.",
                );
                retried = true;
                continue;
            }
            log(
                client,
                Level::Warn,
                "WARNING: lvmetad update in progress, skipping update.",
            );
            return FullUpdate::NotStarted;
        }
        return FullUpdate::Started(future);
    }
}

/// Steps 10-12 of `lvmetad_pvscan_all_devs`: restore the command's token and, when
/// every device was sent (`ok`), end the update by sending it (`token_update`).
pub fn end_full_update(client: &mut Client, future: Option<String>, ok: bool) -> bool {
    client.replace_token(future);
    if !ok {
        return false;
    }
    if !client.token_update(None) {
        client.host().log(
            Level::Error,
            "Failed to update lvmetad token after device scan.",
        );
        return false;
    }
    true
}

/// Step 14: a cache an earlier command disabled is enabled again by a full scan.
pub fn enable_after_scan(client: &mut Client) {
    if client.is_disabled().is_some() {
        client
            .host()
            .log(Level::Debug, "lvmetad is disabled, enabling after scan.");
        client.clear_disabled();
    }
}

/// The `pvmeta` section of `pv_found` (tree form: keys carry the blank of `"key = "`).
pub fn pvmeta_tree(devno: u64, format: &str, label_sector: u64, uuid: &str, a: &PvAreas) -> Node {
    let k = |s: &str| format!("{} ", s);
    let mut c = vec![
        Node::int(k("device"), devno as i64),
        Node::int(k("dev_size"), a.dev_size as i64),
        Node::string(k("format"), format),
        Node::int(k("label_sector"), label_sector as i64),
        Node::string(k("id"), uuid),
        Node::int(k("ext_version"), a.ext_version as i64),
        Node::int(k("ext_flags"), a.ext_flags as i64),
    ];
    for (i, mda) in a.mdas.iter().enumerate() {
        c.push(Node::section(
            format!("mda{}", i),
            vec![
                Node::int(k("ignore"), mda.ignore as i64),
                Node::int(k("start"), mda.start as i64),
                Node::int(k("size"), mda.size as i64),
                Node::int(k("free_sectors"), mda.free_sectors as i64),
            ],
        ));
    }
    for (prefix, areas) in [("da", &a.das), ("ba", &a.bas)] {
        for (i, l) in areas.iter().enumerate() {
            c.push(Node::section(
                format!("{}{}", prefix, i),
                vec![
                    Node::int(k("offset"), l.offset as i64),
                    Node::int(k("size"), l.size as i64),
                ],
            ));
        }
    }
    Node::section("pvmeta", c)
}
