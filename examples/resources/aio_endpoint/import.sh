# An endpoint is imported by its ID, which starts with ep_.
terraform import aio_endpoint.payments ep_01jdq3v8m5x2k7n4p6r9s0t1w2
