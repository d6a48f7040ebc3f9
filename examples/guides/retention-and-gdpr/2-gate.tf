# The gate of a scheduled pipeline: the run fails when any record is held
# past its policy, naming how many.
data "aio_retention_compliance" "gdpr" {
  lifecycle {
    postcondition {
      condition     = self.compliant
      error_message = "Retention breached: ${self.overdue} records are held past their policy."
    }
  }

  depends_on = [
    aio_retention_policy.pii_raw,
    aio_retention_policy.crm_errors,
    aio_retention_policy.pii_alerts,
    aio_retention_policy.audit_pseudonyms,
  ]
}

output "retention_overdue_by_scope" {
  value = { for i in data.aio_retention_compliance.gdpr.items : "${i.data_kind}/${i.scope}" => i.overdue }
}
