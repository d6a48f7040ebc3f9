# Availability of one monitor over the last hour: a warning below 99.9 %, a
# critical alert below 99.5 %. The condition must hold for 5 minutes before
# the alert fires, and the critical alert resolves only once availability is
# back above 99.7 % (hysteresis), so that a flapping target does not page
# again and again.
resource "aio_alert_threshold" "payments_availability" {
  name              = "payments-availability"
  description       = "Payments API availability, as its health monitor sees it."
  monitor_id        = aio_monitor.payments_health.id
  metric            = "availability_percent"
  comparison        = "below"
  warning           = 99.9
  critical          = 99.5
  recovery_critical = 99.7
  window            = "1h"
  pending_for       = "5m"
  reminder_interval = "4h"
  channel_ids = [
    aio_notification_channel.payments_pager.id,
    aio_notification_channel.payments_slack.id,
  ]
  runbook_url = "https://runbooks.example.com/payments/availability"
  tags        = { team = "payments" }
}

# Error rate over every monitor of an endpoint together.
resource "aio_alert_threshold" "payments_errors" {
  name        = "payments-error-rate"
  endpoint_id = aio_endpoint.payments.id
  metric      = "error_rate_percent"
  comparison  = "above"
  warning     = 1
  critical    = 5
  window      = "15m"
  channel_ids = [aio_notification_channel.payments_slack.id]
}

# Latency: p99 above 1.5 s over 5 minutes is critical; it must be clear for
# 10 minutes before the alert resolves. The other latency metrics are
# latency_avg_ms and latency_p95_ms.
resource "aio_alert_threshold" "payments_latency" {
  name         = "payments-latency-p99"
  monitor_id   = aio_monitor.payments_health.id
  metric       = "latency_p99_ms"
  comparison   = "above"
  critical     = 1500
  window       = "5m"
  recovery_for = "10m"
  channel_ids  = [aio_notification_channel.incident_bot.id]
}

# Retries: a target that answers only on the second attempt is degrading.
resource "aio_alert_threshold" "payments_retries" {
  name        = "payments-retry-rate"
  monitor_id  = aio_monitor.payments_health.id
  metric      = "retry_rate_percent"
  comparison  = "above"
  warning     = 10
  window      = "30m"
  channel_ids = [aio_notification_channel.payments_slack.id]
}

# Throughput: fewer than one probe a minute means the monitor is starved
# (skipped runs) or disabled. A window without probes counts as alerting.
resource "aio_alert_threshold" "orders_db_throughput" {
  name       = "orders-db-probes-per-minute"
  monitor_id = aio_monitor.orders_db.id
  metric     = "probes_per_minute"
  comparison = "below"
  warning    = 1
  window     = "10m"
  no_data    = "alerting"
}

# Consecutive failures: a state, read at each evaluation, so no window.
resource "aio_alert_threshold" "orders_db_down" {
  name        = "orders-db-consecutive-failures"
  monitor_id  = aio_monitor.orders_db.id
  metric      = "consecutive_failures"
  comparison  = "above"
  warning     = 2
  critical    = 5
  channel_ids = [aio_notification_channel.payments_mail.id]
}

# Expiries, in days: the TLS certificate the probes see, and the secret of
# the credential the monitor uses (its expires_at or rotation_due_at,
# whichever comes first).
resource "aio_alert_threshold" "payments_certificate" {
  name        = "payments-tls-certificate"
  monitor_id  = aio_monitor.payments_health.id
  metric      = "tls_cert_expires_in_days"
  comparison  = "below"
  warning     = 30
  critical    = 7
  channel_ids = [aio_notification_channel.payments_mail.id]
}

resource "aio_alert_threshold" "payments_key_rotation" {
  name        = "payments-key-rotation"
  monitor_id  = aio_monitor.payments_health.id
  metric      = "credential_expires_in_days"
  comparison  = "below"
  warning     = 14
  critical    = 3
  channel_ids = [aio_notification_channel.payments_mail.id]
}

# SLO burn rate with the Google SRE workbook's windows (burn_rate_windows
# left null): 1h/5m at 14.4x and 6h/30m at 6x page, 3d/6h at 1x warns. A
# condition fires only while both its long and its short window burn the
# 30-day error budget of a 99.9 % objective faster than its factor.
resource "aio_alert_threshold" "payments_slo" {
  name        = "payments-slo-burn"
  endpoint_id = aio_endpoint.payments.id
  metric      = "error_budget_burn_rate"
  slo = {
    objective_percent = 99.9
    period            = "720h" # 30 days
  }
  channel_ids = [aio_notification_channel.payments_pager.id]
}

# The same with windows of one's own: a faster page and a slower warning.
resource "aio_alert_threshold" "orders_db_slo" {
  name       = "orders-db-slo-burn"
  monitor_id = aio_monitor.orders_db.id
  metric     = "error_budget_burn_rate"
  slo = {
    objective_percent = 99.5
    period            = "168h" # 7 days
  }
  burn_rate_windows = [
    { long_window = "30m", short_window = "5m", factor = 10, severity = "critical" },
    { long_window = "24h", short_window = "2h", factor = 2, severity = "warning" },
  ]
  channel_ids = [aio_notification_channel.incident_bot.id]
}
