# Every production endpoint of the payments team whose name starts with
# "payments-". Both filters are optional; without any, every endpoint is listed.
data "aio_endpoints" "payments" {
  name_prefix = "payments-"

  tags = {
    team = "payments"
    env  = "prod"
  }
}

output "payments_endpoint_urls" {
  value = { for e in data.aio_endpoints.payments.endpoints : e.name => e.url }
}
