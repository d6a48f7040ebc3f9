# Adopt a notification channel that already exists in aiod. Write its
# configuration, secret included, in an aio_notification_channel block, then
# run terraform plan: the plan shows the import, and the apply sends the
# configured secret once, because Terraform has no record of the secret aiod
# holds.
import {
  to = aio_notification_channel.incident_bot
  id = "chan_01jdq3v8m5x2k7n4p6r9s0t1w2"
}
