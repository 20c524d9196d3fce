package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/herald-idp/herald/storage"
)

var signingKeys = record[storage.SigningKey]{
	table: table{name: "signing_keys", keys: 2, cols: []string{
		"tenant_id", "id", "algorithm", "private_key", "status", "created_at"}},
	scan: func(sc scanner) (*storage.SigningKey, error) {
		var k storage.SigningKey
		err := sc.Scan(&k.TenantID, &k.ID, &k.Algorithm, &k.PrivateKey, &k.Status, timeCol{&k.CreatedAt})
		if err != nil {
			return nil, err
		}
		return &k, nil
	},
	args: func(k *storage.SigningKey) []any {
		return []any{k.TenantID, k.ID, k.Algorithm, k.PrivateKey, k.Status, k.CreatedAt}
	},
}

func keyWhat(tenant, id string) string {
	return fmt.Sprintf("tenant %q: signing key %q", tenant, id)
}

// CreateKey stores a signing key; ErrAlreadyExists if the kid is taken in
// the tenant.
func (s *Store) CreateKey(ctx context.Context, k *storage.SigningKey) error {
	if k == nil {
		return errors.New("signing key: nil")
	}
	what := keyWhat(k.TenantID, k.ID)
	if err := requireKeys(what, k.TenantID, k.ID); err != nil {
		return err
	}
	if len(k.PrivateKey) == 0 {
		return fmt.Errorf("%s: private key must not be empty", what)
	}
	return signingKeys.insert(ctx, s, what, k)
}

// ListKeys returns the tenant's keys, newest first (ties broken by kid so
// the order is stable).
func (s *Store) ListKeys(ctx context.Context, tenant string) ([]*storage.SigningKey, error) {
	return signingKeys.list(ctx, s, fmt.Sprintf("tenant %q: list signing keys", tenant),
		signingKeys.table.selectSQL()+` WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC`, tenant)
}

// UpdateKey applies update to the locked row in one transaction (used to
// retire a key). The tenant and kid cannot be changed.
func (s *Store) UpdateKey(ctx context.Context, tenant, id string, update func(*storage.SigningKey) error) (*storage.SigningKey, error) {
	what := keyWhat(tenant, id)
	return signingKeys.update(ctx, s, what, signingKeys.table.selectForUpdateSQL(), []any{tenant, id}, update,
		func(k *storage.SigningKey) error {
			if k.TenantID != tenant || k.ID != id {
				return fmt.Errorf("%s: update must not change the tenant or kid", what)
			}
			if len(k.PrivateKey) == 0 {
				return fmt.Errorf("%s: private key must not be empty", what)
			}
			return nil
		})
}

// Secret returns the installation-wide secret called name, generating and
// storing it on first use. No lock or connection is held while generate
// runs; INSERT ... ON CONFLICT DO NOTHING followed by a SELECT makes every
// caller (other replicas included) return the value of whoever inserted
// first.
func (s *Store) Secret(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error) {
	if name == "" {
		return nil, errors.New("secret: name must not be empty")
	}
	what := fmt.Sprintf("secret %q", name)
	if v, err := s.getSecret(ctx, name, what); err == nil {
		return v, nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	v, err := generate()
	if err != nil {
		return nil, fmt.Errorf("%s: generate: %w", what, err)
	}
	if len(v) == 0 {
		return nil, fmt.Errorf("%s: generated value is empty", what)
	}
	err = s.run(ctx, what, func(ctx context.Context, q querier) error {
		_, err := q.Exec(ctx, `INSERT INTO secrets (name, value, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO NOTHING`, name, v, time.Now())
		return mapErr(err, what)
	})
	if err != nil {
		return nil, err
	}
	// The SELECT runs after the INSERT committed (autocommit), so it sees
	// this insert or the racing one that won.
	return s.getSecret(ctx, name, what)
}

func (s *Store) getSecret(ctx context.Context, name, what string) ([]byte, error) {
	var v []byte
	err := s.run(ctx, what, func(ctx context.Context, q querier) error {
		return mapErr(q.QueryRow(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&v), what)
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}
