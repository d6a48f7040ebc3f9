package api

import "strings"

// Kind describes one kind of object the API names: what audit events and
// messages call it, the prefix of its IDs and the path of its collection.
// Each kind is declared here once, and every layer reads it from here, so
// that a name, prefix or path cannot be spelled two ways.
type Kind struct {
	// Name is the kind as audit events and error messages call it
	// ("endpoint"); empty for a kind the API does not serve yet.
	Name string
	// Prefix starts every ID of the kind ("ep_").
	Prefix string
	// Path is the collection ("/v1/endpoints"); an object is at
	// Path + "/" + ID. Empty for a kind without a collection of its own.
	Path string
	// Noun is the kind with its article ("an endpoint"), for messages
	// about an ID of the wrong kind.
	Noun string
}

// The configuration kinds: objects with a name, a revision and the create,
// read, update, delete and list routes that the server serves generically.
var (
	EndpointKind   = Kind{Name: KindEndpoint, Prefix: PrefixEndpoint, Path: "/v1/endpoints", Noun: "an endpoint"}
	CredentialKind = Kind{Name: KindCredential, Prefix: PrefixCredential, Path: "/v1/credentials", Noun: "a credential"}
	MonitorKind    = Kind{Name: KindMonitor, Prefix: PrefixMonitor, Path: "/v1/monitors", Noun: "a monitor"}
	ChannelKind    = Kind{Name: KindChannel, Prefix: PrefixChannel, Path: "/v1/notification-channels", Noun: "a notification channel"}
	ThresholdKind  = Kind{Name: KindThreshold, Prefix: PrefixThreshold, Path: "/v1/alert-thresholds", Noun: "an alert threshold"}
	RetentionKind  = Kind{Name: KindRetention, Prefix: PrefixRetention, Path: "/v1/retention-policies", Noun: "a retention policy"}
)

// ObjectKinds lists the configuration kinds, in the order the API
// documents them (and lists them in messages).
var ObjectKinds = []Kind{EndpointKind, CredentialKind, MonitorKind, ChannelKind, ThresholdKind, RetentionKind}

// TokenKind is the API tokens, which have IDs and audit events but not the
// shared rules of configuration objects (their secret is shown once, and
// they are revoked, never updated).
var TokenKind = Kind{Name: KindToken, Prefix: PrefixToken, Path: "/v1/tokens", Noun: "a token"}

// idKinds lists every kind whose IDs the API makes: the configuration
// kinds, the kinds planned next (their prefixes are reserved so that IDs
// made today can never be mistaken for theirs) and the records that are
// not configuration.
var idKinds = append(append([]Kind(nil), ObjectKinds...),
	Kind{Prefix: PrefixErasure, Noun: "an erasure request"},
	Kind{Prefix: PrefixRetentionRun, Noun: "a retention run"},
	Kind{Prefix: PrefixAuditEvent, Noun: "an audit event"},
	Kind{Prefix: PrefixAlertEvent, Noun: "an alert event"},
	Kind{Prefix: PrefixDelivery, Noun: "a delivery"},
	TokenKind,
)

// PrefixKinds names the kind of object each ID prefix stands for, in words,
// so that an ID of the wrong kind can be called what it is.
var PrefixKinds = func() map[string]string {
	out := make(map[string]string, len(idKinds))
	for _, k := range idKinds {
		out[k.Prefix] = k.Noun
	}
	return out
}()

// KindOfID returns the kind an ID's prefix stands for ("a monitor"), or ""
// when the prefix is none of the API's.
func KindOfID(id string) string {
	prefix, _, ok := strings.Cut(id, "_")
	if !ok {
		return ""
	}
	return PrefixKinds[prefix+"_"]
}

// Kind names as they appear in audit events and URL paths.
const (
	KindEndpoint = "endpoint"
	KindToken    = "token"
	// KindEncryptionKey names key rotations (aiod keys rotate).
	KindEncryptionKey = "encryption_key"
)

// AuditKinds lists every object kind an audit event can be about, so that
// a filter on any other kind is refused rather than silently matching
// nothing: the configuration kinds, tokens, the encryption key and erasure
// requests.
var AuditKinds = func() []string {
	out := make([]string, 0, len(ObjectKinds)+3)
	for _, k := range ObjectKinds {
		out = append(out, k.Name)
	}
	return append(out, KindToken, KindEncryptionKey, KindErasure)
}()
