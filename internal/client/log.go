package client

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// maskToken returns a context whose tflog output has the token masked in
// messages and field values.
func maskToken(ctx context.Context, token string) context.Context {
	return tflog.MaskLogStrings(ctx, token)
}

// leveledLogger bridges go-retryablehttp's logger to tflog. It holds the
// context of one call, because tflog finds its logger (and the masking set
// up by the provider) in the context; that is why a retryablehttp.Client is
// made per call.
type leveledLogger struct {
	ctx context.Context
}

var _ retryablehttp.LeveledLogger = leveledLogger{}

// Error logs a failed attempt. It is a warning in Terraform's log, not an
// error, because the call may still succeed on a retry, and a call that
// finally fails is reported to the user through its returned error.
func (l leveledLogger) Error(msg string, keysAndValues ...any) {
	tflog.Warn(l.ctx, "aio api: "+msg, fields(keysAndValues))
}

// Warn logs a warning from go-retryablehttp.
func (l leveledLogger) Warn(msg string, keysAndValues ...any) {
	tflog.Warn(l.ctx, "aio api: "+msg, fields(keysAndValues))
}

// Info logs go-retryablehttp's informational messages at debug level,
// because they are of interest only when debugging the provider.
func (l leveledLogger) Info(msg string, keysAndValues ...any) {
	tflog.Debug(l.ctx, "aio api: "+msg, fields(keysAndValues))
}

// Debug logs go-retryablehttp's debug messages, such as the wait before a
// retry.
func (l leveledLogger) Debug(msg string, keysAndValues ...any) {
	tflog.Debug(l.ctx, "aio api: "+msg, fields(keysAndValues))
}

// fields turns go-retryablehttp's key/value pairs into tflog fields.
// Errors and durations become strings, because the JSON log format would
// otherwise print an error as {} and a duration as nanoseconds.
func fields(kv []any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		key := fmt.Sprint(kv[i])
		if i+1 >= len(kv) {
			m["extra"] = key
			break
		}
		switch v := kv[i+1].(type) {
		case error:
			m[key] = v.Error()
		case fmt.Stringer:
			m[key] = v.String()
		default:
			m[key] = v
		}
	}
	return m
}

// attemptLog logs every attempt of one call and its response. It records
// method, path, attempt number, idempotency key and status; never headers,
// because the Authorization header carries the token, and never bodies,
// because some kinds carry secrets.
type attemptLog struct {
	ctx            context.Context
	idempotencyKey string
	attempt        int
	start          time.Time
}

// request is go-retryablehttp's RequestLogHook; retry is 0 for the first
// attempt.
func (a *attemptLog) request(_ retryablehttp.Logger, req *http.Request, retry int) {
	a.attempt = retry + 1
	a.start = time.Now()
	f := map[string]any{
		"method":  req.Method,
		"path":    req.URL.EscapedPath(),
		"attempt": a.attempt,
	}
	if a.idempotencyKey != "" {
		f["idempotency_key"] = a.idempotencyKey
	}
	if m := req.Header.Get("If-Match"); m != "" {
		f["if_match"] = m
	}
	tflog.Debug(a.ctx, "aio api request", f)
}

// response is go-retryablehttp's ResponseLogHook. It is called for every
// response, including those that will be retried.
func (a *attemptLog) response(_ retryablehttp.Logger, resp *http.Response) {
	f := map[string]any{
		"status":      resp.StatusCode,
		"attempt":     a.attempt,
		"duration_ms": time.Since(a.start).Milliseconds(),
	}
	if req := resp.Request; req != nil {
		f["method"] = req.Method
		f["path"] = req.URL.EscapedPath()
	}
	if resp.Header.Get(api.HeaderReplayed) == "true" {
		f["idempotent_replayed"] = true
	}
	if a.idempotencyKey != "" {
		f["idempotency_key"] = a.idempotencyKey
	}
	tflog.Debug(a.ctx, "aio api response", f)
}
