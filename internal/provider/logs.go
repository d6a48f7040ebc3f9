package provider

import (
	"os"
	"strings"
)

// Terraform shows a provider's log lines only when TF_LOG_PROVIDER, or
// else TF_LOG, is set in its environment (which the provider inherits);
// otherwise its provider logger is off and it parses every line the provider
// writes to stderr only to drop it. The plugin SDKs know nothing of that:
// their loggers default to TRACE, so that the framework formats a JSON
// line with a stack lookup for every step of every operation. Profiling a
// 1,000-resource plan and apply (make bench-terraform
// -provider-cpuprofile) showed that formatting at 38% of the provider's
// CPU time, before Terraform's own cost of reading it.
//
// logLevelVariables are the variables that set the levels of the loggers
// a provider process has: the SDK's (plugin-go), its protocol subsystem,
// the framework's subsystem and this provider's own (tflog, named after
// the provider type).
var logLevelVariables = []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PROVIDER_AIO"}

// SilenceDiscardedLogs turns every logger of this provider process off
// when Terraform would drop what they write: when neither TF_LOG_PROVIDER
// nor TF_LOG is set. It must run before the provider serves (the SDK reads
// the levels once, then). With either set, nothing changes, so that
// TF_LOG=DEBUG terraform apply logs as it always did. It returns the
// variables it set.
func SilenceDiscardedLogs() []string {
	if strings.TrimSpace(os.Getenv("TF_LOG_PROVIDER")) != "" || strings.TrimSpace(os.Getenv("TF_LOG")) != "" {
		return nil
	}
	for _, v := range logLevelVariables {
		_ = os.Setenv(v, "off")
	}
	return logLevelVariables
}
