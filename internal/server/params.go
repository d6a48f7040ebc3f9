package server

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/ids"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// encodeCursor makes the store's cursor opaque to clients, so that its
// form can change without breaking them.
func encodeCursor(c string) string {
	if c == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(c))
}

func decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	return string(b), err
}

// pageParams reads limit and after, which every listing takes.
func pageParams(q url.Values) (limit int, after string, errs []api.FieldError) {
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxLimit {
			errs = append(errs, api.FieldError{Field: "limit", Message: fmt.Sprintf("must be a whole number from 1 to %d", store.MaxLimit)})
		}
		limit = n
	}
	if v := q.Get("after"); v != "" {
		var err error
		if after, err = decodeCursor(v); err != nil || after == "" {
			errs = append(errs, badCursor)
		}
	}
	return limit, after, errs
}

// MaxTagFilters bounds the tag filters of one listing. Each becomes a
// condition of the query; without a bound, some hundreds of them make the
// database refuse the query ("expression tree too large"), a 500. It is
// the number of tags an object may carry, which the provider's data
// sources also allow: more filters than that could match nothing anyway.
const MaxTagFilters = api.MaxTags

// badCursor is the error of an `after` that this listing never returned.
var badCursor = api.FieldError{Field: "after", Message: "is not a cursor returned by this API"}

// listParams reads the filters shared by every kind's listing. The cursor
// of these listings is the last ID of the previous page, so one that does
// not decode to an ID of the kind (prefix) is refused: read as a string,
// it would silently give the first page or none.
func listParams(r *http.Request, prefix string) (store.ListQuery, error) {
	q := r.URL.Query()
	var lq store.ListQuery
	var errs []api.FieldError
	lq.Limit, lq.After, errs = pageParams(q)
	if lq.After != "" && !ids.Valid(prefix, lq.After) && !slices.Contains(errs, badCursor) {
		errs = append(errs, badCursor)
	}
	lq.Name = q.Get("name")
	lq.NamePrefix = q.Get("name_prefix")
	if n := len(q["tag"]); n > MaxTagFilters {
		errs = append(errs, api.FieldError{Field: "tag", Message: fmt.Sprintf("may be given at most %d times (got %d)", MaxTagFilters, n)})
		return lq, invalid(errs)
	}
	for _, t := range q["tag"] {
		k, v, ok := strings.Cut(t, ":")
		if !ok || k == "" {
			errs = append(errs, api.FieldError{Field: "tag", Message: "must be key:value"})
			continue
		}
		lq.Tags = append(lq.Tags, store.Tag{Key: k, Value: v})
	}
	if len(errs) > 0 {
		return lq, invalid(errs)
	}
	return lq, nil
}

// ifMatch reads the revision of an If-Match header: `"3"`, `W/"3"` and
// `3` are accepted; absent or `*` means any revision (0).
func ifMatch(r *http.Request) (int64, error) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" || v == "*" {
		return 0, nil
	}
	v = strings.Trim(strings.TrimPrefix(v, "W/"), `"`)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, invalid([]api.FieldError{{Field: "If-Match", Message: `must be a revision in quotes, as in "3"`}})
	}
	return n, nil
}

// checkRevision answers 412 when the caller's revision is stale.
func checkRevision(kind string, want, have int64) error {
	if want != 0 && want != have {
		return problemf(http.StatusPreconditionFailed,
			"the %s changed since it was read (you sent revision %d, it is now at %d)", kind, want, have)
	}
	return nil
}

func etag(rev int64) string { return fmt.Sprintf(`"%d"`, rev) }

// now returns the server time at the precision every store keeps.
func (s *Server) now() time.Time { return s.clock.Now().Truncate(time.Microsecond) }

// deletion describes how to delete one kind of object; deleteObject does
// the rest the same way for every kind.
type deletion struct {
	kind string
	// revision reads the object's revision, or store.ErrNotFound.
	revision func(ctx context.Context, tx store.Tx, id string) (int64, error)
	// referrers, when set, names the objects that still reference it.
	referrers func(ctx context.Context, tx store.Tx, id string) ([]string, error)
	remove    func(ctx context.Context, tx store.Tx, id string) error
	// after, when set, runs once the deletion is committed.
	after func(ctx context.Context, id string)
}

// deleteObject answers DELETE /v1/<kind>/{id}: 404 when absent, 412 on a
// stale If-Match, 409 naming the referrers, else 204 with the audit event
// in the same transaction, and the engine told.
func (s *Server) deleteObject(w http.ResponseWriter, r *http.Request, p principal, d deletion) error {
	want, err := ifMatch(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	ctx := r.Context()
	err = s.mutate(w, r, p, nil, func(tx store.Tx) (result, error) {
		rev, err := d.revision(ctx, tx, id)
		if errors.Is(err, store.ErrNotFound) {
			return result{}, problemf(http.StatusNotFound, "no %s with id %q", d.kind, id)
		} else if err != nil {
			return result{}, err
		}
		if err := checkRevision(d.kind, want, rev); err != nil {
			return result{}, err
		}
		if d.referrers != nil {
			refs, err := d.referrers(ctx, tx, id)
			if err != nil {
				return result{}, err
			}
			if len(refs) > 0 {
				return result{}, referrersConflict(d.kind, refs)
			}
		}
		if err := d.remove(ctx, tx, id); err != nil {
			return result{}, err
		}
		ev := auth.Event(s.now(), p.actor(), api.ActionDelete, d.kind, id, rev, nil)
		if err := tx.InsertAuditEvent(ctx, ev); err != nil {
			return result{}, err
		}
		return result{status: http.StatusNoContent}, nil
	})
	if err != nil {
		return err
	}
	s.notify(d.kind, id)
	if d.after != nil {
		d.after(ctx, id)
	}
	return nil
}

// serveObject answers GET /v1/<kind>/{id}: the object with its revision as
// ETag, or 404.
func serveObject[T any](w http.ResponseWriter, r *http.Request, kind string,
	get func(ctx context.Context, id string) (T, error), revision func(T) int64,
) error {
	id := r.PathValue("id")
	obj, err := get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return problemf(http.StatusNotFound, "no %s with id %q", kind, id)
	}
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(revision(obj)))
	writeJSON(w, http.StatusOK, obj)
	return nil
}

// serveList answers GET /v1/<kind>: one page with the filters every kind
// takes, and those extra adds. prefix is the kind's ID prefix, which its
// cursors carry.
func serveList[T any](w http.ResponseWriter, r *http.Request, prefix string, extra func(q *store.ListQuery),
	list func(ctx context.Context, q store.ListQuery) ([]T, string, error),
) error {
	q, err := listParams(r, prefix)
	if err != nil {
		return err
	}
	if extra != nil {
		extra(&q)
	}
	items, next, err := list(r.Context(), q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.List[T]{Items: items, NextCursor: encodeCursor(next)})
	return nil
}
