package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/aio-platform/terraform-provider-aio/internal/api"
	"github.com/aio-platform/terraform-provider-aio/internal/secret"
)

// CredentialRecord is a credential as stored: its metadata (with Secret
// always nil) and its sealed secret. The store never sees a plaintext.
type CredentialRecord struct {
	api.Credential
	Sealed secret.Sealed
}

// credentials is how credentials are stored. They carry no tags.
var credentials = newTable(table[CredentialRecord]{
	tableSpec: tableSpec{
		name:   "credentials",
		prefix: api.PrefixCredential,
		columns: []string{"name", "description", "type", "header", "query_param", "username", "token_url", "client_id",
			"scopes", "allowed_hosts", "expires_at", "rotation_period", "secret_key_id", "secret_wrapped", "secret_ciphertext",
			"secret_revision", "last_rotated_at"},
	},
	scan: scanCredential,
	args: credentialArgs,
	meta: func(c *CredentialRecord) *api.Meta { return &c.Meta },
})

func scanCredential(s scanner) (CredentialRecord, error) {
	var (
		c                                                  CredentialRecord
		desc, header, qp, user, tokenURL, clientID, scopes sql.NullString
		expires, period                                    sql.NullString
		hosts, lastRotated                                 string
	)
	err := s.Scan(&c.Name, &desc, &c.Type, &header, &qp, &user, &tokenURL, &clientID, &scopes,
		&hosts, &expires, &period, &c.Sealed.KeyID, &c.Sealed.WrappedKey, &c.Sealed.Ciphertext, &c.SecretRevision, &lastRotated)
	if err != nil {
		return c, err
	}
	c.Description, c.Header, c.QueryParam = nullStringPtr(desc), nullStringPtr(header), nullStringPtr(qp)
	c.Username, c.TokenURL, c.ClientID = nullStringPtr(user), nullStringPtr(tokenURL), nullStringPtr(clientID)
	c.RotationPeriod = nullStringPtr(period)
	if scopes.Valid {
		if err := json.Unmarshal([]byte(scopes.String), &c.Scopes); err != nil {
			return c, err
		}
		if c.Scopes == nil {
			c.Scopes = []string{}
		}
	}
	if err := json.Unmarshal([]byte(hosts), &c.AllowedHosts); err != nil {
		return c, err
	}
	if c.AllowedHosts == nil {
		c.AllowedHosts = []string{}
	}
	if c.ExpiresAt, err = parseTimePtr(expires); err != nil {
		return c, err
	}
	lr, err := parseTime(lastRotated)
	c.LastRotatedAt = &lr
	return c, err
}

func credentialArgs(c CredentialRecord) ([]any, error) {
	var scopes any
	if c.Scopes != nil {
		b, err := json.Marshal(c.Scopes)
		if err != nil {
			return nil, err
		}
		scopes = string(b)
	}
	hostList := c.AllowedHosts
	if hostList == nil {
		hostList = []string{}
	}
	hosts, err := json.Marshal(hostList)
	if err != nil {
		return nil, err
	}
	var lastRotated time.Time
	if c.LastRotatedAt != nil {
		lastRotated = *c.LastRotatedAt
	}
	return []any{c.Name, c.Description, c.Type, c.Header, c.QueryParam, c.Username, c.TokenURL, c.ClientID, scopes,
		string(hosts), fmtTimePtr(c.ExpiresAt), c.RotationPeriod, c.Sealed.KeyID, c.Sealed.WrappedKey, c.Sealed.Ciphertext, c.SecretRevision,
		fmtTime(lastRotated)}, nil
}

func (r sqlReader) GetCredential(ctx context.Context, id string) (CredentialRecord, error) {
	return getObject(ctx, r, credentials, id)
}

func (r sqlReader) ListCredentials(ctx context.Context, q ListQuery) ([]CredentialRecord, string, error) {
	return listObjects(ctx, r, credentials, q)
}

func (r sqlReader) CountCredentials(ctx context.Context) (int, error) {
	var n int
	err := r.queryRow(ctx, `SELECT COUNT(*) FROM credentials`).Scan(&n)
	return n, err
}

func (r sqlReader) CredentialReferrers(ctx context.Context, id string) ([]string, error) {
	return r.referrers(ctx, api.KindCredential, id)
}

func (t sqlTx) InsertCredential(ctx context.Context, c CredentialRecord) error {
	return insertObject(ctx, t, credentials, c)
}

func (t sqlTx) UpdateCredential(ctx context.Context, c CredentialRecord) error {
	return updateObject(ctx, t, credentials, c)
}

func (t sqlTx) UpdateSealed(ctx context.Context, id string, s secret.Sealed) error {
	return t.execOne(ctx, `UPDATE credentials SET secret_key_id = ?, secret_wrapped = ?, secret_ciphertext = ? WHERE id = ?`,
		s.KeyID, s.WrappedKey, s.Ciphertext, id)
}

func (t sqlTx) DeleteCredential(ctx context.Context, id string) error {
	return deleteObject(ctx, t, credentials, id)
}
