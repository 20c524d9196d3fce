package sqlite

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/herald-idp/herald/storage"
)

var _ storage.AuditLog = (*Store)(nil)

var auditTable = table{name: "audit_events", keys: 1, cols: []string{
	"id", "time", "actor_tenant", "actor", "action", "target_tenant", "target_type",
	"target_id", "details"}}

func scanAudit(sc scanner) (*storage.AuditEvent, error) {
	var e storage.AuditEvent
	err := sc.Scan(&e.ID, timeCol{&e.Time}, &e.ActorTenant, &e.Actor, &e.Action,
		&e.TargetTenant, &e.TargetType, &e.TargetID, jsonCol{&e.Details})
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// Audit returns the audit log; *Store implements it itself.
func (s *Store) Audit() storage.AuditLog { return s }

// AppendAudit stores e. It fills in e.ID (random) and e.Time (now) when
// they are empty; a duplicate ID is ErrAlreadyExists.
func (s *Store) AppendAudit(ctx context.Context, e *storage.AuditEvent) error {
	if e == nil {
		return errors.New("audit event: nil")
	}
	if e.ID == "" {
		e.ID = rand.Text()
	}
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	what := fmt.Sprintf("audit event %q", e.ID)
	details, err := encObject(e.Details)
	if err != nil {
		return fmt.Errorf("%s: details: %w", what, err)
	}
	_, err = s.write.ExecContext(ctx, auditTable.insertSQL(), e.ID, encTime(e.Time), e.ActorTenant,
		e.Actor, e.Action, e.TargetTenant, e.TargetType, e.TargetID, details)
	return mapErr(err, what)
}

// ListAudit returns up to storage.AuditLimit(limit) events, newest first
// (insertion order breaks ties in time); tenant "" lists every tenant's.
func (s *Store) ListAudit(ctx context.Context, tenant string, limit int) ([]*storage.AuditEvent, error) {
	what := fmt.Sprintf("tenant %q: list audit events", tenant)
	q, args := auditTable.selectSQL(), []any{}
	if tenant != "" {
		q += ` WHERE target_tenant = ?`
		args = append(args, tenant)
	}
	q += ` ORDER BY time DESC, rowid DESC LIMIT ?`
	args = append(args, storage.AuditLimit(limit))
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err, what)
	}
	defer rows.Close()
	var out []*storage.AuditEvent
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, mapErr(err, what)
		}
		out = append(out, e)
	}
	return out, mapErr(rows.Err(), what)
}
