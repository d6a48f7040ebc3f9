#!/usr/bin/env bash
# mutate.sh: mutation testing with gremlins (`make mutate`). For each
# package it mutates the code one change at a time (a flipped comparison,
# a boundary moved, an operator swapped), runs the package's tests against
# each mutant, and prints per package how many mutants the tests killed,
# how many lived, and the efficacy (killed / (killed + lived)). Surviving
# mutants are listed with their place; the README (Reliability suites) says which are
# equivalent and why.
#
# MUTATE_PKGS picks the packages (default: those issue 14 names). It takes
# minutes per small package and much longer for the server and the store:
# it is a local gate, not part of CI.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

GREMLINS="${GREMLINS:-go run github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0}"
MUTATE_PKGS="${MUTATE_PKGS:-./internal/secret ./internal/auth ./internal/store ./internal/server $(go list -f '{{.Dir}}' ./internal/engine/... | sed "s|^$PWD|.|" | tr '\n' ' ')}"
export CHECKPOINT_DISABLE=1
unset TF_CLI_CONFIG_FILE
if [[ -z ${TMPDIR:-} && -d /dev/shm && -w /dev/shm ]]; then
	export TMPDIR=/dev/shm # SQLite's fsyncs cost nothing there
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for pkg in $MUTATE_PKGS; do
	out="$tmp/$(echo "$pkg" | tr / _).json"
	if ! $GREMLINS unleash --workers "${MUTATE_WORKERS:-1}" --timeout-coefficient 3 -o "$out" "$pkg" >"$tmp/log" 2>&1; then
		echo "gremlins failed on $pkg:" >&2
		tail -20 "$tmp/log" >&2
		continue
	fi
	python3 - "$pkg" "$out" <<'PY'
import json, sys
pkg, path = sys.argv[1], sys.argv[2]
d = json.load(open(path))
k, l = d.get("mutants_killed", 0), d.get("mutants_lived", 0)
nc, to = d.get("mutants_not_covered", 0), sum(1 for f in d.get("files", []) for m in f.get("mutations", []) if m["status"] == "TIMED OUT")
eff = 100.0 * k / (k + l) if k + l else 0.0
print(f"{pkg:34} killed {k:4}  lived {l:3}  not covered {nc:3}  timed out {to:3}  efficacy {eff:5.1f}%")
for f in d.get("files", []):
    for m in f.get("mutations", []):
        if m["status"] == "LIVED":
            print(f"    lived: {m['type']} at {f['file_name']}:{m['line']}:{m['column']}")
PY
done
