//! Synthetic lvmetad load shared by the benchmarks: deterministic UUIDs, pvmeta and
//! VG metadata in the shapes LVM 2.02.188 tools send (see tests/data/captures), and
//! the request sequence that fills a daemon with a big cache.
#![allow(dead_code)]

use std::fmt::Write as _;

/// The validity token LVM derives from its filter (any string works; this is the
/// one of the capture session).
pub const TOKEN: &str = "filter:3108758531";
pub const UPDATE_IN_PROGRESS: &str = "update in progress";
pub const TERMINATOR: &[u8] = b"\n##\n";

/// xorshift64*: small, deterministic, good enough for synthetic ids.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// An LVM-style UUID: 32 characters of [0-9a-zA-Z] grouped 6-4-4-4-4-4-6.
pub fn uuid(rng: &mut Rng) -> String {
    const CH: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut s = String::with_capacity(38);
    for (i, len) in [6, 4, 4, 4, 4, 4, 6].iter().enumerate() {
        if i > 0 {
            s.push('-');
        }
        for _ in 0..*len {
            s.push(CH[rng.below(CH.len() as u64) as usize] as char);
        }
    }
    s
}

#[derive(Clone, Debug)]
pub struct Pv {
    pub id: String,
    pub device: u64,
    pub path: String,
    /// Size in 512-byte sectors.
    pub sectors: u64,
}

#[derive(Clone, Debug)]
pub struct Lv {
    pub id: String,
    pub name: String,
    /// (pv index, start extent on that PV, extent count) per segment.
    pub segments: Vec<(usize, u64, u64)>,
}

#[derive(Clone, Debug)]
pub struct Vg {
    pub id: String,
    pub name: String,
    pub pvs: Vec<Pv>,
    pub lvs: Vec<Lv>,
}

pub const EXTENT_SECTORS: u64 = 8192; // 4 MiB extents
pub const PE_START: u64 = 2048;

impl Pv {
    fn pe_count(&self) -> u64 {
        (self.sectors - PE_START) / EXTENT_SECTORS
    }
}

fn new_pv(rng: &mut Rng, n: u64) -> Pv {
    // sdX-style paths and device numbers (major 8 for the first 16 minors' worth,
    // then major 65, ...); only uniqueness matters to lvmetad.
    let major = [8u64, 65, 66, 67, 68, 69, 70, 71][(n / 4096) as usize % 8] + 100 * (n / 32768);
    let minor = n % 4096 * 16;
    Pv {
        id: uuid(rng),
        device: (major << 8) | (minor & 0xff) | ((minor & !0xff) << 12),
        path: format!("/dev/disk/by-id/bench-{:05}", n),
        sectors: (64 + rng.below(960)) * 2 * 1024 * 1024, // 64..1023 GiB
    }
}

fn new_lv(rng: &mut Rng, vg: &Vg, idx: usize, used: &mut [u64]) -> Lv {
    let nseg = 1 + (idx % 3 == 2) as usize;
    let mut segments = Vec::new();
    for s in 0..nseg {
        let pv = (idx * 3 + s * 5) % vg.pvs.len();
        let count = 64 + rng.below(2048);
        segments.push((pv, used[pv], count));
        used[pv] += count;
    }
    Lv {
        id: uuid(rng),
        name: format!("lv{}", idx),
        segments,
    }
}

/// The cache of the benchmark: orphan PVs plus VGs of `pvs_per_vg` PVs each.
pub struct BigCache {
    pub orphans: Vec<Pv>,
    pub vgs: Vec<Vg>,
}

impl BigCache {
    pub fn new(orphans: usize, vgs: usize, pvs_per_vg: usize, lvs_per_vg: usize) -> BigCache {
        let mut rng = Rng::new(0x001e_7ad0);
        let mut n = 0u64;
        let mut out = BigCache {
            orphans: Vec::new(),
            vgs: Vec::new(),
        };
        for v in 0..vgs {
            let mut vg = Vg {
                id: uuid(&mut rng),
                name: format!("vg{:03}", v),
                pvs: Vec::new(),
                lvs: Vec::new(),
            };
            for _ in 0..pvs_per_vg {
                vg.pvs.push(new_pv(&mut rng, n));
                n += 1;
            }
            let mut used = vec![0u64; vg.pvs.len()];
            for l in 0..lvs_per_vg {
                let lv = new_lv(&mut rng, &vg, l, &mut used);
                vg.lvs.push(lv);
            }
            out.vgs.push(vg);
        }
        for _ in 0..orphans {
            out.orphans.push(new_pv(&mut rng, n));
            n += 1;
        }
        out
    }

    /// The standard big cache: 10,000 orphan PVs + 100 VGs of 10 PVs (8 LVs each).
    pub fn standard() -> BigCache {
        BigCache::new(10_000, 100, 10, 8)
    }

    pub fn all_pvs(&self) -> impl Iterator<Item = &Pv> {
        self.vgs
            .iter()
            .flat_map(|v| v.pvs.iter())
            .chain(self.orphans.iter())
    }

    /// Every request (body without terminator) that builds the cache the way the tools
    /// do: a `pvscan --cache` (token_update, pv_clear_all, one pv_found per PV, PVs of
    /// a VG carrying its metadata, token_update back), then per VG an `lvcreate`-style
    /// update (set_vg_info, vg_update with seqno 2 and one more LV, pv_found of its PVs).
    pub fn populate_requests(&self) -> Vec<Vec<u8>> {
        let pid = 4242;
        let mut out = Vec::new();
        out.push(token_update(UPDATE_IN_PROGRESS, pid, "pvscan"));
        out.push(tree_request(
            "pv_clear_all",
            "",
            UPDATE_IN_PROGRESS,
            pid,
            "pvscan",
        ));
        for vg in &self.vgs {
            let md = vg_metadata(vg, 1, vg.lvs.len().saturating_sub(1));
            for pv in &vg.pvs {
                let mut args = pvmeta(pv, true);
                let _ = writeln!(args, "vgname =\"{}\"", vg.name);
                args.push_str(&md);
                out.push(tree_request(
                    "pv_found",
                    &args,
                    UPDATE_IN_PROGRESS,
                    pid,
                    "pvscan",
                ));
            }
        }
        for pv in &self.orphans {
            out.push(tree_request(
                "pv_found",
                &pvmeta(pv, false),
                UPDATE_IN_PROGRESS,
                pid,
                "pvscan",
            ));
        }
        out.push(token_update(TOKEN, pid, "pvscan"));
        for vg in &self.vgs {
            let pid = 5000;
            out.push(tree_request(
                "set_vg_info",
                &format!("name =\"{}\"\nuuid =\"{}\"\nversion =2\n", vg.name, vg.id),
                TOKEN,
                pid,
                "lvcreate",
            ));
            let mut args = format!("vgname =\"{}\"\n", vg.name);
            args.push_str(&vg_metadata(vg, 2, vg.lvs.len()));
            out.push(tree_request("vg_update", &args, TOKEN, pid, "lvcreate"));
            for pv in &vg.pvs {
                out.push(tree_request(
                    "pv_found",
                    &pvmeta(pv, true),
                    TOKEN,
                    pid,
                    "lvcreate",
                ));
            }
        }
        out
    }
}

/// A `pvmeta  {...}` section as `lvmetad_pv_found()` writes it.
pub fn pvmeta(pv: &Pv, in_vg: bool) -> String {
    let mut s = String::with_capacity(400);
    let _ = write!(
        s,
        "pvmeta  {{\n\tdevice ={}\n\tdev_size ={}\n\tformat =\"lvm2\"\n\tlabel_sector =1\n\tid =\"{}\"\n\text_version =2\n\text_flags ={}\n\tmda0 {{\n\t\tignore =0\n\t\tstart =4096\n\t\tsize =1044480\n\t\tfree_sectors ={}\n\t}}\n\tda0 {{\n\t\toffset =1048576\n\t\tsize =0\n\t}}\n",
        pv.device,
        pv.sectors * 512,
        pv.id,
        in_vg as u8,
        if in_vg { 1016 } else { 1019 }
    );
    if in_vg {
        s.push_str("\tba0 {\n\t\toffset =0\n\t\tsize =0\n\t}\n");
    }
    s.push_str("}\n");
    s
}

/// A `metadata  {...}` section (the VG text format as the tools export it), holding
/// the first `nlvs` LVs of `vg`.
pub fn vg_metadata(vg: &Vg, seqno: u64, nlvs: usize) -> String {
    let mut s = String::with_capacity(600 + 250 * vg.pvs.len() + 400 * nlvs);
    let _ = write!(
        s,
        "metadata  {{\n\tid=\"{}\"\n\tseqno={}\n\tformat=\"lvm2\"\n\tstatus=[\"RESIZEABLE\",\"READ\",\"WRITE\"]\n\tflags=[]\n\textent_size={}\n\tmax_lv=0\n\tmax_pv=0\n\tmetadata_copies=0\n\tphysical_volumes {{\n",
        vg.id, seqno, EXTENT_SECTORS
    );
    for (i, pv) in vg.pvs.iter().enumerate() {
        let _ = write!(
            s,
            "\t\tpv{} {{\n\t\t\tid=\"{}\"\n\t\t\tdevice=\"{}\"\n\t\t\tstatus=\"ALLOCATABLE\"\n\t\t\tflags=[]\n\t\t\tdev_size={}\n\t\t\tpe_start={}\n\t\t\tpe_count={}\n\t\t}}\n",
            i,
            pv.id,
            pv.path,
            pv.sectors,
            PE_START,
            pv.pe_count()
        );
    }
    s.push_str("\t}\n");
    if nlvs > 0 {
        s.push_str("\tlogical_volumes {\n");
        for lv in &vg.lvs[..nlvs] {
            let _ = write!(
                s,
                "\t\t{} {{\n\t\t\tid=\"{}\"\n\t\t\tstatus=[\"READ\",\"WRITE\",\"VISIBLE\"]\n\t\t\tflags=[]\n\t\t\tcreation_time=1795628736\n\t\t\tcreation_host=\"bench-host\"\n\t\t\tsegment_count={}\n",
                lv.name,
                lv.id,
                lv.segments.len()
            );
            let mut le = 0;
            for (k, (pv, start, count)) in lv.segments.iter().enumerate() {
                let _ = write!(
                    s,
                    "\t\t\tsegment{} {{\n\t\t\t\tstart_extent={}\n\t\t\t\textent_count={}\n\t\t\t\ttype=\"striped\"\n\t\t\t\tstripe_count=1\n\t\t\t\tstripes=[\"pv{}\",{}]\n\t\t\t}}\n",
                    k + 1,
                    le,
                    count,
                    pv,
                    start
                );
                le += count;
            }
            s.push_str("\t\t}\n");
        }
        s.push_str("\t}\n");
    }
    s.push_str("}\n");
    s
}

/// A request built from a config tree (`request="x"` ... `token =` `update_timeout =`
/// `pid =` `cmd =`), as the LVM tools send most requests.
pub fn tree_request(name: &str, args: &str, token: &str, pid: u32, cmd: &str) -> Vec<u8> {
    format!(
        "request=\"{}\"\n{}token =\"{}\"\nupdate_timeout =60\npid ={}\ncmd =\"{}\"\n",
        name, args, token, pid, cmd
    )
    .into_bytes()
}

pub fn token_update(token: &str, pid: u32, cmd: &str) -> Vec<u8> {
    tree_request("token_update", "", token, pid, cmd)
}

/// `daemon_send_simple()` form, as lvmetactl and `lvmetad_token_matches()` send it.
pub fn get_global_info() -> Vec<u8> {
    b"request = \"get_global_info\"\ntoken = \"skip\"\npid = 1\ncmd = \"bench\"\n".to_vec()
}

pub fn pv_lookup(uuid: &str) -> Vec<u8> {
    tree_request(
        "pv_lookup",
        &format!("uuid =\"{}\"\n", uuid),
        TOKEN,
        77,
        "pvs",
    )
}

pub fn vg_lookup(vg: &Vg) -> Vec<u8> {
    tree_request(
        "vg_lookup",
        &format!("uuid =\"{}\"\nname =\"{}\"\n", vg.id, vg.name),
        TOKEN,
        77,
        "lvs",
    )
}

pub fn pv_list() -> Vec<u8> {
    tree_request("pv_list", "", TOKEN, 77, "pvs")
}

pub fn dump() -> Vec<u8> {
    b"request = \"dump\"\ntoken = \"skip\"\npid = 1\ncmd = \"lvmetactl\"\n".to_vec()
}

/// A request or reply with the terminator appended.
pub fn framed(body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(body.len() + 4);
    m.extend_from_slice(body);
    m.extend_from_slice(TERMINATOR);
    m
}

/// Whether a reply body says OK (either spacing).
pub fn reply_ok(reply: &[u8]) -> bool {
    reply.starts_with(b"response = \"OK\"") || reply.starts_with(b"response=\"OK\"")
}

/// One big VG as a `vg_update` request body: the largest message a daemon parses.
pub fn big_vg_update(pvs: usize, lvs: usize) -> Vec<u8> {
    let mut rng = Rng::new(0x00b1_6b16);
    let mut vg = Vg {
        id: uuid(&mut rng),
        name: "bigvg".into(),
        pvs: Vec::new(),
        lvs: Vec::new(),
    };
    for n in 0..pvs {
        vg.pvs.push(new_pv(&mut rng, n as u64));
    }
    let mut used = vec![0u64; pvs];
    for l in 0..lvs {
        let lv = new_lv(&mut rng, &vg, l, &mut used);
        vg.lvs.push(lv);
    }
    let mut args = format!("vgname =\"{}\"\n", vg.name);
    args.push_str(&vg_metadata(&vg, 7, lvs));
    tree_request("vg_update", &args, TOKEN, 99, "lvcreate")
}
