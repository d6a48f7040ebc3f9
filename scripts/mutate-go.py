#!/usr/bin/env python3
"""mutate-go.py: the `go` that gremlins runs under scripts/mutate.sh.

gremlins runs the whole test suite of a package for every mutant, which at
roughly 10-25 s a run makes the server and the store take hours. Most of
that time is spent in tests that never execute the mutated line, and a test
that never reaches a line cannot notice a change to it. So, as PIT and
Stryker do, scripts/mutate.sh first records which top-level tests cover
which lines (one coverage profile per test, on the unmutated code), and
this wrapper narrows each mutant's `go test` to those tests with -run. The
verdict is the same one the whole package suite would give; a mutant on a
line that no single test reaches (code run only at package init, say) is
still run against the whole suite.

It also turns off `go vet` and the debug information of the test binary for
mutant runs only: the per-mutant build is the other half of the cost, and
neither changes what a test does.

When scripts/mutate.sh names other packages whose tests exercise this
one (MUTATE_ALSO, from MUTATE_ALSO_TESTS), gremlins' coverage run also runs
their tests with -coverpkg=this package, so that the lines only they reach
are not "not covered", and each mutant's `go test` runs them too (narrowed
by the same -run: the coverage map holds their tests as well).

Every other `go` command (`go list`, `go mod download`) goes to the real go
unchanged.
"""

import json
import os
import re
import sys


def real_go(args):
    go = os.environ["MUTATE_REAL_GO"]
    os.execv(go, [go] + args)


def mutated_place(pkg_dir, src_dir):
    """Returns (file name, first changed line) of the one mutated file."""
    for name in sorted(os.listdir(pkg_dir)):
        if not name.endswith(".go") or name.endswith("_test.go"):
            continue
        with open(os.path.join(pkg_dir, name), "rb") as f:
            mutated = f.read()
        try:
            with open(os.path.join(src_dir, name), "rb") as f:
                original = f.read()
        except FileNotFoundError:
            continue
        if mutated == original:
            continue
        # gremlins writes the mutant with go/printer, which also changes
        # alignment: the mutated line is the one whose tokens changed.
        a, b = mutated.split(b"\n"), original.split(b"\n")
        if len(a) != len(b):
            return name, None
        changed = [i for i, (x, y) in enumerate(zip(a, b), 1)
                   if re.sub(rb"\s+", b"", x) != re.sub(rb"\s+", b"", y)]
        return name, changed[0] if len(changed) == 1 else None
    return None, None


def also_packages():
    return os.environ.get("MUTATE_ALSO", "").split()


def main():
    args = sys.argv[1:]
    module = os.environ["MUTATE_MODULE"]
    # gremlins runs a mutant as `go test [-tags t] -timeout d -failfast <pkg>`;
    # its coverage run, from the module's root, as
    # `go test [-tags t] -cover -coverprofile FILE ./<pkg>/...`.
    if len(args) >= 2 and args[0] == "test" and "-coverprofile" in args and also_packages():
        real_go(args[:1] + [f"-coverpkg={args[-1]}"] + args[1:] + also_packages())
    if len(args) < 2 or args[0] != "test" or "-failfast" not in args or "-cover" in args:
        real_go(args)
    pkg = args[-1]
    rel = os.path.relpath(pkg, module) if pkg.startswith(module + "/") else "."
    # gremlins runs it in the package's directory of its copy of the module.
    pkg_dir = os.getcwd()
    if not pkg_dir.endswith(os.sep + rel) and os.path.isdir(os.path.join(pkg_dir, rel)):
        pkg_dir = os.path.join(pkg_dir, rel)
    src_dir = os.path.join(os.environ["MUTATE_SRC"], rel)
    extra = ["-vet=off", "-ldflags=-s -w"]
    name, line = mutated_place(pkg_dir, src_dir)
    tests = []
    map_path = os.environ.get("MUTATE_MAP", "")
    if name and map_path and os.path.exists(map_path):
        with open(map_path) as f:
            tests = json.load(f).get(f"{name}:{line}", [])
    if tests:
        extra.append("-run=^(" + "|".join(re.escape(t) for t in sorted(tests)) + ")$")
    log = os.environ.get("MUTATE_SELECTION_LOG")
    if log:
        with open(log, "a") as f:
            f.write(f"{name}:{line} {len(tests) or 'all'} tests\n")
    also = [module + "/" + os.path.normpath(p) for p in also_packages()]
    real_go(args[:1] + extra + args[1:] + also)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001
        # gremlins counts any failing exit as a killed mutant, so a fault
        # here must never fail the run: fall back to the whole suite.
        print(f"mutate-go.py: {e!r}; running the whole package suite", file=sys.stderr)
        real_go(sys.argv[1:])
