//! Device scanning for lvmetad: device filters.

pub mod devices;
pub mod filter_regex;
pub mod filters;
pub mod lock;
pub mod lvmconf;
pub mod probe;
pub mod pvscan;
pub mod regex;
pub mod source;
