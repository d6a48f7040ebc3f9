# A classic threshold: availability of the health monitor over 15 minutes.
resource "aio_alert_threshold" "orders_availability" {
  name              = "orders-availability"
  monitor_id        = aio_monitor.orders_health.id
  metric            = "availability_percent"
  comparison        = "below"
  warning           = 99.5
  critical          = 98
  recovery_critical = 99
  window            = "15m"
  pending_for       = "2m"
  channel_ids       = [aio_notification_channel.orders_slack.id]
  runbook_url       = "https://runbooks.example.com/orders/availability"
  tags              = { team = "orders" }
}

# SLO burn rate over every monitor of the endpoint, with the SRE
# workbook's windows (burn_rate_windows left null).
resource "aio_alert_threshold" "orders_slo" {
  name        = "orders-slo-burn"
  endpoint_id = aio_endpoint.orders.id
  metric      = "error_budget_burn_rate"
  slo = {
    objective_percent = 99.9
    period            = "720h" # 30 days
  }
  channel_ids = [
    aio_notification_channel.orders_slack.id,
    aio_notification_channel.orders_incidents.id,
  ]
  tags = { team = "orders" }
}
