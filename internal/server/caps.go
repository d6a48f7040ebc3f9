package server

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/store"
)

// probeRate is how many probes a second a monitor asks for: 1/interval
// when it is enabled, else none. Retries are not counted: they happen only
// on failure, and the cap is about the configured load.
func probeRate(m api.Monitor) float64 {
	if !m.IsEnabled() {
		return 0
	}
	return 1 / m.EffectiveInterval().Seconds()
}

// checkMonitorCaps refuses a monitor write that would take aiod past its
// caps (Config.MaxMonitors, Config.MaxProbeRate). cur is the monitor being
// replaced, nil on create.
//
// The answer is 400, not 429: the provider's client retries 429 with
// backoff, which would only stall terraform apply on a condition that no
// retry clears, while a 400 fails at once with the reason. The rate cap
// names the interval field, the one a user changes to fit under it.
//
// A write that does not add load (an update that keeps or lengthens the
// interval, disables the monitor, or changes something else) is never
// refused, so that an aiod already over a lowered cap can still be edited
// down to it.
func (s *Server) checkMonitorCaps(ctx context.Context, tx store.Reader, cur *api.Monitor, next api.Monitor) error {
	maxN, maxRate := s.cfg.MaxMonitors, s.cfg.MaxProbeRate
	if maxN <= 0 && maxRate <= 0 {
		return nil
	}
	except, curRate := "", 0.0
	if cur != nil {
		except, curRate = cur.ID, probeRate(*cur)
	}
	groups, err := tx.MonitorIntervals(ctx, except)
	if err != nil {
		return err
	}
	others, rate := 0, 0.0
	for _, g := range groups {
		others += g.Count
		if !g.Enabled {
			continue
		}
		if d, err := api.ParseDuration(g.Interval); err == nil {
			rate += float64(g.Count) / d.Seconds()
		}
	}
	if cur == nil && maxN > 0 && others+1 > maxN {
		return problemf(http.StatusBadRequest,
			"this aiod already has %d monitors, its cap (--max-monitors %d): delete monitors or raise the cap", others, maxN)
	}
	nextRate := probeRate(next)
	// The tolerance keeps floating-point sums of 1/interval that are
	// exactly at the cap (0.1 + 0.2 + 0.1) from counting as over it.
	if maxRate > 0 && nextRate > curRate && rate+nextRate > maxRate*(1+1e-9) {
		return invalid([]api.FieldError{{Field: "interval", Message: fmt.Sprintf(
			"would raise this aiod's probe rate to %s probes/s, over its cap of %s (--max-probe-rate): use a longer interval, or raise the cap",
			fmtRate(rate+nextRate), fmtRate(maxRate))}})
	}
	return nil
}

// fmtRate renders a rate with at most two decimals and no trailing zeros.
func fmtRate(r float64) string { return strconv.FormatFloat(math.Round(r*100)/100, 'f', -1, 64) }
