package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// TestEveryWriteTellsTheEngine: every successful create, update (a no-op
// included) and delete of every kind tells the engine, with the kind's
// name and the object's ID; a refused write tells it nothing. The engine
// rereads the configuration on any notice, so a missed one would leave a
// new monitor unprobed until the next change. The exception is the create
// of an endpoint or a credential (quietCreate): nothing references a new
// one, and the monitor that comes to reference it tells the engine.
func TestEveryWriteTellsTheEngine(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "aio.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	var token string
	err = st.Write(ctx, func(tx store.Tx) error {
		_, token, err = auth.Create(ctx, tx, clock.Real{}, auth.CreateInput{Name: "editor", Role: api.RoleEditor}, auth.CLIActor)
		return err
	})
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	kr, err := secret.NewKeyring(secret.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		told []string
	)
	srv, err := New(ctx, Config{Store: st, Keyring: kr, OnChange: func(kind, id string) {
		mu.Lock()
		defer mu.Unlock()
		told = append(told, kind+" "+id)
	}})
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path, body string, wantStatus int) string {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != wantStatus {
			t.Fatalf("%s %s: %d %s, want %d", method, path, rec.Code, rec.Body, wantStatus)
		}
		var obj struct{ ID string }
		_ = json.Unmarshal(rec.Body.Bytes(), &obj)
		return obj.ID
	}
	wantTold := func(what string, want ...string) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(told, want) {
			t.Errorf("after %s the engine was told %q, want %q", what, told, want)
		}
		told = nil
	}

	credBody := `{"name":"c","type":"bearer","secret":"s","allowed_hosts":["*.example.com"]}`
	cred := do(http.MethodPost, "/v1/credentials", credBody, http.StatusCreated)
	wantTold("a credential create")
	epBody := `{"name":"e","url":"https://e.example.com/","credential_id":"` + cred + `"}`
	ep := do(http.MethodPost, "/v1/endpoints", epBody, http.StatusCreated)
	wantTold("an endpoint create")
	monBody := `{"name":"m","endpoint_id":"` + ep + `","type":"http","enabled":false}`
	mon := do(http.MethodPost, "/v1/monitors", monBody, http.StatusCreated)
	wantTold("a monitor create", "monitor "+mon)

	do(http.MethodPost, "/v1/monitors", monBody, http.StatusConflict)
	do(http.MethodPut, "/v1/endpoints/"+ep, epBody, http.StatusOK)
	wantTold("a refused create and a no-op update", "endpoint "+ep)
	do(http.MethodPut, "/v1/credentials/"+cred, strings.Replace(credBody, `"s"`, `"t"`, 1), http.StatusOK)
	do(http.MethodPut, "/v1/monitors/"+mon, strings.Replace(monBody, "false", "true", 1), http.StatusOK)
	wantTold("updates", "credential "+cred, "monitor "+mon)
	// A restore of an old revision is a write like an update.
	req := httptest.NewRequest(http.MethodPost, "/v1/monitors/"+mon+"/revisions/1/restore", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("If-Match", `"2"`)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("restore of revision 1: %d %s", rec.Code, rec.Body)
	}
	wantTold("a revision restore", "monitor "+mon)

	do(http.MethodDelete, "/v1/endpoints/"+ep, "", http.StatusConflict)
	do(http.MethodDelete, "/v1/monitors/"+mon, "", http.StatusNoContent)
	// A deleted object brought back is a write like a create.
	do(http.MethodPost, "/v1/deleted/monitors/"+mon+"/restore", "", http.StatusCreated)
	do(http.MethodDelete, "/v1/monitors/"+mon, "", http.StatusNoContent)
	do(http.MethodDelete, "/v1/endpoints/"+ep, "", http.StatusNoContent)
	do(http.MethodDelete, "/v1/credentials/"+cred, "", http.StatusNoContent)
	wantTold("deletes and a restore", "monitor "+mon, "monitor "+mon, "monitor "+mon, "endpoint "+ep, "credential "+cred)
}
