# Compliance report: every change made by the CI token since the start of
# the year, oldest first. All filters are optional and combine with AND.
data "aio_audit_events" "ci_changes" {
  actor = "ci-terraform"
  since = "2026-01-01T00:00:00Z"
}

# Every change of one credential: secret changes are recorded as a sensitive
# change of "secret", never with its value.
data "aio_audit_events" "payments_key" {
  kind      = "credential"
  object_id = aio_credential.payments.id
}

output "ci_changes" {
  value = [
    for e in data.aio_audit_events.ci_changes.events :
    "${e.time} ${e.actor} (${e.actor_role}) ${e.action} ${e.object_kind} ${e.object_id} r${e.revision}: ${join(",", e.changed_fields)}"
  ]
}

output "payments_key_secret_changes" {
  description = "When the payments API key's secret was changed, and by whom."
  value = [
    for e in data.aio_audit_events.payments_key.events :
    "${e.time} by ${e.actor}" if contains(e.changed_fields, "secret")
  ]
}

output "ci_changes_with_values" {
  description = "Every path the CI token changed, with its old and new values (JSON); secrets show as withheld."
  value = flatten([
    for e in data.aio_audit_events.ci_changes.events : [
      for c in e.changes :
      c.sensitive ? "${e.object_id} ${c.path}: (secret, withheld)" : "${e.object_id} ${c.path}: ${c.old_value} -> ${c.new_value}"
    ]
  ])
}
