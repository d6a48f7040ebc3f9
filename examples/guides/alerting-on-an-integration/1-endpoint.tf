variable "orders_api_token" {
  description = "The bearer token of the orders API. Ephemeral: in neither the plan nor the state."
  type        = string
  sensitive   = true
  ephemeral   = true
  default     = null
}

resource "aio_credential" "orders" {
  name              = "orders-api-token"
  type              = "bearer"
  allowed_hosts     = ["orders.example.com"]
  secret_wo         = var.orders_api_token
  secret_wo_version = 1
  rotation_period   = "2160h" # 90 days
}

resource "aio_endpoint" "orders" {
  name          = "orders-api"
  url           = "https://orders.example.com/api"
  owner         = "team-orders"
  credential_id = aio_credential.orders.id
  tags          = { team = "orders" }
}
