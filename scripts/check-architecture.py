#!/usr/bin/env python3
"""Checks the shape of src/ (issue 14), so that CI fails when it starts to tangle:

1. no circle of module dependencies: the graph is built from every in-crate path
   (`crate::`, `super::`, `self::`, `use` lines and paths in code alike) of each
   file's non-test code, each path mapped to the deepest module a file holds;
2. no file over 500 lines of non-test code (everything before `#[cfg(test)]`).

Usage: scripts/check-architecture.py [SRC_DIR]   (default: src)
Exit 0 when both hold; else 1, naming the circle or the files.
"""

import os
import re
import sys

MAX_LINES = 500


def module_of(path, src):
    rel = os.path.relpath(path, src)[: -len(".rs")]
    parts = rel.split(os.sep)
    if parts[-1] in ("lib", "main", "mod"):
        parts = parts[:-1]
    return tuple(parts)


def non_test_code(text):
    """The file up to its test module, without comments and string contents."""
    match = re.search(r"^#\[cfg\(test\)\]", text, re.M)
    code = text[: match.start()] if match else text
    code = re.sub(r'"(?:\\.|[^"\\])*"', '""', code)
    return re.sub(r"//[^\n]*", "", code), code.count("\n")


def expand(prefix, group):
    """`a::{b, c::{d, e}}` -> [a::b, a::c::d, a::c::e] (one path per item)."""
    out, depth, item = [], 0, ""
    for ch in group + ",":
        if ch == "," and depth == 0:
            item = item.strip()
            if item:
                m = re.match(r"([\w:]*?)(?:::)?\{(.*)\}$", item, re.S)
                if m:
                    out += expand(prefix + [p for p in m.group(1).split("::") if p], m.group(2))
                else:
                    out.append(prefix + [p for p in item.split(" as ")[0].split("::") if p])
            item = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        item += ch
    return out


def references(code, here):
    """The in-crate module paths `code` (in module `here`) names."""
    paths = []
    for m in re.finditer(r"\b(crate|super|self)::(\{[^;]*?\}|[\w:]+(?:::\{[^;]*?\})?)", code):
        root, rest = m.group(1), m.group(2)
        base = {"crate": [], "self": list(here), "super": list(here[:-1])}[root]
        if rest.startswith("{"):
            paths += [base + p for p in expand([], rest[1:-1])]
        elif "::{" in rest:
            head, group = rest.split("::{", 1)
            paths += [base + head.split("::") + p for p in expand([], group[:-1])]
        else:
            paths.append(base + [p for p in rest.split("::") if p])
    return paths


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "src"
    files = {}
    for root, _, names in os.walk(src):
        for name in names:
            if name.endswith(".rs"):
                path = os.path.join(root, name)
                if os.path.relpath(path, src).startswith("bin" + os.sep):
                    continue
                files[module_of(path, src)] = path
    graph, too_long = {}, []
    for module, path in files.items():
        with open(path, encoding="utf-8") as f:
            code, lines = non_test_code(f.read())
        if lines > MAX_LINES:
            too_long.append((lines, path))
        if module == ():
            continue  # the crate root declares every module
        edges = set()
        for ref in references(code, module):
            target = max(
                (tuple(ref[:n]) for n in range(len(ref), 0, -1) if tuple(ref[:n]) in files),
                key=len,
                default=None,
            )
            if target and target != module and target != ():
                edges.add(target)
        graph[module] = edges

    # Circles: a depth-first search that reports the first back edge's loop.
    state, stack, circle = {}, [], None

    def visit(m):
        nonlocal circle
        state[m] = "open"
        stack.append(m)
        for n in sorted(graph.get(m, ())):
            if circle:
                return
            if state.get(n) == "open":
                circle = stack[stack.index(n):] + [n]
                return
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = "done"

    for m in sorted(graph):
        if m not in state and not circle:
            visit(m)

    ok = True
    if circle:
        ok = False
        print("src/: a circle of module dependencies: " + " -> ".join("::".join(m) for m in circle))
    for lines, path in sorted(too_long, reverse=True):
        ok = False
        print(f"{path}: {lines} lines of non-test code (at most {MAX_LINES}): split it where it divides")
    if ok:
        print(f"src/: {len(graph)} modules, no circle; no file over {MAX_LINES} lines of non-test code")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
