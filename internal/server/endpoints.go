package server

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// endpoints declares the endpoint kind. An endpoint references its
// default credential, which must allow its URL; monitors reference it, and
// block its delete.
func (s *Server) endpoints() *kindSpec[api.Endpoint, *api.Endpoint] {
	return &kindSpec[api.Endpoint, *api.Endpoint]{
		kind:      api.EndpointKind,
		get:       store.Reader.GetEndpoint,
		list:      listOf(store.Reader.ListEndpoints),
		insert:    store.Tx.InsertEndpoint,
		update:    store.Tx.UpdateEndpoint,
		remove:    store.Tx.DeleteEndpoint,
		referrers: store.Reader.EndpointReferrers,
		name:      func(e api.Endpoint) string { return e.Name },
		decode:    decodeObject[api.Endpoint],
		check:     checkEndpoint,
		changes:   func(_ context.Context, a, b api.Endpoint) []string { return endpointChanges(a, b) },
		notify:    true,
		// Monitors and thresholds name an endpoint by ID: a new one has
		// none yet.
		quietCreate: true,
	}
}

// checkEndpoint refuses an endpoint (cur is nil on create) whose credential
// does not exist or does not allow its URL, or whose new URL no longer fits
// its monitors.
func checkEndpoint(ctx context.Context, tx store.Reader, cur *api.Endpoint, next api.Endpoint) error {
	if err := checkCredentialRef(ctx, tx, "credential_id", next.CredentialID); err != nil {
		return err
	}
	if cur != nil {
		if err := checkMonitorsFit(ctx, tx, *cur, next.URL); err != nil {
			return err
		}
	}
	return checkEndpointHosts(ctx, tx, cur, next)
}

// endpointChanges names the fields that differ between two endpoints,
// ignoring the server-managed ones; a tag is named by its key ("tags.env").
func endpointChanges(a, b api.Endpoint) []string {
	var out changeList
	out.add("name", a.Name != b.Name)
	out.add("url", a.URL != b.URL)
	out.add("api_version", !eqPtr(a.APIVersion, b.APIVersion))
	out.add("description", !eqPtr(a.Description, b.Description))
	out.add("owner", !eqPtr(a.Owner, b.Owner))
	out.add("data_classification", a.DataClassification != b.DataClassification)
	out.nested("tags", a.Tags, b.Tags)
	out.add("credential_id", !eqPtr(a.CredentialID, b.CredentialID))
	return out
}

// checkMonitorsFit answers 400 on url when a new URL's scheme no longer
// fits the type of a monitor of the endpoint (an https endpoint turned
// into tcp:// with http monitors on it), naming the monitors, so that the
// change is made together with the monitors' and not discovered at probe
// time.
func checkMonitorsFit(ctx context.Context, tx store.Reader, cur api.Endpoint, newURL string) error {
	curScheme, _, _ := strings.Cut(strings.ToLower(cur.URL), "://")
	newScheme, _, _ := strings.Cut(strings.ToLower(newURL), "://")
	if api.MonitorTypeForScheme[curScheme] == api.MonitorTypeForScheme[newScheme] {
		return nil
	}
	monitors, err := store.ListAll(ctx, func(ctx context.Context, q store.ListQuery) ([]api.Monitor, string, error) {
		return listMonitors(tx, ctx, q, cur.ID)
	})
	if err != nil {
		return err
	}
	var misfits []string
	for _, m := range monitors {
		if api.MonitorFitsEndpoint(m.Type, newURL) != "" {
			misfits = append(misfits, fmt.Sprintf("%s (%s, type %s)", m.Name, m.ID, m.Type))
		}
	}
	if len(misfits) == 0 {
		return nil
	}
	msg := fmt.Sprintf("a %s:// URL does not fit the monitors of this endpoint: %s; change their type or point them elsewhere first",
		newScheme, strings.Join(misfits, ", "))
	return invalid([]api.FieldError{{Field: "url", Message: msg}})
}

func eqPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// checkCredentialRef answers 400 on the field when a referenced credential
// does not exist. It runs inside the write transaction, so the credential
// cannot vanish between the check and the change.
func checkCredentialRef(ctx context.Context, r store.Reader, field string, id *string) error {
	if id == nil {
		return nil
	}
	if _, err := r.GetCredential(ctx, *id); errors.Is(err, store.ErrNotFound) {
		return invalid([]api.FieldError{{Field: field, Message: fmt.Sprintf("no credential has the ID %q", *id)}})
	} else if err != nil {
		return err
	}
	return nil
}
