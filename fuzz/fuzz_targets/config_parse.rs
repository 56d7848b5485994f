//! The dm_config parser and writer on arbitrary bytes: never a panic; whatever parses
//! can be written, and what is written parses again.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = lvmetad::config::parse(data) {
        let out = lvmetad::config::to_bytes(&t);
        let _ = lvmetad::config::parse(&out);
        let _ = lvmetad::config::compare_config(&t, &t);
    }
});
