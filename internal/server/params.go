package server

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
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
