package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Seeding: at N = 10,000 a `terraform apply` from empty takes close to an
// hour per kind on the 2-core machine, and the time is Terraform's own
// (its work per resource grows with its state: terraform_data created 10 a
// second in the first 5 minutes and 6 a second in the sixth), not the
// provider's or aiod's. The goal at 10,000 is on the plan, so
// for N at or above -seed-from the benchmark builds the state instead of
// applying it: it applies one resource of the kind for a state entry
// Terraform and the provider wrote themselves (the template), creates the
// N aio_endpoint objects through the API (10 at a time), writes the state
// of N entries from the template and the objects, and then times the plan,
// which must be empty, as after an apply: Terraform refreshes every
// resource, one GET each for aio_endpoint, exactly as it would after an
// apply.

// seedState writes dir/terraform.tfstate for n resources of kind, as an
// apply of config(kind, n, rep) would have left it.
func seedState(ctx context.Context, d *aiod, env []string, dir, kind string, n, rep int, token string) error {
	tmplDir := dir + "-template"
	if err := os.MkdirAll(tmplDir, 0o755); err != nil {
		return err
	}
	// The template's one resource has a name of its own (rep+1000), so it
	// takes none of the seeded names.
	if err := os.WriteFile(filepath.Join(tmplDir, "main.tf"), []byte(config(kind, 1, rep+1000)), 0o644); err != nil {
		return err
	}
	if _, err := terraform(ctx, tmplDir, env, "apply", "-auto-approve", "-input=false", "-no-color"); err != nil {
		return fmt.Errorf("template apply: %w", err)
	}
	raw, err := os.ReadFile(filepath.Join(tmplDir, "terraform.tfstate"))
	if err != nil {
		return err
	}
	var state map[string]any
	if err := json.Unmarshal(raw, &state); err != nil {
		return err
	}
	resources, _ := state["resources"].([]any)
	if len(resources) != 1 {
		return fmt.Errorf("template state: %d resources, want 1", len(resources))
	}
	res, _ := resources[0].(map[string]any)
	insts, _ := res["instances"].([]any)
	if len(insts) != 1 {
		return fmt.Errorf("template state: %d instances, want 1", len(insts))
	}
	tmpl, err := json.Marshal(insts[0])
	if err != nil {
		return err
	}
	var objects []map[string]any
	if kind == "aio_endpoint" {
		if objects, err = seedEndpoints(ctx, d, token, n, rep); err != nil {
			return err
		}
	}
	out := make([]any, n)
	for i := range n {
		var inst map[string]any
		if err := json.Unmarshal(tmpl, &inst); err != nil {
			return err
		}
		inst["index_key"] = i
		attrs, _ := inst["attributes"].(map[string]any)
		if attrs == nil {
			return errors.New("template state: an instance without attributes")
		}
		switch kind {
		case "aio_endpoint":
			o := objects[i]
			for _, k := range []string{"id", "name", "url", "revision", "created_at", "updated_at"} {
				attrs[k] = o[k]
			}
			// The provider keeps times as RFC 3339 with the fraction aiod
			// stores, in UTC (timeValue): the same text the API sends.
			for _, k := range []string{"created_at", "updated_at"} {
				t, err := time.Parse(time.RFC3339Nano, fmt.Sprint(o[k]))
				if err != nil {
					return fmt.Errorf("endpoint %v: %s: %w", o["id"], k, err)
				}
				attrs[k] = t.UTC().Format(time.RFC3339Nano)
			}
		case "noop_wide":
			// Its name and URL are aio_endpoint's; its computed values are
			// constants.
			attrs["name"] = fmt.Sprintf("bench-%d-%d-%d", n, rep, i)
			attrs["url"] = fmt.Sprintf("https://svc-%d.example.com/", i)
		default:
			// terraform_data and noop_thing hold "value-<index>" (the
			// template's is value-0); terraform_data's id is a UUID.
			inst["attributes"] = replaceString(attrs, "value-0", fmt.Sprintf("value-%d", i))
			if kind == "terraform_data" {
				inst["attributes"].(map[string]any)["id"] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
			}
		}
		out[i] = inst
	}
	res["instances"] = out
	if serial, ok := state["serial"].(float64); ok {
		state["serial"] = serial + 1
	}
	b, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "terraform.tfstate"), b, 0o600)
}

// seedEndpoints creates the n endpoints of config("aio_endpoint", n, rep)
// through the API and returns their answers, by index.
func seedEndpoints(ctx context.Context, d *aiod, token string, n, rep int) ([]map[string]any, error) {
	objects := make([]map[string]any, n)
	err := parallel(n, 10, func(i int) error {
		var o map[string]any
		if err := d.api(ctx, http.MethodPost, "/v1/endpoints", token, map[string]any{
			"name": fmt.Sprintf("bench-%d-%d-%d", n, rep, i), "url": fmt.Sprintf("https://svc-%d.example.com/", i),
		}, &o); err != nil {
			return err
		}
		objects[i] = o
		return nil
	})
	return objects, err
}

// replaceString returns v with every string equal to old replaced by new,
// at any depth.
func replaceString(v any, old, new string) any {
	switch x := v.(type) {
	case string:
		if x == old {
			return new
		}
		return x
	case map[string]any:
		for k, e := range x {
			x[k] = replaceString(e, old, new)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = replaceString(e, old, new)
		}
		return x
	}
	return v
}

// editorToken creates an editor token named name (with root, a token that
// may create tokens) whose own rate limit lets a benchmark's burst of
// creates through at full speed, so that they count against neither the
// limiter nor the root token, which Terraform uses and which keeps the
// default.
func editorToken(ctx context.Context, d *aiod, root, name string) (string, error) {
	var tok struct {
		Secret string `json:"secret"`
	}
	err := d.api(ctx, http.MethodPost, "/v1/tokens", root,
		map[string]any{"name": name, "role": "editor", "rate_limit": 1e6}, &tok)
	if err == nil && strings.TrimSpace(tok.Secret) == "" {
		err = errors.New("POST /v1/tokens: no secret in the answer")
	}
	return tok.Secret, err
}
