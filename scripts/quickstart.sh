#!/usr/bin/env bash
# quickstart.sh: the end-to-end run of AIO on a fresh clone (`make quickstart`).
#
# It builds the provider and aiod, starts `aiod dev` (embedded SQLite in a
# temporary directory), points Terraform at the provider in ./bin through
# dev_overrides, and applies examples/quickstart: plan, apply, an empty plan,
# then a drift round trip (an endpoint changed through the aiod API shows in
# `terraform plan -detailed-exitcode` as exit code 2, apply restores it, and
# the plan is empty again), and finally destroy. Any failed expectation
# makes it exit non-zero.
#
# Environment:
#   AIO_PORT  port for aiod dev (default 7420)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${AIO_PORT:-7420}"
addr="http://127.0.0.1:${port}"
token="dev-root-token"

step=0
section() {
	step=$((step + 1))
	printf '\n==> %d. %s\n\n' "$step" "$*"
}
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
		printf '\n--- last lines of the aiod log (%s) ---\n' "$tmp/aiod.log" >&2
		tail -n 30 "$tmp/aiod.log" >&2 || true
	fi
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT

# Terraform colours its output only for a terminal reader.
if [[ ! -t 1 ]]; then
	export TF_CLI_ARGS="-no-color"
fi

section "Build terraform-provider-aio and aiod into ./bin"
make -C "$repo" --no-print-directory build
[[ -x "$repo/bin/terraform-provider-aio" && -x "$repo/bin/aiod" ]] || fail "make build did not produce bin/terraform-provider-aio and bin/aiod"

section "Start aiod dev on ${addr} (SQLite in a temporary directory)"
if curl -fsS -o /dev/null "$addr/healthz" 2>/dev/null; then
	fail "something already answers on ${addr}; stop it or pick another port with AIO_PORT=..."
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
	kill -0 "$aiod_pid" 2>/dev/null || fail "aiod dev exited during start-up"
	sleep 0.1
done
curl -fsS "$addr/healthz" >/dev/null || fail "aiod dev did not answer on $addr/healthz"
echo "aiod dev is up (pid $aiod_pid): GET /healthz -> $(curl -fsS "$addr/healthz")"

section "Point Terraform at ./bin through dev_overrides"
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
	terraform plan -detailed-exitcode -input=false >"$tmp/plan.out" 2>&1 || rc=$?
	cat "$tmp/plan.out"
	[[ "$rc" == "$want" ]] || fail "terraform plan -detailed-exitcode exited $rc, want $want ($what)"
	printf '\n>>> terraform plan -detailed-exitcode exited %s, as expected (%s)\n' "$rc" "$what"
}

section "terraform plan (three endpoints to create)"
terraform plan -input=false -out="$tmp/create.tfplan"

section "terraform apply"
terraform apply -input=false -auto-approve "$tmp/create.tfplan"
ep_id="$(terraform output -raw payments_api_id)"
[[ "$ep_id" == ep_* ]] || fail "output payments_api_id is '$ep_id', want an ep_ ID"

section "terraform plan -detailed-exitcode (no changes expected: exit 0)"
expect_plan 0 "no changes after apply"

section "Drift: change ${ep_id} outside Terraform through the aiod API"
# Read the endpoint and its revision (the ETag), then replace it with a new
# description, guarded by If-Match so that a concurrent change would get 412.
curl -fsS -D "$tmp/get.headers" -o "$tmp/endpoint.json" \
	-H "Authorization: Bearer $AIO_TOKEN" "$addr/v1/endpoints/$ep_id"
etag="$(tr -d '\r' <"$tmp/get.headers" | awk 'tolower($1) == "etag:" {print $2}')"
[[ -n "$etag" ]] || fail "GET /v1/endpoints/$ep_id returned no ETag"
echo "GET /v1/endpoints/$ep_id -> ETag $etag"
cat "$tmp/endpoint.json"
echo
new_description="Changed by hand, outside Terraform."
if command -v jq >/dev/null 2>&1; then
	jq -c --arg d "$new_description" '.description = $d' "$tmp/endpoint.json" >"$tmp/put.json"
else
	sed -E "s/\"description\":(\"([^\"\\\\]|\\\\.)*\"|null)/\"description\":\"$new_description\"/" "$tmp/endpoint.json" >"$tmp/put.json"
fi
grep -q "$new_description" "$tmp/put.json" || fail "could not change the description in the request body"
status="$(curl -sS -o "$tmp/put.out" -w '%{http_code}' -X PUT \
	-H "Authorization: Bearer $AIO_TOKEN" \
	-H "Content-Type: application/json" \
	-H "If-Match: $etag" \
	-H "Idempotency-Key: quickstart-drift-$$-$RANDOM" \
	--data-binary @"$tmp/put.json" "$addr/v1/endpoints/$ep_id")"
[[ "$status" == 200 ]] || { cat "$tmp/put.out" >&2; fail "PUT /v1/endpoints/$ep_id answered $status, want 200"; }
echo "PUT /v1/endpoints/$ep_id (If-Match: $etag) -> $status"
cat "$tmp/put.out"
echo

section "terraform plan -detailed-exitcode (drift expected: exit 2)"
expect_plan 2 "drift found"
grep -q "$new_description" "$tmp/plan.out" || fail "the plan does not show the changed description"
grep -Eq '~ *description' "$tmp/plan.out" || fail "the plan does not update description"
echo "The plan shows the out-of-band description and puts the configured one back."

section "terraform apply (restore the declared configuration)"
terraform apply -input=false -auto-approve

section "terraform plan -detailed-exitcode (no changes expected: exit 0)"
expect_plan 0 "drift repaired"

section "Audit trail of ${ep_id} (GET /v1/audit-events)"
curl -fsS -H "Authorization: Bearer $AIO_TOKEN" "$addr/v1/audit-events?object_id=$ep_id" >"$tmp/audit.json"
if command -v jq >/dev/null 2>&1; then
	jq -r '.items[] | "\(.time)  \(.actor) (\(.actor_role))  \(.action)  revision \(.revision)  \(.changed_fields | join(","))"' "$tmp/audit.json"
else
	cat "$tmp/audit.json"
	echo
fi

section "terraform destroy"
terraform destroy -input=false -auto-approve
left="$(curl -fsS -H "Authorization: Bearer $AIO_TOKEN" "$addr/v1/endpoints")"
grep -Eq '"items":(\[\]|null)' <<<"$left" || fail "endpoints remain after destroy: $left"

printf '\n==> quickstart passed: plan, apply, empty plan, drift found (exit 2) and repaired, destroy.\n'
