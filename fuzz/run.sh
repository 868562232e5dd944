#!/usr/bin/env bash
# Run the fuzz targets in turn for SECONDS_PER_TARGET (default 30) seconds each, one
# at a time, at the lowest CPU priority. Prints executions, time and crashes per
# target; exits 1 when any target crashed (the input is then in
# fuzz/artifacts/<target>/), 2 when the build fails.
#
#   fuzz/run.sh [SECONDS_PER_TARGET [TARGET...]]     (default: every target)
#   FUZZ_NO_BUILD=1 fuzz/run.sh ...                   (reuse the binaries already built)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). Stable Rust works: RUSTC_BOOTSTRAP=1
# lets cargo-fuzz pass its flags, and `--sanitizer none` builds plain libFuzzer
# coverage instrumentation (the code under test has no `unsafe`; the properties are
# panics and assertions, which need no sanitizer). The build happens once, then the
# binaries run directly (`cargo fuzz run` would rebuild before every target).
set -uo pipefail

secs="${1:-30}"
shift || true
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
export RUSTC_BOOTSTRAP=1
flags=(-O --sanitizer none)
triple="$(rustc -vV | sed -n 's/^host: //p')"
bin="target/$triple/release"

mkdir -p scratch
if [ -z "${FUZZ_NO_BUILD:-}" ]; then
    if ! nice -n 19 cargo fuzz build "${flags[@]}" >scratch/build.log 2>&1; then
        cat scratch/build.log
        echo "fuzz/run.sh: the build failed" >&2
        exit 2
    fi
fi

if [ "$#" -gt 0 ]; then
    targets="$*"
else
    targets=$(cargo fuzz list)
fi
failed=0
total_start=$(date +%s)
printf '%-18s %12s %8s %8s\n' target executions seconds crashes
for t in $targets; do
    # New corpus entries go to scratch/ (ignored by git); the seeds stay read-only.
    mkdir -p "scratch/$t" "artifacts/$t"
    log="scratch/$t.log"
    start=$(date +%s)
    nice -n 19 "$bin/$t" -artifact_prefix="artifacts/$t/" \
        -max_total_time="$secs" -print_final_stats=1 \
        "scratch/$t" "corpus/$t" >"$log" 2>&1
    rc=$?
    end=$(date +%s)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ -z "$execs" ]; then
        # A crash ends the run before the final stats: take the last progress line.
        execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    fi
    crashes=0
    if [ "$rc" -ne 0 ]; then
        crashes=1
        failed=1
    fi
    printf '%-18s %12s %8s %8s\n' "$t" "${execs:-?}" "$((end - start))" "$crashes"
    if [ "$rc" -ne 0 ]; then
        grep -E 'panicked at|SUMMARY|Test unit written to' "$log" | sed 's/^/    /'
        [ -s "$log" ] || echo "    (no output: is $bin/$t built?)"
    fi
done
echo "total: $(( $(date +%s) - total_start )) s"
exit "$failed"
