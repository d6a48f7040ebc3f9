package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/ids"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

func (s *Server) listEndpoints(w http.ResponseWriter, r *http.Request, _ principal) error {
	return serveList(w, r, api.PrefixEndpoint, nil, s.store.ListEndpoints)
}

func (s *Server) getEndpoint(w http.ResponseWriter, r *http.Request, _ principal) error {
	return serveObject(w, r, api.KindEndpoint, s.store.GetEndpoint, func(e api.Endpoint) int64 { return e.Revision })
}

// readEndpoint decodes, validates and normalizes an endpoint body.
func readEndpoint(r *http.Request) ([]byte, api.Endpoint, error) {
	var e api.Endpoint
	body, err := readBody(r)
	if err != nil {
		return nil, e, err
	}
	if p := decodeJSON(body, &e); p != nil {
		return body, e, p
	}
	if errs := e.Validate(); len(errs) > 0 {
		return body, e, invalid(errs)
	}
	e.Normalize()
	return body, e, nil
}

// nameTaken answers 409 on the name field when a kind's name is in use.
func nameTaken(kind, name string) error {
	p := problemf(http.StatusConflict, "the %s name %q is already taken", kind, name)
	p.fields = []api.FieldError{{Field: "name", Message: "is already taken"}}
	return p
}

func (s *Server) createEndpoint(w http.ResponseWriter, r *http.Request, p principal) error {
	body, in, err := readEndpoint(r)
	if body == nil && err != nil {
		return err
	}
	return s.mutate(w, r, p, body, func(tx store.Tx) (result, error) {
		if err != nil {
			return result{}, err
		}
		if err := checkCredentialRef(r.Context(), tx, "credential_id", in.CredentialID); err != nil {
			return result{}, err
		}
		if err := checkEndpointHosts(r.Context(), tx, nil, in); err != nil {
			return result{}, err
		}
		now := s.now()
		in.ID = ids.New(api.PrefixEndpoint, now)
		in.Revision = 1
		in.CreatedAt, in.UpdatedAt = now, now
		if err := tx.InsertEndpoint(r.Context(), in); errors.Is(err, store.ErrConflict) {
			return result{}, nameTaken(api.KindEndpoint, in.Name)
		} else if err != nil {
			return result{}, err
		}
		ev := auth.Event(now, p.actor(), api.ActionCreate, api.KindEndpoint, in.ID, 1, endpointChanges(api.Endpoint{}, in))
		if err := tx.InsertAuditEvent(r.Context(), ev); err != nil {
			return result{}, err
		}
		return result{status: http.StatusCreated, body: in,
			header: map[string]string{"Location": "/v1/endpoints/" + in.ID, "ETag": etag(1)}}, nil
	})
}

func (s *Server) updateEndpoint(w http.ResponseWriter, r *http.Request, p principal) error {
	want, err := ifMatch(r)
	if err != nil {
		return err
	}
	body, in, err := readEndpoint(r)
	if body == nil && err != nil {
		return err
	}
	id := r.PathValue("id")
	err = s.mutate(w, r, p, body, func(tx store.Tx) (result, error) {
		// Validation errors are returned inside the transaction so that a
		// replayed request still gets its stored answer first.
		if err != nil {
			return result{}, err
		}
		cur, err := tx.GetEndpoint(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			return result{}, problemf(http.StatusNotFound, "no endpoint with id %q", id)
		} else if err != nil {
			return result{}, err
		}
		if err := checkRevision(api.KindEndpoint, want, cur.Revision); err != nil {
			return result{}, err
		}
		if err := checkCredentialRef(r.Context(), tx, "credential_id", in.CredentialID); err != nil {
			return result{}, err
		}
		in.ID = cur.ID
		if err := checkMonitorsFit(r.Context(), tx, cur, in.URL); err != nil {
			return result{}, err
		}
		if err := checkEndpointHosts(r.Context(), tx, &cur, in); err != nil {
			return result{}, err
		}
		changed := endpointChanges(cur, in)
		if len(changed) == 0 {
			// A PUT that changes nothing bumps nothing and is not audited.
			return result{status: http.StatusOK, body: cur, header: map[string]string{"ETag": etag(cur.Revision)}}, nil
		}
		now := s.now()
		in.ID, in.CreatedAt, in.UpdatedAt, in.Revision = cur.ID, cur.CreatedAt, now, cur.Revision+1
		if err := tx.UpdateEndpoint(r.Context(), in); errors.Is(err, store.ErrConflict) {
			return result{}, nameTaken(api.KindEndpoint, in.Name)
		} else if err != nil {
			return result{}, err
		}
		ev := auth.Event(now, p.actor(), api.ActionUpdate, api.KindEndpoint, in.ID, in.Revision, changed)
		if err := tx.InsertAuditEvent(r.Context(), ev); err != nil {
			return result{}, err
		}
		return result{status: http.StatusOK, body: in, header: map[string]string{"ETag": etag(in.Revision)}}, nil
	})
	if err == nil {
		s.notify(api.KindEndpoint, id)
	}
	return err
}

func (s *Server) deleteEndpoint(w http.ResponseWriter, r *http.Request, p principal) error {
	return s.deleteObject(w, r, p, deletion{
		kind: api.KindEndpoint,
		revision: func(ctx context.Context, tx store.Tx, id string) (int64, error) {
			e, err := tx.GetEndpoint(ctx, id)
			return e.Revision, err
		},
		referrers: func(ctx context.Context, tx store.Tx, id string) ([]string, error) {
			return tx.EndpointReferrers(ctx, id)
		},
		remove: func(ctx context.Context, tx store.Tx, id string) error { return tx.DeleteEndpoint(ctx, id) },
	})
}

// endpointChanges names the fields that differ between two endpoints,
// ignoring the server-managed ones; a tag is named by its key ("tags.env").
func endpointChanges(a, b api.Endpoint) []string {
	var out []string
	add := func(name string, differ bool) {
		if differ {
			out = append(out, name)
		}
	}
	add("name", a.Name != b.Name)
	add("url", a.URL != b.URL)
	add("api_version", !eqPtr(a.APIVersion, b.APIVersion))
	add("description", !eqPtr(a.Description, b.Description))
	add("owner", !eqPtr(a.Owner, b.Owner))
	add("data_classification", a.DataClassification != b.DataClassification)
	out = append(out, nestedChanges("tags", a.Tags, b.Tags)...)
	add("credential_id", !eqPtr(a.CredentialID, b.CredentialID))
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
	monitors, err := store.ListAll(ctx, func(ctx context.Context, q store.MonitorQuery) ([]api.Monitor, string, error) {
		q.EndpointID = cur.ID
		return tx.ListMonitors(ctx, q)
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
