package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/herald-idp/herald/storage"
)

// maxUpdateAttempts bounds the optimistic retries of UpdateAuthRequest. Two
// updates of one request race only when a user double-submits a form, so a
// handful of attempts always suffices; the bound keeps a pathological
// writer from looping forever.
const maxUpdateAttempts = 8

// createStringScript stores a JSON record unless the key exists, expiring
// at ARGV[2] (Unix ms; a past time deletes it at once). SET NX + PEXPIREAT
// in one script so that no key ever lives without its TTL.
var createStringScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1`)

// createCodeScript stores a code's hash: d = JSON, exp = expiry (ms),
// used = used-at (ms) if ARGV[3] is not empty.
var createCodeScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'd', ARGV[1], 'exp', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'used', ARGV[3]) end
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1`)

// consumeCodeScript marks a code used at ARGV[1] (Unix ms) unless it was
// used before. Redis runs a script atomically, so of concurrent consumers
// on any number of replicas exactly one sees it unused (RFC 6749 §4.1.2).
// HSET keeps the key's TTL. Returns nil (redis.Nil) for a missing or
// expired code, else {status, d, exp, used}.
var consumeCodeScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'd', 'exp', 'used')
if not v[1] or not v[2] then return false end
if tonumber(v[2]) <= tonumber(ARGV[1]) then return false end
if v[3] then return {'used', v[1], v[2], v[3]} end
redis.call('HSET', KEYS[1], 'used', ARGV[1])
return {'ok', v[1], v[2], ARGV[1]}`)

func authRequestWhat(tenant, id string) string {
	return fmt.Sprintf("tenant %q: auth request %q", tenant, id)
}

// authCodeWhat names a code without its hash: errors end up in logs.
func authCodeWhat(tenant string) string {
	return fmt.Sprintf("tenant %q: authorization code", tenant)
}

// requireExpiry refuses a record without an expiry: its key would live
// forever (and PEXPIREAT refuses times before 1970).
func requireExpiry(what string, t time.Time) error {
	if ms(t) <= 0 {
		return fmt.Errorf("redis: %s: missing expiry", what)
	}
	return nil
}

// CreateAuthRequest stores r until r.ExpiresAt; ErrAlreadyExists if the ID
// is taken.
func (s *Store) CreateAuthRequest(ctx context.Context, r *storage.AuthRequest) error {
	if r == nil {
		return errors.New("redis: auth request: nil")
	}
	what := authRequestWhat(r.TenantID, r.ID)
	key, err := s.key(r.TenantID, kindAuthRequest, r.ID)
	if err != nil {
		return err
	}
	if err := requireExpiry(what, r.ExpiresAt); err != nil {
		return err
	}
	data, err := encodeAuthRequest(r)
	if err != nil {
		return fmt.Errorf("redis: %s: %w", what, err)
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	created, err := createStringScript.Run(ctx, s.client, []string{key}, data, ms(r.ExpiresAt)).Int()
	if err != nil {
		return mapErr(err, what)
	}
	if created == 0 {
		return fmt.Errorf("redis: %s: %w", what, storage.ErrAlreadyExists)
	}
	return nil
}

// AuthRequest returns an authorization request that has not expired.
func (s *Store) AuthRequest(ctx context.Context, tenant, id string) (*storage.AuthRequest, error) {
	return s.readAuthRequest(ctx, tenant, id, s.client.Get)
}

// readAuthRequest reads a live request with get (GET, or GETDEL to consume
// it in the same command).
func (s *Store) readAuthRequest(ctx context.Context, tenant, id string,
	get func(ctx context.Context, key string) *redis.StringCmd) (*storage.AuthRequest, error) {
	what := authRequestWhat(tenant, id)
	key, err := s.key(tenant, kindAuthRequest, id)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	data, err := get(ctx, key).Bytes()
	if err != nil {
		return nil, mapErr(err, what)
	}
	return liveAuthRequest(tenant, id, data, what)
}

// liveAuthRequest decodes a request and treats one past its expiry as
// absent: the TTL runs on Redis' clock, the check on ours.
func liveAuthRequest(tenant, id string, data []byte, what string) (*storage.AuthRequest, error) {
	r, err := decodeAuthRequest(tenant, id, data)
	if err != nil {
		return nil, fmt.Errorf("redis: %s: %w", what, err)
	}
	if !r.ExpiresAt.After(time.Now()) {
		return nil, fmt.Errorf("redis: %s: %w", what, storage.ErrNotFound)
	}
	return r, nil
}

// UpdateAuthRequest applies update in an optimistic transaction: WATCH the
// key, read, update, and write in MULTI/EXEC, retrying (a bounded number of
// times) when another writer got in between. An error from update aborts
// and is returned unchanged; the tenant and ID cannot be changed.
func (s *Store) UpdateAuthRequest(ctx context.Context, tenant, id string, update func(*storage.AuthRequest) error) (*storage.AuthRequest, error) {
	what := authRequestWhat(tenant, id)
	key, err := s.key(tenant, kindAuthRequest, id)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	var out *storage.AuthRequest
	var abort error // an error of update or of the updated record: returned as is
	txn := func(tx *redis.Tx) error {
		data, err := tx.Get(ctx, key).Bytes()
		if err != nil {
			return mapErr(err, what)
		}
		r, err := liveAuthRequest(tenant, id, data, what)
		if err != nil {
			return err
		}
		if abort = update(r); abort != nil {
			return abort
		}
		if r.TenantID != tenant || r.ID != id {
			abort = fmt.Errorf("redis: %s: update must not change the tenant or ID", what)
			return abort
		}
		if abort = requireExpiry(what, r.ExpiresAt); abort != nil {
			return abort
		}
		enc, err := encodeAuthRequest(r)
		if err != nil {
			abort = fmt.Errorf("redis: %s: %w", what, err)
			return abort
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, key, enc, 0)
			p.PExpireAt(ctx, key, r.ExpiresAt)
			return nil
		})
		if err == nil {
			out = r
		}
		return err
	}
	for range maxUpdateAttempts {
		abort = nil
		err = s.client.Watch(ctx, txn, key)
		if abort != nil {
			return nil, abort
		}
		if !errors.Is(err, redis.TxFailedErr) {
			break
		}
	}
	switch {
	case errors.Is(err, redis.TxFailedErr):
		return nil, fmt.Errorf("redis: %s: gave up after %d concurrent modifications", what, maxUpdateAttempts)
	case err != nil:
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrUnavailable) {
			return nil, err
		}
		return nil, mapErr(err, what)
	}
	return out, nil
}

// DeleteAuthRequest removes a request; deleting an absent one is not an
// error (zitadel deletes after the code was issued, possibly twice).
func (s *Store) DeleteAuthRequest(ctx context.Context, tenant, id string) error {
	key, err := s.key(tenant, kindAuthRequest, id)
	if err != nil {
		return err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	return mapErr(s.client.Del(ctx, key).Err(), authRequestWhat(tenant, id))
}

// ConsumeAuthRequest deletes and returns the request with GETDEL: Redis
// runs it atomically, so of concurrent callers on any number of replicas
// exactly one gets the request.
func (s *Store) ConsumeAuthRequest(ctx context.Context, tenant, id string) (*storage.AuthRequest, error) {
	return s.readAuthRequest(ctx, tenant, id, s.client.GetDel)
}

// CreateAuthCode stores an issued code under its hash until c.ExpiresAt.
func (s *Store) CreateAuthCode(ctx context.Context, c *storage.AuthCode) error {
	if c == nil {
		return errors.New("redis: authorization code: nil")
	}
	what := authCodeWhat(c.TenantID)
	key, err := s.key(c.TenantID, kindAuthCode, c.CodeHash)
	if err != nil {
		return err
	}
	if err := requireExpiry(what, c.ExpiresAt); err != nil {
		return err
	}
	data, err := encodeAuthCode(c)
	if err != nil {
		return fmt.Errorf("redis: %s: %w", what, err)
	}
	used := ""
	if c.UsedAt != nil {
		used = msString(*c.UsedAt)
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	created, err := createCodeScript.Run(ctx, s.client, []string{key}, data, ms(c.ExpiresAt), used).Int()
	if err != nil {
		return mapErr(err, what)
	}
	if created == 0 {
		return fmt.Errorf("redis: %s: %w", what, storage.ErrAlreadyExists)
	}
	return nil
}

// AuthCode returns an unexpired code, used or not, without consuming it.
func (s *Store) AuthCode(ctx context.Context, tenant, codeHash string, now time.Time) (*storage.AuthCode, error) {
	what := authCodeWhat(tenant)
	key, err := s.key(tenant, kindAuthCode, codeHash)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	v, err := s.client.HMGet(ctx, key, "d", "exp", "used").Result()
	if err != nil {
		return nil, mapErr(err, what)
	}
	d, _ := v[0].(string)
	expS, _ := v[1].(string)
	if d == "" || expS == "" {
		return nil, fmt.Errorf("redis: %s: %w", what, storage.ErrNotFound)
	}
	exp, err := parseMS(expS)
	if err != nil {
		return nil, fmt.Errorf("redis: %s: %w", what, err)
	}
	if exp <= ms(now) {
		return nil, fmt.Errorf("redis: %s: %w", what, storage.ErrNotFound)
	}
	c, err := decodeAuthCode(tenant, codeHash, []byte(d), exp)
	if err != nil {
		return nil, fmt.Errorf("redis: %s: %w", what, err)
	}
	if usedS, ok := v[2].(string); ok && usedS != "" {
		used, err := parseMS(usedS)
		if err != nil {
			return nil, fmt.Errorf("redis: %s: %w", what, err)
		}
		usedAt := fromMS(used)
		c.UsedAt = &usedAt
	}
	return c, nil
}

// ConsumeAuthCode marks the code used at now and returns it, exactly once
// (see consumeCodeScript). Later calls get the record with ErrAlreadyUsed so
// that the caller can revoke the grant; unknown codes and codes expired at
// now give ErrNotFound.
func (s *Store) ConsumeAuthCode(ctx context.Context, tenant, codeHash string, now time.Time) (*storage.AuthCode, error) {
	what := authCodeWhat(tenant)
	key, err := s.key(tenant, kindAuthCode, codeHash)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	res, err := consumeCodeScript.Run(ctx, s.client, []string{key}, ms(now)).StringSlice()
	if err != nil {
		return nil, mapErr(err, what)
	}
	if len(res) != 4 {
		return nil, fmt.Errorf("redis: %s: unexpected script reply of %d elements", what, len(res))
	}
	exp, err1 := parseMS(res[2])
	used, err2 := parseMS(res[3])
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("redis: %s: %w", what, err)
	}
	c, err := decodeAuthCode(tenant, codeHash, []byte(res[1]), exp)
	if err != nil {
		return nil, fmt.Errorf("redis: %s: %w", what, err)
	}
	usedAt := fromMS(used)
	c.UsedAt = &usedAt
	if res[0] != "ok" {
		return c, fmt.Errorf("redis: %s: %w", what, storage.ErrAlreadyUsed)
	}
	return c, nil
}
