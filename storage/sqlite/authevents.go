package sqlite

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/herald-idp/herald/storage"
)

var _ storage.AuthEvents = (*Store)(nil)

var authEventsTable = table{name: "auth_events", keys: 1, cols: []string{
	"seq", "id", "time", "tenant_id", "event", "user_id", "username_hash", "client_id",
	"address", "device", "user_agent", "request_id", "outcome", "reason"}}

// AuthEvents returns the authentication audit trail; *Store implements it.
func (s *Store) AuthEvents() storage.AuthEvents { return s }

// AppendAuthEvent stores e; seq is the AUTOINCREMENT rowid.
func (s *Store) AppendAuthEvent(ctx context.Context, e *storage.AuthEvent) error {
	if e == nil {
		return errors.New("auth event: nil")
	}
	if e.ID == "" {
		e.ID = rand.Text()
	}
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	what := fmt.Sprintf("auth event %q", e.ID)
	cols := authEventsTable.cols[1:]
	err := s.write.QueryRowContext(ctx, `INSERT INTO auth_events (`+strings.Join(cols, ", ")+
		`) VALUES (`+strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ")+`) RETURNING seq`,
		e.ID, encTime(e.Time), e.Tenant, e.Event, e.UserID, e.UsernameHash, e.ClientID,
		e.Address, e.Device, e.UserAgent, e.RequestID, e.Outcome, e.Reason).Scan(&e.Seq)
	return mapErr(err, what)
}

// ListAuthEvents returns the tenant's events matching f, newest first.
func (s *Store) ListAuthEvents(ctx context.Context, tenant string, f storage.AuthEventFilter) ([]*storage.AuthEvent, error) {
	what := fmt.Sprintf("tenant %q: list auth events", tenant)
	q, args := authEventsTable.selectSQL()+` WHERE tenant_id = ?`, []any{tenant}
	if f.Event != "" {
		q, args = q+` AND event = ?`, append(args, f.Event)
	}
	if f.UserID != "" {
		q, args = q+` AND user_id = ?`, append(args, f.UserID)
	}
	if !f.Since.IsZero() {
		q, args = q+` AND time >= ?`, append(args, encTime(f.Since))
	}
	if !f.Until.IsZero() {
		q, args = q+` AND time < ?`, append(args, encTime(f.Until))
	}
	if f.Before > 0 {
		q, args = q+` AND seq < ?`, append(args, f.Before)
	}
	q, args = q+` ORDER BY seq DESC LIMIT ?`, append(args, storage.AuditLimit(f.Limit))
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err, what)
	}
	defer rows.Close()
	var out []*storage.AuthEvent
	for rows.Next() {
		var e storage.AuthEvent
		if err := rows.Scan(&e.Seq, &e.ID, timeCol{&e.Time}, &e.Tenant, &e.Event, &e.UserID,
			&e.UsernameHash, &e.ClientID, &e.Address, &e.Device, &e.UserAgent, &e.RequestID,
			&e.Outcome, &e.Reason); err != nil {
			return nil, mapErr(err, what)
		}
		out = append(out, &e)
	}
	return out, mapErr(rows.Err(), what)
}

// DeleteAuthEventsBefore removes events older than before.
func (s *Store) DeleteAuthEventsBefore(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM auth_events WHERE time < ?`, encTime(before))
	if err != nil {
		return 0, mapErr(err, "sweep auth events")
	}
	return res.RowsAffected()
}
