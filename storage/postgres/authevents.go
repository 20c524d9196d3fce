package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/herald-idp/herald/storage"
)

var _ storage.AuthEvents = (*Store)(nil)

var authEvents = record[storage.AuthEvent]{
	table: table{name: "auth_events", keys: 1, cols: []string{
		"seq", "id", "time", "tenant_id", "event", "user_id", "username_hash", "client_id",
		"address", "device", "user_agent", "request_id", "outcome", "reason"}},
	scan: func(sc scanner) (*storage.AuthEvent, error) {
		var e storage.AuthEvent
		err := sc.Scan(&e.Seq, &e.ID, timeCol{&e.Time}, &e.Tenant, &e.Event, &e.UserID,
			&e.UsernameHash, &e.ClientID, &e.Address, &e.Device, &e.UserAgent, &e.RequestID,
			&e.Outcome, &e.Reason)
		if err != nil {
			return nil, err
		}
		return &e, nil
	},
}

// AuthEvents returns the authentication audit trail; *Store implements it.
func (s *Store) AuthEvents() storage.AuthEvents { return s }

// AppendAuthEvent stores e; the identity column assigns Seq.
func (s *Store) AppendAuthEvent(ctx context.Context, e *storage.AuthEvent) error {
	if e == nil {
		return errors.New("auth event: nil")
	}
	if e.ID == "" {
		e.ID = rand.Text()
	}
	if e.Time.IsZero() {
		e.Time = time.Now().UTC().Truncate(time.Microsecond)
	}
	what := fmt.Sprintf("auth event %q", e.ID)
	return s.run(ctx, what, func(ctx context.Context, q querier) error {
		err := q.QueryRow(ctx, `INSERT INTO auth_events (id, time, tenant_id, event, user_id,
			username_hash, client_id, address, device, user_agent, request_id, outcome, reason)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING seq`,
			e.ID, e.Time, e.Tenant, e.Event, e.UserID, e.UsernameHash, e.ClientID, e.Address,
			e.Device, e.UserAgent, e.RequestID, e.Outcome, e.Reason).Scan(&e.Seq)
		return mapErr(err, what)
	})
}

// ListAuthEvents returns the tenant's events matching f, newest first.
func (s *Store) ListAuthEvents(ctx context.Context, tenant string, f storage.AuthEventFilter) ([]*storage.AuthEvent, error) {
	what := fmt.Sprintf("tenant %q: list auth events", tenant)
	q, args := authEvents.table.selectSQL()+` WHERE tenant_id = $1`, []any{tenant}
	add := func(cond string, v any) {
		args = append(args, v)
		q += ` AND ` + cond + ` $` + strconv.Itoa(len(args))
	}
	if f.Event != "" {
		add("event =", f.Event)
	}
	if f.UserID != "" {
		add("user_id =", f.UserID)
	}
	if !f.Since.IsZero() {
		add("time >=", f.Since)
	}
	if !f.Until.IsZero() {
		add("time <", f.Until)
	}
	if f.Before > 0 {
		add("seq <", f.Before)
	}
	args = append(args, storage.AuditLimit(f.Limit))
	q += ` ORDER BY seq DESC LIMIT $` + strconv.Itoa(len(args))
	return authEvents.list(ctx, s, what, q, args...)
}

// DeleteAuthEventsBefore removes events older than before.
func (s *Store) DeleteAuthEventsBefore(ctx context.Context, before time.Time) (int64, error) {
	what := "postgres: sweep auth events"
	var n int64
	err := s.run(ctx, what, func(ctx context.Context, q querier) error {
		tag, err := q.Exec(ctx, `DELETE FROM auth_events WHERE time < $1`, before)
		n = tag.RowsAffected()
		return mapErr(err, what)
	})
	return n, err
}
