# An alert threshold is imported by its ID, which starts with thr_.
terraform import aio_alert_threshold.payments_availability thr_01jdq3v8m5x2k7n4p6r9s0t1w2
