package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/herald-idp/herald/storage"
)

// A session is a hash: d = JSON, idle and abs = the expiries (Unix ms). Its
// key expires at min(idle, abs). The user's index (a set of session IDs,
// for logout everywhere) expires no earlier than the user's latest absolute
// expiry; a session's key never outlives its absolute expiry, so the index
// outlives every session it lists.

// createSessionScript: KEYS = session, user index; ARGV = d, idle, abs, ID,
// used (the last use, Unix ms).
// TIME is allowed before writes since Redis 5 (scripts replicate effects).
var createSessionScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local expiry = ARGV[2]
if tonumber(ARGV[3]) < tonumber(ARGV[2]) then expiry = ARGV[3] end
redis.call('HSET', KEYS[1], 'd', ARGV[1], 'idle', ARGV[2], 'abs', ARGV[3], 'used', ARGV[5])
redis.call('PEXPIREAT', KEYS[1], expiry)
if redis.call('EXISTS', KEYS[1]) == 0 then return 1 end
redis.call('SADD', KEYS[2], ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = redis.call('PTTL', KEYS[2])
if ttl < 0 or now + ttl < tonumber(ARGV[3]) then
  redis.call('PEXPIREAT', KEYS[2], ARGV[3])
end
return 1`)

// touchSessionScript slides idle to min(ARGV[1], abs) and the key's expiry
// with it, and sets used to ARGV[2], atomically: concurrent touches cannot lose an update or extend a
// session past its absolute expiry. Returns 0 for a missing session.
var touchSessionScript = redis.NewScript(`
local abs = redis.call('HGET', KEYS[1], 'abs')
if not abs then return 0 end
local idle = ARGV[1]
if tonumber(abs) < tonumber(idle) then idle = abs end
redis.call('HSET', KEYS[1], 'idle', idle, 'used', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], idle)
return 1`)

// sessionWhat names a session without its ID, which is the hash of a cookie.
func sessionWhat(tenant string) string {
	return fmt.Sprintf("tenant %q: session", tenant)
}

// CreateSession stores an SSO session and adds it to its user's index.
func (s *Store) CreateSession(ctx context.Context, sess *storage.Session) error {
	if sess == nil {
		return errors.New("redis: session: nil")
	}
	what := sessionWhat(sess.TenantID)
	key, err := s.key(sess.TenantID, kindSession, sess.ID)
	if err != nil {
		return err
	}
	if sess.UserID == "" {
		return fmt.Errorf("redis: %s: empty user ID", what)
	}
	index, err := s.key(sess.TenantID, kindUserSessions, sess.UserID)
	if err != nil {
		return err
	}
	if err := errors.Join(requireExpiry(what, sess.IdleExpiresAt), requireExpiry(what, sess.AbsoluteExpiresAt)); err != nil {
		return err
	}
	data, err := encodeSession(sess)
	if err != nil {
		return fmt.Errorf("redis: %s: %w", what, err)
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	created, err := createSessionScript.Run(ctx, s.client, []string{key, index}, data,
		ms(sess.IdleExpiresAt), ms(sess.AbsoluteExpiresAt), sess.ID, ms(sess.LastUsed())).Int()
	if err != nil {
		return mapErr(err, what)
	}
	if created == 0 {
		return fmt.Errorf("redis: %s: %w", what, storage.ErrAlreadyExists)
	}
	return nil
}

// Session returns a session that is neither idle- nor absolutely expired at
// now. The key's TTL already removes it on Redis' clock; the check applies
// the caller's.
func (s *Store) Session(ctx context.Context, tenant, id string, now time.Time) (*storage.Session, error) {
	what := sessionWhat(tenant)
	key, err := s.key(tenant, kindSession, id)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	vals, err := s.client.HMGet(ctx, key, sessionFields...).Result()
	if err != nil {
		return nil, mapErr(err, what)
	}
	sess, err := sessionFromHash(tenant, id, vals, now)
	if err != nil {
		return nil, fmt.Errorf("redis: %s: %w", what, err)
	}
	return sess, nil
}

// sessionFields are the fields of a session's hash that sessionFromHash
// reads, in its order.
var sessionFields = []string{"d", "idle", "abs", "used"}

// sessionFromHash decodes the values of sessionFields; a missing session or
// one expired at now is ErrNotFound. Sessions stored before uses were
// recorded have no "used".
func sessionFromHash(tenant, id string, vals []any, now time.Time) (*storage.Session, error) {
	data, ok1 := vals[0].(string)
	idleS, ok2 := vals[1].(string)
	absS, ok3 := vals[2].(string)
	if !ok1 || !ok2 || !ok3 {
		return nil, storage.ErrNotFound
	}
	idle, err1 := parseMS(idleS)
	abs, err2 := parseMS(absS)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	if n := now.UnixMilli(); idle <= n || abs <= n {
		return nil, storage.ErrNotFound
	}
	sess, err := decodeSession(tenant, id, []byte(data), idle, abs)
	if err != nil {
		return nil, err
	}
	if usedS, ok := vals[3].(string); ok {
		used, err := parseMS(usedS)
		if err != nil {
			return nil, err
		}
		sess.LastUsedAt = fromMS(used)
	}
	return sess, nil
}

// TouchSession slides the idle expiry (see touchSessionScript).
func (s *Store) TouchSession(ctx context.Context, tenant, id string, now, idleExpiresAt time.Time) error {
	what := sessionWhat(tenant)
	key, err := s.key(tenant, kindSession, id)
	if err != nil {
		return err
	}
	if err := requireExpiry(what, idleExpiresAt); err != nil {
		return err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	touched, err := touchSessionScript.Run(ctx, s.client, []string{key}, ms(idleExpiresAt), ms(now)).Int()
	if err != nil {
		return mapErr(err, what)
	}
	if touched == 0 {
		return fmt.Errorf("redis: %s: %w", what, storage.ErrNotFound)
	}
	return nil
}

// DeleteSession ends one session and drops it from its user's index;
// ending an absent one is not an error (logout must be idempotent).
func (s *Store) DeleteSession(ctx context.Context, tenant, id string) error {
	what := sessionWhat(tenant)
	key, err := s.key(tenant, kindSession, id)
	if err != nil {
		return err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	data, err := s.client.HGet(ctx, key, "d").Bytes()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return mapErr(err, what)
	}
	var index string
	if sess, err := decodeSession(tenant, id, data, 0, 0); err == nil && sess.UserID != "" {
		index, _ = s.key(tenant, kindUserSessions, sess.UserID)
	}
	// Both keys carry the tenant's hash tag: one slot, so MULTI works on
	// Cluster too.
	_, err = s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, key)
		if index != "" {
			p.SRem(ctx, index, id)
		}
		return nil
	})
	return mapErr(err, what)
}

// DeleteUserSessions ends every session of the user in the tenant (logout
// everywhere). A session created while this runs is not in the snapshot of
// the index and survives: it began after the logout.
func (s *Store) DeleteUserSessions(ctx context.Context, tenant, userID string) error {
	what := fmt.Sprintf("tenant %q: sessions of user %q", tenant, userID)
	index, err := s.key(tenant, kindUserSessions, userID)
	if err != nil {
		return err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	ids, err := s.client.SMembers(ctx, index).Result()
	if err != nil || len(ids) == 0 {
		return mapErr(err, what)
	}
	keys := make([]string, len(ids))
	members := make([]any, len(ids))
	for i, id := range ids {
		if keys[i], err = s.key(tenant, kindSession, id); err != nil {
			return err
		}
		members[i] = id
	}
	_, err = s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, keys...)
		p.SRem(ctx, index, members...)
		return nil
	})
	return mapErr(err, what)
}

// ListUserSessions reads the sessions the user's index names, newest
// first. IDs whose session has expired are dropped from the index.
func (s *Store) ListUserSessions(ctx context.Context, tenant, userID string, now time.Time) ([]*storage.Session, error) {
	what := fmt.Sprintf("tenant %q: sessions of user %q", tenant, userID)
	index, err := s.key(tenant, kindUserSessions, userID)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	ids, err := s.client.SMembers(ctx, index).Result()
	if err != nil || len(ids) == 0 {
		return nil, mapErr(err, what)
	}
	cmds := make([]*redis.SliceCmd, len(ids))
	_, err = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			key, err := s.key(tenant, kindSession, id)
			if err != nil {
				return err
			}
			cmds[i] = p.HMGet(ctx, key, sessionFields...)
		}
		return nil
	})
	if err != nil {
		return nil, mapErr(err, what)
	}
	var out []*storage.Session
	var gone []any
	for i, cmd := range cmds {
		sess, err := sessionFromHash(tenant, ids[i], cmd.Val(), now)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			if cmd.Val()[0] == nil { // the key is gone, not just expired on our clock
				gone = append(gone, ids[i])
			}
			continue
		case err != nil:
			return nil, fmt.Errorf("redis: %s: %w", what, err)
		}
		if sess.UserID == userID {
			out = append(out, sess)
		}
	}
	if len(gone) > 0 {
		if err := s.client.SRem(ctx, index, gone...).Err(); err != nil {
			slog.WarnContext(ctx, "redis: prune a user's session index", "error", err)
		}
	}
	slices.SortFunc(out, func(a, b *storage.Session) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}
