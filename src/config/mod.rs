//! LVM's dm_config text format: tree, parser, writer and the printf-style builder.

pub mod builder;
pub mod bytes;
pub mod deep;
pub mod parse;
pub mod tree;
pub mod write;

pub use bytes::{Bytes, Children, Values};
pub use parse::{parse, parse_request, parse_str, ParseError};
pub use tree::{compare_config, find, find_int, find_str, find_str_allow_empty, Node, Value};
pub use write::{to_bytes, write_node, write_nodes};
