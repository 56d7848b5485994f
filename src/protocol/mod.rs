//! lvmetad message shapes shared by the client and the daemon.

/// The token a client sends while it repopulates the cache.
pub const TOKEN_UPDATE_IN_PROGRESS: &str = "update in progress";
/// Protocol name and version checked in the `hello` handshake.
pub const PROTOCOL: &str = "lvmetad";
pub const PROTOCOL_VERSION: i64 = 1;

pub mod capture;
pub mod request;

pub use request::{Lock, Request, REQUESTS};
