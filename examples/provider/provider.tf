terraform {
  required_providers {
    aio = {
      source = "aio-platform/aio"
    }
  }
}

# With no arguments the provider reads the AIO_ADDR and AIO_TOKEN
# environment variables, which is the usual setup in CI:
#
#   export AIO_ADDR=https://aio.example.com
#   export AIO_TOKEN=...
provider "aio" {}

# Every argument set explicitly.
provider "aio" {
  alias           = "explicit"
  address         = "https://aio.example.com"
  token           = var.aio_token
  retry_max       = 4
  request_timeout = "30s"
}

variable "aio_token" {
  description = "An aiod API token with the editor role."
  type        = string
  sensitive   = true
}
