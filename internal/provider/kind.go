package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

// A kind is one sort of object that aiod stores (endpoint, credential,
// monitor, ...). Every kind follows the same API conventions, so the
// provider implements the parts they share once, generically: the
// resource's CRUD and import (object_resource.go), the data source that
// reads one object by id or name and the one that lists them
// (object_data_source.go). A kind's own files then hold only what is
// particular to it: its kind value, model and conversions (the noun file,
// such as endpoint.go); its resource schema, from which the data sources
// derive theirs, and the rules of its resource that no other kind has
// (<noun>_resource.go: the credential's secret, the monitor's cross-field
// validation); one-line constructors of its data sources, with a list
// data source's own filters; and one line each in provider.go.

// objectModel is the Terraform model of a kind whose API type is T. Only
// the conversion to the API is a method; the conversion back is the kind's
// fromAPI, since it makes a model rather than reading one.
type objectModel[T any] interface {
	toAPI(ctx context.Context) (T, diag.Diagnostics)
}

// kind describes one kind of object to the generic resource and data
// sources: its names, its schema, its conversion from the API and its
// client calls. It holds no logic of its own.
type kind[T any, M objectModel[T]] struct {
	// name is the kind's noun in snake case, as in "endpoint": the
	// resource and data source are aio_<name>, messages speak of "the
	// <name>", and log lines carry <name>_id.
	name string
	// plural names the list data source and its list attribute, as in
	// "endpoints" (aio_endpoints).
	plural string
	// prefix is the kind's ID prefix (api.PrefixEndpoint), checked on
	// import.
	prefix string
	// schema returns the resource schema, from which the data sources
	// derive theirs, and which decides where an API field error lands.
	schema func() schema.Schema
	// dataSourceDescription describes the data source that reads one
	// object.
	dataSourceDescription string
	// dataSourceOmits are resource attributes that the data sources leave
	// out, such as a secret that the API never returns.
	dataSourceOmits []string

	// fromAPI converts an API object to the model. prior is the plan or
	// the state the object replaces (the zero value in data sources), for
	// what the API does not return or returns in another form of the same
	// value.
	fromAPI func(ctx context.Context, in T, prior M) (M, diag.Diagnostics)

	// The client calls, as method expressions such as
	// (*client.Client).GetEndpoint.
	create func(c *client.Client, ctx context.Context, in T) (T, error)
	get    func(c *client.Client, ctx context.Context, id string) (T, error)
	update func(c *client.Client, ctx context.Context, id string, revision int64, in T) (T, error)
	delete func(c *client.Client, ctx context.Context, id string, revision int64) error
	// list reads every page of the objects that match opts and the kind's
	// own filters (extra, by attribute name, such as a monitor's
	// endpoint_id).
	list func(ctx context.Context, c *client.Client, opts client.ListOptions, extra map[string]string) ([]T, error)

	// models is the codec between the model and the Terraform value of a
	// plan or state (model_codec.go), built on first use.
	models kindCodec
}

// typeName is the Terraform type name of the kind's resource and data
// source, such as aio_endpoint, given the provider's type name.
func (k *kind[T, M]) typeName(providerTypeName string) string {
	return providerTypeName + "_" + k.name
}

// idField is the log field that carries an object's ID, such as
// endpoint_id.
func (k *kind[T, M]) idField() string { return k.name + "_id" }

// title is the kind's noun for the start of a sentence or a summary, as in
// "Endpoint not found".
func (k *kind[T, M]) title() string {
	return strings.ToUpper(k.name[:1]) + strings.ReplaceAll(k.name[1:], "_", " ")
}

// noun is the kind's noun inside a sentence, as in "the alert threshold".
func (k *kind[T, M]) noun() string { return strings.ReplaceAll(k.name, "_", " ") }

// pluralNoun is the kind's plural inside a sentence, as in "alert
// thresholds".
func (k *kind[T, M]) pluralNoun() string { return strings.ReplaceAll(k.plural, "_", " ") }

// could is the summary of a failed call, as in "Could not read the
// endpoint".
func (k *kind[T, M]) could(verb string) string {
	return fmt.Sprintf("Could not %s the %s", verb, k.noun())
}

// modelTypes are the attribute types of the kind's model: those of the
// resource schema.
func (k *kind[T, M]) modelTypes() map[string]attr.Type {
	return k.schema().Type().(types.ObjectType).AttrTypes
}

// modelObject converts a model, whose attribute types are modelTypes, to
// an object of the attribute types want, which must be those or a subset
// of them (a data source that omits attributes): the model is converted
// whole, and the attributes that want lacks are dropped.
func modelObject(ctx context.Context, m any, modelTypes, want map[string]attr.Type) (types.Object, diag.Diagnostics) {
	full, diags := types.ObjectValueFrom(ctx, modelTypes, m)
	if diags.HasError() {
		return types.ObjectNull(want), diags
	}
	values := make(map[string]attr.Value, len(want))
	for name := range want {
		values[name] = full.Attributes()[name]
	}
	obj, d := types.ObjectValue(want, values)
	diags.Append(d...)
	return obj, diags
}

// metaOf returns an API object's Meta. Every object type embeds api.Meta,
// whose GetMeta has a pointer receiver; objects without one (none today)
// yield the zero Meta, which only costs a log field.
func metaOf[T any](v *T) api.Meta {
	if m, ok := any(v).(interface{ GetMeta() *api.Meta }); ok {
		return *m.GetMeta()
	}
	return api.Meta{}
}
