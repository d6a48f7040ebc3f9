# An HTTPS API with every argument set. Probes reach it with the API key of
# the aio_credential example by default; a monitor may name another
# credential.
resource "aio_endpoint" "payments" {
  name                = "payments-api"
  url                 = "https://payments.example.com/api"
  api_version         = "v2"
  description         = "Card payments and refunds."
  owner               = "team-payments"
  data_classification = "confidential"
  credential_id       = aio_credential.payments.id

  tags = {
    team = "payments"
    env  = "prod"
  }
}

# A database reached over TCP: only a host and a port. data_classification
# defaults to "internal".
resource "aio_endpoint" "orders_db" {
  name  = "orders-db"
  url   = "tcp://orders-db.internal:5432"
  owner = "team-orders"
}
