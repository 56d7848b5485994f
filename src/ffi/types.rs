//! C types that cross the ABI. LVM's own structures are opaque; the three whose layout
//! is fixed by libdevmapper/LVM public headers are defined here layout-compatibly (the
//! header defines them under `#ifndef LIB_DEVICE_MAPPER_H`, see cbindgen.toml).
#![allow(non_camel_case_types)]

use std::os::raw::c_char;

/// LVM's command context (opaque; LVM's own, or one made by `lvmetad_cmd_create`).
#[repr(C)]
pub struct cmd_context {
    _private: [u8; 0],
}

/// `dm_config_value_type_t`
pub const DM_CFG_INT: i32 = 0;
pub const DM_CFG_FLOAT: i32 = 1;
pub const DM_CFG_STRING: i32 = 2;
pub const DM_CFG_EMPTY_ARRAY: i32 = 3;

/// The value union of `struct dm_config_value`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union dm_config_value_v {
    pub i: i64,
    pub f: f32,
    pub d: f64,
    pub str_: *const c_char,
}

/// libdevmapper's `struct dm_config_value` (a linked list of values).
#[repr(C)]
pub struct dm_config_value {
    pub type_: i32,
    pub v: dm_config_value_v,
    pub next: *mut dm_config_value,
    pub format_flags: u32,
}

/// LVM's `struct id`: 32 raw bytes.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct id {
    pub uuid: [i8; 32],
}

/// libdevmapper's `struct dm_list`.
#[repr(C)]
pub struct dm_list {
    pub n: *mut dm_list,
    pub p: *mut dm_list,
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn layouts_match_libdevmapper_on_lp64() {
        assert_eq!(std::mem::size_of::<dm_config_value>(), 32);
        assert_eq!(std::mem::offset_of!(dm_config_value, v), 8);
        assert_eq!(std::mem::offset_of!(dm_config_value, next), 16);
        assert_eq!(std::mem::offset_of!(dm_config_value, format_flags), 24);
        assert_eq!(std::mem::size_of::<id>(), 32);
        assert_eq!(std::mem::size_of::<dm_list>(), 16);
    }
}
