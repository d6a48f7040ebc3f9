# A retention policy is imported by its ID, which starts with ret_.
terraform import aio_retention_policy.pii_raw ret_01jdq3v8m5x2k7n4p6r9s0t1w2
