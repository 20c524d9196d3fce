package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/herald-idp/herald/storage"
)

var sessions = record[storage.Session]{
	table: table{name: "sessions", keys: 2, cols: []string{
		"tenant_id", "id", "user_id", "auth_time", "amr", "created_at",
		"idle_expires_at", "absolute_expires_at", "user_agent", "last_used_at"}},
	scan: func(sc scanner) (*storage.Session, error) {
		var s storage.Session
		err := sc.Scan(&s.TenantID, &s.ID, &s.UserID, timeCol{&s.AuthTime}, &s.AMR,
			timeCol{&s.CreatedAt}, timeCol{&s.IdleExpiresAt}, timeCol{&s.AbsoluteExpiresAt},
			&s.UserAgent, timeCol{&s.LastUsedAt})
		if err != nil {
			return nil, err
		}
		lists(&s.AMR)
		return &s, nil
	},
	args: func(s *storage.Session) []any {
		return []any{s.TenantID, s.ID, s.UserID, optTime(s.AuthTime), list(s.AMR),
			s.CreatedAt, s.IdleExpiresAt, s.AbsoluteExpiresAt,
			storage.CutUserAgent(s.UserAgent), optTime(s.LastUsed())}
	},
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
	return sessions.insert(ctx, s, what, sess)
}

// Session returns a session that is neither idle- nor absolutely expired at now.
func (s *Store) Session(ctx context.Context, tenant, id string, now time.Time) (*storage.Session, error) {
	return sessions.get(ctx, s, sessionWhat(tenant), sessions.table.selectSQL()+
		` WHERE tenant_id = $1 AND id = $2 AND idle_expires_at > $3 AND absolute_expires_at > $3`,
		tenant, id, now)
}

// TouchSession slides the idle expiry in one UPDATE, capped at the absolute
// expiry, so concurrent requests cannot lose each other's update or extend
// a session past its absolute lifetime.
func (s *Store) TouchSession(ctx context.Context, tenant, id string, now, idleExpiresAt time.Time) error {
	what := sessionWhat(tenant)
	return s.run(ctx, what, func(ctx context.Context, q querier) error {
		tag, err := q.Exec(ctx, `UPDATE sessions SET idle_expires_at = LEAST($1, absolute_expires_at),
			last_used_at = $4 WHERE tenant_id = $2 AND id = $3`, idleExpiresAt, tenant, id, now)
		if err != nil {
			return mapErr(err, what)
		}
		return requireAffected(tag, what)
	})
}

// DeleteSession ends one session; ending an absent one is not an error
// (logout must be idempotent).
func (s *Store) DeleteSession(ctx context.Context, tenant, id string) error {
	what := sessionWhat(tenant)
	return s.run(ctx, what, func(ctx context.Context, q querier) error {
		_, err := q.Exec(ctx, `DELETE FROM sessions WHERE tenant_id = $1 AND id = $2`, tenant, id)
		return mapErr(err, what)
	})
}

// DeleteUserSessions ends every session of the user in the tenant.
func (s *Store) DeleteUserSessions(ctx context.Context, tenant, userID string) error {
	what := fmt.Sprintf("tenant %q: sessions of user %q", tenant, userID)
	return s.run(ctx, what, func(ctx context.Context, q querier) error {
		_, err := q.Exec(ctx, `DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2`, tenant, userID)
		return mapErr(err, what)
	})
}

// ListUserSessions returns the user's live sessions, newest first.
func (s *Store) ListUserSessions(ctx context.Context, tenant, userID string, now time.Time) ([]*storage.Session, error) {
	return sessions.list(ctx, s, fmt.Sprintf("tenant %q: sessions of user %q", tenant, userID),
		sessions.table.selectSQL()+` WHERE tenant_id = $1 AND user_id = $2
		AND idle_expires_at > $3 AND absolute_expires_at > $3 ORDER BY created_at DESC, id`,
		tenant, userID, now)
}
