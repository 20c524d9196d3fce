package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/herald-idp/herald/storage"
)

var _ storage.LoginAttempts = (*Store)(nil)

const kindAttempts = "attempts"

// attemptScript is LoginAttempts.Attempt in one atomic step. The hash has
// n = count and r = retry-at (Unix ms). ARGV: now (ms), free, base (ms),
// max (ms), window (ms). The delay is storage.ThrottleRule.Delay:
// base·2^(n-free-1), at most max. Returns {allowed, count, retry-at}.
var attemptScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local v = redis.call('HMGET', KEYS[1], 'n', 'r')
local n = tonumber(v[1]) or 0
local r = tonumber(v[2]) or 0
if now < r then return {0, n, r} end
n = n + 1
local free, base, mx = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local d = 0
if n > free and base > 0 then
  local e = n - free - 1
  if e >= 40 then d = mx else d = base * (2 ^ e) end
  if d > mx then d = mx end
end
r = now + math.floor(d)
redis.call('HSET', KEYS[1], 'n', n, 'r', r)
redis.call('PEXPIRE', KEYS[1], math.floor(d) + tonumber(ARGV[5]))
return {1, n, r}
`)

// LoginAttempts returns the login throttle's counters; *Store implements
// them itself, so every replica sharing the Redis shares the limits.
func (s *Store) LoginAttempts() storage.LoginAttempts { return s }

// Attempt runs attemptScript on the key's hash.
func (s *Store) Attempt(ctx context.Context, tenant, key string, now time.Time, rule storage.ThrottleRule) (storage.ThrottleDecision, error) {
	what := fmt.Sprintf("tenant %q: login attempts", tenant)
	k, err := s.key(tenant, kindAttempts, key)
	if err != nil {
		return storage.ThrottleDecision{}, err
	}
	window := max(rule.Window.Milliseconds(), 1)
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	res, err := attemptScript.Run(ctx, s.client, []string{k}, ms(now), rule.Free,
		rule.Base.Milliseconds(), rule.Max.Milliseconds(), window).Int64Slice()
	if err != nil {
		return storage.ThrottleDecision{}, mapErr(err, what)
	}
	if len(res) != 3 {
		return storage.ThrottleDecision{}, fmt.Errorf("redis: %s: unexpected reply", what)
	}
	return storage.ThrottleDecision{
		Allowed: res[0] == 1,
		Count:   int(res[1]),
		RetryAt: time.UnixMilli(res[2]).UTC(),
	}, nil
}

// ResetAttempts forgets key.
func (s *Store) ResetAttempts(ctx context.Context, tenant, key string) error {
	what := fmt.Sprintf("tenant %q: reset login attempts", tenant)
	k, err := s.key(tenant, kindAttempts, key)
	if err != nil {
		return err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	return mapErr(s.client.Del(ctx, k).Err(), what)
}
