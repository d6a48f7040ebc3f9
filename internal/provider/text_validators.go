package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// nameValidators check an object name at plan time with the server's own
// rules and words: a control character or a bidirectional override gets
// its own message, anything else outside the pattern the pattern's.
func nameValidators() []validator.String {
	return []validator.String{nameValidator{}}
}

// textValidators check free text (descriptions) at plan time for the
// characters the server refuses: control characters other than tab and
// line breaks, and bidirectional overrides. Emptiness and length have
// validators of their own.
func textValidators() []validator.String {
	return []validator.String{controlCharactersValidator{multiline: true}}
}

// nameValidator applies api.NameProblem.
type nameValidator struct{}

var _ validator.String = nameValidator{}

func (nameValidator) Description(context.Context) string {
	return "value " + api.NameMessage
}

func (v nameValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (nameValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if msg := api.NameProblem(req.ConfigValue.ValueString()); msg != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid name",
			fmt.Sprintf("%s %s; got %q.", req.Path, msg, req.ConfigValue.ValueString()))
	}
}

// controlCharactersValidator refuses the characters api.HasForbiddenRune
// finds, with the server's message.
type controlCharactersValidator struct {
	// multiline keeps tab and line breaks.
	multiline bool
}

var _ validator.String = controlCharactersValidator{}

func (v controlCharactersValidator) Description(context.Context) string {
	if v.multiline {
		return "value " + api.MultilineControlMessage
	}
	return "value " + api.ControlMessage
}

func (v controlCharactersValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v controlCharactersValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if api.HasForbiddenRune(req.ConfigValue.ValueString(), v.multiline) {
		msg := api.ControlMessage
		if v.multiline {
			msg = api.MultilineControlMessage
		}
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid characters",
			fmt.Sprintf("%s %s; got %q.", req.Path, msg, req.ConfigValue.ValueString()))
	}
}
