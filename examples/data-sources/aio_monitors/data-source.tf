# Every monitor of one endpoint that carries the tag tier=critical. Both
# filters are optional; without any, every monitor is listed.
data "aio_monitors" "critical" {
  endpoint_id = "ep_01jdq3v8m5x2k7n4p6r9s0t1w2"

  tags = {
    tier = "critical"
  }
}

output "critical_monitor_ids" {
  value = { for m in data.aio_monitors.critical.monitors : m.name => m.id }
}
