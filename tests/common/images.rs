//! PV images from tests/data/images as image files named in `devices/scan` (docs/scan.md),
//! the `lvmetad-pvscan` binary on them, and the daemon's state as `dump` gives it.

use super::*;
use std::io::Read;
use std::process::Command;

/// The images of a typical small system: an orphan PV, a VG of two PVs, a VG whose PV
/// has wrapped metadata, and a VG with a PV that has no metadata area. In this order
/// they are the devices 4095:0 to 4095:5.
pub const SET: [&str; 6] = [
    "c01_orphan_default",
    "c04_vg1_pv1",
    "c04_vg1_pv2",
    "c06_vg6_wrapped",
    "c05_vg5_pv1_1mda",
    "c05_vg5_pv2_0mda",
];

/// One image, decompressed once per test process.
pub fn image_bytes(name: &str) -> std::sync::Arc<Vec<u8>> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Vec<u8>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(b) = cache.lock().unwrap().get(name) {
        return b.clone();
    }
    // tests/data/images (with manifests), else tests/data/audit (the audit's image pairs)
    let src = ["images", "audit"]
        .iter()
        .map(|d| data_dir().join(d).join(format!("{}.img.zst", name)))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("no image {}", name));
    let f = std::io::BufReader::new(std::fs::File::open(src).unwrap());
    let mut d = ruzstd::decoding::StreamingDecoder::new(f).unwrap();
    let mut b = Vec::new();
    d.read_to_end(&mut b).unwrap();
    let b = Arc::new(b);
    cache.lock().unwrap().insert(name.to_string(), b.clone());
    b
}

/// Written sparse: all-zero 4 KiB blocks are holes.
fn write_sparse(path: &Path, data: &[u8]) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::File::create(path).unwrap();
    for (i, block) in data.chunks(4096).enumerate() {
        if block.iter().any(|&c| c != 0) {
            f.write_all_at(block, (i * 4096) as u64).unwrap();
        }
    }
    f.set_len(data.len() as u64).unwrap();
}

/// Image files plus an `etc/lvm.conf` naming them in `devices/scan`.
pub struct ImageSet {
    pub dir: TempDir,
    pub paths: Vec<PathBuf>,
    pub etc: PathBuf,
}

impl ImageSet {
    /// `names` in devices/scan order; `extra` is appended to lvm.conf.
    pub fn new(names: &[&str], extra: &str) -> ImageSet {
        let images: Vec<(&str, Vec<u8>)> = names
            .iter()
            .map(|n| (*n, image_bytes(n).to_vec()))
            .collect();
        Self::from_bytes(&images, extra)
    }

    /// Like [`ImageSet::new`], with the images' contents given (crafted images).
    pub fn from_bytes(images: &[(&str, Vec<u8>)], extra: &str) -> ImageSet {
        let dir = TempDir::new("img");
        let paths: Vec<PathBuf> = images
            .iter()
            .map(|(n, bytes)| {
                let p = dir.path().join(format!("{}.img", n));
                write_sparse(&p, bytes);
                p
            })
            .collect();
        let etc = dir.path().join("etc");
        std::fs::create_dir_all(&etc).unwrap();
        let scan: Vec<String> = paths
            .iter()
            .map(|p| format!("\"{}\"", p.display()))
            .collect();
        std::fs::write(
            etc.join("lvm.conf"),
            format!(
                "devices {{ scan = [ {} ] global_filter = [ \"a|\\\\.img$|\", \"r|.*|\" ] }}\n{}",
                scan.join(", "),
                extra
            ),
        )
        .unwrap();
        ImageSet { dir, paths, etc }
    }

    pub fn path(&self, i: usize) -> &str {
        self.paths[i].to_str().unwrap()
    }

    /// `lvmetad-pvscan ARGS` with this lvm.conf against the daemon at `socket`.
    pub fn pvscan_cmd(&self, socket: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_lvmetad-pvscan"));
        c.args(args)
            .env("LVM_SYSTEM_DIR", &self.etc)
            .env("LVM_LVMETAD_SOCKET", socket)
            .env("LVM_LVMETAD_PIDFILE", self.dir.path().join("no.pid"));
        c
    }

    /// Run it: (exit status, stdout, stderr).
    pub fn pvscan(&self, socket: &Path, args: &[&str]) -> (i32, String, String) {
        let o = self.pvscan_cmd(socket, args).output().unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    }
}

/// One request on a fresh connection; the reply as text.
pub fn ask(socket: &Path, body: &str) -> String {
    let mut s = UnixStream::connect(socket).expect("connect");
    String::from_utf8_lossy(&exchange(&mut s, body.as_bytes())).into_owned()
}

/// The daemon's `dump` with its volatile fields (pids, times) normalised.
pub fn dump(socket: &Path) -> String {
    let d = ask(socket, "request = \"dump\"\n");
    String::from_utf8_lossy(&lvmetad::protocol::capture::normalise_volatile(
        d.as_bytes(),
    ))
    .into_owned()
}

/// `get_global_info` with `daemon_pid` normalised.
pub fn global_info(socket: &Path) -> String {
    let d = ask(socket, "request = \"get_global_info\"\ntoken = \"skip\"\n");
    String::from_utf8_lossy(&lvmetad::protocol::capture::normalise_volatile(
        d.as_bytes(),
    ))
    .into_owned()
}

/// The dump after one clean `pvscan --cache` of `set` on a fresh daemon.
pub fn clean_dump(set: &ImageSet) -> String {
    let d = DaemonProc::start();
    let (rc, out, err) = set.pvscan(&d.socket, &["--cache"]);
    assert_eq!((rc, out.as_str(), err.as_str()), (0, "", ""));
    dump(&d.socket)
}

/// The values of the images' lvm.conf `global_filter` ([`ImageSet`] writes it).
pub fn image_filter() -> Vec<lvmetad::config::Value> {
    ["a|\\.img$|", "r|.*|"]
        .iter()
        .map(lvmetad::config::Value::str)
        .collect()
}

/// `"filter:N"`: the token of that filter.
pub fn image_token() -> String {
    lvmetad::client::token::filter_token(Some(&image_filter()))
}
