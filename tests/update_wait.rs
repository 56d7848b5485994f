//! Waiting for another command's cache update (src/client/wait.rs, docs/compat.md): the
//! client wakes when the update ends instead of sleeping out LVM's 1-2 s, with LVM's
//! messages at LVM's rate, and a command that lost the race to another command's full
//! update, begun after it saw the cache unpopulated, does not repeat it. Real daemon,
//! real images, a host on the real clock; waits are on conditions, never on time.

mod common;
use common::images::*;
use common::*;
use lvmetad::client::port::{CmdId, Host, Level};
use lvmetad::client::Client;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const IP: &str = "update in progress";

/// A host on the real clock that polls while it waits (as the native and C hosts do),
/// with `lvmetad_update_wait_time` = 60 and every message kept.
#[derive(Default)]
struct PollingHost {
    logs: Mutex<Vec<(Level, String)>>,
}

impl PollingHost {
    fn visible(&self) -> Vec<String> {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .filter(|(l, _)| *l <= Level::PrintUnlessSilent)
            .map(|(_, m)| m.clone())
            .collect()
    }
}

impl Host for PollingHost {
    fn config_int(&self, _cmd: CmdId, path: &str, default: i64) -> i64 {
        if path == "global/lvmetad_update_wait_time" {
            60
        } else {
            default
        }
    }
    fn cmd_name(&self) -> String {
        "pvscan".into()
    }
    fn log(&self, level: Level, msg: &str) {
        self.logs.lock().unwrap().push((level, msg.to_string()));
    }
    fn refresh_filters(&self, _cmd: CmdId) -> bool {
        true
    }
    fn random(&self, _cmd: CmdId, _max: u32) -> u32 {
        0
    }
    fn sleep_until(&self, d: Duration, ready: &mut dyn FnMut() -> bool) -> Duration {
        lvmetad::client::wait::poll_sleep(d, ready)
    }
}

fn client(host: &Arc<PollingHost>, socket: &Path) -> Client {
    let mut c = Client::new(host.clone() as Arc<dyn Host>);
    c.set_socket(Some(socket.to_path_buf()));
    c.set_token(Some(&image_filter()));
    assert!(c.connect(1));
    c
}

/// Another command's `token_update` (pid 4242): its reply's `response`.
fn other_token_update(socket: &Path, token: &str) -> String {
    let r = ask(
        socket,
        &format!(
            "request = \"token_update\"\ntoken = \"{}\"\nupdate_timeout = 60\npid = 4242\ncmd = \"pvscan\"\n",
            token
        ),
    );
    r.lines()
        .find_map(|l| l.strip_prefix("response = \""))
        .map(|v| v.trim_end_matches('"').to_string())
        .unwrap_or_default()
}

/// Wait (bounded, generously) until `host` has logged `msg`.
fn wait_for_message(host: &PollingHost, msg: &str) {
    let t0 = Instant::now();
    while !host.visible().iter().any(|m| m == msg) {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "never logged: {}",
            msg
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The full scan of `set` in another thread, by a client that first ran token_matches
/// (or not): its result and the client's messages, after `during` ran while it waited.
fn lost_race(
    set: &ImageSet,
    d: &DaemonProc,
    token_matches_first: bool,
    found_vgnames: lvmetad::client::port::vg::ListId,
    during: impl FnOnce(&PollingHost),
) -> (bool, Vec<String>) {
    let host = Arc::new(PollingHost::default());
    let mut c = client(&host, &d.socket);
    if token_matches_first {
        // the cache is not populated: this command must see it filled
        assert!(!c.token_matches(1));
    }
    // another command starts its full update
    assert_eq!(other_token_update(&d.socket, IP), "OK");
    let cfg = lvmetad::scan::lvmconf::LvmConfig::load(Some(&set.etc), &[]).unwrap();
    let devs = lvmetad::scan::source::SystemDevices::new(&cfg).unwrap();
    let h2 = host.clone();
    let t = std::thread::spawn(move || {
        let native = lvmetad::host::native::NativeHost::default()
            .with_sink(Box::new(move |l, m| h2.log(l, m)));
        native.set_devices(1, Box::new(devs));
        let cl = Mutex::new(c);
        lvmetad::client::scan::pvscan_all_devs(&cl, &native, 1, false, found_vgnames)
    });
    // it waits to start its own ...
    wait_for_message(
        &host,
        "lvmetad is being updated, retry for 60 more seconds.",
    );
    during(&host);
    let ok = t.join().unwrap();
    (ok, host.visible())
}

#[test]
fn a_command_that_lost_the_race_does_not_repeat_the_full_update() {
    let set = ImageSet::new(&SET, "");
    let d = DaemonProc::start();
    let (ok, msgs) = lost_race(&set, &d, true, 0, |_| {
        // ... the other command ends its update with the same filter (its scan found
        // nothing here, so the cache stays empty)
        assert_eq!(other_token_update(&d.socket, &image_token()), "OK");
    });
    assert!(ok);
    // LVM's one line of its first attempt, nothing else; nothing sent: no PV stored
    assert_eq!(
        msgs,
        vec!["lvmetad is being updated, retry for 60 more seconds."]
    );
    assert!(!dump(&d.socket).contains("pvmeta"), "{}", dump(&d.socket));
    assert!(global_info(&d.socket).contains(&format!("token = \"{}\"", image_token())));
}

#[test]
fn a_command_repeats_an_update_it_cannot_rely_on() {
    let set = ImageSet::new(&SET, "");
    let clean = clean_dump(&set);
    // it never saw the cache idle (no token_matches): the update may predate its devices
    let d = DaemonProc::start();
    let (ok, msgs) = lost_race(&set, &d, false, 0, |_| {
        assert_eq!(other_token_update(&d.socket, &image_token()), "OK");
    });
    assert!(ok);
    assert_eq!(
        msgs,
        vec!["lvmetad is being updated, retry for 60 more seconds."]
    );
    assert_eq!(dump(&d.socket), clean);
    // the other update ended with another filter: this command's scan is needed
    let d = DaemonProc::start();
    let (ok, _) = lost_race(&set, &d, true, 0, |_| {
        assert_eq!(other_token_update(&d.socket, "filter:1"), "OK");
    });
    assert!(ok);
    assert_eq!(dump(&d.socket), clean);
}

/// System devices whose full listing waits until the gate opens.
struct Gated {
    inner: lvmetad::scan::source::SystemDevices,
    gate: Arc<(Mutex<bool>, std::sync::Condvar)>,
}

impl lvmetad::scan::pvscan::DeviceSource for Gated {
    fn all(&mut self) -> Vec<lvmetad::scan::pvscan::ScanDevice> {
        let (m, cv) = &*self.gate;
        let mut open = m.lock().unwrap();
        while !*open {
            open = cv.wait(open).unwrap();
        }
        self.inner.all()
    }
    fn by_path(&mut self, path: &str) -> lvmetad::scan::pvscan::Lookup {
        self.inner.by_path(path)
    }
    fn by_devno(&mut self, devno: u64) -> lvmetad::scan::pvscan::Lookup {
        self.inner.by_devno(devno)
    }
}

/// A full scan of `set` by a native host on `client`, collecting complete VG names in
/// list 7 when `list`: its result and the list.
fn scan_collecting(
    client: Client,
    etc: &Path,
    gate: Option<Arc<(Mutex<bool>, std::sync::Condvar)>>,
    log: Arc<PollingHost>,
    list: bool,
) -> (bool, Vec<String>) {
    let cfg = lvmetad::scan::lvmconf::LvmConfig::load(Some(etc), &[]).unwrap();
    let inner = lvmetad::scan::source::SystemDevices::new(&cfg).unwrap();
    let native =
        lvmetad::host::native::NativeHost::default().with_sink(Box::new(move |l, m| log.log(l, m)));
    match gate {
        Some(gate) => native.set_devices(1, Box::new(Gated { inner, gate })),
        None => native.set_devices(1, Box::new(inner)),
    }
    let cl = Mutex::new(client);
    let id = if list { 7 } else { 0 };
    let ok = lvmetad::client::scan::pvscan_all_devs(&cl, &native, 1, false, id);
    let names = native.objects.list(7).into_iter().map(|(n, _)| n).collect();
    (ok, names)
}

#[test]
fn an_adopting_pvscan_gets_the_complete_vgs_its_own_scan_would_have_found() {
    let set = ImageSet::new(&SET, "");
    let clean = clean_dump(&set);
    // the names a scan of its own collects
    let d = DaemonProc::start();
    let host = Arc::new(PollingHost::default());
    let (ok, want) = scan_collecting(client(&host, &d.socket), &set.etc, None, host.clone(), true);
    assert!(ok);
    assert_eq!(want, vec!["vg1", "vg6", "vg5"]);
    // the race: L sees the cache unpopulated, W starts its full update (and is held
    // before it lists the devices), L waits to start its own, W finishes
    let d = DaemonProc::start();
    let lhost = Arc::new(PollingHost::default());
    let mut l = client(&lhost, &d.socket);
    assert!(!l.token_matches(1));
    let whost = Arc::new(PollingHost::default());
    let mut w = client(&whost, &d.socket);
    w.set_pid(4242);
    let gate = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
    let (etc_w, gate_w, wh) = (set.etc.clone(), gate.clone(), whost.clone());
    let winner = std::thread::spawn(move || scan_collecting(w, &etc_w, Some(gate_w), wh, false));
    let t0 = Instant::now();
    while !global_info(&d.socket).contains(&format!("token = \"{}\"", IP)) {
        assert!(t0.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(5));
    }
    let (etc_l, lh) = (set.etc.clone(), lhost.clone());
    let loser = std::thread::spawn(move || scan_collecting(l, &etc_l, None, lh, true));
    wait_for_message(
        &lhost,
        "lvmetad is being updated, retry for 60 more seconds.",
    );
    *gate.0.lock().unwrap() = true;
    gate.1.notify_all();
    assert_eq!(winner.join().unwrap(), (true, vec![]));
    let (ok, got) = loser.join().unwrap();
    assert!(ok);
    assert_eq!(got, want);
    // the loser sent no pv_found of its own: one scan's state
    assert_eq!(dump(&d.socket), clean);
    assert_eq!(
        lhost.visible(),
        vec!["lvmetad is being updated, retry for 60 more seconds."]
    );
}

#[test]
fn waiting_for_setup_keeps_lvms_message_rate_and_ends_with_the_update() {
    // token_matches while another command updates: LVM prints the "(setup)" line at
    // most every 10 s; polling adds none, and the wait ends when the update does
    let set = ImageSet::new(&SET, "");
    let d = DaemonProc::start();
    assert_eq!(other_token_update(&d.socket, IP), "OK");
    let host = Arc::new(PollingHost::default());
    let mut c = client(&host, &d.socket);
    let sock = d.socket.clone();
    let t = std::thread::spawn(move || {
        let r = c.token_matches(1);
        (r, c)
    });
    let pid = std::process::id();
    wait_for_message(
        &host,
        &format!(
            "pvscan[{}] WARNING: lvmetad is being updated, retrying (setup) for 60 more seconds.",
            pid
        ),
    );
    assert_eq!(other_token_update(&sock, &image_token()), "OK");
    let (matched, c) = t.join().unwrap();
    assert!(matched && c.used());
    assert_eq!(
        host.visible(),
        vec![format!(
            "pvscan[{}] WARNING: lvmetad is being updated, retrying (setup) for 60 more seconds.",
            pid
        )]
    );
    assert!(host
        .logs
        .lock()
        .unwrap()
        .iter()
        .any(|(_, m)| m == "lvmetad initialized during wait."));
    drop(set);
}
