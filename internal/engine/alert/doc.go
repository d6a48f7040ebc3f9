// Package alert is the evaluation core of alert thresholds: the rule of a
// threshold, the health figures it can watch, the SLO burn-rate arithmetic,
// and a state machine per threshold and severity
// (ok → pending → firing → resolved → ok).
//
// It is a pure library: it does no I/O, reads no clock (the time of every
// evaluation is passed in) and holds no globals, so one evaluation of one
// threshold costs tens of nanoseconds and ten thousand thresholds a tick
// cost about a millisecond beside reading their figures.
//
// The engine, on each tick and for each enabled threshold:
//
//  1. reads what the metric needs — the rollup of Rule.Window for the
//     windowed metrics (Metric.Windowed), the latest outcomes for
//     consecutive_failures, the certificate or credential expiry times, or
//     for error_budget_burn_rate the rollups of each pair's long and short
//     windows (Rule.Windows);
//  2. computes the figure with FromRollup, ConsecutiveFailuresOf,
//     TLSCertExpiresIn, CredentialExpiresIn, or PairBurn for each pair;
//  3. calls Threshold.AppendEvaluate (or AppendEvaluateBurnRates) with the
//     tick's time, and stores every transition it gets back as an alert
//     event, writing deliveries for those with Notify set, together with
//     the machines (Threshold.Critical and Warning), which are plain data,
//     so that a restart resumes where it left off.
//
// The rules the machines follow:
//
//   - A breach is strict: above fires for a figure greater than the value,
//     below for one less than it. pending_for 0 fires at the first
//     evaluation that sees a breach (one ok → firing transition); otherwise
//     the alert is pending until the breach has lasted pending_for, and
//     drops back to ok (not delivered) if it ends sooner.
//   - A firing alert resolves once the figure has been clear for
//     recovery_for. With a recovery value, clear means at or past it
//     (hysteresis); between the value and the recovery value the alert
//     keeps firing and the recovery timer restarts.
//   - Resolved moves on at the next evaluation: to ok (recorded, not
//     delivered) or, on a new breach, to pending or firing.
//   - Reminders are delivered every reminder_interval while firing,
//     counted from the last delivery.
//   - A resolution is delivered exactly when its firing was.
//   - Warning and critical run as independent machines; while critical is
//     firing, warning's transitions are recorded but not delivered, and its
//     reminders wait (see Threshold).
//   - no_data: ok clears, alerting breaches, keep_last (the default)
//     freezes the machines but keeps the reminders of a firing alert.
package alert
