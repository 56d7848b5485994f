//! The daemon's request handler on a sequence of arbitrary messages (split at the
//! framing terminator), all against one daemon state: never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lvmetad::daemon::log::Logger;
use lvmetad::daemon::Daemon;

fuzz_target!(|data: &[u8]| {
    let d = Daemon::new(Logger::quiet());
    for msg in data.split(|&c| c == 0).take(64) {
        let _ = d.handle(msg);
    }
});
