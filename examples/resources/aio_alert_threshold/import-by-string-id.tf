# Adopt an alert threshold that already exists in aiod: write its
# configuration in an aio_alert_threshold block, then run terraform plan.
import {
  to = aio_alert_threshold.payments_availability
  id = "thr_01jdq3v8m5x2k7n4p6r9s0t1w2"
}
