//! `include/lvmetad-compat.h` against the Rust layout of the C host table: a C program
//! compiled from the header prints every field's offset and size and every struct's
//! size, and each must equal what `src/ffi/host.rs` declares.

use lvmetad::ffi::host::*;
use std::collections::BTreeMap;
use std::mem::{offset_of, size_of};
use std::path::Path;
use std::process::Command;

/// (C struct, field or "" for the whole struct) -> (offset, size)
type Layout = BTreeMap<(String, String), (usize, usize)>;

fn field_size<T, F>(_: fn(&T) -> &F) -> usize {
    size_of::<F>()
}

macro_rules! fields {
    ($out:ident, $c:literal, $t:ty, $base:expr, [$($f:ident),* $(,)?]) => {
        $(
            $out.insert(
                ($c.to_string(), stringify!($f).to_string()),
                ($base + offset_of!($t, $f), field_size::<$t, _>(|x| &x.$f)),
            );
        )*
    };
}

fn rust_layout() -> Layout {
    let mut l = Layout::new();
    let ops = "lvmetad_host_ops";
    l.insert(
        (ops.into(), String::new()),
        (0, size_of::<lvmetad_host_ops_v3>()),
    );
    fields!(l, "lvmetad_host_ops", lvmetad_host_ops_v3, 0, [size]);
    fields!(
        l,
        "lvmetad_host_ops",
        lvmetad_host_ops,
        offset_of!(lvmetad_host_ops_v3, v1),
        [
            abi_version,
            baton,
            config_int,
            cmd_name,
            log,
            refresh_filters,
            random,
            test_mode,
        ]
    );
    fields!(
        l,
        "lvmetad_host_ops",
        lvmetad_host_ops_v2,
        offset_of!(lvmetad_host_ops_v3, v2),
        [
            dev_info,
            dev_by_devt,
            dev_is_mpath_component,
            dev_label,
            dev_read_vg,
            label_scan_all,
            label_scan_invalidate,
            duplicate_check,
            silent_mode,
            set_silent,
            sigint_caught,
            fmt_by_name,
            fmt_name,
            pv_cache_info,
            lvmcache_add_pv,
            seed_infos,
            vg_info,
            vg_set_update_pending,
            vg_export,
            vg_fix_mda_ignored,
            vg_pvs,
            vg_import,
            vg_lockd,
            vg_rescan,
            vg_finish_lookup,
            vg_release,
            cmd_system_id,
            system_id_allowed,
            lvmlockd_use,
            str_list_add,
            vgnameid_add,
        ]
    );
    for (name, size) in [
        ("lvmetad_host_mda", size_of::<lvmetad_host_mda>()),
        ("lvmetad_host_area", size_of::<lvmetad_host_area>()),
        ("lvmetad_host_pv", size_of::<lvmetad_host_pv>()),
        ("lvmetad_host_vg", size_of::<lvmetad_host_vg>()),
        ("lvmetad_host_vg_pv", size_of::<lvmetad_host_vg_pv>()),
    ] {
        l.insert((name.into(), String::new()), (0, size));
    }
    fields!(
        l,
        "lvmetad_host_mda",
        lvmetad_host_mda,
        0,
        [ignore, start, size, free_sectors]
    );
    fields!(l, "lvmetad_host_area", lvmetad_host_area, 0, [offset, size]);
    fields!(
        l,
        "lvmetad_host_pv",
        lvmetad_host_pv,
        0,
        [
            pvid,
            vgid,
            vgname,
            dev,
            label_sector,
            dev_size,
            ext_version,
            ext_flags,
            n_mdas,
            n_das,
            n_bas,
            mdas,
            das,
            bas,
        ]
    );
    fields!(
        l,
        "lvmetad_host_vg",
        lvmetad_host_vg,
        0,
        [
            name,
            id,
            seqno,
            update_pending,
            precommit,
            system_id,
            lock_type,
            cmd,
        ]
    );
    fields!(
        l,
        "lvmetad_host_vg_pv",
        lvmetad_host_vg_pv,
        0,
        [id, dev, fmt, label_sector]
    );
    l
}

/// The same facts as the C compiler sees them through the header.
fn c_layout(rust: &Layout) -> Layout {
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("lvmetad-layout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut prog = String::from(
        "#include <stdio.h>\n#include <stddef.h>\n#include \"lvmetad-compat.h\"\nint main(void)\n{\n",
    );
    for (s, f) in rust.keys() {
        if f.is_empty() {
            prog += &format!("\tprintf(\"{s} - 0 %zu\\n\", sizeof(struct {s}));\n");
        } else {
            prog += &format!(
                "\tprintf(\"{s} {f} %zu %zu\\n\", offsetof(struct {s}, {f}), \
                 sizeof(((struct {s} *)0)->{f}));\n"
            );
        }
    }
    prog += "\treturn 0;\n}\n";
    let src = dir.join("layout.c");
    let exe = dir.join("layout");
    std::fs::write(&src, prog).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let st = Command::new(cc)
        .args(["-std=c99", "-Wall", "-Werror", "-I"])
        .arg(top.join("include"))
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .status()
        .expect("a C compiler (cc)");
    assert!(st.success(), "the header does not compile");
    let out = Command::new(&exe).output().unwrap();
    std::fs::remove_dir_all(&dir).ok();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let w: Vec<&str> = l.split(' ').collect();
            let f = if w[1] == "-" { "" } else { w[1] };
            (
                (w[0].to_string(), f.to_string()),
                (w[2].parse().unwrap(), w[3].parse().unwrap()),
            )
        })
        .collect()
}

#[test]
#[cfg_attr(miri, ignore)] // runs a compiler
fn compat_header_matches_the_rust_layout() {
    let rust = rust_layout();
    let c = c_layout(&rust);
    assert_eq!(c.len(), rust.len());
    for (k, v) in &rust {
        assert_eq!(
            c.get(k),
            Some(v),
            "{}.{}: C (offset, size) vs Rust",
            k.0,
            k.1
        );
    }
    // version 2's table is version 3's after its size: the C glue may hand either
    assert_eq!(
        offset_of!(lvmetad_host_ops_v3, v1),
        c[&("lvmetad_host_ops".to_string(), "abi_version".to_string())].0
    );
}
