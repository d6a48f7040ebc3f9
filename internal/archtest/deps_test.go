package archtest

import (
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// module is the module path; patterns and rules below are relative to it.
const module = "github.com/aio-platform/terraform-provider-aio"

// depRule says that the packages matched by pattern must not depend,
// directly or through others, on any package under the forbidden paths.
type depRule struct {
	pattern   string
	forbidden []string
	why       string
}

// depRules are the dependency directions of DESIGN.md ("Kinds are data"),
// as data: a new rule is one entry.
var depRules = []depRule{
	{
		pattern:   "",
		forbidden: []string{"internal/server", "internal/store", "internal/engine"},
		why:       "the provider binary talks to aiod only through internal/client and internal/api",
	},
	{
		pattern:   "internal/store/...",
		forbidden: []string{"internal/engine", "internal/server", "internal/provider", "internal/client"},
		why:       "the store sits below the server and the engine: engine → store → api",
	},
	{
		pattern:   "internal/engine/...",
		forbidden: []string{"internal/server", "internal/provider", "internal/client"},
		why:       "the engine reads the store, never the API layer above it",
	},
	{
		pattern:   "internal/server/...",
		forbidden: []string{"internal/engine", "internal/provider", "internal/client"},
		why:       "the API layer reaches the engine only through the hooks in server.Config (TestChannel, Retention), which aiod wires",
	},
	{
		pattern:   "internal/client/...",
		forbidden: []string{"internal/server", "internal/store", "internal/engine", "internal/provider"},
		why:       "the client is the provider's view of aiod: wire types only",
	},
	{
		pattern:   "internal/api/...",
		forbidden: []string{"internal/client", "internal/server", "internal/store", "internal/engine", "internal/provider"},
		why:       "the wire types are the bottom layer that both sides share",
	},
}

// TestDependencyDirection runs `go list -deps` (build dependencies, not
// test ones: a test may reach across layers, the binaries may not) for each
// rule and fails on any forbidden package, naming the import chain that
// pulls it in so that the offending import is easy to find.
func TestDependencyDirection(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		// `go test` puts its own go first on PATH, so this means the test
		// binary runs outside `go test`: there is nothing to list with.
		t.Fatalf("the go command is needed to list dependencies: %v", err)
	}
	for _, rule := range depRules {
		name := rule.pattern
		if name == "" {
			name = "provider"
		}
		t.Run(name, func(t *testing.T) {
			g := listDeps(t, join(module, rule.pattern))
			for _, bad := range g.violations(rule.forbidden) {
				t.Errorf("%s must not depend on %s (%s): %s", join(".", rule.pattern), trim(bad[len(bad)-1]), rule.why,
					strings.Join(mapTrim(bad), " → "))
			}
		})
	}
}

// depGraph is the output of `go list -deps` for one pattern: the packages
// the pattern matched, and every listed package's imports.
type depGraph struct {
	roots   []string
	imports map[string][]string
}

// listDeps lists pattern's packages and their dependencies.
func listDeps(t *testing.T, pattern string) depGraph {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}} {{.DepOnly}} {{join .Imports " "}}`, pattern)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", pattern, err, stderr.String())
	}
	g := depGraph{imports: map[string][]string{}}
	for line := range strings.Lines(stdout.String()) {
		f := strings.Fields(line)
		if len(f) < 2 {
			t.Fatalf("unexpected go list line %q", line)
		}
		g.imports[f[0]] = f[2:]
		if f[1] == "false" {
			g.roots = append(g.roots, f[0])
		}
	}
	if len(g.roots) == 0 {
		t.Fatalf("go list -deps %s matched no package", pattern)
	}
	return g
}

// violations returns, for each forbidden package reachable from the roots,
// the shortest import chain from a root to it (breadth first, roots and
// imports in go list's order, so the chain is stable between runs).
func (g depGraph) violations(forbidden []string) [][]string {
	isForbidden := func(p string) bool {
		return slices.ContainsFunc(forbidden, func(f string) bool {
			full := join(module, f)
			return p == full || strings.HasPrefix(p, full+"/")
		})
	}
	prev := map[string]string{}
	seen := map[string]bool{}
	queue := slices.Clone(g.roots)
	for _, r := range g.roots {
		seen[r] = true
	}
	var out [][]string
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if isForbidden(p) {
			chain := []string{p}
			for q, ok := prev[p]; ok; q, ok = prev[q] {
				chain = append(chain, q)
			}
			slices.Reverse(chain)
			out = append(out, chain)
			continue // what it imports in turn is reported through it
		}
		for _, imp := range g.imports[p] {
			if !seen[imp] {
				seen[imp] = true
				prev[imp] = p
				queue = append(queue, imp)
			}
		}
	}
	return out
}

// join puts a module-relative path under base; "" is base itself.
func join(base, rel string) string {
	if rel == "" {
		return base
	}
	return base + "/" + rel
}

// trim shortens a package path of this module for messages.
func trim(p string) string {
	if p == module {
		return "."
	}
	return strings.TrimPrefix(p, module+"/")
}

func mapTrim(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = trim(p)
	}
	return out
}
