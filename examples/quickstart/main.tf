# The quickstart: integrations declared in HCL and applied to a local
# `aiod dev` — four endpoints, the credential of one of them (its secret
# write-only: in neither the plan nor the state), and a monitor that aiod
# really probes, with a CI gate on its health figures. Run it with
# `make quickstart`, which points Terraform at the provider built in ./bin
# through dev_overrides and sets AIO_ADDR/AIO_TOKEN, TF_VAR_aiod_addr and
# TF_VAR_payments_api_key.

terraform {
  required_version = ">= 1.11"

  required_providers {
    aio = {
      source = "aio-platform/aio"
    }
  }
}

# address and token come from AIO_ADDR and AIO_TOKEN.
provider "aio" {}

variable "aiod_addr" {
  description = "The base URL of the aiod dev the quickstart runs against, such as http://127.0.0.1:7420. Its own /healthz is the target the monitor below probes, so that real figures show up within a minute."
  type        = string
}

variable "payments_api_key" {
  description = "The payments API key. Ephemeral: Terraform keeps it in neither the plan nor the state; set it with TF_VAR_payments_api_key on every plan and apply."
  type        = string
  sensitive   = true
  ephemeral   = true
}

# The secret aiod uses to reach the payments API, in write-only mode: the
# value is sent to aiod (which encrypts it at rest and never returns it) and
# Terraform stores only secret_wo_version. Bump the version to rotate.
resource "aio_credential" "payments_api_key" {
  name              = "payments-api-key"
  description       = "API key of the payments API."
  type              = "api_key"
  header            = "x-api-key"
  secret_wo         = var.payments_api_key
  secret_wo_version = 1
  rotation_period   = "720h" # 30 days: sets rotation_due_at

  # aiod sends the key to these hosts only, checked on every probe, redirect
  # and API change: the payments API below. Review every change of it.
  allowed_hosts = ["payments.example.com"]
}

resource "aio_endpoint" "payments_api" {
  name                = "payments-api"
  url                 = "https://payments.example.com/api"
  api_version         = "v2"
  description         = "Card payments and refunds."
  owner               = "team-payments"
  data_classification = "confidential"
  credential_id       = aio_credential.payments_api_key.id

  tags = {
    team = "payments"
    env  = "dev"
  }
}

resource "aio_endpoint" "payments_webhook" {
  name        = "payments-webhook"
  url         = "https://hooks.example.com/payments"
  description = "Settlement notifications from the card processor."
  owner       = "team-payments"

  tags = {
    team = "payments"
    env  = "dev"
  }
}

resource "aio_endpoint" "orders_db" {
  name                = "orders-db"
  url                 = "tcp://orders-db.internal:5432"
  description         = "Orders database (PostgreSQL)."
  owner               = "team-orders"
  data_classification = "pii"

  tags = {
    team = "orders"
    env  = "dev"
  }
}

# aiod dev itself: nothing else in the quickstart is reachable (the other
# endpoints point at example.com and internal names, and nothing probes
# them), so the monitor below probes this one.
resource "aio_endpoint" "aiod" {
  name        = "aiod-dev"
  url         = var.aiod_addr
  description = "The local aiod dev control plane."
  owner       = "team-platform"

  tags = {
    team = "platform"
    env  = "dev"
  }
}

# aiod probes GET <aiod_addr>/healthz every 5 seconds and checks the answer.
resource "aio_monitor" "aiod_health" {
  name        = "aiod-dev-health"
  endpoint_id = aio_endpoint.aiod.id
  type        = "http"
  interval    = "5s"

  request = {
    path = "/healthz"
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
  ]
}

# The monitor's health figures over the last 5 minutes, read at every plan
# and apply. It references the monitor's id (not depends_on, which would
# defer the read to the apply whenever the monitor changes, hiding the
# figures from that plan).
#
# A CI gate that FAILS the run: the postcondition. The figures are null
# until the first probe (right after the monitor is created), so the gate
# holds then.
data "aio_monitor_status" "aiod_health" {
  monitor_id = aio_monitor.aiod_health.id
  window     = "5m"

  lifecycle {
    postcondition {
      condition     = self.availability_percent == null ? true : self.availability_percent >= 99
      error_message = "SLA breached: aiod-dev availability over the last 5 minutes is below 99 %."
    }
  }
}

# A gate that only WARNS: a failed assertion of a check block is reported as
# a warning and the run goes on.
check "aiod_latency" {
  assert {
    condition     = data.aio_monitor_status.aiod_health.latency_p95_ms == null ? true : data.aio_monitor_status.aiod_health.latency_p95_ms < 250
    error_message = "aiod-dev p95 response time over the last 5 minutes is 250 ms or more."
  }
}

# The figures themselves are not outputs on purpose: they change with every
# probe, so an output of them would make every `terraform plan` show a
# change. `make quickstart` prints them from the state instead.

# Every endpoint the payments team owns, as aiod has them now. depends_on
# makes Terraform read it after the endpoints above are created or changed.
data "aio_endpoints" "payments" {
  tags = {
    team = "payments"
  }

  depends_on = [
    aio_endpoint.payments_api,
    aio_endpoint.payments_webhook,
    aio_endpoint.orders_db,
  ]
}

output "payments_endpoints" {
  description = "URL of every endpoint tagged team=payments, by name."
  value       = { for e in data.aio_endpoints.payments.endpoints : e.name => e.url }
}

output "payments_api_id" {
  description = "The ID of the payments API endpoint, for `terraform import` and the aiod API."
  value       = aio_endpoint.payments_api.id
}

output "payments_api_key_credential_id" {
  description = "The ID of the payments API key credential. Its secret is in neither the state nor any API answer."
  value       = aio_credential.payments_api_key.id
}

output "aiod_health_monitor_id" {
  description = "The ID of the monitor of aiod dev, for GET /v1/monitors/{id}/status."
  value       = aio_monitor.aiod_health.id
}
