# The customer portal handles personal data; the status API does not.
resource "aio_endpoint" "portal" {
  name                = "customer-portal"
  url                 = "https://portal.example.com/api"
  data_classification = "pii"
  tags                = { team = "crm" }
}

resource "aio_endpoint" "status" {
  name                = "status-api"
  url                 = "https://status.example.com/api"
  data_classification = "public"
}

# Raw results (with error texts and body excerpts) of pii endpoints: one
# day. The status API keeps the built-in 48 hours.
resource "aio_retention_policy" "pii_raw" {
  name                 = "gdpr-pii-raw-24h"
  data_kind            = "probe_results"
  max_age              = "24h"
  action               = "delete"
  data_classifications = ["pii"]
  description          = "Art. 5(1)(e): kept one day for troubleshooting."
}

# Before that, error texts of the CRM team's endpoints are blanked after
# one hour: the outcome and timings stay for the health figures.
resource "aio_retention_policy" "crm_errors" {
  name             = "gdpr-crm-errors-1h"
  data_kind        = "probe_results"
  max_age          = "1h"
  action           = "anonymize"
  anonymize_fields = ["error", "body_excerpt"]
  endpoint_tags    = { team = "crm" }
}

# Alert history of pii endpoints, with its deliveries: 30 days.
resource "aio_retention_policy" "pii_alerts" {
  name                 = "gdpr-pii-alerts-30d"
  data_kind            = "alert_events"
  max_age              = "720h"
  action               = "delete"
  data_classifications = ["pii"]
}

# The audit trail keeps every change, but actors become pseudonyms once
# the audit floor (400 days by default) has passed; sooner, only an
# admin's erasure request can.
resource "aio_retention_policy" "audit_pseudonyms" {
  name             = "gdpr-audit-actors-400d"
  data_kind        = "audit_events"
  max_age          = "9600h"
  action           = "anonymize"
  anonymize_fields = ["actor"]
}
