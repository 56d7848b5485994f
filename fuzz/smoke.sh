#!/usr/bin/env bash
# CI smoke run of every fuzz target: build them (libFuzzer, no sanitizer: the code
# under test is safe Rust; debug assertions and overflow checks on), regenerate the
# seeds, then run each target for FUZZ_SMOKE_SECS seconds (default 10). Fails on the
# first crash, leaving the input in fuzz/artifacts/TARGET/. Needs nightly and
# cargo-fuzz 0.12.0. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")"
secs=${FUZZ_SMOKE_SECS:-10}
targets=$(sed -n 's/^name = "\(.*\)"/\1/p' Cargo.toml | grep -v '^lvmetad-fuzz$')
cargo +nightly fuzz build -s none
./make-seeds.sh
bin=target/x86_64-unknown-linux-gnu/release
for t in $targets; do
    mkdir -p "artifacts/$t"
    extra=()
    [ "$t" = wire_reply ] && extra=(-max_len=4096)
    echo "fuzz smoke: $t (${secs}s)"
    if ! "$bin/$t" "corpus/$t" -artifact_prefix="artifacts/$t/" -max_total_time="$secs" \
        -timeout=10 -close_fd_mask=1 -print_final_stats=1 "${extra[@]}" >"artifacts/$t/smoke.log" 2>&1; then
        tail -40 "artifacts/$t/smoke.log"
        echo "fuzz smoke: $t FAILED (input in fuzz/artifacts/$t/)"
        exit 1
    fi
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' "artifacts/$t/smoke.log" | tr '\n' ' '
    echo
done
