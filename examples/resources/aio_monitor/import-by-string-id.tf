# Adopt a monitor that already exists in aiod. Write its configuration in an
# aio_monitor block, then run terraform plan: the plan shows the import and
# any difference between the configuration and aiod.
import {
  to = aio_monitor.payments_health
  id = "mon_01jdq4b2c3d4e5f6g7h8j9k0m1"
}
