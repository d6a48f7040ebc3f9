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

# Every argument, set explicitly, looks like this (the token from a
# sensitive variable, or left out to come from AIO_TOKEN):
#
# provider "aio" {
#   address         = "https://aio.example.com"
#   token           = var.aio_token
#   ca_cert_file    = "/etc/aio/ca.pem" # only for a private certificate authority
#   retry_max       = 4                 # retries after a connection error, 429, 502, 503 or 504
#   request_timeout = "30s"             # time limit of each attempt
# }
