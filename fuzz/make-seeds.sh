#!/usr/bin/env bash
# Seed corpora for the fuzz targets from the repository's fixtures (not committed:
# regenerate with this script). Run from fuzz/.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/{config_parse,daemon_handler,ondisk_scan,capture_parse}
python3 - <<'EOP'
import os, re, glob
n = 0
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
for f in glob.glob('../tests/data/captures/*.txt'):
    open('corpus/capture_parse/' + os.path.basename(f), 'wb').write(open(f, 'rb').read()[:20000])
EOP
tmp=$(mktemp -d)
cargo run -q --release --manifest-path ../Cargo.toml --example unzstd -- "$tmp" ../tests/data/images/*.img.zst
for i in "$tmp"/*.img; do head -c 16384 "$i" > "corpus/ondisk_scan/$(basename "$i" .img)"; done
rm -rf "$tmp"
