package slack_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/notifytest"
	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/slack"
)

// hookPath is the secret part of a Slack webhook URL.
const hookPath = "/services/T0AIO0000/B0AIO0000/xoxSecretToken1234"

func channel(base string) notify.Channel {
	return notify.Channel{ID: "chan_slack", Type: slack.Type, Secret: []byte(base + hookPath)}
}

func send(t *testing.T, ctx context.Context, client *http.Client, ch notify.Channel, e notify.Event) notify.Result {
	t.Helper()
	res := slack.New(client).Send(ctx, notify.Delivery{ID: "dlv_1", Event: e}, ch)
	notifytest.NoSecret(t, ch.Secret, res.Error, res.Reply)
	notifytest.NoSecret(t, []byte(strings.Trim(hookPath, "/")), res.Error, res.Reply)
	return res
}

// TestSendFormat: the receiver gets Slack's message format at the secret
// URL, for a firing and a resolved event.
func TestSendFormat(t *testing.T) {
	for golden, e := range map[string]notify.Event{"slack_firing.json": notifytest.Event(), "slack_resolved.json": notifytest.Resolved()} {
		rcv := notifytest.NewReceiver(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
		res := send(t, context.Background(), rcv.Client(), channel(rcv.URL), e)
		if res.Outcome != notify.Delivered || res.Status != 200 || res.Reply != "ok" {
			t.Fatalf("result %+v", res)
		}
		req := rcv.Only(t)
		if req.Path != hookPath || req.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s", req.Path, req.Header.Get("Content-Type"))
		}
		notifytest.GoldenJSON(t, golden, req.Body)

		var m slack.Msg
		if err := json.Unmarshal(req.Body, &m); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(m.Text, "http") || strings.Contains(m.Text, "<") {
			t.Errorf("the text summary carries a link: %s", m.Text)
		}
		for _, want := range []string{"payments-api", "availability_percent", "checkout availability", "critical"} {
			if !strings.Contains(string(req.Body), want) {
				t.Errorf("the message does not name %q", want)
			}
		}
	}
}

// TestMessageEscapes: user-chosen names cannot mention a whole channel or
// smuggle a link, and only http(s) runbooks become links.
func TestMessageEscapes(t *testing.T) {
	e := notifytest.Event()
	e.Threshold.Name = "<!channel> <https://evil.example|click> & co"
	js := "javascript:alert(1)"
	e.RunbookURL = &js
	m := slack.Message(e)
	// Mentions and links are parsed in the summary and in mrkdwn text;
	// the header is plain_text, which Slack shows as written.
	mrkdwn := []string{m.Text}
	for _, b := range m.Attachments[0].Blocks {
		for _, f := range append(b.Fields, b.Elements...) {
			if f.Type == "mrkdwn" {
				mrkdwn = append(mrkdwn, f.Text)
			}
		}
		if b.Text != nil && b.Text.Type != "plain_text" {
			t.Errorf("a %s block has %s text", b.Type, b.Text.Type)
		}
	}
	s := strings.Join(mrkdwn, "\n")
	for _, bad := range []string{"<!channel>", "<https://evil", "javascript", "|Runbook>"} {
		if strings.Contains(s, bad) {
			t.Errorf("the message carries %q: %s", bad, s)
		}
	}
	if !strings.Contains(s, "&lt;!channel&gt;") || !strings.Contains(s, "&amp; co") {
		t.Errorf("names not escaped: %s", s)
	}
}

func TestClassification(t *testing.T) {
	t.Run("invalid_token", func(t *testing.T) {
		rcv := notifytest.NewReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			// Echo the path, as a proxy's error page might.
			http.Error(w, "invalid_token for "+r.URL.Path, http.StatusForbidden)
		})
		res := send(t, context.Background(), rcv.Client(), channel(rcv.URL), notifytest.Event())
		if res.Outcome != notify.Failed || res.Status != 403 || !strings.Contains(res.Error, "invalid_token") {
			t.Errorf("result %+v", res)
		}
		if !strings.Contains(res.Error, "/[redacted]") {
			t.Errorf("the error does not name the redacted URL: %s", res.Error)
		}
	})
	t.Run("rate limited", func(t *testing.T) {
		rcv := notifytest.NewReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "30")
			http.Error(w, "rate_limited", http.StatusTooManyRequests)
		})
		res := send(t, context.Background(), rcv.Client(), channel(rcv.URL), notifytest.Event())
		if res.Outcome != notify.Retry || res.RetryAfter != 30*time.Second {
			t.Errorf("result %+v", res)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := "http://" + ln.Addr().String()
		ln.Close()
		res := send(t, context.Background(), nil, channel(base), notifytest.Event())
		if res.Outcome != notify.Retry || !strings.Contains(res.Error, "connection refused") {
			t.Errorf("result %+v", res)
		}
	})
	t.Run("hanging", func(t *testing.T) {
		release := make(chan struct{})
		rcv := notifytest.NewReceiver(t, func(_ http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		res := send(t, ctx, rcv.Client(), channel(rcv.URL), notifytest.Event())
		if res.Outcome != notify.Retry || !strings.Contains(res.Error, "timed out") {
			t.Errorf("result %+v", res)
		}
	})
	t.Run("secret is not a URL", func(t *testing.T) {
		ch := notify.Channel{Type: slack.Type, Secret: []byte("::not a url xoxSecretToken1234")}
		res := send(t, context.Background(), nil, ch, notifytest.Event())
		if res.Outcome != notify.Failed || strings.Contains(res.Error, "xox") {
			t.Errorf("result %+v", res)
		}
	})
	t.Run("unknown setting", func(t *testing.T) {
		ch := channel("https://hooks.slack.invalid")
		ch.Settings = json.RawMessage(`{"channel":"#ops"}`)
		res := send(t, context.Background(), nil, ch, notifytest.Event())
		if res.Outcome != notify.Failed || !strings.Contains(res.Error, `unknown field "channel"`) {
			t.Errorf("result %+v", res)
		}
	})
}

// TestSendOverHTTPS: a Slack webhook URL is https (Slack's are); the
// sender posts to it, and refuses a URL of another scheme.
func TestSendOverHTTPS(t *testing.T) {
	var got atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == hookPath {
			got.Add(1)
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	if res := send(t, context.Background(), srv.Client(), channel(srv.URL), notifytest.Event()); res.Outcome != notify.Delivered || got.Load() != 1 {
		t.Fatalf("https: result %+v, %d requests", res, got.Load())
	}
	res := send(t, context.Background(), srv.Client(), channel("ftp://127.0.0.1"), notifytest.Event())
	if res.Outcome != notify.Failed || res.Error != "the channel's secret is not a webhook URL" {
		t.Errorf("ftp: result %+v", res)
	}
}

// TestShortTokenPathIsScrubbed: a URL path of 8 characters is long enough
// to be scrubbed on its own from a receiver's echo.
func TestShortTokenPathIsScrubbed(t *testing.T) {
	rcv := notifytest.NewReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unknown hook "+strings.Trim(r.URL.Path, "/"), http.StatusNotFound)
	})
	ch := notify.Channel{ID: "chan_slack", Type: slack.Type, Secret: []byte(rcv.URL + "/abcdefgh")}
	res := slack.New(rcv.Client()).Send(context.Background(), notify.Delivery{ID: "dlv_1", Event: notifytest.Event()}, ch)
	if res.Outcome != notify.Failed || strings.Contains(res.Reply+res.Error, "abcdefgh") || !strings.Contains(res.Reply, notify.Redacted) {
		t.Errorf("result %+v: want the 8-character path scrubbed", res)
	}
}

// TestRunbookLinkOverHTTP: an http runbook is a link like an https one.
func TestRunbookLinkOverHTTP(t *testing.T) {
	e := notifytest.Event()
	e.RunbookURL = new("http://runbooks.example.com/checkout")
	m := slack.Message(e)
	blocks := m.Attachments[0].Blocks
	foot := blocks[len(blocks)-1].Elements[0].Text
	if !strings.HasPrefix(foot, "<http://runbooks.example.com/checkout|Runbook> · ") {
		t.Errorf("footer %q, want the runbook link", foot)
	}
}

// TestHeaderCut: a header of exactly maxHeader (150) characters is kept
// whole; one more is cut with an ellipsis.
func TestHeaderCut(t *testing.T) {
	for _, extra := range []int{0, 1} {
		e := notifytest.Event()
		prefix := "FIRING · critical · "
		e.Threshold.Name = strings.Repeat("é", 150-utf8.RuneCountInString(prefix)+extra)
		header := slack.Message(e).Attachments[0].Blocks[0].Text.Text
		switch want := prefix + e.Threshold.Name; {
		case extra == 0 && header != want:
			t.Errorf("a 150-character header became %q", header)
		case extra == 1 && (utf8.RuneCountInString(header) != 150 || !strings.HasSuffix(header, "…")):
			t.Errorf("a 151-character header became %d characters: %q", utf8.RuneCountInString(header), header)
		}
	}
}
