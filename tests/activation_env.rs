//! The handover removes SD_ACTIVATION, LISTEN_PID and LISTEN_FDS from the environment
//! whether or not it takes fd 3 (as libdaemon does), so that nothing the daemon might run
//! inherits them. One test in its own process: it changes this process's environment.

use lvmetad::daemon::activation::systemd_handover;
use std::path::Path;

fn set(act: &str, pid: &str, fds: &str) {
    std::env::set_var("SD_ACTIVATION", act);
    std::env::set_var("LISTEN_PID", pid);
    std::env::set_var("LISTEN_FDS", fds);
}

fn assert_unset(what: &str) {
    for v in ["SD_ACTIVATION", "LISTEN_PID", "LISTEN_FDS"] {
        assert_eq!(std::env::var_os(v), None, "{}: {} still set", what, v);
    }
}

#[test]
fn variables_are_removed_whatever_the_outcome() {
    let me = std::process::id().to_string();
    // a path no socket of this process is bound to: fd 3, whatever it is, is not ours
    let path = Path::new("/nonexistent/lvmetad-rs-activation-env.socket");
    let cases = [
        ("SD_ACTIVATION=0", "0", me.as_str(), "1"),
        ("LISTEN_PID of pid 1", "1", "1", "1"),
        ("LISTEN_FDS=2", "1", me.as_str(), "2"),
        (
            "all variables right, fd 3 not our socket",
            "1",
            me.as_str(),
            "1",
        ),
    ];
    for (what, act, pid, fds) in cases {
        set(act, pid, fds);
        assert!(systemd_handover(path).is_none(), "{}", what);
        assert_unset(what);
    }
    // other variables are left alone
    std::env::set_var("LISTEN_FDNAMES", "x");
    set("1", &me, "1");
    assert!(systemd_handover(path).is_none());
    assert_unset("with LISTEN_FDNAMES");
    assert_eq!(std::env::var("LISTEN_FDNAMES").as_deref(), Ok("x"));
}
