# One monitor, by name or by ID (set exactly one).
data "aio_monitor" "payments" {
  name = "payments-api-health"
}

output "payments_monitor" {
  value = {
    id       = data.aio_monitor.payments.id
    interval = data.aio_monitor.payments.interval
    enabled  = data.aio_monitor.payments.enabled
  }
}
