# A credential's metadata, by name or by ID (set exactly one). The secret is
# never readable, here or through the API.
data "aio_credential" "payments" {
  name = "payments-api-key"
}

# Point a new endpoint at a credential managed elsewhere.
resource "aio_endpoint" "payments_sandbox" {
  name          = "payments-api-sandbox"
  url           = "https://sandbox.payments.example.com/api"
  credential_id = data.aio_credential.payments.id
}

output "payments_key_rotation_due_at" {
  description = "When the payments API key is next due for rotation."
  value       = data.aio_credential.payments.rotation_due_at
}
