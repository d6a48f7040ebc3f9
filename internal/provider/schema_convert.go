package provider

import (
	"strings"

	dschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
)

// computedAttributes turns resource attributes into the all-computed
// attributes of a data source that reads the same object, so that the two
// schemas (and their descriptions) never drift apart.
func computedAttributes(in map[string]rschema.Attribute) map[string]dschema.Attribute {
	out := make(map[string]dschema.Attribute, len(in))
	for name, a := range in {
		out[name] = computedAttribute(a)
	}
	return out
}

func computedAttribute(a rschema.Attribute) dschema.Attribute {
	desc := dataSourceDescription(a.GetMarkdownDescription())
	switch a := a.(type) {
	case rschema.StringAttribute:
		return dschema.StringAttribute{MarkdownDescription: desc, Computed: true, CustomType: a.CustomType, Sensitive: a.Sensitive}
	case rschema.BoolAttribute:
		return dschema.BoolAttribute{MarkdownDescription: desc, Computed: true}
	case rschema.Int64Attribute:
		return dschema.Int64Attribute{MarkdownDescription: desc, Computed: true}
	case rschema.Float64Attribute:
		return dschema.Float64Attribute{MarkdownDescription: desc, Computed: true}
	case rschema.MapAttribute:
		return dschema.MapAttribute{MarkdownDescription: desc, Computed: true, ElementType: a.ElementType}
	case rschema.SetAttribute:
		return dschema.SetAttribute{MarkdownDescription: desc, Computed: true, ElementType: a.ElementType}
	case rschema.ListAttribute:
		return dschema.ListAttribute{MarkdownDescription: desc, Computed: true, ElementType: a.ElementType}
	case rschema.SingleNestedAttribute:
		return dschema.SingleNestedAttribute{MarkdownDescription: desc, Computed: true, Attributes: computedAttributes(a.Attributes)}
	case rschema.ListNestedAttribute:
		return dschema.ListNestedAttribute{MarkdownDescription: desc, Computed: true,
			NestedObject: dschema.NestedAttributeObject{Attributes: computedAttributes(a.NestedObject.Attributes)}}
	}
	panic("computedAttribute: unsupported attribute type")
}

// dataSourceDescription rewrites a resource attribute's description for a
// data source, which only reads the value: sentences about what happens
// when the attribute is set or changed in configuration (its default, an
// in-place update or a replacement, what it requires or conflicts with)
// are dropped, and "Unset by default" becomes "Null when not set", since a
// data source shows what is there rather than what will be. The sentences
// are the resource's own, so the two descriptions never drift apart.
func dataSourceDescription(desc string) string {
	var kept []string
	for _, sentence := range splitSentences(desc) {
		switch {
		case strings.HasPrefix(sentence, "Unset by default"):
			kept = append(kept, "Null when not set"+strings.TrimPrefix(sentence, "Unset by default"))
		case resourceOnlySentence(sentence):
		default:
			kept = append(kept, sentence)
		}
	}
	return strings.Join(kept, " ")
}

// resourceOnlySentence reports a sentence that only makes sense where the
// attribute is configured.
func resourceOnlySentence(s string) bool {
	for _, prefix := range []string{"Defaults to", "Changing it", "Changing this", "Required with", "Conflicts with"} {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	for _, word := range []string{"in-place", "forces ", "replaces the "} {
		if strings.Contains(s, word) {
			return true
		}
	}
	return false
}

// splitSentences splits a description at ". " (and "; " is not a break),
// never inside `code`, keeping each sentence's final period.
func splitSentences(desc string) []string {
	var out []string
	inCode := false
	start := 0
	for i := 0; i < len(desc); i++ {
		switch desc[i] {
		case '`':
			inCode = !inCode
		case '.':
			if !inCode && i+1 < len(desc) && desc[i+1] == ' ' {
				out = append(out, strings.TrimSpace(desc[start:i+1]))
				start = i + 2
			}
		}
	}
	if rest := strings.TrimSpace(desc[start:]); rest != "" {
		out = append(out, rest)
	}
	return out
}
