package store

import (
	"context"
	"database/sql"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// endpoints is how endpoints are stored.
var endpoints = newTable(table[api.Endpoint]{
	tableSpec: tableSpec{
		name:    "endpoints",
		prefix:  api.PrefixEndpoint,
		columns: []string{"name", "url", "api_version", "description", "owner", "data_classification", "credential_id"},
		refs:    []reference{{column: "credential_id", kind: api.KindCredential}},
	},
	scan: scanEndpoint,
	args: endpointArgs,
	meta: func(e *api.Endpoint) *api.Meta { return &e.Meta },
	tags: func(e *api.Endpoint) *map[string]string { return &e.Tags },
})

func scanEndpoint(s scanner) (api.Endpoint, error) {
	var (
		e                                 api.Endpoint
		apiVer, desc, owner, credentialID sql.NullString
	)
	err := s.Scan(&e.Name, &e.URL, &apiVer, &desc, &owner, &e.DataClassification, &credentialID)
	e.APIVersion, e.Description, e.Owner = nullStringPtr(apiVer), nullStringPtr(desc), nullStringPtr(owner)
	e.CredentialID = nullStringPtr(credentialID)
	return e, err
}

func endpointArgs(e api.Endpoint) ([]any, error) {
	return []any{e.Name, e.URL, e.APIVersion, e.Description, e.Owner, e.DataClassification, e.CredentialID}, nil
}

func (r sqlReader) GetEndpoint(ctx context.Context, id string) (api.Endpoint, error) {
	return getObject(ctx, r, endpoints, id)
}

func (r sqlReader) ListEndpoints(ctx context.Context, q ListQuery) ([]api.Endpoint, string, error) {
	return listObjects(ctx, r, endpoints, q)
}

func (r sqlReader) EndpointReferrers(ctx context.Context, id string) ([]string, error) {
	return r.referrers(ctx, api.KindEndpoint, id)
}

func (t sqlTx) InsertEndpoint(ctx context.Context, e api.Endpoint) error {
	return insertObject(ctx, t, endpoints, e)
}

func (t sqlTx) UpdateEndpoint(ctx context.Context, e api.Endpoint) error {
	return updateObject(ctx, t, endpoints, e)
}

func (t sqlTx) DeleteEndpoint(ctx context.Context, id string) error {
	return deleteObject(ctx, t, endpoints, id)
}
