//! Decompress `.zst` files into a directory (used by the demo and the compat scripts, so
//! they need no zstd tool): `cargo run --example unzstd -- OUTDIR FILE.zst...`.
use std::io::Read;

fn main() {
    let mut args = std::env::args().skip(1);
    let out = std::path::PathBuf::from(args.next().expect("usage: unzstd OUTDIR FILE.zst..."));
    for f in args {
        let p = std::path::Path::new(&f);
        let name = p.file_name().unwrap().to_string_lossy();
        let target = out.join(name.trim_end_matches(".zst"));
        let mut d =
            ruzstd::decoding::StreamingDecoder::new(std::fs::File::open(p).unwrap()).unwrap();
        let mut buf = Vec::new();
        d.read_to_end(&mut buf).unwrap();
        std::fs::write(&target, buf).unwrap();
    }
}
