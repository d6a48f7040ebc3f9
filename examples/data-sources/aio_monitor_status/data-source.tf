# CI gates on a monitor's health figures over the last hour.
#
# Reference the monitor's id, as here, rather than depends_on: with
# depends_on Terraform defers the read to the apply whenever the monitor has
# a pending change, and such a plan sees no figures.

# A gate that FAILS the run (plan or apply) when the SLA is breached. The
# figures are null while the window holds no probes (a new monitor), hence
# the null checks.
data "aio_monitor_status" "payments" {
  monitor_id = aio_monitor.payments_health.id
  window     = "1h"

  lifecycle {
    postcondition {
      condition     = self.availability_percent == null ? true : self.availability_percent >= 99.9
      error_message = "payments-api availability over the last hour is below 99.9 %."
    }
    postcondition {
      condition     = self.missed == 0
      error_message = "Probes of payments-api were skipped: a probe ran longer than the interval."
    }
  }
}

# A check that only WARNS: the run goes on and the failed assertion is
# reported as a warning (and recorded in the state as a failed check).
check "payments_latency" {
  assert {
    condition     = data.aio_monitor_status.payments.latency_p95_ms == null ? true : data.aio_monitor_status.payments.latency_p95_ms < 500
    error_message = "payments-api p95 response time over the last hour is 500 ms or more."
  }
}

# No output of the figures: they change with every probe, and a changed
# output makes `terraform plan -detailed-exitcode` exit 2, which a scheduled
# drift check would report as drift. Read them with `terraform console`
# (data.aio_monitor_status.payments.availability_percent) or
# `terraform state show data.aio_monitor_status.payments` instead.
