package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/ids"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// metaPointer is what the generic handlers need of a kind's stored type T:
// a pointer to it reaches the api.Meta that every object type embeds.
type metaPointer[T any] interface {
	*T
	GetMeta() *api.Meta
}

// kindSpec declares one configuration kind for the generic handlers: how
// the store reads and writes it, and what is particular to it (its
// references, what counts as a change, its hooks). The handlers do the
// shared rules once for every kind: decoding, validation inside the write
// transaction (so that a replayed request gets its stored answer first),
// name conflicts, If-Match, the no-op PUT, the audit event in the same
// transaction, ETag and Location, and telling the engine.
//
// T is the type the store keeps. It is the wire type, except for
// credentials, whose record also holds the sealed secret (view turns it
// into what the API shows).
type kindSpec[T any, PT metaPointer[T]] struct {
	kind api.Kind

	// The store's calls. get and list read through the store outside a
	// write, and through the transaction inside one.
	get    func(r store.Reader, ctx context.Context, id string) (T, error)
	list   func(r store.Reader, ctx context.Context, q store.ListQuery, params url.Values) ([]T, string, error)
	insert func(tx store.Tx, ctx context.Context, v T) error
	update func(tx store.Tx, ctx context.Context, v T) error
	remove func(tx store.Tx, ctx context.Context, id string) error
	// referrers, when set, names the objects whose references block a
	// delete (answered 409, naming them).
	referrers func(r store.Reader, ctx context.Context, id string) ([]string, error)

	// name is the object's name, unique per kind.
	name func(v T) string
	// decode reads a request body. It returns the bytes the idempotency
	// fingerprint is made of (nil when the body could not be read at all),
	// the object and, separately, why it is invalid: that answer is given
	// inside the write transaction, after a replay would have answered.
	decode func(body []byte, creating bool) (fingerprint []byte, v T, invalid error)
	// check, when set, refuses a write whose references or hosts do not
	// hold; cur is nil on create. It runs before the no-op decision, so an
	// unchanged object that no longer passes is still refused.
	check func(ctx context.Context, tx store.Reader, cur *T, next T) error
	// changes names the fields that differ, as the audit event records
	// them; none means a PUT changes nothing. On create, cur is the zero
	// value.
	changes func(ctx context.Context, cur, next T) []string
	// admit, when set, refuses a write that would take aiod past its caps.
	// It runs only for a write that changes something.
	admit func(ctx context.Context, tx store.Reader, cur *T, next T) error
	// beforeWrite, when set, completes next just before it is stored,
	// with its Meta already set (credentials seal their secret here); cur
	// is nil on create, changed is what changes returned.
	beforeWrite func(ctx context.Context, cur *T, next *T, changed []string) error
	// afterWrite, when set, runs in the write transaction just after next
	// is stored (create: cur is nil), for what must commit with the
	// change (a disabled channel's pending deliveries are cancelled).
	afterWrite func(ctx context.Context, tx store.Tx, cur *T, next T) error
	// view, when set, is what the API shows of a stored object.
	view func(v T) any
	// afterDelete, when set, runs once a delete is committed.
	afterDelete func(ctx context.Context, id string)
	// notify tells whether the engine is told of every successful write.
	notify bool
	// quietCreate, with notify, keeps a create from telling the engine: a
	// new object of the kind (an endpoint, a credential) is referenced by
	// no monitor or threshold yet, so nothing the engine runs can change,
	// and the monitor or threshold that comes to reference it tells the
	// engine when it is written. Told, the scheduler rereads the whole
	// configuration, back to back while creates keep coming: with 10,000
	// endpoints stored, 69% of aiod's CPU while 11,000 endpoints were
	// created (make bench-terraform -aiod-cpuprofile, issue 13). Updates
	// and deletes still tell it.
	quietCreate bool
}

// kindRoutes expands a kind into its five routes and its history routes
// (history.go): viewers read, editors write.
func kindRoutes[T any, PT metaPointer[T]](s *Server, k *kindSpec[T, PT]) []route {
	item := k.kind.Path + "/{id}"
	return append([]route{
		{http.MethodGet, k.kind.Path, api.RoleViewer, func(w http.ResponseWriter, r *http.Request, _ principal) error { return k.serveList(s, w, r) }},
		{http.MethodPost, k.kind.Path, api.RoleEditor, func(w http.ResponseWriter, r *http.Request, p principal) error { return k.create(s, w, r, p) }},
		{http.MethodGet, item, api.RoleViewer, func(w http.ResponseWriter, r *http.Request, _ principal) error { return k.serveGet(s, w, r) }},
		{http.MethodPut, item, api.RoleEditor, func(w http.ResponseWriter, r *http.Request, p principal) error { return k.replace(s, w, r, p) }},
		{http.MethodDelete, item, api.RoleEditor, func(w http.ResponseWriter, r *http.Request, p principal) error { return k.delete(s, w, r, p) }},
	}, historyRoutes(s, k)...)
}

// show is what the API answers for a stored object.
func (k *kindSpec[T, PT]) show(v T) any {
	if k.view != nil {
		return k.view(v)
	}
	return v
}

// words is the kind's name as messages say it: "alert threshold" for
// alert_threshold (the name audit events and URLs use).
func (k *kindSpec[T, PT]) words() string { return strings.ReplaceAll(k.kind.Name, "_", " ") }

// notFound is the 404 of an ID that names no object of the kind.
func (k *kindSpec[T, PT]) notFound(id string) error {
	return problemf(http.StatusNotFound, "no %s with id %q", k.words(), id)
}

// read reads and decodes a request body. err is a body that could not be
// read, answered at once; invalid is answered inside the transaction.
func (k *kindSpec[T, PT]) read(r *http.Request, creating bool) (fingerprint []byte, v T, invalid, err error) {
	body, err := readBody(r)
	if err != nil {
		return nil, v, nil, err
	}
	fingerprint, v, invalid = k.decode(body, creating)
	if fingerprint == nil && invalid != nil {
		return nil, v, nil, invalid
	}
	return fingerprint, v, invalid, nil
}

// serveList answers GET <path>: one page with the filters every kind
// takes, and those of the kind's list call.
func (k *kindSpec[T, PT]) serveList(s *Server, w http.ResponseWriter, r *http.Request) error {
	q, err := listParams(r, k.kind.Prefix)
	if err != nil {
		return err
	}
	items, next, err := k.list(s.store, r.Context(), q, r.URL.Query())
	if err != nil {
		return err
	}
	if k.view == nil {
		writeJSON(w, http.StatusOK, api.List[T]{Items: items, NextCursor: encodeCursor(next)})
		return nil
	}
	shown := make([]any, len(items))
	for i, v := range items {
		shown[i] = k.view(v)
	}
	writeJSON(w, http.StatusOK, api.List[any]{Items: shown, NextCursor: encodeCursor(next)})
	return nil
}

// serveGet answers GET <path>/{id}: the object with its revision as ETag,
// or 404.
func (k *kindSpec[T, PT]) serveGet(s *Server, w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	v, err := k.get(s.store, r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return k.notFound(id)
	}
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(PT(&v).GetMeta().Revision))
	writeJSON(w, http.StatusOK, k.show(v))
	return nil
}

// create answers POST <path>: 201 with the object, its Location and ETag.
func (k *kindSpec[T, PT]) create(s *Server, w http.ResponseWriter, r *http.Request, p principal) error {
	body, in, bad, err := k.read(r, true)
	if err != nil {
		return err
	}
	ctx := r.Context()
	var id string
	err = s.mutate(w, r, p, body, func(tx store.Tx) (result, error) {
		if bad != nil {
			return result{}, bad
		}
		// The hooks complete a copy, so that the request stays as sent.
		next := in
		if err := k.checkAndAdmit(ctx, tx, nil, next, true); err != nil {
			return result{}, err
		}
		now := s.now()
		m := PT(&next).GetMeta()
		m.ID, m.Revision, m.CreatedAt, m.UpdatedAt = ids.New(k.kind.Prefix, now), 1, now, now
		id = m.ID
		var zero T
		changed := k.changes(ctx, zero, next)
		if err := k.write(ctx, tx, k.insert, nil, &next, changed); err != nil {
			return result{}, err
		}
		if err := k.record(ctx, tx, p, api.ActionCreate, nil, next, changed); err != nil {
			return result{}, err
		}
		return result{status: http.StatusCreated, body: k.show(next),
			header: map[string]string{"Location": k.kind.Path + "/" + m.ID, "ETag": etag(1)}}, nil
	})
	if err == nil && !k.quietCreate {
		// A replayed create tells the engine too, with no ID: it rereads
		// the configuration whatever it is told.
		k.told(s, id)
	}
	return err
}

// replace answers PUT <path>/{id}: 404 when absent, 412 on a stale
// If-Match, the current object untouched when nothing changes, else the
// object at its next revision.
func (k *kindSpec[T, PT]) replace(s *Server, w http.ResponseWriter, r *http.Request, p principal) error {
	want, err := ifMatch(r)
	if err != nil {
		return err
	}
	body, in, bad, err := k.read(r, false)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	ctx := r.Context()
	err = s.mutate(w, r, p, body, func(tx store.Tx) (result, error) {
		if bad != nil {
			return result{}, bad
		}
		return k.put(ctx, s, tx, p, api.ActionUpdate, id, want, in)
	})
	if err == nil {
		k.told(s, id)
	}
	return err
}

// put replaces the object with the given ID by in, as a PUT does (and a
// restore of an old revision, with action restore): 404 when absent, 412
// on a stale If-Match (want), the current object untouched when nothing
// changes, else the object at its next revision with its revision
// snapshot and audit event.
func (k *kindSpec[T, PT]) put(ctx context.Context, s *Server, tx store.Tx, p principal, action, id string, want int64, in T) (result, error) {
	cur, err := k.get(tx, ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return result{}, k.notFound(id)
	} else if err != nil {
		return result{}, err
	}
	cm := PT(&cur).GetMeta()
	if err := checkRevision(k.words(), want, cm.Revision); err != nil {
		return result{}, err
	}
	next := in
	m := PT(&next).GetMeta()
	m.ID = cm.ID
	if err := k.checkAndAdmit(ctx, tx, &cur, next, false); err != nil {
		return result{}, err
	}
	changed := k.changes(ctx, cur, next)
	if len(changed) == 0 {
		// A PUT that changes nothing bumps nothing and is not audited.
		return result{status: http.StatusOK, body: k.show(cur), header: map[string]string{"ETag": etag(cm.Revision)}}, nil
	}
	if k.admit != nil {
		if err := k.admit(ctx, tx, &cur, next); err != nil {
			return result{}, err
		}
	}
	before, err := k.snapshot(cur)
	if err != nil {
		return result{}, err
	}
	m.CreatedAt, m.UpdatedAt, m.Revision = cm.CreatedAt, s.now(), cm.Revision+1
	if err := k.write(ctx, tx, k.update, &cur, &next, changed); err != nil {
		return result{}, err
	}
	if err := k.record(ctx, tx, p, action, before, next, changed); err != nil {
		return result{}, err
	}
	return result{status: http.StatusOK, body: k.show(next), header: map[string]string{"ETag": etag(m.Revision)}}, nil
}

// checkAndAdmit runs the kind's checks. On create, which has no no-op to
// tell apart, the caps are checked at once, after the references.
func (k *kindSpec[T, PT]) checkAndAdmit(ctx context.Context, tx store.Reader, cur *T, next T, creating bool) error {
	if k.check != nil {
		if err := k.check(ctx, tx, cur, next); err != nil {
			return err
		}
	}
	if creating && k.admit != nil {
		return k.admit(ctx, tx, nil, next)
	}
	return nil
}

// write completes next (beforeWrite) and stores it with store, which is
// the kind's insert or update; a taken name is 409 on the name field.
func (k *kindSpec[T, PT]) write(ctx context.Context, tx store.Tx, put func(store.Tx, context.Context, T) error, cur, next *T, changed []string) error {
	if k.beforeWrite != nil {
		if err := k.beforeWrite(ctx, cur, next, changed); err != nil {
			return err
		}
	}
	if err := put(tx, ctx, *next); errors.Is(err, store.ErrConflict) {
		return nameTaken(k.words(), k.name(*next))
	} else if err != nil {
		return err
	}
	if k.afterWrite != nil {
		return k.afterWrite(ctx, tx, cur, *next)
	}
	return nil
}

// delete answers DELETE <path>/{id}: 404 when absent, 412 on a stale
// If-Match, 409 naming the referrers, else 204 with the audit event in the
// same transaction.
func (k *kindSpec[T, PT]) delete(s *Server, w http.ResponseWriter, r *http.Request, p principal) error {
	want, err := ifMatch(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	ctx := r.Context()
	err = s.mutate(w, r, p, nil, func(tx store.Tx) (result, error) {
		cur, err := k.get(tx, ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return result{}, k.notFound(id)
		} else if err != nil {
			return result{}, err
		}
		rev := PT(&cur).GetMeta().Revision
		if err := checkRevision(k.words(), want, rev); err != nil {
			return result{}, err
		}
		if k.referrers != nil {
			refs, err := k.referrers(tx, ctx, id)
			if err != nil {
				return result{}, err
			}
			if len(refs) > 0 {
				return result{}, referrersConflict(k.words(), refs)
			}
		}
		last, err := k.snapshot(cur)
		if err != nil {
			return result{}, err
		}
		if err := k.remove(tx, ctx, id); err != nil {
			return result{}, err
		}
		now, actor := s.now(), p.actor()
		// The tombstone keeps the last snapshot, for listing and restoring
		// the deleted object while history is retained.
		if err := tx.InsertTombstone(ctx, api.Tombstone{ObjectKind: k.kind.Name, ObjectID: id, Name: k.name(cur), Revision: rev,
			DeletedAt: now, Actor: actor.Name, ActorRole: actor.Role, Object: last}); err != nil {
			return result{}, err
		}
		if err := tx.InsertAuditEvent(ctx, auth.Event(now, actor, api.ActionDelete, k.kind.Name, id, rev, nil)); err != nil {
			return result{}, err
		}
		return result{status: http.StatusNoContent}, nil
	})
	if err != nil {
		return err
	}
	k.told(s, id)
	if k.afterDelete != nil {
		k.afterDelete(ctx, id)
	}
	return nil
}

// told tells the engine of a write, when the kind says so.
func (k *kindSpec[T, PT]) told(s *Server, id string) {
	if k.notify {
		s.notify(k.kind.Name, id)
	}
}

// listOf adapts a store listing that takes only the shared filters.
func listOf[T any](list func(store.Reader, context.Context, store.ListQuery) ([]T, string, error)) func(store.Reader, context.Context, store.ListQuery, url.Values) ([]T, string, error) {
	return func(r store.Reader, ctx context.Context, q store.ListQuery, _ url.Values) ([]T, string, error) {
		return list(r, ctx, q)
	}
}

// decodeObject is the decode of a kind whose wire type validates and
// normalizes itself: the raw body is its fingerprint.
func decodeObject[T any, PT interface {
	*T
	Validate() []api.FieldError
	Normalize()
}](body []byte, _ bool) ([]byte, T, error) {
	var v T
	if p := decodeJSON(body, &v); p != nil {
		return body, v, p
	}
	if errs := PT(&v).Validate(); len(errs) > 0 {
		return body, v, invalid(errs)
	}
	PT(&v).Normalize()
	return body, v, nil
}

// nameTaken answers 409 on the name field when a kind's name is in use.
func nameTaken(kind, name string) error {
	p := problemf(http.StatusConflict, "the %s name %q is already taken", kind, name)
	p.fields = []api.FieldError{{Field: "name", Message: "is already taken"}}
	return p
}
