#!/usr/bin/env python3
"""Stand-ins for WSL's Windows bridge in tests: `wslpath`, `wslview`, `powershell.exe`
and `cmd.exe` (symlinks to this file; the name it runs under says which).

Each records its argv and stdin as one JSON line in $FAKE_LOG. `wslpath -w PATH`
answers `\\\\wsl.localhost\\FakeDistro\\...` as WSL does. The three openers decode what they
were given as Windows would (PowerShell's single-quoted literal from the command on
stdin, cmd's carets), map the Windows path back to this machine and open that file
with $FAKE_BROWSER (the test's scripted browser), as Windows' default browser would.
A tool named in $FAKE_FAIL (comma-separated) exits 1 without opening anything.
"""

import json
import os
import re
import shlex
import subprocess
import sys

PREFIX = "\\\\wsl.localhost\\FakeDistro"


def to_linux(windows):
    if not windows.startswith(PREFIX + "\\"):
        sys.exit(f"not a WSL path: {windows!r}")
    return windows[len(PREFIX):].replace("\\", "/")


def browse(path):
    with open(os.environ["FAKE_LOG"], "a") as f:
        f.write(json.dumps({"opened": path}) + "\n")
    cmd = shlex.split(os.environ["FAKE_BROWSER"]) + ["file://" + path]
    return subprocess.run(cmd).returncode


def main():
    tool = os.path.basename(sys.argv[0])
    args = sys.argv[1:]
    stdin = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
    with open(os.environ["FAKE_LOG"], "a") as f:
        f.write(json.dumps({"tool": tool, "argv": args, "stdin": stdin}) + "\n")
    if tool in os.environ.get("FAKE_FAIL", "").split(","):
        return 1
    if tool == "wslpath":
        assert args[0] == "-w", args
        print(PREFIX + args[1].replace("/", "\\"))
        return 0
    if tool == "wslview":
        return browse(args[0])
    if tool == "powershell.exe":
        assert args == ["-NoProfile", "-NonInteractive", "-Command", "-"], args
        m = re.fullmatch(r"Start-Process -FilePath '((?:[^']|'')*)'\n", stdin)
        assert m, stdin
        return browse(to_linux(m.group(1).replace("''", "'")))
    if tool == "cmd.exe":
        assert args[:3] == ["/c", "start", ""], args
        return browse(to_linux(re.sub(r"\^(.)", r"\1", args[3])))
    return 2


if __name__ == "__main__":
    sys.exit(main())
