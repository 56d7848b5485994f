//! Daemon logging to stderr, selected with `-l` like libdaemon's
//! (`all,fatal,error,warn,info,wire,debug`), with its `E: `/`W: `/`I: ` prefixes.

use crate::config::Node;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Fatal = 0,
    Error = 1,
    Warn = 2,
    Info = 3,
    Wire = 4,
    Debug = 5,
}

/// Which levels go to stderr; with the syslog outlet on, fatal and error messages also go
/// to syslog (src/daemon/syslog.rs).
#[derive(Clone, Copy, Debug, Default)]
pub struct Logger {
    mask: u8,
    syslog: bool,
}

impl Logger {
    pub fn quiet() -> Logger {
        Logger::default()
    }

    /// The same stderr selection, with fatal and error messages also sent to syslog.
    pub fn with_syslog(self) -> Logger {
        Logger {
            syslog: true,
            ..self
        }
    }

    /// Send a fatal or error message to syslog only (when the outlet is on).
    pub fn to_syslog(&self, l: Level, msg: &str) {
        if self.syslog && matches!(l, Level::Fatal | Level::Error) {
            super::syslog::send(l, msg);
        }
    }

    /// Parse a `-l` list. Unknown names are an error, as in libdaemon.
    pub fn parse(spec: &str) -> Result<Logger, String> {
        let mut mask = 0u8;
        for w in spec.split(',').filter(|w| !w.is_empty()) {
            mask |= match w {
                "all" => 0x3f,
                "fatal" => 1 << Level::Fatal as u8,
                "error" => 1 << Level::Error as u8,
                "warn" => 1 << Level::Warn as u8,
                "info" => 1 << Level::Info as u8,
                "wire" => 1 << Level::Wire as u8,
                "debug" => 1 << Level::Debug as u8,
                _ => return Err(w.to_string()),
            };
        }
        Ok(Logger {
            mask,
            syslog: false,
        })
    }

    pub fn enabled(&self, l: Level) -> bool {
        self.mask & (1 << l as u8) != 0
    }

    pub fn log(&self, l: Level, msg: &str) {
        self.to_syslog(l, msg);
        if !self.enabled(l) {
            return;
        }
        let prefix = match l {
            Level::Info => "I: ",
            Level::Warn => "W: ",
            Level::Error | Level::Fatal => "E: ",
            _ => "",
        };
        eprintln!("{}{}", prefix, msg);
    }

    pub fn error(&self, m: &str) {
        self.log(Level::Error, m)
    }
    pub fn warn(&self, m: &str) {
        self.log(Level::Warn, m)
    }
    pub fn info(&self, m: &str) {
        self.log(Level::Info, m)
    }
    pub fn debug(&self, m: &str) {
        self.log(Level::Debug, m)
    }

    /// Log a parsed request, one line per written line.
    pub fn wire_tree(&self, prefix: &str, t: &[Node]) {
        if self.enabled(Level::Wire) {
            self.wire_text(prefix, &crate::config::to_bytes(t));
        }
    }

    pub fn wire_text(&self, prefix: &str, text: &[u8]) {
        if !self.enabled(Level::Wire) {
            return;
        }
        for line in String::from_utf8_lossy(text).lines() {
            eprintln!("{}{}", prefix, line);
        }
    }
}
