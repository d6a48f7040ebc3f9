#!/usr/bin/env bash
# mutate.sh: mutation testing with gremlins (`make mutate`). For each
# package it mutates the code one change at a time (a flipped comparison,
# a boundary moved, an operator swapped), runs the package's tests against
# each mutant, and prints per package how many mutants the tests killed,
# how many lived, and the efficacy (killed / (killed + lived)). Surviving
# mutants are listed with their place; the README (Reliability suites) says which are
# equivalent and why.
#
# MUTATE_PKGS picks the packages (default: those issue 14 names).
# MUTATE_FILES, a regexp, mutates only the package files whose name matches
# (e.g. 'kinds|monitors'); the tests run are still the package's.
#
# Each mutant runs only the package's tests that execute its line on the
# unmutated code (scripts/mutate-covermap.py records them, one coverage
# profile per top-level test; scripts/mutate-go.py applies them): a test that
# never reaches a line cannot notice a change to it, so the verdict is the
# whole suite's, minutes instead of hours. MUTATE_SELECT=0 runs the whole
# package suite for every mutant instead. Still a local gate, not CI: the
# server and the store take about an hour each on two shared cores.
#
# Some code is tested from another package: the store's retention SQL
# (internal/store/retention.go) by the retention engine's tests, which run
# it on a real SQLite file. gremlins knows only a package's own tests, so it
# called every mutant of that file "not covered". MUTATE_ALSO_TESTS adds
# such packages, as PKG=TESTPKG[,TESTPKG] pairs separated by spaces
# (default: ./internal/store=./internal/engine/retention): their tests run
# with -coverpkg=PKG in the coverage run and the coverage map, and for each
# mutant they reach, beside the package's own (not with MUTATE_SELECT=0).
#
# MUTATE_DRY_RUN=1 only lists the mutants and whether a test reaches them
# (gremlins --dry-run: the coverage run alone, a minute or two a package).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MUTATE_PKGS="${MUTATE_PKGS:-./internal/secret ./internal/auth ./internal/store ./internal/server $(go list -f '{{.Dir}}' ./internal/engine/... | sed "s|^$PWD|.|" | tr '\n' ' ')}"
export CHECKPOINT_DISABLE=1
export GOFLAGS="${GOFLAGS:-} -count=1" # a cached coverage run would make gremlins' timeouts tiny
unset TF_CLI_CONFIG_FILE
if [[ -z ${TMPDIR:-} && -d /dev/shm && -w /dev/shm ]]; then
	export TMPDIR=/dev/shm # SQLite's fsyncs cost nothing there
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export MUTATE_REAL_GO="$(command -v go)" MUTATE_SRC="$PWD" MUTATE_MODULE="$(go list -m)"
mkdir -p "$tmp/bin"
# gremlins is built, not started with `go run`: `go run` puts GOROOT/bin
# first on the PATH of what it runs, so gremlins' `go test` would find the
# real go before the selecting wrapper below and run every mutant against
# the whole package suite.
if [[ -z ${GREMLINS:-} ]]; then
	GOBIN="$tmp/gremlins" go install github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
	GREMLINS="$tmp/gremlins/gremlins"
fi
MUTATE_ALSO_TESTS="${MUTATE_ALSO_TESTS-./internal/store=./internal/engine/retention}"
if [[ ${MUTATE_SELECT:-1} != 0 ]]; then
	printf '#!/bin/sh\nexec python3 %q "$@"\n' "$PWD/scripts/mutate-go.py" >"$tmp/bin/go"
	chmod +x "$tmp/bin/go"
fi
for pkg in $MUTATE_PKGS; do
	out="$tmp/$(echo "${pkg#./}" | tr / _).json"
	log="$tmp/log"
	if [[ -n ${MUTATE_OUT:-} ]]; then # keeps each package's JSON report and gremlins' log
		mkdir -p "$MUTATE_OUT"
		log="$MUTATE_OUT/$(basename "$out" .json).log"
	fi
	excludes=()
	# gremlins mutates the packages below the one it is given too: leave
	# them to their own entry in MUTATE_PKGS, or ./internal/engine would
	# mutate every engine package a second time.
	while IFS= read -r sub; do
		rel="${sub#"$pkg"/}"
		excludes+=(-E "(^|/)${rel//./\\.}/")
	done < <(find "$pkg" -mindepth 1 -type d -exec sh -c 'ls "$1"/*.go >/dev/null 2>&1' _ {} \; -print | sort)
	if [[ -n ${MUTATE_FILES:-} ]]; then
		for f in "$pkg"/*.go; do
			f="$(basename "$f")"
			if [[ $f != *_test.go ]] && ! [[ $f =~ ${MUTATE_FILES} ]]; then
				excludes+=(-E "(^|/)${f//./\\.}\$")
			fi
		done
	fi
	# MUTATE_ALSO: the other packages whose tests run for this one's mutants.
	export MUTATE_ALSO=""
	for pair in $MUTATE_ALSO_TESTS; do
		if [[ ${pair%%=*} == "$pkg" ]]; then MUTATE_ALSO="${pair#*=}"; MUTATE_ALSO="${MUTATE_ALSO//,/ }"; fi
	done
	export MUTATE_MAP=""
	dry=()
	if [[ ${MUTATE_DRY_RUN:-0} != 0 ]]; then dry=(--dry-run); fi
	if [[ ${MUTATE_SELECT:-1} != 0 && ${#dry[@]} == 0 ]]; then
		export MUTATE_MAP="$tmp/covermap.json"
		go test -c -cover -o "$tmp/pkg.test" "$pkg"
		binaries=("$pkg" "$tmp/pkg.test")
		i=0
		for also in $MUTATE_ALSO; do
			i=$((i + 1))
			go test -c -cover -coverpkg="$pkg" -o "$tmp/also$i.test" "$also"
			binaries+=("$also" "$tmp/also$i.test")
		done
		python3 scripts/mutate-covermap.py "$MUTATE_MAP" "${binaries[@]}"
	fi
	if ! PATH="$tmp/bin:$PATH" $GREMLINS unleash --workers "${MUTATE_WORKERS:-1}" --timeout-coefficient "${MUTATE_TIMEOUT_COEFFICIENT:-5}" "${excludes[@]}" "${dry[@]}" -o "$out" "$pkg" >"$log" 2>&1; then
		echo "gremlins failed on $pkg:" >&2
		tail -20 "$log" >&2
		continue
	fi
	if [[ -n ${MUTATE_OUT:-} ]]; then cp "$out" "$MUTATE_OUT/"; fi
	python3 - "$pkg" "$out" <<'PY'
import json, sys
pkg, path = sys.argv[1], sys.argv[2]
d = json.load(open(path))
k, l = d.get("mutants_killed", 0), d.get("mutants_lived", 0)
nc, to = d.get("mutants_not_covered", 0), sum(1 for f in d.get("files", []) for m in f.get("mutations", []) if m["status"] == "TIMED OUT")
eff = 100.0 * k / (k + l) if k + l else 0.0
runnable = sum(1 for f in d.get("files", []) for m in f.get("mutations", []) if m["status"] == "RUNNABLE")
if runnable:  # a dry run
    print(f"{pkg:34} dry run: runnable {runnable:4}  not covered {nc:3}")
    for f in d.get("files", []):
        st = [m["status"] for m in f.get("mutations", [])]
        print(f"    {f['file_name']}: runnable {st.count('RUNNABLE')}, not covered {st.count('NOT COVERED')}")
    sys.exit(0)
print(f"{pkg:34} killed {k:4}  lived {l:3}  not covered {nc:3}  timed out {to:3}  efficacy {eff:5.1f}%")
for f in d.get("files", []):
    for m in f.get("mutations", []):
        if m["status"] in ("LIVED", "TIMED OUT"):
            print(f"    {m['status'].lower()}: {m['type']} at {f['file_name']}:{m['line']}:{m['column']}")
PY
done
