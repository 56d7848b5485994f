#!/usr/bin/env bash
# Build the C tests and run them against the bundled daemon on private sockets:
#  - daemon_*.c speak the raw protocol (no library);
#  - client_*.c use the library installed with `make install` into a temporary prefix,
#    compiled with `pkg-config --cflags --libs lvmetad`;
#  - source_compat.c checks LVM's 31 prototypes against our header (with and without
#    libdevmapper.h when it is installed).
# Each program runs built with ASan+UBSan, and again under valgrind (when installed).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${BIN:-$top/target/release}
out=$top/c-tests/build
mkdir -p "$out"
CC=${CC:-cc}
CFLAGS="-std=c99 -D_GNU_SOURCE -pthread -Wall -Wextra -Werror -g -O1"
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
echo 'int main(void){return 0;}' > "$out/probe.c"
if ! $CC $SAN "$out/probe.c" -o "$out/probe" 2>/dev/null; then SAN=""; echo "(no ASan)"; fi
have_valgrind=0; command -v valgrind >/dev/null && have_valgrind=1

tmp=$(mktemp -d /tmp/lvmetad-ctests.XXXXXX)
dpid=
cleanup() { [ -n "$dpid" ] && kill "$dpid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
start_daemon() {
    rm -f "$tmp/s"
    "$bin/lvmetad" -f -s "$tmp/s" -p "$tmp/p" 2>/dev/null &
    dpid=$!
    for _ in $(seq 200); do [ -S "$tmp/s" ] && return 0; sleep 0.02; done
    echo "daemon did not start"; exit 1
}
stop_daemon() { kill "$dpid"; wait "$dpid" || true; dpid=; }

pass=0; fail=0
ok() { pass=$((pass+1)); echo "ok $*"; }
bad() { fail=$((fail+1)); echo "FAIL $*"; }

# install into a private prefix, as a user would
prefix=$tmp/prefix
make -s -C "$top" install PREFIX="$prefix" >/dev/null
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
lib=$prefix/lib/liblvmetad.so.0

# the library's ABI surface
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = "liblvmetad.so.0" ] && ok "SONAME $soname" || bad "SONAME is '$soname'"
leaked=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^lvmetad_' || true)
[ -z "$leaked" ] && ok "only lvmetad_* symbols exported ($(nm -D --defined-only "$lib" | wc -l))" \
    || bad "symbols outside the API exported: $leaked"
[ -L "$prefix/lib/liblvmetad.so" ] && [ -f "$prefix/lib/liblvmetad.a" ] && ok "symlinks and static archive installed" \
    || bad "install layout"

# real PV images for the scan tests
cargo build -q --release --manifest-path "$top/Cargo.toml" --example unzstd
mkdir -p "$tmp/img"
"$top/target/release/examples/unzstd" "$tmp/img" \
    "$top"/tests/data/images/{c01_orphan_default,c09_dup_a,c04_vg1_pv1,c04_vg1_pv2,c08a_vg_foreign_systemid}.img.zst
export IMAGES=$tmp/img

PC_CFLAGS=$(pkg-config --cflags lvmetad)
PC_LIBS=$(pkg-config --libs lvmetad)
RPATH="-Wl,-rpath,$prefix/lib"

# source compatibility with LVM's prototypes
if $CC $CFLAGS $PC_CFLAGS "$top/c-tests/source_compat.c" -o "$out/source_compat" $PC_LIBS $RPATH \
    && "$out/source_compat"; then ok "source_compat"; else bad "source_compat"; fi
if pkg-config --exists devmapper; then
    if $CC $CFLAGS -DWITH_LIBDM $PC_CFLAGS $(pkg-config --cflags devmapper) \
        "$top/c-tests/source_compat.c" -o "$out/source_compat_libdm" $PC_LIBS $RPATH \
        && "$out/source_compat_libdm"; then ok "source_compat with libdevmapper.h"; \
        else bad "source_compat with libdevmapper.h"; fi
else
    echo "skip source_compat with libdevmapper.h (libdevmapper-dev not installed)"
fi

run_one() { # name binary
    local name=$1 exe=$2
    shift 2
    mkdir -p "$tmp/w"; rm -rf "$tmp/w"/*
    start_daemon
    if "$@" "$exe" "$tmp/s" "$tmp/w" > "$out/$name.log" 2>&1; then ok "$name"; else
        bad "$name"; cat "$out/$name.log"; fi
    stop_daemon
}

for src in "$top"/c-tests/daemon_*.c "$top"/c-tests/client_*.c; do
    name=$(basename "$src" .c)
    case $name in
        daemon_*) libs=""; cflags="" ;;
        *) libs="$PC_LIBS $RPATH"; cflags="$PC_CFLAGS" ;;
    esac
    $CC $CFLAGS $SAN $cflags -I"$top/c-tests" "$src" -o "$out/$name" $libs
    $CC $CFLAGS $cflags -I"$top/c-tests" "$src" -o "$out/$name.plain" $libs
    run_one "$name" "$out/$name"
    if [ $have_valgrind = 1 ]; then
        run_one "$name (valgrind)" "$out/$name.plain" valgrind -q --error-exitcode=99 \
            --leak-check=full --errors-for-leak-kinds=definite,indirect
    fi
done

# the static archive links and works too
$CC $CFLAGS $PC_CFLAGS -I"$top/c-tests" "$top/c-tests/client_api.c" -o "$out/client_api.static" \
    "$prefix/lib/liblvmetad.a" $(pkg-config --static --libs-only-l lvmetad | sed 's/-llvmetad//')
run_one "client_api (static)" "$out/client_api.static"

echo "c-tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
