#!/usr/bin/env bash
# After an exploration run: print every input libFuzzer wrote to fuzz/artifacts/
# (crashes, timeouts, leaks) with its target, size, SHA-256 and content in base64, so
# the find survives in the CI log of a run whose workspace is thrown away, and copy
# it to fuzz/open-crashes/TARGET-found-SHA8 (see that directory's README). Exits 1
# when there is any.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
found=0
for f in "$here"/artifacts/*/*; do
    [ -f "$f" ] || continue
    found=$((found + 1))
    target="$(basename "$(dirname "$f")")"
    sha="$(sha256sum "$f" | cut -c1-64)"
    kept="$here/open-crashes/$target-found-${sha:0:8}"
    cp "$f" "$kept"
    echo "fuzz: NEW find for $target: $(basename "$f") ($(wc -c <"$f") bytes, sha256 $sha), kept as fuzz/open-crashes/$(basename "$kept"); base64:"
    base64 "$f" | sed 's/^/    /'
done
[ "$found" -eq 0 ] && echo "fuzz: no new find"
[ "$found" -eq 0 ]
