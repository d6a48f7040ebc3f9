package server_test

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/acctest"
	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/clock"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
	"github.com/aio-platform/terraform-provider-aio/internal/testutil"
)

// chanBody returns the smallest valid channel body of a type, with the
// secret when the type has one.
func chanBody(name, typ, secretValue string) map[string]any {
	b := map[string]any{"name": name, "type": typ}
	switch typ {
	case api.ChannelWebhook:
		b["url"] = "https://hooks.example.com/aio"
	case api.ChannelEmail:
		b["to"] = []string{"ops@example.com"}
	}
	if typ != api.ChannelEmail {
		b["secret"] = secretValue
		if typ == api.ChannelSlack {
			b["secret"] = "https://hooks.slack.example/services/" + secretValue
		}
	}
	return b
}

// createChannel creates a channel and returns it.
func createChannel(t testing.TB, srv *acctest.Server, token string, body any) api.NotificationChannel {
	t.Helper()
	r := call(t, srv, http.MethodPost, "/v1/notification-channels", token, body)
	wantStatus(t, r, http.StatusCreated)
	wantNoSecretMember(t, r.Body)
	var c api.NotificationChannel
	decode(t, r, &c)
	return c
}

// getChannel reads a channel through the API as a viewer.
func getChannel(t testing.TB, srv *acctest.Server, id string) (api.NotificationChannel, response) {
	t.Helper()
	r := call(t, srv, http.MethodGet, "/v1/notification-channels/"+id, srv.Tokens[api.RoleViewer], nil)
	wantStatus(t, r, http.StatusOK)
	wantNoSecretMember(t, r.Body)
	var c api.NotificationChannel
	decode(t, r, &c)
	return c, r
}

// storedChannelSecret opens a channel's stored secret with the server's
// keyring: what a sender would use.
func storedChannelSecret(t testing.TB, srv *acctest.Server, id string) string {
	t.Helper()
	rec, err := srv.Store.GetChannel(context.Background(), id)
	if err != nil {
		t.Fatalf("get channel %s: %v", id, err)
	}
	plain, err := srv.Keyring.Open(rec.Sealed, secret.Binding{ObjectID: id, Revision: rec.SecretRevision})
	if err != nil {
		t.Fatalf("open the secret of %s: %v", id, err)
	}
	return string(plain)
}

func TestChannelCreateEachType(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	for _, typ := range api.ChannelTypes {
		t.Run(typ, func(t *testing.T) {
			body := chanBody("chan-"+typ, typ, "s3cret-"+typ)
			c := createChannel(t, srv, editor, body)
			if !strings.HasPrefix(c.ID, api.PrefixChannel) || c.Revision != 1 {
				t.Errorf("id %q revision %d", c.ID, c.Revision)
			}
			// The defaults the provider plans are in the answer; nothing
			// else is filled in (no events_url for pagerduty).
			if !c.IsEnabled() || c.SendResolved == nil || !*c.SendResolved || c.EventsURL != nil {
				t.Errorf("defaults: %+v", c)
			}
			got, r := getChannel(t, srv, c.ID)
			wantHeader(t, r, "ETag", `"1"`)
			if typ == api.ChannelEmail {
				if got.SecretRevision != 0 {
					t.Errorf("email secret_revision = %d, want 0", got.SecretRevision)
				}
				return
			}
			if got.SecretRevision != 1 {
				t.Errorf("secret_revision = %d, want 1", got.SecretRevision)
			}
			if s := storedChannelSecret(t, srv, c.ID); s != body["secret"] {
				t.Errorf("stored secret %q, want %q", s, body["secret"])
			}
		})
	}
}

func TestChannelValidation(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	hook := chanBody("v", api.ChannelWebhook, "k")
	cases := []struct {
		name   string
		body   map[string]any
		fields []string
	}{
		{"bad type", with(hook, "type", "sms"), []string{"type"}},
		{"webhook without url", without(hook, "url"), []string{"url"}},
		{"ftp url", with(hook, "url", "ftp://files.example.com/"), []string{"url"}},
		{"relative url", with(hook, "url", "/hooks"), []string{"url"}},
		{"upper-case header", with(hook, "headers", map[string]string{"X-Team": "a"}), []string{"headers.X-Team"}},
		{"authorization header", with(hook, "headers", map[string]string{"authorization": "Bearer x"}), []string{"headers.authorization"}},
		{"signature header", with(hook, "headers", map[string]string{"aio-signature": "x"}), []string{"headers.aio-signature"}},
		{"an aio- header", with(hook, "headers", map[string]string{"aio-team": "x"}), []string{"headers.aio-team"}},
		{"headers the sender refuses", with(hook, "headers", map[string]string{"cookie": "a=b", "user-agent": "x", "connection": "close", "upgrade": "h2c"}),
			[]string{"headers.connection", "headers.cookie", "headers.upgrade", "headers.user-agent"}},
		{"header with CRLF", with(hook, "headers", map[string]string{"x-a": "a\r\nx-b: b"}), []string{"headers.x-a"}},
		{"webhook without secret", without(hook, "secret"), []string{"secret"}},
		{"empty secret", with(hook, "secret", ""), []string{"secret"}},
		{"url on email", with(chanBody("v", api.ChannelEmail, ""), "url", "https://x.example.com/"), []string{"url"}},
		{"email without to", without(chanBody("v", api.ChannelEmail, ""), "to"), []string{"to"}},
		{"email empty to", with(chanBody("v", api.ChannelEmail, ""), "to", []string{}), []string{"to"}},
		{"bad address", with(chanBody("v", api.ChannelEmail, ""), "to", []string{"ops@example.com", "not an address"}), []string{"to.1"}},
		{"named address", with(chanBody("v", api.ChannelEmail, ""), "to", []string{"Ops <ops@example.com>"}), []string{"to.0"}},
		{"repeated address", with(chanBody("v", api.ChannelEmail, ""), "to", []string{"a@example.com", "a@example.com"}), []string{"to.1"}},
		{"secret on email", with(chanBody("v", api.ChannelEmail, ""), "secret", "x"), []string{"secret"}},
		{"slack secret not a URL", with(chanBody("v", api.ChannelSlack, ""), "secret", "xoxb-not-a-url"), []string{"secret"}},
		{"slack secret over http", with(chanBody("v", api.ChannelSlack, ""), "secret", "http://hooks.slack.example/x"), []string{"secret"}},
		{"pagerduty bad events_url", with(chanBody("v", api.ChannelPagerDuty, "rk"), "events_url", "mailto:x@example.com"), []string{"events_url"}},
		{"events_url on webhook", with(hook, "events_url", "https://x.example.com/"), []string{"events_url"}},
		{"headers on slack", with(chanBody("v", api.ChannelSlack, "x"), "headers", map[string]string{"x-a": "b"}), []string{"headers"}},
		{"bad name", with(hook, "name", "-bad"), []string{"name"}},
		{"empty description", with(hook, "description", ""), []string{"description"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, srv, http.MethodPost, "/v1/notification-channels", editor, tc.body)
			p := wantProblem(t, r, http.StatusBadRequest)
			wantFields(t, p, tc.fields...)
			if s, ok := tc.body["secret"].(string); ok && len(s) > 3 && strings.Contains(string(r.Body), s) {
				t.Errorf("the answer echoes the secret: %s", r.Body)
			}
		})
	}
}

func TestChannelUpdateSecret(t *testing.T) {
	fake := clock.NewFake(t0)
	srv := acctest.NewServer(t, acctest.Options{Clock: fake})
	editor := srv.Tokens[api.RoleEditor]
	body := chanBody("rotating", api.ChannelWebhook, "first-signing-secret")
	c := createChannel(t, srv, editor, body)
	path := "/v1/notification-channels/" + c.ID

	// Without the secret, a PUT keeps it; the same body is a no-op.
	wantHeader(t, call(t, srv, http.MethodPut, path, editor, without(body, "secret")), "ETag", `"1"`)
	// Sending the secret the channel has is no change either.
	wantHeader(t, call(t, srv, http.MethodPut, path, editor, body), "ETag", `"1"`)
	// A new secret bumps both revisions.
	r := call(t, srv, http.MethodPut, path, editor, with(body, "secret", "second-signing-secret"))
	wantStatus(t, r, http.StatusOK)
	wantNoSecretMember(t, r.Body)
	got, _ := getChannel(t, srv, c.ID)
	if got.Revision != 2 || got.SecretRevision != 2 || storedChannelSecret(t, srv, c.ID) != "second-signing-secret" {
		t.Errorf("after a new secret: revision %d secret_revision %d", got.Revision, got.SecretRevision)
	}
	// A type change to one with a secret needs a new secret...
	p := wantProblem(t, call(t, srv, http.MethodPut, path, editor, with(chanBody("rotating", api.ChannelPagerDuty, ""), "secret", nil)), http.StatusBadRequest)
	wantFields(t, p, "secret")
	wantStatus(t, call(t, srv, http.MethodPut, path, editor, chanBody("rotating", api.ChannelPagerDuty, "routing-key")), http.StatusOK)
	if got, _ := getChannel(t, srv, c.ID); got.SecretRevision != 3 || storedChannelSecret(t, srv, c.ID) != "routing-key" {
		t.Errorf("after the type change: secret_revision %d", got.SecretRevision)
	}
	// ...and one to email drops it, keeping the count.
	wantStatus(t, call(t, srv, http.MethodPut, path, editor, chanBody("rotating", api.ChannelEmail, "")), http.StatusOK)
	rec, err := srv.Store.GetChannel(t.Context(), c.ID)
	if err != nil || rec.Sealed.KeyID != "" || len(rec.Sealed.Ciphertext) != 0 || rec.SecretRevision != 3 {
		t.Errorf("email channel keeps a secret: %+v %v", rec.Sealed, err)
	}
	// The secret is gone once: the same email body again is a no-op (it
	// used to bump the revision and audit "secret" each time, as the
	// secret revision kept above still counted as a secret), and a rename
	// changes only the name.
	email := chanBody("rotating", api.ChannelEmail, "")
	wantHeader(t, call(t, srv, http.MethodPut, path, editor, email), "ETag", `"4"`)
	wantHeader(t, call(t, srv, http.MethodPut, path, editor, with(email, "name", "renamed")), "ETag", `"5"`)
	evs := auditFor(t, srv, c.ID)
	var fields [][]string
	for _, ev := range evs {
		fields = append(fields, ev.ChangedFields)
	}
	want := [][]string{
		{"name", "type", "enabled", "send_resolved", "url", "secret"},
		{"secret"},
		{"type", "url", "secret"},
		{"type", "to", "secret"},
		{"name"},
	}
	if !slices.EqualFunc(fields, want, slices.Equal) {
		t.Errorf("audit changed fields %q, want %q", fields, want)
	}
}

// TestChannelSecretNeverShown sends secrets through every path (create,
// update, a refused request, a replay, listings, audit, the request log)
// and looks for them in every answer and every log line.
func TestChannelSecretNeverShown(t *testing.T) {
	var logs testutil.SyncBuffer
	srv := acctest.NewServer(t, acctest.Options{Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	editor, admin := srv.Tokens[api.RoleEditor], srv.AdminToken
	secrets := []string{"hook-secret-6a1f9", "T00/B00/slack-8c2d", "pd-routing-key-3e7b", "hook-secret-two-41aa"}
	var answers []string
	keep := func(r response) response { answers = append(answers, string(r.Body)); return r }

	hook := chanBody("shown-hook", api.ChannelWebhook, secrets[0])
	c := createChannel(t, srv, editor, hook)
	r := keep(call(t, srv, http.MethodPost, "/v1/notification-channels", editor, chanBody("shown-slack", api.ChannelSlack, secrets[1]), "Idempotency-Key", "k1"))
	wantStatus(t, r, http.StatusCreated)
	replay := keep(call(t, srv, http.MethodPost, "/v1/notification-channels", editor, chanBody("shown-slack", api.ChannelSlack, secrets[1]), "Idempotency-Key", "k1"))
	wantHeader(t, replay, api.HeaderReplayed, "true")
	// The key with another secret is another request: the fingerprint
	// holds the secret's MAC, not a marker that it was given.
	other := keep(call(t, srv, http.MethodPost, "/v1/notification-channels", editor, chanBody("shown-slack", api.ChannelSlack, secrets[2]), "Idempotency-Key", "k1"))
	wantProblem(t, other, http.StatusUnprocessableEntity)
	keep(call(t, srv, http.MethodPost, "/v1/notification-channels", editor, chanBody("shown-pd", api.ChannelPagerDuty, secrets[2])))
	keep(call(t, srv, http.MethodPut, "/v1/notification-channels/"+c.ID, editor, with(hook, "secret", secrets[3])))
	// Refused requests: a bad field next to the secret, and a name taken.
	keep(call(t, srv, http.MethodPost, "/v1/notification-channels", editor, with(hook, "url", "ftp://x")))
	keep(call(t, srv, http.MethodPost, "/v1/notification-channels", editor, hook))
	for _, tok := range []string{srv.Tokens[api.RoleViewer], editor, admin} {
		keep(call(t, srv, http.MethodGet, "/v1/notification-channels", tok, nil))
		keep(call(t, srv, http.MethodGet, "/v1/notification-channels/"+c.ID, tok, nil))
		keep(call(t, srv, http.MethodGet, "/v1/audit-events?limit=1000", tok, nil))
		keep(call(t, srv, http.MethodGet, "/v1/audit-events?object_id="+c.ID, tok, nil))
	}
	all := strings.Join(answers, "\n") + "\n" + logs.String()
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("the secret %q appears in an answer or a log line", s)
		}
	}
	for _, a := range answers {
		if strings.HasPrefix(a, "{") {
			wantNoSecretMember(t, []byte(a))
		}
	}
}

func TestChannelNameUniqueAndDelete(t *testing.T) {
	srv := acctest.NewServer(t)
	editor := srv.Tokens[api.RoleEditor]
	c := createChannel(t, srv, editor, chanBody("once", api.ChannelEmail, ""))
	p := wantProblem(t, call(t, srv, http.MethodPost, "/v1/notification-channels", editor, chanBody("once", api.ChannelEmail, "")), http.StatusConflict)
	wantFields(t, p, "name")
	wantStatus(t, call(t, srv, http.MethodDelete, "/v1/notification-channels/"+c.ID, editor, nil), http.StatusNoContent)
	wantProblem(t, call(t, srv, http.MethodDelete, "/v1/notification-channels/"+c.ID, editor, nil), http.StatusNotFound)
}

// TestMovingPagerDutyEventsURLNeedsTheKey: a PagerDuty routing key goes to
// events_url, so an editor who does not hold the key cannot move it to a
// host of their own; with the key, the move is accepted.
func TestMovingPagerDutyEventsURLNeedsTheKey(t *testing.T) {
	srv := acctest.NewServer(t)
	ed := srv.Tokens[api.RoleEditor]
	c := createChannel(t, srv, ed, chanBody("pd", api.ChannelPagerDuty, "routing-key-1"))
	moved := chanBody("pd", api.ChannelPagerDuty, "")
	delete(moved, "secret")
	moved["events_url"] = "https://collector.attacker.example/v2/enqueue"
	r := call(t, srv, http.MethodPut, "/v1/notification-channels/"+c.ID, ed, moved, "If-Match", `"1"`)
	wantFields(t, wantProblem(t, r, http.StatusBadRequest), "secret")
	if got := storedChannelSecret(t, srv, c.ID); got != "routing-key-1" {
		t.Fatalf("stored secret = %q", got)
	}
	// A change of anything else needs no key.
	renamed := chanBody("pd", api.ChannelPagerDuty, "")
	delete(renamed, "secret")
	renamed["send_resolved"] = false
	wantStatus(t, call(t, srv, http.MethodPut, "/v1/notification-channels/"+c.ID, ed, renamed, "If-Match", `"1"`), http.StatusOK)
	moved["secret"] = "routing-key-1"
	wantStatus(t, call(t, srv, http.MethodPut, "/v1/notification-channels/"+c.ID, ed, moved, "If-Match", `"2"`), http.StatusOK)
}
