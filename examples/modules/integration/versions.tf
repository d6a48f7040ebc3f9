terraform {
  required_version = ">= 1.11"

  required_providers {
    aio = {
      source = "aio-platform/aio"
    }
  }
}
