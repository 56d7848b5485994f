//! The recorded-transcript reader on arbitrary bytes: never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = lvmetad::protocol::capture::parse(data);
});
