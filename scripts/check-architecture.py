#!/usr/bin/env python3
"""Checks the shape of the code (issues 14 and 26), so that CI fails when it starts to tangle:

1. no circle of module dependencies, in `src/` and in each `browsers/*/src`: the graph is
   built from every in-crate path (`crate::`, `super::`, `self::`, `use` lines and paths in
   code alike) of each file's non-test code, each path mapped to the deepest module a file
   holds;
2. the layers of `src/`: every top-level module has a rank (LAYERS below, the order
   docs/ARCHITECTURE.md tells) and a module may use its own layer or a lower one; a use of a
   higher layer fails unless it is one of the EXCEPTIONS listed (each with its reason), and
   an exception that no longer occurs fails too, so that the list only shrinks;
3. no file over 500 lines of non-test code (everything before `#[cfg(test)]`), and no test
   file (under `tests/`, `browsers/*/tests`) over 1200 lines;
4. one voice on stderr: in the non-test code of `src/` and `browsers/*/src`, no
   `eprint!`/`eprintln!` and no `tracing::warn!`/`tracing::error!` outside the one reporter,
   `browsers/capture/src/report.rs` (notices, notes, warnings and errors signed with the
   running tool's name, control characters shown), and `src/output.rs`, saml-login's face
   of it; `tracing` is for `--verbose`. STDERR_ALLOWED lists those files, each with its
   reason.
5. "resolved once": no environment read (`env::var`, `var_os`, `vars`, `vars_os`, `env!`
   of a non-cargo variable) in the non-test code of `src/` and `browsers/*/src` outside
   the entry points and the resolver (ENV_ALLOWED), unless it is one of the ENV_EXCEPTIONS
   listed with its reason; an exception that no longer occurs fails too.
6. one clock: no read of the time of day (`now_utc()`, `SystemTime::now()`, jiff's
   `Timestamp::now()` ...) in the non-test code of `src/` outside `src/clock.rs`
   (`Instant`, for deadlines, is not the time of day).

Usage: scripts/check-architecture.py [ROOT]   (the repository; `src` is taken as its root
       too, as earlier versions were called)
       scripts/check-architecture.py --env [ROOT]   lists every environment read outside
       the entry points and the resolver, the listed exceptions included (a report)
Exit 0 when all hold; else 1, naming the circle, the import, the files or the read.
"""

import glob
import os
import re
import sys

MAX_LINES = 500
MAX_TEST_LINES = 1200

# Who may use whom in src/: a module may use its own rank or a lower one. Measured from the
# imports (issue 26): the commands drive the pipeline and read the resolved settings; the
# pipeline (login) and pkce-login's flow read what config resolved; config resolves through
# storage, aws and net; error, output and platform are leaves every layer uses. `cli` holds
# the parsed arguments and the drivers of `aws-console` and `pkce-login`, so it sits on top.
LAYERS = {
    "cli": 6,
    "commands": 5,
    "login": 4,
    "pkce": 4,
    "config": 3,
    "aws": 2,
    "storage": 2,
    "net": 2,
    "error": 1,
    "output": 1,
    "platform": 1,
    "termination": 1,
    "clock": 1,
}

# Uses of a higher layer that stay for now, each (from module, to module) with why. Removing
# one is welcome: the check then fails until its line here goes too.
EXCEPTIONS = {}


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


def crate_graph(src):
    """{module: set of modules it uses} of one crate's src/, and its files over the limit."""
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
            too_long.append((lines, path, MAX_LINES, "non-test code"))
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
    return graph, too_long


def find_circle(graph):
    """The first loop a depth-first search meets, or None."""
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
    return circle


def layer_problems(graph):
    """Uses of a higher layer not excepted, exceptions that no longer occur, unranked modules."""
    problems, used = [], set()
    for module in sorted(graph):
        if module[0] not in LAYERS:
            problems.append(f"src/{module[0]}: no layer: give it a rank in LAYERS (and in docs/ARCHITECTURE.md)")
            continue
        for target in sorted(graph[module]):
            if LAYERS.get(target[0], 0) <= LAYERS[module[0]]:
                continue
            if target in EXCEPTIONS.get(module, ()):
                used.add((module, target))
                continue
            problems.append(
                f"src: {'::'.join(module)} (layer {module[0]}, rank {LAYERS[module[0]]}) uses "
                f"{'::'.join(target)} (layer {target[0]}, rank {LAYERS[target[0]]}): a lower layer "
                "may not use a higher one; move the piece to the layer it belongs to"
            )
    for module, targets in sorted(EXCEPTIONS.items()):
        for target in sorted(targets - {t for m, t in used if m == module}):
            problems.append(
                f"scripts/check-architecture.py: the exception {'::'.join(module)} -> "
                f"{'::'.join(target)} no longer occurs: remove it from EXCEPTIONS"
            )
    problems = list(dict.fromkeys(problems))
    return problems


def long_tests(root):
    out = []
    dirs = [os.path.join(root, "tests")] + sorted(glob.glob(os.path.join(root, "browsers", "*", "tests")))
    for d in dirs:
        for r, _, names in os.walk(d):
            for name in names:
                if name.endswith(".rs"):
                    path = os.path.join(r, name)
                    with open(path, encoding="utf-8") as f:
                        lines = f.read().count("\n")
                    if lines > MAX_TEST_LINES:
                        out.append((lines, path, MAX_TEST_LINES, "lines (a test file)"))
    return out


ENV_READ = re.compile(r"\b(?:env::var(?:_os)?|env::vars(?:_os)?)\s*\(|\benv!\s*\(\s*\"(?!CARGO_)")
# Where reading the environment is the point: the entry points and the resolver.
ENV_ALLOWED = (
    "src/main.rs",
    "src/lib.rs",
    "src/bin/",
    "src/config/",
    "src/cli/resolve.rs",  # the resolver of the command line
    "src/cli/console.rs",  # aws-console's entry
    "src/cli/pkce.rs",  # pkce-login's entry
    "browsers/webview/src/bin/",  # the webview helper process's entry
)


# Environment reads that stay outside the resolver for now, each (file, text on the line)
# with why. Programs are looked for with what saml-login resolved (`Paths::programs`, a
# `saml_login_capture::Vars` of PATH, PATHEXT and the headless Chromium search's variables).
ENV_EXCEPTIONS = {
    # The fallback of `safe_temp_dir` when TMPDIR is unsafe: `std::env::temp_dir()` reads
    # TMPDIR at the same point, and every browser (and the webview helper process) makes
    # its private temp directory through it.
    ("browsers/capture/src/dirs.rs", '"XDG_RUNTIME_DIR"'),
    # Chromium's environment is ours with the secrets removed and its profile's
    # directories set: the inheritance of a child made explicit, not a setting read.
    ("browsers/headless/src/launch.rs", "std::env::vars_os()"),
}


def code_lines(root, bases, skip):
    """(file relative to root, line number, line) of the non-test code of every `.rs` file
    under `bases`, except the files `skip(rel)` says."""
    for base in bases:
        for r, _, names in os.walk(os.path.join(root, base)):
            for name in sorted(names):
                if not name.endswith(".rs"):
                    continue
                path = os.path.join(r, name)
                rel = os.path.relpath(path, root)
                if skip(rel.replace(os.sep, "/")):
                    continue
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                match = re.search(r"^#\[cfg\(test\)\]", text, re.M)
                code = text[: match.start()] if match else text
                for i, line in enumerate(code.split("\n"), 1):
                    yield rel, i, line


def env_reads(root):
    """Environment reads in non-test code outside the entry points and the resolver."""
    bases = ["src"] + sorted(os.path.relpath(p, root) for p in glob.glob(os.path.join(root, "browsers", "*", "src")))
    return [
        (rel, i, line.strip())
        for rel, i, line in code_lines(root, bases, lambda rel: rel.startswith(ENV_ALLOWED))
        if ENV_READ.search(re.sub(r"//.*", "", line))
    ]


STDERR_WRITE = re.compile(r"\beprint(?:ln)?!\s*\(|\btracing::(?:warn|error)!\s*\(|^\s*(?:warn|error)!\s*\(")
# The reporter (the one writer of lines for people, in the capture crate every browser
# and saml-login use) and saml-login's face of it, and nothing else today; a file that must
# write stderr raw (terminal control, say) is listed here with its reason. The role
# picker's cursor escape writes through `std::io::stderr()`, which is terminal control, not
# a line for people.
STDERR_ALLOWED = ("browsers/capture/src/report.rs", "src/output.rs")


def stderr_writes(root):
    """Lines for people written to stderr outside the reporter (non-test code of src/ and
    browsers/*/src)."""
    out = []
    bases = ["src"] + sorted(os.path.relpath(p, root) for p in glob.glob(os.path.join(root, "browsers", "*", "src")))
    for rel, i, line in code_lines(root, bases, lambda rel: rel in STDERR_ALLOWED):
        bare = re.sub(r"//.*", "", re.sub(r'"(?:\\.|[^"\\])*"', '""', line))
        if STDERR_WRITE.search(bare):
            way = (
                "crate::output (notice!, note!, warning!, error)"
                if rel.replace(os.sep, "/").startswith("src/")
                else "saml_login_capture's notice! or warning! (report)"
            )
            out.append(f"{rel}:{i}: {line.strip()}: say it through {way}, the one voice on stderr")
    return out
def env_problems(reads):
    """Reads not excepted, and exceptions that no longer occur."""
    problems, used = [], set()
    for rel, i, line in reads:
        hit = next((e for e in ENV_EXCEPTIONS if e[0] == rel.replace(os.sep, "/") and e[1] in line), None)
        if hit:
            used.add(hit)
            continue
        problems.append(
            f"{rel}:{i}: reads the environment ({line}): only the entry points and the resolver "
            "(src/cli/resolve.rs, src/config/) do; resolve the value there and pass it down"
        )
    for path, text in sorted(ENV_EXCEPTIONS - used):
        problems.append(
            f"scripts/check-architecture.py: the environment exception {path} {text} no longer "
            "occurs: remove it from ENV_EXCEPTIONS"
        )
    return problems


CLOCK_READ = re.compile(r"\bnow_utc\s*\(|\bSystemTime::now\s*\(|\bTimestamp::now\s*\(|\bZoned::now\s*\(|\bUtc::now\s*\(")


def clock_reads(root):
    """Reads of the wall clock in the non-test code of src/ outside src/clock.rs."""
    return [
        f"{rel}:{i}: {line.strip()}: reads the clock; take the time from crate::clock::now "
        "(or, in the pipeline, from its context)"
        for rel, i, line in code_lines(root, ["src"], lambda rel: rel == "src/clock.rs")
        if CLOCK_READ.search(re.sub(r"//.*", "", line))
    ]


def main():
    args = sys.argv[1:]
    report_env = "--env" in args
    args = [a for a in args if a != "--env"]
    root = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    if os.path.basename(os.path.normpath(root)) == "src":
        root = os.path.dirname(os.path.normpath(root)) or "."
    if report_env:
        reads = env_reads(root)
        for rel, i, line in reads:
            print(f"{rel}:{i}: {line}")
        print(
            f"{len(reads)} environment reads outside the entry points and the resolver "
            f"({len(ENV_EXCEPTIONS)} listed exceptions)"
        )
        return 0

    ok, too_long, counts = True, [], []
    crates = [os.path.join(root, "src")] + sorted(glob.glob(os.path.join(root, "browsers", "*", "src")))
    for src in crates:
        graph, long_files = crate_graph(src)
        too_long += long_files
        name = os.path.relpath(src, root)
        counts.append(f"{name} {len(graph)}")
        circle = find_circle(graph)
        if circle:
            ok = False
            print(f"{name}/: a circle of module dependencies: " + " -> ".join("::".join(m) for m in circle))
        if src == crates[0]:
            for problem in layer_problems(graph):
                ok = False
                print(problem)
    for problem in env_problems(env_reads(root)):
        ok = False
        print(problem)
    for problem in clock_reads(root):
        ok = False
        print(problem)
    too_long += long_tests(root)
    for problem in stderr_writes(root):
        ok = False
        print(problem)
    for lines, path, limit, what in sorted(too_long, reverse=True):
        ok = False
        print(f"{os.path.relpath(path, root)}: {lines} {what} (at most {limit}): split it where it divides")
    if ok:
        print(
            f"modules: {', '.join(counts)}; no circle; the layers of src/ kept "
            f"({len([t for ts in EXCEPTIONS.values() for t in ts])} listed exceptions); no file over "
            f"{MAX_LINES} lines of non-test code, no test file over {MAX_TEST_LINES}; no "
            f"environment read outside the entry points and the resolver "
            f"({len(ENV_EXCEPTIONS)} listed exceptions); stderr written only by the reporter "
            f"({', '.join(STDERR_ALLOWED)}); the clock read only by src/clock.rs"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
