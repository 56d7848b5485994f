//! LVM configuration for the native host: `lvm.conf` from `LVM_SYSTEM_DIR` (default
//! `/etc/lvm`), `--config` style override strings, and LVM 2.02.188's built-in defaults
//! for the settings the client reads.
//!
//! LVM parses configuration with duplicate checking: sections of the same name merge, and
//! a value given twice takes the later assignment (LVM warns "Ignoring duplicate config
//! value"). Lookups go through the override trees first, then the file, then defaults.

use crate::config::{parse, Node, ParseError, Value};
use std::fmt;
use std::path::{Path, PathBuf};

/// Default `LVM_SYSTEM_DIR`.
pub const DEFAULT_SYSTEM_DIR: &str = "/etc/lvm";

/// Why the configuration could not be loaded.
#[derive(Debug)]
pub enum ConfigError {
    Read(PathBuf, std::io::Error),
    Parse(String, ParseError),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Read(p, e) => {
                write!(f, "Failed to load config file {}: {}", p.display(), e)
            }
            ConfigError::Parse(src, e) => write!(f, "{}: {}", src, e),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Merge duplicate siblings the way libdm's duplicate-checking parser does.
pub fn merge_duplicates(nodes: Vec<Node>) -> Vec<Node> {
    let mut out: Vec<Node> = Vec::with_capacity(nodes.len());
    for n in nodes {
        if let Some(prev) = out.iter_mut().find(|p| p.key == n.key) {
            match (prev.values.is_some(), n.values.is_some()) {
                (_, true) => {
                    prev.values = n.values;
                }
                (false, false) => {
                    let mut kids = std::mem::take(&mut prev.children);
                    kids.extend(n.children);
                    prev.children = kids;
                }
                (true, false) => {
                    // a section under a name that holds a value: libdm adds children to it
                    prev.children.extend(n.children);
                }
            }
        } else {
            out.push(n);
        }
    }
    for n in out.iter_mut() {
        if !n.children.is_empty() {
            n.children = merge_duplicates(n.children.take()).into();
        }
    }
    out
}

/// A configuration cascade.
#[derive(Clone, Debug, Default)]
pub struct LvmConfig {
    /// Trees searched in order: overrides first, then lvm.conf.
    trees: Vec<Vec<Node>>,
    /// The lvm.conf that was read, if any.
    pub file: Option<PathBuf>,
}

impl LvmConfig {
    /// Only built-in defaults.
    pub fn empty() -> LvmConfig {
        LvmConfig::default()
    }

    /// Load `<system_dir>/lvm.conf` (a missing file is not an error: LVM then runs on
    /// its defaults) and apply `overrides` (each a `--config` string).
    pub fn load(system_dir: Option<&Path>, overrides: &[&str]) -> Result<LvmConfig, ConfigError> {
        let mut cfg = LvmConfig::default();
        for o in overrides {
            if o.trim().is_empty() {
                continue;
            }
            let t = parse(o.as_bytes()).map_err(|e| ConfigError::Parse("--config".into(), e))?;
            cfg.trees.push(merge_duplicates(t));
        }
        let dir = match system_dir {
            Some(d) => d.to_path_buf(),
            None => std::env::var_os("LVM_SYSTEM_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_SYSTEM_DIR)),
        };
        let file = dir.join("lvm.conf");
        match std::fs::read(&file) {
            Ok(data) => {
                // An empty (or comment-only) file is a valid, empty configuration.
                let t = match parse(&data) {
                    Ok(t) => t,
                    Err(e) if is_blank(&data) => {
                        let _ = e;
                        Vec::new()
                    }
                    Err(e) => return Err(ConfigError::Parse(file.display().to_string(), e)),
                };
                cfg.trees.push(merge_duplicates(t));
                cfg.file = Some(file);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(ConfigError::Read(file, e)),
        }
        Ok(cfg)
    }

    /// Add an override tree in front of the others (`--config`).
    pub fn push_override(&mut self, text: &str) -> Result<(), ConfigError> {
        let t = parse(text.as_bytes()).map_err(|e| ConfigError::Parse("--config".into(), e))?;
        self.trees.insert(0, merge_duplicates(t));
        Ok(())
    }

    /// The first node for `path` in the cascade.
    pub fn find(&self, path: &str) -> Option<&Node> {
        self.trees.iter().find_map(|t| crate::config::find(t, path))
    }

    /// `find_config_tree_int`: INT values only, else the default.
    pub fn int(&self, path: &str) -> Option<i64> {
        match self.find(path)?.first_value()? {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// `find_config_tree_bool`: an INT is true when non-zero; strings y/yes/on/true and
    /// n/no/off/false (any case) are accepted.
    pub fn bool(&self, path: &str) -> Option<bool> {
        match self.find(path)?.first_value()? {
            Value::Int(i) => Some(*i != 0),
            Value::Float(f) => Some(*f != 0.0),
            Value::Str(s) => {
                let s = String::from_utf8_lossy(s).to_ascii_lowercase();
                match s.as_str() {
                    "y" | "yes" | "on" | "true" => Some(true),
                    "n" | "no" | "off" | "false" => Some(false),
                    _ => None,
                }
            }
            Value::EmptyArray => None,
        }
    }

    /// The value list of an array setting, or its built-in default.
    pub fn array(&self, path: &str) -> Option<Vec<Value>> {
        if let Some(n) = self.find(path) {
            return n.values.clone().map(Vec::from);
        }
        default_array(path)
    }

    /// An integer setting with LVM 2.02.188's default for the settings we know.
    pub fn int_or_default(&self, path: &str) -> Option<i64> {
        self.int(path).or_else(|| default_int(path))
    }

    /// A boolean setting with LVM 2.02.188's default for the settings we know.
    pub fn bool_or_default(&self, path: &str) -> Option<bool> {
        self.bool(path)
            .or_else(|| default_int(path).map(|v| v != 0))
    }
}

fn is_blank(data: &[u8]) -> bool {
    let mut in_comment = false;
    for &c in data {
        match c {
            b'#' => in_comment = true,
            b'\n' => in_comment = false,
            _ if in_comment || c.is_ascii_whitespace() => {}
            _ => return false,
        }
    }
    true
}

/// Built-in defaults of the integer/boolean settings the client reads (LVM2 2.02.188
/// built with `--enable-lvmetad`, as `lvmconfig --type default` shows them).
pub fn default_int(path: &str) -> Option<i64> {
    Some(match path.trim_start_matches('/') {
        "global/use_lvmetad" => 1,
        "global/lvmetad_update_wait_time" => 10,
        "global/locking_type" => 1,
        "global/use_lvmlockd" => 0,
        "devices/obtain_device_list_from_udev" => 1,
        "devices/multipath_component_detection" => 1,
        _ => return None,
    })
}

/// Built-in default arrays.
pub fn default_array(path: &str) -> Option<Vec<Value>> {
    match path.trim_start_matches('/') {
        "devices/global_filter" => Some(vec![Value::str("a|.*/|")]),
        "devices/filter" => Some(vec![Value::str("a|.*/|")]),
        "devices/scan" => Some(vec![Value::str("/dev")]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_merge_like_libdm() {
        let t = merge_duplicates(
            parse(b"global { a = 1 }\nglobal { b = 2 a = 3 }\ndevices/x = 4\ndevices { y = 5 }")
                .unwrap(),
        );
        assert_eq!(t.len(), 2);
        assert_eq!(crate::config::find_int(&t, "global/a"), Some(3));
        assert_eq!(crate::config::find_int(&t, "global/b"), Some(2));
        assert_eq!(crate::config::find_int(&t, "devices/x"), Some(4));
        assert_eq!(crate::config::find_int(&t, "devices/y"), Some(5));
    }

    #[test]
    fn cascade_and_defaults() {
        let dir = std::env::temp_dir().join(format!("lvmconf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("lvm.conf"),
            "global {\n\tuse_lvmetad = 0\n\tlvmetad_update_wait_time = 3\n}\ndevices { global_filter = [ \"a|^/dev/loop4[0-3]$|\", \"r|.*|\" ] }\n",
        )
        .unwrap();
        let c = LvmConfig::load(Some(&dir), &["global/use_lvmetad=1"]).unwrap();
        assert_eq!(c.bool_or_default("global/use_lvmetad"), Some(true));
        assert_eq!(c.int_or_default("global/lvmetad_update_wait_time"), Some(3));
        assert_eq!(c.int_or_default("global/locking_type"), Some(1));
        assert_eq!(c.array("devices/global_filter").unwrap().len(), 2);
        let c = LvmConfig::load(Some(&dir.join("none")), &[]).unwrap();
        assert_eq!(
            c.array("devices/global_filter"),
            Some(vec![Value::str("a|.*/|")])
        );
        assert_eq!(c.bool_or_default("global/use_lvmetad"), Some(true));
        let mut c = LvmConfig::empty();
        c.push_override("global { use_lvmetad = \"no\" }").unwrap();
        assert_eq!(c.bool("global/use_lvmetad"), Some(false));
        assert!(LvmConfig::load(Some(&dir), &["global {"]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
