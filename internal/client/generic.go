package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// The helpers below implement the API conventions once for every kind:
// POST /v1/<kind> creates, GET/PUT/DELETE /v1/<kind>/{id} read, replace and
// delete with If-Match, and GET /v1/<kind> lists with a cursor. A new kind
// is then a few one-line methods.

// errEmptyID is returned instead of sending a request for an empty ID, which
// would otherwise address the collection rather than an object.
var errEmptyID = errors.New("the object ID is empty")

// objectPath returns the escaped path of one object in collection.
func objectPath(collection, id string) (string, error) {
	if id == "" {
		return "", fmt.Errorf("%s: %w", collection, errEmptyID)
	}
	return collection + "/" + url.PathEscape(id), nil
}

// createObject POSTs in to collection and returns the created object.
func createObject[T any](ctx context.Context, c *Client, collection string, in T) (T, error) {
	var out T
	err := c.do(ctx, http.MethodPost, collection, nil, 0, in, &out)
	return out, err
}

// getObject reads one object.
func getObject[T any](ctx context.Context, c *Client, collection, id string) (T, error) {
	var out T
	path, err := objectPath(collection, id)
	if err != nil {
		return out, err
	}
	err = c.do(ctx, http.MethodGet, path, nil, 0, nil, &out)
	return out, err
}

// updateObject replaces one object. A non-zero revision is sent as If-Match
// so that a change made since the object was read is not overwritten.
func updateObject[T any](ctx context.Context, c *Client, collection, id string, revision int64, in T) (T, error) {
	var out T
	path, err := objectPath(collection, id)
	if err != nil {
		return out, err
	}
	err = c.do(ctx, http.MethodPut, path, nil, revision, in, &out)
	return out, err
}

// deleteObject deletes one object, with If-Match when revision is not zero.
func deleteObject(ctx context.Context, c *Client, collection, id string, revision int64) error {
	path, err := objectPath(collection, id)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, path, nil, revision, nil, nil)
}

// listPage reads one page of a listing.
func listPage[T any](ctx context.Context, c *Client, collection string, query url.Values) (api.List[T], error) {
	var out api.List[T]
	err := c.do(ctx, http.MethodGet, collection, query, 0, nil, &out)
	return out, err
}

// listAll follows next_cursor from the page that query selects until the
// last page, and returns every item. It stops with an error if the server
// hands out a cursor it handed out before, which would otherwise loop
// forever.
func listAll[T any](ctx context.Context, c *Client, collection string, query url.Values) ([]T, error) {
	q := url.Values{}
	for k, v := range query {
		q[k] = append([]string(nil), v...)
	}
	items := []T{}
	seen := map[string]bool{}
	for {
		page, err := listPage[T](ctx, c, collection, q)
		if err != nil {
			return nil, err
		}
		items = append(items, page.Items...)
		if page.NextCursor == "" {
			return items, nil
		}
		if seen[page.NextCursor] {
			return nil, fmt.Errorf("GET %s: the server returned cursor %q twice", collection, page.NextCursor)
		}
		seen[page.NextCursor] = true
		q.Set("after", page.NextCursor)
	}
}
