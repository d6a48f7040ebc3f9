# Fails the plan while a critical alert fires on the endpoint or any of its
# monitors.
data "aio_alerts" "orders" {
  endpoint_id = aio_endpoint.orders.id

  lifecycle {
    postcondition {
      condition     = self.firing_critical == 0
      error_message = "A critical alert is firing for orders-api: fix it before deploying."
    }
  }
}

# Only warns about warnings.
check "orders_no_warnings" {
  assert {
    condition     = length([for a in data.aio_alerts.orders.alerts : a if a.severity == "warning"]) == 0
    error_message = "Warnings are pending or firing for orders-api."
  }
}
