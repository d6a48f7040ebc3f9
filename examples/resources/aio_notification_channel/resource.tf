# Channel secrets are write-only (Terraform 1.11 or later): they come from
# ephemeral variables, are sent to aiod and are kept in neither the plan nor
# the state. They are needed only by the plans and applies that send them:
# when the channel is created and when secret_wo_version changes. With
# `default = null`, every other plan (a nightly drift check) runs without
# them.
variable "alerts_webhook_signing_secret" {
  description = "The key that signs every webhook delivery (AIO-Signature). Ephemeral."
  type        = string
  sensitive   = true
  ephemeral   = true
  default     = null
}

# A signed webhook: every delivery is a JSON POST to url, signed with the
# secret (HMAC-SHA256) so that the receiver can verify it.
resource "aio_notification_channel" "incident_bot" {
  name        = "incident-bot"
  description = "The incident bot opens a ticket for every critical alert."
  type        = "webhook"
  url         = "https://incidents.example.com/hooks/aio"
  headers = {
    "x-team" = "platform"
  }
  secret_wo         = var.alerts_webhook_signing_secret
  secret_wo_version = 1
  tags              = { team = "platform" }
}

variable "slack_webhook_url" {
  description = "The Slack incoming-webhook URL of #payments-alerts. Ephemeral."
  type        = string
  sensitive   = true
  ephemeral   = true
  default     = null
}

# Slack: the incoming-webhook URL is the secret, so the channel has no
# other setting. Resolved alerts are not posted here.
resource "aio_notification_channel" "payments_slack" {
  name              = "payments-slack"
  type              = "slack"
  send_resolved     = false
  secret_wo         = var.slack_webhook_url
  secret_wo_version = 1
}

variable "pagerduty_routing_key" {
  description = "The routing key of the PagerDuty service that pages the payments on-call. Ephemeral."
  type        = string
  sensitive   = true
  ephemeral   = true
  default     = null
}

# PagerDuty Events API v2: the routing key is the secret. Without
# events_url, events go to PagerDuty's https://events.pagerduty.com/v2/enqueue.
resource "aio_notification_channel" "payments_pager" {
  name              = "payments-pagerduty"
  type              = "pagerduty"
  secret_wo         = var.pagerduty_routing_key
  secret_wo_version = 1
}

# Email through the SMTP server configured on aiod. An email channel has no
# secret.
resource "aio_notification_channel" "payments_mail" {
  name = "payments-mail"
  type = "email"
  to   = ["payments-oncall@example.com", "platform@example.com"]
}
