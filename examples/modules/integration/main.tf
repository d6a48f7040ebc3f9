# An integration: its endpoint, the credential that reaches it (optional)
# and its monitors. Every argument comes from a variable, so any of them
# may be null or, in the calling configuration, known only after apply.

resource "aio_credential" "this" {
  count = var.credential == null ? 0 : 1

  name        = "${var.name}-credential"
  description = var.credential.description
  type        = var.credential.type
  header      = var.credential.header
  query_param = var.credential.query_param
  username    = var.credential.username
  token_url   = var.credential.token_url
  client_id   = var.credential.client_id
  scopes      = var.credential.scopes

  # The hosts the secret may be sent to: review every change of this list.
  allowed_hosts = var.credential.allowed_hosts

  secret_wo         = var.secret
  secret_wo_version = var.credential.secret_wo_version

  rotation_period = var.credential.rotation_period
  expires_at      = var.credential.expires_at
}

resource "aio_endpoint" "this" {
  name                = var.name
  url                 = var.url
  api_version         = var.api_version
  description         = var.description
  owner               = var.owner
  data_classification = var.data_classification
  tags                = var.tags
  credential_id       = one(aio_credential.this[*].id)
}

resource "aio_monitor" "this" {
  for_each = var.monitors

  name        = "${var.name}-${each.key}"
  endpoint_id = aio_endpoint.this.id
  type        = each.value.type
  enabled     = each.value.enabled
  interval    = each.value.interval
  timeout     = each.value.timeout
  tags        = each.value.tags

  request        = each.value.request
  assertions     = each.value.assertions
  retry_strategy = each.value.retry_strategy

  degraded_response_time = each.value.degraded_response_time
}

# The integration's alert thresholds: on one of its monitors (monitor, a key
# of var.monitors) or, with monitor null, on the endpoint (all its monitors
# together).
resource "aio_alert_threshold" "this" {
  for_each = var.thresholds

  name        = "${var.name}-${each.key}"
  monitor_id  = each.value.monitor == null ? null : aio_monitor.this[each.value.monitor].id
  endpoint_id = each.value.monitor == null ? aio_endpoint.this.id : null
  metric      = each.value.metric
  comparison  = each.value.comparison
  warning     = each.value.warning
  critical    = each.value.critical
  window      = each.value.window

  pending_for       = each.value.pending_for
  recovery_for      = each.value.recovery_for
  recovery_warning  = each.value.recovery_warning
  recovery_critical = each.value.recovery_critical
  no_data           = each.value.no_data
  reminder_interval = each.value.reminder_interval

  slo               = each.value.slo
  burn_rate_windows = each.value.burn_rate_windows

  channel_ids = each.value.channel_ids
  runbook_url = each.value.runbook_url
  tags        = each.value.tags
}
