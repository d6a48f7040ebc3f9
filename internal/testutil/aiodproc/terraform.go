package aiodproc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Terraform runs the real terraform CLI on a working directory whose
// configuration uses the provider built from this module through
// dev_overrides (no registry, no terraform init), pointed at a Proc by
// AIO_ADDR and AIO_TOKEN.
type Terraform struct {
	// Dir holds main.tf and the state.
	Dir string
	env []string
}

// NewTerraform writes a CLI configuration with dev_overrides for
// aio-platform/aio and returns a runner for dir (a new temporary directory
// when empty) against p.
func NewTerraform(t testing.TB, p *Proc, dir string) *Terraform {
	t.Helper()
	if _, err := exec.LookPath("terraform"); err != nil {
		t.Fatalf("terraform is not on PATH: %v", err)
	}
	bin := ProviderBinary(t)
	if dir == "" {
		dir = t.TempDir()
	}
	cli := filepath.Join(t.TempDir(), "terraform.rc")
	rc := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"aio-platform/aio\" = %q\n  }\n  direct {}\n}\n", filepath.Dir(bin))
	if err := os.WriteFile(cli, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+cli, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1",
		"AIO_ADDR="+p.URL, "AIO_TOKEN="+p.Token, "TF_LOG=")
	return &Terraform{Dir: dir, env: env}
}

// Write writes main.tf.
func (tf *Terraform) Write(t testing.TB, config string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(tf.Dir, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Run runs terraform with args and returns its exit code and combined
// output; err is set only when terraform could not be run at all. It does
// not touch the test, so that it can run on a goroutine of its own while
// the test kills aiod.
func (tf *Terraform) Run(ctx context.Context, args ...string) (int, string, error) {
	cmd := exec.CommandContext(ctx, "terraform", args...)
	cmd.Dir, cmd.Env = tf.Dir, tf.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out.String(), nil
	}
	if err != nil {
		return 0, out.String(), fmt.Errorf("terraform %v: %w", args, err)
	}
	return 0, out.String(), nil
}

// MustRun is Run that fails the test when terraform could not be run.
func (tf *Terraform) MustRun(t testing.TB, ctx context.Context, args ...string) (int, string) {
	t.Helper()
	code, out, err := tf.Run(ctx, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return code, out
}

// StateIDs returns the id attribute of every resource instance in the
// local state, by resource address ("aio_endpoint.e[3]"); an absent state
// is empty.
func (tf *Terraform) StateIDs(t testing.TB) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tf.Dir, "terraform.tfstate"))
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}
	}
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Resources []struct {
			Mode, Type, Name string
			Instances        []struct {
				IndexKey   any `json:"index_key"`
				Attributes struct {
					ID string `json:"id"`
				} `json:"attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("terraform.tfstate: %v", err)
	}
	out := map[string]string{}
	for _, r := range st.Resources {
		if r.Mode != "managed" {
			continue
		}
		for _, in := range r.Instances {
			addr := r.Type + "." + r.Name
			if in.IndexKey != nil {
				addr += fmt.Sprintf("[%v]", in.IndexKey)
			}
			out[addr] = in.Attributes.ID
		}
	}
	return out
}
