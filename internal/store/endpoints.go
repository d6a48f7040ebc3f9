package store

import (
	"context"
	"database/sql"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
)

// endpoints is how endpoints are stored.
var endpoints = newTable(table[api.Endpoint]{
	tableSpec: tableSpec{
		name: "endpoints",
		columns: []string{"id", "name", "url", "api_version", "description", "owner", "data_classification", "tags",
			"credential_id", "revision", "created_at", "updated_at"},
		refs: []reference{{column: "credential_id", kind: api.KindCredential}},
	},
	scan: scanEndpoint,
	args: endpointArgs,
	id:   func(e api.Endpoint) string { return e.ID },
	tags: func(e api.Endpoint) map[string]string { return e.Tags },
})

func scanEndpoint(s scanner) (api.Endpoint, error) {
	var (
		e                    api.Endpoint
		apiVer, desc, owner  sql.NullString
		tags, credentialID   sql.NullString
		createdAt, updatedAt string
	)
	if err := s.Scan(&e.ID, &e.Name, &e.URL, &apiVer, &desc, &owner, &e.DataClassification, &tags, &credentialID, &e.Revision, &createdAt, &updatedAt); err != nil {
		return e, err
	}
	e.APIVersion = nullStringPtr(apiVer)
	e.Description = nullStringPtr(desc)
	e.Owner = nullStringPtr(owner)
	e.CredentialID = nullStringPtr(credentialID)
	var err error
	if e.Tags, err = decodeTags(tags); err != nil {
		return e, err
	}
	if e.CreatedAt, err = parseTime(createdAt); err != nil {
		return e, err
	}
	e.UpdatedAt, err = parseTime(updatedAt)
	return e, err
}

func endpointArgs(e api.Endpoint) ([]any, error) {
	tags, err := encodeTags(e.Tags)
	if err != nil {
		return nil, err
	}
	return []any{e.ID, e.Name, e.URL, e.APIVersion, e.Description, e.Owner, e.DataClassification, tags, e.CredentialID,
		e.Revision, fmtTime(e.CreatedAt), fmtTime(e.UpdatedAt)}, nil
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
