package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// result is the answer to a change, made inside its write transaction.
type result struct {
	status int
	// body is encoded as JSON; nil means no body (204).
	body   any
	header map[string]string
	// stored, when set, is the body a replay answers instead of body: the
	// idempotent answer is kept for a day, and an answer may hold what
	// must not outlive its request (the name an erasure erases).
	stored any
}

// maxIdempotencyKey bounds the length of a key.
const maxIdempotencyKey = 255

// mutate runs a change in one write transaction together with the storage
// of its idempotent answer, so that the change and the record of its answer
// are committed together or not at all. A request with a known key gets
// the stored answer back (with Idempotent-Replayed: true) without running
// the change again; the same key with another body is refused with 422,
// and a key whose first request is still running gets 409.
func (s *Server) mutate(w http.ResponseWriter, r *http.Request, p principal, body []byte, fn func(tx store.Tx) (result, error)) error {
	ctx := r.Context()
	key := r.Header.Get(api.HeaderIdempotency)
	ik := store.IdempotencyKey{TokenID: p.token.ID, Method: r.Method, Path: r.URL.Path, Key: key}
	if key != "" {
		if len(key) > maxIdempotencyKey {
			return invalid([]api.FieldError{{Field: "Idempotency-Key", Message: "must be at most 255 characters"}})
		}
		if !s.beginInflight(ik) {
			// Retry-After tells clients that this conflict, unlike a taken
			// name, goes away by itself: the retry gets the stored answer.
			p := problemf(http.StatusConflict, "a request with this Idempotency-Key is still in progress")
			p.header = map[string]string{"Retry-After": "1"}
			return p
		}
		defer s.endInflight(ik)
	}
	fp := s.fingerprint(body)
	var (
		replay *store.IdempotencyRecord
		res    result
		enc    []byte
	)
	err := s.store.Write(ctx, func(tx store.Tx) error {
		now := s.clock.Now()
		if key != "" {
			rec, err := tx.GetIdempotency(ctx, ik, now)
			switch {
			case err == nil:
				if !hmac.Equal([]byte(rec.Fingerprint), []byte(fp)) {
					return problemf(http.StatusUnprocessableEntity, "this Idempotency-Key was used with another request body")
				}
				replay = &rec
				return nil
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
		}
		var err error
		if res, err = fn(tx); err != nil {
			return err
		}
		if res.body != nil {
			if enc, err = encodeAnswer(res.body); err != nil {
				return err
			}
		}
		if key == "" {
			return nil
		}
		keep := enc
		if res.stored != nil {
			if keep, err = encodeAnswer(res.stored); err != nil {
				return err
			}
		}
		return tx.PutIdempotency(ctx, store.IdempotencyRecord{
			IdempotencyKey: ik, Fingerprint: fp, Status: res.status, Header: res.header, Body: keep,
			CreatedAt: now, ExpiresAt: now.Add(s.cfg.IdempotencyTTL),
		})
	})
	if err != nil {
		return err
	}
	if replay != nil {
		w.Header().Set(api.HeaderReplayed, "true")
		writeRaw(w, replay.Status, replay.Header, replay.Body)
		return nil
	}
	writeRaw(w, res.status, res.header, enc)
	return nil
}

// encodeAnswer is the JSON of an answer's body, as it is sent and kept.
func encodeAnswer(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func writeRaw(w http.ResponseWriter, status int, header map[string]string, body []byte) {
	for k, v := range header {
		w.Header().Set(k, v)
	}
	if len(body) > 0 {
		w.Header().Set("Content-Type", api.ContentTypeJSON)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// fingerprint is a keyed hash of a request body: it tells bodies apart
// without storing a plain hash that could confirm a guessed secret.
func (s *Server) fingerprint(body []byte) string {
	m := hmac.New(sha256.New, s.fpKey)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Server) beginInflight(k store.IdempotencyKey) bool {
	s.inflightMu.Lock()
	defer s.inflightMu.Unlock()
	if _, busy := s.inflight[k]; busy {
		return false
	}
	s.inflight[k] = struct{}{}
	return true
}

func (s *Server) endInflight(k store.IdempotencyKey) {
	s.inflightMu.Lock()
	defer s.inflightMu.Unlock()
	delete(s.inflight, k)
}

// PurgeExpiredIdempotency deletes the idempotent answers whose time is
// over. Lookups already ignore them; purging keeps the table, and the
// database file, from growing with every write ever made. aiod runs it
// periodically.
func (s *Server) PurgeExpiredIdempotency(ctx context.Context) (int64, error) {
	var n int64
	err := s.store.Write(ctx, func(tx store.Tx) error {
		var err error
		n, err = tx.DeleteExpiredIdempotency(ctx, s.clock.Now())
		return err
	})
	return n, err
}
