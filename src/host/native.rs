//! The native host: the library's own configuration and logging, used when a C program
//! gets its command context from this library instead of from LVM.

use crate::client::port::{CmdId, Host, Level};
use crate::client::{Client, LVMETAD_SOCKET};
use crate::scan::lvmconf::LvmConfig;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A command context created by this library.
#[derive(Debug)]
pub struct NativeCmd {
    pub config: LvmConfig,
    /// Command name sent as `cmd` (LVM's `get_cmd_name()`).
    pub name: String,
    rand_seed: Mutex<u32>,
}

impl NativeCmd {
    pub fn new(config: LvmConfig, name: &str) -> NativeCmd {
        let seed = std::process::id()
            ^ (std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(1));
        NativeCmd {
            config,
            name: name.to_string(),
            rand_seed: Mutex::new(seed | 1),
        }
    }

    /// glibc `rand_r()`, as LVM's `lvm_even_rand` draws from `cmd->rand_seed`.
    pub fn rand_r(&self) -> u32 {
        let mut s = self.rand_seed.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = *s;
        next = next.wrapping_mul(1103515245).wrapping_add(12345);
        let mut result = (next / 65536) % 2048;
        next = next.wrapping_mul(1103515245).wrapping_add(12345);
        result <<= 10;
        result ^= (next / 65536) % 1024;
        next = next.wrapping_mul(1103515245).wrapping_add(12345);
        result <<= 10;
        result ^= (next / 65536) % 1024;
        *s = next;
        result
    }
}

/// Where native log lines go.
pub type LogSink = Box<dyn Fn(Level, &str) + Send + Sync>;

/// The native host.
pub struct NativeHost {
    cmds: Mutex<HashMap<CmdId, Arc<NativeCmd>>>,
    fallback: Arc<NativeCmd>,
    name: Mutex<String>,
    sink: Option<LogSink>,
    /// Verbosity like LVM's `-v` count: 0 prints errors, warnings and prints.
    verbosity: AtomicUsize,
    /// Devices, VGs and the PV cache of the native VG layer (`native_vg.rs`).
    pub objects: super::native_vg::NativeObjects,
}

impl Default for NativeHost {
    fn default() -> Self {
        NativeHost::new(LvmConfig::empty())
    }
}

impl NativeHost {
    /// A host whose unknown command contexts use `fallback` configuration.
    pub fn new(fallback: LvmConfig) -> NativeHost {
        NativeHost {
            cmds: Mutex::new(HashMap::new()),
            fallback: Arc::new(NativeCmd::new(fallback, "lvm")),
            name: Mutex::new(String::from("lvm")),
            sink: None,
            verbosity: AtomicUsize::new(0),
            objects: Default::default(),
        }
    }

    /// Send log lines to `sink` instead of stderr/stdout.
    pub fn with_sink(mut self, sink: LogSink) -> NativeHost {
        self.sink = Some(sink);
        self
    }

    /// Set the message level (LVM's `-v` count).
    pub fn set_verbosity(&self, v: usize) {
        self.verbosity.store(v, Ordering::Relaxed);
    }

    /// Forget a command context and everything the host holds for it.
    /// None when `id` is not registered; of concurrent callers, exactly one gets it.
    pub fn destroy(&self, id: CmdId) -> Option<Arc<NativeCmd>> {
        let cmd = self.unregister(id)?;
        self.objects.drop_cmd(id);
        Some(cmd)
    }

    /// Register a command context under `id`; its name becomes the command name.
    pub fn register(&self, id: CmdId, cmd: Arc<NativeCmd>) {
        *self.name.lock().unwrap_or_else(|e| e.into_inner()) = cmd.name.clone();
        self.cmds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, cmd);
    }

    /// Forget a command context.
    pub fn unregister(&self, id: CmdId) -> Option<Arc<NativeCmd>> {
        self.cmds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id)
    }

    /// Whether `id` is one of ours.
    pub fn is_registered(&self, id: CmdId) -> bool {
        self.cmds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(&id)
    }

    pub fn cmd(&self, id: CmdId) -> Arc<NativeCmd> {
        self.cmds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
            .unwrap_or_else(|| self.fallback.clone())
    }
}

/// LVM's lvmetad set-up for a command (`toolcontext.c:_init_lvmetad`): disconnect, the
/// socket from `LVM_LVMETAD_SOCKET` (else the default), the token from
/// `devices/global_filter`, then connect unless `global/use_lvmetad` is off or
/// `locking_type` is 3, with LVM's warnings (through the client's host). False only on an
/// internal error.
pub fn init_connections(c: &mut Client, config: &LvmConfig, cmd: CmdId) -> bool {
    let warn = |c: &Client, m: &str| c.host().log(Level::Warn, m);
    c.disconnect();
    c.set_socket(Some(
        std::env::var_os("LVM_LVMETAD_SOCKET")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::PathBuf::from(LVMETAD_SOCKET)),
    ));
    c.set_token(config.array("devices/global_filter").as_deref());
    let use_lvmetad = config.bool_or_default("global/use_lvmetad").unwrap_or(true);
    let locking_type = config.int_or_default("global/locking_type").unwrap_or(1);
    if locking_type == 3 && use_lvmetad {
        warn(
            c,
            "WARNING: Not using lvmetad because locking_type is 3 (clustered).",
        );
        return true;
    }
    if !use_lvmetad {
        if c.pidfile_present() {
            warn(
                c,
                "WARNING: Not using lvmetad because config setting use_lvmetad=0.",
            );
            warn(
                c,
                "WARNING: To avoid corruption, rescan devices to make changes visible (pvscan --cache).",
            );
        }
        return true;
    }
    if !c.connect(cmd) {
        warn(
            c,
            "WARNING: Failed to connect to lvmetad. Falling back to device scanning.",
        );
    } else if !c.used() {
        c.host()
            .log(Level::Error, "Internal error: lvmetad setup incorrect");
        return false;
    }
    true
}

/// Print a message the way LVM 2.02 prints it (two-space indent; errors and warnings on
/// stderr, prints on stdout; verbose and debug only with enough verbosity).
pub fn print_lvm_style(level: Level, msg: &str, v: usize) {
    match level {
        Level::Error | Level::Warn => eprintln!("  {}", msg),
        Level::Print | Level::PrintUnlessSilent => println!("  {}", msg),
        Level::Verbose if v >= 1 => eprintln!("    {}", msg),
        Level::VeryVerbose if v >= 2 => eprintln!("      {}", msg),
        Level::Debug if v >= 3 => eprintln!("#lvmetad.c {}", msg),
        _ => {}
    }
}

impl Host for NativeHost {
    fn config_int(&self, cmd: CmdId, path: &str, default: i64) -> i64 {
        self.cmd(cmd).config.int(path).unwrap_or(default)
    }
    fn cmd_name(&self) -> String {
        self.name.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
    fn log(&self, level: Level, msg: &str) {
        match &self.sink {
            Some(s) => s(level, msg),
            None => print_lvm_style(level, msg, self.verbosity.load(Ordering::Relaxed)),
        }
    }
    fn sleep_until(
        &self,
        d: std::time::Duration,
        ready: &mut dyn FnMut() -> bool,
    ) -> std::time::Duration {
        crate::client::wait::poll_sleep(d, ready)
    }
    fn refresh_filters(&self, _cmd: CmdId) -> bool {
        // The native filters are built from lvm.conf for each scan; nothing is cached.
        true
    }
    fn random(&self, cmd: CmdId, max: u32) -> u32 {
        if max == 0 {
            return 0;
        }
        // lvm_even_rand: reject the uneven tail
        let c = self.cmd(cmd);
        let limit = (i32::MAX as u32 / max) * max;
        loop {
            let r = c.rand_r();
            if r < limit {
                return r % max;
            }
        }
    }
}
