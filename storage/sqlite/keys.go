package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/herald-idp/herald/storage"
)

var keysTable = table{name: "signing_keys", keys: 2, cols: []string{
	"tenant_id", "id", "algorithm", "private_key", "status", "created_at", "activated_at", "retired_at"}}

func scanKey(sc scanner) (*storage.SigningKey, error) {
	var k storage.SigningKey
	var activated, retired *time.Time
	err := sc.Scan(&k.TenantID, &k.ID, &k.Algorithm, &k.PrivateKey, &k.Status, timeCol{&k.CreatedAt},
		nullTimeCol{&activated}, nullTimeCol{&retired})
	if err != nil {
		return nil, err
	}
	if activated != nil {
		k.ActivatedAt = *activated
	}
	if retired != nil {
		k.RetiredAt = *retired
	}
	return &k, nil
}

// keyArgs lists k's column values in keysTable order; unset lifecycle
// times are NULL.
func keyArgs(k *storage.SigningKey) []any {
	return []any{k.TenantID, k.ID, k.Algorithm, k.PrivateKey, k.Status, encTime(k.CreatedAt),
		encOptTime(k.ActivatedAt), encOptTime(k.RetiredAt)}
}

func encOptTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return encTime(t)
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
	_, err := s.write.ExecContext(ctx, keysTable.insertSQL(), keyArgs(k)...)
	return mapErr(err, what)
}

// ListKeys returns the tenant's keys, newest first (ties broken by kid so
// the order is stable).
func (s *Store) ListKeys(ctx context.Context, tenant string) ([]*storage.SigningKey, error) {
	what := fmt.Sprintf("tenant %q: list signing keys", tenant)
	rows, err := s.read.QueryContext(ctx,
		keysTable.selectSQL()+` WHERE tenant_id = ? ORDER BY created_at DESC, id DESC`, tenant)
	if err != nil {
		return nil, mapErr(err, what)
	}
	defer rows.Close()
	var out []*storage.SigningKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, mapErr(err, what)
		}
		out = append(out, k)
	}
	return out, mapErr(rows.Err(), what)
}

// UpdateKey applies update to the stored key in one transaction (used to
// re-seal a key under a new KEK). The tenant and kid cannot be changed.
func (s *Store) UpdateKey(ctx context.Context, tenant, id string, update func(*storage.SigningKey) error) (*storage.SigningKey, error) {
	what := keyWhat(tenant, id)
	var out *storage.SigningKey
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		k, err := scanKey(tx.QueryRowContext(ctx,
			keysTable.selectSQL()+` WHERE tenant_id = ? AND id = ?`, tenant, id))
		if err != nil {
			return mapErr(err, what)
		}
		if err := update(k); err != nil {
			return err
		}
		if k.TenantID != tenant || k.ID != id {
			return fmt.Errorf("%s: update must not change the tenant or kid", what)
		}
		if len(k.PrivateKey) == 0 {
			return fmt.Errorf("%s: private key must not be empty", what)
		}
		_, err = tx.ExecContext(ctx, keysTable.updateSQL(), keysTable.updateArgs(keyArgs(k))...)
		if err != nil {
			return mapErr(err, what)
		}
		out = k
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateKeySet runs update on the tenant's keys of alg inside one write
// transaction. The store has a single writer connection and BEGIN IMMEDIATE
// (_txlock=immediate) takes the database write lock at once, so concurrent
// callers, in this process or another, run one after the other and each
// sees what the previous one wrote.
func (s *Store) UpdateKeySet(ctx context.Context, tenant, alg string, update func([]*storage.SigningKey) (*storage.KeySetChange, error)) error {
	what := fmt.Sprintf("tenant %q: %s signing keys", tenant, alg)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, keysTable.selectSQL()+
			` WHERE tenant_id = ? AND algorithm = ? ORDER BY created_at DESC, id DESC`, tenant, alg)
		if err != nil {
			return mapErr(err, what)
		}
		var current []*storage.SigningKey
		for rows.Next() {
			k, err := scanKey(rows)
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
			if _, err := tx.ExecContext(ctx, keysTable.insertSQL(), keyArgs(k)...); err != nil {
				return mapErr(err, keyWhat(tenant, k.ID))
			}
		}
		for _, k := range change.Update {
			res, err := tx.ExecContext(ctx, keysTable.updateSQL(), keysTable.updateArgs(keyArgs(k))...)
			if err != nil {
				return mapErr(err, keyWhat(tenant, k.ID))
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return fmt.Errorf("%s: %w", keyWhat(tenant, k.ID), storage.ErrNotFound)
			}
		}
		for _, id := range change.Delete {
			if _, err := tx.ExecContext(ctx, `DELETE FROM signing_keys WHERE tenant_id = ? AND id = ? AND algorithm = ?`,
				tenant, id, alg); err != nil {
				return mapErr(err, keyWhat(tenant, id))
			}
		}
		return nil
	})
}

// SwapSecret replaces the secret name with new if it still holds old.
func (s *Store) SwapSecret(ctx context.Context, name string, old, new []byte) (bool, error) {
	what := fmt.Sprintf("secret %q", name)
	if len(new) == 0 {
		return false, fmt.Errorf("%s: new value is empty", what)
	}
	res, err := s.write.ExecContext(ctx, `UPDATE secrets SET value = ? WHERE name = ? AND value = ?`, new, name, old)
	if err != nil {
		return false, mapErr(err, what)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	if _, err := getSecret(ctx, s.write, name); err != nil {
		return false, mapErr(err, what)
	}
	return false, nil
}

// Secret returns the installation-wide secret called name, generating and
// storing it on first use. INSERT ... ON CONFLICT DO NOTHING followed by a
// SELECT makes every caller (other replicas included) read the value of
// whoever inserted first.
func (s *Store) Secret(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error) {
	what := fmt.Sprintf("secret %q", name)
	if name == "" {
		return nil, errors.New("secret: name must not be empty")
	}
	if v, err := getSecret(ctx, s.read, name); err == nil {
		return v, nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return nil, mapErr(err, what)
	}
	v, err := generate()
	if err != nil {
		return nil, fmt.Errorf("%s: generate: %w", what, err)
	}
	if len(v) == 0 {
		return nil, fmt.Errorf("%s: generated value is empty", what)
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO NOTHING`, name, v, encTime(time.Now()))
	if err != nil {
		return nil, mapErr(err, what)
	}
	// Read back through the writer: it has seen its own insert, and a racing
	// replica's insert if that one won.
	v, err = getSecret(ctx, s.write, name)
	if err != nil {
		return nil, mapErr(err, what)
	}
	return v, nil
}

func getSecret(ctx context.Context, q querier, name string) ([]byte, error) {
	var v []byte
	err := q.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, storage.ErrNotFound
	}
	return v, err
}
