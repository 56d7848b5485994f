//! `pvscan --cache` over the real PV images, against what LVM2 2.02.188 sent and printed
//! when it scanned them (tests/data/images/<case>.lvmetad.txt): for every `pvscan`
//! step of every recording, the requests our scan sends, the replies of our daemon, the
//! messages printed and the exit status must equal the recording.
//!
//! Each image plays the loop device it was attached to in the recording (same name and
//! device number), read through the on-disk reader's seam. Devices smaller than LVM's
//! default `pv_min_size` (2048 KiB) are filtered as LVM does. Normalised: pids (`pid`,
//! `update_pid`, `pvscan[N]`), `daemon_pid`, non-zero `update_begin`.
//! Steps that run other LVM commands (`pvs`, `vgs`) are not ours; their requests are
//! replayed as recorded so the daemon state follows the recording.

mod common;
use common::*;
use lvmetad::client::port::{CmdId, Host, Level};
use lvmetad::client::Client;
use lvmetad::config::Value;
use lvmetad::scan::devices::scan_key;
use lvmetad::scan::pvscan::{CacheArgs, DeviceSource, Lookup, ScanDevice};
use lvmetad::wire::{read_message, write_all};
use std::io::Read;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

struct CapHost {
    out: Mutex<Vec<String>>,
}

impl Host for CapHost {
    fn config_int(&self, _c: CmdId, _p: &str, d: i64) -> i64 {
        d
    }
    fn cmd_name(&self) -> String {
        "pvscan".into()
    }
    fn log(&self, level: Level, msg: &str) {
        let stream = match level {
            Level::Error | Level::Warn => "stderr",
            Level::Print | Level::PrintUnlessSilent => "stdout",
            _ => return,
        };
        self.out
            .lock()
            .unwrap()
            .push(format!("{}|   {}", stream, msg));
    }
    fn refresh_filters(&self, _c: CmdId) -> bool {
        true
    }
    fn random(&self, _c: CmdId, _m: u32) -> u32 {
        0
    }
}

#[derive(Clone)]
struct Images {
    devs: Vec<(String, u64, Arc<Vec<u8>>)>,
}

const PV_MIN_SIZE: usize = 2048 * 1024;

impl Images {
    fn dev(&self, i: usize) -> ScanDevice {
        let (n, d, b) = &self.devs[i];
        ScanDevice {
            devno: *d,
            name: n.clone(),
            io: Box::new(b.as_ref().clone()),
        }
    }
    fn lookup(&self, i: Option<usize>) -> Lookup {
        match i {
            None => Lookup::NotFound,
            Some(i) if self.devs[i].2.len() < PV_MIN_SIZE => Lookup::Filtered(self.devs[i].1),
            Some(i) => Lookup::Found(self.dev(i)),
        }
    }
}

impl DeviceSource for Images {
    fn all(&mut self) -> Vec<ScanDevice> {
        let mut idx: Vec<usize> = (0..self.devs.len())
            .filter(|&i| self.devs[i].2.len() >= PV_MIN_SIZE)
            .collect();
        idx.sort_by_key(|&i| scan_key(self.devs[i].1));
        idx.into_iter().map(|i| self.dev(i)).collect()
    }
    fn by_path(&mut self, path: &str) -> Lookup {
        let i = self.devs.iter().position(|d| d.0 == path);
        self.lookup(i)
    }
    fn by_devno(&mut self, devno: u64) -> Lookup {
        let i = self.devs.iter().position(|d| d.1 == devno);
        self.lookup(i)
    }
}

fn decompress(path: &Path) -> Vec<u8> {
    let f = std::fs::File::open(path).unwrap();
    let mut d = ruzstd::decoding::StreamingDecoder::new(f).unwrap();
    let mut out = Vec::new();
    d.read_to_end(&mut out).unwrap();
    out
}

/// Messages seen by the proxy: (is_request, bytes).
type Traffic = Arc<Mutex<Vec<(bool, Vec<u8>)>>>;
/// Recording header: (image, device name, device number), global_filter, steps.
type Header = (Vec<(String, String, u64)>, Vec<String>, Vec<Step>);

/// A proxy recording every message between the client and the daemon.
fn proxy(listener: UnixListener, daemon: std::path::PathBuf, log: Traffic) {
    std::thread::spawn(move || {
        for c in listener.incoming() {
            let mut c = match c {
                Ok(c) => c,
                Err(_) => return,
            };
            let mut d = UnixStream::connect(&daemon).unwrap();
            let log = log.clone();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                while read_message(&mut c, &mut buf, usize::MAX).is_ok() {
                    let mut m = buf.clone();
                    m.extend_from_slice(b"\n##\n");
                    log.lock().unwrap().push((true, m.clone()));
                    write_all(&mut d, &m).unwrap();
                    read_message(&mut d, &mut buf, usize::MAX).unwrap();
                    let mut r = buf.clone();
                    r.extend_from_slice(b"\n##\n");
                    log.lock().unwrap().push((false, r.clone()));
                    if write_all(&mut c, &r).is_err() {
                        return;
                    }
                }
            });
        }
    });
}

fn norm(s: &str) -> String {
    let mut out = Vec::new();
    for l in s.split('\n') {
        let t = if l.starts_with("pid =") {
            "pid =<PID>".to_string()
        } else if l.starts_with("pid = ") {
            "pid = <PID>".into()
        } else if l.starts_with("daemon_pid = ") {
            "daemon_pid = <PID>".into()
        } else if l.starts_with("update_pid = ") && l != "update_pid = 0" {
            "update_pid = <PID>".into()
        } else if l.starts_with("update_begin = ") && l != "update_begin = 0" {
            "update_begin = <T>".into()
        } else if let Some(rest) = l.strip_prefix("stdout|   pvscan[") {
            format!("stdout|   pvscan[<PID>{}", &rest[rest.find(']').unwrap()..])
        } else {
            l.to_string()
        };
        out.push(t);
    }
    out.join("\n")
}

struct Step {
    cmd: String,
    exit: i32,
    output: Vec<String>,
}

/// Header facts of a recording: devices, filter, steps.
fn header(text: &str) -> Header {
    let mut devs = Vec::new();
    let mut filter = Vec::new();
    let mut steps: Vec<Step> = Vec::new();
    for l in text.lines().take_while(|l| l.starts_with('#')) {
        let l = l.trim_start_matches('#');
        if let Some((img, rest)) = l.trim().split_once(" -> ") {
            if img.ends_with(".img") && rest.contains("device number") {
                let name = rest.split_whitespace().next().unwrap().to_string();
                let num: u64 = rest
                    .split("device number ")
                    .nth(1)
                    .unwrap()
                    .trim_end_matches(|c: char| !c.is_ascii_digit())
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap();
                devs.push((img.to_string(), name, num));
            }
        }
        if let Some(f) = l.trim().strip_prefix("global_filter = [") {
            filter = f
                .trim_end_matches(']')
                .split('"')
                .filter(|s| s.contains('|'))
                .map(|s| s.to_string())
                .collect();
        }
        if let Some(rest) = l.trim().strip_prefix("step ") {
            if let Some((_, cmd)) = rest.split_once(": ") {
                steps.push(Step {
                    cmd: cmd.to_string(),
                    exit: 0,
                    output: Vec::new(),
                });
                continue;
            }
        }
        if let Some(e) = l.trim().strip_prefix("exit status ") {
            if let Some(s) = steps.last_mut() {
                s.exit = e.parse().unwrap();
            }
        }
        let t = l.trim_start();
        if t.starts_with("stdout|") || t.starts_with("stderr|") {
            if let Some(s) = steps.last_mut() {
                s.output.push(t.to_string());
            }
        }
    }
    (devs, filter, steps)
}

fn run_case(case: &str) -> Vec<String> {
    let dir = data_dir().join("images");
    let text = std::fs::read_to_string(dir.join(format!("{}.lvmetad.txt", case))).unwrap();
    let (devs, filter, steps) = header(&text);
    assert!(!devs.is_empty() && !steps.is_empty(), "{}", case);
    let events = parse_capture(&dir.join(format!("{}.lvmetad.txt", case)));
    let images = Images {
        devs: devs
            .iter()
            .map(|(img, name, num)| {
                let b = decompress(&dir.join(format!("{}.zst", img)));
                (name.clone(), *num, Arc::new(b))
            })
            .collect(),
    };
    let d = DaemonProc::start();
    let tmp = TempDir::new("px");
    let psock = tmp.path().join("proxy");
    let log = Arc::new(Mutex::new(Vec::new()));
    proxy(
        UnixListener::bind(&psock).unwrap(),
        d.socket.clone(),
        log.clone(),
    );
    let filter: Vec<Value> = filter.iter().map(Value::str).collect();
    let mut bad = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let n = (i + 1) as u32;
        let recorded: Vec<(bool, Vec<u8>)> = events
            .iter()
            .filter_map(|e| match e {
                Event::Request { step, bytes, .. } if *step == n => Some((true, bytes.clone())),
                Event::Reply { step, bytes, .. } if *step == n => Some((false, bytes.clone())),
                _ => None,
            })
            .collect();
        let words: Vec<&str> = step.cmd.split_whitespace().collect();
        if words.get(1) != Some(&"pvscan") {
            // not our command: replay its requests so the daemon's state follows
            let mut c = d.connect();
            for (is_req, b) in &recorded {
                if *is_req {
                    write_all(&mut c, b).unwrap();
                    let mut buf = Vec::new();
                    read_message(&mut c, &mut buf, usize::MAX).unwrap();
                }
            }
            continue;
        }
        log.lock().unwrap().clear();
        let host = Arc::new(CapHost {
            out: Mutex::new(Vec::new()),
        });
        let mut client = Client::new(host.clone() as Arc<dyn Host>);
        client.set_socket(Some(psock.clone()));
        client.set_token(Some(&filter));
        assert!(client.connect(0));
        let mut args = CacheArgs::default();
        let mut it = words[3..].iter();
        while let Some(w) = it.next() {
            match *w {
                "--major" => {
                    let ma = it.next().unwrap().parse().unwrap();
                    it.next();
                    let mi = it.next().unwrap().parse().unwrap();
                    args.major_minor.push((ma, mi));
                }
                w => args.devices.push(w.to_string()),
            }
        }
        let (code, mut client) = common::host::pvscan_cache_in_process(
            client,
            host.clone(),
            0,
            Box::new(images.clone()),
            &args,
        );
        client.disconnect();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let got = log.lock().unwrap().clone();
        let fmt = |v: &[(bool, Vec<u8>)]| {
            v.iter()
                .map(|(r, b)| {
                    format!(
                        "{} {}",
                        if *r { ">>" } else { "<<" },
                        norm(&String::from_utf8_lossy(b))
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        if fmt(&got) != fmt(&recorded) {
            bad.push(format!(
                "{} step {} ({}): traffic differs\n--- recorded\n{}\n--- ours\n{}",
                case,
                n,
                step.cmd,
                fmt(&recorded),
                fmt(&got)
            ));
        }
        let want: Vec<String> = step
            .output
            .iter()
            .filter(|l| {
                !l.contains("WARNING: Activation disabled.")
                    && !l.contains("Command failed with status code")
            })
            .map(|l| norm(l))
            .collect();
        let ours: Vec<String> = host.out.lock().unwrap().iter().map(|l| norm(l)).collect();
        let (mut ws, mut wo): (Vec<_>, Vec<_>) = want.iter().partition(|l| l.starts_with("stdout"));
        let (mut os, mut oo): (Vec<_>, Vec<_>) = ours.iter().partition(|l| l.starts_with("stdout"));
        ws.append(&mut wo);
        os.append(&mut oo);
        if ws != os || code != step.exit {
            bad.push(format!(
                "{} step {} ({}): output/exit differ\n--- recorded (exit {})\n{}\n--- ours (exit {})\n{}",
                case,
                n,
                step.cmd,
                step.exit,
                ws.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n"),
                code,
                os.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
            ));
        }
    }
    bad
}

macro_rules! case_test {
    ($name:ident, $case:literal) => {
        #[test]
        fn $name() {
            let bad = run_case($case);
            assert!(bad.is_empty(), "{}", bad.join("\n=====\n"));
        }
    };
}

case_test!(c01_orphan_default, "c01");
case_test!(c03_orphan_0mda, "c03");
case_test!(c04_vg1_two_pvs, "c04");
case_test!(c05_vg5_pv_without_mda, "c05");
case_test!(c06_vg6_wrapped, "c06");
case_test!(c08a_foreign_systemid, "c08a");
case_test!(c08b_exported, "c08b");
case_test!(c09_duplicates, "c09");
case_test!(c10a_bad_label_crc, "c10a");
case_test!(c10c_bad_metadata_text_crc, "c10c");
case_test!(c10e_truncated, "c10e");
