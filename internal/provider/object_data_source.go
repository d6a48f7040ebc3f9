package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

// dataSourceAttributes are the attributes of one object of kind k in a
// data source: the resource's, all computed, less those the kind keeps out
// of data sources. They are derived from the resource schema so that the
// two (and their descriptions) never drift apart.
func dataSourceAttributes[T any, M objectModel[T]](k *kind[T, M]) map[string]schema.Attribute {
	attrs := computedAttributes(k.schema().Attributes)
	for _, name := range k.dataSourceOmits {
		delete(attrs, name)
	}
	return attrs
}

// objectDataSource reads one object of a kind, chosen by id or by name.
type objectDataSource[T any, M objectModel[T]] struct {
	kind   *kind[T, M]
	client *client.Client
}

var (
	_ datasource.DataSourceWithConfigure        = (*objectDataSource[any, objectModel[any]])(nil)
	_ datasource.DataSourceWithConfigValidators = (*objectDataSource[any, objectModel[any]])(nil)
)

func (d *objectDataSource[T, M]) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = d.kind.typeName(req.ProviderTypeName)
}

func (d *objectDataSource[T, M]) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := dataSourceAttributes(d.kind)
	choose := " Set exactly one of `id` and `name` to choose the " + d.kind.noun() + "."
	id := attrs["id"].(schema.StringAttribute)
	id.Optional, id.MarkdownDescription = true, id.MarkdownDescription+choose
	attrs["id"] = id
	name := attrs["name"].(schema.StringAttribute)
	// A name that breaks the naming rule cannot exist; saying so is more
	// helpful than "not found".
	name.Optional, name.MarkdownDescription, name.Validators = true, name.MarkdownDescription+choose, nameValidators()
	attrs["name"] = name
	resp.Schema = schema.Schema{MarkdownDescription: d.kind.dataSourceDescription, Attributes: attrs}
}

func (d *objectDataSource[T, M]) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{datasourcevalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("name"))}
}

func (d *objectDataSource[T, M]) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = configuredClient(req.ProviderData, &resp.Diagnostics)
}

func (d *objectDataSource[T, M]) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var id, name types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("id"), &id)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("name"), &name)...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, ok := d.find(ctx, id.ValueString(), name.ValueString(), resp.State.Schema, &resp.Diagnostics)
	if !ok {
		return
	}
	tflog.Debug(ctx, "read "+d.kind.noun(), map[string]any{d.kind.idField(): metaOf(&out).ID})
	var zero M
	m, diags := d.kind.fromAPI(ctx, out, zero)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	obj, diags := modelObject(ctx, m, d.kind.modelTypes(), resp.State.Schema.Type().(types.ObjectType).AttrTypes)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, obj)...)
}

// find reads the object with the given ID or, when id is empty, the one
// with the given name. A missing object is an error on the attribute that
// chose it.
func (d *objectDataSource[T, M]) find(ctx context.Context, id, name string, s schemaTyper, diags *diag.Diagnostics) (T, bool) {
	var (
		out T
		err error
	)
	if id != "" {
		ctx = tflog.SetField(ctx, d.kind.idField(), id)
		out, err = d.kind.get(d.client, ctx, id)
		if errors.Is(err, client.ErrNotFound) {
			diags.AddAttributeError(path.Root("id"), d.kind.title()+" not found", fmt.Sprintf("No %s has the ID %q.", d.kind.noun(), id))
			return out, false
		}
	} else {
		var items []T
		items, err = d.kind.list(ctx, d.client, client.ListOptions{Name: name, Limit: 1}, nil)
		if err == nil && len(items) == 0 {
			diags.AddAttributeError(path.Root("name"), d.kind.title()+" not found", fmt.Sprintf("No %s is named %q.", d.kind.noun(), name))
			return out, false
		}
		if err == nil {
			out = items[0]
		}
	}
	if err != nil {
		addClientError(diags, s, d.kind.could("read"), err)
		return out, false
	}
	return out, true
}

// objectsDataSource lists the objects of a kind that match its filters,
// every page of them.
type objectsDataSource[T any, M objectModel[T]] struct {
	kind *kind[T, M]
	// description describes the data source.
	description string
	// filters are the optional attributes that narrow the list, named as
	// the API's list filters are: name_prefix and tags (see
	// namePrefixFilter and tagsFilter), and string filters particular to
	// the kind, which kind.list receives by name.
	filters map[string]schema.Attribute
	client  *client.Client
}

var _ datasource.DataSourceWithConfigure = (*objectsDataSource[any, objectModel[any]])(nil)

// namePrefixFilter is the name_prefix filter of a list of plural, the
// kind's plural noun (such as "endpoints").
func namePrefixFilter(plural string) schema.Attribute {
	return schema.StringAttribute{
		MarkdownDescription: "Lists only " + plural + " whose name starts with this text. Unset by default (no name filter).",
		Optional:            true,
		Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
	}
}

// tagsFilter is the tags filter of a list of plural, the kind's plural
// noun (such as "endpoints").
func tagsFilter(plural string) schema.Attribute {
	return schema.MapAttribute{
		MarkdownDescription: "Lists only " + plural + " that carry every one of these tags with exactly these values. Unset by default (no tag filter).",
		Optional:            true, ElementType: types.StringType, Validators: tagsValidators(),
	}
}

func (d *objectsDataSource[T, M]) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_" + d.kind.plural
}

func (d *objectsDataSource[T, M]) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := make(map[string]schema.Attribute, len(d.filters)+1)
	for name, a := range d.filters {
		attrs[name] = a
	}
	attrs[d.kind.plural] = schema.ListNestedAttribute{
		MarkdownDescription: "The matching " + d.kind.pluralNoun() + ", each with every attribute of the `aio_" + d.kind.name + "` resource.",
		Computed:            true,
		NestedObject:        schema.NestedAttributeObject{Attributes: dataSourceAttributes(d.kind)},
	}
	resp.Schema = schema.Schema{MarkdownDescription: d.description, Attributes: attrs}
}

func (d *objectsDataSource[T, M]) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = configuredClient(req.ProviderData, &resp.Diagnostics)
}

// Read lists the matching objects. The state starts as a copy of the
// configuration, so the filters stay as configured and only the list is
// set.
func (d *objectsDataSource[T, M]) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	opts, extra, diags := d.listFilters(ctx, req.Config)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	items, err := d.kind.list(ctx, d.client, opts, extra)
	if err != nil {
		addClientError(&resp.Diagnostics, resp.State.Schema, "Could not list "+d.kind.pluralNoun(), err)
		return
	}
	listType := resp.State.Schema.Type().(types.ObjectType).AttrTypes[d.kind.plural].(types.ListType)
	elemTypes := listType.ElemType.(types.ObjectType).AttrTypes
	modelTypes := d.kind.modelTypes()
	elems := make([]attr.Value, 0, len(items))
	var zero M
	for _, item := range items {
		m, diags := d.kind.fromAPI(ctx, item, zero)
		resp.Diagnostics.Append(diags...)
		obj, diags := modelObject(ctx, m, modelTypes, elemTypes)
		resp.Diagnostics.Append(diags...)
		elems = append(elems, obj)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	list, diags := types.ListValue(listType.ElemType, elems)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	tflog.Debug(ctx, "listed "+d.kind.pluralNoun(), map[string]any{"count": len(items)})
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(d.kind.plural), list)...)
}

// listFilters reads the configured filters: name_prefix and tags into the
// client's shared options, the kind's own string filters into extra.
func (d *objectsDataSource[T, M]) listFilters(ctx context.Context, cfg tfsdk.Config) (client.ListOptions, map[string]string, diag.Diagnostics) {
	var (
		opts  client.ListOptions
		extra = map[string]string{}
		diags diag.Diagnostics
	)
	names := make([]string, 0, len(d.filters))
	for name := range d.filters {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		var v attr.Value
		diags.Append(cfg.GetAttribute(ctx, path.Root(name), &v)...)
		if diags.HasError() || !known(v) {
			continue
		}
		switch s, isString := v.(types.String); {
		case name == "tags":
			tags, isMap := v.(types.Map)
			if !isMap {
				diags.AddAttributeError(path.Root(name), "Unsupported filter", "The tags filter is not a map; this is a bug in the provider.")
				continue
			}
			var d diag.Diagnostics
			opts.Tags, d = tagsToAPI(ctx, tags)
			diags.Append(d...)
		case !isString:
			diags.AddAttributeError(path.Root(name), "Unsupported filter", fmt.Sprintf("The filter %s is not a string; this is a bug in the provider.", name))
		case name == "name_prefix":
			opts.NamePrefix = s.ValueString()
		default:
			extra[name] = s.ValueString()
		}
	}
	return opts, extra, diags
}
