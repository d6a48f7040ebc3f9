package client

import "testing"

func TestAlertFilterValues(t *testing.T) {
	f := AlertFilter{
		State: "firing", Severity: "critical", EndpointID: "ep_1",
		ThresholdIDs: []string{"thr_b", "thr_a"},
		Tags:         map[string]string{"team": "orders", "env": "prod"},
	}
	const want = "endpoint_id=ep_1&severity=critical&state=firing&tag=env%3Aprod&tag=team%3Aorders&threshold_id=thr_b&threshold_id=thr_a"
	if got := f.values().Encode(); got != want {
		t.Errorf("values:\n got %s\nwant %s", got, want)
	}
	if got := (AlertFilter{}).values().Encode(); got != "" {
		t.Errorf("an empty filter sends %q, want nothing", got)
	}
}
