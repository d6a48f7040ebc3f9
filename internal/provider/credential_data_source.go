package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/datasource"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// NewCredentialDataSource returns the aio_credential data source, which
// reads a credential's metadata by ID or by name; never its secret.
func NewCredentialDataSource() datasource.DataSource {
	return &objectDataSource[api.Credential, credentialModel]{kind: credentialKind}
}
