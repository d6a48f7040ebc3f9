// Command terraform-provider-aio is the Terraform provider for AIO.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/aio-platform/terraform-provider-aio/internal/provider"
)

// Set by the linker (see .goreleaser.yml and the GNUmakefile): both are
// declared, so that -X main.version and -X main.commit take effect.
var (
	version = "dev"
	commit  = "none"
)

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()
	log.Printf("terraform-provider-aio %s (commit %s)", version, commit)
	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/aio-platform/aio",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}
