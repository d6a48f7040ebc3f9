variable "name" {
  description = "The integration's name: the endpoint's name, and the prefix of its credential's and monitors' names."
  type        = string
}

variable "url" {
  description = "The endpoint's base URL: http(s)://... for http monitors, tcp://host:port for tcp monitors."
  type        = string
}

variable "api_version" {
  description = "The version of the integration's API in use. Null leaves it unset."
  type        = string
  default     = null
}

variable "description" {
  description = "A description of the integration. Null leaves it unset."
  type        = string
  default     = null
}

variable "owner" {
  description = "The team that owns the integration. Null leaves it unset."
  type        = string
  default     = null
}

variable "data_classification" {
  description = "public, internal, confidential or pii."
  type        = string
  default     = "internal"
}

variable "tags" {
  description = "Tags of the endpoint. Null leaves it untagged."
  type        = map(string)
  default     = null
}

variable "credential" {
  description = "The credential the endpoint uses by default; null for none. Its secret is var.secret."
  type = object({
    type              = string
    allowed_hosts     = set(string)
    description       = optional(string)
    header            = optional(string)
    query_param       = optional(string)
    username          = optional(string)
    token_url         = optional(string)
    client_id         = optional(string)
    scopes            = optional(set(string))
    secret_wo_version = number
    rotation_period   = optional(string)
    expires_at        = optional(string)
  })
  default = null
}

variable "secret" {
  description = "The credential's secret, sent write-only. Needed only when the credential is created or its secret_wo_version changes: plans that send no secret, such as a drift check, run without it."
  type        = string
  sensitive   = true
  ephemeral   = true
  default     = null
}

variable "monitors" {
  description = "The monitors of the endpoint, by key; each attribute as in aio_monitor."
  type = map(object({
    type                   = string
    enabled                = optional(bool)
    interval               = optional(string)
    timeout                = optional(string)
    degraded_response_time = optional(string)
    tags                   = optional(map(string))
    request = optional(object({
      method           = optional(string)
      path             = optional(string)
      query            = optional(map(string))
      headers          = optional(map(string))
      body             = optional(string)
      follow_redirects = optional(bool)
      tls = optional(object({
        insecure_skip_verify = optional(bool)
        ca_cert              = optional(string)
        server_name          = optional(string)
      }))
    }))
    assertions = optional(list(object({
      source     = string
      property   = optional(string)
      comparison = string
      target     = optional(string)
    })))
    retry_strategy = optional(object({
      type         = string
      max_retries  = optional(number)
      base_backoff = optional(string)
      max_backoff  = optional(string)
      jitter       = optional(bool)
      retry_on = optional(object({
        network_error = optional(bool)
        timeout       = optional(bool)
        status_codes  = optional(set(number))
      }))
    }))
  }))
  default = {}
}

variable "thresholds" {
  description = "The integration's alert thresholds, by key: each on the monitor of that key in monitors, or, with monitor null, on the endpoint; the attributes of aio_alert_threshold."
  type = map(object({
    monitor           = optional(string)
    metric            = string
    comparison        = optional(string)
    warning           = optional(number)
    critical          = optional(number)
    window            = optional(string)
    pending_for       = optional(string)
    recovery_for      = optional(string)
    recovery_warning  = optional(number)
    recovery_critical = optional(number)
    no_data           = optional(string)
    reminder_interval = optional(string)
    slo = optional(object({
      objective_percent = number
      period            = string
    }))
    burn_rate_windows = optional(list(object({
      long_window  = string
      short_window = string
      factor       = number
      severity     = string
    })))
    channel_ids = optional(set(string))
    runbook_url = optional(string)
    tags        = optional(map(string))
  }))
  default = {}
}
