output "endpoint_id" {
  description = "The endpoint's ID."
  value       = aio_endpoint.this.id
}

output "credential_id" {
  description = "The credential's ID, or null without a credential."
  value       = one(aio_credential.this[*].id)
}

output "monitor_ids" {
  description = "The monitors' IDs, by key."
  value       = { for k, m in aio_monitor.this : k => m.id }
}

output "monitors" {
  description = "The monitors, by key, with every attribute."
  value       = aio_monitor.this
}

output "threshold_ids" {
  description = "The alert thresholds' IDs, by key."
  value       = { for k, a in aio_alert_threshold.this : k => a.id }
}
