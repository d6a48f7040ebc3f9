package server

import (
	"path/filepath"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/engine/retention"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// TestNewKeepsTheGivenRetention: the server acts on the retention
// enforcer it is given, the one the daemon runs, so that an erasure
// request wakes the enforcer that carries it out. (Mutation testing:
// replacing the given enforcer went unnoticed, as the running one also
// finds requests on its own poll.) Without one the server has none:
// TestRetentionWithoutEnforcer checks what the API answers then.
func TestNewKeepsTheGivenRetention(t *testing.T) {
	st, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "aio.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	given := retention.New(retention.Config{Store: st})
	s, err := New(t.Context(), Config{Store: st, Retention: given})
	if err != nil {
		t.Fatal(err)
	}
	if s.retention != given {
		t.Error("the server replaced the retention enforcer it was given")
	}
	s, err = New(t.Context(), Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if s.retention != nil {
		t.Errorf("a server given no retention enforcer has one: %T", s.retention)
	}
}
