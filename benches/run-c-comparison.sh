#!/bin/sh
# Compare lvmetad-rs with a stock LVM2 2.02.188 you built yourself (nothing of LVM2 is
# shipped here): the config text parse/write benchmark against your libdevmapper, and
# the daemon benchmark against your lvmetad.
#
#   REF=/path/to/lvm2/install/prefix benches/run-c-comparison.sh
#
# REF            install prefix of the stock build: $REF/lib/libdevmapper.so,
#                $REF/include/libdevmapper.h (or LVM2_SRCDIR/libdm/libdevmapper.h),
#                $REF/sbin/lvmetad
# LVM2_SRCDIR    LVM2 source/build tree, only needed when $REF has no libdevmapper.h
# BENCH_SECS     seconds per measurement (config default 1, daemon default 3)
# ROUNDS         config rounds, alternating Rust and C per file; best kept (default 2)
# SKIP_DAEMON=1  only the config comparison
# CC             C compiler (default cc)
set -eu

: "${REF:?set REF to the install prefix of a stock LVM2 2.02.188 build}"
cd "$(dirname "$0")/.."
CC=${CC:-cc}
OUT=target/bench-c
INPUTS=${BENCH_INPUT_DIR:-$PWD/target/bench-inputs}
ROUNDS=${ROUNDS:-2}
CSECS=${BENCH_SECS:-1}
mkdir -p "$OUT"

if [ -f "$REF/include/libdevmapper.h" ]; then
	INC=$REF/include
elif [ -n "${LVM2_SRCDIR:-}" ] && [ -f "$LVM2_SRCDIR/libdm/libdevmapper.h" ]; then
	INC=$LVM2_SRCDIR/libdm
else
	echo "libdevmapper.h not found under \$REF/include (set LVM2_SRCDIR)" >&2
	exit 1
fi
LIBDIR=$REF/lib
[ -e "$LIBDIR/libdevmapper.so" ] || { echo "no $LIBDIR/libdevmapper.so" >&2; exit 1; }

echo "== compiling benches/c/dmconfig_bench.c against $LIBDIR/libdevmapper.so"
$CC -O2 -Wall -I"$INC" benches/c/dmconfig_bench.c -L"$LIBDIR" -Wl,-rpath,"$LIBDIR" \
	-ldevmapper -o "$OUT/dmconfig_bench"

echo "== generating inputs in $INPUTS (cargo bench --bench config, BENCH_GENERATE_ONLY=1)"
FILES=$(BENCH_INPUT_DIR=$INPUTS BENCH_GENERATE_ONLY=1 cargo bench -q --bench config 2>/dev/null | grep "^/")
echo "$FILES"
echo "== load before: $(cat /proc/loadavg)"

: > "$OUT/config-results.txt"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	for f in $FILES; do
		BENCH_SECS=$CSECS cargo bench -q --bench config -- "$f" 2>/dev/null | grep '^RESULT' >> "$OUT/config-results.txt"
		"$OUT/dmconfig_bench" "$CSECS" "$f" >> "$OUT/config-results.txt"
	done
	r=$((r + 1))
done
echo "== load after:  $(cat /proc/loadavg)"

echo
echo "== config text format: Rust (lvmetad::config) vs libdevmapper, best of $ROUNDS rounds of ${CSECS} s"
echo "   parse = parse a whole message into a tree and free it; write = write the tree to a buffer"
echo "   ratio = Rust MB/s / C MB/s (higher = Rust faster)"
printf '%-6s %-30s %10s %10s %10s %8s  %s\n' op input bytes "Rust MB/s" "C MB/s" ratio output
awk '$1 == "RESULT" { k = $3 " " $4; if (!(k in order)) { order[k] = n++; keys[n - 1] = k; bytes[k] = $5 }
		if ($7 > best[$2 " " k]) best[$2 " " k] = $7 }
	END { for (i = 0; i < n; i++) { k = keys[i]; split(k, a, " ")
		rs = best["rust " k]; c = best["c " k]
		printf "%s %s %s %.1f %.1f %.2f\n", a[1], a[2], bytes[k], rs, c, (c > 0 ? rs / c : 0) } }' \
	"$OUT/config-results.txt" | while read -r op name bytes rs c ratio; do
	same=""
	if [ "$op" = write ]; then
		if cmp -s "$INPUTS/$name.rs.out" "$INPUTS/$name.c.out"; then
			same="output byte-identical"
		else
			same="OUTPUT DIFFERS"
		fi
	fi
	printf '%-6s %-30s %10s %10s %10s %7sx  %s\n' "$op" "$name" "$bytes" "$rs" "$c" "$ratio" "$same"
done

if [ "${SKIP_DAEMON:-0}" != 1 ]; then
	echo
	echo "== daemon: cargo bench --bench daemon with LVMETAD_C=$REF/sbin/lvmetad"
	LVMETAD_C=$REF/sbin/lvmetad cargo bench -q --bench daemon
fi
