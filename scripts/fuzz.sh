#!/usr/bin/env bash
# fuzz.sh: runs every Go fuzz target of the module (each `func FuzzX(f
# *testing.F)` in a _test.go file) for FUZZTIME each (`make fuzz`), one
# after the other, and prints per target how many inputs it tried and what
# it found. A failing input is written by go test to the package's
# testdata/fuzz/FuzzX/ directory: commit it, and it runs with every
# go test from then on. The seed corpora run in plain `go test` anyway.
#
# FUZZTIME (default 10s) is per target; FUZZ_MATCH (a regular
# expression, default all) picks targets by name.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FUZZTIME="${FUZZTIME:-10s}"
FUZZ_MATCH="${FUZZ_MATCH:-.}"
export CHECKPOINT_DISABLE=1
# The server targets write to SQLite on every input: on a memory file
# system fsync costs nothing, which multiplies the inputs tried.
if [[ -z ${TMPDIR:-} && -d /dev/shm && -w /dev/shm ]]; then
	export TMPDIR=/dev/shm
fi
unset TF_CLI_CONFIG_FILE

tmp="$(mktemp -d)"
out="$tmp/out"
trap 'rm -rf "$tmp"' EXIT
cache="$(go env GOCACHE)/fuzz"
failed=0
start=$SECONDS
while IFS= read -r file; do
	pkg="./$(dirname "$file")"
	# One instrumented test binary per package (go test -fuzz would link
	# one per target), run in the package's directory so that it reads
	# and writes the package's testdata/fuzz, and sharing go test's cache
	# of interesting inputs.
	bin="$tmp/$(echo "$pkg" | tr / _).test"
	if [[ ! -x $bin ]]; then
		go test -c -fuzz=. -o "$bin" "$pkg"
	fi
	importpath="$(go list "$pkg")"
	for name in $(grep -oE '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+).*/\1/'); do
		[[ "$name" =~ $FUZZ_MATCH ]] || continue
		t0=$SECONDS
		if (cd "$pkg" && "$bin" -test.run '^$' -test.fuzz "^${name}\$" -test.fuzztime "$FUZZTIME" -test.parallel 2 \
			-test.fuzzcachedir "$cache/$importpath") >"$out" 2>&1; then
			result=ok
		else
			result=FAIL
			failed=1
		fi
		last="$(grep -E '^fuzz: elapsed' "$out" | tail -1 | sed -E 's/^fuzz: elapsed: [^,]*, //')"
		printf '%-4s %-24s %-32s %s (%ds)\n' "$result" "$name" "$pkg" "${last:-no fuzzing happened}" $((SECONDS - t0))
		if [[ $result == FAIL ]]; then
			grep -vE '^fuzz: elapsed' "$out" | head -40 >&2
		fi
	done
done < <(grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' internal cmd 2>/dev/null | sort)
echo "fuzz: $FUZZTIME per target, $((SECONDS - start))s in all"
exit "$failed"
