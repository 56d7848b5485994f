#!/usr/bin/env bash
# Round-trip latency of get_global_info: our C ABI vs LVM2 2.02.188's C libdaemon client,
# same daemon, same run. LVM2_SRCDIR: a configured and built LVM2 2.02.188 tree (its
# libdaemon/client/libdaemonclient.a and libdevmapper are used; nothing is copied).
# DAEMON: the lvmetad to measure against (default: ours); LVM's with DAEMON=/path/lvmetad.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
make -s -C "$top" build
tmp=$(mktemp -d /tmp/lvmetad-lat.XXXXXX)
make -s -C "$top" install PREFIX="$tmp/prefix" >/dev/null
daemon=${DAEMON:-$top/target/release/lvmetad}
dpid=
trap '[ -n "$dpid" ] && kill $dpid 2>/dev/null; rm -rf "$tmp"' EXIT
src=$top/benches/c/client_latency.c
cflags="-O2 -I$tmp/prefix/include"
libs="-L$tmp/prefix/lib -llvmetad -Wl,-rpath,$tmp/prefix/lib"
if [ -n "${LVM2_SRCDIR:-}" ]; then
    S=$LVM2_SRCDIR
    dmlib=$(dirname "$(find "$S/libdm" -name 'libdevmapper.so' | head -1)")
    cflags="$cflags -DWITH_LIBDAEMON -I$S/libdaemon/client -I$S/include -I$S/libdm -I$S/lib"
    libs="$libs $S/libdaemon/client/libdaemonclient.a -L$dmlib -ldevmapper -Wl,-rpath,$dmlib"
fi
cc $cflags "$src" -o "$tmp/client_latency" $libs
"$daemon" -f -s "$tmp/s" -p "$tmp/p" 2>/dev/null &
dpid=$!
for _ in $(seq 200); do [ -S "$tmp/s" ] && break; sleep 0.02; done
echo "daemon: $daemon"
"$tmp/client_latency" "$tmp/s" "${ITERATIONS:-20000}" "${ROUNDS:-7}"
