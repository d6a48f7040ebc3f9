package api

// KindThreshold names alert thresholds in audit events.
const KindThreshold = "alert_threshold"
