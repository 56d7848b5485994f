#!/bin/bash
# make install / install-units / uninstall into temporary DESTDIRs, from the finished
# build: the exact tree (tests/data/install-tree.txt), every directory variable honoured
# (lvmetad.pc included), no cargo run (CARGO=false), STRIP, the units' contents and
# `systemd-analyze verify`, and an uninstall that leaves no file behind but keeps a
# distribution's units that are not ours.
set -euo pipefail
umask 022   # the modes in tests/data/install-tree.txt
cd "$(dirname "$0")/.."
repo=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install-tree: FAIL: $*" >&2; exit 1; }
# CARGO=false: installing must not build
mk() { make -s -C "$repo" CARGO=false "$@" >/dev/null; }
ver=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
files() { (cd "$1" && find . -mindepth 1 ! -type d -printf '%P\n' | sort) | sed "s/$ver/VERSION/g"; }

# 1. the tree of PREFIX=/usr, modes and symlink targets included
d=$tmp/usr-root
mk install install-units DESTDIR="$d" PREFIX=/usr
(cd "$d" && find . -mindepth 1 -printf '%M %P %l\n' | sed 's/^l[rwx-]*/l/; s/ $//' | sort -k2) \
    | sed "s/$ver/VERSION/g" > "$tmp/tree.txt"
diff -u tests/data/install-tree.txt "$tmp/tree.txt" || fail "installed tree differs"
echo "install-tree: the PREFIX=/usr tree matches tests/data/install-tree.txt ($(wc -l < "$tmp/tree.txt") entries)"

u=$d/usr/lib/systemd/system
[ "$(grep -v '^#' "$u/lvm2-lvmetad.service.d/lvmetad-rs.conf")" = "[Service]
ExecStart=
ExecStart=/usr/sbin/lvmetad -f -s /run/lvm/lvmetad.socket -p /run/lvmetad.pid" ] || fail "drop-in"
grep -qx 'ListenStream=/run/lvm/lvmetad.socket' "$u/lvm2-lvmetad.socket" || fail "socket unit"
grep -qx 'PIDFile=/run/lvmetad.pid' "$u/lvm2-lvmetad.service" || fail "service PIDFile"
grep -qx 'ExecStart=/usr/sbin/lvmetad -f -s /run/lvm/lvmetad.socket -p /run/lvmetad.pid' \
    "$u/lvm2-lvmetad.service" || fail "service ExecStart"
[ "$(grep -v '^#' "$d/usr/lib/tmpfiles.d/lvmetad-rs.conf")" = "d /run/lvm 0700 root root -" ] || fail tmpfiles
cmp -s target/release/lvmetad-pvscan "$d/usr/sbin/lvmetad-pvscan" || fail "lvmetad-pvscan"
[ "$(grep -E '^(prefix|libdir|includedir|Cflags|Libs)[=:]' "$d/usr/lib/pkgconfig/lvmetad.pc")" = \
'prefix=/usr
libdir=/usr/lib
includedir=/usr/include
Libs: -L${libdir} -llvmetad
Cflags: -I${includedir}' ] || fail "lvmetad.pc for PREFIX=/usr"

# 2. every variable honoured, in the paths and in what is written into files
o=$tmp/vars
mk install install-units DESTDIR="$o" PREFIX=/opt/p LIBDIR=/opt/l64 BINDIR=/opt/b SBINDIR=/opt/sb \
    INCLUDEDIR=/opt/inc PKGCONFIGDIR=/opt/pc MANDIR=/opt/man UNITDIR=/opt/units \
    TMPFILESDIR=/opt/tmpf LVMETAD_SOCKET=/run/x/l.sock LVMETAD_PIDFILE=/run/y/l.pid
files "$o" > "$tmp/vars.txt"
diff -u - "$tmp/vars.txt" <<'EOT' || fail "directory variables not honoured"
opt/b/lvmetad-replay
opt/inc/lvmetad-compat.h
opt/inc/lvmetad.h
opt/l64/liblvmetad.a
opt/l64/liblvmetad.so
opt/l64/liblvmetad.so.0
opt/l64/liblvmetad.so.VERSION
opt/man/man1/lvmetad-replay.1
opt/man/man8/lvmetactl.8
opt/man/man8/lvmetad-audit.8
opt/man/man8/lvmetad-pvscan.8
opt/man/man8/lvmetad.8
opt/pc/lvmetad.pc
opt/sb/lvmetactl
opt/sb/lvmetad
opt/sb/lvmetad-audit
opt/sb/lvmetad-pvscan
opt/tmpf/lvmetad-rs.conf
opt/units/lvm2-lvmetad.service
opt/units/lvm2-lvmetad.service.d/lvmetad-rs.conf
opt/units/lvm2-lvmetad.socket
opt/units/lvmetad-audit.service
opt/units/lvmetad-audit.timer
EOT
PKG_CONFIG_PATH=$o/opt/pc pkg-config --cflags --libs lvmetad | sed 's/ *$//' > "$tmp/pc.txt"
[ "$(cat "$tmp/pc.txt")" = "-I/opt/inc -L/opt/l64 -llvmetad" ] || fail "lvmetad.pc: $(cat "$tmp/pc.txt")"
grep -qx 'ExecStart=/opt/sb/lvmetad -f -s /run/x/l.sock -p /run/y/l.pid' "$o/opt/units/lvm2-lvmetad.service" \
    || fail "service ExecStart with variables"
grep -qx 'ExecStart=/opt/sb/lvmetad -f -s /run/x/l.sock -p /run/y/l.pid' \
    "$o/opt/units/lvm2-lvmetad.service.d/lvmetad-rs.conf" || fail "drop-in with variables"
grep -qx 'ListenStream=/run/x/l.sock' "$o/opt/units/lvm2-lvmetad.socket" || fail "socket with variables"
grep -qx 'PIDFile=/run/y/l.pid' "$o/opt/units/lvm2-lvmetad.service" || fail "PIDFile with variables"
grep -qx 'd /run/x 0700 root root -' "$o/opt/tmpf/lvmetad-rs.conf" || fail "tmpfiles with variables"
grep -qx 'ExecStart=/opt/sb/lvmetad-audit $LVMETAD_AUDIT_ARGS' "$o/opt/units/lvmetad-audit.service" \
    || fail "audit service with variables"

# 3. the units verify clean where ExecStart exists (the drop-in applied through the unit path)
if command -v systemd-analyze >/dev/null; then
    r=$tmp/root
    mk install install-units PREFIX="$r"
    out=$(cd "$r/lib/systemd/system" && SYSTEMD_UNIT_PATH=$PWD: \
        systemd-analyze verify --man=no lvm2-lvmetad.socket lvm2-lvmetad.service \
        lvmetad-audit.service lvmetad-audit.timer 2>&1) \
        || fail "systemd-analyze verify: $out"
    [ -z "$out" ] || fail "systemd-analyze verify says: $out"
    echo "install-tree: systemd-analyze verify --man=no: clean"
else
    fail "systemd-analyze is missing (apt-get install systemd)"
fi

# 4. STRIP: no debug sections left; without it the build's are kept
readelf -S "$d/usr/sbin/lvmetad" | grep -q '\.debug_info' || fail "unstripped install lost debug info"
s=$tmp/strip
mk install DESTDIR="$s" PREFIX=/usr STRIP=strip
for f in usr/sbin/lvmetad usr/sbin/lvmetactl usr/sbin/lvmetad-pvscan usr/sbin/lvmetad-audit \
         usr/bin/lvmetad-replay \
         "usr/lib/liblvmetad.so.$ver"; do
    ! readelf -S "$s/$f" | grep -q '\.debug_info' || fail "STRIP=strip left debug info in $f"
done
"$s/usr/sbin/lvmetad" -h > /dev/null || fail "stripped lvmetad does not run"

# 5. uninstall removes every file, and keeps units of the same name that are not ours
mk uninstall DESTDIR="$d" PREFIX=/usr
[ -z "$(files "$d")" ] || fail "left after uninstall: $(files "$d")"
mk uninstall DESTDIR="$o" PREFIX=/opt/p LIBDIR=/opt/l64 BINDIR=/opt/b SBINDIR=/opt/sb \
    INCLUDEDIR=/opt/inc PKGCONFIGDIR=/opt/pc MANDIR=/opt/man UNITDIR=/opt/units TMPFILESDIR=/opt/tmpf
[ -z "$(files "$o")" ] || fail "left after uninstall with variables: $(files "$o")"
f=$tmp/foreign
mkdir -p "$f/usr/lib/systemd/system"
printf '[Socket]\nListenStream=/run/lvm/lvmetad.socket\n' > "$f/usr/lib/systemd/system/lvm2-lvmetad.socket"
printf '[Service]\nExecStart=/usr/sbin/lvmetad -f\n' > "$f/usr/lib/systemd/system/lvm2-lvmetad.service"
mk install DESTDIR="$f" PREFIX=/usr
mk uninstall DESTDIR="$f" PREFIX=/usr
[ "$(files "$f")" = "usr/lib/systemd/system/lvm2-lvmetad.service
usr/lib/systemd/system/lvm2-lvmetad.socket" ] || fail "uninstall removed a distribution's units: $(files "$f")"
echo "install-tree: variables, lvmetad.pc, STRIP, uninstall: ok"
