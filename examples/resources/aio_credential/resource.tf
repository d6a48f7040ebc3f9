# Write-only mode (Terraform 1.11 or later): the secret comes from an
# ephemeral variable and is sent to aiod, but is kept in neither the plan nor
# the state. Set it in the environment, e.g. TF_VAR_payments_api_key, for
# the plans and applies that send it: when the credential is created and
# when secret_wo_version changes. With `default = null`, every other plan
# (a pull request's, a nightly drift check) runs without the secret.
variable "payments_api_key" {
  description = "The payments API key. Ephemeral: never written to the plan or the state. Needed only when the secret is sent."
  type        = string
  sensitive   = true
  ephemeral   = true
  default     = null
}

# An API key in a header (header names are lower case).
resource "aio_credential" "payments" {
  name        = "payments-api-key"
  description = "Key of the payments API, owned by team-payments."
  type        = "api_key"
  header      = "x-api-key"

  # The only hosts the key may be sent to. Review every change of this list.
  allowed_hosts = ["payments.example.com", "*.payments.example.com"]

  secret_wo = var.payments_api_key
  # Bump this whenever the key changes: only then is secret_wo sent again.
  secret_wo_version = 1

  rotation_period = "2160h" # 90 days: sets rotation_due_at
  expires_at      = "2027-01-01T00:00:00Z"
}

variable "partner_key" {
  type      = string
  sensitive = true
  ephemeral = true
}

# An API key in a query parameter instead of a header.
resource "aio_credential" "partner" {
  name              = "partner-feed-key"
  type              = "api_key"
  query_param       = "api_key"
  allowed_hosts     = ["*.partner.example", "feeds.partner.example:8443"]
  secret_wo         = var.partner_key
  secret_wo_version = 3
}

variable "webhook_token" {
  type      = string
  sensitive = true
  ephemeral = true
}

# A bearer token: sent as "Authorization: Bearer <secret>".
resource "aio_credential" "webhook" {
  name              = "settlement-webhook-token"
  type              = "bearer"
  allowed_hosts     = ["settlement.example.com"]
  secret_wo         = var.webhook_token
  secret_wo_version = 1
}

variable "oauth_client_secret" {
  type      = string
  sensitive = true
  ephemeral = true
}

# OAuth 2.0 client credentials: aiod fetches an access token from token_url
# with client_id and the secret (the client secret), and caches it until it
# expires.
resource "aio_credential" "ledger" {
  name      = "ledger-oauth-client"
  type      = "oauth2_client_credentials"
  token_url = "https://auth.example.com/oauth2/token"
  client_id = "aio-monitoring"
  scopes    = ["ledger.read", "health.read"]
  # The token URL's host receives the client secret: it must be listed too.
  allowed_hosts = ["auth.example.com", "ledger.example.com"]

  secret_wo         = var.oauth_client_secret
  secret_wo_version = 1
}

# Sensitive mode, for Terraform before 1.11 and OpenTofu: the same secret in
# `secret`. It is masked in plan output but IS STORED IN THE STATE, so protect
# the state (an encrypted backend with restricted access). Prefer secret_wo.
variable "orders_admin_password" {
  type      = string
  sensitive = true
}

# HTTP basic authentication: username plus the secret as the password.
resource "aio_credential" "orders_admin" {
  name          = "orders-admin-basic"
  type          = "basic"
  username      = "monitoring"
  allowed_hosts = ["orders-admin.internal.example.com", "10.20.0.15:8443", "[fd00::15]:8443"]
  secret        = var.orders_admin_password
}
