package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-idp/herald/storage"
)

var signingKeys = record[storage.SigningKey]{
	table: table{name: "signing_keys", keys: 2, cols: []string{
		"tenant_id", "id", "algorithm", "private_key", "status", "created_at", "activated_at", "retired_at"}},
	scan: func(sc scanner) (*storage.SigningKey, error) {
		var k storage.SigningKey
		err := sc.Scan(&k.TenantID, &k.ID, &k.Algorithm, &k.PrivateKey, &k.Status, timeCol{&k.CreatedAt},
			timeCol{&k.ActivatedAt}, timeCol{&k.RetiredAt})
		if err != nil {
			return nil, err
		}
		return &k, nil
	},
	args: func(k *storage.SigningKey) []any {
		return []any{k.TenantID, k.ID, k.Algorithm, k.PrivateKey, k.Status, k.CreatedAt,
			optTime(k.ActivatedAt), optTime(k.RetiredAt)}
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
// re-seal a key under a new KEK). The tenant and kid cannot be changed.
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

// keySetLockID is the advisory-lock key of one tenant's key set of one
// algorithm: a 64-bit FNV-1a hash, namespaced so that it cannot collide
// with another feature's advisory locks by design (only by chance, which
// merely serialises two unrelated transactions).
func keySetLockID(tenant, alg string) int64 {
	h := fnv.New64a()
	h.Write([]byte("herald-signing-keys\x00"))
	h.Write([]byte(tenant))
	h.Write([]byte{0})
	h.Write([]byte(alg))
	return int64(h.Sum64())
}

// UpdateKeySet runs update on the tenant's keys of alg in one transaction
// that first takes pg_advisory_xact_lock on the set. A row lock would not
// do: the first key of a set has no row to lock yet, and two replicas must
// not both create one. The lock is released at commit or rollback.
func (s *Store) UpdateKeySet(ctx context.Context, tenant, alg string, update func([]*storage.SigningKey) (*storage.KeySetChange, error)) error {
	what := fmt.Sprintf("tenant %q: %s signing keys", tenant, alg)
	return s.inTx(ctx, what, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, keySetLockID(tenant, alg)); err != nil {
			return mapErr(err, what+": lock")
		}
		rows, err := tx.Query(ctx, signingKeys.table.selectSQL()+
			` WHERE tenant_id = $1 AND algorithm = $2 ORDER BY created_at DESC, id DESC`, tenant, alg)
		if err != nil {
			return mapErr(err, what)
		}
		var current []*storage.SigningKey
		for rows.Next() {
			k, err := signingKeys.scan(rows)
			if err != nil {
				rows.Close()
				return mapErr(err, what)
			}
			current = append(current, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return mapErr(err, what)
		}
		change, err := update(current)
		if err != nil || change == nil {
			return err
		}
		if err := change.Check(tenant, alg, current); err != nil {
			return err
		}
		for _, k := range change.Create {
			if _, err := tx.Exec(ctx, signingKeys.table.insertSQL(), signingKeys.args(k)...); err != nil {
				return mapErr(err, keyWhat(tenant, k.ID))
			}
		}
		for _, k := range change.Update {
			args := signingKeys.args(k)
			_, err := tx.Exec(ctx, `UPDATE signing_keys SET private_key = $3, status = $4, created_at = $5,
				activated_at = $6, retired_at = $7 WHERE tenant_id = $1 AND id = $2`,
				args[0], args[1], args[3], args[4], args[5], args[6], args[7])
			if err != nil {
				return mapErr(err, keyWhat(tenant, k.ID))
			}
		}
		for _, id := range change.Delete {
			if _, err := tx.Exec(ctx, `DELETE FROM signing_keys WHERE tenant_id = $1 AND id = $2`, tenant, id); err != nil {
				return mapErr(err, keyWhat(tenant, id))
			}
		}
		return nil
	})
}

// SwapSecret replaces the secret name with new if it still holds old, in
// one conditional UPDATE.
func (s *Store) SwapSecret(ctx context.Context, name string, old, new []byte) (bool, error) {
	what := fmt.Sprintf("secret %q", name)
	if len(new) == 0 {
		return false, fmt.Errorf("%s: new value is empty", what)
	}
	var swapped bool
	err := s.run(ctx, what, func(ctx context.Context, q querier) error {
		tag, err := q.Exec(ctx, `UPDATE secrets SET value = $1 WHERE name = $2 AND value = $3`, new, name, old)
		swapped = err == nil && tag.RowsAffected() == 1
		return mapErr(err, what)
	})
	if err != nil || swapped {
		return swapped, err
	}
	if _, err := s.getSecret(ctx, name, what); err != nil {
		return false, err
	}
	return false, nil
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
