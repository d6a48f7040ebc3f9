# Whether every kind of data aiod holds is within its retention. A
# scheduled pipeline runs terraform plan: the check warns when data is held
# past its policy (use a postcondition instead to fail the run).
data "aio_retention_compliance" "all" {}

check "retention_within_policy" {
  assert {
    condition     = data.aio_retention_compliance.all.compliant
    error_message = "${data.aio_retention_compliance.all.overdue} records are held past their retention policy."
  }
}
