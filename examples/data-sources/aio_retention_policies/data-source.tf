# Every policy on raw probe results.
data "aio_retention_policies" "raw" {
  data_kind = "probe_results"
}

output "raw_result_policies" {
  value = [for p in data.aio_retention_policies.raw.retention_policies : "${p.name}: ${p.action} after ${p.max_age}"]
}
