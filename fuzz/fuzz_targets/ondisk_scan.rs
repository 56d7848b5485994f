//! The on-disk reader (label, pv_header, mda headers, metadata text and summary) on an
//! arbitrary device image: never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut log = lvmetad::ondisk::Log::new();
    let dev: Vec<u8> = data.to_vec();
    if let Ok(lvmetad::ondisk::PvScan::Pv(pv)) =
        lvmetad::ondisk::scan_pv(&dev, "/dev/fuzz", &mut log)
    {
        let _ = pv.pvmeta();
        let _ = pv.best_metadata();
    }
});
