#!/usr/bin/env bash
# Replay the seed corpus and every fixed crash (fuzz/crashes/TARGET-*) through each
# fuzz target. Exits 1 at the first input that fails, after printing the target's
# whole output (the panic message and where) and the input itself, in base64, so a
# red CI log shows what broke and lets anyone recreate the file.
#
#   fuzz/replay.sh BIN_DIR [TARGET...]     (BIN_DIR: where `cargo fuzz build` put them)
#   (default: every target in fuzz/fuzz_targets/)
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
bin="$1"
shift
targets="${*:-$(cd "$here/fuzz_targets" && ls *.rs | sed "s/\\.rs$//")}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# The output of a failed replay, then the input (a file, or a corpus directory's
# inputs are named in libFuzzer's output).
fail() {
    local target="$1" input="$2"
    echo "fuzz replay $target: FAILED on $input" >&2
    sed 's/^/    /' "$log" >&2
    if [ -f "$input" ]; then
        echo "    input ($(wc -c <"$input") bytes), base64:" >&2
        base64 "$input" | sed 's/^/    /' >&2
    fi
    exit 1
}

for t in $targets; do
    [ -x "$bin/$t" ] || { echo "fuzz replay: $bin/$t is not built" >&2; exit 1; }
    "$bin/$t" -runs=0 "$here/corpus/$t" >"$log" 2>&1 || fail "$t" "$here/corpus/$t"
    n=0
    for crash in "$here"/crashes/"$t"-*; do
        [ -e "$crash" ] || continue
        "$bin/$t" "$crash" >"$log" 2>&1 || fail "$t" "$crash"
        n=$((n + 1))
    done
    echo "fuzz replay $t: ok ($(find "$here/corpus/$t" -type f | wc -l) corpus inputs, $n fixed crashes)"
done
