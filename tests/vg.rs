//! The VG layer (`lvmetad_vg_*`, `lvmetad_pv_list_to_lvmcache`, `lvmetad_pv_lookup*`,
//! `lvmetad_get_vgnameids`, `lvmetad_vg_is_foreign`, ...) with the native host, against
//! the bundled daemon, on real PV images named in devices/scan: return values, LVM's
//! messages, what lands in the native cache and what the daemon holds afterwards.

mod common;
use common::*;
use lvmetad::client::port::vg::VgHost;
use lvmetad::client::port::{Host, Level};
use lvmetad::client::vg::{self as cvg, PvKey, Shared};
use lvmetad::client::Client;
use lvmetad::host::native::{NativeCmd, NativeHost};
use lvmetad::host::native_vg::{NativeVg, FMT_LVM2};
use lvmetad::ondisk::Log;
use lvmetad::scan::lvmconf::LvmConfig;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

const CMD: usize = 7;
/// Image files are devices makedev(4095, n) in devices/scan order.
fn devno(n: u64) -> u64 {
    nix::sys::stat::makedev(4095, n)
}

struct Env {
    d: DaemonProc,
    set: images::ImageSet,
    host: Arc<NativeHost>,
    logs: Arc<Mutex<Vec<(Level, String)>>>,
    cl: Shared,
}

impl Env {
    /// A daemon, the images in devices/scan, a native context, and a full scan done.
    fn new(images: &[&str]) -> Env {
        let d = DaemonProc::start();
        let set = images::ImageSet::new(images, "");
        let etc = set.etc.clone();
        let logs: Arc<Mutex<Vec<(Level, String)>>> = Arc::default();
        let l2 = logs.clone();
        let host = Arc::new(NativeHost::new(LvmConfig::empty()).with_sink(Box::new(
            move |l, m| l2.lock().unwrap().push((l, m.to_string())),
        )));
        let cfg = LvmConfig::load(Some(&etc), &[]).unwrap();
        host.register(CMD, Arc::new(NativeCmd::new(cfg.clone(), "vgs")));
        let mut c = Client::new(host.clone() as Arc<dyn Host>);
        c.set_socket(Some(d.socket.clone()));
        assert!(c.connect(CMD));
        let cl = Mutex::new(c);
        assert!(lvmetad::client::scan::pvscan_all_devs(
            &cl, &*host, CMD, false, 0
        ));
        logs.lock().unwrap().clear();
        Env {
            d,
            set,
            host,
            logs,
            cl,
        }
    }

    fn h(&self) -> &dyn VgHost {
        &*self.host
    }

    /// Messages at warning level or above, and prints.
    fn shown(&self) -> Vec<String> {
        self.logs
            .lock()
            .unwrap()
            .drain(..)
            .filter(|(l, _)| *l <= Level::PrintUnlessSilent)
            .map(|(_, m)| m)
            .collect()
    }

    fn raw(&self, req: &str) -> String {
        let mut s = self.d.connect();
        String::from_utf8_lossy(&exchange(&mut s, req.as_bytes())).into_owned()
    }

    fn vg_lookup_raw(&self, name: &str) -> String {
        self.raw(&format!(
            "request = \"vg_lookup\"\nname = \"{}\"\ntoken = \"skip\"\n",
            name
        ))
    }
}

fn vg1_id(e: &Env) -> [u8; 32] {
    let vg = cvg::vg_lookup(&e.cl, e.h(), CMD, Some("vg1"), None).expect("vg1");
    let id = e.host.objects.vg(vg).unwrap().id;
    e.h().vg_release(vg);
    id
}

#[test]
fn vg_lookup_by_name_id_and_both_fills_the_cache() {
    let e = Env::new(&["c04_vg1_pv1", "c04_vg1_pv2"]);
    let vg = cvg::vg_lookup(&e.cl, e.h(), CMD, Some("vg1"), None).expect("vg1 found");
    let v = e.host.objects.vg(vg).unwrap();
    assert_eq!(v.name, "vg1");
    assert_eq!(v.pvs.len(), 2);
    assert_eq!(
        v.pvs
            .iter()
            .map(|p| (p.devno, p.missing))
            .collect::<Vec<_>>(),
        vec![(devno(0), false), (devno(1), false)]
    );
    // both PVs went into the native cache with their devices and VG
    let cache = e.host.objects.cached_pvs(CMD);
    assert_eq!(cache.len(), 2);
    for pv in &v.pvs {
        let r = &cache[&pv.id];
        assert_eq!(r.vgname, "vg1");
        assert_eq!(&r.vgid, &v.id);
        assert_eq!(e.h().dev_info(r.dev).unwrap().0, pv.devno);
        assert_eq!(r.label_sector, 1);
        assert_eq!(r.areas.mdas.len(), 1);
    }
    let seqno = v.seqno;
    e.h().vg_release(vg);
    assert!(e.host.objects.vg(vg).is_none());
    // by id only, and by both
    let by_id = cvg::vg_lookup(&e.cl, e.h(), CMD, None, Some(&v.id)).expect("by id");
    assert_eq!(e.host.objects.vg(by_id).unwrap().seqno, seqno);
    let both = cvg::vg_lookup(&e.cl, e.h(), CMD, Some("vg1"), Some(&v.id)).expect("both");
    assert_eq!(e.host.objects.vg(both).unwrap().name, "vg1");
    assert!(e.shown().is_empty());
    // unknown: NULL without a message (lvmetad answers "unknown")
    assert!(cvg::vg_lookup(&e.cl, e.h(), CMD, Some("nosuch"), None).is_none());
    assert!(e.shown().is_empty());
    // neither name nor id
    assert!(cvg::vg_lookup(&e.cl, e.h(), CMD, None, None).is_none());
    assert_eq!(
        e.shown(),
        vec!["Internal error: VG name required (VGID not available)"]
    );
}

#[test]
fn vg_lookup_of_an_invalid_vg_rereads_the_disk() {
    let e = Env::new(&["c04_vg1_pv1", "c04_vg1_pv2"]);
    let id = vg1_id(&e);
    let uuid = lvmetad::client::id::format_id(&id);
    // another command announced seqno 99 and never finished
    let r = e.raw(&format!(
        "request = \"set_vg_info\"\nname = \"vg1\"\nuuid = \"{}\"\nversion = 99\ntoken = \"skip\"\n",
        uuid
    ));
    assert!(r.contains("response = \"OK\""), "{}", r);
    assert!(e.vg_lookup_raw("vg1").contains("vg_invalid"));
    let vg = cvg::vg_lookup(&e.cl, e.h(), CMD, Some("vg1"), None).expect("reread");
    assert_eq!(
        e.shown(),
        vec!["WARNING: Reading VG vg1 from disk because lvmetad metadata is invalid."]
    );
    let v = e.host.objects.vg(vg).unwrap();
    assert_eq!(v.name, "vg1");
    assert_eq!(v.pvs.len(), 2);
    // the disk copy has lvmetad's seqno: nothing to send, lvmetad still waits for 99
    assert!(e.vg_lookup_raw("vg1").contains("vg_invalid"));
}

#[test]
fn vg_update_pending_then_finish_replaces_lvmetads_copy() {
    let e = Env::new(&["c04_vg1_pv1", "c04_vg1_pv2"]);
    let vg = cvg::vg_lookup(&e.cl, e.h(), CMD, Some("vg1"), None).unwrap();
    let old = e.host.objects.vg(vg).unwrap();
    // the "written" VG: lvmetad's copy with the next seqno
    let text = e.raw("request = \"vg_lookup\"\nname = \"vg1\"\ntoken = \"skip\"\n");
    assert!(text.contains(&format!("seqno={}", old.seqno)), "{}", text);
    let mut section = old.section.clone();
    section
        .children
        .iter_mut()
        .find(|c| c.key == b"seqno")
        .unwrap()
        .values = Some(lvmetad::config::Value::Int(old.seqno as i64 + 1).into());
    let mut log = Log::new();
    let new = NativeVg::from_section(CMD, &section, &mut log).unwrap();
    assert_eq!(new.seqno, old.seqno + 1);
    let nvg = e.host.objects.add_vg(new);
    // finish without pending: nothing happens
    assert!(cvg::vg_update_finish(&e.cl, e.h(), nvg));
    assert!(!e
        .vg_lookup_raw("vg1")
        .contains(&format!("seqno={}", old.seqno + 1)));
    assert!(cvg::vg_update_pending(&e.cl, e.h(), nvg));
    assert!(e.host.objects.vg(nvg).unwrap().update_pending);
    assert!(e.vg_lookup_raw("vg1").contains("vg_invalid"));
    assert!(cvg::vg_update_finish(&e.cl, e.h(), nvg));
    assert!(!e.host.objects.vg(nvg).unwrap().update_pending);
    let after = e.vg_lookup_raw("vg1");
    assert!(
        after.contains(&format!("seqno={}", old.seqno + 1)),
        "{}",
        after
    );
    assert!(!after.contains("vg_invalid"), "{}", after);
    // each PV was re-sent with its device: still both in vg1
    let pvs = e.raw("request = \"pv_list\"\ntoken = \"skip\"\n");
    assert_eq!(pvs.matches("vgid=").count(), 2, "{}", pvs);
    assert!(e.shown().is_empty());
}

#[test]
fn vg_remove_pending_and_finish_forget_the_vg() {
    let e = Env::new(&["c04_vg1_pv1", "c04_vg1_pv2"]);
    let vg = cvg::vg_lookup(&e.cl, e.h(), CMD, Some("vg1"), None).unwrap();
    assert!(cvg::vg_remove_pending(&e.cl, e.h(), vg));
    assert!(e.vg_lookup_raw("vg1").contains("vg_invalid"));
    assert!(cvg::vg_remove_finish(&e.cl, e.h(), vg));
    let l = e.raw("request = \"vg_list\"\ntoken = \"skip\"\n");
    assert!(!l.contains("vg1"), "{}", l);
    assert!(e.shown().is_empty());
}

#[test]
fn vg_clear_outdated_pvs_is_accepted() {
    let e = Env::new(&["c04_vg1_pv1", "c04_vg1_pv2"]);
    let vg = cvg::vg_lookup(&e.cl, e.h(), CMD, Some("vg1"), None).unwrap();
    assert!(cvg::vg_clear_outdated_pvs(&e.cl, e.h(), vg));
    assert!(e.shown().is_empty());
}

#[test]
fn pv_list_and_pv_lookup_fill_the_cache() {
    let e = Env::new(&["c04_vg1_pv1", "c04_vg1_pv2", "c01_orphan_default"]);
    assert!(cvg::pv_list_to_lvmcache(&e.cl, e.h(), CMD));
    let cache = e.host.objects.cached_pvs(CMD);
    assert_eq!(cache.len(), 3);
    let orphan = cache.values().find(|r| r.vgname.starts_with('#')).unwrap();
    assert_eq!(orphan.vgname, "#orphans_lvm2");
    assert_eq!(&orphan.vgid[..14], b"#orphans_lvm2\0");
    let (ok, found) = cvg::pv_lookup(&e.cl, e.h(), CMD, PvKey::Id(&orphan.pvid));
    assert!(ok && found == 1);
    let dev = e.h().dev_by_devt(CMD, devno(2)).unwrap();
    let (ok, found) = cvg::pv_lookup(&e.cl, e.h(), CMD, PvKey::Dev(dev));
    assert!(ok && found == 1);
    // an unknown PV: success, not found
    let (ok, found) = cvg::pv_lookup(
        &e.cl,
        e.h(),
        CMD,
        PvKey::Id(b"abcdefABCDEF0123456789abcdefABCD"),
    );
    assert!(ok);
    assert_eq!(found, 0);
    assert!(e.shown().is_empty());
}

#[test]
fn a_pv_whose_device_is_filtered_is_skipped_with_lvms_warning() {
    let e = Env::new(&["c04_vg1_pv1", "c04_vg1_pv2"]);
    // the command now sees only the first image
    let etc = e.set.dir.path().join("etc2");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(
        etc.join("lvm.conf"),
        format!(
            "devices {{ scan = [ \"{}\" ] }}\n",
            e.set.paths[0].display()
        ),
    )
    .unwrap();
    e.host.register(
        8,
        Arc::new(NativeCmd::new(
            LvmConfig::load(Some(&etc), &[]).unwrap(),
            "vgs",
        )),
    );
    assert!(cvg::pv_list_to_lvmcache(&e.cl, e.h(), 8));
    assert_eq!(e.host.objects.cached_pvs(8).len(), 1);
    let shown = e.shown();
    assert_eq!(shown.len(), 1);
    assert!(
        shown[0].starts_with("WARNING: Device for PV "),
        "{:?}",
        shown
    );
    assert!(
        shown[0].ends_with(" not found or rejected by a filter."),
        "{:?}",
        shown
    );
    // the VG still comes back, its second PV missing
    let vg = cvg::vg_lookup(&e.cl, e.h(), 8, Some("vg1"), None).unwrap();
    let v = e.host.objects.vg(vg).unwrap();
    assert_eq!(v.pvs.iter().filter(|p| p.missing).count(), 1);
}

#[test]
fn get_vgnameids_and_vg_list_to_lvmcache() {
    let e = Env::new(&["c04_vg1_pv1", "c04_vg1_pv2", "c08a_vg_foreign_systemid"]);
    assert!(cvg::get_vgnameids(&e.cl, e.h(), CMD, 1));
    let mut l = e.host.objects.list(1);
    l.sort();
    assert_eq!(
        l.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        vec!["vg1", "vg8foreign"]
    );
    assert_eq!(l[0].1, Some(vg1_id(&e)));
    assert!(cvg::vg_list_to_lvmcache(&e.cl, e.h(), CMD));
    assert_eq!(e.host.objects.cached_pvs(CMD).len(), 3);
    assert!(e.shown().is_empty());
}

#[test]
fn vg_is_foreign_follows_the_system_id() {
    let e = Env::new(&["c04_vg1_pv1", "c04_vg1_pv2", "c08a_vg_foreign_systemid"]);
    let foreign = cvg::vg_lookup(&e.cl, e.h(), CMD, Some("vg8foreign"), None).unwrap();
    let fid = e.host.objects.vg(foreign).unwrap().id;
    assert_eq!(
        e.host.objects.vg(foreign).unwrap().system_id.as_deref(),
        Some("other")
    );
    assert!(cvg::vg_is_foreign(&e.cl, e.h(), CMD, "vg8foreign", &fid));
    assert!(!cvg::vg_is_foreign(&e.cl, e.h(), CMD, "vg1", &vg1_id(&e)));
    // a host whose system id is "other" owns it
    let etc = e.set.dir.path().join("etc3");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(
        etc.join("lvm.conf"),
        "global { system_id_source = \"lvmlocal\" }\nlocal { system_id = \"other\" }\n",
    )
    .unwrap();
    e.host.register(
        9,
        Arc::new(NativeCmd::new(
            LvmConfig::load(Some(&etc), &[]).unwrap(),
            "vgs",
        )),
    );
    assert!(!cvg::vg_is_foreign(&e.cl, e.h(), 9, "vg8foreign", &fid));
}

#[test]
fn pv_found_with_a_vg_reports_complete_vgs() {
    let e = Env::new(&["c04_vg1_pv1", "c04_vg1_pv2"]);
    let vg = cvg::vg_lookup(&e.cl, e.h(), CMD, Some("vg1"), None).unwrap();
    let v = e.host.objects.vg(vg).unwrap();
    let dev = e.h().dev_by_devt(CMD, devno(1)).unwrap();
    let pv = &v.pvs[1];
    assert!(lvmetad::client::scan::pv_found(
        &e.cl,
        e.h(),
        CMD,
        &pv.id,
        dev,
        FMT_LVM2,
        1,
        vg,
        5,
        6
    ));
    assert_eq!(
        e.host
            .objects
            .list(5)
            .iter()
            .map(|(n, _)| n.clone())
            .collect::<Vec<_>>(),
        vec!["vg1".to_string()]
    );
    // unchanged metadata: not in the changed list
    assert!(e.host.objects.list(6).is_empty());
    assert!(e.shown().is_empty());
}

#[test]
fn validate_global_cache_needs_lvmlockd() {
    let e = Env::new(&["c04_vg1_pv1"]);
    cvg::validate_global_cache(&e.cl, e.h(), CMD, false, &|| {
        panic!("no scan without lvmlockd")
    });
    assert_eq!(
        e.shown(),
        vec!["Internal error: validate global cache without lvmlockd"]
    );
}

#[test]
fn without_lvmetad_the_calls_do_nothing_or_fail_as_lvm_does() {
    let e = Env::new(&["c04_vg1_pv1", "c04_vg1_pv2"]);
    let vg = cvg::vg_lookup(&e.cl, e.h(), CMD, Some("vg1"), None).unwrap();
    e.cl.lock().unwrap().make_unused(Some(CMD));
    assert!(cvg::vg_update_pending(&e.cl, e.h(), vg));
    assert!(!e.host.objects.vg(vg).unwrap().update_pending);
    assert!(cvg::vg_remove_pending(&e.cl, e.h(), vg));
    assert!(cvg::vg_remove_finish(&e.cl, e.h(), vg));
    assert!(cvg::pv_list_to_lvmcache(&e.cl, e.h(), CMD));
    assert_eq!(
        cvg::pv_lookup(&e.cl, e.h(), CMD, PvKey::Id(&[b'a'; 32])),
        (false, 0)
    );
    assert!(cvg::vg_lookup(&e.cl, e.h(), CMD, Some("vg1"), None).is_none());
    assert!(cvg::vg_list_to_lvmcache(&e.cl, e.h(), CMD));
    assert!(e.shown().is_empty());
    // get_vgnameids has no used check: the send fails with LVM's message
    assert!(!cvg::get_vgnameids(&e.cl, e.h(), CMD, 3));
    let shown = e.shown();
    assert_eq!(
        shown,
        vec!["lvmetad cannot be used due to error: Connection reset by peer"]
    );
    // the daemon still has vg1
    assert!(e.vg_lookup_raw("vg1").contains("response=\"OK\""));
}

/// The request/reply pairs `n` (1-based event numbers of requests) of a capture.
fn capture_pairs(file: &str, reqs: &[usize]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let events = parse_capture(&data_dir().join("captures").join(file));
    let mut out = Vec::new();
    let mut i = 0;
    let mut last: Option<(usize, Vec<u8>)> = None;
    for e in events {
        match e {
            Event::Request { bytes, .. } => {
                i += 1;
                last = Some((i, bytes));
            }
            Event::Reply { bytes, .. } => {
                i += 1;
                if let Some((n, req)) = last.take() {
                    if reqs.contains(&n) {
                        out.push((req, bytes));
                    }
                }
            }
            _ => {}
        }
    }
    assert_eq!(out.len(), reqs.len());
    out
}

/// Serve `script` (answering each request with its recorded reply), return what came.
fn scripted_peer(
    script: Vec<(Vec<u8>, Vec<u8>)>,
) -> (TempDir, PathBuf, std::thread::JoinHandle<Vec<Vec<u8>>>) {
    use std::io::Write;
    let dir = TempDir::new("vgrec");
    let sock = dir.path().join("s");
    let l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let t = std::thread::spawn(move || {
        let (mut c, _) = l.accept().unwrap();
        let mut got = Vec::new();
        for (_, reply) in &script {
            let Some(req) = read_reply(&mut c) else {
                break;
            };
            got.push(req);
            c.write_all(reply).unwrap();
        }
        got
    });
    (dir, sock, t)
}

/// Requests with `pid` and PV `device` names normalised.
fn norm(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .lines()
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with("pid =") {
                "pid =<PID>".to_string()
            } else if t.starts_with("device=\"") {
                "\t\t\tdevice=<DEV>".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A machine without devices: the recorded PVs' devices never exist, whatever loop
/// devices this machine has attached meanwhile.
struct NoDevices;

impl lvmetad::scan::pvscan::DeviceSource for NoDevices {
    fn all(&mut self) -> Vec<lvmetad::scan::pvscan::ScanDevice> {
        Vec::new()
    }
    fn by_path(&mut self, _: &str) -> lvmetad::scan::pvscan::Lookup {
        lvmetad::scan::pvscan::Lookup::NotFound
    }
    fn by_devno(&mut self, _: u64) -> lvmetad::scan::pvscan::Lookup {
        lvmetad::scan::pvscan::Lookup::NotFound
    }
}

fn scripted_client(sock: &Path, name: &str, token: &str) -> (Arc<NativeHost>, Shared) {
    let host = Arc::new(NativeHost::new(LvmConfig::empty()).with_sink(Box::new(|_, _| {})));
    host.register(CMD, Arc::new(NativeCmd::new(LvmConfig::empty(), name)));
    host.set_devices(CMD, Box::new(NoDevices));
    let mut c = Client::new(host.clone() as Arc<dyn Host>);
    c.set_socket(Some(sock.to_path_buf()));
    assert!(c.connect(CMD));
    c.replace_token(Some(token.to_string()));
    (host, Mutex::new(c))
}

#[test]
fn vg_write_requests_match_lvm_captures() {
    // capture e, vgcreate: hello, then set_vg_info (19) and vg_update (21)
    let script = capture_pairs("e-vgcreate-lvcreate.txt", &[1, 19, 21]);
    let (_d, sock, peer) = scripted_peer(script.clone());
    let (host, cl) = scripted_client(&sock, "vgcreate", "filter:3108758531");
    let text = String::from_utf8_lossy(&script[2].0).into_owned();
    let body = &text
        [text.find("metadata  {").unwrap() + "metadata  ".len()..text.find("\ntoken").unwrap()];
    let mut log = Log::new();
    let vg = NativeVg::from_text(CMD, format!("vg0 {}", body).as_bytes(), &mut log).unwrap();
    let vg = host.objects.add_vg(vg);
    assert!(cvg::vg_update_pending(&cl, &*host, vg));
    assert!(cvg::vg_update_finish(&cl, &*host, vg));
    drop(cl);
    let got = peer.join().unwrap();
    assert_eq!(got.len(), 3);
    for (g, (want, _)) in got.iter().zip(script.iter()) {
        assert_eq!(norm(g), norm(want));
    }
}

#[test]
fn vg_lookup_request_matches_lvm_capture() {
    // capture j, vgextend: hello, vg_lookup by uuid and name (11)
    let script = capture_pairs("j-vg-changes.txt", &[1, 11]);
    let (_d, sock, peer) = scripted_peer(script.clone());
    let (host, cl) = scripted_client(&sock, "vgextend", "filter:3836196111");
    let id: [u8; 32] = *b"AdzeMt0pVNGwbdTL6q7BZzvyxtOpKcmA";
    // the recorded PVs' devices do not exist here: LVM's warning for each, VG returned
    let vg = cvg::vg_lookup(&cl, &*host, CMD, Some("vg1"), Some(&id)).unwrap();
    assert_eq!(host.objects.vg(vg).unwrap().seqno, 2);
    assert!(host.objects.vg(vg).unwrap().pvs.iter().all(|p| p.missing));
    drop(cl);
    let got = peer.join().unwrap();
    assert_eq!(got.len(), 2);
    for (g, (want, _)) in got.iter().zip(script.iter()) {
        assert_eq!(norm(g), norm(want));
    }
}
