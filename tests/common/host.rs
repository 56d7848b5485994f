//! A host for in-process clients: `global/lvmetad_update_wait_time`, a command name, a
//! clock that advances when the client sleeps (so LVM's waits cost no time), a count of
//! filter refreshes, and every message logged.

use lvmetad::client::port::{CmdId, Host, Level};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
pub struct TestHost {
    pub logs: Mutex<Vec<(Level, String)>>,
    pub clock: AtomicU64,
    pub wait_time: i64,
    pub refreshes: AtomicUsize,
    pub name: String,
}

impl TestHost {
    pub fn new(name: &str, wait_time: i64) -> Arc<TestHost> {
        Arc::new(TestHost {
            clock: AtomicU64::new(1000),
            wait_time,
            name: name.into(),
            ..Default::default()
        })
    }
    /// Messages a user would see (not verbose/debug).
    pub fn visible(&self) -> Vec<String> {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .filter(|(l, _)| *l <= Level::PrintUnlessSilent)
            .map(|(_, m)| m.clone())
            .collect()
    }
    /// Every message, debug included.
    pub fn all(&self) -> Vec<String> {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .map(|(_, m)| m.clone())
            .collect()
    }
    pub fn clear(&self) {
        self.logs.lock().unwrap().clear();
    }
}

impl Host for TestHost {
    fn config_int(&self, _cmd: CmdId, path: &str, default: i64) -> i64 {
        if path == "global/lvmetad_update_wait_time" {
            self.wait_time
        } else {
            default
        }
    }
    fn cmd_name(&self) -> String {
        self.name.clone()
    }
    fn log(&self, level: Level, msg: &str) {
        self.logs.lock().unwrap().push((level, msg.to_string()));
    }
    fn refresh_filters(&self, _cmd: CmdId) -> bool {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        true
    }
    fn random(&self, _cmd: CmdId, _max: u32) -> u32 {
        0
    }
    fn sleep(&self, d: Duration) {
        self.clock.fetch_add(d.as_secs(), Ordering::SeqCst);
    }
    fn monotonic_seconds(&self) -> u64 {
        self.clock.load(Ordering::SeqCst)
    }
}

/// Run `f` over the one scan path as `lvmetad-pvscan` sets it up: a native host reads
/// `devs` and prints through `log` (the client's host too), `f` gets the shared client
/// and that host. Returns `f`'s result and the client.
pub fn native_scan<R>(
    client: lvmetad::client::Client,
    log: Arc<dyn Host>,
    cmd: CmdId,
    devs: Box<dyn lvmetad::scan::pvscan::DeviceSource + Send>,
    f: impl FnOnce(&lvmetad::client::vg::Shared, &lvmetad::host::native::NativeHost) -> R,
) -> (R, lvmetad::client::Client) {
    let native =
        lvmetad::host::native::NativeHost::default().with_sink(Box::new(move |l, m| log.log(l, m)));
    native.set_devices(cmd, devs);
    let cl = Mutex::new(client);
    let r = f(&cl, &native);
    (r, cl.into_inner().unwrap_or_else(|e| e.into_inner()))
}

/// `pvscan --cache ARGS` in this process (see [`native_scan`]): the exit status.
pub fn pvscan_cache_in_process(
    client: lvmetad::client::Client,
    log: Arc<dyn Host>,
    cmd: CmdId,
    devs: Box<dyn lvmetad::scan::pvscan::DeviceSource + Send>,
    args: &lvmetad::scan::pvscan::CacheArgs,
) -> (i32, lvmetad::client::Client) {
    native_scan(client, log, cmd, devs, |cl, h| {
        lvmetad::scan::pvscan::pvscan_cache(cl, h, cmd, args)
    })
}

/// `lvmetad_pvscan_all_devs` in this process (see [`native_scan`]).
pub fn pvscan_all_devs_in_process(
    client: lvmetad::client::Client,
    log: Arc<dyn Host>,
    cmd: CmdId,
    devs: Box<dyn lvmetad::scan::pvscan::DeviceSource + Send>,
    do_wait: bool,
) -> (bool, lvmetad::client::Client) {
    native_scan(client, log, cmd, devs, |cl, h| {
        lvmetad::client::scan::pvscan_all_devs(cl, h, cmd, do_wait, 0)
    })
}
