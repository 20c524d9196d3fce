package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/herald-idp/herald/storage"
)

var sessionsTable = table{name: "sessions", keys: 2, cols: []string{
	"tenant_id", "id", "user_id", "auth_time", "amr", "created_at",
	"idle_expires_at", "absolute_expires_at", "user_agent", "last_used_at"}}

func scanSession(sc scanner) (*storage.Session, error) {
	var s storage.Session
	err := sc.Scan(&s.TenantID, &s.ID, &s.UserID, timeCol{&s.AuthTime}, listCol{&s.AMR},
		timeCol{&s.CreatedAt}, timeCol{&s.IdleExpiresAt}, timeCol{&s.AbsoluteExpiresAt},
		&s.UserAgent, timeCol{&s.LastUsedAt})
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// sessionArgs lists s's column values in sessionsTable order.
func sessionArgs(s *storage.Session) []any {
	return []any{s.TenantID, s.ID, s.UserID, encTime(s.AuthTime), list(s.AMR),
		encTime(s.CreatedAt), encTime(s.IdleExpiresAt), encTime(s.AbsoluteExpiresAt),
		storage.CutUserAgent(s.UserAgent), encTime(s.LastUsed())}
}

// sessionWhat names a session without its ID, which is the hash of a cookie.
func sessionWhat(tenant string) string {
	return fmt.Sprintf("tenant %q: session", tenant)
}

// CreateSession stores an SSO session.
func (s *Store) CreateSession(ctx context.Context, sess *storage.Session) error {
	if sess == nil {
		return errors.New("session: nil")
	}
	what := sessionWhat(sess.TenantID)
	if err := requireKeys(what, sess.TenantID, sess.ID); err != nil {
		return err
	}
	_, err := s.write.ExecContext(ctx, sessionsTable.insertSQL(), sessionArgs(sess)...)
	return mapErr(err, what)
}

// Session returns a session that is neither idle- nor absolutely expired at now.
func (s *Store) Session(ctx context.Context, tenant, id string, now time.Time) (*storage.Session, error) {
	n := encTime(now)
	sess, err := scanSession(s.read.QueryRowContext(ctx, sessionsTable.selectSQL()+
		` WHERE tenant_id = ? AND id = ? AND idle_expires_at > ? AND absolute_expires_at > ?`,
		tenant, id, n, n))
	if err != nil {
		return nil, mapErr(err, sessionWhat(tenant))
	}
	return sess, nil
}

// TouchSession slides the idle expiry in one UPDATE, capped at the absolute
// expiry, so concurrent requests cannot lose each other's update or extend
// a session past its absolute lifetime.
func (s *Store) TouchSession(ctx context.Context, tenant, id string, now, idleExpiresAt time.Time) error {
	what := sessionWhat(tenant)
	res, err := s.write.ExecContext(ctx, `UPDATE sessions
		SET idle_expires_at = MIN(?, absolute_expires_at), last_used_at = ? WHERE tenant_id = ? AND id = ?`,
		encTime(idleExpiresAt), encTime(now), tenant, id)
	if err != nil {
		return mapErr(err, what)
	}
	return requireAffected(res, what)
}

// DeleteSession ends one session; ending an absent one is not an error
// (logout must be idempotent).
func (s *Store) DeleteSession(ctx context.Context, tenant, id string) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE tenant_id = ? AND id = ?`, tenant, id)
	return mapErr(err, sessionWhat(tenant))
}

// DeleteUserSessions ends every session of the user in the tenant.
func (s *Store) DeleteUserSessions(ctx context.Context, tenant, userID string) error {
	_, err := s.write.ExecContext(ctx,
		`DELETE FROM sessions WHERE tenant_id = ? AND user_id = ?`, tenant, userID)
	return mapErr(err, fmt.Sprintf("tenant %q: sessions of user %q", tenant, userID))
}

// ListUserSessions returns the user's live sessions, newest first.
func (s *Store) ListUserSessions(ctx context.Context, tenant, userID string, now time.Time) ([]*storage.Session, error) {
	what := fmt.Sprintf("tenant %q: sessions of user %q", tenant, userID)
	n := encTime(now)
	rows, err := s.read.QueryContext(ctx, sessionsTable.selectSQL()+
		` WHERE tenant_id = ? AND user_id = ? AND idle_expires_at > ? AND absolute_expires_at > ?
		ORDER BY created_at DESC, id`, tenant, userID, n, n)
	if err != nil {
		return nil, mapErr(err, what)
	}
	defer rows.Close()
	var out []*storage.Session
	for rows.Next() {
		sess, err := scanSession(rows)
		if err != nil {
			return nil, mapErr(err, what)
		}
		out = append(out, sess)
	}
	return out, mapErr(rows.Err(), what)
}
