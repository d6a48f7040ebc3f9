package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// The change history of every kind, addressed by the kind's collection
// (api.Kind.Path): revisions, diffs, restores and deleted objects.

// Whoami returns the token this client runs with (never its secret).
func (c *Client) Whoami(ctx context.Context) (api.Token, error) {
	var out api.Token
	err := c.do(ctx, http.MethodGet, "/v1/whoami", nil, 0, nil, &out)
	return out, err
}

// ListRevisions reads one page of an object's revisions, newest first;
// after is the next_cursor of the previous page ("" for the first), limit
// the page size (0 leaves it to the server).
func (c *Client) ListRevisions(ctx context.Context, collection, id string, limit int, after string) (api.List[api.Revision], error) {
	var out api.List[api.Revision]
	path, err := objectPath(collection, id)
	if err != nil {
		return out, err
	}
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if after != "" {
		q.Set("after", after)
	}
	err = c.do(ctx, http.MethodGet, path+"/revisions", q, 0, nil, &out)
	return out, err
}

// GetRevision reads one revision of an object.
func (c *Client) GetRevision(ctx context.Context, collection, id string, n int64) (api.Revision, error) {
	var out api.Revision
	path, err := objectPath(collection, id)
	if err != nil {
		return out, err
	}
	err = c.do(ctx, http.MethodGet, fmt.Sprintf("%s/revisions/%d", path, n), nil, 0, nil, &out)
	return out, err
}

// Diff reads what changed in an object from revision from to revision to.
func (c *Client) Diff(ctx context.Context, collection, id string, from, to int64) (api.Diff, error) {
	var out api.Diff
	path, err := objectPath(collection, id)
	if err != nil {
		return out, err
	}
	q := url.Values{"from": {strconv.FormatInt(from, 10)}, "to": {strconv.FormatInt(to, 10)}}
	err = c.do(ctx, http.MethodGet, path+"/diff", q, 0, nil, &out)
	return out, err
}

// RestoreRevision writes revision n of an object as its next revision;
// current is the object's current revision, sent as If-Match. The answer
// is the object, decoded into out.
func (c *Client) RestoreRevision(ctx context.Context, collection, id string, n, current int64, out any) error {
	path, err := objectPath(collection, id)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, fmt.Sprintf("%s/revisions/%d/restore", path, n), nil, current, nil, out)
}

// deletedPath is the collection of a kind's deleted objects.
func deletedPath(collection string) string {
	return "/v1/deleted/" + collection[strings.LastIndex(collection, "/")+1:]
}

// ListDeleted reads every deleted object of a kind still kept.
func (c *Client) ListDeleted(ctx context.Context, collection string) ([]api.Tombstone, error) {
	return listAll[api.Tombstone](ctx, c, deletedPath(collection), url.Values{})
}

// RestoreDeleted recreates a deleted object with its ID; the answer is
// the object, decoded into out.
func (c *Client) RestoreDeleted(ctx context.Context, collection, id string, out any) error {
	path, err := objectPath(deletedPath(collection), id)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, path+"/restore", nil, 0, nil, out)
}

// Self is Whoami read once per client: the provider asks it for every
// object whose revision moved, to tell its own changes from others'.
func (c *Client) Self(ctx context.Context) (api.Token, error) {
	c.selfMu.Lock()
	defer c.selfMu.Unlock()
	if c.self != nil {
		return *c.self, nil
	}
	tok, err := c.Whoami(ctx)
	if err != nil {
		return tok, err
	}
	c.self = &tok
	return tok, nil
}
