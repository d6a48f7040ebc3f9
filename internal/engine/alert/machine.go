package alert

import "time"

// State is the state of one severity of one threshold.
type State string

// The states. An alert goes ok → pending → firing → resolved → ok; pending
// falls back to ok when the breach ends before pending_for, and resolved
// goes back to pending (or straight to firing) when the breach returns.
const (
	// OK: the figure does not breach (or no evaluation has seen it yet).
	OK State = "ok"
	// Pending: the figure breaches, for less than pending_for so far.
	Pending State = "pending"
	// Firing: the figure has breached for pending_for, and has not been
	// clear for recovery_for since.
	Firing State = "firing"
	// Resolved: the alert fired and has resolved. It moves on at the next
	// evaluation: to ok when the figure stays clear, so that the history
	// shows that the incident is over, or back to pending or firing.
	Resolved State = "resolved"
)

// Transition is one change of state of one severity, or a reminder: it is
// an alert event for the store. Notify tells whether it is to be
// delivered to the threshold's channels.
type Transition struct {
	// Severity is the machine that changed.
	Severity Severity
	// From and To are the states before and after; both are Firing for a
	// reminder.
	From, To State
	// Value is the figure the evaluation saw, nil when there was none.
	Value *float64
	// At is the time of the evaluation.
	At time.Time
	// StartedAt is when the episode began: when the alert went pending
	// for a transition to Pending, when it fired for any transition to or
	// from Firing (so a resolved event carries its firing's start).
	StartedAt time.Time
	// Reminder marks a re-notification of a firing alert: one per
	// reminder_interval, and one when a warning that fired while its
	// critical was firing is left firing alone (see Threshold).
	Reminder bool
	// Notify tells whether the transition is delivered: firing, reminders
	// and the resolution of a firing that was delivered. Going pending,
	// back to ok, and anything a firing critical suppresses are stored
	// but not delivered.
	Notify bool
	// Pair is the burn-rate pair behind the value of an
	// error_budget_burn_rate threshold, nil for other metrics. It points
	// into the rule's pairs (or the shared defaults): read only.
	Pair *BurnRateWindow
}

// Machine is the state of one severity of one threshold. Its fields are
// exported so that the engine can store it and restore it after a restart;
// the zero value is OK, never notified.
type Machine struct {
	// State is the current state; empty means OK.
	State State
	// Since is when the machine entered State. For Firing it is when the
	// alert fired, the started_at of its events.
	Since time.Time
	// ClearSince is, while Firing, when the figure was first seen clear in
	// the current clear streak; zero while it is not clear.
	ClearSince time.Time
	// Notified tells whether the current firing has been delivered. It is
	// false while a firing critical suppresses a firing warning.
	Notified bool
	// LastNotified is when the firing, or its latest reminder, was
	// delivered; reminders count from it.
	LastNotified time.Time
}

// obs is what one evaluation says about one severity.
type obs uint8

const (
	// obsClear: not breaching, and past the recovery value.
	obsClear obs = iota
	// obsBetween: not breaching, but not yet past the recovery value
	// (hysteresis): a firing alert stays firing, a pending one goes ok.
	obsBetween
	// obsBreach: breaching.
	obsBreach
	// obsFrozen: no data under keep_last: nothing changes.
	obsFrozen
)

// timing is the part of a rule the machines need.
type timing struct {
	pendingFor, recoveryFor, reminder time.Duration
}

// step moves the machine for one evaluation and appends what happened to
// dst. suppress tells that a firing critical suppresses this machine's
// notifications: its transitions are still recorded, without Notify, and
// its reminders are not sent.
func (m *Machine) step(dst []Transition, now time.Time, o obs, value *float64, sev Severity, t timing, suppress bool, pair *BurnRateWindow) []Transition {
	emit := func(to State, started time.Time, reminder, notify bool) {
		tr := Transition{Severity: sev, From: m.state(), To: to, At: now, StartedAt: started, Reminder: reminder, Notify: notify, Pair: pair}
		if value != nil {
			// A copy, so that the caller's value does not escape and the
			// common evaluation without a transition does not allocate.
			v := *value
			tr.Value = &v
		}
		dst = append(dst, tr)
	}
	fire := func() {
		emit(Firing, now, false, !suppress)
		m.State, m.Since, m.ClearSince = Firing, now, time.Time{}
		m.Notified = !suppress
		if m.Notified {
			m.LastNotified = now
		}
	}
	switch m.state() {
	case OK, Resolved:
		switch o {
		case obsBreach:
			if t.pendingFor <= 0 {
				fire()
				return dst
			}
			emit(Pending, now, false, false)
			m.State, m.Since = Pending, now
		case obsClear, obsBetween:
			if m.State == Resolved {
				emit(OK, time.Time{}, false, false)
				m.State, m.Since = OK, now
			}
		}
	case Pending:
		switch o {
		case obsBreach:
			if now.Sub(m.Since) >= t.pendingFor {
				fire()
			}
		case obsClear, obsBetween:
			// A pending alert was never told to anyone: it needs no
			// hysteresis, it simply did not last.
			emit(OK, m.Since, false, false)
			m.State, m.Since = OK, now
		}
	case Firing:
		switch o {
		case obsBreach, obsBetween:
			m.ClearSince = time.Time{}
		case obsClear:
			if m.ClearSince.IsZero() {
				m.ClearSince = now
			}
			if now.Sub(m.ClearSince) >= t.recoveryFor {
				// A resolution is delivered exactly when its firing was,
				// so a receiver (PagerDuty's dedup key) never sees one
				// without the other.
				emit(Resolved, m.Since, false, m.Notified)
				m.State, m.Since, m.ClearSince = Resolved, now, time.Time{}
				m.Notified = false
				return dst
			}
		}
		switch {
		case suppress:
		case !m.Notified:
			// The firing was suppressed and no longer is: tell the
			// receivers now, or they would never learn of it.
			emit(Firing, m.Since, true, true)
			m.Notified, m.LastNotified = true, now
		case t.reminder > 0 && now.Sub(m.LastNotified) >= t.reminder:
			emit(Firing, m.Since, true, true)
			m.LastNotified = now
		}
	}
	return dst
}

// state returns the machine's state, OK for the zero value.
func (m *Machine) state() State {
	if m.State == "" {
		return OK
	}
	return m.State
}

// reset ends the machine's episode, for a threshold that was changed or
// deleted, and appends what happened: a firing alert resolves (delivered
// if its firing was), a pending one goes ok.
func (m *Machine) reset(dst []Transition, now time.Time, sev Severity) []Transition {
	switch m.state() {
	case Firing:
		dst = append(dst, Transition{Severity: sev, From: Firing, To: Resolved, At: now, StartedAt: m.Since, Notify: m.Notified})
	case Pending, Resolved:
		dst = append(dst, Transition{Severity: sev, From: m.State, To: OK, At: now, StartedAt: m.Since})
	}
	*m = Machine{State: OK, Since: now}
	return dst
}
