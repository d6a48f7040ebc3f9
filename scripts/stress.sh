#!/usr/bin/env bash
# make stress: the crash suite with more seeds and a full-size Terraform
# apply, the fault suite with more iterations, then one line of figures
# per suite, added up from the tests' "FIGURES" log lines.
#
# Knobs (environment): STRESS_CRASH_SEEDS (default 5 per scenario),
# STRESS_FAULT_ITERATIONS (default 5), STRESS_TF_RESOURCES (default 300),
# STRESS_MONITORS (default 1000). A failing seed is printed with the
# command that reproduces it.
set -euo pipefail
cd "$(dirname "$0")/.."

log_dir=$(mktemp -d "${TMPDIR:-/tmp}/aio-stress.XXXXXX")
crash_log=$log_dir/crash.log
fault_log=$log_dir/faults.log
export CHECKPOINT_DISABLE=1
unset TF_CLI_CONFIG_FILE

status=0
AIO_CRASH_SEEDS=${STRESS_CRASH_SEEDS:-5} \
AIO_CRASH_TF_RESOURCES=${STRESS_TF_RESOURCES:-300} \
AIO_CRASH_MONITORS=${STRESS_MONITORS:-1000} \
	go test -count=1 -v -timeout 180m -run '^TestCrash' ./internal/crashtest/ 2>&1 | tee "$crash_log" | grep --line-buffered -E '^(=== RUN|--- |    --- |PASS|FAIL|ok)|FIGURES|reproduce' || status=1
AIO_FAULT_ITERATIONS=${STRESS_FAULT_ITERATIONS:-5} TF_ACC=1 \
	go test -count=1 -v -timeout 120m -run '^TestAccFaults' ./internal/provider/ 2>&1 | tee "$fault_log" | grep --line-buffered -E '^(=== RUN|--- |    --- |PASS|FAIL|ok)|FIGURES|reproduce' || status=1
# A failed test can still print FIGURES; the exit status says whether it held.
grep -q -E '^(FAIL|--- FAIL)' "$crash_log" "$fault_log" && status=1

echo
echo "== figures (logs in $log_dir)"
awk '/FIGURES crash/ {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] += kv[2]; if (kv[1] == "scenario") s[kv[2]]++ }
		runs++
	}
	END {
		printf "crash: %d runs (", runs; sep = ""
		for (k in s) { printf "%s%s %d", sep, k, s[k]; sep = ", " }
		printf "), %d kills, %d acknowledged writes, %d lost, %d duplicates, %d bad replays\n", v["kills"], v["acked"], v["lost"], v["duplicates"], v["bad_replays"]
	}' "$crash_log"
awk '/FIGURES retention/ {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] != "FIGURES" && kv[1] != "retention") v[kv[1]] += kv[2] }
		runs++
	}
	END {
		printf "retention: %d runs, %d kills (%d with work left undone), %d records deleted and %d anonymized (%d and %d of them by interrupted, unrecorded runs), %d run records, %d old records left, %d anonymized texts back\n",
			runs, v["kills"], v["mid_run"], v["recorded_deleted"] + v["interrupted_deleted"], v["recorded_anonymized"] + v["interrupted_anonymized"], v["interrupted_deleted"], v["interrupted_anonymized"], v["runs"], v["remaining_old"], v["leaked"]
	}' "$crash_log"
awk '/FIGURES faults/ {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] != "FIGURES" && kv[1] != "faults") v[kv[1]] += kv[2] }
		runs++
	}
	END {
		printf "faults: %d runs, %d requests, %d answers dropped after commit, %d 502s, %d 503s, %d 429s, %d slow, %d resets, %d stalls past the timeout, %d duplicates\n",
			runs, v["requests"], v["answer_dropped"], v["502"], v["503"], v["429"], v["slow"], v["reset"], v["stall"], v["duplicates"]
	}' "$fault_log"
if [ "$status" -ne 0 ]; then
	echo "stress: FAILED (see the logs above)" >&2
fi
exit "$status"
