# A notification channel is imported by its ID, which starts with chan_. Its
# secret is never returned by aiod, so it cannot be imported: the first
# apply after the import sends the configured secret (secret_wo or secret)
# once. An email channel has no secret.
terraform import aio_notification_channel.incident_bot chan_01jdq3v8m5x2k7n4p6r9s0t1w2
