variable "orders_slack_webhook_url" {
  description = "The Slack incoming-webhook URL of #orders-alerts. Ephemeral."
  type        = string
  sensitive   = true
  ephemeral   = true
  default     = null
}

variable "orders_webhook_signing_secret" {
  description = "The key that signs every webhook delivery (AIO-Signature). Ephemeral."
  type        = string
  sensitive   = true
  ephemeral   = true
  default     = null
}

# Slack: the incoming-webhook URL is the secret.
resource "aio_notification_channel" "orders_slack" {
  name              = "orders-slack"
  type              = "slack"
  secret_wo         = var.orders_slack_webhook_url
  secret_wo_version = 1
}

# A signed webhook to the incident tool.
resource "aio_notification_channel" "orders_incidents" {
  name              = "orders-incidents"
  type              = "webhook"
  url               = "https://incidents.example.com/hooks/aio"
  secret_wo         = var.orders_webhook_signing_secret
  secret_wo_version = 1
}
