#!/bin/sh
# cargo's runner for x86_64-pc-windows-gnu (CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER):
# runs the Windows test binary under Wine, in the prefix scripts/test-wine.sh made for
# this run. Wine's exit status is the Windows program's.
: "${WINEPREFIX:?WINEPREFIX is set by scripts/test-wine.sh}"
export WINEDEBUG=-all
exec /usr/lib/wine/wine64 "$@"
