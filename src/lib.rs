//! lvmetad-rs: LVM2 2.02.188's lvmetad client library and daemon, in safe Rust.
//!
//! Layers: [`config`] (dm_config text format), [`wire`] (libdaemon framing and
//! connections), [`protocol`] (lvmetad message shapes), [`daemon`] (the cache daemon).

pub mod client;
pub mod config;
pub mod daemon;
pub mod ffi;
pub mod host;
pub mod ondisk;
pub mod protocol;
pub mod scan;
pub mod wire;
