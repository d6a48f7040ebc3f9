# Raw probe results of the endpoints that handle personal data are kept
# one day, whatever else applies: the shortest delete wins.
resource "aio_retention_policy" "pii_raw" {
  name                 = "pii-raw-results-24h"
  data_kind            = "probe_results"
  max_age              = "24h"
  action               = "delete"
  data_classifications = ["pii"]
  description          = "GDPR art. 5(1)(e): raw results of pii endpoints are needed for one day of troubleshooting."
}

# The payments team's error texts and body excerpts are blanked after 6
# hours; the results themselves (status, timings) stay for the figures.
resource "aio_retention_policy" "payments_errors" {
  name             = "payments-errors-6h"
  data_kind        = "probe_results"
  max_age          = "6h"
  action           = "anonymize"
  anonymize_fields = ["error", "body_excerpt"]
  endpoint_tags    = { team = "payments" }
}

# Who changed what stays provable, but not by name after two years: actors
# become stable pseudonyms (the same actor keeps the same one). Audit
# events younger than aiod's audit floor (400 days) are never touched.
resource "aio_retention_policy" "audit_actors" {
  name             = "audit-actors-2y"
  data_kind        = "audit_events"
  max_age          = "17520h"
  action           = "anonymize"
  anonymize_fields = ["actor"]
}

# Deliveries of alerts to channels are deleted after 90 days.
resource "aio_retention_policy" "deliveries" {
  name      = "deliveries-90d"
  data_kind = "deliveries"
  max_age   = "2160h"
  action    = "delete"
  tags      = { owner = "platform" }
}
