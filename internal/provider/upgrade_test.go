package provider

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

var updateStateShapes = flag.Bool("update-state-shapes", false, "pin the current state shape of every resource in testdata/state_shapes")

// TestStateShapes keeps every resource's schema version honest. The shape
// of each resource's state (every attribute path and its type) is pinned
// per schema version in testdata/state_shapes/<type>.v<version>.txt.
// States that users hold were written in a pinned shape, so:
//
//   - the current schema must have the shape pinned for its version: a
//     change fails here until it is either pinned again (an attribute
//     added or removed: old states still load, the missing attribute
//     null, the dropped one ignored) or, when an attribute changes type,
//     the schema's Version is bumped and the new shape pinned beside the
//     old one;
//   - every earlier pinned version needs a StateUpgrader whose PriorSchema
//     has that version's shape, so that states of that version are read
//     right and converted.
//
// Pin with: go test ./internal/provider -run TestStateShapes -update-state-shapes
func TestStateShapes(t *testing.T) {
	ctx := context.Background()
	for _, newResource := range New("test")().Resources(ctx) {
		r := newResource()
		var meta resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: "aio"}, &meta)
		var sr resource.SchemaResponse
		r.Schema(ctx, resource.SchemaRequest{}, &sr)
		t.Run(meta.TypeName, func(t *testing.T) {
			version := sr.Schema.Version
			got := stateShape(sr.Schema.Type().TerraformType(ctx))
			file := stateShapeFile(meta.TypeName, version)
			if *updateStateShapes {
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, []byte(got), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("%s has no pinned state shape for its schema version %d: pin it with -update-state-shapes", meta.TypeName, version)
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("the state of %s no longer has the shape pinned for schema version %d in %s.\n"+
					"If attributes were only added or removed, states of the pinned shape still load: pin the new shape with -update-state-shapes.\n"+
					"If an attribute changed its type, bump the schema's Version, add a StateUpgrader from version %d (UpgradeState), and pin the new shape.\n\n"+
					"pinned:\n%s\nnow:\n%s", meta.TypeName, version, file, version, want, got)
			}

			upgrader, ok := r.(resource.ResourceWithUpgradeState)
			if !ok {
				t.Fatalf("%s does not implement resource.ResourceWithUpgradeState", meta.TypeName)
			}
			upgraders := upgrader.UpgradeState(ctx)
			for v := range upgraders {
				if v >= version {
					t.Errorf("%s has a state upgrader from version %d, but its schema is at version %d", meta.TypeName, v, version)
				}
			}
			for v := int64(0); v < version; v++ {
				pinned, err := os.ReadFile(stateShapeFile(meta.TypeName, v))
				if err != nil {
					t.Errorf("%s: the shape of version %d is not pinned (%v); it is what its upgrader's PriorSchema must have", meta.TypeName, v, err)
					continue
				}
				u, ok := upgraders[v]
				switch {
				case !ok:
					t.Errorf("%s is at schema version %d but has no state upgrader from version %d", meta.TypeName, version, v)
				case u.PriorSchema == nil:
					t.Errorf("%s: the state upgrader from version %d has no PriorSchema", meta.TypeName, v)
				case stateShape(u.PriorSchema.Type().TerraformType(ctx)) != string(pinned):
					t.Errorf("%s: the PriorSchema of the state upgrader from version %d does not have that version's pinned shape", meta.TypeName, v)
				}
			}
		})
	}
}

func stateShapeFile(typeName string, version int64) string {
	return filepath.Join("testdata", "state_shapes", fmt.Sprintf("%s.v%d.txt", typeName, version))
}

// stateShape lists every attribute path of a state type with its type,
// one a line, sorted: "request.tls.ca_cert string", "assertions[] object".
func stateShape(t tftypes.Type) string {
	var lines []string
	addShape(&lines, "", t)
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}

func addShape(lines *[]string, at string, t tftypes.Type) {
	line := func(kind string) {
		if at != "" {
			*lines = append(*lines, at+" "+kind)
		}
	}
	switch t := t.(type) {
	case tftypes.Object:
		line("object")
		for name, at2 := range t.AttributeTypes {
			if at != "" {
				name = at + "." + name
			}
			addShape(lines, name, at2)
		}
	case tftypes.List:
		line("list")
		addShape(lines, at+"[]", t.ElementType)
	case tftypes.Set:
		line("set")
		addShape(lines, at+"[*]", t.ElementType)
	case tftypes.Map:
		line("map")
		addShape(lines, at+"{}", t.ElementType)
	default:
		// A primitive: tftypes.String, tftypes.Number or tftypes.Bool.
		line(strings.ToLower(strings.TrimPrefix(t.String(), "tftypes.")))
	}
}
