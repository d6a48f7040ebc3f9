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
