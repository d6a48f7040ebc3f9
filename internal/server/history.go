package server

// Change history, once for every kind: each write stores the object's
// snapshot (its API view, so never a secret value) as its new revision in
// the write's transaction, and its audit event carries the changed paths
// with their old and new values; a delete leaves a tombstone. The routes
// read revisions and diffs, restore an old revision as a new one, and
// recreate a deleted object from its tombstone. A kind gets all of this
// from kindRoutes; nothing here is particular to one kind.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/ids"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// metaFields are the fields every object has and every write changes (or
// none may): a diff leaves them out, as they say nothing of what changed.
var metaFields = []string{"id", "revision", "created_at", "updated_at"}

// historyRoutes are the history routes of a kind: viewers read revisions,
// diffs and tombstones, as they read the objects; editors restore.
func historyRoutes[T any, PT metaPointer[T]](s *Server, k *kindSpec[T, PT]) []route {
	item := k.kind.Path + "/{id}"
	deleted := "/v1/deleted/" + k.kind.Path[strings.LastIndex(k.kind.Path, "/")+1:]
	return []route{
		{http.MethodGet, item + "/revisions", api.RoleViewer, func(w http.ResponseWriter, r *http.Request, _ principal) error { return k.serveRevisions(s, w, r) }},
		{http.MethodGet, item + "/revisions/{n}", api.RoleViewer, func(w http.ResponseWriter, r *http.Request, _ principal) error { return k.serveRevision(s, w, r) }},
		{http.MethodGet, item + "/diff", api.RoleViewer, func(w http.ResponseWriter, r *http.Request, _ principal) error { return k.serveDiff(s, w, r) }},
		{http.MethodPost, item + "/revisions/{n}/restore", api.RoleEditor, func(w http.ResponseWriter, r *http.Request, p principal) error { return k.restoreRevision(s, w, r, p) }},
		{http.MethodGet, deleted, api.RoleViewer, func(w http.ResponseWriter, r *http.Request, _ principal) error { return k.serveDeleted(s, w, r) }},
		{http.MethodPost, deleted + "/{id}/restore", api.RoleEditor, func(w http.ResponseWriter, r *http.Request, p principal) error { return k.restoreDeleted(s, w, r, p) }},
	}
}

// snapshot is the object as the API shows it, which is what a revision
// keeps: a view never holds a secret value.
func (k *kindSpec[T, PT]) snapshot(v T) (json.RawMessage, error) {
	return json.Marshal(k.show(v))
}

// record stores next's revision and the audit event of its write, in the
// write's transaction: one INSERT each. before is the snapshot of the
// object before the write (nil on create and on the restore of a deleted
// object, whose every field is then new); changed is what the kind's
// changes named, whose fields that the views do not show (a secret) are
// recorded as sensitive, values withheld.
func (k *kindSpec[T, PT]) record(ctx context.Context, tx store.Tx, p principal, action string, before json.RawMessage, next T, changed []string) error {
	after, err := k.snapshot(next)
	if err != nil {
		return err
	}
	m := PT(&next).GetMeta()
	actor := p.actor()
	if err := tx.InsertRevision(ctx, api.Revision{ObjectKind: k.kind.Name, ObjectID: m.ID, Revision: m.Revision, Time: m.UpdatedAt,
		Actor: actor.Name, ActorRole: actor.Role, Action: action, Object: after}); err != nil {
		return err
	}
	changes, err := diffSnapshots(before, after)
	if err != nil {
		return err
	}
	ev := auth.Event(m.UpdatedAt, actor, action, k.kind.Name, m.ID, m.Revision, changed)
	ev.Changes = withSensitive(changes, changed)
	return tx.InsertAuditEvent(ctx, ev)
}

// withSensitive adds to changes, marked sensitive and without values, the
// changed fields whose top-level field the snapshots do not show: the
// write-only ones, such as secret.
func withSensitive(changes []api.Change, changed []string) []api.Change {
	shown := map[string]bool{}
	for _, c := range changes {
		shown[topField(c.Path)] = true
	}
	for _, f := range changed {
		top := topField(f)
		if !shown[top] {
			shown[top] = true
			changes = append(changes, api.Change{Path: top, Sensitive: true})
		}
	}
	return changes
}

// topField is the first field of a path ("request" of "request.headers.a",
// "assertions" of "assertions[1].target").
func topField(path string) string {
	if i := strings.IndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return path
}

// diffSnapshots names the paths at which two snapshots differ, with their
// old and new values, leaving out the fields every object has. A nil
// snapshot is an object that did not exist: every field is new.
func diffSnapshots(before, after json.RawMessage) ([]api.Change, error) {
	a, b := map[string]any{}, map[string]any{}
	for _, x := range []struct {
		raw json.RawMessage
		to  *map[string]any
	}{{before, &a}, {after, &b}} {
		if len(x.raw) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(x.raw))
		dec.UseNumber()
		if err := dec.Decode(x.to); err != nil {
			return nil, fmt.Errorf("decode a snapshot: %w", err)
		}
	}
	for _, f := range metaFields {
		delete(a, f)
		delete(b, f)
	}
	out := []api.Change{}
	diffValues("", a, b, &out)
	return out, nil
}

// diffValues appends the changes between a and b at path: an object
// member by member (a.b), a list index by index (a[1]), an index or member
// only one side has as a change from or to null, anything else whole.
func diffValues(path string, a, b any, out *[]api.Change) {
	switch x := a.(type) {
	case map[string]any:
		if y, ok := b.(map[string]any); ok {
			keys := slices.Sorted(maps.Keys(x))
			for key := range y {
				if _, ok := x[key]; !ok {
					keys = append(keys, key)
				}
			}
			slices.Sort(keys)
			for _, key := range keys {
				p := key
				if path != "" {
					p = path + "." + key
				}
				diffValues(p, x[key], y[key], out)
			}
			return
		}
	case []any:
		if y, ok := b.([]any); ok {
			for i := range max(len(x), len(y)) {
				var xa, yb any
				if i < len(x) {
					xa = x[i]
				}
				if i < len(y) {
					yb = y[i]
				}
				diffValues(path+"["+strconv.Itoa(i)+"]", xa, yb, out)
			}
			return
		}
	}
	oldJSON, _ := json.Marshal(a)
	newJSON, _ := json.Marshal(b)
	if !bytes.Equal(oldJSON, newJSON) {
		*out = append(*out, api.Change{Path: path, Old: oldJSON, New: newJSON})
	}
}

// objectID reads the {id} of a history route, which must be of the kind:
// another kind's ID names nothing here.
func (k *kindSpec[T, PT]) objectID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if !strings.HasPrefix(id, k.kind.Prefix) {
		return "", k.notFound(id)
	}
	return id, nil
}

// revisionParam reads a revision number from the path or the query.
func revisionParam(field, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, invalid([]api.FieldError{{Field: field, Message: "must be a revision number, a whole number from 1"}})
	}
	return n, nil
}

// known tells whether the object exists or has a tombstone: an object
// without stored revisions (written before history was kept) still has a
// history, an empty one.
func (k *kindSpec[T, PT]) known(ctx context.Context, r store.Reader, id string) (bool, error) {
	if _, err := k.get(r, ctx, id); err == nil {
		return true, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	_, err := r.GetTombstone(ctx, k.kind.Name, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// serveRevisions answers GET <path>/{id}/revisions: one page, newest
// first. The revisions of a deleted object stay readable while it has a
// tombstone.
func (k *kindSpec[T, PT]) serveRevisions(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := k.objectID(r)
	if err != nil {
		return err
	}
	limit, after, errs := pageParams(r.URL.Query())
	if len(errs) > 0 {
		return invalid(errs)
	}
	ctx := r.Context()
	items, next, err := s.store.ListRevisions(ctx, store.RevisionQuery{ObjectID: id, Limit: limit, After: after})
	if errors.Is(err, store.ErrBadCursor) {
		return invalid([]api.FieldError{badCursor})
	} else if err != nil {
		return err
	}
	if len(items) == 0 && after == "" {
		if ok, err := k.known(ctx, s.store, id); err != nil {
			return err
		} else if !ok {
			return k.notFound(id)
		}
	}
	writeJSON(w, http.StatusOK, api.List[api.Revision]{Items: items, NextCursor: encodeCursor(next)})
	return nil
}

// revision reads revision n of the object, or answers 404 naming it.
func (k *kindSpec[T, PT]) revision(ctx context.Context, r store.Reader, id string, n int64) (api.Revision, error) {
	v, err := r.GetRevision(ctx, id, n)
	if errors.Is(err, store.ErrNotFound) || (err == nil && v.ObjectKind != k.kind.Name) {
		return v, problemf(http.StatusNotFound, "the %s %q has no revision %d", k.words(), id, n)
	}
	return v, err
}

// serveRevision answers GET <path>/{id}/revisions/{n}.
func (k *kindSpec[T, PT]) serveRevision(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := k.objectID(r)
	if err != nil {
		return err
	}
	n, err := revisionParam("n", r.PathValue("n"))
	if err != nil {
		return err
	}
	v, err := k.revision(r.Context(), s.store, id, n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// serveDiff answers GET <path>/{id}/diff?from=3&to=5: the paths that
// differ between two revisions with their values; to defaults to the
// newest revision.
func (k *kindSpec[T, PT]) serveDiff(s *Server, w http.ResponseWriter, r *http.Request) error {
	id, err := k.objectID(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var errs []api.FieldError
	from, err := revisionParam("from", q.Get("from"))
	if err != nil {
		errs = append(errs, api.FieldError{Field: "from", Message: "is required: a revision number, a whole number from 1"})
	}
	ctx := r.Context()
	var to int64
	if v := q.Get("to"); v != "" {
		if to, err = revisionParam("to", v); err != nil {
			errs = append(errs, api.FieldError{Field: "to", Message: "must be a revision number, a whole number from 1"})
		}
	}
	if len(errs) > 0 {
		return invalid(errs)
	}
	if to == 0 {
		newest, _, err := s.store.ListRevisions(ctx, store.RevisionQuery{ObjectID: id, Limit: 1})
		if err != nil {
			return err
		}
		if len(newest) == 0 {
			return problemf(http.StatusNotFound, "the %s %q has no revisions", k.words(), id)
		}
		to = newest[0].Revision
	}
	a, err := k.revision(ctx, s.store, id, from)
	if err != nil {
		return err
	}
	b, err := k.revision(ctx, s.store, id, to)
	if err != nil {
		return err
	}
	changes, err := diffSnapshots(a.Object, b.Object)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.Diff{ObjectID: id, From: from, To: to, Changes: changes})
	return nil
}

// serveDeleted answers GET /v1/deleted/<collection>: the kind's
// tombstones within retention, ordered by ID.
func (k *kindSpec[T, PT]) serveDeleted(s *Server, w http.ResponseWriter, r *http.Request) error {
	limit, after, errs := pageParams(r.URL.Query())
	if after != "" && !ids.Valid(k.kind.Prefix, after) && !slices.Contains(errs, badCursor) {
		errs = append(errs, badCursor)
	}
	if len(errs) > 0 {
		return invalid(errs)
	}
	items, next, err := s.store.ListTombstones(r.Context(), store.TombstoneQuery{Kind: k.kind.Name, Limit: limit, After: after,
		DeletedSince: s.now().Add(-s.cfg.HistoryAge)})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.List[api.Tombstone]{Items: items, NextCursor: encodeCursor(next)})
	return nil
}

// restoreRevision answers POST <path>/{id}/revisions/{n}/restore: revision
// n's content written as the object's next revision, under the same rules
// as a PUT of it (If-Match, which a restore requires, references, caps,
// the no-op). A secret is not part of any revision: the object keeps its
// current secret, and a restore that would send it somewhere new is
// refused as such a PUT is.
func (k *kindSpec[T, PT]) restoreRevision(s *Server, w http.ResponseWriter, r *http.Request, p principal) error {
	want, err := ifMatch(r)
	if err != nil {
		return err
	}
	if want == 0 {
		return problemf(http.StatusPreconditionRequired, `a restore needs If-Match with the %s's current revision, as in "4"`, k.words())
	}
	id, err := k.objectID(r)
	if err != nil {
		return err
	}
	n, err := revisionParam("n", r.PathValue("n"))
	if err != nil {
		return err
	}
	ctx := r.Context()
	err = s.mutate(w, r, p, nil, func(tx store.Tx) (result, error) {
		old, err := k.revision(ctx, tx, id, n)
		if err != nil {
			return result{}, err
		}
		_, next, bad := k.decode(old.Object, false)
		if bad != nil {
			return result{}, bad
		}
		return k.put(ctx, s, tx, p, api.ActionRestore, id, want, next)
	})
	if err == nil {
		k.told(s, id)
	}
	return err
}

// restoreDeleted answers POST /v1/deleted/<collection>/{id}/restore: the
// object recreated from its tombstone with the same ID, at the revision
// after its last. Its references must still resolve and its name must be
// free (409). An object that held a secret cannot come back: secrets are
// not kept once their object is deleted (409).
func (k *kindSpec[T, PT]) restoreDeleted(s *Server, w http.ResponseWriter, r *http.Request, p principal) error {
	id, err := k.objectID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	err = s.mutate(w, r, p, nil, func(tx store.Tx) (result, error) {
		ts, err := tx.GetTombstone(ctx, k.kind.Name, id)
		if err == nil && ts.DeletedAt.Before(s.now().Add(-s.cfg.HistoryAge)) {
			// Past retention, only not pruned yet.
			err = store.ErrNotFound
		}
		if errors.Is(err, store.ErrNotFound) {
			return result{}, problemf(http.StatusNotFound, "no deleted %s with id %q is kept", k.words(), id)
		} else if err != nil {
			return result{}, err
		}
		var secretful struct {
			SecretRevision int64 `json:"secret_revision"`
		}
		if err := json.Unmarshal(ts.Object, &secretful); err == nil && secretful.SecretRevision > 0 {
			return result{}, problemf(http.StatusConflict,
				"the deleted %s %q held a secret, which is not kept after a delete: create it again with its secret", k.words(), id)
		}
		_, next, bad := k.decode(ts.Object, true)
		if bad != nil {
			return result{}, bad
		}
		if err := k.checkAndAdmit(ctx, tx, nil, next, true); err != nil {
			return result{}, err
		}
		now := s.now()
		m := PT(&next).GetMeta()
		created := m.CreatedAt
		m.ID, m.Revision, m.UpdatedAt = id, ts.Revision+1, now
		if created.IsZero() {
			m.CreatedAt = now
		}
		var zero T
		changed := k.changes(ctx, zero, next)
		if err := k.write(ctx, tx, k.insert, nil, &next, changed); err != nil {
			return result{}, err
		}
		if err := tx.DeleteTombstone(ctx, id); err != nil {
			return result{}, err
		}
		if err := k.record(ctx, tx, p, api.ActionRestore, nil, next, changed); err != nil {
			return result{}, err
		}
		return result{status: http.StatusCreated, body: k.show(next),
			header: map[string]string{"Location": k.kind.Path + "/" + id, "ETag": etag(m.Revision)}}, nil
	})
	if err == nil {
		k.told(s, id)
	}
	return err
}
