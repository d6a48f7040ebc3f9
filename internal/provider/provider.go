// Package provider is the Terraform provider for AIO, on
// terraform-plugin-framework (protocol 6).
package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/aio-platform/terraform-provider-aio/internal/client"
)

var _ provider.Provider = (*aioProvider)(nil)

// Environment variables read when the provider block leaves a setting out.
const (
	EnvAddress = "AIO_ADDR"
	EnvToken   = "AIO_TOKEN"
	// EnvCACertFile names a PEM file of extra certificate authorities.
	EnvCACertFile = "AIO_CA_CERT_FILE"
)

// aioProvider is the AIO provider.
type aioProvider struct {
	version string
}

// aioProviderModel is the provider block.
type aioProviderModel struct {
	Address            types.String  `tfsdk:"address"`
	Token              types.String  `tfsdk:"token"`
	RetryMax           types.Int64   `tfsdk:"retry_max"`
	RequestTimeout     durationValue `tfsdk:"request_timeout"`
	CACertFile         types.String  `tfsdk:"ca_cert_file"`
	InsecureSkipVerify types.Bool    `tfsdk:"insecure_skip_verify"`
}

// New returns a constructor of the provider at the given version.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &aioProvider{version: version} }
}

func (p *aioProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "aio"
	resp.Version = p.version
}

func (p *aioProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The AIO provider manages integrations — endpoints, credentials, monitors, alert thresholds and retention policies — on an `aiod` control plane.",
		Attributes: map[string]schema.Attribute{
			"address": schema.StringAttribute{
				MarkdownDescription: "The base URL of the `aiod` API, such as `http://127.0.0.1:7420`. Falls back to the `AIO_ADDR` environment variable; one of the two is required.",
				Optional:            true,
			},
			"token": schema.StringAttribute{
				MarkdownDescription: "The API token the provider authenticates with, sent as a bearer token and never logged. Falls back to the `AIO_TOKEN` environment variable; one of the two is required. Use an `editor` token to manage configuration, a `viewer` token for data sources only.",
				Optional:            true,
				Sensitive:           true,
			},
			"retry_max": schema.Int64Attribute{
				MarkdownDescription: "How many times a request is retried after a connection error or a `429`, `502`, `503` or `504` answer, with capped, jittered exponential backoff that honours `Retry-After`. Writes are retried safely because each carries an idempotency key. From 0 to 20; defaults to `4`.",
				Optional:            true,
				Validators:          []validator.Int64{int64validator.Between(0, 20)},
			},
			"request_timeout": schema.StringAttribute{
				MarkdownDescription: "The time limit of each single attempt of a request, as a Go duration such as `30s` or `2m`. Defaults to `30s`.",
				Optional:            true,
				CustomType:          durationType{},
			},
			"ca_cert_file": schema.StringAttribute{
				MarkdownDescription: "The path of a PEM file of certificate authorities to trust for an `aiod` served over HTTPS with its own certificate (`aiod serve --tls-cert`), in addition to the system's. Falls back to the `AIO_CA_CERT_FILE` environment variable. Unset by default.",
				Optional:            true,
			},
			"insecure_skip_verify": schema.BoolAttribute{
				MarkdownDescription: "Skips the verification of the server's TLS certificate. Only for tests: anyone on the path can then read the token. Defaults to `false`.",
				Optional:            true,
			},
		},
	}
}

func (p *aioProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg aioProviderModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	for name, v := range map[string]types.String{"address": cfg.Address, "token": cfg.Token} {
		if v.IsUnknown() {
			resp.Diagnostics.AddAttributeError(path.Root(name), "Unknown "+name,
				"The provider's "+name+" is not known until apply; set it to a value known at plan time.")
		}
	}
	if resp.Diagnostics.HasError() {
		return
	}
	address := cfg.Address.ValueString()
	if address == "" {
		address = os.Getenv(EnvAddress)
	}
	token := cfg.Token.ValueString()
	if token == "" {
		token = os.Getenv(EnvToken)
	}
	if address == "" {
		resp.Diagnostics.AddAttributeError(path.Root("address"), "Missing aiod address",
			"Set address in the provider block or the AIO_ADDR environment variable to the aiod API, such as http://127.0.0.1:7420.")
	}
	if token == "" {
		resp.Diagnostics.AddAttributeError(path.Root("token"), "Missing aiod token",
			"Set token in the provider block or the AIO_TOKEN environment variable to an aiod API token.")
	}
	if resp.Diagnostics.HasError() {
		return
	}
	ccfg := client.Config{Address: address, Token: token, UserAgent: "terraform-provider-aio/" + p.version}
	if !cfg.RetryMax.IsNull() {
		// The client reads 0 as "the default" and a negative value as "no
		// retries"; in the provider block 0 means no retries.
		ccfg.RetryMax = int(cfg.RetryMax.ValueInt64())
		if ccfg.RetryMax == 0 {
			ccfg.RetryMax = -1
		}
	}
	if d := cfg.RequestTimeout.ValueDuration(); d > 0 {
		// durationType has refused anything but a positive duration.
		ccfg.RequestTimeout = d
	}
	caFile := cfg.CACertFile.ValueString()
	if caFile == "" {
		caFile = os.Getenv(EnvCACertFile)
	}
	if caFile != "" || cfg.InsecureSkipVerify.ValueBool() {
		hc, err := tlsHTTPClient(caFile, cfg.InsecureSkipVerify.ValueBool())
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("ca_cert_file"), "Invalid CA certificate file", err.Error())
			return
		}
		ccfg.HTTPClient = hc
	}
	c, err := client.New(ccfg)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("address"), "Invalid aiod address", err.Error())
		return
	}
	ctx = tflog.SetField(ctx, "aio_address", address)
	tflog.Debug(ctx, "configured aio client", map[string]any{"retry_max": ccfg.RetryMax, "request_timeout": ccfg.RequestTimeout.String()})
	resp.DataSourceData = c
	resp.ResourceData = c
}

func (p *aioProvider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewEndpointResource,
		NewCredentialResource,
		NewMonitorResource,
		NewChannelResource,
		NewThresholdResource,
		NewRetentionResource,
	}
}

func (p *aioProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewEndpointDataSource,
		NewEndpointsDataSource,
		NewCredentialDataSource,
		NewAuditEventsDataSource,
		NewMonitorDataSource,
		NewMonitorsDataSource,
		NewMonitorStatusDataSource,
		NewChannelDataSource,
		NewThresholdDataSource,
		NewThresholdsDataSource,
		NewRetentionDataSource,
		NewRetentionsDataSource,
		NewRetentionComplianceDataSource,
		NewAlertsDataSource,
	}
}

// tlsHTTPClient makes an HTTP client that trusts the system's authorities
// plus those in caFile.
func tlsHTTPClient(caFile string, insecure bool) (*http.Client, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile) //nolint:gosec // G703: the user names the file to trust in their own configuration.
		if err != nil {
			return nil, err
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
		}
	}
	tr := client.NewTransport()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure} //nolint:gosec // insecure only when the user asks, documented as test-only.
	return &http.Client{Transport: tr}, nil
}
