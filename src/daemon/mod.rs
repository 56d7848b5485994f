//! A protocol-compatible lvmetad: LVM2 2.02.188's daemon behaviour in safe Rust.

pub mod activation;
pub mod cache;
pub mod handler;
pub mod hash;
pub mod limits;
pub mod log;
pub mod server;
pub mod syslog;

pub use handler::Daemon;
