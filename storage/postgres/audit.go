package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/herald-idp/herald/storage"
)

var _ storage.AuditLog = (*Store)(nil)

// auditEvents has no seq column here: the database assigns it, and it only
// orders events of the same time.
var auditEvents = record[storage.AuditEvent]{
	table: table{name: "audit_events", keys: 1, cols: []string{
		"id", "time", "actor_tenant", "actor", "action", "target_tenant", "target_type",
		"target_id", "details"}},
	scan: func(sc scanner) (*storage.AuditEvent, error) {
		var e storage.AuditEvent
		err := sc.Scan(&e.ID, timeCol{&e.Time}, &e.ActorTenant, &e.Actor, &e.Action,
			&e.TargetTenant, &e.TargetType, &e.TargetID, &e.Details)
		if err != nil {
			return nil, err
		}
		return &e, nil
	},
	args: func(e *storage.AuditEvent) []any {
		return []any{e.ID, e.Time, e.ActorTenant, e.Actor, e.Action, e.TargetTenant,
			e.TargetType, e.TargetID, jsonObject(e.Details)}
	},
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
		e.Time = time.Now().UTC().Truncate(time.Microsecond) // timestamptz precision
	}
	return auditEvents.insert(ctx, s, fmt.Sprintf("audit event %q", e.ID), e)
}

// ListAudit returns up to storage.AuditLimit(limit) events, newest first
// (insertion order breaks ties in time); tenant "" lists every tenant's.
func (s *Store) ListAudit(ctx context.Context, tenant string, limit int) ([]*storage.AuditEvent, error) {
	what := fmt.Sprintf("tenant %q: list audit events", tenant)
	n := storage.AuditLimit(limit)
	if tenant == "" {
		return auditEvents.list(ctx, s, what,
			auditEvents.table.selectSQL()+` ORDER BY time DESC, seq DESC LIMIT $1`, n)
	}
	return auditEvents.list(ctx, s, what, auditEvents.table.selectSQL()+
		` WHERE target_tenant = $1 ORDER BY time DESC, seq DESC LIMIT $2`, tenant, n)
}
