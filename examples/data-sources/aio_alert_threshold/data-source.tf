# One alert threshold, by name or by ID (set exactly one).
data "aio_alert_threshold" "payments_slo" {
  name = "payments-slo-burn"
}

output "payments_slo_objective" {
  description = "The availability the payments SLO promises, in percent."
  value       = data.aio_alert_threshold.payments_slo.slo.objective_percent
}
