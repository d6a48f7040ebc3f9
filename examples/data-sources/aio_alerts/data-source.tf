# A deploy gate: the run FAILS (plan or apply) while a critical alert fires
# for the payments endpoint, on the endpoint itself or on any of its
# monitors. Reference the endpoint's id, as here, rather than depends_on, so
# that the alerts are read at plan time.
data "aio_alerts" "payments" {
  endpoint_id = aio_endpoint.payments.id

  lifecycle {
    postcondition {
      condition     = self.firing_critical == 0
      error_message = "A critical alert is firing for payments-api: ${join(", ", [for a in self.alerts : a.threshold_id if a.severity == "critical" && a.state == "firing"])}."
    }
  }
}

# The payments team's warnings that are pending or firing.
data "aio_alerts" "payments_warnings" {
  severity = "warning"
  tags     = { team = "payments" }
}

# A check that only WARNS: the run goes on and the failed assertion is
# reported as a warning.
check "payments_no_warnings" {
  assert {
    condition     = length(data.aio_alerts.payments_warnings.alerts) == 0
    error_message = "Warnings are pending or firing on ${length(data.aio_alerts.payments_warnings.alerts)} payments thresholds."
  }
}
