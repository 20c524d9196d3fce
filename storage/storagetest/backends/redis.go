package backends

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisURLEnv names the shared test Redis; DefaultRedisURL is used when it
// is unset.
const (
	RedisURLEnv     = "HERALD_TEST_REDIS_URL"
	DefaultRedisURL = "redis://127.0.0.1:6379/0"
)

// RedisURL is the test Redis URL from RedisURLEnv, or the default.
func RedisURL() string {
	if u := os.Getenv(RedisURLEnv); u != "" {
		return u
	}
	return DefaultRedisURL
}

// RedisPrefix returns the test Redis URL and a key prefix no other test
// uses; the prefix's keys are deleted when t ends.
func RedisPrefix(t testing.TB) (redisURL, prefix string) {
	t.Helper()
	redisURL = RedisURL()
	// Its Close is registered first, so it runs after the deletion (LIFO).
	c := RedisClient(t, redisURL)
	prefix = "herald-test-" + RandomHex(t)
	t.Cleanup(func() {
		keys := RedisKeys(t, c, prefix)
		if len(keys) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Unlink(ctx, keys...).Err(); err != nil {
			t.Errorf("delete test keys: %v", err)
		}
	})
	return redisURL, prefix
}

// RedisClient connects to a single-node Redis, checks that it answers, and
// closes the client when t ends.
func RedisClient(t testing.TB, redisURL string) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatalf("%s: %v (these tests need a single-node redis:// URL)", RedisURLEnv, err)
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis is unreachable at %s (set %s): %v", RedactURL(redisURL), RedisURLEnv, err)
	}
	return c
}

// RedisKeys lists the keys under prefix.
func RedisKeys(t testing.TB, c *redis.Client, prefix string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var keys []string
	iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("scan %s: %v", prefix, err)
	}
	return keys
}
