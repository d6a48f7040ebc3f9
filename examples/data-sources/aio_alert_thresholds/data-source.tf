# Every threshold of one monitor, to check in CI that it is watched.
data "aio_alert_thresholds" "payments_health" {
  monitor_id = aio_monitor.payments_health.id
}

check "payments_health_is_watched" {
  assert {
    condition     = length(data.aio_alert_thresholds.payments_health.alert_thresholds) > 0
    error_message = "The payments health monitor has no alert threshold."
  }
}

# The SLO burn-rate thresholds of every endpoint and monitor.
data "aio_alert_thresholds" "slo" {
  metric = "error_budget_burn_rate"
}
