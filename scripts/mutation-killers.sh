#!/usr/bin/env bash
# mutation-killers.sh: applies, one at a time, the five one-line breaks that
# issue 14 found the suite blind to, runs the tests that must notice each,
# and restores the file. It fails unless every break makes its tests fail,
# so it proves that the killing tests really kill (`make mutate-killers`).
#
# Each break is a perl substitution on one line of one file; the file is
# copied aside first and put back whatever happens.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CHECKPOINT_DISABLE=1
unset TF_CLI_CONFIG_FILE

# name | file | perl substitution | package | test pattern
breaks=(
	"no-op monitor PUT bumps the revision|internal/server/kinds.go|s/if len\(changed\) == 0 \{/if len(changed) == 0 \&\& k.kind.Name != api.KindMonitor {/|./internal/server/|^(TestMonitorNoOpPutKeepsRevision|TestMonitorUpdateIsAudited|TestMonitorPutRefusesStaleIfMatch|TestFailedAuditInsertRollsBackTheChange)$"
	"monitor update writes no audit event|internal/server/kinds.go|s/if err := k.record\(ctx, tx, p, action, before, next, changed\); err != nil \{/if err := func() error { if k.kind.Name == api.KindMonitor { return nil }; return k.record(ctx, tx, p, action, before, next, changed) }(); err != nil {/|./internal/server/|^(TestMonitorNoOpPutKeepsRevision|TestMonitorUpdateIsAudited|TestMonitorPutRefusesStaleIfMatch|TestFailedAuditInsertRollsBackTheChange)$"
	"monitor PUT ignores a stale If-Match|internal/server/kinds.go|s/if err := checkRevision\(k.words\(\), want, cm.Revision\); err != nil \{/if err := checkRevision(k.words(), want, cm.Revision); err != nil \&\& k.kind.Name != api.KindMonitor {/|./internal/server/|^(TestMonitorNoOpPutKeepsRevision|TestMonitorUpdateIsAudited|TestMonitorPutRefusesStaleIfMatch|TestFailedAuditInsertRollsBackTheChange)$"
	"endpoint create ignores a failed audit insert|internal/server/kinds.go|s/(if err := k.record\(ctx, tx, p, api.ActionCreate, nil, next, changed\); err != nil) \{/$1 \&\& k.kind.Name != api.KindEndpoint {/|./internal/server/|^(TestMonitorNoOpPutKeepsRevision|TestMonitorUpdateIsAudited|TestMonitorPutRefusesStaleIfMatch|TestFailedAuditInsertRollsBackTheChange)$"
	"raw-result retention default 3 h instead of 4 h|internal/engine/results/retention.go|s/DefaultRawAge = 4 \* time.Hour/DefaultRawAge = 3 * time.Hour/|./internal/engine/results/|^TestPruneDefaultAges"
)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failed=0
for b in "${breaks[@]}"; do
	IFS='|' read -r name file subst pkg pattern <<<"$b"
	pattern="${KILLERS_RUN:-$pattern}"
	cp "$file" "$tmp/orig"
	perl -pi -e "$subst" "$file"
	if cmp -s "$file" "$tmp/orig"; then
		echo "BROKEN SCRIPT  $name: the substitution matched nothing in $file" >&2
		failed=1
		continue
	fi
	if go test -count=1 -run "$pattern" "$pkg" >"$tmp/out" 2>&1; then
		echo "LIVED   $name ($file): $pattern in $pkg still passes" >&2
		failed=1
	else
		echo "killed  $name: $(grep -m1 -E '^\s+\S+_test\.go:[0-9]+:' "$tmp/out" | sed "s/^[[:space:]]*//" | cut -c1-160 || true)"
	fi
	cp "$tmp/orig" "$file"
done
exit "$failed"
