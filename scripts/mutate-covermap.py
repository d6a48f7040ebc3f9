#!/usr/bin/env python3
"""mutate-covermap.py OUT.json PKG_DIR TEST_BINARY [PKG_DIR TEST_BINARY]...

Runs each top-level test (and fuzz target's seed corpus, and example) of a
coverage-instrumented test binary on its own, in the package's directory as
`go test` would, and writes which tests execute which line of the package
mutated: the first binary is that package's own; any further one is another
package's, built with -coverpkg=the mutated package (MUTATE_ALSO_TESTS in
scripts/mutate.sh), so that its profile counts only the mutated package:
{"file.go:LINE": ["TestA", "TestB"], ...}. scripts/mutate-go.py uses it to
run each mutant against the tests that reach it (see there). A test that
fails on the unmutated code stops the run: a mutation score over a red
suite means nothing.
"""

import collections
import json
import os
import subprocess
import sys
import tempfile


def main():
    out, pairs = sys.argv[1], sys.argv[2:]
    lines = collections.defaultdict(set)
    total = 0
    for pkg_dir, binary in zip(pairs[0::2], pairs[1::2]):
        total += cover_tests(pkg_dir, binary, lines)
    with open(out, "w") as f:
        json.dump({k: sorted(v) for k, v in lines.items()}, f)
    print(f"coverage map: {total} tests, {len(lines)} covered lines", file=sys.stderr)


def cover_tests(pkg_dir, binary, lines):
    """Adds the lines each test of binary executes to lines; returns the
    number of tests."""
    listed = subprocess.run([binary, "-test.list", ".*"], cwd=pkg_dir, check=True,
                            capture_output=True, text=True).stdout.split()
    tests = [t for t in listed if t.startswith(("Test", "Fuzz", "Example"))]
    with tempfile.TemporaryDirectory() as tmp:
        for t in tests:
            prof = os.path.join(tmp, "c.out")
            r = subprocess.run([binary, f"-test.run=^{t}$", "-test.count=1",
                                f"-test.coverprofile={prof}"],
                               cwd=pkg_dir, capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f"{t} fails on the unmutated code:\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
            with open(prof) as f:
                next(f)  # mode: ...
                for row in f:
                    place, _, count = row.rsplit(" ", 2)
                    if int(count) == 0:
                        continue
                    path, span = place.rsplit(":", 1)
                    start, end = span.split(",")
                    name = os.path.basename(path)
                    for line in range(int(start.split(".")[0]), int(end.split(".")[0]) + 1):
                        lines[f"{name}:{line}"].add(t)
    return len(tests)


if __name__ == "__main__":
    main()
