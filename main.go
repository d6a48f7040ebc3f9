// Command terraform-provider-aio is the Terraform provider for AIO.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	runtimedebug "runtime/debug"
	"runtime/pprof"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

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
	if os.Getenv("GOGC") == "" {
		// A provider process lives for one Terraform command and keeps
		// little alive, so at the default GOGC=100 the collector ran
		// often: 22% of the provider's CPU time in a 1,000-resource apply
		// and plan once the logging was off (make bench-terraform
		// -provider-cpuprofile), 2.2 s of 9.7 s. GOGC=400 took the total to
		// 7.6 s.
		runtimedebug.SetGCPercent(gcPercent)
	}
	if !debug {
		// In debug mode the provider runs outside Terraform, in an
		// environment of its own: its logs are read by whoever started it.
		provider.SilenceDiscardedLogs()
	}
	stopProfile := startCPUProfile(os.Getenv(envCPUProfileDir))
	defer stopProfile()
	// The framework's server, wrapped in the provider's fast path for
	// unchanged resources (internal/provider/fast_path.go); served as
	// providerserver.Serve would serve the framework's alone.
	var opts []tf6server.ServeOpt
	if debug {
		opts = append(opts, tf6server.WithManagedDebug())
	}
	newServer := provider.NewProtocol6Server(provider.New(version)())
	err := tf6server.Serve("registry.terraform.io/aio-platform/aio", func() tfprotov6.ProviderServer {
		s, err := newServer()
		if err != nil {
			log.Fatal(err.Error())
		}
		return s
	}, opts...)
	if err != nil {
		stopProfile()
		log.Fatal(err.Error())
	}
}

// gcPercent is the provider's GOGC unless the environment sets one.
const gcPercent = 400

// envCPUProfileDir names a directory where each provider process writes a
// CPU profile of its whole life (cpu-<pid>.pprof), for make bench-terraform
// -provider-cpuprofile. Unset, the default, nothing is profiled. Terraform
// starts several provider processes per command, hence a directory of files
// (go tool pprof merges them).
const envCPUProfileDir = "AIO_PROVIDER_CPUPROFILE_DIR"

// startCPUProfile starts profiling into dir when dir is set, and returns
// the function that stops it and writes the file.
func startCPUProfile(dir string) func() {
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("cpu-%d.pprof", os.Getpid()))) //nolint:gosec // G703: the developer names the directory; off unless set.
	if err != nil {
		log.Printf("%s: %v; not profiling", envCPUProfileDir, err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Printf("%s: %v; not profiling", envCPUProfileDir, err)
		_ = f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}
}
