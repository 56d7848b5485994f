//! The native host: the library's own adapters of the client's host ports
//! ([`crate::client::port`]) for programs that have no LVM around them. [`native`]
//! implements `Host` over our lvm.conf reader; [`native_vg`] implements `VgHost` over our
//! device scan, the on-disk reader and an in-library PV cache. LVM's own adapter is the C
//! host table in `crate::ffi::host`. Design: docs/host-interface.md.

pub mod native;
pub mod native_vg;
