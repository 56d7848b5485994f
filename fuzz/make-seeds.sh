#!/usr/bin/env bash
# Seed corpora for the fuzz targets from the repository's fixtures (not committed:
# regenerate with this script). Run from fuzz/.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/{config_parse,daemon_handler,ondisk_scan,capture_parse,wire_reply,metadata_import,deep_keys}
# deep_keys: a few programs (see fuzz_targets/deep_keys.rs): a value; braces 600 deep;
# a 4,033-segment path key; a 200,000-segment one; mixed; inside a vg_update sent twice
printf '\x00\x80' > corpus/deep_keys/value
printf '\x00\x01\xf0\x26\x80' > corpus/deep_keys/braces
printf '\x00\xc0\x3f' > corpus/deep_keys/path4033
printf '\x00\xe0\xc3\x81' > corpus/deep_keys/path200000
printf '\x03\x05\xc0\x07\xf0\x02\x45\xe0\x01\x81\x46' > corpus/deep_keys/mixed
python3 - <<'EOP'
import os, re, glob
n = 0
T = b'\n##\n'
replies = []
for f in glob.glob('../tests/data/captures/*.txt') + glob.glob('../tests/data/differential/*.txt'):
    b = open(f, 'rb').read()
    for m in re.finditer(rb'=== \d+ (request|reply) conn=\d+ step=\d+ bytes=(\d+)\n', b):
        body = b[m.end():m.end() + int(m.group(2)) - 4]
        if len(body) > 20000:
            continue
        n += 1
        open(f'corpus/config_parse/c{n}', 'wb').write(body)
        if m.group(1) == b'request':
            open(f'corpus/daemon_handler/r{n}', 'wb').write(body)
        else:
            replies.append(body)
# wire_reply: byte 0 = count of piece sizes (+ flags), the sizes, then the stream
for i, r in enumerate(replies):
    open(f'corpus/wire_reply/w{i}', 'wb').write(b'\x00' + r + T)
    if i + 1 < len(replies) and len(r) + len(replies[i + 1]) < 8000:
        pair = r + T + replies[i + 1] + T
        open(f'corpus/wire_reply/p{i}', 'wb').write(b'\x43\x07\x00\xff' + pair)
# metadata_import: flags, wrap position, then the text; from the vgcfgbackup files,
# the VG section first as on disk
for f in glob.glob('../tests/data/images/*.vgmeta.txt'):
    b = open(f, 'rb').read()
    m = re.search(rb'^[A-Za-z0-9_.+-]+ \{', b, re.M)
    if m:
        text = b[m.start():] + b'\n' + b[:m.start()]
        name = os.path.basename(f)
        open(f'corpus/metadata_import/{name}', 'wb').write(b'\x00\x00' + text)
        open(f'corpus/metadata_import/{name}.wrapped', 'wb').write(b'\x03\x80' + text)
for f in glob.glob('../tests/data/captures/*.txt'):
    open('corpus/capture_parse/' + os.path.basename(f), 'wb').write(open(f, 'rb').read()[:20000])
EOP
tmp=$(mktemp -d)
cargo run -q --release --manifest-path ../Cargo.toml --example unzstd -- "$tmp" ../tests/data/images/*.img.zst
for i in "$tmp"/*.img; do head -c 16384 "$i" > "corpus/ondisk_scan/$(basename "$i" .img)"; done
# metadata_import: the committed text of each image's first mda (at 4096, as pvcreate
# puts it), unwrapped
python3 - "$tmp" <<'EOP'
import glob, os, struct, sys
for f in glob.glob(sys.argv[1] + '/*.img'):
    b = open(f, 'rb').read()
    h = b[4096:4608]
    if h[4:20] != b' LVM2 x[5A%r0N*>':
        continue
    size = struct.unpack_from('<Q', h, 32)[0]
    off, n = struct.unpack_from('<QQ', h, 40)
    if off == 0 or n == 0:
        continue
    first = min(n, size - off)
    text = b[4096 + off:4096 + off + first] + b[4096 + 512:4096 + 512 + n - first]
    text = text.rstrip(b'\0')
    open('corpus/metadata_import/' + os.path.basename(f), 'wb').write(b'\x00\x00' + text)
EOP
rm -rf "$tmp"
