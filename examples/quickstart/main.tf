# The quickstart: three integrations declared in HCL and applied to a local
# `aiod dev`. Run it with `make quickstart`, which points Terraform at the
# provider built in ./bin through dev_overrides and sets AIO_ADDR/AIO_TOKEN.

terraform {
  required_version = ">= 1.11"

  required_providers {
    aio = {
      source = "aio-platform/aio"
    }
  }
}

# address and token come from AIO_ADDR and AIO_TOKEN.
provider "aio" {}

resource "aio_endpoint" "payments_api" {
  name                = "payments-api"
  url                 = "https://payments.example.com/api"
  api_version         = "v2"
  description         = "Card payments and refunds."
  owner               = "team-payments"
  data_classification = "confidential"

  tags = {
    team = "payments"
    env  = "dev"
  }
}

resource "aio_endpoint" "payments_webhook" {
  name        = "payments-webhook"
  url         = "https://hooks.example.com/payments"
  description = "Settlement notifications from the card processor."
  owner       = "team-payments"

  tags = {
    team = "payments"
    env  = "dev"
  }
}

resource "aio_endpoint" "orders_db" {
  name                = "orders-db"
  url                 = "tcp://orders-db.internal:5432"
  description         = "Orders database (PostgreSQL)."
  owner               = "team-orders"
  data_classification = "pii"

  tags = {
    team = "orders"
    env  = "dev"
  }
}

# Every endpoint the payments team owns, as aiod has them now. depends_on
# makes Terraform read it after the endpoints above are created or changed.
data "aio_endpoints" "payments" {
  tags = {
    team = "payments"
  }

  depends_on = [
    aio_endpoint.payments_api,
    aio_endpoint.payments_webhook,
    aio_endpoint.orders_db,
  ]
}

output "payments_endpoints" {
  description = "URL of every endpoint tagged team=payments, by name."
  value       = { for e in data.aio_endpoints.payments.endpoints : e.name => e.url }
}

output "payments_api_id" {
  description = "The ID of the payments API endpoint, for `terraform import` and the aiod API."
  value       = aio_endpoint.payments_api.id
}
