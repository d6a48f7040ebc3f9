# Every monitor of one endpoint that carries the tag tier=critical. Both
# filters are optional; without any, every monitor is listed.
data "aio_monitors" "critical" {
  endpoint_id = aio_endpoint.payments.id

  tags = {
    tier = "critical"
  }
}

output "critical_monitor_ids" {
  value = { for m in data.aio_monitors.critical.monitors : m.name => m.id }
}
