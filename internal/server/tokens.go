package server

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// TokenRequest is the body of POST /v1/tokens.
type TokenRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
	// TTL is a Go duration such as "720h"; empty means no expiry.
	TTL string `json:"ttl,omitempty"`
	// RateLimit is the token's own sustained limit in requests per
	// second (burst twice that); absent or null means the server's default.
	RateLimit *float64 `json:"rate_limit,omitempty"`
}

// TokenCreated is the answer to POST /v1/tokens: the only time the
// token's secret is shown.
type TokenCreated struct {
	api.Token
	Secret string `json:"secret"`
}

// listTokens answers GET /v1/tokens with a page of tokens ordered by name.
// Tokens are few (people and CI jobs), so they are paged here rather than
// in the store. The cursor is the last name of the page: tokens are
// revoked, never deleted, so a cursor this API returned always names one,
// and any other is refused rather than read as "from the start".
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, _ principal) error {
	limit, after, errs := pageParams(r.URL.Query())
	if len(errs) > 0 {
		return invalid(errs)
	}
	toks, err := s.store.ListTokens(r.Context())
	if err != nil {
		return err
	}
	if after != "" {
		i := slices.IndexFunc(toks, func(t api.Token) bool { return t.Name == after })
		if i < 0 {
			return invalid([]api.FieldError{badCursor})
		}
		toks = toks[i+1:]
	}
	if limit == 0 {
		limit = store.DefaultLimit
	}
	page := api.List[api.Token]{Items: toks}
	if len(toks) > limit {
		page.Items = toks[:limit]
		page.NextCursor = encodeCursor(toks[limit-1].Name)
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, p principal) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var req TokenRequest
	if perr := decodeJSON(body, &req); perr != nil {
		return perr
	}
	in := auth.CreateInput{Name: req.Name, Role: req.Role, RateLimit: req.RateLimit}
	if req.TTL != "" {
		d, err := time.ParseDuration(req.TTL)
		if err != nil || d <= 0 {
			return invalid([]api.FieldError{{Field: "ttl", Message: "must be a positive duration, as in 720h"}})
		}
		in.TTL = d
	}
	if errs := in.Validate(); len(errs) > 0 {
		return invalid(errs)
	}
	// Token creation keeps no idempotent answer: that answer holds the
	// secret, which must never be stored. Names are unique, so a retried
	// create cannot make a second token; it gets 409 instead.
	var (
		tok    api.Token
		secret string
	)
	err = s.store.Write(r.Context(), func(tx store.Tx) error {
		var err error
		tok, secret, err = auth.Create(r.Context(), tx, s.clock, in, p.actor())
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		pe := problemf(http.StatusConflict, "a token named %q already exists", in.Name)
		pe.fields = []api.FieldError{{Field: "name", Message: "is already taken"}}
		return pe
	}
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, TokenCreated{Token: tok, Secret: secret})
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, p principal) error {
	id := r.PathValue("id")
	return s.mutate(w, r, p, nil, func(tx store.Tx) (result, error) {
		if _, err := auth.Revoke(r.Context(), tx, s.clock, id, p.actor()); errors.Is(err, store.ErrNotFound) {
			return result{}, problemf(http.StatusNotFound, "no active token with id or name %q", id)
		} else if err != nil {
			return result{}, err
		}
		// Through the API, the last usable admin token cannot go: nobody
		// could manage tokens any more, and aiod would refuse to restart.
		// (The command line, which needs the database, can.)
		if n, err := tx.CountUsableAdminTokens(r.Context(), s.clock.Now()); err != nil {
			return result{}, err
		} else if n == 0 {
			return result{}, problemf(http.StatusConflict, "this is the last usable admin token; create another admin token before revoking it")
		}
		return result{status: http.StatusNoContent}, nil
	})
}

// whoami answers the caller's own token (never its secret), so that a
// client can tell which token and role it runs with — the provider uses it
// to tell its own changes from changes made outside Terraform.
func (s *Server) whoami(w http.ResponseWriter, _ *http.Request, p principal) error {
	writeJSON(w, http.StatusOK, p.token)
	return nil
}
