package retention

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/auth"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// Erasure requests (GDPR art. 17) are stored by the API as pending and
// carried out here, one at a time, in the same small batches as the
// policies: an endpoint's request deletes every stored record of it (raw
// results with their errors, excerpts and addresses, missed runs,
// rollups, alert events and deliveries, pending ones included); an
// actor's request replaces the actor of every audit event of theirs with
// their pseudonym. The audit floor does not apply: erasure anonymizes the
// trail, it does not delete it.

// erasureKinds are the data kinds an endpoint's erasure deletes.
var erasureKinds = func() []string {
	var out []string
	for _, k := range api.DataKinds {
		if k.EndpointScoped {
			out = append(out, k.Name)
		}
	}
	return out
}()

// ProcessErasures carries out every pending erasure request, oldest
// first, and records each outcome with an audit event.
func (e *Enforcer) ProcessErasures(ctx context.Context) error {
	for {
		req, err := e.st.NextErasureRequest(ctx)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		e.erase(ctx, &req)
		now := e.cfg.Clock.Now()
		req.CompletedAt = &now
		ev := auth.Event(now, auth.Actor{Name: req.RequestedBy, Role: "system"}, api.ActionErase, api.KindErasure, req.ID, 0, nil)
		ev.Counts = map[string]int64{"deleted": req.Deleted, "anonymized": req.Anonymized}
		if err := e.st.FinishErasureRequest(ctx, req, ev); err != nil {
			return err
		}
		// After the receipt is stored: until then the request itself held
		// the actor's name.
		if req.State == api.ErasureCompleted {
			if err := e.st.EraseResidue(ctx); err != nil {
				return fmt.Errorf("erase the residue after erasure %s: %w", req.ID, err)
			}
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// erase does the work of one request and sets its state and counts.
func (e *Enforcer) erase(ctx context.Context, req *api.ErasureRequest) {
	e.mu.Lock()
	defer e.mu.Unlock()
	// Everything up to now, with a margin for results stamped by a clock
	// a little ahead.
	before := e.cfg.Clock.Now().Add(time.Hour)
	var err error
	switch {
	case req.EndpointID != nil:
		for _, kind := range erasureKinds {
			sel := store.RetentionSelector{DataKind: kind, Before: before, Erasure: true,
				Scope: store.RetentionScope{EndpointIDs: []string{*req.EndpointID}}}
			var n int64
			n, err = e.batches(ctx, func() (map[string]int64, error) { return e.st.RetentionDelete(ctx, sel, e.cfg.Batch) })
			req.Deleted += n
			if err != nil {
				break
			}
		}
	case req.Actor != nil:
		// The actor is in the audit trail and in the change history
		// (who wrote each revision, who deleted each object).
		pf := e.pseudonymFunc(ctx)
		for _, kind := range []string{api.DataAuditEvents, api.DataRevisions} {
			sel := store.RetentionSelector{DataKind: kind, Before: before, Actor: *req.Actor, Fields: []string{"actor"}}
			var n int64
			n, err = e.batches(ctx, func() (map[string]int64, error) { return e.st.RetentionAnonymize(ctx, sel, e.cfg.Batch, pf) })
			req.Anonymized += n
			if err != nil {
				break
			}
		}
		if pf != nil {
			// The receipt keeps the pseudonym, never the name it erased.
			p := pf(*req.Actor)
			req.Actor = &p
		}
	}
	if err != nil {
		req.State, req.Error = api.ErasureFailed, err.Error()
		e.log.Error("erasure request", "erasure_id", req.ID, "error", err)
		return
	}
	req.State = api.ErasureCompleted
}

// batches calls one batch until it comes back short, and sums its counts.
func (e *Enforcer) batches(ctx context.Context, batch func() (map[string]int64, error)) (int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		counts, err := batch()
		var n int64
		for _, c := range counts {
			n += c
		}
		total += n
		if err != nil || n < int64(e.cfg.Batch) {
			return total, err
		}
	}
}
