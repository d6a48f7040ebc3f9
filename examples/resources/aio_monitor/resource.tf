# An HTTP monitor with a request, assertions and a retry strategy. aiod
# probes the endpoint every 30 seconds; every assertion must pass.
resource "aio_monitor" "payments_health" {
  name        = "payments-api-health"
  endpoint_id = aio_endpoint.payments.id
  type        = "http"
  interval    = "30s"
  timeout     = "5s"

  request = {
    method = "GET"
    path   = "/health" # joined to the endpoint's URL
    query = {
      deep = "true"
    }
    headers = {
      accept = "application/json" # lower-case names; authorization is refused
    }
    # Without credential_id the endpoint's credential applies, if it has one.
    credential_id = aio_credential.payments.id
  }

  assertions = [
    {
      source     = "status_code"
      comparison = "equals"
      target     = "200"
    },
    {
      source     = "json_body"
      property   = "$.status"
      comparison = "equals"
      target     = "ok"
    },
    {
      source     = "header"
      property   = "content-type"
      comparison = "contains"
      target     = "application/json"
    },
    {
      source     = "response_time"
      comparison = "less_than"
      target     = "2s"
    },
  ]

  # Up to 3 retries within one run, after waits of 500ms, 1s and 2s (doubled
  # each time, at most 5s, each randomised between zero and that length), on
  # connection errors, timeouts and these status codes. A probe that passes
  # only after a retry counts as passed, as a retry, and as degraded.
  retry_strategy = {
    type         = "exponential"
    max_retries  = 3
    base_backoff = "500ms"
    max_backoff  = "5s"
    jitter       = true
    retry_on = {
      network_error = true
      timeout       = true
      status_codes  = [502, 503, 504]
    }
  }

  # Passing but slower than this counts as degraded.
  degraded_response_time = "800ms"

  tags = {
    team = "payments"
    tier = "critical"
  }
}

# A TCP monitor: a TCP connect to the endpoint's tcp://host:port once a
# minute (the default interval). No request; it can only assert
# response_time.
resource "aio_monitor" "orders_db" {
  name        = "orders-db-reachable"
  endpoint_id = aio_endpoint.orders_db.id
  type        = "tcp"

  assertions = [
    {
      source     = "response_time"
      comparison = "less_than"
      target     = "250ms"
    },
  ]

  tags = {
    team = "orders"
  }
}
