package provider

import (
	"testing"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// TestKindNames: the generic code speaks of a kind by its names; a kind
// of two words reads as two words in messages and as one identifier in
// type names and log fields.
func TestKindNames(t *testing.T) {
	k := &kind[api.Endpoint, endpointModel]{name: "alert_threshold", plural: "alert_thresholds"}
	for _, c := range [][2]string{
		{k.typeName("aio"), "aio_alert_threshold"},
		{k.idField(), "alert_threshold_id"},
		{k.title(), "Alert threshold"},
		{k.noun(), "alert threshold"},
		{k.pluralNoun(), "alert thresholds"},
		{k.could("read"), "Could not read the alert threshold"},
	} {
		if c[0] != c[1] {
			t.Errorf("got %q, want %q", c[0], c[1])
		}
	}
}

// TestMetaOf: every kind's API type embeds api.Meta, which the generic
// code reads for its log fields.
func TestMetaOf(t *testing.T) {
	meta := api.Meta{ID: "x_1", Revision: 3}
	for name, got := range map[string]api.Meta{
		"endpoint":   metaOf(&api.Endpoint{Meta: meta}),
		"credential": metaOf(&api.Credential{Meta: meta}),
		"monitor":    metaOf(&api.Monitor{Meta: meta}),
	} {
		if got != meta {
			t.Errorf("%s: metaOf = %+v, want %+v", name, got, meta)
		}
	}
}
