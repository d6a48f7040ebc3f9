// Package senders builds the registry of every notification channel type
// aiod supports, so that the wiring in cmd/aiod and the tests of the
// delivery worker assemble it the same way.
package senders

import (
	"net/http"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/egress"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/email"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/pagerduty"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/slack"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/webhook"
)

// Options are the dependencies of the senders.
type Options struct {
	// HTTPClient sends webhook, Slack and PagerDuty deliveries; nil means
	// NewHTTPClient(nil), the default egress policy.
	HTTPClient *http.Client
	// Clock signs webhooks and dates mail; nil means the real clock.
	Clock clock.Clock
	// SMTP is aiod's mail server; the zero value makes every email
	// delivery fail with an error naming the missing flags.
	SMTP email.Config
}

// Registry returns a registry with every channel type.
func Registry(o Options) *notify.Registry {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.HTTPClient == nil {
		o.HTTPClient = NewHTTPClient(nil)
	}
	if o.SMTP.Clock == nil {
		o.SMTP.Clock = o.Clock
	}
	r := notify.NewRegistry()
	r.Register(webhook.Type, webhook.New(o.HTTPClient, o.Clock))
	r.Register(slack.Type, slack.New(o.HTTPClient))
	r.Register(pagerduty.Type, pagerduty.New(o.HTTPClient))
	r.Register(email.Type, email.New(o.SMTP))
	return r
}

// NewHTTPClient returns the client deliveries should use: its dialer
// enforces the egress policy (nil: the default policy) exactly as probes'
// does, and it uses no proxy from the environment, because a proxy would
// make the connection on aiod's behalf where the policy cannot see it.
// Timeouts come from each attempt's context.
func NewHTTPClient(policy *egress.Policy) *http.Client {
	d := &egress.Dialer{Policy: policy, KeepAlive: 30 * time.Second}
	return &http.Client{Transport: &http.Transport{
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}}
}
