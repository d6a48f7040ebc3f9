# A monitor is imported by its ID, which starts with mon_.
terraform import aio_monitor.payments_health mon_01jdq4b2c3d4e5f6g7h8j9k0m1
