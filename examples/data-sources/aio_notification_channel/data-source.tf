# A notification channel's settings, by name or by ID (set exactly one). Its
# secret is never readable, here or through the API.
data "aio_notification_channel" "payments_mail" {
  name = "payments-mail"
}

output "payments_alert_recipients" {
  description = "Who the payments email channel writes to."
  value       = data.aio_notification_channel.payments_mail.to
}
