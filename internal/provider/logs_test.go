package provider

import (
	"os"
	"slices"
	"testing"
)

// TestSilenceDiscardedLogs: without TF_LOG or TF_LOG_PROVIDER, Terraform
// drops provider logs, so the provider's loggers are turned off; with
// either, a user asking for logs gets them untouched.
func TestSilenceDiscardedLogs(t *testing.T) {
	for _, v := range append([]string{"TF_LOG", "TF_LOG_PROVIDER"}, logLevelVariables...) {
		t.Setenv(v, "")
	}
	set := SilenceDiscardedLogs()
	if !slices.Equal(set, logLevelVariables) {
		t.Fatalf("set %v, want %v", set, logLevelVariables)
	}
	for _, v := range logLevelVariables {
		if got := os.Getenv(v); got != "off" {
			t.Errorf("%s = %q, want off", v, got)
		}
	}

	for _, asked := range []string{"TF_LOG", "TF_LOG_PROVIDER"} {
		for _, v := range append([]string{"TF_LOG", "TF_LOG_PROVIDER"}, logLevelVariables...) {
			t.Setenv(v, "")
		}
		t.Setenv(asked, "DEBUG")
		t.Setenv("TF_LOG_SDK_FRAMEWORK", "trace")
		if set := SilenceDiscardedLogs(); set != nil {
			t.Errorf("%s=DEBUG: set %v, want nothing", asked, set)
		}
		if got := os.Getenv("TF_LOG_SDK_FRAMEWORK"); got != "trace" {
			t.Errorf("%s=DEBUG: TF_LOG_SDK_FRAMEWORK = %q, want the user's trace", asked, got)
		}
		if got := os.Getenv("TF_LOG_PROVIDER_AIO"); got != "" {
			t.Errorf("%s=DEBUG: TF_LOG_PROVIDER_AIO = %q, want unset", asked, got)
		}
	}
}
