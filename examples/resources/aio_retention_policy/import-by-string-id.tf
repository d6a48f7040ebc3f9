# Adopt a retention policy that already exists in aiod: write its
# configuration in an aio_retention_policy block, then run terraform plan.
import {
  to = aio_retention_policy.pii_raw
  id = "ret_01jdq3v8m5x2k7n4p6r9s0t1w2"
}
