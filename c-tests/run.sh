#!/usr/bin/env bash
# Build the C test programs and run them against the bundled daemon on a private socket.
# Each program is built with ASan+UBSan when the compiler supports it and is also run
# under valgrind when valgrind is installed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${BIN:-$top/target/release}
out=$top/c-tests/build
mkdir -p "$out"
CC=${CC:-cc}
CFLAGS="-std=c99 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O1"
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
echo 'int main(void){return 0;}' > "$out/probe.c"
if ! $CC $SAN "$out/probe.c" -o "$out/probe" 2>/dev/null; then SAN=""; fi

tmp=$(mktemp -d /tmp/lvmetad-ctests.XXXXXX)
dpid=
cleanup() { [ -n "$dpid" ] && kill "$dpid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
start_daemon() {
    "$bin/lvmetad" -f -s "$tmp/s" -p "$tmp/p" &
    dpid=$!
    for _ in $(seq 200); do [ -S "$tmp/s" ] && return 0; sleep 0.02; done
    echo "daemon did not start"; exit 1
}
stop_daemon() { kill "$dpid"; wait "$dpid" || true; dpid=; }

pass=0; fail=0
for src in "$top"/c-tests/daemon_*.c; do
    name=$(basename "$src" .c)
    $CC $CFLAGS $SAN "$src" -o "$out/$name"
    $CC $CFLAGS "$src" -o "$out/$name.plain"
    start_daemon
    if "$out/$name" "$tmp/s"; then pass=$((pass+1)); else fail=$((fail+1)); fi
    stop_daemon
    if command -v valgrind >/dev/null; then
        start_daemon
        if valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=all \
            "$out/$name.plain" "$tmp/s" >/dev/null; then pass=$((pass+1)); else
            echo "FAIL $name under valgrind"; fail=$((fail+1)); fi
        stop_daemon
    fi
done
echo "c-tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
