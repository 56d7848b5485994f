//! lvmetad-rs: LVM2 2.02.188's lvmetad client library and daemon, in safe Rust.
//!
//! The modules are layered; each imports only lower layers (docs/architecture.md,
//! checked by `tests/layering.rs`). Bottom up:
//!
//! - [`config`]: LVM's dm_config text format (tree, parser, byte-exact writer, builder).
//! - [`wire`]: libdaemon's framing and connections over UNIX stream sockets.
//! - [`protocol`]: lvmetad's message shapes and recorded transcripts.
//! - [`client`]: the lvmetad client of LVM's `lvmetad.c` (state, token, waits, disabled
//!   state, requests and replies) and its host ports ([`client::port`]).
//! - [`daemon`]: the lvmetad daemon (cache, request handling, server).
//! - [`ondisk`]: the on-disk PV reader (labels, metadata areas, metadata text).
//! - [`scan`]: lvm.conf, device enumeration, filters, and the pvscan operations.
//! - [`host`]: the native host, the library's own adapters of the host ports.
//! - [`audit`]: `lvmetad-audit`, the devices compared with lvmetad's cache, and its repair.
//! - [`ffi`]: the C ABI of `lvmetad.h` and its extensions.

pub mod audit;
pub mod client;
pub mod config;
pub mod daemon;
pub mod ffi;
pub mod host;
pub mod ondisk;
pub mod protocol;
pub mod scan;
pub mod wire;
