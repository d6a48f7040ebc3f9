# A policy's last run, for a report: when it ran and what it removed.
data "aio_retention_policy" "pii_raw" {
  name = "pii-raw-results-24h"
}

output "pii_raw_last_run" {
  value = {
    at         = data.aio_retention_policy.pii_raw.last_run_at
    deleted    = data.aio_retention_policy.pii_raw.last_run_deleted
    anonymized = data.aio_retention_policy.pii_raw.last_run_anonymized
    next       = data.aio_retention_policy.pii_raw.next_run_at
  }
}
