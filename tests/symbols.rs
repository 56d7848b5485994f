//! The exported symbols: `nm -D` of the shared library built with these tests lists
//! exactly `lvmetad::ffi::EXPORTED_SYMBOLS`, the one list of the C ABI.

use std::collections::BTreeSet;
use std::process::Command;

#[test]
fn nm_lists_exactly_the_exported_symbols() {
    // target/<profile>/deps/symbols-HASH -> target/<profile>/liblvmetad.so
    let exe = std::env::current_exe().unwrap();
    let lib = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("liblvmetad.so");
    assert!(
        lib.exists(),
        "{} not built: `make rust-test` builds it (cargo build --lib) before the tests",
        lib.display()
    );
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&lib)
        .output()
        .expect("nm (binutils) is needed");
    assert!(out.status.success());
    let exported: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // "ADDR T name": functions and data of the library itself
            (f.len() == 3 && f[1] != "A").then(|| f[2].to_string())
        })
        .collect();
    let listed: BTreeSet<String> = lvmetad::ffi::EXPORTED_SYMBOLS
        .iter()
        .map(|s| s.name.to_string())
        .collect();
    assert_eq!(
        listed.len(),
        lvmetad::ffi::EXPORTED_SYMBOLS.len(),
        "a symbol is listed twice"
    );
    assert_eq!(exported, listed);
    let lvm = lvmetad::ffi::EXPORTED_SYMBOLS
        .iter()
        .filter(|s| s.origin == lvmetad::ffi::Origin::Lvm)
        .count();
    assert_eq!(lvm, 31, "LVM2 2.02.188's lvmetad.h has 31 functions");
}
