#!/usr/bin/env bash
# quickstart.sh: the end-to-end run of AIO on a fresh clone (`make quickstart`).
#
# It builds the provider and aiod, starts `aiod dev` (embedded SQLite in a
# temporary directory), points Terraform at the provider in ./bin through
# dev_overrides, and applies examples/quickstart: endpoints, a credential
# whose secret is write-only (fed from an ephemeral variable), and a monitor
# that aiod probes for real (aiod dev's own /healthz). Then: an empty plan;
# a drift round trip (an endpoint changed through the aiod API shows in
# `terraform plan -detailed-exitcode` as exit code 2, apply restores it, and
# the plan is empty again); the same for the credential's secret; the real
# health figures of the monitor, read by a refresh-only apply that also runs
# the CI gates (a postcondition and a check block); and finally destroy. Any
# failed expectation makes it exit non-zero.
#
# Environment:
#   AIO_PORT  port for aiod dev (default 7420)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${AIO_PORT:-7420}"
addr="http://127.0.0.1:${port}"
token="dev-root-token"

# The run has a set-up and then seven numbered sections, the same 1 to 7
# as the README's list; each section has steps.
setup() { printf '\n==> Set-up: %s\n\n' "$*"; }
section() {
	local n=$1
	shift
	printf '\n==> %s. %s\n\n' "$n" "$*"
}
step() { printf '\n--> %s\n\n' "$*"; }
fail() {
	printf '\nquickstart FAILED: %s\n' "$*" >&2
	exit 1
}

for cmd in go terraform curl; do
	command -v "$cmd" >/dev/null 2>&1 || fail "$cmd is required but not on PATH"
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/aio-quickstart.XXXXXX")"
aiod_pid=""
cleanup() {
	local rc=$?
	if [[ -n "$aiod_pid" ]] && kill -0 "$aiod_pid" 2>/dev/null; then
		kill "$aiod_pid" 2>/dev/null || true
		wait "$aiod_pid" 2>/dev/null || true
	fi
	if [[ $rc -ne 0 && -s "$tmp/aiod.log" ]]; then
		# The temporary directory goes, but the log of a failed run is
		# kept where the message says it is.
		local kept
		kept="$(mktemp "${TMPDIR:-/tmp}/aio-quickstart-aiod-log.XXXXXX")"
		cp "$tmp/aiod.log" "$kept"
		printf '\n--- last lines of the aiod log (kept in %s) ---\n' "$kept" >&2
		tail -n 30 "$kept" >&2 || true
	fi
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT

# Terraform colours its output only for a terminal reader.
if [[ ! -t 1 ]]; then
	export TF_CLI_ARGS="-no-color"
fi

# tf runs terraform with its errors in its output, and shows Terraform's
# "Provider development overrides are in effect" warning only the first
# time: it is the same on every command, and repeated it would drown the
# output it is meant to qualify.
tf() {
	local rc
	set +e
	terraform "$@" 2>&1 | hide_repeated_overrides_warning
	rc=${PIPESTATUS[0]}
	set -e
	return "$rc"
}
hide_repeated_overrides_warning() {
	awk -v seen="$tmp/overrides-warning.shown" '
		function bare(s) { gsub(/\033\[[0-9;]*m/, "", s); gsub(/[ \t]/, "", s); return s }
		BEGIN { shown = (system("test -e \"" seen "\"") == 0) }
		skip == 1 { if (index($0, "releases.")) skip = 2; next }
		skip == 2 { skip = 0; b = bare($0); if (b == "" || b == "╵") next }
		{
			warning = index($0, "Provider development overrides are in effect")
			if (held != "") {
				if (warning && shown) { held = ""; skip = 1; next }
				print held; held = ""
			}
			if (bare($0) == "╷") { held = $0; next }
			if (warning) {
				if (shown) { skip = 1; next }
				shown = 1; system("touch \"" seen "\"")
			}
			print
			fflush()
		}
		END { if (held != "") print held }
	'
}

setup "Build terraform-provider-aio and aiod into ./bin"
make -C "$repo" --no-print-directory build
[[ -x "$repo/bin/terraform-provider-aio" && -x "$repo/bin/aiod" ]] || fail "make build did not produce bin/terraform-provider-aio and bin/aiod"

setup "Start aiod dev on ${addr} (SQLite in a temporary directory)"
port_busy="port ${port} is already in use (by another aiod, or any other program): stop it, or pick another port, as in AIO_PORT=7431 make quickstart"
# Anything that accepts a connection on the port (HTTP or not) would make
# aiod dev fail to listen; say so before starting it.
if (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
	fail "$port_busy"
fi
# aiod dev writes its key file into --data before it creates the database,
# so the directory must exist.
mkdir -p "$tmp/data"
"$repo/bin/aiod" dev --listen "127.0.0.1:${port}" --data "$tmp/data" >"$tmp/aiod.log" 2>&1 &
aiod_pid=$!
for _ in $(seq 1 300); do # up to 30 s
	if curl -fsS -o /dev/null "$addr/healthz" 2>/dev/null; then
		break
	fi
	if ! kill -0 "$aiod_pid" 2>/dev/null; then
		grep -qi "address already in use" "$tmp/aiod.log" && fail "$port_busy"
		fail "aiod dev exited during start-up (its log follows)"
	fi
	sleep 0.1
done
curl -fsS "$addr/healthz" >/dev/null || fail "aiod dev did not answer on $addr/healthz"
echo "aiod dev is up (pid $aiod_pid): GET /healthz -> $(curl -fsS "$addr/healthz")"

setup "Point Terraform at ./bin through dev_overrides"
cat >"$tmp/terraform.rc" <<EOF
provider_installation {
  dev_overrides {
    "registry.terraform.io/aio-platform/aio" = "$repo/bin"
  }
  direct {}
}
EOF
export TF_CLI_CONFIG_FILE="$tmp/terraform.rc"
export CHECKPOINT_DISABLE=1
export TF_INPUT=0
export AIO_ADDR="$addr"
export AIO_TOKEN="$token"
cat "$TF_CLI_CONFIG_FILE"
echo
echo "AIO_ADDR=$AIO_ADDR AIO_TOKEN=$AIO_TOKEN TF_CLI_CONFIG_FILE=$TF_CLI_CONFIG_FILE"

# The configuration's input variables. The monitor probes aiod dev itself.
# The API key is made up for this run; it feeds an ephemeral variable, so
# Terraform keeps it in neither the plan nor the state. (Terraform needs it
# on every plan and apply, destroy included: it stays exported.)
export TF_VAR_aiod_addr="$addr"
TF_VAR_payments_api_key="qs-key-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
export TF_VAR_payments_api_key
echo "TF_VAR_aiod_addr=$TF_VAR_aiod_addr TF_VAR_payments_api_key=(a random key for this run, not shown)"

work="$tmp/quickstart"
cp -R "$repo/examples/quickstart" "$work"
cd "$work"
# With dev_overrides, and no provider other than the overridden one,
# terraform init is not needed (nor wanted: it would look the provider up in
# the registry).

# expect_plan runs terraform plan -detailed-exitcode (exit code 0: no
# changes, 1: error, 2: changes), shows its output, keeps it in plan.out and
# fails unless the exit code is the wanted one.
expect_plan() {
	local want=$1 what=$2 rc=0
	tf plan -detailed-exitcode -input=false >"$tmp/plan.out" || rc=$?
	cat "$tmp/plan.out"
	[[ "$rc" == "$want" ]] || fail "terraform plan -detailed-exitcode exited $rc, want $want ($what)"
	printf '\n>>> terraform plan -detailed-exitcode exited %s, as expected (%s)\n' "$rc" "$what"
}

# have_jq tells whether jq is there; without it the script falls back to
# sed and grep.
have_jq() { command -v jq >/dev/null 2>&1; }

# api_get KIND ID reads /v1/KIND/ID into $tmp/object.json and its revision
# (the ETag) into $etag.
api_get() {
	curl -fsS -D "$tmp/get.headers" -o "$tmp/object.json" \
		-H "Authorization: Bearer $AIO_TOKEN" "$addr/v1/$1/$2"
	etag="$(tr -d '\r' <"$tmp/get.headers" | awk 'tolower($1) == "etag:" {print $2}')"
	[[ -n "$etag" ]] || fail "GET /v1/$1/$2 returned no ETag"
	echo "GET /v1/$1/$2 -> ETag $etag"
}

# api_put KIND ID replaces /v1/KIND/ID with $tmp/put.json, guarded by
# If-Match so that a concurrent change would get 412.
api_put() {
	local status
	status="$(curl -sS -o "$tmp/put.out" -w '%{http_code}' -X PUT \
		-H "Authorization: Bearer $AIO_TOKEN" \
		-H "Content-Type: application/json" \
		-H "If-Match: $etag" \
		-H "Idempotency-Key: quickstart-$1-$$-$RANDOM" \
		--data-binary @"$tmp/put.json" "$addr/v1/$1/$2")"
	[[ "$status" == 200 ]] || { cat "$tmp/put.out" >&2; fail "PUT /v1/$1/$2 answered $status, want 200"; }
	echo "PUT /v1/$1/$2 (If-Match: $etag) -> $status"
	cat "$tmp/put.out"
	echo
}

# json_number FIELD FILE prints a top-level number (or null) of a JSON file.
json_number() {
	if have_jq; then
		jq -r --arg f "$1" '.[$f] // "null"' "$2"
	else
		grep -Eo "\"$1\":(-?[0-9.eE+-]+|null)" "$2" | head -n 1 | cut -d: -f2
	fi
}

section 1 "terraform plan (four endpoints, a credential and a monitor to create)"
tf plan -input=false -out="$tmp/create.tfplan"

section 2 "terraform apply, and the write-only secret is in neither the state nor the API"
tf apply -input=false -auto-approve "$tmp/create.tfplan"
ep_id="$(terraform output -raw payments_api_id)"
[[ "$ep_id" == ep_* ]] || fail "output payments_api_id is '$ep_id', want an ep_ ID"
cred_id="$(terraform output -raw payments_api_key_credential_id)"
[[ "$cred_id" == cred_* ]] || fail "output payments_api_key_credential_id is '$cred_id', want a cred_ ID"
mon_id="$(terraform output -raw aiod_health_monitor_id)"
[[ "$mon_id" == mon_* ]] || fail "output aiod_health_monitor_id is '$mon_id', want a mon_ ID"

step "The write-only secret is in neither the state nor the API"
[[ -s terraform.tfstate ]] || fail "no terraform.tfstate after apply"
if grep -qF "$TF_VAR_payments_api_key" terraform.tfstate; then
	fail "the secret of $cred_id is in terraform.tfstate"
fi
echo "terraform.tfstate: the secret does not occur; Terraform keeps only:"
if have_jq; then
	jq -c '.resources[] | select(.type == "aio_credential") | .instances[0].attributes | {secret, secret_wo, secret_wo_version, secret_revision}' terraform.tfstate
else
	grep -E '"(secret|secret_wo|secret_wo_version|secret_revision)":' terraform.tfstate
fi
curl -fsS -H "Authorization: Bearer $AIO_TOKEN" "$addr/v1/credentials/$cred_id" >"$tmp/cred.json"
if grep -qF "$TF_VAR_payments_api_key" "$tmp/cred.json"; then
	fail "GET /v1/credentials/$cred_id returned the secret"
fi
echo "GET /v1/credentials/$cred_id (metadata only; aiod never returns the secret):"
cat "$tmp/cred.json"
echo

section 3 "terraform plan -detailed-exitcode (no changes expected: exit 0)"
expect_plan 0 "no changes after apply"

section 4 "Drift of an endpoint: found by the plan, repaired by apply"
step "Change ${ep_id} outside Terraform through the aiod API"
# Read the endpoint and its revision (the ETag), then replace it with a new
# description, guarded by If-Match so that a concurrent change would get 412.
api_get endpoints "$ep_id"
cat "$tmp/object.json"
echo
new_description="Changed by hand, outside Terraform."
if have_jq; then
	jq -c --arg d "$new_description" '.description = $d' "$tmp/object.json" >"$tmp/put.json"
else
	sed -E "s/\"description\":(\"([^\"\\\\]|\\\\.)*\"|null)/\"description\":\"$new_description\"/" "$tmp/object.json" >"$tmp/put.json"
fi
grep -q "$new_description" "$tmp/put.json" || fail "could not change the description in the request body"
api_put endpoints "$ep_id"

step "terraform plan -detailed-exitcode (drift expected: exit 2)"
expect_plan 2 "drift found"
grep -q "$new_description" "$tmp/plan.out" || fail "the plan does not show the changed description"
grep -Eq '~ *description' "$tmp/plan.out" || fail "the plan does not update description"
echo "The plan shows the out-of-band description and puts the configured one back."

step "terraform apply (restore the declared configuration)"
tf apply -input=false -auto-approve

step "terraform plan -detailed-exitcode (no changes expected: exit 0)"
expect_plan 0 "drift repaired"

section 5 "Drift of the secret: found by the plan, repaired by apply"
step "Change the secret of ${cred_id} outside Terraform"
# The API takes a new secret in the write-only field "secret" of a PUT and
# bumps secret_revision. Terraform never sees secrets, but it kept the
# secret_revision it last wrote in the resource's private state: the next
# plan compares the two.
api_get credentials "$cred_id"
if have_jq; then
	jq -c '.secret = "rotated-by-hand-outside-terraform"' "$tmp/object.json" >"$tmp/put.json"
else
	sed -E 's/^\{/{"secret":"rotated-by-hand-outside-terraform",/' "$tmp/object.json" >"$tmp/put.json"
fi
api_put credentials "$cred_id"

step "terraform plan -detailed-exitcode (secret drift expected: exit 2)"
expect_plan 2 "secret changed outside Terraform"
grep -q "Secret changed outside Terraform" "$tmp/plan.out" || fail "the plan does not warn that the secret changed outside Terraform"
grep -Eq '~ *secret_revision' "$tmp/plan.out" || fail "the plan does not update secret_revision"
echo "The plan warns that the secret changed outside Terraform; apply sends the configured one again."

step "terraform apply (send the configured secret again)"
tf apply -input=false -auto-approve

step "terraform plan -detailed-exitcode (no changes expected: exit 0)"
expect_plan 0 "secret restored"

section 6 "Real health figures of ${mon_id} (aiod probes its own /healthz every 5 s)"
# Wait until the monitor has a few probes in the window (at most 60 s).
probes=0
for _ in $(seq 1 60); do
	curl -fsS -H "Authorization: Bearer $AIO_TOKEN" "$addr/v1/monitors/$mon_id/status?window=5m" >"$tmp/status.json" || fail "GET /v1/monitors/$mon_id/status failed"
	probes="$(json_number probes "$tmp/status.json")"
	[[ "$probes" =~ ^[0-9]+$ ]] || fail "no probe count in the status: $(cat "$tmp/status.json")"
	((probes >= 2)) && break
	sleep 1
done
((probes >= 2)) || fail "the monitor had $probes probes after 60 s, want at least 2: $(cat "$tmp/status.json")"
echo "GET /v1/monitors/$mon_id/status?window=5m -> $probes probes"
echo
# A refresh-only apply reads the data source again, runs its postcondition
# (the gate that fails the run) and the check block (the gate that warns),
# and stores the figures in the state, changing nothing else. The figures
# are not outputs: they change with every probe and would make every plan
# show a change.
tf apply -refresh-only -input=false -auto-approve
echo
terraform show -json >"$tmp/show.json"
if have_jq; then
	jq '.values.root_module.resources[] | select(.address == "data.aio_monitor_status.aiod_health") | .values' "$tmp/show.json" >"$tmp/figures.json"
else
	terraform state show -no-color data.aio_monitor_status.aiod_health |
		sed -nE 's/^ *([a-z0-9_]+) *= *"?([^"]*)"?$/"\1":\2/p' | paste -sd, - | sed 's/^/{/; s/$/}/' >"$tmp/figures.json"
fi
availability="$(json_number availability_percent "$tmp/figures.json")"
p95="$(json_number latency_p95_ms "$tmp/figures.json")"
avg="$(json_number latency_avg_ms "$tmp/figures.json")"
state_probes="$(json_number probes "$tmp/figures.json")"
error_rate="$(json_number error_rate_percent "$tmp/figures.json")"
ppm="$(json_number probes_per_minute "$tmp/figures.json")"
[[ "$state_probes" =~ ^[0-9]+$ ]] && ((state_probes >= 2)) || fail "data.aio_monitor_status.aiod_health has probes = $state_probes, want at least 2"
[[ "$availability" != null ]] || fail "data.aio_monitor_status.aiod_health has no availability_percent"
# Two decimals are plenty for people (the state keeps full precision).
round2() { awk -v v="$1" 'BEGIN { if (v ~ /^-?[0-9.eE+-]+$/) printf "%.2f", v; else printf "%s", v }'; }
availability="$(round2 "$availability")" p95="$(round2 "$p95")" avg="$(round2 "$avg")"
error_rate="$(round2 "$error_rate")" ppm="$(round2 "$ppm")"
printf '\n    data.aio_monitor_status.aiod_health (window 5m), as Terraform read it:\n\n'
printf '      availability   %s %%\n' "$availability"
printf '      latency p95    %s ms (average %s ms)\n' "$p95" "$avg"
printf '      probes         %s (%s per minute over the window)\n' "$state_probes" "$ppm"
printf '      error rate     %s %%\n\n' "$error_rate"
echo "The postcondition (availability >= 99) held; a breach would have failed this apply."
echo
echo "GET /metrics (Prometheus), the per-monitor gauges:"
curl -fsS "$addr/metrics" | grep -E "^aio_monitor_(up|latency_seconds)\{monitor_id=\"$mon_id\"\}" || fail "/metrics has no gauges for $mon_id"

step "terraform plan -detailed-exitcode (no changes expected: exit 0)"
expect_plan 0 "the figures changed, the configuration did not"

section 7 "Audit trail, then terraform destroy"
step "Audit trail of ${ep_id} and ${cred_id} (GET /v1/audit-events)"
for obj in "$ep_id" "$cred_id"; do
	curl -fsS -H "Authorization: Bearer $AIO_TOKEN" "$addr/v1/audit-events?object_id=$obj" >"$tmp/audit.json"
	if have_jq; then
		jq -r '.items[] | "\(.time)  \(.object_id)  \(.actor) (\(.actor_role))  \(.action)  revision \(.revision)  \(.changed_fields | join(","))"' "$tmp/audit.json"
	else
		cat "$tmp/audit.json"
		echo
	fi
done

step "terraform destroy"
tf destroy -input=false -auto-approve
for kind in monitors endpoints credentials; do
	left="$(curl -fsS -H "Authorization: Bearer $AIO_TOKEN" "$addr/v1/$kind")"
	grep -Eq '"items":(\[\]|null)' <<<"$left" || fail "$kind remain after destroy: $left"
done

printf '\n==> quickstart passed: plan, apply, empty plan, drift of an endpoint and of a secret found (exit 2) and repaired,\n'
printf '    real figures (availability %s %%, p95 %s ms, %s probes) behind a passing CI gate, destroy.\n' "$availability" "$p95" "$state_probes"
