package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/engine/notify/webhook"
)

// guide is the verification recipe users copy; its examples are tested
// here, so that a recipe that stops working fails the build.
const guide = "../../../../templates/guides/webhook-signatures.md.tmpl"

// The function below is the guide's Go example, verbatim
// (TestGuideGoExampleIsVerbatim checks that).

// verify reports whether header (AIO-Signature) signs body, within five minutes of now.
func verify(secret []byte, header string, body []byte, now time.Time) bool {
	parts := strings.Split(header, ",")
	ts, ok := strings.CutPrefix(parts[0], "t=")
	t, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil || now.Sub(time.Unix(t, 0)).Abs() > 5*time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "." + string(body)))
	want := hex.EncodeToString(mac.Sum(nil))
	for _, p := range parts[1:] {
		if sig, ok := strings.CutPrefix(p, "v1="); ok && hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

func codeBlock(t *testing.T, lang string) string {
	t.Helper()
	b, err := os.ReadFile(guide)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatalf("the guide has no %s example", lang)
	}
	return string(m[1])
}

func TestGuideGoExampleIsVerbatim(t *testing.T) {
	src, err := os.ReadFile("guide_test.go")
	if err != nil {
		t.Fatal(err)
	}
	if ex := codeBlock(t, "go"); !strings.Contains(string(src), ex) {
		t.Errorf("the guide's Go example is not the tested function verify in guide_test.go:\n%s", ex)
	}
}

// signatureCases are what both examples must get right.
func signatureCases(now time.Time) []struct {
	name   string
	header string
	body   []byte
	want   bool
} {
	body := []byte(`{"event_id":"evt_1","state":"firing"}`)
	good := webhook.Sign(secret, body, now)
	return []struct {
		name   string
		header string
		body   []byte
		want   bool
	}{
		{"valid", good, body, true},
		{"tampered body", good, []byte(`{"event_id":"evt_1","state":"resolved"}`), false},
		{"replayed after ten minutes", webhook.Sign(secret, body, now.Add(-10*time.Minute)), body, false},
		{"signed in the future", webhook.Sign(secret, body, now.Add(10*time.Minute)), body, false},
		{"wrong secret", webhook.Sign([]byte("other"), body, now), body, false},
		{"second v1 matches", webhook.Sign([]byte("old"), body, now) + ",v1=" + strings.SplitN(good, "v1=", 2)[1], body, true},
		{"no timestamp", "v1=" + strings.SplitN(good, "v1=", 2)[1], body, false},
		{"empty", "", body, false},
	}
}

func TestGuideGoExample(t *testing.T) {
	now := time.Now()
	for _, c := range signatureCases(now) {
		if got := verify(secret, c.header, c.body, now); got != c.want {
			t.Errorf("%s: verify = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestGuidePythonExample runs the guide's Python example with python3,
// when there is one.
func TestGuidePythonExample(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	var script strings.Builder
	script.WriteString(codeBlock(t, "python"))
	script.WriteString("\nimport sys, json\nfor c in json.load(sys.stdin):\n    print(verify(c['secret'].encode(), c['header'], c['body'].encode()))\n")

	now := time.Now()
	cases := signatureCases(now)
	var in strings.Builder
	in.WriteString("[")
	var want []string
	for i, c := range cases {
		if i > 0 {
			in.WriteString(",")
		}
		b, _ := json.Marshal(map[string]string{"secret": string(secret), "header": c.header, "body": string(c.body)})
		in.Write(b)
		want = append(want, map[bool]string{true: "True", false: "False"}[c.want])
	}
	in.WriteString("]")

	cmd := exec.Command(py, "-c", script.String())
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, out)
	}
	got := strings.Fields(string(out))
	for i, c := range cases {
		if i >= len(got) || got[i] != want[i] {
			t.Errorf("%s: python verify printed %v, want %s (all output: %s)", c.name, got, want[i], out)
			break
		}
	}
}
