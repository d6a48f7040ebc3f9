# Adopt an endpoint that already exists in aiod. Write its configuration in
# an aio_endpoint block, then run terraform plan: the plan shows the import
# and any difference between the configuration and aiod.
import {
  to = aio_endpoint.payments
  id = "ep_01jdq3v8m5x2k7n4p6r9s0t1w2"
}
