//! The man pages (man/) and the tools' own help agree: every option the help shows is in
//! the page's SYNOPSIS and described under OPTIONS, and the SYNOPSIS shows nothing else;
//! lvmetad's log levels and lvmetactl's commands are the same lists.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

fn page(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("man").join(name)).unwrap()
}

/// The text of a roff section (`.SH NAME` up to the next `.SH`), escapes resolved.
fn section(roff: &str, name: &str) -> String {
    let mut out = String::new();
    let mut on = false;
    for l in roff.lines() {
        if let Some(h) = l.strip_prefix(".SH ") {
            on = h.trim() == name;
            continue;
        }
        if on {
            out.push_str(l);
            out.push('\n');
        }
    }
    assert!(!out.is_empty(), "no section {}", name);
    out.replace("\\-", "-")
        .replace("\\fB", "")
        .replace("\\fI", "")
        .replace("\\fR", "")
        .replace("\\fP", "")
}

/// Words that are options: `-x` or `--word`.
fn options(text: &str) -> BTreeSet<String> {
    text.split(|c: char| c.is_whitespace() || "[]|,()\"".contains(c))
        .map(|w| w.trim_end_matches([':', '.']))
        .filter(|w| {
            let b = w.as_bytes();
            (b.len() >= 2 && b[0] == b'-' && b[1].is_ascii_alphabetic())
                || (b.len() >= 3 && b.starts_with(b"--") && b[2].is_ascii_alphabetic())
        })
        .map(String::from)
        .collect()
}

fn run(bin: &str, args: &[&str]) -> (Option<i32>, String) {
    let o = Command::new(bin).args(args).output().unwrap();
    let mut s = String::from_utf8_lossy(&o.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&o.stderr));
    (o.status.code(), s)
}

fn check(bin: &str, help_args: &[&str], page_name: &str, expect_code: i32) -> String {
    let (code, help) = run(bin, help_args);
    assert_eq!(code, Some(expect_code), "{}", help);
    let roff = page(page_name);
    let synopsis = options(&section(&roff, "SYNOPSIS"));
    let described = options(&section(&roff, "OPTIONS"));
    let shown = options(&help);
    assert!(!shown.is_empty());
    assert_eq!(shown, synopsis, "{}: help vs SYNOPSIS", page_name);
    for o in &shown {
        assert!(
            described.contains(o),
            "{}: {} not under OPTIONS",
            page_name,
            o
        );
    }
    help
}

#[test]
fn lvmetad_page() {
    let help = check(env!("CARGO_BIN_EXE_lvmetad"), &["-h"], "lvmetad.8", 0);
    let levels = help
        .split_once("levels (")
        .and_then(|(_, r)| r.split_once(')'))
        .unwrap()
        .0;
    let opts = section(&page("lvmetad.8"), "OPTIONS");
    for l in levels.split(',') {
        let listed = opts.lines().any(|line| {
            let mut w = line.split_whitespace();
            w.next().is_some_and(|m| m.starts_with(".B")) && w.next() == Some(l)
        });
        assert!(listed, "level {} not in the page", l);
    }
    // the page's defaults are the binary's
    assert!(opts.contains(lvmetad::daemon::server::DEFAULT_SOCKET));
    assert!(opts.contains(lvmetad::daemon::server::DEFAULT_PIDFILE));
    let exit = section(&page("lvmetad.8"), "EXIT STATUS");
    assert!(exit.contains(&format!(
        "{} when another daemon holds the pidfile",
        lvmetad::daemon::server::EXIT_ALREADYRUNNING
    )));
}

#[test]
fn lvmetad_pvscan_page() {
    check(
        env!("CARGO_BIN_EXE_lvmetad-pvscan"),
        &["--help"],
        "lvmetad-pvscan.8",
        3,
    );
}

#[test]
fn lvmetad_audit_page() {
    check(
        env!("CARGO_BIN_EXE_lvmetad-audit"),
        &["--help"],
        "lvmetad-audit.8",
        2,
    );
}

#[test]
fn lvmetad_replay_page() {
    check(
        env!("CARGO_BIN_EXE_lvmetad-replay"),
        &["--help"],
        "lvmetad-replay.1",
        0,
    );
}

#[test]
fn lvmetactl_page() {
    // without a command lvmetactl prints its commands and exits 255
    let (code, usage) = run(env!("CARGO_BIN_EXE_lvmetactl"), &[]);
    assert_eq!(code, Some(255));
    let from_help: BTreeSet<String> = usage
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap().to_string())
        .collect();
    let cmds = section(&page("lvmetactl.8"), "COMMANDS");
    let mut from_page = BTreeSet::new();
    let mut lines = cmds.lines();
    while let Some(l) = lines.next() {
        if l == ".TP" {
            let item = lines.next().unwrap();
            from_page.insert(item.split_whitespace().nth(1).unwrap().to_string());
        }
    }
    assert_eq!(from_help.len(), 11);
    assert_eq!(from_help, from_page);
}
