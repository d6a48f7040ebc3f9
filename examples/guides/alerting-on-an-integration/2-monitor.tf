resource "aio_monitor" "orders_health" {
  name        = "orders-api-health"
  endpoint_id = aio_endpoint.orders.id
  type        = "http"
  interval    = "30s"
  timeout     = "5s"

  request = {
    method = "GET"
    path   = "/health"
  }

  assertions = [
    {
      source     = "status_code"
      comparison = "equals"
      target     = "200"
    },
  ]
}
