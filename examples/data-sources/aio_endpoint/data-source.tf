# Look an endpoint up by name...
data "aio_endpoint" "payments" {
  name = "payments-api"
}

# ...or by ID, such as "ep_01jdq3v8m5x2k7n4p6r9s0t1w2" (here the ID of the
# endpoint of the aio_endpoint example). Set exactly one of the two.
data "aio_endpoint" "orders_db" {
  id = aio_endpoint.orders_db.id
}

output "payments_api_version" {
  value = data.aio_endpoint.payments.api_version
}
